package node

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// exportWords are the column headers and sheet names of the exports, in
// English and Chinese.
var exportWords = map[string][2]string{
	"leads": {"Leads", "项目线索"}, "funnel": {"Funnel", "漏斗"}, "targets": {"Targets", "年度目标"},
	"id": {"Lead", "编号"}, "title": {"Title", "标题"}, "organization": {"Organisation", "机构"},
	"site": {"Node", "节点"}, "subnode": {"Sub-node", "子节点"}, "stage": {"Stage", "阶段"},
	"sector": {"Sector", "领域"}, "country": {"Country", "国家"}, "trl": {"TRL", "技术成熟度"},
	"dealType": {"Kind of deal", "合作方式"}, "division": {"Division", "事业部"},
	"submittedBy": {"Submitted by", "提交人"}, "created": {"Submitted", "提交时间"}, "updated": {"Last change", "最近更新"},
	"website": {"Website", "网站"}, "score": {"Match score", "匹配分"}, "reasons": {"Why", "匹配理由"},
	"month": {"Month", "月份"}, "scope": {"Scope", "范围"}, "code": {"Code", "代码"},
	"pushed": {"Pushed", "推送"}, "approved": {"Approved", "通过审核"}, "claimed": {"Claimed", "认领"},
	"negotiating": {"Negotiating", "洽谈"}, "signed": {"Signed", "签约"}, "landed": {"Landed", "落地"},
	"declined": {"Declined", "未通过"}, "withdrawn": {"Withdrawn", "撤回"}, "lost": {"Lost", "未成"},
	"rate": {"%s / %s", "%s / %s"}, "days": {"Median days to %s", "至%s中位天数"},
	"target": {"%s target", "%s目标"}, "actual": {"%s actual", "%s实际"}, "perMonth": {"%s needed a month", "每月需%s"},
	"investment": {"Investment", "投资额"}, "currency": {"Currency", "币种"}, "jobs": {"Jobs", "就业岗位"},
	"amount": {"Amount", "金额"}, "signingDate": {"Signing date", "签约日期"}, "landingDate": {"Landing date", "落地日期"},
	"byNode": {"Funnel by node", "按节点漏斗"}, "byDivision": {"Funnel by division", "按事业部漏斗"},
	"byMonth": {"Year by month", "全年按月"}, "waiting": {"Waiting for review", "待审核"},
	"deals": {"Signed and landed", "签约与落地"}, "summary": {"Summary vs targets", "目标完成情况"},
	"": {"(none)", "（无）"},
}

func word(lang, key string) string {
	w, ok := exportWords[key]
	if !ok {
		return key
	}
	if lang == "zh" {
		return w[1]
	}
	return w[0]
}

func wordf(lang, key string, args ...any) string {
	parts := make([]any, len(args))
	for i, a := range args {
		parts[i] = word(lang, fmt.Sprint(a))
	}
	return fmt.Sprintf(word(lang, key), parts...)
}

