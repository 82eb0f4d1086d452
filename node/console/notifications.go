package console

import (
	"context"
	"net/http"
	"net/mail"
	"strconv"
	"strings"
	"time"

	innonetpb "innonet/proto/innonet/v1"
)

// The bell, the inbox (/inbox) and each user's notification preferences
// (/settings/notifications). The API renders every notification in the
// reader's language; the console only lays them out, links each to the
// lead's page here, and marks the inbox read when the user says so:
// opening /inbox or a lead marks nothing.

// noteKinds are the notification kinds, in the order the API's settings
// list them (node/notify).
var noteKinds = []string{"SUBMITTED", "RETURNED", "ANSWERED", "PUBLISHED", "PUBLISHED_MATCH", "INTEREST", "ASSIGNED",
	"CLAIMED", "STAGE_CHANGED", "DECLINED", "MERGED", "COMMENT", "SLA"}

// commonZones are the zones the preferences offer; any other IANA name
// may be typed.
var commonZones = []string{"Asia/Shanghai", "America/New_York", "Europe/London", "Europe/Berlin", "Asia/Jerusalem", "UTC"}

// bellWait bounds how long a page waits for its unread count.
const bellWait = 3 * time.Second

// bell is the header's unread count and the newest notification's index.
type bell struct {
	Unread int32
	Newest uint64
}

// ringBell reads the bell while the page reads its own data; the
// function it returns waits for the answer.
func (s *Server) ringBell(ctx context.Context) func() *bell {
	ch := make(chan *bell, 1)
	go func() {
		ctx, cancel := context.WithTimeout(ctx, bellWait)
		defer cancel()
		res, err := s.notes.ListNotifications(ctx, &innonetpb.ListNotificationsRequest{PageSize: 1})
		if err != nil {
			s.cfg.Logger.Debug("console: no unread count", "err", err)
			ch <- nil
			return
		}
		b := &bell{Unread: res.Unread}
		if len(res.Notifications) > 0 {
			b.Newest = res.Notifications[0].Index
		}
		ch <- b
	}()
	var b *bell
	done := false
	return func() *bell {
		if !done {
			b, done = <-ch, true
		}
		return b
	}
}

// note is one notification as the inbox shows it.
type note struct {
	N             *innonetpb.Notification
	Subject, Text string
}

type inboxData struct {
	Notes      []note
	Unread     int32
	UnreadOnly bool
	Before     uint64
	Next       string
	First      string
	Newest     uint64
	RID        string
	Loc        *time.Location
}

// inboxText is a notification's text without its link and signature:
// the console links to the lead itself.
func inboxText(n *innonetpb.Notification) string {
	t := n.Text
	if n.Link != "" {
		if i := strings.Index(t, n.Link); i >= 0 {
			t = t[:i]
			if j := strings.LastIndex(t, "\n"); j >= 0 {
				t = t[:j]
			}
		}
	}
	return strings.TrimSpace(t)
}

// inboxQuery is the query of an inbox page.
func inboxQuery(unreadOnly bool, before uint64) string {
	q := []string{}
	if unreadOnly {
		q = append(q, "unread=1")
	}
	if before != 0 {
		q = append(q, "before="+strconv.FormatUint(before, 10))
	}
	if len(q) == 0 {
		return "/inbox"
	}
	return "/inbox?" + strings.Join(q, "&")
}

// inboxPage is how many notifications a page of the inbox shows.
const inboxPage = 30

func (s *Server) inbox(w http.ResponseWriter, r *http.Request, v *view, ctx context.Context) {
	if p := checkQuery(r, "unread", "before"); p != "" {
		s.errorPage(w, r, v, http.StatusBadRequest, errParam(v.T, p))
		return
	}
	q := r.URL.Query()
	d := &inboxData{RID: newRID(), Loc: s.userLoc(v.User)}
	switch u := q.Get("unread"); u {
	case "", "0":
	case "1":
		d.UnreadOnly = true
	default:
		s.errorPage(w, r, v, http.StatusBadRequest, errValue(v.T, "unread", u))
		return
	}
	if b := q.Get("before"); b != "" {
		n, err := strconv.ParseUint(b, 10, 64)
		if err != nil || n == 0 {
			s.errorPage(w, r, v, http.StatusBadRequest, errValue(v.T, "before", b))
			return
		}
		d.Before = n
	}
	res, err := s.notes.ListNotifications(ctx, &innonetpb.ListNotificationsRequest{PageSize: inboxPage, Lang: v.T.lang,
		BeforeIndex: d.Before, UnreadOnly: d.UnreadOnly})
	if err != nil {
		s.errorPage(w, r, v, httpStatus(err), s.apiFlash(v.T, err))
		return
	}
	for _, n := range res.Notifications {
		// The subject's "[innonet]" tells one e-mail from another; here
		// every line is innonet's.
		d.Notes = append(d.Notes, note{N: n, Subject: strings.TrimPrefix(n.Subject, "[innonet] "), Text: inboxText(n)})
	}
	d.Unread = res.Unread
	if res.NextBefore != 0 {
		d.Next = inboxQuery(d.UnreadOnly, res.NextBefore)
	}
	if d.Before != 0 {
		d.First = inboxQuery(d.UnreadOnly, 0)
	}
	// Mark read what the user has seen the bell count, not what came in
	// since the page was drawn.
	if v.bellOf != nil {
		if b := v.bellOf(); b != nil {
			d.Newest = b.Newest
		}
	}
	if d.Before == 0 && len(res.Notifications) > 0 {
		d.Newest = max(d.Newest, res.Notifications[0].Index)
	}
	// The page's own answer is newer than the bell's.
	v.Bell = &bell{Unread: res.Unread, Newest: d.Newest}
	v.Title, v.Data = v.T.T("notes.title"), d
	s.render(w, v, "inbox")
}

