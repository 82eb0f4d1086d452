package pipeline

import (
	"bytes"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

// raise moves the fixture's cluster to log format 2 at the next entry.
func (f *fixture) raise() {
	f.tb.Helper()
	data, err := Command{Op: OpSetFormat, SetFormat: Format2, Time: clock(f.index + 1).UnixNano()}.Encode()
	if err != nil {
		f.tb.Fatal(err)
	}
	wantResult(f.tb, f.applyRaw(data))
}

// prune proposes OpPruneRequests with the given window, at time at (the
// next entry's clock when zero).
func (f *fixture) prune(retention time.Duration, at time.Time) any {
	f.tb.Helper()
	if at.IsZero() {
		at = clock(f.index + 1)
	}
	data, err := Command{Op: OpPruneRequests, Retention: retention, Time: at.UnixNano()}.Encode()
	if err != nil {
		f.tb.Fatal(err)
	}
	return f.applyRaw(data)
}

// uuidV7 is a UUIDv7 created at t, its random bits taken from n.
func uuidV7(t time.Time, n uint64) string {
	ms := uint64(t.UnixMilli())
	return fmt.Sprintf("%08x-%04x-7%03x-%04x-%012x", ms>>16, ms&0xffff, n&0xfff, 0x8000|(n>>12)&0x3fff, n*2654435761&0xffffffffffff)
}

// records returns the request records in key order.
func records(st *State) []request {
	it, err := rowsOf(st.read(), tableRequests, "")
	if err != nil {
		panic(err)
	}
	var out []request
	for raw := it.Next(); raw != nil; raw = it.Next() {
		out = append(out, *raw.(*request))
	}
	return out
}

func TestRequestIDTime(t *testing.T) {
	at := time.Date(2026, 11, 30, 8, 15, 42, 123_000_000, time.UTC)
	for _, tt := range []struct {
		id   string
		want time.Time
		ok   bool
	}{
		{uuidV7(at, 1), at, true},
		{strings.ToUpper(uuidV7(at, 2)), at, true},
		{"019ad3a1-2b3c-7d4e-9f50-6172839405a6", time.UnixMilli(0x019ad3a12b3c).UTC(), true},
		{"019ad3a1-2b3c-4d4e-9f50-6172839405a6", time.Time{}, false}, // v4
		{"019ad3a1-2b3c-7d4e-cf50-6172839405a6", time.Time{}, false}, // wrong variant
		{"019ad3a12b3c7d4e9f506172839405a6", time.Time{}, false},     // no dashes
		{"019ad3a1-2b3c-7d4e-9f50-6172839405ag", time.Time{}, false},
		{"cli-0123456789abcdef01234567", time.Time{}, false},
		{"", time.Time{}, false},
	} {
		got, ok := requestIDTime(tt.id)
		if ok != tt.ok || !got.Equal(tt.want) {
			t.Errorf("requestIDTime(%q) = %v, %v; want %v, %v", tt.id, got, ok, tt.want, tt.ok)
		}
	}
}

// TestRecordsOfFormat2 checks that from format 2 a record holds the IDs
// and versions of the first outcome and no copy of it, and that the
// retry is answered as the first attempt was.
func TestRecordsOfFormat2(t *testing.T) {
	f := newFixture(t)
	f.raise()
	before := len(records(f.st))
	first := f.ok("bos", Command{Op: OpSubmit, RequestID: "s-1", Draft: validDraft()})
	added := records(f.st)[before:]
	if len(added) != 1 {
		t.Fatalf("a submit left %d records, want 1", len(added))
	}
	r := added[0]
	want := request{Key: f.user("bos") + "/s-1", Fingerprint: r.Fingerprint, Time: clock(f.index).UnixNano(),
		LeadID: first.Lead.ID, LeadVersion: 1}
	if !reflect.DeepEqual(r, want) {
		t.Errorf("record = %+v\nwant %+v", r, want)
	}
	if body := snapshotJSON(t, f.st); bytes.Contains(body, []byte(`"table":"requests","value":{"key":"`+f.user("bos")+`/s-1","fingerprint":"`+r.Fingerprint+`","lead"`)) {
		t.Errorf("the snapshot holds a copy of the lead in the record:\n%s", body)
	}
	var res any
	assertUnchanged(t, f.st, func() {
		res = f.apply("bos", Command{Op: OpSubmit, RequestID: "s-1", Draft: validDraft(), Origin: "CBG"})
	})
	if got := wantResult(t, res); !got.Replayed || !reflect.DeepEqual(got.Lead, first.Lead) {
		t.Errorf("retry = %+v (replayed %v)\nwant the first %+v", got.Lead, got.Replayed, first.Lead)
	}
}

// TestReplayRebuildsTheFirstOutcome moves a lead through its life at
// format 2, remembering every answer, and then retries every request:
// each retry must answer as its first attempt did, although the lead
// moved on. Only the content shows an edit made after the first attempt.
func TestReplayRebuildsTheFirstOutcome(t *testing.T) {
	f := newFixture(t)
	f.raise()
	type step struct {
		actor string
		cmd   Command
	}
	steps := []step{
		{"bos", Command{Op: OpSubmit, Draft: validDraft(), Comment: "first look"}},
		{"hq", Command{Op: OpReview, Decision: Return, Comment: "need the TRL evidence"}},
		{"bos", Command{Op: OpUpdate, Patch: &Patch{TRL: new(6)}, Comment: "added"}},
		{"bos", Command{Op: OpUpdate, Patch: &Patch{Title: new("Separator v2")}}},
		{"hq", Command{Op: OpReview, Decision: Approve, Comment: "good"}},
		{"yrd", Command{Op: OpClaim, Comment: "ours"}},
		{"hq", Command{Op: OpRelease, Comment: "wait for PRD"}},
		{"prd", Command{Op: OpClaim}},
		{"prd", Command{Op: OpAdvance, Stage: Negotiating, Comment: "term sheet"}},
		{"prd", Command{Op: OpAdvance, Stage: Signed}},
	}
	var firsts []Result
	id := ""
	for i, s := range steps {
		s.cmd.RequestID, s.cmd.LeadID = fmt.Sprintf("step-%d", i), id
		steps[i] = s
		res := f.ok(s.actor, s.cmd)
		id = res.Lead.ID
		firsts = append(firsts, res)
	}
	lastEdit := 3
	for i, s := range steps {
		var res any
		s.cmd.Time = 0
		assertUnchanged(t, f.st, func() { res = f.apply(s.actor, s.cmd) })
		got := wantResult(t, res)
		want := *firsts[i].Lead
		if i < lastEdit {
			want.Draft = f.lead(id).Draft
		}
		if !got.Replayed || !reflect.DeepEqual(*got.Lead, want) {
			t.Errorf("retry of step %d (%s): got %+v (replayed %v)\nwant %+v", i, s.cmd.Op, *got.Lead, got.Replayed, want)
		}
	}
}

// TestReplayOfUsersAndTokens: a user or token revoked after the request
// that returned it is answered as it was then, unrevoked.
func TestReplayOfUsersAndTokens(t *testing.T) {
	f := newFixture(t)
	f.raise()
	add := Command{Op: OpAddUser, RequestID: "add-max", NewUser: testUser("Max", NodeStaff, "MUC", "")}
	first := f.ok("admin", add)
	tok := Command{Op: OpCreateToken, RequestID: "tok-max", UserID: first.User.ID, NewToken: &NewToken{Hash: testUser("Max 2", NodeStaff, "MUC", "").TokenHash, TTL: time.Hour}}
	firstTok := f.ok("admin", tok)
	revokeTok := Command{Op: OpRevokeToken, RequestID: "rt-max", UserID: first.User.ID, TokenID: firstTok.Token.ID}
	firstRevokeTok := f.ok("admin", revokeTok)
	revoke := Command{Op: OpRevoke, RequestID: "rv-max", UserID: first.User.ID}
	firstRevoke := f.ok("admin", revoke)
	for _, tt := range []struct {
		name  string
		cmd   Command
		first Result
	}{
		{"add_user", add, first},
		{"create_token", tok, firstTok},
		{"revoke_token", revokeTok, firstRevokeTok},
		{"revoke_user", revoke, firstRevoke},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.cmd.NewUser != nil {
				nu := *tt.cmd.NewUser
				nu.TokenHash = strings.Repeat("ab", 32) // a new token on every attempt
				tt.cmd.NewUser = &nu
			}
			var res any
			assertUnchanged(t, f.st, func() { res = f.apply("admin", tt.cmd) })
			got := wantResult(t, res)
			if !got.Replayed || !reflect.DeepEqual(got.User, tt.first.User) || !reflect.DeepEqual(got.Token, tt.first.Token) {
				t.Errorf("retry = %+v %+v (replayed %v)\nwant %+v %+v", got.User, got.Token, got.Replayed, tt.first.User, tt.first.Token)
			}
		})
	}
}

