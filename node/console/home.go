package console

import (
	"context"
	"net/http"
	"sync"

	innonetpb "innonet/proto/innonet/v1"
)

// homeData is the start page of each role.
type homeData struct {
	// HQ reviewers.
	Inbox, Published *list
	// Node staff.
	Returned, Pushed *list
	// Divisions.
	Open   *list
	Deals  []column
	Sector string
	// Everyone.
	Recent *list
	RID    func() string
}

// column is one stage of a board.
type column struct {
	Stage string
	Rows  []row
	More  bool
}

var dealStages = []innonetpb.Stage{innonetpb.Stage_CLAIMED, innonetpb.Stage_NEGOTIATING,
	innonetpb.Stage_SIGNED, innonetpb.Stage_LANDED, innonetpb.Stage_LOST}

func (s *Server) home(w http.ResponseWriter, r *http.Request, v *view, ctx context.Context) {
	if p := checkQuery(r, "sector"); p != "" {
		s.errorPage(w, r, v, http.StatusBadRequest, errParam(v.T, p))
		return
	}
	d := &homeData{RID: newRID}
	var err error
	last := func(l *list) {
		if l != nil && v.Fresh == nil {
			v.Fresh = l.Fresh
		}
	}
	switch v.User.Role {
	case innonetpb.Role_ADMIN:
		http.Redirect(w, r, "/admin/cluster", http.StatusSeeOther)
		return
	case innonetpb.Role_HQ_REVIEWER:
		v.Title = v.T.T("home.hq.title")
		if d.Inbox, err = s.listLeads(ctx, v, &innonetpb.ListLeadsRequest{Stage: []innonetpb.Stage{innonetpb.Stage_SUBMITTED},
			OrderBy: "stageTime", PageSize: 50}); err == nil {
			last(d.Inbox)
			d.Published, err = s.listLeads(ctx, v, &innonetpb.ListLeadsRequest{Stage: []innonetpb.Stage{innonetpb.Stage_APPROVED},
				OrderBy: "stageTime", PageSize: 20})
		}
	case innonetpb.Role_NODE_STAFF:
		v.Title = v.T.T("home.node.title")
		if d.Returned, err = s.listLeads(ctx, v, &innonetpb.ListLeadsRequest{Stage: []innonetpb.Stage{innonetpb.Stage_RETURNED},
			OrderBy: "stageTime", PageSize: 50}); err == nil {
			last(d.Returned)
			d.Pushed, err = s.listLeads(ctx, v, &innonetpb.ListLeadsRequest{OrderBy: "-updateTime", PageSize: 50})
		}
	case innonetpb.Role_DIVISION:
		v.Title = v.T.T("home.division.title", v.T.Enum("division", v.User.Division))
		sec := r.URL.Query().Get("sector")
		req := &innonetpb.ListLeadsRequest{Stage: []innonetpb.Stage{innonetpb.Stage_APPROVED}, OrderBy: "-stageTime", PageSize: 50}
		if sec != "" {
			n, ok := innonetpb.Sector_value[sec]
			if !ok || n == 0 {
				s.errorPage(w, r, v, http.StatusBadRequest, errValue(v.T, "sector", sec))
				return
			}
			req.Sector, d.Sector = innonetpb.Sector(n), sec
		}
		if d.Open, err = s.listLeads(ctx, v, req); err == nil {
			last(d.Open)
			d.Deals, err = s.board(ctx, v, dealStages, &innonetpb.ListLeadsRequest{Division: v.User.Division}, boardCards)
		}
	}
	if err != nil {
		s.errorPage(w, r, v, httpStatus(err), s.apiFlash(v.T, err))
		return
	}
	v.Data = d
	s.render(w, v, "home")
}

// boardCards is how many cards a board column shows; "15+" links to the
// stage's full list.
const boardCards = 15

// board reads one column per stage, each at most n leads, all at once.
func (s *Server) board(ctx context.Context, v *view, stages []innonetpb.Stage, base *innonetpb.ListLeadsRequest, n int32) ([]column, error) {
	out := make([]column, len(stages))
	lists := make([]*list, len(stages))
	errs := make([]error, len(stages))
	var wg sync.WaitGroup
	for i, st := range stages {
		req := &innonetpb.ListLeadsRequest{Stage: []innonetpb.Stage{st}, Site: base.Site, Division: base.Division,
			Sector: base.Sector, Country: base.Country, TrlMin: base.TrlMin, TrlMax: base.TrlMax, Q: base.Q,
			Subnode: base.Subnode, OrderBy: "-stageTime", PageSize: n}
		// Each column reads with a view of its own: a fall-back to this
		// site's copy must not race between columns.
		cv := *v
		wg.Go(func() {
			lists[i], errs[i] = s.listLeads(ctx, &cv, req)
		})
	}
	wg.Wait()
	for i, st := range stages {
		if errs[i] != nil {
			return nil, errs[i]
		}
		if v.Fresh == nil {
			v.Fresh = lists[i].Fresh
		}
		out[i] = column{Stage: st.String(), Rows: lists[i].Rows, More: lists[i].Next != ""}
	}
	return out, nil
}
