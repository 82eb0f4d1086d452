package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"innonet/cluster"
	"innonet/cluster/certs"
)

// tlsFlags are the transport-security flags of `innonet serve`.
type tlsFlags struct {
	dir, cert, key, ca string
	apiCert, apiKey    string
	clientCA           string
	insecure           bool
	reloadEvery        time.Duration
	dialMap            string
}

func addTLSFlags(fs *flag.FlagSet) *tlsFlags {
	t := &tlsFlags{}
	fs.StringVar(&t.dir, "tls-dir", "", "directory written by `innonet certs`: uses ca.crt and <site>.crt/<site>.key from it")
	fs.StringVar(&t.cert, "tls-cert", "", "this site's certificate (signed by the cluster CA, naming the site)")
	fs.StringVar(&t.key, "tls-key", "", "the key of --tls-cert")
	fs.StringVar(&t.ca, "tls-ca", "", "the cluster CA: every site's certificate must be signed by it")
	fs.StringVar(&t.apiCert, "api-cert", "", "serve the client API with this certificate instead of --tls-cert (e.g. one for the site's public host name)")
	fs.StringVar(&t.apiKey, "api-key", "", "the key of --api-cert")
	fs.StringVar(&t.clientCA, "client-ca", "", "require API clients to present a certificate signed by this CA")
	fs.BoolVar(&t.insecure, "insecure", false, "serve and talk to other sites in plaintext (development only: anyone on the network can read and forge traffic)")
	fs.DurationVar(&t.reloadEvery, "tls-reload-interval", 10*time.Second, "how often to check the certificate files for changes and reload them (SIGHUP reloads at once)")
	fs.StringVar(&t.dialMap, "dial-map", "", "testing: route connections to other sites through proxies, ADDR=VIA[,ADDR=VIA...]")
	return t
}

// load returns the site's certificate store, or nil with --insecure.
func (t *tlsFlags) load(site string, log *slog.Logger) (*certs.Store, error) {
	files := certs.Files{Cert: t.cert, Key: t.key, CA: t.ca, APICert: t.apiCert, APIKey: t.apiKey, ClientCA: t.clientCA}
	if t.dir != "" {
		c, k := certs.SiteFiles(t.dir, site)
		files.Cert, files.Key, files.CA = orDefault(files.Cert, c), orDefault(files.Key, k), orDefault(files.CA, t.dir+"/"+certs.CACert)
	}
	given := files.Cert != "" || files.Key != "" || files.CA != "" || t.apiCert != "" || t.clientCA != ""
	switch {
	case t.insecure && given:
		return nil, fmt.Errorf("--insecure excludes the TLS flags")
	case t.insecure:
		log.Warn("!!! INSECURE: TLS is off (--insecure). API tokens, Raft traffic and forwarded requests cross the network in plaintext, and any host can pose as a site. Use this for local development only.")
		return nil, nil
	case !given:
		return nil, fmt.Errorf("TLS is required: give --tls-dir (see `innonet certs`) or --tls-cert, --tls-key and --tls-ca; --insecure runs plaintext for development")
	}
	store, err := certs.Load(files, log)
	if err != nil {
		return nil, err
	}
	if store.Site() != site {
		return nil, fmt.Errorf("certificate %s names site %s, not %s", files.Cert, store.Site(), site)
	}
	return store, nil
}

// watch reloads the certificates on SIGHUP and when the files change.
func (t *tlsFlags) watch(ctx context.Context, store *certs.Store, log *slog.Logger) {
	if t.reloadEvery > 0 {
		go store.Watch(ctx, t.reloadEvery)
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	go func() {
		defer signal.Stop(hup)
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				if err := store.Reload(); err != nil {
					log.Error("SIGHUP: cannot reload certificates; keeping the current ones", "err", err)
				}
			}
		}
	}()
}

// dialer returns the dial function for --dial-map, or nil without one.
func (t *tlsFlags) dialer() (cluster.DialFunc, error) {
	if t.dialMap == "" {
		return nil, nil
	}
	routes := map[string]string{}
	for _, pair := range strings.Split(t.dialMap, ",") {
		from, via, ok := strings.Cut(strings.TrimSpace(pair), "=")
		if !ok || from == "" || via == "" {
			return nil, fmt.Errorf("--dial-map: %q is not ADDR=VIA", pair)
		}
		routes[from] = via
	}
	var d net.Dialer
	return func(ctx context.Context, addr string) (net.Conn, error) {
		if via, ok := routes[addr]; ok {
			addr = via
		}
		return d.DialContext(ctx, "tcp", addr)
	}, nil
}

func orDefault(v, def string) string {
	if v != "" {
		return v
	}
	return def
}

// clientTLS is how a client command reaches a site: TLS verified against
// --ca (or the system's roots), with an optional client certificate; or
// plaintext with --insecure.
type clientTLS struct {
	ca, cert, key string
	insecure      bool
}

func (c *clientTLS) register(f interface {
	StringVar(*string, string, string, string)
	BoolVar(*bool, string, bool, string)
}) {
	f.StringVar(&c.ca, "ca", os.Getenv("INNONET_CA"), "CA certificate that signed the sites' certificates (default $INNONET_CA; without it the system's roots)")
	f.StringVar(&c.cert, "cert", os.Getenv("INNONET_CERT"), "client certificate, for sites that require one (default $INNONET_CERT)")
	f.StringVar(&c.key, "key", os.Getenv("INNONET_KEY"), "key of --cert (default $INNONET_KEY)")
	f.BoolVar(&c.insecure, "insecure", os.Getenv("INNONET_INSECURE") == "1", "plaintext, for sites started with --insecure (default $INNONET_INSECURE=1)")
}

// config returns the TLS configuration, or nil for plaintext.
func (c *clientTLS) config() (*tls.Config, error) {
	if c.insecure {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if c.ca != "" {
		pem, err := os.ReadFile(c.ca)
		if err != nil {
			return nil, fmt.Errorf("read CA: %w", err)
		}
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s holds no PEM certificate", c.ca)
		}
	}
	if c.cert != "" || c.key != "" {
		pair, err := tls.LoadX509KeyPair(c.cert, c.key)
		if err != nil {
			return nil, fmt.Errorf("load client certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg, nil
}
