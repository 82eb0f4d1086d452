package node

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	innonetpb "innonet/proto/innonet/v1"
)

// sitesTree flattens a GET /v1/sites answer to "CODE(kind,member)" and
// "CODE>SUB" entries.
func sitesTree(t *testing.T, body map[string]any) []string {
	t.Helper()
	var out []string
	var walk func(list []any)
	walk = func(list []any) {
		for _, raw := range list {
			s := raw.(map[string]any)
			if s["parent"] == "" {
				out = append(out, fmt.Sprintf("%s(%s,%v)", s["code"], s["kind"], s["member"]))
			} else {
				out = append(out, fmt.Sprintf("%s>%s", s["parent"], s["code"]))
			}
			if subs, ok := s["subnodes"].([]any); ok {
				walk(subs)
			}
		}
	}
	walk(body["sites"].([]any))
	return out
}

// TestSiteRegistry: out of the box the leader registers the default
// topology and every member; an admin registers sub-nodes; node staff may
// only belong to registered sites (a typo is 400 naming the known ones);
// a sub-node's lead takes its site's numbers, counts for the site, and is
// seen and managed by the site's staff but not by a sibling sub-node's.
func TestSiteRegistry(t *testing.T) {
	tc := newTestCluster(t, []string{"CGO", "BOS"}, []string{"SIN"})
	tc.waitForSites()
	tc.waitFor("SIN registered", func() bool {
		_, err := tc.leaderNode().State().Site("SIN")
		return err == nil
	})
	follower := newRESTClient(tc.follower(false))
	hq := tc.addUser("Hu Qing", innonetpb.Role_HQ_REVIEWER, "", "")

	got := sitesTree(t, follower.ok(t, "GET", "/v1/sites", hq, nil))
	want := []string{"BOHAI(DIVISION,false)", "BOS(NODE,true)", "CBG(NODE,false)", "CGO(HQ,true)", "MUC(NODE,false)",
		"PRD(DIVISION,false)", "SIN(NODE,true)", "TLV(NODE,false)", "YRD(DIVISION,false)"}
	if !slices.Equal(got, want) {
		t.Errorf("GET /v1/sites = %v\nwant %v", got, want)
	}

	for _, s := range []map[string]any{
		{"requestId": rid(), "code": "MUC-TUM", "parent": "MUC", "name": "Technische Universität München", "kind": "UNIVERSITY"},
		{"requestId": rid(), "code": "MUC-LMU", "parent": "MUC", "name": "LMU München", "kind": "UNIVERSITY"},
		{"requestId": rid(), "code": "MUC-TUM-BAT", "parent": "MUC-TUM", "name": "TUM battery lab", "kind": "TEAM"},
	} {
		body := follower.ok(t, "POST", "/v1/sites", testAdminToken, s)
		if body["level"] == float64(1) || body["createdByName"] != "admin" || body["registered"] != true {
			t.Errorf("POST /v1/sites %v = %v, want a sub-node created by admin", s["code"], body)
		}
	}
	for _, tt := range []struct {
		name, token string
		body        any
		code        int
		msg         string
	}{
		{"by HQ", hq, map[string]any{"requestId": rid(), "code": "MUC-X1", "parent": "MUC", "name": "X", "kind": "TEAM"}, http.StatusForbidden, "ADMIN"},
		{"twice", testAdminToken, map[string]any{"requestId": rid(), "code": "MUC-TUM", "parent": "MUC", "name": "TUM", "kind": "UNIVERSITY"}, http.StatusConflict, "already registered"},
		{"under HQ", testAdminToken, map[string]any{"requestId": rid(), "code": "CGO-ZZU", "parent": "CGO", "name": "ZZU", "kind": "UNIVERSITY"}, http.StatusBadRequest, "parent"},
		{"unknown parent", testAdminToken, map[string]any{"requestId": rid(), "code": "LON-UCL", "parent": "LON", "name": "UCL", "kind": "UNIVERSITY"}, http.StatusBadRequest, "LON is not a registered site"},
		{"a first-level kind", testAdminToken, map[string]any{"requestId": rid(), "code": "MUC-X2", "parent": "MUC", "name": "X", "kind": "NODE"}, http.StatusBadRequest, "kind"},
		{"an unknown field", testAdminToken, `{"requestId":"x1","code":"MUC-X3","parent":"MUC","name":"X","kind":"TEAM","level":2}`, http.StatusBadRequest, "level"},
	} {
		t.Run("create site "+tt.name, func(t *testing.T) {
			code, body := follower.do(t, "POST", "/v1/sites", tt.token, tt.body)
			if code != tt.code || !strings.Contains(fmt.Sprint(body["message"]), tt.msg) {
				t.Errorf("got %d %v, want %d mentioning %q", code, body["message"], tt.code, tt.msg)
			}
		})
	}
	got = sitesTree(t, follower.ok(t, "GET", "/v1/sites?consistency=STALE", hq, nil))
	if i := slices.Index(got, "MUC(NODE,false)"); i < 0 || !slices.Equal(got[i+1:i+4], []string{"MUC>MUC-LMU", "MUC>MUC-TUM", "MUC-TUM>MUC-TUM-BAT"}) {
		t.Errorf("GET /v1/sites = %v, want MUC with MUC-LMU, MUC-TUM and MUC-TUM-BAT under it", got)
	}
	code, body := follower.do(t, "GET", "/v1/sites?site=MUC", hq, nil)
	if code != http.StatusBadRequest || !strings.Contains(fmt.Sprint(body["message"]), `unknown query parameter "site"`) ||
		!strings.Contains(fmt.Sprint(body["message"]), "consistency, maxStaleness") {
		t.Errorf("GET /v1/sites?site=MUC = %d %v, want 400 naming the parameter and the known ones", code, body)
	}

	// Node staff of registered sites only.
	for _, site := range []string{"MUCH", "TUM", "CGO"} {
		code, body := follower.do(t, "POST", "/v1/users", testAdminToken, map[string]any{"requestId": rid(), "name": "Typo", "role": "NODE_STAFF", "site": site})
		if code != http.StatusBadRequest || !strings.Contains(fmt.Sprint(body["message"]), "BOS, CBG, MUC, MUC-LMU, MUC-TUM, MUC-TUM-BAT, SIN, TLV") {
			t.Errorf("NODE_STAFF of %s: got %d %v, want 400 naming the known sites", site, code, body["message"])
		}
	}
	tum := tc.addUser("Tim Tum", innonetpb.Role_NODE_STAFF, "MUC-TUM", "")
	muc := tc.addUser("Max Munich", innonetpb.Role_NODE_STAFF, "MUC", "")
	lmu := tc.addUser("Lena LMU", innonetpb.Role_NODE_STAFF, "MUC-LMU", "")
	bat := tc.addUser("Bea Battery", innonetpb.Role_NODE_STAFF, "MUC-TUM-BAT", "")

	lead := follower.ok(t, "POST", "/v1/leads", tum, submitBody("Festkörperbatterie"))
	if lead["id"] != "MUC-0001" || lead["site"] != "MUC" || lead["subnode"] != "MUC-TUM" || lead["submittedByName"] != "Tim Tum" {
		t.Errorf("a lead of MUC-TUM staff = %v, want MUC-0001 of MUC from MUC-TUM, submitted by Tim Tum", lead)
	}
	if l := follower.ok(t, "POST", "/v1/leads", bat, submitBody("Battery cell")); l["id"] != "MUC-0002" || l["subnode"] != "MUC-TUM-BAT" {
		t.Errorf("a lead of MUC-TUM-BAT staff = %v", l)
	}
	if l := follower.ok(t, "POST", "/v1/leads", muc, submitBody("Robotics")); l["id"] != "MUC-0003" || l["subnode"] != "" {
		t.Errorf("a lead of MUC staff = %v", l)
	}
	listed := func(token string) []string {
		var ids []string
		for _, l := range follower.ok(t, "GET", "/v1/leads?site=MUC", token, nil)["leads"].([]any) {
			ids = append(ids, l.(map[string]any)["id"].(string))
		}
		return ids
	}
	for _, tt := range []struct {
		who, token string
		want       []string
	}{
		{"MUC staff", muc, []string{"MUC-0001", "MUC-0002", "MUC-0003"}},
		{"MUC-TUM staff", tum, []string{"MUC-0001", "MUC-0002"}},
		{"MUC-TUM-BAT staff", bat, []string{"MUC-0002"}},
		{"MUC-LMU staff", lmu, nil},
		{"HQ", hq, []string{"MUC-0001", "MUC-0002", "MUC-0003"}},
	} {
		if got := listed(tt.token); !slices.Equal(got, tt.want) {
			t.Errorf("%s list %v, want %v", tt.who, got, tt.want)
		}
	}
	// The subnode filter: a sub-node's leads with those under it.
	subnode := func(query, token string) []string {
		var ids []string
		for _, l := range follower.ok(t, "GET", "/v1/leads?"+query, token, nil)["leads"].([]any) {
			ids = append(ids, l.(map[string]any)["id"].(string))
		}
		return ids
	}
	for _, tt := range []struct {
		query, token string
		want         []string
	}{
		{"subnode=MUC-TUM", hq, []string{"MUC-0001", "MUC-0002"}},
		{"subnode=muc-tum-bat&site=MUC", hq, []string{"MUC-0002"}},
		{"subnode=MUC-LMU", hq, nil},
		{"subnode=MUC-TUM", muc, []string{"MUC-0001", "MUC-0002"}},
		{"subnode=MUC-TUM", bat, []string{"MUC-0002"}},
	} {
		if got := subnode(tt.query, tt.token); !slices.Equal(got, tt.want) {
			t.Errorf("GET /v1/leads?%s: %v, want %v", tt.query, got, tt.want)
		}
	}
	for _, tt := range []struct{ query, want string }{
		{"subnode=TUM", `subnode: "TUM" is not a sub-node code`},
		{"subnode=MUC-TUM&site=BOS", "subnode: MUC-TUM is under site MUC, not BOS"},
		{"site=MUC-TUM", "ask for subnode=MUC-TUM"},
	} {
		code, body := follower.do(t, "GET", "/v1/leads?"+tt.query, hq, nil)
		if code != http.StatusBadRequest || !strings.Contains(fmt.Sprint(body["message"]), tt.want) {
			t.Errorf("GET /v1/leads?%s: %d %v, want 400 %q", tt.query, code, body, tt.want)
		}
	}
	if code, _ := follower.do(t, "GET", "/v1/leads/MUC-0001", lmu, nil); code != http.StatusForbidden {
		t.Errorf("MUC-LMU staff GET MUC-0001: %d, want 403", code)
	}
	follower.ok(t, "PATCH", "/v1/leads/MUC-0001", muc, map[string]any{"requestId": rid(), "title": "Festkörperbatterie (TUM)"})
	if code, _ := follower.do(t, "POST", "/v1/leads/MUC-0003:withdraw", tum, map[string]any{"requestId": rid(), "comment": "not ours"}); code != http.StatusForbidden {
		t.Errorf("MUC-TUM staff withdraw MUC-0003: %d, want 403", code)
	}
	// Counts roll up to the site.
	eventually(t, 10*time.Second, "the leads counted for MUC", func() error {
		m := scrapeMetrics(t, tc.leaderNode())
		if v := m.value(t, "innonet_pipeline_leads", "site", "MUC", "stage", "SUBMITTED"); v != 3 {
			return fmt.Errorf("innonet_pipeline_leads{site=MUC,stage=SUBMITTED} = %v, want 3", v)
		}
		return nil
	})
}

