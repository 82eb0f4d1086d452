package node

import (
	"context"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"innonet/node/pipeline"
	innonetpb "innonet/proto/innonet/v1"
)

type userService struct {
	innonetpb.UnimplementedUserServiceServer
	n *Node
}

func (s *userService) CreateUser(ctx context.Context, r *innonetpb.CreateUserRequest) (*innonetpb.CreateUserResponse, error) {
	u, t, err := s.n.credential(ctx)
	if err != nil {
		return nil, err
	}
	if u.Role != pipeline.Admin {
		return nil, status.Errorf(codes.PermissionDenied, "requires role ADMIN; caller %s is %s", u.ID, u.Role)
	}
	ttl, err := ttlFromPB("token_ttl", r.TokenTtl)
	if err != nil {
		return nil, err
	}
	token := mintSecret(ctx, tokenPrefix, "user token")
	res, err := s.n.propose(ctx, pipeline.Command{
		Op: pipeline.OpAddUser, RequestID: r.RequestId, Actor: u.ID, ActorToken: t.ID,
		NewUser: &pipeline.NewUser{Name: r.Name, Role: pipeline.Role(r.Role), Site: r.Site,
			Division: r.Division, TokenHash: HashToken(token), TokenTTL: ttl},
	})
	if err != nil {
		return nil, err
	}
	out := &innonetpb.CreateUserResponse{User: userToPB(res.User), TokenInfo: tokenToPB(res.Token, time.Now())}
	if !res.Replayed || res.Token != nil && res.Token.Hash == HashToken(token) {
		// A replayed request created no token: the first attempt's token
		// was shown then and is not kept, unless this site sent that
		// attempt (secrets.go).
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
	s.n.log.Info("user and its tokens revoked", "user", r.Id, "by", u.ID)
	return userToPB(res.User), nil
}

func (s *userService) CreateToken(ctx context.Context, r *innonetpb.CreateTokenRequest) (*innonetpb.CreateTokenResponse, error) {
	u, t, err := s.n.requireSelf(ctx, r.UserId)
	if err != nil {
		return nil, err
	}
	ttl, err := ttlFromPB("ttl", r.Ttl)
	if err != nil {
		return nil, err
	}
	token := mintSecret(ctx, tokenPrefix, "token")
	res, err := s.n.propose(ctx, pipeline.Command{
		Op: pipeline.OpCreateToken, RequestID: r.RequestId, Actor: u.ID, ActorToken: t.ID, UserID: r.UserId,
		NewToken: &pipeline.NewToken{Hash: HashToken(token), TTL: ttl, Description: r.Description},
	})
	if err != nil {
		return nil, err
	}
	out := &innonetpb.CreateTokenResponse{TokenInfo: tokenToPB(res.Token, time.Now())}
	if !res.Replayed || res.Token != nil && res.Token.Hash == HashToken(token) {
		// As for CreateUser: a replayed request created no token.
		out.Token = token
		s.n.log.Info("token created", "user", r.UserId, "token", res.Token.ID, "by", u.ID)
	}
	return out, nil
}

func (s *userService) ListTokens(ctx context.Context, r *innonetpb.ListTokensRequest) (*innonetpb.ListTokensResponse, error) {
	if _, _, err := s.n.requireSelf(ctx, r.UserId); err != nil {
		return nil, err
	}
	if !pipeline.ValidUserID(r.UserId) {
		return nil, badID("user_id", r.UserId, "a user ID of the form user-NNNN")
	}
	tokens, err := s.n.state.Tokens(r.UserId)
	if err != nil {
		return nil, toStatus(err)
	}
	now := time.Now()
	out := &innonetpb.ListTokensResponse{Tokens: make([]*innonetpb.Token, 0, len(tokens)), Read: s.n.readInfo(r)}
	for i := range tokens {
		out.Tokens = append(out.Tokens, tokenToPB(&tokens[i], now))
	}
	return out, nil
}

func (s *userService) RevokeToken(ctx context.Context, r *innonetpb.RevokeTokenRequest) (*innonetpb.Token, error) {
	u, t, err := s.n.requireSelf(ctx, r.UserId)
	if err != nil {
		return nil, err
	}
	switch {
	case !pipeline.ValidUserID(r.UserId):
		return nil, badID("user_id", r.UserId, "a user ID of the form user-NNNN")
	case !pipeline.ValidTokenID(r.TokenId):
		return nil, badID("token_id", r.TokenId, "a token ID of the form tok-NNNN")
	}
	rid := r.RequestId
	if rid == "" {
		// As for RevokeUser: revoking is idempotent and a DELETE carries
		// no body.
		rid = "revoke-" + r.UserId + "-" + r.TokenId
	}
	res, err := s.n.propose(ctx, pipeline.Command{
		Op: pipeline.OpRevokeToken, RequestID: rid, Actor: u.ID, ActorToken: t.ID, UserID: r.UserId, TokenID: r.TokenId,
	})
	if err != nil {
		return nil, err
	}
	s.n.log.Info("token revoked", "user", r.UserId, "token", r.TokenId, "by", u.ID)
	return tokenToPB(res.Token, time.Now()), nil
}

// badID refuses a malformed ID in a request's field, quoting at most 40
// characters of it.
func badID(field, got, want string) error {
	if r := []rune(got); len(r) > 40 {
		got = string(r[:40]) + "…"
	}
	return status.Errorf(codes.InvalidArgument, "%s: %q is not %s", field, got, want)
}
