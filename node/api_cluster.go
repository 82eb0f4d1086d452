package node

import (
	"context"
	"errors"
	"strings"
	"unicode/utf8"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"innonet/cluster"
	"innonet/node/guard"
	"innonet/node/pipeline"
	innonetpb "innonet/proto/innonet/v1"
)

type clusterService struct {
	innonetpb.UnimplementedClusterServiceServer
	n *Node
}

// status answers with this site's view of the group, with the members'
// health when this site leads.
func (s *clusterService) status() (*innonetpb.Cluster, error) {
	st, err := s.n.cluster.Status()
	if err != nil {
		return nil, toStatus(err)
	}
	out := clusterToPB(st, s.n.cluster.Health())
	out.LogFormat = int32(s.n.state.Format())
	out.Placement = placementToPB(s.n.cluster.Placement())
	return out, nil
}

// GetCluster shows the members' Raft and API addresses to admins only:
// to everyone else they are a map of where to knock.
func (s *clusterService) GetCluster(ctx context.Context, _ *innonetpb.GetClusterRequest) (*innonetpb.Cluster, error) {
	u, err := s.n.authenticate(ctx)
	if err != nil {
		return nil, err
	}
	c, err := s.status()
	if err != nil {
		return nil, err
	}
	if u.Role != pipeline.Admin {
		for _, m := range c.Members {
			m.RaftAddress, m.ApiAddress = "", ""
		}
	}
	return c, nil
}

func (s *clusterService) JoinCluster(ctx context.Context, r *innonetpb.JoinClusterRequest) (*innonetpb.Cluster, error) {
	if _, err := s.n.require(ctx, pipeline.Admin); err != nil {
		return nil, err
	}
	switch {
	case !pipeline.ValidSiteCode(r.Site):
		return nil, status.Errorf(codes.InvalidArgument, "site: %q is not a site code (2 to 8 capital letters)", clip(r.Site))
	case r.RaftAddress == "":
		return nil, status.Error(codes.InvalidArgument, "raft_address: is required")
	case r.ApiAddress == "":
		return nil, status.Error(codes.InvalidArgument, "api_address: is required")
	}
	// A site joining for itself presents its certificate: it may only
	// join under the code the certificate names.
	if caller := s.n.callerSite(ctx); caller != "" && caller != r.Site {
		s.n.securityEvent(ctx, guard.Impersonation, "site "+caller+" asked to join as "+r.Site)
		return nil, status.Errorf(codes.PermissionDenied, "site certificate names %s; it cannot join as %s", caller, r.Site)
	}
	if have := s.n.state.Format(); int(r.LogFormat) < have && !s.n.isMember(r.Site) {
		reads := max(int(r.LogFormat), pipeline.Format1)
		return nil, status.Errorf(codes.FailedPrecondition,
			"site %s runs an older version of innonet (it reads log format %d; the cluster runs format %d): upgrade it before it joins", r.Site, reads, have)
	}
	if err := s.n.cluster.Join(ctx, r.Site, r.RaftAddress, r.ApiAddress, r.Voter); err != nil {
		return nil, membershipStatus(err)
	}
	return s.status()
}

// change runs a membership change for an admin on the named site.
func (s *clusterService) change(ctx context.Context, site string, f func(context.Context, string) error) (*innonetpb.Cluster, error) {
	if _, err := s.n.require(ctx, pipeline.Admin); err != nil {
		return nil, err
	}
	if !pipeline.ValidSiteCode(site) {
		return nil, status.Errorf(codes.InvalidArgument, "site: %q is not a site code (2 to 8 capital letters)", clip(site))
	}
	if err := f(ctx, site); err != nil {
		return nil, membershipStatus(err)
	}
	return s.status()
}

func (s *clusterService) RemoveMember(ctx context.Context, r *innonetpb.RemoveMemberRequest) (*innonetpb.Cluster, error) {
	return s.change(ctx, r.Site, s.n.cluster.Remove)
}

func (s *clusterService) PromoteMember(ctx context.Context, r *innonetpb.PromoteMemberRequest) (*innonetpb.Cluster, error) {
	return s.change(ctx, r.Site, s.n.cluster.Promote)
}

func (s *clusterService) DemoteMember(ctx context.Context, r *innonetpb.DemoteMemberRequest) (*innonetpb.Cluster, error) {
	return s.change(ctx, r.Site, s.n.cluster.Demote)
}