// TestFiltersNameRegisteredSites: a list, search, stream or report
// filtered by a site or sub-node the registry does not hold is 400 naming
// the parameter and the known ones, over REST as over gRPC (it would be
// an empty list, as if the site had no leads); registered ones, in any
// case, are taken.
func TestFiltersNameRegisteredSites(t *testing.T) {
	tc := newTestCluster(t, []string{"CGO"}, nil)
	n := tc.leaderNode()
	rc := newRESTClient(n)
	hq := tc.addUser("Hu Qing", innonetpb.Role_HQ_REVIEWER, "", "")
	for _, s := range []map[string]any{
		{"requestId": rid(), "code": "MUC-TUM", "parent": "MUC", "name": "TU München", "kind": "UNIVERSITY"},
		{"requestId": rid(), "code": "MUC-LMU", "parent": "MUC", "name": "LMU München", "kind": "UNIVERSITY"},
	} {
		rc.ok(t, "POST", "/v1/sites", testAdminToken, s)
	}
	tum := tc.addUser("Tim Tum", innonetpb.Role_NODE_STAFF, "MUC-TUM", "")
	rc.ok(t, "POST", "/v1/leads", tum, submitBody("Festkörperbatterie"))

	const nodes = "leads come from the nodes BOS, CBG, MUC, TLV"
	for _, tt := range []struct {
		path string
		want []string
	}{
		{"/v1/leads?site=MUCH", []string{`site: "MUCH" is not a registered site`, nodes}},
		{"/v1/leads?site=much&stage=SUBMITTED", []string{`site: "MUCH" is not a registered site`, nodes}},
		{"/v1/leads?subnode=MUC-XYZ", []string{`subnode: "MUC-XYZ" is not a registered sub-node`, "registered sub-nodes: MUC-LMU, MUC-TUM"}},
		{"/v1/leads?subnode=BOS-MIT", []string{`subnode: "BOS-MIT" is not a registered sub-node`, "MUC-LMU, MUC-TUM"}},
		{"/v1/search?q=battery&site=MUCH", []string{`site: "MUCH" is not a registered site`, nodes}},
		{"/v1/reports/sla?mustAct=MUCH", []string{`mustAct: "MUCH" is not a registered site`, "HQ, DIVISIONS, BOHAI, YRD, PRD", "BOS, CBG, MUC, TLV"}},
		{"/v1/reports/sla?mustAct=muc-tum", []string{"mustAct", "sub-node", "mustAct=MUC"}},
		{"/v1/reports/sla?mustAct=" + strings.Repeat("x", 12), []string{"mustAct", "HQ, DIVISIONS"}},
	} {
		code, body := rc.do(t, "GET", tt.path, hq, nil)
		if code != http.StatusBadRequest {
			t.Errorf("GET %s: %d %v, want 400", tt.path, code, body)
			continue
		}
		for _, w := range tt.want {
			if msg := fmt.Sprint(body["message"]); !strings.Contains(msg, w) {
				t.Errorf("GET %s: message %q lacks %q", tt.path, msg, w)
			}
		}
	}
	for _, tt := range []struct {
		path string
		want int
	}{
		{"/v1/leads?site=muc", 1},
		{"/v1/leads?site=CBG", 0},
		{"/v1/leads?subnode=muc-tum", 1},
		{"/v1/leads?subnode=MUC-LMU", 0},
		{"/v1/search?q=Festkörperbatterie&site=MUC", -1},
		{"/v1/reports/sla?mustAct=yrd", -1},
		{"/v1/reports/sla?mustAct=divisions", -1},
		{"/v1/reports/sla?mustAct=MUC", -1},
	} {
		body := rc.ok(t, "GET", tt.path, hq, nil)
		if leads, _ := body["leads"].([]any); tt.want >= 0 && len(leads) != tt.want {
			t.Errorf("GET %s: %d leads, want %d", tt.path, len(leads), tt.want)
		}
	}

	c := tc.clients(n, hq)
	_, err := c.leads.ListLeads(c.ctx(t), &innonetpb.ListLeadsRequest{Site: "MUCH"})
	checkStatus(t, err, codes.InvalidArgument, "site", "MUCH", nodes)
	_, err = c.leads.ListLeads(c.ctx(t), &innonetpb.ListLeadsRequest{Subnode: "MUC-XYZ"})
	checkStatus(t, err, codes.InvalidArgument, "subnode", "MUC-XYZ", "MUC-LMU, MUC-TUM")
	_, err = c.leads.SearchLeads(c.ctx(t), &innonetpb.SearchLeadsRequest{Q: "battery", Site: "MUCH"})
	checkStatus(t, err, codes.InvalidArgument, "site", "MUCH", nodes)
	_, err = c.reports.ListSlaBreaches(c.ctx(t), &innonetpb.ListSlaBreachesRequest{MustAct: "MUCH"})
	checkStatus(t, err, codes.InvalidArgument, "mustAct", "MUCH")
	for _, tt := range []struct {
		site string
		want []string // nil: the stream opens
	}{
		{"MUCH", []string{"site", "MUCH", nodes}},
		{"MUC-XYZ", []string{"site", "MUC-XYZ", "MUC-LMU, MUC-TUM"}},
		{"muc-tum", nil},
		{"muc", nil},
	} {
		stream, err := c.leads.WatchEvents(c.ctx(t), &innonetpb.WatchEventsRequest{Site: tt.site, Follow: proto.Bool(false)})
		if err == nil {
			var got int
			for {
				m, rerr := stream.Recv()
				if rerr != nil {
					err = rerr
					break
				}
				if m.Event != nil {
					got++
				}
			}
			if errors.Is(err, io.EOF) {
				err = nil
				if tt.want == nil && got == 0 {
					t.Errorf("WatchEvents site=%s: no events, want the lead's", tt.site)
				}
			}
		}
		if tt.want == nil {
			if err != nil {
				t.Errorf("WatchEvents site=%s: %v", tt.site, err)
			}
			continue
		}
		checkStatus(t, err, codes.InvalidArgument, tt.want...)
	}
}

