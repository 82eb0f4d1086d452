package node

import (
	"context"
	"testing"

	innonetpb "innonet/proto/innonet/v1"
)

// reportAuthzRows are the authorization matrix's rows of the reports and
// targets.
func reportAuthzRows() []authzRow {
	const report = "/innonet.v1.ReportService/"
	funnel := func(ctx context.Context, c testClients, _ authzTarget) (any, error) {
		return c.reports.GetFunnel(ctx, &innonetpb.GetFunnelRequest{GroupBy: []string{"site"}})
	}
	targetReport := func(ctx context.Context, c testClients, _ authzTarget) (any, error) {
		return c.reports.GetTargetReport(ctx, &innonetpb.GetTargetReportRequest{Year: 2026})
	}
	getTargets := func(ctx context.Context, c testClients, _ authzTarget) (any, error) {
		return c.reports.GetTargets(ctx, &innonetpb.GetTargetsRequest{Year: 2026})
	}
	setTargets := func(ctx context.Context, c testClients, _ authzTarget) (any, error) {
		return c.reports.UpdateTargets(ctx, &innonetpb.UpdateTargetsRequest{Year: 2026, RequestId: rid(),
			Rows: []*innonetpb.TargetRow{{Scope: "SITE", Code: "BOS", Pushed: 40}}})
	}
	breaches := func(ctx context.Context, c testClients, _ authzTarget) (any, error) {
		return c.reports.ListSlaBreaches(ctx, &innonetpb.ListSlaBreachesRequest{})
	}
	getSLA := func(ctx context.Context, c testClients, _ authzTarget) (any, error) {
		return c.reports.GetSlaSettings(ctx, &innonetpb.GetSlaSettingsRequest{})
	}
	setSLA := func(ctx context.Context, c testClients, _ authzTarget) (any, error) {
		return c.reports.UpdateSlaSettings(ctx, &innonetpb.UpdateSlaSettingsRequest{RequestId: rid(), Limits: map[string]int32{"SUBMITTED": 5}, Near: 1})
	}
	getCalendar := func(ctx context.Context, c testClients, _ authzTarget) (any, error) {
		return c.reports.GetCalendarYear(ctx, &innonetpb.GetCalendarYearRequest{Calendar: "CN", Year: 2027})
	}
	setCalendar := func(ctx context.Context, c testClients, _ authzTarget) (any, error) {
		return c.reports.UpdateCalendarYear(ctx, &innonetpb.UpdateCalendarYearRequest{Calendar: "CN", Year: 2027, RequestId: rid(),
			Holidays: []*innonetpb.CalendarYear_Holiday{{Date: "2027-01-01", Name: "元旦"}}})
	}
	// The caller's view: each counts the leads it may see.
	pushedSeen := func(t *testing.T, e *authzEnv, act int, resp any) {
		f := resp.(*innonetpb.FunnelReport)
		if act == actOther || act == actHolder || act == actRival {
			for _, g := range f.Groups {
				if len(g.Key) == 1 && g.Key[0] == "BOS" && act == actOther {
					t.Errorf("CBG staff count BOS's leads: %v", g)
				}
			}
			return
		}
		if f.Total.Counts.Pushed < 2 {
			t.Errorf("%s counts %v pushed, want the matrix's leads", actNames[act], f.Total.Counts.Pushed)
		}
	}
	// Columns: no token, revoked, admin, HQ, own site, other site, holder division, rival division.
	return []authzRow{
		{method: report + "GetFunnel", call: funnel, want: cells{UA, UA, OK, OK, OK, OK, OK, OK}, verify: pushedSeen},
		{method: report + "GetTargetReport", call: targetReport, want: cells{UA, UA, OK, OK, OK, OK, OK, OK}},
		{method: report + "GetTargets", call: getTargets, want: cells{UA, UA, OK, OK, OK, OK, OK, OK}},
		{method: report + "UpdateTargets", setup: format2(nil), call: setTargets, want: cells{UA, UA, PD, OK, PD, PD, PD, PD}},
		{method: report + "ListSlaBreaches", call: breaches, want: cells{UA, UA, OK, OK, OK, OK, OK, OK}},
		{method: report + "GetSlaSettings", call: getSLA, want: cells{UA, UA, OK, OK, OK, OK, OK, OK}},
		{method: report + "UpdateSlaSettings", setup: format2(nil), call: setSLA, want: cells{UA, UA, PD, OK, PD, PD, PD, PD}},
		{method: report + "GetCalendarYear", call: getCalendar, want: cells{UA, UA, OK, OK, OK, OK, OK, OK}},
		{method: report + "UpdateCalendarYear", setup: format2(nil), call: setCalendar, want: cells{UA, UA, PD, OK, PD, PD, PD, PD}},
	}
}
