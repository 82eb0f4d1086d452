package pipeline

// This file holds the rules of the pipeline: who may move a lead, and from
// which stage to which.
//
//	from                        to                    by
//	(new)                       SUBMITTED             node staff of the submitting site
//	SUBMITTED                   APPROVED              HQ reviewer (publishes to divisions)
//	SUBMITTED                   RETURNED              HQ reviewer, comment required
//	RETURNED                    SUBMITTED             node staff of the site (edit = resubmit)
//	SUBMITTED                   DECLINED              HQ reviewer, reason required; final but for reopen
//	APPROVED                    CLAIMED               a division, for itself; one wins
//	CLAIMED                     APPROVED              the claiming division or HQ (release)
//	CLAIMED→NEGOTIATING→SIGNED→LANDED                 the claiming division; LANDED is final
//	SUBMITTED,RETURNED,APPROVED WITHDRAWN             node staff of the site; final
//	CLAIMED,NEGOTIATING,SIGNED  (same stage): DEAL    the claiming division records deal terms (deal.go)
//
// Node staff of a site act for its sub-nodes' leads too; staff of a
// sub-node for their sub-node's leads only (sites.go). Releasing a lead
// drops its deal terms.
//
// and from log format 2 the workflow (workflow.go):
//
//	from                        to                    by
//	APPROVED                    CLAIMED               not by a claim while the lead's claim mode is ASSIGNED
//	APPROVED                    CLAIMED               HQ, for the division it names (assign); one wins,
//	                                                  as of claims
//	CLAIMED,NEGOTIATING,SIGNED  LOST                  the holding division or HQ, with a reason (close);
//	                                                  a comment required for OTHER
//	DECLINED,LOST               SUBMITTED             HQ, comment required (reopen): held by no division
//	DECLINED,LOST               APPROVED              HQ, comment required (reopen): published, held by no
//	                                                  division
//	APPROVED                    APPROVED              a division expresses, revises or withdraws its
//	                                                  interest
//	SUBMITTED,RETURNED,APPROVED (same)                HQ sets the claim mode (an APPROVE may name one too)
//
// Checks run in a fixed order so every caller gets the same answer:
// the actor's right to act on this lead (PERMISSION_DENIED), then the
// expected version (ABORTED), then the stage (FAILED_PRECONDITION, or
// ABORTED for a claim another division already won).

// rule is one kind of transition: who may attempt it, and what it does.
type rule struct {
	allowed func(u *User, l *Lead) *Error
	// apply changes next (a copy of the lead) and names the history action.
	apply func(a *applier, next *Lead) (string, *Error)
}

