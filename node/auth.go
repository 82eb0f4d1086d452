package node

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"innonet/node/guard"
	"innonet/node/pipeline"
)

// tokenPrefix marks innonet bearer tokens so they are recognisable in a
// leaked config or a secret scanner.
const tokenPrefix = "inn_"

// NewToken returns a fresh bearer token with 256 bits of entropy.
func NewToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return tokenPrefix + hex.EncodeToString(b)
}

// HashToken is what the replicated state stores instead of a token.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// bearer returns the token from the authorization metadata.
func bearer(ctx context.Context) (string, error) { return guard.Bearer(ctx) }

// Messages of refused tokens. They never echo what the caller sent.
const (
	msgInvalidToken = "invalid token: unknown or revoked"
	msgExpiredToken = "token expired: use another of your tokens, or ask an admin for a new one"
)

// authenticate returns the user the request's token belongs to, from this
// site's copy of the users.
func (n *Node) authenticate(ctx context.Context) (*pipeline.User, error) {
	u, _, err := n.credential(ctx)
	return u, err
}

// credential returns the user the request's token belongs to and the
// token's metadata. The token is looked up by its hash in this site's copy
// of the state, so a revocation counts here as soon as this site has
// applied it; expiry is judged by this site's clock. A site cut off from
// the leader for longer than MaxAuthStaleness judges no token: its copy
// may miss a revocation.
func (n *Node) credential(ctx context.Context) (*pipeline.User, *pipeline.Token, error) {
	if d := n.authStale(); d > 0 {
		return nil, nil, n.staleAuthError(d, nil)
	}
	tok, err := bearer(ctx)
	if err != nil {
		return nil, nil, err
	}
	u, t, err := n.lookupToken(ctx, tok)
	switch {
	case errors.Is(err, pipeline.ErrUnauthenticated):
		return nil, nil, status.Error(codes.Unauthenticated, msgInvalidToken)
	case err != nil:
		return nil, nil, toStatus(err)
	case t.Revoked != nil || u.Revoked != nil:
		return nil, nil, status.Error(codes.Unauthenticated, msgInvalidToken)
	case n.tokenExpired(t):
		return nil, nil, status.Error(codes.Unauthenticated, msgExpiredToken)
	}
	return u, t, nil
}

// tokenExpired judges a token's expiry by this site's clock, with the
// clock skew the cluster tolerates (cluster.Config.MaxClockSkew): the
// expiry was set by the leader's clock, and a site a little ahead must not
// refuse a token that is still valid there. A site further off is reported
// by the leader's health checks (CLOCK_SKEW); Apply judges the token again
// by the time the leader stamps into the write.
func (n *Node) tokenExpired(t *pipeline.Token) bool {
	return t.Expired(n.now().Add(-max(n.cfg.Cluster.MaxClockSkew, 0)))
}

// requireSelf authenticates the caller and checks that it may act on the
// tokens of user id: admins on anyone's, others on their own.
func (n *Node) requireSelf(ctx context.Context, id string) (*pipeline.User, *pipeline.Token, error) {
	u, t, err := n.credential(ctx)
	if err != nil {
		return nil, nil, err
	}
	if u.Role != pipeline.Admin && u.ID != id {
		return nil, nil, status.Errorf(codes.PermissionDenied, "requires role ADMIN, or the caller's own user ID; caller %s is %s", u.ID, u.Role)
	}
	return u, t, nil
}

// require authenticates the caller and checks that it has one of roles.
func (n *Node) require(ctx context.Context, roles ...pipeline.Role) (*pipeline.User, error) {
	u, err := n.authenticate(ctx)
	if err != nil {
		return nil, err
	}
	for _, r := range roles {
		if u.Role == r {
			return u, nil
		}
	}
	names := make([]string, len(roles))
	for i, r := range roles {
		names[i] = r.String()
	}
	return nil, status.Errorf(codes.PermissionDenied, "requires role %s; caller %s is %s", strings.Join(names, " or "), u.ID, u.Role)
}

// DefaultMaxAuthStaleness is how long a site may go without hearing from
// the leader and still judge tokens by its own copy of the users: a few
// heartbeat timeouts of the WAN profile, short next to how long a
// revoked token could otherwise keep working on a cut-off site.
const DefaultMaxAuthStaleness = 10 * time.Second

// authStale returns how long this site has not heard from the leader,
// if that is longer than it may judge tokens by its own copy of the
// users; 0 otherwise, and always on the leader.
func (n *Node) authStale() time.Duration {
	if n.cfg.MaxAuthStaleness < 0 || n.cluster.IsLeader() {
		return 0
	}
	if d := n.cluster.LastContact(); d > n.cfg.MaxAuthStaleness {
		return d
	}
	return 0
}

// staleAuthError refuses a request this site cannot authenticate because
// it has been cut off from the leader for d; cause, if any, is why the
// leader could not judge it instead.
func (n *Node) staleAuthError(d time.Duration, cause error) error {
	msg := fmt.Sprintf("site %s cannot check credentials: it has been cut off from the leader for %s (more than the %s it may trust its own copy of the users)",
		n.cfg.Site, roundContact(d), n.cfg.MaxAuthStaleness)
	if last := n.cluster.LastLeader(); last != "" && cause == nil {
		msg += "; last leader " + last
	}
	if cause != nil {
		msg += ", and the leader cannot be reached: " + status.Convert(cause).Message()
	}
	return status.Error(codes.Unavailable, msg+"; retry later or through another site")
}

// roundContact rounds a time since contact for a message.
func roundContact(d time.Duration) time.Duration {
	if d >= time.Second {
		return d.Round(time.Second)
	}
	return d.Round(10 * time.Millisecond)
}
