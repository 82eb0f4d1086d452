package node

import (
	"fmt"
	"sync"
	"time"

	"innonet/node/calendar"
	"innonet/node/pipeline"
	innonetpb "innonet/proto/innonet/v1"
)

// This file computes the stage deadlines (SLAs) of leads, outside Apply:
// the limits HQ set (pipeline.SLA) in working days on the calendar of
// whoever must act (package node/calendar, with HQ's replicated year
// tables), as of the clock of the site that answers.
//
//	stage        who must act            calendar
//	SUBMITTED    HQ (review)             CN
//	RETURNED     the submitting node     its country's (BOS US, CBG GB, MUC DE-BY, TLV IL)
//	APPROVED     the divisions (claim)   CN
//	CLAIMED,
//	NEGOTIATING,
//	SIGNED       the division holding it CN
//
// A stage's clock starts when the lead entered it (its stage time).

// siteCalendars are the calendars of the overseas nodes; a node not
// listed (and HQ's own sites) works on China's.
var siteCalendars = map[string]string{"BOS": calendar.US, "CBG": calendar.GB, "MUC": calendar.DEBY, "TLV": calendar.IL}

type slas struct {
	state *pipeline.State

	mu  sync.Mutex
	key string // the calendar tables' versions the set was built from
	set *calendar.Set
}

func newSLAs(state *pipeline.State) *slas { return &slas{state: state} }

// calendars returns the calendar set of HQ's tables as the state holds
// them now.
func (s *slas) calendars() (*calendar.Set, error) {
	tables, key, err := s.state.CalendarTables()
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.set != nil && s.key == key {
		return s.set, nil
	}
	ys := make([]calendar.YearTable, len(tables))
	for i, t := range tables {
		ys[i] = t.YearTable
	}
	set, err := calendar.New(ys)
	if err != nil {
		return nil, fmt.Errorf("calendar tables: %w", err)
	}
	s.set, s.key = set, key
	return set, nil
}

// mustAct is who must act on a lead in its stage, and on which calendar.
func mustAct(l *pipeline.Lead) (who, cal string) {
	switch l.Stage {
	case pipeline.Submitted:
		return pipeline.HQSite, calendar.CN
	case pipeline.Returned:
		site := pipeline.FirstLevelSite(l.Site)
		if c, ok := siteCalendars[site]; ok {
			return site, c
		}
		return site, calendar.CN
	case pipeline.Approved:
		return "DIVISIONS", calendar.CN
	case pipeline.Claimed, pipeline.Negotiating, pipeline.Signed:
		return l.Division, calendar.CN
	}
	return "", ""
}

// slaView is the limits and calendars in force, read once for the leads
// of an answer.
type slaView struct {
	limits pipeline.SLA
	set    *calendar.Set
}

// view reads the limits and calendars in force; nil if they cannot be
// read (the leads then show no deadline).
func (s *slas) view() *slaView {
	set, err := s.calendars()
	if err != nil {
		return nil
	}
	limits, _ := s.state.SLA()
	return &slaView{limits: limits, set: set}
}

// status is l's deadline as of now; nil for a stage without a limit.
func (v *slaView) status(l *pipeline.Lead, now time.Time) *innonetpb.SlaStatus {
	if v == nil {
		return nil
	}
	who, code := mustAct(l)
	if who == "" || l.StageTime.IsZero() {
		return nil
	}
	limit := v.limits.Limits[l.Stage.String()]
	if limit == 0 {
		return nil
	}
	cal, err := v.set.Calendar(code)
	if err != nil {
		return nil
	}
	due := cal.AddWorkdays(l.StageTime, limit)
	out := &innonetpb.SlaStatus{State: innonetpb.SlaStatus_ON_TIME, DueTime: ts(due), MustAct: who, Calendar: code,
		LimitDays: int32(limit), ElapsedDays: int32(cal.WorkdaysBetween(l.StageTime, now)),
		Unconfirmed: !cal.ConfirmedBetween(l.StageTime, due)}
	switch {
	case !now.Before(due):
		out.State = innonetpb.SlaStatus_OVER
	case v.limits.Near > 0 && !now.Before(cal.AddWorkdays(l.StageTime, max(limit-v.limits.Near, 0))):
		out.State = innonetpb.SlaStatus_NEAR
	}
	return out
}
