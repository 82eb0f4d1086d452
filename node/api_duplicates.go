package node

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"innonet/node/dedup"
	"innonet/node/pipeline"
	innonetpb "innonet/proto/innonet/v1"
)

// Duplicates, similar leads, merging and a lead's division matches. The
// scores come from the answering site's derived indexes (duplicates.go,
// matches.go); the leads they name are read from its state, through the
// caller's view.

// dupCatchUp is how long a similar-leads read waits for the duplicate
// index to reflect the state before it answers from the index as it is;
// dupWriteCatchUp the same for the answer to a submit or an edit, which
// it delays.
const (
	dupCatchUp      = 2 * time.Second
	dupWriteCatchUp = 500 * time.Millisecond
)

// freshDuplicates is possibleDuplicates of a lead just written, once the
// duplicate index has taken in every entry applied before it (usually at
// once; at most dupWriteCatchUp, from the start of pre if there is one).
// pre, if not nil, is a check of the lead begun before the entry at index
// wrote it (precheckDraft), whose answer is taken if it is still the
// index's.
func (n *Node) freshDuplicates(ctx context.Context, u *pipeline.User, l *pipeline.Lead, pre *precheck, index uint64) []*innonetpb.PossibleDuplicate {
	until := time.Now().Add(dupWriteCatchUp)
	if pre != nil {
		// The organisation the check read must be the one the lead links
		// to now (an edit of it also changes the index; one created
		// meanwhile would not).
		if cs, ok := n.dupes.precheckResult(ctx, pre, l.ID, index); ok && pre.org == orgVersion(n.draftOrg(&l.Draft)) {
			n.metrics.prechecks.WithLabelValues("kept").Inc()
			return n.duplicatesPB(u, cs)
		}
		n.metrics.prechecks.WithLabelValues("checked_again").Inc()
		until = pre.until
	}
	wctx, cancel := context.WithDeadline(ctx, until)
	_ = n.dupes.waitFor(wctx, n.state.AppliedIndex())
	cancel()
	return n.possibleDuplicates(u, l.ID, &l.Draft)
}

// precheckDraft starts a duplicate check of a draft about to be
// submitted, so that it runs while the submit commits.
func (n *Node) precheckDraft(dr *pipeline.Draft) *precheck {
	org := n.draftOrg(dr)
	return n.dupes.precheck(dedupLead("", dr, org), orgVersion(org), dupWriteCatchUp)
}

// orgVersion is the version of o, 0 for none.
func orgVersion(o *pipeline.Organization) int64 {
	if o == nil {
		return 0
	}
	return o.Version
}

// draftOrg is the organisation a draft links to, if it exists.
func (n *Node) draftOrg(dr *pipeline.Draft) *pipeline.Organization {
	if dr.OrganizationID != "" {
		if o, err := n.state.Organization(dr.OrganizationID); err == nil {
			return o
		}
	}
	return nil
}

// possibleDuplicates checks a lead's draft (or a draft not yet submitted,
// with id "") against the site's duplicate index, for u: the leads u may
// not see are named by ID and site only.
func (n *Node) possibleDuplicates(u *pipeline.User, id string, dr *pipeline.Draft) []*innonetpb.PossibleDuplicate {
	return n.duplicatesPB(u, n.dupes.check(dedupLead(id, dr, n.draftOrg(dr))))
}

// duplicatesPB are the candidates as u may see them.
func (n *Node) duplicatesPB(u *pipeline.User, cs []dedup.Candidate) []*innonetpb.PossibleDuplicate {
	out := []*innonetpb.PossibleDuplicate{}
	for _, c := range cs {
		if p := n.duplicatePB(u, c); p != nil {
			out = append(out, p)
		}
	}
	return out
}

// duplicatePB is a candidate as u may see it; nil if the lead is gone or
// merged since it was indexed.
func (n *Node) duplicatePB(u *pipeline.User, c dedup.Candidate) *innonetpb.PossibleDuplicate {
	l, err := n.state.Lead(c.ID)
	if err != nil || l.Stage == pipeline.Merged {
		return nil
	}
	p := &innonetpb.PossibleDuplicate{LeadId: l.ID, Confidence: c.Confidence, Duplicate: c.Duplicate,
		Reasons: hiddenReasons(c.Reasons), Site: l.Site}
	if u.CanSee(l) {
		p.Reasons = c.Reasons
		p.Visible, p.Title, p.Organization, p.Stage = true, l.Title, l.Organization, innonetpb.Stage(l.Stage)
		if l.OrganizationID != "" {
			if o, err := n.state.Organization(l.OrganizationID); err == nil {
				p.Organization = o.Name
			}
		}
	}
	return p
}

// hiddenReasons are the reasons of a candidate the caller may not read,
// by kind only: what the other lead says (its domain, contacts, TRL,
// country, words) stays unsaid, so that a check cannot be used to learn
// another site's leads, or whether an address is one of their contacts.
func hiddenReasons(rs []string) []string {
	kinds := []struct{ prefix, says string }{
		{"same website domain", "the same website domain"},
		{"same e-mail domain", "the same e-mail domain"},
		{"same domain name under other endings", "the same domain name under another ending"},
		{"same contact e-mail", "a contact with the same e-mail address"},
		{"same contact person", "a contact of the same name"},
		{"organisation name matches after removing legal forms", "the same organisation name"},
		{"organisation names share the distinctive word", "a distinctive word of the organisation's name"},
		{"organisation name ", "the organisation's name matches the other lead's domain"},
		{"similar title/summary", "similar technology"},
		{"TRL ", "a different TRL"},
		{"country ", "a different country"},
		{"deal type ", "a different kind of deal"},
		{"sector ", "a different sector"},
		{"no shared organisation evidence", "no shared organisation evidence"},
	}
	out := []string{}
	for _, r := range rs {
		for _, k := range kinds {
			if strings.HasPrefix(r, k.prefix) {
				out = append(out, k.says)
				break
			}
		}
		if strings.HasSuffix(r, "presents itself as another product of the organisation") {
			out = append(out, "one of the two presents itself as another product of the organisation")
		}
	}
	return out
}

