package cluster

import (
	"context"
	"testing"
	"time"
)

// TestHaltOverCutLinks: a leader whose links to its followers stall (a
// border cut that drops packets) stops at once, not after its Raft calls
// in flight reach their transport timeout.
func TestHaltOverCutLinks(t *testing.T) {
	g := newGroup(t)
	tune := func(c *Config) { c.TransportTimeout = 20 * time.Second }
	g.start("CGO", tune)
	g.start("BOS", tune)
	g.start("MUC", tune)
	g.join("BOS", true)
	g.join("MUC", true)
	leader := g.leaderAmong("CGO", "BOS", "MUC")
	g.apply(leader, "before the cut")
	var others []string
	for id := range g.members {
		if g.members[id] != leader {
			others = append(others, id)
		}
	}
	g.net.Split([]string{leader.ID()}, others)
	// A write in flight keeps replication calls stalled on the cut links.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	go func() { _, _ = leader.Apply(ctx, []byte("across the cut")) }()
	time.Sleep(300 * time.Millisecond) // let the calls reach the links; nothing below waits on it
	began := time.Now()
	if err := leader.Halt(); err != nil {
		t.Fatalf("halt: %v", err)
	}
	if took := time.Since(began); took > 5*time.Second {
		t.Errorf("halting %s over cut links took %v, want well under the 20s transport timeout", leader.ID(), took.Round(time.Millisecond))
	}
}
