//go:build browser

package node

// The console's week in a real browser (Chromium through chromedp),
// against a real three-site cluster on 127.0.0.1 over TLS, through the UI
// only, with each step checked on the page and through the API. Run with
//
//	go test -tags browser -run TestBrowser -count=1 -v ./node/
//
// Chromium: INNONET_CHROMIUM, else /usr/lib/chromium/chromium or one on
// PATH. Screenshots of the main screens in both languages go to
// INNONET_SCREENSHOTS (default: a directory under the system's temp dir,
// named in the log).

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	innonetpb "innonet/proto/innonet/v1"
)

func chromiumPath(t *testing.T) string {
	if p := os.Getenv("INNONET_CHROMIUM"); p != "" {
		return p
	}
	for _, p := range []string{"/usr/lib/chromium/chromium", "/usr/bin/chromium"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("no Chromium: install it (apt-get install chromium) or set INNONET_CHROMIUM")
	return ""
}

// person is one user at the wheel of a browser of their own (own cookies),
// on one site.
type person struct {
	t      *testing.T
	name   string
	pw     string
	ctx    context.Context
	base   string
	shots  string
	mu     *sync.Mutex
	alerts *[]string
}

const stepTimeout = 30 * time.Second

func (p *person) run(what string, steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		p.t.Fatalf("%s: %s: %v\n%s", p.name, what, err, p.pageText())
	}
}

