package node

import (
	"context"
	"testing"

	"innonet/cluster/faultnet"
)

// TestJoiningSiteLearnsVotersPromotedAfterItAsked: a site learns the
// voters when it asks to join; if another voter is promoted and leads
// before this site heard from any leader, the site must learn of it and
// accept it (it used to refuse it for good, as no voter it knew).
func TestJoiningSiteLearnsVotersPromotedAfterItAsked(t *testing.T) {
	fn := faultnet.New()
	tc := newTestCluster(t, []string{"CGO"}, nil, func(c *Config) { c.Cluster.Dial = fn.Dialer(c.Site) })
	t.Cleanup(fn.Close)
	cgo := tc.node("CGO")

	// CBG asks to join while CGO is the only voter, and hears nothing
	// from CGO over Raft (its API still answers).
	cbgRaft := freeAddr(t)
	fn.Name("CGO", cgo.Cluster().RaftAddr())
	fn.Name("CBG", cbgRaft)
	fn.Split([]string{"CGO"}, []string{"CBG"})
	cfg := testConfig(t, "CBG", func(c *Config) { c.Cluster.Dial = fn.Dialer(c.Site) })
	cfg.Join, cfg.NonVoter, cfg.Cluster.RaftAddr = cgo.Addr(), true, cbgRaft
	tc.start("CBG", cfg)
	tc.waitFor("CBG is a member (in CGO's configuration)", func() bool {
		st, err := cgo.Cluster().Status()
		if err != nil {
			return false
		}
		for _, m := range st.Members {
			if m.ID == "CBG" {
				return true
			}
		}
		return false
	})

	// BOS joins as a voter and takes the lead.
	bcfg := testConfig(t, "BOS", func(c *Config) { c.Cluster.Dial = fn.Dialer(c.Site) })
	bcfg.Join = cgo.Addr()
	tc.start("BOS", bcfg)
	bos := tc.node("BOS")
	tc.waitFor("BOS is a voter", func() bool {
		st, err := cgo.Cluster().Status()
		if err != nil {
			return false
		}
		for _, m := range st.Members {
			if m.ID == "BOS" && m.Voter {
				return true
			}
		}
		return false
	})
	tc.waitFor("BOS leads", func() bool {
		if bos.Cluster().IsLeader() {
			return true
		}
		_ = cgo.Cluster().TransferLeadership(context.Background(), "BOS")
		return bos.Cluster().IsLeader()
	})

	// CBG, still cut off from CGO, catches up from BOS.
	cbg := tc.node("CBG")
	tc.waitFor("CBG holds its own membership, replicated by BOS", func() bool { return !cbg.Cluster().Outsider() })
	tc.waitFor("CBG has applied what BOS committed", func() bool {
		return cbg.Cluster().Stats().AppliedIndex >= bos.Cluster().Stats().CommitIndex
	})
}
