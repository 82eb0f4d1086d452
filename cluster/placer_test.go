package cluster

import (
	"context"
	"io"
	"slices"
	"sync"
	"testing"
	"time"
)

// wanGroup is a group of five voters whose probes answer after the
// issue's round trips (the Raft links themselves stay on loopback), and
// whose health checks read each member's Stats directly.
type wanGroup struct {
	*group
	mu   sync.Mutex
	byID map[string]*Cluster
}

func newWANGroup(t *testing.T, ids ...string) *wanGroup {
	t.Helper()
	return startWANGroup(t, ids, func(string) bool { return true })
}

// startWANGroup starts ids (the first bootstraps, the others join, as
// voters when voter says so) with probes that answer after wanRTT's round
// trips and health checks that read the members' Stats; tune adjusts
// every member's Config.
func startWANGroup(t *testing.T, ids []string, voter func(id string) bool, tune ...func(*Config)) *wanGroup {
	t.Helper()
	g := &wanGroup{group: newGroup(t), byID: map[string]*Cluster{}}
	rtt := wanRTT()
	for _, id := range ids {
		c := g.start(id, append(slices.Clip(tune), func(cfg *Config) {
			cfg.Ping = func(ctx context.Context, m Member) error {
				t := time.NewTimer(rtt[id][m.ID])
				defer t.Stop()
				select {
				case <-t.C:
					return nil
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			cfg.FetchStats = func(ctx context.Context, m Member) (Stats, error) {
				g.mu.Lock()
				c := g.byID[m.ID]
				g.mu.Unlock()
				if c == nil {
					return Stats{}, context.DeadlineExceeded
				}
				return c.Stats(), nil
			}
		})...)
		g.mu.Lock()
		g.byID[id] = c
		g.mu.Unlock()
		if id != ids[0] {
			g.join(id, voter(id))
		}
	}
	return g
}

// leaderID is the leader one member knows, or "".
func (g *wanGroup) leaderID() string {
	for _, c := range g.members {
		if id, _ := c.Leader(); id != "" {
			return id
		}
	}
	return ""
}

// TestPlacementMovesToBestVoter: CGO bootstraps and leads; writes come
// from the six origins of the issue; the leader moves to MUC by itself,
// then stays there (no transfer in a window of several dwells).
func TestPlacementMovesToBestVoter(t *testing.T) {
	g := newWANGroup(t, "CGO", "BOS", "CBG", "MUC", "TLV")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	origins := []string{"BOS", "CBG", "MUC", "TLV", "CGO", "BOHAI"}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // the write traffic, counted by whichever site leads
		defer wg.Done()
		for i := 0; ctx.Err() == nil; i++ {
			for _, c := range g.members {
				if c.IsLeader() {
					c.NoteWrite(origins[i%len(origins)])
				}
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	defer wg.Wait()
	defer cancel()

	deadline := time.Now().Add(20 * time.Second)
	for g.leaderID() != "MUC" {
		if time.Now().After(deadline) {
			l := g.leaderID()
			var why string
			if c := g.members[l]; c != nil {
				why = c.Placement().Decision.Reason
			}
			t.Fatalf("leader is %q after 20s, want MUC (placement: %s)", l, why)
		}
		time.Sleep(20 * time.Millisecond)
	}
	muc := g.members["MUC"]
	eventually(t, "MUC evaluates placement", func() bool { return muc.Placement().Known })
	st := muc.Placement()
	if st.LastMove == nil || st.LastMove.To != "MUC" {
		t.Errorf("last move %+v, want one to MUC, recorded in the log", st.LastMove)
	}
	if len(st.RTT) < 5 || st.RTT["MUC"]["CBG"] < 20*time.Millisecond {
		t.Errorf("RTT matrix %v, want every voter's row with MUC-CBG at least 20ms", st.RTT)
	}
	// Stays: no transfer over three dwells.
	window := time.Now().Add(3 * muc.cfg.PlacementDwell)
	for time.Now().Before(window) {
		if l := g.leaderID(); l != "MUC" && l != "" {
			t.Fatalf("leadership moved on to %s (%s)", l, muc.Placement().Decision.Reason)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if r := muc.Placement().Decision.Reason; r == "" {
		t.Error("no reason shown for staying")
	}
}

// TestPlacementPrefsReplicated: a pin set on the leader reaches every
// site and its snapshot, and moves leadership to the pinned voter.
func TestPlacementPrefsReplicated(t *testing.T) {
	g := newWANGroup(t, "CGO", "BOS", "MUC")
	var err error
	eventually(t, "preferences set", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		l := g.members[g.leaderID()]
		if l == nil {
			return false
		}
		err = l.SetPlacement(ctx, PlacementPrefs{Pin: "BOS", Exclude: []string{"MUC"}})
		return err == nil
	})
	eventually(t, "BOS leads, pinned", func() bool { return g.members["BOS"].IsLeader() })
	for _, id := range []string{"CGO", "BOS", "MUC"} {
		c := g.members[id]
		eventually(t, id+" has the preferences", func() bool { return c.Placement().Prefs.Pin == "BOS" })
	}
	// A snapshot carries them to a restarted reader, with the move when
	// BOS has applied it (BOS may also have been elected without one).
	bos := g.members["BOS"]
	deadline := time.Now().Add(5 * time.Second)
	for bos.fsm.lastMove() == nil && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	moved := bos.fsm.lastMove() != nil
	f := newFSM(&counterFSM{}, newAlarms(t.TempDir()))
	snap, err := bos.fsm.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	sink := &memSink{}
	if err := snap.Persist(sink); err != nil {
		t.Fatal(err)
	}
	if err := f.Restore(io.NopCloser(&sink.Buffer)); err != nil {
		t.Fatal(err)
	}
	if p := f.placement(); p.Pin != "BOS" || len(p.Exclude) != 1 || (f.lastMove() != nil) != moved {
		t.Errorf("restored preferences %+v, last move %v (BOS's: %v); want the pin on BOS, MUC excluded and BOS's last move", p, f.lastMove(), bos.fsm.lastMove())
	}
}
