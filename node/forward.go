package node

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"innonet/cluster"
	"innonet/node/pipeline"
	innonetpb "innonet/proto/innonet/v1"
)

// Metadata keys set on a forwarded request.
const (
	mdForwardedBy = "x-innonet-forwarded-by" // the site that forwarded it
	mdOrigin      = "x-innonet-origin"       // the site whose API took the request
)

// localMethods are answered by the site that receives them, whatever the
// request says. Every other method is a write, or a read whose consistency
// decides (see routeOf).
var localMethods = map[string]bool{
	innonetpb.ClusterService_GetSiteStats_FullMethodName: true,
	healthpb.Health_Check_FullMethodName:                 true,
	healthpb.Health_List_FullMethodName:                  true,
	// This site's outbox (queued.go), also while it is cut off.
	innonetpb.OutboxService_ListQueuedWrites_FullMethodName: true,
}

// ownView are reads whose answer is the answering site's own view (a
// STALE GetCluster), which the leader cannot give instead: a site that
// may not judge tokens itself refuses them (see credential) rather than
// send them on.
var ownView = map[string]bool{
	innonetpb.ClusterService_GetCluster_FullMethodName: true,
}

// notResent are writes that must not be sent twice when the leader changes
// under a forwarded request: without a site named, a second transfer would
// move leadership again. Every other write carries a request ID or is
// idempotent, so sending it to the new leader is safe.
var notResent = map[string]bool{
	innonetpb.ClusterService_TransferLeadership_FullMethodName: true,
	// Membership changes carry no request ID: a second attempt after a
	// first that took effect would be refused as a change already made.
	innonetpb.ClusterService_RemoveMember_FullMethodName:  true,
	innonetpb.ClusterService_PromoteMember_FullMethodName: true,
	innonetpb.ClusterService_DemoteMember_FullMethodName:  true,
}

