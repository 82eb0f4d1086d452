package console

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/timestamppb"

	innonetpb "innonet/proto/innonet/v1"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Config is what a site gives its console.
type Config struct {
	// Site is the code of the site serving the console, e.g. "MUC".
	Site string
	// Conn reaches the site's own gRPC API (in memory).
	Conn grpc.ClientConnInterface
	// Insecure drops the Secure attribute of cookies, for a site serving
	// plain HTTP (serve --insecure); browsers would not send them back.
	Insecure bool
	// Location is the time zone dates are shown in; default the local one.
	Location *time.Location
	// MaxUpload bounds one attachment uploaded through the console.
	MaxUpload int64
	Logger    *slog.Logger
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Accounts signs users in and out.
	Accounts Accounts
}

// Server serves the console.
type Server struct {
	cfg   Config
	cat   *catalogue
	pages map[string]*template.Template
	leads innonetpb.LeadServiceClient
	users innonetpb.UserServiceClient
	clust innonetpb.ClusterServiceClient
	divs  innonetpb.DivisionServiceClient
	reps  innonetpb.ReportServiceClient
	notes innonetpb.NotificationServiceClient
	// outbox lists the user's queued writes (queued.go).
	outbox innonetpb.OutboxServiceClient
	mux    *http.ServeMux
}

// New builds the console of a site.
func New(cfg Config) (*Server, error) {
	if cfg.Conn == nil {
		return nil, fmt.Errorf("console: no connection to the API")
	}
	if cfg.Location == nil {
		cfg.Location = time.Local
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxUpload <= 0 {
		cfg.MaxUpload = 32 << 20
	}
	cat, err := loadCatalogue()
	if err != nil {
		return nil, err
	}
	conn := queuedConn{cfg.Conn}
	s := &Server{cfg: cfg, cat: cat,
		leads:  innonetpb.NewLeadServiceClient(conn),
		users:  innonetpb.NewUserServiceClient(conn),
		clust:  innonetpb.NewClusterServiceClient(conn),
		divs:   innonetpb.NewDivisionServiceClient(conn),
		reps:   innonetpb.NewReportServiceClient(conn),
		notes:  innonetpb.NewNotificationServiceClient(conn),
		outbox: innonetpb.NewOutboxServiceClient(conn)}
	if s.pages, err = parsePages(); err != nil {
		return nil, err
	}
	s.routes()
	return s, nil
}

// parsePages parses each page with the layout and the shared partials.
func parsePages() (map[string]*template.Template, error) {
	files, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	var shared []string
	var pages []string
	for _, f := range files {
		switch name := strings.TrimSuffix(strings.TrimPrefix(f, "templates/"), ".html"); {
		case name == "layout" || strings.HasPrefix(name, "_"):
			shared = append(shared, f)
		default:
			pages = append(pages, f)
		}
	}
	out := map[string]*template.Template{}
	for _, p := range pages {
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, append(shared, p)...)
		if err != nil {
			return nil, fmt.Errorf("console template %s: %w", p, err)
		}
		out[strings.TrimSuffix(strings.TrimPrefix(p, "templates/"), ".html")] = t
	}
	return out, nil
}

var funcs = template.FuncMap{
	"join": strings.Join,
	"list": func(v ...any) []any { return v },
	"eq2":  func(a, b, c any) bool { return a == b || a == c },
	"dict": func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[fmt.Sprint(kv[i])] = kv[i+1]
		}
		return m
	},
	"has": has,
	"inc": func(i int) int { return i + 1 },
	"dec": func(i int) int { return i - 1 },
	// itoa shows a year as digits only (a message's %d would group them).
	"itoa":   func(v any) string { return fmt.Sprint(v) },
	"weburl": weburl,
	// ts is a protobuf time, or the zero time for none (shown as nothing).
	"ts": func(t *timestamppb.Timestamp) time.Time {
		if t == nil {
			return time.Time{}
		}
		return t.AsTime()
	},
}