// TestUpgradeCompactsRecords: raising the cluster to format 2 turns the
// records of format 1 into records of format 2 whose retention starts
// then, and their retries answer as before.
func TestUpgradeCompactsRecords(t *testing.T) {
	f := newFixture(t)
	id := f.leadIn(Approved)
	claim := Command{Op: OpClaim, RequestID: "claim-1", LeadID: id, Comment: "ours"}
	first := f.ok("yrd", claim)
	f.ok("yrd", Command{Op: OpAdvance, LeadID: id, Stage: Negotiating})
	old := records(f.st)
	for _, r := range old {
		if m := r.extra(); m.Lead == nil && m.User == nil {
			t.Fatalf("format 1 record %s has no copy", r.Key)
		}
	}
	f.raise()
	upgraded := clock(f.index).UnixNano()
	got := records(f.st)
	if len(got) != len(old) {
		t.Fatalf("%d records after the upgrade, %d before", len(got), len(old))
	}
	for i, r := range got {
		if m := r.extra(); m.Lead != nil || m.User != nil || m.Token != nil || r.Time != upgraded || r.Key != old[i].Key || r.Fingerprint != old[i].Fingerprint {
			t.Errorf("record %s after the upgrade = %+v, want IDs only and time %d", r.Key, r, upgraded)
		}
	}
	res := f.ok("yrd", claim)
	if !res.Replayed || !reflect.DeepEqual(res.Lead, first.Lead) {
		t.Errorf("retry after the upgrade = %+v (replayed %v)\nwant %+v", res.Lead, res.Replayed, first.Lead)
	}
}

