package console

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	innonetpb "innonet/proto/innonet/v1"
)

// The reports page (/reports) is each role's dashboard: progress against
// the year's targets (HQ: the network, every node and every division; a
// node or a division: its own scope), the funnel of a period grouped as
// the reader picks, and the leads over or near their stage limits. Bars
// are SVG drawn here, with their numbers beside them as text, so the page
// reads without JavaScript.

// funnelDims are the groupings GetFunnel takes.
var funnelDims = []string{"site", "subnode", "division", "sector", "country", "dealType", "month"}

// mainSteps are the funnel's main line; offSteps the ways out of it.
var (
	mainSteps = []string{"pushed", "approved", "claimed", "negotiating", "signed", "landed"}
	offSteps  = []string{"declined", "withdrawn", "lost"}
	// targetSteps are the steps a target names.
	targetSteps = []string{"pushed", "approved", "signed", "landed"}
)

// step reads one step of a StepCounts.
func step(c *innonetpb.StepCounts, name string) float64 {
	if c == nil {
		return 0
	}
	switch name {
	case "pushed":
		return c.Pushed
	case "approved":
		return c.Approved
	case "claimed":
		return c.Claimed
	case "negotiating":
		return c.Negotiating
	case "signed":
		return c.Signed
	case "landed":
		return c.Landed
	case "declined":
		return c.Declined
	case "withdrawn":
		return c.Withdrawn
	case "lost":
		return c.Lost
	}
	return 0
}

func targetOf(r *innonetpb.TargetRow, name string) int32 {
	switch name {
	case "pushed":
		return r.Pushed
	case "approved":
		return r.Approved
	case "signed":
		return r.Signed
	case "landed":
		return r.Landed
	}
	return 0
}

// reportQuery is what the reports page was asked for.
type reportQuery struct {
	Year     int32
	From, To string
	Group    []string
}

// values is the query again, for links (exports, the month picker).
func (q reportQuery) values() url.Values {
	v := url.Values{"year": {strconv.Itoa(int(q.Year))}}
	if q.From != "" {
		v.Set("from", q.From)
	}
	if q.To != "" {
		v.Set("to", q.To)
	}
	for _, g := range q.Group {
		v.Add("group", g)
	}
	return v
}

// readReportQuery reads and checks the page's parameters; a default
// period is the year so far, in Zhengzhou.
func (s *Server) readReportQuery(t *tr, u *innonetpb.User, q url.Values) (reportQuery, *flash) {
	now := s.cfg.Now().In(chinaZone)
	rq := reportQuery{Year: int32(now.Year())}
	for k := range q {
		if !has([]string{"year", "from", "to", "group", "format"}, k) {
			return rq, errParam(t, k)
		}
	}
	if y := q.Get("year"); y != "" {
		n, err := strconv.Atoi(y)
		if err != nil || n < 2000 || n > 2100 {
			return rq, &flash{Kind: "error", Msg: t.T("error.year", clip(y))}
		}
		rq.Year = int32(n)
	}
	rq.From, rq.To = strings.TrimSpace(q.Get("from")), strings.TrimSpace(q.Get("to"))
	for _, f := range []struct{ name, v string }{{"from", rq.From}, {"to", rq.To}} {
		if f.v == "" {
			continue
		}
		if _, err := time.Parse(time.DateOnly, f.v); err != nil {
			return rq, &flash{Kind: "error", Msg: t.T("error.date", t.T("report."+f.name), clip(f.v))}
		}
	}
	if rq.From != "" && rq.To != "" && rq.To < rq.From {
		return rq, &flash{Kind: "error", Msg: t.T("error.period", rq.From, rq.To)}
	}
	if rq.From == "" && rq.To == "" {
		rq.From = strconv.Itoa(int(rq.Year)) + "-01-01"
		if rq.Year == int32(now.Year()) {
			rq.To = now.Format(time.DateOnly)
		} else {
			rq.To = strconv.Itoa(int(rq.Year)) + "-12-31"
		}
	}
	for _, g := range q["group"] {
		if g == "" {
			continue
		}
		if !has(funnelDims, g) {
			return rq, errValue(t, "group", g)
		}
		if !has(rq.Group, g) {
			rq.Group = append(rq.Group, g)
		}
	}
	if !q.Has("group") {
		rq.Group = []string{defaultGroup(u)}
	}
	return rq, nil
}

