package certs

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

func load(t *testing.T, dir, site string) *Store {
	t.Helper()
	c, k := SiteFiles(dir, site)
	st, err := Load(Files{Cert: c, Key: k, CA: filepath.Join(dir, CACert)}, quiet())
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestGenerateAndLoad(t *testing.T) {
	dir := t.TempDir()
	files, err := Generate(dir, Options{Sites: []string{"CGO", "BOS"}, Hosts: []string{"cgo.example.net", "203.0.113.7"}, Clients: []string{"alice"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 10 { // CA pair, two site pairs, client CA pair, client pair
		t.Errorf("wrote %d files, want 10: %v", len(files), files)
	}
	st := load(t, dir, "BOS")
	if st.Site() != "BOS" {
		t.Errorf("site: got %s, want BOS", st.Site())
	}
	leaf := st.cur.Load().cert.Leaf
	if err := leaf.VerifyHostname("cgo.example.net"); err != nil {
		t.Error(err)
	}
	if err := leaf.VerifyHostname("203.0.113.7"); err != nil {
		t.Error(err)
	}
	if err := leaf.VerifyHostname("127.0.0.1"); err != nil {
		t.Error(err)
	}
	if fi, _ := os.Stat(filepath.Join(dir, "bos.key")); fi.Mode().Perm() != 0o600 {
		t.Errorf("key mode %v, want 0600", fi.Mode().Perm())
	}
	// A client certificate names no site and is not signed by the cluster CA.
	cc, ck := ClientFiles(dir, "alice")
	if _, err := Load(Files{Cert: cc, Key: ck, CA: filepath.Join(dir, CACert)}, quiet()); err == nil {
		t.Error("a client certificate loaded as a site certificate")
	}
}

func TestGenerateReusesCA(t *testing.T) {
	dir := t.TempDir()
	if _, err := Generate(dir, Options{Sites: []string{"CGO"}}); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(filepath.Join(dir, CACert))
	if _, err := Generate(dir, Options{Sites: []string{"MUC"}}); err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(filepath.Join(dir, CACert))
	if string(before) != string(after) {
		t.Fatal("the CA was replaced")
	}
	// Both sites' certificates verify against the one CA.
	cgo, muc := load(t, dir, "CGO"), load(t, dir, "MUC")
	handshake(t, cgo.PeerServerConfig(), muc.PeerClientConfig("CGO"), "MUC")
}

func TestGenerateRefusesBadInput(t *testing.T) {
	for _, sites := range [][]string{{"bos"}, {"B"}, {"TOOLONGCODE"}, {"BO S"}} {
		if _, err := Generate(t.TempDir(), Options{Sites: sites}); err == nil {
			t.Errorf("sites %q: accepted", sites)
		}
	}
	if _, err := Generate(t.TempDir(), Options{Clients: []string{"../x"}}); err == nil {
		t.Error("client name with a path: accepted")
	}
}

// handshake runs a TLS handshake between server and client configurations
// and checks the server saw wantSite.
func handshake(t *testing.T, server, client *tls.Config, wantSite string) {
	t.Helper()
	got, err := tryHandshake(server, client)
	if err != nil {
		t.Fatalf("handshake: %v", err)
	}
	if got != wantSite {
		t.Fatalf("server saw %q, want %s", got, wantSite)
	}
}

// tryHandshake connects client to server over loopback TCP. The server
// answers one byte after a successful handshake, so a client certificate
// the server refuses (which TLS 1.3 reports after the client's handshake)
// fails the client's read.
func tryHandshake(server, client *tls.Config) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	type result struct {
		site string
		err  error
	}
	done := make(chan result, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			done <- result{err: err}
			return
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(5 * time.Second))
		s := tls.Server(conn, server)
		if err := s.Handshake(); err != nil {
			done <- result{err: err}
			return
		}
		var site string
		if st := s.ConnectionState(); len(st.PeerCertificates) > 0 {
			site, _ = SiteOf(st.PeerCertificates[0])
		}
		_, _ = s.Write([]byte{1}) // the handshake result is what the test reads
		done <- result{site: site}
	}()
	raw, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		return "", err
	}
	defer raw.Close()
	raw.SetDeadline(time.Now().Add(5 * time.Second))
	c := tls.Client(raw, client)
	cerr := c.Handshake()
	if cerr == nil {
		_, cerr = c.Read(make([]byte, 1))
	}
	if cerr != nil {
		raw.Close()
	}
	r := <-done
	if cerr != nil {
		return "", cerr
	}
	return r.site, r.err
}

func TestPeerConfigsBindSites(t *testing.T) {
	dir, other := t.TempDir(), t.TempDir()
	if _, err := Generate(dir, Options{Sites: []string{"CGO", "BOS", "MUC"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := Generate(other, Options{Sites: []string{"BOS"}}); err != nil {
		t.Fatal(err)
	}
	cgo, bos, muc, foreign := load(t, dir, "CGO"), load(t, dir, "BOS"), load(t, dir, "MUC"), load(t, other, "BOS")

	handshake(t, cgo.PeerServerConfig(), bos.PeerClientConfig("CGO"), "BOS")
	// The dialer insists on the site it expects at the address.
	if _, err := tryHandshake(muc.PeerServerConfig(), bos.PeerClientConfig("CGO")); err == nil {
		t.Error("dialing CGO, MUC's certificate was accepted")
	}
	// Another CA's certificate is refused both ways.
	if _, err := tryHandshake(cgo.PeerServerConfig(), foreign.PeerClientConfig("")); err == nil {
		t.Error("server accepted a client certificate from another CA")
	}
	if _, err := tryHandshake(foreign.PeerServerConfig(), bos.PeerClientConfig("")); err == nil {
		t.Error("client accepted a server certificate from another CA")
	}
	// A client without a certificate is refused by the peer port.
	if _, err := tryHandshake(cgo.PeerServerConfig(), &tls.Config{InsecureSkipVerify: true}); err == nil {
		t.Error("peer port accepted a client without a certificate")
	}
}

func TestReloadKeepsCurrentOnError(t *testing.T) {
	dir := t.TempDir()
	if _, err := Generate(dir, Options{Sites: []string{"CGO"}}); err != nil {
		t.Fatal(err)
	}
	st := load(t, dir, "CGO")
	serial := st.cur.Load().cert.Leaf.SerialNumber
	c, _ := SiteFiles(dir, "CGO")
	if err := os.WriteFile(c, []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := st.Reload(); err == nil {
		t.Fatal("reloading garbage: no error")
	}
	if st.cur.Load().cert.Leaf.SerialNumber.Cmp(serial) != 0 {
		t.Fatal("a failed reload replaced the certificate")
	}
	if _, err := Generate(dir, Options{Sites: []string{"CGO"}}); err != nil {
		t.Fatal(err)
	}
	if err := st.Reload(); err != nil {
		t.Fatal(err)
	}
	if st.cur.Load().cert.Leaf.SerialNumber.Cmp(serial) == 0 {
		t.Fatal("reload kept the old certificate")
	}
}

func TestSiteOf(t *testing.T) {
	dir := t.TempDir()
	if _, err := Generate(dir, Options{Sites: []string{"YRD"}}); err != nil {
		t.Fatal(err)
	}
	c, _ := SiteFiles(dir, "YRD")
	raw, _ := os.ReadFile(c)
	b, _ := pem.Decode(raw)
	cert, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := SiteOf(cert); err != nil || got != "YRD" {
		t.Errorf("SiteOf: got %q, %v; want YRD", got, err)
	}
	cert.URIs = append(cert.URIs, SiteURI("BOS"))
	if _, err := SiteOf(cert); err == nil {
		t.Error("a certificate naming two sites: accepted")
	}
	cert.URIs = nil
	if _, err := SiteOf(cert); err == nil {
		t.Error("a certificate naming no site: accepted")
	}
}