// submitBody is a REST body of a valid new lead.
func submitBody(title string) map[string]any {
	return map[string]any{"requestId": rid(), "title": title, "summary": "A test lead.", "organization": "Test Lab",
		"country": "DE", "sector": "NEW_ENERGY_VEHICLES", "trl": 5, "dealType": "INVESTMENT"}
}

// TestOrganizationsAPI: organisations over REST, with who may write which
// kind, the duplicate check, filters and pages, and leads linked to them.
func TestOrganizationsAPI(t *testing.T) {
	tc := newTestCluster(t, []string{"CGO"}, nil)
	tc.waitForSites()
	c := newRESTClient(tc.node("CGO"))
	bos := tc.addUser("Emily Carter", innonetpb.Role_NODE_STAFF, "BOS", "")
	yrd := tc.addUser("Chen Jie", innonetpb.Role_DIVISION, "", "YRD")
	hq := tc.addUser("Li Wei", innonetpb.Role_HQ_REVIEWER, "", "")

	harbor := c.ok(t, "POST", "/v1/organizations", bos, map[string]any{"requestId": rid(), "kind": "STARTUP",
		"name": "Harbor Bio Therapeutics", "otherNames": []string{"哈伯生物"}, "country": "US", "website": "https://harborbio.example"})
	if harbor["id"] != "org-0001" || harbor["createdByName"] != "Emily Carter" || harbor["version"] != "1" {
		t.Errorf("created %v", harbor)
	}
	yutong := c.ok(t, "POST", "/v1/organizations", yrd, map[string]any{"requestId": rid(), "kind": "LOCAL_ENTERPRISE",
		"name": "宇通客车", "nameEn": "Yutong Bus", "city": "Zhengzhou", "division": "YRD", "lookingFor": "Battery technology"})
	if yutong["country"] != "CN" {
		t.Errorf("a local enterprise = %v, want country CN", yutong)
	}
	c.ok(t, "POST", "/v1/organizations", hq, map[string]any{"requestId": rid(), "kind": "UNIVERSITY", "name": "University of Cambridge", "country": "GB"})
	for _, tt := range []struct {
		name, token string
		body        any
		code        int
		msg         string
	}{
		{"a duplicate", hq, map[string]any{"requestId": rid(), "kind": "COMPANY", "name": "harbor bio therapeutics", "country": "US"}, http.StatusConflict, "org-0001"},
		{"a local enterprise by node staff", bos, map[string]any{"requestId": rid(), "kind": "LOCAL_ENTERPRISE", "name": "天津港", "division": "BOHAI"}, http.StatusForbidden, "LOCAL_ENTERPRISE"},
		{"a startup by a division", yrd, map[string]any{"requestId": rid(), "kind": "STARTUP", "name": "X", "country": "US"}, http.StatusForbidden, "STARTUP"},
		{"no country", bos, map[string]any{"requestId": rid(), "kind": "STARTUP", "name": "X"}, http.StatusBadRequest, "country"},
		{"an unknown kind", bos, map[string]any{"requestId": rid(), "kind": "SPACESHIP", "name": "X", "country": "US"}, http.StatusBadRequest, "kind"},
		{"an unknown field", bos, `{"requestId":"o1","kind":"STARTUP","name":"X","country":"US","rating":5}`, http.StatusBadRequest, "rating"},
	} {
		t.Run("create "+tt.name, func(t *testing.T) {
			code, body := c.do(t, "POST", "/v1/organizations", tt.token, tt.body)
			if code != tt.code || !strings.Contains(fmt.Sprint(body["message"]), tt.msg) {
				t.Errorf("got %d %v, want %d mentioning %q", code, body["message"], tt.code, tt.msg)
			}
		})
	}
	ids := func(path, token string) ([]string, string) {
		body := c.ok(t, "GET", path, token, nil)
		var out []string
		for _, o := range body["organizations"].([]any) {
			out = append(out, o.(map[string]any)["id"].(string))
		}
		return out, body["nextPageToken"].(string)
	}
	for _, tt := range []struct {
		path string
		want []string
	}{
		{"/v1/organizations", []string{"org-0001", "org-0002", "org-0003"}},
		{"/v1/organizations?kind=LOCAL_ENTERPRISE", []string{"org-0002"}},
		{"/v1/organizations?country=us", []string{"org-0001"}},
		{"/v1/organizations?q=%E5%93%88%E4%BC%AF", []string{"org-0001"}}, // 哈伯
		{"/v1/organizations?q=cambridge", []string{"org-0003"}},
	} {
		if got, _ := ids(tt.path, yrd); !slices.Equal(got, tt.want) {
			t.Errorf("GET %s = %v, want %v", tt.path, got, tt.want)
		}
	}
	page, next := ids("/v1/organizations?pageSize=2", bos)
	rest, last := ids("/v1/organizations?pageSize=2&pageToken="+next, bos)
	if !slices.Equal(append(page, rest...), []string{"org-0001", "org-0002", "org-0003"}) || next == "" || last != "" {
		t.Errorf("pages %v (%q) and %v (%q)", page, next, rest, last)
	}
	for path, want := range map[string]int{
		"/v1/organizations?sector=IT_AI":  http.StatusBadRequest,
		"/v1/organizations?country=XX":    http.StatusBadRequest,
		"/v1/organizations?kind=BANANA":   http.StatusBadRequest,
		"/v1/organizations/org-0099":      http.StatusNotFound,
		"/v1/organizations/harbor":        http.StatusBadRequest,
		"/v1/organizations?pageSize=1000": http.StatusBadRequest,
	} {
		if code, body := c.do(t, "GET", path, bos, nil); code != want {
			t.Errorf("GET %s = %d %v, want %d", path, code, body, want)
		}
	}
	if o := c.ok(t, "GET", "/v1/organizations/org-0002", bos, nil); o["nameEn"] != "Yutong Bus" {
		t.Errorf("GET org-0002 = %v", o)
	}
	if o := c.ok(t, "PATCH", "/v1/organizations/org-0002", yrd, map[string]any{"requestId": rid(), "lookingFor": "Hydrogen buses", "expectedVersion": "1"}); o["version"] != "2" || o["updatedByName"] != "Chen Jie" {
		t.Errorf("PATCH org-0002 = %v", o)
	}
	if code, _ := c.do(t, "PATCH", "/v1/organizations/org-0002", yrd, map[string]any{"requestId": rid(), "city": "Luoyang", "expectedVersion": "1"}); code != http.StatusConflict {
		t.Errorf("PATCH at a stale version: %d, want 409", code)
	}

	// A lead links to its organisation and shows its current name.
	lead := c.ok(t, "POST", "/v1/leads", bos, map[string]any{"requestId": rid(), "title": "Transplant drug", "summary": "Phase II.",
		"organizationId": "org-0001", "country": "US", "sector": "LIFE_SCIENCES_HEALTH", "trl": 6, "dealType": "TECHNOLOGY_LICENSING"})
	if lead["organizationId"] != "org-0001" || lead["organization"] != "Harbor Bio Therapeutics" {
		t.Errorf("a linked lead = %v", lead)
	}
	c.ok(t, "PATCH", "/v1/organizations/org-0001", hq, map[string]any{"requestId": rid(), "name": "Harbor Bio Therapeutics Inc."})
	if l := c.ok(t, "GET", "/v1/leads/"+lead["id"].(string), bos, nil); l["organization"] != "Harbor Bio Therapeutics Inc." {
		t.Errorf("a linked lead after the organization's rename = %v", l["organization"])
	}
	if code, body := c.do(t, "POST", "/v1/leads", bos, map[string]any{"requestId": rid(), "title": "X", "summary": "Y",
		"organizationId": "org-0002", "country": "US", "sector": "IT_AI", "trl": 6, "dealType": "INVESTMENT"}); code != http.StatusBadRequest ||
		!strings.Contains(fmt.Sprint(body["message"]), "LOCAL_ENTERPRISE") {
		t.Errorf("a lead linked to a local enterprise: %d %v, want 400", code, body)
	}
}

