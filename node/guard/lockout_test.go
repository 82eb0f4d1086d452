package guard

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// testLimits are limits with the site's ceiling out of the way, for the
// tests of the other two.
func testLimits() Limits {
	l := DefaultLimits()
	l.AuthGlobalRate = 1e9
	return l
}

// TestLockoutTable drives the failure tables on a clock of their own:
// the window, the doubling cool-down and its cap, for one token failing
// again and again at an address and for an address failing with a new
// token each time.
func TestLockoutTable(t *testing.T) {
	lim := testLimits()
	lim.AuthFailures, lim.AuthWindow, lim.AuthCooldown, lim.AuthMaxCooldown = 3, time.Minute, time.Minute, 5*time.Minute
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
	const addr = "203.0.113.7"
	for _, tt := range []struct {
		name   string
		prefix func(i int) string // the prefix key of the i-th failure
		want   scope
	}{
		{"one token", func(int) string { return prefixKey("inn_mistyped") }, scopeToken},
		{"a new token each time", func(i int) string { return prefixKey(fmt.Sprintf("inn_%08d", i)) }, scopeAddress},
	} {
		t.Run(tt.name, func(t *testing.T) {
			l := newLockout(lim)
			now := time.Unix(1_700_000_000, 0)
			n := 0
			for _, s := range steps {
				now = now.Add(s.advance)
				var cool time.Duration
				for i := 0; i < s.failures; i++ {
					for _, b := range l.failed(now, addr, tt.prefix(n), false) {
						if b.scope != tt.want {
							t.Errorf("%s: got a block of scope %d, want %d", s.name, b.scope, tt.want)
						}
						cool = b.cool
					}
					n++
				}
				if cool != s.wantCool {
					t.Errorf("%s: got cool-down %s, want %s", s.name, cool, s.wantCool)
				}
				wait, sc := l.blocked(now, addr, tt.prefix(n-1))
				if got := wait > 0 && sc == tt.want; got != s.wantBlock {
					t.Errorf("%s: got blocked %v (scope %d), want %v", s.name, wait > 0, sc, s.wantBlock)
				}
			}
			if wait, _ := l.blocked(now, "203.0.113.8", tt.prefix(n-1)); wait > 0 {
				t.Error("another address is blocked")
			}
		})
	}
}

// TestLockoutNAT: behind one address, one person's failing token is
// blocked alone; it takes three people's worth of failures, or as many
// different tokens as a token may fail, to block the address.
func TestLockoutNAT(t *testing.T) {
	lim := testLimits()
	l := newLockout(lim)
	now := time.Unix(1_700_000_000, 0)
	const office = "198.51.100.20"
	typo, b, c := prefixKey("inn_aaaaaaaa"), prefixKey("inn_bbbbbbbb"), prefixKey("inn_cccccccc")
	fail := func(prefix string, times int) (blocks []block) {
		for i := 0; i < times; i++ {
			blocks = append(blocks, l.failed(now, office, prefix, false)...)
		}
		return blocks
	}
	if blocks := fail(typo, lim.AuthFailures); len(blocks) != 1 || blocks[0].scope != scopeToken {
		t.Fatalf("got blocks %+v after %d failures with one token, want one block of the token", blocks, lim.AuthFailures)
	}
	if _, s := l.blocked(now, office, typo); s != scopeToken {
		t.Errorf("got scope %d for the failing token, want the token blocked", s)
	}
	if wait, _ := l.blocked(now, office, prefixKey("inn_colleague")); wait > 0 {
		t.Error("a colleague's token at the address is blocked")
	}
	if blocks := fail(b, lim.AuthFailures); len(blocks) != 1 || blocks[0].scope != scopeToken {
		t.Fatalf("got blocks %+v for a second person, want that token blocked alone", blocks)
	}
	blocks := fail(c, lim.AuthFailures)
	if len(blocks) != 1 || blocks[0].scope != scopeAddress || !strings.Contains(blocks[0].reason, "30 failed authentications") {
		t.Fatalf("got blocks %+v for a third person, want the address blocked after 30 failures", blocks)
	}
	if _, s := l.blocked(now, office, prefixKey("inn_colleague")); s != scopeAddress {
		t.Errorf("got scope %d for a colleague, want the address blocked", s)
	}

	t.Run("forged forwards count as new tokens", func(t *testing.T) {
		l := newLockout(lim)
		var blocks []block
		for i := 0; i < lim.AuthFailures; i++ {
			blocks = append(blocks, l.failed(now, office, typo, true)...)
		}
		if len(blocks) != 1 || blocks[0].scope != scopeAddress {
			t.Errorf("got blocks %+v, want the address blocked", blocks)
		}
	})
}

