package node

import (
	"context"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"innonet/node/pipeline"
	innonetpb "innonet/proto/innonet/v1"
)

type clusterService struct {
	innonetpb.UnimplementedClusterServiceServer
	n *Node
}

func (s *clusterService) GetCluster(ctx context.Context, _ *innonetpb.GetClusterRequest) (*innonetpb.Cluster, error) {
	if _, err := s.n.authenticate(ctx); err != nil {
		return nil, err
	}
	st, err := s.n.cluster.Status()
	if err != nil {
		return nil, toStatus(err)
	}
	return clusterToPB(st), nil
}

func (s *clusterService) JoinCluster(ctx context.Context, r *innonetpb.JoinClusterRequest) (*innonetpb.Cluster, error) {
	if _, err := s.n.require(ctx, pipeline.Admin); err != nil {
		return nil, err
	}
	switch {
	case !pipeline.ValidSiteCode(r.Site):
		return nil, status.Errorf(codes.InvalidArgument, "site: %q is not a site code (2 to 8 capital letters)", clip(r.Site))
	case r.RaftAddress == "":
		return nil, status.Error(codes.InvalidArgument, "raft_address: is required")
	case r.ApiAddress == "":
		return nil, status.Error(codes.InvalidArgument, "api_address: is required")
	}
	if err := s.n.cluster.Join(ctx, r.Site, r.RaftAddress, r.ApiAddress, r.Voter); err != nil {
		if st, ok := status.FromError(toStatus(err)); ok && st.Code() == codes.Internal {
			return nil, status.Errorf(codes.FailedPrecondition, "join %s: %v", r.Site, err)
		}
		return nil, toStatus(err)
	}
	st, err := s.n.cluster.Status()
	if err != nil {
		return nil, toStatus(err)
	}
	return clusterToPB(st), nil
}
