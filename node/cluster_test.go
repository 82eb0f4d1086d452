package node

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"innonet/node/pipeline"
	innonetpb "innonet/proto/innonet/v1"
)

// The topology of the cluster tests: three voters and a read replica, as in
// the smoke test.
var (
	testVoters    = []string{"CGO", "BOS", "CBG"}
	testNonVoters = []string{"YRD"}
)

// staleGet reads a lead from the site c talks to, from that site's own copy.
func staleGet(ctx context.Context, c testClients, id string) (*innonetpb.Lead, error) {
	return c.leads.GetLead(ctx, &innonetpb.GetLeadRequest{Id: id, Consistency: innonetpb.Consistency_STALE})
}

func TestClusterWriteIsReadableOnEverySite(t *testing.T) {
	tc := newTestCluster(t, testVoters, testNonVoters)
	tok := tc.addUser("Alice", innonetpb.Role_NODE_STAFF, "BOS", "")
	tests := []struct {
		name string
		via  *Node
	}{
		{"via follower", tc.follower(false)},
		{"via non-voter", tc.follower(true)},
		{"via leader", tc.leaderNode()},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tc.clients(tt.via, tok)
			req := sampleLead("Lead " + tt.name)
			l, err := c.leads.SubmitLead(c.ctx(t), req)
			if err != nil {
				t.Fatalf("submit %s: %v", tt.name, err)
			}
			if want := fmt.Sprintf("BOS-%04d", i+1); l.Id != want {
				t.Fatalf("got ID %s, want %s", l.Id, want)
			}
			for _, id := range tc.order {
				sc := tc.clients(tc.node(id), tok)
				eventually(t, 10*time.Second, "lead "+l.Id+" readable (STALE) on "+id, func() error {
					got, err := staleGet(sc.ctx(t), sc, l.Id)
					if err != nil {
						return err
					}
					if got.Title != req.Title || got.Version != 1 || got.Stage != innonetpb.Stage_SUBMITTED {
						return fmt.Errorf("got %s %q v%d %s, want %q v1 SUBMITTED", got.Id, got.Title, got.Version, got.Stage, req.Title)
					}
					return nil
				})
			}
		})
	}

	t.Run("stale reads without a quorum", func(t *testing.T) {
		for _, id := range testVoters[:2] {
			tc.stop(id)
		}
		c := tc.clients(tc.node(testNonVoters[0]), tok)
		ctx, cancel := context.WithTimeout(withToken(context.Background(), tok), 10*time.Second)
		defer cancel()
		got, err := staleGet(ctx, c, "BOS-0001")
		if err != nil {
			t.Fatalf("stale read on the read replica without a quorum: %v", err)
		}
		if got.Id != "BOS-0001" {
			t.Fatalf("got %s, want BOS-0001", got.Id)
		}
		_, err = c.leads.GetLead(ctx, &innonetpb.GetLeadRequest{Id: "BOS-0001"})
		checkStatus(t, err, codes.Unavailable)
	})
}

