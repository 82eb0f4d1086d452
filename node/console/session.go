package console

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	innonetpb "innonet/proto/innonet/v1"
)

// Cookies of the console. The session cookie holds a session token;
// the others hold nothing secret.
const (
	sessionCookie = "innonet_session"
	preCookie     = "innonet_pre" // CSRF before sign-in
	seenCookie    = "innonet_seen"
	flashCookie   = "innonet_flash"
	langCookie    = "innonet_lang"
)

// extendEvery is how often a used session is slid forward.
const extendEvery = 10 * time.Minute

// Accounts is the sign-in part of the API the console needs.
type Accounts interface {
	// SignIn exchanges a name and password for a session token.
	SignIn(ctx context.Context, name, password string) (string, error)
	// SignOut revokes the session token the context carries.
	SignOut(ctx context.Context) error
	// ExtendSession slides the session's expiry.
	ExtendSession(ctx context.Context) error
	// AcceptInvitation sets a password with an invitation code.
	AcceptInvitation(ctx context.Context, code, password string) error
	// Invite invites a new user (userID empty) or an existing one again,
	// returning the one-time code and when it expires.
	Invite(ctx context.Context, inv Invitation) (code string, expires time.Time, err error)
}

// Invitation is who an admin invites.
type Invitation struct {
	RequestID, Name, Site, Division, UserID string
	Role                                    innonetpb.Role
}

// csrfOf derives a session's CSRF token: any site can check it, and only
// a page that can read the session (served by the site) can know it.
func csrfOf(token string) string {
	sum := sha256.Sum256([]byte("innonet console csrf\x00" + token))
	return hex.EncodeToString(sum[:16])
}

// preCSRF returns the pre-sign-in CSRF value of the request, if any.
func preCSRF(r *http.Request) string {
	if c, err := r.Cookie(preCookie); err == nil && len(c.Value) == 32 {
		return c.Value
	}
	return ""
}

func (s *Server) cookie(name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: name, Value: value, Path: "/", HttpOnly: true, Secure: !s.cfg.Insecure,
		SameSite: http.SameSiteStrictMode, MaxAge: maxAge}
}

// ensurePre gives the browser a pre-sign-in CSRF cookie.
func (s *Server) ensurePre(w http.ResponseWriter, v *view) {
	if v.CSRF != "" {
		return
	}
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	v.CSRF = hex.EncodeToString(b)
	http.SetCookie(w, s.cookie(preCookie, v.CSRF, 3600))
}

// sameOrigin refuses a post another site's page made: browsers say so in
// Sec-Fetch-Site and Origin.
func sameOrigin(r *http.Request) bool {
	if sfs := r.Header.Get("Sec-Fetch-Site"); sfs != "" && sfs != "same-origin" && sfs != "none" {
		return false
	}
	if o := r.Header.Get("Origin"); o != "" && o != "null" {
		u, err := url.Parse(o)
		if err != nil || u.Host != r.Host {
			return false
		}
	}
	return true
}

func checkCSRF(r *http.Request, want string) bool {
	got := r.PostFormValue("csrf")
	return want != "" && len(got) == len(want) && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1 && sameOrigin(r)
}

// handlerFunc is a page or action for a signed-in user.
type handlerFunc func(w http.ResponseWriter, r *http.Request, v *view, ctx context.Context)

// authed authenticates the session, checks CSRF on posts and slides the
// session, then calls h with the user's view and API context.
func (s *Server) authed(h handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie(sessionCookie)
		if err != nil || c.Value == "" {
			s.toSignIn(w, r, "")
			return
		}
		token := c.Value
		ctx := s.apiContext(r, token)
		v := s.anonView(r)
		v.CSRF = csrfOf(token)
		if r.Method == http.MethodPost {
			if err := r.ParseMultipartForm(1 << 20); err != nil && err != http.ErrNotMultipart {
				s.errorPage(w, r, v, http.StatusBadRequest, &flash{Kind: "error", Msg: v.T.T("error.form")})
				return
			}
			if !checkCSRF(r, v.CSRF) {
				s.errorPage(w, r, v, http.StatusForbidden, &flash{Kind: "error", Msg: v.T.T("error.csrf")})
				return
			}
		}
		me, err := s.users.WhoAmI(ctx, &innonetpb.WhoAmIRequest{Consistency: stale})
		if err != nil {
			if status.Code(err) == codes.Unauthenticated {
				http.SetCookie(w, s.cookie(sessionCookie, "", -1))
				s.toSignIn(w, r, "signin.ended")
				return
			}
			s.errorPage(w, r, v, httpStatus(err), s.apiFlash(v.T, err))
			return
		}
		v.User = me
		if r.Method == http.MethodGet {
			v.bellOf = s.ringBell(ctx)
			// A call this site answers itself, also while cut off.
			if q, err := s.outbox.ListQueuedWrites(ctx, &innonetpb.ListQueuedWritesRequest{}); err == nil {
				v.Queued, v.QueuedPending = int32(len(q.Writes)), q.Pending
				for _, w := range q.Writes {
					if w.Status == "queued" && w.LeadId != "" {
						if v.QueuedLeads == nil {
							v.QueuedLeads = map[string]bool{}
						}
						v.QueuedLeads[w.LeadId] = true
					}
				}
			}
		}
		// After the user's own write the page reads the leader's copy;
		// not after a write that was queued because no leader answered.
		if v.Flash = s.takeFlash(w, r); v.Flash != nil && v.Flash.Kind != "queued" {
			v.Read = innonetpb.Consistency_LEADER
		}
		s.slide(w, r, ctx)
		h(w, r, v, ctx)
	}
}

