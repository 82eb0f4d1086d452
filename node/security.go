package node

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/time/rate"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
)

// The security log records refused and suspicious requests at one site:
// failed authentications, denials, throttled and rate-limited callers,
// oversized or malformed requests, forged forwarding and site
// impersonation. It is the site's own file, <data-dir>/security.log, one
// JSON object per line, not part of the replicated log: what a hostile
// client tried against one site is that site's business, and writing it
// through Raft would let the client fill every site's log.
//
// A line never holds a token, an Authorization header, a token hash or a
// request body. Every event is counted in innonet_security_events_total
// (by kind); the file and the mirror in the site's ordinary log are
// rate-limited per kind and client, so a flood of refused requests
// neither fills the disk nor buries the first lines. Forged forwarding,
// impersonation and throttling are mirrored at WARN, the routine kinds
// (a mistyped token, a missing role) at INFO.

// Kinds of security event.
const (
	secUnauthenticated  = "unauthenticated"   // no, malformed, unknown, revoked or expired token
	secPermissionDenied = "permission_denied" // an authenticated caller lacks the role or scope
	secThrottled        = "throttled"         // a client address blocked after failed authentications
	secRateLimited      = "rate_limited"      // one token called faster than its rate limit
	secForgedForward    = "forged_forward"    // site-to-site forwarding metadata from a non-site
	secImpersonation    = "impersonation"     // a site certificate asked to act as another site
	secOversized        = "oversized"         // a request message or body over the size limit
	secSlowClient       = "slow_client"       // a request body not sent within the time limit
	secMalformed        = "malformed"         // a gRPC request that does not parse
)

// securityKinds lists the kinds, for the metric.
var securityKinds = []string{secUnauthenticated, secPermissionDenied, secThrottled, secRateLimited,
	secForgedForward, secImpersonation, secOversized, secSlowClient, secMalformed}

const (
	securityLogName = "security.log"
	// securityLogMaxBytes caps the file; when a line would pass it, the
	// file becomes security.log.1 (replacing the previous one) and a new
	// one starts, so the log takes at most twice this on disk.
	securityLogMaxBytes = 16 << 20
	// Per kind and client, the first securityBurst events are written at
	// once and then one per securityEvery; the next line written says how
	// many were left out.
	securityBurst = 10
	securityEvery = 10 * time.Second
	// securityMaxKeys bounds the table of kinds and clients.
	securityMaxKeys = 4096
)

// securityRecord is one line of the security log.
type securityRecord struct {
	Time   time.Time `json:"time"`
	Site   string    `json:"site"`
	Kind   string    `json:"kind"`
	Method string    `json:"method,omitempty"`
	Client string    `json:"client,omitempty"`
	User   string    `json:"user,omitempty"`
	Code   string    `json:"code,omitempty"`
	Reason string    `json:"reason,omitempty"`
	// Suppressed counts the events of this kind from this client that
	// were counted but not written since the previous line.
	Suppressed int `json:"suppressed,omitempty"`
	// tokenHash finds the user when the line is written; it is never
	// written itself.
	tokenHash string
}

// securityEvent records a refused or suspicious request in the site's
// security log: never the token or any other secret. Handlers call it for
// what only they can see (forged forwarding, impersonation); the guard
// records the rest from the status codes handlers return, and does not
// record a second event for a request a handler already reported.
func (n *Node) securityEvent(ctx context.Context, kind, detail string) {
	method, _ := grpc.Method(ctx)
	rec := securityRecord{Kind: kind, Method: method, Client: n.clientAddr(ctx), Reason: detail}
	if kind == secForgedForward {
		// The client address of a forged forward is the forger's claim.
		rec.Client = connAddr(ctx)
	}
	if kind == secForgedForward || kind == secImpersonation {
		rec.Code = codes.PermissionDenied.String()
	}
	if rg := requestGuardFrom(ctx); rg != nil {
		rg.logged.Store(true)
	}
	n.recordSecurity(rec)
}