// defaultGroup is the funnel's grouping until the reader picks one: HQ
// by node, a node by sub-node, a division by sector.
func defaultGroup(u *innonetpb.User) string {
	switch u.Role {
	case innonetpb.Role_NODE_STAFF:
		return "subnode"
	case innonetpb.Role_DIVISION:
		return "sector"
	}
	return "site"
}

// clip shortens what a user typed for a message.
func clip(s string) string {
	if r := []rune(s); len(r) > 40 {
		return string(r[:40]) + "…"
	}
	return s
}

// reportsData is the reports page.
type reportsData struct {
	Q        reportQuery
	Dims     []string
	Groups   [2]string // the pickers' choices
	Progress []progressTable
	Funnel   *funnelView
	Late     *lateList
	// Exports are the links of the files; Month the monthly workbook's
	// default month.
	Exports   []exportLink
	Month     string
	NoTargets bool
	// PrevYear and NextYear link the years around.
	PrevYear, NextYear int32
}

// exportLink is one file to download.
type exportLink struct {
	ID, Label, URL string
}

// progressTable is progress against targets for some scopes.
type progressTable struct {
	ID, Title string
	Rows      []progressRow
}

// progressRow is one scope's year: a bar per step with a target.
type progressRow struct {
	Scope, Code, Label string
	Metrics            []metric
	Investment, Jobs   string
	HasTarget          bool
}

// metric is one step of a scope against its target.
type metric struct {
	Step           string
	Actual, Target int
	// Pct is the share of the target reached, Expect the share of the
	// year gone by, both 0–100 for the bar; Behind: below that pace.
	Pct, Expect float64
	Behind      bool
	Text, Pace  string
}

// funnelView is a funnel table with its chart.
type funnelView struct {
	Dims   []string
	Rows   []funnelRow
	Total  funnelRow
	Chart  []chartBar
	Leads  int32
	Period string
}

// funnelRow is one group: counts of every step, conversion and median
// days along the main line.
type funnelRow struct {
	Keys   []string
	Counts []string
	Conv   []string
	Days   []string
}

// chartBar is one step of the funnel chart.
type chartBar struct {
	Step, Label, Count, Conv   string
	W, TextX, BarY, TextY, Pct float64
}

// lateList is the leads over or near their limits.
type lateList struct {
	Rows       []row
	Over, Near int32
	More       bool
}

