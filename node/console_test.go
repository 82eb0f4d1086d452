package node

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

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

	t.Run("return with a question, in Chinese", func(t *testing.T) {
		code, _, _ := b.post("/lang", url.Values{"lang": {"zh"}, "next": {"/leads/" + lead.Id}})
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

	t.Run("admin screens and a backup", func(t *testing.T) {
		ab := newBrowser(t, site, testAdminToken)
		code, page := ab.get("/admin/cluster")
		if code != 200 || !strings.Contains(page, "CGO") || !strings.Contains(page, "MUC") || !strings.Contains(page, "download-backup") {
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
			if code, page := ob.get("/"); code != http.StatusSeeOther {
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
