package pipeline

import (
	"strings"
	"time"
)

// The workflow around a lead's stages, from log format 2:
//
//   - Closing and reopening. A claimed deal that falls through (CLAIMED,
//     NEGOTIATING or SIGNED) is closed as LOST by the division that holds
//     it or by HQ, with a reason; HQ may reopen a DECLINED or LOST lead to
//     SUBMITTED (for another review) or APPROVED (published again, held
//     by no division). LANDED and WITHDRAWN stay final.
//   - Claim modes. An APPROVED lead is either OPEN (the first division to
//     claim it wins) or ASSIGNED (divisions express interest, and HQ
//     assigns it to one of them). A lead takes the cluster's default mode
//     when HQ approves it, unless the approval or HQ (set_claim_mode)
//     names one; a lead approved before format 2 is OPEN. An assignment
//     is a compare-and-set like a claim: of an assign and a claim, or two
//     assigns, racing for one lead the first in the log wins and the
//     other is told who holds it.
//   - Expressions of interest (interests.go): while a lead is APPROVED,
//     each division may say why it wants it and with which enterprise,
//     revise that, or withdraw it. They are kept after the lead moves on.
//   - Threads (thread.go): comments on a lead, each visible to SHARED
//     (everyone who may see the lead), HQ_AND_SITE (HQ and the submitting
//     site) or DIVISION (one division and HQ). The comments of history
//     events are in the thread too: a review's question and the site's
//     answer are HQ_AND_SITE, a division's advance and close notes are
//     DIVISION unless the division shares them.
//   - Field-level history (changes.go): every event records the fields
//     it changed, with their old and new values.

// ClaimMode is how divisions get an APPROVED lead.
type ClaimMode int

const (
	ClaimModeUnspecified ClaimMode = iota
	// ClaimOpen: the first division to claim the lead wins.
	ClaimOpen
	// ClaimAssigned: divisions express interest; HQ assigns the lead.
	ClaimAssigned
)

var claimModeNames = [...]string{"CLAIM_MODE_UNSPECIFIED", "OPEN", "ASSIGNED"}

func (m ClaimMode) String() string { return enumName(claimModeNames[:], int(m)) }

// Valid reports whether m is OPEN or ASSIGNED.
func (m ClaimMode) Valid() bool { return m == ClaimOpen || m == ClaimAssigned }

// Effective is the mode a lead's claim follows: unset is OPEN, as every
// lead was before claim modes.
func (m ClaimMode) Effective() ClaimMode {
	if m == ClaimAssigned {
		return ClaimAssigned
	}
	return ClaimOpen
}

// CloseReason is why a claimed deal was closed as LOST.
type CloseReason int

const (
	CloseReasonUnspecified CloseReason = iota
	PartnerWithdrew
	TermsNotAgreed
	WentToAnotherRegion
	ProjectStopped
	Duplicate
	OtherReason
)

var closeReasonNames = [...]string{"REASON_UNSPECIFIED", "PARTNER_WITHDREW", "TERMS_NOT_AGREED",
	"WENT_TO_ANOTHER_REGION", "PROJECT_STOPPED", "DUPLICATE", "OTHER"}

func (r CloseReason) String() string { return enumName(closeReasonNames[:], int(r)) }

// Visibility is who may read a comment, and an event's comment and
// private changes.
type Visibility int

const (
	VisibilityUnspecified Visibility = iota
	// Shared: everyone who may see the lead.
	Shared
	// HQAndSite: HQ and the node staff who may see the lead (its site):
	// the questions and answers of a review.
	HQAndSite
	// DivisionOnly: one division and HQ: a division's negotiation notes.
	DivisionOnly
)

var visibilityNames = [...]string{"VISIBILITY_UNSPECIFIED", "SHARED", "HQ_AND_SITE", "DIVISION"}

func (v Visibility) String() string { return enumName(visibilityNames[:], int(v)) }

// CanRead reports whether u may read what lead l holds for the audience
// v (and, for DIVISION, division): admins and HQ read everything of the
// leads they see, node staff what is SHARED or HQ_AND_SITE, a division
// what is SHARED or DIVISION for itself. A zero visibility is SHARED.
func (u *User) CanRead(l *Lead, v Visibility, division string) bool {
	if !u.CanSee(l) {
		return false
	}
	switch v {
	case HQAndSite:
		return u.Role == Admin || u.Role == HQReviewer || u.Role == NodeStaff
	case DivisionOnly:
		return u.Role == Admin || u.Role == HQReviewer || u.Role == DivisionRole && u.Division == division
	}
	return true
}

