package node

import (
	"context"
	"encoding/base64"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"innonet/node/pipeline"
	innonetpb "innonet/proto/innonet/v1"
)

// The organisations: who may write which kind is the pipeline's rule
// (organizations.go), checked in Apply; every signed-in user may read.

func (s *leadService) writeOrg(ctx context.Context, cmd pipeline.Command) (*innonetpb.Organization, error) {
	u, err := s.n.authenticate(ctx)
	if err != nil {
		return nil, err
	}
	cmd.Actor = u.ID
	res, err := s.n.propose(ctx, cmd)
	if err != nil {
		return nil, err
	}
	if res.Org == nil {
		return nil, status.Error(codes.Internal, "the pipeline answered without the organization")
	}
	return orgToPB(res.Org), nil
}

func (s *leadService) CreateOrganization(ctx context.Context, r *innonetpb.CreateOrganizationRequest) (*innonetpb.Organization, error) {
	return s.writeOrg(ctx, pipeline.Command{Op: pipeline.OpCreateOrg, RequestID: r.RequestId, Org: orgSpecFromPB(r)})
}

func (s *leadService) UpdateOrganization(ctx context.Context, r *innonetpb.UpdateOrganizationRequest) (*innonetpb.Organization, error) {
	return s.writeOrg(ctx, pipeline.Command{Op: pipeline.OpUpdateOrg, RequestID: r.RequestId, OrgID: r.Id,
		ExpectedVersion: r.ExpectedVersion, OrgPatch: orgPatchFromPB(r)})
}

func (s *leadService) GetOrganization(ctx context.Context, r *innonetpb.GetOrganizationRequest) (*innonetpb.Organization, error) {
	if _, err := s.n.authenticate(ctx); err != nil {
		return nil, err
	}
	if !pipeline.ValidOrgID(r.Id) {
		return nil, badID("id", r.Id, "an organization ID of the form org-NNNN")
	}
	o, err := s.n.state.Organization(r.Id)
	if err != nil {
		return nil, toStatus(err)
	}
	return orgToPB(o), nil
}

func (s *leadService) ListOrganizations(ctx context.Context, r *innonetpb.ListOrganizationsRequest) (*innonetpb.ListOrganizationsResponse, error) {
	if _, err := s.n.authenticate(ctx); err != nil {
		return nil, err
	}
	f := pipeline.OrgFilter{Kind: pipeline.OrgKind(r.Kind), Country: strings.ToUpper(r.Country), Query: r.Q, Limit: int(r.PageSize)}
	switch {
	case f.Country != "" && !pipeline.ValidCountry(f.Country):
		return nil, status.Errorf(codes.InvalidArgument, "country: %q is not an ISO 3166-1 alpha-2 country code (e.g. US, GB, DE, IL)", clip(r.Country))
	case len([]rune(r.Q)) > pipeline.MaxOrgName:
		return nil, status.Errorf(codes.InvalidArgument, "q: at most %d characters", pipeline.MaxOrgName)
	case r.PageSize < 0 || r.PageSize > maxPageSize:
		return nil, status.Errorf(codes.InvalidArgument, "page_size: must be between 1 and %d, got %d", maxPageSize, r.PageSize)
	}
	if f.Limit == 0 {
		f.Limit = defaultPageSize
	}
	if r.PageToken != "" {
		after, err := base64.RawURLEncoding.DecodeString(r.PageToken)
		if err != nil || !pipeline.ValidOrgID(string(after)) {
			return nil, status.Error(codes.InvalidArgument, "page_token: not a token from a previous page")
		}
		f.After = string(after)
	}
	orgs, more, err := s.n.state.Organizations(f)
	if err != nil {
		return nil, toStatus(err)
	}
	out := &innonetpb.ListOrganizationsResponse{Organizations: make([]*innonetpb.Organization, 0, len(orgs)), Read: s.n.readInfo(r)}
	for _, o := range orgs {
		out.Organizations = append(out.Organizations, orgToPB(o))
	}
	if more {
		out.NextPageToken = base64.RawURLEncoding.EncodeToString([]byte(orgs[len(orgs)-1].ID))
	}
	return out, nil
}