func TestPrune(t *testing.T) {
	const week = 7 * 24 * time.Hour
	f := newFixture(t)
	wantError(t, f.prune(week, time.Time{}), ErrPrecondition, "log format 2")
	f.raise()
	start := clock(f.index)
	oldV7 := uuidV7(start, 1)
	plain := Command{Op: OpSubmit, RequestID: "plain-1", Draft: validDraft()}
	v7 := Command{Op: OpSubmit, RequestID: oldV7, Draft: validDraft()}
	firstPlain := f.ok("bos", plain)
	f.ok("bos", v7)
	nBefore := len(records(f.st))

	// Eight days later, a prune forgets everything before the window.
	later := start.Add(8 * 24 * time.Hour)
	res := wantResult(t, f.prune(week, later))
	if res.Pruned != nBefore || res.PruneAgain || res.Replayed {
		t.Errorf("prune = %+v, want %d pruned and done", res, nBefore)
	}
	if n := len(records(f.st)); n != 0 {
		t.Errorf("%d records left, want none", n)
	}
	if h, r := f.st.PruneHorizon(); !h.Equal(later.Add(-week)) || r != week {
		t.Errorf("PruneHorizon = %v, %v; want %v, %v", h, r, later.Add(-week), week)
	}
	if _, ok := f.st.OldestRequest(); ok {
		t.Errorf("OldestRequest found a record after everything was pruned")
	}
	// The same prune again changes nothing.
	var again any
	assertUnchanged(t, f.st, func() { again = f.prune(week, later) })
	if r := wantResult(t, again); !r.Replayed || r.Pruned != 0 {
		t.Errorf("second prune = %+v, want a replay", r)
	}
	// A longer window does not move the horizon back.
	assertUnchanged(t, f.st, func() { again = f.prune(2*week, later) })
	wantResult(t, again)

	// A retry of the UUIDv7 request is recognised and refused.
	var retry any
	assertUnchanged(t, f.st, func() { retry = f.apply("bos", v7) })
	wantError(t, retry, ErrPrecondition, "request ID "+oldV7+" was created at "+start.Format(time.RFC3339),
		"before the 7-day retention window", "the first attempt's outcome is no longer known", "use a new request ID")
	// A plain request ID carries no time: its retry is a new request.
	if got := f.ok("bos", plain); got.Replayed || got.Lead.ID == firstPlain.Lead.ID {
		t.Errorf("retry of a plain request ID after the window = %s (replayed %v), want a new lead", got.Lead.ID, got.Replayed)
	}
	// A fresh UUIDv7 works; one from a day and more ahead does not.
	now := clock(f.index + 1)
	if now.Before(later) {
		now = later
	}
	f.ok("bos", Command{Op: OpSubmit, RequestID: uuidV7(now, 2), Draft: validDraft()})
	wantError(t, f.apply("bos", Command{Op: OpSubmit, RequestID: uuidV7(now.Add(25*time.Hour), 3), Draft: validDraft()}),
		ErrInvalid, "request_id", "check the client's clock")
	wantError(t, f.prune(0, time.Time{}), ErrUnreadable, "retention")
}

