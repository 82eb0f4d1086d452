package node

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"innonet/node/pipeline"
	"innonet/node/search"
	innonetpb "innonet/proto/innonet/v1"
)

// Page sizes of SearchLeads.
const (
	defaultSearchPage = 20
	maxSearchPage     = 100
	// searchScanBudget is how many hits one page may pass over that the
	// caller may not see (or that changed since they were indexed) before
	// it answers a shorter page with a token to go on.
	searchScanBudget = 2000
	// searchCatchUp is how long a search waits for the index to reflect
	// the state before it answers from the index as it is.
	searchCatchUp = 2 * time.Second
	// searchTokenVersion is the first byte of a page token.
	searchTokenVersion = 1
)

// SearchLeads answers from this site's search index (node/search), with
// the leads as this site's state holds them, through the caller's view:
// the same visibility as ListLeads (pipeline.User.CanSee), checked on each
// hit against the state, since the index may lag it by a batch.
func (s *leadService) SearchLeads(ctx context.Context, r *innonetpb.SearchLeadsRequest) (*innonetpb.SearchLeadsResponse, error) {
	u, err := s.n.authenticate(ctx)
	if err != nil {
		return nil, err
	}
	sq, err := parseSearchQuery(r)
	if err != nil {
		return nil, err
	}
	if err := s.n.checkSiteFilter("site", sq.query.Site); err != nil {
		return nil, err
	}
	// Read your writes: give the index a moment to take in what the state
	// holds (it is usually a batch behind at most), but answer anyway.
	wctx, cancel := context.WithTimeout(ctx, searchCatchUp)
	_ = s.n.search.WaitFor(wctx, s.n.state.AppliedIndex())
	cancel()
	out := &innonetpb.SearchLeadsResponse{Hits: []*innonetpb.SearchHit{}, IndexedIndex: s.n.search.Indexed()}
	q := sq.query
	switch u.Role {
	case pipeline.NodeStaff:
		site := pipeline.FirstLevelSite(u.Site)
		if q.Site != "" && q.Site != site {
			return out, nil
		}
		q.Site = site
	case pipeline.DivisionRole:
		q.PublishedOnly = true
	}
	var glossary map[string]*pipeline.GlossaryTerm
	if sq.lang != "" {
		if glossary, err = s.glossaryByTerm(); err != nil {
			return nil, err
		}
	}
	pos, passed := sq.offset, 0
	for len(out.Hits) < sq.size && passed < searchScanBudget {
		q.From, q.Size = pos, sq.size+sq.size/2
		res, err := s.n.search.Search(ctx, q)
		if err != nil {
			return nil, status.Errorf(codes.Internal, "search: %v", err)
		}
		out.Expanded = res.Expanded
		for _, h := range res.Hits {
			if len(out.Hits) == sq.size {
				break
			}
			pos++
			l, err := s.n.state.Lead(h.ID)
			if err != nil || !u.CanSee(l) || !q.Keeps(l) {
				passed++
				continue
			}
			hit := &innonetpb.SearchHit{Lead: s.localize(leadPB(u, l), l, sq.lang, glossary), Score: h.Score}
			for _, hl := range s.n.search.Highlights(h, l) {
				ph := &innonetpb.SearchHighlight{Field: hl.Field, Lang: hl.Lang, Text: hl.Text}
				for _, m := range hl.Marks {
					ph.Marks = append(ph.Marks, &innonetpb.TextSpan{Start: int32(m.Start), End: int32(m.End)})
				}
				hit.Highlights = append(hit.Highlights, ph)
			}
			out.Hits = append(out.Hits, hit)
		}
		if uint64(pos) >= res.Total || len(res.Hits) < q.Size {
			pos = -1 // no more
			break
		}
	}
	leads := make([]*innonetpb.Lead, len(out.Hits))
	for i, h := range out.Hits {
		leads[i] = h.Lead
	}
	s.n.decorateLeads(u, leads...)
	if pos >= 0 {
		out.NextPageToken = sq.token(pos)
	}
	return out, nil
}

// searchQuery is a SearchLeads request, checked.
type searchQuery struct {
	query  search.Query
	lang   string
	size   int
	offset int
	// print identifies the query, so that a page token is not used with
	// another.
	print [8]byte
}

func (q *searchQuery) token(offset int) string {
	b := append([]byte{searchTokenVersion}, q.print[:]...)
	b = binary.AppendUvarint(b, uint64(offset))
	return base64.RawURLEncoding.EncodeToString(b)
}

