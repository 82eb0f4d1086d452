package node

import (
	"context"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
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
}

// forwardInterceptor answers a request here when its route allows (a
// local read, or any request on the leader, after a ReadIndex round for a
// linearizable read), and otherwise sends it to the leader with the
// caller's metadata and relays the answer and its read headers. A request
// is forwarded at most once: if it reaches a site that is no longer
// leader, the caller gets UNAVAILABLE and retries.
func (n *Node) forwardInterceptor(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	rt, err := n.routeOf(info.FullMethod, req)
	if err != nil {
		return nil, err
	}
	if rt == routeLocal || n.cluster.IsLeader() {
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
	md, _ := metadata.FromIncomingContext(ctx)
	if len(md.Get(mdForwardedBy)) > 0 {
		return nil, status.Error(codes.Unavailable, "forwarded to a site that is no longer the leader; retry")
	}
	// A site cut off from Raft traffic forgets the leader after a heartbeat
	// timeout; its API may still reach it, and a site that no longer
	// leads refuses what is forwarded to it.
	leader, addr := n.cluster.LastKnownLeader()
	if leader == "" {
		return nil, toStatus(cluster.ErrNoLeader)
	}
	if addr == "" {
		return nil, status.Errorf(codes.Unavailable, "leader %s has not published its API address yet; retry", leader)
	}
	conn, err := n.peers.conn(addr)
	if err != nil {
		return nil, status.Errorf(codes.Unavailable, "connect to leader %s at %s: %v", leader, addr, err)
	}
	resp, err := newResponse(info.FullMethod)
	if err != nil {
		return nil, err
	}
	out := metadata.MD{mdForwardedBy: []string{n.cfg.Site}, mdOrigin: []string{originSite(ctx, n.cfg.Site)}}
	if auth := md.Get("authorization"); len(auth) > 0 {
		out.Set("authorization", auth...)
	}
	fctx := metadata.NewOutgoingContext(ctx, out)
	if _, ok := fctx.Deadline(); !ok {
		var cancel context.CancelFunc
		fctx, cancel = context.WithTimeout(fctx, n.cfg.Cluster.ApplyTimeout+n.cfg.Cluster.TransportTimeout)
		defer cancel()
	}
	var header metadata.MD
	if err := conn.Invoke(fctx, info.FullMethod, req, resp, grpc.Header(&header)); err != nil {
		if s, ok := status.FromError(err); ok && s.Code() != codes.Unknown {
			return nil, err
		}
		return nil, status.Errorf(codes.Unavailable, "forward to leader %s: %v", leader, err)
	}
	relay := metadata.MD{}
	for _, k := range []string{mdReadSite, mdReadConsistency, mdAppliedIndex, mdLastContactMS, mdLeader} {
		if v := header.Get(k); len(v) > 0 {
			relay.Set(k, v...)
		}
	}
	if len(relay) > 0 {
		_ = grpc.SetHeader(ctx, relay)
	}
	return resp, nil
}

// originSite is the site whose API first took the request: this site, or
// the one that forwarded it here. The forwarded value is trusted only when
// it looks like a site code; peer authentication comes with mutual TLS.
func originSite(ctx context.Context, self string) string {
	md, _ := metadata.FromIncomingContext(ctx)
	if v := md.Get(mdOrigin); len(v) > 0 && pipeline.ValidSiteCode(v[0]) {
		return v[0]
	}
	return self
}

// newResponse returns an empty response message for a method of the API.
func newResponse(method string) (proto.Message, error) {
	name, ok := responseTypes()[method]
	if !ok {
		return nil, status.Errorf(codes.Unimplemented, "method %s cannot be forwarded", method)
	}
	mt, err := protoregistry.GlobalTypes.FindMessageByName(name)
	if err != nil {
		return nil, status.Errorf(codes.Internal, "response type of %s: %v", method, err)
	}
	return mt.New().Interface(), nil
}

// responseTypes maps each API method's full name to its response type,
// read from the generated file descriptor.
var responseTypes = sync.OnceValue(func() map[string]protoreflect.FullName {
	m := map[string]protoreflect.FullName{}
	services := innonetpb.File_innonet_v1_innonet_proto.Services()
	for i := 0; i < services.Len(); i++ {
		s := services.Get(i)
		for j := 0; j < s.Methods().Len(); j++ {
			md := s.Methods().Get(j)
			m["/"+string(s.FullName())+"/"+string(md.Name())] = md.Output().FullName()
		}
	}
	return m
})

// peerConns keeps one gRPC connection per peer API address.
type peerConns struct {
	mu    sync.Mutex
	conns map[string]*grpc.ClientConn
	opts  []grpc.DialOption
}

func newPeerConns() *peerConns {
	return &peerConns{conns: map[string]*grpc.ClientConn{},
		opts: []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}}
}

func (p *peerConns) conn(addr string) (*grpc.ClientConn, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if c, ok := p.conns[addr]; ok {
		return c, nil
	}
	c, err := grpc.NewClient(addr, p.opts...)
	if err != nil {
		return nil, err
	}
	p.conns[addr] = c
	return c, nil
}

func (p *peerConns) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for addr, c := range p.conns {
		c.Close()
		delete(p.conns, addr)
	}
}
