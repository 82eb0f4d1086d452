package node

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"innonet/cluster"
	"innonet/node/pipeline"
	innonetpb "innonet/proto/innonet/v1"
)

// ping is the round-trip probe of leader placement
// (cluster.Config.Ping): a gRPC health check over the pooled
// site-to-site connection, which the forwarded writes also use.
func (n *Node) ping(ctx context.Context, m cluster.Member) error {
	if m.APIAddr == "" {
		return fmt.Errorf("site %s has not published its API address", m.ID)
	}
	conn, err := n.peers.conn(m.ID, m.APIAddr)
	if err != nil {
		return err
	}
	if _, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{}); err != nil {
		return fmt.Errorf("ping %s: %w", m.ID, err)
	}
	return nil
}

// SetLeaderPlacement replaces the replicated placement preferences
// (ADMIN); the forwarding interceptor sends it to the leader.
func (s *clusterService) SetLeaderPlacement(ctx context.Context, r *innonetpb.SetLeaderPlacementRequest) (*innonetpb.Cluster, error) {
	u, err := s.n.require(ctx, pipeline.Admin)
	if err != nil {
		return nil, err
	}
	p := cluster.PlacementPrefs{Pin: r.Pin, Prefer: r.Prefer, Exclude: r.Exclude, By: u.ID}
	switch r.Mode {
	case "", "auto":
	case "manual":
		p.Manual = true
	default:
		return nil, status.Errorf(codes.InvalidArgument, "mode: %q is not a placement mode (want auto or manual)", clip(r.Mode))
	}
	check := func(field, site string) error {
		if !pipeline.ValidSiteCode(site) {
			return status.Errorf(codes.InvalidArgument, "%s: %q is not a site code (2 to 8 capital letters)", field, clip(site))
		}
		return nil
	}
	if r.Pin != "" {
		if err := check("pin", r.Pin); err != nil {
			return nil, err
		}
	}
	for field, list := range map[string][]string{"prefer": r.Prefer, "exclude": r.Exclude} {
		if len(list) > 16 {
			return nil, status.Errorf(codes.InvalidArgument, "%s: at most 16 sites", field)
		}
		for i, site := range list {
			if err := check(field, site); err != nil {
				return nil, err
			}
			if slices.Contains(list[:i], site) {
				return nil, status.Errorf(codes.InvalidArgument, "%s: %s is named twice", field, site)
			}
		}
	}
	if err := s.n.cluster.SetPlacement(ctx, p); err != nil {
		if errors.Is(err, cluster.ErrInvalidPlacement) {
			return nil, status.Error(codes.InvalidArgument, err.Error())
		}
		return nil, membershipStatus(err)
	}
	s.n.log.Info("leader placement preferences set", "by", u.ID, "mode", r.Mode, "pin", r.Pin, "prefer", r.Prefer, "exclude", r.Exclude)
	return s.status()
}

func placementToPB(p cluster.PlacementStatus) *innonetpb.LeaderPlacement {
	out := &innonetpb.LeaderPlacement{
		Mode: "auto", Pin: p.Prefs.Pin, Prefer: p.Prefs.Prefer, Exclude: p.Prefs.Exclude,
		Known: p.Known, Reason: p.Decision.Reason, UniformMix: p.Decision.Uniform,
	}
	if p.Manual {
		out.Mode = "manual"
		if out.Reason == "" {
			out.Reason = "manual placement: leadership moves only when an operator moves it"
		}
	}
	if !p.At.IsZero() {
		out.Evaluated = ts(p.At)
	}
	for _, from := range sortedKeys(p.RTT) {
		row := &innonetpb.RoundTripRow{Site: from}
		for _, to := range sortedKeys(p.RTT[from]) {
			row.Peers = append(row.Peers, &innonetpb.RoundTrip{Site: to, Rtt: durationpb.New(p.RTT[from][to])})
		}
		out.Rtt = append(out.Rtt, row)
	}
	sites := map[string]bool{}
	for v := range p.Decision.Estimates {
		sites[v] = true
	}
	for v := range p.Decision.Unavailable {
		sites[v] = true
	}
	for _, v := range sortedKeys(sites) {
		e := &innonetpb.PlacementEstimate{Site: v, Unavailable: p.Decision.Unavailable[v]}
		if d, ok := p.Decision.Estimates[v]; ok {
			e.PerWrite = durationpb.New(d)
		}
		out.Estimates = append(out.Estimates, e)
	}
	for _, o := range sortedKeys(p.Mix) {
		out.Writes = append(out.Writes, &innonetpb.WriteShare{Site: o, Writes: p.Mix[o]})
	}
	if mv := p.LastMove; mv != nil {
		out.LastMove = &innonetpb.PlacementMove{From: mv.From, To: mv.To, Reason: mv.Reason, Time: ts(mv.Time), Error: mv.Err}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// rttToPB and rttFromPB carry a site's RTT row in its SiteStats.
func rttToPB(row map[string]time.Duration) []*innonetpb.RoundTrip {
	var out []*innonetpb.RoundTrip
	for _, k := range sortedKeys(row) {
		out = append(out, &innonetpb.RoundTrip{Site: k, Rtt: durationpb.New(row[k])})
	}
	return out
}

func rttFromPB(rows []*innonetpb.RoundTrip) map[string]time.Duration {
	if len(rows) == 0 {
		return nil
	}
	out := make(map[string]time.Duration, len(rows))
	for _, r := range rows {
		if r.GetRtt() != nil && pipeline.ValidSiteCode(r.Site) {
			out[r.Site] = r.Rtt.AsDuration()
		}
	}
	return out
}
