package console

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	innonetpb "innonet/proto/innonet/v1"
)

// Admins' webhooks (/settings/webhooks): the list and a form to add one,
// each webhook's delivery log with "send again", and a deletion confirmed
// on a page of its own (so it needs no script).

// webhookFormats are the payloads the API sends.
var webhookFormats = []string{"generic", "wecom", "dingtalk", "slack", "teams"}

// signedFormats need a secret of at least minSecret characters.
var signedFormats = []string{"generic", "dingtalk"}

const minSecret = 16

func isAdmin(u *innonetpb.User) bool { return u.Role == innonetpb.Role_ADMIN }

// webhookForm is the form to add a webhook, as typed.
type webhookForm struct {
	URL, Format, Secret, Lang, RID string
	Kinds                          map[string]bool
	Bad                            string
}

type webhooksData struct {
	F        *webhookForm
	Hooks    []*innonetpb.Webhook
	Formats  []string
	All      []string
	Deleting *innonetpb.Webhook
}

func (s *Server) adminOnly(w http.ResponseWriter, r *http.Request, v *view) bool {
	if isAdmin(v.User) {
		return true
	}
	s.errorPage(w, r, v, http.StatusForbidden, &flash{Kind: "error", Msg: v.T.T("webhooks.adminonly")})
	return false
}

func (s *Server) webhooksPage(w http.ResponseWriter, r *http.Request, v *view, ctx context.Context) {
	if p := checkQuery(r); p != "" {
		s.errorPage(w, r, v, http.StatusBadRequest, errParam(v.T, p))
		return
	}
	if !s.adminOnly(w, r, v) {
		return
	}
	s.showWebhooks(w, r, v, ctx, &webhookForm{Format: "generic", Lang: v.Lang, RID: newRID(), Kinds: map[string]bool{}}, 0, nil)
}

func (s *Server) showWebhooks(w http.ResponseWriter, r *http.Request, v *view, ctx context.Context, f *webhookForm, code int, fl *flash) {
	res, err := s.notes.ListWebhooks(ctx, &innonetpb.ListWebhooksRequest{})
	if err != nil {
		s.errorPage(w, r, v, httpStatus(err), s.apiFlash(v.T, err))
		return
	}
	v.Status, v.Flash, v.Title = code, fl, v.T.T("webhooks.title")
	v.Data = &webhooksData{F: f, Hooks: res.Webhooks, Formats: webhookFormats, All: noteKinds}
	s.render(w, v, "webhooks")
}

var webhookFields = []string{"csrf", "rid", "url", "format", "kind", "secret", "lang"}

func (s *Server) createWebhook(w http.ResponseWriter, r *http.Request, v *view, ctx context.Context) {
	if !s.adminOnly(w, r, v) {
		return
	}
	pf := r.PostForm
	for k := range pf {
		if !has(webhookFields, k) {
			s.errorPage(w, r, v, http.StatusBadRequest, errParam(v.T, k))
			return
		}
	}
	f := &webhookForm{URL: strings.TrimSpace(pf.Get("url")), Format: pf.Get("format"), Secret: pf.Get("secret"),
		Lang: pf.Get("lang"), RID: pf.Get("rid"), Kinds: map[string]bool{}}
	if f.RID == "" {
		f.RID = newRID()
	}
	for _, k := range pf["kind"] {
		f.Kinds[k] = true
	}
	req, bad := readWebhook(v.T, f)
	if bad != nil {
		s.showWebhooks(w, r, v, ctx, f, http.StatusBadRequest, bad)
		return
	}
	var hook *innonetpb.Webhook
	err := retryWrite(ctx, func() (err error) {
		hook, err = s.notes.CreateWebhook(ctx, req)
		return err
	})
	if err != nil {
		fl := s.apiFlash(v.T, err)
		if fl.Field != "" {
			f.Bad = fl.Field
		}
		s.showWebhooks(w, r, v, ctx, f, httpStatus(err), fl)
		return
	}
	s.setFlash(w, &flash{Kind: "notice", Msg: v.T.T("done.webhook", hook.Id)})
	http.Redirect(w, r, "/settings/webhooks/"+hook.Id, http.StatusSeeOther)
}

// readWebhook checks the form as the API would, in the reader's words.
func readWebhook(t *tr, f *webhookForm) (*innonetpb.CreateWebhookRequest, *flash) {
	fail := func(field, key string, args ...any) *flash {
		f.Bad = field
		return &flash{Kind: "error", Msg: t.T(key, args...)}
	}
	req := &innonetpb.CreateWebhookRequest{RequestId: f.RID, Url: f.URL, Format: f.Format, Secret: f.Secret, Lang: f.Lang}
	switch {
	case f.URL == "":
		return nil, fail("url", "webhooks.nourl")
	case !strings.HasPrefix(f.URL, "https://") && !strings.HasPrefix(f.URL, "http://127.0.0.1") && !strings.HasPrefix(f.URL, "http://localhost"):
		return nil, fail("url", "webhooks.badurl", clip(f.URL))
	case !has(webhookFormats, f.Format):
		return nil, fail("format", "webhooks.badformat", clip(f.Format))
	case has(signedFormats, f.Format) && len(f.Secret) < minSecret:
		return nil, fail("secret", "webhooks.shortsecret", t.Enum("hookformat", f.Format), minSecret)
	case f.Lang != "zh" && f.Lang != "en":
		return nil, fail("lang", "webhooks.badlang")
	}
	for _, k := range noteKinds {
		if f.Kinds[k] {
			req.Kinds = append(req.Kinds, k)
		}
	}
	if len(req.Kinds) != len(f.Kinds) {
		return nil, fail("kinds", "prefs.badkind")
	}
	return req, nil
}

