package pipeline

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// newFlowFixture is newFixture with the cluster at log format 2, where
// the workflow's commands are accepted.
func newFlowFixture(tb testing.TB) *fixture {
	tb.Helper()
	f := newFixture(tb)
	f.raise()
	return f
}

// flowLeadIn is leadIn that also reaches LOST: a lead claimed by YRD and
// closed by it.
func (f *fixture) flowLeadIn(stage Stage) string {
	f.tb.Helper()
	if stage != Lost {
		return f.leadIn(stage)
	}
	id := f.leadIn(Negotiating)
	f.ok("yrd", Command{Op: OpClose, LeadID: id, CloseReason: TermsNotAgreed, Comment: "price gap"})
	return id
}

var flowStages = append(append([]Stage(nil), allStages...), Lost)

// flowOps are the commands the format-2 matrix tries: the workflow's and
// the older ones, whose outcome from LOST it adds. change makes to the
// lead what the command makes to it besides stage, version and times.
var flowOps = []struct {
	name   string
	cmd    Command
	change func(l *Lead, actor string, from Stage)
}{
	{"close", Command{Op: OpClose, CloseReason: PartnerWithdrew, Comment: "partner left"},
		func(l *Lead, _ string, _ Stage) {
			l.CloseReason, l.StageComment, l.StageVisibility = PartnerWithdrew, "partner left", DivisionOnly
		}},
	{"close shared", Command{Op: OpClose, CloseReason: OtherReason, Comment: "merged with BOS-0002", Visibility: Shared},
		func(l *Lead, _ string, _ Stage) {
			l.CloseReason, l.StageComment, l.StageVisibility = OtherReason, "merged with BOS-0002", Shared
		}},
	{"reopen to SUBMITTED", Command{Op: OpReopen, Stage: Submitted, Comment: "new data"},
		func(l *Lead, _ string, _ Stage) {
			l.Division, l.CloseReason, l.StageComment, l.StageVisibility = "", 0, "new data", Shared
		}},
	{"reopen to APPROVED", Command{Op: OpReopen, Stage: Approved, Comment: "partner is back"},
		func(l *Lead, _ string, _ Stage) {
			l.Division, l.CloseReason, l.StageComment, l.StageVisibility = "", 0, "partner is back", Shared
			l.Published, l.ClaimMode = true, ClaimOpen
		}},
	{"assign YRD", Command{Op: OpAssign, Division: "YRD", Comment: "best fit"},
		func(l *Lead, _ string, _ Stage) {
			l.Division, l.StageComment, l.StageVisibility = "YRD", "best fit", Shared
		}},
	{"assign PRD", Command{Op: OpAssign, Division: "PRD"},
		func(l *Lead, _ string, _ Stage) { l.Division, l.StageComment, l.StageVisibility = "PRD", "", Shared }},
	{"set claim mode", Command{Op: OpSetClaimMode, ClaimMode: ClaimAssigned},
		func(l *Lead, _ string, _ Stage) { l.ClaimMode = ClaimAssigned }},
	{"express interest", Command{Op: OpExpressInterest, Interest: &InterestDraft{Rationale: "fits Suzhou", Enterprise: "Suzhou Bio"}},
		func(*Lead, string, Stage) {}},
	{"withdraw interest", Command{Op: OpWithdrawInterest}, func(*Lead, string, Stage) {}},
	{"claim", Command{Op: OpClaim, Comment: "ours"},
		func(l *Lead, actor string, _ Stage) {
			l.Division, l.StageComment, l.StageVisibility = divisionOf[actor], "ours", Shared
		}},
	{"approve", Command{Op: OpReview, Decision: Approve, Comment: "good fit"},
		func(l *Lead, _ string, _ Stage) {
			l.StageComment, l.Published, l.ClaimMode, l.StageVisibility = "good fit", true, ClaimOpen, Shared
		}},
	{"return", Command{Op: OpReview, Decision: Return, Comment: "need TRL evidence"},
		func(l *Lead, _ string, _ Stage) { l.StageComment, l.StageVisibility = "need TRL evidence", HQAndSite }},
	{"release", Command{Op: OpRelease, Comment: "no capacity"},
		func(l *Lead, _ string, _ Stage) {
			l.Division, l.StageComment, l.StageVisibility = "", "no capacity", Shared
		}},
	{"advance NEGOTIATING", Command{Op: OpAdvance, Stage: Negotiating, Comment: "offer is 42M"},
		func(l *Lead, _ string, _ Stage) { l.StageComment, l.StageVisibility = "offer is 42M", DivisionOnly }},
	{"withdraw", Command{Op: OpWithdraw, Comment: "withdrawn"},
		func(l *Lead, _ string, _ Stage) { l.StageComment, l.StageVisibility = "withdrawn", Shared }},
	{"update", Command{Op: OpUpdate, Patch: &Patch{Summary: new("Revised summary")}, Comment: "added figures"},
		func(l *Lead, _ string, from Stage) {
			l.Summary = "Revised summary"
			if from == Returned {
				l.StageComment, l.StageVisibility = "added figures", HQAndSite
			}
		}},
}

