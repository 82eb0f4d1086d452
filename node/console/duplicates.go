package console

import (
	"bytes"
	"context"
	"net/http"
	"strconv"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	innonetpb "innonet/proto/innonet/v1"
)

// Possible duplicates: the warning of the submit and edit forms as one
// types (CheckDuplicates, drawn as a fragment app.js puts under the form),
// the notice after a submit or an edit (the duplicates its answer named),
// the lead page's similar leads (GetSimilarLeads) and HQ's merge, with a
// confirmation page of its own.

// CheckPath is the route the forms post their draft to while one types.
const CheckPath = "/leads/check-duplicates"

// dup is one possible duplicate in the reader's words.
type dup struct {
	*innonetpb.PossibleDuplicate
	// Level says how sure in words, Percent in digits; SiteName is the
	// lead's site; Stage its stage, for a lead the reader may see.
	Level, Percent, SiteName, Stage string
	// Hidden is the sentence that stands for a lead the reader may not
	// open.
	Hidden  string
	Reasons []string
}

// dupLikely is the confidence from which a candidate below the API's
// duplicate threshold is still "possibly the same".
const dupLikely = 0.4

func (s *Server) dups(t *tr, ps []*innonetpb.PossibleDuplicate) []dup {
	out := make([]dup, 0, len(ps))
	for _, p := range ps {
		d := dup{PossibleDuplicate: p, Percent: t.T("dup.percent", int(p.Confidence*100+0.5)),
			SiteName: t.Enum("site", p.Site), Reasons: t.Reasons(p.Reasons)}
		switch {
		case p.Duplicate:
			d.Level = t.T("dup.level.likely")
		case p.Confidence >= dupLikely:
			d.Level = t.T("dup.level.possible")
		default:
			d.Level = t.T("dup.level.similar")
		}
		if p.Visible {
			d.Stage = t.Enum("stage", p.Stage.String())
		} else {
			d.Hidden = t.T("dup.hidden", d.SiteName, p.LeadId)
		}
		out = append(out, d)
	}
	return out
}

// dupNotice is the line after a submit or an edit whose answer named
// possible duplicates: the first few, by ID and how sure.
func (s *Server) dupNotice(t *tr, ps []*innonetpb.PossibleDuplicate) string {
	if len(ps) == 0 {
		return ""
	}
	var parts []string
	for i, d := range s.dups(t, ps) {
		if i == 3 {
			parts = append(parts, t.T("dup.notice.more", len(ps)-3))
			break
		}
		parts = append(parts, t.T("dup.notice.one", d.LeadId, d.SiteName, d.Level, d.Percent))
	}
	return t.T("dup.notice", strings.Join(parts, t.T("dup.notice.sep")))
}

// dupFragment is what the check route draws.
type dupFragment struct {
	T     *tr
	Items []dup
}

// checkFields are the fields a draft may carry to the check: the submit
// form's and the edit form's.
var checkFields = append([]string{"id", "website", "version", "comment"}, submitFields...)

// checkDuplicates answers a form being typed with the possible
// duplicates of its draft, as an HTML fragment (empty when there are
// none, or when the draft cannot be checked yet).
func (s *Server) checkDuplicates(w http.ResponseWriter, r *http.Request, v *view, ctx context.Context) {
	f := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	for k := range r.PostForm {
		if !has(checkFields, k) {
			http.Error(w, v.T.T("error.param", k), http.StatusBadRequest)
			return
		}
	}
	req := &innonetpb.CheckDuplicatesRequest{Title: f("title"), Summary: f("summary"), Website: website(f("website")),
		Country: strings.ToUpper(f("country")), Language: f("language"), Id: f("id"), Consistency: stale}
	// An edit sends what it changes; the rest of the draft is the lead's.
	if req.Id != "" {
		l, err := s.leads.GetLead(ctx, &innonetpb.GetLeadRequest{Id: req.Id, Consistency: stale})
		if status.Code(err) == codes.NotFound {
			// Written a moment ago, and not yet here: the leader has it.
			l, err = s.leads.GetLead(ctx, &innonetpb.GetLeadRequest{Id: req.Id, Consistency: innonetpb.Consistency_LEADER})
		}
		if err != nil {
			s.fragmentError(w, v, err)
			return
		}
		req.Organization, req.OrganizationId, req.Country, req.Sector = l.Organization, l.OrganizationId, l.Country, l.Sector
		req.Trl, req.DealType, req.Tags, req.Contacts, req.Language = l.Trl, l.DealType, l.Tags, l.Contacts, l.Language
		if !r.PostForm.Has("title") {
			req.Title = l.Title
		}
		if !r.PostForm.Has("summary") {
			req.Summary = l.Summary
		}
		if !r.PostForm.Has("website") {
			req.Website = l.Website
		}
	} else {
		req.Sector = innonetpb.Sector(innonetpb.Sector_value[f("sector")])
		req.DealType = innonetpb.DealType(innonetpb.DealType_value[f("deal_type")])
		if n, err := strconv.Atoi(f("trl")); err == nil && n >= 1 && n <= 9 {
			req.Trl = int32(n)
		}
		req.Tags = splitList(f("tags"))
		if oid := f("organization_id"); oid != "" && oid != "new" {
			req.OrganizationId = oid
		} else {
			req.Organization = f("org_name")
		}
		if f("contact_name") != "" || f("contact_email") != "" || f("contact_phone") != "" {
			req.Contacts = []*innonetpb.Contact{{Name: f("contact_name"), Email: f("contact_email"), Phone: f("contact_phone")}}
		}
	}
	res, err := s.leads.CheckDuplicates(ctx, req)
	if err != nil {
		s.fragmentError(w, v, err)
		return
	}
	s.renderPart(w, "submit", "dupes", &dupFragment{T: v.T, Items: s.dups(v.T, res.PossibleDuplicates)})
}