// pageText is the visible text of the page, for failure messages.
func (p *person) pageText() string {
	ctx, cancel := context.WithTimeout(p.ctx, 5*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.location.href + "\n" + document.body.innerText`))
	if err != nil {
		return "(no page: " + err.Error() + ")"
	}
	if len(s) > 4000 {
		s = s[:4000]
	}
	return s
}

func (p *person) open(path string) {
	p.t.Helper()
	p.run("open "+path, chromedp.Navigate(p.base+path))
}

// click clicks sel and waits for the page the click loads.
func (p *person) click(sel string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Click(chromedp.CSS(sel)))); err != nil {
		p.t.Fatalf("%s: click %s: %v\n%s", p.name, sel, err, p.pageText())
	}
}

func (p *person) set(sel, value string) {
	p.t.Helper()
	p.run("fill "+sel, chromedp.SetValue(chromedp.CSS(sel), value))
}

func (p *person) text(sel string) string {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		p.t.Fatalf("%s: read %s: %v\n%s", p.name, sel, err, p.pageText())
	}
	return s
}

func (p *person) count(sel string) int {
	p.t.Helper()
	n, err := chromedp.Run(p.ctx, chromedp.Evaluate[int](fmt.Sprintf(`document.querySelectorAll(%q).length`, sel)))
	if err != nil {
		p.t.Fatalf("%s: count %s: %v", p.name, sel, err)
	}
	return n
}

// sees fails unless the page's text contains each of want.
func (p *person) sees(want ...string) {
	p.t.Helper()
	body := p.pageText()
	for _, w := range want {
		if !strings.Contains(body, w) {
			p.t.Fatalf("%s: the page does not show %q:\n%s", p.name, w, body)
		}
	}
}

func (p *person) shot(name string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		p.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(p.shots, name+".png"), png, 0o644); err != nil {
		p.t.Fatal(err)
	}
}

// shotBoth takes a screenshot of the page in Chinese and in English.
func (p *person) shotBoth(name string) {
	p.t.Helper()
	p.click("#lang-zh")
	p.shot(name + ".zh")
	p.click("#lang-en")
	p.shot(name + ".en")
}

// session is the value of the browser's session cookie.
func (p *person) session() string {
	p.t.Helper()
	res, err := chromedp.Call(p.ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{p.base + "/"}})
	if err != nil {
		p.t.Fatal(err)
	}
	for _, c := range res.Cookies {
		if c.Name == "innonet_session" {
			if !c.HTTPOnly || !c.Secure || c.SameSite != network.CookieSameSiteStrict {
				p.t.Fatalf("session cookie is not HttpOnly, Secure and SameSite=Strict: %+v", c)
			}
			return c.Value
		}
	}
	p.t.Fatalf("%s has no session cookie", p.name)
	return ""
}

// acceptInvite opens an invitation link on the person's site, sets the
// password and signs in.
func (p *person) acceptInvite(link string) {
	p.t.Helper()
	u, err := url.Parse(link)
	if err != nil || !strings.HasPrefix(u.Path, "/invite/") {
		p.t.Fatalf("not an invitation link: %q", link)
	}
	p.open(u.Path)
	p.set("#password", p.pw)
	p.set("#password2", p.pw)
	p.click("#setpassword")
	p.set("#name", p.name)
	p.set("#password", p.pw)
	p.click("#signin")
	if got := p.text("#me"); !strings.Contains(got, p.name) {
		p.t.Fatalf("%s: signed in as %q", p.name, got)
	}
}

func TestBrowserWeek(t *testing.T) {
	shots := os.Getenv("INNONET_SCREENSHOTS")
	if shots == "" {
		shots = filepath.Join(os.TempDir(), "innonet-screenshots")
	}
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots: %s", shots)

	// LAN timings for the leader: a browser beside three sites keeps the
	// machine busy, and the test profile's 200 ms would take a slow
	// heartbeat for a dead leader.
	lan := func(c *Config) {
		c.Cluster.HeartbeatTimeout, c.Cluster.ElectionTimeout, c.Cluster.LeaderLeaseTimeout = time.Second, time.Second, 500*time.Millisecond
	}
	tc := newTestCluster(t, []string{"CGO", "MUC", "YRD"}, nil, withTLS(t), lan)
	sites := map[string]*Node{"CGO": tc.node("CGO"), "MUC": tc.node("MUC"), "YRD": tc.node("YRD")}
	api := tc.clients(tc.leaderNode(), testAdminToken)

	userDir := t.TempDir()
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.IgnoreCertErrors,
		chromedp.UserDataDir(userDir), chromedp.WindowSize(1366, 900), chromedp.Flag("lang", "en-US"))...)
	t.Cleanup(cancelAlloc)
	browser, cancelBrowser := chromedp.NewContext(alloc)
	t.Cleanup(cancelBrowser)
	if err := chromedp.Do(browser, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	var alertsMu sync.Mutex
	var alerts []string
	newPerson := func(name, pw, site string) *person {
		c, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
		t.Cleanup(cancel)
		if err := chromedp.Do(c, chromedp.Navigate("about:blank")); err != nil {
			t.Fatal(err)
		}
		// A script that runs from lead text would open a dialog: record
		// it. The console's own confirmations (a form's data-confirm, as
		// the revoke button has) are accepted, as a person would.
		go func() {
			for ev, err := range chromedp.Events(c, page.JavascriptDialogOpening) {
				if err != nil {
					return
				}
				if ev.Type != page.DialogTypeConfirm {
					alertsMu.Lock()
					alerts = append(alerts, name+": "+ev.Message)
					alertsMu.Unlock()
				}
				_, _ = chromedp.Call(c, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
			}
		}()
		return &person{t: t, name: name, pw: pw, ctx: c, base: "https://" + sites[site].Addr(), shots: shots, mu: &alertsMu, alerts: &alerts}
	}

	// The first admin has only the bootstrap token; it invites itself as
	// `innonet user invite --user` does.
	var me *innonetpb.User
	var inv *innonetpb.InviteUserResponse
	invRID := rid()
	retryUnavailable(t, "invite the first admin", func() (err error) {
		if me, err = retried(t, api.users.WhoAmI, &innonetpb.WhoAmIRequest{}); err != nil {
			return err
		}
		inv, err = retried(t, api.users.InviteUser, &innonetpb.InviteUserRequest{RequestId: invRID, UserId: me.Id})
		return err
	})
	admin := newPerson(me.Name, "correct horse battery", "CGO")
	admin.acceptInvite("https://x/invite/" + inv.Code)

	// Invite → set password → sign in, for each role, each on its own site.
	invite := func(name, role, site, division string) string {
		admin.open("/admin/users")
		admin.set("#invite-name", name)
		admin.set("#invite-role", role)
		admin.set("#invite-site", site)
		admin.set("#invite-division", division)
		admin.click("#invite-submit")
		admin.sees(name)
		link, err := chromedp.Run(admin.ctx, chromedp.Value(chromedp.CSS("#invite-link")))
		if err != nil {
			t.Fatalf("invitation link for %s: %v\n%s", name, err, admin.pageText())
		}
		return link
	}
	people := []struct {
		name, role, site, division, home string
	}{
		{"Li Wei", "HQ_REVIEWER", "", "", "CGO"},
		{"Lukas Bauer", "NODE_STAFF", "MUC", "", "MUC"},
		{"Chen Jie", "DIVISION", "", "YRD", "YRD"},
		{"Zhang Min", "DIVISION", "", "BOHAI", "CGO"},
	}
	ps := map[string]*person{}
	for _, u := range people {
		link := invite(u.name, u.role, u.site, u.division)
		p := newPerson(u.name, "pw-"+strings.ReplaceAll(strings.ToLower(u.name), " ", "-")+"-2026", u.home)
		p.acceptInvite(link)
		ps[u.role+u.division] = p
	}
	hq, lukas, yrd, bohai := ps["HQ_REVIEWER"], ps["NODE_STAFF"], ps["DIVISIONYRD"], ps["DIVISIONBOHAI"]
	users, err := retried(t, api.users.ListUsers, &innonetpb.ListUsersRequest{})
	if err != nil {
		t.Fatal(err)
	}
	withPassword := 0
	for _, u := range users.Users {
		if u.PasswordSetTime != nil {
			withPassword++
		}
	}
	if withPassword != 5 {
		t.Fatalf("API: %d users have a password, want 5 (admin and four invited)", withPassword)
	}
	admin.open("/admin/users")
	admin.shotBoth("admin-users")
	admin.open("/admin/cluster")
	admin.sees("CGO", "MUC", "YRD")
	admin.shotBoth("admin-cluster")
	// The admin adds a webhook to a receiver on this machine; a short
	// secret is refused first, in words.
	rcv := newReceiver(t, "browser week secret!")
	admin.open("/settings/webhooks")
	admin.set("#hook-url", rcv.url)
	admin.set("#hook-format", "generic")
	admin.set("#hook-secret", "short")
	admin.click("#create-webhook")
	admin.sees("at least 16 characters")
	admin.set("#hook-secret", "browser week secret!")
	admin.click("#create-webhook")
	admin.sees("is added")

	// Bohai Rim says what it looks for: its profile, edited in the form
	// (no script needed), ranks the leads it is shown.
	bohai.open("/divisions")
	bohai.click("#edit-BOHAI")
	bohai.set("#sector-0", "NEW_ENERGY_VEHICLES")
	bohai.set("#sector-1", "ADVANCED_MANUFACTURING")
	bohai.set("#keywords", "Wasserstoff\nElektrolyse\n氢能, 储氢")
	bohai.set("#trl_min", "4")
	bohai.set("#trl_max", "8")
	bohai.set("#trl_preferred", "5")
	bohai.run("tick a kind of deal", chromedp.Click(chromedp.CSS(`input[name=deal_type][value=TECHNOLOGY_LICENSING]`)))
	row := `tr.ent[data-row="0"] `
	bohai.set(row+"input[name=ent_name]", "天津港氢能物流有限公司")
	bohai.set(row+"input[name=ent_name_en]", "Tianjin Port Hydrogen Logistics")
	bohai.set(row+"input[name=ent_city]", "天津")
	bohai.set(row+"textarea[name=ent_needs]", "港口设备的电解制氢与储氢")
	bohai.set(row+"textarea[name=ent_needs_en]", "electrolysis and hydrogen storage for port equipment")
	bohai.shot("division-profile-form.en")
	bohai.click("#save-profile")
	bohai.sees("The profile of Bohai Rim is saved (version 1)", "天津港氢能物流有限公司", "Wasserstoff")
	prof, err := retried(t, api.divisions.GetDivisionProfile, &innonetpb.GetDivisionProfileRequest{Division: "BOHAI"})
	if err != nil || prof.Version != 1 || len(prof.Keywords) != 4 || len(prof.Enterprises) != 1 || prof.TrlPreferred != 5 ||
		len(prof.DealTypes) != 1 || len(prof.Sectors) != 2 {
		t.Fatalf("API: BOHAI's profile after the form: %v %v", prof, err)
	}
	bohai.shotBoth("division-profile")
	bohai.open("/divisions/BOHAI/edit")
	bohai.shotBoth("division-profile-edit")
	bohai.open("/divisions")
	bohai.shotBoth("divisions")

	// Munich pushes three leads, one in German with a pitch deck, one in
	// English, one whose text is hostile.
	deck := filepath.Join(t.TempDir(), "Pitch deck.pdf")
	if err := os.WriteFile(deck, []byte("%PDF-1.4 a pitch deck\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	submit := func(title, summary, lang, sector, org, web string, files ...string) string {
		lukas.open("/leads/new")
		lukas.set("#title", title)
		if web != "" {
			lukas.set("#website", web)
		}
		lukas.set("#summary", summary)
		lukas.set("#language", lang)
		lukas.set("#organization_id", "new")
		lukas.set("#org_name", org)
		lukas.set("#country", "DE")
		lukas.set("#sector", sector)
		lukas.set("#trl", "6")
		lukas.set("#deal_type", "TECHNOLOGY_LICENSING")
		if len(files) > 0 {
			lukas.run("choose files", chromedp.SetUploadFiles(chromedp.CSS(`#submit-form input[type=file]`), files))
		}
		lukas.click("#submit")
		id := lukas.text("#lead-id")
		lukas.sees("submitted to HQ")
		return id
	}
	lukas.open("/leads/new")
	lukas.shotBoth("node-submit")
	german := submit("Grüner Wasserstoff aus Meerwasser-Elektrolyse", "Ein Team der TU München hat einen Elektrolyseur entwickelt, der Meerwasser direkt spaltet.", "de", "NEW_ENERGY_VEHICLES", "HydroSea GmbH", "https://hydrosea.de", deck)
	english := submit("Solid-state battery separator", "A ceramic separator that doubles cycle life.", "en", "NEW_MATERIALS", "CeraCell Ltd", "")
	hostileTitle := `<script>alert("xss")</script> "><img src=x onerror=alert(1)> מימן ירוק`
	hostile := submit(hostileTitle, `</textarea><b onmouseover=alert(2)>bold?</b> שלום עולם`, "he", "OTHER", `"><svg onload=alert(3)>`, "")
	for _, id := range []string{german, english, hostile} {
		l, err := retried(t, api.leads.GetLead, &innonetpb.GetLeadRequest{Id: id})
		if err != nil || l.Stage != innonetpb.Stage_SUBMITTED || l.Site != "MUC" {
			t.Fatalf("API: lead %s after submit: %v %v", id, l, err)
		}
	}
	// Lukas starts the German lead again, forgetting it is in: the form
	// warns while he types, in his language.
	typeDuplicate := func() {
		lukas.run("type a duplicate", chromedp.SendKeys(chromedp.CSS("#title"), "Grüner Wasserstoff aus Meerwasser"),
			chromedp.SendKeys(chromedp.CSS("#summary"), "Elektrolyseur der TU München, spaltet Meerwasser direkt."),
			chromedp.SendKeys(chromedp.CSS("#website"), "hydrosea.de"))
		lukas.run("see the duplicate warning", chromedp.WaitVisible(chromedp.CSS("#dup-list")))
		if got := lukas.text("#dup-box"); !strings.Contains(got, german) {
			t.Fatalf("the duplicate warning does not name %s: %q", german, got)
		}
	}
	lukas.open("/leads/new")
	lukas.click("#lang-zh")
	typeDuplicate()
	lukas.sees("innonet 中可能已有这条线索", "网站域名相同：hydrosea.de")
	lukas.shot("node-submit-duplicate.zh")
	lukas.click("#lang-en")
	typeDuplicate()
	lukas.sees("This may already be in innonet.", "same website domain hydrosea.de")
	lukas.shot("node-submit-duplicate.en")
	// He submits it all the same; the new lead's page says what it may duplicate.
	gl, err := retried(t, api.leads.GetLead, &innonetpb.GetLeadRequest{Id: german})
	if err != nil {
		t.Fatal(err)
	}
	lukas.set("#language", "de")
	lukas.set("#organization_id", gl.OrganizationId)
	lukas.set("#country", "DE")
	lukas.set("#sector", "NEW_ENERGY_VEHICLES")
	lukas.set("#trl", "6")
	lukas.set("#deal_type", "TECHNOLOGY_LICENSING")
	lukas.click("#submit")
	dupe := lukas.text("#lead-id")
	if got := lukas.text("#dup-notice"); !strings.Contains(got, german) {
		t.Fatalf("the page after the submit does not name %s: %q", german, got)
	}

	// HQ sees the two side by side and merges the new one into the first.
	eventuallyPage(t, hq, "/leads/"+dupe, german)
	hq.sees("Similar leads", "same website domain hydrosea.de")
	hq.shotBoth("hq-lead-similar")
	hq.click(`button.merge-into[data-into="` + german + `"]`)
	hq.sees("Merge "+dupe+" into "+german+"?", "becomes Merged")
	hq.shotBoth("hq-merge-confirm")
	hq.set("#merge-confirm-comment", "Same electrolyser as "+german+".")
	hq.click("#merge-confirm")
	hq.sees(dupe+" is merged into "+german, "This lead took in the duplicates")
	l := wantStage(t, api, dupe, innonetpb.Stage_MERGED)
	if l.MergedInto != german {
		t.Fatalf("API: %s merged into %q, want %s", dupe, l.MergedInto, german)
	}
	hq.open("/leads/" + dupe)
	hq.sees("Merged: this lead duplicates another", "merged into another lead")
	hq.shotBoth("hq-lead-merged")
	// A second merge of it is refused with words.
	hq.open("/leads/" + english + "/merge?into=" + dupe)
	hq.sees("was itself merged into " + german)

	files, err := retried(t, api.leads.ListAttachments, &innonetpb.ListAttachmentsRequest{Id: german})
	if err != nil || len(files.Attachments) != 1 || files.Attachments[0].Name != "Pitch deck.pdf" {
		t.Fatalf("API: attachments of %s: %v %v", german, files, err)
	}

	// HQ, in Chinese, reviews: the inbox shows the three; the German lead
	// goes back with a question.
	hq.open("/")
	hq.click("#lang-zh")
	for _, id := range []string{german, english, hostile} {
		eventuallyPage(t, hq, "/", id)
	}
	hq.sees("待审核")
	hq.shotBoth("hq-inbox")
	hq.click("#lang-zh")
	hq.open("/leads/" + german)
	hq.sees("Grüner Wasserstoff", "Pitch deck.pdf")
	// A return without its question is refused, in words of HQ's
	// language, and changes nothing.
	hq.click("#return")
	hq.sees("请检查字段“说明”", "退回线索时须附上给站点的问题")
	hq.shot("hq-refusal.zh")
	hq.click("#lang-en")
	hq.click("#return")
	hq.sees("Check the field “comment”", "write the question in the comment")
	hq.shot("hq-refusal.en")
	hq.click("#lang-zh")
	wantStage(t, api, german, innonetpb.Stage_SUBMITTED)
	hq.set("#review-comment", "Wer hält die Patente, und gibt es schon einen Prototyp?")
	hq.click("#return")
	hq.sees("已连同问题退回站点", "已退回")
	wantStage(t, api, german, innonetpb.Stage_RETURNED)

	// Lukas's bell rings; his inbox holds HQ's question, linked to the
	// lead here. Looking marks nothing read; the button does.
	eventuallyPage(t, lukas, "/inbox", "Wer hält die Patente")
	if got := lukas.text("#bell-count"); got == "" || got == "0" {
		t.Fatalf("Lukas's bell shows %q", got)
	}
	if n := lukas.count(`#notes li.unread a[href="/leads/` + german + `"]`); n == 0 {
		t.Fatalf("%d unread notifications link to /leads/%s, want some\n%s", n, german, lukas.pageText())
	}
	lukas.shotBoth("node-inbox")
	lukas.click("#mark-read")
	lukas.sees("All notifications are marked read.")
	eventually(t, 10*time.Second, "Lukas's bell quiet", func() error {
		lukas.open("/inbox")
		if n := lukas.count("#bell-count, #notes li.unread"); n != 0 {
			return fmt.Errorf("%d unread marks", n)
		}
		return nil
	})
	lukas.shotBoth("node-inbox-read")
	lukas.open("/settings/notifications")
	lukas.shotBoth("node-notification-settings")
	lukas.set("#zone_other", "Mars/Olympus")
	lukas.click("#save-prefs")
	lukas.sees("is not a time zone name", "Nothing was saved")
	lukas.shot("node-notification-settings-error.en")
	hq.open("/settings/notifications")
	hq.shotBoth("hq-notification-settings")
	hq.click("#lang-zh")

	// The admin's webhook logged the week so far.
	eventuallyPage(t, admin, "/settings/webhooks/wh-0001", "Send again")
	admin.shotBoth("admin-webhook-log")
	admin.open("/settings/webhooks")
	admin.shotBoth("admin-webhooks")
	admin.click("#delete-wh-0001")
	admin.shotBoth("admin-webhook-delete")
	if len(rcv.got()) == 0 {
		t.Fatal("the webhook receiver got nothing")
	}

	// Lukas answers on his start page: the answer resubmits.
	eventuallyPage(t, lukas, "/", "Wer hält die Patente")
	lukas.shotBoth("node-home")
	lukas.set(`article[data-id="`+german+`"] .reply-answer`, "Die Patente hält die TUM; ein Prototyp läuft seit März.")
	lukas.click(`article[data-id="` + german + `"] .reply-send`)
	lukas.sees("resubmitted")
	wantStage(t, api, german, innonetpb.Stage_SUBMITTED)

	// HQ approves the German and English leads and declines the hostile one.
	for _, id := range []string{german, english} {
		eventuallyPage(t, hq, "/leads/"+id, "批准并发布")
		hq.set("#review-comment", "Published.")
		hq.click("#approve")
		hq.sees("已批准并发布")
		wantStage(t, api, id, innonetpb.Stage_APPROVED)
	}
	// Bohai Rim's matches: the published leads it fits, with why.
	eventuallyPage(t, bohai, "/matches", german)
	bohai.sees("Matches for Bohai Rim", "keywords", "Wasserstoff", "Tianjin Port Hydrogen Logistics")
	bohai.shotBoth("division-matches")
	bohai.click("#lang-zh")
	bohai.sees("环渤海事业部的匹配线索", "关键词", "天津港氢能物流有限公司")
	bohai.click("#lang-en")
	hq.open("/leads/" + german)
	hq.sees("事业部匹配", "环渤海事业部")

	hq.open("/leads/" + hostile)
	if n := hq.count("#lead-title img, #lead-title script, .summary b, dd svg"); n != 0 {
		t.Fatalf("hostile lead text became %d elements on the lead page", n)
	}
	if got := hq.text("#lead-title"); got != hostileTitle {
		t.Fatalf("hostile title shown as %q, want it as text %q", got, hostileTitle)
	}
	hq.shot("hq-lead-hostile.zh")
	hq.set("#review-comment", "Not a technology lead.")
	hq.click("#decline")
	wantStage(t, api, hostile, innonetpb.Stage_DECLINED)

	// Two divisions want the German lead, each with its reasons.
	for _, d := range []*person{yrd, bohai} {
		eventuallyPage(t, d, "/leads/"+german, "Express interest")
		d.set("#rationale", d.name+": we have an electrolysis cluster and a port.")
		d.set("#enterprise", "Local Hydrogen Co. "+d.name)
		d.click("#express")
		d.sees("Your interest is recorded")
	}
	in, err := retried(t, api.leads.ListInterests, &innonetpb.ListInterestsRequest{Id: german})
	if err != nil || len(in.Interests) != 2 {
		t.Fatalf("API: interests in %s: %v %v", german, in, err)
	}
	yrd.open("/")
	yrd.shotBoth("division-home")

	// HQ sees both side by side and assigns the lead to YRD.
	eventuallyPage(t, hq, "/leads/"+german, "长三角事业部")
	hq.sees("环渤海事业部")
	hq.shotBoth("hq-lead-interests")
	hq.click("#assign-YRD")
	l = wantStage(t, api, german, innonetpb.Stage_CLAIMED)
	if l.Division != "YRD" {
		t.Fatalf("API: %s assigned to %q, want YRD", german, l.Division)
	}

	// YRD takes it to SIGNED, with deal terms.
	eventuallyPage(t, yrd, "/leads/"+german, "Move to Negotiating")
	yrd.click("#advance")
	wantStage(t, api, german, innonetpb.Stage_NEGOTIATING)
	yrd.set("#amount", "42000000")
	yrd.set("#currency", "CNY")
	yrd.click("#save-deal")
	yrd.sees("Deal terms saved", "42,000,000 CNY")
	yrd.click("#advance")
	l = wantStage(t, api, german, innonetpb.Stage_SIGNED)
	if l.DealTerms.GetAmount() != "42000000" || l.DealTerms.GetCurrency() != "CNY" {
		t.Fatalf("API: deal terms of %s: %v", german, l.DealTerms)
	}
	yrd.shotBoth("division-lead-signed")

	// A claim race on the English lead: YRD has the page open when BOHAI
	// claims; YRD's click is told who won.
	eventuallyPage(t, yrd, "/leads/"+english, "Claim for our division")
	eventuallyPage(t, bohai, "/leads/"+english, "Claim for our division")
	bohai.click("#claim")
	wantStage(t, api, english, innonetpb.Stage_CLAIMED)
	yrd.click("#claim")
	yrd.sees("Too late: Bohai Rim claimed this lead first.")
	// BOHAI closes it as lost, with a reason.
	eventuallyPage(t, bohai, "/leads/"+english, "Close as lost")
	bohai.set("#close-reason", "TERMS_NOT_AGREED")
	bohai.set("#close-comment", "The partner wanted exclusivity.")
	bohai.click("#close")
	l = wantStage(t, api, english, innonetpb.Stage_LOST)
	if l.CloseReason != innonetpb.CloseLeadRequest_TERMS_NOT_AGREED {
		t.Fatalf("API: close reason of %s: %v", english, l.CloseReason)
	}

	// YRD writes to HQ about the German lead for their eyes only (our
	// division and HQ): HQ reads it, Bohai Rim does not, on the page or
	// through the API.
	const private = "Unser Partner in Suzhou will eine Exklusivlizenz für China."
	yrd.open("/leads/" + german)
	yrd.set("#comment-body", private)
	yrd.set("#comment-visibility", "DIVISION")
	yrd.click("#add-comment")
	yrd.sees("Posted.", private, "Our division and HQ (Yangtze River Delta)")
	yrd.shotBoth("division-lead-thread")
	cs, err := retried(t, api.leads.ListComments, &innonetpb.ListCommentsRequest{Id: german, Consistency: innonetpb.Consistency_LEADER})
	if err != nil {
		t.Fatal(err)
	}
	var posted *innonetpb.Comment
	for _, c := range cs.Comments {
		if c.Body == private {
			posted = c
		}
	}
	if posted == nil || posted.Visibility != innonetpb.Comment_DIVISION || posted.Division != "YRD" {
		t.Fatalf("API: YRD's comment on %s: %v", german, posted)
	}
	eventuallyPage(t, hq, "/leads/"+german, private)
	bohai.open("/leads/" + german)
	bohai.sees("Grüner Wasserstoff")
	if strings.Contains(bohai.pageText(), "Unser Partner in Suzhou") {
		t.Fatalf("Bohai Rim sees YRD's DIVISION comment:\n%s", bohai.pageText())
	}
	rival := tc.clients(sites["CGO"], bohai.session())
	bcs, err := rival.leads.ListComments(rival.ctx(t), &innonetpb.ListCommentsRequest{Id: german, Consistency: innonetpb.Consistency_LEADER})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range bcs.Comments {
		if c.Body == private {
			t.Fatalf("API: Bohai Rim reads YRD's DIVISION comment: %v", c)
		}
	}

	// HQ records a Chinese translation of the German lead; it shows
	// beside the original.
	const transTitle = "海水直接电解制绿氢"
	hq.open("/leads/" + german)
	hq.click("#lang-zh")
	hq.run("open the translation form", chromedp.Click(chromedp.CSS("#translate summary")))
	hq.set("#translate-lang", "zh")
	hq.set("#translate-title", transTitle)
	hq.set("#translate-summary", "慕尼黑工业大学团队研发的电解槽可直接分解海水。")
	hq.set("#translate-status", "VERIFIED")
	hq.click("#translate-submit")
	hq.sees("译文已保存。", "已核对")
	if got, orig := hq.text("#trans-title"), hq.text("#lead-title"); got != transTitle || !strings.Contains(orig, "Grüner Wasserstoff") {
		t.Fatalf("the lead page shows %q beside %q, want %q beside the German original", got, orig, transTitle)
	}
	l, err = retried(t, api.leads.GetLead, &innonetpb.GetLeadRequest{Id: german, Lang: "zh", Consistency: innonetpb.Consistency_LEADER})
	if err != nil || l.Translation.GetTitle() != transTitle || l.Translation.GetStatus() != innonetpb.TranslationStatus_VERIFIED {
		t.Fatalf("API: the zh translation of %s: %v %v", german, l.GetTranslation(), err)
	}
	hq.shotBoth("hq-lead-translation")

	// HQ reopens the declined lead for a second look and publishes it for
	// HQ to assign: Bohai Rim can only say it wants it, and HQ gives it
	// to them.
	hq.open("/leads/" + hostile)
	hq.set("#reopen-stage", "SUBMITTED")
	hq.set("#reopen-comment", "A second look: the electrolysis part is real.")
	hq.click("#reopen")
	hq.sees("Reopened.", "Submitted")
	wantStage(t, api, hostile, innonetpb.Stage_SUBMITTED)
	hq.set("#review-comment", "Published; HQ assigns it.")
	hq.set("#review-claimmode", "ASSIGNED")
	hq.click("#approve")
	hq.sees("Approved and published", "HQ assigns")
	if l = wantStage(t, api, hostile, innonetpb.Stage_APPROVED); l.ClaimMode != innonetpb.ClaimMode_ASSIGNED {
		t.Fatalf("API: claim mode of %s: %v, want ASSIGNED", hostile, l.ClaimMode)
	}
	eventuallyPage(t, bohai, "/leads/"+hostile, "Express interest")
	if n := bohai.count("#claim"); n != 0 {
		t.Fatalf("Bohai Rim is offered a claim of %s, which HQ assigns", hostile)
	}
	bohai.sees("HQ assigns this lead: express your division's interest")
	bohai.shotBoth("division-lead-assigned")
	bohai.set("#rationale", "Our port project needs the electrolyser.")
	bohai.click("#express")
	bohai.sees("Your interest is recorded")
	in, err = retried(t, api.leads.ListInterests, &innonetpb.ListInterestsRequest{Id: hostile, Consistency: innonetpb.Consistency_LEADER})
	if err != nil || len(in.Interests) != 1 || in.Interests[0].Division != "BOHAI" {
		t.Fatalf("API: interests in %s: %v %v", hostile, in, err)
	}
	eventuallyPage(t, hq, "/leads/"+hostile, "Assign to Bohai Rim")
	hq.click("#assign-BOHAI")
	hq.sees("Assigned.")
	if l = wantStage(t, api, hostile, innonetpb.Stage_CLAIMED); l.Division != "BOHAI" {
		t.Fatalf("API: %s assigned to %q, want BOHAI", hostile, l.Division)
	}

	// The pipeline as a table and as a board.
	hq.open("/leads")
	hq.sees(german, english, hostile)
	hq.shotBoth("hq-pipeline")
	hq.open("/leads?view=board")
	hq.shotBoth("hq-board")

	// HQ's stage limits, in their form: a working day for every stage,
	// due soon from 30 days before, so every open lead is on the list.
	hq.open("/settings/limits")
	for _, st := range []string{"SUBMITTED", "RETURNED", "APPROVED", "CLAIMED", "NEGOTIATING", "SIGNED"} {
		hq.set("#limit-"+st, "1")
	}
	hq.set("#near", "30")
	hq.click("#save-limits")
	hq.sees("The stage limits are saved")
	hq.shotBoth("hq-limits")

	// HQ sets the year's targets in the table form, a row per scope.
	hq.open("/settings/targets")
	for sel, v := range map[string]string{"#scope-0": "NETWORK", "#pushed-0": "120", "#approved-0": "60", "#signed-0": "12",
		"#landed-0": "4", "#investment-0": "80000000", "#currency-0": "CNY", "#jobs-0": "300",
		"#scope-1": "SITE", "#code-1": "MUC", "#pushed-1": "40", "#signed-1": "4",
		"#scope-2": "DIVISION", "#code-2": "YRD", "#approved-2": "20", "#signed-2": "5"} {
		hq.set(sel, v)
	}
	// A word where a number goes: the form comes back as typed, the row
	// named, nothing saved.
	hq.set("#signed-1", "four")
	hq.click("#save-targets")
	hq.sees("Row 2: Signed must be a whole number")
	if n := hq.count("tr.target.bad"); n != 1 {
		t.Fatalf("%d rows marked bad, want 1", n)
	}
	hq.shot("hq-targets-error.en")
	hq.set("#signed-1", "4")
	hq.click("#save-targets")
	hq.sees("are saved (version 1)")
	year := int32(time.Now().In(mustLoc(t, "Asia/Shanghai")).Year())
	targets, err := retried(t, api.reports.GetTargets, &innonetpb.GetTargetsRequest{Year: year, Consistency: innonetpb.Consistency_LEADER})
	if err != nil || len(targets.Rows) != 3 || targets.Rows[1].Code != "MUC" || targets.Rows[2].Signed != 5 {
		t.Fatalf("API: the targets HQ set: %v %v", targets, err)
	}
	hq.shotBoth("hq-targets")

	// The dashboard: progress against the targets, the funnel, and the
	// leads over or near their limits with who must act.
	eventuallyPage(t, hq, "/reports", german)
	hq.sees("By node", "By division", "Funnel", "Over or near the stage limit", "Yangtze River Delta must act")
	if n := hq.count("#funnel-chart rect.fill"); n != 6 {
		t.Fatalf("the funnel chart has %d bars, want 6", n)
	}
	if n := hq.count("#overdue tr[data-id]"); n == 0 {
		t.Fatalf("the overdue list is empty:\n%s", hq.pageText())
	}
	if n := hq.count("#progress-network svg.bar"); n != 4 {
		t.Fatalf("the network's progress has %d bars, want 4", n)
	}
	hq.shotBoth("hq-reports")
	hq.open("/settings/calendars?calendar=CN&year=2026")
	hq.sees("2026-02-14")
	hq.shotBoth("hq-calendar")
	hq.open("/leads/" + german)
	hq.sees("Stage limit:")
	hq.shotBoth("hq-lead-sla")
	lukas.open("/reports")
	lukas.sees("Munich")
	lukas.shotBoth("node-reports")
	yrd.open("/reports")
	yrd.sees("Yangtze River Delta", "Funnel")
	yrd.shotBoth("division-reports")

	// Search across languages: an English word finds the German lead (the
	// site's own index catches up with its copy a moment later).
	eventuallyPage(t, hq, "/search?q=hydrogen", german)
	if n := hq.count("#hits mark"); n == 0 {
		t.Fatalf("search results mark no matched words:\n%s", hq.pageText())
	}
	hq.shotBoth("hq-search")

	// YRD lands the German lead.
	eventuallyPage(t, yrd, "/leads/"+german, "Move to Landed")
	yrd.click("#advance")
	yrd.sees("Moved to the next stage.", "Landed")
	wantStage(t, api, german, innonetpb.Stage_LANDED)
	yrd.shotBoth("division-lead-landed")

	// A form posted without its CSRF token is refused and changes nothing.
	token := lukas.session()
	before, err := retried(t, api.leads.ListComments, &innonetpb.ListCommentsRequest{Id: german})
	if err != nil {
		t.Fatal(err)
	}
	code := postWithCookie(t, lukas.base+"/leads/"+german+"/comment", token, url.Values{"body": {"forged"}, "visibility": {"SHARED"}})
	if code != http.StatusForbidden {
		t.Fatalf("a post without the CSRF token: %d, want 403", code)
	}
	after, err := retried(t, api.leads.ListComments, &innonetpb.ListCommentsRequest{Id: german})
	if err != nil || len(after.Comments) != len(before.Comments) {
		t.Fatalf("a refused post changed the thread: %d → %d comments (%v)", len(before.Comments), len(after.Comments), err)
	}

	// Sign-out revokes the session everywhere: its cookie is refused on
	// every site, in the console and in the API.
	lukas.click("#signout")
	lukas.sees("You are signed out")
	for code, n := range sites {
		eventually(t, 10*time.Second, "the signed-out session refused at "+code, func() error {
			c := tc.clients(n, token)
			if _, err := c.users.WhoAmI(c.ctx(t), &innonetpb.WhoAmIRequest{}); status.Code(err) != codes.Unauthenticated {
				return fmt.Errorf("WhoAmI at %s: %v", code, err)
			}
			if got := getWithCookie(t, "https://"+n.Addr()+"/", token); got != http.StatusSeeOther {
				return fmt.Errorf("console at %s answers %d", code, got)
			}
			return nil
		})
	}

	// The admin revokes Zhang Min on the users screen: her session is
	// refused on every site, and her browser is back at the sign-in page.
	zhang := bohai.session()
	users, err = retried(t, api.users.ListUsers, &innonetpb.ListUsersRequest{Consistency: innonetpb.Consistency_LEADER})
	if err != nil {
		t.Fatal(err)
	}
	var zhangID string
	for _, u := range users.Users {
		if u.Name == "Zhang Min" {
			zhangID = u.Id
		}
	}
	admin.open("/admin/users")
	admin.click("#revoke-" + zhangID)
	admin.sees(zhangID + " is revoked")
	users, err = retried(t, api.users.ListUsers, &innonetpb.ListUsersRequest{Consistency: innonetpb.Consistency_LEADER})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range users.Users {
		if u.Id == zhangID && u.RevokeTime == nil {
			t.Fatalf("API: %s is not revoked: %v", zhangID, u)
		}
	}
	admin.shotBoth("admin-users-revoked")
	for code, n := range sites {
		eventually(t, 10*time.Second, "the revoked user's session refused at "+code, func() error {
			c := tc.clients(n, zhang)
			if _, err := c.users.WhoAmI(c.ctx(t), &innonetpb.WhoAmIRequest{}); status.Code(err) != codes.Unauthenticated {
				return fmt.Errorf("WhoAmI at %s: %v", code, err)
			}
			if got := getWithCookie(t, "https://"+n.Addr()+"/", zhang); got != http.StatusSeeOther {
				return fmt.Errorf("console at %s answers %d", code, got)
			}
			return nil
		})
	}
	bohai.open("/")
	bohai.sees("Your session has ended")

	alertsMu.Lock()
	defer alertsMu.Unlock()
	if len(alerts) > 0 {
		t.Fatalf("scripts ran from page content: %v", alerts)
	}
}

