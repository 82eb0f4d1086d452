//go:build e2e

package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// testTLS checks the transport security the compose file sets up: the
// one-shot certs service completed; every site presents a certificate from
// the network's CA that names its site and the address its users dial; a
// plaintext client and a client that does not trust the CA get nothing; and
// the Raft port admits no one without a site certificate (mutual TLS).
func testTLS(t *testing.T, n *network) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	out, err := docker(ctx, "inspect", "--format", "{{.State.Status}} {{.State.ExitCode}} {{.HostConfig.RestartPolicy.Name}}", n.certs)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.TrimSpace(out), "exited 0 no"; got != want {
		t.Errorf("certs service: state, exit code, restart policy %q, want %q", got, want)
	}

	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(n.ca) {
		t.Fatal("the CA from the certs volume holds no PEM certificate")
	}
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	for _, s := range n.sites {
		host, _, err := net.SplitHostPort(s.Client)
		if err != nil {
			t.Fatal(err)
		}
		// Verifies the chain to the CA and that the certificate names the
		// address dialled.
		conn, err := tls.DialWithDialer(dialer, "tcp", s.Client, &tls.Config{RootCAs: roots, ServerName: host})
		if err != nil {
			t.Errorf("site %s: TLS to %s trusting the network's CA: %v", s.Code, s.Client, err)
			continue
		}
		leaf := conn.ConnectionState().PeerCertificates[0]
		conn.Close()
		want := "spiffe://innonet/site/" + s.Code
		if !slices.ContainsFunc(leaf.URIs, func(u *url.URL) bool { return u.String() == want }) {
			t.Errorf("site %s presents a certificate naming %v, want %s", s.Code, leaf.URIs, want)
		}
	}

	cgo := n.site("CGO")
	plain, err := newAPI(nil)
	if err != nil {
		t.Fatal(err)
	}
	plainErr := plain.get(ctx, cgo.Client, "/v1/cluster", n.admin, nil)
	if plainErr == nil {
		t.Fatalf("plaintext GET http://%s/v1/cluster with the admin token answered 200", cgo.Client)
	}
	if st := statusOf(plainErr); st != 0 && st != http.StatusBadRequest {
		t.Errorf("plaintext request: got %v, want no answer or 400", plainErr)
	}

	untrusting := &http.Client{Timeout: 5 * time.Second}
	resp, untrustErr := untrusting.Get("https://" + cgo.Client + "/healthz")
	if untrustErr == nil {
		resp.Body.Close()
	}
	var verr *tls.CertificateVerificationError
	if !errors.As(untrustErr, &verr) {
		t.Errorf("a client with only the system's roots: got %v, want a certificate verification error", untrustErr)
	}

	// Between sites: TLS 1.3 tells the client the server wanted its
	// certificate only after the handshake, on the first read.
	raft := net.JoinHostPort(cgo.WANIP, "7200")
	raftErr := func() error {
		conn, err := tls.DialWithDialer(dialer, "tcp", raft, &tls.Config{RootCAs: roots, ServerName: cgo.WANIP})
		if err != nil {
			return err
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(5 * time.Second))
		_, err = conn.Read(make([]byte, 1))
		return err
	}()
	var nerr net.Error
	if raftErr == nil || (errors.As(raftErr, &nerr) && nerr.Timeout()) {
		t.Errorf("Raft port %s with no client certificate: got %v, want the connection refused", raft, raftErr)
	}
	t.Logf("certs service exited 0; all %d sites present certificates from the network's CA naming their site and address; "+
		"plaintext to CGO's API: %v; a client not trusting the CA: %v; CGO's Raft port without a site certificate: %v",
		len(n.sites), plainErr, untrustErr, raftErr)
}
