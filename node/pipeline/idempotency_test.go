package pipeline

import (
	"reflect"
	"strings"
	"testing"
)

// TestReplay retries an applied request and checks that the retry returns
// the first result and changes nothing.
func TestReplay(t *testing.T) {
	tests := []struct {
		name  string
		retry func(c Command) Command // the retry as a proposer would send it
	}{
		{"same entry", func(c Command) Command { return c }},
		{"other time and origin", func(c Command) Command {
			c.Time += 3_600_000_000_000
			c.Origin = "CBG"
			return c
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			id := f.leadIn(Approved)
			first := Command{Op: OpClaim, RequestID: "claim-1", LeadID: id, Origin: "CGO",
				Time: clock(f.index + 1).UnixNano(), Comment: "ours"}
			want := f.ok("yrd", first)
			if want.Replayed {
				t.Fatalf("first attempt is marked Replayed")
			}
			// The lead moves on; a late retry still gets the first answer.
			f.ok("yrd", Command{Op: OpAdvance, LeadID: id, Stage: Negotiating})
			lead, events := f.lead(id), f.history(id)

			var res any
			assertUnchanged(t, f.st, func() { res = f.apply("yrd", tt.retry(first)) })
			got := wantResult(t, res)
			if !got.Replayed {
				t.Errorf("retry is not marked Replayed")
			}
			if !reflect.DeepEqual(got.Lead, want.Lead) {
				t.Errorf("retry result = %+v\nwant the first %+v", got.Lead, want.Lead)
			}
			if l := f.lead(id); l.Version != lead.Version || l.Stage != Negotiating {
				t.Errorf("after the retry the lead is %s v%d, want NEGOTIATING v%d", l.Stage, l.Version, lead.Version)
			}
			if h := f.history(id); len(h) != len(events) {
				t.Errorf("after the retry the history has %d events, want %d", len(h), len(events))
			}
		})
	}
}

func TestRequestIDReusedForOtherBody(t *testing.T) {
	tests := []struct {
		name   string
		change func(c *Command)
	}{
		{"other comment", func(c *Command) { c.Comment = "changed my mind" }},
		{"other lead", func(c *Command) { c.LeadID = "BOS-0002" }},
		{"other op", func(c *Command) { c.Op = OpWithdraw }},
		{"expected version", func(c *Command) { c.ExpectedVersion = 2 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.leadIn(Approved)
			f.leadIn(Approved)
			first := Command{Op: OpClaim, RequestID: "r-7", LeadID: "BOS-0001", Comment: "ours"}
			f.ok("yrd", first)
			other := first
			tt.change(&other)
			var res any
			assertUnchanged(t, f.st, func() { res = f.apply("yrd", other) })
			e := wantError(t, res, ErrInvalid, "r-7")
			if !strings.HasPrefix(e.Msg, "request_id:") {
				t.Errorf("error = %q, want it to start with request_id:", e.Msg)
			}
		})
	}
}

// TestRequestIDPerActor checks that request IDs are scoped to their actor:
// two users who pick the same ID make two requests.
func TestRequestIDPerActor(t *testing.T) {
	f := newFixture(t)
	a := f.ok("bos", Command{Op: OpSubmit, RequestID: "r1", Draft: validDraft()})
	b := f.ok("cbg", Command{Op: OpSubmit, RequestID: "r1", Draft: validDraft()})
	if a.Replayed || b.Replayed || a.Lead.ID != "BOS-0001" || b.Lead.ID != "CBG-0001" {
		t.Errorf("submits = %s (replayed %v), %s (replayed %v); want BOS-0001, CBG-0001, none replayed",
			a.Lead.ID, a.Replayed, b.Lead.ID, b.Replayed)
	}
}

// TestRefusedRequestIsNotRemembered checks that a refused request can be
// retried once the rule that refused it no longer does.
func TestRefusedRequestIsNotRemembered(t *testing.T) {
	f := newFixture(t)
	id := f.leadIn(Submitted)
	claim := Command{Op: OpClaim, RequestID: "early-claim", LeadID: id}
	wantError(t, f.apply("yrd", claim), ErrPrecondition)
	f.ok("hq", Command{Op: OpReview, LeadID: id, Decision: Approve})
	if res := f.ok("yrd", claim); res.Replayed || res.Lead.Stage != Claimed {
		t.Errorf("retry = stage %s replayed %v, want CLAIMED, not replayed", res.Lead.Stage, res.Replayed)
	}
}

// TestAddUserReplay retries an add_user whose proposer drew a new token:
// the first user is returned and no second one is made.
func TestAddUserReplay(t *testing.T) {
	f := newFixture(t)
	before, err := f.st.Users()
	if err != nil {
		t.Fatal(err)
	}
	first := f.ok("admin", Command{Op: OpAddUser, RequestID: "add-muc", NewUser: testUser("Max", NodeStaff, "MUC", "")})
	nu := testUser("Max", NodeStaff, "MUC", "")
	nu.TokenHash = strings.Repeat("ab", 32)
	var res any
	assertUnchanged(t, f.st, func() { res = f.apply("admin", Command{Op: OpAddUser, RequestID: "add-muc", NewUser: nu}) })
	if got := wantResult(t, res); !got.Replayed || !reflect.DeepEqual(got.User, first.User) {
		t.Errorf("retry with a new token = %+v (replayed %v), want the first %+v replayed", got.User, got.Replayed, first.User)
	}
	after, err := f.st.Users()
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before)+1 {
		t.Errorf("%d users after an add_user and its retry, want %d", len(after), len(before)+1)
	}
	other := testUser("Moritz", NodeStaff, "MUC", "")
	wantError(t, f.apply("admin", Command{Op: OpAddUser, RequestID: "add-muc", NewUser: other}), ErrInvalid, "request_id")
}

func TestBootstrap(t *testing.T) {
	f := newFixture(t)
	admin, err := f.st.User(f.user("admin"))
	if err != nil {
		t.Fatal(err)
	}
	var res any
	assertUnchanged(t, f.st, func() {
		res = f.apply("", Command{Op: OpBootstrap, NewUser: testUser("Ada Admin", Admin, "", "")})
	})
	if got := wantResult(t, res); !got.Replayed || !reflect.DeepEqual(got.User, admin) {
		t.Errorf("second bootstrap = %+v (replayed %v), want the first admin %+v replayed", got.User, got.Replayed, admin)
	}
	assertUnchanged(t, f.st, func() {
		res = f.apply("", Command{Op: OpBootstrap, NewUser: testUser("Eve Admin", Admin, "", "")})
	})
	wantError(t, res, ErrPrecondition, "already has users")
	assertUnchanged(t, f.st, func() {
		res = f.apply("", Command{Op: OpBootstrap, NewUser: testUser("Ada Admin", HQReviewer, "", "")})
	})
	wantError(t, res, ErrInvalid, "ADMIN")
}

func TestStaleVersion(t *testing.T) {
	f := newFixture(t)
	id := f.leadIn(Submitted)
	f.ok("bos", Command{Op: OpUpdate, LeadID: id, Patch: &Patch{Title: new("Second title")}, ExpectedVersion: 1})
	var res any
	assertUnchanged(t, f.st, func() {
		res = f.apply("bos", Command{Op: OpUpdate, LeadID: id, Patch: &Patch{Title: new("Lost update")}, ExpectedVersion: 1})
	})
	wantError(t, res, ErrConflict, "version 2", "expected 1")
}
