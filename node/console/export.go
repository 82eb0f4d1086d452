package console

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"innonet/node/sheets"
	innonetpb "innonet/proto/innonet/v1"
)

// Exports. The REST API serves reports and lead lists as files
// (?format=csv|xlsx), but only to a bearer token: the console's session
// lives in a cookie /v1 does not read. So the console makes the same
// files itself, from the gRPC answers it shows, with the headers in the
// reader's language: GET /export/{funnel,targets,leads,monthly}.

// maxExportRows bounds the leads one export follows pages for.
const maxExportRows = 20_000

// sheet is one table of an export.
type sheet = sheets.Sheet

func (s *Server) export(w http.ResponseWriter, r *http.Request, v *view, ctx context.Context) {
	q := r.URL.Query()
	format := q.Get("format")
	what := r.PathValue("what")
	if what == "monthly" && format == "" {
		format = "xlsx"
	}
	if format != "csv" && format != "xlsx" {
		s.errorPage(w, r, v, http.StatusBadRequest, &flash{Kind: "error", Msg: v.T.T("error.format", clip(format))})
		return
	}
	q.Del("format")
	var tables []sheet
	var name string
	var bad *flash
	var err error
	switch what {
	case "funnel":
		var rq reportQuery
		if rq, bad = s.readReportQuery(v.T, v.User, q); bad == nil {
			var f *innonetpb.FunnelReport
			if f, err = s.reps.GetFunnel(ctx, &innonetpb.GetFunnelRequest{From: rq.From, To: rq.To, GroupBy: rq.Group, Consistency: stale}); err == nil {
				tables, name = []sheet{funnelSheet(v.T, v.T.T("export.funnel"), f)}, "funnel-"+rq.From+"-"+rq.To
			}
		}
	case "targets":
		var rq reportQuery
		if rq, bad = s.readReportQuery(v.T, v.User, q); bad == nil {
			var rep *innonetpb.TargetReport
			if rep, err = s.reps.GetTargetReport(ctx, &innonetpb.GetTargetReportRequest{Year: rq.Year, Consistency: stale}); err == nil {
				tables, name = []sheet{targetSheet(v.T, rep)}, "targets-"+strconv.Itoa(int(rq.Year))
			}
		}
	case "leads":
		var req *innonetpb.ListLeadsRequest
		if req, bad = pipelineRequest(v.T, q); bad == nil {
			var leads []*innonetpb.Lead
			if leads, err = s.allLeads(ctx, v, req); err == nil {
				tables, name = []sheet{s.leadSheet(v, v.T.T("export.leads"), leads)}, "leads"
			}
		}
	case "monthly":
		var month time.Time
		if month, bad = readMonth(v.T, q, s.cfg.Now()); bad == nil {
			tables, err = s.monthly(ctx, v, month)
			name = "monthly-" + month.Format("2006-01")
		}
	default:
		s.notFound(w, r)
		return
	}
	switch {
	case bad != nil:
		s.errorPage(w, r, v, http.StatusBadRequest, bad)
		return
	case err != nil:
		s.errorPage(w, r, v, httpStatus(err), s.apiFlash(v.T, err))
		return
	}
	s.writeSheets(w, format, name, tables)
}

// readMonth reads ?month=2026-11 (default: this month in Zhengzhou).
func readMonth(t *tr, q url.Values, now time.Time) (time.Time, *flash) {
	for k := range q {
		if k != "month" {
			return time.Time{}, errParam(t, k)
		}
	}
	now = now.In(chinaZone)
	m := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, chinaZone)
	if s := strings.TrimSpace(q.Get("month")); s != "" {
		p, err := time.ParseInLocation("2006-01", s, chinaZone)
		if err != nil || p.Year() < 2000 || p.Year() > 2100 {
			return time.Time{}, &flash{Kind: "error", Msg: t.T("error.month", clip(s))}
		}
		m = p
	}
	return m, nil
}

// allLeads follows a lead list through its pages.
func (s *Server) allLeads(ctx context.Context, v *view, req *innonetpb.ListLeadsRequest) ([]*innonetpb.Lead, error) {
	req.PageSize, req.Consistency, req.Lang, req.PageToken = 500, stale, v.Lang, ""
	var out []*innonetpb.Lead
	for len(out) < maxExportRows {
		res, err := s.leads.ListLeads(ctx, req)
		if err != nil {
			return nil, err
		}
		out = append(out, res.Leads...)
		if res.NextPageToken == "" || len(res.Leads) == 0 {
			break
		}
		req.PageToken = res.NextPageToken
	}
	return out, nil
}

