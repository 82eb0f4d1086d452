package node

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"google.golang.org/grpc/codes"

	"innonet/cluster/certs"
	"innonet/node/guard"
	innonetpb "innonet/proto/innonet/v1"
)

// scrape is one GET /metrics, parsed.
type scrape map[string]*dto.MetricFamily

// scrapeMetrics fetches and parses site n's /metrics as the admin (with
// no token if the metrics are public), failing t unless it is Prometheus
// text.
func scrapeMetrics(t testing.TB, n *Node) scrape {
	t.Helper()
	token := testAdminToken
	if n.cfg.MetricsPublic {
		token = ""
	}
	code, body, hdr := rawGet(t, n, "/metrics", token)
	if code != http.StatusOK {
		t.Fatalf("GET /metrics on %s: got status %d %.300q, want 200", n.Site(), code, body)
	}
	if ct := hdr.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("GET /metrics on %s: got Content-Type %q, want Prometheus text (text/plain)", n.Site(), ct)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("GET /metrics on %s: not Prometheus text: %v", n.Site(), err)
	}
	return families
}

// metric returns the sample of family name whose labels include every
// name=value pair in labels, or nil.
func (s scrape) metric(name string, labels ...string) *dto.Metric {
	f := s[name]
	if f == nil {
		return nil
	}
	for _, m := range f.Metric {
		ok := true
		for i := 0; i+1 < len(labels); i += 2 {
			found := false
			for _, lp := range m.Label {
				if lp.GetName() == labels[i] && lp.GetValue() == labels[i+1] {
					found = true
				}
			}
			ok = ok && found
		}
		if ok {
			return m
		}
	}
	return nil
}

// value is a gauge's or counter's value, or a histogram's or summary's
// sample count; it fails t when the sample is missing.
func (s scrape) value(t testing.TB, name string, labels ...string) float64 {
	t.Helper()
	v, ok := s.lookup(name, labels...)
	if !ok {
		t.Fatalf("no sample %s%v in the scrape", name, labels)
	}
	return v
}

func (s scrape) lookup(name string, labels ...string) (float64, bool) {
	m := s.metric(name, labels...)
	if m == nil {
		return 0, false
	}
	switch {
	case m.Gauge != nil:
		return m.Gauge.GetValue(), true
	case m.Counter != nil:
		return m.Counter.GetValue(), true
	case m.Histogram != nil:
		return float64(m.Histogram.GetSampleCount()), true
	case m.Summary != nil:
		return float64(m.Summary.GetSampleCount()), true
	case m.Untyped != nil:
		return m.Untyped.GetValue(), true
	}
	return 0, false
}

// labelValues lists the values label takes in family name.
func (s scrape) labelValues(name, label string) []string {
	var out []string
	if f := s[name]; f != nil {
		for _, m := range f.Metric {
			for _, lp := range m.Label {
				if lp.GetName() == label {
					out = append(out, lp.GetValue())
				}
			}
		}
	}
	slices.Sort(out)
	return out
}

func (s scrape) kind(name string) dto.MetricType {
	if f := s[name]; f != nil {
		return f.GetType()
	}
	return -1
}

const submitMethod = "/innonet.v1.LeadService/SubmitLead"

