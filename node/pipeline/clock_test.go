package pipeline

import (
	"bytes"
	"testing"
	"time"
)

// TestTimeNeverRunsBackwards: from format 2, after leadership moves to a
// site whose clock is an hour behind, the commands it stamps get the last
// applied time, and so do the lead's history and the tokens made then. At
// format 1 they keep their own time, as the last release gives them.
func TestTimeNeverRunsBackwards(t *testing.T) {
	for _, format := range []int{Format1, Format2} {
		t.Run(map[int]string{Format1: "format 1", Format2: "format 2"}[format], func(t *testing.T) {
			f := newFixture(t)
			if format == Format2 {
				f.raise()
			}
			id := f.leadIn(Approved)
			last := clock(f.index)
			behind := func() int64 { return clock(f.index + 1).Add(-time.Hour).UnixNano() }
			want := func(raw int64) time.Time {
				if format == Format2 {
					return last
				}
				return time.Unix(0, raw).UTC()
			}
			at := behind()
			claim := f.ok("yrd", Command{Op: OpClaim, LeadID: id, Time: at})
			if got := claim.Lead.Updated; !got.Equal(want(at)) {
				t.Errorf("claimed an hour behind: updated %v, want %v", got, want(at))
			}
			if got := f.history(id)[claim.Lead.Version-1].Time; !got.Equal(want(at)) {
				t.Errorf("claim event at %v, want %v", got, want(at))
			}
			at = behind()
			tok := f.ok("yrd", Command{Op: OpCreateToken, UserID: f.user("yrd"), Time: at,
				NewToken: &NewToken{Hash: testUser("spare", DivisionRole, "", "YRD").TokenHash, TTL: 30 * time.Minute}})
			if got := tok.Token.Created; !got.Equal(want(at)) {
				t.Errorf("token created at %v, want %v", got, want(at))
			}
			if got := *tok.Token.Expires; !got.Equal(want(at).Add(30 * time.Minute)) {
				t.Errorf("token expires at %v, want %v", got, want(at).Add(30*time.Minute))
			}
			// The next entry, stamped by a clock in time again, carries its own time.
			next := f.ok("yrd", Command{Op: OpAdvance, LeadID: id, Stage: Negotiating})
			if got := next.Lead.Updated; !got.Equal(clock(f.index)) {
				t.Errorf("advance at %v, want its own time %v", got, clock(f.index))
			}
		})
	}
}

// TestRefusedCommandsDoNotMoveTheClock: only an applied command moves
// the time later commands follow.
func TestRefusedCommandsDoNotMoveTheClock(t *testing.T) {
	f := newFixture(t)
	f.raise()
	id := f.leadIn(Submitted)
	ahead := clock(f.index + 1).Add(time.Hour).UnixNano()
	assertUnchanged(t, f.st, func() {
		wantError(t, f.apply("yrd", Command{Op: OpClaim, LeadID: id, Time: ahead}), ErrPrecondition)
	})
	l := f.ok("hq", Command{Op: OpReview, LeadID: id, Decision: Approve}).Lead
	if !l.Updated.Equal(clock(f.index)) {
		t.Errorf("after a refused command an hour ahead, the next is at %v, want %v", l.Updated, clock(f.index))
	}
}

// TestGoldenLogAtFormat2 applies the log of testdata/format1 to a cluster
// at format 2: its leadership move an hour back no longer shows in the
// history, and the token made then lives its full 30 minutes from the
// last time applied, so the edit the last release refused (expired token)
// goes through.
func TestGoldenLogAtFormat2(t *testing.T) {
	st := New()
	data, err := Command{Op: OpSetFormat, SetFormat: Format2, Time: clock(0).UnixNano()}.Encode()
	if err != nil {
		t.Fatal(err)
	}
	wantResult(t, st.Apply(1, data))
	var answers []any
	for i, data := range readLines(t, "testdata/format1/log.jsonl") {
		answers = append(answers, st.Apply(uint64(i+2), data))
	}
	if res, ok := answers[15].(Result); !ok || res.Lead == nil || res.Lead.Summary != "With data." {
		t.Errorf("the edit with the token made an hour behind = %v, want it applied", answers[15])
	}
	var last time.Time
	for _, l := range mustLeads(t, st) {
		for _, e := range mustHistory(t, st, l.ID) {
			if e.Time.Before(last) && e.LeadID == l.ID && e.Seq > 1 {
				t.Errorf("%s event %d at %v, before the previous at %v", l.ID, e.Seq, e.Time, last)
			}
			last = e.Time
		}
		last = time.Time{}
	}
	if !bytes.HasPrefix(snapshotBytes(t, st), []byte(`{"format":"innonet-pipeline/4"`)) {
		t.Errorf("a snapshot of format 2 starts %.40s, want innonet-pipeline/4", snapshotBytes(t, st))
	}
	if !bytes.HasPrefix(snapshotJSON(t, st), []byte(`{"format":"innonet-pipeline/3"`)) {
		t.Errorf("a JSON snapshot of format 2 starts %.40s, want innonet-pipeline/3", snapshotJSON(t, st))
	}
}

func mustLeads(t *testing.T, st *State) []*Lead {
	t.Helper()
	leads, _, err := st.Leads(Filter{})
	if err != nil {
		t.Fatal(err)
	}
	return leads
}

func mustHistory(t *testing.T, st *State, id string) []Event {
	t.Helper()
	h, err := st.History(id)
	if err != nil {
		t.Fatal(err)
	}
	return h
}
