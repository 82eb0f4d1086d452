package pipeline

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

var allStages = []Stage{Submitted, Returned, Approved, Declined, Claimed, Negotiating, Signed, Landed, Withdrawn}

// transitionOps are the commands that move an existing lead (the test
// fills in LeadID). change makes to the lead what the command makes to it
// besides stage, version and times.
var transitionOps = []struct {
	name   string
	cmd    Command
	change func(l *Lead, actor string, from Stage)
}{
	{"update", Command{Op: OpUpdate, Patch: &Patch{Summary: new("Revised summary")}, Comment: "added figures"},
		func(l *Lead, _ string, from Stage) {
			l.Summary = "Revised summary"
			if from == Returned {
				l.StageComment = "added figures"
			}
		}},
	{"approve", Command{Op: OpReview, Decision: Approve, Comment: "good fit"},
		func(l *Lead, _ string, _ Stage) { l.StageComment, l.Published = "good fit", true }},
	{"return", Command{Op: OpReview, Decision: Return, Comment: "need TRL evidence"},
		func(l *Lead, _ string, _ Stage) { l.StageComment = "need TRL evidence" }},
	{"decline", Command{Op: OpReview, Decision: Decline, Comment: "out of scope"},
		func(l *Lead, _ string, _ Stage) { l.StageComment = "out of scope" }},
	{"claim", Command{Op: OpClaim, Comment: "ours"},
		func(l *Lead, actor string, _ Stage) { l.Division, l.StageComment = divisionOf[actor], "ours" }},
	{"release", Command{Op: OpRelease, Comment: "no capacity"},
		func(l *Lead, _ string, _ Stage) { l.Division, l.StageComment = "", "no capacity" }},
	{"advance NEGOTIATING", Command{Op: OpAdvance, Stage: Negotiating, Comment: "term sheet"},
		func(l *Lead, _ string, _ Stage) { l.StageComment = "term sheet" }},
	{"advance SIGNED", Command{Op: OpAdvance, Stage: Signed, Comment: "signed"},
		func(l *Lead, _ string, _ Stage) { l.StageComment = "signed" }},
	{"advance LANDED", Command{Op: OpAdvance, Stage: Landed, Comment: "plant open"},
		func(l *Lead, _ string, _ Stage) { l.StageComment = "plant open" }},
	{"withdraw", Command{Op: OpWithdraw, Comment: "withdrawn"},
		func(l *Lead, _ string, _ Stage) { l.StageComment = "withdrawn" }},
}

// outcome is what one attempt should do: move the lead to a stage, or be
// refused with an error matching err. A refusal for the lead's stage must
// name that stage.
type outcome struct {
	to  Stage
	err error
	msg string
}

func moves(s Stage) outcome { return outcome{to: s} }

var (
	denied     = outcome{err: ErrPermission}
	wrongStage = outcome{err: ErrPrecondition}
	lost       = outcome{err: ErrConflict, msg: "already claimed by YRD"}
	ownClaim   = outcome{err: ErrPrecondition, msg: "already claimed by your division YRD"}
)