// leadTable is a lead list; matches, when given, adds each lead's score
// and reasons.
func leadTable(lang string, leads, matches []map[string]any) table {
	cols := []string{"id", "title", "organization", "site", "subnode", "stage", "sector", "country", "trl", "dealType",
		"division", "submittedBy", "created", "updated", "website"}
	t := table{Name: word(lang, "leads")}
	for _, c := range cols {
		t.Header = append(t.Header, word(lang, c))
	}
	if matches != nil {
		t.Header = append(t.Header, word(lang, "score"), word(lang, "reasons"))
	}
	for i, l := range leads {
		if l == nil {
			continue
		}
		row := []any{jsonStr(l, "id"), jsonStr(l, "title"), jsonStr(l, "organization"), jsonStr(l, "site"), jsonStr(l, "subnode"),
			jsonStr(l, "stage"), jsonStr(l, "sector"), jsonStr(l, "country"), jsonNum(l, "trl"), jsonStr(l, "dealType"), jsonStr(l, "division"),
			jsonStr(l, "submittedByName"), exportTime(jsonStr(l, "createTime")), exportTime(jsonStr(l, "updateTime")), jsonStr(l, "website")}
		if matches != nil {
			m := matches[i]
			var reasons []string
			if rs, ok := m["reasons"].([]any); ok {
				for _, r := range rs {
					reasons = append(reasons, fmt.Sprint(r))
				}
			}
			row = append(row, jsonNum(m, "score"), strings.Join(reasons, "; "))
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

// exportTime shows an RFC 3339 time as a date and time in Shanghai, where
// reports are read; "" stays "".
func exportTime(s string) string {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return s
	}
	if loc := shanghai(); loc != nil {
		t = t.In(loc)
	}
	return t.Format("2006-01-02 15:04")
}

// shanghai is HQ's time zone, loaded once.
var shanghai = sync.OnceValue(func() *time.Location {
	loc, err := time.LoadLocation(defaultReportZone)
	if err != nil {
		return nil
	}
	return loc
})

var funnelSteps = []string{"pushed", "approved", "claimed", "negotiating", "signed", "landed", "declined", "withdrawn", "lost"}

// funnelTable is a funnel: the grouping's columns, the counts, the
// conversions and the median days of the main line.
func funnelTable(lang string, b map[string]any) table {
	t := table{Name: word(lang, "funnel")}
	var dims []string
	if gs, ok := b["groupBy"].([]any); ok {
		for _, g := range gs {
			dims = append(dims, fmt.Sprint(g))
			t.Header = append(t.Header, word(lang, fmt.Sprint(g)))
		}
	}
	for _, s := range funnelSteps {
		t.Header = append(t.Header, word(lang, s))
	}
	main := funnelSteps[:6]
	for i := 1; i < len(main); i++ {
		t.Header = append(t.Header, wordf(lang, "rate", main[i], main[i-1]))
	}
	for i := 1; i < len(main); i++ {
		t.Header = append(t.Header, wordf(lang, "days", main[i]))
	}
	row := func(g map[string]any, total bool) []any {
		var out []any
		keys, _ := g["key"].([]any)
		for i := range dims {
			switch {
			case total && i == 0:
				out = append(out, map[bool]string{true: "总计", false: "Total"}[lang == "zh"])
			case total || i >= len(keys):
				out = append(out, "")
			case fmt.Sprint(keys[i]) == "":
				out = append(out, word(lang, ""))
			default:
				out = append(out, fmt.Sprint(keys[i]))
			}
		}
		counts, _ := g["counts"].(map[string]any)
		conv, _ := g["conversion"].(map[string]any)
		days, _ := g["medianDays"].(map[string]any)
		for _, s := range funnelSteps {
			out = append(out, jsonNum(counts, s))
		}
		for _, s := range main[1:] {
			out = append(out, jsonNum(conv, s))
		}
		for _, s := range main[1:] {
			if d, ok := jsonNum(days, s).(float64); ok && d >= 0 {
				out = append(out, d)
			} else {
				out = append(out, "")
			}
		}
		return out
	}
	for _, g := range jsonList(b, "groups") {
		t.Rows = append(t.Rows, row(g, false))
	}
	if tot, ok := b["total"].(map[string]any); ok && len(dims) > 0 {
		t.Rows = append(t.Rows, row(tot, true))
	} else if ok {
		t.Rows = append(t.Rows, row(tot, false))
	}
	return t
}

// targetTable is the progress against a year's targets.
func targetTable(lang string, b map[string]any) table {
	t := table{Name: word(lang, "summary")}
	steps := []string{"pushed", "approved", "signed", "landed"}
	t.Header = []string{word(lang, "scope"), word(lang, "code")}
	for _, s := range steps {
		t.Header = append(t.Header, wordf(lang, "target", s), wordf(lang, "actual", s), wordf(lang, "perMonth", s))
	}
	t.Header = append(t.Header, wordf(lang, "target", "investment"), wordf(lang, "actual", "investment"), word(lang, "currency"),
		wordf(lang, "target", "jobs"), wordf(lang, "actual", "jobs"))
	for _, r := range jsonList(b, "rows") {
		target, _ := r["target"].(map[string]any)
		actual, _ := r["actual"].(map[string]any)
		per, _ := r["perMonth"].(map[string]any)
		row := []any{jsonStr(target, "scope"), jsonStr(target, "code")}
		for _, s := range steps {
			row = append(row, jsonNum(target, s), jsonNum(actual, s), jsonNum(per, s))
		}
		row = append(row, jsonStr(target, "investment"), jsonStr(r, "investment"), jsonStr(target, "currency"), jsonNum(target, "jobs"), jsonNum(r, "jobs"))
		t.Rows = append(t.Rows, row)
	}
	return t
}

// dealTable is the signed and landed leads with their deal terms (as the
// caller may see them).
func dealTable(lang string, b map[string]any) table {
	t := table{Name: word(lang, "deals"), Header: []string{word(lang, "id"), word(lang, "title"), word(lang, "organization"),
		word(lang, "site"), word(lang, "division"), word(lang, "stage"), word(lang, "amount"), word(lang, "currency"),
		word(lang, "jobs"), word(lang, "signingDate"), word(lang, "landingDate")}}
	for _, l := range jsonList(b, "leads") {
		d, _ := l["dealTerms"].(map[string]any)
		t.Rows = append(t.Rows, []any{jsonStr(l, "id"), jsonStr(l, "title"), jsonStr(l, "organization"), jsonStr(l, "site"),
			jsonStr(l, "division"), jsonStr(l, "stage"), jsonStr(d, "amount"), jsonStr(d, "currency"), jsonNum(d, "jobs"),
			jsonStr(d, "expectedSigningDate"), jsonStr(d, "expectedLandingDate")})
	}
	return t
}

// monthlyWorkbook answers GET /v1/reports/monthly?month=YYYY-MM (default:
// this month in Shanghai) with one workbook (format=xlsx, the default) or
// its first sheet (format=csv).
func (n *Node) monthlyWorkbook(w http.ResponseWriter, r *http.Request, gw http.Handler) {
	q := r.URL.Query()
	for k := range q {
		if k != "month" && k != "format" {
			writeJSONError(w, http.StatusBadRequest, fmt.Sprintf("%s: unknown parameter; the monthly report takes month (2026-11) and format (xlsx or csv)", clip(k)))
			return
		}
	}
	format := q.Get("format")
	if format == "" {
		format = "xlsx"
	}
	if format != "xlsx" && format != "csv" {
		writeJSONError(w, http.StatusBadRequest, fmt.Sprintf("format: must be xlsx or csv, got %q", clip(format)))
		return
	}
	loc, _, _ := reportZone("")
	month := time.Now().In(loc)
	if m := q.Get("month"); m != "" {
		t, err := time.ParseInLocation("2006-01", m, loc)
		if err != nil {
			writeJSONError(w, http.StatusBadRequest, fmt.Sprintf("month: %q is not a month of the form 2026-11", clip(m)))
			return
		}
		month = t
	}
	first := time.Date(month.Year(), month.Month(), 1, 0, 0, 0, 0, loc)
	last := first.AddDate(0, 1, -1)
	lang := exportLanguage(r)
	get := func(path string, v url.Values) (map[string]any, bool) {
		b, err := innerGet(r, gw, path, v)
		if err != nil {
			writeInnerError(w, err)
			return nil, false
		}
		return b, true
	}
	funnel := func(name string, from, to time.Time, by string) (table, bool) {
		b, ok := get("/v1/reports/funnel", url.Values{"from": {from.Format(time.DateOnly)}, "to": {to.Format(time.DateOnly)}, "groupBy": {by}})
		if !ok {
			return table{}, false
		}
		t := funnelTable(lang, b)
		t.Name = word(lang, name)
		return t, true
	}
	var sheets []table
	b, ok := get("/v1/reports/targets", url.Values{"year": {strconv.Itoa(first.Year())}})
	if !ok {
		return
	}
	sheets = append(sheets, targetTable(lang, b))
	for _, f := range []struct {
		name     string
		from, to time.Time
		by       string
	}{{"byNode", first, last, "site"}, {"byDivision", first, last, "division"},
		{"byMonth", time.Date(first.Year(), 1, 1, 0, 0, 0, 0, loc), last, "month"}} {
		t, ok := funnel(f.name, f.from, f.to, f.by)
		if !ok {
			return
		}
		sheets = append(sheets, t)
	}
	// The lists follow every page (exportPages).
	r = r.Clone(r.Context())
	r.URL = &url.URL{Path: "/v1/leads"}
	t, err := n.exportPages(r, gw, url.Values{"stage": {"SUBMITTED"}, "orderBy": {"createTime"}}, lang,
		func(lang string, b map[string]any) table { return leadTable(lang, jsonList(b, "leads"), nil) })
	if err != nil {
		writeInnerError(w, err)
		return
	}
	t.Name = word(lang, "waiting")
	sheets = append(sheets, t)
	deals, err := n.exportPages(r, gw, url.Values{"stage": {"SIGNED", "LANDED"}, "orderBy": {"-stageTime"}}, lang, dealTable)
	if err != nil {
		writeInnerError(w, err)
		return
	}
	sheets = append(sheets, deals)
	writeTables(w, format, "monthly-"+first.Format("2006-01"), sheets)
}
