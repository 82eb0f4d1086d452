package node

import (
	"context"

	"innonet/node/pipeline"
	innonetpb "innonet/proto/innonet/v1"
)

type userService struct {
	innonetpb.UnimplementedUserServiceServer
	n *Node
}

func (s *userService) CreateUser(ctx context.Context, r *innonetpb.CreateUserRequest) (*innonetpb.CreateUserResponse, error) {
	u, err := s.n.require(ctx, pipeline.Admin)
	if err != nil {
		return nil, err
	}
	token := NewToken()
	res, err := s.n.propose(ctx, pipeline.Command{
		Op: pipeline.OpAddUser, RequestID: r.RequestId, Actor: u.ID,
		NewUser: &pipeline.NewUser{Name: r.Name, Role: pipeline.Role(r.Role), Site: r.Site,
			Division: r.Division, TokenHash: HashToken(token)},
	})
	if err != nil {
		return nil, err
	}
	out := &innonetpb.CreateUserResponse{User: userToPB(res.User)}
	if !res.Replayed {
		// A replayed request created no token: the first attempt's token
		// was shown then and is not kept.
		out.Token = token
	}
	return out, nil
}

func (s *userService) ListUsers(ctx context.Context, _ *innonetpb.ListUsersRequest) (*innonetpb.ListUsersResponse, error) {
	if _, err := s.n.require(ctx, pipeline.Admin); err != nil {
		return nil, err
	}
	users, err := s.n.state.Users()
	if err != nil {
		return nil, toStatus(err)
	}
	out := &innonetpb.ListUsersResponse{}
	for i := range users {
		out.Users = append(out.Users, userToPB(&users[i]))
	}
	return out, nil
}

func (s *userService) WhoAmI(ctx context.Context, _ *innonetpb.WhoAmIRequest) (*innonetpb.User, error) {
	u, err := s.n.authenticate(ctx)
	if err != nil {
		return nil, err
	}
	return userToPB(u), nil
}

func (s *userService) RevokeUser(ctx context.Context, r *innonetpb.RevokeUserRequest) (*innonetpb.User, error) {
	u, err := s.n.require(ctx, pipeline.Admin)
	if err != nil {
		return nil, err
	}
	rid := r.RequestId
	if rid == "" {
		// Revoking is idempotent, so a request ID is optional here: a
		// DELETE carries no body.
		rid = "revoke-" + r.Id
	}
	res, err := s.n.propose(ctx, pipeline.Command{Op: pipeline.OpRevoke, RequestID: rid, Actor: u.ID, UserID: r.Id})
	if err != nil {
		return nil, err
	}
	s.n.log.Info("user token revoked", "user", r.Id, "by", u.ID)
	return userToPB(res.User), nil
}
