package node

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"innonet/node/pipeline"
	innonetpb "innonet/proto/innonet/v1"
)

// Page sizes and limits of ListLeads.
const (
	defaultPageSize = 50
	maxPageSize     = 500
	// listScanBudget is how many leads one page may examine: a filter
	// that few leads pass, and no index narrows, answers a shorter page
	// (partial) rather than read on. About 10 ms of work.
	listScanBudget = 10000
	// maxQueryText bounds q and organization.
	maxQueryText = 200
)

func (s *leadService) ListLeads(ctx context.Context, r *innonetpb.ListLeadsRequest) (*innonetpb.ListLeadsResponse, error) {
	u, err := s.n.authenticate(ctx)
	if err != nil {
		return nil, err
	}
	q, err := parseListQuery(r)
	if err != nil {
		return nil, err
	}
	if err := s.n.checkListSites(r, &q.filter); err != nil {
		return nil, err
	}
	f := q.filter
	f.Visible = u.CanSee
	if u.Role == pipeline.NodeStaff {
		// Node staff see their own site's leads: read that site's index.
		// Staff of a sub-node (MUC-TUM) read their first-level site's (MUC),
		// of which Visible keeps their sub-node's.
		site := pipeline.FirstLevelSite(u.Site)
		if f.Site != "" && f.Site != site {
			return &innonetpb.ListLeadsResponse{Leads: []*innonetpb.Lead{}}, nil
		}
		f.Site = site
	}
	page, err := s.n.state.List(f)
	if err != nil {
		return nil, toStatus(err)
	}
	var glossary map[string]*pipeline.GlossaryTerm
	if q.lang != "" {
		if glossary, err = s.glossaryByTerm(); err != nil {
			return nil, err
		}
	}
	out := &innonetpb.ListLeadsResponse{Leads: make([]*innonetpb.Lead, 0, len(page.Leads))}
	for _, l := range page.Leads {
		out.Leads = append(out.Leads, s.localize(leadPB(u, l), l, q.lang, glossary))
	}
	s.n.decorateLeads(u, out.Leads...)
	if page.Next != nil {
		out.NextPageToken = q.token(page.Next)
		out.Partial = len(page.Leads) < f.Limit
	}
	return out, nil
}

// checkListSites refuses a site or sub-node filter the registry does not
// know (parseListQuery checks only their form).
func (n *Node) checkListSites(r *innonetpb.ListLeadsRequest, f *pipeline.Filter) error {
	if r.Site != "" {
		if err := n.checkSiteFilter("site", f.Site); err != nil {
			return err
		}
	}
	return n.checkSubnodeFilter("subnode", f.Subnode)
}

// listQuery is a ListLeads request, checked: the filter without the
// caller's visibility, the language to read in, and the fingerprint a
// page token carries.
type listQuery struct {
	filter pipeline.Filter
	lang   string
	query  [8]byte
}

// Page tokens: base64url of the token version, the order, the direction,
// 8 bytes that identify the query (filters and order), and the position
// (the order key of the last lead examined). In ascending ID order, the
// default, a token is of the earlier form, base64url of the ID of the
// last lead examined, which sites of the earlier version read too (a
// rolling upgrade, a STALE read of an older site); it does not identify
// the query, and need not: a position in ID order means the same under
// any filter.
const pageTokenVersion = 2

func (q *listQuery) token(pos []byte) string {
	if q.filter.Order == pipeline.OrderID && !q.filter.Desc {
		if id, ok := pipeline.PositionLeadID(pos); ok {
			return base64.RawURLEncoding.EncodeToString([]byte(id))
		}
	}
	b := []byte{pageTokenVersion, byte(q.filter.Order), 0}
	if q.filter.Desc {
		b[2] = 1
	}
	b = append(append(b, q.query[:]...), pos...)
	return base64.RawURLEncoding.EncodeToString(b)
}

