package node

import (
	"context"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"innonet/node/pipeline"
	"innonet/node/reports"
	innonetpb "innonet/proto/innonet/v1"
)

// reportService answers the reports (package node/reports) from this
// site's state, through the caller's view, and keeps the targets.
type reportService struct {
	innonetpb.UnimplementedReportServiceServer
	n *Node
}

// defaultReportZone is where HQ's months and years begin.
const defaultReportZone = "Asia/Shanghai"

func reportZone(name string) (*time.Location, string, error) {
	if name == "" {
		name = defaultReportZone
	}
	loc, err := time.LoadLocation(name)
	if err != nil || name == "Local" {
		return nil, "", status.Errorf(codes.InvalidArgument, "time_zone: %q is not a time zone name such as Asia/Shanghai or Europe/Berlin", clip(name))
	}
	return loc, name, nil
}

// reportDate reads a YYYY-MM-DD date in loc; the zero time for "".
func reportDate(field, s string, loc *time.Location) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.ParseInLocation(time.DateOnly, s, loc)
	if err != nil {
		return time.Time{}, status.Errorf(codes.InvalidArgument, "%s: %q is not a date of the form 2026-01-31", field, clip(s))
	}
	return t, nil
}

func stepCounts(f func(reports.Step) float64) *innonetpb.StepCounts {
	return &innonetpb.StepCounts{Pushed: f(reports.Pushed), Approved: f(reports.Approved), Claimed: f(reports.Claimed),
		Negotiating: f(reports.Negotiating), Signed: f(reports.Signed), Landed: f(reports.Landed),
		Declined: f(reports.Declined), Withdrawn: f(reports.Withdrawn), Lost: f(reports.Lost)}
}

func funnelGroupPB(g reports.Group) *innonetpb.FunnelReport_Group {
	return &innonetpb.FunnelReport_Group{Key: g.Key,
		Counts:     stepCounts(func(s reports.Step) float64 { return float64(g.Counts[s]) }),
		Conversion: stepCounts(func(s reports.Step) float64 { return float64(int(g.Conversion(s)*1000+0.5)) / 1000 }),
		MedianDays: stepCounts(func(s reports.Step) float64 { return g.Days[s] })}
}

func (s *reportService) GetFunnel(ctx context.Context, r *innonetpb.GetFunnelRequest) (*innonetpb.FunnelReport, error) {
	u, err := s.n.authenticate(ctx)
	if err != nil {
		return nil, err
	}
	loc, zone, err := reportZone(r.TimeZone)
	if err != nil {
		return nil, err
	}
	from, err := reportDate("from", r.From, loc)
	if err != nil {
		return nil, err
	}
	to, err := reportDate("to", r.To, loc)
	if err != nil {
		return nil, err
	}
	if !to.IsZero() {
		to = to.AddDate(0, 0, 1) // the last day is included
		if !from.IsZero() && !to.After(from) {
			return nil, status.Errorf(codes.InvalidArgument, "to: %s is before from (%s)", r.To, r.From)
		}
	}
	q := reports.FunnelQuery{From: from, To: to, Location: loc, Visible: u.CanSee}
	seen := map[reports.Dimension]bool{}
	for _, g := range r.GroupBy {
		d, err := reports.ParseDimension(g)
		if err != nil {
			return nil, status.Errorf(codes.InvalidArgument, "group_by: %v", err)
		}
		if seen[d] {
			return nil, status.Errorf(codes.InvalidArgument, "group_by: %s is given twice", d)
		}
		seen[d] = true
		q.GroupBy = append(q.GroupBy, d)
	}
	f, err := s.n.reports.Funnel(q)
	if err != nil {
		return nil, status.Errorf(codes.Internal, "funnel: %v", err)
	}
	out := &innonetpb.FunnelReport{Groups: []*innonetpb.FunnelReport_Group{}, Total: funnelGroupPB(f.Total),
		From: r.From, To: r.To, TimeZone: zone, AppliedIndex: f.Applied, Leads: int32(f.Leads)}
	for _, d := range q.GroupBy {
		out.GroupBy = append(out.GroupBy, string(d))
	}
	for _, g := range f.Groups {
		out.Groups = append(out.Groups, funnelGroupPB(g))
	}
	return out, nil
}

