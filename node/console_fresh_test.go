package node

import (
	"fmt"
	"html"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	innonetpb "innonet/proto/innonet/v1"
)

// freshBanner is the freshness line of a console page, and whether it is
// marked as lagging.
var freshBanner = regexp.MustCompile(`<div class="fresh( lagging)?" id="fresh">([^<]*)</div>`)

func bannerOf(page string) (text string, lagging bool) {
	m := freshBanner.FindStringSubmatch(page)
	if m == nil {
		return "", false
	}
	return html.UnescapeString(m[2]), m[1] != ""
}

// TestConsoleFreshness: a page served by a follower says how far behind
// the leader its copy is, in words, on a real three-site cluster whose
// third site (Munich, a read replica) reaches the others' Raft traffic
// through a proxy. Current while it keeps up; "Munich's copy, N s behind
// Zhengzhou HQ" while it is cut off, when the page lacks what HQ did
// meanwhile; answered by the leader once the cut outlasts the site's
// max auth staleness; current again once it has caught up; and behind
// while a slow link delivers changes late although contact continues.
func TestConsoleFreshness(t *testing.T) {
	// LAN timings for the voters, so that a busy machine does not move
	// the leader. Munich keeps its leader for 8 s without a heartbeat
	// (its heartbeat timeout, after which it is out of touch): the slow
	// link below, of 6 s round trips, is slow but not lost. Past 7 s
	// without contact it lets the leader judge its users' sessions.
	const (
		mucHeartbeat = 8 * time.Second
		maxAuthStale = 7 * time.Second
		delay        = 3 * time.Second
	)
	lan := func(c *Config) {
		c.Cluster.HeartbeatTimeout, c.Cluster.ElectionTimeout, c.Cluster.LeaderLeaseTimeout = time.Second, time.Second, 500*time.Millisecond
	}
	tc := newTestCluster(t, []string{"CGO", "BOS"}, nil, lan)
	raftAddr := freePort(t)
	proxy := newTCPProxy(t, raftAddr)
	tc.start("MUC", testConfig(t, "MUC", lan, func(c *Config) {
		c.Cluster.RaftAddr, c.Cluster.AdvertiseAddr = raftAddr, proxy.addr()
		c.Cluster.HeartbeatTimeout, c.Cluster.ElectionTimeout = mucHeartbeat, mucHeartbeat
		c.Join, c.NonVoter = tc.leaderNode().Addr(), true
		c.MaxAuthStaleness = maxAuthStale
	}))
	muc := tc.node("MUC")
	names := map[string]string{"CGO": "Zhengzhou HQ", "BOS": "Boston"}

	hq := tc.addUser("Li Wei", innonetpb.Role_HQ_REVIEWER, "", "")
	staff := tc.clients(tc.leaderNode(), tc.addUser("Lukas Bauer", innonetpb.Role_NODE_STAFF, "MUC", ""))
	submit := func(title string) string {
		t.Helper()
		l, err := staff.leads.SubmitLead(staff.ctx(t), sampleLead(title))
		if err != nil {
			t.Fatal(err)
		}
		return l.Id
	}
	before := submit("Before the cut")
	b := newBrowser(t, muc, hq)
	// page opens / until cond holds of it.
	page := func(t *testing.T, what string, cond func(page, banner string, lagging bool) error) string {
		t.Helper()
		var last string
		eventually(t, 15*time.Second, what, func() error {
			code, p := b.get("/")
			if code != http.StatusOK {
				return &pageError{code, p}
			}
			last = p
			banner, lagging := bannerOf(p)
			return cond(p, banner, lagging)
		})
		return last
	}
	current := func(leads ...string) func(string, string, bool) error {
		return func(p, banner string, lagging bool) error {
			for _, id := range leads {
				if !strings.Contains(p, id) {
					return fmt.Errorf("the page does not list %s yet", id)
				}
			}
			if banner != "Munich's copy · current" || lagging {
				return fmt.Errorf("banner %q (lagging %v), want Munich's copy · current", banner, lagging)
			}
			return nil
		}
	}
	tc.waitFor("MUC knows Li Wei", func() bool {
		_, err := muc.State().UserByTokenHash(HashToken(hq))
		return err == nil
	})
	page(t, "MUC's copy current", current(before))

	behind := regexp.MustCompile(`^Munich's copy, (\d+) s behind (\S+(?: HQ)?)[,:]`)
	// seconds reads an English banner that says by how much MUC is
	// behind the leader.
	seconds := func(banner string) (int, error) {
		m := behind.FindStringSubmatch(banner)
		if m == nil {
			return 0, fmt.Errorf("banner %q does not say how far behind the leader Munich's copy is", banner)
		}
		if leader := tc.leaderNode().Site(); m[2] != names[leader] {
			return 0, fmt.Errorf("banner %q names %s as the leader, want %s", banner, m[2], names[leader])
		}
		return strconv.Atoi(m[1])
	}

	proxy.setCut(true)
	during := submit("During the cut")
	tc.waitFor("MUC cut off for over 3.5 s", func() bool { return muc.Cluster().LastContact() > 3500*time.Millisecond })
	t.Run("cut off: the page says how far behind, in both languages", func(t *testing.T) {
		code, p := b.get("/")
		contact := muc.Cluster().LastContact()
		if contact >= maxAuthStale {
			t.Skipf("the machine is too slow: MUC was cut off for %s before its page was drawn", contact)
		}
		if code != http.StatusOK || !strings.Contains(p, before) || strings.Contains(p, during) {
			t.Fatalf("MUC's page while cut off: %d, want the lead %s and not %s:\n%s", code, before, during, p)
		}
		banner, lagging := bannerOf(p)
		if n, err := seconds(banner); err != nil {
			t.Error(err)
		} else if n < 3 || n > int(contact/time.Second) || !lagging {
			t.Errorf("banner %q (lagging %v) after %s without contact: want 3 to %d s behind, marked", banner, lagging, contact, int(contact/time.Second))
		}
		if code, _ := b.setLang("zh", "/"); code != http.StatusSeeOther {
			t.Fatalf("switch to Chinese: %d", code)
		}
		_, p = b.get("/")
		if zh, _ := bannerOf(p); !regexp.MustCompile(`^慕尼黑的副本，比(郑州总部|波士顿)落后 \d+ 秒`).MatchString(zh) {
			t.Errorf("Chinese banner %q", zh)
		}
		b.setLang("en", "/")
		code, _, hdr := rawGet(t, muc, "/v1/leads?consistency=STALE", hq)
		ms, err := strconv.ParseInt(hdr.Get("X-Innonet-Behind-Ms"), 10, 64)
		if code != http.StatusOK || err != nil || ms < 3500 {
			t.Errorf("REST read on MUC: %d, X-Innonet-Behind-Ms %q; want 200 and at least 3500", code, hdr.Get("X-Innonet-Behind-Ms"))
		}
	})

	t.Run("cut off past the max auth staleness: the leader answers", func(t *testing.T) {
		tc.waitFor("MUC cut off past its max auth staleness", func() bool { return muc.Cluster().LastContact() > maxAuthStale })
		leader := tc.leaderNode().Site()
		page(t, "the leader answers MUC's page", func(p, banner string, lagging bool) error {
			if want := names[leader] + "'s copy · current"; banner != want || lagging || !strings.Contains(p, during) {
				return fmt.Errorf("banner %q (lagging %v), want %q and the lead %s", banner, lagging, want, during)
			}
			return nil
		})
	})

	tc.waitFor("MUC out of touch", func() bool { return muc.Cluster().LastContact() > mucHeartbeat+500*time.Millisecond })
	proxy.setCut(false)
	t.Run("caught up: current again", func(t *testing.T) {
		// What HQ did during the cut reached MUC late because of the cut,
		// which the banner reported while it lasted; it is not a slow link.
		page(t, "MUC caught up", current(before, during))
	})

	t.Run("a slow link: behind while contact continues", func(t *testing.T) {
		proxy.setDelay(delay)
		t.Cleanup(func() { proxy.setDelay(0) })
		// The link pauses for the delay once, then carries the leader's
		// messages again, each late.
		tc.waitFor("the link to pause", func() bool { return muc.Cluster().LastContact() > delay/2 })
		tc.waitFor("MUC to hear from the leader again", func() bool { return muc.Cluster().LastContact() < delay/2 })
		slow := submit("Over a slow link")
		eventually(t, 20*time.Second, "MUC's page behind over the slow link", func() error {
			// The banner must come from how late the lead arrived, not
			// from a pause in contact: MUC heard from the leader under
			// 3 s before the page was drawn.
			start, contact := time.Now(), muc.Cluster().LastContact()
			code, p := b.get("/")
			if contact += time.Since(start); contact >= 3*time.Second {
				return fmt.Errorf("MUC had not heard from the leader for %s", contact)
			}
			if code != http.StatusOK || !strings.Contains(p, slow) {
				return fmt.Errorf("the page (%d) does not list %s yet", code, slow)
			}
			banner, lagging := bannerOf(p)
			if n, err := seconds(banner); err != nil {
				return err
			} else if n < 3 || !lagging {
				return fmt.Errorf("banner %q (lagging %v), want at least 3 s behind, marked", banner, lagging)
			}
			return nil
		})
	})
}
