package node

import (
	"context"

	"innonet/node/guard"
)

// Limits bound what one client may ask of a site: message sizes,
// timeouts, throttling of failed authentications, per-token rate limits
// (see package guard). Zero fields take the values of DefaultLimits.
type Limits = guard.Limits

// DefaultLimits returns the limits a site applies unless told otherwise.
func DefaultLimits() Limits { return guard.DefaultLimits() }

// newGuard builds the site's guard (package guard), which sits in front
// of everything the site serves.
func (n *Node) newGuard() (*guard.Guard, error) {
	return guard.New(guard.Config{Site: n.cfg.Site, DataDir: n.cfg.DataDir, Logger: n.log,
		Limits: n.cfg.Limits, Metrics: n.metrics.reg}, guardSite{n})
}

// securityEvent records a refused or suspicious request that only a
// handler can see in the site's security log.
func (n *Node) securityEvent(ctx context.Context, kind guard.Kind, detail string) {
	n.guard.Event(ctx, kind, detail)
}

// guardSite is what the guard asks of the site.
type guardSite struct{ n *Node }

func (s guardSite) ClientAddr(ctx context.Context) string { return s.n.clientAddr(ctx) }

func (s guardSite) Forwarded(ctx context.Context) (bool, error) {
	if err := s.n.checkForwarded(ctx); err != nil {
		return false, err
	}
	return forwarded(ctx), nil
}

func (s guardSite) PeerSite(ctx context.Context) string { return s.n.peerSite(ctx) }

// TokenUser names the user of a token that is not revoked, as the
// security log has always named it, and says whether it is valid now.
func (s guardSite) TokenUser(token string) (string, bool) {
	u, t, err := s.n.state.TokenByHash(HashToken(token))
	if err != nil || t.Revoked != nil || u.Revoked != nil {
		return "", false
	}
	return u.ID, !s.n.tokenExpired(t)
}

func (s guardSite) HasUsers() bool {
	users, err := s.n.state.Users()
	return err == nil && len(users) > 0
}
