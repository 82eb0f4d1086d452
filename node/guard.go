package node

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/golang-lru/simplelru"
	"golang.org/x/time/rate"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"
)

// guard keeps hostile clients from wearing a site down. It sits in the
// interceptor chain in front of forwarding, so it acts on the site that
// took a request from the client, before the request costs a round trip
// to the leader:
//
//   - a client address with too many failed authentications within a
//     window is refused (RESOURCE_EXHAUSTED, HTTP 429) for a cool-down
//     that doubles each time it is blocked again;
//   - each token may make so many requests per second (a token bucket);
//   - a request that does not parse or carries an enum number its type
//     does not define is refused before it is forwarded;
//   - failed authentications, denials and what the guard refuses go to
//     the site's security log (security.go).
//
// A request forwarded by a site (once checkForwarded has verified the
// claim, by certificate with TLS) is not guarded or logged again: the
// site that took it from the client has done both with the client's own
// address, and a leader must not throttle a site for what that site's
// clients do. A request on a connection with a site certificate is not
// throttled either, but its failures are logged.
//
// A successful request does not clear an address's failures: an attacker
// holding one valid token could otherwise interleave it with guesses.
// Failures age out with the window instead, and a block in a row is
// forgotten after four maximum cool-downs without failures.
//
// The tables are bounded (Limits.MaxClients each) and forget the least
// recently seen address or token first.
type guard struct {
	n   *Node
	lim Limits
	now func() time.Time

	mu     sync.Mutex
	fails  table[*failRecord]
	tokens table[*rate.Limiter]
}

func newGuard(n *Node, l Limits) *guard {
	return &guard{n: n, lim: l, now: time.Now,
		fails: newTable[*failRecord](l.MaxClients), tokens: newTable[*rate.Limiter](l.MaxClients)}
}

// failRecord is the failed authentications of one client address.
type failRecord struct {
	since    time.Time // start of the current window
	failures int       // failures in the current window
	strikes  int       // blocks in a row; each doubles the cool-down
	last     time.Time // the latest failure
	until    time.Time // blocked until then
}

// blocked returns how much longer addr is blocked, or 0.
func (g *guard) blocked(addr string) time.Duration {
	now := g.now()
	g.mu.Lock()
	defer g.mu.Unlock()
	r, ok := g.fails.lookup(addrKey(addr))
	if !ok || !now.Before(r.until) {
		return 0
	}
	return r.until.Sub(now)
}

// failed records a failed authentication from addr and returns the
// cool-down when this failure blocks addr, or 0.
func (g *guard) failed(addr string) time.Duration {
	now := g.now()
	g.mu.Lock()
	defer g.mu.Unlock()
	r := g.fails.get(addrKey(addr), func() *failRecord { return &failRecord{} })
	if now.Before(r.until) {
		return 0 // a request in flight when the block began
	}
	if now.Sub(r.last) > 4*g.lim.AuthMaxCooldown {
		r.strikes = 0
	}
	if now.Sub(r.since) > g.lim.AuthWindow {
		r.since, r.failures = now, 0
	}
	r.failures++
	r.last = now
	if r.failures < g.lim.AuthFailures {
		return 0
	}
	cool := g.lim.AuthCooldown
	for i := 0; i < r.strikes && cool < g.lim.AuthMaxCooldown; i++ {
		cool *= 2
	}
	cool = min(cool, g.lim.AuthMaxCooldown)
	r.strikes++
	r.until = now.Add(cool)
	r.since, r.failures = now, 0
	return cool
}

// tokenWait takes one request from the bucket of the token with hash h
// and returns 0, or how long the caller must wait for the next one.
func (g *guard) tokenWait(h string) time.Duration {
	now := g.now()
	g.mu.Lock()
	defer g.mu.Unlock()
	lim := g.tokens.get(h, func() *rate.Limiter {
		return rate.NewLimiter(rate.Limit(g.lim.TokenRate), g.lim.TokenBurst)
	})
	r := lim.ReserveN(now, 1)
	if !r.OK() {
		return time.Hour
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return d
	}
	return 0
}

// addrKey is the throttling key of a client address: the address, or
// for IPv6 its /64, which one client usually holds whole.
func addrKey(addr string) string {
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		return addr
	}
	ip = ip.Unmap().WithZone("")
	if ip.Is6() {
		if p, err := ip.Prefix(64); err == nil {
			return p.String()
		}
	}
	return ip.String()
}

