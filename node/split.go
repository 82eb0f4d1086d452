package node

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"slices"
	"sync"
	"time"

	"google.golang.org/grpc/credentials"
)

// The API port serves two protocols: gRPC, answered by grpc-go's own
// HTTP/2 server, and everything else (REST, the console, probes,
// metrics), answered by net/http. grpc-go's server costs much less per
// call than grpc.Server.ServeHTTP behind net/http, so gRPC clients, among
// them every site forwarding a request, get it directly.
//
// The split is made once per connection, before either server reads it,
// from what the client says first:
//
//   - over TLS, by ALPN: a client that offers only "h2" (grpc-go, and so
//     the CLI, other sites and grpcurl) goes to gRPC; one that offers
//     HTTP/1.1 too (browsers, curl, most HTTP libraries) goes to net/http,
//     which still answers gRPC on such a connection through ServeHTTP;
//   - in plaintext, by the HTTP/2 client preface: HTTP/2 with prior
//     knowledge is gRPC's way (h2c); anything else is HTTP/1.x.
//
// Deciding by the first HEADERS frame's content type (as soheilhy/cmux
// does) would need the server to send its SETTINGS before it knows which
// server will own the connection, because grpc-go waits for them before
// it sends a request; net/http's HTTP/2 server then fails the connection
// when the client acknowledges SETTINGS it never sent.
//
// A non-gRPC client that offers only h2 reaches the gRPC server, which
// answers 415 Unsupported Media Type; such clients should offer
// HTTP/1.1 too, as browsers and curl do.

// http2Preface is what an HTTP/2 client sends first (RFC 9113, 3.4).
const http2Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

// splitter accepts connections on the API listener and hands each to the
// gRPC or the HTTP listener.
type splitter struct {
	raw       net.Listener
	tls       *tls.Config // nil in plaintext
	handshake time.Duration
	log       *slog.Logger
	grpc      *connQueue
	http      *connQueue
	done      chan struct{}
	closeOnce sync.Once
}

func newSplitter(raw net.Listener, cfg *tls.Config, handshake time.Duration, log *slog.Logger) *splitter {
	s := &splitter{raw: raw, tls: cfg, handshake: handshake, log: log, done: make(chan struct{})}
	s.grpc = newConnQueue(raw.Addr(), s.done)
	s.http = newConnQueue(raw.Addr(), s.done)
	return s
}

// serve accepts until the listener is closed.
func (s *splitter) serve() {
	var backoff time.Duration
	for {
		c, err := s.raw.Accept()
		if err != nil {
			select {
			case <-s.done:
				return
			default:
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				time.Sleep(backoff)
				continue
			}
			s.log.Error("API listener stopped", "err", err)
			s.close()
			return
		}
		backoff = 0
		go s.route(c)
	}
}

// route classifies one connection and queues it for its server.
func (s *splitter) route(raw net.Conn) {
	if s.handshake > 0 {
		_ = raw.SetDeadline(time.Now().Add(s.handshake))
	}
	conn, toGRPC, err := s.classify(raw)
	if err != nil {
		// Failed handshakes and silent scanners are routine on an
		// internet-facing port.
		s.log.Debug("API connection dropped", "remote", raw.RemoteAddr().String(), "err", err)
		raw.Close()
		return
	}
	_ = raw.SetDeadline(time.Time{})
	q := s.http
	if toGRPC {
		q = s.grpc
	}
	if !q.put(conn) {
		conn.Close()
	}
}

func (s *splitter) classify(raw net.Conn) (net.Conn, bool, error) {
	if s.tls == nil {
		return peekPreface(raw)
	}
	var offered []string
	cfg := s.tls.Clone()
	inner := cfg.GetConfigForClient
	cfg.GetConfigForClient = func(h *tls.ClientHelloInfo) (*tls.Config, error) {
		offered = slices.Clone(h.SupportedProtos)
		if inner != nil {
			return inner(h)
		}
		return nil, nil
	}
	tc := tls.Server(raw, cfg)
	if err := tc.HandshakeContext(context.Background()); err != nil {
		return nil, false, err
	}
	onlyH2 := len(offered) == 1 && offered[0] == "h2" && tc.ConnectionState().NegotiatedProtocol == "h2"
	return tc, onlyH2, nil
}