func (s *Server) markRead(w http.ResponseWriter, r *http.Request, v *view, ctx context.Context) {
	pf := r.PostForm
	for k := range pf {
		if !has([]string{"csrf", "rid", "through", "unread"}, k) {
			s.errorPage(w, r, v, http.StatusBadRequest, errParam(v.T, k))
			return
		}
	}
	through, err := strconv.ParseUint(pf.Get("through"), 10, 64)
	if err != nil {
		s.errorPage(w, r, v, http.StatusBadRequest, errValue(v.T, "through", pf.Get("through")))
		return
	}
	rid := pf.Get("rid")
	if rid == "" {
		rid = newRID()
	}
	if through != 0 {
		err = retryWrite(ctx, func() error {
			_, err := s.notes.MarkNotificationsRead(ctx, &innonetpb.MarkNotificationsReadRequest{RequestId: rid, ThroughIndex: through})
			return err
		})
		if err != nil {
			s.errorPage(w, r, v, httpStatus(err), s.apiFlash(v.T, err))
			return
		}
	}
	s.setFlash(w, &flash{Kind: "notice", Msg: v.T.T("done.markread")})
	http.Redirect(w, r, inboxQuery(pf.Get("unread") == "1", 0), http.StatusSeeOther)
}

// prefsForm is the preferences form as shown or as posted.
type prefsForm struct {
	Defaults  bool
	Kinds     map[string]bool
	Email     string
	EmailOn   bool
	Digest    bool
	Hour      string
	Zone      string
	OtherZone string
	Lang      string
	RID       string
	// Bad names the field a refusal is about.
	Bad string
}

type prefsData struct {
	F            *prefsForm
	All          []string
	DefaultKinds map[string]bool
	Zones        []string
	Hours        []int
}

func (s *Server) prefsData(f *prefsForm, defaults []string) *prefsData {
	d := &prefsData{F: f, All: noteKinds, DefaultKinds: map[string]bool{}, Zones: commonZones}
	for _, k := range defaults {
		d.DefaultKinds[k] = true
	}
	for h := range 24 {
		d.Hours = append(d.Hours, h)
	}
	return d
}

// zoneFor is the zone a user's digest is at before they pick one.
func (s *Server) zoneFor(u *innonetpb.User) string {
	if name := s.userLoc(u).String(); name != "Local" && name != "" {
		return name
	}
	return "UTC"
}

func (s *Server) prefsPage(w http.ResponseWriter, r *http.Request, v *view, ctx context.Context) {
	if p := checkQuery(r); p != "" {
		s.errorPage(w, r, v, http.StatusBadRequest, errParam(v.T, p))
		return
	}
	p, err := s.notes.GetNotificationPreferences(ctx, &innonetpb.GetNotificationPreferencesRequest{})
	if err != nil {
		s.errorPage(w, r, v, httpStatus(err), s.apiFlash(v.T, err))
		return
	}
	f := &prefsForm{Defaults: len(p.Kinds) == 0 && !p.CustomKinds, Kinds: map[string]bool{}, Email: p.Email, EmailOn: p.EmailOn, Digest: p.Digest,
		Hour: strconv.Itoa(int(p.DigestHour)), Zone: p.TimeZone, Lang: p.Lang, RID: newRID()}
	kinds := p.Kinds
	if f.Defaults {
		kinds = p.DefaultKinds
	}
	for _, k := range kinds {
		f.Kinds[k] = true
	}
	if f.Zone == "" {
		f.Zone = s.zoneFor(v.User)
	}
	if !has(commonZones, f.Zone) {
		f.Zone, f.OtherZone = "", f.Zone
	}
	if !p.Digest && p.DigestHour == 0 {
		f.Hour = "8"
	}
	v.Title, v.Data = v.T.T("prefs.title"), s.prefsData(f, p.DefaultKinds)
	s.render(w, v, "prefs")
}