func checkYear(y int32) error {
	if y < pipeline.MinTargetYear || y > pipeline.MaxTargetYear {
		return status.Errorf(codes.InvalidArgument, "year: must be a year from %d to %d, got %d", pipeline.MinTargetYear, pipeline.MaxTargetYear, y)
	}
	return nil
}

func targetRowPB(t pipeline.TargetRow) *innonetpb.TargetRow {
	return &innonetpb.TargetRow{Scope: t.Scope, Code: t.Code, Pushed: int32(t.Pushed), Approved: int32(t.Approved),
		Signed: int32(t.Signed), Landed: int32(t.Landed), Investment: t.Investment, Currency: t.Currency, Jobs: int32(t.Jobs)}
}

func targetsPB(year int32, t *pipeline.Targets) *innonetpb.Targets {
	out := &innonetpb.Targets{Year: year, Rows: []*innonetpb.TargetRow{}}
	if t == nil {
		return out
	}
	for _, r := range t.Rows {
		out.Rows = append(out.Rows, targetRowPB(r))
	}
	out.Version, out.UpdatedBy, out.UpdatedByName, out.UpdateTime = t.Version, t.UpdatedBy, t.UpdatedByName, ts(t.Updated)
	return out
}

func (s *reportService) GetTargetReport(ctx context.Context, r *innonetpb.GetTargetReportRequest) (*innonetpb.TargetReport, error) {
	u, err := s.n.authenticate(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkYear(r.Year); err != nil {
		return nil, err
	}
	loc, _, err := reportZone(r.TimeZone)
	if err != nil {
		return nil, err
	}
	rep, err := s.n.reports.Targets(int(r.Year), loc, u.CanSee)
	if err != nil {
		return nil, status.Errorf(codes.Internal, "targets: %v", err)
	}
	out := &innonetpb.TargetReport{Year: r.Year, Rows: []*innonetpb.TargetReport_Row{}, AsOf: ts(rep.AsOf), AppliedIndex: rep.Applied}
	if rep.Targets != nil {
		out.TargetsVersion = rep.Targets.Version
	}
	for _, p := range rep.Rows {
		out.Rows = append(out.Rows, &innonetpb.TargetReport_Row{Target: targetRowPB(p.Target),
			Actual:     stepCounts(func(s reports.Step) float64 { return float64(p.Actual[s]) }),
			Investment: p.Investment, OtherCurrencies: int32(p.OtherCurrencies), Jobs: int32(p.Jobs),
			Expected: float64(int(p.Expected*1000+0.5)) / 1000, MonthsLeft: float64(int(p.MonthsLeft*10+0.5)) / 10,
			PerMonth: stepCounts(func(s reports.Step) float64 { return p.PerMonth[s] })})
	}
	return out, nil
}

func (s *reportService) GetTargets(ctx context.Context, r *innonetpb.GetTargetsRequest) (*innonetpb.Targets, error) {
	if _, err := s.n.authenticate(ctx); err != nil {
		return nil, err
	}
	if err := checkYear(r.Year); err != nil {
		return nil, err
	}
	t, err := s.n.state.Targets(int(r.Year))
	if err != nil {
		return nil, toStatus(err)
	}
	return targetsPB(r.Year, t), nil
}

func (s *reportService) UpdateTargets(ctx context.Context, r *innonetpb.UpdateTargetsRequest) (*innonetpb.Targets, error) {
	u, err := s.n.authenticate(ctx)
	if err != nil {
		return nil, err
	}
	rows := []pipeline.TargetRow{}
	for _, t := range r.Rows {
		rows = append(rows, pipeline.TargetRow{Scope: t.GetScope(), Code: t.GetCode(), Pushed: int(t.GetPushed()),
			Approved: int(t.GetApproved()), Signed: int(t.GetSigned()), Landed: int(t.GetLanded()),
			Investment: t.GetInvestment(), Currency: t.GetCurrency(), Jobs: int(t.GetJobs())})
	}
	res, err := s.n.propose(ctx, pipeline.Command{Op: pipeline.OpSetTargets, RequestID: r.RequestId, Actor: u.ID,
		Year: int(r.Year), Targets: rows, ExpectedVersion: r.ExpectedVersion})
	if err != nil {
		return nil, err
	}
	return targetsPB(r.Year, res.Targets), nil
}