func TestMetrics(t *testing.T) {
	tc := newTestCluster(t, testVoters, nil)
	staff := tc.addUser("Alice", innonetpb.Role_NODE_STAFF, "BOS", "")
	hq := tc.addUser("Hal", innonetpb.Role_HQ_REVIEWER, "", "")
	leader, follower := tc.leaderNode(), tc.follower(false)

	// The Raft library's metrics go to one process-wide sink, so compare
	// against a scrape from before the writes.
	before := scrapeMetrics(t, leader)
	raftApplyBefore, _ := before.lookup("innonet_raft_apply")
	commitTimeBefore, _ := before.lookup("innonet_raft_commitTime")
	applyBefore := before.value(t, "innonet_raft_apply_duration_seconds")

	// Five submits through the follower (forwarded to the leader), two
	// approvals on the leader, and two calls refused for the role: one
	// over gRPC through the follower, one over REST on the leader.
	fc, hc := tc.clients(follower, staff), tc.clients(leader, hq)
	var ids []string
	for i := range 5 {
		l, err := fc.leads.SubmitLead(fc.ctx(t), sampleLead(fmt.Sprintf("Measured lead %d", i)))
		if err != nil {
			t.Fatalf("submit: %v", err)
		}
		ids = append(ids, l.Id)
	}
	var lastIndex uint64
	for _, id := range ids[:2] {
		l, err := hc.leads.ReviewLead(hc.ctx(t), &innonetpb.ReviewLeadRequest{Id: id, RequestId: rid(), Decision: innonetpb.Decision_APPROVE})
		if err != nil {
			t.Fatalf("approve %s: %v", id, err)
		}
		h, err := hc.leads.GetLeadHistory(hc.ctx(t), &innonetpb.GetLeadHistoryRequest{Id: l.Id})
		if err != nil {
			t.Fatal(err)
		}
		lastIndex = h.Events[len(h.Events)-1].LogIndex
	}
	const writes = 7
	denied := tc.clients(follower, hq)
	_, err := denied.leads.SubmitLead(denied.ctx(t), sampleLead("Submitted by HQ"))
	checkStatus(t, err, codes.PermissionDenied)
	if code, body := newRESTClient(leader).do(t, "POST", "/v1/leads", hq, restLead("Submitted by HQ over REST")); code != http.StatusForbidden {
		t.Fatalf("POST /v1/leads as HQ: got %d %v, want 403", code, body)
	}
	submitted, err := hc.leads.ListLeads(hc.ctx(t), &innonetpb.ListLeadsRequest{Stage: []innonetpb.Stage{innonetpb.Stage_SUBMITTED}, Site: "BOS"})
	if err != nil {
		t.Fatal(err)
	}
	approved, err := hc.leads.ListLeads(hc.ctx(t), &innonetpb.ListLeadsRequest{Stage: []innonetpb.Stage{innonetpb.Stage_APPROVED}, Site: "BOS"})
	if err != nil {
		t.Fatal(err)
	}

	t.Run("leader", func(t *testing.T) {
		var m scrape
		eventually(t, 10*time.Second, "every member healthy in the leader's metrics", func() error {
			m = scrapeMetrics(t, leader)
			peers := m.labelValues("innonet_raft_peer_healthy", "peer")
			if !slices.Equal(peers, []string{"BOS", "CBG", "CGO"}) {
				return fmt.Errorf("got innonet_raft_peer_healthy for %v, want BOS CBG CGO", peers)
			}
			for _, p := range peers {
				if v := m.value(t, "innonet_raft_peer_healthy", "peer", p); v != 1 {
					return fmt.Errorf("innonet_raft_peer_healthy{peer=%q} = %v", p, v)
				}
			}
			return nil
		})
		stats := leader.Cluster().Stats()
		disk, err := leader.Cluster().DiskUsage()
		if err != nil {
			t.Fatal(err)
		}
		checkRaftGauges(t, m, "Leader", stats.Term, lastIndex)
		if v := m.value(t, "innonet_raft_last_contact_seconds"); v != 0 {
			t.Errorf("got innonet_raft_last_contact_seconds %v on the leader, want 0", v)
		}
		if m.kind("innonet_raft_apply_duration_seconds") != dto.MetricType_HISTOGRAM {
			t.Errorf("got innonet_raft_apply_duration_seconds of type %v, want a histogram", m.kind("innonet_raft_apply_duration_seconds"))
		}
		if got := m.value(t, "innonet_raft_apply_duration_seconds") - applyBefore; got < writes {
			t.Errorf("innonet_raft_apply_duration_seconds count grew by %v over %d writes, want at least %d", got, writes, writes)
		}
		// The leader answered the five forwarded submits, the forwarded
		// refusal and the REST refusal (REST counts under the gRPC method).
		checkRequests(t, m, 5, 2)
		if got, want := m.value(t, "innonet_pipeline_leads", "site", "BOS", "stage", "SUBMITTED"), len(submitted.Leads); got != float64(want) {
			t.Errorf("got innonet_pipeline_leads{site=BOS,stage=SUBMITTED} %v, want %d (ListLeads)", got, want)
		}
		if got, want := m.value(t, "innonet_pipeline_leads", "site", "BOS", "stage", "APPROVED"), len(approved.Leads); got != float64(want) {
			t.Errorf("got innonet_pipeline_leads{site=BOS,stage=APPROVED} %v, want %d (ListLeads)", got, want)
		}
		if got := m.value(t, "innonet_pipeline_users"); got != 3 {
			t.Errorf("got innonet_pipeline_users %v, want 3", got)
		}
		if got := m.value(t, "innonet_raft_log_entries"); got != float64(disk.LogEntries) || disk.LogLastIndex < lastIndex {
			t.Errorf("got innonet_raft_log_entries %v, want %d (entries %d to %d)", got, disk.LogEntries, disk.LogFirstIndex, disk.LogLastIndex)
		}
		if got := m.value(t, "innonet_raft_disk_bytes", "kind", "raft_db"); got != float64(disk.RaftDBBytes) || got == 0 {
			t.Errorf("got innonet_raft_disk_bytes{kind=raft_db} %v, want the size of raft.db, %d", got, disk.RaftDBBytes)
		}
		if _, ok := m.lookup("innonet_raft_disk_bytes", "kind", "snapshots"); !ok {
			t.Error("no innonet_raft_disk_bytes{kind=snapshots}")
		}
		// The Raft library's own metrics, through go-metrics.
		if got := m.value(t, "innonet_raft_apply") - raftApplyBefore; got < writes {
			t.Errorf("Raft's innonet_raft_apply counter grew by %v over %d writes, want at least %d", got, writes, writes)
		}
		if got := m.value(t, "innonet_raft_commitTime") - commitTimeBefore; got <= 0 {
			t.Errorf("Raft's innonet_raft_commitTime summary count grew by %v over %d writes, want more", got, writes)
		}
	})

	t.Run("follower", func(t *testing.T) {
		var m scrape
		eventually(t, 10*time.Second, "the follower's metrics to show every write", func() error {
			m = scrapeMetrics(t, follower)
			if v, _ := m.lookup("innonet_raft_applied_index"); v < float64(lastIndex) {
				return fmt.Errorf("innonet_raft_applied_index %v, want at least %d", v, lastIndex)
			}
			return nil
		})
		checkRaftGauges(t, m, "Follower", leader.Cluster().Stats().Term, lastIndex)
		if v := m.value(t, "innonet_raft_last_contact_seconds"); v <= 0 || v > 1 {
			t.Errorf("got innonet_raft_last_contact_seconds %v on a follower, want a fresh contact (0 < s <= 1)", v)
		}
		// The follower took the five submits and one refusal itself.
		checkRequests(t, m, 5, 1)
		if got := m.value(t, "innonet_pipeline_leads", "site", "BOS", "stage", "SUBMITTED"); got != float64(len(submitted.Leads)) {
			t.Errorf("got innonet_pipeline_leads{site=BOS,stage=SUBMITTED} %v, want %d", got, len(submitted.Leads))
		}
		if peers := m.labelValues("innonet_raft_peer_healthy", "peer"); len(peers) != 0 {
			t.Errorf("got innonet_raft_peer_healthy for %v on a follower, want none (only the leader checks health)", peers)
		}
	})
}