// webhookOf finds one webhook, or answers the page with why not.
func (s *Server) webhookOf(w http.ResponseWriter, r *http.Request, v *view, ctx context.Context) *innonetpb.Webhook {
	if !s.adminOnly(w, r, v) {
		return nil
	}
	res, err := s.notes.ListWebhooks(ctx, &innonetpb.ListWebhooksRequest{})
	if err != nil {
		s.errorPage(w, r, v, httpStatus(err), s.apiFlash(v.T, err))
		return nil
	}
	id := r.PathValue("id")
	for _, h := range res.Webhooks {
		if h.Id == id {
			return h
		}
	}
	s.errorPage(w, r, v, http.StatusNotFound, &flash{Kind: "error", Msg: v.T.T("webhooks.notfound", clip(id))})
	return nil
}

type deliveriesData struct {
	H          *innonetpb.Webhook
	Deliveries []*innonetpb.WebhookDelivery
	Through    uint64
}

func (s *Server) deliveriesPage(w http.ResponseWriter, r *http.Request, v *view, ctx context.Context) {
	if p := checkQuery(r); p != "" {
		s.errorPage(w, r, v, http.StatusBadRequest, errParam(v.T, p))
		return
	}
	h := s.webhookOf(w, r, v, ctx)
	if h == nil {
		return
	}
	res, err := s.notes.ListWebhookDeliveries(ctx, &innonetpb.ListWebhookDeliveriesRequest{Id: h.Id})
	if err != nil {
		s.errorPage(w, r, v, httpStatus(err), s.apiFlash(v.T, err))
		return
	}
	v.Title = v.T.T("deliveries.title", h.Id)
	v.Data = &deliveriesData{H: h, Deliveries: res.Deliveries, Through: res.DeliveredThrough}
	s.render(w, v, "deliveries")
}

func (s *Server) deleteWebhookPage(w http.ResponseWriter, r *http.Request, v *view, ctx context.Context) {
	if p := checkQuery(r); p != "" {
		s.errorPage(w, r, v, http.StatusBadRequest, errParam(v.T, p))
		return
	}
	h := s.webhookOf(w, r, v, ctx)
	if h == nil {
		return
	}
	v.Title = v.T.T("webhooks.deletetitle", h.Id)
	v.Data = &webhooksData{Deleting: h, F: &webhookForm{RID: newRID()}}
	s.render(w, v, "webhookdelete")
}

func (s *Server) deleteWebhook(w http.ResponseWriter, r *http.Request, v *view, ctx context.Context) {
	if !s.adminOnly(w, r, v) {
		return
	}
	id, rid := r.PathValue("id"), r.PostFormValue("rid")
	if rid == "" {
		rid = newRID()
	}
	err := retryWrite(ctx, func() error {
		_, err := s.notes.DeleteWebhook(ctx, &innonetpb.DeleteWebhookRequest{Id: id, RequestId: rid})
		return err
	})
	if err != nil {
		fl := s.apiFlash(v.T, err)
		if status.Code(err) == codes.NotFound {
			fl.Msg = v.T.T("webhooks.notfound", clip(id))
		}
		s.errorPage(w, r, v, httpStatus(err), fl)
		return
	}
	s.setFlash(w, &flash{Kind: "notice", Msg: v.T.T("done.webhookdeleted", id)})
	http.Redirect(w, r, "/settings/webhooks", http.StatusSeeOther)
}

func (s *Server) redeliver(w http.ResponseWriter, r *http.Request, v *view, ctx context.Context) {
	if !s.adminOnly(w, r, v) {
		return
	}
	id := r.PathValue("id")
	index, err := strconv.ParseUint(r.PostFormValue("index"), 10, 64)
	if err != nil || index == 0 {
		s.errorPage(w, r, v, http.StatusBadRequest, errValue(v.T, "index", r.PostFormValue("index")))
		return
	}
	// A delivery sent again is sent again: the receiver tells the two
	// apart by the idempotency key, so a retry here needs none.
	d, err := s.notes.RedeliverWebhook(ctx, &innonetpb.RedeliverWebhookRequest{Id: id, Index: index})
	back := "/settings/webhooks/" + id
	switch {
	case status.Code(err) == codes.NotFound:
		s.errorPage(w, r, v, http.StatusNotFound, s.apiFlash(v.T, err))
		return
	case err != nil:
		s.setFlash(w, s.apiFlash(v.T, err))
	case d.Error != "" || d.Status < 200 || d.Status > 299:
		s.setFlash(w, &flash{Kind: "error", Msg: v.T.T("done.redeliverfailed", strconv.FormatUint(index, 10), d.Status), Detail: d.Error})
	default:
		s.setFlash(w, &flash{Kind: "notice", Msg: v.T.T("done.redelivered", strconv.FormatUint(index, 10), d.Status)})
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
}