func TestClusterLeaderKilledMidStream(t *testing.T) {
	const (
		total        = 60 // acknowledged writes to reach
		killAfter    = 15 // acknowledged writes before the leader is stopped
		afterKillMin = 20 // acknowledged writes that must start after the stop
	)
	tc := newTestCluster(t, testVoters, testNonVoters)
	tok := tc.addUser("Alice", innonetpb.Role_NODE_STAFF, "BOS", "")
	leader := tc.leaderNode().Site()

	// The writer starts on a follower and moves to the next site whenever
	// one is unavailable; the leader comes last.
	var targets []testClients
	for _, id := range tc.order {
		if id != leader {
			targets = append(targets, tc.clients(tc.node(id), tok))
		}
	}
	targets = append(targets, tc.clients(tc.node(leader), tok))

	type ack struct {
		title string
		lead  *innonetpb.Lead
	}
	var (
		mu          sync.Mutex
		acks        []ack
		retries     int
		stopped     atomic.Bool
		afterStop   atomic.Int64
		reachedKill = make(chan struct{})
		done        = make(chan error, 1)
		quit        = make(chan struct{})
	)
	defer close(quit)
	go func() {
		cur := 0
		for i := 1; ; i++ {
			mu.Lock()
			n := len(acks)
			mu.Unlock()
			if n >= total && afterStop.Load() >= afterKillMin {
				done <- nil
				return
			}
			req := sampleLead(fmt.Sprintf("Stream lead %d", i))
			startedAfterStop := stopped.Load()
			for {
				select {
				case <-quit:
					return
				default:
				}
				ctx, cancel := context.WithTimeout(withToken(context.Background(), tok), 3*time.Second)
				l, err := targets[cur].leads.SubmitLead(ctx, req)
				cancel()
				if err == nil {
					mu.Lock()
					acks = append(acks, ack{req.Title, l})
					if len(acks) == killAfter {
						close(reachedKill)
					}
					mu.Unlock()
					if startedAfterStop {
						afterStop.Add(1)
					}
					break
				}
				if c := status.Code(err); c != codes.Unavailable && c != codes.DeadlineExceeded {
					done <- fmt.Errorf("submit %q: %w", req.Title, err)
					return
				}
				// Retry the same request (same request ID) on the next site.
				mu.Lock()
				retries++
				mu.Unlock()
				cur = (cur + 1) % len(targets)
				select {
				case <-quit:
					return
				case <-time.After(20 * time.Millisecond): // client back-off between retries
				}
			}
		}
	}()

	select {
	case <-reachedKill:
	case err := <-done:
		t.Fatalf("writer stopped before the leader was killed: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("timed out waiting for the first acknowledged writes")
	}
	tc.stop(leader)
	stopped.Store(true)
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(60 * time.Second):
		mu.Lock()
		n := len(acks)
		mu.Unlock()
		t.Fatalf("timed out with %d of %d writes acknowledged after the leader %s was stopped", n, total, leader)
	}
	tc.restart(leader)

	mu.Lock()
	defer mu.Unlock()
	t.Logf("%d writes acknowledged, %d retries, old leader %s, new leader %s", len(acks), retries, leader, tc.leaderNode().Site())
	seen := map[string]string{}
	for _, a := range acks {
		if prev, dup := seen[a.lead.Id]; dup {
			t.Fatalf("lead %s acknowledged for both %q and %q", a.lead.Id, prev, a.title)
		}
		seen[a.lead.Id] = a.title
		if a.lead.Title != a.title {
			t.Errorf("acknowledged lead %s has title %q, want %q", a.lead.Id, a.lead.Title, a.title)
		}
	}
	for i := 1; i <= len(acks); i++ {
		if id := fmt.Sprintf("BOS-%04d", i); seen[id] == "" {
			t.Errorf("no acknowledged write got ID %s: IDs are not gap-free", id)
		}
	}
	for _, id := range tc.order {
		st := tc.node(id).State()
		eventually(t, 20*time.Second, "every acknowledged lead on "+id, func() error {
			for _, a := range acks {
				l, err := st.Lead(a.lead.Id)
				if err != nil {
					return err
				}
				if l.Title != a.title {
					return fmt.Errorf("lead %s on %s has title %q, want %q", l.ID, id, l.Title, a.title)
				}
			}
			all, _, err := st.Leads(pipeline.Filter{})
			if err != nil {
				return err
			}
			if len(all) != len(acks) {
				return fmt.Errorf("site %s holds %d leads, want %d (one per acknowledged write)", id, len(all), len(acks))
			}
			return nil
		})
	}
}

// snapshotCount is the number of snapshots in a site's data directory.
func snapshotCount(t *testing.T, tc *testCluster, id string) int {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(tc.sites[id].cfg.DataDir, "raft", "snapshots"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if e.IsDir() && filepath.Ext(e.Name()) != ".tmp" {
			n++
		}
	}
	return n
}

// stateDump is a site's whole pipeline as JSON, to compare sites.
func stateDump(st *pipeline.State) (string, error) {
	leads, _, err := st.Leads(pipeline.Filter{})
	if err != nil {
		return "", err
	}
	dump := map[string]any{"leads": leads}
	for _, l := range leads {
		h, err := st.History(l.ID)
		if err != nil {
			return "", err
		}
		dump["history/"+l.ID] = h
	}
	users, err := st.Users()
	if err != nil {
		return "", err
	}
	dump["users"] = users
	dump["counts"] = st.Counts()
	b, err := json.MarshalIndent(dump, "", " ")
	return string(b), err
}

