package node

import (
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	innonetpb "innonet/proto/innonet/v1"
)

// browser is a plain HTTP client of a site's console with its own cookies,
// signed in by putting a token in the session cookie.
type browser struct {
	t    *testing.T
	base string
	c    *http.Client
}

func newBrowser(t *testing.T, n *Node, token string) *browser {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	base := "http://" + n.Addr()
	if token != "" {
		u, _ := url.Parse(base)
		jar.SetCookies(u, []*http.Cookie{{Name: "innonet_session", Value: token, Path: "/"}})
	}
	return &browser{t: t, base: base, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// get returns the status and body of a page.
func (b *browser) get(path string, header ...string) (int, string) {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.base+path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// post posts a form and returns the status, the redirect target and the body.
func (b *browser) post(path string, form url.Values) (int, string, string) {
	b.t.Helper()
	resp, err := b.c.PostForm(b.base+path, form)
	if err != nil {
		b.t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(body)
}

// setLang posts the language switch of a page's header, with the page's
// CSRF token, and returns the status and redirect target.
func (b *browser) setLang(lang, next string) (int, string) {
	b.t.Helper()
	code, page := b.get("/")
	if code != http.StatusOK {
		_, page = b.get("/signin")
	}
	code, loc, _ := b.post("/lang", url.Values{"csrf": {csrfIn(b.t, page)}, "lang": {lang}, "next": {next}})
	return code, loc
}

var csrfField = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)

func csrfIn(t *testing.T, page string) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF field in page:\n%s", page)
	}
	return m[1]
}

func TestConsolePages(t *testing.T) {
	tc := newTestCluster(t, []string{"CGO", "MUC", "BOS"}, nil)
	hq := tc.addUser("Li Wei", innonetpb.Role_HQ_REVIEWER, "", "")
	muc := tc.addUser("Lukas", innonetpb.Role_NODE_STAFF, "MUC", "")
	staff := tc.clients(tc.leaderNode(), muc)
	req := sampleLead(`<script>alert(1)</script> "><img src=x onerror=alert(2)> מימן ירוק`)
	lead, err := staff.leads.SubmitLead(staff.ctx(t), req)
	if err != nil {
		t.Fatal(err)
	}
	site := tc.follower(false)

	t.Run("signed out goes to sign-in", func(t *testing.T) {
		b := newBrowser(t, site, "")
		code, _ := b.get("/")
		if code != http.StatusSeeOther {
			t.Fatalf("GET / signed out: %d, want 303 to /signin", code)
		}
		code, page := b.get("/signin", "Accept-Language", "zh-CN,zh;q=0.9")
		if code != 200 || !strings.Contains(page, "登录 innonet") {
			t.Fatalf("sign-in page in Chinese: %d\n%s", code, page)
		}
	})

	b := newBrowser(t, site, hq)
	waitPage := func(path, want string) string {
		var page string
		eventually(t, 10e9, path+" shows "+want, func() error {
			var code int
			code, page = b.get(path)
			if code != 200 || !strings.Contains(page, want) {
				return &pageError{code, page}
			}
			return nil
		})
		return page
	}
	page := waitPage("/", lead.Id)
	if strings.Contains(page, "<script>alert") || strings.Contains(page, `<img src=x`) {
		t.Fatalf("inbox renders lead text as HTML:\n%s", page)
	}
	page = waitPage("/leads/"+lead.Id, "מימן ירוק")
	if strings.Contains(page, "<script>alert") {
		t.Fatal("lead page renders lead text as HTML")
	}

	t.Run("unknown parameter refused", func(t *testing.T) {
		code, page := b.get("/leads?colour=red")
		if code != http.StatusBadRequest || !strings.Contains(page, "colour") {
			t.Fatalf("GET /leads?colour=red: %d\n%s", code, page)
		}
		code, page = b.get("/leads?stage=NOPE")
		if code != http.StatusBadRequest || !strings.Contains(page, "NOPE") {
			t.Fatalf("GET /leads?stage=NOPE: %d\n%s", code, page)
		}
	})

	t.Run("board", func(t *testing.T) {
		code, page := b.get("/leads?view=board&stage=SUBMITTED&stage=APPROVED")
		if code != 200 || !strings.Contains(page, lead.Id) || !strings.Contains(page, `data-stage="APPROVED"`) {
			t.Fatalf("board: %d\n%s", code, page)
		}
	})

	t.Run("post without CSRF refused and changes nothing", func(t *testing.T) {
		code, _, _ := b.post("/leads/"+lead.Id+"/review", url.Values{"decision": {"APPROVE"}, "version": {"1"}})
		if code != http.StatusForbidden {
			t.Fatalf("review without CSRF: %d, want 403", code)
		}
		l, err := staff.leads.GetLead(staff.ctx(t), &innonetpb.GetLeadRequest{Id: lead.Id})
		if err != nil || l.Stage != innonetpb.Stage_SUBMITTED {
			t.Fatalf("lead after a refused post: %v %v", l.GetStage(), err)
		}
	})

	t.Run("the language switch needs the form's token", func(t *testing.T) {
		langCookie := func(b *browser) string {
			u, _ := url.Parse(b.base)
			for _, c := range b.c.Jar.Cookies(u) {
				if c.Name == "innonet_lang" {
					return c.Value
				}
			}
			return ""
		}
		for _, who := range []struct {
			name string
			b    *browser
		}{{"signed in", newBrowser(t, site, hq)}, {"signed out", newBrowser(t, site, "")}} {
			code, _, body := who.b.post("/lang", url.Values{"lang": {"zh"}, "next": {"/"}})
			if code != http.StatusForbidden || !strings.Contains(body, "did not come from this console") || langCookie(who.b) != "" {
				t.Errorf("%s: /lang without a token: %d, language %q, want 403 and no change\n%s", who.name, code, langCookie(who.b), body)
			}
			if code, loc := who.b.setLang("zh", "/leads"); code != http.StatusSeeOther || loc != "/leads" || langCookie(who.b) != "zh" {
				t.Errorf("%s: /lang with the page's token: %d %q, language %q; want 303 to /leads and zh", who.name, code, loc, langCookie(who.b))
			}
		}
		_, page := b.get("/")
		req, _ := http.NewRequest(http.MethodPost, b.base+"/lang", strings.NewReader(url.Values{"csrf": {csrfIn(t, page)}, "lang": {"zh"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", "https://evil.example")
		resp, err := b.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("/lang from another origin with a valid token: %d, want 403", resp.StatusCode)
		}
	})

	t.Run("return with a question, in Chinese", func(t *testing.T) {
		code, _ := b.setLang("zh", "/leads/"+lead.Id)
		if code != http.StatusSeeOther {
			t.Fatalf("set language: %d", code)
		}
		page := waitPage("/leads/"+lead.Id, "退回并提问")
		code, loc, _ := b.post("/leads/"+lead.Id+"/review", url.Values{"csrf": {csrfIn(t, page)}, "rid": {rid()},
			"version": {"1"}, "decision": {"RETURN"}, "comment": {"Wer hält die Patente?"}})
		if code != http.StatusSeeOther || loc != "/leads/"+lead.Id {
			t.Fatalf("return: %d %q", code, loc)
		}
		page = waitPage("/leads/"+lead.Id, "已连同问题退回站点")
		if !strings.Contains(page, "已退回") {
			t.Fatalf("lead page after return does not show the stage:\n%s", page)
		}
		l, err := staff.leads.GetLead(staff.ctx(t), &innonetpb.GetLeadRequest{Id: lead.Id})
		if err != nil || l.Stage != innonetpb.Stage_RETURNED {
			t.Fatalf("API after return: %v %v", l.GetStage(), err)
		}
	})

	t.Run("refusals in the reader's language", func(t *testing.T) {
		refused := func(lang string, form url.Values, want ...string) string {
			t.Helper()
			b.setLang(lang, "/")
			page := waitPage("/leads/"+lead.Id, lead.Id)
			form.Set("csrf", csrfIn(t, page))
			form.Set("rid", rid())
			code, loc, _ := b.post("/leads/"+lead.Id+"/review", form)
			if code != http.StatusSeeOther {
				t.Fatalf("%s: a refused review: %d, want 303 back to the lead", lang, code)
			}
			_, page = b.get(loc)
			for _, w := range want {
				if !strings.Contains(page, w) {
					t.Errorf("%s: the page after a refused review does not say %q:\n%s", lang, w, page)
				}
			}
			return page
		}
		l, err := staff.leads.GetLead(staff.ctx(t), &innonetpb.GetLeadRequest{Id: lead.Id})
		if err != nil || l.Stage != innonetpb.Stage_RETURNED {
			t.Fatalf("the lead: %v %v, want it RETURNED", l.GetStage(), err)
		}
		ver := strconv.FormatInt(l.Version, 10)
		// A return without its question: refused for the comment, with
		// none of the API's English left in Chinese.
		api := "comment: is required when the decision is RETURN"
		page := refused("zh", url.Values{"decision": {"RETURN"}, "version": {ver}}, "请检查字段“说明”", "请在“给站点的意见”中写下问题")
		if strings.Contains(page, api) {
			t.Errorf("the Chinese page shows the API's English %q", api)
		}
		refused("en", url.Values{"decision": {"RETURN"}, "version": {ver}}, "Check the field “comment”", "write the question in the comment")
		// The lead was returned: no review now, in words of its stage.
		refused("zh", url.Values{"decision": {"APPROVE"}, "version": {ver}}, "目前无法执行此操作",
			"线索 "+lead.Id+" 现为“已退回”：只有“待审核”的线索才能审核。")
		refused("en", url.Values{"decision": {"APPROVE"}, "version": {ver}}, "This cannot be done now",
			"Lead "+lead.Id+" is Returned now: only Submitted leads can be reviewed.")
		// A page older than the lead.
		refused("zh", url.Values{"decision": {"APPROVE"}, "version": {"1"}}, "在此期间已被修改（现为第 "+ver+" 版，本页显示的是第 1 版）")
		refused("en", url.Values{"decision": {"APPROVE"}, "version": {"1"}}, "changed meanwhile (it is now at version "+ver+"; this page showed version 1)")
		b.setLang("zh", "/")
	})

	t.Run("admin screens and a backup", func(t *testing.T) {
		ab := newBrowser(t, site, testAdminToken)
		code, page := ab.get("/admin/cluster")
		if code != 200 || !strings.Contains(page, "CGO") || !strings.Contains(page, "MUC") || !strings.Contains(page, "download-backup") ||
			!strings.Contains(page, `id="placement-mode"`) {
			t.Fatalf("cluster page: %d\n%s", code, page)
		}
		code, page = ab.get("/admin/backup")
		if code != 200 || !strings.Contains(page, lead.Id) {
			t.Fatalf("backup download: %d, %d bytes", code, len(page))
		}
		code, _ = b.get("/admin/backup")
		if code != http.StatusForbidden {
			t.Fatalf("backup by an HQ reviewer: %d, want 403", code)
		}

		code, page = ab.get("/admin/sites")
		if code != 200 || !strings.Contains(page, `value="MUC"`) {
			t.Fatalf("sites page: %d\n%s", code, page)
		}
		code, _, body := ab.post("/admin/sites", url.Values{"csrf": {csrfIn(t, page)}, "rid": {rid()}, "parent": {"MUC"},
			"code": {"muc-x"}, "name": {"Bad code"}, "kind": {"UNIVERSITY"}})
		if code != http.StatusBadRequest || !strings.Contains(body, "code") {
			t.Fatalf("a bad sub-node code: %d\n%s", code, body)
		}
		code, loc, body := ab.post("/admin/sites", url.Values{"csrf": {csrfIn(t, page)}, "rid": {rid()}, "parent": {"MUC"},
			"code": {"MUC-LMU"}, "name": {"LMU München"}, "kind": {"UNIVERSITY"}})
		if code != http.StatusSeeOther || loc != "/admin/sites" {
			t.Fatalf("add a sub-node: %d %q\n%s", code, loc, body)
		}
		admin := tc.clients(tc.leaderNode(), testAdminToken)
		ss, err := admin.clusters.ListSites(admin.ctx(t), &innonetpb.ListSitesRequest{})
		if err != nil || !strings.Contains(ss.String(), "MUC-LMU") {
			t.Fatalf("API after adding a sub-node: %v %v", ss, err)
		}
	})

	t.Run("node staff answer and resubmit", func(t *testing.T) {
		nb := newBrowser(t, site, muc)
		var page string
		eventually(t, 10e9, "returned lead on the node's home", func() error {
			var code int
			code, page = nb.get("/")
			if code != 200 || !strings.Contains(page, "Wer hält die Patente?") {
				return &pageError{code, page}
			}
			return nil
		})
		code, _, body := nb.post("/leads/"+lead.Id+"/reply", url.Values{"csrf": {csrfIn(t, page)}, "rid": {rid()},
			"version": {"2"}, "comment": {"Die TU München."}, "summary": {"A test lead, patents held by TUM."}})
		if code != http.StatusSeeOther {
			t.Fatalf("reply: %d\n%s", code, body)
		}
		l, err := staff.leads.GetLead(staff.ctx(t), &innonetpb.GetLeadRequest{Id: lead.Id})
		if err != nil || l.Stage != innonetpb.Stage_SUBMITTED || !strings.Contains(l.Summary, "TUM") {
			t.Fatalf("API after reply: %v %q %v", l.GetStage(), l.GetSummary(), err)
		}
	})
}

type pageError struct {
	code int
	page string
}

func (e *pageError) Error() string {
	p := e.page
	if len(p) > 3000 {
		p = p[:3000]
	}
	return http.StatusText(e.code) + "\n" + p
}

// TestConsoleSignIn goes through an invitation, sign-in and sign-out in
// the console over plain HTTP, and checks that failed sign-ins are
// throttled like failed tokens, with a page a person can read.
func TestConsoleSignIn(t *testing.T) {
	tc := newTestCluster(t, []string{"CGO", "MUC", "BOS"}, nil, withLimits(func(l *Limits) { l.AuthFailures = 5 }))
	admin := tc.clients(tc.leaderNode(), testAdminToken)
	inv, err := admin.users.InviteUser(admin.ctx(t), &innonetpb.InviteUserRequest{RequestId: rid(), Name: "Noa Levi",
		Role: innonetpb.Role_NODE_STAFF, Site: "TLV"})
	if err != nil {
		t.Fatal(err)
	}
	site := tc.follower(false)
	b := newBrowser(t, site, "")
	b.c.Jar.SetCookies(&url.URL{Scheme: "http", Host: site.Addr()}, nil)

	code, page := b.get("/invite/" + inv.Code)
	if code != 200 {
		t.Fatalf("invitation page: %d\n%s", code, page)
	}
	csrf := csrfIn(t, page)
	code, _, body := b.post("/invite/"+inv.Code, url.Values{"csrf": {csrf}, "password": {"short"}, "password2": {"short"}})
	if code != http.StatusBadRequest || !strings.Contains(body, "password") {
		t.Fatalf("a too-short password: %d\n%s", code, body)
	}
	code, _, body = b.post("/invite/"+inv.Code, url.Values{"csrf": {csrf}, "password": {"olive tree 2026"}, "password2": {"olive tree 2027"}})
	if code != http.StatusBadRequest || !strings.Contains(body, "differ") {
		t.Fatalf("two different passwords: %d\n%s", code, body)
	}
	code, loc, body := b.post("/invite/"+inv.Code, url.Values{"csrf": {csrf}, "password": {"olive tree 2026"}, "password2": {"olive tree 2026"}})
	if code != http.StatusSeeOther || !strings.HasPrefix(loc, "/signin") {
		t.Fatalf("set password: %d %q\n%s", code, loc, body)
	}
	code, _, _ = b.post("/invite/"+inv.Code, url.Values{"csrf": {csrf}, "password": {"another one 2026"}, "password2": {"another one 2026"}})
	if code == http.StatusSeeOther {
		t.Fatal("an invitation worked twice")
	}

	_, page = b.get("/signin")
	csrf = csrfIn(t, page)
	code, _, body = b.post("/signin", url.Values{"csrf": {csrf}, "name": {"Noa Levi"}, "password": {"wrong password"}})
	if code != http.StatusUnauthorized || !strings.Contains(body, "Wrong name or password") {
		t.Fatalf("wrong password: %d\n%s", code, body)
	}
	code, loc, body = b.post("/signin", url.Values{"csrf": {csrf}, "name": {"Noa Levi"}, "password": {"olive tree 2026"}, "next": {"/leads"}})
	if code != http.StatusSeeOther || loc != "/leads" {
		t.Fatalf("sign in: %d %q\n%s", code, loc, body)
	}
	var token string
	for _, c := range b.c.Jar.Cookies(&url.URL{Scheme: "http", Host: site.Addr()}) {
		if c.Name == "innonet_session" {
			token = c.Value
		}
	}
	if token == "" {
		t.Fatal("no session cookie after signing in")
	}
	code, page = b.get("/")
	if code != 200 || !strings.Contains(page, "Noa Levi") {
		t.Fatalf("home after sign-in: %d\n%s", code, page)
	}
	code, loc, _ = b.post("/signout", url.Values{"csrf": {csrfIn(t, page)}})
	if code != http.StatusSeeOther || !strings.Contains(loc, "signedout") {
		t.Fatalf("sign out: %d %q", code, loc)
	}
	for _, id := range tc.order {
		n := tc.node(id)
		eventually(t, 10e9, "the signed-out session refused at "+id, func() error {
			ob := newBrowser(t, n, token)
			// Sent to sign in, or, after a few such refusals while this
			// polls, blocked for its failed authentications: refused
			// either way.
			if code, page := ob.get("/"); code != http.StatusSeeOther && code != http.StatusTooManyRequests {
				return &pageError{code, page}
			}
			return nil
		})
	}

	// Failed sign-ins from one address are throttled; the browser is shown
	// a page, in both languages, not the API's JSON.
	_, page = b.get("/signin")
	csrf = csrfIn(t, page)
	var last int
	var lastBody string
	for range 8 {
		req, _ := http.NewRequest(http.MethodPost, b.base+"/signin", strings.NewReader(url.Values{"csrf": {csrf}, "name": {"Noa Levi"}, "password": {"guess"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Accept", "text/html,application/xhtml+xml")
		resp, err := b.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		last, lastBody = resp.StatusCode, string(body)
		if last == http.StatusTooManyRequests {
			break
		}
	}
	if last != http.StatusTooManyRequests || !strings.Contains(lastBody, "Too many attempts") || !strings.Contains(lastBody, "尝试次数过多") {
		t.Fatalf("repeated wrong passwords: %d\n%s", last, lastBody)
	}
}

// TestConsoleDuplicatesAndMatches goes through the duplicate warning, the
// merge and its refusals, a lead's division matches, "matches for us" and
// the division profiles, for each role and in both languages, over plain
// HTTP (no JavaScript: every form posts).
func TestConsoleDuplicatesAndMatches(t *testing.T) {
	tc := newTestCluster(t, []string{"CGO", "MUC", "BOS"}, nil)
	waitFormat2(tc, tc.leaderNode())
	hqTok := tc.addUser("Li Wei", innonetpb.Role_HQ_REVIEWER, "", "")
	mucTok := tc.addUser("Lukas", innonetpb.Role_NODE_STAFF, "MUC", "")
	bosTok := tc.addUser("Beth", innonetpb.Role_NODE_STAFF, "BOS", "")
	bohaiTok := tc.addUser("Bo Hai", innonetpb.Role_DIVISION, "", "BOHAI")
	yrdTok := tc.addUser("Yang Delta", innonetpb.Role_DIVISION, "", "YRD")
	leader := tc.leaderNode()
	hqAPI, mucAPI, yrdAPI := tc.clients(leader, hqTok), tc.clients(leader, mucTok), tc.clients(leader, yrdTok)
	bohaiAPI := tc.clients(leader, bohaiTok)
	if _, err := bohaiAPI.divisions.UpdateDivisionProfile(bohaiAPI.ctx(t), &innonetpb.UpdateDivisionProfileRequest{Division: "BOHAI", RequestId: rid(),
		Sectors: []innonetpb.Sector{innonetpb.Sector_NEW_ENERGY_VEHICLES}, Keywords: []string{"储氢", "metal hydride"}, TrlMin: 4, TrlMax: 8,
		Enterprises: []*innonetpb.Enterprise{{Name: "天津港氢能物流有限公司", NameEn: "Tianjin Port Hydrogen Logistics", City: "天津",
			Needs: "叉车和港口设备的储氢方案", NeedsEn: "hydrogen storage for forklifts and port equipment"}}}); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := mucAPI.leads.SubmitLead(mucAPI.ctx(t), sampleLead(fmt.Sprintf("Antibody assay %d", i))); err != nil {
			t.Fatal(err)
		}
	}
	first, err := mucAPI.leads.SubmitLead(mucAPI.ctx(t), hydroSolid("HydroSolid GmbH", "https://hydrosolid.de", "anna@hydrosolid.de"))
	if err != nil {
		t.Fatal(err)
	}
	chip := sampleLead("Open-source EDA for analog chip layout")
	worked, err := mucAPI.leads.SubmitLead(mucAPI.ctx(t), chip)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{first.Id, worked.Id} {
		if _, err := hqAPI.leads.ReviewLead(hqAPI.ctx(t), &innonetpb.ReviewLeadRequest{Id: id, RequestId: rid(), Decision: innonetpb.Decision_APPROVE}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := yrdAPI.leads.ClaimLead(yrdAPI.ctx(t), &innonetpb.ClaimLeadRequest{Id: worked.Id, RequestId: rid()}); err != nil {
		t.Fatal(err)
	}
	site := tc.follower(false)
	as := func(token, lang string) *browser {
		b := newBrowser(t, site, token)
		u, _ := url.Parse(b.base)
		b.c.Jar.SetCookies(u, []*http.Cookie{{Name: "innonet_lang", Value: lang, Path: "/"}})
		return b
	}
	// page waits until path answers want with every one of the words.
	page := func(b *browser, path string, want int, words ...string) string {
		t.Helper()
		var body string
		eventually(t, 10e9, path+" shows "+strings.Join(words, ", "), func() error {
			var code int
			code, body = b.get(path)
			if code != want {
				return &pageError{code, body}
			}
			for _, w := range words {
				if !strings.Contains(body, w) {
					return &pageError{code, "no " + w + " in\n" + body}
				}
			}
			return nil
		})
		return body
	}

	// Boston types the same startup: the check answers, as the form
	// types, that a lead of Munich describes it, without saying more.
	draft := url.Values{"title": {"Metal hydride hydrogen storage"}, "org_name": {"HydroSolid Technologies Inc."},
		"organization_id": {"new"}, "org_kind": {"STARTUP"}, "contact_name": {"Anna Weber"}, "contact_email": {"a.weber@hydrosolid.de"}, "tags": {"hydrogen storage, metal hydride"},
		"country": {"DE"}, "sector": {"NEW_ENERGY_VEHICLES"}, "trl": {"6"}, "deal_type": {"JOINT_VENTURE"}, "language": {"en"}}
	for _, lang := range []struct{ code, hidden, reason string }{
		{"en", "A lead of Munich (" + first.Id + ") already describes this organisation.", "The same e-mail domain"},
		{"zh", "慕尼黑 的一条线索（" + first.Id + "）已描述了这家机构。", "同一邮箱域名"},
	} {
		b := as(bosTok, lang.code)
		_, form := b.get("/leads/new")
		if !strings.Contains(form, `name="website"`) || !strings.Contains(form, `data-dupcheck="/leads/check-duplicates"`) {
			t.Fatalf("submit form has no website or duplicate check:\n%s", form)
		}
		f := withField(draft, "csrf", csrfIn(t, form))
		var frag string
		eventually(t, 10e9, "the duplicate warning", func() error {
			code, _, body := b.post("/leads/check-duplicates", f)
			frag = body
			if code != 200 || !strings.Contains(body, lang.hidden) {
				return &pageError{code, body}
			}
			return nil
		})
		if !strings.Contains(frag, lang.reason) || strings.Contains(frag, first.Title) || strings.Contains(frag, `href="/leads/`+first.Id) {
			t.Fatalf("warning to Boston (%s):\n%s", lang.code, frag)
		}
		if code, _, _ := b.post("/leads/check-duplicates", url.Values{"title": {"x"}}); code != http.StatusForbidden {
			t.Errorf("a check without the CSRF token: %d, want 403", code)
		}
	}
	// Submitted without JavaScript, the lead's page names the duplicates
	// the submit was answered with.
	bos := as(bosTok, "en")
	_, form := bos.get("/leads/new")
	f := withField(draft, "csrf", csrfIn(t, form))
	f.Set("rid", rid())
	f.Set("summary", "HydroSolid stores hydrogen at low pressure in metal hydride pellets for forklifts.")
	f.Set("website", "hydrosolid.de")
	code, loc, body := bos.post("/leads/new", f)
	if code != http.StatusSeeOther || !strings.HasPrefix(loc, "/leads/BOS-") {
		t.Fatalf("submit: %d %q\n%s", code, loc, body)
	}
	dupID := strings.TrimPrefix(loc, "/leads/")
	if _, p := bos.get(loc); !strings.Contains(p, `id="dup-notice"`) || !strings.Contains(p, first.Id) {
		t.Fatalf("the new lead's page names no duplicates:\n%s", p)
	}

	// The edit form checks too, leaving the lead itself out, and the page
	// after an edit names the duplicates.
	code, _, body = bos.post("/leads/check-duplicates", url.Values{"csrf": {f.Get("csrf")}, "id": {dupID}, "version": {"1"},
		"title": {"Metal hydride hydrogen storage"}, "website": {"https://hydrosolid.de"}})
	if code != 200 || !strings.Contains(body, first.Id) || strings.Contains(body, dupID) {
		t.Fatalf("the edit form's check: %d\n%s", code, body)
	}
	code, _, body = bos.post("/leads/"+dupID+"/edit", url.Values{"csrf": {f.Get("csrf")}, "rid": {rid()}, "version": {"1"},
		"title": {"Metal hydride hydrogen storage"}, "website": {"www.hydrosolid.de"}})
	if code != http.StatusSeeOther {
		t.Fatalf("edit: %d\n%s", code, body)
	}
	if _, p := bos.get("/leads/" + dupID); !strings.Contains(p, `id="dup-notice"`) || !strings.Contains(p, "https://www.hydrosolid.de") {
		t.Fatalf("the page after an edit:\n%s", p)
	}

	// HQ sees both leads, and how each fits the divisions.
	for _, lang := range []struct{ code, similar, matches, reason string }{
		{"en", "Similar leads", "Division matches", "same website domain hydrosolid.de"},
		{"zh", "相似线索", "事业部匹配", "网站域名相同：hydrosolid.de"},
	} {
		hq := as(hqTok, lang.code)
		p := page(hq, "/leads/"+dupID, 200, lang.similar, `href="/leads/`+first.Id+`"`, first.Title, lang.reason, lang.matches, `data-division="BOHAI"`)
		if lang.code == "zh" && !strings.Contains(p, "天津港氢能物流有限公司") {
			t.Errorf("the Chinese match names the enterprise in English:\n%s", p)
		}
	}

	// HQ's merge: the refusals in the user's language, changing nothing.
	hq := as(hqTok, "zh")
	p := page(hq, "/leads/"+dupID, 200, `id="merge-form"`)
	csrf := csrfIn(t, p)
	mergeForm := func(from, into string, confirm bool) url.Values {
		v := url.Values{"csrf": {csrf}, "rid": {rid()}, "into": {into}, "comment": {"Same startup as " + into}}
		if confirm {
			v.Set("confirm", "yes")
		}
		return v
	}
	for _, c := range []struct {
		name, from, into string
		confirm          bool
		want             string
	}{
		{"into itself", dupID, dupID, false, "线索不能合并到自身"},
		{"into itself, confirmed", dupID, dupID, true, "线索不能合并到自身"},
		{"into no lead", dupID, "MUC-9999", false, "没有线索 MUC-9999"},
		{"into no lead, confirmed", dupID, "MUC-9999", true, "没有线索 MUC-9999"},
		{"a claimed lead", worked.Id, dupID, true, "事业部正在跟进的线索不能被合并掉"},
	} {
		code, loc, body := hq.post("/leads/"+c.from+"/merge", mergeForm(c.from, c.into, c.confirm))
		if code != http.StatusSeeOther {
			t.Fatalf("%s: %d\n%s", c.name, code, body)
		}
		if _, p := hq.get(loc); !strings.Contains(p, c.want) {
			t.Errorf("%s: the page does not say %q:\n%s", c.name, c.want, p)
		}
	}
	for _, id := range []string{dupID, worked.Id} {
		if l, err := hqAPI.leads.GetLead(hqAPI.ctx(t), &innonetpb.GetLeadRequest{Id: id}); err != nil || l.Stage == innonetpb.Stage_MERGED {
			t.Fatalf("%s after refused merges: %v %v", id, l.GetStage(), err)
		}
	}
	// The confirmation shows both; confirmed, the duplicate points at the
	// survivor, which lists it.
	code, body = hq.get("/leads/" + dupID + "/merge?into=" + strings.ToLower(first.Id) + "&comment=same")
	if code != 200 || !strings.Contains(body, "将 "+dupID+" 合并到 "+first.Id) || !strings.Contains(body, `name="confirm" value="yes"`) {
		t.Fatalf("merge confirmation: %d\n%s", code, body)
	}
	code, loc, body = hq.post("/leads/"+dupID+"/merge", mergeForm(dupID, first.Id, true))
	if code != http.StatusSeeOther || loc != "/leads/"+first.Id {
		t.Fatalf("merge: %d %q\n%s", code, loc, body)
	}
	page(hq, loc, 200, "已合并到 "+first.Id, `id="merged-from"`, `href="/leads/`+dupID+`"`, "并入了一条重复线索")
	page(hq, "/leads/"+dupID, 200, `id="merged-banner"`, `href="/leads/`+first.Id+`"`, "已合并到另一条线索")
	code, _ = hq.get("/leads/" + worked.Id + "/merge?into=" + dupID)
	if _, p := hq.get("/leads/" + worked.Id); code != http.StatusSeeOther || !strings.Contains(p, "本身已合并到 "+first.Id) {
		t.Errorf("merge into a merged lead: %d\n%s", code, p)
	}
	page(as(hqTok, "en"), "/leads?stage=MERGED", 200, dupID, "Merged", `value="MERGED" checked`)
	page(as(hqTok, "zh"), "/leads?view=board&stage=MERGED", 200, dupID, `data-stage="MERGED"`)

	// Matches for us: the division's published leads, best first, with why.
	for _, lang := range []struct{ code, title, reason string }{
		{"en", "Matches for Bohai Rim", "keywords"},
		{"zh", "环渤海事业部的匹配线索", "关键词"},
	} {
		p := page(as(bohaiTok, lang.code), "/matches", 200, lang.title, first.Id, lang.reason, `<meter`)
		if strings.Contains(p, worked.Id) {
			t.Errorf("matches list a claimed lead:\n%s", p)
		}
		page(as(hqTok, lang.code), "/matches?division=BOHAI", 200, first.Id, `id="matches-division"`)
		page(as(mucTok, lang.code), "/matches", http.StatusForbidden)
		page(as(bohaiTok, lang.code), "/matches?division=NOPE", http.StatusBadRequest, "NOPE")
	}

	// Every role's pages, in both languages.
	for _, lang := range []string{"en", "zh"} {
		for _, tok := range []string{hqTok, mucTok, bohaiTok, yrdTok} {
			b := as(tok, lang)
			page(b, "/", 200)
			page(b, "/leads/"+first.Id, 200, `id="matches"`, `data-division="BOHAI"`)
			page(b, "/leads?stage=MERGED", 200)
		}
	}

	// Division profiles: everyone reads them; the division and HQ edit.
	for _, lang := range []string{"en", "zh"} {
		for _, tok := range []string{hqTok, mucTok, bohaiTok, yrdTok} {
			b := as(tok, lang)
			page(b, "/divisions", 200, `data-division="BOHAI"`, "metal hydride")
			page(b, "/divisions/BOHAI", 200, "天津港氢能物流有限公司", "Tianjin Port Hydrogen Logistics")
		}
		page(as(yrdTok, lang), "/divisions/BOHAI/edit", http.StatusForbidden)
		page(as(hqTok, lang), "/divisions/BOHAI/edit", 200, `id="profile-form"`, "天津港氢能物流有限公司")
		page(as(yrdTok, lang), "/divisions/NOPE", http.StatusNotFound)
	}
	yrd := as(yrdTok, "zh")
	p = page(yrd, "/divisions/YRD/edit", 200, `id="profile-form"`)
	profile := url.Values{"csrf": {csrfIn(t, p)}, "rid": {rid()}, "version": {"0"}, "sector": {"ELECTRONICS_SEMICONDUCTORS", "IT_AI", ""},
		"keywords": {"芯片\nEDA, chip"}, "trl_min": {"7"}, "trl_max": {"3"}, "deal_type": {"TECHNOLOGY_LICENSING"},
		"ent_name": {"苏州芯片设计有限公司", ""}, "ent_name_en": {"Suzhou Chip Design", ""}, "ent_city": {"苏州", ""},
		"ent_needs": {"模拟版图自动化", ""}, "ent_needs_en": {"analog layout automation", ""}, "notes": {"长三角"}}
	code, _, body = yrd.post("/divisions/YRD", profile)
	if code != http.StatusBadRequest || !strings.Contains(body, "最高技术成熟度") || !strings.Contains(body, "苏州芯片设计有限公司") {
		t.Fatalf("a profile with TRL 7–3: %d\n%s", code, body)
	}
	if p, err := yrdAPI.divisions.GetDivisionProfile(yrdAPI.ctx(t), &innonetpb.GetDivisionProfileRequest{Division: "YRD"}); err != nil || p.Version != 0 {
		t.Fatalf("YRD's profile after a refused save: %v %v", p, err)
	}
	profile.Set("trl_min", "abc")
	if code, _, body = yrd.post("/divisions/YRD", profile); code != http.StatusBadRequest || !strings.Contains(body, "最低技术成熟度") {
		t.Fatalf("a profile with TRL abc: %d\n%s", code, body)
	}
	profile.Set("more", "1")
	if code, _, body = yrd.post("/divisions/YRD", profile); code != 200 || strings.Count(body, `name="ent_name"`) != 4 {
		t.Fatalf("more rows: %d, %d rows\n%s", code, strings.Count(body, `name="ent_name"`), body)
	}
	profile.Del("more")
	profile.Set("trl_min", "3")
	profile.Set("trl_max", "7")
	code, loc, body = yrd.post("/divisions/YRD", profile)
	if code != http.StatusSeeOther || loc != "/divisions/YRD" {
		t.Fatalf("save the profile: %d %q\n%s", code, loc, body)
	}
	page(yrd, loc, 200, "已保存", "苏州芯片设计有限公司", "EDA")
	got, err := yrdAPI.divisions.GetDivisionProfile(yrdAPI.ctx(t), &innonetpb.GetDivisionProfileRequest{Division: "YRD"})
	if err != nil || got.Version != 1 || len(got.Keywords) != 3 || len(got.Enterprises) != 1 || len(got.Sectors) != 2 || got.TrlMin != 3 {
		t.Fatalf("YRD's profile after the save: %v %v", got, err)
	}
	// A save over a version the editor has not seen is explained, and
	// keeps what was typed.
	if _, err := hqAPI.divisions.UpdateDivisionProfile(hqAPI.ctx(t), &innonetpb.UpdateDivisionProfileRequest{Division: "YRD", RequestId: rid(),
		ExpectedVersion: 1, Keywords: []string{"chip", "HQ's word"}, Enterprises: []*innonetpb.Enterprise{{Name: "苏州芯片设计有限公司"}}}); err != nil {
		t.Fatal(err)
	}
	profile.Set("rid", rid())
	profile.Set("version", "1")
	profile.Set("notes", "mine")
	code, _, body = yrd.post("/divisions/YRD", profile)
	if code != http.StatusConflict || !strings.Contains(body, "未保存") || !strings.Contains(body, `id="current-profile"`) ||
		!strings.Contains(body, "HQ&#39;s word") || !strings.Contains(body, ">mine<") || !strings.Contains(body, `name="version" value="2"`) {
		t.Fatalf("a save over a newer profile: %d\n%s", code, body)
	}
	// Removing the enterprise.
	p = page(yrd, "/divisions/YRD/edit", 200, "苏州芯片设计有限公司")
	rm := url.Values{"csrf": {csrfIn(t, p)}, "rid": {rid()}, "version": {"2"}, "keywords": {"chip"}, "ent_name": {"苏州芯片设计有限公司"},
		"ent_name_en": {""}, "ent_city": {""}, "ent_needs": {""}, "ent_needs_en": {""}, "ent_remove": {"0"}}
	if code, _, body = yrd.post("/divisions/YRD", rm); code != http.StatusSeeOther {
		t.Fatalf("remove an enterprise: %d\n%s", code, body)
	}
	if got, err := yrdAPI.divisions.GetDivisionProfile(yrdAPI.ctx(t), &innonetpb.GetDivisionProfileRequest{Division: "YRD"}); err != nil || len(got.Enterprises) != 0 || got.Version != 3 {
		t.Fatalf("YRD's profile after removing the enterprise: %v %v", got, err)
	}
}

// withField is a copy of form with one field set.
func withField(form url.Values, k, v string) url.Values {
	out := url.Values{}
	for key, vs := range form {
		out[key] = append([]string(nil), vs...)
	}
	out.Set(k, v)
	return out
}

// TestConsoleReports renders the dashboards of every role in both
// languages, saves HQ's targets, stage limits and a calendar year through
// their forms (and refuses bad input, changing nothing), and downloads
// the exports.
func TestConsoleReports(t *testing.T) {
	tc := newTestCluster(t, []string{"CGO", "MUC"}, nil)
	leader := tc.leaderNode()
	waitFormat2(tc, leader)
	hqTok := tc.addUser("Hui Reviewer", innonetpb.Role_HQ_REVIEWER, "", "")
	mucTok := tc.addUser("Max Munich", innonetpb.Role_NODE_STAFF, "MUC", "")
	yrdTok := tc.addUser("Yang Delta", innonetpb.Role_DIVISION, "", "YRD")
	hq, muc, yrd := tc.clients(leader, hqTok), tc.clients(leader, mucTok), tc.clients(leader, yrdTok)
	var ids []string
	for i := range 3 {
		l, err := muc.leads.SubmitLead(muc.ctx(t), sampleLead(fmt.Sprintf("Reported lead %d", i)))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, l.Id)
	}
	if _, err := hq.leads.ReviewLead(hq.ctx(t), &innonetpb.ReviewLeadRequest{Id: ids[0], RequestId: rid(), Decision: innonetpb.Decision_APPROVE}); err != nil {
		t.Fatal(err)
	}
	if _, err := yrd.leads.ClaimLead(yrd.ctx(t), &innonetpb.ClaimLeadRequest{Id: ids[0], RequestId: rid()}); err != nil {
		t.Fatal(err)
	}
	site := leader
	b := newBrowser(t, site, hqTok)
	year := strconv.Itoa(time.Now().In(mustLoc(t, "Asia/Shanghai")).Year())

	t.Run("dashboards", func(t *testing.T) {
		for _, c := range []struct {
			role  string
			token string
			want  map[string][]string
		}{
			{"hq", hqTok, map[string][]string{"en": {"By node", "By division", "Funnel", "Over or near the stage limit", `id="funnel-chart"`, "Munich"},
				"zh": {"按节点", "按事业部", "漏斗", "超时或即将到期", "慕尼黑"}}},
			{"node", mucTok, map[string][]string{"en": {"Munich", "Funnel", `id="progress-own"`}, "zh": {"漏斗", `id="progress-own"`}}},
			{"division", yrdTok, map[string][]string{"en": {"Yangtze River Delta", "Funnel", `id="progress-own"`}, "zh": {"长三角", "漏斗"}}},
		} {
			for lang, want := range c.want {
				t.Run(c.role+"/"+lang, func(t *testing.T) {
					code, page := newBrowser(t, site, c.token).get("/reports", "Accept-Language", lang)
					if code != 200 {
						t.Fatalf("GET /reports: %d\n%s", code, page)
					}
					for _, w := range append(want, `id="nav-reports"`, `id="export-funnel-csv"`, `id="monthly-form"`) {
						if !strings.Contains(page, w) {
							t.Errorf("the %s dashboard in %s lacks %q", c.role, lang, w)
						}
					}
				})
			}
		}
		for _, bad := range []string{"/reports?from=yesterday", "/reports?group=colour", "/reports?from=2026-05-01&to=2026-04-01", "/reports?year=3000", "/reports?colour=red"} {
			if code, page := b.get(bad); code != http.StatusBadRequest {
				t.Errorf("GET %s: %d, want 400\n%s", bad, code, page)
			}
		}
		code, page := b.get("/reports?from=" + year + "-01-01&group=division&group=sector")
		if code != 200 || !strings.Contains(page, `<option value="sector" selected>`) {
			t.Fatalf("the funnel by division then sector: %d\n%s", code, page)
		}
	})

	t.Run("targets", func(t *testing.T) {
		code, page := b.get("/settings/targets?year=" + year)
		if code != 200 || !strings.Contains(page, `id="targets-form"`) {
			t.Fatalf("targets page: %d\n%s", code, page)
		}
		form := url.Values{"csrf": {csrfIn(t, page)}, "rid": {rid()}, "version": {"0"}, "year": {year},
			"scope": {"NETWORK", "SITE", "DIVISION", ""}, "code": {"", "muc", "YRD", ""}, "pushed": {"100", "40", "", ""},
			"approved": {"60", "20", "30", ""}, "signed": {"10", "ten", "5", ""}, "landed": {"", "", "", ""},
			"investment": {"50000000", "", "", ""}, "currency": {"CNY", "", "", ""}, "jobs": {"200", "", "", ""}}
		// A word where a number goes: the form again, with the row named.
		code, _, body := b.post("/settings/targets", form)
		if code != http.StatusBadRequest || !strings.Contains(body, "Row 2") || !strings.Contains(body, `value="ten"`) {
			t.Fatalf("a target of ten: %d\n%s", code, body)
		}
		if got, err := hq.reports.GetTargets(hq.ctx(t), &innonetpb.GetTargetsRequest{Year: mustAtoi(t, year)}); err != nil || got.Version != 0 {
			t.Fatalf("targets after a refused form: %v %v", got, err)
		}
		code, _, body = b.post("/settings/targets", withField(withList(form, "signed", "10", "", "5", ""), "rid", rid()))
		if code != http.StatusSeeOther {
			t.Fatalf("save the targets: %d\n%s", code, body)
		}
		got, err := hq.reports.GetTargets(hq.ctx(t), &innonetpb.GetTargetsRequest{Year: mustAtoi(t, year), Consistency: innonetpb.Consistency_LEADER})
		if err != nil || got.Version != 1 || len(got.Rows) != 3 || got.Rows[1].Code != "MUC" || got.Rows[0].Investment != "50000000" {
			t.Fatalf("targets saved: %v %v", got, err)
		}
		// Bad code: the API names the row.
		_, page = b.get("/settings/targets?year=" + year)
		form = url.Values{"csrf": {csrfIn(t, page)}, "rid": {rid()}, "version": {"1"}, "year": {year},
			"scope": {"SITE"}, "code": {"MUNICH-X-"}, "pushed": {"1"}}
		code, _, body = b.post("/settings/targets", form)
		if code != http.StatusBadRequest || !strings.Contains(body, "Row 1: check the Code") {
			t.Fatalf("a bad code: %d\n%s", code, body)
		}
		// Add rows without JavaScript.
		code, _, body = b.post("/settings/targets", withField(form, "more", "1"))
		if code != 200 || strings.Count(body, `name="scope"`) != 4 {
			t.Fatalf("add rows: %d, %d rows", code, strings.Count(body, `name="scope"`))
		}
		// Progress shows the targets.
		eventually(t, 10*time.Second, "the dashboard shows the targets", func() error {
			code, page := b.get("/reports")
			if code != 200 || !strings.Contains(page, "of 100") || !strings.Contains(page, `class="bar"`) {
				return &pageError{code, page}
			}
			return nil
		})
		// Only HQ saves.
		mb := newBrowser(t, site, mucTok)
		_, page = mb.get("/settings/targets")
		if code, _, _ := mb.post("/settings/targets", url.Values{"csrf": {csrfIn(t, page)}, "year": {year}}); code != http.StatusForbidden {
			t.Fatalf("node staff saving targets: %d", code)
		}
	})

	t.Run("stage limits", func(t *testing.T) {
		b.setLang("zh", "/settings/limits")
		code, page := b.get("/settings/limits")
		if code != 200 || !strings.Contains(page, "阶段时限") {
			t.Fatalf("limits page: %d\n%s", code, page)
		}
		form := url.Values{"csrf": {csrfIn(t, page)}, "rid": {rid()}, "limit_SUBMITTED": {"0"}, "limit_APPROVED": {"10"}, "near": {"30"}}
		code, _, body := b.post("/settings/limits", form)
		if code != http.StatusBadRequest || !strings.Contains(body, "时限须为 1 至 365") {
			t.Fatalf("a limit of 0: %d\n%s", code, body)
		}
		if s, err := hq.reports.GetSlaSettings(hq.ctx(t), &innonetpb.GetSlaSettingsRequest{}); err != nil || s.UpdatedByName != "" {
			t.Fatalf("limits after a refused form: %v %v", s, err)
		}
		code, loc, body := b.post("/settings/limits", withField(withField(form, "limit_SUBMITTED", "1"), "rid", rid()))
		if code != http.StatusSeeOther || loc != "/settings/limits" {
			t.Fatalf("save the limits: %d %q\n%s", code, loc, body)
		}
		var late *innonetpb.ListSlaBreachesResponse
		eventually(t, 10*time.Second, "leads near their limit", func() error {
			var err error
			late, err = hq.reports.ListSlaBreaches(hq.ctx(t), &innonetpb.ListSlaBreachesRequest{})
			if err == nil && len(late.Leads) == 0 {
				err = fmt.Errorf("no lead near its limit")
			}
			return err
		})
		id := late.Leads[0].Id
		eventually(t, 10*time.Second, "the dashboard lists the late leads", func() error {
			code, page := b.get("/reports")
			if code != 200 || !strings.Contains(page, id) || !strings.Contains(page, "待总部处理") {
				return &pageError{code, page}
			}
			return nil
		})
		code, page = b.get("/leads/" + id)
		if code != 200 || !strings.Contains(page, `id="lead-sla"`) || !strings.Contains(page, "阶段时限") {
			t.Fatalf("the lead's deadline: %d\n%s", code, page)
		}
		b.setLang("en", "/")
	})

	t.Run("calendars", func(t *testing.T) {
		code, page := b.get("/settings/calendars?calendar=CN&year=2026")
		if code != 200 || !strings.Contains(page, "2026-02-14") || !strings.Contains(page, `id="calendar-form"`) {
			t.Fatalf("China 2026: %d\n%s", code, page)
		}
		if code, page := b.get("/settings/calendars?calendar=US&year=2026"); code != 200 || strings.Contains(page, `id="calendar-form"`) {
			t.Fatalf("the US calendar offers a form to HQ: %d", code)
		}
		_, page = b.get("/settings/calendars?calendar=IL&year=2027")
		form := url.Values{"csrf": {csrfIn(t, page)}, "rid": {rid()}, "version": {"0"}, "calendar": {"IL"}, "year": {"2027"},
			"holidays": {"2027-10-02 Rosh Hashanah\n2027-13-01 Nope"}, "workdays": {""}, "official": {"1"}}
		code, _, body := b.post("/settings/calendars", form)
		if code != http.StatusBadRequest || !strings.Contains(body, "line 2") || !strings.Contains(body, "2027-13-01 Nope") {
			t.Fatalf("a bad date: %d\n%s", code, body)
		}
		code, _, body = b.post("/settings/calendars", withField(form, "holidays", "2028-01-01 Next year"))
		if code != http.StatusBadRequest || !strings.Contains(body, "is not in 2027") {
			t.Fatalf("a date of another year: %d\n%s", code, body)
		}
		if c, err := hq.reports.GetCalendarYear(hq.ctx(t), &innonetpb.GetCalendarYearRequest{Calendar: "IL", Year: 2027}); err != nil || c.Source != "BUILT_IN" {
			t.Fatalf("IL 2027 after refused forms: %v %v", c, err)
		}
		code, loc, body := b.post("/settings/calendars", withField(withField(form, "holidays", "2027-10-02 Rosh Hashanah\n2027-10-03 Rosh Hashanah II"), "rid", rid()))
		if code != http.StatusSeeOther || loc != "/settings/calendars?calendar=IL&year=2027" {
			t.Fatalf("save IL 2027: %d %q\n%s", code, loc, body)
		}
		c, err := hq.reports.GetCalendarYear(hq.ctx(t), &innonetpb.GetCalendarYearRequest{Calendar: "IL", Year: 2027})
		if err != nil || c.Source != "HQ" || len(c.Holidays) != 2 || !c.Official {
			t.Fatalf("IL 2027 saved: %v %v", c, err)
		}
		_, page = b.get("/settings/calendars?calendar=US&year=2026")
		if code, _, _ := b.post("/settings/calendars", url.Values{"csrf": {csrfIn(t, page)}, "calendar": {"US"}, "year": {"2026"}}); code != http.StatusForbidden {
			t.Fatalf("HQ editing the US calendar: %d", code)
		}
	})

	t.Run("exports", func(t *testing.T) {
		code, body := b.get("/export/funnel?format=csv&group=site", "Accept-Language", "en")
		if code != 200 || !strings.HasPrefix(body, "\uFEFFNode,Pushed,Approved") || !strings.Contains(body, "MUC,3,1") {
			t.Fatalf("funnel CSV: %d\n%s", code, body)
		}
		zb := newBrowser(t, site, hqTok)
		if code, body := zb.get("/export/targets?format=csv&year="+year, "Accept-Language", "zh-CN"); code != 200 || !strings.Contains(body, "范围,代码,推送目标") {
			t.Fatalf("targets CSV in Chinese: %d\n%s", code, body)
		}
		for _, path := range []string{"/export/monthly", "/export/leads?format=xlsx&stage=SUBMITTED", "/export/funnel?format=xlsx"} {
			code, body := b.get(path)
			if code != 200 {
				t.Fatalf("GET %s: %d\n%s", path, code, body)
			}
			f, err := excelize.OpenReader(strings.NewReader(body))
			if err != nil {
				t.Fatalf("%s is not a workbook: %v", path, err)
			}
			if path == "/export/monthly" && len(f.GetSheetList()) != 6 {
				t.Errorf("the monthly workbook's sheets: %v", f.GetSheetList())
			}
			f.Close()
		}
		code, body = newBrowser(t, site, mucTok).get("/export/leads?format=csv")
		if code != 200 || strings.Count(body, "\n") != 4 {
			t.Fatalf("MUC's leads as CSV: %d\n%s", code, body)
		}
		for _, bad := range []string{"/export/funnel?format=pdf", "/export/monthly?month=2026-13", "/export/leads?format=csv&colour=red", "/export/nothing?format=csv"} {
			if code, _ := b.get(bad); code != http.StatusBadRequest && code != http.StatusNotFound {
				t.Errorf("GET %s: %d, want a refusal", bad, code)
			}
		}
	})
}

// withList is a copy of form with one field's values replaced.
func withList(form url.Values, k string, vs ...string) url.Values {
	out := withField(form, k, "")
	out[k] = vs
	return out
}

func mustLoc(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func mustAtoi(t *testing.T, s string) int32 {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return int32(n)
}

// TestConsoleNotifications: the bell counts what a node is told when HQ
// returns its lead, the inbox lists it and marks it read, the
// preferences save and refuse bad input, and an admin's webhook logs a
// delivery.
func TestConsoleNotifications(t *testing.T) {
	tc := newTestCluster(t, []string{"CGO", "MUC", "BOS"}, nil)
	n := tc.leaderNode()
	waitFormat2(tc, n)
	hqTok := tc.addUser("Li Wei", innonetpb.Role_HQ_REVIEWER, "", "")
	mucTok := tc.addUser("Lukas", innonetpb.Role_NODE_STAFF, "MUC", "")
	divTok := tc.addUser("Chen Jie", innonetpb.Role_DIVISION, "", "YRD")
	staff, hq := tc.clients(n, mucTok), tc.clients(n, hqTok)
	site := tc.follower(false)
	bell := regexp.MustCompile(`id="bell-count">(\d+)<`)
	count := func(page string) int {
		m := bell.FindStringSubmatch(page)
		if m == nil {
			return 0
		}
		c, _ := strconv.Atoi(m[1])
		return c
	}
	waitPage := func(b *browser, path string, ok func(string) bool, what string) string {
		var page string
		eventually(t, 10*time.Second, path+": "+what, func() error {
			var code int
			code, page = b.get(path)
			if code != 200 || !ok(page) {
				return &pageError{code, page}
			}
			return nil
		})
		return page
	}

	t.Run("pages for each role in both languages", func(t *testing.T) {
		for _, who := range []struct{ name, token string }{{"hq", hqTok}, {"node", mucTok}, {"division", divTok}, {"admin", testAdminToken}} {
			b := newBrowser(t, site, who.token)
			paths := []string{"/inbox", "/inbox?unread=1", "/settings/notifications"}
			if who.token == testAdminToken {
				paths = append(paths, "/settings/webhooks")
			}
			for _, lang := range []struct{ code, want string }{{"zh", "通知"}, {"en", "Notification"}} {
				b.setLang(lang.code, "/")
				for _, p := range paths {
					code, page := b.get(p)
					if code != 200 || !strings.Contains(page, lang.want) || !strings.Contains(page, `id="bell"`) {
						t.Errorf("%s %s in %s: %d\n%s", who.name, p, lang.code, code, page)
					}
					if strings.Contains(page, "notekind.") || strings.Contains(page, "prefs.") || strings.Contains(page, "webhooks.") {
						t.Errorf("%s %s in %s shows a catalogue key", who.name, p, lang.code)
					}
				}
			}
		}
		code, _ := newBrowser(t, site, hqTok).get("/settings/webhooks")
		if code != http.StatusForbidden {
			t.Errorf("webhooks page for HQ: %d, want 403", code)
		}
	})

	lead, err := staff.leads.SubmitLead(staff.ctx(t), sampleLead("Seawater electrolysis"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := hq.leads.ReviewLead(hq.ctx(t), &innonetpb.ReviewLeadRequest{Id: lead.Id, RequestId: rid(),
		Decision: innonetpb.Decision_RETURN, Comment: "Who holds the patents?"}); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, site, mucTok)
	b.setLang("en", "/")

	t.Run("bell and mark all read", func(t *testing.T) {
		page := waitPage(b, "/", func(p string) bool { return count(p) == 1 }, "the bell counts 1")
		if !strings.Contains(page, `href="/inbox"`) {
			t.Fatalf("the bell does not link to /inbox:\n%s", page)
		}
		page = waitPage(b, "/inbox", func(p string) bool { return strings.Contains(p, "Who holds the patents?") }, "the question")
		if !strings.Contains(page, `href="/leads/`+lead.Id+`"`) || !strings.Contains(page, `class="note unread"`) {
			t.Fatalf("the inbox does not link the unread notification to the lead:\n%s", page)
		}
		if strings.Contains(page, "://") && strings.Contains(page, `href="http`) {
			t.Fatalf("the inbox links outside the console:\n%s", page)
		}
		// Looking marks nothing read.
		if _, page = b.get("/inbox"); count(page) != 1 {
			t.Fatalf("the bell after viewing the inbox: %d, want 1", count(page))
		}
		code, loc, _ := b.post("/inbox/read", url.Values{"csrf": {csrfIn(t, page)}, "rid": {rid()},
			"through": {regexp.MustCompile(`name="through" value="(\d+)"`).FindStringSubmatch(page)[1]}})
		if code != http.StatusSeeOther || loc != "/inbox" {
			t.Fatalf("mark all read: %d %q", code, loc)
		}
		page = waitPage(b, "/inbox", func(p string) bool { return count(p) == 0 && !strings.Contains(p, "note unread") }, "all read")
		if !strings.Contains(page, "Who holds the patents?") {
			t.Fatalf("the read notification is gone from the inbox:\n%s", page)
		}
		page = waitPage(b, "/inbox?unread=1", func(p string) bool {
			return strings.Contains(p, `id="notes-empty"`) || strings.Contains(p, "Nothing unread")
		}, "nothing unread")
		_ = page
	})

	t.Run("preferences save and refuse bad input", func(t *testing.T) {
		_, page := b.get("/settings/notifications")
		if !strings.Contains(page, `id="mode-defaults" checked`) || !strings.Contains(page, "default-kind") {
			t.Fatalf("preferences do not show the role's defaults:\n%s", page)
		}
		good := url.Values{"csrf": {csrfIn(t, page)}, "rid": {rid()}, "mode": {"custom"}, "kind": {"RETURNED", "DECLINED"},
			"email": {"lukas@example.org"}, "email_on": {"1"}, "delivery": {"digest"}, "hour": {"7"}, "zone": {"Europe/Berlin"}, "lang": {"en"}}
		for _, c := range []struct {
			field, value, want string
		}{
			{"zone_other", "Mars/Olympus", "is not a time zone name"},
			{"email", "not an address", "is not an e-mail address"},
			{"hour", "25", "must be from 0 to 23"},
		} {
			form := url.Values{}
			for k, v := range good {
				form[k] = v
			}
			form.Set(c.field, c.value)
			code, _, body := b.post("/settings/notifications", form)
			if code != http.StatusBadRequest || !strings.Contains(body, c.want) || !strings.Contains(body, "Nothing was saved") {
				t.Errorf("%s=%q: %d, want 400 saying %q\n%s", c.field, c.value, code, c.want, body)
			}
		}
		b.setLang("zh", "/")
		code, _, body := b.post("/settings/notifications", func() url.Values {
			f := url.Values{}
			for k, v := range good {
				f[k] = v
			}
			f.Set("zone_other", "Mars/Olympus")
			return f
		}())
		if code != http.StatusBadRequest || !strings.Contains(body, "不是时区名称") {
			t.Errorf("a bad zone in Chinese: %d\n%s", code, body)
		}
		b.setLang("en", "/")
		p, err := staff.notifications.GetNotificationPreferences(staff.ctx(t), &innonetpb.GetNotificationPreferencesRequest{})
		if err != nil || p.Email != "" || len(p.Kinds) != 0 {
			t.Fatalf("a refused form saved something: %v %v", p, err)
		}
		code, loc, _ := b.post("/settings/notifications", good)
		if code != http.StatusSeeOther || loc != "/settings/notifications" {
			t.Fatalf("save preferences: %d %q", code, loc)
		}
		p, err = staff.notifications.GetNotificationPreferences(staff.ctx(t), &innonetpb.GetNotificationPreferencesRequest{})
		if err != nil || p.Email != "lukas@example.org" || !p.EmailOn || !p.Digest || p.DigestHour != 7 || p.TimeZone != "Europe/Berlin" ||
			strings.Join(p.Kinds, ",") != "RETURNED,DECLINED" {
			t.Fatalf("saved preferences: %v %v", p, err)
		}
		page = waitPage(b, "/settings/notifications", func(p string) bool { return strings.Contains(p, `id="mode-custom" checked`) }, "custom kinds")
		if !strings.Contains(page, `value="lukas@example.org"`) || !strings.Contains(page, `value="Europe/Berlin" selected`) {
			t.Fatalf("the saved preferences are not shown:\n%s", page)
		}
		// Back to the defaults.
		form := url.Values{}
		for k, v := range good {
			form[k] = v
		}
		form.Set("mode", "defaults")
		form.Set("rid", rid())
		if code, _, body := b.post("/settings/notifications", form); code != http.StatusSeeOther {
			t.Fatalf("back to the defaults: %d\n%s", code, body)
		}
		if p, err = staff.notifications.GetNotificationPreferences(staff.ctx(t), &innonetpb.GetNotificationPreferencesRequest{}); err != nil || len(p.Kinds) != 0 {
			t.Fatalf("kinds after going back to the defaults: %v %v", p, err)
		}
	})

	t.Run("admin webhook and its delivery log", func(t *testing.T) {
		rcv := newReceiver(t, "a secret of sixteen+")
		ab := newBrowser(t, site, testAdminToken)
		ab.setLang("en", "/")
		_, page := ab.get("/settings/webhooks")
		form := url.Values{"csrf": {csrfIn(t, page)}, "rid": {rid()}, "url": {rcv.url}, "format": {"generic"}, "secret": {"short"}, "lang": {"en"}}
		code, _, body := ab.post("/settings/webhooks", form)
		if code != http.StatusBadRequest || !strings.Contains(body, "at least 16 characters") {
			t.Fatalf("a short secret: %d\n%s", code, body)
		}
		form.Set("secret", "a secret of sixteen+")
		code, loc, body := ab.post("/settings/webhooks", form)
		if code != http.StatusSeeOther || !strings.HasPrefix(loc, "/settings/webhooks/wh-") {
			t.Fatalf("create a webhook: %d %q\n%s", code, loc, body)
		}
		if _, err := staff.leads.SubmitLead(staff.ctx(t), sampleLead("Ceramic separator")); err != nil {
			t.Fatal(err)
		}
		page = waitPage(ab, loc, func(p string) bool { return strings.Contains(p, "redeliver-") && strings.Contains(p, "delivered") }, "a delivery")
		if len(rcv.got()) == 0 {
			t.Fatal("the receiver got nothing")
		}
		idx := regexp.MustCompile(`id="redeliver-(\d+)"`).FindStringSubmatch(page)[1]
		code, back, _ := ab.post(loc+"/redeliver", url.Values{"csrf": {csrfIn(t, page)}, "index": {idx}})
		if code != http.StatusSeeOther || back != loc {
			t.Fatalf("send again: %d %q", code, back)
		}
		eventually(t, 10*time.Second, "the delivery sent again", func() error {
			if got := rcv.got(); len(got) < 2 {
				return fmt.Errorf("receiver got %d deliveries", len(got))
			}
			return nil
		})
		_, page = ab.get("/settings/webhooks")
		id := strings.TrimPrefix(loc, "/settings/webhooks/")
		if !strings.Contains(page, rcv.url) {
			t.Fatalf("the list does not show the webhook:\n%s", page)
		}
		_, page = ab.get(loc + "/delete")
		if !strings.Contains(page, "Delete webhook "+id+"?") {
			t.Fatalf("no confirmation page:\n%s", page)
		}
		if code, back, _ := ab.post(loc+"/delete", url.Values{"csrf": {csrfIn(t, page)}, "rid": {rid()}}); code != http.StatusSeeOther || back != "/settings/webhooks" {
			t.Fatalf("delete: %d %q", code, back)
		}
		waitPage(ab, "/settings/webhooks", func(p string) bool { return !strings.Contains(p, rcv.url) }, "the webhook gone")
	})
}