// transitionRules restates the table at the top of transitions.go: for a
// command and the actors allowed to try it, the outcome from each stage.
// Stages not listed get rest; actors not listed are refused with
// PERMISSION_DENIED from every stage. Every lead is submitted by BOS
// staff, and a claimed lead is held by YRD.
var transitionRules = []struct {
	op     string
	actors []string
	from   map[Stage]outcome
	rest   outcome
}{
	{"update", []string{"bos"}, map[Stage]outcome{Submitted: moves(Submitted), Returned: moves(Submitted)}, wrongStage},
	{"approve", []string{"hq"}, map[Stage]outcome{Submitted: moves(Approved)}, wrongStage},
	{"return", []string{"hq"}, map[Stage]outcome{Submitted: moves(Returned)}, wrongStage},
	{"decline", []string{"hq"}, map[Stage]outcome{Submitted: moves(Declined)}, wrongStage},
	{"claim", []string{"bohai", "prd"}, map[Stage]outcome{
		Approved: moves(Claimed), Claimed: lost, Negotiating: lost, Signed: lost, Landed: lost}, wrongStage},
	// YRD holds every claimed lead: claiming it again is a stage error, not a lost race.
	{"claim", []string{"yrd"}, map[Stage]outcome{
		Approved: moves(Claimed), Claimed: ownClaim, Negotiating: ownClaim, Signed: ownClaim, Landed: ownClaim}, wrongStage},
	{"release", []string{"hq"}, map[Stage]outcome{Claimed: moves(Approved)}, wrongStage},
	// Only the division holding the lead may release or advance it; while
	// no division holds it, YRD is refused like any other division.
	{"release", []string{"yrd"}, map[Stage]outcome{
		Claimed: moves(Approved), Negotiating: wrongStage, Signed: wrongStage, Landed: wrongStage}, denied},
	{"advance NEGOTIATING", []string{"yrd"}, map[Stage]outcome{
		Claimed: moves(Negotiating), Negotiating: wrongStage, Signed: wrongStage, Landed: wrongStage}, denied},
	{"advance SIGNED", []string{"yrd"}, map[Stage]outcome{
		Claimed: wrongStage, Negotiating: moves(Signed), Signed: wrongStage, Landed: wrongStage}, denied},
	{"advance LANDED", []string{"yrd"}, map[Stage]outcome{
		Claimed: wrongStage, Negotiating: wrongStage, Signed: moves(Landed), Landed: wrongStage}, denied},
	{"withdraw", []string{"bos"}, map[Stage]outcome{
		Submitted: moves(Withdrawn), Returned: moves(Withdrawn), Approved: moves(Withdrawn)}, wrongStage},
}

