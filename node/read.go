package node

import (
	"context"
	"strconv"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	innonetpb "innonet/proto/innonet/v1"
)

// Response header keys that describe who answered a read. The gateway
// passes them to REST callers under the same names.
const (
	mdReadSite        = "x-innonet-read-site"
	mdReadConsistency = "x-innonet-read-consistency"
	mdAppliedIndex    = "x-innonet-applied-index"
	mdLastContactMS   = "x-innonet-last-contact-ms"
	mdLeader          = "x-innonet-leader"
	// How far behind the leader the answering site's copy is (copy.go),
	// and the leader it last heard from when it knows of none now.
	mdBehindMS   = "x-innonet-behind-ms"
	mdLastLeader = "x-innonet-last-leader"
)

// readRequest is a read that lets the caller choose its consistency.
type readRequest interface {
	GetConsistency() innonetpb.Consistency
}

// stalenessBound is a read that may bound how stale a STALE answer is.
type stalenessBound interface {
	GetMaxStaleness() *durationpb.Duration
}

// route says where a request is answered.
type route int

const (
	routeLocal  route = iota // by the site that took it
	routeLeader              // by the leader, as it stands
	routeLinear              // by the leader, after a ReadIndex round
)

// routeOf decides where req is answered. A STALE read is local unless the
// site has not heard from the leader within max_staleness, in which case
// it goes to the leader (as Consul's max_stale does), so the bound holds.
func (n *Node) routeOf(method string, req any) (route, error) {
	if localMethods[method] {
		return routeLocal, nil
	}
	r, ok := req.(readRequest)
	if !ok {
		return routeLeader, nil // a write
	}
	var max time.Duration
	if b, ok := req.(stalenessBound); ok && b.GetMaxStaleness() != nil {
		d := b.GetMaxStaleness()
		if err := d.CheckValid(); err != nil || d.AsDuration() < 0 {
			return 0, status.Error(codes.InvalidArgument, "max_staleness: must be a non-negative duration such as \"5s\"")
		}
		max = d.AsDuration()
		if max > 0 && r.GetConsistency() != innonetpb.Consistency_STALE {
			return 0, status.Error(codes.InvalidArgument, "max_staleness: applies only to consistency STALE")
		}
	}
	switch r.GetConsistency() {
	case innonetpb.Consistency_CONSISTENCY_UNSPECIFIED, innonetpb.Consistency_LEADER:
		return routeLeader, nil
	case innonetpb.Consistency_LINEARIZABLE:
		return routeLinear, nil
	case innonetpb.Consistency_STALE:
		if max > 0 && n.cluster.LastContact() > max {
			return routeLeader, nil
		}
		return routeLocal, nil
	}
	return 0, status.Errorf(codes.InvalidArgument, "consistency: unknown value %d (want STALE, LEADER or LINEARIZABLE)", r.GetConsistency())
}

// readInfo describes this site as the answerer of a read.
func (n *Node) readInfo(req any) *innonetpb.ReadInfo {
	c := innonetpb.Consistency_LEADER
	if r, ok := req.(readRequest); ok && r.GetConsistency() != innonetpb.Consistency_CONSISTENCY_UNSPECIFIED {
		c = r.GetConsistency()
	}
	leader, _ := n.cluster.Leader()
	return &innonetpb.ReadInfo{
		Site: n.cfg.Site, Consistency: c, AppliedIndex: n.state.AppliedIndex(),
		LastContact: durationpb.New(n.cluster.LastContact()), Leader: leader,
	}
}

// annotateRead fills the read info of a response this site produced, in
// the body where the response has room for it and in the headers always.
func (n *Node) annotateRead(ctx context.Context, req, resp any) {
	if _, ok := req.(readRequest); !ok {
		return
	}
	info := n.readInfo(req)
	switch r := resp.(type) {
	case *innonetpb.ListLeadsResponse:
		r.Read = info
	case *innonetpb.GetLeadHistoryResponse:
		r.Read = info
	case *innonetpb.ListUsersResponse:
		r.Read = info
	case *innonetpb.ListInterestsResponse:
		r.Read = info
	case *innonetpb.ListCommentsResponse:
		r.Read = info
	case *innonetpb.ListAttachmentsResponse:
		r.Read = info
	case *innonetpb.ListGlossaryResponse:
		r.Read = info
	case *innonetpb.SearchLeadsResponse:
		r.Read = info
	}
	md := metadata.Pairs(
		mdReadSite, info.Site,
		mdReadConsistency, info.Consistency.String(),
		mdAppliedIndex, strconv.FormatUint(info.AppliedIndex, 10),
		mdLastContactMS, strconv.FormatInt(info.LastContact.AsDuration().Milliseconds(), 10),
		mdLeader, info.Leader,
		mdBehindMS, strconv.FormatInt(n.behind().Milliseconds(), 10),
	)
	if info.Leader == "" {
		if last, _ := n.cluster.LastKnownLeader(); last != "" {
			md.Set(mdLastLeader, last)
		}
	}
	_ = grpc.SetHeader(ctx, md)
}
