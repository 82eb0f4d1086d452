package cluster

import (
	"context"
	"fmt"
	"testing"
)

// TestWipedSiteRejoinsLeaderThatJoinedBySnapshot: a leader that joined by
// InstallSnapshot holds, as its latest snapshot, one whose configuration
// predates its own membership. A wiped site rejoining through it installs
// that configuration, which names neither the leader nor the site itself;
// the entries that add them follow from the leader, and the site must
// accept them (it used to refuse the leader as no member, for good).
func TestWipedSiteRejoinsLeaderThatJoinedBySnapshot(t *testing.T) {
	ctx := context.Background()
	small := func(c *Config) { c.TrailingLogs, c.SnapshotThreshold = 2, 1<<20 }
	cgo, _ := startMemberWith(t, "CGO", true, []string{"CGO"}, small)
	eventually(t, "CGO leads", cgo.IsLeader)
	for i := range 20 {
		if _, err := cgo.Apply(ctx, fmt.Appendf(nil, "cmd-%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := cgo.Snapshot(); err != nil { // configuration {CGO}; the log is compacted
		t.Fatal(err)
	}

	join := func(id string) (*Cluster, *counterFSM) {
		c, f := startMemberWith(t, id, false, []string{"CGO", "BOS"}, small)
		eventually(t, id+" joins", func() bool {
			l, _ := leaderOf(cgo, c)
			return l != nil && l.Join(ctx, id, c.RaftAddr(), "api-of-"+id, true) == nil
		})
		eventually(t, id+" holds the 20 commands", func() bool { return len(f.list()) >= 20 })
		return c, f
	}
	bos, _ := join("BOS")
	cbg, _ := join("CBG")

	// BOS leads; its latest snapshot is the one it installed, {CGO}.
	eventually(t, "leadership moves to BOS", func() bool {
		return cgo.TransferLeadership(ctx, "BOS") == nil || bos.IsLeader()
	})
	eventually(t, "BOS leads", bos.IsLeader)

	// CBG is wiped: removed, then back empty under the same name.
	if err := bos.Remove(ctx, "CBG"); err != nil {
		t.Fatal(err)
	}
	cbg.Close()
	fresh, ff := startMemberWith(t, "CBG", false, []string{"CGO", "BOS"}, small)
	if err := bos.Join(ctx, "CBG", fresh.RaftAddr(), "api-of-CBG", true); err != nil {
		t.Fatal(err)
	}
	if _, err := bos.Apply(ctx, []byte("after-rejoin")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the wiped CBG catches up through BOS", func() bool {
		l := ff.list()
		return len(l) > 0 && l[len(l)-1] == "after-rejoin"
	})
	if r := fresh.PeerRefusals()[refusedNotMember]; r != 0 {
		t.Logf("CBG refused the leader %d times before it held its own membership", r)
	}
}

// leaderOf returns whichever of cs leads.
func leaderOf(cs ...*Cluster) (*Cluster, bool) {
	for _, c := range cs {
		if c.IsLeader() {
			return c, true
		}
	}
	return nil, false
}
