//go:build browser

package node

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"innonet/cluster/faultnet"
	innonetpb "innonet/proto/innonet/v1"
)

// TestBrowserQueued (issue 17): an HQ reviewer on a site cut off from the
// leader comments on a lead in the console, in Chinese and in English;
// each time the notice says it was saved on this site, the lead list
// marks the lead, and /queued lists the writes waiting; once the link is
// back /queued shows them applied. Screenshots of each screen in both
// languages go where TestBrowserWeek puts its own.
//
//	go test -tags browser -run TestBrowserQueued -count=1 -v ./node/
func TestBrowserQueued(t *testing.T) {
	shots := os.Getenv("INNONET_SCREENSHOTS")
	if shots == "" {
		shots = filepath.Join(os.TempDir(), "innonet-screenshots")
	}
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots: %s", shots)
	fn := faultnet.New()
	// The console signs each page in with WhoAmI, which a site cut off
	// for longer than MaxAuthStaleness does not answer: give the person
	// time to work while cut off.
	tc := newTestCluster(t, testVoters, nil, func(c *Config) {
		c.Cluster.Dial = fn.Dialer(c.Site)
		c.MaxAuthStaleness = 5 * time.Minute
	})
	t.Cleanup(fn.Close)
	st, err := tc.leaderNode().Cluster().Status()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range st.Members {
		fn.Name(m.ID, m.RaftAddr, m.APIAddr, tc.node(m.ID).Addr())
	}
	staff := tc.addUser("Emily Carter", innonetpb.Role_NODE_STAFF, "BOS", "")
	hqTok := tc.addUser("Wang Fang", innonetpb.Role_HQ_REVIEWER, "", "")
	leader := tc.leaderNode()
	sc := tc.clients(leader, staff)
	lead, err := sc.leads.SubmitLead(sc.ctx(t), sampleLead("Immunosuppressant licensing, Boston"))
	if err != nil {
		t.Fatal(err)
	}
	cut := tc.follower(false)
	tc.waitFor("the lead at "+cut.Site(), func() bool { _, err := cut.State().Lead(lead.Id); return err == nil })

	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1366, 900), chromedp.Flag("lang", "en-US"))...)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(cancel)
	base := "http://" + cut.Addr()
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/signin")); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	if _, err := chromedp.Call(ctx, network.SetCookie, network.SetCookieParams{Name: "innonet_session", Value: hqTok, URL: base + "/", Path: "/"}); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var alerts []string
	hq := &person{t: t, name: "Wang Fang", ctx: ctx, base: base, shots: shots, mu: &mu, alerts: &alerts}

	others := []string{}
	for _, id := range tc.order {
		if id != cut.Site() {
			others = append(others, id)
		}
	}
	fn.Split([]string{cut.Site()}, others)
	tc.waitFor(cut.Site()+" to know no leader", func() bool { return cut.Cluster().Reach() != nil })

	comment := func(lang, body, notice string) {
		t.Helper()
		hq.open("/leads/" + lead.Id)
		if !strings.Contains(hq.text("#lang-"+lang), map[string]string{"zh": "中文", "en": "English"}[lang]) {
			t.Fatal("no language switch")
		}
		hq.click("#lang-" + lang)
		hq.set("#comment-body", body)
		hq.click("#add-comment")
		hq.sees(notice)
		hq.shot("queued-notice." + lang)
	}
	comment("zh", "请补充该项目的专利情况。", "已保存在本站点")
	comment("en", "Which patents cover the compound?", "Saved on this site; it will be sent when the connection to the leader returns")
	if n := hq.count(".flash.queued"); n != 1 {
		t.Errorf("queued notices on the page: %d, want 1", n)
	}
	hq.open("/leads")
	if n := hq.count(".badge.queued"); n < 1 {
		t.Errorf("the lead list marks %d leads as queued, want 1", n)
	}
	hq.shotBoth("queued-leads")
	hq.open("/queued")
	hq.sees("Waiting to be sent", lead.Id)
	if n := hq.count("#queued tbody tr.q-queued"); n != 2 {
		t.Errorf("/queued lists %d writes waiting, want 2", n)
	}
	hq.shotBoth("queued-pending")

	fn.Heal()
	tc.waitFor("the outbox delivered", func() bool { return cut.outbox.Pending() == 0 })
	hq.open("/queued")
	hq.sees("Applied")
	if n := hq.count("#queued tbody tr.q-applied"); n != 2 {
		t.Errorf("/queued lists %d writes applied, want 2", n)
	}
	hq.shotBoth("queued-applied")
	if len(alerts) > 0 {
		t.Errorf("dialogs opened: %v", alerts)
	}
}
