package node

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"log/slog"
	"math/big"
	"net"
	"testing"
	"time"
)

// splitRig runs a splitter on loopback and reports which queue each
// connection reached, with the first bytes that server read from it.
type splitRig struct {
	addr string
	got  chan routed
}

type routed struct {
	to    string // "grpc" or "http"
	first []byte
	conn  net.Conn
}

func newSplitRig(t *testing.T, cfg *tls.Config) *splitRig {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := newSplitter(lis, cfg, 5*time.Second, slog.New(slog.DiscardHandler))
	go s.serve()
	t.Cleanup(s.close)
	r := &splitRig{addr: lis.Addr().String(), got: make(chan routed, 4)}
	for name, q := range map[string]net.Listener{"grpc": s.grpc, "http": s.http} {
		go func() {
			for {
				c, err := q.Accept()
				if err != nil {
					return
				}
				buf := make([]byte, 4)
				n, _ := io.ReadFull(c, buf)
				r.got <- routed{to: name, first: buf[:n], conn: c}
			}
		}()
	}
	return r
}

func (r *splitRig) wait(t *testing.T) routed {
	t.Helper()
	select {
	case g := <-r.got:
		g.conn.Close()
		return g
	case <-time.After(10 * time.Second):
		t.Fatal("no server got the connection")
		return routed{}
	}
}

func TestSplitPlaintext(t *testing.T) {
	r := newSplitRig(t, nil)
	for _, c := range []struct {
		send, to string
	}{
		{http2Preface, "grpc"},
		// Shorter than the preface, and starting as it does: must not wait
		// for bytes that never come.
		{"PUT / HTTP/1.0\r\n\r\n", "http"},
		{"GET / HTTP/1.0\r\n\r\n", "http"},
		{"POST /v1/leads HTTP/1.1\r\nHost: x\r\n\r\n", "http"},
	} {
		conn, err := net.Dial("tcp", r.addr)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Write([]byte(c.send)); err != nil {
			t.Fatal(err)
		}
		g := r.wait(t)
		conn.Close()
		if g.to != c.to || string(g.first) != c.send[:4] {
			t.Errorf("%q went to %s reading %q, want %s reading %q", c.send, g.to, g.first, c.to, c.send[:4])
		}
	}
}

func TestSplitTLSByALPN(t *testing.T) {
	cert := selfSigned(t)
	r := newSplitRig(t, &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"h2", "http/1.1"}})
	for _, c := range []struct {
		offer []string
		to    string
	}{
		{[]string{"h2"}, "grpc"},
		{[]string{"h2", "http/1.1"}, "http"},
		{[]string{"http/1.1"}, "http"},
		{nil, "http"},
	} {
		conn, err := tls.Dial("tcp", r.addr, &tls.Config{InsecureSkipVerify: true, NextProtos: c.offer})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Write([]byte("ping")); err != nil {
			t.Fatal(err)
		}
		g := r.wait(t)
		conn.Close()
		if g.to != c.to || string(g.first) != "ping" {
			t.Errorf("offering %v went to %s reading %q, want %s", c.offer, g.to, g.first, c.to)
		}
	}
}

func TestSplitDropsSilentConnections(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := newSplitter(lis, nil, 200*time.Millisecond, slog.New(slog.DiscardHandler))
	go s.serve()
	defer s.close()
	conn, err := net.Dial("tcp", lis.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// The splitter gives up on a client that sends nothing and closes
	// the connection: the read ends instead of blocking.
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := conn.Read(make([]byte, 1)); err == nil {
		t.Fatal("read a byte from a connection the splitter should have closed")
	} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatal("the splitter kept a silent connection open")
	}
}

func selfSigned(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "split"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), DNSNames: []string{"localhost"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}
