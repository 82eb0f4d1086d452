package pipeline

import (
	"strconv"
	"strings"
)

// From log format 2 every history event records the fields its command
// changed, old and new value, computed generically: the lead as stored
// before the command against the lead it stores (leadFields), plus what
// the command changed beside the lead (an expression of interest), which
// its rule adds. A feature that adds a field to the lead adds a row to
// leadFields and its events show the change.
//
// Values are text as the API shows them: enums by name, lists joined. The
// stage comment is not among the fields: it is the event's own comment,
// with the event's visibility. A change marked Private (what a division
// said in its expression of interest) is shown only to the event's
// audience, as its comment is.

// Change is one field an event changed.
type Change struct {
	// Field is the field's name in the API's JSON (lowerCamelCase);
	// fields beside the lead are qualified ("interest.rationale").
	Field string `json:"field"`
	Old   string `json:"old,omitempty"`
	New   string `json:"new,omitempty"`
	// Private changes are shown only to those who may read the event's
	// comment.
	Private bool `json:"private,omitempty"`
}

// leadField is a field of a lead the history follows.
type leadField struct {
	name  string
	value func(*Lead) string
}

// leadFields are the fields of a lead an event may change, in the order
// changes are listed.
var leadFields = []leadField{
	{"stage", func(l *Lead) string { return enumText(stageNames[:], int(l.Stage)) }},
	{"title", func(l *Lead) string { return l.Title }},
	{"summary", func(l *Lead) string { return l.Summary }},
	{"organization", func(l *Lead) string { return l.Organization }},
	{"organizationId", func(l *Lead) string { return l.OrganizationID }},
	{"website", func(l *Lead) string { return l.Website }},
	{"subnode", func(l *Lead) string { return l.Subnode }},
	{"country", func(l *Lead) string { return l.Country }},
	{"sector", func(l *Lead) string { return enumText(sectorNames[:], int(l.Sector)) }},
	{"trl", func(l *Lead) string {
		if l.TRL == 0 {
			return ""
		}
		return strconv.Itoa(l.TRL)
	}},
	{"dealType", func(l *Lead) string { return enumText(dealTypeNames[:], int(l.DealType)) }},
	{"tags", func(l *Lead) string { return strings.Join(l.Tags, ", ") }},
	{"contacts", func(l *Lead) string {
		parts := make([]string, len(l.Contacts))
		for i, c := range l.Contacts {
			parts[i] = strings.TrimSpace(c.Name + emailText(c.Email) + " " + c.Phone)
		}
		return strings.Join(parts, "; ")
	}},
	{"language", func(l *Lead) string { return l.Language }},
	{"division", func(l *Lead) string { return l.Division }},
	{"claimMode", func(l *Lead) string { return enumText(claimModeNames[:], int(l.ClaimMode)) }},
	{"closeReason", func(l *Lead) string { return enumText(closeReasonNames[:], int(l.CloseReason)) }},
	{"mergedInto", func(l *Lead) string { return l.MergedInto }},
	{"mergedFrom", func(l *Lead) string { return strings.Join(l.MergedFrom, ", ") }},
}

// enumText names an enum value; the zero value (unset) is empty.
func enumText(names []string, v int) string {
	if v == 0 {
		return ""
	}
	return enumName(names, v)
}

func emailText(e string) string {
	if e == "" {
		return ""
	}
	return " <" + e + ">"
}

// diffLead lists the fields that differ between before (nil for a new
// lead) and after.
func diffLead(before, after *Lead) []Change {
	if before == nil {
		before = &Lead{}
	}
	var out []Change
	for _, f := range leadFields {
		if o, n := f.value(before), f.value(after); o != n {
			out = append(out, Change{Field: f.name, Old: o, New: n})
		}
	}
	return out
}

// annotate records on event e (of lead l, about to be stored) who may
// read it and what it changed, and on l who may read the stage comment
// the event set. From log format 2 only: format 1 records neither.
func (a *applier) annotate(e *Event, l *Lead) *Error {
	before, err := leadByID(a.txn, l.ID)
	if err != nil {
		return errorf(CodeInternal, "read lead %s: %v", l.ID, err)
	}
	e.Visibility, e.VisibleTo = a.audience(e.Action, before, l)
	if setsStageComment(e.Action) {
		l.StageVisibility = e.Visibility
	}
	e.Changes = append(diffLead(before, l), a.changes...)
	return nil
}

// audience is who may read the comment and private changes of the event
// of action: a division's notes (advance, close, its interest) are that
// division's and HQ's, unless it shares them; the notes of a review and
// of the site's edits are HQ's and the site's; the rest is shared.
func (a *applier) audience(action string, before, l *Lead) (Visibility, string) {
	switch action {
	case "SUBMIT", "UPDATE", "RESUBMIT", "RETURN", "DECLINE", "MERGE", "MERGE_IN":
		return HQAndSite, ""
	case "ADVANCE", "CLOSE":
		if a.cmd.Visibility == Shared {
			return Shared, ""
		}
		div := l.Division
		if before != nil && before.Division != "" {
			div = before.Division
		}
		return DivisionOnly, div
	case "EXPRESS_INTEREST", "WITHDRAW_INTEREST":
		return DivisionOnly, a.actor.Division
	}
	return Shared, ""
}
