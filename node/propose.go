package node

import (
	"context"
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"innonet/cluster"
	"innonet/node/pipeline"
)

// propose stamps cmd with this site's clock and the request's origin,
// checks it, commits it through Raft and returns the pipeline's result.
// It runs on the leader (the forwarding interceptor sends writes there).
func (n *Node) propose(ctx context.Context, cmd pipeline.Command) (pipeline.Result, error) {
	cmd.Time = n.now().UnixNano()
	cmd.Origin = originSite(ctx, n.cfg.Site)
	if cmd.ActorToken == "" && cmd.Actor != "" {
		// Name the token the caller used, so Apply refuses the write if a
		// revocation of that token committed before it.
		if tok, err := bearer(ctx); err == nil {
			if u, t, err := n.lookupToken(ctx, tok); err == nil && u.ID == cmd.Actor {
				cmd.ActorToken = t.ID
			}
		}
	}
	if err := cmd.Validate(); err != nil {
		return pipeline.Result{}, toStatus(err)
	}
	if need, have := cmd.Format(), n.state.Format(); need > have && cmd.Op != pipeline.OpSetFormat {
		// Every site must read the command before it may be in the log:
		// say which one does not yet.
		if ok, site, reads := n.cluster.MembersRead(need); !ok && site != "" {
			return pipeline.Result{}, status.Error(codes.FailedPrecondition, cluster.FormatError(site, reads, need).Error())
		}
		return pipeline.Result{}, status.Errorf(codes.FailedPrecondition,
			"this needs log format %d, but the cluster still runs format %d: it is raised once every site runs a version that reads it; retry shortly", need, have)
	}
	data, err := cmd.Encode()
	if err != nil {
		return pipeline.Result{}, status.Error(codes.InvalidArgument, err.Error())
	}
	n.proposing.Add(1)
	out, err := n.cluster.Apply(ctx, data)
	n.proposing.Add(-1)
	if err != nil {
		return pipeline.Result{}, toStatus(err)
	}
	// Leader placement follows where the callers' writes come from (not
	// this site's own housekeeping, which has no caller).
	if fromCaller(ctx) {
		n.cluster.NoteWrite(cmd.Origin)
	}
	switch v := out.(type) {
	case pipeline.Result:
		return v, nil
	case error:
		return pipeline.Result{}, toStatus(v)
	}
	return pipeline.Result{}, status.Error(codes.Internal, fmt.Sprintf("unexpected apply result %T", out))
}

// fromCaller reports whether ctx is a caller's request, not this site's
// own housekeeping: a request through the API, to which the forwarding
// interceptor gave a token memo (credmemo.go), or one an HTTP handler
// passes on with its metadata. The memo is looked for first: reading the
// metadata copies it whole.
func fromCaller(ctx context.Context) bool {
	if ctx.Value(tokenMemoKey{}) != nil {
		return true
	}
	_, ok := metadata.FromIncomingContext(ctx)
	return ok
}
