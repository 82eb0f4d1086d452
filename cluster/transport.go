package cluster

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
)

// PeerTLS secures Raft traffic between sites with mutual TLS and names the
// site at the other end of a connection (see package certs).
type PeerTLS interface {
	// PeerServerConfig must require and verify a client certificate.
	PeerServerConfig() *tls.Config
	// PeerClientConfig accepts only the server certificate of site (of
	// any site when site is empty).
	PeerClientConfig(site string) *tls.Config
	// PeerSite returns the site a verified connection's certificate names.
	PeerSite(cs tls.ConnectionState) (string, error)
}

// DialFunc opens a connection to another site's address. The default is
// a plain TCP dial; tests route each link through a fault proxy with it.
type DialFunc func(ctx context.Context, addr string) (net.Conn, error)

// handshakeTimeout bounds a TLS handshake on the Raft port, so a peer that
// connects and says nothing holds no goroutine for long.
const handshakeTimeout = 10 * time.Second

// transport is the Raft network transport. In plaintext it is a
// raft.NetworkTransport over TCP. With TLS, every inbound connection is
// handshaken first and handed to an inbound transport of the site its
// certificate names; each RPC arriving there must carry that site's ID in
// its header, or it is refused. So a site can never vote, replicate or
// install a snapshot as another site, whatever it writes in its messages.
type transport struct {
	*raft.NetworkTransport // outbound RPCs, and inbound in plaintext
	ln                     net.Listener
	adv                    net.Addr
	tls                    PeerTLS
	dial                   DialFunc
	timeout                time.Duration
	noPipeline             bool
	log                    *slog.Logger
	hlog                   hclog.Logger
	siteAt                 atomic.Pointer[func(addr string) string]
	// stale answers an InstallSnapshot this member already holds (see
	// deliver); set by the Cluster once Raft runs.
	stale    atomic.Pointer[func(*raft.InstallSnapshotRequest) (*raft.InstallSnapshotResponse, bool)]
	consumer chan raft.RPC
	done     chan struct{}
	closing  sync.Once

	mu      sync.Mutex
	inbound map[string]*inboundSite
	hb      func(raft.RPC)
	gate    *peerGate // who may send Raft requests here (peers.go)

	// Heartbeats reach Raft on the connection's goroutine, not through
	// its main loop, so one can be inside Raft while it shuts down and
	// write the term to a store that Halt is about to close (hashicorp/raft
	// then panics). Close waits for those in flight and admits no more.
	hbGate   sync.RWMutex
	hbClosed bool

	// outbound are the connections this site opened to others (Raft's
	// pool, pipelines, leadership checks), closed when Raft shuts down:
	// a call stalled on a cut link would otherwise hold the shutdown
	// until its deadline.
	outMu    sync.Mutex
	outbound map[*outConn]struct{}
	outDone  bool
	// dialing ends the dials under way when Raft shuts down (a dial to
	// a site behind a cut link waits out its whole timeout).
	dialing     context.Context
	stopDialing context.CancelFunc
}

// outConn is an outbound connection that leaves transport.outbound when
// closed.
type outConn struct {
	net.Conn
	t    *transport
	once sync.Once
}

func (c *outConn) Close() error {
	c.once.Do(func() {
		c.t.outMu.Lock()
		delete(c.t.outbound, c)
		c.t.outMu.Unlock()
	})
	return c.Conn.Close()
}

// track records an outbound connection; after closeOutbound it closes
// it at once.
func (t *transport) track(conn net.Conn) net.Conn {
	c := &outConn{Conn: conn, t: t}
	t.outMu.Lock()
	if t.outDone {
		t.outMu.Unlock()
		conn.Close()
		return c
	}
	if t.outbound == nil {
		t.outbound = map[*outConn]struct{}{}
	}
	t.outbound[c] = struct{}{}
	t.outMu.Unlock()
	return c
}