func (s *Server) reports(w http.ResponseWriter, r *http.Request, v *view, ctx context.Context) {
	if v.User.Role == innonetpb.Role_ADMIN {
		s.errorPage(w, r, v, http.StatusForbidden, &flash{Kind: "error", Msg: v.T.T("error.reportsadmin")})
		return
	}
	rq, bad := s.readReportQuery(v.T, v.User, r.URL.Query())
	if bad != nil {
		s.errorPage(w, r, v, http.StatusBadRequest, bad)
		return
	}
	if r.URL.Query().Has("format") {
		s.errorPage(w, r, v, http.StatusBadRequest, errParam(v.T, "format"))
		return
	}
	v.Title = v.T.T("reports.title")
	d := &reportsData{Q: rq, Dims: funnelDims, Month: s.cfg.Now().In(chinaZone).Format("2006-01"), PrevYear: rq.Year - 1, NextYear: rq.Year + 1}
	for i := 0; i < len(rq.Group) && i < 2; i++ {
		d.Groups[i] = rq.Group[i]
	}
	fq, yq := rq.values().Encode(), url.Values{"year": {strconv.Itoa(int(rq.Year))}}.Encode()
	for _, x := range []struct{ id, what, q string }{{"funnel", "funnel", fq}, {"targets", "targets", yq}, {"late", "leads", "stage=SUBMITTED&stage=RETURNED&stage=APPROVED&stage=CLAIMED&stage=NEGOTIATING&stage=SIGNED"}} {
		for _, f := range []string{"csv", "xlsx"} {
			d.Exports = append(d.Exports, exportLink{ID: "export-" + x.id + "-" + f, Label: v.T.T("export.link."+x.id, strings.ToUpper(f)),
				URL: "/export/" + x.what + "?format=" + f + "&" + x.q})
		}
	}

	rep, err := s.reps.GetTargetReport(ctx, &innonetpb.GetTargetReportRequest{Year: rq.Year, Consistency: stale})
	if err != nil {
		s.errorPage(w, r, v, httpStatus(err), s.apiFlash(v.T, err))
		return
	}
	d.NoTargets = rep.TargetsVersion == 0
	yearFrom, yearTo := strconv.Itoa(int(rq.Year))+"-01-01", strconv.Itoa(int(rq.Year))+"-12-31"
	yearFunnel := func(dim string) (*innonetpb.FunnelReport, error) {
		return s.reps.GetFunnel(ctx, &innonetpb.GetFunnelRequest{From: yearFrom, To: yearTo, GroupBy: []string{dim}, Consistency: stale})
	}
	switch v.User.Role {
	case innonetpb.Role_HQ_REVIEWER:
		bySite, err := yearFunnel("site")
		if err == nil {
			var byDiv *innonetpb.FunnelReport
			if byDiv, err = yearFunnel("division"); err == nil {
				d.Progress = []progressTable{
					s.progress(v.T, rep, "progress-network", v.T.T("progress.network"), nil, bySite.Total, func(*innonetpb.TargetRow) bool { return false }),
					s.progress(v.T, rep, "progress-nodes", v.T.T("progress.nodes"), bySite, nil, func(t *innonetpb.TargetRow) bool {
						return t.Scope == "SITE" || t.Scope == "SUBNODE"
					}),
					s.progress(v.T, rep, "progress-divisions", v.T.T("progress.divisions"), byDiv, nil, func(t *innonetpb.TargetRow) bool { return t.Scope == "DIVISION" }),
				}
			}
		}
	case innonetpb.Role_NODE_STAFF:
		site := v.User.Site
		var own *innonetpb.FunnelReport
		if own, err = yearFunnel("subnode"); err == nil {
			d.Progress = []progressTable{s.progress(v.T, rep, "progress-own", v.T.T("progress.own", v.T.Enum("site", site)), own, &innonetpb.FunnelReport_Group{Key: []string{site}, Counts: own.Total.GetCounts()},
				func(t *innonetpb.TargetRow) bool {
					return t.Scope == "SITE" && t.Code == site || t.Scope == "SUBNODE" && strings.HasPrefix(t.Code, site+"-")
				})}
		}
	case innonetpb.Role_DIVISION:
		div := v.User.Division
		var byDiv *innonetpb.FunnelReport
		if byDiv, err = yearFunnel("division"); err == nil {
			mine := &innonetpb.FunnelReport{}
			for _, g := range byDiv.Groups {
				if len(g.Key) > 0 && g.Key[0] == div {
					mine.Groups = append(mine.Groups, g)
				}
			}
			d.Progress = []progressTable{s.progress(v.T, rep, "progress-own", v.T.T("progress.own", v.T.Enum("division", div)), mine, nil,
				func(t *innonetpb.TargetRow) bool { return t.Scope == "DIVISION" && t.Code == div })}
		}
	}
	if err != nil {
		s.errorPage(w, r, v, httpStatus(err), s.apiFlash(v.T, err))
		return
	}

	var md metadata.MD
	f, err := s.reps.GetFunnel(ctx, &innonetpb.GetFunnelRequest{From: rq.From, To: rq.To, GroupBy: rq.Group, Consistency: stale}, grpc.Header(&md))
	if err != nil {
		s.errorPage(w, r, v, httpStatus(err), s.apiFlash(v.T, err))
		return
	}
	v.Fresh = freshOf(f.Read, md)
	d.Funnel = s.funnelView(v.T, f)

	late, err := s.reps.ListSlaBreaches(ctx, &innonetpb.ListSlaBreachesRequest{PageSize: 50, Consistency: stale})
	if err != nil {
		s.errorPage(w, r, v, httpStatus(err), s.apiFlash(v.T, err))
		return
	}
	d.Late = &lateList{Rows: s.rows(v, late.Leads), Over: late.Over, Near: late.Near, More: late.NextPageToken != ""}
	v.Data = d
	s.render(w, v, "reports")
}