// fragmentError answers a check that failed: the status, and the refusal
// in words (the form shows nothing; the submit will say what is wrong).
func (s *Server) fragmentError(w http.ResponseWriter, v *view, err error) {
	f := s.apiFlash(v.T, err)
	http.Error(w, f.Msg+" "+f.Detail, httpStatus(err))
}

// renderPart draws one named template of a page's set, without the
// layout.
func (s *Server) renderPart(w http.ResponseWriter, page, name string, data any) {
	t, ok := s.pages[page]
	if !ok {
		http.Error(w, "no page "+page, http.StatusInternalServerError)
		return
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, name, data); err != nil {
		s.cfg.Logger.Error("console fragment failed", "page", page, "part", name, "err", err)
		http.Error(w, "the fragment could not be drawn; see the site's log", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write(buf.Bytes())
}

// website is a web address as typed, with https:// where it has no
// scheme ("hydrosolid.de"): the API takes addresses with their scheme.
func website(s string) string {
	s = strings.TrimSpace(s)
	if s != "" && !strings.Contains(s, "://") {
		s = "https://" + s
	}
	return s
}

// splitList splits a list typed with commas (also the Chinese ones) or
// one item a line.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '，' || r == '、' || r == '\n' }) {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// mergeData is the page that asks HQ to confirm a merge.
type mergeData struct {
	From, Into *innonetpb.Lead
	Comment    string
	RID        string
}

// mergeable are the stages MergeLead takes a lead from.
var mergeable = []innonetpb.Stage{innonetpb.Stage_SUBMITTED, innonetpb.Stage_RETURNED, innonetpb.Stage_APPROVED,
	innonetpb.Stage_DECLINED, innonetpb.Stage_WITHDRAWN, innonetpb.Stage_LOST}

// mergeConfirmPage is the confirmation of a merge, at GET
// /leads/{id}/merge?into=…&comment=…: the lead page's merge forms ask for
// it, and it changes nothing.
func (s *Server) mergeConfirmPage(w http.ResponseWriter, r *http.Request, v *view, ctx context.Context) {
	if p := checkQuery(r, "into", "comment"); p != "" {
		s.errorPage(w, r, v, http.StatusBadRequest, errParam(v.T, p))
		return
	}
	q := r.URL.Query()
	s.mergePage(w, r, v, ctx, r.PathValue("id"), q.Get("into"), q.Get("comment"), newRID())
}

// mergePage shows both leads and what a merge does, before HQ confirms
// it; a lead that cannot be merged into is refused here already.
func (s *Server) mergePage(w http.ResponseWriter, r *http.Request, v *view, ctx context.Context, id, into, comment, rid string) {
	into = strings.ToUpper(strings.TrimSpace(into))
	back := func(f *flash) {
		s.setFlash(w, f)
		http.Redirect(w, r, "/leads/"+id, http.StatusSeeOther)
	}
	switch into {
	case "":
		back(&flash{Kind: "error", Msg: v.T.T("api.merge.nointo")})
		return
	case id:
		back(&flash{Kind: "error", Msg: v.T.T("api.merge.self", id)})
		return
	}
	from, err := s.leads.GetLead(ctx, &innonetpb.GetLeadRequest{Id: id, Consistency: stale, Lang: v.Lang})
	if err != nil {
		back(s.apiFlash(v.T, err))
		return
	}
	target, err := s.leads.GetLead(ctx, &innonetpb.GetLeadRequest{Id: into, Consistency: stale, Lang: v.Lang})
	if status.Code(err) == codes.NotFound || status.Code(err) == codes.InvalidArgument {
		back(&flash{Kind: "error", Msg: v.T.T("api.merge.unknown", into), Detail: status.Convert(err).Message()})
		return
	}
	if err != nil {
		back(s.apiFlash(v.T, err))
		return
	}
	if target.Stage == innonetpb.Stage_MERGED {
		back(&flash{Kind: "error", Msg: v.T.T("api.merge.intomerged", target.Id, target.MergedInto)})
		return
	}
	v.Title = v.T.T("merge.title", from.Id, target.Id)
	v.Data = &mergeData{From: from, Into: target, Comment: strings.TrimSpace(comment), RID: rid}
	s.render(w, v, "merge")
}