func TestClusterRestartedSiteCatchesUp(t *testing.T) {
	// Few trailing logs, so that a leader snapshot compacts the log and a
	// site that was down must be sent the snapshot.
	tc := newTestCluster(t, testVoters, testNonVoters, func(c *Config) { c.Cluster.TrailingLogs = 4 })
	tok := tc.addUser("Alice", innonetpb.Role_NODE_STAFF, "BOS", "")
	hq := tc.addUser("Hal", innonetpb.Role_HQ_REVIEWER, "", "")
	tests := []struct {
		name           string
		nonVoter       bool
		ownSnapshot    bool // the site snapshots itself before it stops
		leaderSnapshot bool // the leader snapshots (and compacts) while it is down
	}{
		{name: "voter from the log"},
		{name: "voter from the leader's snapshot and log", leaderSnapshot: true},
		{name: "non-voter from its own and the leader's snapshot", nonVoter: true, ownSnapshot: true, leaderSnapshot: true},
		{name: "non-voter from its own snapshot and the log", nonVoter: true, ownSnapshot: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			leader := tc.leaderNode()
			lc := tc.clients(leader, tok)
			hc := tc.clients(leader, hq)
			id := tc.follower(tt.nonVoter).Site()
			submit := func(k int) {
				t.Helper()
				for i := range k {
					l, err := lc.leads.SubmitLead(lc.ctx(t), sampleLead("Catch-up lead"))
					if err != nil {
						t.Fatalf("submit: %v", err)
					}
					// Return every third lead, so the state holds more
					// than one stage and history of more than one event.
					if i%3 == 0 {
						if _, err := hc.leads.ReviewLead(hc.ctx(t), &innonetpb.ReviewLeadRequest{
							Id: l.Id, RequestId: rid(), Decision: innonetpb.Decision_RETURN, Comment: "Add the licence terms."}); err != nil {
							t.Fatalf("review %s: %v", l.Id, err)
						}
					}
				}
			}
			submit(2)
			eventually(t, 10*time.Second, id+" up to date before it stops", func() error {
				if got, want := tc.node(id).State().AppliedIndex(), leader.State().AppliedIndex(); got != want {
					return fmt.Errorf("applied %d, leader %d", got, want)
				}
				return nil
			})
			if tt.ownSnapshot {
				if err := tc.node(id).Cluster().Snapshot(); err != nil {
					t.Fatalf("snapshot on %s: %v", id, err)
				}
			}
			tc.stop(id)
			before := snapshotCount(t, tc, id)
			submit(10)
			if tt.leaderSnapshot {
				if err := leader.Cluster().Snapshot(); err != nil {
					t.Fatalf("snapshot on the leader: %v", err)
				}
				submit(3) // the rest comes from the log
			}
			tc.restart(id)
			restarted := tc.node(id)
			eventually(t, 20*time.Second, id+" caught up with the leader", func() error {
				got, err := stateDump(restarted.State())
				if err != nil {
					return err
				}
				want, err := stateDump(leader.State())
				if err != nil {
					return err
				}
				if ga, wa := restarted.State().AppliedIndex(), leader.State().AppliedIndex(); ga != wa {
					return fmt.Errorf("pipeline applied index %d, leader's %d", ga, wa)
				}
				if got != want {
					return fmt.Errorf("state differs from the leader's:\ngot  %.2000s\nwant %.2000s", got, want)
				}
				rs, err := restarted.Cluster().Status()
				if err != nil {
					return err
				}
				ls, err := leader.Cluster().Status()
				if err != nil {
					return err
				}
				if rs.AppliedIndex != ls.AppliedIndex {
					return fmt.Errorf("raft applied index %d, leader's %d", rs.AppliedIndex, ls.AppliedIndex)
				}
				return nil
			})
			if after := snapshotCount(t, tc, id); tt.leaderSnapshot && after <= before {
				t.Errorf("got %d snapshots on %s after the restart, want more than %d (installed from the leader)", after, id, before)
			}
		})
	}
}

