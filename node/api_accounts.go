package node

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strings"
	"time"

	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"innonet/node/pipeline"
	innonetpb "innonet/proto/innonet/v1"
)

// Sign-in for people: invitations, passwords and session tokens (see
// pipeline/accounts.go for what the state keeps). Every RPC here is a
// write, so the leader handles it, and the leader hashes passwords and
// verifies them against its own copy of the users: a follower never sees
// more than the request it forwards. Failed sign-ins and bad invitation
// codes answer UNAUTHENTICATED, which the guard of the site that took the
// request counts against the client's address, as it does wrong tokens.

// invitationPrefix marks invitation codes, as tokenPrefix marks tokens:
// a code is no token, and works as none.
const invitationPrefix = "inv_"

// newInvitationCode returns a fresh invitation code with 256 bits of
// entropy.
func newInvitationCode() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return invitationPrefix + hex.EncodeToString(b)
}

// validCodeShape reports whether code could be an invitation code; one
// that cannot is refused without a lookup.
func validCodeShape(code string) bool {
	h, ok := strings.CutPrefix(code, invitationPrefix)
	return ok && len(h) == 64 && strings.Trim(h, "0123456789abcdef") == ""
}

func (s *userService) InviteUser(ctx context.Context, r *innonetpb.InviteUserRequest) (*innonetpb.InviteUserResponse, error) {
	u, t, err := s.n.credential(ctx)
	if err != nil {
		return nil, err
	}
	if u.Role != pipeline.Admin {
		return nil, status.Errorf(codes.PermissionDenied, "requires role ADMIN; caller %s is %s", u.ID, u.Role)
	}
	ttl, err := ttlFromPB("ttl", r.Ttl)
	if err != nil {
		return nil, err
	}
	if ttl == 0 {
		ttl = pipeline.DefaultInvitationTTL
	}
	code := mintSecret(ctx, invitationPrefix, "invitation")
	cmd := pipeline.Command{
		Op: pipeline.OpInviteUser, RequestID: r.RequestId, Actor: u.ID, ActorToken: t.ID, UserID: r.UserId,
		Invitation: &pipeline.NewInvitation{Hash: HashToken(code), TTL: ttl},
	}
	if r.Name != "" || r.Role != innonetpb.Role_ROLE_UNSPECIFIED || r.Site != "" || r.Division != "" || r.UserId == "" {
		cmd.NewUser = &pipeline.NewUser{Name: r.Name, Role: pipeline.Role(r.Role), Site: r.Site, Division: r.Division}
	}
	res, err := s.n.propose(ctx, cmd)
	if err != nil {
		return nil, err
	}
	out := &innonetpb.InviteUserResponse{User: userToPB(res.User)}
	if inv := res.Invitation; inv != nil {
		out.InvitationId, out.ExpireTime = inv.ID, ts(inv.Expires)
	}
	if inv := res.Invitation; !res.Replayed || inv != nil && inv.Hash == HashToken(code) {
		// As for tokens: a replayed request made no new code.
		out.Code = code
		s.n.log.Info("user invited", "user", res.User.ID, "invitation", out.InvitationId, "by", u.ID)
	}
	return out, nil
}

// errInvitation refuses an invitation code that cannot be used.
var errInvitation = status.Error(codes.Unauthenticated, pipeline.MsgInvitationUnusable)

func (s *userService) AcceptInvitation(ctx context.Context, r *innonetpb.AcceptInvitationRequest) (*innonetpb.User, error) {
	if !validCodeShape(r.Code) {
		return nil, errInvitation
	}
	hash := HashToken(r.Code)
	inv, err := s.n.state.InvitationByHash(hash)
	if errors.Is(err, pipeline.ErrUnauthenticated) {
		return nil, errInvitation
	} else if err != nil {
		return nil, toStatus(err)
	}
	u, err := s.n.state.User(inv.UserID)
	if err != nil {
		return nil, toStatus(err)
	}
	if u.Revoked != nil {
		return nil, errInvitation
	}
	if err := checkPassword(r.Password, u.Name); err != nil {
		return nil, err
	}
	// A used or expired code still goes to the log: it may be a retry of
	// the request that used it, which Apply answers as it did then.
	res, err := s.n.propose(ctx, pipeline.Command{
		Op: pipeline.OpAcceptInvitation, RequestID: sessionRequestID(ctx, r.RequestId), Actor: u.ID,
		Credentials: &pipeline.Credentials{Invitation: hash, Password: hashPassword(r.Password)},
	})
	if err != nil {
		return nil, err
	}
	if !res.Replayed {
		s.n.log.Info("invitation accepted: password set", "user", u.ID, "invitation", inv.ID)
	}
	return userToPB(res.User), nil
}

// errSignIn refuses a sign-in, whatever was wrong.
var errSignIn = status.Error(codes.Unauthenticated, pipeline.MsgWrongPassword)