// progress is the progress table of the target rows keep picks, with a
// row for every group of the year's funnel (by the scope's dimension)
// that has no target, and a network row (total) when given.
func (s *Server) progress(t *tr, rep *innonetpb.TargetReport, id, title string, byCode *innonetpb.FunnelReport,
	total *innonetpb.FunnelReport_Group, keep func(*innonetpb.TargetRow) bool) progressTable {
	pt := progressTable{ID: id, Title: title}
	seen := map[string]bool{}
	if total != nil {
		// The network as a whole, or the node's own total.
		code := ""
		if len(total.Key) > 0 {
			code = total.Key[0]
		}
		var tr *innonetpb.TargetReport_Row
		for _, r := range rep.Rows {
			if code == "" && r.Target.GetScope() == "NETWORK" || code != "" && r.Target.GetScope() == "SITE" && r.Target.GetCode() == code {
				tr = r
			}
		}
		if tr != nil {
			pt.Rows = append(pt.Rows, s.targetRow(t, tr))
			seen[tr.Target.Scope+"/"+tr.Target.Code] = true
		} else {
			scope := "NETWORK"
			if code != "" {
				scope = "SITE"
			}
			pt.Rows = append(pt.Rows, actualRow(t, scope, code, total.Counts))
			seen[scope+"/"+code] = true
		}
	}
	for _, r := range rep.Rows {
		if keep(r.Target) && !seen[r.Target.Scope+"/"+r.Target.Code] {
			pt.Rows = append(pt.Rows, s.targetRow(t, r))
			seen[r.Target.Scope+"/"+r.Target.Code] = true
		}
	}
	if byCode != nil {
		dim := ""
		if len(byCode.GroupBy) > 0 {
			dim = byCode.GroupBy[0]
		}
		for _, g := range byCode.Groups {
			if len(g.Key) == 0 || g.Key[0] == "" {
				continue
			}
			code := g.Key[0]
			scope := map[string]string{"site": "SITE", "subnode": "SUBNODE", "division": "DIVISION"}[dim]
			if scope == "" && has(divisions, code) {
				scope = "DIVISION"
			}
			if seen[scope+"/"+code] {
				continue
			}
			seen[scope+"/"+code] = true
			pt.Rows = append(pt.Rows, actualRow(t, scope, code, g.Counts))
		}
	}
	return pt
}

// scopeLabel names a target's scope: the network, a node, a sub-node, a
// division.
func scopeLabel(t *tr, scope, code string) string {
	switch scope {
	case "NETWORK":
		return t.T("scope.network")
	case "DIVISION":
		return t.Enum("division", code)
	}
	if name := t.Enum("site", code); name != code {
		return name
	}
	return code
}

func (s *Server) targetRow(t *tr, r *innonetpb.TargetReport_Row) progressRow {
	tg := r.Target
	pr := progressRow{Scope: tg.Scope, Code: tg.Code, Label: scopeLabel(t, tg.Scope, tg.Code), HasTarget: true}
	expect := r.Expected * 100
	for _, st := range targetSteps {
		m := metric{Step: st, Actual: int(step(r.Actual, st)), Target: int(targetOf(tg, st)), Expect: expect}
		if m.Target > 0 {
			m.Pct = min(100, 100*float64(m.Actual)/float64(m.Target))
			m.Behind = m.Pct < expect
			m.Text = t.T("progress.of", m.Actual, m.Target, int(100*float64(m.Actual)/float64(m.Target)+0.5))
			if p := step(r.PerMonth, st); p > 0 {
				m.Pace = t.T("progress.pace", t.p.Sprintf("%.1f", p))
			} else if m.Actual >= m.Target {
				m.Pace = t.T("progress.met")
			}
		} else {
			m.Text = t.N(m.Actual)
		}
		pr.Metrics = append(pr.Metrics, m)
	}
	switch {
	case tg.Investment != "":
		pr.Investment = t.T("progress.of.text", t.Amount(orZero(r.Investment), tg.Currency), t.Amount(tg.Investment, tg.Currency))
	case r.Investment != "" && r.Investment != "0":
		pr.Investment = t.Amount(r.Investment, tg.Currency)
	}
	if r.OtherCurrencies > 0 && tg.Currency != "" {
		pr.Investment += " " + t.T("progress.othercur", r.OtherCurrencies)
	}
	if tg.Jobs > 0 {
		pr.Jobs = t.T("progress.of.text", t.N(r.Jobs), t.N(tg.Jobs))
	} else if r.Jobs > 0 {
		pr.Jobs = t.N(r.Jobs)
	}
	return pr
}

