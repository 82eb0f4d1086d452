package guard

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
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

// Kind is a kind of security event.
type Kind string

// Kinds of security event.
const (
	Unauthenticated  Kind = "unauthenticated"   // no, malformed, unknown, revoked or expired token
	PermissionDenied Kind = "permission_denied" // an authenticated caller lacks the role or scope
	Throttled        Kind = "throttled"         // a token or address blocked after failed authentications
	RateLimited      Kind = "rate_limited"      // one token called faster than its rate limit
	ForgedForward    Kind = "forged_forward"    // site-to-site forwarding metadata from a non-site
	Impersonation    Kind = "impersonation"     // a site certificate asked to act as another site
	Oversized        Kind = "oversized"         // a request message or body over the size limit
	SlowClient       Kind = "slow_client"       // a request body not sent within the time limit
	Malformed        Kind = "malformed"         // a request that does not parse or is not valid UTF-8
)

// kinds lists the kinds, for the metric.
var kinds = []Kind{Unauthenticated, PermissionDenied, Throttled, RateLimited,
	ForgedForward, Impersonation, Oversized, SlowClient, Malformed}

// LogName is the security log's file name in the site's data directory.
const LogName = "security.log"

const (
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

// Record is one line of the security log.
type Record struct {
	Time   time.Time `json:"time"`
	Site   string    `json:"site"`
	Kind   Kind      `json:"kind"`
	Method string    `json:"method,omitempty"`
	Client string    `json:"client,omitempty"`
	User   string    `json:"user,omitempty"`
	Code   string    `json:"code,omitempty"`
	Reason string    `json:"reason,omitempty"`
	// Suppressed counts the events of this kind from this client that
	// were counted but not written since the previous line.
	Suppressed int `json:"suppressed,omitempty"`
	// token finds the user when the line is written; it is never written
	// itself.
	token string
}

// Event records in the security log what only the site's handlers can
// see (forged forwarding, impersonation): never the token or any other
// secret. The guard records the rest from the status codes handlers
// return, and does not record a second event for a request a handler
// already reported.
func (g *Guard) Event(ctx context.Context, kind Kind, detail string) {
	method, _ := grpc.Method(ctx)
	rec := Record{Kind: kind, Method: method, Client: g.site.ClientAddr(ctx), Reason: detail}
	if kind == ForgedForward {
		// The client address of a forged forward is the forger's claim.
		rec.Client = connAddr(ctx)
	}
	if kind == ForgedForward || kind == Impersonation {
		rec.Code = codes.PermissionDenied.String()
	}
	if rg := requestFrom(ctx); rg != nil {
		rg.logged.Store(true)
	}
	g.record(rec)
}

// record counts the event and, unless too many like it came from the
// same client lately, writes it to the security log and mirrors it to
// the site's log.
func (g *Guard) record(rec Record) {
	if g.events != nil {
		g.events.WithLabelValues(string(rec.Kind)).Inc()
	}
	l := g.seclog
	suppressed, ok := l.admit(string(rec.Kind)+"|"+rec.Client, time.Now())
	if !ok {
		return
	}
	rec.Time = time.Now().UTC()
	rec.Site = g.cfg.Site
	rec.Suppressed = suppressed
	rec.Reason, rec.Method = redact(rec.Reason), redact(rec.Method)
	if rec.User == "" && rec.token != "" {
		rec.User, _ = g.site.TokenUser(rec.token)
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
		g.log.Log(context.Background(), level, "security event", attrs...)
	}
}

// alarming are the kinds mirrored at WARN: signs of an attack rather than
// of a mistyped token or a missing role, which are routine and go at INFO.
var alarming = map[Kind]bool{ForgedForward: true, Impersonation: true, Throttled: true}

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
func (l *securityLog) write(rec Record) error {
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
