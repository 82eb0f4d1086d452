package guard

import (
	"net/netip"
	"sync"
	"time"
)

// lockout counts failed authentications per client address: an address
// with too many within a window is blocked for a cool-down that doubles
// each time it is blocked again.
//
// A successful request does not clear an address's failures: an attacker
// holding one valid token could otherwise interleave it with guesses.
// Failures age out with the window instead, and a block in a row is
// forgotten after four maximum cool-downs without failures.
//
// The table is bounded (Limits.MaxClients) and forgets the least
// recently seen address first.
type lockout struct {
	lim Limits

	mu    sync.Mutex
	addrs table[*failRecord]
}

func newLockout(l Limits) *lockout {
	return &lockout{lim: l, addrs: newTable[*failRecord](l.MaxClients)}
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
func (l *lockout) blocked(now time.Time, addr string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	r, ok := l.addrs.lookup(addrKey(addr))
	if !ok || !now.Before(r.until) {
		return 0
	}
	return r.until.Sub(now)
}

// failed records a failed authentication from addr and returns the
// cool-down when this failure blocks addr, or 0.
func (l *lockout) failed(now time.Time, addr string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.addrs.get(addrKey(addr), func() *failRecord { return &failRecord{} })
	if now.Before(r.until) {
		return 0 // a request in flight when the block began
	}
	if now.Sub(r.last) > 4*l.lim.AuthMaxCooldown {
		r.strikes = 0
	}
	if now.Sub(r.since) > l.lim.AuthWindow {
		r.since, r.failures = now, 0
	}
	r.failures++
	r.last = now
	if r.failures < l.lim.AuthFailures {
		return 0
	}
	cool := l.lim.AuthCooldown
	for i := 0; i < r.strikes && cool < l.lim.AuthMaxCooldown; i++ {
		cool *= 2
	}
	cool = min(cool, l.lim.AuthMaxCooldown)
	r.strikes++
	r.until = now.Add(cool)
	r.since, r.failures = now, 0
	return cool
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
