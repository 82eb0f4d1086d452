package node

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"innonet/node/pipeline"
)

// gatedSink is a raft.SnapshotSink whose writes wait until the test opens
// its gate: a snapshot being written to a slow disk or peer.
type gatedSink struct {
	gate    chan struct{}
	started chan struct{}
	once    sync.Once
	buf     bytes.Buffer
	closed  bool
}

func (s *gatedSink) Write(p []byte) (int, error) {
	s.once.Do(func() { close(s.started) })
	<-s.gate
	return s.buf.Write(p)
}
func (s *gatedSink) Close() error  { s.closed = true; return nil }
func (s *gatedSink) ID() string    { return "gated" }
func (s *gatedSink) Cancel() error { return nil }

// TestPersistDoesNotBlockApply starts writing a snapshot into a sink that
// does not take its bytes, and applies commands meanwhile, as Raft does
// (Persist runs concurrently with Apply): they must all apply while the
// snapshot waits, and the snapshot, once written, must hold the state as
// of when it was taken.
func TestPersistDoesNotBlockApply(t *testing.T) {
	st := pipeline.New()
	f := fsm{st}
	var index uint64
	apply := func(c pipeline.Command) any {
		t.Helper()
		index++
		c.Time = time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC).Add(time.Duration(index) * time.Second).UnixNano()
		if c.Op != pipeline.OpBootstrap && c.Op != pipeline.OpSetFormat {
			c.RequestID = fmt.Sprintf("req-%d", index)
		}
		data, err := c.Encode()
		if err != nil {
			t.Fatal(err)
		}
		return f.Apply(&raft.Log{Index: index, Data: data})
	}
	ok := func(c pipeline.Command) pipeline.Result {
		t.Helper()
		res, isResult := apply(c).(pipeline.Result)
		if !isResult {
			t.Fatalf("%s = %v, want a result", c.Op, res)
		}
		return res
	}
	hash := strings.Repeat("ab", 32)
	admin := ok(pipeline.Command{Op: pipeline.OpBootstrap, NewUser: &pipeline.NewUser{Name: "Ada", Role: pipeline.Admin, TokenHash: hash}}).User.ID
	staff := ok(pipeline.Command{Op: pipeline.OpAddUser, Actor: admin, NewUser: &pipeline.NewUser{Name: "Beth", Role: pipeline.NodeStaff, Site: "BOS", TokenHash: strings.Repeat("cd", 32)}}).User.ID
	ok(pipeline.Command{Op: pipeline.OpSetFormat, SetFormat: pipeline.Format2})
	submit := func() pipeline.Result {
		return ok(pipeline.Command{Op: pipeline.OpSubmit, Actor: staff, Draft: &pipeline.Draft{Title: "Solid-state battery separator",
			Summary: "A ceramic separator.", Organization: "MIT Lincoln Lab", Country: "US", Sector: pipeline.NewEnergyVehicles, TRL: 5,
			DealType: pipeline.TechnologyLicensing, Language: "en"}})
	}
	for range 20 {
		submit()
	}

	snap, err := f.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	sink := &gatedSink{gate: make(chan struct{}), started: make(chan struct{})}
	persisted := make(chan error, 1)
	go func() { persisted <- snap.Persist(sink) }()
	select {
	case <-sink.started:
	case <-time.After(10 * time.Second):
		t.Fatal("Persist did not start writing")
	}

	// Persist now waits on the sink. Every apply must go through.
	deadline := time.Now().Add(10 * time.Second)
	for i := range 200 {
		if time.Now().After(deadline) {
			t.Fatalf("only %d applies in 10 s while a snapshot was being written", i)
		}
		submit()
	}
	select {
	case err := <-persisted:
		t.Fatalf("Persist finished (%v) before its sink took any bytes", err)
	default:
	}
	close(sink.gate)
	select {
	case err := <-persisted:
		if err != nil {
			t.Fatalf("Persist: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Persist did not finish once its sink took bytes")
	}
	snap.Release()
	if !sink.closed {
		t.Error("Persist did not close its sink")
	}
	if !bytes.HasPrefix(sink.buf.Bytes(), []byte(`{"format":"innonet-pipeline/4"`)) {
		t.Errorf("snapshot starts %.60q, want format 4", sink.buf.Bytes())
	}

	got := pipeline.New()
	if err := (fsm{got}).Restore(nopCloser{bytes.NewReader(sink.buf.Bytes())}); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	if n, want := leadsIn(got), 20; n != want {
		t.Errorf("the snapshot holds %d leads, want the %d of when it was taken", n, want)
	}
	if n, want := leadsIn(st), 220; n != want {
		t.Errorf("the state holds %d leads, want %d", n, want)
	}
}

func leadsIn(st *pipeline.State) int {
	n := 0
	for _, c := range st.Counts() {
		n += c
	}
	return n
}

type nopCloser struct{ *bytes.Reader }

func (nopCloser) Close() error { return nil }