func (s *leadService) CheckDuplicates(ctx context.Context, r *innonetpb.CheckDuplicatesRequest) (*innonetpb.CheckDuplicatesResponse, error) {
	u, err := s.n.authenticate(ctx)
	if err != nil {
		return nil, err
	}
	if u.Role != pipeline.NodeStaff && u.Role != pipeline.HQReviewer {
		return nil, status.Errorf(codes.PermissionDenied, "only node staff and HQ check drafts for duplicates; caller is %s", u.Role)
	}
	if r.Id != "" && !pipeline.ValidLeadID(r.Id) {
		return nil, status.Errorf(codes.InvalidArgument, "id: %q is not a lead ID of the form SITE-NNNN", clip(r.Id))
	}
	dr := &pipeline.Draft{Title: r.Title, Summary: r.Summary, Organization: r.Organization, Country: r.Country,
		Sector: pipeline.Sector(r.Sector), TRL: int(r.Trl), DealType: pipeline.DealType(r.DealType), Tags: r.Tags,
		Contacts: contactsFromPB(r.Contacts), Language: r.Language, OrganizationID: r.OrganizationId, Website: r.Website}
	if err := checkDraftForDuplicates(dr); err != nil {
		return nil, err
	}
	return &innonetpb.CheckDuplicatesResponse{PossibleDuplicates: s.n.possibleDuplicates(u, r.Id, dr)}, nil
}

// checkDraftForDuplicates refuses a draft too large or malformed to be a
// lead; unlike a submit, any field may be empty (the form is being
// typed).
func checkDraftForDuplicates(dr *pipeline.Draft) error {
	switch {
	case utf8.RuneCountInString(dr.Title) > pipeline.MaxTitle:
		return status.Errorf(codes.InvalidArgument, "title: must be at most %d characters", pipeline.MaxTitle)
	case utf8.RuneCountInString(dr.Summary) > pipeline.MaxSummary:
		return status.Errorf(codes.InvalidArgument, "summary: must be at most %d characters", pipeline.MaxSummary)
	case utf8.RuneCountInString(dr.Organization) > pipeline.MaxOrganization:
		return status.Errorf(codes.InvalidArgument, "organization: must be at most %d characters", pipeline.MaxOrganization)
	case len(dr.Tags) > pipeline.MaxTags:
		return status.Errorf(codes.InvalidArgument, "tags: at most %d", pipeline.MaxTags)
	case len(dr.Contacts) > pipeline.MaxContacts:
		return status.Errorf(codes.InvalidArgument, "contacts: at most %d", pipeline.MaxContacts)
	case dr.Sector < 0 || dr.Sector > pipeline.OtherSector:
		return status.Errorf(codes.InvalidArgument, "sector: unknown value %d", dr.Sector)
	case dr.DealType < 0 || dr.DealType > pipeline.Relocation:
		return status.Errorf(codes.InvalidArgument, "deal_type: unknown value %d", dr.DealType)
	case dr.TRL < 0 || dr.TRL > 9:
		return status.Errorf(codes.InvalidArgument, "trl: must be a technology readiness level from 1 to 9, got %d", dr.TRL)
	case dr.OrganizationID != "" && !pipeline.ValidOrgID(dr.OrganizationID):
		return status.Errorf(codes.InvalidArgument, "organization_id: %q is not an organization ID of the form org-0001", clip(dr.OrganizationID))
	}
	return nil
}

func (s *leadService) GetSimilarLeads(ctx context.Context, r *innonetpb.GetSimilarLeadsRequest) (*innonetpb.GetSimilarLeadsResponse, error) {
	u, l, err := s.visibleLead(ctx, r.Id)
	if err != nil {
		return nil, err
	}
	wctx, cancel := context.WithTimeout(ctx, dupCatchUp)
	_ = s.n.dupes.waitFor(wctx, s.n.state.AppliedIndex())
	cancel()
	return &innonetpb.GetSimilarLeadsResponse{Similar: s.n.possibleDuplicates(u, l.ID, &l.Draft)}, nil
}

func (s *leadService) MergeLead(ctx context.Context, r *innonetpb.MergeLeadRequest) (*innonetpb.Lead, error) {
	return s.write(ctx, pipeline.Command{Op: pipeline.OpMerge, RequestID: r.RequestId, LeadID: r.Id,
		ExpectedVersion: r.ExpectedVersion, Into: r.Into, Comment: r.Comment})
}

func (s *leadService) GetLeadMatches(ctx context.Context, r *innonetpb.GetLeadMatchesRequest) (*innonetpb.GetLeadMatchesResponse, error) {
	_, l, err := s.visibleLead(ctx, r.Id)
	if err != nil {
		return nil, err
	}
	scores, err := s.n.matches.scores(l)
	if err != nil {
		return nil, toStatus(err)
	}
	out := &innonetpb.GetLeadMatchesResponse{Matches: []*innonetpb.DivisionMatch{}}
	for i, sc := range scores {
		out.Matches = append(out.Matches, &innonetpb.DivisionMatch{Division: sc.Division, Score: sc.Score,
			Reasons: sc.Reasons, Enterprise: sc.Enterprise, Rank: int32(i + 1)})
	}
	return out, nil
}