func orZero(s string) string {
	if s == "" {
		return "0"
	}
	return s
}

// actualRow is a scope without a target: its numbers only.
func actualRow(t *tr, scope, code string, c *innonetpb.StepCounts) progressRow {
	pr := progressRow{Scope: scope, Code: code, Label: scopeLabel(t, scope, code)}
	for _, st := range targetSteps {
		n := int(step(c, st))
		pr.Metrics = append(pr.Metrics, metric{Step: st, Actual: n, Text: t.N(n)})
	}
	return pr
}

// funnelView puts a funnel in words and draws its chart.
func (s *Server) funnelView(t *tr, f *innonetpb.FunnelReport) *funnelView {
	fv := &funnelView{Dims: f.GroupBy, Leads: f.Leads, Period: t.T("report.period", f.From, f.To)}
	for _, g := range f.Groups {
		fv.Rows = append(fv.Rows, funnelRowOf(t, f.GroupBy, g))
	}
	fv.Total = funnelRowOf(t, nil, f.Total)
	// The chart: a bar per step of the main line, as long as its count
	// against the first, with the count and the conversion as text.
	top := step(f.Total.GetCounts(), "pushed")
	for i, st := range mainSteps {
		n := step(f.Total.GetCounts(), st)
		y := float64(i * 34)
		b := chartBar{Step: st, Label: t.T("step." + st), Count: t.N(int(n)), BarY: y + 4, TextY: y + 21}
		if top > 0 {
			b.W = 440 * n / top
		}
		if i > 0 {
			b.Conv = percent(t, step(f.Total.GetConversion(), st))
		}
		b.TextX = 150 + b.W + 8
		fv.Chart = append(fv.Chart, b)
	}
	return fv
}

func funnelRowOf(t *tr, dims []string, g *innonetpb.FunnelReport_Group) funnelRow {
	var fr funnelRow
	for i, k := range g.GetKey() {
		dim := ""
		if i < len(dims) {
			dim = dims[i]
		}
		fr.Keys = append(fr.Keys, dimValue(t, dim, k))
	}
	for _, st := range slices.Concat(mainSteps, offSteps) {
		fr.Counts = append(fr.Counts, t.N(int(step(g.GetCounts(), st))))
	}
	for _, st := range mainSteps[1:] {
		fr.Conv = append(fr.Conv, percent(t, step(g.GetConversion(), st)))
		fr.Days = append(fr.Days, days(t, step(g.GetMedianDays(), st)))
	}
	return fr
}

// dimValue shows one value of a grouping in the reader's words.
func dimValue(t *tr, dim, v string) string {
	if v == "" {
		return t.T("report.none")
	}
	switch dim {
	case "site":
		return scopeLabel(t, "SITE", v)
	case "division":
		return t.Enum("division", v)
	case "sector":
		return t.Enum("sector", v)
	case "dealType":
		return t.Enum("dealtype", v)
	}
	return v
}

func percent(t *tr, f float64) string {
	return t.p.Sprintf("%.0f%%", f*100)
}

func days(t *tr, f float64) string {
	if f < 0 {
		return "—"
	}
	return t.p.Sprintf("%.1f", f)
}