// weburl is the link of a lead's website as submitted ("hydrosolid.de"
// or "https://hydrosolid.de"): http and https only, else none.
func weburl(site string) string {
	site = strings.TrimSpace(site)
	if site == "" {
		return ""
	}
	if !strings.Contains(site, "://") {
		site = "https://" + site
	}
	u, err := url.Parse(site)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	return u.String()
}

// Handler is the console's HTTP handler, for every path the API does not
// take.
func (s *Server) Handler() http.Handler { return s }

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
		"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	s.mux.ServeHTTP(w, r)
}

func (s *Server) routes() {
	m := http.NewServeMux()
	static, _ := fs.Sub(staticFS, "static")
	files := http.StripPrefix("/static/", http.FileServer(http.FS(static)))
	m.HandleFunc("GET /static/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		files.ServeHTTP(w, r)
	})
	m.HandleFunc("GET /signin", s.signInPage)
	m.HandleFunc("POST /signin", s.signIn)
	m.HandleFunc("POST /signout", s.signOut)
	m.HandleFunc("GET /invite/{code}", s.invitePage)
	m.HandleFunc("POST /invite/{code}", s.acceptInvite)
	m.HandleFunc("POST /lang", s.setLang)
	m.HandleFunc("GET /{$}", s.authed(s.home))
	m.HandleFunc("GET /leads", s.authed(s.pipeline))
	m.HandleFunc("GET /search", s.authed(s.search))
	m.HandleFunc("GET /leads/new", s.authed(s.submitPage))
	m.HandleFunc("POST /leads/new", s.authed(s.submit))
	m.HandleFunc("POST "+CheckPath, s.authed(s.checkDuplicates))
	m.HandleFunc("GET /leads/{id}", s.authed(s.showLead))
	m.HandleFunc("GET /leads/{id}/merge", s.authed(s.mergeConfirmPage))
	m.HandleFunc("POST /leads/{id}/{action}", s.authed(s.leadAction))
	m.HandleFunc("GET /leads/{id}/files/{sha}", s.authed(s.download))
	m.HandleFunc("GET /matches", s.authed(s.matchesPage))
	m.HandleFunc("GET /divisions", s.authed(s.divisionsPage))
	m.HandleFunc("GET /divisions/{division}", s.authed(s.profilePage))
	m.HandleFunc("GET /divisions/{division}/edit", s.authed(s.profileEditPage))
	m.HandleFunc("POST /divisions/{division}", s.authed(s.saveProfile))
	m.HandleFunc("GET /reports", s.authed(s.reports))
	m.HandleFunc("GET /export/{what}", s.authed(s.export))
	m.HandleFunc("GET /settings/targets", s.authed(s.targetsPage))
	m.HandleFunc("POST /settings/targets", s.authed(s.saveTargets))
	m.HandleFunc("GET /settings/limits", s.authed(s.limitsPage))
	m.HandleFunc("POST /settings/limits", s.authed(s.saveLimits))
	m.HandleFunc("GET /settings/calendars", s.authed(s.calendarPage))
	m.HandleFunc("POST /settings/calendars", s.authed(s.saveCalendar))
	m.HandleFunc("GET /inbox", s.authed(s.inbox))
	m.HandleFunc("GET /queued", s.authed(s.queuedPage))
	m.HandleFunc("POST /inbox/read", s.authed(s.markRead))
	m.HandleFunc("GET /settings/notifications", s.authed(s.prefsPage))
	m.HandleFunc("POST /settings/notifications", s.authed(s.savePrefs))
	m.HandleFunc("GET /settings/webhooks", s.authed(s.webhooksPage))
	m.HandleFunc("POST /settings/webhooks", s.authed(s.createWebhook))
	m.HandleFunc("GET /settings/webhooks/{id}", s.authed(s.deliveriesPage))
	m.HandleFunc("GET /settings/webhooks/{id}/delete", s.authed(s.deleteWebhookPage))
	m.HandleFunc("POST /settings/webhooks/{id}/delete", s.authed(s.deleteWebhook))
	m.HandleFunc("POST /settings/webhooks/{id}/redeliver", s.authed(s.redeliver))
	m.HandleFunc("GET /admin/users", s.authed(s.usersPage))
	m.HandleFunc("POST /admin/users", s.authed(s.inviteUser))
	m.HandleFunc("POST /admin/users/{id}/revoke", s.authed(s.revokeUser))
	m.HandleFunc("GET /admin/sites", s.authed(s.sitesPage))
	m.HandleFunc("POST /admin/sites", s.authed(s.createSite))
	m.HandleFunc("GET /admin/cluster", s.authed(s.clusterPage))
	m.HandleFunc("GET /admin/backup", s.authed(s.backup))
	m.HandleFunc("/", s.notFound)
	s.mux = m
}