func expectedOutcome(op, actor string, from Stage) outcome {
	for _, r := range transitionRules {
		if r.op != op || !contains(r.actors, actor) {
			continue
		}
		if o, ok := r.from[from]; ok {
			return o
		}
		return r.rest
	}
	return denied
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// TestTransitions tries every transition command from every stage as every
// user.
func TestTransitions(t *testing.T) {
	for _, op := range transitionOps {
		for _, from := range allStages {
			for _, actor := range actorNames {
				want := expectedOutcome(op.name, actor, from)
				t.Run(fmt.Sprintf("%s/from=%s/by=%s", op.name, from, actor), func(t *testing.T) {
					f := newFixture(t)
					id := f.leadIn(from)
					before, events := f.lead(id), f.history(id)
					cmd := op.cmd
					cmd.LeadID = id
					if want.err != nil {
						var res any
						assertUnchanged(t, f.st, func() { res = f.apply(actor, cmd) })
						msgs := []string{want.msg}
						if want.err == ErrPrecondition {
							msgs = append(msgs, "stage "+from.String())
						}
						wantError(t, res, want.err, msgs...)
						return
					}
					res := f.ok(actor, cmd)
					wantLead := before.clone()
					wantLead.Stage, wantLead.Version, wantLead.Updated = want.to, before.Version+1, clock(f.index)
					if want.to != from {
						wantLead.StageTime = clock(f.index)
					}
					op.change(wantLead, actor, from)
					if !reflect.DeepEqual(res.Lead, wantLead) {
						t.Errorf("result lead = %+v\nwant %+v", res.Lead, wantLead)
					}
					if got := f.lead(id); !reflect.DeepEqual(got, wantLead) {
						t.Errorf("stored lead = %+v\nwant %+v", got, wantLead)
					}
					h := f.history(id)
					if len(h) != len(events)+1 {
						t.Fatalf("history has %d events, want %d", len(h), len(events)+1)
					}
					if e := h[len(h)-1]; e.From != from || e.To != want.to || e.Version != wantLead.Version {
						t.Errorf("last event = %s→%s v%d, want %s→%s v%d", e.From, e.To, e.Version, from, want.to, wantLead.Version)
					}
				})
			}
		}
	}
}

func TestSubmit(t *testing.T) {
	tests := []struct {
		actor  string
		wantID string // empty when refused
	}{
		{"bos", "BOS-0001"},
		{"cbg", "CBG-0001"},
		{"admin", ""},
		{"hq", ""},
		{"bohai", ""},
		{"yrd", ""},
		{"prd", ""},
	}
	for _, tt := range tests {
		t.Run(tt.actor, func(t *testing.T) {
			f := newFixture(t)
			if tt.wantID == "" {
				var res any
				assertUnchanged(t, f.st, func() { res = f.apply(tt.actor, Command{Op: OpSubmit, Draft: validDraft()}) })
				wantError(t, res, ErrPermission, "NODE_STAFF")
				return
			}
			d := validDraft()
			res := f.ok(tt.actor, Command{Op: OpSubmit, Draft: d})
			now := clock(f.index)
			want := &Lead{
				ID: tt.wantID, Site: tt.wantID[:3], Draft: *d,
				SubmittedBy: f.user(tt.actor), Stage: Submitted, Version: 1,
				Created: now, Updated: now, StageTime: now,
			}
			if !reflect.DeepEqual(res.Lead, want) {
				t.Errorf("submitted lead = %+v\nwant %+v", res.Lead, want)
			}
			if got := f.lead(tt.wantID); !reflect.DeepEqual(got, want) {
				t.Errorf("stored lead = %+v\nwant %+v", got, want)
			}
		})
	}
}

// TestSubmitIDs checks that each site numbers its leads on its own.
func TestSubmitIDs(t *testing.T) {
	f := newFixture(t)
	steps := []struct{ actor, want string }{
		{"bos", "BOS-0001"}, {"bos", "BOS-0002"}, {"cbg", "CBG-0001"},
		{"bos", "BOS-0003"}, {"cbg", "CBG-0002"},
	}
	for _, s := range steps {
		if got := f.submit(s.actor); got != s.want {
			t.Errorf("submit by %s = %s, want %s", s.actor, got, s.want)
		}
	}
	// A refused submit uses no number.
	wantError(t, f.apply("hq", Command{Op: OpSubmit, Draft: validDraft()}), ErrPermission)
	if got := f.submit("bos"); got != "BOS-0004" {
		t.Errorf("submit after a refused one = %s, want BOS-0004", got)
	}
}

func TestReviewNeedsComment(t *testing.T) {
	tests := []struct {
		decision Decision
		comment  string
		wantErr  bool
	}{
		{Return, "", true},
		{Return, " \n\t", true},
		{Decline, "", true},
		{Decline, "  ", true},
		{Approve, "", false},
		{Return, "need more", false},
		{Decline, "out of scope", false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%q", tt.decision, tt.comment), func(t *testing.T) {
			f := newFixture(t)
			id := f.leadIn(Submitted)
			cmd := Command{Op: OpReview, LeadID: id, Decision: tt.decision, Comment: tt.comment}
			if !tt.wantErr {
				f.ok("hq", cmd)
				return
			}
			var res any
			assertUnchanged(t, f.st, func() { res = f.apply("hq", cmd) })
			if e := wantError(t, res, ErrInvalid); !strings.HasPrefix(e.Msg, "comment:") {
				t.Errorf("error = %q, want it to start with comment:", e.Msg)
			}
		})
	}
}

// TestOneClaimWins has every division claim the same published lead.
func TestOneClaimWins(t *testing.T) {
	f := newFixture(t)
	id := f.leadIn(Approved)
	v := f.lead(id).Version
	f.ok("prd", Command{Op: OpClaim, LeadID: id, ExpectedVersion: v})
	for _, loser := range []string{"bohai", "yrd"} {
		wantError(t, f.apply(loser, Command{Op: OpClaim, LeadID: id}), ErrConflict, "already claimed by PRD")
	}
	if got := f.lead(id); got.Division != "PRD" || got.Stage != Claimed {
		t.Errorf("lead is %s held by %q, want CLAIMED held by PRD", got.Stage, got.Division)
	}
}

