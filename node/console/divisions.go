package console

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	innonetpb "innonet/proto/innonet/v1"
)

// The divisions' focus profiles (DivisionService) and what they match: a
// lead's fit with each division (the lead page's panel), the published
// leads that fit a division best ("matches for us"), and the profile
// itself, which everyone may read and the division and HQ edit.

// matchRow is one division's fit with one lead, in the reader's words.
type matchRow struct {
	M            *innonetpb.DivisionMatch
	DivisionName string
	Score        string
	Reasons      []string
	// Enterprise is the best-fitting enterprise, in the reader's
	// language where its profile names it so.
	Enterprise string
}

// matchList is a list of fits; Max is the top of their score bars.
type matchList struct {
	Rows []matchRow
	Max  float64
}

// enterprises are the divisions' enterprises by English name, to name them
// in Chinese where the API's reasons name them in English.
func (s *Server) enterprises(ctx context.Context, t *tr) map[string]*innonetpb.Enterprise {
	if t.lang != "zh" {
		return nil
	}
	res, err := s.divs.ListDivisionProfiles(ctx, &innonetpb.ListDivisionProfilesRequest{Consistency: stale})
	if err != nil {
		return nil
	}
	out := map[string]*innonetpb.Enterprise{}
	for _, p := range res.Profiles {
		for _, e := range p.Enterprises {
			if e.NameEn != "" {
				out[e.NameEn] = e
			}
		}
	}
	return out
}

func (s *Server) matchRow(t *tr, m *innonetpb.DivisionMatch, ents map[string]*innonetpb.Enterprise) matchRow {
	r := matchRow{M: m, DivisionName: t.Enum("division", m.Division), Score: t.p.Sprintf("%.2f", m.Score),
		Enterprise: m.Enterprise}
	e := ents[m.Enterprise]
	if e != nil && e.Name != "" {
		r.Enterprise = e.Name
	}
	for _, reason := range m.Reasons {
		if e != nil {
			reason = localEnterprise(reason, e)
		}
		r.Reasons = append(r.Reasons, t.Reason(reason))
	}
	return r
}

// localEnterprise puts an enterprise's own name and needs into the
// reason that names it in English.
func localEnterprise(reason string, e *innonetpb.Enterprise) string {
	prefix := "enterprise " + e.NameEn + " looks for "
	if !strings.HasPrefix(reason, prefix) {
		return reason
	}
	name := e.Name
	if name == "" {
		name = e.NameEn
	}
	out := "enterprise " + name + " looks for " + strings.TrimPrefix(reason, prefix)
	if e.Needs != "" && e.NeedsEn != "" && strings.HasSuffix(out, ": "+e.NeedsEn) {
		out = strings.TrimSuffix(out, e.NeedsEn) + e.Needs
	}
	return out
}

func (s *Server) matchList(ctx context.Context, t *tr, ms []*innonetpb.DivisionMatch) *matchList {
	ents := s.enterprises(ctx, t)
	l := &matchList{Max: 1}
	for _, m := range ms {
		l.Rows = append(l.Rows, s.matchRow(t, m, ents))
		l.Max = max(l.Max, m.Score)
	}
	return l
}

// matchesData is the page of the published leads that fit a division.
type matchesData struct {
	Division  string
	Divisions []string
	Leads     []leadMatch
	Max       float64
	NextURL   string
	First     bool
	Profile   *innonetpb.DivisionProfile
}

type leadMatch struct {
	row
	Match matchRow
}

// matchPage is how many matches the page lists at once.
const matchPage = 20