// position reads a page token of this query.
func (q *listQuery) position(tok string) ([]byte, error) {
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	switch {
	case err != nil || len(raw) == 0:
		return nil, status.Error(codes.InvalidArgument, "page_token: not a token from a previous page")
	case pipeline.ValidLeadID(string(raw)):
		if q.filter.Order != pipeline.OrderID || q.filter.Desc {
			return nil, status.Error(codes.InvalidArgument, "page_token: a token from another query (its orderBy differs); start again without it")
		}
		return pipeline.IDPosition(string(raw)), nil
	case raw[0] != pageTokenVersion || len(raw) < 11:
		return nil, status.Error(codes.InvalidArgument, "page_token: not a token from a previous page")
	case raw[1] != byte(q.filter.Order) || raw[2] != map[bool]byte{false: 0, true: 1}[q.filter.Desc] || !bytes.Equal(raw[3:11], q.query[:]):
		return nil, status.Error(codes.InvalidArgument, "page_token: a token from another query (its filters or orderBy differ); start again without it")
	}
	if !pipeline.ValidPosition(raw[11:], q.filter.Order) {
		return nil, status.Error(codes.InvalidArgument, "page_token: not a token from a previous page")
	}
	return raw[11:], nil
}

// parseListQuery checks every field of a ListLeads request and names the
// one that is wrong, with what it takes.
func parseListQuery(r *innonetpb.ListLeadsRequest) (*listQuery, error) {
	if err := refuseUnknownFields(r); err != nil {
		return nil, err
	}
	q := &listQuery{}
	f := &q.filter
	for _, st := range r.Stage {
		s := pipeline.Stage(st)
		if !s.Valid() {
			return nil, status.Errorf(codes.InvalidArgument, "stage: %s is not a stage; valid values: %s", st, stageNames())
		}
		if !slices.Contains(f.Stages, s) {
			f.Stages = append(f.Stages, s)
		}
	}
	slices.Sort(f.Stages)
	if r.Site != "" {
		f.Site = strings.ToUpper(strings.TrimSpace(r.Site))
		if pipeline.ValidSubnodeCode(f.Site) {
			return nil, status.Errorf(codes.InvalidArgument, "site: %q is a sub-node; ask for subnode=%s (site takes a first-level site such as MUC)", clip(r.Site), clip(f.Site))
		}
		if !pipeline.ValidSiteCode(f.Site) {
			return nil, status.Errorf(codes.InvalidArgument, "site: %q is not a site code (2 to 8 letters, e.g. BOS, CBG, MUC, TLV)", clip(r.Site))
		}
	}
	if r.Subnode != "" {
		f.Subnode = strings.ToUpper(strings.TrimSpace(r.Subnode))
		if !pipeline.ValidSubnodeCode(f.Subnode) {
			return nil, status.Errorf(codes.InvalidArgument, "subnode: %q is not a sub-node code (its site's code, a hyphen and 2 to 8 capital letters or digits, e.g. MUC-TUM)", clip(r.Subnode))
		}
		site := pipeline.FirstLevelSite(f.Subnode)
		if f.Site != "" && f.Site != site {
			return nil, status.Errorf(codes.InvalidArgument, "subnode: %s is under site %s, not %s", f.Subnode, site, f.Site)
		}
		f.Site = site
	}
	if r.Division != "" {
		f.Division = strings.ToUpper(strings.TrimSpace(r.Division))
		if !pipeline.ValidDivision(f.Division) {
			return nil, status.Errorf(codes.InvalidArgument, "division: %q is not a division; valid values: %s", clip(r.Division), strings.Join(pipeline.Divisions, ", "))
		}
	}
	if r.Sector != innonetpb.Sector_SECTOR_UNSPECIFIED {
		f.Sector = pipeline.Sector(r.Sector)
	}
	if r.DealType != innonetpb.DealType_DEAL_TYPE_UNSPECIFIED {
		f.DealType = pipeline.DealType(r.DealType)
	}
	if r.Country != "" {
		f.Country = strings.ToUpper(strings.TrimSpace(r.Country))
		if !pipeline.ValidCountry(f.Country) {
			return nil, status.Errorf(codes.InvalidArgument, "country: %q is not an ISO 3166-1 alpha-2 country code (e.g. DE, GB, IL, US)", clip(r.Country))
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
	f.TRLMin, f.TRLMax = int(r.TrlMin), int(r.TrlMax)
	var err error
	if f.SubmittedAfter, err = filterTime("submittedAfter", r.SubmittedAfter); err != nil {
		return nil, err
	}
	if f.SubmittedBefore, err = filterTime("submittedBefore", r.SubmittedBefore); err != nil {
		return nil, err
	}
	if f.UpdatedAfter, err = filterTime("updatedAfter", r.UpdatedAfter); err != nil {
		return nil, err
	}
	if !f.SubmittedAfter.IsZero() && !f.SubmittedBefore.IsZero() && !f.SubmittedAfter.Before(f.SubmittedBefore) {
		return nil, status.Errorf(codes.InvalidArgument, "submittedAfter: %s is not before submittedBefore %s",
			f.SubmittedAfter.Format(time.RFC3339), f.SubmittedBefore.Format(time.RFC3339))
	}
	if f.Organization, err = filterText("organization", r.Organization); err != nil {
		return nil, err
	}
	if f.Query, err = filterText("q", r.Q); err != nil {
		return nil, err
	}
	if f.Query != "" && len(pipeline.ParseSearch(f.Query)) == 0 {
		return nil, status.Errorf(codes.InvalidArgument, "q: %q has no letter or digit to search for", clip(r.Q))
	}
	if f.Order, f.Desc, err = parseOrderBy(r.OrderBy); err != nil {
		return nil, err
	}
	if q.lang, err = checkLanguage("lang", r.Lang); err != nil {
		return nil, err
	}
	if r.PageSize < 0 || r.PageSize > maxPageSize {
		return nil, status.Errorf(codes.InvalidArgument, "page_size: must be between 1 and %d, got %d", maxPageSize, r.PageSize)
	}
	f.Limit = int(r.PageSize)
	if f.Limit == 0 {
		f.Limit = defaultPageSize
	}
	f.MaxScan = listScanBudget
	q.query = queryFingerprint(f)
	if r.PageToken != "" {
		if f.Position, err = q.position(r.PageToken); err != nil {
			return nil, err
		}
	}
	return q, nil
}

// queryFingerprint identifies what a list selects and how it orders it,
// so that a page token is not used with another query.
func queryFingerprint(f *pipeline.Filter) [8]byte {
	unix := func(t time.Time) int64 {
		if t.IsZero() {
			return 0
		}
		return t.UnixNano()
	}
	s := fmt.Sprintf("%v|%s|%s|%d|%s|%d|%d|%d|%d|%d|%d|%s|%s|%d|%v|%s", f.Stages, f.Site, f.Division, f.Sector,
		f.Country, f.DealType, f.TRLMin, f.TRLMax, unix(f.SubmittedAfter), unix(f.SubmittedBefore), unix(f.UpdatedAfter),
		pipeline.Fold(f.Organization), strings.Join(pipeline.SearchWords(f.Query), " "), f.Order, f.Desc, f.Subnode)
	sum := sha256.Sum256([]byte(s))
	var out [8]byte
	binary.BigEndian.PutUint64(out[:], binary.BigEndian.Uint64(sum[:8]))
	return out
}

// orderByNames are the orders orderBy takes, by their API names.
var orderByNames = map[string]pipeline.Order{"id": pipeline.OrderID, "createtime": pipeline.OrderCreated,
	"updatetime": pipeline.OrderUpdated, "stagetime": pipeline.OrderStageTime}

// parseOrderBy reads orderBy: updateTime, createTime, stageTime or id,
// with a leading "-" for descending (also in snake case, any case).
func parseOrderBy(s string) (pipeline.Order, bool, error) {
	s = strings.TrimSpace(s)
	desc := strings.HasPrefix(s, "-")
	name := strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(s, "-"), "_", ""))
	if name == "" && !desc {
		return pipeline.OrderID, false, nil
	}
	o, ok := orderByNames[name]
	if !ok {
		return 0, false, status.Errorf(codes.InvalidArgument, "orderBy: %q is not an order; valid values: updateTime, createTime, stageTime, id, each with a leading - for newest (or highest) first, e.g. -updateTime", clip(s))
	}
	return o, desc, nil
}