// checkRaftGauges checks the Raft state, term, indexes and leader
// changes a site reports.
func checkRaftGauges(t *testing.T, m scrape, state string, term, lastWrite uint64) {
	t.Helper()
	for _, s := range []string{"Leader", "Follower", "Candidate", "Shutdown"} {
		want := 0.0
		if s == state {
			want = 1
		}
		if got := m.value(t, "innonet_raft_state", "state", s); got != want {
			t.Errorf("got innonet_raft_state{state=%q} %v, want %v", s, got, want)
		}
	}
	if got := m.value(t, "innonet_raft_term"); got != float64(term) {
		t.Errorf("got innonet_raft_term %v, want %d", got, term)
	}
	for _, name := range []string{"innonet_raft_commit_index", "innonet_raft_applied_index"} {
		if got := m.value(t, name); got < float64(lastWrite) {
			t.Errorf("got %s %v, want at least %d (the last write's log index)", name, got, lastWrite)
		}
	}
	if got := m.value(t, "innonet_raft_leader_changes_total"); got < 1 {
		t.Errorf("got innonet_raft_leader_changes_total %v, want at least 1 (the first election)", got)
	}
	if m.kind("innonet_raft_leader_changes_total") != dto.MetricType_COUNTER {
		t.Error("innonet_raft_leader_changes_total is not a counter")
	}
}