// closeOutbound closes every outbound connection, and any opened later.
func (t *transport) closeOutbound() {
	t.stopDialing()
	t.outMu.Lock()
	t.outDone = true
	conns := make([]*outConn, 0, len(t.outbound))
	for c := range t.outbound {
		conns = append(conns, c)
	}
	t.outMu.Unlock()
	for _, c := range conns {
		_ = c.Close()
	}
}

// heartbeat runs Raft's heartbeat handler unless the transport is closed.
func (t *transport) heartbeat(cb func(raft.RPC), rpc raft.RPC) {
	t.hbGate.RLock()
	defer t.hbGate.RUnlock()
	if t.hbClosed {
		rpc.Respond(nil, raft.ErrTransportShutdown)
		return
	}
	cb(rpc)
}

// inboundSite carries the connections from one verified site.
type inboundSite struct {
	stream *streamLayer
	trans  *raft.NetworkTransport
	mu     sync.Mutex
	conns  map[*trackedConn]string // open connections and their certificate serials
}

// trackedConn is an inbound connection the transport can close when its
// certificate is denied.
type trackedConn struct {
	net.Conn
	once    sync.Once
	onClose func()
}

func (c *trackedConn) Close() error {
	c.once.Do(c.onClose)
	return c.Conn.Close()
}

// dropDenied closes every inbound connection whose certificate is on the
// deny-list.
func (t *transport) dropDenied() {
	t.mu.Lock()
	sites := make([]*inboundSite, 0, len(t.inbound))
	for _, in := range t.inbound {
		sites = append(sites, in)
	}
	t.mu.Unlock()
	denied := *t.gate.denied.Load()
	for _, in := range sites {
		in.mu.Lock()
		drop := map[*trackedConn]string{}
		for c, serial := range in.conns {
			if denied[serial] {
				drop[c] = serial
			}
		}
		in.mu.Unlock()
		for c, serial := range drop {
			t.gate.refuse(refusedDenied, "", c.RemoteAddr().String(), fmt.Errorf("certificate serial %s was added to the cluster's deny-list: connection closed", serial))
			c.Close()
		}
	}
}

func newTransport(cfg Config, log *slog.Logger, hlog hclog.Logger) (*transport, error) {
	ln, err := net.Listen("tcp", cfg.RaftAddr)
	if err != nil {
		return nil, err
	}
	adv := ln.Addr()
	if cfg.AdvertiseAddr != "" {
		if adv, err = net.ResolveTCPAddr("tcp", cfg.AdvertiseAddr); err != nil {
			ln.Close()
			return nil, fmt.Errorf("resolve raft advertise address %q: %w", cfg.AdvertiseAddr, err)
		}
	}
	dial := cfg.Dial
	if dial == nil {
		var d net.Dialer
		dial = func(ctx context.Context, addr string) (net.Conn, error) { return d.DialContext(ctx, "tcp", addr) }
	}
	dialing, stopDialing := context.WithCancel(context.Background())
	t := &transport{dialing: dialing, stopDialing: stopDialing, ln: ln, adv: adv, tls: cfg.PeerTLS, dial: dial, timeout: cfg.TransportTimeout, noPipeline: cfg.NoPipeline,
		log: log, hlog: hlog, consumer: make(chan raft.RPC), done: make(chan struct{}), inbound: map[string]*inboundSite{},
		gate: newPeerGate(log)}
	if cfg.PinVoters {
		none := map[string]bool{}
		t.gate.trusted.Store(&none)
	}
	main := newStreamLayer(adv, t.dialPeer)
	t.NetworkTransport = raft.NewNetworkTransportWithConfig(&raft.NetworkTransportConfig{
		Stream: main, MaxPool: 5, Timeout: cfg.TransportTimeout, Logger: hlog,
	})
	go t.accept(main)
	if t.tls == nil {
		go func() {
			for {
				select {
				case rpc := <-t.NetworkTransport.Consumer():
					if t.admitRPC("", rpc) {
						t.deliver(rpc)
					}
				case <-t.done:
					return
				}
			}
		}()
	}
	return t, nil
}

