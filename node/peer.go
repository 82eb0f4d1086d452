package node

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"innonet/cluster"
	"innonet/node/guard"
)

// TLS is what a site needs from its certificates (see package
// cluster/certs): mutual TLS between sites bound to site codes, and the
// client API's server configuration.
type TLS interface {
	cluster.PeerTLS
	APIServerConfig() *tls.Config
}

// More metadata keys a forwarding site sets. The receiving site trusts
// them only from a connection whose certificate names the forwarding site.
const (
	mdCallerSite = "x-innonet-caller-site" // the site certificate the original caller presented
	mdClientAddr = "x-innonet-client-addr" // the original caller's IP, for throttling
)

// peerSite returns the site named by the verified certificate of the
// connection a request arrived on, or "" (no certificate, a client
// certificate, or plaintext).
func (n *Node) peerSite(ctx context.Context) string {
	if n.cfg.TLS == nil {
		return ""
	}
	p, ok := peer.FromContext(ctx)
	if !ok {
		return ""
	}
	info, ok := p.AuthInfo.(credentials.TLSInfo)
	if !ok {
		return ""
	}
	site, err := n.cfg.TLS.PeerSite(info.State)
	if err != nil {
		return ""
	}
	// A certificate on the cluster's deny-list speaks for no site.
	if certs := info.State.PeerCertificates; len(certs) > 0 && n.cluster.IsDenied(cluster.SerialString(certs[0])) {
		return ""
	}
	return site
}

// httpPeerSite is peerSite for a request that did not come through gRPC.
func (n *Node) httpPeerSite(r *http.Request) string {
	if n.cfg.TLS == nil || r.TLS == nil {
		return ""
	}
	site, err := n.cfg.TLS.PeerSite(*r.TLS)
	if err != nil {
		return ""
	}
	return site
}

// forwarded reports whether a request says it was forwarded by a site
// (checkForwarded checks that claim). It reads the one key rather than
// copying the request's metadata, as FromIncomingContext does: every
// request asks, several times.
func forwarded(ctx context.Context) bool {
	return len(metadata.ValueFromIncomingContext(ctx, mdForwardedBy)) > 0
}

// checkForwarded refuses a request that claims to be forwarded by a site
// unless it arrived on a connection with that site's certificate. Without
// TLS (--insecure) the claim cannot be checked and is believed.
func (n *Node) checkForwarded(ctx context.Context) error {
	by := metadata.ValueFromIncomingContext(ctx, mdForwardedBy)
	if len(by) == 0 {
		for _, k := range []string{mdOrigin, mdCallerSite, mdClientAddr, mdSecretSeed} {
			if len(metadata.ValueFromIncomingContext(ctx, k)) > 0 {
				return status.Errorf(codes.PermissionDenied, "metadata %s is reserved for forwarding between sites", k)
			}
		}
		return nil
	}
	if origin := metadata.ValueFromIncomingContext(ctx, mdOrigin); len(origin) > 0 && origin[0] != by[0] {
		return status.Errorf(codes.PermissionDenied, "forwarded by %s on behalf of another site %s", by[0], origin[0])
	}
	if n.cfg.TLS == nil {
		return nil
	}
	if got := n.peerSite(ctx); got != by[0] {
		if got == "" {
			got = "no site certificate"
		}
		n.securityEvent(ctx, guard.ForgedForward, "request claims to be forwarded by "+by[0]+" but the connection presented "+got)
		return status.Errorf(codes.PermissionDenied, "request claims to be forwarded by site %s but the connection's certificate does not name it", by[0])
	}
	return nil
}

// callerSite returns the site whose certificate stands behind a request:
// the connection's own, or for a forwarded request the one the forwarding
// site saw.
func (n *Node) callerSite(ctx context.Context) string {
	if forwarded(ctx) {
		if v := metadata.ValueFromIncomingContext(ctx, mdCallerSite); len(v) > 0 {
			return v[0]
		}
		return ""
	}
	return n.peerSite(ctx)
}