func (s *userService) SignIn(ctx context.Context, r *innonetpb.SignInRequest) (*innonetpb.SignInResponse, error) {
	switch {
	case strings.TrimSpace(r.Name) == "":
		return nil, status.Error(codes.InvalidArgument, "name: is required")
	case r.Password == "":
		return nil, status.Error(codes.InvalidArgument, "password: is required")
	case len(r.Password) > maxPassword:
		return nil, errSignIn // no password is that long
	}
	u, err := s.n.passwordUser(r.Name, r.Password)
	if err != nil {
		return nil, err
	}
	token := mintSecret(ctx, tokenPrefix, "session")
	res, err := s.n.propose(ctx, pipeline.Command{
		Op: pipeline.OpSignIn, RequestID: sessionRequestID(ctx, r.RequestId), Actor: u.ID,
		Credentials: &pipeline.Credentials{Password: u.PasswordHash},
		NewToken:    &pipeline.NewToken{Hash: HashToken(token), TTL: pipeline.DefaultSessionTTL, Description: "signed in at " + originSite(ctx, s.n.cfg.Site)},
	})
	if err != nil {
		return nil, err
	}
	out := &innonetpb.SignInResponse{TokenInfo: tokenToPB(res.Token, time.Now()), User: userToPB(res.User)}
	if !res.Replayed || res.Token != nil && res.Token.Hash == HashToken(token) {
		out.Token = token
		s.n.log.Info("signed in", "user", u.ID, "token", res.Token.ID)
	}
	return out, nil
}

// passwordUser returns the active user called name whose password is
// password, verifying every such user with a password (names are unique
// among active users invited by name, but older users may share one). A
// name no one has costs one verification too, so that the time of a
// refusal does not tell a wrong name from a wrong password.
func (n *Node) passwordUser(name, password string) (*pipeline.User, error) {
	users, err := n.state.UsersByName(name)
	if err != nil {
		return nil, toStatus(err)
	}
	tried := false
	for i := range users {
		u := &users[i]
		if u.Revoked != nil || u.PasswordHash == "" {
			continue
		}
		tried = true
		if verifyPassword(u.PasswordHash, password) {
			return u, nil
		}
	}
	if !tried {
		verifyPassword(dummyHash, password)
	}
	return nil, errSignIn
}

// session authenticates the caller and checks that it presented a session
// token.
func (n *Node) session(ctx context.Context, verb string) (*pipeline.User, *pipeline.Token, error) {
	u, t, err := n.credential(ctx)
	if err != nil {
		return nil, nil, err
	}
	if !t.Session() {
		if verb == "sign out" {
			return nil, nil, status.Errorf(codes.FailedPrecondition, "token %s is an API token, not a session: use RevokeToken for API tokens", t.ID)
		}
		return nil, nil, status.Errorf(codes.FailedPrecondition, "token %s is an API token, not a session: only sessions can be extended", t.ID)
	}
	return u, t, nil
}

// sessionRequestID is the request ID of a write of a person's session:
// the caller's, or a fresh one when the console sends none (signing out
// and extending are idempotent anyway; a sign-in or an acceptance retried
// without one is simply a second attempt).
func sessionRequestID(ctx context.Context, rid string) string {
	if rid != "" {
		return rid
	}
	if seed := requestSeed(ctx); seed != "" {
		// The same for every attempt the site sends (secrets.go).
		return "session-" + mintSecret(ctx, "", "request id")[:32]
	}
	return uuid.Must(uuid.NewV7()).String()
}

func (s *userService) SignOut(ctx context.Context, r *innonetpb.SignOutRequest) (*innonetpb.Token, error) {
	u, t, err := s.n.session(ctx, "sign out")
	if err != nil {
		return nil, err
	}
	res, err := s.n.propose(ctx, pipeline.Command{
		Op: pipeline.OpRevokeToken, RequestID: sessionRequestID(ctx, r.RequestId), Actor: u.ID, ActorToken: t.ID,
		UserID: u.ID, TokenID: t.ID,
	})
	if err != nil {
		return nil, err
	}
	s.n.log.Info("signed out", "user", u.ID, "token", t.ID)
	return tokenToPB(res.Token, time.Now()), nil
}

func (s *userService) ExtendSession(ctx context.Context, r *innonetpb.ExtendSessionRequest) (*innonetpb.Token, error) {
	u, t, err := s.n.session(ctx, "extend")
	if err != nil {
		return nil, err
	}
	res, err := s.n.propose(ctx, pipeline.Command{
		Op: pipeline.OpExtendSession, RequestID: sessionRequestID(ctx, r.RequestId), Actor: u.ID, ActorToken: t.ID, TokenID: t.ID,
	})
	if err != nil {
		return nil, err
	}
	return tokenToPB(res.Token, time.Now()), nil
}