// caller is what the guard knows of a request.
type caller struct {
	method    string
	addr      string
	tokenHash string // "" without a well-formed bearer token
	forwarded bool   // forwarded by a site, which guarded and logs it
	site      bool   // on a connection with a site certificate: not throttled
}

// admit decides whether a request may proceed: it refuses forged
// forwarding, blocked addresses and tokens over their rate.
func (g *guard) admit(ctx context.Context, method string) (caller, error) {
	c := caller{method: method, addr: g.n.clientAddr(ctx)}
	if tok, err := bearer(ctx); err == nil {
		c.tokenHash = HashToken(tok)
	}
	if err := g.n.checkForwarded(ctx); err != nil {
		// The client address a forged forward names is the forger's
		// choice: count the failure against the connection's instead, or
		// anyone could have any address blocked. checkForwarded reports a
		// forged certificate claim itself.
		c.addr = connAddr(ctx)
		if rg := requestGuardFrom(ctx); rg == nil || !rg.logged.Load() {
			g.n.recordSecurity(securityRecord{Kind: secForgedForward, Method: method, Client: c.addr,
				Code: status.Code(err).String(), Reason: status.Convert(err).Message()})
		}
		g.fail(c)
		return c, err
	}
	md, _ := metadata.FromIncomingContext(ctx)
	c.forwarded = len(md.Get(mdForwardedBy)) > 0
	c.site = g.n.peerSite(ctx) != ""
	if c.forwarded || c.site {
		return c, nil
	}
	if wait := g.blocked(c.addr); wait > 0 {
		err := status.Error(codes.ResourceExhausted, throttledMessage(c.addr, wait))
		g.n.recordSecurity(securityRecord{Kind: secThrottled, Method: method, Client: c.addr,
			Code: codes.ResourceExhausted.String(), Reason: "address blocked after failed authentications", tokenHash: c.tokenHash})
		setRetryAfter(ctx, wait)
		return c, err
	}
	if c.tokenHash != "" {
		if wait := g.tokenWait(c.tokenHash); wait > 0 {
			g.n.recordSecurity(securityRecord{Kind: secRateLimited, Method: method, Client: c.addr,
				Code: codes.ResourceExhausted.String(), Reason: "token over its rate limit", tokenHash: c.tokenHash})
			setRetryAfter(ctx, wait)
			return c, status.Error(codes.ResourceExhausted, g.rateLimitedMessage(wait))
		}
	}
	return c, nil
}

// outcome records a failed authentication or a denial the handler
// returned, unless the handler reported the request itself.
func (g *guard) outcome(ctx context.Context, c caller, err error) {
	if c.forwarded || err == nil {
		return
	}
	logged := false
	if rg := requestGuardFrom(ctx); rg != nil {
		logged = rg.logged.Load()
	}
	switch status.Code(err) {
	case codes.Unauthenticated:
		if !logged {
			g.n.recordSecurity(securityRecord{Kind: secUnauthenticated, Method: c.method, Client: c.addr,
				Code: codes.Unauthenticated.String(), Reason: authProblem(ctx)})
		}
		// A site that knows no users yet (a new cluster before its first
		// admin is recorded, a site still catching up) refuses every
		// token, sites joining with the admin token among them: that is
		// not guessing.
		if users, err := g.n.state.Users(); err == nil && len(users) > 0 {
			g.fail(c)
		}
	case codes.PermissionDenied:
		if !logged {
			g.n.recordSecurity(securityRecord{Kind: secPermissionDenied, Method: c.method, Client: c.addr,
				Code: codes.PermissionDenied.String(), Reason: status.Convert(err).Message(), tokenHash: c.tokenHash})
		}
	}
}

// fail counts a failed authentication and records the block it starts.
func (g *guard) fail(c caller) {
	if c.forwarded || c.site {
		return
	}
	if cool := g.failed(c.addr); cool > 0 {
		g.n.recordSecurity(securityRecord{Kind: secThrottled, Method: c.method, Client: c.addr,
			Code:   codes.ResourceExhausted.String(),
			Reason: fmt.Sprintf("%d failed authentications within %s: blocked for %s", g.lim.AuthFailures, g.lim.AuthWindow, cool)})
	}
}

