package pipeline

import (
	"bytes"
	"reflect"
	"slices"
	"testing"
)

// TestApplyBatchMatchesApply applies one log entry by entry and in runs
// of every size from 1 to 9 (as raft hands over what committed
// together), and expects the same answer for every entry, the same
// applied index and the same snapshot bytes. The log has refused
// commands (a claim by a division that already holds the lead, a request
// ID used twice) in the middle of runs, whose writes must not stay, and
// garbage, which ends a run.
func TestApplyBatchMatchesApply(t *testing.T) {
	log := determinismLog(t)
	// Besides the commands the rules refuse before they write, one in
	// five fails after it made all its writes, as a command that breaks
	// in the middle would.
	late := func(txn *tx, index uint64) *Error {
		if index%5 != 3 {
			return nil
		}
		return errorf(CodeInternal, "entry %d fails after its writes", index)
	}
	for _, fail := range []bool{false, true} {
		newState := func() *State {
			st := New()
			if fail {
				st.failAfter = late
			}
			return st
		}
		one := newState()
		want := make([]any, len(log))
		refused := 0
		for i, data := range log {
			want[i] = one.Apply(uint64(i+1), data)
			if _, ok := want[i].(*Error); ok {
				refused++
			}
		}
		if refused < 30 {
			t.Fatalf("only %d entries refused; the log does not exercise a failing entry in a run", refused)
		}
		for size := 1; size <= 9; size++ {
			st := newState()
			var got []any
			for next := 0; next < len(log); {
				var run []Entry
				for k := next; k < min(next+size, len(log)); k++ {
					run = append(run, Entry{Index: uint64(k + 1), Data: log[k]})
				}
				res := st.ApplyBatch(run)
				if len(res) == 0 || len(res) > len(run) {
					t.Fatalf("runs of %d: %d results for %d entries", size, len(res), len(run))
				}
				if len(res) < len(run) && !IsUnreadable(res[len(res)-1]) {
					t.Fatalf("runs of %d: the run of entries %d.. stopped after %d, at %+v, which is not unreadable", size, next+1, len(res), res[len(res)-1])
				}
				if got := st.AppliedIndex(); got != run[len(res)-1].Index {
					t.Fatalf("runs of %d: applied index %d after a run that ended at %d", size, got, run[len(res)-1].Index)
				}
				got = append(got, res...)
				next += len(res)
			}
			for i := range want {
				if !reflect.DeepEqual(got[i], want[i]) {
					t.Fatalf("late failures %v, runs of %d: entry %d answered\n%+v\nwant\n%+v", fail, size, i+1, got[i], want[i])
				}
			}
			if a, b := snapshotBytes(t, st), snapshotBytes(t, one); !bytes.Equal(a, b) {
				t.Errorf("late failures %v, runs of %d: the state differs from entry-by-entry apply:\n%s\n%s", fail, size, a, b)
			}
			if a, b := sideKeys(t, st), sideKeys(t, one); !slices.Equal(a, b) {
				t.Errorf("late failures %v, runs of %d: the side indexes differ from entry-by-entry apply: %d entries, want %d", fail, size, len(a), len(b))
			}
		}
	}
}

// TestApplyBatchStopsAtUnreadable expects a run to apply nothing after an
// entry it cannot read: the site stops there (CORRUPT).
func TestApplyBatchStopsAtUnreadable(t *testing.T) {
	log := determinismLog(t)
	st := New()
	run := []Entry{{Index: 1, Data: log[0]}, {Index: 2, Data: []byte("{")}, {Index: 3, Data: log[1]}}
	res := st.ApplyBatch(run)
	if len(res) != 2 || !IsUnreadable(res[1]) {
		t.Fatalf("results %+v, want the bootstrap's and an unreadable one, and nothing for entry 3", res)
	}
	if _, ok := res[0].(Result); !ok {
		t.Errorf("the bootstrap before the garbage answered %+v", res[0])
	}
	if got := st.AppliedIndex(); got != 2 {
		t.Errorf("applied index %d, want 2", got)
	}
	if users, _ := st.Users(); len(users) != 1 {
		t.Errorf("%d users after the run, want only the bootstrap's admin (entry 3 adds one)", len(users))
	}
}