func TestClusterClaimRace(t *testing.T) {
	const rounds = 30
	tc := newTestCluster(t, testVoters, testNonVoters)
	staff := tc.addUser("Alice", innonetpb.Role_NODE_STAFF, "BOS", "")
	hq := tc.addUser("Hal", innonetpb.Role_HQ_REVIEWER, "", "")
	// Each division claims through a different site.
	racers := []struct {
		division string
		c        testClients
	}{
		{"BOHAI", tc.clients(tc.node("CGO"), tc.addUser("Bo", innonetpb.Role_DIVISION, "", "BOHAI"))},
		{"YRD", tc.clients(tc.node("BOS"), tc.addUser("Yu", innonetpb.Role_DIVISION, "", "YRD"))},
		{"PRD", tc.clients(tc.node("YRD"), tc.addUser("Pei", innonetpb.Role_DIVISION, "", "PRD"))},
	}
	sc := tc.clients(tc.follower(false), staff)
	hc := tc.clients(tc.leaderNode(), hq)
	var ids []string
	for i := range rounds {
		l, err := sc.leads.SubmitLead(sc.ctx(t), sampleLead(fmt.Sprintf("Contested lead %d", i)))
		if err != nil {
			t.Fatalf("submit: %v", err)
		}
		if _, err := hc.leads.ReviewLead(hc.ctx(t), &innonetpb.ReviewLeadRequest{
			Id: l.Id, RequestId: rid(), Decision: innonetpb.Decision_APPROVE}); err != nil {
			t.Fatalf("approve %s: %v", l.Id, err)
		}
		ids = append(ids, l.Id)
	}

	wins := map[string]int{}
	for _, id := range ids {
		start := make(chan struct{})
		errs := make([]error, len(racers))
		var wg sync.WaitGroup
		for i, r := range racers {
			req := &innonetpb.ClaimLeadRequest{Id: id, RequestId: rid()}
			ctx := r.c.ctx(t)
			wg.Go(func() {
				<-start
				_, errs[i] = r.c.leads.ClaimLead(ctx, req)
			})
		}
		close(start)
		wg.Wait()
		winner := ""
		for i, err := range errs {
			switch {
			case err == nil && winner != "":
				t.Fatalf("lead %s: both %s and %s won the claim", id, winner, racers[i].division)
			case err == nil:
				winner = racers[i].division
			case status.Code(err) != codes.Aborted:
				t.Fatalf("lead %s: %s's claim got %v, want success or %s", id, racers[i].division, err, codes.Aborted)
			}
		}
		if winner == "" {
			t.Fatalf("lead %s: no division won the claim: %v", id, errs)
		}
		wins[winner]++
		l, err := hc.leads.GetLead(hc.ctx(t), &innonetpb.GetLeadRequest{Id: id})
		if err != nil {
			t.Fatal(err)
		}
		if l.Division != winner || l.Stage != innonetpb.Stage_CLAIMED || l.Version != 3 {
			t.Fatalf("lead %s: got %s %s v%d, want %s CLAIMED v3", id, l.Division, l.Stage, l.Version, winner)
		}
		h, err := hc.leads.GetLeadHistory(hc.ctx(t), &innonetpb.GetLeadHistoryRequest{Id: id})
		if err != nil {
			t.Fatal(err)
		}
		var claims []string
		for _, e := range h.Events {
			if e.Action == "CLAIM" {
				claims = append(claims, e.UserSite)
			}
		}
		if !slices.Equal(claims, []string{winner}) {
			t.Fatalf("lead %s: got CLAIM events by %v, want exactly one by %s", id, claims, winner)
		}
	}
	t.Logf("claims won per division over %d rounds: %v", rounds, wins)
}

func TestClusterNoQuorum(t *testing.T) {
	tests := []struct {
		name     string
		survivor func(tc *testCluster) string
	}{
		{"survivor was the leader", func(tc *testCluster) string { return tc.leaderNode().Site() }},
		{"survivor was a follower", func(tc *testCluster) string { return tc.follower(false).Site() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tc := newTestCluster(t, testVoters, nil)
			tok := tc.addUser("Alice", innonetpb.Role_NODE_STAFF, "BOS", "")
			survivor := tt.survivor(tc)
			for _, id := range tc.order {
				if id != survivor {
					tc.stop(id)
				}
			}
			c := tc.clients(tc.node(survivor), tok)
			req := sampleLead("Written without a quorum")
			ctx, cancel := context.WithTimeout(withToken(context.Background(), tok), 10*time.Second)
			defer cancel()
			began := time.Now()
			_, err := c.leads.SubmitLead(ctx, req)
			took := time.Since(began)
			checkStatus(t, err, codes.Unavailable)
			if took > 8*time.Second {
				t.Errorf("got UNAVAILABLE after %s, want it well within the caller's 10s deadline", took)
			}

			// With one voter back the quorum returns, and a retry of the
			// same request succeeds once.
			for _, id := range tc.order {
				if id != survivor {
					tc.restart(id)
					break
				}
			}
			var l *innonetpb.Lead
			eventually(t, 20*time.Second, "a write once the quorum is back", func() error {
				ctx, cancel := context.WithTimeout(withToken(context.Background(), tok), 3*time.Second)
				defer cancel()
				l, err = c.leads.SubmitLead(ctx, req)
				return err
			})
			if l.Id != "BOS-0001" {
				t.Errorf("got %s, want BOS-0001", l.Id)
			}
		})
	}
}
