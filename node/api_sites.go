package node

import (
	"context"
	"sort"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"innonet/node/pipeline"
	innonetpb "innonet/proto/innonet/v1"
)

// ListSites answers the registry as a tree: the first-level sites, each
// with its sub-nodes, marked with whether they are members of the
// cluster. A member the leader has not registered yet (the cluster still
// runs log format 1) is listed too, as not registered.
func (s *clusterService) ListSites(ctx context.Context, r *innonetpb.ListSitesRequest) (*innonetpb.ListSitesResponse, error) {
	if _, err := s.n.authenticate(ctx); err != nil {
		return nil, err
	}
	sites, err := s.n.state.Sites()
	if err != nil {
		return nil, toStatus(err)
	}
	members := map[string]bool{}
	if st, err := s.n.cluster.Status(); err == nil {
		for _, m := range st.Members {
			members[m.ID] = true
		}
	}
	byCode := map[string]*innonetpb.Site{}
	out := &innonetpb.ListSitesResponse{Read: s.n.readInfo(r)}
	// Sites() is ordered by code, so a parent comes before its sub-nodes.
	for i := range sites {
		ps := siteToPB(&sites[i])
		byCode[ps.Code] = ps
		if ps.Parent == "" {
			ps.Member = members[ps.Code]
			out.Sites = append(out.Sites, ps)
		} else if parent := byCode[ps.Parent]; parent != nil {
			parent.Subnodes = append(parent.Subnodes, ps)
		}
	}
	for code := range members {
		if byCode[code] == nil {
			spec := memberSpec(code)
			out.Sites = append(out.Sites, &innonetpb.Site{Code: code, Name: code, Kind: innonetpb.Site_Kind(spec.Kind), Level: 1, Member: true})
		}
	}
	sort.Slice(out.Sites, func(i, j int) bool { return out.Sites[i].Code < out.Sites[j].Code })
	return out, nil
}

// CreateSite registers a sub-node. ADMIN only (Apply checks it again).
func (s *clusterService) CreateSite(ctx context.Context, r *innonetpb.CreateSiteRequest) (*innonetpb.Site, error) {
	u, err := s.n.require(ctx, pipeline.Admin)
	if err != nil {
		return nil, err
	}
	res, err := s.n.propose(ctx, pipeline.Command{Op: pipeline.OpAddSite, RequestID: r.RequestId, Actor: u.ID,
		Site: &pipeline.SiteSpec{Code: r.Code, Parent: r.Parent, Name: r.Name, Kind: pipeline.SiteKind(r.Kind)}})
	if err != nil {
		return nil, err
	}
	if res.Site == nil {
		return nil, status.Error(codes.Internal, "the registry answered without the site")
	}
	if !res.Replayed {
		s.n.log.Info("sub-node registered", "site", res.Site.Code, "parent", res.Site.Parent, "by", u.ID)
	}
	return siteToPB(res.Site), nil
}
