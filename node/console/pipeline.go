package console

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	innonetpb "innonet/proto/innonet/v1"
)

// allStages are the stages in the order the pipeline walks them.
var allStages = []innonetpb.Stage{innonetpb.Stage_SUBMITTED, innonetpb.Stage_RETURNED, innonetpb.Stage_APPROVED,
	innonetpb.Stage_CLAIMED, innonetpb.Stage_NEGOTIATING, innonetpb.Stage_SIGNED, innonetpb.Stage_LANDED,
	innonetpb.Stage_DECLINED, innonetpb.Stage_WITHDRAWN, innonetpb.Stage_LOST, innonetpb.Stage_MERGED}

// boardStages are the board's columns unless the filter names stages.
var boardStages = []innonetpb.Stage{innonetpb.Stage_SUBMITTED, innonetpb.Stage_RETURNED, innonetpb.Stage_APPROVED,
	innonetpb.Stage_CLAIMED, innonetpb.Stage_NEGOTIATING, innonetpb.Stage_SIGNED, innonetpb.Stage_LANDED, innonetpb.Stage_LOST}

// pipelineData is the pipeline overview: a table or a board.
type pipelineData struct {
	Q                           url.Values
	Stages                      []string
	AllStages, Sectors, Orders  []string
	Board                       bool
	List                        *list
	Columns                     []column
	NextURL, BoardURL, TableURL string
	// ExportCSV and ExportXLSX are the list, every page, as a file.
	ExportCSV, ExportXLSX string
}

var pipelineParams = []string{"stage", "q", "site", "subnode", "division", "sector", "country", "trl_min", "trl_max", "order", "view", "page"}

var orders = []string{"-updateTime", "-stageTime", "stageTime", "-createTime", "id"}

func enumNames(m map[int32]string, skipZero bool) []string {
	out := make([]string, 0, len(m))
	for i := int32(0); i < int32(len(m)); i++ {
		if i == 0 && skipZero {
			continue
		}
		out = append(out, m[i])
	}
	return out
}

// pipelineRequest reads the filters of the pipeline page; a bad one is
// refused with a message naming it.
func pipelineRequest(t *tr, q url.Values) (*innonetpb.ListLeadsRequest, *flash) {
	for k := range q {
		if !has(pipelineParams, k) {
			return nil, errParam(t, k)
		}
	}
	req := &innonetpb.ListLeadsRequest{Q: q.Get("q"), Site: strings.ToUpper(q.Get("site")), Subnode: strings.ToUpper(q.Get("subnode")),
		Division: strings.ToUpper(q.Get("division")), Country: strings.ToUpper(q.Get("country")), PageToken: q.Get("page"), PageSize: 50}
	for _, st := range q["stage"] {
		n, ok := innonetpb.Stage_value[st]
		if !ok || n == 0 {
			return nil, errValue(t, "stage", st)
		}
		req.Stage = append(req.Stage, innonetpb.Stage(n))
	}
	if sec := q.Get("sector"); sec != "" {
		n, ok := innonetpb.Sector_value[sec]
		if !ok || n == 0 {
			return nil, errValue(t, "sector", sec)
		}
		req.Sector = innonetpb.Sector(n)
	}
	for _, f := range []struct {
		name string
		dst  *int32
	}{{"trl_min", &req.TrlMin}, {"trl_max", &req.TrlMax}} {
		if v := q.Get(f.name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 9 {
				return nil, &flash{Kind: "error", Msg: t.T("error.trl", f.name)}
			}
			*f.dst = int32(n)
		}
	}
	if o := q.Get("order"); o != "" {
		if !has(orders, o) {
			return nil, errValue(t, "order", o)
		}
		req.OrderBy = o
	} else {
		req.OrderBy = "-updateTime"
	}
	if v := q.Get("view"); v != "" && v != "table" && v != "board" {
		return nil, errValue(t, "view", v)
	}
	return req, nil
}

func has(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func (s *Server) pipeline(w http.ResponseWriter, r *http.Request, v *view, ctx context.Context) {
	q := r.URL.Query()
	req, f := pipelineRequest(v.T, q)
	if f != nil {
		s.errorPage(w, r, v, http.StatusBadRequest, f)
		return
	}
	d := &pipelineData{Q: q, Stages: q["stage"], AllStages: nil,
		Sectors: enumNames(innonetpb.Sector_name, true), Orders: orders, Board: q.Get("view") == "board"}
	for _, st := range allStages {
		d.AllStages = append(d.AllStages, st.String())
	}
	v.Title = v.T.T("pipeline.title")
	var err error
	if d.Board {
		// The board shows the stages a lead moves through; a final stage
		// off the path (declined, withdrawn) when asked for.
		stages := boardStages
		if len(req.Stage) > 0 {
			stages = req.Stage
		}
		d.Columns, err = s.board(ctx, v, stages, req, boardCards)
	} else {
		d.List, err = s.listLeads(ctx, v, req)
		if err == nil {
			v.Fresh = d.List.Fresh
			if d.List.Next != "" {
				nq := cloneValues(q)
				nq.Set("page", d.List.Next)
				d.NextURL = "/leads?" + nq.Encode()
			}
		}
	}
	if err != nil {
		s.errorPage(w, r, v, httpStatus(err), s.apiFlash(v.T, err))
		return
	}
	bq, tq := cloneValues(q), cloneValues(q)
	bq.Set("view", "board")
	bq.Del("page")
	tq.Del("view")
	tq.Del("page")
	d.BoardURL, d.TableURL = "/leads?"+bq.Encode(), "/leads?"+tq.Encode()
	eq := cloneValues(tq)
	eq.Set("format", "csv")
	d.ExportCSV = "/export/leads?" + eq.Encode()
	eq.Set("format", "xlsx")
	d.ExportXLSX = "/export/leads?" + eq.Encode()
	v.Data = d
	s.render(w, v, "pipeline")
}

func cloneValues(q url.Values) url.Values {
	out := url.Values{}
	for k, vs := range q {
		out[k] = append([]string(nil), vs...)
	}
	return out
}
