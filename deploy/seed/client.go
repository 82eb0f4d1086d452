package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
)

// client calls one site's REST API.
type client struct {
	base string
	http *http.Client
}

// newClient returns a client for the site at addr: HTTPS, verifying the
// site's certificate against the CA in caFile (the system's roots when
// empty), unless addr is an http:// URL or insecure asks for plaintext.
func newClient(addr, caFile string, insecure bool) (*client, error) {
	if !strings.Contains(addr, "://") {
		scheme := "https://"
		if insecure {
			scheme = "http://"
		}
		addr = scheme + addr
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("read CA: %w", err)
		}
		roots := x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s holds no PEM certificate", caFile)
		}
		tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: roots}
	}
	return &client{base: strings.TrimRight(addr, "/"), http: &http.Client{Timeout: 15 * time.Second, Transport: tr}}, nil
}

// apiError is a REST error answer.
type apiError struct {
	Status  int
	Message string
}

func (e *apiError) Error() string { return fmt.Sprintf("HTTP %d: %s", e.Status, e.Message) }

// retryable reports whether the same request may succeed later: the site is
// unreachable, the network is electing a leader, or a timeout left the
// outcome open (the request ID makes the retry safe).
func retryable(err error) bool {
	var e *apiError
	if errors.As(err, &e) {
		return e.Status == http.StatusServiceUnavailable || e.Status == http.StatusGatewayTimeout || e.Status == http.StatusBadGateway
	}
	return !untrusted(err)
}

// untrusted reports whether err is a certificate the client does not
// accept: waiting will not fix a wrong CA or address.
func untrusted(err error) bool {
	var verify *tls.CertificateVerificationError
	var unknown x509.UnknownAuthorityError
	var host x509.HostnameError
	return errors.As(err, &verify) || errors.As(err, &unknown) || errors.As(err, &host)
}

// waitReady polls /readyz until the site has a leader and has caught up.
func (c *client) waitReady(ctx context.Context) error {
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/readyz", nil)
		if err != nil {
			return err
		}
		resp, err := c.http.Do(req)
		switch {
		case err == nil:
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("/readyz: %s", resp.Status)
		case untrusted(err):
			return fmt.Errorf("%s: %w (is --ca, or $INNONET_CA, the network's CA?)", c.base, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s is not ready: %w (last: %v)", c.base, ctx.Err(), err)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// write sends a write (its body carries a request ID) and retries the same
// body until it is answered or ctx ends.
func (c *client) write(ctx context.Context, method, path, token string, in, out any) error {
	wait := 200 * time.Millisecond
	for {
		err := c.do(ctx, method, path, token, in, out)
		if err == nil || !retryable(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s %s: %w (last error: %v)", method, path, ctx.Err(), err)
		case <-time.After(wait):
		}
		wait = min(2*wait, 2*time.Second)
	}
}

func (c *client) do(ctx context.Context, method, path, token string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		var e struct{ Message string }
		if json.Unmarshal(b, &e) != nil || e.Message == "" {
			e.Message = strings.TrimSpace(string(b))
		}
		return &apiError{Status: resp.StatusCode, Message: e.Message}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("decode answer to %s %s: %w", method, path, err)
	}
	return nil
}