// retried calls an API method, again while the cluster has no leader to
// answer (an election on a busy machine), for up to 20 s.
func retried[Req, Resp any](t *testing.T, f func(context.Context, Req, ...grpc.CallOption) (Resp, error), req Req) (Resp, error) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(withToken(context.Background(), testAdminToken), 10*time.Second)
		resp, err := f(ctx, req)
		cancel()
		if status.Code(err) != codes.Unavailable || time.Now().After(deadline) {
			return resp, err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// retryUnavailable retries f while the cluster has no leader to answer
// (it may move while the test starts); any other error fails t.
func retryUnavailable(t *testing.T, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		err := f()
		if err == nil {
			return
		}
		if status.Code(err) != codes.Unavailable || time.Now().After(deadline) {
			t.Fatalf("%s: %v", what, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// eventuallyPage opens path until its text contains want: the site a
// person uses may apply another's write a moment later.
func eventuallyPage(t *testing.T, p *person, path, want string) {
	t.Helper()
	var last string
	deadline := time.Now().Add(15 * time.Second)
	for {
		p.open(path)
		last = p.pageText()
		if strings.Contains(last, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %s never showed %q:\n%s", p.name, path, want, last)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func wantStage(t *testing.T, api testClients, id string, want innonetpb.Stage) *innonetpb.Lead {
	t.Helper()
	l, err := retried(t, api.leads.GetLead, &innonetpb.GetLeadRequest{Id: id, Consistency: innonetpb.Consistency_LINEARIZABLE})
	if err != nil {
		t.Fatalf("API: get %s: %v", id, err)
	}
	if l.Stage != want {
		t.Fatalf("API: %s is %s, want %s", id, l.Stage, want)
	}
	return l
}

func testHTTPS(t *testing.T) *http.Client {
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: testCAPool(t)}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }, Timeout: 10 * time.Second}
}

func postWithCookie(t *testing.T, u, token string, form url.Values) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(&http.Cookie{Name: "innonet_session", Value: token})
	resp, err := testHTTPS(t).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func getWithCookie(t *testing.T, u, token string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.AddCookie(&http.Cookie{Name: "innonet_session", Value: token})
	resp, err := testHTTPS(t).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
