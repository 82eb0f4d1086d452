package node

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"

	"innonet/cluster"
	"innonet/node/pipeline"
	innonetpb "innonet/proto/innonet/v1"
)

// damageState changes a site's copy of the pipeline behind Raft's back,
// as a bug or a bad memory chip would: a lead appears that no other site
// has.
func damageState(t *testing.T, n *Node) {
	t.Helper()
	staff, err := n.State().UserByTokenHash(HashToken(testAdminToken))
	if err != nil {
		t.Fatal(err)
	}
	// An admin cannot submit; add a staff member first, on this site only.
	data, err := pipeline.Command{Op: pipeline.OpAddUser, RequestID: "behind-raft-1", Actor: staff.ID, Time: time.Now().UnixNano(),
		NewUser: &pipeline.NewUser{Name: "Ghost", Role: pipeline.NodeStaff, Site: "BOS", TokenHash: HashToken("inn_ghost")}}.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if res := n.State().Apply(n.State().AppliedIndex(), data); !isResultOK(res) {
		t.Fatalf("damage the state: %v", res)
	}
}

func isResultOK(res any) bool { _, ok := res.(pipeline.Result); return ok }

// memberAlarms returns the alarms the leader reports for site.
func memberAlarms(t *testing.T, tc *testCluster, site string) []*innonetpb.Alarm {
	t.Helper()
	l := tc.leaderNode()
	admin := tc.clients(l, testAdminToken)
	cl, err := admin.clusters.GetCluster(admin.ctx(t), &innonetpb.GetClusterRequest{})
	if err != nil {
		return nil
	}
	for _, m := range cl.Members {
		if m.Site == site {
			return m.Alarms
		}
	}
	return nil
}

func hasAlarm(as []*innonetpb.Alarm, kind string) bool {
	for _, a := range as {
		if a.Kind == kind {
			return true
		}
	}
	return false
}

func readyz(t *testing.T, n *Node) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + n.Addr() + "/readyz")
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// staleReadSite asks n for a STALE list and returns the site that answered.
func staleReadSite(t *testing.T, tc *testCluster, n *Node) (string, error) {
	t.Helper()
	c := tc.clients(n, testAdminToken)
	var hdr metadata.MD
	_, err := c.leads.ListLeads(c.ctx(t), &innonetpb.ListLeadsRequest{Consistency: innonetpb.Consistency_STALE}, grpc.Header(&hdr))
	if v := hdr.Get(mdReadSite); len(v) > 0 {
		return v[0], err
	}
	return "", err
}

// TestCheckpointDigestMismatch: a follower whose state differs from the
// others' (changed behind Raft's back) raises CORRUPT at the next verified
// checkpoint: it stops applying, /readyz says why, its STALE reads are
// answered by the leader, and the leader shows the alarm on that member.
func TestCheckpointDigestMismatch(t *testing.T) {
	tc := newTestCluster(t, []string{"CGO", "BOS", "CBG"}, []string{"YRD"})
	tc.waitFor("the cluster runs log format 2", func() bool { return tc.leaderNode().State().Format() >= pipeline.Format2 })
	tc.addUser("Bea", innonetpb.Role_NODE_STAFF, "BOS", "")
	victim := tc.node("YRD")
	tc.waitFor("YRD computed a checkpoint digest", func() bool { return victim.Cluster().Stats().CheckpointIndex > 0 })
	damageState(t, victim)
	eventually(t, 20*time.Second, "YRD raises CORRUPT", func() error {
		if !victim.Cluster().Corrupt() {
			return fmt.Errorf("not corrupt yet; stats %+v", victim.Cluster().Stats().CheckpointIndex)
		}
		return nil
	})
	code, body := readyz(t, victim)
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "CORRUPT") || !strings.Contains(body, "checkpoint") {
		t.Errorf("/readyz on the damaged site: %d %q, want 503 naming CORRUPT and the checkpoint", code, body)
	}
	leader := tc.leaderNode()
	if site, err := staleReadSite(t, tc, victim); err != nil || site != leader.Site() {
		t.Errorf("STALE read on the damaged site answered by %q (%v), want the leader %s", site, err, leader.Site())
	}
	eventually(t, 10*time.Second, "the leader shows YRD's alarm", func() error {
		if !hasAlarm(memberAlarms(t, tc, "YRD"), cluster.AlarmCorrupt) {
			return fmt.Errorf("no CORRUPT alarm on YRD in GET /v1/cluster")
		}
		return nil
	})
	// The healthy sites agree and go on.
	for _, id := range []string{"CGO", "BOS", "CBG"} {
		if tc.node(id).Cluster().Corrupt() {
			t.Errorf("%s raised CORRUPT, want only YRD", id)
		}
	}
	tc.addUser("Carl", innonetpb.Role_NODE_STAFF, "CBG", "")
	// A restart does not clear it: the site must be rebuilt.
	tc.stop("YRD")
	tc.restart("YRD")
	if !tc.node("YRD").Cluster().Corrupt() {
		t.Error("after a restart YRD is no longer CORRUPT, want the alarm kept until it is rebuilt")
	}
}