var prefsFields = []string{"csrf", "rid", "mode", "kind", "email", "email_on", "delivery", "hour", "zone", "zone_other", "lang"}

func (s *Server) savePrefs(w http.ResponseWriter, r *http.Request, v *view, ctx context.Context) {
	pf := r.PostForm
	for k := range pf {
		if !has(prefsFields, k) {
			s.errorPage(w, r, v, http.StatusBadRequest, errParam(v.T, k))
			return
		}
	}
	f := &prefsForm{Defaults: pf.Get("mode") != "custom", Kinds: map[string]bool{}, Email: strings.TrimSpace(pf.Get("email")),
		EmailOn: pf.Get("email_on") == "1", Digest: pf.Get("delivery") == "digest", Hour: strings.TrimSpace(pf.Get("hour")),
		Zone: pf.Get("zone"), OtherZone: strings.TrimSpace(pf.Get("zone_other")), Lang: pf.Get("lang"), RID: pf.Get("rid")}
	if f.RID == "" {
		f.RID = newRID()
	}
	for _, k := range pf["kind"] {
		f.Kinds[k] = true
	}
	req, bad := readPrefs(v.T, f)
	again := func(code int, fl *flash) {
		var defaults []string
		if cur, err := s.notes.GetNotificationPreferences(ctx, &innonetpb.GetNotificationPreferencesRequest{}); err == nil {
			defaults = cur.DefaultKinds
		}
		v.Status, v.Flash, v.Title, v.Data = code, fl, v.T.T("prefs.title"), s.prefsData(f, defaults)
		s.render(w, v, "prefs")
	}
	if bad != nil {
		again(http.StatusBadRequest, bad)
		return
	}
	err := retryWrite(ctx, func() error {
		_, err := s.notes.UpdateNotificationPreferences(ctx, req)
		return err
	})
	if err != nil {
		fl := s.apiFlash(v.T, err)
		if fl.Field != "" {
			f.Bad = fl.Field
		}
		again(httpStatus(err), fl)
		return
	}
	s.setFlash(w, &flash{Kind: "notice", Msg: v.T.T("done.prefs")})
	http.Redirect(w, r, "/settings/notifications", http.StatusSeeOther)
}

// readPrefs checks the posted preferences, saying what is wrong in the
// reader's language before the API is asked.
func readPrefs(t *tr, f *prefsForm) (*innonetpb.UpdateNotificationPreferencesRequest, *flash) {
	req := &innonetpb.UpdateNotificationPreferencesRequest{RequestId: f.RID, Email: f.Email, EmailOn: f.EmailOn, Digest: f.Digest, Lang: f.Lang}
	fail := func(field, key string, args ...any) *flash {
		f.Bad = field
		return &flash{Kind: "error", Msg: t.T(key, args...)}
	}
	if !f.Defaults {
		for _, k := range noteKinds {
			if f.Kinds[k] {
				req.Kinds = append(req.Kinds, k)
			}
		}
		if len(req.Kinds) != len(f.Kinds) {
			return nil, fail("kinds", "prefs.badkind")
		}
		// Exactly the kinds ticked, none too.
		req.CustomKinds = true
	}
	if f.Email != "" {
		if a, err := mail.ParseAddress(f.Email); err != nil || a.Address != f.Email || len(f.Email) > 254 {
			return nil, fail("email", "prefs.bademail", clip(f.Email))
		}
	}
	if f.EmailOn && f.Email == "" {
		return nil, fail("email", "prefs.noemail")
	}
	h, err := strconv.Atoi(f.Hour)
	if err != nil || h < 0 || h > 23 {
		return nil, fail("digest_hour", "prefs.badhour", clip(f.Hour))
	}
	req.DigestHour = int32(h)
	zone := f.Zone
	if f.OtherZone != "" {
		zone = f.OtherZone
	}
	if zone == "" {
		return nil, fail("time_zone", "prefs.nozone")
	}
	if _, err := time.LoadLocation(zone); err != nil || zone == "Local" || len(zone) > 64 {
		return nil, fail("time_zone", "prefs.badzone", clip(zone))
	}
	req.TimeZone = zone
	if f.Lang != "" && f.Lang != "zh" && f.Lang != "en" {
		return nil, fail("lang", "prefs.badlang", clip(f.Lang))
	}
	return req, nil
}
