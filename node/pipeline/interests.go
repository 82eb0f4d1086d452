package pipeline

import (
	"fmt"
	"time"
)

// Interest is a division's expression of interest in a lead: one per
// division and lead, revised in place, kept (withdrawn or not) after the
// lead moves on. Its history is the lead's: each expression, revision and
// withdrawal is an event of the lead, with the rationale and enterprise
// as private changes.
type Interest struct {
	Key        string `json:"key"` // LeadID + "/" + Division
	LeadID     string `json:"leadId"`
	Division   string `json:"division"`
	Rationale  string `json:"rationale"`
	Enterprise string `json:"enterprise,omitempty"`
	// UserID and UserName are who expressed or last revised it.
	UserID   string    `json:"userId"`
	UserName string    `json:"userName"`
	Created  time.Time `json:"created"`
	Updated  time.Time `json:"updated"`
	// Withdrawn is when the division withdrew it (nil while it stands).
	Withdrawn   *time.Time `json:"withdrawn,omitempty"`
	WithdrawnBy string     `json:"withdrawnBy,omitempty"`
}

func (i *Interest) clone() *Interest {
	c := *i
	if i.Withdrawn != nil {
		t := *i.Withdrawn
		c.Withdrawn = &t
	}
	return &c
}

// InterestOutcome is what became of an expression of interest.
type InterestOutcome int

const (
	OutcomeUnspecified InterestOutcome = iota
	// OutcomePending: the lead is APPROVED and held by no division.
	OutcomePending
	// OutcomeChosen: the division holds (or held, to its end) the lead.
	OutcomeChosen
	// OutcomeNotChosen: another division holds (or held) the lead.
	OutcomeNotChosen
	// OutcomeWithdrawn: the division withdrew its interest.
	OutcomeWithdrawn
	// OutcomeLeadClosed: the lead left APPROVED held by no division
	// (withdrawn by its site, or reopened for review).
	OutcomeLeadClosed
)

var outcomeNames = [...]string{"OUTCOME_UNSPECIFIED", "PENDING", "CHOSEN", "NOT_CHOSEN", "WITHDRAWN", "LEAD_CLOSED"}

func (o InterestOutcome) String() string { return enumName(outcomeNames[:], int(o)) }

// Outcome is what became of interest i in lead l, as l stands now.
func (i *Interest) Outcome(l *Lead) InterestOutcome {
	switch {
	case i.Withdrawn != nil:
		return OutcomeWithdrawn
	case l.Division == i.Division:
		return OutcomeChosen
	case l.Division != "":
		return OutcomeNotChosen
	case l.Stage == Approved:
		return OutcomePending
	}
	return OutcomeLeadClosed
}

func interestKey(lead, division string) string { return lead + "/" + division }

func (a *applier) interest(lead, division string) (*Interest, *Error) {
	raw, err := a.txn.First(tableInterests, "id", interestKey(lead, division))
	if err != nil {
		return nil, errorf(CodeInternal, "read interest: %v", err)
	}
	if raw == nil {
		return nil, nil
	}
	return raw.(*Interest), nil
}

func interestStageError(l *Lead, verb string) *Error {
	return errorf(CodePrecondition, "lead %s is in stage %s; divisions %s interest only while a lead is APPROVED", l.ID, l.Stage, verb)
}

// expressInterest records or revises the actor's division's interest in
// l (an APPROVED lead, in either claim mode).
func (a *applier) expressInterest(l *Lead) (string, *Error) {
	if l.Stage != Approved {
		return "", interestStageError(l, "express")
	}
	div := a.actor.Division
	cur, err := a.interest(l.ID, div)
	if err != nil {
		return "", err
	}
	next := &Interest{Key: interestKey(l.ID, div), LeadID: l.ID, Division: div, Created: a.now}
	old := &Interest{}
	if cur != nil && cur.Withdrawn == nil {
		old, next.Created = cur, cur.Created
	}
	next.Rationale, next.Enterprise = a.cmd.Interest.Rationale, a.cmd.Interest.Enterprise
	next.UserID, next.UserName, next.Updated = a.actor.ID, a.actor.Name, a.now
	a.changes = interestChanges(old, next)
	a.outInterest = next
	return "EXPRESS_INTEREST", a.insert(tableInterests, next)
}

// withdrawInterest withdraws the actor's division's standing interest in
// l, an APPROVED lead.
func (a *applier) withdrawInterest(l *Lead) (string, *Error) {
	if l.Stage != Approved {
		return "", interestStageError(l, "withdraw")
	}
	cur, err := a.interest(l.ID, a.actor.Division)
	if err != nil {
		return "", err
	}
	if cur == nil || cur.Withdrawn != nil {
		return "", errorf(CodePrecondition, "division %s has no standing expression of interest in lead %s to withdraw", a.actor.Division, l.ID)
	}
	next := cur.clone()
	now := a.now
	next.Withdrawn, next.WithdrawnBy = &now, a.actor.ID
	a.changes = interestChanges(cur, &Interest{})
	a.outInterest = next
	return "WITHDRAW_INTEREST", a.insert(tableInterests, next)
}

// interestChanges lists what changed of a division's interest, as private
// changes.
func interestChanges(before, after *Interest) []Change {
	var out []Change
	for _, f := range []struct{ name, old, new string }{
		{"interest.rationale", before.Rationale, after.Rationale},
		{"interest.enterprise", before.Enterprise, after.Enterprise},
	} {
		if f.old != f.new {
			out = append(out, Change{Field: f.name, Old: f.old, New: f.new, Private: true})
		}
	}
	return out
}

// Interests returns the expressions of interest in lead id, by division.
func (s *State) Interests(id string) ([]Interest, error) {
	txn := s.read()
	if _, err := getLead(txn, id); err != nil {
		return nil, err
	}
	it, err := txn.Get(tableInterests, "id_prefix", id+"/")
	if err != nil {
		return nil, fmt.Errorf("read interests in %s: %w", id, err)
	}
	var out []Interest
	for raw := it.Next(); raw != nil; raw = it.Next() {
		out = append(out, *raw.(*Interest).clone())
	}
	return out, nil
}
