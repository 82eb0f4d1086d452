package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"innonet/cluster/certs"
)

// testCerts is the certificate directory every test site uses: the
// in-process sites and the CLI speak real TLS, as in production.
var testCerts string

// testSites are the site codes the test CA issues certificates for.
var testSites = []string{"CGO", "BOS", "CBG", "MUC", "TLV", "BOHAI", "YRD", "PRD"}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "innonet-cmd-certs-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if _, err := certs.Generate(dir, certs.Options{Sites: testSites}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	testCerts = dir
	if err := os.Setenv("INNONET_CA", filepath.Join(dir, certs.CACert)); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// siteCerts loads a test site's certificates.
func siteCerts(t *testing.T, site string) *certs.Store {
	t.Helper()
	c, k := certs.SiteFiles(testCerts, site)
	st, err := certs.Load(certs.Files{Cert: c, Key: k, CA: filepath.Join(testCerts, certs.CACert)}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// testHTTP is an HTTP client that trusts the CA in caFile.
func testHTTP(caFile string) *http.Client {
	pool := x509.NewCertPool()
	if pem, err := os.ReadFile(caFile); err == nil {
		pool.AppendCertsFromPEM(pem)
	}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
}

// TestServeTLSFlags: serve refuses to start without TLS unless asked for
// plaintext, warns loudly when it is, and reloads its certificate on SIGHUP.
func TestServeTLSFlags(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	base := []string{"serve", "--site", "CGO", "--raft-profile", "test", "--bootstrap"}
	out, err := runBinary(bin, append(base, "--data-dir", t.TempDir(), "--listen", "127.0.0.1:0", "--raft-addr", "127.0.0.1:0")...)
	if err == nil || !strings.Contains(out, "TLS is required") {
		t.Fatalf("serve without TLS flags: %v\n%s", err, out)
	}
	out, err = runBinary(bin, append(base, "--data-dir", t.TempDir(), "--tls-dir", testCerts, "--insecure")...)
	if err == nil || !strings.Contains(out, "--insecure excludes the TLS flags") {
		t.Fatalf("serve with --insecure and TLS flags: %v\n%s", err, out)
	}
	out, err = runBinary(bin, "serve", "--site", "BOS", "--data-dir", t.TempDir(), "--tls-dir", testCerts,
		"--tls-cert", filepath.Join(testCerts, "cgo.crt"), "--tls-key", filepath.Join(testCerts, "cgo.key"))
	if err == nil || !strings.Contains(out, "names site CGO, not BOS") {
		t.Fatalf("serve with another site's certificate: %v\n%s", err, out)
	}

	port := freePort(t)
	insecure := start(t, bin, nil, append(base, "--data-dir", t.TempDir(), "--insecure",
		"--listen", fmt.Sprintf("127.0.0.1:%d", port), "--raft-addr", fmt.Sprintf("127.0.0.1:%d", freePort(t)))...)
	poll(t, "the insecure warning", func() (bool, string) {
		return strings.Contains(insecure.out.String(), "INSECURE"), insecure.out.String()
	})
	insecure.stop(t)

	// A site's own certificate directory, with the test CA.
	dir := t.TempDir()
	for _, f := range []string{certs.CACert, certs.CAKey} {
		b, err := os.ReadFile(filepath.Join(testCerts, f))
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
	port = freePort(t)
	p := start(t, bin, nil, append(base, "--data-dir", t.TempDir(), "--tls-dir", dir, "--tls-reload-interval", "0",
		"--listen", fmt.Sprintf("127.0.0.1:%d", port), "--raft-addr", fmt.Sprintf("127.0.0.1:%d", freePort(t)))...)
	serial := func() (string, error) {
		conn, err := tls.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port), &tls.Config{RootCAs: caPool(t)})
		if err != nil {
			return "", err
		}
		defer conn.Close()
		return conn.ConnectionState().PeerCertificates[0].SerialNumber.String(), nil
	}
	var before string
	poll(t, "the TLS API up", func() (bool, string) {
		s, err := serial()
		before = s
		return err == nil, fmt.Sprint(err)
	})
	if _, err := certs.Generate(dir, certs.Options{Sites: []string{"CGO"}}); err != nil {
		t.Fatal(err)
	}
	if s, _ := serial(); s != before {
		t.Fatal("the certificate changed before SIGHUP (file watching is off)")
	}
	p.cmd.Process.Signal(syscall.SIGHUP)
	poll(t, "the new certificate after SIGHUP", func() (bool, string) {
		s, err := serial()
		return err == nil && s != before, fmt.Sprint(s, err)
	})
	p.stop(t)
}

func caPool(t *testing.T) *x509.CertPool {
	t.Helper()
	pem, err := os.ReadFile(filepath.Join(testCerts, certs.CACert))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	return pool
}