// view is what every page template gets.
type view struct {
	T      *tr
	Lang   string
	User   *innonetpb.User
	CSRF   string
	Site   string
	Path   string
	Title  string
	Fresh  *freshness
	Flash  *flash
	Now    time.Time
	Loc    *time.Location
	Data   any
	Status int
	// Bell is the unread count in the header; nil where it could not
	// be read (the page shows the bell without a number).
	Bell *bell
	// bell reads Bell; render waits for it.
	bellOf func() *bell
	// Queued counts the user's writes this site holds (all, and still
	// waiting to be sent), for the header's link to /queued.
	Queued, QueuedPending int32
	// QueuedLeads are the leads with a write of the user's waiting to
	// be sent, marked in lead lists.
	QueuedLeads map[string]bool
	// Read is the consistency of the page's reads: this site's copy,
	// or the leader's right after the user's own write (so the page
	// shows it even where this site has not applied it yet).
	Read innonetpb.Consistency
}

// render writes a page.
func (s *Server) render(w http.ResponseWriter, v *view, page string) {
	t, ok := s.pages[page]
	if !ok {
		http.Error(w, "no page "+page, http.StatusInternalServerError)
		return
	}
	v.Site, v.Now, v.Loc = s.cfg.Site, s.cfg.Now(), s.cfg.Location
	// Every page has the language switch, a form that needs a token.
	s.ensurePre(w, v)
	if v.bellOf != nil && v.Bell == nil {
		v.Bell = v.bellOf()
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, v); err != nil {
		s.cfg.Logger.Error("console page failed", "page", page, "err", err)
		http.Error(w, "the page could not be drawn; see the site's log", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if v.Status != 0 {
		w.WriteHeader(v.Status)
	}
	_, _ = w.Write(buf.Bytes())
}

// errorPage shows a refusal on a page of its own.
func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, v *view, code int, f *flash) {
	if v == nil {
		v = s.anonView(r)
	}
	v.Status, v.Flash, v.Title = code, f, v.T.T("error.title")
	s.render(w, v, "error")
}

func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	s.errorPage(w, r, nil, http.StatusNotFound, &flash{Kind: "error", Msg: s.cat.printer(s.cat.choose(r)).T("error.notfound", r.URL.Path)})
}

// anonView is the view of a page for someone not signed in.
func (s *Server) anonView(r *http.Request) *view {
	lang := s.cat.choose(r)
	return &view{T: s.cat.printer(lang), Lang: lang, Path: r.URL.RequestURI(), CSRF: preCSRF(r), Read: stale}
}

// apiContext carries the session token and the browser's address to the
// API, which throttles failed sign-ins by that address.
func (s *Server) apiContext(r *http.Request, token string) context.Context {
	md := metadata.MD{}
	if token != "" {
		md.Set("authorization", "Bearer "+token)
	}
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		md.Set("x-forwarded-for", host)
	}
	return metadata.NewOutgoingContext(r.Context(), md)
}

// checkQuery refuses query parameters a page does not take.
func checkQuery(r *http.Request, allowed ...string) string {
	for k := range r.URL.Query() {
		ok := false
		for _, a := range allowed {
			if k == a {
				ok = true
			}
		}
		if !ok {
			return k
		}
	}
	return ""
}