// Audience is who may read the event's comment and private changes. An
// event of log format 1 recorded none; it reads as the event would be
// recorded today: the notes of a review, an edit and a resubmission are
// HQ_AND_SITE, a division's advance notes DIVISION, the rest SHARED.
func (e *Event) Audience() (Visibility, string) {
	if e.Visibility != VisibilityUnspecified {
		return e.Visibility, e.VisibleTo
	}
	switch e.Action {
	case "SUBMIT", "UPDATE", "RESUBMIT", "RETURN", "DECLINE":
		return HQAndSite, ""
	case "ADVANCE":
		return DivisionOnly, e.UserSite
	}
	return Shared, ""
}

// StageAudience is who may read the lead's stage comment. A lead whose
// comment was set at log format 1 recorded none; it reads by the stage
// the comment came with, as [Event.Audience] does.
func (l *Lead) StageAudience() (Visibility, string) {
	v := l.StageVisibility
	if v == VisibilityUnspecified {
		switch l.Stage {
		case Submitted, Returned, Declined:
			v = HQAndSite
		case Negotiating, Signed, Landed:
			v = DivisionOnly
		default:
			v = Shared
		}
	}
	if v == DivisionOnly {
		return v, l.Division
	}
	return v, ""
}

// setsStageComment reports whether the event of action replaces the
// lead's stage comment with its own comment. An edit in SUBMITTED keeps
// the comment, and so do the actions that do not move the lead.
func setsStageComment(action string) bool {
	switch action {
	case "RESUBMIT", "APPROVE", "RETURN", "DECLINE", "CLAIM", "RELEASE", "ADVANCE", "WITHDRAW",
		"CLOSE", "REOPEN", "ASSIGN", "MERGE":
		return true
	}
	return false
}

// Setting is a cluster-wide setting HQ changes, as the settings table
// keeps it.
type Setting struct {
	Name     string    `json:"name"`
	Value    string    `json:"value"`
	Time     time.Time `json:"time"`
	UserID   string    `json:"userId"`
	UserName string    `json:"userName"`
}

// SettingDefaultClaimMode names the cluster's default claim mode.
const SettingDefaultClaimMode = "claimMode"

// workflow reports whether c uses anything of the workflow, which is of
// log format 2.
func (c Command) workflow() bool {
	switch c.Op {
	case OpClose, OpReopen, OpExpressInterest, OpWithdrawInterest, OpAssign, OpSetClaimMode,
		OpSetDefaultClaimMode, OpComment:
		return true
	}
	return c.CloseReason != 0 || c.Division != "" || c.ClaimMode != 0 || c.Visibility != 0 || c.Interest != nil
}

// InterestDraft is what a division says when it expresses interest.
type InterestDraft struct {
	// Rationale is why the division wants the lead.
	Rationale string `json:"rationale"`
	// Enterprise is the local enterprise it would work the lead with
	// (free text for now).
	Enterprise string `json:"enterprise,omitempty"`
}

// Limits of the workflow's text.
const (
	MaxRationale  = 2000
	MaxEnterprise = 200
)

var (
	claimModeChoices   = "OPEN or ASSIGNED"
	closeReasonChoices = strings.Join(closeReasonNames[1:], ", ")
)

func checkClaimMode(field string, m ClaimMode) *Error {
	if !m.Valid() {
		return invalid(field, "must be %s, got %s", claimModeChoices, m)
	}
	return nil
}

func checkDivision(field, d string) *Error {
	if !ValidDivision(d) {
		return invalid(field, "must be one of the divisions BOHAI, YRD or PRD, got %q", truncate(d, 20))
	}
	return nil
}

// checkNoteVisibility checks the visibility of a division's note (of an
// advance or a close): unset (DIVISION), DIVISION or SHARED.
func checkNoteVisibility(v Visibility) *Error {
	switch v {
	case VisibilityUnspecified, Shared, DivisionOnly:
		return nil
	}
	return invalid("visibility", "a division's note is DIVISION (the default: that division and HQ) or SHARED (everyone who may see the lead), got %s", v)
}

func (c Command) checkReviewClaimMode() *Error {
	if c.ClaimMode == ClaimModeUnspecified {
		return nil
	}
	if c.Decision != Approve {
		return invalid("claim_mode", "only an APPROVE decision sets the claim mode, not %s", c.Decision)
	}
	return checkClaimMode("claim_mode", c.ClaimMode)
}