func (q *searchQuery) position(tok string) (int, error) {
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(raw) < 10 || raw[0] != searchTokenVersion {
		return 0, status.Error(codes.InvalidArgument, "page_token: not a token from a previous page")
	}
	if string(raw[1:9]) != string(q.print[:]) {
		return 0, status.Error(codes.InvalidArgument, "page_token: a token from another query (its q or filters differ); start again without it")
	}
	off, n := binary.Uvarint(raw[9:])
	if n <= 0 || n != len(raw)-9 || off > 1<<20 {
		return 0, status.Error(codes.InvalidArgument, "page_token: not a token from a previous page")
	}
	return int(off), nil
}

// parseSearchQuery checks every field of a SearchLeads request and names
// the one that is wrong.
func parseSearchQuery(r *innonetpb.SearchLeadsRequest) (*searchQuery, error) {
	if err := refuseUnknownFields(r); err != nil {
		return nil, err
	}
	text, err := filterText("q", r.Q)
	if err != nil {
		return nil, err
	}
	rest, trlMin, trlMax := search.ParseText(text)
	if len(pipeline.SearchWords(rest)) == 0 && trlMin == 0 {
		return nil, status.Errorf(codes.InvalidArgument, "q: %q has no letter or digit to search for", clip(r.Q))
	}
	sq := &searchQuery{query: search.Query{Text: rest}}
	q := &sq.query
	for _, st := range r.Stage {
		s := pipeline.Stage(st)
		if !s.Valid() {
			return nil, status.Errorf(codes.InvalidArgument, "stage: %s is not a stage; valid values: %s", st, stageNames())
		}
		if !slices.Contains(q.Stages, s) {
			q.Stages = append(q.Stages, s)
		}
	}
	slices.Sort(q.Stages)
	if r.Sector != innonetpb.Sector_SECTOR_UNSPECIFIED {
		q.Sector = pipeline.Sector(r.Sector)
		if _, ok := innonetpb.Sector_name[int32(r.Sector)]; !ok {
			return nil, status.Errorf(codes.InvalidArgument, "sector: %d is not a sector", r.Sector)
		}
	}
	if r.Site != "" {
		q.Site = strings.ToUpper(strings.TrimSpace(r.Site))
		if pipeline.ValidSubnodeCode(q.Site) {
			return nil, status.Errorf(codes.InvalidArgument, "site: %q is a sub-node; search takes a first-level site such as MUC", clip(r.Site))
		}
		if !pipeline.ValidSiteCode(q.Site) {
			return nil, status.Errorf(codes.InvalidArgument, "site: %q is not a site code (2 to 8 letters, e.g. BOS, CBG, MUC, TLV)", clip(r.Site))
		}
	}
	for _, t := range []struct {
		name string
		v    int32
	}{{"trlMin", r.TrlMin}, {"trlMax", r.TrlMax}} {
		if t.v != 0 && (t.v < 1 || t.v > 9) {
			return nil, status.Errorf(codes.InvalidArgument, "%s: must be a technology readiness level from 1 to 9, got %d", t.name, t.v)
		}
	}
	if r.TrlMin != 0 && r.TrlMax != 0 && r.TrlMin > r.TrlMax {
		return nil, status.Errorf(codes.InvalidArgument, "trlMin: %d is above trlMax %d", r.TrlMin, r.TrlMax)
	}
	q.TRLMin, q.TRLMax = int(r.TrlMin), int(r.TrlMax)
	if r.TrlMin == 0 && r.TrlMax == 0 {
		q.TRLMin, q.TRLMax = trlMin, trlMax // as typed into q
	}
	if sq.lang, err = checkLanguage("lang", r.Lang); err != nil {
		return nil, err
	}
	if r.PageSize < 0 || r.PageSize > maxSearchPage {
		return nil, status.Errorf(codes.InvalidArgument, "page_size: must be between 1 and %d, got %d", maxSearchPage, r.PageSize)
	}
	sq.size = int(r.PageSize)
	if sq.size == 0 {
		sq.size = defaultSearchPage
	}
	fp := sha256.Sum256([]byte(fmt.Sprintf("%s|%v|%d|%s|%d|%d", q.Text, q.Stages, q.Sector, q.Site, q.TRLMin, q.TRLMax)))
	copy(sq.print[:], fp[:8])
	if r.PageToken != "" {
		if sq.offset, err = sq.position(r.PageToken); err != nil {
			return nil, err
		}
	}
	return sq, nil
}