func (s *Server) matchesPage(w http.ResponseWriter, r *http.Request, v *view, ctx context.Context) {
	if p := checkQuery(r, "division", "page"); p != "" {
		s.errorPage(w, r, v, http.StatusBadRequest, errParam(v.T, p))
		return
	}
	q := r.URL.Query()
	div := strings.ToUpper(q.Get("division"))
	if div == "" {
		div = v.User.Division
	}
	if div == "" {
		div = divisions[0]
	}
	if !has(divisions, div) {
		s.errorPage(w, r, v, http.StatusBadRequest, errValue(v.T, "division", div))
		return
	}
	var md metadata.MD
	res, err := s.divs.ListDivisionMatches(ctx, &innonetpb.ListDivisionMatchesRequest{Division: div, PageSize: matchPage,
		PageToken: q.Get("page"), Consistency: stale}, grpc.Header(&md))
	if err != nil {
		s.errorPage(w, r, v, httpStatus(err), s.apiFlash(v.T, err))
		return
	}
	d := &matchesData{Division: div, Divisions: divisions, Max: 1, First: q.Get("page") == ""}
	ents := s.enterprises(ctx, v.T)
	var leads []*innonetpb.Lead
	for _, m := range res.Matches {
		leads = append(leads, m.Lead)
	}
	for i, rw := range s.rows(v, leads) {
		m := res.Matches[i].Match
		d.Leads = append(d.Leads, leadMatch{row: rw, Match: s.matchRow(v.T, m, ents)})
		d.Max = max(d.Max, m.Score)
	}
	if res.NextPageToken != "" {
		d.NextURL = "/matches?" + url.Values{"division": {div}, "page": {res.NextPageToken}}.Encode()
	}
	if p, err := s.divs.GetDivisionProfile(ctx, &innonetpb.GetDivisionProfileRequest{Division: div, Consistency: stale}); err == nil {
		d.Profile = p
	}
	v.Fresh = freshOf(res.Read, md)
	v.Title, v.Data = v.T.T("matches.title", v.T.Enum("division", div)), d
	s.render(w, v, "matches")
}

// mayEdit reports whether u may edit div's profile: the division itself
// and HQ (the API decides; this spares others a form it would refuse).
func mayEdit(u *innonetpb.User, div string) bool {
	return u.Role == innonetpb.Role_HQ_REVIEWER || (u.Role == innonetpb.Role_DIVISION && u.Division == div)
}

// divisionsData is the page of every division's profile.
type divisionsData struct {
	Profiles []*innonetpb.DivisionProfile
	Mine     string
}

func (s *Server) divisionsPage(w http.ResponseWriter, r *http.Request, v *view, ctx context.Context) {
	if p := checkQuery(r); p != "" {
		s.errorPage(w, r, v, http.StatusBadRequest, errParam(v.T, p))
		return
	}
	var md metadata.MD
	res, err := s.divs.ListDivisionProfiles(ctx, &innonetpb.ListDivisionProfilesRequest{Consistency: v.Read}, grpc.Header(&md))
	if fallBack(v, err) {
		res, err = s.divs.ListDivisionProfiles(ctx, &innonetpb.ListDivisionProfilesRequest{Consistency: stale}, grpc.Header(&md))
	}
	if err != nil {
		s.errorPage(w, r, v, httpStatus(err), s.apiFlash(v.T, err))
		return
	}
	v.Fresh = freshOf(res.Read, md)
	v.Title, v.Data = v.T.T("divisions.title"), &divisionsData{Profiles: res.Profiles, Mine: v.User.Division}
	s.render(w, v, "divisions")
}

// profileData is one division's profile, to read or to edit.
type profileData struct {
	P       *innonetpb.DivisionProfile
	CanEdit bool
	// The form, when editing.
	F *profileForm
	// Current is the profile as stored, when a save met a newer one.
	Current *innonetpb.DivisionProfile
}

// profileForm is the edit form as drawn, from the stored profile or from
// what was posted.
type profileForm struct {
	Division                     string
	Version                      int64
	RID                          string
	Sectors                      []string // one select per rank
	AllSectors, AllDeals         []string
	Keywords                     string
	TRLMin, TRLMax, TRLPreferred string
	Deals                        []string
	Enterprises                  []*innonetpb.Enterprise
	Notes                        string
}

// blankEnterprises is how many empty enterprise rows the form offers;
// "more rows" adds as many again.
const blankEnterprises = 3

func trlText(n int32) string {
	if n == 0 {
		return ""
	}
	return strconv.Itoa(int(n))
}

func newProfileForm(p *innonetpb.DivisionProfile) *profileForm {
	f := &profileForm{Division: p.Division, Version: p.Version, RID: newRID(), Keywords: strings.Join(p.Keywords, "\n"),
		TRLMin: trlText(p.TrlMin), TRLMax: trlText(p.TrlMax), TRLPreferred: trlText(p.TrlPreferred), Notes: p.Notes,
		Enterprises: slices.Clone(p.Enterprises)}
	for _, sec := range p.Sectors {
		f.Sectors = append(f.Sectors, sec.String())
	}
	for _, dt := range p.DealTypes {
		f.Deals = append(f.Deals, dt.String())
	}
	return f.pad(blankEnterprises)
}

