package pipeline

import (
	"fmt"
	"io"
	"reflect"
	"runtime"
	"runtime/metrics"
	"testing"
	"time"
)

// TestStateStaysBounded writes a long history of leads, each submitted,
// approved, claimed and advanced to LANDED (six writes, every tenth write
// retried), through Apply as the log would, with the proposers' clock a
// second per entry. At format 2 the leader prunes requests older than
// boundedWindow every boundedPruneEvery entries: the records stay bounded
// and the live heap and snapshot bytes per lead stay flat from 10,000 to
// 100,000 writes (1,500 and 6,000 under -short or -race). The same
// history at format 1 keeps a copy of the lead for every write, for ever.
func TestStateStaysBounded(t *testing.T) {
	small, large := 10_000, 100_000
	if testing.Short() || raceEnabled {
		small, large = 1_500, 6_000
	}
	s2 := growState(t, Format2, small)
	l2 := growState(t, Format2, large)
	s1 := growState(t, Format1, small)
	for _, m := range []boundedRun{s1, s2, l2} {
		t.Logf("format %d, %6d writes, %5d leads: %6d records; live heap %5.0f B/lead (%4.0f B/write); snapshot %5.0f B/lead (%4.0f B/write)",
			m.format, m.writes, m.leads, m.records, m.heapPerLead(), m.heap/float64(m.writes), m.snapPerLead(), m.snapshot/float64(m.writes))
	}
	bound := int(boundedWindow/time.Second) + boundedPruneEvery
	for _, m := range []boundedRun{s2, l2} {
		if m.records > bound {
			t.Errorf("format 2, %d writes: %d request records, want at most %d (the window and one prune interval)", m.writes, m.records, bound)
		}
	}
	if got, want := l2.heapPerLead(), s2.heapPerLead(); got > 1.1*want {
		t.Errorf("live heap per lead grew from %.0f B at %d writes to %.0f B at %d", want, s2.writes, got, l2.writes)
	}
	if got, want := l2.snapPerLead(), s2.snapPerLead(); got > 1.02*want {
		t.Errorf("snapshot per lead grew from %.0f B at %d writes to %.0f B at %d", want, s2.writes, got, l2.writes)
	}
	if s1.records != s1.writes+len(actorNames)-1 {
		t.Errorf("format 1 kept %d records of %d writes", s1.records, s1.writes)
	}
	if s2.heapPerLead() >= s1.heapPerLead() || s2.snapPerLead() >= s1.snapPerLead() {
		t.Errorf("format 2 (%.0f B heap, %.0f B snapshot per lead) is no smaller than format 1 (%.0f B, %.0f B)",
			s2.heapPerLead(), s2.snapPerLead(), s1.heapPerLead(), s1.snapPerLead())
	}
}

// The retention window of TestStateStaysBounded, in entries (a second
// each), and how often its leader prunes.
const (
	boundedWindow     = 1000 * time.Second
	boundedPruneEvery = 100
)

// boundedRun is what growState measured.
type boundedRun struct {
	format, writes, leads, records int
	heap, snapshot                 float64 // bytes
}

func (m boundedRun) heapPerLead() float64 { return m.heap / float64(m.leads) }
func (m boundedRun) snapPerLead() float64 { return m.snapshot / float64(m.leads) }

func growState(t *testing.T, format, writes int) boundedRun {
	t.Helper()
	before := liveHeap()
	f := newFixture(t)
	if format == Format2 {
		f.raise()
	}
	m := boundedRun{format: format, writes: writes}
	var id string
	for n := 0; n < writes; n++ {
		var actor string
		var c Command
		switch n % 6 {
		case 0:
			actor, c = "bos", Command{Op: OpSubmit, Draft: validDraft()}
		case 1:
			actor, c = "hq", Command{Op: OpReview, LeadID: id, Decision: Approve, Comment: "fits the biomedicine cluster"}
		case 2:
			actor, c = "yrd", Command{Op: OpClaim, LeadID: id}
		default:
			actor, c = "yrd", Command{Op: OpAdvance, LeadID: id, Stage: []Stage{Negotiating, Signed, Landed}[n%6-3]}
		}
		c.RequestID = uuidV7(clock(f.index+1), uint64(n))
		res := f.ok(actor, c)
		if res.Lead == nil || res.Replayed {
			t.Fatalf("write %d: %+v", n, res)
		}
		id = res.Lead.ID
		if n%10 == 0 {
			c.Time = 0
			if again := f.ok(actor, c); !again.Replayed || !reflect.DeepEqual(again.Lead, res.Lead) {
				t.Fatalf("retry of write %d = %+v, want the first %+v", n, again.Lead, res.Lead)
			}
		}
		if format == Format2 && f.index%boundedPruneEvery == 0 {
			wantResult(t, f.prune(boundedWindow, time.Time{}))
		}
	}
	m.leads = (writes + 5) / 6
	m.records = len(records(f.st))
	cw := &countingWriter{w: io.Discard}
	if _, err := f.st.Snapshot().WriteTo(cw); err != nil {
		t.Fatal(err)
	}
	m.snapshot = float64(cw.n)
	m.heap = float64(liveHeap()) - float64(before)
	runtime.KeepAlive(f.st)
	if m.heap <= 0 {
		t.Fatalf("live heap %s after %d writes", fmt.Sprint(m.heap), writes)
	}
	return m
}

// liveHeap is the heap still in use after a full collection.
func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}