// monthly is the month's workbook: progress against the year's targets,
// the month's funnel by node and by division, the year so far by month,
// the leads waiting longest for review, and the deals signed and landed.
func (s *Server) monthly(ctx context.Context, v *view, month time.Time) ([]sheet, error) {
	t := v.T
	first, last := month, month.AddDate(0, 1, -1)
	rep, err := s.reps.GetTargetReport(ctx, &innonetpb.GetTargetReportRequest{Year: int32(first.Year()), Consistency: stale})
	if err != nil {
		return nil, err
	}
	out := []sheet{targetSheet(t, rep)}
	for _, f := range []struct {
		name     string
		from, to time.Time
		by       string
	}{{"export.bynode", first, last, "site"}, {"export.bydivision", first, last, "division"},
		{"export.bymonth", time.Date(first.Year(), 1, 1, 0, 0, 0, 0, chinaZone), last, "month"}} {
		fr, err := s.reps.GetFunnel(ctx, &innonetpb.GetFunnelRequest{From: f.from.Format(time.DateOnly), To: f.to.Format(time.DateOnly),
			GroupBy: []string{f.by}, Consistency: stale})
		if err != nil {
			return nil, err
		}
		out = append(out, funnelSheet(t, t.T(f.name), fr))
	}
	waiting, err := s.leads.ListLeads(ctx, &innonetpb.ListLeadsRequest{Stage: []innonetpb.Stage{innonetpb.Stage_SUBMITTED},
		OrderBy: "stageTime", PageSize: 200, Consistency: stale, Lang: v.Lang})
	if err != nil {
		return nil, err
	}
	out = append(out, s.leadSheet(v, t.T("export.waiting"), waiting.Leads))
	deals, err := s.allLeads(ctx, v, &innonetpb.ListLeadsRequest{Stage: []innonetpb.Stage{innonetpb.Stage_SIGNED, innonetpb.Stage_LANDED},
		OrderBy: "-stageTime"})
	if err != nil {
		return nil, err
	}
	ds := sheet{Name: t.T("export.deals"), Header: []string{t.T("col.id"), t.T("col.title"), t.T("lead.organization"), t.T("col.site"),
		t.T("col.division"), t.T("col.stage"), t.T("deal.amount"), t.T("export.currency"), t.T("deal.jobs"), t.T("deal.signing"), t.T("deal.landing")}}
	for _, l := range deals {
		dt := l.DealTerms
		row := []any{l.Id, l.Title, l.Organization, l.Site, l.Division, t.Enum("stage", l.Stage.String())}
		if dt != nil {
			row = append(row, number(dt.Amount), dt.Currency, int(dt.Jobs), dt.ExpectedSigningDate, dt.ExpectedLandingDate)
		}
		ds.Rows = append(ds.Rows, row)
	}
	return append(out, ds), nil
}

// number is a decimal string as a number for a spreadsheet, else as it is.
func number(s string) any {
	if s == "" {
		return ""
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return f
	}
	return s
}

func funnelSheet(t *tr, name string, f *innonetpb.FunnelReport) sheet {
	sh := sheet{Name: name}
	for _, d := range f.GroupBy {
		sh.Header = append(sh.Header, t.T("dim."+d))
	}
	all := slices.Concat(mainSteps, offSteps)
	for _, st := range all {
		sh.Header = append(sh.Header, t.T("step."+st))
	}
	for i := 1; i < len(mainSteps); i++ {
		sh.Header = append(sh.Header, t.T("export.rate", t.T("step."+mainSteps[i]), t.T("step."+mainSteps[i-1])))
	}
	for _, st := range mainSteps[1:] {
		sh.Header = append(sh.Header, t.T("export.days", t.T("step."+st)))
	}
	row := func(g *innonetpb.FunnelReport_Group, total bool) []any {
		var out []any
		for i := range f.GroupBy {
			switch {
			case total && i == 0:
				out = append(out, t.T("report.total"))
			case total || i >= len(g.Key):
				out = append(out, "")
			case g.Key[i] == "":
				out = append(out, t.T("report.none"))
			default:
				out = append(out, g.Key[i])
			}
		}
		for _, st := range all {
			out = append(out, int(step(g.GetCounts(), st)))
		}
		for _, st := range mainSteps[1:] {
			out = append(out, step(g.GetConversion(), st))
		}
		for _, st := range mainSteps[1:] {
			if d := step(g.GetMedianDays(), st); d >= 0 {
				out = append(out, d)
			} else {
				out = append(out, "")
			}
		}
		return out
	}
	for _, g := range f.Groups {
		sh.Rows = append(sh.Rows, row(g, false))
	}
	sh.Rows = append(sh.Rows, row(f.Total, len(f.GroupBy) > 0))
	return sh
}