func (s *clusterService) TransferLeadership(ctx context.Context, r *innonetpb.TransferLeadershipRequest) (*innonetpb.Cluster, error) {
	transfer := func(ctx context.Context, site string) error {
		if err := s.n.cluster.TransferLeadership(ctx, site); err != nil {
			return err
		}
		// Answer once the new leader is known here, so the reply names it.
		wctx, cancel := context.WithTimeout(ctx, 2*s.n.cfg.Cluster.ElectionTimeout)
		defer cancel()
		// The transfer happened; a reply without the new leader's name is
		// still right, so a timeout here is no error.
		_, _ = s.n.cluster.WaitForLeader(wctx)
		return nil
	}
	if r.Site == "" {
		if _, err := s.n.require(ctx, pipeline.Admin); err != nil {
			return nil, err
		}
		if err := transfer(ctx, ""); err != nil {
			return nil, membershipStatus(err)
		}
		return s.status()
	}
	return s.change(ctx, r.Site, transfer)
}

// GetSiteStats needs no token: the leader's health checks call it on every
// member, and it reveals only Raft progress.
func (s *clusterService) GetSiteStats(ctx context.Context, _ *innonetpb.GetSiteStatsRequest) (*innonetpb.SiteStats, error) {
	// With TLS, only other sites (mutual TLS) may ask; without it the
	// figures, Raft progress alone, are public.
	if s.n.cfg.TLS != nil && s.n.peerSite(ctx) == "" {
		return nil, status.Error(codes.PermissionDenied, "site statistics are served to other sites only: present a site certificate")
	}
	st := s.n.cluster.Stats()
	return &innonetpb.SiteStats{
		Site: st.ID, State: st.State, Term: st.Term, LastIndex: st.LastIndex, LastTerm: st.LastTerm,
		AppliedIndex: st.AppliedIndex, CommitIndex: st.CommitIndex, LastContact: durationpb.New(st.LastContact),
		LogFormat: int32(st.Format), Time: ts(st.Time), Alarms: alarmsToPB(st.Alarms),
		CheckpointIndex: st.CheckpointIndex, CheckpointDigest: st.CheckpointDigest, Rtt: rttToPB(st.RTT),
	}, nil
}

// DenyCertificate adds a serial to the replicated deny-list (ADMIN).
func (s *clusterService) DenyCertificate(ctx context.Context, r *innonetpb.DenyCertificateRequest) (*innonetpb.DeniedCertificate, error) {
	u, err := s.n.require(ctx, pipeline.Admin)
	if err != nil {
		return nil, err
	}
	if _, err := cluster.NormalizeSerial(r.Serial); err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	if len(r.Comment) > 500 || !utf8.ValidString(r.Comment) || strings.ContainsAny(r.Comment, "\x00\r\n") {
		return nil, status.Error(codes.InvalidArgument, "comment: must be one line of text of at most 500 bytes")
	}
	if have := s.n.state.Format(); have < pipeline.Format2 {
		if ok, site, reads := s.n.cluster.MembersRead(pipeline.Format2); !ok && site != "" {
			return nil, status.Error(codes.FailedPrecondition, cluster.FormatError(site, reads, pipeline.Format2).Error())
		}
		return nil, status.Error(codes.FailedPrecondition, "the deny-list needs log format 2, which the cluster does not run yet; retry shortly")
	}
	d, err := s.n.cluster.DenyCertificate(ctx, r.Serial, r.Comment, u.ID)
	if err != nil {
		return nil, membershipStatus(err)
	}
	s.n.log.Warn("certificate added to the deny-list", "serial", d.Serial, "by", u.ID, "comment", d.Comment)
	return deniedToPB(d), nil
}

// ListDeniedCertificates returns the deny-list (ADMIN).
func (s *clusterService) ListDeniedCertificates(ctx context.Context, _ *innonetpb.ListDeniedCertificatesRequest) (*innonetpb.ListDeniedCertificatesResponse, error) {
	if _, err := s.n.require(ctx, pipeline.Admin); err != nil {
		return nil, err
	}
	out := &innonetpb.ListDeniedCertificatesResponse{}
	for _, d := range s.n.cluster.DeniedCertificates() {
		out.Certificates = append(out.Certificates, deniedToPB(d))
	}
	return out, nil
}

// membershipStatus maps the cluster's membership errors to gRPC codes.
func membershipStatus(err error) error {
	switch {
	case errors.Is(err, cluster.ErrUnknownMember):
		return status.Error(codes.NotFound, err.Error())
	case errors.Is(err, cluster.ErrRefused):
		return status.Error(codes.FailedPrecondition, err.Error())
	}
	st := toStatus(err)
	if s, ok := status.FromError(st); ok && s.Code() == codes.Internal {
		return status.Errorf(codes.FailedPrecondition, "%v", err)
	}
	return st
}

// isMember reports whether site is in the configuration this site knows.
func (n *Node) isMember(site string) bool {
	st, err := n.cluster.Status()
	if err != nil {
		return false
	}
	for _, m := range st.Members {
		if m.ID == site {
			return true
		}
	}
	return false
}
