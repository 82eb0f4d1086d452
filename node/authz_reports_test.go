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
	}
}