// TestRefusalOrder checks that the actor's rights are checked before the
// expected version, and the version before the stage.
func TestRefusalOrder(t *testing.T) {
	tests := []struct {
		name    string
		actor   string
		op      Op
		version int64 // the lead is at version 2
		want    error
	}{
		{"no right and stale version", "cbg", OpWithdraw, 1, ErrPermission},
		{"no right and wrong stage", "hq", OpClaim, 2, ErrPermission},
		{"stale version and wrong stage", "yrd", OpClaim, 1, ErrConflict},
		{"wrong stage", "yrd", OpClaim, 2, ErrPrecondition},
		{"current version", "bos", OpWithdraw, 2, nil},
		{"no expected version", "bos", OpWithdraw, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			id := f.leadIn(Returned)
			res := f.apply(tt.actor, Command{Op: tt.op, LeadID: id, ExpectedVersion: tt.version})
			if tt.want == nil {
				wantResult(t, res)
				return
			}
			wantError(t, res, tt.want)
		})
	}
}

func TestUnknownLeadOrActor(t *testing.T) {
	tests := []struct {
		name  string
		actor string
		lead  string
		want  error
	}{
		{"no such lead", "bos", "BOS-0042", ErrNotFound},
		{"no such site", "bos", "MUC-0001", ErrNotFound},
		{"no such user", "user-0999", "BOS-0001", ErrUnauthenticated},
		{"no actor", "", "BOS-0001", ErrUnauthenticated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.leadIn(Submitted)
			var res any
			assertUnchanged(t, f.st, func() {
				res = f.apply(tt.actor, Command{Op: OpWithdraw, LeadID: tt.lead})
			})
			e := wantError(t, res, tt.want)
			if errors.Is(e, ErrInvalid) {
				t.Errorf("error %q is also CodeInvalid", e.Msg)
			}
		})
	}
}

// TestPermissionMessages checks that a refusal says why.
func TestPermissionMessages(t *testing.T) {
	tests := []struct {
		actor string
		cmd   func(id string) Command
		want  string
	}{
		{"cbg", func(id string) Command { return Command{Op: OpUpdate, LeadID: id, Patch: &Patch{Title: new("Edited")}} }, "belongs to site BOS"},
		{"cbg", func(id string) Command { return Command{Op: OpWithdraw, LeadID: id} }, "belongs to site BOS"},
		{"hq", func(id string) Command { return Command{Op: OpWithdraw, LeadID: id} }, "caller is HQ_REVIEWER"},
		{"bohai", func(id string) Command { return Command{Op: OpRelease, LeadID: id} }, "not claimed by BOHAI"},
		{"bohai", func(id string) Command { return Command{Op: OpAdvance, LeadID: id, Stage: Negotiating} }, "not claimed by BOHAI"},
		{"bos", func(id string) Command { return Command{Op: OpRelease, LeadID: id} }, "caller is NODE_STAFF"},
		{"bos", func(id string) Command { return Command{Op: OpClaim, LeadID: id} }, "caller is NODE_STAFF"},
		{"admin", func(id string) Command { return Command{Op: OpAdvance, LeadID: id, Stage: Negotiating} }, "caller is ADMIN"},
	}
	for _, tt := range tests {
		cmd := tt.cmd("BOS-0001")
		t.Run(fmt.Sprintf("%s/%s", tt.actor, cmd.Op), func(t *testing.T) {
			f := newFixture(t)
			f.leadIn(Claimed)
			wantError(t, f.apply(tt.actor, cmd), ErrPermission, tt.want)
		})
	}
}
