package guard

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/encoding"
	protoenc "google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"
)

// Site is what a Guard needs of the site it guards. Its methods are
// called on request goroutines, concurrently.
type Site interface {
	// ClientAddr is the IP address of the client behind a gRPC request:
	// the REST caller's for a request through the site's gateway, the
	// original caller's for a request another site forwarded.
	ClientAddr(ctx context.Context) string
	// Forwarded reports whether the request was forwarded by another
	// site, which has guarded it already; it returns an error
	// (PERMISSION_DENIED) for a request that claims to be forwarded and
	// cannot be.
	Forwarded(ctx context.Context) (bool, error)
	// PeerSite is the site named by the verified certificate of the
	// request's connection, or "".
	PeerSite(ctx context.Context) string
	// TokenUser returns the ID of the user holding token ("" for none)
	// and whether the site holds the token valid now.
	TokenUser(token string) (user string, valid bool)
	// HasUsers reports whether the site knows any user yet.
	HasUsers() bool
}

// Config configures a Guard.
type Config struct {
	// Site is the site code written on every security log line.
	Site string
	// DataDir holds the security log; "" keeps none.
	DataDir string
	// Logger receives a mirror of the security log.
	Logger *slog.Logger
	// Limits bound what one client may ask; zero fields take the
	// defaults.
	Limits Limits
	// Metrics, if set, registers innonet_security_events_total{kind}.
	Metrics prometheus.Registerer
}

// Guard keeps hostile clients from wearing one site down (see the
// package documentation). It is safe for concurrent use.
type Guard struct {
	cfg    Config
	lim    Limits
	site   Site
	log    *slog.Logger
	now    func() time.Time
	seclog *securityLog
	events *prometheus.CounterVec

	lock *lockout

	mu     sync.Mutex
	tokens table[*rate.Limiter] // per-token rate limits, by token hash

	// undecodable holds the parse error of each request message that
	// did not parse, until the interceptor takes it (see requestCodec).
	undecodable sync.Map // message → error
}

// New returns the guard of a site.
func New(cfg Config, site Site) (*Guard, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	lim := cfg.Limits.withDefaults()
	path := ""
	if cfg.DataDir != "" {
		path = filepath.Join(cfg.DataDir, LogName)
	}
	g := &Guard{cfg: cfg, lim: lim, site: site, log: cfg.Logger, now: time.Now,
		seclog: newSecurityLog(path, securityLogMaxBytes), lock: newLockout(lim),
		tokens: newTable[*rate.Limiter](lim.MaxClients)}
	if cfg.Metrics != nil {
		g.events = prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "innonet_security_events_total",
			Help: "Refused or suspicious requests at this site, by kind (unauthenticated, permission_denied, throttled, rate_limited, oversized...); each is in the site's security log unless flood control left it out.",
		}, []string{"kind"})
		if err := cfg.Metrics.Register(g.events); err != nil {
			return nil, fmt.Errorf("register security metrics: %w", err)
		}
		for _, k := range kinds {
			g.events.WithLabelValues(string(k)) // every kind shows, at 0, from the start
		}
	}
	return g, nil
}

// Limits are the limits the guard applies, defaults filled in.
func (g *Guard) Limits() Limits { return g.lim }

// ServerOptions are the gRPC server's message size limits and the
// guard's hooks in the server: its codec and its stats handler. The
// interceptors (Unary, Stream) are the caller's to place in the chain.
func (g *Guard) ServerOptions() []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.MaxRecvMsgSize(g.lim.MaxRecvMsgSize),
		grpc.MaxSendMsgSize(g.lim.MaxSendMsgSize),
		grpc.ForceServerCodecV2(requestCodec{CodecV2: encoding.GetCodecV2(protoenc.Name), g: g}),
		grpc.StatsHandler(statsHandler{g}),
	}
}

// caller is what the guard knows of a request.
type caller struct {
	method    string
	addr      string
	token     string // the bearer token, "" without a well-formed one; never logged
	forwarded bool   // forwarded by a site, which guarded and logs it
	site      bool   // on a connection with a site certificate: not throttled
}

// tokenHash keys the per-token rate limits.
func (c caller) tokenHash() string { return hashToken(c.token) }

