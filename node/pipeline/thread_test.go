package pipeline

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// TestPostComment tries each visibility as every user on a lead of BOS
// held by YRD (and on one nobody holds), and checks who may post what.
func TestPostComment(t *testing.T) {
	type post struct {
		vis      Visibility
		division string
	}
	tests := []struct {
		name  string
		stage Stage
		post  post
		// ok maps the users who may post to the division the comment is
		// for; the others are refused with code.
		ok   map[string]string
		code error
	}{
		{"shared", Negotiating, post{Shared, ""},
			map[string]string{"hq": "", "bos": "", "bohai": "", "yrd": "", "prd": ""}, ErrPermission},
		{"HQ and site", Negotiating, post{HQAndSite, ""}, map[string]string{"hq": "", "bos": ""}, ErrPermission},
		{"division of the holder", Negotiating, post{DivisionOnly, ""},
			map[string]string{"hq": "YRD", "bohai": "BOHAI", "yrd": "YRD", "prd": "PRD"}, ErrPermission},
		{"division named", Negotiating, post{DivisionOnly, "BOHAI"}, map[string]string{"hq": "BOHAI", "bohai": "BOHAI"}, ErrPermission},
		{"unpublished", Submitted, post{Shared, ""}, map[string]string{"hq": "", "bos": ""}, ErrPermission},
		{"division of nobody", Approved, post{DivisionOnly, ""},
			map[string]string{"bohai": "BOHAI", "yrd": "YRD", "prd": "PRD"}, nil},
	}
	for _, tt := range tests {
		for _, actor := range actorNames {
			t.Run(fmt.Sprintf("%s/by=%s", tt.name, actor), func(t *testing.T) {
				f := newFlowFixture(t)
				id := f.leadIn(tt.stage)
				cmd := Command{Op: OpComment, LeadID: id, Comment: "Wie ist der Stand? 进展如何？", Visibility: tt.post.vis, Division: tt.post.division}
				div, ok := tt.ok[actor]
				if !ok {
					want := tt.code
					if want == nil {
						want = ErrPermission
						if actor == "hq" {
							// HQ must name the division of a lead nobody holds.
							want = ErrPrecondition
						}
					}
					var res any
					assertUnchanged(t, f.st, func() { res = f.apply(actor, cmd) })
					wantError(t, res, want)
					return
				}
				before := f.lead(id)
				c := f.ok(actor, cmd).Comment
				u, _ := f.st.User(f.user(actor))
				want := &Comment{Key: id + "/0000000001", LeadID: id, Seq: 1, Body: cmd.Comment, Visibility: tt.post.vis,
					Division: div, UserID: u.ID, UserName: u.Name, Role: u.Role, UserSite: u.Home(), Time: clock(f.index),
					LogIndex: f.index, RequestID: fmt.Sprintf("req-%d", f.reqs)}
				if !reflect.DeepEqual(c, want) {
					t.Errorf("comment = %+v\nwant %+v", c, want)
				}
				if got := f.lead(id); !reflect.DeepEqual(got, before) {
					t.Errorf("a comment changed the lead: %+v", got)
				}
			})
		}
	}
}