// connAddr is the IP address of the connection a request came on,
// whatever its metadata claims.
func connAddr(ctx context.Context) string {
	p, ok := peer.FromContext(ctx)
	if !ok || p.Addr == nil {
		return "unknown"
	}
	if host, _, err := net.SplitHostPort(p.Addr.String()); err == nil {
		return host
	}
	return p.Addr.String()
}

// authProblem describes a failed authentication without the credential.
func authProblem(ctx context.Context) string {
	md, _ := metadata.FromIncomingContext(ctx)
	if v := md.Get("authorization"); len(v) == 0 || v[0] == "" {
		return "no token"
	}
	if _, err := bearer(ctx); err != nil {
		return "malformed authorization header"
	}
	return "token not accepted: unknown, revoked or expired"
}

func throttledMessage(addr string, wait time.Duration) string {
	return fmt.Sprintf("too many failed authentications from %s; retry after %ds", addr, retrySeconds(wait))
}

func (g *guard) rateLimitedMessage(wait time.Duration) string {
	return fmt.Sprintf("too many requests with this token: the limit is %g per second in bursts of %d; retry after %ds",
		g.lim.TokenRate, g.lim.TokenBurst, retrySeconds(wait))
}

// retrySeconds rounds a wait up to whole seconds, as Retry-After wants.
func retrySeconds(d time.Duration) int {
	return max(1, int((d+time.Second-1)/time.Second))
}

// setRetryAfter tells a gRPC caller when to retry; the gateway passes it
// on as Grpc-Metadata-Retry-After, which limitHTTP turns into Retry-After.
func setRetryAfter(ctx context.Context, wait time.Duration) {
	_ = grpc.SetHeader(ctx, metadata.Pairs("retry-after", strconv.Itoa(retrySeconds(wait))))
}

// unary guards a unary RPC.
func (g *guard) unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	ctx = withRequestGuard(ctx, info.FullMethod)
	// Taken first, so that the entry never outlives a refused request.
	decodeErr := takeDecodeError(req)
	c, err := g.admit(ctx, info.FullMethod)
	if err != nil {
		return nil, err
	}
	if err := g.checkRequest(c, req, decodeErr); err != nil {
		return nil, err
	}
	resp, err := handler(ctx, req)
	g.outcome(ctx, c, err)
	return resp, err
}

// stream guards a streaming RPC; each message received is checked as a
// unary request is.
func (g *guard) stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	ctx := withRequestGuard(ss.Context(), info.FullMethod)
	c, err := g.admit(ctx, info.FullMethod)
	if err != nil {
		return err
	}
	err = handler(srv, &guardedStream{ServerStream: ss, ctx: ctx, g: g, c: c})
	g.outcome(ctx, c, err)
	return err
}

type guardedStream struct {
	grpc.ServerStream
	ctx context.Context
	g   *guard
	c   caller
}

func (s *guardedStream) Context() context.Context { return s.ctx }

func (s *guardedStream) RecvMsg(m any) error {
	if err := s.ServerStream.RecvMsg(m); err != nil {
		return err
	}
	return s.g.checkRequest(s.c, m, takeDecodeError(m))
}

// requestGuard is the guard's record of one RPC, in its context.
type requestGuard struct {
	method string
	ran    atomic.Bool // the guard's interceptor saw the request
	logged atomic.Bool // a security event was recorded for it
}

type requestGuardKey struct{}

func requestGuardFrom(ctx context.Context) *requestGuard {
	rg, _ := ctx.Value(requestGuardKey{}).(*requestGuard)
	return rg
}

// withRequestGuard marks the request as seen by the guard's interceptor,
// adding the record if the stats handler did not.
func withRequestGuard(ctx context.Context, method string) context.Context {
	rg := requestGuardFrom(ctx)
	if rg == nil {
		rg = &requestGuard{method: method}
		ctx = context.WithValue(ctx, requestGuardKey{}, rg)
	}
	rg.ran.Store(true)
	return ctx
}

// The guard is also the gRPC server's stats handler, to see what gRPC
// refuses before any interceptor runs: a request message over
// MaxRecvMsgSize ends with RESOURCE_EXHAUSTED and the guard never saw it.

func (g *guard) TagRPC(ctx context.Context, info *stats.RPCTagInfo) context.Context {
	return context.WithValue(ctx, requestGuardKey{}, &requestGuard{method: info.FullMethodName})
}