// admit decides whether a request may proceed: it refuses forged
// forwarding, metadata that is not valid UTF-8, blocked tokens and
// addresses, and tokens over their rate.
func (g *Guard) admit(ctx context.Context, method string) (caller, error) {
	c := caller{method: method, addr: g.site.ClientAddr(ctx)}
	if tok, err := Bearer(ctx); err == nil {
		c.token = tok
	}
	forwarded, err := g.site.Forwarded(ctx)
	if err != nil {
		// The client address a forged forward names is the forger's
		// choice: count the failure against the connection's instead, or
		// anyone could have any address blocked. The site reports a
		// forged certificate claim itself.
		c.addr = connAddr(ctx)
		if rg := requestFrom(ctx); rg == nil || !rg.logged.Load() {
			g.record(Record{Kind: ForgedForward, Method: method, Client: c.addr,
				Code: status.Code(err).String(), Reason: status.Convert(err).Message()})
		}
		g.fail(c, true)
		return c, err
	}
	c.forwarded = forwarded
	c.site = g.site.PeerSite(ctx) != ""
	if c.forwarded || c.site {
		return c, nil
	}
	if err := checkMetadata(ctx); err != nil {
		g.record(Record{Kind: Malformed, Method: method, Client: c.addr,
			Code: codes.InvalidArgument.String(), Reason: status.Convert(err).Message()})
		return c, err
	}
	if r := g.refusal(c.addr, c.token); r.wait > 0 {
		g.record(Record{Kind: Throttled, Method: method, Client: c.addr,
			Code: codes.ResourceExhausted.String(), Reason: r.reason, token: c.token})
		setRetryAfter(ctx, r.wait)
		return c, status.Error(codes.ResourceExhausted, r.message)
	}
	if c.token != "" {
		if wait := g.tokenWait(c.tokenHash()); wait > 0 {
			g.record(Record{Kind: RateLimited, Method: method, Client: c.addr,
				Code: codes.ResourceExhausted.String(), Reason: "token over its rate limit", token: c.token})
			setRetryAfter(ctx, wait)
			return c, status.Error(codes.ResourceExhausted, g.rateLimitedMessage(wait))
		}
	}
	return c, nil
}

// refusal is why a client is refused for failed authentications.
type refusal struct {
	wait    time.Duration // 0: not refused
	message string        // for the client
	reason  string        // for the security log
}

// refusal says whether a request from addr with token is refused for
// failed authentications: its token or address is blocked, or the site
// is locked down and does not hold the token valid.
func (g *Guard) refusal(addr, token string) refusal {
	now := g.now()
	switch wait, s := g.lock.blocked(now, addr, prefixKey(token)); s {
	case scopeAddress:
		return refusal{wait, throttledMessage(addr, wait), "address blocked after failed authentications"}
	case scopeToken:
		// The block is on the wrong tokens that share this prefix: the
		// person who mistyped their token may use it once it is right.
		if _, valid := g.site.TokenUser(token); !valid {
			return refusal{wait, fmt.Sprintf("too many failed authentications from %s with this token; retry after %ds", addr, retrySeconds(wait)),
				"token blocked at this address after failed authentications"}
		}
	}
	// A request without a token cannot be a guess; it is refused by
	// the handler as ever.
	if token == "" {
		return refusal{}
	}
	if wait := g.lock.lockedDown(now); wait > 0 {
		if _, valid := g.site.TokenUser(token); !valid {
			return refusal{wait, fmt.Sprintf("too many failed authentications at this site: only valid tokens are taken for now; retry after %ds", retrySeconds(wait)),
				"site-wide lock-down after failed authentications"}
		}
	}
	return refusal{}
}

// tokenWait takes one request from the bucket of the token with hash h
// and returns 0, or how long the caller must wait for the next one.
func (g *Guard) tokenWait(h string) time.Duration {
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

// outcome records a failed authentication or a denial the handler
// returned, unless the handler reported the request itself.
func (g *Guard) outcome(ctx context.Context, c caller, err error) {
	if c.forwarded || err == nil {
		return
	}
	logged := false
	if rg := requestFrom(ctx); rg != nil {
		logged = rg.logged.Load()
	}
	switch status.Code(err) {
	case codes.Unauthenticated:
		if !logged {
			g.record(Record{Kind: Unauthenticated, Method: c.method, Client: c.addr,
				Code: codes.Unauthenticated.String(), Reason: authProblem(ctx)})
		}
		// A site that knows no users yet (a new cluster before its first
		// admin is recorded, a site still catching up) refuses every
		// token, sites joining with the admin token among them: that is
		// not guessing.
		if g.site.HasUsers() {
			g.fail(c, false)
		}
	case codes.PermissionDenied:
		if !logged {
			g.record(Record{Kind: PermissionDenied, Method: c.method, Client: c.addr,
				Code: codes.PermissionDenied.String(), Reason: status.Convert(err).Message(), token: c.token})
		}
	}
}

// fail counts a failed authentication, hostile if no typo could explain
// it, and records the blocks it starts.
func (g *Guard) fail(c caller, hostile bool) {
	if c.forwarded || c.site {
		return
	}
	for _, b := range g.lock.failed(g.now(), c.addr, prefixKey(c.token), hostile) {
		g.record(Record{Kind: Throttled, Method: c.method, Client: c.addr,
			Code: codes.ResourceExhausted.String(), Reason: b.reason})
	}
}

// Unary guards a unary RPC; place it before anything that forwards, so
// that it acts on the site that took the request from the client.
func (g *Guard) Unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	ctx = withRequest(ctx, info.FullMethod)
	// Taken first, so that the entry never outlives a refused request.
	decodeErr := g.takeDecodeError(req)
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

// Stream guards a streaming RPC; each message received is checked as a
// unary request is.
func (g *Guard) Stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	ctx := withRequest(ss.Context(), info.FullMethod)
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
	g   *Guard
	c   caller
}

