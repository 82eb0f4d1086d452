package node

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"innonet/cluster/faultnet"
	innonetpb "innonet/proto/innonet/v1"
)

// TestCutOffSiteFailsFast (issue 17): a site cut from the two others as a
// border link drops (silently: nothing is refused, connections stall)
// answers a write and a LINEARIZABLE read UNAVAILABLE within the leader
// wait of its timing profile, naming the cause, instead of at the
// caller's deadline: both just after the cut and once it knows it is cut
// off, and whether it was a follower or the leader. /readyz and GET
// /v1/cluster say it is cut off. Once the link is back, the write sent
// again with its request ID is applied once.
func TestCutOffSiteFailsFast(t *testing.T) {
	for _, tt := range []struct {
		name   string
		leader bool // cut the leader rather than a follower
	}{{"follower", false}, {"leader", true}} {
		t.Run(tt.name, func(t *testing.T) {
			fn := faultnet.New()
			tc := newTestCluster(t, testVoters, nil, func(c *Config) { c.Cluster.Dial = fn.Dialer(c.Site) })
			t.Cleanup(fn.Close) // before the sites stop: release stalled calls
			st, err := tc.leaderNode().Cluster().Status()
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range st.Members {
				fn.Name(m.ID, m.RaftAddr, m.APIAddr, tc.node(m.ID).Addr())
			}
			staff := tc.addUser("Emily Carter", innonetpb.Role_NODE_STAFF, "BOS", "")
			leader := tc.leaderNode()
			cut := leader
			if !tt.leader {
				cut = tc.follower(false)
			}
			c := tc.clients(cut, staff)
			lead, err := c.leads.SubmitLead(c.ctx(t), sampleLead("Before the cut"))
			if err != nil {
				t.Fatal(err)
			}
			tc.waitFor("every site has the lead", func() bool {
				for _, id := range tc.order {
					if _, err := tc.node(id).State().Lead(lead.Id); err != nil {
						return false
					}
				}
				return true
			})
			var others []string
			for _, id := range tc.order {
				if id != cut.Site() {
					others = append(others, id)
				}
			}
			wait := cut.cfg.Cluster.LeaderWait()
			// Generous: the bound is the leader wait; the slack is for a
			// loaded test machine, and still well below the callers' 15s.
			limit := wait + 3*time.Second
			cause := "no leader reachable from " + cut.Site()
			lastLeader := "last leader " + leader.Site()

			// call sends one request through the cut site with a 15s
			// deadline and checks it is refused in time, with the cause.
			call := func(what string, f func(ctx context.Context) error, parts ...string) time.Duration {
				t.Helper()
				ctx, cancel := context.WithTimeout(withToken(context.Background(), staff), 15*time.Second)
				defer cancel()
				began := time.Now()
				err := f(ctx)
				took := time.Since(began)
				t.Logf("%s at %s: %s after %s", what, cut.Site(), status.Convert(err).Message(), took.Round(time.Millisecond))
				checkStatus(t, err, codes.Unavailable, append([]string{cause, lastLeader}, parts...)...)
				if took > limit {
					t.Errorf("%s: refused after %s, want within about %s (the leader wait)", what, took, wait)
				}
				return took
			}
			write := sampleLead("Written across the cut")
			submit := func(ctx context.Context) error { _, err := c.leads.SubmitLead(ctx, write); return err }
			linear := func(ctx context.Context) error {
				_, err := c.leads.GetLead(ctx, &innonetpb.GetLeadRequest{Id: lead.Id, Consistency: innonetpb.Consistency_LINEARIZABLE})
				return err
			}

			fn.Split([]string{cut.Site()}, others)
			call("write just after the cut", submit)
			call("linearizable read just after the cut", linear)

			tc.waitFor(cut.Site()+" to know it is cut off", cut.Cluster().CutOff)
			call("write once cut off", submit, "cut off")
			call("linearizable read once cut off", linear, "cut off")
			began := time.Now()
			code, out := newRESTClient(cut).do(t, http.MethodPost, "/v1/leads", staff, restLead("Over REST across the cut"))
			if took := time.Since(began); code != http.StatusServiceUnavailable || !strings.Contains(field(out, "message"), cause) || took > limit {
				t.Errorf("POST /v1/leads at the cut-off site: got %d %v after %s, want 503 naming the cause within %s", code, out, took, limit)
			}
			if code, body, _ := rawGet(t, cut, "/readyz", ""); code != http.StatusServiceUnavailable ||
				!strings.Contains(string(body), cause) || !strings.Contains(string(body), "cut off") {
				t.Errorf("GET /readyz at the cut-off site: got %d %q, want 503 saying it is cut off", code, body)
			}
			admin := tc.clients(cut, testAdminToken)
			view, err := admin.clusters.GetCluster(admin.ctx(t), &innonetpb.GetClusterRequest{Consistency: innonetpb.Consistency_STALE})
			if err != nil {
				t.Fatalf("GET /v1/cluster (STALE) at the cut-off site: %v", err)
			}
			if !view.CutOff || !strings.Contains(view.NoLeader, cause) || view.LastLeader != leader.Site() {
				t.Errorf("cluster view of the cut-off site: cut_off %v, no_leader %q, last_leader %q; want true, the cause, %s",
					view.CutOff, view.NoLeader, view.LastLeader, leader.Site())
			}
			other := tc.clients(tc.node(others[0]), testAdminToken)
			if view, err := other.clusters.GetCluster(other.ctx(t), &innonetpb.GetClusterRequest{}); err != nil || view.CutOff || view.NoLeader != "" {
				t.Errorf("cluster view on the other side: %v, %v; want a leader and no cut", view, err)
			}

			// Healed, the write sent again with the same request ID is
			// applied once.
			fn.Heal()
			var got *innonetpb.Lead
			eventually(t, 20*time.Second, "the write after the link is back", func() error {
				ctx, cancel := context.WithTimeout(withToken(context.Background(), staff), 3*time.Second)
				defer cancel()
				got, err = c.leads.SubmitLead(ctx, write)
				return err
			})
			leads, err := c.leads.ListLeads(c.ctx(t), &innonetpb.ListLeadsRequest{Consistency: innonetpb.Consistency_LINEARIZABLE})
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, l := range leads.Leads {
				if l.Title == write.Title {
					n++
				}
			}
			if n != 1 || got.Title != write.Title {
				t.Errorf("after the cut: %d leads titled %q (answered %s), want exactly one", n, write.Title, got.Id)
			}
		})
	}
}