// TestCheckpointLeaderDiverges: when the leader's own state differs from
// the majority's, the leader raises CORRUPT on itself and hands leadership
// over; the others carry on.
func TestCheckpointLeaderDiverges(t *testing.T) {
	tc := newTestCluster(t, []string{"CGO", "BOS", "CBG"}, nil)
	tc.waitFor("the cluster runs log format 2", func() bool { return tc.leaderNode().State().Format() >= pipeline.Format2 })
	old := tc.leaderNode()
	tc.waitFor("the leader computed a checkpoint digest", func() bool { return old.Cluster().Stats().CheckpointIndex > 0 })
	damageState(t, old)
	eventually(t, 20*time.Second, "the old leader raises CORRUPT and another site leads", func() error {
		if !old.Cluster().Corrupt() {
			return fmt.Errorf("%s not corrupt yet", old.Site())
		}
		if l := tc.leaderNode(); l == nil || l == old {
			return fmt.Errorf("%s still leads", old.Site())
		}
		return nil
	})
	tc.addUser("Dora", innonetpb.Role_NODE_STAFF, "MUC", "")
	// A write sent to the damaged site is answered by the new leader.
	c := tc.clients(old, testAdminToken)
	if _, err := c.users.CreateUser(c.ctx(t), &innonetpb.CreateUserRequest{RequestId: rid(), Name: "Eve", Role: innonetpb.Role_HQ_REVIEWER}); err != nil {
		t.Errorf("write through the damaged old leader: %v", err)
	}
}

// TestFormatGating: while a member reports an older log format, the
// cluster's format stays, a command of the newer format is refused with a
// message that names the site, and once the member is upgraded the format
// is raised; after that a site reporting the older format cannot join.
func TestFormatGating(t *testing.T) {
	// Every site starts as an older binary would (so none is refused at
	// join); then all but CBG are upgraded.
	tc := newTestCluster(t, []string{"CGO", "BOS", "CBG"}, nil, func(c *Config) { c.AdvertiseFormat = pipeline.Format1 })
	for _, id := range []string{"CGO", "BOS"} {
		tc.sites[id].cfg.AdvertiseFormat = 0
		tc.stop(id)
		tc.restart(id)
	}
	tc.waitFor("the leader heard every member's format", func() bool {
		l := tc.leaderNode()
		h := l.Cluster().Health()
		if !h.Known || len(h.Members) != 3 || h.Members["CBG"].Stats.Format != pipeline.Format1 {
			return false
		}
		for _, id := range []string{"CGO", "BOS"} {
			if h.Members[id].Stats.Format != pipeline.FormatVersion {
				return false
			}
		}
		return true
	})
	if f := tc.leaderNode().State().Format(); f != pipeline.Format1 {
		t.Fatalf("cluster format %d with CBG on format 1, want 1", f)
	}
	admin := tc.clients(tc.leaderNode(), testAdminToken)
	_, err := admin.clusters.DenyCertificate(admin.ctx(t), &innonetpb.DenyCertificateRequest{Serial: "abcd"})
	checkStatus(t, err, codes.FailedPrecondition, "CBG", "older version")

	// Upgrade CBG (restart it as a current binary).
	tc.sites["CBG"].cfg.AdvertiseFormat = 0
	tc.stop("CBG")
	tc.restart("CBG")
	tc.waitFor("the format raised to 2", func() bool { l := tc.leaderNode(); return l != nil && l.State().Format() == pipeline.Format2 })
	admin = tc.clients(tc.leaderNode(), testAdminToken)
	if _, err := admin.clusters.DenyCertificate(admin.ctx(t), &innonetpb.DenyCertificateRequest{Serial: "abcd"}); err != nil {
		t.Errorf("deny after the upgrade: %v", err)
	}
	// An older binary may not join now.
	_, err = admin.clusters.JoinCluster(admin.ctx(t), &innonetpb.JoinClusterRequest{Site: "MUC", RaftAddress: "127.0.0.1:1", ApiAddress: "127.0.0.1:2", LogFormat: 1})
	checkStatus(t, err, codes.FailedPrecondition, "MUC", "older version")
	_, err = admin.clusters.JoinCluster(admin.ctx(t), &innonetpb.JoinClusterRequest{Site: "MUC", RaftAddress: "127.0.0.1:1", ApiAddress: "127.0.0.1:2"})
	checkStatus(t, err, codes.FailedPrecondition, "MUC")
}

