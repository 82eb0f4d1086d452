package node

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"innonet/cluster"
	"innonet/node/pipeline"
)

var pipelineCodes = map[pipeline.Code]codes.Code{
	pipeline.CodeInternal:        codes.Internal,
	pipeline.CodeInvalid:         codes.InvalidArgument,
	pipeline.CodeNotFound:        codes.NotFound,
	pipeline.CodeUnauthenticated: codes.Unauthenticated,
	pipeline.CodePermission:      codes.PermissionDenied,
	pipeline.CodePrecondition:    codes.FailedPrecondition,
	pipeline.CodeConflict:        codes.Aborted,
	// An entry the leader cannot read itself: its state machine stops.
	pipeline.CodeUnreadable: codes.Internal,
}

// toStatus turns an error from the pipeline, the cluster or a context into
// a gRPC status with a message for the caller. The gateway maps each code
// to its HTTP status (400, 404, 401, 403, 400, 409, 503).
func toStatus(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	var pe *pipeline.Error
	var nl *cluster.NoLeaderError
	switch {
	case errors.As(err, &pe):
		return status.Error(pipelineCodes[pe.Code], pe.Msg)
	case errors.As(err, &nl):
		return status.Error(codes.Unavailable, nl.Error()+"; retry later or through another site")
	case errors.Is(err, cluster.ErrNotConfirmed):
		return status.Error(codes.Unavailable, err.Error()+"; retry later or through another site")
	case errors.Is(err, cluster.ErrNoLeader):
		return status.Error(codes.Unavailable, "no leader: the cluster is electing one or has lost its quorum; retry later")
	case errors.Is(err, cluster.ErrNotLeader):
		return status.Error(codes.Unavailable, "leadership moved while the request was in flight; retry with the same request ID")
	case errors.Is(err, cluster.ErrUnknownOutcome):
		return status.Error(codes.Unavailable, "leadership was lost while committing; the write may or may not have been applied: retry with the same request ID")
	case errors.Is(err, cluster.ErrTimeout):
		return status.Error(codes.Unavailable, "timed out waiting for a quorum to commit; retry with the same request ID")
	case errors.Is(err, cluster.ErrShutdown):
		return status.Error(codes.Unavailable, "site is shutting down")
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, "deadline exceeded; a write may still be applied: retry with the same request ID")
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, "request canceled")
	}
	return status.Error(codes.Internal, fmt.Sprintf("internal error: %v", err))
}
