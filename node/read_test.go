package node

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	innonetpb "innonet/proto/innonet/v1"
)

// TestReadConsistencyLaggingReplica cuts a non-voter's Raft link (through
// a proxy in front of its Raft port), changes a lead on the leader, and
// shows: STALE reads on the replica return the old version and say how far
// behind the site is; LINEARIZABLE reads through the replica never do;
// STALE with a max staleness the replica exceeds goes to the leader; once
// the link heals the replica catches up.
func TestReadConsistencyLaggingReplica(t *testing.T) {
	tc := newTestCluster(t, testVoters, nil)
	leader := tc.leaderNode()

	raftAddr := freePort(t)
	proxy := newTCPProxy(t, raftAddr)
	cfg := testConfig(t, "YRD", func(c *Config) {
		c.Cluster.RaftAddr, c.Cluster.AdvertiseAddr = raftAddr, proxy.addr()
		c.Join, c.NonVoter = leader.Addr(), true
		// STALE reads from the replica's own copy while it is cut off,
		// however long the test takes (TestAuthStaleReplica has the bound).
		c.MaxAuthStaleness = -1
	})
	tc.start("YRD", cfg)
	tc.waitFor("YRD a member", func() bool {
		st, err := tc.leaderNode().Cluster().Status()
		return err == nil && len(st.Members) == 4
	})

	bos := tc.addUser("Alice", innonetpb.Role_NODE_STAFF, "BOS", "")
	hq := tc.addUser("Hui", innonetpb.Role_HQ_REVIEWER, "", "")
	lead, err := tc.clients(leader, bos).leads.SubmitLead(tc.clients(leader, bos).ctx(t), sampleLead("Lagging replica"))
	if err != nil {
		t.Fatal(err)
	}
	yrd := tc.clients(tc.node("YRD"), hq)
	get := func(c innonetpb.Consistency, max time.Duration) (*innonetpb.Lead, metadata.MD, error) {
		req := &innonetpb.GetLeadRequest{Id: lead.Id, Consistency: c}
		if max > 0 {
			req.MaxStaleness = durationpb.New(max)
		}
		var md metadata.MD
		l, err := yrd.leads.GetLead(yrd.ctx(t), req, grpc.Header(&md))
		return l, md, err
	}
	eventually(t, 10*time.Second, "YRD has the lead and the users", func() error {
		// YRD's own copy: a read through YRD could be answered by the
		// leader while YRD does not know the token yet.
		if _, err := tc.node("YRD").State().UserByTokenHash(HashToken(hq)); err != nil {
			return err
		}
		_, err := tc.node("YRD").State().Lead(lead.Id)
		return err
	})

	proxy.setCut(true)
	upd, err := tc.clients(leader, bos).leads.UpdateLead(tc.clients(leader, bos).ctx(t), &innonetpb.UpdateLeadRequest{
		Id: lead.Id, RequestId: rid(), Title: proto.String("Lagging replica, revised")})
	if err != nil {
		t.Fatal(err)
	}
	if upd.Version != 2 {
		t.Fatalf("update: got version %d, want 2", upd.Version)
	}

	t.Run("STALE returns the old version and says so", func(t *testing.T) {
		l, md, err := get(innonetpb.Consistency_STALE, 0)
		if err != nil {
			t.Fatal(err)
		}
		if l.Version != 1 {
			t.Fatalf("got version %d, want the stale version 1", l.Version)
		}
		if site := first(md, mdReadSite); site != "YRD" {
			t.Errorf("read site header: got %q, want YRD", site)
		}
		applied, _ := strconv.ParseUint(first(md, mdAppliedIndex), 10, 64)
		if applied == 0 || applied >= leader.State().AppliedIndex() {
			t.Errorf("applied index header: got %d, want > 0 and below the leader's %d", applied, leader.State().AppliedIndex())
		}
		eventually(t, 5*time.Second, "YRD's last contact to grow", func() error {
			resp, err := yrd.leads.ListLeads(yrd.ctx(t), &innonetpb.ListLeadsRequest{Consistency: innonetpb.Consistency_STALE})
			if err != nil {
				return err
			}
			if r := resp.Read; r.GetSite() != "YRD" || r.GetConsistency() != innonetpb.Consistency_STALE || r.GetLastContact().AsDuration() < 300*time.Millisecond {
				return fmt.Errorf("read info %v: want site YRD, STALE, last contact >= 300ms", r)
			}
			return nil
		})
	})

	t.Run("a token newer than the replica is judged by the leader", func(t *testing.T) {
		// Created after the cut: YRD has not applied the user.
		newcomer := tc.addUser("Newcomer", innonetpb.Role_HQ_REVIEWER, "", "")
		c := tc.clients(tc.node("YRD"), newcomer)
		var md metadata.MD
		if _, err := c.leads.GetLead(c.ctx(t), &innonetpb.GetLeadRequest{Id: lead.Id, Consistency: innonetpb.Consistency_STALE}, grpc.Header(&md)); err != nil {
			t.Fatalf("a valid token unknown to the lagging replica: %v", err)
		}
		if site := first(md, mdReadSite); site != leader.Site() {
			t.Errorf("read site header: got %q, want the leader %s", site, leader.Site())
		}
		// A token unknown everywhere is still refused.
		bad := tc.clients(tc.node("YRD"), NewToken())
		_, err := bad.leads.GetLead(bad.ctx(t), &innonetpb.GetLeadRequest{Id: lead.Id, Consistency: innonetpb.Consistency_STALE})
		checkStatus(t, err, codes.Unauthenticated)
	})

	t.Run("LINEARIZABLE never returns the old version", func(t *testing.T) {
		for i := 0; i < 5; i++ {
			l, md, err := get(innonetpb.Consistency_LINEARIZABLE, 0)
			if err != nil {
				t.Fatal(err)
			}
			if l.Version != 2 {
				t.Fatalf("got version %d, want 2", l.Version)
			}
			if site := first(md, mdReadSite); site != leader.Site() {
				t.Errorf("read site header: got %q, want the leader %s", site, leader.Site())
			}
			if c := first(md, mdReadConsistency); c != "LINEARIZABLE" {
				t.Errorf("consistency header: got %q, want LINEARIZABLE", c)
			}
		}
	})

	t.Run("STALE beyond max staleness goes to the leader", func(t *testing.T) {
		l, md, err := get(innonetpb.Consistency_STALE, 200*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		if l.Version != 2 || first(md, mdReadSite) != leader.Site() {
			t.Fatalf("got version %d from %s, want version 2 from the leader %s", l.Version, first(md, mdReadSite), leader.Site())
		}
		// A bound the replica still meets is answered locally.
		l, md, err = get(innonetpb.Consistency_STALE, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if l.Version != 1 || first(md, mdReadSite) != "YRD" {
			t.Fatalf("got version %d from %s, want the stale version 1 from YRD", l.Version, first(md, mdReadSite))
		}
	})

	t.Run("bad consistency arguments", func(t *testing.T) {
		_, err := yrd.leads.GetLead(yrd.ctx(t), &innonetpb.GetLeadRequest{Id: lead.Id, Consistency: 9})
		checkStatus(t, err, codes.InvalidArgument, "consistency")
		_, err = yrd.leads.GetLead(yrd.ctx(t), &innonetpb.GetLeadRequest{Id: lead.Id, Consistency: innonetpb.Consistency_LEADER, MaxStaleness: durationpb.New(time.Second)})
		checkStatus(t, err, codes.InvalidArgument, "max_staleness")
		_, err = yrd.leads.GetLead(yrd.ctx(t), &innonetpb.GetLeadRequest{Id: lead.Id, Consistency: innonetpb.Consistency_STALE, MaxStaleness: durationpb.New(-time.Second)})
		checkStatus(t, err, codes.InvalidArgument, "max_staleness")
	})

	proxy.setCut(false)
	eventually(t, 10*time.Second, "YRD to catch up after the link heals", func() error {
		l, _, err := get(innonetpb.Consistency_STALE, 0)
		if err != nil {
			return err
		}
		if l.Version != 2 {
			return fmt.Errorf("got version %d, want 2", l.Version)
		}
		return nil
	})
}

// TestLinearizableReadAfterLeaderChange acknowledges a write, kills the
// leader at once and reads the lead LINEARIZABLE through a survivor: the
// read may fail while a new leader is elected, but it must never answer
// that the acknowledged lead does not exist.
func TestLinearizableReadAfterLeaderChange(t *testing.T) {
	tc := newTestCluster(t, testVoters, nil)
	bos := tc.addUser("Alice", innonetpb.Role_NODE_STAFF, "BOS", "")
	for round := 0; round < 3; round++ {
		leader := tc.leaderNode()
		c := tc.clients(leader, bos)
		lead, err := c.leads.SubmitLead(c.ctx(t), sampleLead(fmt.Sprintf("Round %d", round)))
		if err != nil {
			t.Fatal(err)
		}
		id := leader.Site()
		tc.stop(id)
		var survivor *Node
		for _, s := range tc.order {
			if s != id {
				survivor = tc.node(s)
				break
			}
		}
		sc := tc.clients(survivor, bos)
		eventually(t, 15*time.Second, "a linearizable read after the leader change", func() error {
			ctx, cancel := context.WithTimeout(withToken(context.Background(), bos), 2*time.Second)
			defer cancel()
			l, err := sc.leads.GetLead(ctx, &innonetpb.GetLeadRequest{Id: lead.Id, Consistency: innonetpb.Consistency_LINEARIZABLE})
			if s, _ := status.FromError(err); err != nil && s.Code() == codes.NotFound {
				t.Fatalf("round %d: linearizable read says acknowledged lead %s does not exist", round, lead.Id)
			}
			if err != nil {
				return err
			}
			if l.Title != lead.Title {
				t.Fatalf("round %d: got title %q, want %q", round, l.Title, lead.Title)
			}
			return nil
		})
		tc.restart(id)
	}
}

func first(md metadata.MD, key string) string {
	if v := md.Get(key); len(v) > 0 {
		return v[0]
	}
	return ""
}