// peekPreface reads as much of the HTTP/2 preface as the connection
// matches and gives back a connection that replays what was read. It
// stops at the first byte that differs, so a short HTTP/1 request is not
// held waiting for bytes that never come.
func peekPreface(c net.Conn) (net.Conn, bool, error) {
	br := bufio.NewReaderSize(c, len(http2Preface))
	for n := 1; n <= len(http2Preface); n++ {
		got, err := br.Peek(n)
		if err != nil {
			if len(got) == 0 {
				return nil, false, err
			}
			// The client sent a few bytes and closed its side: let HTTP
			// answer what it can.
			return &replayConn{Conn: c, r: br}, false, nil
		}
		if got[n-1] != http2Preface[n-1] {
			return &replayConn{Conn: c, r: br}, false, nil
		}
	}
	return &replayConn{Conn: c, r: br}, true, nil
}

// replayConn is a connection whose first bytes were read to classify it.
type replayConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *replayConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// close stops accepting and closes both queues.
func (s *splitter) close() {
	s.closeOnce.Do(func() {
		close(s.done)
		s.raw.Close()
	})
	_ = s.grpc.Close()
	_ = s.http.Close()
}

// connQueue is a net.Listener fed by the splitter.
type connQueue struct {
	addr      net.Addr
	conns     chan net.Conn
	done      chan struct{} // the splitter's
	closed    chan struct{}
	closeOnce sync.Once
}

func newConnQueue(addr net.Addr, done chan struct{}) *connQueue {
	return &connQueue{addr: addr, conns: make(chan net.Conn), done: done, closed: make(chan struct{})}
}

func (q *connQueue) put(c net.Conn) bool {
	select {
	case q.conns <- c:
		return true
	case <-q.closed:
		return false
	case <-q.done:
		return false
	}
}

func (q *connQueue) Accept() (net.Conn, error) {
	select {
	case c := <-q.conns:
		return c, nil
	case <-q.closed:
		return nil, net.ErrClosed
	case <-q.done:
		return nil, net.ErrClosed
	}
}

// Close stops this queue; the splitter then closes what it would have
// handed to it.
func (q *connQueue) Close() error {
	q.closeOnce.Do(func() { close(q.closed) })
	return nil
}

func (q *connQueue) Addr() net.Addr { return q.addr }

// tlsDone is the gRPC server's transport credentials for connections the
// splitter has already taken through TLS: the handshake is done, and the
// peer's certificate is reported as grpc-go's TLS credentials report it,
// so a site's identity is read the same way on both servers. Other
// connections (plaintext, the gateway's in-memory one) carry no
// authentication, as with no credentials at all.
type tlsDone struct{}

func (tlsDone) ServerHandshake(c net.Conn) (net.Conn, credentials.AuthInfo, error) {
	if tc, ok := c.(*tls.Conn); ok {
		return c, credentials.TLSInfo{State: tc.ConnectionState(),
			CommonAuthInfo: credentials.CommonAuthInfo{SecurityLevel: credentials.PrivacyAndIntegrity}}, nil
	}
	return c, nil, nil
}

func (tlsDone) ClientHandshake(context.Context, string, net.Conn) (net.Conn, credentials.AuthInfo, error) {
	return nil, nil, errors.New("server-side credentials only")
}

func (tlsDone) Info() credentials.ProtocolInfo {
	return credentials.ProtocolInfo{SecurityProtocol: "tls"}
}

func (tlsDone) Clone() credentials.TransportCredentials { return tlsDone{} }

func (tlsDone) OverrideServerName(string) error { return nil }