// TestDealTermsAPI: the claiming division records deal terms; HQ and it
// see them, everyone else sees that there are terms, in every read and
// through any site.
func TestDealTermsAPI(t *testing.T) {
	tc := newTestCluster(t, []string{"CGO", "BOS"}, nil)
	tc.waitForSites()
	c := newRESTClient(tc.follower(false))
	bos := tc.addUser("Emily Carter", innonetpb.Role_NODE_STAFF, "BOS", "")
	yrd := tc.addUser("Chen Jie", innonetpb.Role_DIVISION, "", "YRD")
	prd := tc.addUser("Huang Lei", innonetpb.Role_DIVISION, "", "PRD")
	hq := tc.addUser("Li Wei", innonetpb.Role_HQ_REVIEWER, "", "")
	partner := c.ok(t, "POST", "/v1/organizations", yrd, map[string]any{"requestId": rid(), "kind": "LOCAL_ENTERPRISE",
		"name": "宇通客车", "nameEn": "Yutong Bus", "division": "YRD"})["id"].(string)
	id := c.ok(t, "POST", "/v1/leads", bos, submitBody("Solid-state battery"))["id"].(string)
	c.ok(t, "POST", "/v1/leads/"+id+":review", hq, map[string]any{"requestId": rid(), "decision": "APPROVE"})
	if code, _ := c.do(t, "PATCH", "/v1/leads/"+id+"/deal", yrd, map[string]any{"requestId": rid(), "jobs": 10}); code != http.StatusForbidden {
		t.Errorf("deal terms on an unclaimed lead: %d, want 403", code)
	}
	c.ok(t, "POST", "/v1/leads/"+id+":claim", yrd, map[string]any{"requestId": rid()})

	l := c.ok(t, "PATCH", "/v1/leads/"+id+"/deal", yrd, map[string]any{"requestId": rid(), "partnerId": partner,
		"amount": "42000000", "currency": "CNY", "jobs": 120, "expectedSigningDate": "2027-01-15",
		"expectedLandingDate": "2027-09-01", "nextStep": "Board meeting in Zhengzhou"})
	d, _ := l["dealTerms"].(map[string]any)
	if d == nil || d["partnerName"] != "宇通客车" || d["amount"] != "42000000" || d["updatedByName"] != "Chen Jie" || l["hasDealTerms"] != true {
		t.Fatalf("after PATCH deal: %v", l)
	}
	c.ok(t, "PATCH", "/v1/leads/"+id+"/deal", yrd, map[string]any{"requestId": rid(), "jobs": 150, "expectedLandingDate": ""})
	for _, tt := range []struct {
		name, token string
		body        any
		code        int
		msg         string
	}{
		{"by a rival", prd, map[string]any{"requestId": rid(), "jobs": 1}, http.StatusForbidden, "not claimed by PRD"},
		{"by HQ", hq, map[string]any{"requestId": rid(), "jobs": 1}, http.StatusForbidden, "claiming division"},
		{"a bad currency", yrd, map[string]any{"requestId": rid(), "currency": "RMB"}, http.StatusBadRequest, "currency"},
		{"a float", yrd, map[string]any{"requestId": rid(), "amount": 4.2e7}, http.StatusBadRequest, "amount"},
		{"a timestamp", yrd, map[string]any{"requestId": rid(), "expectedSigningDate": "2027-01-15T00:00:00Z"}, http.StatusBadRequest, "expected_signing_date"},
		{"nothing", yrd, map[string]any{"requestId": rid()}, http.StatusBadRequest, "no field"},
		{"an unknown field", yrd, `{"requestId":"d1","jobs":3,"bonus":"yes"}`, http.StatusBadRequest, "bonus"},
	} {
		t.Run("deal "+tt.name, func(t *testing.T) {
			code, body := c.do(t, "PATCH", "/v1/leads/"+id+"/deal", tt.token, tt.body)
			if code != tt.code || !strings.Contains(fmt.Sprint(body["message"]), tt.msg) {
				t.Errorf("got %d %v, want %d mentioning %q", code, body["message"], tt.code, tt.msg)
			}
		})
	}

	// Who sees the terms, in each read.
	for _, tt := range []struct {
		who, token string
		sees       bool
	}{{"the claiming division", yrd, true}, {"HQ", hq, true}, {"a rival division", prd, false}, {"node staff", bos, false}, {"admin", testAdminToken, true}} {
		t.Run("reads of "+tt.who, func(t *testing.T) {
			l := c.ok(t, "GET", "/v1/leads/"+id, tt.token, nil)
			list := c.ok(t, "GET", "/v1/leads?stage=CLAIMED", tt.token, nil)["leads"].([]any)
			for _, got := range []map[string]any{l, list[0].(map[string]any)} {
				d, _ := got["dealTerms"].(map[string]any)
				if got["hasDealTerms"] != true || (d != nil) != tt.sees || tt.sees && (d["jobs"] != float64(150) || d["expectedLandingDate"] != "") {
					t.Errorf("lead as read: hasDealTerms %v, dealTerms %v; want the terms shown: %v", got["hasDealTerms"], d, tt.sees)
				}
			}
			events := c.ok(t, "GET", "/v1/leads/"+id+"/history", tt.token, nil)["events"].([]any)
			e := events[len(events)-1].(map[string]any)
			changes := e["changes"].([]any)
			first := changes[0].(map[string]any)
			if e["action"] != "DEAL" || len(changes) != 2 || first["field"] != "dealTerms.jobs" || e["changesWithheld"] == tt.sees ||
				tt.sees && (first["old"] != "120" || first["new"] != "150") || !tt.sees && (first["old"] != "" || first["new"] != "") {
				t.Errorf("the last DEAL event as read: %v", e)
			}
		})
	}
	// The same over gRPC, through the follower.
	rival := tc.clients(tc.follower(false), prd)
	gl, err := rival.leads.GetLead(rival.ctx(t), &innonetpb.GetLeadRequest{Id: id})
	if err != nil || gl.DealTerms != nil || !gl.HasDealTerms {
		t.Errorf("GetLead as a rival over gRPC = %v, %v", gl, err)
	}
	_, err = rival.leads.UpdateDealTerms(rival.ctx(t), &innonetpb.UpdateDealTermsRequest{Id: id, RequestId: rid()})
	checkStatus(t, err, codes.InvalidArgument, "deal", "no field")
	// Releasing drops the terms.
	if l := c.ok(t, "POST", "/v1/leads/"+id+":release", hq, map[string]any{"requestId": rid(), "comment": "Reassigning"}); l["hasDealTerms"] != false {
		t.Errorf("a released lead: %v", l)
	}
}