func filterTime(name string, ts *timestamppb.Timestamp) (time.Time, error) {
	if ts == nil {
		return time.Time{}, nil
	}
	if err := ts.CheckValid(); err != nil {
		return time.Time{}, status.Errorf(codes.InvalidArgument, "%s: not a valid time", name)
	}
	return ts.AsTime(), nil
}

func filterText(name, v string) (string, error) {
	v = strings.TrimSpace(v)
	if n := utf8.RuneCountInString(v); n > maxQueryText {
		return "", status.Errorf(codes.InvalidArgument, "%s: at most %d characters, got %d", name, maxQueryText, n)
	}
	for _, r := range v {
		if r < 0x20 || r == 0x7f {
			return "", status.Errorf(codes.InvalidArgument, "%s: must not contain control characters", name)
		}
	}
	return v, nil
}

func stageNames() string {
	var names []string
	for s := pipeline.Stage(1); s.Valid(); s++ {
		names = append(names, s.String())
	}
	return strings.Join(names, ", ")
}

// refuseUnknownFields refuses a gRPC request carrying fields this version
// does not know (a newer client's filter, say), which protobuf would
// otherwise drop silently: a list would ignore the filter.
func refuseUnknownFields(m proto.Message) error {
	raw := m.ProtoReflect().GetUnknown()
	if len(raw) == 0 {
		return nil
	}
	var nums []string
	for len(raw) > 0 {
		num, typ, n := protowire.ConsumeTag(raw)
		if n < 0 {
			break
		}
		nums = append(nums, fmt.Sprint(num))
		raw = raw[n:]
		if m := protowire.ConsumeFieldValue(num, typ, raw); m >= 0 {
			raw = raw[m:]
		} else {
			break
		}
	}
	return status.Errorf(codes.InvalidArgument, "%s: fields this site does not know (numbers %s): leave them out, or upgrade this site",
		m.ProtoReflect().Descriptor().Name(), strings.Join(nums, ", "))
}

// newReadFields refuses to forward a read that uses the filters or the
// language of this version while the cluster has not been raised to log
// format 2: the leader may run an older version, which would drop those
// fields unread and answer as if they were not there.
func (n *Node) newReadFields(req any) error {
	if n.state.Format() >= pipeline.Format2 {
		return nil
	}
	var used string
	switch r := req.(type) {
	case *innonetpb.ListLeadsRequest:
		switch {
		case len(r.Stage) > 1:
			used = "several stages"
		case r.Sector != 0 || r.Country != "" || r.DealType != 0 || r.TrlMin != 0 || r.TrlMax != 0 ||
			r.SubmittedAfter != nil || r.SubmittedBefore != nil || r.UpdatedAfter != nil || r.Organization != "" ||
			r.Q != "" || r.OrderBy != "" || r.Lang != "" || r.Subnode != "":
			used = "these filters"
		}
	case *innonetpb.GetLeadRequest:
		if r.Lang != "" {
			used = "lang"
		}
	}
	if used == "" {
		return nil
	}
	return status.Errorf(codes.FailedPrecondition, "%s need every site to run this version of innonet, and the cluster still runs log format 1 (it is raised once every site does): retry shortly, or ask this site with consistency STALE", used)
}
