package console

import (
	"time"

	innonetpb "innonet/proto/innonet/v1"
)

// Every lead carries where it stands against its stage's limit
// (Lead.sla): the console shows it as a badge on the lead page, in lead
// rows and on board cards, in the reader's words.

// deadline is a lead's stage limit in the reader's words.
type deadline struct {
	S *innonetpb.SlaStatus
	// State is ON_TIME, NEAR or OVER, for the badge's class.
	State string
	// Label ("Over the limit"), Due (a date and time), Who ("HQ must
	// act"), Days ("3 of 5 working days"), Calendar ("China").
	Label, Due, Who, Days, Calendar string
	// Note says the calendar's year is not confirmed by HQ, so the
	// deadline may move.
	Note string
}

// chinaZone is where HQ and the divisions work.
var chinaZone = mustZone("Asia/Shanghai")

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		return time.FixedZone("CST", 8*3600)
	}
	return loc
}

// userLoc is the time zone a user reads deadlines in: HQ and the
// divisions work in China; node staff in the zone of the site they use.
func (s *Server) userLoc(u *innonetpb.User) *time.Location {
	if u != nil && (u.Role == innonetpb.Role_HQ_REVIEWER || u.Role == innonetpb.Role_DIVISION) {
		return chinaZone
	}
	return s.cfg.Location
}

// deadlineOf puts a lead's stage limit in words; nil where its stage has
// none (a final stage).
func deadlineOf(t *tr, st *innonetpb.SlaStatus, loc *time.Location) *deadline {
	if st == nil || st.State == innonetpb.SlaStatus_STATE_UNSPECIFIED {
		return nil
	}
	d := &deadline{S: st, State: st.State.String(), Label: t.Enum("slastate", st.State.String()),
		Who: t.T("sla.mustact", mustAct(t, st.MustAct)), Days: t.T("sla.days", st.ElapsedDays, st.LimitDays),
		Calendar: t.Enum("calendar", st.Calendar)}
	if st.Unconfirmed {
		d.Note = t.T("sla.unconfirmed", d.Calendar)
	}
	if st.DueTime != nil {
		d.Due = dueText(t, st.DueTime.AsTime(), loc)
	}
	return d
}

// mustAct names who must act on a lead: HQ, the divisions (an approved
// lead waits for a claim), a division or a site.
func mustAct(t *tr, who string) string {
	switch who {
	case "":
		return "—"
	case "HQ", "DIVISIONS":
		return t.Enum("actor", who)
	}
	if has(divisions, who) {
		return t.Enum("division", who)
	}
	if name := t.Enum("site", who); name != who {
		return name + " (" + who + ")"
	}
	return who
}

// dueText is a deadline: the end of the last working day allowed reads
// as that day ("by the end of 2 Dec 2026") where it falls at midnight in
// the reader's zone, else as a time.
func dueText(t *tr, due time.Time, loc *time.Location) string {
	if in := due.In(loc); in.Hour() == 0 && in.Minute() == 0 {
		return t.T("sla.by", t.Date(in.Add(-time.Minute), loc))
	}
	return t.T("sla.at", t.Time(due, loc))
}