func (c Command) validateWorkflow() *Error {
	if c.Op != OpSetDefaultClaimMode {
		if err := checkLeadID(c.LeadID); err != nil {
			return err
		}
	}
	switch c.Op {
	case OpClose:
		if c.CloseReason <= CloseReasonUnspecified || c.CloseReason > OtherReason {
			return invalid("reason", "must be one of %s", closeReasonChoices)
		}
		if c.CloseReason == OtherReason && strings.TrimSpace(c.Comment) == "" {
			return invalid("comment", "is required when the reason is OTHER: say why the deal fell through")
		}
		if err := checkNoteVisibility(c.Visibility); err != nil {
			return err
		}
		return checkComment("comment", c.Comment, false)
	case OpReopen:
		if c.Stage != Submitted && c.Stage != Approved {
			return invalid("stage", "a lead is reopened to SUBMITTED (to review it again) or APPROVED (to publish it again), got %s", c.Stage)
		}
		if strings.TrimSpace(c.Comment) == "" {
			return invalid("comment", "is required: say why the lead is reopened")
		}
		return checkComment("comment", c.Comment, true)
	case OpExpressInterest:
		if c.Interest == nil {
			return invalid("rationale", "is required: say why your division wants the lead")
		}
		if err := checkText("rationale", c.Interest.Rationale, 1, MaxRationale); err != nil {
			return err
		}
		return checkLine("enterprise", c.Interest.Enterprise, 0, MaxEnterprise)
	case OpWithdrawInterest:
		return nil
	case OpAssign:
		if err := checkDivision("division", c.Division); err != nil {
			return err
		}
		return checkComment("comment", c.Comment, false)
	case OpSetClaimMode, OpSetDefaultClaimMode:
		return checkClaimMode("claim_mode", c.ClaimMode)
	case OpComment:
		if err := checkText("body", c.Comment, 1, MaxComment); err != nil {
			return err
		}
		switch c.Visibility {
		case Shared, HQAndSite:
			if c.Division != "" {
				return invalid("division", "names the division of a DIVISION comment; this one is %s", c.Visibility)
			}
		case DivisionOnly:
			if c.Division != "" {
				return checkDivision("division", c.Division)
			}
		default:
			return invalid("visibility", "is required: SHARED (everyone who may see the lead), HQ_AND_SITE (HQ and the submitting site) or DIVISION (a division and HQ)")
		}
		return nil
	}
	return errorf(CodeInvalid, "unknown command %q", c.Op)
}

// approvedClaimMode is the claim mode a lead takes as it is approved: the
// one the command names, else the one HQ set on the lead, else the
// cluster's default.
func (a *applier) approvedClaimMode(l *Lead) ClaimMode {
	if a.cmd.ClaimMode != ClaimModeUnspecified {
		return a.cmd.ClaimMode
	}
	if l.ClaimMode != ClaimModeUnspecified {
		return l.ClaimMode
	}
	return defaultClaimMode(a.txn)
}

// defaultClaimMode is the cluster's default claim mode: OPEN until HQ
// changes it.
func defaultClaimMode(txn *tx) ClaimMode {
	if s := settingIn(txn, SettingDefaultClaimMode); s != nil && s.Value == ClaimAssigned.String() {
		return ClaimAssigned
	}
	return ClaimOpen
}

// settingIn returns the setting of that name as txn sees it, or nil.
func settingIn(txn *tx, name string) *Setting { return keyedIn[*Setting](txn, keyedSettings, name) }

// setDefaultClaimMode changes the cluster's default claim mode. HQ only.
func (a *applier) setDefaultClaimMode() (Result, *Error) {
	if a.actor.Role != HQReviewer {
		return Result{}, errorf(CodePermission, "only HQ_REVIEWER may change the default claim mode; caller is %s", a.actor.Role)
	}
	s := &Setting{Name: SettingDefaultClaimMode, Value: a.cmd.ClaimMode.String(), Time: a.now,
		UserID: a.actor.ID, UserName: a.actor.Name}
	if err := a.insert(tableSettings, s); err != nil {
		return Result{}, err
	}
	return Result{Setting: s}, nil
}

// DefaultClaimMode returns the cluster's default claim mode and the
// setting that chose it (nil while HQ never changed it: OPEN).
func (s *State) DefaultClaimMode() (ClaimMode, *Setting) {
	set := settingIn(s.read(), SettingDefaultClaimMode)
	if set == nil {
		return ClaimOpen, nil
	}
	c := *set
	if c.Value == ClaimAssigned.String() {
		return ClaimAssigned, &c
	}
	return ClaimOpen, &c
}