// forwardInterceptor answers a request here when its route allows (a
// local read, or any request on the leader, after a ReadIndex round for a
// linearizable read), and otherwise sends it to the leader with the
// caller's metadata and relays the answer and its read headers. If the
// leader changes while a forwarded request waits (the old leader died, so
// the connection hangs), or the leader cannot be reached or answers
// UNAVAILABLE, the request is sent again, for up to the leader wait (see
// leaderWait). A request is forwarded at most one hop: a site that
// receives a forwarded request and no longer leads answers UNAVAILABLE,
// and the site that forwarded it sends it again.
//
// Nothing waits longer than the leader wait for a leader that does not
// answer: a forwarded attempt still unanswered when the wait ends, while
// this site hears from no leader, is abandoned, and the caller is told
// UNAVAILABLE with the cause (no leader reachable from this site, for how
// long, which leader it knew last), not left to its own deadline.
func (n *Node) forwardInterceptor(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	ctx = withTokenMemo(ctx) // credmemo.go
	if err := n.checkForwarded(ctx); err != nil {
		return nil, err
	}
	if err := siteForwarded(ctx, info.FullMethod); err != nil {
		return nil, err
	}
	rt, err := n.routeOf(info.FullMethod, req)
	if err != nil {
		return nil, err
	}
	fwd := forwarded(ctx)
	// A site cut off from the leader for too long does not judge tokens
	// itself (see credential): the leader does, as for a token this site
	// does not know.
	stale := rt == routeLocal && !localMethods[info.FullMethod] && !ownView[info.FullMethod] &&
		!fwd && n.authStale() > 0
	if stale || rt == routeLocal && n.newerCredential(ctx, info.FullMethod, fwd) {
		rt = routeLeader
	}
	if rt == routeLocal && !localMethods[info.FullMethod] && n.cluster.ServesLocalReads() != nil {
		// This site's copy is damaged or falling behind (CORRUPT,
		// NOSPACE): the leader answers instead.
		rt = routeLeader
	}
	if rt != routeLocal && n.cluster.IsLeader() {
		if err := n.cluster.ServesLocalReads(); err != nil {
			return nil, status.Errorf(codes.Unavailable, "the leader cannot answer: %v; it is handing leadership over, retry", err)
		}
	}
	if rt == routeLocal {
		return n.answer(ctx, rt, req, handler)
	}
	// A caller that opted in gets a write queued rather than refused
	// (queued.go): at once while this site knows no leader to send it
	// to, or holds queued writes of the caller's still to be sent (so
	// the caller's writes stay in order), else when the attempts below
	// fail UNAVAILABLE.
	queue, err := n.mayQueue(ctx, info.FullMethod)
	if err != nil {
		return nil, err
	}
	if queue {
		if reach := n.cluster.Reach(); reach != nil {
			return n.enqueue(ctx, info.FullMethod, req, toStatus(reach))
		}
		if n.queuedBefore(ctx) {
			return n.enqueue(ctx, info.FullMethod, req, status.Error(codes.Unavailable, "earlier writes of the caller's are queued on this site"))
		}
	}
	if fwd {
		if !n.cluster.IsLeader() {
			return nil, status.Error(codes.Unavailable, errNotLeaderForwarded)
		}
		return n.answer(ctx, rt, req, handler)
	}
	// Every attempt of this request derives the same secrets (secrets.go).
	ctx = withSeed(ctx, newSeed())
	// The site whose API took the request holds it through a leader
	// change (as Consul's rpc_hold_timeout does): an election, a leader
	// that stepped down before this site heard of it, a commit lost with
	// leadership. Each attempt carries the same request and request ID, so
	// a write sent twice acts once. A site cut off from the leader for
	// longer than the hold does not hold: it is not waiting for an
	// election, and its callers are better served by another site. It
	// makes one attempt, which its API may still carry to the leader (a
	// forward and its commit take a second or so even across the border),
	// and gives it half an election timeout at most: 2.5 s with wan.
	now := time.Now()
	hold := now.Add(n.leaderWait())
	giveUp := hold
	if n.cluster.CutOff() {
		hold, giveUp = now, now.Add(n.cfg.Cluster.ElectionTimeout/2)
	}
	var md metadata.MD // the caller's, sent on with a forwarded attempt
	for attempt := 0; ; attempt++ {
		var resp any
		var err error
		if n.cluster.IsLeader() {
			resp, err = n.answer(ctx, rt, req, handler)
		} else {
			if err := n.newReadFields(req); err != nil {
				return nil, err
			}
			if md == nil {
				md, _ = metadata.FromIncomingContext(ctx)
			}
			resp, _, err = n.forward(ctx, md, info.FullMethod, req, giveUp)
			giveUp = hold
		}
		resend := !notResent[info.FullMethod] || notSent(err)
		if err == nil || status.Code(err) != codes.Unavailable || stale || !resend || !n.awaitLeader(ctx, hold, attempt) {
			if stale && status.Code(err) == codes.Unavailable {
				return nil, n.staleAuthError(n.cluster.LastContact(), err)
			}
			if queue && status.Code(err) == codes.Unavailable {
				// Whatever the attempt did, sending the write again with
				// its request ID applies it once.
				return n.enqueue(ctx, info.FullMethod, req, n.withCause(err))
			}
			return resp, n.withCause(err)
		}
		n.log.Debug("leader unavailable; sending again", "method", info.FullMethod, "attempt", attempt+1, "err", err)
	}
}

// errNotLeaderForwarded answers a forwarded request at a site that no
// longer leads, which did not act on it.
const errNotLeaderForwarded = "forwarded to a site that is no longer the leader; retry"

// notSent reports whether a failed attempt certainly did not act: the
// leader it reached refused it unread, or no leader was known. Even a
// request that must not be sent twice (notResent) is sent again then.
func notSent(err error) bool {
	st, _ := status.FromError(err)
	return st.Code() == codes.Unavailable && (st.Message() == errNotLeaderForwarded || errors.Is(err, cluster.ErrNoLeader) ||
		strings.HasPrefix(st.Message(), "no leader"))
}

// leaderWait bounds how long the site that took a request keeps sending
// it again while the cluster changes leader, and how long a forwarded
// attempt waits for a leader this site no longer hears from: twice the
// election timeout of the timing profile (cluster.Config.LeaderWait; 2s
// on a LAN, 10s on a WAN), the longest a healthy election takes. Consul
// holds for 7s whatever its timings.
func (n *Node) leaderWait() time.Duration { return n.cfg.Cluster.LeaderWait() }

// withCause names why an UNAVAILABLE answer came about when this site
// hears from no leader: since when, and which leader it knew last.
func (n *Node) withCause(err error) error {
	st, ok := status.FromError(err)
	if err == nil || !ok || st.Code() != codes.Unavailable || strings.Contains(st.Message(), "no leader reachable") {
		return err
	}
	reach := n.cluster.Reach()
	if reach == nil {
		return err
	}
	return status.Errorf(codes.Unavailable, "%v (last attempt: %s)", reach, st.Message())
}

