package console

import (
	"context"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	innonetpb "innonet/proto/innonet/v1"
)

// usersData is the admin's users screen.
type usersData struct {
	Users   []*innonetpb.User
	Roles   []string
	Sites   []*innonetpb.Site
	Invited *invited
	RID     string
	F       map[string]string
}

// invited is the link of an invitation just made, shown once.
type invited struct {
	Name, Link string
	Expires    time.Time
}

func (s *Server) requireAdmin(w http.ResponseWriter, r *http.Request, v *view) bool {
	if v.User.Role != innonetpb.Role_ADMIN {
		s.errorPage(w, r, v, http.StatusForbidden, &flash{Kind: "error", Msg: v.T.T("error.adminonly")})
		return false
	}
	return true
}

func (s *Server) usersData(ctx context.Context, v *view) (*usersData, error) {
	d := &usersData{Roles: []string{"HQ_REVIEWER", "NODE_STAFF", "DIVISION", "ADMIN"}, RID: newRID(), F: map[string]string{}}
	var md metadata.MD
	us, err := s.users.ListUsers(ctx, &innonetpb.ListUsersRequest{Consistency: stale}, grpc.Header(&md))
	if err != nil {
		return nil, err
	}
	d.Users = us.Users
	v.Fresh = freshOf(us.Read, md)
	if ss, err := s.clust.ListSites(ctx, &innonetpb.ListSitesRequest{Consistency: stale}); err == nil {
		d.Sites = flattenSites(ss.Sites)
	}
	return d, nil
}

func flattenSites(in []*innonetpb.Site) []*innonetpb.Site {
	var out []*innonetpb.Site
	for _, s := range in {
		out = append(out, s)
		out = append(out, flattenSites(s.Subnodes)...)
	}
	return out
}

func (s *Server) usersPage(w http.ResponseWriter, r *http.Request, v *view, ctx context.Context) {
	if !s.requireAdmin(w, r, v) {
		return
	}
	if p := checkQuery(r); p != "" {
		s.errorPage(w, r, v, http.StatusBadRequest, errParam(v.T, p))
		return
	}
	d, err := s.usersData(ctx, v)
	if err != nil {
		s.errorPage(w, r, v, httpStatus(err), s.apiFlash(v.T, err))
		return
	}
	v.Title, v.Data = v.T.T("users.title"), d
	s.render(w, v, "users")
}

func (s *Server) inviteUser(w http.ResponseWriter, r *http.Request, v *view, ctx context.Context) {
	if !s.requireAdmin(w, r, v) {
		return
	}
	f := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	inv := Invitation{RequestID: f("rid"), Name: f("name"), Site: strings.ToUpper(f("site")), Division: f("division"),
		UserID: f("user_id"), Role: innonetpb.Role(innonetpb.Role_value[f("role")])}
	var code string
	var exp time.Time
	err := errNoAccounts
	if s.cfg.Accounts != nil {
		code, exp, err = s.cfg.Accounts.Invite(ctx, inv)
	}
	d, lerr := s.usersData(ctx, v)
	if lerr != nil {
		s.errorPage(w, r, v, httpStatus(lerr), s.apiFlash(v.T, lerr))
		return
	}
	v.Title, v.Data = v.T.T("users.title"), d
	if err != nil {
		for _, k := range []string{"name", "role", "site", "division"} {
			d.F[k] = f(k)
		}
		d.RID = inv.RequestID
		v.Flash, v.Status = s.apiFlash(v.T, err), httpStatus(err)
	} else {
		name := inv.Name
		if name == "" {
			name = inv.UserID
		}
		d.Invited = &invited{Name: name, Link: "https://" + r.Host + "/invite/" + code, Expires: exp}
		if code == "" {
			d.Invited.Link = ""
		}
	}
	s.render(w, v, "users")
}

func (s *Server) revokeUser(w http.ResponseWriter, r *http.Request, v *view, ctx context.Context) {
	if !s.requireAdmin(w, r, v) {
		return
	}
	id := r.PathValue("id")
	if _, err := s.users.RevokeUser(ctx, &innonetpb.RevokeUserRequest{Id: id, RequestId: r.PostFormValue("rid")}); err != nil {
		s.setFlash(w, s.apiFlash(v.T, err))
	} else {
		s.setFlash(w, &flash{Kind: "notice", Msg: v.T.T("done.revoke", id)})
	}
	http.Redirect(w, r, "/admin/users", http.StatusSeeOther)
}

// sitesData is the sites screen: every site and sub-node, and the form
// that adds a sub-node.
type sitesData struct {
	Sites   []*innonetpb.Site
	Parents []*innonetpb.Site
	Kinds   []string
	RID     string
	F       map[string]string
}

func (s *Server) sitesPage(w http.ResponseWriter, r *http.Request, v *view, ctx context.Context) {
	if p := checkQuery(r); p != "" {
		s.errorPage(w, r, v, http.StatusBadRequest, errParam(v.T, p))
		return
	}
	s.renderSites(w, r, v, ctx, map[string]string{})
}