func (s *guardedStream) Context() context.Context { return s.ctx }

func (s *guardedStream) RecvMsg(m any) error {
	if err := s.ServerStream.RecvMsg(m); err != nil {
		return err
	}
	return s.g.checkRequest(s.c, m, s.g.takeDecodeError(m))
}

// request is the guard's record of one RPC, in its context.
type request struct {
	method string
	ran    atomic.Bool // the guard's interceptor saw the request
	logged atomic.Bool // a security event was recorded for it
	// headers tells that the stats handler checked the request's
	// metadata (checkMetadata), with the verdict in badMetadata; both are
	// written before the interceptors run, on the goroutine that runs them.
	headers     bool
	badMetadata error
}

type requestKey struct{}

func requestFrom(ctx context.Context) *request {
	rg, _ := ctx.Value(requestKey{}).(*request)
	return rg
}

// withRequest marks the request as seen by the guard's interceptor,
// adding the record if the stats handler did not.
func withRequest(ctx context.Context, method string) context.Context {
	rg := requestFrom(ctx)
	if rg == nil {
		rg = &request{method: method}
		ctx = context.WithValue(ctx, requestKey{}, rg)
	}
	rg.ran.Store(true)
	return ctx
}

// statsHandler lets the guard see what gRPC refuses before any
// interceptor runs: a request message over MaxRecvMsgSize ends with
// RESOURCE_EXHAUSTED and the interceptors never see it.
type statsHandler struct{ g *Guard }

func (h statsHandler) TagRPC(ctx context.Context, info *stats.RPCTagInfo) context.Context {
	return context.WithValue(ctx, requestKey{}, &request{method: info.FullMethodName})
}

func (h statsHandler) HandleRPC(ctx context.Context, s stats.RPCStats) {
	if in, ok := s.(*stats.InHeader); ok {
		// gRPC has copied the metadata for this event already: the guard
		// checks that copy rather than make another (checkMetadata).
		if rg := requestFrom(ctx); rg != nil {
			rg.headers, rg.badMetadata = true, validMetadata(in.Header)
		}
		return
	}
	end, ok := s.(*stats.End)
	if !ok || end.Error == nil || status.Code(end.Error) != codes.ResourceExhausted {
		return
	}
	if rg := requestFrom(ctx); rg != nil && !rg.ran.Load() {
		h.g.record(Record{Kind: Oversized, Method: rg.method, Client: h.g.site.ClientAddr(ctx),
			Code: codes.ResourceExhausted.String(), Reason: fmt.Sprintf("request message over %d bytes", h.g.lim.MaxRecvMsgSize)})
	}
}

func (statsHandler) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context { return ctx }

func (statsHandler) HandleConn(context.Context, stats.ConnStats) {}

// Bearer returns the token from a request's authorization metadata.
func Bearer(ctx context.Context) (string, error) {
	vals := metadata.ValueFromIncomingContext(ctx, "authorization")
	if len(vals) == 0 || vals[0] == "" {
		return "", status.Error(codes.Unauthenticated, "missing bearer token: send the header 'Authorization: Bearer <token>'")
	}
	scheme, tok, ok := strings.Cut(vals[0], " ")
	tok = strings.TrimSpace(tok)
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" || !printableASCII(tok) {
		return "", status.Error(codes.Unauthenticated, "malformed authorization header: want 'Bearer <token>'")
	}
	return tok, nil
}

// printableASCII reports whether s is printable ASCII, as every token is
// and as gRPC metadata must be to be sent on (forwarded) at all.
func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
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
	if v := metadata.ValueFromIncomingContext(ctx, "authorization"); len(v) == 0 || v[0] == "" {
		return "no token"
	}
	if _, err := Bearer(ctx); err != nil {
		return "malformed authorization header"
	}
	return "token not accepted: unknown, revoked or expired"
}

func throttledMessage(addr string, wait time.Duration) string {
	return fmt.Sprintf("too many failed authentications from %s; retry after %ds", addr, retrySeconds(wait))
}

func (g *Guard) rateLimitedMessage(wait time.Duration) string {
	return fmt.Sprintf("too many requests with this token: the limit is %g per second in bursts of %d; retry after %ds",
		g.lim.TokenRate, g.lim.TokenBurst, retrySeconds(wait))
}

// retrySeconds rounds a wait up to whole seconds, as Retry-After wants.
func retrySeconds(d time.Duration) int {
	return max(1, int((d+time.Second-1)/time.Second))
}

// setRetryAfter tells a gRPC caller when to retry; the gateway passes it
// on as Grpc-Metadata-Retry-After, which HTTP turns into Retry-After.
func setRetryAfter(ctx context.Context, wait time.Duration) {
	_ = grpc.SetHeader(ctx, metadata.Pairs("retry-after", strconv.Itoa(retrySeconds(wait))))
}

// hashToken keys a token in the guard's tables without the token itself.
func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