// pad fills the form's lists for drawing: a select for every rank and
// blank enterprise rows.
func (f *profileForm) pad(blank int) *profileForm {
	f.AllSectors = enumNames(innonetpb.Sector_name, true)
	f.AllDeals = enumNames(innonetpb.DealType_name, true)
	for len(f.Sectors) < len(f.AllSectors) {
		f.Sectors = append(f.Sectors, "")
	}
	for range blank {
		f.Enterprises = append(f.Enterprises, &innonetpb.Enterprise{})
	}
	return f
}

// division reads the division of the path, or answers 404.
func (s *Server) division(w http.ResponseWriter, r *http.Request, v *view) (string, bool) {
	div := r.PathValue("division")
	if !has(divisions, div) {
		s.errorPage(w, r, v, http.StatusNotFound, &flash{Kind: "error", Msg: v.T.T("error.notfound", r.URL.Path)})
		return "", false
	}
	return div, true
}

func (s *Server) getProfile(ctx context.Context, v *view, div string) (*innonetpb.DivisionProfile, error) {
	p, err := s.divs.GetDivisionProfile(ctx, &innonetpb.GetDivisionProfileRequest{Division: div, Consistency: v.Read})
	if fallBack(v, err) {
		p, err = s.divs.GetDivisionProfile(ctx, &innonetpb.GetDivisionProfileRequest{Division: div, Consistency: stale})
	}
	return p, err
}

func (s *Server) profilePage(w http.ResponseWriter, r *http.Request, v *view, ctx context.Context) {
	s.showProfile(w, r, v, ctx, false)
}

func (s *Server) profileEditPage(w http.ResponseWriter, r *http.Request, v *view, ctx context.Context) {
	s.showProfile(w, r, v, ctx, true)
}

func (s *Server) showProfile(w http.ResponseWriter, r *http.Request, v *view, ctx context.Context, edit bool) {
	if p := checkQuery(r); p != "" {
		s.errorPage(w, r, v, http.StatusBadRequest, errParam(v.T, p))
		return
	}
	div, ok := s.division(w, r, v)
	if !ok {
		return
	}
	p, err := s.getProfile(ctx, v, div)
	if err != nil {
		s.errorPage(w, r, v, httpStatus(err), s.apiFlash(v.T, err))
		return
	}
	d := &profileData{P: p, CanEdit: mayEdit(v.User, div)}
	page := "division"
	if edit {
		if !d.CanEdit {
			s.errorPage(w, r, v, http.StatusForbidden, &flash{Kind: "error", Msg: v.T.T("profile.noedit", v.T.Enum("division", div))})
			return
		}
		d.F, page = newProfileForm(p), "profile"
		v.Title = v.T.T("profile.edit.title", v.T.Enum("division", div))
	} else {
		v.Title = v.T.T("profile.title", v.T.Enum("division", div))
	}
	v.Data = d
	s.render(w, v, page)
}

// profileParams are the fields of the edit form.
var profileParams = []string{"csrf", "rid", "version", "sector", "keywords", "trl_min", "trl_max", "trl_preferred",
	"deal_type", "ent_name", "ent_name_en", "ent_city", "ent_needs", "ent_needs_en", "ent_remove", "notes", "more"}

// saveProfile replaces a division's profile with the form's. A bad value
// or a newer profile shows the form again, as it was posted, with what
// is wrong; nothing is saved.
func (s *Server) saveProfile(w http.ResponseWriter, r *http.Request, v *view, ctx context.Context) {
	div, ok := s.division(w, r, v)
	if !ok {
		return
	}
	for k := range r.PostForm {
		if !has(profileParams, k) {
			s.errorPage(w, r, v, http.StatusBadRequest, errParam(v.T, k))
			return
		}
	}
	f, req, bad := readProfileForm(v.T, r, div)
	d := &profileData{P: &innonetpb.DivisionProfile{Division: div}, CanEdit: true, F: f}
	again := func(status int, fl *flash) {
		v.Status, v.Flash = status, fl
		v.Title, v.Data = v.T.T("profile.edit.title", v.T.Enum("division", div)), d
		s.render(w, v, "profile")
	}
	switch {
	case r.PostForm.Has("more"):
		f.pad(blankEnterprises)
		again(0, nil)
		return
	case bad != nil:
		f.pad(0)
		again(http.StatusBadRequest, bad)
		return
	}
	var saved *innonetpb.DivisionProfile
	err := retryWrite(ctx, func() (err error) {
		saved, err = s.divs.UpdateDivisionProfile(ctx, req)
		return err
	})
	if err == nil {
		s.setFlash(w, &flash{Kind: "notice", Msg: v.T.T("done.profile", v.T.Enum("division", div), saved.Version)})
		http.Redirect(w, r, "/divisions/"+div, http.StatusSeeOther)
		return
	}
	f.pad(0)
	fl := s.apiFlash(v.T, err)
	if status.Code(err) == codes.Aborted {
		// Someone saved meanwhile: show theirs beside the form, which
		// keeps what this user typed and, saved again, replaces theirs.
		if cur, cerr := s.divs.GetDivisionProfile(ctx, &innonetpb.GetDivisionProfileRequest{Division: div,
			Consistency: innonetpb.Consistency_LEADER}); cerr == nil {
			d.Current, f.Version, f.RID = cur, cur.Version, newRID()
			fl = &flash{Kind: "error", Msg: v.T.T("profile.conflict", cur.UpdatedByName, v.T.Time(cur.UpdateTime.AsTime(), s.cfg.Location)),
				Detail: status.Convert(err).Message()}
		}
	}
	again(httpStatus(err), fl)
}