// flowRules restates the workflow's table at the top of transitions.go as
// transitionRules does the older one. Every lead is submitted by BOS, a
// claimed (or lost) one is held by YRD.
var flowRules = []struct {
	op     string
	actors []string
	from   map[Stage]outcome
	rest   outcome
}{
	{"close", []string{"hq"}, map[Stage]outcome{Claimed: moves(Lost), Negotiating: moves(Lost), Signed: moves(Lost)}, wrongStage},
	{"close", []string{"yrd"}, map[Stage]outcome{Claimed: moves(Lost), Negotiating: moves(Lost), Signed: moves(Lost),
		Landed: wrongStage, Lost: wrongStage}, denied},
	{"close shared", []string{"hq"}, map[Stage]outcome{Claimed: moves(Lost), Negotiating: moves(Lost), Signed: moves(Lost)}, wrongStage},
	{"close shared", []string{"yrd"}, map[Stage]outcome{Claimed: moves(Lost), Negotiating: moves(Lost), Signed: moves(Lost),
		Landed: wrongStage, Lost: wrongStage}, denied},
	{"reopen to SUBMITTED", []string{"hq"}, map[Stage]outcome{Declined: moves(Submitted), Lost: moves(Submitted)}, wrongStage},
	{"reopen to APPROVED", []string{"hq"}, map[Stage]outcome{Declined: moves(Approved), Lost: moves(Approved)}, wrongStage},
	{"assign YRD", []string{"hq"}, map[Stage]outcome{Approved: moves(Claimed),
		Claimed: held, Negotiating: held, Signed: held, Landed: held}, wrongStage},
	{"assign PRD", []string{"hq"}, map[Stage]outcome{Approved: moves(Claimed),
		Claimed: lostAssign, Negotiating: lostAssign, Signed: lostAssign, Landed: lostAssign}, wrongStage},
	{"set claim mode", []string{"hq"}, map[Stage]outcome{Submitted: moves(Submitted), Returned: moves(Returned),
		Approved: moves(Approved)}, wrongStage},
	{"express interest", []string{"bohai", "yrd", "prd"}, map[Stage]outcome{Approved: moves(Approved)}, wrongStage},
	{"withdraw interest", []string{"bohai", "yrd", "prd"}, map[Stage]outcome{Approved: noInterest}, wrongStage},
}

var (
	held       = outcome{err: ErrPrecondition, msg: "already held by YRD"}
	lostAssign = outcome{err: ErrConflict, msg: "already claimed by YRD"}
	// noInterest names no stage: the lead is in the right one.
	noInterest = outcome{err: ErrPrecondition, msg: "no standing expression of interest"}
)

// flowOutcome is the outcome of op by actor from stage at format 2.
func flowOutcome(op, actor string, from Stage) outcome {
	for _, r := range flowRules {
		if r.op != op || !contains(r.actors, actor) {
			continue
		}
		if o, ok := r.from[from]; ok {
			return o
		}
		return r.rest
	}
	for _, r := range flowRules {
		if r.op == op {
			return denied
		}
	}
	if from == Lost && actor == "yrd" && (op == "release" || op == "advance NEGOTIATING") {
		// YRD still holds the lead it lost.
		return wrongStage
	}
	return expectedOutcome(op, actor, from)
}