// noLeaderStatus is the answer when no leader is known to send a request
// to.
func (n *Node) noLeaderStatus() error {
	if err := n.cluster.Reach(); err != nil {
		return toStatus(err)
	}
	return toStatus(cluster.ErrNoLeader)
}

// awaitLeader waits before the next attempt of a request held through a
// leader change (see forwardInterceptor): a back-off that grows from 25 ms
// to half a second, then until a leader is known. It reports false when
// the hold or the caller's deadline would end first, so the last error
// goes back to the caller while it can still act on it.
func (n *Node) awaitLeader(ctx context.Context, hold time.Time, attempt int) bool {
	wait := min(25*time.Millisecond<<min(attempt, 5), 500*time.Millisecond)
	end := hold
	if d, ok := ctx.Deadline(); ok && d.Add(-time.Second).Before(end) {
		end = d.Add(-time.Second) // keep a second for the last attempt
	}
	for {
		if time.Now().Add(wait).After(end) {
			return false
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return false
		case <-t.C:
		}
		if n.cluster.IsLeader() {
			return true
		}
		if id, addr := n.cluster.LastKnownLeader(); id != "" && addr != "" {
			return true
		}
		if n.cluster.CutOff() {
			return false
		}
		wait = 50 * time.Millisecond
	}
}

// newerCredential reports whether a request this site would answer
// itself carries a token this site does not know, while a leader is
// known: the token may belong to a user or rotation committed but not yet
// applied here (a lagging site), so the leader, which has applied every
// committed entry, must judge it. Answering UNAUTHENTICATED here would
// refuse a valid token, and count it as a failed sign-in of the client.
func (n *Node) newerCredential(ctx context.Context, method string, forwarded bool) bool {
	if localMethods[method] || forwarded || n.cluster.IsLeader() {
		return false
	}
	tok, err := bearer(ctx)
	if err != nil {
		return false
	}
	if _, _, err := n.lookupToken(ctx, tok); !errors.Is(err, pipeline.ErrUnauthenticated) {
		return false // known here: valid, revoked or expired, this site can tell
	}
	leader, _ := n.cluster.LastKnownLeader()
	return leader != ""
}

// answer handles a request on this site.
func (n *Node) answer(ctx context.Context, rt route, req any, handler grpc.UnaryHandler) (any, error) {
	if rt == routeLinear {
		if err := n.cluster.LinearizableRead(ctx); err != nil {
			return nil, toStatus(err)
		}
	}
	resp, err := handler(ctx, req)
	if err == nil {
		n.annotateRead(ctx, req, resp)
	}
	return resp, err
}