// recordSecurity counts the event and, unless too many like it came from
// the same client lately, writes it to the security log and mirrors it to
// the site's log.
func (n *Node) recordSecurity(rec securityRecord) {
	if n.metrics != nil && n.metrics.security != nil {
		n.metrics.security.WithLabelValues(rec.Kind).Inc()
	}
	l := n.securityLog()
	suppressed, ok := l.admit(rec.Kind+"|"+rec.Client, time.Now())
	if !ok {
		return
	}
	rec.Time = time.Now().UTC()
	rec.Site = n.cfg.Site
	rec.Suppressed = suppressed
	rec.Reason, rec.Method = redact(rec.Reason), redact(rec.Method)
	if rec.User == "" && rec.tokenHash != "" {
		if u, err := n.state.UserByTokenHash(rec.tokenHash); err == nil {
			rec.User = u.ID
		}
	}
	err := l.write(rec)
	if dropped, ok := l.mirrorAllowed(); ok {
		attrs := []any{"kind", rec.Kind, "method", rec.Method, "client", rec.Client, "user", rec.User,
			"code", rec.Code, "reason", rec.Reason}
		if rec.Suppressed > 0 {
			attrs = append(attrs, "suppressed", rec.Suppressed)
		}
		if dropped > 0 {
			attrs = append(attrs, "not_mirrored_since_last", dropped)
		}
		if err != nil {
			attrs = append(attrs, "write_err", err)
		}
		level := slog.LevelInfo
		if alarming[rec.Kind] {
			level = slog.LevelWarn
		}
		n.log.Log(context.Background(), level, "security event", attrs...)
	}
}

// alarming are the kinds mirrored at WARN: signs of an attack rather than
// of a mistyped token or a missing role, which are routine and go at INFO.
var alarming = map[string]bool{secForgedForward: true, secImpersonation: true, secThrottled: true}

// securityLog is one site's security log file and its flood control.
type securityLog struct {
	path     string // "" keeps no file (a site without a data directory)
	maxBytes int64

	mu      sync.Mutex
	keys    table[*securityKey]
	mirror  *rate.Limiter
	dropped int
}

// securityKey is the flood control of one kind of event from one client.
type securityKey struct {
	lim        *rate.Limiter
	suppressed int
}

// securityLogs holds the security log of each data directory in the
// process (several sites share a process in tests and the demo); a site
// restarted from the same directory takes its log up again.
var securityLogs sync.Map

func (n *Node) securityLog() *securityLog {
	path := ""
	if n.cfg.DataDir != "" {
		path = filepath.Join(n.cfg.DataDir, securityLogName)
	}
	if l, ok := securityLogs.Load(path); ok {
		return l.(*securityLog)
	}
	l, _ := securityLogs.LoadOrStore(path, newSecurityLog(path, securityLogMaxBytes))
	return l.(*securityLog)
}

func newSecurityLog(path string, maxBytes int64) *securityLog {
	return &securityLog{path: path, maxBytes: maxBytes, keys: newTable[*securityKey](securityMaxKeys),
		mirror: rate.NewLimiter(rate.Every(time.Second), 10)}
}

// admit reports whether an event under key is written, and how many were
// left out before it.
func (l *securityLog) admit(key string, now time.Time) (suppressed int, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := l.keys.get(key, func() *securityKey {
		return &securityKey{lim: rate.NewLimiter(rate.Every(securityEvery), securityBurst)}
	})
	if !k.lim.AllowN(now, 1) {
		k.suppressed++
		return 0, false
	}
	suppressed, k.suppressed = k.suppressed, 0
	return suppressed, true
}

// mirrorAllowed reports whether a written event is also mirrored to the
// site's log, and how many were not mirrored before it.
func (l *securityLog) mirrorAllowed() (dropped int, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.mirror.Allow() {
		l.dropped++
		return 0, false
	}
	dropped, l.dropped = l.dropped, 0
	return dropped, true
}

// write appends rec as one line, rotating the file first when the line
// would take it past the cap. The file is opened for each line: events
// are few (flood control comes first) and no descriptor outlives the
// site.
func (l *securityLog) write(rec securityRecord) error {
	if l.path == "" {
		return nil
	}
	line, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("encode security event: %w", err)
	}
	line = append(line, '\n')
	l.mu.Lock()
	defer l.mu.Unlock()
	if fi, err := os.Stat(l.path); err == nil && fi.Size()+int64(len(line)) > l.maxBytes {
		if err := os.Rename(l.path, l.path+".1"); err != nil {
			return fmt.Errorf("rotate security log: %w", err)
		}
	}
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("open security log: %w", err)
	}
	if _, err := f.Write(line); err != nil {
		f.Close()
		return fmt.Errorf("write security log: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close security log: %w", err)
	}
	return nil
}

// credentialPattern matches what looks like a credential in text that
// reaches the log: an innonet token, or a bearer credential.
var credentialPattern = regexp.MustCompile(`inn_[A-Za-z0-9_-]+|(?i:bearer)\s+\S+`)

// maxReason bounds the reason written, in bytes.
const maxReason = 300

// redact keeps a reason short, valid UTF-8 and free of anything that
// looks like a token. Reasons are written by innonet, not copied from
// requests, but may quote caller input (a site code, a user ID).
func redact(s string) string {
	s = credentialPattern.ReplaceAllString(s, "[redacted]")
	if len(s) > maxReason {
		n := maxReason
		for n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		s = s[:n] + "..."
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}
