package node

import (
	"context"
	"sort"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"innonet/node/calendar"
	"innonet/node/pipeline"
	innonetpb "innonet/proto/innonet/v1"
)

// The stage limits' API (sla.go): the leads over or near their limits,
// the limits, and the calendars' year tables.

const (
	defaultSLAPage = 100
	maxSLAPage     = 500
)

func (s *reportService) ListSlaBreaches(ctx context.Context, r *innonetpb.ListSlaBreachesRequest) (*innonetpb.ListSlaBreachesResponse, error) {
	u, err := s.n.authenticate(ctx)
	if err != nil {
		return nil, err
	}
	want := map[innonetpb.SlaStatus_State]bool{}
	for _, st := range r.State {
		if st != innonetpb.SlaStatus_OVER && st != innonetpb.SlaStatus_NEAR {
			return nil, status.Errorf(codes.InvalidArgument, "state: must be OVER or NEAR, got %s", st)
		}
		want[st] = true
	}
	if len(want) == 0 {
		want[innonetpb.SlaStatus_OVER], want[innonetpb.SlaStatus_NEAR] = true, true
	}
	size := int(r.PageSize)
	switch {
	case size < 0 || size > maxSLAPage:
		return nil, status.Errorf(codes.InvalidArgument, "page_size: must be from 1 to %d, got %d", maxSLAPage, size)
	case size == 0:
		size = defaultSLAPage
	}
	offset, err := decodeOffsetToken(r.PageToken)
	if err != nil {
		return nil, err
	}
	mustAct, err := s.n.checkMustAct(r.MustAct)
	if err != nil {
		return nil, err
	}
	stages := make([]pipeline.Stage, len(pipeline.SLAStages))
	copy(stages, pipeline.SLAStages)
	leads, _, err := s.n.state.Leads(pipeline.Filter{Stages: stages, Visible: u.CanSee})
	if err != nil {
		return nil, toStatus(err)
	}
	view := s.n.slas.view()
	if view == nil {
		return nil, status.Error(codes.Internal, "the calendars cannot be read")
	}
	now := time.Now()
	type late struct {
		l   *pipeline.Lead
		sla *innonetpb.SlaStatus
	}
	var all []late
	out := &innonetpb.ListSlaBreachesResponse{Leads: []*innonetpb.Lead{}}
	for _, l := range leads {
		st := view.status(l, now)
		if st == nil || st.State == innonetpb.SlaStatus_ON_TIME {
			continue
		}
		if mustAct != "" && st.MustAct != mustAct {
			continue
		}
		switch st.State {
		case innonetpb.SlaStatus_OVER:
			out.Over++
		case innonetpb.SlaStatus_NEAR:
			out.Near++
		}
		if want[st.State] {
			all = append(all, late{l, st})
		}
	}
	sort.Slice(all, func(i, j int) bool {
		a, b := all[i].sla.DueTime.AsTime(), all[j].sla.DueTime.AsTime()
		if !a.Equal(b) {
			return a.Before(b)
		}
		return all[i].l.ID < all[j].l.ID
	})
	for i := offset; i < len(all) && i < offset+size; i++ {
		pb := leadPB(u, all[i].l)
		s.n.decorateLeads(u, pb)
		out.Leads = append(out.Leads, pb)
	}
	if offset+size < len(all) {
		out.NextPageToken = encodeOffsetToken(offset + size)
	}
	return out, nil
}

// checkMustAct reads ListSlaBreaches' must_act, in any case: HQ,
// DIVISIONS, a division, or a first-level site (the site a RETURNED lead
// waits for).
func (n *Node) checkMustAct(v string) (string, error) {
	who := strings.ToUpper(strings.TrimSpace(v))
	switch {
	case who == "" || who == pipeline.HQSite || who == "DIVISIONS" || pipeline.ValidDivision(who):
		return who, nil
	case pipeline.ValidSubnodeCode(who):
		return "", status.Errorf(codes.InvalidArgument, "mustAct: %q is a sub-node; a returned lead waits for its site: mustAct=%s", clip(v), pipeline.FirstLevelSite(who))
	case !pipeline.ValidSiteCode(who):
		return "", status.Errorf(codes.InvalidArgument, "mustAct: %q is not who acts on a lead; valid values: HQ, DIVISIONS, %s or a site (BOS)", clip(v), strings.Join(pipeline.Divisions, ", "))
	}
	nodes, err := n.unknownSite(who)
	if err != nil {
		return "", err
	}
	if nodes != nil {
		return "", status.Errorf(codes.InvalidArgument, "mustAct: %q is not a registered site; valid values: HQ, DIVISIONS, %s or a node: %s",
			clip(v), strings.Join(pipeline.Divisions, ", "), listCodes(nodes))
	}
	return who, nil
}