// slide extends the session when it was last extended long enough ago.
func (s *Server) slide(w http.ResponseWriter, r *http.Request, ctx context.Context) {
	if s.cfg.Accounts == nil {
		return
	}
	now := s.cfg.Now()
	if c, err := r.Cookie(seenCookie); err == nil {
		if t, err := strconv.ParseInt(c.Value, 10, 64); err == nil && now.Sub(time.Unix(t, 0)) < extendEvery {
			return
		}
	}
	if err := s.cfg.Accounts.ExtendSession(ctx); err != nil {
		s.cfg.Logger.Debug("console: session not extended", "err", err)
		return
	}
	http.SetCookie(w, s.cookie(seenCookie, strconv.FormatInt(now.Unix(), 10), 0))
}

func (s *Server) toSignIn(w http.ResponseWriter, r *http.Request, notice string) {
	q := url.Values{}
	if r.Method == http.MethodGet && r.URL.Path != "/" {
		q.Set("next", r.URL.RequestURI())
	}
	if notice != "" {
		q.Set("notice", notice)
	}
	target := "/signin"
	if len(q) > 0 {
		target += "?" + q.Encode()
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// safeNext keeps only a local path to go to after signing in.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.Contains(next, "\\") {
		return "/"
	}
	return next
}

type signInData struct {
	Name, Next, Notice string
}

func (s *Server) signInPage(w http.ResponseWriter, r *http.Request) {
	v := s.anonView(r)
	if p := checkQuery(r, "next", "notice"); p != "" {
		s.errorPage(w, r, v, http.StatusBadRequest, &flash{Kind: "error", Msg: v.T.T("error.param", p)})
		return
	}
	s.ensurePre(w, v)
	d := signInData{Next: safeNext(r.URL.Query().Get("next"))}
	if n := r.URL.Query().Get("notice"); n == "signin.ended" || n == "signin.signedout" || n == "invite.done" {
		v.Flash = &flash{Kind: "notice", Msg: v.T.T(n)}
	}
	v.Title, v.Data = v.T.T("signin.title"), d
	s.render(w, v, "signin")
}

func (s *Server) signIn(w http.ResponseWriter, r *http.Request) {
	v := s.anonView(r)
	if !checkCSRF(r, v.CSRF) {
		s.errorPage(w, r, v, http.StatusForbidden, &flash{Kind: "error", Msg: v.T.T("error.csrf")})
		return
	}
	d := signInData{Name: strings.TrimSpace(r.PostFormValue("name")), Next: safeNext(r.PostFormValue("next"))}
	v.Title, v.Data = v.T.T("signin.title"), d
	if s.cfg.Accounts == nil {
		v.Status, v.Flash = http.StatusServiceUnavailable, &flash{Kind: "error", Msg: v.T.T("signin.unavailable")}
		s.render(w, v, "signin")
		return
	}
	var token string
	ctx := s.apiContext(r, "")
	// A second session, should a lost answer hide that the first was
	// made, only expires unused.
	err := retryWrite(ctx, func() (err error) {
		token, err = s.cfg.Accounts.SignIn(ctx, d.Name, r.PostFormValue("password"))
		return err
	})
	if err != nil {
		v.Status, v.Flash = httpStatus(err), s.apiFlash(v.T, err)
		if status.Code(err) == codes.Unauthenticated {
			v.Flash = &flash{Kind: "error", Msg: v.T.T("signin.wrong")}
		}
		s.render(w, v, "signin")
		return
	}
	http.SetCookie(w, s.cookie(sessionCookie, token, 0))
	http.SetCookie(w, s.cookie(seenCookie, strconv.FormatInt(s.cfg.Now().Unix(), 10), 0))
	http.SetCookie(w, s.cookie(preCookie, "", -1))
	http.Redirect(w, r, d.Next, http.StatusSeeOther)
}

