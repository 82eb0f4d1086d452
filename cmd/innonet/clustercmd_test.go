package main

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"

	"innonet/node"
	"innonet/node/pipeline"
	pb "innonet/proto/innonet/v1"
)

// TestCLIClusterStatus prints the members and the summary, as a table and
// as JSON, from the leader and from a follower's own view; the members'
// addresses only to an admin.
func TestCLIClusterStatus(t *testing.T) {
	tn := newTestNet(t, "CGO", "BOS", "CBG")
	staff := tn.addUser("Emily Carter", pb.Role_NODE_STAFF, "BOS", "")
	leader := tn.leader().Site()
	follower := tn.follower()

	out := cli(t, "cluster", "status", "--addr", tn.addr(follower), "--token", staff)
	if !strings.HasPrefix(out, "SITE ") {
		t.Errorf("cluster status: no table header:\n%s", out)
	}
	for _, site := range []string{"CGO", "BOS", "CBG"} {
		rows := tableRows(out, site)
		if len(rows) != 1 || rows[0][1] != "yes" || rows[0][2] != yesNo(site == leader) {
			t.Errorf("cluster status: row of %s: got %v, want a voter, leader %v\n%s", site, rows, site == leader, out)
		}
		if n := tn.nodes[site]; strings.Contains(out, n.Cluster().RaftAddr()) || strings.Contains(out, n.Addr()) {
			t.Errorf("cluster status: addresses of %s shown to node staff\n%s", site, out)
		}
	}
	// Admins see where the members are.
	admin := cli(t, "cluster", "status", "--addr", tn.addr(follower), "--token", cliAdminToken)
	for _, site := range []string{"CGO", "BOS", "CBG"} {
		if n := tn.nodes[site]; !strings.Contains(admin, n.Cluster().RaftAddr()) || !strings.Contains(admin, n.Addr()) {
			t.Errorf("cluster status as admin: addresses of %s missing\n%s", site, admin)
		}
	}
	if want := fmt.Sprintf("\nleader %s, term ", leader); !strings.Contains(out, want) || !strings.Contains(out, "applied index") {
		t.Errorf("cluster status: summary lacks %q and the indexes:\n%s", want, out)
	}

	var cl pb.Cluster
	cliJSON(t, &cl, "cluster", "status", "--addr", tn.addr(follower), "--token", staff)
	if len(cl.Members) != 3 || cl.Leader != leader || cl.Term == 0 || cl.AppliedIndex == 0 {
		t.Errorf("cluster status --json: got %v", &cl)
	}
	if !cl.HealthKnown {
		t.Fatalf("cluster status --json: no member health from the leader: %v", &cl)
	}

	// Once the leader's health checks have seen every voter, the group
	// tolerates one failure.
	eventually(t, "a healthy group tolerating one failure", func() error {
		r := runCLI(t, "cluster", "status", "--json", "--addr", tn.addr(follower), "--token", staff)
		if r.err != nil {
			return r.err
		}
		if err := protojson.Unmarshal([]byte(r.stdout), &cl); err != nil {
			return err
		}
		if !cl.Healthy || cl.FailureTolerance != 1 {
			return fmt.Errorf("healthy %v, failure tolerance %d", cl.Healthy, cl.FailureTolerance)
		}
		return nil
	})
	out = cli(t, "cluster", "status", "--addr", tn.addr(follower), "--token", staff)
	if !strings.Contains(out, "health: healthy, failure tolerance 1") {
		t.Errorf("cluster status: summary lacks the health:\n%s", out)
	}
	for _, site := range []string{"CGO", "BOS", "CBG"} {
		if rows := tableRows(out, site); len(rows) != 1 || rows[0][3] != "yes" || rows[0][4] != "ALIVE" {
			t.Errorf("cluster status: row of %s: got %v, want healthy and ALIVE\n%s", site, rows, out)
		}
	}

	out = cli(t, "cluster", "status", "--stale", "--addr", tn.addr(follower), "--token", staff)
	if !strings.Contains(out, "answered by "+follower+" (follower)") {
		t.Errorf("cluster status --stale: got\n%s\nwant %s's own view", out, follower)
	}
}

