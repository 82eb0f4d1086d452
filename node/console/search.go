package console

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	innonetpb "innonet/proto/innonet/v1"
)

// The search page: GET /search?q=… asks SearchLeads and shows the hits
// ranked, each with the pieces of its text that matched. The marks are
// drawn from the API's code-point offsets by cutting the plain text into
// segments, so the template escapes every character of a lead and no
// markup from a lead reaches the page.

// searchParams are the parameters the page takes.
var searchParams = []string{"q", "sector", "trl_min", "trl_max", "page"}

// searchData is the search page.
type searchData struct {
	Q        url.Values
	Sectors  []string
	Hits     []searchHit
	Expanded string
	Searched bool
	NextURL  string
}

// searchHit is one lead found, with its highlights cut into segments.
type searchHit struct {
	Row        row
	Highlights []highlight
}

type highlight struct {
	Field, Lang string
	Segs        []segment
}

// segment is a piece of a highlight, marked if it matched.
type segment struct {
	Text string
	Mark bool
}

func (s *Server) search(w http.ResponseWriter, r *http.Request, v *view, ctx context.Context) {
	if k := checkQuery(r, searchParams...); k != "" {
		s.errorPage(w, r, v, http.StatusBadRequest, errParam(v.T, k))
		return
	}
	q := r.URL.Query()
	v.Title = v.T.T("search.title")
	d := &searchData{Q: q, Sectors: enumNames(innonetpb.Sector_name, true)}
	v.Data = d
	text := strings.TrimSpace(q.Get("q"))
	if text == "" {
		s.render(w, v, "search")
		return
	}
	req := &innonetpb.SearchLeadsRequest{Q: text, Lang: v.Lang, PageSize: 20, PageToken: q.Get("page"), Consistency: v.Read}
	if sec := q.Get("sector"); sec != "" {
		n, ok := innonetpb.Sector_value[sec]
		if !ok || n == 0 {
			s.errorPage(w, r, v, http.StatusBadRequest, errValue(v.T, "sector", sec))
			return
		}
		req.Sector = innonetpb.Sector(n)
	}
	for _, f := range []struct {
		name string
		dst  *int32
	}{{"trl_min", &req.TrlMin}, {"trl_max", &req.TrlMax}} {
		if val := q.Get(f.name); val != "" {
			n, err := strconv.Atoi(val)
			if err != nil || n < 1 || n > 9 {
				s.errorPage(w, r, v, http.StatusBadRequest, &flash{Kind: "error", Msg: v.T.T("error.trl", f.name)})
				return
			}
			*f.dst = int32(n)
		}
	}
	var md metadata.MD
	res, err := s.leads.SearchLeads(ctx, req, grpc.Header(&md))
	if fallBack(v, err) {
		req.Consistency = stale
		res, err = s.leads.SearchLeads(ctx, req, grpc.Header(&md))
	}
	if err != nil {
		s.errorPage(w, r, v, httpStatus(err), s.apiFlash(v.T, err))
		return
	}
	d.Searched = true
	v.Fresh = freshOf(res.Read, md)
	d.Expanded = strings.Join(res.Expanded, ", ")
	leads := make([]*innonetpb.Lead, len(res.Hits))
	for i, h := range res.Hits {
		leads[i] = h.Lead
	}
	rows := s.rows(v, leads)
	for i, h := range res.Hits {
		hit := searchHit{Row: rows[i]}
		for _, hl := range h.Highlights {
			hit.Highlights = append(hit.Highlights, highlight{Field: hl.Field, Lang: hl.Lang, Segs: segments(hl)})
		}
		d.Hits = append(d.Hits, hit)
	}
	if res.NextPageToken != "" {
		nq := cloneValues(q)
		nq.Set("page", res.NextPageToken)
		d.NextURL = "/search?" + nq.Encode()
	}
	s.render(w, v, "search")
}

// segments cuts a highlight's text at its marks (code points). Marks out
// of order or out of range are skipped, never trusted.
func segments(hl *innonetpb.SearchHighlight) []segment {
	runes := []rune(hl.Text)
	var out []segment
	at := 0
	for _, m := range hl.Marks {
		start, end := int(m.Start), int(m.End)
		if start < at || end <= start || end > len(runes) {
			continue
		}
		if start > at {
			out = append(out, segment{Text: string(runes[at:start])})
		}
		out = append(out, segment{Text: string(runes[start:end]), Mark: true})
		at = end
	}
	if at < len(runes) {
		out = append(out, segment{Text: string(runes[at:])})
	}
	return out
}
