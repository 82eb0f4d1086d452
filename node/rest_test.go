package node

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// restClient calls one site's REST API with plain net/http and JSON.
type restClient struct {
	base string
	http *http.Client
}

func newRESTClient(n *Node) restClient {
	if n.cfg.TLS != nil {
		return restClient{base: "https://" + n.Addr(), http: &http.Client{Timeout: 15 * time.Second,
			Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: testCAPoolOnce()}}}}
	}
	return restClient{base: "http://" + n.Addr(), http: &http.Client{Timeout: 15 * time.Second}}
}

// do sends body (if not nil) as JSON with the bearer token (if not empty)
// and returns the status code and the decoded JSON answer.
func (c restClient) do(t *testing.T, method, path, token string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, ok := body.(string)
		if !ok {
			raw, err := json.Marshal(body)
			if err != nil {
				t.Fatal(err)
			}
			b = string(raw)
		}
		rd = strings.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("%s %s: got status %d and a body that is not a JSON object: %v: %q", method, path, resp.StatusCode, err, raw)
	}
	return resp.StatusCode, out
}

// ok is do that fails t unless the status is 200.
func (c restClient) ok(t *testing.T, method, path, token string, body any) map[string]any {
	t.Helper()
	code, out := c.do(t, method, path, token, body)
	if code != http.StatusOK {
		t.Fatalf("%s %s: got status %d %v, want 200", method, path, code, out)
	}
	return out
}

// field returns a top-level JSON field as a string (numbers and int64s,
// which protojson writes as strings, alike).
func field(m map[string]any, name string) string {
	v, ok := m[name]
	if !ok || v == nil {
		return ""
	}
	return fmt.Sprint(v)
}

// checkLead fails t unless the JSON lead has each of the wanted fields.
func checkLead(t *testing.T, got map[string]any, want map[string]string) {
	t.Helper()
	for k, w := range want {
		if g := field(got, k); g != w {
			t.Errorf("lead %s: got %s %q, want %q", field(got, "id"), k, g, w)
		}
	}
}

func restLead(title string) map[string]any {
	return map[string]any{
		"requestId": rid(), "title": title, "summary": "A test lead over REST.", "organization": "Test Lab",
		"country": "GB", "sector": "LIFE_SCIENCES_HEALTH", "trl": 6, "dealType": "TECHNOLOGY_LICENSING",
		"tags": []string{"biotech"}, "contacts": []map[string]string{{"name": "Dr. Lee", "email": "lee@example.org"}},
	}
}