// TestThread checks that a lead's thread holds its posted comments and
// the notes of its history, in order, each with its audience: the review
// question and the site's answer between HQ and BOS, a division's note
// between it and HQ.
func TestThread(t *testing.T) {
	f := newFlowFixture(t)
	id := f.leadIn(Submitted)
	f.ok("hq", Command{Op: OpReview, LeadID: id, Decision: Return, Comment: "Which cold-chain temperature?"})
	f.ok("bos", Command{Op: OpUpdate, LeadID: id, Patch: &Patch{Summary: new("2-8 °C")}, Comment: "2-8 °C for six months"})
	f.ok("hq", Command{Op: OpComment, LeadID: id, Comment: "Thanks, approving", Visibility: HQAndSite})
	f.ok("hq", Command{Op: OpReview, LeadID: id, Decision: Approve, Comment: "Published"})
	f.ok("prd", Command{Op: OpComment, LeadID: id, Comment: "Is the partner open to Shenzhen?", Visibility: Shared})
	f.ok("yrd", Command{Op: OpClaim, LeadID: id})
	f.ok("yrd", Command{Op: OpAdvance, LeadID: id, Stage: Negotiating, Comment: "our offer is 42M"})
	f.ok("hq", Command{Op: OpComment, LeadID: id, Comment: "Keep it under 50M", Visibility: DivisionOnly})
	f.ok("yrd", Command{Op: OpAdvance, LeadID: id, Stage: Signed, Comment: "signed in Suzhou", Visibility: Shared})
	th, err := f.st.Thread(id)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range th {
		src := "COMMENT " + fmt.Sprint(c.Seq)
		if c.Action != "" {
			src = fmt.Sprintf("%s v%d", c.Action, c.EventVersion)
		}
		got = append(got, strings.TrimSpace(fmt.Sprintf("%s %s: %s %s %s", src, c.UserName, c.Body, c.Visibility, c.Division)))
	}
	want := []string{
		"RETURN v2 Hui Reviewer: Which cold-chain temperature? HQ_AND_SITE",
		"RESUBMIT v3 Beth Boston: 2-8 °C for six months HQ_AND_SITE",
		"COMMENT 1 Hui Reviewer: Thanks, approving HQ_AND_SITE",
		"APPROVE v4 Hui Reviewer: Published SHARED",
		"COMMENT 2 Pearl Delta: Is the partner open to Shenzhen? SHARED",
		"ADVANCE v6 Yang Delta: our offer is 42M DIVISION YRD",
		"COMMENT 3 Hui Reviewer: Keep it under 50M DIVISION YRD",
		"ADVANCE v7 Yang Delta: signed in Suzhou SHARED",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("thread =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// What each reader may read of it.
	l := f.lead(id)
	for name, want := range map[string]int{"hq": 8, "bos": 6, "cbg": 0, "yrd": 5, "prd": 3, "bohai": 3} {
		u, _ := f.st.User(f.user(name))
		n := 0
		for _, c := range th {
			if u.CanRead(l, c.Visibility, c.Division) {
				n++
			}
		}
		if n != want {
			t.Errorf("%s reads %d comments of the thread, want %d", name, n, want)
		}
	}
	if _, err := f.st.Thread("BOS-0999"); err == nil {
		t.Errorf("Thread of a missing lead: no error")
	}
}

// TestWorkflowRetries sends every command of the workflow twice, the
// second time after the lead moved on, and checks that the retry answers
// the first outcome and changes nothing.
func TestWorkflowRetries(t *testing.T) {
	f := newFlowFixture(t)
	approved, claimed := f.leadIn(Approved), f.leadIn(Claimed)
	steps := []struct {
		actor string
		cmd   Command
	}{
		{"prd", Command{Op: OpExpressInterest, LeadID: approved, Interest: &InterestDraft{Rationale: "Shenzhen"}}},
		{"bohai", Command{Op: OpExpressInterest, LeadID: approved, Interest: &InterestDraft{Rationale: "Tianjin"}}},
		{"bohai", Command{Op: OpWithdrawInterest, LeadID: approved}},
		{"hq", Command{Op: OpSetClaimMode, LeadID: approved, ClaimMode: ClaimAssigned}},
		{"hq", Command{Op: OpAssign, LeadID: approved, Division: "PRD", Comment: "closest"}},
		{"prd", Command{Op: OpComment, LeadID: approved, Comment: "on it", Visibility: DivisionOnly}},
		{"yrd", Command{Op: OpClose, LeadID: claimed, CloseReason: PartnerWithdrew, Comment: "acquired"}},
		{"hq", Command{Op: OpReopen, LeadID: claimed, Stage: Approved, Comment: "acquirer interested"}},
		{"hq", Command{Op: OpSetDefaultClaimMode, ClaimMode: ClaimAssigned}},
		{"prd", Command{Op: OpAdvance, LeadID: approved, Stage: Negotiating, Comment: "terms", Visibility: Shared}},
	}
	var firsts []Result
	for i, s := range steps {
		s.cmd.RequestID = fmt.Sprintf("flow-%d", i)
		firsts = append(firsts, f.ok(s.actor, s.cmd))
	}
	// Move both leads on, so a retry must rebuild what it answered.
	f.ok("prd", Command{Op: OpAdvance, LeadID: approved, Stage: Signed})
	f.ok("bohai", Command{Op: OpComment, LeadID: claimed, Comment: "anyone?", Visibility: Shared})
	f.ok("hq", Command{Op: OpAssign, LeadID: claimed, Division: "BOHAI"})
	for i, s := range steps {
		s.cmd.RequestID = fmt.Sprintf("flow-%d", i)
		var again Result
		assertUnchanged(t, f.st, func() { again = f.ok(s.actor, s.cmd) })
		if !again.Replayed {
			t.Errorf("retry of %s: not replayed", s.cmd.Op)
		}
		first := firsts[i]
		if !reflect.DeepEqual(again.Lead, first.Lead) || !reflect.DeepEqual(again.Comment, first.Comment) ||
			!reflect.DeepEqual(again.Setting, first.Setting) || (first.Interest == nil) != (again.Interest == nil) {
			t.Errorf("retry of %s answered\n%+v\nthe first attempt\n%+v", s.cmd.Op, again, first)
		}
	}
}

// TestWorkflowSnapshot checks that the workflow's tables survive a
// snapshot, and that a site restored from it goes on as the others.
func TestWorkflowSnapshot(t *testing.T) {
	f := newFlowFixture(t)
	id, lost := f.leadIn(Approved), f.flowLeadIn(Lost)
	f.ok("hq", Command{Op: OpSetDefaultClaimMode, ClaimMode: ClaimAssigned})
	f.ok("yrd", Command{Op: OpExpressInterest, LeadID: id, Interest: &InterestDraft{Rationale: "Suzhou", Enterprise: "苏州生物"}})
	f.ok("bos", Command{Op: OpComment, LeadID: id, Comment: "Partner visits in May", Visibility: Shared})
	snap := snapshotBytes(t, f.st)
	for _, table := range []string{tableInterests, tableComments, tableSettings} {
		if !bytes.Contains(snapshotJSON(t, f.st), []byte(`"table":"`+table+`"`)) {
			t.Errorf("the snapshot has no rows of %s", table)
		}
	}
	g := restored(t, snap)
	if got := snapshotBytes(t, g); !bytes.Equal(got, snap) {
		t.Fatalf("a restored state snapshots differently:\ngot  %s\nwant %s", got, snap)
	}
	if mode, _ := g.DefaultClaimMode(); mode != ClaimAssigned {
		t.Errorf("restored default claim mode %s", mode)
	}
	if l, _ := g.Lead(lost); l == nil || l.Stage != Lost || l.CloseReason != TermsNotAgreed {
		t.Errorf("restored lost lead = %+v", l)
	}
	// The same command on both ends the same.
	data := f.encode("hq", Command{Op: OpAssign, LeadID: id, Division: "YRD"})
	f.index++
	a, b := f.st.Apply(f.index, data), g.Apply(f.index, data)
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("after restore: %v, the original %v", b, a)
	}
	if !bytes.Equal(snapshotBytes(t, f.st), snapshotBytes(t, g)) {
		t.Errorf("after restore the states differ")
	}
}

func TestValidateWorkflow(t *testing.T) {
	const id = "BOS-0001"
	cmd := func(op Op, change func(c *Command)) Command {
		c := Command{Op: op, RequestID: "r1", LeadID: id}
		change(&c)
		return c
	}
	tests := []struct {
		name  string
		cmd   Command
		field string
	}{
		{"close without reason", cmd(OpClose, func(c *Command) {}), "reason"},
		{"close reason 7", cmd(OpClose, func(c *Command) { c.CloseReason = 7 }), "reason"},
		{"close OTHER without comment", cmd(OpClose, func(c *Command) { c.CloseReason = OtherReason }), "comment"},
		{"close HQ_AND_SITE", cmd(OpClose, func(c *Command) { c.CloseReason = Duplicate; c.Visibility = HQAndSite }), "visibility"},
		{"close lead ID", cmd(OpClose, func(c *Command) { c.CloseReason = Duplicate; c.LeadID = "bos-1" }), "id"},
		{"reopen to CLAIMED", cmd(OpReopen, func(c *Command) { c.Stage = Claimed; c.Comment = "x" }), "stage"},
		{"reopen without comment", cmd(OpReopen, func(c *Command) { c.Stage = Submitted }), "comment"},
		{"interest without rationale", cmd(OpExpressInterest, func(c *Command) {}), "rationale"},
		{"interest blank rationale", cmd(OpExpressInterest, func(c *Command) { c.Interest = &InterestDraft{Rationale: " "} }), "rationale"},
		{"interest enterprise on two lines", cmd(OpExpressInterest, func(c *Command) {
			c.Interest = &InterestDraft{Rationale: "why", Enterprise: "a\nb"}
		}), "enterprise"},
		{"interest rationale too long", cmd(OpExpressInterest, func(c *Command) {
			c.Interest = &InterestDraft{Rationale: strings.Repeat("长", MaxRationale+1)}
		}), "rationale"},
		{"assign nobody", cmd(OpAssign, func(c *Command) {}), "division"},
		{"assign a site", cmd(OpAssign, func(c *Command) { c.Division = "MUC" }), "division"},
		{"claim mode 0", cmd(OpSetClaimMode, func(c *Command) {}), "claim_mode"},
		{"default claim mode 3", Command{Op: OpSetDefaultClaimMode, RequestID: "r1", ClaimMode: 3}, "claim_mode"},
		{"comment without body", cmd(OpComment, func(c *Command) { c.Visibility = Shared }), "body"},
		{"comment without visibility", cmd(OpComment, func(c *Command) { c.Comment = "hi" }), "visibility"},
		{"comment visibility 9", cmd(OpComment, func(c *Command) { c.Comment = "hi"; c.Visibility = 9 }), "visibility"},
		{"shared comment for a division", cmd(OpComment, func(c *Command) { c.Comment = "hi"; c.Visibility = Shared; c.Division = "YRD" }), "division"},
		{"division comment for a site", cmd(OpComment, func(c *Command) { c.Comment = "hi"; c.Visibility = DivisionOnly; c.Division = "BOS" }), "division"},
		{"advance HQ_AND_SITE", cmd(OpAdvance, func(c *Command) { c.Stage = Signed; c.Visibility = HQAndSite }), "visibility"},
		{"return with a claim mode", cmd(OpReview, func(c *Command) { c.Decision = Return; c.Comment = "x"; c.ClaimMode = ClaimOpen }), "claim_mode"},
		{"approve with claim mode 5", cmd(OpReview, func(c *Command) { c.Decision = Approve; c.ClaimMode = 5 }), "claim_mode"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantInvalid(t, tt.cmd.Validate(), tt.field)
		})
	}
}