// readProfileForm reads the posted form into the form to draw again and
// the request to send; a value the API could not take is refused here
// with words (bad).
func readProfileForm(t *tr, r *http.Request, div string) (*profileForm, *innonetpb.UpdateDivisionProfileRequest, *flash) {
	pf := r.PostForm
	f := &profileForm{Division: div, RID: strings.TrimSpace(pf.Get("rid")), Keywords: pf.Get("keywords"),
		TRLMin: strings.TrimSpace(pf.Get("trl_min")), TRLMax: strings.TrimSpace(pf.Get("trl_max")),
		TRLPreferred: strings.TrimSpace(pf.Get("trl_preferred")), Notes: strings.TrimSpace(pf.Get("notes"))}
	f.Version, _ = strconv.ParseInt(pf.Get("version"), 10, 64)
	if f.RID == "" {
		f.RID = newRID()
	}
	req := &innonetpb.UpdateDivisionProfileRequest{Division: div, RequestId: f.RID, ExpectedVersion: f.Version,
		Keywords: splitList(f.Keywords), Notes: f.Notes}
	var bad *flash
	for _, sec := range pf["sector"] {
		f.Sectors = append(f.Sectors, sec)
		if sec == "" {
			continue
		}
		n, ok := innonetpb.Sector_value[sec]
		if !ok || n == 0 {
			bad = errValue(t, "sector", sec)
			continue
		}
		req.Sectors = append(req.Sectors, innonetpb.Sector(n))
	}
	for _, dt := range pf["deal_type"] {
		n, ok := innonetpb.DealType_value[dt]
		if !ok || n == 0 {
			bad = errValue(t, "deal_type", dt)
			continue
		}
		f.Deals = append(f.Deals, dt)
		req.DealTypes = append(req.DealTypes, innonetpb.DealType(n))
	}
	for _, x := range []struct {
		name string
		text string
		dst  *int32
	}{{"trl_min", f.TRLMin, &req.TrlMin}, {"trl_max", f.TRLMax, &req.TrlMax}, {"trl_preferred", f.TRLPreferred, &req.TrlPreferred}} {
		if x.text == "" {
			continue
		}
		n, err := strconv.Atoi(x.text)
		if err != nil || n < 1 || n > 9 {
			bad = &flash{Kind: "error", Msg: t.T("error.trl", t.Enum("field", x.name))}
			continue
		}
		*x.dst = int32(n)
	}
	names, removed := pf["ent_name"], pf["ent_remove"]
	col := func(key string, i int) string {
		if vs := pf[key]; i < len(vs) {
			return strings.TrimSpace(vs[i])
		}
		return ""
	}
	for i := range names {
		e := &innonetpb.Enterprise{Name: col("ent_name", i), NameEn: col("ent_name_en", i), City: col("ent_city", i),
			Needs: col("ent_needs", i), NeedsEn: col("ent_needs_en", i)}
		if slices.Contains(removed, strconv.Itoa(i)) || (e.Name == "" && e.NameEn == "" && e.City == "" && e.Needs == "" && e.NeedsEn == "") {
			continue
		}
		f.Enterprises = append(f.Enterprises, e)
		req.Enterprises = append(req.Enterprises, e)
	}
	return f, req, bad
}