// TestWorkflowTransitions tries every command, the workflow's and the
// older ones, from every stage (LOST too) as every user, at log format 2,
// and checks the lead, its new history event and who may read the event.
func TestWorkflowTransitions(t *testing.T) {
	for _, op := range flowOps {
		for _, from := range flowStages {
			for _, actor := range actorNames {
				want := flowOutcome(op.name, actor, from)
				t.Run(fmt.Sprintf("%s/from=%s/by=%s", op.name, from, actor), func(t *testing.T) {
					f := newFlowFixture(t)
					id := f.flowLeadIn(from)
					before, events := f.lead(id), f.history(id)
					cmd := op.cmd
					cmd.LeadID = id
					if want.err != nil {
						var res any
						assertUnchanged(t, f.st, func() { res = f.apply(actor, cmd) })
						msgs := []string{want.msg}
						if want.err == ErrPrecondition && want != noInterest {
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
					e := h[len(h)-1]
					if e.From != from || e.To != want.to || e.Version != wantLead.Version {
						t.Errorf("last event = %s→%s v%d, want %s→%s v%d", e.From, e.To, e.Version, from, want.to, wantLead.Version)
					}
					if from != want.to && !hasChange(e.Changes, "stage", from.String(), want.to.String()) {
						t.Errorf("last event's changes %+v lack stage %s→%s", e.Changes, from, want.to)
					}
					if e.Visibility == VisibilityUnspecified {
						t.Errorf("last event records no visibility")
					}
				})
			}
		}
	}
}

func hasChange(cs []Change, field, old, new string) bool {
	for _, c := range cs {
		if c.Field == field && c.Old == old && c.New == new {
			return true
		}
	}
	return false
}

// TestWorkflowNeedsFormat2 checks that while the cluster runs log format
// 1 every command of the workflow, and a review or an advance that uses
// its fields, is refused and changes nothing: a site of the last release
// could not read it.
func TestWorkflowNeedsFormat2(t *testing.T) {
	f := newFixture(t)
	approved, claimed, submitted := f.leadIn(Approved), f.leadIn(Claimed), f.leadIn(Submitted)
	for _, tt := range []struct {
		actor string
		cmd   Command
	}{
		{"yrd", Command{Op: OpClose, LeadID: claimed, CloseReason: Duplicate}},
		{"hq", Command{Op: OpReopen, LeadID: claimed, Stage: Submitted, Comment: "again"}},
		{"hq", Command{Op: OpAssign, LeadID: approved, Division: "PRD"}},
		{"hq", Command{Op: OpSetClaimMode, LeadID: approved, ClaimMode: ClaimAssigned}},
		{"hq", Command{Op: OpSetDefaultClaimMode, ClaimMode: ClaimAssigned}},
		{"prd", Command{Op: OpExpressInterest, LeadID: approved, Interest: &InterestDraft{Rationale: "why"}}},
		{"prd", Command{Op: OpWithdrawInterest, LeadID: approved}},
		{"bos", Command{Op: OpComment, LeadID: approved, Comment: "hello", Visibility: Shared}},
		{"hq", Command{Op: OpReview, LeadID: submitted, Decision: Approve, ClaimMode: ClaimAssigned}},
		{"yrd", Command{Op: OpAdvance, LeadID: claimed, Stage: Negotiating, Visibility: Shared}},
	} {
		t.Run(string(tt.cmd.Op), func(t *testing.T) {
			if got := tt.cmd.Format(); got != Format2 {
				t.Fatalf("Format = %d, want %d", got, Format2)
			}
			var res any
			assertUnchanged(t, f.st, func() { res = f.apply(tt.actor, tt.cmd) })
			wantError(t, res, ErrPrecondition, "log format 2")
		})
	}
}

// TestCloseAndReopen follows a deal that falls through, is reopened and
// is lost again, and checks the reasons and refusals on the way.
func TestCloseAndReopen(t *testing.T) {
	f := newFlowFixture(t)
	id := f.leadIn(Signed)
	// A reason from the list is required, and a comment for OTHER.
	wantError(t, f.apply("yrd", Command{Op: OpClose, LeadID: id}), ErrInvalid, "reason: ")
	wantError(t, f.apply("yrd", Command{Op: OpClose, LeadID: id, CloseReason: OtherReason, Comment: "  "}), ErrInvalid, "comment: ", "OTHER")
	wantError(t, f.apply("yrd", Command{Op: OpClose, LeadID: id, CloseReason: 7}), ErrInvalid,
		"PARTNER_WITHDREW, TERMS_NOT_AGREED, WENT_TO_ANOTHER_REGION, PROJECT_STOPPED, DUPLICATE, OTHER")
	// A rival division may not close it; HQ may.
	wantError(t, f.apply("prd", Command{Op: OpClose, LeadID: id, CloseReason: Duplicate}), ErrPermission, "not held by PRD")
	l := f.ok("hq", Command{Op: OpClose, LeadID: id, CloseReason: WentToAnotherRegion, Comment: "went to Shenzhen"}).Lead
	if l.Stage != Lost || l.Division != "YRD" || l.CloseReason != WentToAnotherRegion || l.StageAudienceText() != "DIVISION YRD" {
		t.Fatalf("closed lead = %s held by %q for %s (%s), want LOST held by YRD for WENT_TO_ANOTHER_REGION (DIVISION YRD)",
			l.Stage, l.Division, l.CloseReason, l.StageAudienceText())
	}
	// Nothing moves a LOST lead but HQ's reopening, which needs a comment.
	wantError(t, f.apply("yrd", Command{Op: OpAdvance, LeadID: id, Stage: Landed}), ErrPrecondition, "stage LOST")
	wantError(t, f.apply("hq", Command{Op: OpReopen, LeadID: id, Stage: Approved}), ErrInvalid, "comment")
	wantError(t, f.apply("hq", Command{Op: OpReopen, LeadID: id, Stage: Claimed, Comment: "x"}), ErrInvalid, "stage", "SUBMITTED", "APPROVED")
	wantError(t, f.apply("yrd", Command{Op: OpReopen, LeadID: id, Stage: Approved, Comment: "x"}), ErrPermission, "HQ_REVIEWER")
	l = f.ok("hq", Command{Op: OpReopen, LeadID: id, Stage: Approved, Comment: "Shenzhen fell through"}).Lead
	if l.Stage != Approved || l.Division != "" || l.CloseReason != 0 || !l.Published || l.ClaimMode != ClaimOpen {
		t.Fatalf("reopened lead = %+v, want APPROVED, published, OPEN, held by no division", l)
	}
	// Any division may claim it again.
	f.ok("prd", Command{Op: OpClaim, LeadID: id})
	f.ok("prd", Command{Op: OpClose, LeadID: id, CloseReason: ProjectStopped})
	// LANDED and WITHDRAWN stay final.
	for _, s := range []Stage{Landed, Withdrawn} {
		other := f.leadIn(s)
		wantError(t, f.apply("hq", Command{Op: OpReopen, LeadID: other, Stage: Submitted, Comment: "try again"}), ErrPrecondition,
			"stage "+s.String(), "DECLINED or LOST")
	}
	// A declined lead goes back to review, or straight to the divisions.
	declined := f.leadIn(Declined)
	l = f.ok("hq", Command{Op: OpReopen, LeadID: declined, Stage: Submitted, Comment: "new evidence"}).Lead
	if l.Stage != Submitted || l.Published {
		t.Errorf("declined lead reopened to SUBMITTED = %s published %v", l.Stage, l.Published)
	}
	got := actions(f.history(id))
	if want := "SUBMIT APPROVE CLAIM ADVANCE ADVANCE CLOSE REOPEN CLAIM CLOSE"; got != want {
		t.Errorf("history = %s, want %s", got, want)
	}
}

// StageAudienceText renders the lead's stage audience for messages.
func (l *Lead) StageAudienceText() string {
	v, d := l.StageAudience()
	return strings.TrimSpace(v.String() + " " + d)
}

func actions(h []Event) string {
	var out []string
	for _, e := range h {
		out = append(out, e.Action)
	}
	return strings.Join(out, " ")
}

// TestClaimModes: the cluster's default decides a lead's mode as it is
// approved, unless the approval or HQ names one; an ASSIGNED lead refuses
// claims and takes assignments, which race claims exactly once.
func TestClaimModes(t *testing.T) {
	f := newFlowFixture(t)
	if mode, set := f.st.DefaultClaimMode(); mode != ClaimOpen || set != nil {
		t.Fatalf("default claim mode of a new cluster = %s (%v), want OPEN, never set", mode, set)
	}
	wantError(t, f.apply("yrd", Command{Op: OpSetDefaultClaimMode, ClaimMode: ClaimAssigned}), ErrPermission, "HQ_REVIEWER")
	s := f.ok("hq", Command{Op: OpSetDefaultClaimMode, ClaimMode: ClaimAssigned}).Setting
	if s == nil || s.Value != "ASSIGNED" || s.UserID != f.user("hq") || !s.Time.Equal(clock(f.index)) {
		t.Fatalf("set default = %+v", s)
	}
	if mode, set := f.st.DefaultClaimMode(); mode != ClaimAssigned || set == nil || set.UserName != "Hui Reviewer" {
		t.Fatalf("default claim mode = %s (%+v), want ASSIGNED by Hui Reviewer", mode, set)
	}

	assigned := f.leadIn(Approved)
	if l := f.lead(assigned); l.ClaimMode != ClaimAssigned {
		t.Fatalf("a lead approved under the ASSIGNED default has mode %s", l.ClaimMode)
	}
	wantError(t, f.apply("yrd", Command{Op: OpClaim, LeadID: assigned}), ErrPrecondition, "HQ assigns this lead", "express")
	// Divisions express interest; HQ assigns; a late assignment and a
	// late claim are told who holds the lead.
	f.ok("yrd", Command{Op: OpExpressInterest, LeadID: assigned, Interest: &InterestDraft{Rationale: "Suzhou fit"}})
	f.ok("prd", Command{Op: OpExpressInterest, LeadID: assigned, Interest: &InterestDraft{Rationale: "Shenzhen fit"}})
	l := f.ok("hq", Command{Op: OpAssign, LeadID: assigned, Division: "PRD", Comment: "closer to the partner"}).Lead
	if l.Stage != Claimed || l.Division != "PRD" {
		t.Fatalf("assigned lead = %s held by %q", l.Stage, l.Division)
	}
	wantError(t, f.apply("hq", Command{Op: OpAssign, LeadID: assigned, Division: "YRD"}), ErrConflict, "already claimed by PRD")
	wantError(t, f.apply("yrd", Command{Op: OpClaim, LeadID: assigned}), ErrConflict, "already claimed by PRD")
	// The holder works it as a claimed lead.
	f.ok("prd", Command{Op: OpAdvance, LeadID: assigned, Stage: Negotiating})

	// An approval may name the mode; HQ may change it while the lead is open.
	open := f.submit("bos")
	if l := f.ok("hq", Command{Op: OpReview, LeadID: open, Decision: Approve, ClaimMode: ClaimOpen}).Lead; l.ClaimMode != ClaimOpen {
		t.Fatalf("approved with OPEN: mode %s", l.ClaimMode)
	}
	f.ok("hq", Command{Op: OpSetClaimMode, LeadID: open, ClaimMode: ClaimAssigned})
	wantError(t, f.apply("bohai", Command{Op: OpClaim, LeadID: open}), ErrPrecondition, "ASSIGNED")
	f.ok("hq", Command{Op: OpSetClaimMode, LeadID: open, ClaimMode: ClaimOpen})
	f.ok("bohai", Command{Op: OpClaim, LeadID: open})
	wantError(t, f.apply("hq", Command{Op: OpAssign, LeadID: open, Division: "YRD"}), ErrConflict, "already claimed by BOHAI")
	wantError(t, f.apply("hq", Command{Op: OpSetClaimMode, LeadID: open, ClaimMode: ClaimAssigned}), ErrPrecondition, "stage CLAIMED")

	// A mode set before the review is kept by an approval that names none.
	early := f.submit("bos")
	f.ok("hq", Command{Op: OpSetClaimMode, LeadID: early, ClaimMode: ClaimOpen})
	if l := f.ok("hq", Command{Op: OpReview, LeadID: early, Decision: Approve}).Lead; l.ClaimMode != ClaimOpen {
		t.Errorf("a lead set OPEN before review, approved under the ASSIGNED default: mode %s", l.ClaimMode)
	}
	// A review other than APPROVE names no mode.
	wantError(t, f.apply("hq", Command{Op: OpReview, LeadID: f.submit("bos"), Decision: Return, Comment: "why", ClaimMode: ClaimOpen}),
		ErrInvalid, "claim_mode", "APPROVE")
}

// TestAssignRace puts two assignments and a claim for one lead in the log
// in every order: the first wins, the others are told who holds the lead,
// and the lead is held by the winner alone.
func TestAssignRace(t *testing.T) {
	attempts := []struct {
		actor string
		cmd   func(id string) Command
		wins  string
	}{
		{"hq", func(id string) Command { return Command{Op: OpAssign, LeadID: id, Division: "PRD"} }, "PRD"},
		{"hq", func(id string) Command { return Command{Op: OpAssign, LeadID: id, Division: "BOHAI"} }, "BOHAI"},
		{"yrd", func(id string) Command { return Command{Op: OpClaim, LeadID: id} }, "YRD"},
	}
	for _, order := range [][]int{{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}} {
		t.Run(fmt.Sprint(order), func(t *testing.T) {
			f := newFlowFixture(t)
			id := f.leadIn(Approved)
			v := f.lead(id).Version
			winner := attempts[order[0]].wins
			for i, n := range order {
				c := attempts[n].cmd(id)
				c.ExpectedVersion = v
				res := f.apply(attempts[n].actor, c)
				if i == 0 {
					wantResult(t, res)
					continue
				}
				// The losers were sent for the version they saw.
				wantError(t, res, ErrConflict)
				c.ExpectedVersion = 0
				wantError(t, f.apply(attempts[n].actor, c), ErrConflict, "already claimed by "+winner)
			}
			if l := f.lead(id); l.Division != winner || l.Stage != Claimed || l.Version != v+1 {
				t.Errorf("lead = %s held by %q at v%d, want CLAIMED held by %s at v%d", l.Stage, l.Division, l.Version, winner, v+1)
			}
		})
	}
}

// TestInterests follows the divisions' expressions of interest in a lead:
// one per division, revised in place, withdrawn, expressed again, kept
// with their outcome after HQ assigns the lead; every step an event of
// the lead whose rationale is a private change.
func TestInterests(t *testing.T) {
	f := newFlowFixture(t)
	id := f.leadIn(Approved)
	express := func(actor, why, with string) Result {
		return f.ok(actor, Command{Op: OpExpressInterest, LeadID: id, Interest: &InterestDraft{Rationale: why, Enterprise: with}})
	}
	first := express("yrd", "Suzhou biomedicine cluster", "Suzhou Bio")
	if i := first.Interest; i == nil || i.Division != "YRD" || i.Rationale != "Suzhou biomedicine cluster" || i.UserName != "Yang Delta" {
		t.Fatalf("express interest = %+v", first.Interest)
	}
	express("prd", "Shenzhen has the cold chain", "")
	rev := express("yrd", "Suzhou cluster, with a pilot plant", "Suzhou Bio Park").Interest
	if !rev.Created.Equal(first.Interest.Created) || !rev.Updated.Equal(clock(f.index)) {
		t.Errorf("revised interest created %v updated %v, want created %v updated now", rev.Created, rev.Updated, first.Interest.Created)
	}
	list, err := f.st.Interests(id)
	if err != nil || len(list) != 2 || list[0].Division != "PRD" || list[1].Rationale != "Suzhou cluster, with a pilot plant" {
		t.Fatalf("interests = %+v, %v; want PRD's and YRD's revised one", list, err)
	}
	// Withdraw, and again: the second has nothing to withdraw.
	w := f.ok("prd", Command{Op: OpWithdrawInterest, LeadID: id}).Interest
	if w.Withdrawn == nil || w.WithdrawnBy != f.user("prd") || w.Rationale != "Shenzhen has the cold chain" {
		t.Errorf("withdrawn interest = %+v", w)
	}
	wantError(t, f.apply("prd", Command{Op: OpWithdrawInterest, LeadID: id}), ErrPrecondition, "no standing expression of interest")
	wantError(t, f.apply("bohai", Command{Op: OpWithdrawInterest, LeadID: id}), ErrPrecondition, "BOHAI")
	// HQ and node staff do not express interest.
	wantError(t, f.apply("hq", Command{Op: OpExpressInterest, LeadID: id, Interest: &InterestDraft{Rationale: "x"}}), ErrPermission, "DIVISION")
	express("bohai", "Tianjin port", "Tianjin Logistics")
	f.ok("hq", Command{Op: OpAssign, LeadID: id, Division: "YRD"})
	wantError(t, f.apply("bohai", Command{Op: OpExpressInterest, LeadID: id, Interest: &InterestDraft{Rationale: "still"}}),
		ErrPrecondition, "stage CLAIMED", "only while a lead is APPROVED")
	l := f.lead(id)
	list, _ = f.st.Interests(id)
	got := map[string]InterestOutcome{}
	for _, i := range list {
		got[i.Division] = i.Outcome(l)
	}
	if want := map[string]InterestOutcome{"BOHAI": OutcomeNotChosen, "PRD": OutcomeWithdrawn, "YRD": OutcomeChosen}; !reflect.DeepEqual(got, want) {
		t.Errorf("outcomes after assignment = %v, want %v", got, want)
	}
	h := f.history(id)
	if got, want := actions(h), "SUBMIT APPROVE EXPRESS_INTEREST EXPRESS_INTEREST EXPRESS_INTEREST WITHDRAW_INTEREST EXPRESS_INTEREST ASSIGN"; got != want {
		t.Fatalf("history = %s, want %s", got, want)
	}
	revised := h[4]
	if revised.Visibility != DivisionOnly || revised.VisibleTo != "YRD" ||
		!reflect.DeepEqual(revised.Changes, []Change{
			{Field: "interest.rationale", Old: "Suzhou biomedicine cluster", New: "Suzhou cluster, with a pilot plant", Private: true},
			{Field: "interest.enterprise", Old: "Suzhou Bio", New: "Suzhou Bio Park", Private: true},
		}) {
		t.Errorf("the revision's event = %+v", revised)
	}
	if withdrawn := h[5]; withdrawn.VisibleTo != "PRD" || !hasChange(withdrawn.Changes, "interest.rationale", "Shenzhen has the cold chain", "") {
		t.Errorf("the withdrawal's event = %+v", withdrawn)
	}
}

// TestFieldChanges checks the changes every kind of event records, field
// by field, in the API's spelling.
func TestFieldChanges(t *testing.T) {
	f := newFlowFixture(t)
	id := f.submit("bos")
	f.ok("bos", Command{Op: OpUpdate, LeadID: id, Patch: &Patch{Title: new("Better title"), TRL: new(6), Tags: []string{"battery"}}})
	f.ok("hq", Command{Op: OpReview, LeadID: id, Decision: Return, Comment: "which cell chemistry?"})
	f.ok("bos", Command{Op: OpUpdate, LeadID: id, Patch: &Patch{Summary: new("LFP cells.")}, Comment: "LFP"})
	f.ok("hq", Command{Op: OpReview, LeadID: id, Decision: Approve, ClaimMode: ClaimAssigned})
	f.ok("hq", Command{Op: OpSetClaimMode, LeadID: id, ClaimMode: ClaimOpen})
	f.ok("yrd", Command{Op: OpClaim, LeadID: id})
	f.ok("yrd", Command{Op: OpRelease, LeadID: id})
	f.ok("hq", Command{Op: OpAssign, LeadID: id, Division: "PRD"})
	f.ok("prd", Command{Op: OpClose, LeadID: id, CloseReason: Duplicate, Comment: "same as CBG-0001"})
	f.ok("hq", Command{Op: OpReopen, LeadID: id, Stage: Submitted, Comment: "not a duplicate after all"})
	d := validDraft()
	want := [][]Change{
		{{Field: "stage", New: "SUBMITTED"}, {Field: "title", New: d.Title}, {Field: "summary", New: d.Summary},
			{Field: "organization", New: d.Organization}, {Field: "country", New: "US"}, {Field: "sector", New: "NEW_ENERGY_VEHICLES"},
			{Field: "trl", New: "5"}, {Field: "dealType", New: "TECHNOLOGY_LICENSING"}, {Field: "tags", New: "battery, ceramics"},
			{Field: "contacts", New: "Dana Lee <dana@example.edu> +1 617 555 0100"}, {Field: "language", New: "en"}},
		{{Field: "title", Old: d.Title, New: "Better title"}, {Field: "trl", Old: "5", New: "6"}, {Field: "tags", Old: "battery, ceramics", New: "battery"}},
		{{Field: "stage", Old: "SUBMITTED", New: "RETURNED"}},
		{{Field: "stage", Old: "RETURNED", New: "SUBMITTED"}, {Field: "summary", Old: d.Summary, New: "LFP cells."}},
		{{Field: "stage", Old: "SUBMITTED", New: "APPROVED"}, {Field: "claimMode", New: "ASSIGNED"}},
		{{Field: "claimMode", Old: "ASSIGNED", New: "OPEN"}},
		{{Field: "stage", Old: "APPROVED", New: "CLAIMED"}, {Field: "division", New: "YRD"}},
		{{Field: "stage", Old: "CLAIMED", New: "APPROVED"}, {Field: "division", Old: "YRD"}},
		{{Field: "stage", Old: "APPROVED", New: "CLAIMED"}, {Field: "division", New: "PRD"}},
		{{Field: "stage", Old: "CLAIMED", New: "LOST"}, {Field: "closeReason", New: "DUPLICATE"}},
		{{Field: "stage", Old: "LOST", New: "SUBMITTED"}, {Field: "division", Old: "PRD"}, {Field: "closeReason", Old: "DUPLICATE"}},
	}
	h := f.history(id)
	if len(h) != len(want) {
		t.Fatalf("history has %d events, want %d", len(h), len(want))
	}
	for i, e := range h {
		if !reflect.DeepEqual(e.Changes, want[i]) {
			t.Errorf("event %d (%s) changes =\n%+v\nwant\n%+v", e.Seq, e.Action, e.Changes, want[i])
		}
	}
	// The audiences of the notes.
	for seq, want := range map[int]string{1: "HQ_AND_SITE", 3: "HQ_AND_SITE", 4: "HQ_AND_SITE", 5: "SHARED", 10: "DIVISION PRD", 11: "SHARED"} {
		v, d := h[seq-1].Audience()
		if got := strings.TrimSpace(v.String() + " " + d); got != want {
			t.Errorf("event %d (%s) audience = %s, want %s", seq, h[seq-1].Action, got, want)
		}
	}
}

// TestAudienceOfFormat1 checks how the notes recorded before format 2,
// which carry no visibility, read.
func TestAudienceOfFormat1(t *testing.T) {
	f := newFixture(t)
	id := f.leadIn(Returned)
	f.ok("bos", Command{Op: OpUpdate, LeadID: id, Patch: &Patch{TRL: new(6)}, Comment: "test report"})
	f.ok("hq", Command{Op: OpReview, LeadID: id, Decision: Approve, Comment: "publish"})
	f.ok("yrd", Command{Op: OpClaim, LeadID: id})
	f.ok("yrd", Command{Op: OpAdvance, LeadID: id, Stage: Negotiating, Comment: "our offer is 42M"})
	var got []string
	for _, e := range f.history(id) {
		if e.Visibility != VisibilityUnspecified || e.Changes != nil {
			t.Errorf("an event of format 1 records %s and %v", e.Visibility, e.Changes)
		}
		v, d := e.Audience()
		got = append(got, strings.TrimSpace(e.Action+" "+v.String()+" "+d))
	}
	want := "SUBMIT HQ_AND_SITE|RETURN HQ_AND_SITE|RESUBMIT HQ_AND_SITE|APPROVE SHARED|CLAIM SHARED|ADVANCE DIVISION YRD"
	if strings.Join(got, "|") != want {
		t.Errorf("audiences = %s\nwant %s", strings.Join(got, "|"), want)
	}
	if got := f.lead(id).StageAudienceText(); got != "DIVISION YRD" {
		t.Errorf("stage comment of a NEGOTIATING lead of format 1 reads as %s", got)
	}
}

// TestCanRead is who may read what, for a lead of BOS held by YRD.
func TestCanRead(t *testing.T) {
	f := newFlowFixture(t)
	l := f.lead(f.leadIn(Negotiating))
	unpublished := f.lead(f.leadIn(Submitted))
	cases := []struct {
		lead     *Lead
		vis      Visibility
		division string
		readers  string // of actorNames
	}{
		{l, Shared, "", "admin hq bos bohai yrd prd"},
		{l, HQAndSite, "", "admin hq bos"},
		{l, DivisionOnly, "YRD", "admin hq yrd"},
		{l, DivisionOnly, "PRD", "admin hq prd"},
		{unpublished, Shared, "", "admin hq bos"},
		{unpublished, DivisionOnly, "YRD", "admin hq"},
	}
	for _, c := range cases {
		var got []string
		for _, name := range actorNames {
			u, err := f.st.User(f.user(name))
			if err != nil {
				t.Fatal(err)
			}
			if u.CanRead(c.lead, c.vis, c.division) {
				got = append(got, name)
			}
		}
		if strings.Join(got, " ") != c.readers {
			t.Errorf("%s %s %s of a %s lead: readers %v, want %s", c.vis, c.division, c.lead.ID, c.lead.Stage, got, c.readers)
		}
	}
}
