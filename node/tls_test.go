package node

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	"innonet/cluster/certs"
	innonetpb "innonet/proto/innonet/v1"
)

// testPKI is a cluster CA with certificates for the test sites, made once
// per test binary; otherPKI is an unrelated CA issuing the same site codes.
var (
	pkiOnce           sync.Once
	pkiBase           string // both, removed by TestMain
	testPKI, otherPKI string
	pkiErr            error
	testPKISites      = []string{"CGO", "BOS", "CBG", "MUC", "TLV", "BOHAI", "YRD", "PRD"}
)

// TestMain runs the tests and removes the test PKI if they made one.
func TestMain(m *testing.M) {
	code := m.Run()
	if pkiBase != "" {
		_ = os.RemoveAll(pkiBase)
	}
	os.Exit(code)
}

func pki(t testing.TB) (mine, other string) {
	t.Helper()
	pkiOnce.Do(func() {
		base, err := os.MkdirTemp("", "innonet-node-pki-")
		if err != nil {
			pkiErr = err
			return
		}
		pkiBase = base
		testPKI, otherPKI = filepath.Join(base, "cluster"), filepath.Join(base, "other")
		if _, pkiErr = certs.Generate(testPKI, certs.Options{Sites: testPKISites, Clients: []string{"alice"}}); pkiErr != nil {
			return
		}
		_, pkiErr = certs.Generate(otherPKI, certs.Options{Sites: testPKISites})
	})
	if pkiErr != nil {
		t.Fatal(pkiErr)
	}
	return testPKI, otherPKI
}