// clientAddr returns the IP address of the client behind a request, for
// throttling and the security log: the REST caller's for a request through
// this site's gateway, the original caller's for a forwarded request, and
// otherwise the connection's.
func (n *Node) clientAddr(ctx context.Context) string {
	if forwarded(ctx) {
		if v := metadata.ValueFromIncomingContext(ctx, mdClientAddr); len(v) > 0 {
			return v[0]
		}
	}
	p, ok := peer.FromContext(ctx)
	if !ok || p.Addr == nil {
		return "unknown"
	}
	if p.Addr.Network() == gatewayNetwork {
		// The gateway appends the REST caller's address to
		// X-Forwarded-For; earlier entries came from the caller.
		if v := metadata.ValueFromIncomingContext(ctx, "x-forwarded-for"); len(v) > 0 {
			parts := strings.Split(v[len(v)-1], ",")
			return strings.TrimSpace(parts[len(parts)-1])
		}
		return "gateway"
	}
	if host, _, err := net.SplitHostPort(p.Addr.String()); err == nil {
		return host
	}
	return p.Addr.String()
}

// peerKeepalive pings a site-to-site connection after 10 s without a
// read (gRPC's shortest) and closes it when no answer comes within 5 s;
// sites allow such pings (peerKeepaliveEnforcement).
var (
	peerKeepalive            = keepalive.ClientParameters{Time: 10 * time.Second, Timeout: 5 * time.Second, PermitWithoutStream: true}
	peerKeepaliveEnforcement = keepalive.EnforcementPolicy{MinTime: 5 * time.Second, PermitWithoutStream: true}
)

// peerConns keeps one gRPC connection per peer site and API address.
type peerConns struct {
	mu    sync.Mutex
	conns map[string]*grpc.ClientConn
	tls   TLS
	dial  cluster.DialFunc
}

func newPeerConns(t TLS, dial cluster.DialFunc) *peerConns {
	return &peerConns{conns: map[string]*grpc.ClientConn{}, tls: t, dial: dial}
}

// conn returns the connection to the site at addr; with TLS the server
// must present site's certificate (any site's when site is "").
func (p *peerConns) conn(site, addr string) (*grpc.ClientConn, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	key := site + "|" + addr
	if c, ok := p.conns[key]; ok {
		return c, nil
	}
	// Peers restart and move: reconnect within seconds rather than gRPC's
	// default backoff of up to two minutes, and give up a connection
	// attempt to an unreachable address after a few seconds.
	params := grpc.ConnectParams{Backoff: backoff.DefaultConfig, MinConnectTimeout: 3 * time.Second}
	params.Backoff.BaseDelay, params.Backoff.MaxDelay = 100*time.Millisecond, 2*time.Second
	// A forwarded answer may be a full page of leads: accept what this
	// site would send itself.
	opts := []grpc.DialOption{grpc.WithConnectParams(params),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(guard.DefaultLimits().MaxSendMsgSize)),
		// A connection whose peer went silent (a border cut that drops
		// packets, a NAT that forgot it) is found dead by a ping and
		// replaced, rather than carrying requests into the void until
		// TCP gives up a quarter of an hour later.
		grpc.WithKeepaliveParams(peerKeepalive)}
	if p.tls != nil {
		opts = append(opts, grpc.WithTransportCredentials(credentials.NewTLS(p.tls.PeerClientConfig(site))))
	} else {
		opts = append(opts, grpc.WithTransportCredentials(insecure.NewCredentials()))
	}
	if p.dial != nil {
		opts = append(opts, grpc.WithContextDialer(p.dial))
	}
	c, err := grpc.NewClient("passthrough:///"+addr, opts...)
	if err != nil {
		return nil, err
	}
	p.conns[key] = c
	return c, nil
}

func (p *peerConns) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for key, c := range p.conns {
		c.Close()
		delete(p.conns, key)
	}
}