// TestPruneKeepsYoungRecords: a record is kept until the horizon passes
// both its request's time and the time its UUIDv7 says.
func TestPruneKeepsYoungRecords(t *testing.T) {
	const window = time.Hour
	f := newFixture(t)
	f.raise()
	t0 := clock(f.index + 1)
	f.ok("bos", Command{Op: OpSubmit, RequestID: "early", Draft: validDraft(), Time: t0.UnixNano()})
	ahead := uuidV7(t0.Add(3*time.Hour), 7) // a client clock 3h fast
	f.ok("bos", Command{Op: OpSubmit, RequestID: ahead, Draft: validDraft(), Time: t0.Add(time.Second).UnixNano()})
	f.ok("bos", Command{Op: OpSubmit, RequestID: "late", Draft: validDraft(), Time: t0.Add(2 * time.Hour).UnixNano()})
	keys := func() []string {
		var out []string
		for _, r := range records(f.st) {
			if _, rid, _ := strings.Cut(r.Key, "/"); rid == "early" || rid == "late" || rid == ahead {
				out = append(out, rid)
			}
		}
		return out
	}
	wantResult(t, f.prune(window, t0.Add(2*time.Hour+time.Minute)))
	if got := keys(); !reflect.DeepEqual(got, []string{ahead, "late"}) && !reflect.DeepEqual(got, []string{"late", ahead}) {
		t.Errorf("records after a prune at t0+2h01m: %v, want the 3h-fast UUIDv7 and late", got)
	}
	wantResult(t, f.prune(window, t0.Add(4*time.Hour+time.Minute)))
	if got := keys(); len(got) != 0 {
		t.Errorf("records after a prune at t0+4h01m: %v, want none", got)
	}
}

// TestPruneInBatches: one prune forgets at most prunePerCommand records
// and says when more are due.
func TestPruneInBatches(t *testing.T) {
	defer func(n int) { prunePerCommand = n }(prunePerCommand)
	prunePerCommand = 3
	f := newFixture(t)
	f.raise()
	for i := 0; i < 4; i++ {
		f.submit("bos")
	}
	n := len(records(f.st))
	at := clock(f.index).Add(time.Hour)
	for pruned := 0; pruned < n; {
		res := wantResult(t, f.prune(time.Minute, at))
		pruned += res.Pruned
		if want := pruned < n; res.PruneAgain != want || res.Pruned > 3 {
			t.Fatalf("prune = %+v after %d of %d, want at most 3 and PruneAgain %v", res, pruned, n, want)
		}
	}
	if got := len(records(f.st)); got != 0 {
		t.Errorf("%d records left", got)
	}
}

// TestRequestTimeIndex: the records are found by time without a scan,
// whatever order their keys have.
func TestRequestTimeIndex(t *testing.T) {
	f := newFixture(t)
	f.raise()
	for i := 0; i < 3; i++ {
		f.ok("bos", Command{Op: OpSubmit, RequestID: fmt.Sprintf("z-%d", 9-i), Draft: validDraft()})
	}
	side := sideIn(f.st.read())
	last, n := int64(math.MinInt64), 0
	side.requests.Scan(func(it requestItem) bool {
		if it.req.Time < last {
			t.Fatalf("the time index gives %d after %d", it.req.Time, last)
		}
		last = it.req.Time
		n++
		return true
	})
	if want := len(records(f.st)); n != want {
		t.Errorf("the time index holds %d records, want %d", n, want)
	}
	first := int64(math.MaxInt64)
	for _, r := range records(f.st) {
		first = min(first, r.Time)
	}
	if oldest, ok := f.st.OldestRequest(); !ok || oldest.UnixNano() != first {
		t.Errorf("OldestRequest = %v, %v; want %v", oldest, ok, time.Unix(0, first).UTC())
	}
}