var rules = map[Op]rule{
	OpUpdate: {
		allowed: ownSiteStaff("edit"),
		apply: func(a *applier, l *Lead) (string, *Error) {
			if err := a.checkPatchOrg(l); err != nil && (l.Stage == Submitted || l.Stage == Returned) {
				return "", err
			}
			switch l.Stage {
			case Submitted:
				a.cmd.Patch.apply(l)
				return "UPDATE", nil
			case Returned:
				a.cmd.Patch.apply(l)
				l.Stage, l.StageComment = Submitted, a.cmd.Comment
				return "RESUBMIT", nil
			}
			return "", stageError(l, "edited", Submitted, Returned)
		},
	},
	OpReview: {
		allowed: role(HQReviewer, "review leads"),
		apply: func(a *applier, l *Lead) (string, *Error) {
			if l.Stage != Submitted {
				return "", stageError(l, "reviewed", Submitted)
			}
			l.StageComment = a.cmd.Comment
			switch a.cmd.Decision {
			case Approve:
				l.Stage, l.Published = Approved, true
				if a.format >= Format2 {
					l.ClaimMode = a.approvedClaimMode(l)
				}
			case Return:
				l.Stage = Returned
			case Decline:
				l.Stage = Declined
			}
			return a.cmd.Decision.String(), nil
		},
	},
	OpClaim: {
		allowed: role(DivisionRole, "claim leads"),
		apply: func(a *applier, l *Lead) (string, *Error) {
			switch l.Stage {
			case Approved:
				if l.ClaimMode == ClaimAssigned {
					return "", assignedOnly(l)
				}
				l.Stage, l.Division, l.StageComment = Claimed, a.actor.Division, a.cmd.Comment
				return "CLAIM", nil
			case Claimed, Negotiating, Signed, Landed:
				if l.Division == a.actor.Division {
					return "", errorf(CodePrecondition, "lead %s is in stage %s, already claimed by your division %s", l.ID, l.Stage, l.Division)
				}
				return "", errorf(CodeConflict, "claim lost: lead %s is already claimed by %s", l.ID, l.Division)
			}
			return "", stageError(l, "claimed", Approved)
		},
	},
	OpRelease: {
		allowed: func(u *User, l *Lead) *Error {
			if u.Role == HQReviewer || u.Role == DivisionRole && l.Division == u.Division {
				return nil
			}
			if u.Role == DivisionRole {
				return errorf(CodePermission, "lead %s is not claimed by %s; only the claiming division or HQ may release it", l.ID, u.Division)
			}
			return errorf(CodePermission, "only the claiming division or HQ may release a lead; caller is %s", u.Role)
		},
		apply: func(a *applier, l *Lead) (string, *Error) {
			if l.Stage != Claimed {
				return "", stageError(l, "released", Claimed)
			}
			l.Stage, l.Division, l.StageComment = Approved, "", a.cmd.Comment
			l.Deal = nil // the terms belong to the claim
			return "RELEASE", nil
		},
	},
	OpAdvance: {
		allowed: func(u *User, l *Lead) *Error {
			if u.Role != DivisionRole {
				return errorf(CodePermission, "only the claiming division may advance a lead; caller is %s", u.Role)
			}
			if l.Division != u.Division {
				return errorf(CodePermission, "lead %s is not claimed by %s", l.ID, u.Division)
			}
			return nil
		},
		apply: func(a *applier, l *Lead) (string, *Error) {
			from := map[Stage]Stage{Negotiating: Claimed, Signed: Negotiating, Landed: Signed}[a.cmd.Stage]
			if l.Stage != from {
				return "", errorf(CodePrecondition, "lead %s is in stage %s; it can move to %s only from %s", l.ID, l.Stage, a.cmd.Stage, from)
			}
			l.Stage, l.StageComment = a.cmd.Stage, a.cmd.Comment
			return "ADVANCE", nil
		},
	},
	OpWithdraw: {
		allowed: ownSiteStaff("withdraw"),
		apply: func(a *applier, l *Lead) (string, *Error) {
			switch l.Stage {
			case Submitted, Returned, Approved:
				l.Stage, l.StageComment = Withdrawn, a.cmd.Comment
				return "WITHDRAW", nil
			}
			return "", stageError(l, "withdrawn", Submitted, Returned, Approved)
		},
	},
}

func role(r Role, what string) func(*User, *Lead) *Error {
	return func(u *User, _ *Lead) *Error {
		if u.Role != r {
			return errorf(CodePermission, "only %s may %s; caller is %s", r, what, u.Role)
		}
		return nil
	}
}

func ownSiteStaff(verb string) func(*User, *Lead) *Error {
	return func(u *User, l *Lead) *Error {
		if u.Role != NodeStaff {
			return errorf(CodePermission, "only node staff of %s may %s lead %s; caller is %s", l.SourceNode(), verb, l.ID, u.Role)
		}
		if !u.StaffOf(l) {
			return errorf(CodePermission, "lead %s belongs to site %s; staff of %s may not %s it", l.ID, l.SourceNode(), u.Site, verb)
		}
		return nil
	}
}

func stageError(l *Lead, verb string, from ...Stage) *Error {
	names := ""
	for i, s := range from {
		switch {
		case i == 0:
		case i == len(from)-1:
			names += " or "
		default:
			names += ", "
		}
		names += s.String()
	}
	return errorf(CodePrecondition, "lead %s is in stage %s; only %s leads can be %s", l.ID, l.Stage, names, verb)
}