// setSiteLookup tells the transport which site an address belongs to, so
// that a dialed peer must present that site's certificate.
func (t *transport) setSiteLookup(f func(addr string) string) { t.siteAt.Store(&f) }

func (t *transport) accept(main *streamLayer) {
	for {
		conn, err := t.ln.Accept()
		if err != nil {
			select {
			case <-t.done:
				return
			default:
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			t.log.Error("raft listener failed", "err", err)
			return
		}
		if t.tls == nil {
			main.push(conn)
			continue
		}
		go t.admitConn(conn)
	}
}

// admitConn completes the TLS handshake of an inbound connection and hands
// it to the inbound transport of the site its certificate names.
func (t *transport) admitConn(raw net.Conn) {
	conn := tls.Server(raw, t.tls.PeerServerConfig())
	ctx, cancel := context.WithTimeout(context.Background(), handshakeTimeout)
	defer cancel()
	remote := raw.RemoteAddr().String()
	if err := conn.HandshakeContext(ctx); err != nil {
		t.gate.refuse(refusedHandshake, "", remote, err)
		raw.Close()
		return
	}
	cs := conn.ConnectionState()
	site, err := t.tls.PeerSite(cs)
	if err != nil {
		t.gate.refuse(refusedNoSite, "", remote, err)
		conn.Close()
		return
	}
	if len(cs.PeerCertificates) > 0 && t.gate.isDenied(cs.PeerCertificates[0]) {
		t.gate.refuse(refusedDenied, site, remote, fmt.Errorf("certificate serial %s is on the cluster's deny-list", SerialString(cs.PeerCertificates[0])))
		conn.Close()
		return
	}
	in := t.inboundFor(site)
	if in == nil {
		conn.Close()
		return
	}
	var serial string
	if len(cs.PeerCertificates) > 0 {
		serial = SerialString(cs.PeerCertificates[0])
	}
	tc := &trackedConn{Conn: conn}
	tc.onClose = func() {
		in.mu.Lock()
		delete(in.conns, tc)
		in.mu.Unlock()
	}
	in.mu.Lock()
	in.conns[tc] = serial
	in.mu.Unlock()
	in.stream.push(tc)
}

func (t *transport) inboundFor(site string) *inboundSite {
	t.mu.Lock()
	defer t.mu.Unlock()
	select {
	case <-t.done:
		return nil
	default:
	}
	if in, ok := t.inbound[site]; ok {
		return in
	}
	stream := newStreamLayer(t.adv, func(raft.ServerAddress, time.Duration) (net.Conn, error) {
		return nil, errors.New("inbound-only transport")
	})
	in := &inboundSite{stream: stream, conns: map[*trackedConn]string{}, trans: raft.NewNetworkTransportWithConfig(&raft.NetworkTransportConfig{
		Stream: stream, MaxPool: 1, Timeout: t.timeout, Logger: t.hlog.Named(site),
	})}
	in.trans.SetHeartbeatHandler(func(rpc raft.RPC) {
		if !t.admitRPC(site, rpc) {
			return
		}
		t.mu.Lock()
		hb := t.hb
		t.mu.Unlock()
		if hb != nil {
			t.heartbeat(hb, rpc)
			return
		}
		t.deliver(rpc)
	})
	t.inbound[site] = in
	go func() {
		for {
			select {
			case rpc := <-in.trans.Consumer():
				if t.admitRPC(site, rpc) {
					t.deliver(rpc)
				}
			case <-t.done:
				return
			}
		}
	}()
	return in
}

// admitRPC checks that an RPC arriving over site's connection claims to
// come from site, and that site may send it (peers.go). In plaintext,
// site is empty and the claim alone is checked against the configuration.
func (t *transport) admitRPC(site string, rpc raft.RPC) bool {
	var claimed string
	if h, ok := rpc.Command.(raft.WithRPCHeader); ok {
		claimed = string(h.GetRPCHeader().ID)
	}
	if site != "" && claimed != site {
		err := fmt.Errorf("%w: certificate names site %s, message claims %q", ErrPeerRefused, site, claimed)
		t.gate.refuse(refusedImpersonate, site, "", err)
		rpc.Respond(nil, err)
		return false
	}
	switch rpc.Command.(type) {
	case *raft.AppendEntriesRequest, *raft.InstallSnapshotRequest, *raft.TimeoutNowRequest,
		*raft.RequestVoteRequest, *raft.RequestPreVoteRequest:
	default:
		err := fmt.Errorf("%w: message type %T is not accepted", ErrPeerRefused, rpc.Command)
		t.gate.refuse(refusedUnknownRPC, claimed, "", err)
		rpc.Respond(nil, err)
		return false
	}
	if reason, err := t.gate.admitSite(claimed); err != nil {
		// An InstallSnapshot's data is left unread: the transport then
		// takes it for the next message and drops the connection.
		t.gate.refuse(reason, claimed, "", err)
		rpc.Respond(nil, err)
		return false
	}
	return true
}

// deliver hands an RPC to Raft, except an InstallSnapshot of a snapshot
// this member has already applied: hashicorp/raft (v1.7.3) would restore
// it anyway and move the state machine back, with its applied index
// behind the commit index until the next write commits. A leader's
// replication goroutine that wakes from a long backoff after its follower
// was removed and rejoined sends exactly that (found by the robustness
// suite). Such a request is answered as the Raft paper's InstallSnapshot
// step 6 says: the log already holds the snapshot's last entry, so keep
// the state and reply.
func (t *transport) deliver(rpc raft.RPC) {
	if req, ok := rpc.Command.(*raft.InstallSnapshotRequest); ok {
		if f := t.stale.Load(); f != nil {
			if resp, held := (*f)(req); held {
				if rpc.Reader != nil {
					_, _ = io.Copy(io.Discard, rpc.Reader) // the data of a snapshot we hold

				}
				t.log.Warn("answered an InstallSnapshot of a snapshot already applied, without restoring it",
					"index", req.LastLogIndex, "term", req.LastLogTerm)
				rpc.Respond(resp, nil)
				return
			}
		}
	}
	select {
	case t.consumer <- rpc:
	case <-t.done:
		rpc.Respond(nil, raft.ErrTransportShutdown)
	}
}

// Consumer implements raft.Transport.
func (t *transport) Consumer() <-chan raft.RPC { return t.consumer }

// SetHeartbeatHandler implements raft.Transport.
func (t *transport) SetHeartbeatHandler(cb func(raft.RPC)) {
	if t.tls == nil {
		t.NetworkTransport.SetHeartbeatHandler(func(rpc raft.RPC) {
			if t.admitRPC("", rpc) {
				t.heartbeat(cb, rpc)
			}
		})
		return
	}
	t.mu.Lock()
	t.hb = cb
	t.mu.Unlock()
}

// AppendEntriesPipeline implements raft.Transport with a pipeline of
// this package's own (pipeline.go) on a connection of its own: Raft then
// keeps up to pipelineDepth AppendEntries in flight to a follower instead
// of one per round trip. hashicorp/raft's NetworkTransport pipeline is not
// used: it can deadlock when a follower answers Success=false or a newer
// term while requests are in flight (hashicorp/raft#612).
func (t *transport) AppendEntriesPipeline(_ raft.ServerID, target raft.ServerAddress) (raft.AppendPipeline, error) {
	if t.noPipeline {
		return nil, raft.ErrPipelineReplicationNotSupported
	}
	select {
	case <-t.done:
		return nil, raft.ErrTransportShutdown
	default:
	}
	conn, err := t.dialPeer(target, t.timeout)
	if err != nil {
		return nil, err
	}
	return newPipeline(conn, t.timeout), nil
}

// Close implements raft.WithClose.
func (t *transport) Close() error {
	var err error
	t.closing.Do(func() {
		t.hbGate.Lock()
		t.hbClosed = true
		t.hbGate.Unlock()
		t.mu.Lock()
		close(t.done)
		subs := t.inbound
		t.mu.Unlock()
		t.ln.Close()
		t.closeOutbound()
		err = t.NetworkTransport.Close()
		for _, in := range subs {
			in.trans.Close()
		}
	})
	return err
}

// dialPeer opens a connection to another site's Raft address, through
// TLS when configured, checking that the certificate names the site the
// configuration lists at that address.
func (t *transport) dialPeer(addr raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(t.dialing, timeout)
	defer cancel()
	conn, err := t.dial(ctx, string(addr))
	if err != nil {
		return nil, err
	}
	if t.tls == nil {
		return t.track(conn), nil
	}
	var site string
	if f := t.siteAt.Load(); f != nil {
		site = (*f)(string(addr))
	}
	cfg := t.tls.PeerClientConfig(site)
	cfg.NextProtos = nil
	tc := tls.Client(conn, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		conn.Close()
		return nil, fmt.Errorf("TLS handshake with %s: %w", addr, err)
	}
	return t.track(tc), nil
}

// streamLayer is a raft.StreamLayer fed with connections by the
// transport's own accept loop.
type streamLayer struct {
	addr  net.Addr
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
	dial  func(raft.ServerAddress, time.Duration) (net.Conn, error)
}

func newStreamLayer(addr net.Addr, dial func(raft.ServerAddress, time.Duration) (net.Conn, error)) *streamLayer {
	return &streamLayer{addr: addr, conns: make(chan net.Conn), done: make(chan struct{}), dial: dial}
}

func (s *streamLayer) push(c net.Conn) {
	select {
	case s.conns <- c:
	case <-s.done:
		c.Close()
	}
}

func (s *streamLayer) Accept() (net.Conn, error) {
	select {
	case c := <-s.conns:
		return c, nil
	case <-s.done:
		return nil, net.ErrClosed
	}
}

func (s *streamLayer) Close() error {
	s.once.Do(func() { close(s.done) })
	return nil
}

func (s *streamLayer) Addr() net.Addr { return s.addr }

func (s *streamLayer) Dial(addr raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	return s.dial(addr, timeout)
}

// siteAt returns the site the current configuration lists at a Raft
// address, or "" when none.
func (c *Cluster) siteAt(addr string) string {
	f := c.raft.GetConfiguration() // served from a cached copy, never blocks
	if f.Error() != nil {
		return ""
	}
	for _, s := range f.Configuration().Servers {
		if string(s.Address) == addr {
			return string(s.ID)
		}
	}
	return ""
}

// RefusedPeers counts Raft connections and messages refused: because of
// their certificate, a claimed identity that did not match it, or a
// sender that may not send them (see peers.go).
func (c *Cluster) RefusedPeers() uint64 { return c.transport.gate.total.Load() }

// heldSnapshot reports whether this member already applied the snapshot a
// leader offers: same term as ours, its last entry at or below our
// applied index and in our log (or our own snapshot) with the same term.
// Then it returns the success answer.
func (c *Cluster) heldSnapshot(req *raft.InstallSnapshotRequest) (*raft.InstallSnapshotResponse, bool) {
	term := c.raft.CurrentTerm()
	if req.Term != term || req.LastLogIndex == 0 || req.LastLogIndex > c.raft.AppliedIndex() {
		return nil, false
	}
	same := false
	var entry raft.Log
	if err := c.store.GetLog(req.LastLogIndex, &entry); err == nil {
		same = entry.Term == req.LastLogTerm
	} else if metas, err := c.snaps.List(); err == nil {
		for _, m := range metas {
			if m.Index == req.LastLogIndex && m.Term == req.LastLogTerm {
				same = true
				break
			}
		}
	}
	if !same {
		return nil, false
	}
	return &raft.InstallSnapshotResponse{
		RPCHeader: raft.RPCHeader{ProtocolVersion: raft.ProtocolVersionMax, ID: []byte(c.cfg.ID),
			Addr: c.transport.EncodePeer(raft.ServerID(c.cfg.ID), c.transport.LocalAddr())},
		Term: term, Success: true,
	}, true
}
