package console

import (
	"context"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	innonetpb "innonet/proto/innonet/v1"
)

// HQ's settings: the year's targets (/settings/targets), the stage
// limits (/settings/limits) and the calendars' year tables
// (/settings/calendars). Anyone may read them; HQ reviewers edit them.
// A form with a bad value is shown again as posted, with what is wrong
// in the reader's language, and nothing is saved.

var (
	targetScopes = []string{"NETWORK", "SITE", "SUBNODE", "DIVISION"}
	slaStages    = []string{"SUBMITTED", "RETURNED", "APPROVED", "CLAIMED", "NEGOTIATING", "SIGNED"}
	calendars    = []string{"CN", "US", "GB", "DE-BY", "IL"}
	// editableCalendars are those whose years HQ enters: China's official
	// schedule (with make-up working days) and Israel's holidays.
	editableCalendars = []string{"CN", "IL"}
)

// blankTargets is how many empty rows the targets form offers.
const blankTargets = 3

// yearText is a year for a message, whose %d would group its digits.
func yearText(y int32) string { return strconv.Itoa(int(y)) }

func isHQ(u *innonetpb.User) bool { return u.Role == innonetpb.Role_HQ_REVIEWER }

// targetsForm is the targets table as typed.
type targetsForm struct {
	Year    int32
	Version int64
	RID     string
	Rows    []targetLine
	// Bad marks the row (from 0) a refusal names; -1 for none.
	Bad int
}

// targetLine is one row of the form, as text.
type targetLine struct {
	Scope, Code, Pushed, Approved, Signed, Landed, Investment, Currency, Jobs string
}

type targetsData struct {
	F       *targetsForm
	T       *innonetpb.Targets
	CanEdit bool
	Scopes  []string
	Years   []int32
}

func countText(n int32) string {
	if n == 0 {
		return ""
	}
	return strconv.Itoa(int(n))
}

func newTargetsForm(t *innonetpb.Targets) *targetsForm {
	f := &targetsForm{Year: t.Year, Version: t.Version, RID: newRID(), Bad: -1}
	for _, r := range t.Rows {
		f.Rows = append(f.Rows, targetLine{Scope: r.Scope, Code: r.Code, Pushed: countText(r.Pushed), Approved: countText(r.Approved),
			Signed: countText(r.Signed), Landed: countText(r.Landed), Investment: r.Investment, Currency: r.Currency, Jobs: countText(r.Jobs)})
	}
	return f.pad(blankTargets)
}

func (f *targetsForm) pad(n int) *targetsForm {
	for range n {
		f.Rows = append(f.Rows, targetLine{})
	}
	return f
}