// siteStore loads site's certificates from a PKI directory.
func siteStore(t testing.TB, dir, site string) *certs.Store {
	t.Helper()
	c, k := certs.SiteFiles(dir, site)
	st, err := certs.Load(certs.Files{Cert: c, Key: k, CA: filepath.Join(dir, certs.CACert)}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// withTLS makes a test site use TLS with the test PKI.
func withTLS(t testing.TB) func(*Config) {
	dir, _ := pki(t)
	return func(c *Config) { c.TLS = siteStore(t, dir, c.Site) }
}

// testCAPoolOnce is testCAPool for helpers without a testing.TB; the PKI
// must exist already (pki was called).
func testCAPoolOnce() *x509.CertPool {
	pem, err := os.ReadFile(filepath.Join(testPKI, certs.CACert))
	if err != nil {
		panic(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	return pool
}

func testCAPool(t testing.TB) *x509.CertPool {
	pki(t)
	return testCAPoolOnce()
}

// peerConn dials a site's API presenting the certificate of site (from
// the PKI in dir), as another site would.
func peerConn(t testing.TB, n *Node, dir, site string) *grpc.ClientConn {
	t.Helper()
	cfg := siteStore(t, dir, site).PeerClientConfig("")
	c, err := grpc.NewClient(n.Addr(), grpc.WithTransportCredentials(credentials.NewTLS(cfg)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestTLSClusterReplicatesAndForwards(t *testing.T) {
	tc := newTestCluster(t, []string{"CGO", "BOS", "CBG"}, []string{"YRD"}, withTLS(t))
	staff := tc.addUser("Emily", innonetpb.Role_NODE_STAFF, "BOS", "")
	c := tc.clients(tc.follower(true), staff) // a write through a read replica, forwarded over mutual TLS
	l, err := c.leads.SubmitLead(c.ctx(t), sampleLead("Lab over TLS"))
	if err != nil {
		t.Fatalf("submit through a follower: %v", err)
	}
	for _, id := range tc.order {
		eventually(t, 10*time.Second, id+" has the lead", func() error {
			_, err := tc.node(id).State().Lead(l.Id)
			return err
		})
	}
	// The leader confirms a linearizable read with its voters over the
	// same mutual TLS Raft transport.
	got, err := c.leads.GetLead(c.ctx(t), &innonetpb.GetLeadRequest{Id: l.Id, Consistency: innonetpb.Consistency_LINEARIZABLE})
	if err != nil || got.Title != l.Title {
		t.Fatalf("linearizable read over TLS: got %v, %v", got, err)
	}
}

func TestTLSPlaintextRefused(t *testing.T) {
	tc := newTestCluster(t, []string{"CGO"}, nil, withTLS(t))
	n := tc.node("CGO")
	// A plaintext gRPC client gets no answer from the TLS API.
	conn, err := grpc.NewClient(n.Addr(), grpc.WithTransportCredentials(insecureCreds()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	_, err = innonetpb.NewUserServiceClient(conn).WhoAmI(withToken(ctx, testAdminToken), &innonetpb.WhoAmIRequest{})
	checkStatus(t, err, codes.Unavailable)
}

// rogueRaft is a Raft transport that dials a site presenting cert.
func rogueRaft(t *testing.T, cfg *tls.Config) *raft.NetworkTransport {
	t.Helper()
	stream := &dialOnly{dial: func(addr raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
		d := &net.Dialer{Timeout: timeout}
		if cfg == nil {
			return d.Dial("tcp", string(addr))
		}
		return tls.DialWithDialer(d, "tcp", string(addr), cfg)
	}}
	tr := raft.NewNetworkTransportWithConfig(&raft.NetworkTransportConfig{Stream: stream, MaxPool: 1, Timeout: 3 * time.Second,
		Logger: nil})
	t.Cleanup(func() { tr.Close() })
	return tr
}

// dialOnly is a raft.StreamLayer that only dials.
type dialOnly struct {
	dial func(raft.ServerAddress, time.Duration) (net.Conn, error)
	once sync.Once
	done chan struct{}
}

func (d *dialOnly) Accept() (net.Conn, error) {
	d.once.Do(func() { d.done = make(chan struct{}) })
	<-d.done
	return nil, net.ErrClosed
}
func (d *dialOnly) Close() error {
	d.once.Do(func() { d.done = make(chan struct{}) })
	select {
	case <-d.done:
	default:
		close(d.done)
	}
	return nil
}
func (d *dialOnly) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)} }
func (d *dialOnly) Dial(a raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	return d.dial(a, timeout)
}

// TestTLSRaftIdentityBound: on the Raft port, a site's certificate is its
// identity. A message claiming to come from another site is refused, as
// are plaintext peers and certificates from another CA; only the honest
// claim is answered.
func TestTLSRaftIdentityBound(t *testing.T) {
	mine, other := pki(t)
	tc := newTestCluster(t, []string{"CGO", "BOS", "CBG"}, nil, withTLS(t))
	target := tc.node("CBG")
	addr := raft.ServerAddress(target.Cluster().RaftAddr())
	vote := func(tr *raft.NetworkTransport, claimed string) error {
		// A stale term: an answered vote is refused without disturbing
		// the cluster.
		req := &raft.RequestVoteRequest{RPCHeader: raft.RPCHeader{ProtocolVersion: raft.ProtocolVersionMax,
			ID: []byte(claimed), Addr: []byte("127.0.0.1:1")}, Term: 1}
		var resp raft.RequestVoteResponse
		return tr.RequestVote(raft.ServerID("CBG"), addr, req, &resp)
	}
	before := target.Cluster().RefusedPeers()
	bos := siteStore(t, mine, "BOS").PeerClientConfig("CBG")
	bos.NextProtos = nil

	if err := vote(rogueRaft(t, bos), "MUC"); err == nil {
		t.Error("BOS's certificate voting as MUC: answered, want refused")
	}
	if err := vote(rogueRaft(t, nil), "BOS"); err == nil {
		t.Error("plaintext peer: answered, want refused")
	}
	foreign := siteStore(t, other, "BOS").PeerClientConfig("")
	foreign.NextProtos = nil
	foreign.VerifyConnection = nil // the rogue does not care who answers
	if err := vote(rogueRaft(t, foreign), "BOS"); err == nil {
		t.Error("certificate of another CA: answered, want refused")
	}
	// The site counts a handshake it refuses once its side of the
	// handshake ends, which may be after the rogue's side has.
	eventually(t, 5*time.Second, "three refusals counted", func() error {
		if got := target.Cluster().RefusedPeers() - before; got < 3 {
			return fmt.Errorf("refused %d raft peers, want at least 3", got)
		}
		return nil
	})
	// The honest claim is answered (the vote itself is denied: BOS's
	// log is not that of a real candidate, but the message got through).
	if err := vote(rogueRaft(t, bos), "BOS"); err != nil {
		t.Errorf("BOS's certificate claiming BOS: %v, want an answer", err)
	}
	if l := tc.leaderNode(); l == nil {
		t.Fatal("no leader after the attempts")
	}
}

// TestTLSForwardingBoundToSite: a request claiming to be forwarded by a
// site must come over that site's certificate.
func TestTLSForwardingBoundToSite(t *testing.T) {
	mine, other := pki(t)
	tc := newTestCluster(t, []string{"CGO", "BOS", "CBG"}, nil, withTLS(t))
	leader := tc.leaderNode()
	staff := tc.addUser("Emily", innonetpb.Role_NODE_STAFF, "BOS", "")
	forwarded := func(by string) context.Context {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		t.Cleanup(cancel)
		return metadata.AppendToOutgoingContext(withToken(ctx, staff), mdForwardedBy, by, mdOrigin, by)
	}
	var honest string
	for _, id := range tc.order {
		if id != leader.Site() {
			honest = id
			break
		}
	}
	cases := []struct {
		name string
		conn *grpc.ClientConn
		by   string
		want codes.Code
	}{
		{"client without a site certificate", tc.conn(leader), honest, codes.PermissionDenied},
		{"site certificate of another site", peerConn(t, leader, mine, "TLV"), honest, codes.PermissionDenied},
		{"the honest site", peerConn(t, leader, mine, honest), honest, codes.OK},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := innonetpb.NewLeadServiceClient(c.conn).SubmitLead(forwarded(c.by), sampleLead("forwarded "+c.name))
			if c.want == codes.OK {
				if err != nil {
					t.Fatalf("got %v, want success", err)
				}
				return
			}
			checkStatus(t, err, c.want)
		})
	}
	// A certificate from another CA does not even complete the handshake
	// when presented to the API as a client certificate.
	bad := siteStore(t, other, honest).PeerClientConfig("")
	bad.VerifyConnection = nil
	conn, err := grpc.NewClient(leader.Addr(), grpc.WithTransportCredentials(credentials.NewTLS(bad)))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, err = innonetpb.NewLeadServiceClient(conn).SubmitLead(forwarded(honest), sampleLead("foreign CA"))
	checkStatus(t, err, codes.Unavailable)
}

// TestTLSJoinAndStatsBoundToSite: a site certificate can only join as its
// own site; site statistics are served to sites only.
func TestTLSJoinAndStatsBoundToSite(t *testing.T) {
	mine, _ := pki(t)
	tc := newTestCluster(t, []string{"CGO"}, nil, withTLS(t))
	n := tc.node("CGO")
	ctx, cancel := context.WithTimeout(withToken(context.Background(), testAdminToken), 10*time.Second)
	defer cancel()
	_, err := innonetpb.NewClusterServiceClient(peerConn(t, n, mine, "BOS")).JoinCluster(ctx,
		&innonetpb.JoinClusterRequest{Site: "MUC", RaftAddress: "127.0.0.1:1", ApiAddress: "127.0.0.1:2", Voter: true})
	checkStatus(t, err, codes.PermissionDenied, "cannot join as MUC")
	if st, _ := n.Cluster().Status(); len(st.Members) != 1 {
		t.Errorf("members after the refused join: %d, want 1", len(st.Members))
	}
	_, err = innonetpb.NewClusterServiceClient(tc.conn(n)).GetSiteStats(ctx, &innonetpb.GetSiteStatsRequest{})
	checkStatus(t, err, codes.PermissionDenied)
	if _, err := innonetpb.NewClusterServiceClient(peerConn(t, n, mine, "BOS")).GetSiteStats(ctx, &innonetpb.GetSiteStatsRequest{}); err != nil {
		t.Errorf("stats for a site: %v", err)
	}
}

// TestTLSCertificateReload: replaced certificate files are served to new
// connections without a restart.
func TestTLSCertificateReload(t *testing.T) {
	mine, _ := pki(t)
	dir := t.TempDir()
	for _, f := range []string{certs.CACert, certs.CAKey} {
		b, err := os.ReadFile(filepath.Join(mine, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := certs.Generate(dir, certs.Options{Sites: []string{"CGO"}}); err != nil {
		t.Fatal(err)
	}
	store := siteStore(t, dir, "CGO")
	tc := newTestCluster(t, []string{"CGO"}, nil, func(c *Config) { c.TLS = store })
	serial := func() string {
		conn, err := tls.Dial("tcp", tc.node("CGO").Addr(), &tls.Config{RootCAs: testCAPool(t), ServerName: "localhost"})
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		return conn.ConnectionState().PeerCertificates[0].SerialNumber.String()
	}
	before := serial()
	if _, err := certs.Generate(dir, certs.Options{Sites: []string{"CGO"}}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go store.Watch(ctx, 20*time.Millisecond)
	eventually(t, 5*time.Second, "the new certificate served", func() error {
		if serial() == before {
			return errStill
		}
		return nil
	})
	c := tc.clients(tc.node("CGO"), testAdminToken)
	if _, err := c.users.WhoAmI(c.ctx(t), &innonetpb.WhoAmIRequest{}); err != nil {
		t.Fatalf("API after reload: %v", err)
	}
}

var errStill = errors.New("still the old certificate")

func insecureCreds() credentials.TransportCredentials { return insecure.NewCredentials() }

// TestTLSClientCARequired: with a client CA, API clients need a client
// certificate; sites still forward with their site certificates.
func TestTLSClientCARequired(t *testing.T) {
	dir, _ := pki(t)
	tc := newTestCluster(t, []string{"CGO", "BOS"}, nil, func(c *Config) {
		cert, key := certs.SiteFiles(dir, c.Site)
		st, err := certs.Load(certs.Files{Cert: cert, Key: key, CA: filepath.Join(dir, certs.CACert),
			ClientCA: filepath.Join(dir, certs.ClientCACert)}, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		c.TLS = st
	})
	follower := tc.follower(false)
	call := func(cfg *tls.Config) error {
		conn, err := grpc.NewClient(follower.Addr(), grpc.WithTransportCredentials(credentials.NewTLS(cfg)))
		if err != nil {
			return err
		}
		defer conn.Close()
		ctx, cancel := context.WithTimeout(withToken(context.Background(), testAdminToken), 5*time.Second)
		defer cancel()
		// A write, so that the follower forwards it to the leader.
		_, err = innonetpb.NewUserServiceClient(conn).CreateUser(ctx, &innonetpb.CreateUserRequest{
			RequestId: rid(), Name: "Via client cert", Role: innonetpb.Role_HQ_REVIEWER})
		return err
	}
	checkStatus(t, call(&tls.Config{RootCAs: testCAPool(t)}), codes.Unavailable)
	cc, ck := certs.ClientFiles(dir, "alice")
	pair, err := tls.LoadX509KeyPair(cc, ck)
	if err != nil {
		t.Fatal(err)
	}
	if err := call(&tls.Config{RootCAs: testCAPool(t), Certificates: []tls.Certificate{pair}}); err != nil {
		t.Fatalf("with a client certificate: %v", err)
	}
}
