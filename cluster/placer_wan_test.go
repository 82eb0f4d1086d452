package cluster

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"
)

// TestPlacementWANProfile measures placement with the wan profile's
// timings (dwell 45s, evaluation every 5s, probes every 2s, voters
// promoted after 30s): CGO bootstraps, four overseas voters and a
// division join, writes come from the six origins, and the log
// says when the leader moved. Probes answer after issue 17's round trips;
// the Raft links stay on loopback. It runs 150s, so only on request:
//
//	INNONET_MEASURE_WAN=1 go test -run TestPlacementWANProfile -v ./cluster/
func TestPlacementWANProfile(t *testing.T) {
	if os.Getenv("INNONET_MEASURE_WAN") == "" {
		t.Skip("set INNONET_MEASURE_WAN=1 to measure (150s)")
	}
	start := time.Now()
	g := startWANGroup(t, []string{"CGO", "BOS", "CBG", "MUC", "TLV", "BOHAI"}, func(id string) bool { return id != "BOHAI" },
		func(cfg *Config) { _ = cfg.UseProfile("wan") })
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	origins := []string{"BOS", "CBG", "MUC", "TLV", "CGO", "BOHAI"}
	go func() {
		defer wg.Done()
		for i := 0; ctx.Err() == nil; i++ {
			for _, c := range g.members {
				if c.IsLeader() {
					c.NoteWrite(origins[i%len(origins)])
				}
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()
	defer wg.Wait()
	defer cancel()
	last := ""
	for time.Since(start) < 150*time.Second {
		l := g.leaderID()
		if l != last {
			reason := ""
			if c := g.members[l]; c != nil {
				if mv := c.Placement().LastMove; mv != nil {
					reason = mv.Reason
				}
			}
			t.Logf("%6.1fs leader %s %s", time.Since(start).Seconds(), l, reason)
			last = l
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("final: %s; %s", last, g.members[last].Placement().Decision.Reason)
	if last != "MUC" {
		t.Errorf("leader %s after 150s, want MUC", last)
	}
}
