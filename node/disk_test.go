package node

import (
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"innonet/cluster"
	innonetpb "innonet/proto/innonet/v1"
)

// TestDiskBounded runs a steady write load in phases against a cluster
// with small compaction settings and checks that what each site keeps on
// disk stops growing with the log: the log is trimmed to about the
// snapshot threshold plus the trailing entries, bbolt reuses the pages
// the trimmed entries freed, and old snapshots are deleted.
func TestDiskBounded(t *testing.T) {
	const (
		threshold = 100
		trailing  = 50
		interval  = 100 * time.Millisecond
		phases    = 3
		perPhase  = 500 // writes
	)
	tc := newTestCluster(t, testVoters, nil, func(c *Config) {
		c.Cluster.SnapshotThreshold = threshold
		c.Cluster.TrailingLogs = trailing
		c.Cluster.SnapshotInterval = interval
	})
	retain := tc.sites[testVoters[0]].cfg.Cluster.SnapshotRetain
	// Raft checks every interval to 2x interval whether threshold entries
	// have been added since the last snapshot, and keeps trailing entries
	// behind it. Between the check that first could have found threshold
	// entries and the compaction after the snapshot it takes, the writes
	// of up to 2x interval land, and those made while the snapshot is
	// written: allow what the phase's write rate brings in 3x interval
	// (and at least threshold entries). Without compaction the log would
	// hold every write.
	maxEntriesAt := func(rate float64) uint64 {
		return threshold + trailing + uint64(max(threshold, rate*3*interval.Seconds()))
	}
	var maxEntries uint64 // at the fastest phase's rate

	staff := tc.addUser("Alice", innonetpb.Role_NODE_STAFF, "BOS", "")
	hq := tc.addUser("Hal", innonetpb.Role_HQ_REVIEWER, "", "")
	div := tc.addUser("Yu", innonetpb.Role_DIVISION, "", "YRD")
	leader := tc.leaderNode()
	sc, hc, dc := tc.clients(leader, staff), tc.clients(leader, hq), tc.clients(leader, div)
	l, err := sc.leads.SubmitLead(sc.ctx(t), sampleLead("Claimed and released, over and over"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := hc.leads.ReviewLead(hc.ctx(t), &innonetpb.ReviewLeadRequest{Id: l.Id, RequestId: rid(), Decision: innonetpb.Decision_APPROVE}); err != nil {
		t.Fatal(err)
	}

	// A sampler records the longest log each site holds during the load,
	// not only at the end of each phase.
	var (
		mu      sync.Mutex
		longest = map[string]uint64{}
		stop    = make(chan struct{})
		wg      sync.WaitGroup
	)
	wg.Go(func() {
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			for _, id := range tc.order {
				if u, err := tc.node(id).Cluster().DiskUsage(); err == nil {
					mu.Lock()
					longest[id] = max(longest[id], u.LogEntries)
					mu.Unlock()
				}
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	})
	stopSampler := sync.OnceFunc(func() {
		close(stop)
		wg.Wait()
	})
	defer stopSampler()

	first := map[string]cluster.DiskUsage{}
	start := time.Now()
	for phase := 1; phase <= phases; phase++ {
		began := time.Now()
		for i := range perPhase {
			// A snapshot every 100 ms under -race on a loaded machine can
			// cost the leader its lease: retry as a client would, with
			// the same request ID, so each write is applied once.
			id := rid()
			var err error
			for try := 0; try < 5; try++ {
				if i%2 == 0 {
					_, err = dc.leads.ClaimLead(dc.ctx(t), &innonetpb.ClaimLeadRequest{Id: l.Id, RequestId: id})
				} else {
					_, err = dc.leads.ReleaseLead(dc.ctx(t), &innonetpb.ReleaseLeadRequest{Id: l.Id, RequestId: id, Comment: "Back to the pool."})
				}
				if status.Code(err) != codes.Unavailable {
					break
				}
				dc = tc.clients(tc.leaderNode(), dc.token)
			}
			if err != nil {
				t.Fatalf("phase %d write %d: %v", phase, i, err)
			}
		}
		took := time.Since(began)
		phaseMax := maxEntriesAt(perPhase / took.Seconds())
		maxEntries = max(maxEntries, phaseMax)
		for _, id := range tc.order {
			u, err := tc.node(id).Cluster().DiskUsage()
			if err != nil {
				t.Fatal(err)
			}
			dirs := snapshotCount(t, tc, id)
			t.Logf("phase %d (%d writes in %s) %s: log entries %d (%d to %d), raft.db %d bytes, %d snapshots listed, %d on disk, %d snapshot bytes",
				phase, perPhase, took.Round(time.Millisecond), id, u.LogEntries, u.LogFirstIndex, u.LogLastIndex, u.RaftDBBytes, u.Snapshots, dirs, u.SnapshotBytes)
			if u.LogEntries > phaseMax {
				t.Errorf("phase %d %s: got %d log entries, want at most %d (threshold %d + trailing %d + %d slack)",
					phase, id, u.LogEntries, phaseMax, threshold, trailing, phaseMax-threshold-trailing)
			}
			if u.LogFirstIndex <= 1 {
				t.Errorf("phase %d %s: log starts at index %d, want it compacted", phase, id, u.LogFirstIndex)
			}
			// DiskUsage lists snapshots through raft, which lists at most
			// SnapshotRetain; count the directories too. One more may be
			// there for a moment, between a snapshot's completion and the
			// removal of the oldest.
			if u.Snapshots > retain || dirs > retain+1 || u.Snapshots == 0 {
				t.Errorf("phase %d %s: got %d snapshots listed and %d directories, want 1 to %d (+1 while one is completing)",
					phase, id, u.Snapshots, dirs, retain)
			}
			if phase == 1 {
				first[id] = u
				continue
			}
			// bbolt grows its file by doubling (below 16 MB), so this allows
			// the one step from 128 KB to 256 KB that the log's peak
			// length may take after phase 1, and no growth beyond that.
			if limit := first[id].RaftDBBytes*3/2 + 96<<10; u.RaftDBBytes > limit {
				t.Errorf("phase %d %s: raft.db grew to %d bytes from %d after phase 1, want at most %d (bbolt reuses the pages compaction frees)",
					phase, id, u.RaftDBBytes, first[id].RaftDBBytes, limit)
			}
		}
	}
	stopSampler()
	for _, id := range tc.order {
		t.Logf("%s: longest log seen during the load: %d entries", id, longest[id])
		if longest[id] > maxEntries {
			t.Errorf("%s: the log reached %d entries during the load, want at most %d", id, longest[id], maxEntries)
		}
	}
	t.Logf("%d writes in %s", phases*perPhase, time.Since(start).Round(time.Millisecond))
}