func (s *Server) settingsYear(t *tr, v string) (int32, *flash) {
	if v == "" {
		return int32(s.cfg.Now().In(chinaZone).Year()), nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 2000 || n > 2100 {
		return 0, &flash{Kind: "error", Msg: t.T("error.year", clip(v))}
	}
	return int32(n), nil
}

func (s *Server) years() []int32 {
	y := int32(s.cfg.Now().In(chinaZone).Year())
	return []int32{y - 1, y, y + 1}
}

func (s *Server) targetsPage(w http.ResponseWriter, r *http.Request, v *view, ctx context.Context) {
	if p := checkQuery(r, "year"); p != "" {
		s.errorPage(w, r, v, http.StatusBadRequest, errParam(v.T, p))
		return
	}
	year, bad := s.settingsYear(v.T, r.URL.Query().Get("year"))
	if bad != nil {
		s.errorPage(w, r, v, http.StatusBadRequest, bad)
		return
	}
	t, err := s.reps.GetTargets(ctx, &innonetpb.GetTargetsRequest{Year: year, Consistency: v.Read})
	if fallBack(v, err) {
		t, err = s.reps.GetTargets(ctx, &innonetpb.GetTargetsRequest{Year: year, Consistency: stale})
	}
	if err != nil {
		s.errorPage(w, r, v, httpStatus(err), s.apiFlash(v.T, err))
		return
	}
	v.Title = v.T.T("targets.title", yearText(year))
	v.Data = &targetsData{F: newTargetsForm(t), T: t, CanEdit: isHQ(v.User), Scopes: targetScopes, Years: s.years()}
	s.render(w, v, "targets")
}

var targetFields = []string{"csrf", "rid", "version", "year", "scope", "code", "pushed", "approved", "signed", "landed",
	"investment", "currency", "jobs", "remove", "more"}

// rowError finds the row and field a refusal of the targets names
// ("targets[2].code: ...").
var rowError = regexp.MustCompile(`^targets\[(\d+)\]\.(\w+): `)

func (s *Server) saveTargets(w http.ResponseWriter, r *http.Request, v *view, ctx context.Context) {
	if !isHQ(v.User) {
		s.errorPage(w, r, v, http.StatusForbidden, &flash{Kind: "error", Msg: v.T.T("settings.hqonly")})
		return
	}
	for k := range r.PostForm {
		if !has(targetFields, k) {
			s.errorPage(w, r, v, http.StatusBadRequest, errParam(v.T, k))
			return
		}
	}
	year, bad := s.settingsYear(v.T, r.PostFormValue("year"))
	if bad != nil {
		s.errorPage(w, r, v, http.StatusBadRequest, bad)
		return
	}
	f, req, bad := readTargetsForm(v.T, r, year)
	d := &targetsData{F: f, T: &innonetpb.Targets{Year: year}, CanEdit: true, Scopes: targetScopes, Years: s.years()}
	again := func(code int, fl *flash) {
		v.Status, v.Flash, v.Title, v.Data = code, fl, v.T.T("targets.title", yearText(year)), d
		s.render(w, v, "targets")
	}
	switch {
	case r.PostForm.Has("more"):
		f.pad(blankTargets)
		again(0, nil)
		return
	case bad != nil:
		again(http.StatusBadRequest, bad)
		return
	}
	var saved *innonetpb.Targets
	err := retryWrite(ctx, func() (err error) {
		saved, err = s.reps.UpdateTargets(ctx, req)
		return err
	})
	if err == nil {
		s.setFlash(w, &flash{Kind: "notice", Msg: v.T.T("done.targets", yearText(year), saved.Version)})
		http.Redirect(w, r, "/settings/targets?year="+strconv.Itoa(int(year)), http.StatusSeeOther)
		return
	}
	fl := s.apiFlash(v.T, err)
	msg := status.Convert(err).Message()
	if m := rowError.FindStringSubmatch(msg); m != nil {
		// The API names the row of what it sent; find it on the form.
		n, _ := strconv.Atoi(m[1])
		f.Bad = sentRow(f, n)
		fl = &flash{Kind: "error", Msg: v.T.T("targets.badrow", f.Bad+1, v.T.T("targets."+m[2])), Detail: msg}
	}
	if status.Code(err) == codes.Aborted {
		if cur, cerr := s.reps.GetTargets(ctx, &innonetpb.GetTargetsRequest{Year: year, Consistency: innonetpb.Consistency_LEADER}); cerr == nil {
			d.T, f.Version, f.RID = cur, cur.Version, newRID()
			fl = &flash{Kind: "error", Msg: v.T.T("targets.conflict", cur.UpdatedByName, v.T.Time(cur.UpdateTime.AsTime(), s.userLoc(v.User))), Detail: msg}
		}
	}
	f.pad(0)
	again(httpStatus(err), fl)
}

// sentRow is the form's row of the n-th row sent (empty and removed
// rows are not sent).
func sentRow(f *targetsForm, n int) int {
	i := -1
	for j, l := range f.Rows {
		if !l.empty() {
			i++
		}
		if i == n {
			return j
		}
	}
	return -1
}

func (l targetLine) empty() bool {
	return l.Scope == "" && l.Code == "" && l.Pushed == "" && l.Approved == "" && l.Signed == "" && l.Landed == "" &&
		l.Investment == "" && l.Currency == "" && l.Jobs == ""
}

// readTargetsForm reads the posted table: a row removed or left empty is
// dropped; a number that is not a whole number from 0 is refused here.
func readTargetsForm(t *tr, r *http.Request, year int32) (*targetsForm, *innonetpb.UpdateTargetsRequest, *flash) {
	pf := r.PostForm
	f := &targetsForm{Year: year, RID: strings.TrimSpace(pf.Get("rid")), Bad: -1}
	f.Version, _ = strconv.ParseInt(pf.Get("version"), 10, 64)
	if f.RID == "" {
		f.RID = newRID()
	}
	req := &innonetpb.UpdateTargetsRequest{Year: year, RequestId: f.RID, ExpectedVersion: f.Version, Rows: []*innonetpb.TargetRow{}}
	col := func(key string, i int) string {
		if vs := pf[key]; i < len(vs) {
			return strings.TrimSpace(vs[i])
		}
		return ""
	}
	var bad *flash
	for i := range pf["scope"] {
		if slices.Contains(pf["remove"], strconv.Itoa(i)) {
			continue
		}
		l := targetLine{Scope: col("scope", i), Code: strings.ToUpper(col("code", i)), Pushed: col("pushed", i), Approved: col("approved", i),
			Signed: col("signed", i), Landed: col("landed", i), Investment: col("investment", i), Currency: strings.ToUpper(col("currency", i)), Jobs: col("jobs", i)}
		if l.empty() {
			f.Rows = append(f.Rows, l)
			continue
		}
		f.Rows = append(f.Rows, l)
		row := len(f.Rows) - 1
		tr := &innonetpb.TargetRow{Scope: l.Scope, Code: l.Code, Investment: l.Investment, Currency: l.Currency}
		if !has(targetScopes, l.Scope) && bad == nil {
			bad, f.Bad = &flash{Kind: "error", Msg: t.T("targets.badscope", row+1)}, row
		}
		for _, n := range []struct {
			field, text string
			dst         *int32
		}{{"pushed", l.Pushed, &tr.Pushed}, {"approved", l.Approved, &tr.Approved}, {"signed", l.Signed, &tr.Signed},
			{"landed", l.Landed, &tr.Landed}, {"jobs", l.Jobs, &tr.Jobs}} {
			if n.text == "" {
				continue
			}
			v, err := strconv.Atoi(n.text)
			if (err != nil || v < 0 || v > 1_000_000) && bad == nil {
				bad, f.Bad = &flash{Kind: "error", Msg: t.T("targets.badnumber", row+1, t.T("targets."+n.field), clip(n.text))}, row
				continue
			}
			*n.dst = int32(v)
		}
		if l.Investment != "" && bad == nil {
			if _, err := strconv.ParseFloat(l.Investment, 64); err != nil || strings.ContainsAny(l.Investment, "eE+-") {
				bad, f.Bad = &flash{Kind: "error", Msg: t.T("targets.badamount", row+1, clip(l.Investment))}, row
			}
		}
		req.Rows = append(req.Rows, tr)
	}
	return f, req, bad
}

// limitsData is the stage limits page.
type limitsData struct {
	S       *innonetpb.SlaSettings
	Stages  []string
	Values  map[string]string
	Near    string
	RID     string
	CanEdit bool
	Bad     string
}

func (s *Server) limitsPage(w http.ResponseWriter, r *http.Request, v *view, ctx context.Context) {
	if p := checkQuery(r); p != "" {
		s.errorPage(w, r, v, http.StatusBadRequest, errParam(v.T, p))
		return
	}
	st, err := s.reps.GetSlaSettings(ctx, &innonetpb.GetSlaSettingsRequest{})
	if err != nil {
		s.errorPage(w, r, v, httpStatus(err), s.apiFlash(v.T, err))
		return
	}
	d := &limitsData{S: st, Stages: slaStages, Values: map[string]string{}, Near: strconv.Itoa(int(st.Near)), RID: newRID(), CanEdit: isHQ(v.User)}
	for _, k := range slaStages {
		if n, ok := st.Limits[k]; ok {
			d.Values[k] = strconv.Itoa(int(n))
		}
	}
	v.Title, v.Data = v.T.T("limits.title"), d
	s.render(w, v, "limits")
}

func (s *Server) saveLimits(w http.ResponseWriter, r *http.Request, v *view, ctx context.Context) {
	if !isHQ(v.User) {
		s.errorPage(w, r, v, http.StatusForbidden, &flash{Kind: "error", Msg: v.T.T("settings.hqonly")})
		return
	}
	pf := r.PostForm
	for k := range pf {
		if k != "csrf" && k != "rid" && k != "near" && k != "version" && !has(slaStages, strings.TrimPrefix(k, "limit_")) {
			s.errorPage(w, r, v, http.StatusBadRequest, errParam(v.T, k))
			return
		}
	}
	d := &limitsData{S: &innonetpb.SlaSettings{}, Stages: slaStages, Values: map[string]string{}, Near: strings.TrimSpace(pf.Get("near")),
		RID: pf.Get("rid"), CanEdit: true}
	if d.RID == "" {
		d.RID = newRID()
	}
	req := &innonetpb.UpdateSlaSettingsRequest{RequestId: d.RID, Limits: map[string]int32{}}
	// The version the form was read at: someone else's change meanwhile
	// is refused, not overwritten.
	if ver, err := strconv.ParseInt(pf.Get("version"), 10, 64); err == nil {
		req.ExpectedVersion = ver
	}
	var bad *flash
	for _, k := range slaStages {
		text := strings.TrimSpace(pf.Get("limit_" + k))
		d.Values[k] = text
		if text == "" {
			continue
		}
		n, err := strconv.Atoi(text)
		if (err != nil || n < 1 || n > 365) && bad == nil {
			bad, d.Bad = &flash{Kind: "error", Msg: v.T.T("limits.badlimit", v.T.Enum("slastage", k), clip(text))}, k
			continue
		}
		req.Limits[k] = int32(n)
	}
	if n, err := strconv.Atoi(d.Near); (err != nil || n < 0 || n > 30) && bad == nil {
		bad, d.Bad = &flash{Kind: "error", Msg: v.T.T("limits.badnear", clip(d.Near))}, "near"
	} else {
		req.Near = int32(n)
	}
	again := func(code int, fl *flash) {
		if cur, err := s.reps.GetSlaSettings(ctx, &innonetpb.GetSlaSettingsRequest{}); err == nil {
			d.S = cur
		}
		v.Status, v.Flash, v.Title, v.Data = code, fl, v.T.T("limits.title"), d
		s.render(w, v, "limits")
	}
	if bad != nil {
		again(http.StatusBadRequest, bad)
		return
	}
	err := retryWrite(ctx, func() error {
		_, err := s.reps.UpdateSlaSettings(ctx, req)
		return err
	})
	if err != nil {
		again(httpStatus(err), s.apiFlash(v.T, err))
		return
	}
	s.setFlash(w, &flash{Kind: "notice", Msg: v.T.T("done.limits")})
	http.Redirect(w, r, "/settings/limits", http.StatusSeeOther)
}

// calendarData is a calendar's year, and HQ's form for it.
type calendarData struct {
	C                    *innonetpb.CalendarYear
	Calendar             string
	Year                 int32
	Calendars            []string
	Years                []int32
	CanEdit              bool
	Holidays, Workdays   string
	Official             bool
	RID                  string
	Version              int64
	HolidayRows, Makeups []dayRow
}

// dayRow is one day of a year table, in the reader's words.
type dayRow struct {
	Date, Weekday, Name string
}

func (s *Server) calendarQuery(t *tr, cal, year string) (string, int32, *flash) {
	if cal == "" {
		cal = "CN"
	}
	cal = strings.ToUpper(strings.TrimSpace(cal))
	if !has(calendars, cal) {
		return "", 0, errValue(t, "calendar", cal)
	}
	y, bad := s.settingsYear(t, year)
	return cal, y, bad
}

func (s *Server) calendarPage(w http.ResponseWriter, r *http.Request, v *view, ctx context.Context) {
	if p := checkQuery(r, "calendar", "year"); p != "" {
		s.errorPage(w, r, v, http.StatusBadRequest, errParam(v.T, p))
		return
	}
	cal, year, bad := s.calendarQuery(v.T, r.URL.Query().Get("calendar"), r.URL.Query().Get("year"))
	if bad != nil {
		s.errorPage(w, r, v, http.StatusBadRequest, bad)
		return
	}
	c, err := s.reps.GetCalendarYear(ctx, &innonetpb.GetCalendarYearRequest{Calendar: cal, Year: year})
	if err != nil {
		s.errorPage(w, r, v, httpStatus(err), s.apiFlash(v.T, err))
		return
	}
	d := s.calendarData(v, c, cal, year)
	var hol, work []string
	for _, h := range c.Holidays {
		hol = append(hol, strings.TrimSpace(h.Date+" "+h.Name))
	}
	work = append(work, c.Workdays...)
	d.Holidays, d.Workdays, d.Official, d.Version = strings.Join(hol, "\n"), strings.Join(work, "\n"), c.Official, c.Version
	if c.Source != "HQ" {
		// A first table from HQ replaces the built-in one, whatever its
		// version.
		d.Version = 0
	}
	v.Title, v.Data = v.T.T("calendar.title", v.T.Enum("calendar", cal), yearText(year)), d
	s.render(w, v, "calendar")
}

func (s *Server) calendarData(v *view, c *innonetpb.CalendarYear, cal string, year int32) *calendarData {
	d := &calendarData{C: c, Calendar: cal, Year: year, Calendars: calendars, Years: s.years(), RID: newRID(),
		CanEdit: isHQ(v.User) && has(editableCalendars, cal)}
	for _, h := range c.Holidays {
		d.HolidayRows = append(d.HolidayRows, dayRow{Date: h.Date, Weekday: weekday(v.T, h.Date), Name: h.Name})
	}
	for _, w := range c.Workdays {
		d.Makeups = append(d.Makeups, dayRow{Date: w, Weekday: weekday(v.T, w)})
	}
	return d
}

func weekday(t *tr, date string) string {
	d, err := time.Parse(time.DateOnly, date)
	if err != nil {
		return ""
	}
	return t.Enum("weekday", d.Weekday().String())
}

func (s *Server) saveCalendar(w http.ResponseWriter, r *http.Request, v *view, ctx context.Context) {
	pf := r.PostForm
	for k := range pf {
		if !has([]string{"csrf", "rid", "version", "calendar", "year", "holidays", "workdays", "official"}, k) {
			s.errorPage(w, r, v, http.StatusBadRequest, errParam(v.T, k))
			return
		}
	}
	cal, year, bad := s.calendarQuery(v.T, pf.Get("calendar"), pf.Get("year"))
	if bad != nil {
		s.errorPage(w, r, v, http.StatusBadRequest, bad)
		return
	}
	if !isHQ(v.User) || !has(editableCalendars, cal) {
		s.errorPage(w, r, v, http.StatusForbidden, &flash{Kind: "error", Msg: v.T.T("calendar.noedit", v.T.Enum("calendar", cal))})
		return
	}
	rid := pf.Get("rid")
	if rid == "" {
		rid = newRID()
	}
	ver, _ := strconv.ParseInt(pf.Get("version"), 10, 64)
	req := &innonetpb.UpdateCalendarYearRequest{Calendar: cal, Year: year, RequestId: rid, ExpectedVersion: ver, Official: pf.Get("official") == "1"}
	bad = nil
	for i, line := range strings.Split(pf.Get("holidays"), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		date, name, _ := strings.Cut(line, " ")
		if fl := checkDay(v.T, "calendar.holidays", i+1, date, year); fl != nil {
			bad = fl
			break
		}
		req.Holidays = append(req.Holidays, &innonetpb.CalendarYear_Holiday{Date: date, Name: strings.TrimSpace(name)})
	}
	if bad == nil {
		for i, line := range strings.Split(pf.Get("workdays"), "\n") {
			date := strings.TrimSpace(line)
			if date == "" {
				continue
			}
			if fl := checkDay(v.T, "calendar.workdays", i+1, date, year); fl != nil {
				bad = fl
				break
			}
			req.Workdays = append(req.Workdays, date)
		}
	}
	again := func(code int, fl *flash) {
		c, err := s.reps.GetCalendarYear(ctx, &innonetpb.GetCalendarYearRequest{Calendar: cal, Year: year})
		if err != nil {
			c = &innonetpb.CalendarYear{Calendar: cal, Year: year}
		}
		d := s.calendarData(v, c, cal, year)
		d.Holidays, d.Workdays, d.Official, d.Version, d.RID = pf.Get("holidays"), pf.Get("workdays"), req.Official, ver, rid
		v.Status, v.Flash, v.Title, v.Data = code, fl, v.T.T("calendar.title", v.T.Enum("calendar", cal), yearText(year)), d
		s.render(w, v, "calendar")
	}
	if bad != nil {
		again(http.StatusBadRequest, bad)
		return
	}
	err := retryWrite(ctx, func() error {
		_, err := s.reps.UpdateCalendarYear(ctx, req)
		return err
	})
	if err != nil {
		fl := s.apiFlash(v.T, err)
		if status.Code(err) == codes.Aborted {
			fl = &flash{Kind: "error", Msg: v.T.T("calendar.conflict"), Detail: status.Convert(err).Message()}
		}
		again(httpStatus(err), fl)
		return
	}
	s.setFlash(w, &flash{Kind: "notice", Msg: v.T.T("done.calendar", v.T.Enum("calendar", cal), yearText(year))})
	http.Redirect(w, r, "/settings/calendars?calendar="+cal+"&year="+strconv.Itoa(int(year)), http.StatusSeeOther)
}

// checkDay refuses a line of a year table whose date is not a date of
// the year.
func checkDay(t *tr, list string, line int, date string, year int32) *flash {
	d, err := time.Parse(time.DateOnly, date)
	if err != nil {
		return &flash{Kind: "error", Msg: t.T("calendar.baddate", t.T(list), line, clip(date))}
	}
	if int32(d.Year()) != year {
		return &flash{Kind: "error", Msg: t.T("calendar.otheryear", t.T(list), line, date, yearText(year))}
	}
	return nil
}