// TestClockSkew: a member whose clock is two hours fast is reported with
// CLOCK_SKEW and its offset, and when it leads it hands leadership to a
// voter whose clock agrees with the others'.
func TestClockSkew(t *testing.T) {
	fast := func(c *Config) {
		if c.Site == "CBG" {
			c.Clock = func() time.Time { return time.Now().Add(2 * time.Hour) }
		}
	}
	tc := newTestCluster(t, []string{"CGO", "BOS", "CBG"}, nil, fast)
	eventually(t, 10*time.Second, "the leader reports CBG's skew", func() error {
		l := tc.leaderNode()
		if l == nil || l.Site() == "CBG" {
			return fmt.Errorf("no leader, or CBG leads")
		}
		admin := tc.clients(l, testAdminToken)
		cl, err := admin.clusters.GetCluster(admin.ctx(t), &innonetpb.GetClusterRequest{})
		if err != nil {
			return err
		}
		for _, m := range cl.Members {
			if m.Site == "CBG" {
				if off := m.ClockOffset.AsDuration(); off < 119*time.Minute || off > 121*time.Minute || !hasAlarm(m.Alarms, cluster.AlarmClockSkew) {
					return fmt.Errorf("CBG: offset %v, alarms %v", off, m.Alarms)
				}
				return nil
			}
		}
		return fmt.Errorf("CBG not listed")
	})
	// Hand leadership to the fast site: it must give it away again.
	l := tc.leaderNode()
	admin := tc.clients(l, testAdminToken)
	if _, err := admin.clusters.TransferLeadership(admin.ctx(t), &innonetpb.TransferLeadershipRequest{Site: "CBG"}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, "CBG hands leadership back", func() error {
		if l := tc.leaderNode(); l == nil || l.Site() == "CBG" {
			return fmt.Errorf("CBG still leads (or no leader)")
		}
		return nil
	})
}

// TestTokenExpiryTolerance: a site judges a token's expiry with the clock
// skew the cluster tolerates, so a site slightly ahead of the leader (whose
// clock set the expiry) does not refuse a token that is still valid.
func TestTokenExpiryTolerance(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	n := &Node{cfg: Config{Clock: func() time.Time { return now }, Cluster: cluster.Config{MaxClockSkew: 500 * time.Millisecond}}}
	at := func(d time.Duration) *pipeline.Token { e := now.Add(d); return &pipeline.Token{Expires: &e} }
	for _, tt := range []struct {
		expiresIn time.Duration
		expired   bool
	}{
		{time.Hour, false},
		{0, false},                       // this site's clock says now; within the skew
		{-400 * time.Millisecond, false}, // this site may be 400 ms ahead of the leader
		{-500 * time.Millisecond, true},
		{-time.Minute, true},
	} {
		if got := n.tokenExpired(at(tt.expiresIn)); got != tt.expired {
			t.Errorf("token expiring %v from this site's now: expired = %v, want %v", tt.expiresIn, got, tt.expired)
		}
	}
	n.cfg.Cluster.MaxClockSkew = 0
	if !n.tokenExpired(at(0)) {
		t.Error("with no tolerance, a token expiring now: not expired, want expired")
	}
}