func targetSheet(t *tr, rep *innonetpb.TargetReport) sheet {
	sh := sheet{Name: t.T("export.targets", yearText(rep.Year)), Header: []string{t.T("targets.scope"), t.T("targets.code")}}
	for _, st := range targetSteps {
		w := t.T("step." + st)
		sh.Header = append(sh.Header, t.T("export.target", w), t.T("export.actual", w), t.T("export.permonth", w))
	}
	inv, jobs := t.T("targets.investment"), t.T("targets.jobs")
	sh.Header = append(sh.Header, t.T("export.target", inv), t.T("export.actual", inv), t.T("export.currency"),
		t.T("export.target", jobs), t.T("export.actual", jobs), t.T("export.expected"))
	for _, r := range rep.Rows {
		tg := r.Target
		row := []any{tg.Scope, tg.Code}
		for _, st := range targetSteps {
			row = append(row, int(targetOf(tg, st)), int(step(r.Actual, st)), step(r.PerMonth, st))
		}
		row = append(row, number(tg.Investment), number(r.Investment), tg.Currency, int(tg.Jobs), int(r.Jobs), r.Expected)
		sh.Rows = append(sh.Rows, row)
	}
	return sh
}

func (s *Server) leadSheet(v *view, name string, leads []*innonetpb.Lead) sheet {
	t, loc := v.T, s.userLoc(v.User)
	sh := sheet{Name: name, Header: []string{t.T("col.id"), t.T("col.title"), t.T("lead.organization"), t.T("col.site"), t.T("export.subnode"),
		t.T("col.stage"), t.T("col.sector"), t.T("lead.country"), t.T("col.trl"), t.T("lead.dealtype"), t.T("col.division"),
		t.T("lead.submittedby"), t.T("export.created"), t.T("col.updated"), t.T("lead.website"),
		t.T("export.slastate"), t.T("export.due"), t.T("export.mustact")}}
	stamp := func(l *innonetpb.Lead, which string) string {
		ts := l.CreateTime
		if which == "update" {
			ts = l.UpdateTime
		}
		if ts == nil {
			return ""
		}
		return ts.AsTime().In(loc).Format("2006-01-02 15:04")
	}
	for _, l := range leads {
		row := []any{l.Id, l.Title, l.Organization, l.Site, l.Subnode, t.Enum("stage", l.Stage.String()), t.Enum("sector", l.Sector.String()),
			l.Country, int(l.Trl), t.Enum("dealtype", l.DealType.String()), l.Division, l.SubmittedByName, stamp(l, "create"), stamp(l, "update"), l.Website}
		if d := deadlineOf(t, l.Sla, loc); d != nil {
			row = append(row, d.Label, l.Sla.DueTime.AsTime().In(loc).Format("2006-01-02 15:04"), mustAct(t, l.Sla.MustAct))
		}
		sh.Rows = append(sh.Rows, row)
	}
	return sh
}

// writeSheets writes the first sheet as CSV (UTF-8 with a byte-order
// mark, so that Excel reads Chinese right) or every sheet as a workbook
// (package node/sheets).
func (s *Server) writeSheets(w http.ResponseWriter, format, name string, tables []sheet) {
	if err := sheets.Serve(w, format, name, tables, s.cfg.Now().In(chinaZone)); err != nil {
		s.cfg.Logger.Error("console export failed", "err", err)
		http.Error(w, "the file could not be written; see the site's log", http.StatusInternalServerError)
	}
}
