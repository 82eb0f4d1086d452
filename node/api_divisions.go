package node

import (
	"context"
	"encoding/base64"
	"encoding/binary"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"innonet/node/pipeline"
	innonetpb "innonet/proto/innonet/v1"
)

// divisionService is the API of the divisions' focus profiles and of the
// leads that match them (matches.go).
type divisionService struct {
	innonetpb.UnimplementedDivisionServiceServer
	n *Node
}

// Page sizes of ListDivisionMatches.
const (
	defaultMatchPage = 20
	maxMatchPage     = 100
)

func profileToPB(div string, p *pipeline.DivisionProfile) *innonetpb.DivisionProfile {
	out := &innonetpb.DivisionProfile{Division: div}
	if p == nil {
		return out
	}
	for _, s := range p.Sectors {
		out.Sectors = append(out.Sectors, innonetpb.Sector(s))
	}
	for _, d := range p.DealTypes {
		out.DealTypes = append(out.DealTypes, innonetpb.DealType(d))
	}
	for _, e := range p.Enterprises {
		out.Enterprises = append(out.Enterprises, &innonetpb.Enterprise{Name: e.Name, NameEn: e.NameEn, City: e.City,
			Needs: e.Needs, NeedsEn: e.NeedsEn})
	}
	out.Keywords, out.TrlMin, out.TrlMax, out.TrlPreferred = p.Keywords, int32(p.TRLMin), int32(p.TRLMax), int32(p.TRLPreferred)
	out.Notes, out.Version, out.UpdatedBy, out.UpdatedByName, out.UpdateTime = p.Notes, p.Version, p.UpdatedBy, p.UpdatedByName, ts(p.Updated)
	return out
}

func checkDivisionArg(div string) error {
	if !pipeline.ValidDivision(div) {
		return status.Errorf(codes.InvalidArgument, "division: must be one of the divisions BOHAI, YRD or PRD, got %q", clip(div))
	}
	return nil
}

func (s *divisionService) ListDivisionProfiles(ctx context.Context, _ *innonetpb.ListDivisionProfilesRequest) (*innonetpb.ListDivisionProfilesResponse, error) {
	if _, err := s.n.authenticate(ctx); err != nil {
		return nil, err
	}
	out := &innonetpb.ListDivisionProfilesResponse{}
	for _, d := range pipeline.Divisions {
		p, err := s.n.state.DivisionProfile(d)
		if err != nil {
			return nil, toStatus(err)
		}
		out.Profiles = append(out.Profiles, profileToPB(d, p))
	}
	return out, nil
}

func (s *divisionService) GetDivisionProfile(ctx context.Context, r *innonetpb.GetDivisionProfileRequest) (*innonetpb.DivisionProfile, error) {
	if _, err := s.n.authenticate(ctx); err != nil {
		return nil, err
	}
	if err := checkDivisionArg(r.Division); err != nil {
		return nil, err
	}
	p, err := s.n.state.DivisionProfile(r.Division)
	if err != nil {
		return nil, toStatus(err)
	}
	return profileToPB(r.Division, p), nil
}

func (s *divisionService) UpdateDivisionProfile(ctx context.Context, r *innonetpb.UpdateDivisionProfileRequest) (*innonetpb.DivisionProfile, error) {
	u, err := s.n.authenticate(ctx)
	if err != nil {
		return nil, err
	}
	in := &pipeline.ProfileInput{Keywords: r.Keywords, TRLMin: int(r.TrlMin), TRLMax: int(r.TrlMax),
		TRLPreferred: int(r.TrlPreferred), Notes: r.Notes}
	for _, sec := range r.Sectors {
		in.Sectors = append(in.Sectors, pipeline.Sector(sec))
	}
	for _, d := range r.DealTypes {
		in.DealTypes = append(in.DealTypes, pipeline.DealType(d))
	}
	for _, e := range r.Enterprises {
		in.Enterprises = append(in.Enterprises, pipeline.Enterprise{Name: e.GetName(), NameEn: e.GetNameEn(),
			City: e.GetCity(), Needs: e.GetNeeds(), NeedsEn: e.GetNeedsEn()})
	}
	res, err := s.n.propose(ctx, pipeline.Command{Op: pipeline.OpSetDivisionProfile, RequestID: r.RequestId,
		Actor: u.ID, Division: r.Division, ExpectedVersion: r.ExpectedVersion, Profile: in})
	if err != nil {
		return nil, err
	}
	return profileToPB(r.Division, res.Profile), nil
}

// ListDivisionMatches scores the APPROVED leads the caller may see for
// the division, best first (ties: newest first, then by ID), and pages
// through them by offset.
func (s *divisionService) ListDivisionMatches(ctx context.Context, r *innonetpb.ListDivisionMatchesRequest) (*innonetpb.ListDivisionMatchesResponse, error) {
	u, err := s.n.authenticate(ctx)
	if err != nil {
		return nil, err
	}
	if u.Role != pipeline.HQReviewer && u.Role != pipeline.DivisionRole && u.Role != pipeline.Admin {
		return nil, status.Errorf(codes.PermissionDenied, "only divisions and HQ list a division's matches; caller is %s", u.Role)
	}
	if err := checkDivisionArg(r.Division); err != nil {
		return nil, err
	}
	size := int(r.PageSize)
	switch {
	case size < 0 || size > maxMatchPage:
		return nil, status.Errorf(codes.InvalidArgument, "page_size: must be from 1 to %d, got %d", maxMatchPage, size)
	case size == 0:
		size = defaultMatchPage
	}
	offset, err := decodeOffsetToken(r.PageToken)
	if err != nil {
		return nil, err
	}
	leads, _, err := s.n.state.Leads(pipeline.Filter{Stage: pipeline.Approved})
	if err != nil {
		return nil, toStatus(err)
	}
	var visible []*pipeline.Lead
	for _, l := range leads {
		if u.CanSee(l) {
			visible = append(visible, l)
		}
	}
	all, err := s.n.matches.forDivision(ctx, visible, r.Division)
	if err != nil {
		if ctx.Err() != nil {
			return nil, status.FromContextError(ctx.Err()).Err()
		}
		return nil, toStatus(err)
	}
	out := &innonetpb.ListDivisionMatchesResponse{Matches: []*innonetpb.LeadMatch{}}
	for i := offset; i < len(all) && i < offset+size; i++ {
		m := all[i]
		lp := leadPB(u, m.lead)
		s.n.decorateLeads(u, lp)
		out.Matches = append(out.Matches, &innonetpb.LeadMatch{Lead: lp, Match: &innonetpb.DivisionMatch{Division: r.Division,
			Score: m.score.Score, Reasons: m.score.Reasons, Enterprise: m.score.Enterprise, Rank: int32(m.rank)}})
	}
	if offset+size < len(all) {
		out.NextPageToken = encodeOffsetToken(offset + size)
	}
	return out, nil
}

// Offset page tokens: a version byte and the offset, base64url.
const offsetTokenVersion = 1

func encodeOffsetToken(off int) string {
	b := binary.AppendUvarint([]byte{offsetTokenVersion}, uint64(off))
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeOffsetToken(tok string) (int, error) {
	if tok == "" {
		return 0, nil
	}
	bad := status.Error(codes.InvalidArgument, "page_token: not a token this list gave; start again without one")
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(b) < 2 || b[0] != offsetTokenVersion {
		return 0, bad
	}
	v, n := binary.Uvarint(b[1:])
	if n <= 0 || n != len(b)-1 || v > 1<<31 {
		return 0, bad
	}
	return int(v), nil
}