// TestLockoutSiteCeiling: failures from many addresses, each far under
// its own limit, start the site's lock-down once they pass its rate, and
// it ends after its cool-down.
func TestLockoutSiteCeiling(t *testing.T) {
	lim := DefaultLimits()
	lim.AuthGlobalRate, lim.AuthGlobalCooldown = 1, 30*time.Second // bursts of 10
	l := newLockout(lim)
	now := time.Unix(1_700_000_000, 0)
	var site []block
	for i := 0; i < 11; i++ {
		for _, b := range l.failed(now, fmt.Sprintf("192.0.2.%d", i), prefixKey("inn_guess"), false) {
			if b.scope == scopeSite {
				site = append(site, b)
			} else {
				t.Errorf("failure %d: got a block of scope %d, want none of one address", i, b.scope)
			}
		}
		if got := l.lockedDown(now) > 0; got != (i == 10) {
			t.Errorf("after %d failures: got locked down %v, want %v", i+1, got, i == 10)
		}
	}
	if len(site) != 1 || site[0].cool != 30*time.Second {
		t.Errorf("got site blocks %+v, want one of 30s", site)
	}
	if d := l.lockedDown(now.Add(29 * time.Second)); d != time.Second {
		t.Errorf("got %s left of the lock-down after 29s, want 1s", d)
	}
	if d := l.lockedDown(now.Add(30 * time.Second)); d != 0 {
		t.Errorf("got %s left after 30s, want the lock-down over", d)
	}
}

func TestLockoutTablesBounded(t *testing.T) {
	lim := testLimits()
	lim.AuthFailures, lim.MaxClients = 1, 3
	g, err := New(Config{Logger: quiet, Limits: lim}, testSite{})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for _, a := range []string{"192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4"} {
		g.lock.failed(now, a, prefixKey("inn_x"), false)
	}
	if n, m := g.lock.addrs.lru.Len(), g.lock.tokens.lru.Len(); n != 3 || m != 3 {
		t.Errorf("got %d addresses and %d tokens at addresses in the tables, want 3 each", n, m)
	}
	if w, _ := g.lock.blocked(now, "192.0.2.1", prefixKey("inn_x")); w > 0 {
		t.Error("want the least recently seen address forgotten")
	}
	if w, _ := g.lock.blocked(now, "192.0.2.4", prefixKey("inn_x")); w == 0 {
		t.Error("want the latest address kept")
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

func TestPrefixKey(t *testing.T) {
	tok := "inn_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	if prefixKey(tok) != prefixKey(tok[:len(tok)-1]+"0") {
		t.Error("a typo at the end makes another token")
	}
	if prefixKey(tok) == prefixKey("inn_1"+tok[5:]) {
		t.Error("tokens that differ at the start share a key")
	}
	if a, b := prefixKey(""), prefixKey(""); a != b || a == prefixKey("inn_") {
		t.Error("want one key for every request without a token, and only for those")
	}
	if k := prefixKey(tok); strings.Contains(tok, k) || strings.Contains(k, tok[:tokenPrefixLen]) {
		t.Errorf("got key %q, which holds token material", k)
	}
}
