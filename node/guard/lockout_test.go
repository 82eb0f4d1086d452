package guard

import (
	"fmt"
	"testing"
	"time"
)

// TestLockoutTable drives the failure table on a clock of its own: the
// window, the doubling cool-down and its cap.
func TestLockoutTable(t *testing.T) {
	lim := DefaultLimits()
	lim.AuthFailures, lim.AuthWindow, lim.AuthCooldown, lim.AuthMaxCooldown = 3, time.Minute, time.Minute, 5*time.Minute
	now := time.Unix(1_700_000_000, 0)
	l := newLockout(lim)
	fail := func(addr string, times int) time.Duration {
		var cool time.Duration
		for i := 0; i < times; i++ {
			cool = l.failed(now, addr)
		}
		return cool
	}
	steps := []struct {
		name      string
		advance   time.Duration
		failures  int
		wantCool  time.Duration
		wantBlock bool
	}{
		{"two failures block nothing", 0, 2, 0, false},
		{"a third after the window starts a new one", 61 * time.Second, 1, 0, false},
		{"three within the window block for the cool-down", 0, 2, time.Minute, true},
		{"still blocked", 30 * time.Second, 0, 0, true},
		{"free after the cool-down", 31 * time.Second, 0, 0, false},
		{"blocked again: twice as long", 0, 3, 2 * time.Minute, true},
		{"and again: four times", 2*time.Minute + time.Second, 3, 4 * time.Minute, true},
		{"capped", 4*time.Minute + time.Second, 3, 5 * time.Minute, true},
		{"forgotten after a long quiet spell", time.Hour, 3, time.Minute, true},
	}
	for _, s := range steps {
		now = now.Add(s.advance)
		if got := fail("203.0.113.7", s.failures); got != s.wantCool {
			t.Errorf("%s: got cool-down %s, want %s", s.name, got, s.wantCool)
		}
		if got := l.blocked(now, "203.0.113.7") > 0; got != s.wantBlock {
			t.Errorf("%s: got blocked %v, want %v", s.name, got, s.wantBlock)
		}
	}
	if l.blocked(now, "203.0.113.8") > 0 {
		t.Error("another address is blocked")
	}
}

func TestLockoutTablesBounded(t *testing.T) {
	lim := DefaultLimits()
	lim.AuthFailures, lim.MaxClients = 1, 3
	g, err := New(Config{Logger: quiet, Limits: lim}, testSite{})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for _, a := range []string{"192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4"} {
		g.lock.failed(now, a)
	}
	if n := g.lock.addrs.lru.Len(); n != 3 {
		t.Errorf("got %d addresses in the table, want 3", n)
	}
	if g.lock.blocked(now, "192.0.2.1") > 0 || g.lock.blocked(now, "192.0.2.4") == 0 {
		t.Error("want the least recently seen address forgotten, the latest kept")
	}
	for i := 0; i < 10; i++ {
		g.tokenWait(hashToken(fmt.Sprint("inn_", i)))
	}
	if g.tokens.lru.Len() != 3 {
		t.Errorf("got %d tokens in the rate table, want 3", g.tokens.lru.Len())
	}
}

func TestAddrKey(t *testing.T) {
	tests := []struct{ a, b string }{
		{"2001:db8:1:2::1", "2001:db8:1:2:ffff::9"}, // one /64
		{"::ffff:198.51.100.4", "198.51.100.4"},     // IPv4-mapped
		{"fe80::1%eth0", "fe80::2"},                 // zones dropped
	}
	for _, tt := range tests {
		if addrKey(tt.a) != addrKey(tt.b) {
			t.Errorf("got keys %q and %q, want one for %s and %s", addrKey(tt.a), addrKey(tt.b), tt.a, tt.b)
		}
	}
	for _, pair := range [][2]string{{"2001:db8:1:2::1", "2001:db8:1:3::1"}, {"198.51.100.4", "198.51.100.5"}} {
		if addrKey(pair[0]) == addrKey(pair[1]) {
			t.Errorf("got one key for %s and %s, want two", pair[0], pair[1])
		}
	}
}
