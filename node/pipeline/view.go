package pipeline

import (
	"fmt"
	"runtime"
	"time"
)

// View is one consistent read of the state as of exactly one applied
// index: for derived answers that must be the same on every site that has
// applied the same entries (reports), and say which entries they reflect.
// The values it yields are the state's own, never changed in place: the
// caller must not change them.
type View struct {
	txn     *tx
	applied uint64
}

// View returns a read of the state and the index it reflects. Apply and
// Restore mark their change (State.seq odd while they commit and move the
// applied index), and View retries across one, which lasts microseconds.
func (s *State) View() *View {
	for {
		q := s.seq.Load()
		if q%2 == 0 {
			txn, applied := s.read(), s.applied.Load()
			if s.seq.Load() == q {
				return &View{txn: txn, applied: applied}
			}
		}
		runtime.Gosched()
	}
}

// Applied is the log index the view reflects.
func (v *View) Applied() uint64 { return v.applied }

// EachLead calls fn with every lead, in ID order, until fn returns
// false.
func (v *View) EachLead(fn func(l *Lead) bool) error {
	if err := eachLead(v.txn, fn); err != nil {
		return fmt.Errorf("read leads: %w", err)
	}
	return nil
}

// History appends the events of lead id, in order, to buf[:0].
func (v *View) History(id string, buf []*Event) ([]*Event, error) {
	it, err := rowsOf(v.txn, tableEvents, id+"/")
	if err != nil {
		return nil, fmt.Errorf("read history of %s: %w", id, err)
	}
	buf = buf[:0]
	for e := it.Next(); e != nil; e = it.Next() {
		buf = append(buf, e.(*Event))
	}
	return buf, nil
}

// Targets returns the stored targets of year, or nil if it has none.
func (v *View) Targets(year int) (*Targets, error) { return targetsOf(v.txn, year) }

// Clock is the time of the latest command the view reflects (zero before
// log format 2): "now" as of this view, the same on every site.
func (v *View) Clock() time.Time {
	c := counterIn(v.txn, clockCounter)
	if c == nil {
		return time.Time{}
	}
	return time.Unix(0, c.Value).UTC()
}

// EventsAfter calls fn with every history event of a log entry after
// index, in log order (the events of one entry by lead ID and sequence),
// until fn returns false.
func (v *View) EventsAfter(index uint64, fn func(e *Event) bool) error {
	side := sideIn(v.txn)
	it := side.events.Iter()
	for ok := it.Seek(eventItem{log: index + 1}); ok; ok = it.Next() {
		if !fn(it.Item().event) {
			return nil
		}
	}
	return nil
}

// Lead returns the lead id as the view holds it (the state's own value:
// the caller must not change it).
func (v *View) Lead(id string) (*Lead, error) {
	l, err := getLead(v.txn, id)
	if err != nil {
		return nil, err
	}
	return l, nil
}