func (s *Server) signOut(w http.ResponseWriter, r *http.Request) {
	v := s.anonView(r)
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		s.toSignIn(w, r, "")
		return
	}
	if !checkCSRF(r, csrfOf(c.Value)) {
		s.errorPage(w, r, v, http.StatusForbidden, &flash{Kind: "error", Msg: v.T.T("error.csrf")})
		return
	}
	if s.cfg.Accounts != nil {
		if err := s.cfg.Accounts.SignOut(s.apiContext(r, c.Value)); err != nil && status.Code(err) != codes.Unauthenticated {
			s.errorPage(w, r, v, httpStatus(err), s.apiFlash(v.T, err))
			return
		}
	}
	http.SetCookie(w, s.cookie(sessionCookie, "", -1))
	http.SetCookie(w, s.cookie(seenCookie, "", -1))
	http.Redirect(w, r, "/signin?notice=signin.signedout", http.StatusSeeOther)
}

type inviteData struct{ Code string }

func (s *Server) invitePage(w http.ResponseWriter, r *http.Request) {
	v := s.anonView(r)
	if p := checkQuery(r); p != "" {
		s.errorPage(w, r, v, http.StatusBadRequest, &flash{Kind: "error", Msg: v.T.T("error.param", p)})
		return
	}
	s.ensurePre(w, v)
	v.Title, v.Data = v.T.T("invite.title"), inviteData{Code: r.PathValue("code")}
	s.render(w, v, "invite")
}

func (s *Server) acceptInvite(w http.ResponseWriter, r *http.Request) {
	v := s.anonView(r)
	if !checkCSRF(r, v.CSRF) {
		s.errorPage(w, r, v, http.StatusForbidden, &flash{Kind: "error", Msg: v.T.T("error.csrf")})
		return
	}
	v.Title, v.Data = v.T.T("invite.title"), inviteData{Code: r.PathValue("code")}
	pw := r.PostFormValue("password")
	switch {
	case pw != r.PostFormValue("password2"):
		v.Status, v.Flash = http.StatusBadRequest, &flash{Kind: "error", Msg: v.T.T("invite.mismatch")}
	case s.cfg.Accounts == nil:
		v.Status, v.Flash = http.StatusServiceUnavailable, &flash{Kind: "error", Msg: v.T.T("signin.unavailable")}
	default:
		err := s.cfg.Accounts.AcceptInvitation(s.apiContext(r, ""), r.PathValue("code"), pw)
		if err == nil {
			http.Redirect(w, r, "/signin?notice=invite.done", http.StatusSeeOther)
			return
		}
		v.Status, v.Flash = httpStatus(err), s.apiFlash(v.T, err)
	}
	s.render(w, v, "invite")
}

// setLang remembers the user's language. Its form is in every page's
// header, signed in or not, so it carries either the session's CSRF
// token or the pre-sign-in one, whichever the page was drawn with.
func (s *Server) setLang(w http.ResponseWriter, r *http.Request) {
	v := s.anonView(r)
	ok := checkCSRF(r, v.CSRF)
	if c, err := r.Cookie(sessionCookie); err == nil && c.Value != "" && !ok {
		ok = checkCSRF(r, csrfOf(c.Value))
	}
	if !ok {
		s.errorPage(w, r, v, http.StatusForbidden, &flash{Kind: "error", Msg: v.T.T("error.csrf")})
		return
	}
	lang := r.PostFormValue("lang")
	if _, ok := tagOf(lang); !ok {
		s.errorPage(w, r, v, http.StatusBadRequest, &flash{Kind: "error", Msg: v.T.T("error.lang", strings.Join(langCodes, ", "))})
		return
	}
	http.SetCookie(w, s.cookie(langCookie, lang, 365*24*3600))
	http.Redirect(w, r, safeNext(r.PostFormValue("next")), http.StatusSeeOther)
}

// flash is a message shown once on the next page.
type flash struct {
	Kind   string `json:"k"` // notice or error
	Msg    string `json:"m"`
	Detail string `json:"d,omitempty"`
	// Field is the form field an API refusal named (its wire name), so
	// the form can mark it; not kept past the page.
	Field string `json:"-"`
	// Warn is a warning beside a notice: the possible duplicates a
	// submit or an edit was answered with.
	Warn string `json:"w,omitempty"`
}

func (s *Server) setFlash(w http.ResponseWriter, f *flash) {
	if len(f.Detail) > 1500 {
		f.Detail = f.Detail[:1500] + "…"
	}
	if len(f.Warn) > 1000 {
		f.Warn = f.Warn[:1000] + "…"
	}
	b, _ := json.Marshal(f)
	http.SetCookie(w, s.cookie(flashCookie, base64.RawURLEncoding.EncodeToString(b), 60))
}

func (s *Server) takeFlash(w http.ResponseWriter, r *http.Request) *flash {
	c, err := r.Cookie(flashCookie)
	if err != nil {
		return nil
	}
	http.SetCookie(w, s.cookie(flashCookie, "", -1))
	b, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil {
		return nil
	}
	var f flash
	if json.Unmarshal(b, &f) != nil || (f.Kind != "notice" && f.Kind != "error" && f.Kind != "queued") {
		return nil
	}
	return &f
}