func slaSettingsPB(sla pipeline.SLA, set *pipeline.Setting) *innonetpb.SlaSettings {
	out := &innonetpb.SlaSettings{Limits: map[string]int32{}, Near: int32(sla.Near), Version: sla.Version}
	for k, v := range sla.Limits {
		out.Limits[k] = int32(v)
	}
	if set != nil {
		out.UpdateTime, out.UpdatedByName = ts(set.Time), set.UserName
	}
	return out
}

func (s *reportService) GetSlaSettings(ctx context.Context, _ *innonetpb.GetSlaSettingsRequest) (*innonetpb.SlaSettings, error) {
	if _, err := s.n.authenticate(ctx); err != nil {
		return nil, err
	}
	return slaSettingsPB(s.n.state.SLA()), nil
}

func (s *reportService) UpdateSlaSettings(ctx context.Context, r *innonetpb.UpdateSlaSettingsRequest) (*innonetpb.SlaSettings, error) {
	u, err := s.n.authenticate(ctx)
	if err != nil {
		return nil, err
	}
	sla := &pipeline.SLA{Limits: map[string]int{}, Near: int(r.Near)}
	for k, v := range r.Limits {
		sla.Limits[k] = int(v)
	}
	if _, err := s.n.propose(ctx, pipeline.Command{Op: pipeline.OpSetSLA, RequestID: r.RequestId, Actor: u.ID, SLA: sla,
		ExpectedVersion: r.ExpectedVersion}); err != nil {
		return nil, err
	}
	return slaSettingsPB(s.n.state.SLA()), nil
}

func calendarYearPB(t calendar.YearTable, hq *pipeline.CalendarTable) *innonetpb.CalendarYear {
	out := &innonetpb.CalendarYear{Calendar: t.Calendar, Year: int32(t.Year), Official: t.Official, Source: "BUILT_IN",
		Holidays: []*innonetpb.CalendarYear_Holiday{}, Workdays: []string{}}
	for _, h := range t.Holidays {
		out.Holidays = append(out.Holidays, &innonetpb.CalendarYear_Holiday{Date: h.Date.String(), Name: h.Name})
	}
	for _, d := range t.Workdays {
		out.Workdays = append(out.Workdays, d.String())
	}
	if hq != nil {
		out.Source, out.Version, out.UpdatedByName = "HQ", hq.Version, hq.UpdatedByName
	}
	return out
}

func (s *reportService) GetCalendarYear(ctx context.Context, r *innonetpb.GetCalendarYearRequest) (*innonetpb.CalendarYear, error) {
	if _, err := s.n.authenticate(ctx); err != nil {
		return nil, err
	}
	set, err := s.n.slas.calendars()
	if err != nil {
		return nil, status.Errorf(codes.Internal, "calendars: %v", err)
	}
	cal, err := set.Calendar(r.Calendar)
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "calendar: %q is not one of CN, US, GB, DE-BY, IL", clip(r.Calendar))
	}
	if r.Year < calendar.MinYear || r.Year > calendar.MaxYear {
		return nil, status.Errorf(codes.InvalidArgument, "year: must be from %d to %d, got %d", calendar.MinYear, calendar.MaxYear, r.Year)
	}
	hq := s.n.state.CalendarTable(r.Calendar, int(r.Year))
	return calendarYearPB(cal.Table(int(r.Year)), hq), nil
}

func (s *reportService) UpdateCalendarYear(ctx context.Context, r *innonetpb.UpdateCalendarYearRequest) (*innonetpb.CalendarYear, error) {
	u, err := s.n.authenticate(ctx)
	if err != nil {
		return nil, err
	}
	t := &calendar.YearTable{Calendar: r.Calendar, Year: int(r.Year), Official: r.Official}
	for i, h := range r.Holidays {
		d, err := calendar.ParseDate(h.GetDate())
		if err != nil {
			return nil, status.Errorf(codes.InvalidArgument, "holidays[%d].date: %q is not a date of the form 2027-02-06", i, clip(h.GetDate()))
		}
		t.Holidays = append(t.Holidays, calendar.Holiday{Date: d, Name: h.GetName()})
	}
	for i, w := range r.Workdays {
		d, err := calendar.ParseDate(w)
		if err != nil {
			return nil, status.Errorf(codes.InvalidArgument, "workdays[%d]: %q is not a date of the form 2027-02-06", i, clip(w))
		}
		t.Workdays = append(t.Workdays, d)
	}
	res, err := s.n.propose(ctx, pipeline.Command{Op: pipeline.OpSetCalendarYear, RequestID: r.RequestId, Actor: u.ID,
		ExpectedVersion: r.ExpectedVersion, Calendar: t})
	if err != nil {
		return nil, err
	}
	return calendarYearPB(res.Calendar.YearTable, res.Calendar), nil
}
