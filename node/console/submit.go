package console

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	innonetpb "innonet/proto/innonet/v1"
)

// SubmitPath is the submit form's route; like UploadPath it carries
// files, so the site mounts it past its whole-body limit.
const SubmitPath = "POST /leads/new"

// submitData is the submit form, with what was entered when it comes
// back with an error.
type submitData struct {
	F                 map[string]string
	Orgs              []*innonetpb.Organization
	Sectors, Deals    []string
	OrgKinds          []string
	RID               string
	MaxUploadMB       int64
	Languages         []string
	FieldErr, FieldOf string
}

var submitFields = []string{"title", "summary", "organization_id", "org_name", "org_kind", "country", "sector", "trl",
	"deal_type", "tags", "language", "website", "contact_name", "contact_email", "contact_phone", "rid", "csrf",
	"file"} // a file input with no file chosen comes as an empty value

// languagesOffered are the usual languages of leads; any BCP 47 tag is
// accepted.
var languagesOffered = []string{"en", "de", "fr", "he", "zh", "ja"}

func (s *Server) submitForm(ctx context.Context, v *view, d *submitData) {
	d.Sectors = enumNames(innonetpb.Sector_name, true)
	d.Deals = enumNames(innonetpb.DealType_name, true)
	d.OrgKinds = enumNames(innonetpb.Organization_Kind_name, true)
	d.MaxUploadMB, d.Languages = s.cfg.MaxUpload>>20, languagesOffered
	if d.RID == "" {
		d.RID = newRID()
	}
	var md metadata.MD
	if orgs, err := s.leads.ListOrganizations(ctx, &innonetpb.ListOrganizationsRequest{Consistency: stale, PageSize: 200}, grpc.Header(&md)); err == nil {
		d.Orgs = orgs.Organizations
		v.Fresh = freshOf(orgs.Read, md)
	}
	v.Title, v.Data = v.T.T("submit.title"), d
}

func (s *Server) submitPage(w http.ResponseWriter, r *http.Request, v *view, ctx context.Context) {
	if p := checkQuery(r); p != "" {
		s.errorPage(w, r, v, http.StatusBadRequest, errParam(v.T, p))
		return
	}
	d := &submitData{F: map[string]string{"language": "en", "trl": "4"}}
	s.submitForm(ctx, v, d)
	s.render(w, v, "submit")
}

func (s *Server) submit(w http.ResponseWriter, r *http.Request, v *view, ctx context.Context) {
	d := &submitData{F: map[string]string{}}
	for k := range r.PostForm {
		if !has(submitFields, k) {
			s.errorPage(w, r, v, http.StatusBadRequest, errParam(v.T, k))
			return
		}
	}
	for _, k := range submitFields {
		d.F[k] = strings.TrimSpace(r.PostFormValue(k))
	}
	d.RID = d.F["rid"]
	fail := func(err error) {
		s.submitForm(ctx, v, d)
		v.Flash, v.Status = s.apiFlash(v.T, err), httpStatus(err)
		s.render(w, v, "submit")
	}
	req := &innonetpb.SubmitLeadRequest{RequestId: d.RID, Title: d.F["title"], Summary: d.F["summary"],
		Country: strings.ToUpper(d.F["country"]), Language: d.F["language"], Website: website(d.F["website"]),
		Sector:   innonetpb.Sector(innonetpb.Sector_value[d.F["sector"]]),
		DealType: innonetpb.DealType(innonetpb.DealType_value[d.F["deal_type"]])}
	if n, err := strconv.Atoi(d.F["trl"]); err == nil {
		req.Trl = int32(n)
	}
	req.Tags = splitList(d.F["tags"])
	if d.F["contact_name"] != "" || d.F["contact_email"] != "" || d.F["contact_phone"] != "" {
		req.Contacts = []*innonetpb.Contact{{Name: d.F["contact_name"], Email: d.F["contact_email"], Phone: d.F["contact_phone"]}}
	}
	switch {
	case d.F["organization_id"] != "" && d.F["organization_id"] != "new":
		req.OrganizationId = d.F["organization_id"]
	case d.F["org_name"] != "":
		var org *innonetpb.Organization
		err := retryWrite(ctx, func() (err error) {
			org, err = s.leads.CreateOrganization(ctx, &innonetpb.CreateOrganizationRequest{RequestId: d.RID + "-org",
				Name: d.F["org_name"], Country: req.Country,
				Kind: innonetpb.Organization_Kind(innonetpb.Organization_Kind_value[d.F["org_kind"]])})
			return err
		})
		if err != nil {
			fail(err)
			return
		}
		req.OrganizationId = org.Id
	}
	var l *innonetpb.Lead
	// A submit may be queued on a site cut off from the leader
	// (queued.go); its files then wait for the lead it makes.
	qctx, mark := allowQueued(ctx)
	err := retryWrite(ctx, func() (err error) {
		l, err = s.leads.SubmitLead(qctx, req)
		return err
	})
	if err != nil {
		fail(err)
		return
	}
	if mark.queued() != "" {
		s.setFlash(w, queuedFlash(v.T))
		http.Redirect(w, r, "/queued", http.StatusSeeOther)
		return
	}
	notice := &flash{Kind: "notice", Msg: v.T.T("done.submit", l.Id), Warn: s.dupNotice(v.T, l.PossibleDuplicates)}
	if r.MultipartForm != nil {
		for i, fh := range r.MultipartForm.File["file"] {
			if fh.Size == 0 {
				continue
			}
			err := retryWrite(ctx, func() error { return s.uploadOne(ctx, l.Id, d.RID+"-f"+strconv.Itoa(i), fh, 0, "") })
			if err != nil {
				warn := notice.Warn
				notice = s.apiFlash(v.T, err)
				notice.Msg = v.T.T("done.submit.filefailed", l.Id, fh.Filename) + " " + notice.Msg
				notice.Warn = warn
			}
		}
	}
	s.setFlash(w, notice)
	http.Redirect(w, r, "/leads/"+l.Id, http.StatusSeeOther)
}