func TestREST(t *testing.T) {
	tc := newTestCluster(t, testVoters, nil)
	via := tc.follower(false) // every call is forwarded to the leader
	c := newRESTClient(via)

	newUser := func(name, role, site, division string) string {
		t.Helper()
		out := c.ok(t, "POST", "/v1/users", testAdminToken, map[string]any{
			"requestId": rid(), "name": name, "role": role, "site": site, "division": division})
		user, _ := out["user"].(map[string]any)
		if tok := field(out, "token"); tok == "" || field(user, "role") != role || field(user, "id") == "" {
			t.Fatalf("POST /v1/users: got %v, want a %s user and a token", out, role)
		}
		return field(out, "token")
	}
	staff := newUser("Alice", "NODE_STAFF", "BOS", "")
	hq := newUser("Hal", "HQ_REVIEWER", "", "")
	bohai := newUser("Bo", "DIVISION", "", "BOHAI")
	yrd := newUser("Yu", "DIVISION", "", "YRD")

	t.Run("lifecycle", func(t *testing.T) {
		l := c.ok(t, "POST", "/v1/leads", staff, restLead("Bioengineering research centre"))
		checkLead(t, l, map[string]string{"id": "BOS-0001", "stage": "SUBMITTED", "version": "1", "site": "BOS",
			"sector": "LIFE_SCIENCES_HEALTH", "dealType": "TECHNOLOGY_LICENSING", "trl": "6", "country": "GB"})

		got := c.ok(t, "GET", "/v1/leads/BOS-0001", staff, nil)
		checkLead(t, got, map[string]string{"id": "BOS-0001", "title": "Bioengineering research centre", "stage": "SUBMITTED"})

		list := c.ok(t, "GET", "/v1/leads?stage=SUBMITTED&site=BOS", hq, nil)
		if ids := leadIDs(list); !slices.Equal(ids, []string{"BOS-0001"}) {
			t.Errorf("GET /v1/leads?stage=SUBMITTED: got %v, want [BOS-0001]", ids)
		}

		steps := []struct {
			method, path, token string
			body                map[string]any
			want                map[string]string
		}{
			{"PATCH", "/v1/leads/BOS-0001", staff, map[string]any{"requestId": rid(), "title": "Bioengineering centre (UK)", "expectedVersion": "1"},
				map[string]string{"title": "Bioengineering centre (UK)", "version": "2", "stage": "SUBMITTED"}},
			{"POST", "/v1/leads/BOS-0001:review", hq, map[string]any{"requestId": rid(), "decision": "APPROVE", "comment": "Publish."},
				map[string]string{"stage": "APPROVED", "version": "3"}},
			{"POST", "/v1/leads/BOS-0001:claim", bohai, map[string]any{"requestId": rid()},
				map[string]string{"stage": "CLAIMED", "division": "BOHAI", "version": "4"}},
			{"POST", "/v1/leads/BOS-0001:release", bohai, map[string]any{"requestId": rid(), "comment": "No local partner."},
				map[string]string{"stage": "APPROVED", "division": "", "version": "5"}},
			{"POST", "/v1/leads/BOS-0001:claim", yrd, map[string]any{"requestId": rid(), "expectedVersion": 5},
				map[string]string{"stage": "CLAIMED", "division": "YRD", "version": "6"}},
			{"POST", "/v1/leads/BOS-0001:advance", yrd, map[string]any{"requestId": rid(), "stage": "NEGOTIATING", "note": "Talks with Suzhou."},
				map[string]string{"stage": "NEGOTIATING", "stageComment": "Talks with Suzhou.", "version": "7"}},
		}
		for _, s := range steps {
			checkLead(t, c.ok(t, s.method, s.path, s.token, s.body), s.want)
		}

		w := c.ok(t, "POST", "/v1/leads", staff, restLead("Withdrawn later"))
		id := field(w, "id")
		if id != "BOS-0002" {
			t.Fatalf("second lead: got %s, want BOS-0002", id)
		}
		checkLead(t, c.ok(t, "POST", "/v1/leads/"+id+":withdraw", staff, map[string]any{"requestId": rid(), "comment": "Founder declined."}),
			map[string]string{"stage": "WITHDRAWN", "stageComment": "Founder declined.", "version": "2"})

		h := c.ok(t, "GET", "/v1/leads/BOS-0001/history", staff, nil)
		events, _ := h["events"].([]any)
		var actions []string
		for _, ev := range events {
			m, _ := ev.(map[string]any)
			actions = append(actions, field(m, "action"))
			if field(m, "originSite") != via.Site() || field(m, "userId") == "" || field(m, "time") == "" {
				t.Errorf("history event %v: want origin %s, a user ID and a time", m, via.Site())
			}
		}
		if want := []string{"SUBMIT", "UPDATE", "APPROVE", "CLAIM", "RELEASE", "CLAIM", "ADVANCE"}; !slices.Equal(actions, want) {
			t.Errorf("GET history: got actions %v, want %v", actions, want)
		}

		cl := c.ok(t, "GET", "/v1/cluster", staff, nil)
		members, _ := cl["members"].([]any)
		if len(members) != 3 || field(cl, "leader") == "" || field(cl, "site") != field(cl, "leader") || cl["healthKnown"] != true {
			t.Errorf("GET /v1/cluster: got %v, want 3 members and the leader's answer with health", cl)
		}
		cl = c.ok(t, "GET", "/v1/cluster?consistency=STALE", staff, nil)
		if field(cl, "site") != via.Site() || field(cl, "leader") == "" || cl["member"] != true {
			t.Errorf("GET /v1/cluster?consistency=STALE: got %v, want site %s's own view", cl, via.Site())
		}
	})

	t.Run("errors", func(t *testing.T) {
		open := c.ok(t, "POST", "/v1/leads", staff, restLead("Still submitted"))
		openID := field(open, "id")
		tests := []struct {
			name                string
			method, path, token string
			body                any
			want                int
			grpcCode            int
			parts               []string
		}{
			{"bad field", "POST", "/v1/leads", staff, func() any { r := restLead("Bad TRL"); r["trl"] = 12; return r }(), 400, 3, []string{"trl"}},
			{"bad country", "POST", "/v1/leads", staff, func() any { r := restLead("Bad country"); r["country"] = "ZZ"; return r }(), 400, 3, []string{"country"}},
			{"unknown enum name", "POST", "/v1/leads", staff, func() any { r := restLead("Bad sector"); r["sector"] = "MINING"; return r }(), 400, 3, nil},
			{"malformed JSON", "POST", "/v1/leads", staff, `{"title": `, 400, 3, nil},
			{"unknown lead", "GET", "/v1/leads/BOS-9999", staff, nil, 404, 5, []string{"BOS-9999"}},
			{"no token", "GET", "/v1/leads/" + openID, "", nil, 401, 16, []string{"token"}},
			{"bad token", "POST", "/v1/leads", "inn_wrong", restLead("Bad token"), 401, 16, []string{"token"}},
			{"wrong role", "POST", "/v1/leads/" + openID + ":review", staff, map[string]any{"requestId": rid(), "decision": "APPROVE"}, 403, 7, []string{"HQ_REVIEWER"}},
			{"stage does not allow it", "POST", "/v1/leads/" + openID + ":claim", yrd, map[string]any{"requestId": rid()}, 400, 9, []string{"SUBMITTED"}},
			{"claim lost", "POST", "/v1/leads/BOS-0001:claim", bohai, map[string]any{"requestId": rid()}, 409, 10, []string{"claim lost", "YRD"}},
			{"stale version", "PATCH", "/v1/leads/" + openID, staff, map[string]any{"requestId": rid(), "title": "Late", "expectedVersion": "9"}, 409, 10, []string{"version"}},
			{"page size", "GET", "/v1/leads?pageSize=501", hq, nil, 400, 3, []string{"page_size"}},
			{"user without a site", "POST", "/v1/users", testAdminToken, map[string]any{"requestId": rid(), "name": "Nobody", "role": "NODE_STAFF"}, 400, 3, []string{"site"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				code, out := c.do(t, tt.method, tt.path, tt.token, tt.body)
				if code != tt.want {
					t.Fatalf("got status %d %v, want %d", code, out, tt.want)
				}
				msg := field(out, "message")
				if msg == "" {
					t.Fatalf("got error body %v, want a message", out)
				}
				if got := field(out, "code"); got != fmt.Sprint(tt.grpcCode) {
					t.Errorf("got code %s, want %d", got, tt.grpcCode)
				}
				for _, p := range tt.parts {
					if !strings.Contains(msg, p) {
						t.Errorf("got message %q, want it to mention %q", msg, p)
					}
				}
			})
		}
		// The rejected requests changed nothing.
		checkLead(t, c.ok(t, "GET", "/v1/leads/"+openID, staff, nil), map[string]string{"version": "1", "title": "Still submitted"})
		if ids := leadIDs(c.ok(t, "GET", "/v1/leads?site=BOS", hq, nil)); len(ids) != 3 {
			t.Errorf("got leads %v after the rejected requests, want 3", ids)
		}
	})

	t.Run("no leader", func(t *testing.T) {
		for _, id := range tc.order {
			if id != via.Site() {
				tc.stop(id)
			}
		}
		body := restLead("Without a quorum")
		began := time.Now()
		code, out := c.do(t, "POST", "/v1/leads", staff, body)
		if took := time.Since(began); took > 10*time.Second {
			t.Errorf("got an answer after %s, want it within 10s", took)
		}
		if code != http.StatusServiceUnavailable || field(out, "message") == "" {
			t.Errorf("got status %d %v, want 503 with a message", code, out)
		}
	})
}

// leadIDs returns the IDs in a JSON ListLeadsResponse.
func leadIDs(resp map[string]any) []string {
	leads, _ := resp["leads"].([]any)
	var ids []string
	for _, l := range leads {
		m, _ := l.(map[string]any)
		ids = append(ids, field(m, "id"))
	}
	return ids
}
