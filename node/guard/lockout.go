package guard

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// lockout counts failed authentications three ways, so that one person's
// mistyped token does not lock out an office behind one NAT address, and
// guesses spread over many addresses still meet a limit:
//
//   - per token at an address (the address and the token's prefix): one
//     client failing with one token again and again blocks that token
//     from that address, while valid tokens from there keep working (the
//     same person's too, once typed right);
//   - per address: failures with many different tokens, or more failures
//     than a few people's typos, block the address, whatever the token;
//   - per site: failures from all addresses together beyond a rate start
//     a lock-down, in which the site takes only tokens it holds valid.
//
// A successful request does not clear failures: an attacker holding one
// valid token could otherwise interleave it with guesses. Failures age
// out with the window instead, and blocks in a row are forgotten after
// four maximum cool-downs without failures.
//
// The tables are bounded (Limits.MaxClients each) and forget the least
// recently seen address or token first.
type lockout struct {
	lim Limits

	mu     sync.Mutex
	tokens table[*failRecord] // by address and token prefix
	addrs  table[*failRecord] // by address
	site   *rate.Limiter      // failures at the whole site
	until  time.Time          // the site's lock-down ends then
}

// addrFailureFactor is how many times Limits.AuthFailures failures from
// one address block it whatever the tokens: a few people's typos behind
// one NAT address, not more.
const addrFailureFactor = 3

func newLockout(l Limits) *lockout {
	return &lockout{lim: l, tokens: newTable[*failRecord](l.MaxClients), addrs: newTable[*failRecord](l.MaxClients),
		site: rate.NewLimiter(rate.Limit(l.AuthGlobalRate), max(1, int(10*l.AuthGlobalRate)))}
}

// failRecord is the failed authentications of one token at an address,
// or of one address.
type failRecord struct {
	since    time.Time // start of the current window
	failures int       // failures in the current window
	tokens   int       // of an address: different tokens among them
	strikes  int       // blocks in a row; each doubles the cool-down
	last     time.Time // the latest failure
	until    time.Time // blocked until then
}

// count starts a new window or a new row of blocks when due and counts
// one failure.
func (r *failRecord) count(now time.Time, l Limits) {
	if now.Sub(r.last) > 4*l.AuthMaxCooldown {
		r.strikes = 0
	}
	if now.Sub(r.since) > l.AuthWindow {
		r.since, r.failures, r.tokens = now, 0, 0
	}
	r.failures++
	r.last = now
}

// block blocks the record from now and returns the cool-down.
func (r *failRecord) block(now time.Time, l Limits) time.Duration {
	cool := l.AuthCooldown
	for i := 0; i < r.strikes && cool < l.AuthMaxCooldown; i++ {
		cool *= 2
	}
	cool = min(cool, l.AuthMaxCooldown)
	r.strikes++
	r.until = now.Add(cool)
	r.since, r.failures, r.tokens = now, 0, 0
	return cool
}

// scope is what a block applies to.
type scope int

const (
	scopeToken   scope = iota + 1 // one token at one address
	scopeAddress                  // one address, whatever the token
	scopeSite                     // the site: tokens it does not hold valid
)

// block is a block a failure started.
type block struct {
	scope  scope
	cool   time.Duration
	reason string // for the security log
}

// blocked returns how much longer the token with prefix key prefix is
// blocked at addr, or addr itself, and which of the two; 0 if neither.
func (l *lockout) blocked(now time.Time, addr, prefix string) (time.Duration, scope) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if r, ok := l.addrs.lookup(addrKey(addr)); ok && now.Before(r.until) {
		return r.until.Sub(now), scopeAddress
	}
	if r, ok := l.tokens.lookup(addrKey(addr) + "|" + prefix); ok && now.Before(r.until) {
		return r.until.Sub(now), scopeToken
	}
	return 0, 0
}

// lockedDown returns how much longer the site's lock-down lasts, or 0.
func (l *lockout) lockedDown(now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Before(l.until) {
		return l.until.Sub(now)
	}
	return 0
}

// failed records a failed authentication from addr with the token of
// prefix key prefix, and returns the blocks it starts. A hostile failure
// (a forged forward, no typo) counts for the address as if its token
// were new each time.
func (l *lockout) failed(now time.Time, addr, prefix string, hostile bool) []block {
	l.mu.Lock()
	defer l.mu.Unlock()
	key := addrKey(addr)
	a := l.addrs.get(key, func() *failRecord { return &failRecord{} })
	t := l.tokens.get(key+"|"+prefix, func() *failRecord { return &failRecord{} })
	if now.Before(a.until) || now.Before(t.until) {
		return nil // a request in flight when the block began
	}
	var out []block
	if !l.site.AllowN(now, 1) && !now.Before(l.until) {
		l.until = now.Add(l.lim.AuthGlobalCooldown)
		out = append(out, block{scopeSite, l.lim.AuthGlobalCooldown, fmt.Sprintf(
			"over %g failed authentications per second across all addresses: tokens the site does not hold valid are refused for %s",
			l.lim.AuthGlobalRate, l.lim.AuthGlobalCooldown)})
	}
	t.count(now, l.lim)
	a.count(now, l.lim)
	if t.failures == 1 || hostile {
		a.tokens++
	}
	switch {
	case a.tokens >= l.lim.AuthFailures || a.failures >= addrFailureFactor*l.lim.AuthFailures:
		failures, tokens := a.failures, a.tokens
		cool := a.block(now, l.lim)
		out = append(out, block{scopeAddress, cool, fmt.Sprintf(
			"%d failed authentications with %d different tokens within %s: blocked for %s", failures, tokens, l.lim.AuthWindow, cool)})
	case t.failures >= l.lim.AuthFailures:
		cool := t.block(now, l.lim)
		out = append(out, block{scopeToken, cool, fmt.Sprintf(
			"%d failed authentications with one token within %s: the token is blocked at this address for %s",
			l.lim.AuthFailures, l.lim.AuthWindow, cool)})
	}
	return out
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

// tokenPrefixLen is how much of a presented token tells it from others:
// "inn_" and eight hex digits, 32 bits of an innonet token. A typo
// further on is the same token; a guesser who keeps the start and varies
// the rest is counted as one token.
const tokenPrefixLen = 12

// prefixKey is the key of a presented token in the failure tables: a
// hash of its prefix, so that the tables hold nothing of the token
// itself. Every request without a token shares one key.
func prefixKey(token string) string {
	if token == "" {
		return "-"
	}
	sum := sha256.Sum256([]byte(token[:min(len(token), tokenPrefixLen)]))
	return hex.EncodeToString(sum[:8])
}