// TestCLIWriteRetry loses the quorum, starts a write through the one site
// left, and brings the other sites back while the CLI retries: the write
// succeeds once, with the same request ID. On the way, cluster status
// shows the lone site's own view.
func TestCLIWriteRetry(t *testing.T) {
	tn := newTestNet(t, "CGO", "BOS", "CBG")
	staff := tn.addUser("Emily Carter", pb.Role_NODE_STAFF, "BOS", "")
	keep := tn.follower()
	var stopped []string
	// Halt, not Close: a closing leader would hand leadership over, and
	// the last one could hand it to keep.
	for _, site := range tn.sites {
		if site != keep {
			tn.halt(site)
			stopped = append(stopped, site)
		}
	}
	eventually(t, keep+" knows no leader", func() error {
		if id, _ := tn.nodes[keep].Cluster().Leader(); id != "" {
			return fmt.Errorf("%s still follows %s", keep, id)
		}
		return nil
	})

	// With no leader, cluster status shows the asked site's own view.
	r := runCLI(t, "cluster", "status", "--addr", tn.addr(keep), "--token", staff)
	if r.err != nil || !strings.Contains(r.stdout, "leader none") || !strings.Contains(r.stdout, "answered by "+keep) {
		t.Fatalf("cluster status without a leader: got %v\n%s%s", r.err, r.stdout, r.stderr)
	}
	direct := tn.rpc(keep, staff)
	_, err := direct.cluster.GetCluster(direct.ctx(t), &pb.GetClusterRequest{Consistency: pb.Consistency_LEADER})
	if status.Code(err) == codes.Unavailable && !strings.Contains(r.stderr, "warning: no leader answered") {
		t.Errorf("cluster status: the leader did not answer, yet stderr has no warning: %q", r.stderr)
	}

	// A write retries until the quorum is back.
	args := []string{"lead", "submit", "--title", "Written through an outage", "--summary", "s", "--organization", "o",
		"--country", "US", "--sector", "it-ai", "--trl", "3", "--deal-type", "investment",
		"--request-id", "retry-test-1", "--retries", "100", "--addr", tn.addr(keep), "--token", staff}
	stderr := &lockedBuffer{}
	done := make(chan cliResult, 1)
	go func() { done <- runCLIWith(t, streams{stdout: &lockedBuffer{}, stderr: stderr}, args...) }()
	eventually(t, "a retry", func() error {
		if !strings.Contains(stderr.String(), "UNAVAILABLE") || !strings.Contains(stderr.String(), "retry 1 of 100") {
			return errors.New("no retry yet")
		}
		return nil
	})
	for _, site := range stopped {
		tn.restart(site)
	}
	var res cliResult
	select {
	case res = <-done:
	case <-time.After(60 * time.Second):
		t.Fatalf("the write did not finish after the quorum came back; stderr:\n%s", stderr.String())
	}
	if res.err != nil {
		t.Fatalf("write through the outage: %v\n%s", res.err, res.stderr)
	}
	if !strings.Contains(res.stderr, "succeeded after ") || !strings.Contains(res.stderr, "with request ID retry-test-1") {
		t.Errorf("stderr does not report the retries:\n%s", res.stderr)
	}
	rows := tableRows(res.stdout, "BOS-0001")
	if len(rows) != 1 {
		t.Fatalf("got\n%s\nwant lead BOS-0001", res.stdout)
	}

	// Running it again with the same request ID returns the same lead.
	out := cli(t, args...)
	if got := leadIDs(out); got != "BOS-0001" {
		t.Errorf("the same write again: got %q, want BOS-0001", got)
	}
	if got := leadIDs(cli(t, "lead", "list", "--all", "--addr", tn.addr(keep), "--token", staff)); got != "BOS-0001" {
		t.Errorf("lead list: got %q, want the one lead BOS-0001", got)
	}
}