// workflowRules are the transitions of the workflow, added to rules.
var workflowRules = map[Op]rule{
	OpClose: {
		allowed: holderOrHQ("close"),
		apply: func(a *applier, l *Lead) (string, *Error) {
			switch l.Stage {
			case Claimed, Negotiating, Signed:
				l.Stage, l.CloseReason, l.StageComment = Lost, a.cmd.CloseReason, a.cmd.Comment
				return "CLOSE", nil
			}
			return "", stageError(l, "closed as lost", Claimed, Negotiating, Signed)
		},
	},
	OpReopen: {
		allowed: role(HQReviewer, "reopen leads"),
		apply: func(a *applier, l *Lead) (string, *Error) {
			if l.Stage != Declined && l.Stage != Lost {
				return "", stageError(l, "reopened", Declined, Lost)
			}
			l.Stage, l.Division, l.CloseReason, l.StageComment = a.cmd.Stage, "", CloseReasonUnspecified, a.cmd.Comment
			if l.Stage == Approved {
				l.Published, l.ClaimMode = true, a.approvedClaimMode(l)
			}
			return "REOPEN", nil
		},
	},
	OpAssign: {
		allowed: role(HQReviewer, "assign leads"),
		apply: func(a *applier, l *Lead) (string, *Error) {
			switch l.Stage {
			case Approved:
				l.Stage, l.Division, l.StageComment = Claimed, a.cmd.Division, a.cmd.Comment
				return "ASSIGN", nil
			case Claimed, Negotiating, Signed, Landed:
				if l.Division == a.cmd.Division {
					return "", errorf(CodePrecondition, "lead %s is in stage %s, already held by %s", l.ID, l.Stage, l.Division)
				}
				return "", errorf(CodeConflict, "assignment lost: lead %s is already claimed by %s", l.ID, l.Division)
			}
			return "", stageError(l, "assigned", Approved)
		},
	},
	OpSetClaimMode: {
		allowed: role(HQReviewer, "set a lead's claim mode"),
		apply: func(a *applier, l *Lead) (string, *Error) {
			switch l.Stage {
			case Submitted, Returned, Approved:
				l.ClaimMode = a.cmd.ClaimMode
				return "SET_CLAIM_MODE", nil
			}
			return "", stageError(l, "given a claim mode", Submitted, Returned, Approved)
		},
	},
	OpExpressInterest: {
		allowed: role(DivisionRole, "express interest in a lead"),
		apply:   (*applier).expressInterest,
	},
	OpWithdrawInterest: {
		allowed: role(DivisionRole, "withdraw an expression of interest"),
		apply:   (*applier).withdrawInterest,
	},
}

func init() {
	for op, r := range workflowRules {
		rules[op] = r
	}
}

// holderOrHQ allows the division that holds the lead and HQ.
func holderOrHQ(verb string) func(*User, *Lead) *Error {
	return func(u *User, l *Lead) *Error {
		if u.Role == HQReviewer || u.Role == DivisionRole && l.Division == u.Division {
			return nil
		}
		if u.Role == DivisionRole {
			return errorf(CodePermission, "lead %s is not held by %s; only the division holding it or HQ may %s it", l.ID, u.Division, verb)
		}
		return errorf(CodePermission, "only the division holding a lead or HQ may %s it; caller is %s", verb, u.Role)
	}
}

// assignedOnly is the refusal of a claim on a lead HQ assigns.
func assignedOnly(l *Lead) *Error {
	return errorf(CodePrecondition, "lead %s is in stage %s with claim mode ASSIGNED: HQ assigns this lead; express your division's interest instead (:express-interest)", l.ID, l.Stage)
}

// replayWorkflow brings l, as leadAt rebuilds it, through what event e of
// log format 2 changed of the workflow's fields.
func replayWorkflow(l *Lead, e *Event) {
	if setsStageComment(e.Action) {
		l.StageVisibility = e.Visibility
	}
	if e.Action == "REOPEN" && e.To == Approved {
		l.Published = true
	}
	for _, c := range e.Changes {
		switch c.Field {
		case "division":
			l.Division = c.New
		case "claimMode":
			l.ClaimMode = ClaimMode(enumValue(claimModeNames[:], c.New))
		case "closeReason":
			l.CloseReason = CloseReason(enumValue(closeReasonNames[:], c.New))
		case "mergedInto":
			l.MergedInto = c.New
		case "mergedFrom":
			l.MergedFrom = nil
			if c.New != "" {
				l.MergedFrom = strings.Split(c.New, ", ")
			}
		}
	}
}

// enumValue is the number of the name; zero for none.
func enumValue(names []string, name string) int {
	for i, n := range names {
		if n == name {
			return i
		}
	}
	return 0
}