// forward sends one request to the leader. changed reports that the
// leader changed while it waited, in which case the attempt was abandoned.
// An attempt still waiting at giveUp while this site has heard from no
// leader for half the leader wait is abandoned too: the leader is out of
// reach, and the caller is told so rather than kept to its deadline.
func (n *Node) forward(ctx context.Context, md metadata.MD, method string, req any, giveUp time.Time) (resp any, changed bool, err error) {
	// A site cut off from Raft traffic forgets the leader after a heartbeat
	// timeout; its API may still reach it, and a site that no longer
	// leads refuses what is forwarded to it.
	leader, addr := n.cluster.LastKnownLeader()
	if leader == "" {
		return nil, false, n.noLeaderStatus()
	}
	if addr == "" {
		return nil, false, status.Errorf(codes.Unavailable, "leader %s has not published its API address yet; retry", leader)
	}
	conn, err := n.peers.conn(leader, addr)
	if err != nil {
		return nil, false, status.Errorf(codes.Unavailable, "connect to leader %s at %s: %v", leader, addr, err)
	}
	out, err := newResponse(method)
	if err != nil {
		return nil, false, err
	}
	omd := metadata.MD{mdForwardedBy: []string{n.cfg.Site}, mdOrigin: []string{originSite(ctx, n.cfg.Site)},
		mdClientAddr: []string{n.clientAddr(ctx)}}
	if seed := requestSeed(ctx); seed != "" {
		omd.Set(mdSecretSeed, seed)
	}
	if site := n.callerSite(ctx); site != "" {
		omd.Set(mdCallerSite, site)
	}
	if auth := md.Get("authorization"); len(auth) > 0 {
		// A header that is not a bearer token could not even be sent on
		// (gRPC sends printable ASCII only), and any site can tell.
		if _, err := bearer(ctx); err != nil {
			return nil, false, err
		}
		omd.Set("authorization", auth...)
	}
	fctx := metadata.NewOutgoingContext(ctx, omd)
	if _, ok := fctx.Deadline(); !ok {
		var cancel context.CancelFunc
		fctx, cancel = context.WithTimeout(fctx, n.cfg.Cluster.ApplyTimeout+n.cfg.Cluster.TransportTimeout)
		defer cancel()
	}
	fctx, cancel := context.WithCancel(fctx)
	defer cancel()
	moved, lost := make(chan struct{}), make(chan error, 1)
	// A leadership transfer moves leadership by design: wait for the old
	// leader's answer instead of abandoning the request (unless the
	// leader is out of reach).
	watch := !notResent[method]
	began := time.Now()
	go func() {
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-fctx.Done():
				return
			case <-t.C:
				if id, _ := n.cluster.Leader(); watch && id != "" && id != leader {
					close(moved)
					cancel()
					return
				}
				// Out of reach: no word from any leader for half the
				// leader wait (an election timeout with lan and wan), so
				// not a leader change that is merely slow.
				if time.Now().After(giveUp) && !n.cluster.IsLeader() && n.cluster.LastContact() > n.leaderWait()/2 {
					if err := n.cluster.Reach(); err != nil {
						lost <- err
						cancel()
						return
					}
				}
			}
		}
	}()
	var header metadata.MD
	if err := conn.Invoke(fctx, method, req, out, grpc.Header(&header)); err != nil {
		select {
		case <-moved:
			return nil, true, status.Errorf(codes.Unavailable, "leadership moved from %s while the request was forwarded; retry with the same request ID", leader)
		case reach := <-lost:
			advice := "a write may still be applied: retry with the same request ID, later or through another site"
			if _, read := req.(readRequest); read {
				advice = "retry later or through another site"
			}
			return nil, false, status.Errorf(codes.Unavailable, "no answer from leader %s within %s, and %v; %s",
				leader, roundContact(time.Since(began)), reach, advice)
		default:
		}
		if s, ok := status.FromError(err); ok && s.Code() != codes.Unknown {
			return nil, false, err
		}
		return nil, false, status.Errorf(codes.Unavailable, "forward to leader %s: %v", leader, err)
	}
	relay := metadata.MD{}
	for _, k := range []string{mdReadSite, mdReadConsistency, mdAppliedIndex, mdLastContactMS, mdLeader, mdBehindMS, mdLastLeader} {
		if v := header.Get(k); len(v) > 0 {
			relay.Set(k, v...)
		}
	}
	if len(relay) > 0 {
		_ = grpc.SetHeader(ctx, relay)
	}
	return out, false, nil
}

// originSite is the site whose API first took the request: this site, or
// the one that forwarded it here. The forwarded value is trusted only when
// it looks like a site code; peer authentication comes with mutual TLS.
func originSite(ctx context.Context, self string) string {
	if v := metadata.ValueFromIncomingContext(ctx, mdOrigin); len(v) > 0 && pipeline.ValidSiteCode(v[0]) {
		return v[0]
	}
	return self
}

// newResponse returns an empty response message for a method of the API.
func newResponse(method string) (proto.Message, error) {
	name, ok := methodTypes().out[method]
	if !ok {
		return nil, status.Errorf(codes.Unimplemented, "method %s cannot be forwarded", method)
	}
	mt, err := protoregistry.GlobalTypes.FindMessageByName(name)
	if err != nil {
		return nil, status.Errorf(codes.Internal, "response type of %s: %v", method, err)
	}
	return mt.New().Interface(), nil
}

// methodTypes maps each API method's full name to its request (in) and
// response (out) types, read from the generated file descriptor.
var methodTypes = sync.OnceValue(func() (m struct {
	in, out map[string]protoreflect.FullName
}) {
	m.in, m.out = map[string]protoreflect.FullName{}, map[string]protoreflect.FullName{}
	services := innonetpb.File_innonet_v1_innonet_proto.Services()
	for i := 0; i < services.Len(); i++ {
		s := services.Get(i)
		for j := 0; j < s.Methods().Len(); j++ {
			md := s.Methods().Get(j)
			name := "/" + string(s.FullName()) + "/" + string(md.Name())
			m.in[name], m.out[name] = md.Input().FullName(), md.Output().FullName()
		}
	}
	return m
})