func (g *guard) HandleRPC(ctx context.Context, s stats.RPCStats) {
	end, ok := s.(*stats.End)
	if !ok || end.Error == nil || status.Code(end.Error) != codes.ResourceExhausted {
		return
	}
	if rg := requestGuardFrom(ctx); rg != nil && !rg.ran.Load() {
		g.n.recordSecurity(securityRecord{Kind: secOversized, Method: rg.method, Client: g.n.clientAddr(ctx),
			Code: codes.ResourceExhausted.String(), Reason: fmt.Sprintf("request message over %d bytes", g.lim.MaxRecvMsgSize)})
	}
}

func (g *guard) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context { return ctx }

func (g *guard) HandleConn(context.Context, stats.ConnStats) {}

// backupHTTP guards GET /v1/backup, which authenticates on its own
// rather than through the gRPC API: the token's rate limit before, the
// security log after, and a write deadline that moves with every write,
// so a large download may take as long as it needs but may not stall.
func (g *guard) backupHTTP(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx := httpAuthContext(r)
		c := caller{method: r.Method + " /v1/backup", addr: httpClientAddr(r), tokenHash: httpTokenHash(r)}
		if c.tokenHash != "" {
			if wait := g.tokenWait(c.tokenHash); wait > 0 {
				g.n.recordSecurity(securityRecord{Kind: secRateLimited, Method: c.method, Client: c.addr,
					Code: codes.ResourceExhausted.String(), Reason: "token over its rate limit", tokenHash: c.tokenHash})
				writeHTTPError(w, http.StatusTooManyRequests, status.New(codes.ResourceExhausted, g.rateLimitedMessage(wait)), wait)
				return
			}
		}
		sw := &stallWriter{ResponseWriter: w, rc: http.NewResponseController(w), stall: g.lim.BackupStallTimeout}
		next(sw, r)
		switch sw.code {
		case http.StatusUnauthorized:
			g.outcome(ctx, c, status.Error(codes.Unauthenticated, "unauthenticated"))
		case http.StatusForbidden:
			g.outcome(ctx, c, status.Error(codes.PermissionDenied, "backup requires role ADMIN"))
		}
	}
}

// stallWriter moves the write deadline forward as a response is written.
type stallWriter struct {
	http.ResponseWriter
	rc    *http.ResponseController
	stall time.Duration
	code  int
	next  time.Time // when to move the deadline again
}

func (w *stallWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *stallWriter) Write(p []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	if now := time.Now(); now.After(w.next) {
		_ = w.rc.SetWriteDeadline(now.Add(w.stall))
		w.next = now.Add(w.stall / 10)
	}
	return w.ResponseWriter.Write(p)
}

func (w *stallWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// httpAuthContext carries an HTTP request's Authorization header as gRPC
// metadata, for bearer.
func httpAuthContext(r *http.Request) context.Context {
	return metadata.NewIncomingContext(r.Context(), metadata.Pairs("authorization", r.Header.Get("Authorization")))
}

// httpTokenHash is the hash of an HTTP request's bearer token, or "".
func httpTokenHash(r *http.Request) string {
	tok, err := bearer(httpAuthContext(r))
	if err != nil {
		return ""
	}
	return HashToken(tok)
}

// httpClientAddr is the IP address of an HTTP client, as the gateway
// passes it on in X-Forwarded-For (see clientAddr).
func httpClientAddr(r *http.Request) string {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

// table is a map bounded in size that forgets the least recently used
// key first. It is not safe for concurrent use.
type table[V any] struct{ lru *simplelru.LRU }

func newTable[V any](size int) table[V] {
	l, err := simplelru.NewLRU(max(size, 1), nil)
	if err != nil {
		panic(err) // only for a size below 1
	}
	return table[V]{lru: l}
}

// get returns the value of key, adding the one create returns if none.
func (t table[V]) get(key string, create func() V) V {
	if v, ok := t.lru.Get(key); ok {
		return v.(V)
	}
	v := create()
	t.lru.Add(key, v)
	return v
}

// lookup returns the value of key, if any.
func (t table[V]) lookup(key string) (V, bool) {
	v, ok := t.lru.Get(key)
	if !ok {
		var zero V
		return zero, false
	}
	return v.(V), true
}