// TestCLIClusterMembership adds a site with the CLI, then promotes,
// demotes and removes it, and moves the leadership.
func TestCLIClusterMembership(t *testing.T) {
	tn := newTestNet(t, "CGO", "BOS", "CBG")
	admin := []string{"--addr", tn.addr("BOS"), "--token", cliAdminToken}
	member := func(site string) (m *pb.Member) {
		st, err := tn.leader().Cluster().Status()
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range st.Members {
			if x.ID == site {
				return &pb.Member{Site: x.ID, Voter: x.Voter}
			}
		}
		return nil
	}
	waitMember := func(what, site string, ok func(m *pb.Member) bool) {
		t.Helper()
		eventually(t, what, func() error {
			if m := member(site); !ok(m) {
				return fmt.Errorf("member %s: %v", site, m)
			}
			return nil
		})
	}

	// A site started on its own is added by the CLI as a read replica.
	muc := tn.start("MUC", siteConfig(t, "MUC"))
	out := cli(t, append([]string{"cluster", "add", "muc", "--raft-addr", muc.Cluster().RaftAddr(), "--api-addr", muc.Addr(), "--nonvoter"}, admin...)...)
	if rows := tableRows(out, "MUC"); len(rows) != 1 || rows[0][1] != "no" {
		t.Fatalf("cluster add --nonvoter: got\n%s\nwant MUC as a non-voter", out)
	}
	waitMember("MUC a non-voter", "MUC", func(m *pb.Member) bool { return m != nil && !m.Voter })
	eventually(t, "MUC has the users", func() error {
		_, err := muc.State().UserByTokenHash(node.HashToken(cliAdminToken))
		return err
	})

	promoted := false
	t.Run("promote", func(t *testing.T) {
		r := runCLI(t, append([]string{"cluster", "promote", "MUC"}, admin...)...)
		skipIfUnimplemented(t, r.err)
		if r.err != nil {
			t.Fatalf("cluster promote: %v", r.err)
		}
		waitMember("MUC a voter", "MUC", func(m *pb.Member) bool { return m != nil && m.Voter })
		promoted = true
	})
	t.Run("demote", func(t *testing.T) {
		if !promoted {
			t.Skip("needs cluster promote")
		}
		r := runCLI(t, append([]string{"cluster", "demote", "MUC", "--json"}, admin...)...)
		skipIfUnimplemented(t, r.err)
		if r.err != nil {
			t.Fatalf("cluster demote: %v", r.err)
		}
		waitMember("MUC a non-voter again", "MUC", func(m *pb.Member) bool { return m != nil && !m.Voter })
	})
	t.Run("transfer-leadership", func(t *testing.T) {
		target := ""
		for _, site := range []string{"CGO", "BOS", "CBG"} {
			if site != tn.leader().Site() {
				target = site
				break
			}
		}
		r := runCLI(t, append([]string{"cluster", "transfer-leadership", target}, admin...)...)
		skipIfUnimplemented(t, r.err)
		if r.err != nil {
			t.Fatalf("cluster transfer-leadership %s: %v", target, r.err)
		}
		eventually(t, target+" leads", func() error {
			if got := tn.leader().Site(); got != target {
				return fmt.Errorf("%s leads", got)
			}
			return nil
		})
		old := target
		if r := runCLI(t, append([]string{"cluster", "transfer-leadership"}, admin...)...); r.err != nil {
			t.Fatalf("cluster transfer-leadership (to any voter): %v", r.err)
		}
		eventually(t, "another site leads", func() error {
			if got := tn.leader().Site(); got == old {
				return fmt.Errorf("%s still leads", got)
			}
			return nil
		})
	})
	t.Run("placement", func(t *testing.T) {
		r := runCLI(t, append([]string{"cluster", "placement", "--pin", "xyz"}, admin...)...)
		if r.err == nil || !strings.Contains(r.err.Error()+r.stderr, `pin: "XYZ" is not a member of the cluster`) {
			t.Fatalf("cluster placement --pin xyz: %v %s, want the pin refused as no member", r.err, r.stderr)
		}
		r = runCLI(t, append([]string{"cluster", "placement", "--mode", "manual", "--prefer", "cgo,bos"}, admin...)...)
		if r.err != nil || !strings.Contains(r.stdout, "placement manual, prefer CGO,BOS") {
			t.Fatalf("cluster placement --mode manual: %v\n%s", r.err, r.stdout)
		}
		eventually(t, "the RTT matrix shown", func() error {
			r := runCLI(t, append([]string{"cluster", "placement"}, admin...)...)
			if r.err != nil || !strings.Contains(r.stdout, "RTT FROM") || !strings.Contains(r.stdout, "PER WRITE") {
				return fmt.Errorf("%v\n%s", r.err, r.stdout)
			}
			return nil
		})
	})
	t.Run("deny-cert", func(t *testing.T) {
		eventually(t, "the cluster's log format raised", func() error {
			if f := tn.leader().State().Format(); f < pipeline.Format2 {
				return fmt.Errorf("format %d", f)
			}
			return nil
		})
		out := cli(t, append([]string{"cluster", "deny-cert", "3A:F0:91", "--comment", "laptop stolen"}, admin...)...)
		if !strings.Contains(out, "3af091") {
			t.Errorf("deny-cert printed %q, want the normalized serial", out)
		}
		out = cli(t, append([]string{"cluster", "denied-certs"}, admin...)...)
		if rows := tableRows(out, "3af091"); len(rows) != 1 || !strings.Contains(out, "laptop stolen") ||
			!strings.Contains(strings.Join(rows[0], " "), "admin (user-0001)") {
			t.Errorf("denied-certs printed\n%s\nwant the serial with its comment, added by admin (user-0001)", out)
		}
		if r := runCLI(t, append([]string{"cluster", "deny-cert", "zz"}, admin...)...); r.err == nil || !strings.Contains(r.err.Error(), "serial") {
			t.Errorf("deny-cert zz: %v, want an error about the serial", r.err)
		}
	})
	t.Run("remove", func(t *testing.T) {
		r := runCLI(t, append([]string{"cluster", "remove", "MUC"}, admin...)...)
		skipIfUnimplemented(t, r.err)
		if r.err != nil {
			t.Fatalf("cluster remove: %v", r.err)
		}
		waitMember("MUC gone", "MUC", func(m *pb.Member) bool { return m == nil })
	})
}