// TestNamesInAnswers: answers that name a user carry the user's name.
func TestNamesInAnswers(t *testing.T) {
	tc := newTestCluster(t, []string{"CGO"}, nil)
	c := newRESTClient(tc.node("CGO"))
	tc.addUser("Anna Berg", innonetpb.Role_NODE_STAFF, "BOS", "")
	admin := tc.clients(tc.node("CGO"), testAdminToken)
	users, err := admin.users.ListUsers(admin.ctx(t), &innonetpb.ListUsersRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range users.Users {
		if u.CreatedBy != "" && u.CreatedByName != "admin" {
			t.Errorf("user %s created by %s named %q, want admin", u.Id, u.CreatedBy, u.CreatedByName)
		}
	}
	anna := users.Users[len(users.Users)-1]
	if _, err := admin.users.RevokeUser(admin.ctx(t), &innonetpb.RevokeUserRequest{Id: anna.Id, RequestId: rid()}); err != nil {
		t.Fatal(err)
	}
	users, err = admin.users.ListUsers(admin.ctx(t), &innonetpb.ListUsersRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if u := users.Users[len(users.Users)-1]; u.RevokedByName != "admin" {
		t.Errorf("revoked user %+v, want revoked by admin", u)
	}
	bos := tc.addUser("Bert Boston", innonetpb.Role_NODE_STAFF, "BOS", "")
	l := c.ok(t, "POST", "/v1/leads", bos, submitBody("Names"))
	if l["submittedByName"] != "Bert Boston" {
		t.Errorf("submittedByName = %v", l["submittedByName"])
	}
	h := c.ok(t, "GET", "/v1/leads/"+l["id"].(string)+"/history", bos, nil)["events"].([]any)
	if e := h[0].(map[string]any); e["userName"] != "Bert Boston" {
		t.Errorf("history event user %v", e)
	}

	// Tokens: of a new user, listed, revoked, and of a session.
	created, err := admin.users.CreateUser(admin.ctx(t), &innonetpb.CreateUserRequest{RequestId: rid(), Name: "Carla Kim",
		Role: innonetpb.Role_NODE_STAFF, Site: "BOS"})
	if err != nil {
		t.Fatal(err)
	}
	if ti := created.TokenInfo; ti.UserName != "Carla Kim" || ti.CreatedByName != "admin" {
		t.Errorf("CreateUser's token %v, want Carla Kim's created by admin", ti)
	}
	carla := created.User.Id
	second := c.ok(t, "POST", "/v1/users/"+carla+"/tokens", created.Token, map[string]any{"requestId": rid(), "description": "laptop"})
	if ti := second["tokenInfo"].(map[string]any); ti["userName"] != "Carla Kim" || ti["createdByName"] != "Carla Kim" {
		t.Errorf("a token Carla made herself: %v", ti)
	}
	first := created.TokenInfo.Id
	revoked := c.ok(t, "DELETE", "/v1/users/"+carla+"/tokens/"+first, testAdminToken, nil)
	if revoked["revokedByName"] != "admin" || revoked["userName"] != "Carla Kim" {
		t.Errorf("the revoked token: %v", revoked)
	}
	toks, err := admin.users.ListTokens(admin.ctx(t), &innonetpb.ListTokensRequest{UserId: carla})
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range toks.Tokens {
		if tok.UserName != "Carla Kim" || tok.CreatedByName == "" || tok.RevokedBy != "" && tok.RevokedByName != "admin" {
			t.Errorf("ListTokens: %v, want every ID named", tok)
		}
	}

	// An interest withdrawn, by whom.
	hq := tc.addUser("Hui Reviewer", innonetpb.Role_HQ_REVIEWER, "", "")
	yrd := tc.addUser("Yang Delta", innonetpb.Role_DIVISION, "", "YRD")
	id := l["id"].(string)
	c.ok(t, "POST", "/v1/leads/"+id+":review", hq, map[string]any{"requestId": rid(), "decision": "APPROVE"})
	c.ok(t, "POST", "/v1/leads/"+id+":express-interest", yrd, map[string]any{"requestId": rid(), "rationale": "Suzhou"})
	if w := c.ok(t, "POST", "/v1/leads/"+id+":withdraw-interest", yrd, map[string]any{"requestId": rid()}); w["withdrawnByName"] != "Yang Delta" {
		t.Errorf("the withdrawn interest: %v", w)
	}
	list := c.ok(t, "GET", "/v1/leads/"+id+"/interests", hq, nil)["interests"].([]any)
	if len(list) != 1 || list[0].(map[string]any)["withdrawnByName"] != "Yang Delta" {
		t.Errorf("the interests: %v", list)
	}

	// The deny-list, by whom.
	if d, err := admin.clusters.DenyCertificate(admin.ctx(t), &innonetpb.DenyCertificateRequest{Serial: "5ca1ab1e", Comment: "lost"}); err != nil || d.AddedByName != "admin" {
		t.Errorf("DenyCertificate: %v %v, want added by admin", d, err)
	}
	denied := c.ok(t, "GET", "/v1/cluster/denied-certificates", testAdminToken, nil)["certificates"].([]any)
	if len(denied) != 1 || denied[0].(map[string]any)["addedByName"] != "admin" {
		t.Errorf("the deny-list: %v", denied)
	}
}
