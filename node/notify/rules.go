package notify

import (
	"cmp"
	"slices"
	"strings"
)

// Recipients returns the notifications of e: one for each user the event
// concerns who wants its kind, never the actor, in order of user ID. A
// user concerned in two ways gets one notification, of the first kind
// the rules give them (a matching division's user gets PUBLISHED_MATCH,
// not PUBLISHED).
//
// Recipients does not decide who may read the comment: the caller has
// filtered e.Comment and, for a COMMENT, set e.Audience.
func Recipients(e Event, users []Recipient) []Notification {
	rules := rulesFor(e)
	if len(rules) == 0 {
		return nil
	}
	sorted := slices.Clone(users)
	slices.SortStableFunc(sorted, func(a, b Recipient) int { return cmp.Compare(a.UserID, b.UserID) })
	var out []Notification
	for i, u := range sorted {
		if u.UserID == "" || u.UserID == e.ActorID || i > 0 && sorted[i-1].UserID == u.UserID {
			continue
		}
		for _, r := range rules {
			if r.who(u, e) {
				if u.Wants(r.kind) {
					out = append(out, Notification{UserID: u.UserID, Kind: r.kind, Event: e})
				}
				break
			}
		}
	}
	return out
}

// EventKind is the kind an event is, for a webhook, which hears of every
// event of the kinds it asks for; false if the event is of no kind
// (UPDATE, ADD_ATTACHMENT).
func EventKind(e Event) (Kind, bool) {
	if e.SLA != nil {
		return SLA, true
	}
	switch e.Action {
	case ActionSubmit:
		return Submitted, true
	case ActionResubmit:
		return Answered, true
	case ActionApprove:
		return Published, true
	case ActionReturn:
		return Returned, true
	case ActionDecline:
		return Declined, true
	case ActionClaim:
		return Claimed, true
	case ActionAssign:
		return Assigned, true
	case ActionRelease, ActionAdvance, ActionWithdraw, ActionClose, ActionReopen:
		return StageChanged, true
	case ActionExpressInterest, ActionWithdrawInterest:
		return Interest, true
	case ActionComment:
		return Comment, true
	case ActionMerge, ActionMergeIn:
		return Merged, true
	}
	return "", false
}

// rule gives kind to the users who match.
type rule struct {
	who  func(Recipient, Event) bool
	kind Kind
}

// rulesFor is who an event concerns, most specific first.
func rulesFor(e Event) []rule {
	if e.SLA != nil {
		return []rule{{mustAct, SLA}}
	}
	switch e.Action {
	case ActionSubmit:
		return []rule{{hq, Submitted}}
	case ActionResubmit:
		return []rule{{hq, Answered}}
	case ActionApprove:
		return []rule{{matchDivision, PublishedMatch}, {anyDivision, Published}, {staff, StageChanged}}
	case ActionReturn:
		return []rule{{staff, Returned}}
	case ActionDecline:
		return []rule{{staff, Declined}}
	case ActionClaim:
		return []rule{{staff, Claimed}, {hq, Claimed}, {leadDivision, Claimed}}
	case ActionAssign:
		return []rule{{leadDivision, Assigned}, {staff, Claimed}, {hq, Claimed}}
	case ActionAdvance:
		// HQ hears of the deal once it is signed, not of every step.
		if e.To == "SIGNED" || e.To == "LANDED" {
			return []rule{{staff, StageChanged}, {hq, StageChanged}, {leadDivision, StageChanged}}
		}
		return []rule{{staff, StageChanged}, {leadDivision, StageChanged}}
	case ActionRelease, ActionReopen:
		// Released or reopened to APPROVED, the lead is open to the
		// divisions again: they hear of it as of a publication.
		if e.To == "APPROVED" {
			return []rule{{staff, StageChanged}, {hq, StageChanged}, {leadDivision, StageChanged},
				{matchDivision, PublishedMatch}, {anyDivision, Published}}
		}
		return []rule{{staff, StageChanged}, {hq, StageChanged}, {leadDivision, StageChanged}}
	case ActionWithdraw, ActionClose:
		return []rule{{staff, StageChanged}, {hq, StageChanged}, {leadDivision, StageChanged}}
	case ActionExpressInterest, ActionWithdrawInterest:
		return []rule{{hq, Interest}}
	case ActionComment:
		return []rule{{inAudience, Comment}}
	case ActionMerge, ActionMergeIn:
		return []rule{{staff, Merged}, {leadDivision, Merged}, {hq, Merged}}
	}
	return nil
}

func hq(u Recipient, _ Event) bool {
	return u.Role == RoleHQReviewer || u.Role == RoleAdmin
}

// staff reports whether u works for the node the lead came from, or a
// site above it (staff of MUC act for MUC-TUM's leads), or submitted it.
func staff(u Recipient, e Event) bool {
	if e.SubmittedBy != "" && u.UserID == e.SubmittedBy {
		return true
	}
	if u.Role != RoleNodeStaff || u.Site == "" {
		return false
	}
	return u.Site == e.Site || e.Subnode != "" && under(e.Subnode, u.Site)
}

func anyDivision(u Recipient, _ Event) bool { return u.Role == RoleDivision }

func leadDivision(u Recipient, e Event) bool {
	return u.Role == RoleDivision && e.Division != "" && u.Division == e.Division
}

func matchDivision(u Recipient, e Event) bool {
	return u.Role == RoleDivision && u.Division != "" && slices.Contains(e.MatchDivisions, u.Division)
}

func inAudience(u Recipient, e Event) bool {
	return slices.ContainsFunc(e.Audience, func(p string) bool { return inParty(u, p) })
}

func mustAct(u Recipient, e Event) bool {
	p := e.SLA.MustAct
	if p != "" && p == e.Site {
		// The lead's node must act: its sub-node's staff too.
		return staff(u, e)
	}
	return inParty(u, p)
}

// inParty reports whether u belongs to party p: HQ, DIVISIONS, a
// division, or a site or sub-node (whose staff include those of the
// sites above it).
func inParty(u Recipient, p string) bool {
	switch {
	case p == "":
		return false
	case p == PartyHQ:
		return u.Role == RoleHQReviewer || u.Role == RoleAdmin
	case p == PartyDivisions:
		return u.Role == RoleDivision
	case u.Role == RoleDivision:
		return u.Division == p
	case u.Role == RoleNodeStaff:
		return u.Site != "" && under(p, u.Site)
	}
	return false
}

// under reports whether node is site or one of its sub-nodes.
func under(node, site string) bool {
	return node == site || strings.HasPrefix(node, site+"-")
}