// checkRequests checks the request counters and latency of SubmitLead.
func checkRequests(t *testing.T, m scrape, ok, denied int) {
	t.Helper()
	if got := m.value(t, "innonet_api_requests_total", "method", submitMethod, "code", codes.OK.String()); got != float64(ok) {
		t.Errorf("got innonet_api_requests_total{method=SubmitLead,code=OK} %v, want %d", got, ok)
	}
	if got := m.value(t, "innonet_api_requests_total", "method", submitMethod, "code", codes.PermissionDenied.String()); got != float64(denied) {
		t.Errorf("got innonet_api_requests_total{method=SubmitLead,code=PermissionDenied} %v, want %d", got, denied)
	}
	if m.kind("innonet_api_request_duration_seconds") != dto.MetricType_HISTOGRAM {
		t.Error("innonet_api_request_duration_seconds is not a histogram")
	}
	if got := m.value(t, "innonet_api_request_duration_seconds", "method", submitMethod); got != float64(ok+denied) {
		t.Errorf("got innonet_api_request_duration_seconds{method=SubmitLead} count %v, want %d", got, ok+denied)
	}
}

// TestMetricsAccess: /metrics answers an admin or another site (mutual
// TLS with a site certificate) and nobody else, unless the site serves
// its metrics publicly; refusals are logged as any failed request is.
func TestMetricsAccess(t *testing.T) {
	t.Run("tokens", func(t *testing.T) {
		tc := newTestCluster(t, []string{"CGO"}, nil)
		n := tc.node("CGO")
		staff := tc.addUser("Emily Carter", innonetpb.Role_NODE_STAFF, "BOS", "")
		for _, tt := range []struct {
			name, token string
			want        int
		}{
			{"no token", "", http.StatusUnauthorized},
			{"unknown token", NewToken(), http.StatusUnauthorized},
			{"staff", staff, http.StatusForbidden},
			{"admin", testAdminToken, http.StatusOK},
		} {
			t.Run(tt.name, func(t *testing.T) {
				code, body, _ := rawGet(t, n, "/metrics", tt.token)
				if code != tt.want {
					t.Fatalf("got %d %.200s, want %d", code, body, tt.want)
				}
				if code != http.StatusOK && !strings.Contains(string(body), `"code"`) {
					t.Errorf("got body %.200s, want the gateway's error shape", body)
				}
			})
		}
		text, recs := securityLines(t, n)
		checkNoSecrets(t, text, staff, testAdminToken)
		if got := countKind(recs, guard.Unauthenticated, ""); got != 2 {
			t.Errorf("got %d unauthenticated events, want 2:\n%s", got, text)
		}
		for _, r := range recs {
			if r.Method != "GET /metrics" {
				t.Errorf("got event for %q, want GET /metrics", r.Method)
			}
		}
	})
	t.Run("public", func(t *testing.T) {
		tc := newTestCluster(t, []string{"CGO"}, nil, func(c *Config) { c.MetricsPublic = true })
		if code, body, _ := rawGet(t, tc.node("CGO"), "/metrics", ""); code != http.StatusOK {
			t.Fatalf("got %d %.200s, want 200", code, body)
		}
	})
	t.Run("certificates", func(t *testing.T) {
		mine, _ := pki(t)
		tc := newTestCluster(t, []string{"CGO"}, nil, withTLS(t))
		n := tc.node("CGO")
		alice, err := tls.LoadX509KeyPair(certs.ClientFiles(mine, "alice"))
		if err != nil {
			t.Fatal(err)
		}
		for _, tt := range []struct {
			name string
			cfg  *tls.Config
			want int
		}{
			{"another site's certificate", siteStore(t, mine, "BOS").PeerClientConfig(""), http.StatusOK},
			{"a client certificate that names no site", &tls.Config{RootCAs: testCAPool(t), Certificates: []tls.Certificate{alice}}, http.StatusUnauthorized},
			{"no certificate", &tls.Config{RootCAs: testCAPool(t)}, http.StatusUnauthorized},
		} {
			t.Run(tt.name, func(t *testing.T) {
				hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: tt.cfg, ForceAttemptHTTP2: true}}
				defer hc.CloseIdleConnections()
				resp, err := hc.Get("https://" + n.Addr() + "/metrics")
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != tt.want {
					t.Errorf("got %d, want %d", resp.StatusCode, tt.want)
				}
			})
		}
	})
}
