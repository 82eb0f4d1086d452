package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
)

// healthCommand probes a site's /healthz or /readyz. It exists so that a
// container built FROM scratch (no curl, no shell) can have a health check.
type healthCommand struct{}

func (c *healthCommand) Run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("health", flag.ContinueOnError)
	addr := fs.String("addr", envOr("INNONET_ADDR", "127.0.0.1:7101"), "site API address (host:port or URL); default $INNONET_ADDR")
	ready := fs.Bool("ready", false, "probe /readyz (has a leader, is a member, has caught up) instead of /healthz (process alive)")
	timeout := fs.Duration("timeout", 3*time.Second, "give up after this long")
	ca := fs.String("ca", os.Getenv("INNONET_CA"), "verify the site's certificate against this CA (default $INNONET_CA; without it the probe does not verify: it only reads a status)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), `Usage: innonet health [--addr HOST:PORT] [--ready]

Exits 0 when the site answers 200 on /healthz (or, with --ready, /readyz),
1 otherwise. Meant for container and systemd health checks. It speaks TLS,
and plaintext to a site started with --insecure.

Examples:
  innonet health --addr 127.0.0.1:7101
  innonet health --addr 127.0.0.1:7101 --ready

Flags:
`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	path := "/healthz"
	if *ready {
		path = "/readyz"
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	client, err := probeClient(*ca)
	if err != nil {
		return err
	}
	base := *addr
	if !strings.Contains(base, "://") {
		base = "https://" + base
	}
	resp, err := probe(ctx, client, strings.TrimRight(base, "/")+path)
	var rh tls.RecordHeaderError
	if errors.As(err, &rh) && !strings.Contains(*addr, "://") {
		// The site serves plaintext (--insecure).
		resp, err = probe(ctx, client, "http://"+strings.TrimRight(*addr, "/")+path)
	}
	if err != nil {
		return fmt.Errorf("probe %s: %w", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s: %s", path, resp.Status, strings.TrimSpace(string(body)))
	}
	fmt.Fprint(os.Stdout, string(body))
	return nil
}

func probe(ctx context.Context, client *http.Client, url string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	return client.Do(req)
}

func probeClient(ca string) (*http.Client, error) {
	cfg := &tls.Config{InsecureSkipVerify: true} // a status probe: see --ca
	if ca != "" {
		pem, err := os.ReadFile(ca)
		if err != nil {
			return nil, fmt.Errorf("read CA: %w", err)
		}
		cfg = &tls.Config{RootCAs: x509.NewCertPool()}
		if !cfg.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s holds no PEM certificate", ca)
		}
	}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}}, nil
}

// envOr returns the environment variable key, or def when it is unset.
func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