func (s *Server) renderSites(w http.ResponseWriter, r *http.Request, v *view, ctx context.Context, form map[string]string) {
	var md metadata.MD
	ss, err := s.clust.ListSites(ctx, &innonetpb.ListSitesRequest{Consistency: v.Read}, grpc.Header(&md))
	if fallBack(v, err) {
		ss, err = s.clust.ListSites(ctx, &innonetpb.ListSitesRequest{Consistency: stale}, grpc.Header(&md))
	}
	if err != nil {
		s.errorPage(w, r, v, httpStatus(err), s.apiFlash(v.T, err))
		return
	}
	d := &sitesData{Sites: flattenSites(ss.Sites), Kinds: []string{"UNIVERSITY", "INSTITUTE", "COMPANY", "TEAM", "OTHER"}, RID: newRID(), F: form}
	for _, site := range d.Sites {
		// A sub-node hangs under an overseas node or a second-level node.
		if site.Registered && (site.Kind == innonetpb.Site_NODE || site.Level == 2) {
			d.Parents = append(d.Parents, site)
		}
	}
	if form["rid"] != "" {
		d.RID = form["rid"]
	}
	v.Fresh = freshOf(ss.Read, md)
	v.Title, v.Data = v.T.T("sites.title"), d
	s.render(w, v, "sites")
}

// createSite adds a sub-node.
func (s *Server) createSite(w http.ResponseWriter, r *http.Request, v *view, ctx context.Context) {
	if !s.requireAdmin(w, r, v) {
		return
	}
	f := map[string]string{}
	for _, k := range []string{"rid", "code", "parent", "name", "kind"} {
		f[k] = strings.TrimSpace(r.PostFormValue(k))
	}
	_, err := s.clust.CreateSite(ctx, &innonetpb.CreateSiteRequest{RequestId: f["rid"], Code: strings.ToUpper(f["code"]),
		Parent: f["parent"], Name: f["name"], Kind: innonetpb.Site_Kind(innonetpb.Site_Kind_value[f["kind"]])})
	if err != nil {
		v.Flash, v.Status = s.apiFlash(v.T, err), httpStatus(err)
		s.renderSites(w, r, v, ctx, f)
		return
	}
	s.setFlash(w, &flash{Kind: "notice", Msg: v.T.T("done.site", strings.ToUpper(f["code"]))})
	http.Redirect(w, r, "/admin/sites", http.StatusSeeOther)
}

func (s *Server) clusterPage(w http.ResponseWriter, r *http.Request, v *view, ctx context.Context) {
	if p := checkQuery(r); p != "" {
		s.errorPage(w, r, v, http.StatusBadRequest, errParam(v.T, p))
		return
	}
	// The leader alone knows every member's health; without one, the
	// page shows this site's own view.
	var md metadata.MD
	c, err := s.clust.GetCluster(ctx, &innonetpb.GetClusterRequest{}, grpc.Header(&md))
	if err != nil && status.Code(err) == codes.Unavailable {
		c, err = s.clust.GetCluster(ctx, &innonetpb.GetClusterRequest{Consistency: stale}, grpc.Header(&md))
	}
	if err != nil {
		s.errorPage(w, r, v, httpStatus(err), s.apiFlash(v.T, err))
		return
	}
	v.Fresh = freshOf(&innonetpb.ReadInfo{Site: c.Site, Leader: c.Leader, LastContact: c.LastContact}, md)
	v.Title, v.Data = v.T.T("cluster.title"), c
	s.render(w, v, "cluster")
}

// backup streams a backup of this site's copy (ClusterService.Backup, the
// file `innonet restore` reads) to an admin's browser.
func (s *Server) backup(w http.ResponseWriter, r *http.Request, v *view, ctx context.Context) {
	if !s.requireAdmin(w, r, v) {
		return
	}
	if p := checkQuery(r); p != "" {
		s.errorPage(w, r, v, http.StatusBadRequest, errParam(v.T, p))
		return
	}
	st, err := s.clust.Backup(ctx, &innonetpb.BackupRequest{})
	if err != nil {
		s.errorPage(w, r, v, httpStatus(err), s.apiFlash(v.T, err))
		return
	}
	first, err := st.Recv()
	if err != nil {
		s.errorPage(w, r, v, httpStatus(err), s.apiFlash(v.T, err))
		return
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{
		"filename": "innonet-" + s.cfg.Site + "-" + s.cfg.Now().UTC().Format("20060102-150405") + ".ndjson"}))
	_, _ = w.Write(first.Data)
	for {
		c, err := st.Recv()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				s.cfg.Logger.Warn("console: backup download cut", "err", err)
			}
			return
		}
		if _, err := w.Write(c.Data); err != nil {
			return
		}
	}
}
