package certs

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"
	"time"
)

// Files name a site's certificate files.
type Files struct {
	// Cert and Key: the site's certificate, signed by the cluster CA and
	// naming the site's code. Used between sites, and for the client API
	// unless APICert is set.
	Cert, Key string
	// CA is the cluster CA that signs every site's certificate.
	CA string
	// APICert and APIKey optionally serve the client API with another
	// certificate (e.g. one a public CA issued for the site's host name).
	APICert, APIKey string
	// ClientCA, when set, makes the client API require a client
	// certificate signed by it (or a site certificate, for forwarding).
	ClientCA string
}

// Store holds a site's current certificates. Its TLS configurations read
// the current material at every handshake, so a reload applies to new
// connections without a restart.
type Store struct {
	files Files
	log   *slog.Logger
	cur   atomic.Pointer[material]
}

type material struct {
	site    string
	cert    tls.Certificate
	api     tls.Certificate
	peers   *x509.CertPool // the cluster CA
	clients *x509.CertPool // cluster CA + client CA: accepted on the API
	stamp   string         // file sizes and times, to notice changes
}

// Load reads a site's certificates. The site certificate must be signed by
// the cluster CA and name a site.
func Load(files Files, log *slog.Logger) (*Store, error) {
	if log == nil {
		log = slog.Default()
	}
	s := &Store{files: files, log: log}
	m, err := s.read()
	if err != nil {
		return nil, err
	}
	s.cur.Store(m)
	return s, nil
}

// Site is the site code the current certificate names.
func (s *Store) Site() string { return s.cur.Load().site }

// Reload reads the files again. On any error the current certificates stay
// in use and the error is returned.
func (s *Store) Reload() error {
	m, err := s.read()
	if err != nil {
		return err
	}
	old := s.cur.Swap(m)
	if old.site != m.site {
		s.log.Warn("reloaded certificate names another site", "was", old.site, "now", m.site)
	}
	s.log.Info("reloaded TLS certificates", "site", m.site, "expires", m.cert.Leaf.NotAfter.Format(time.RFC3339))
	return nil
}

// Watch reloads the certificates whenever one of the files changes,
// checking every interval, until ctx ends.
func (s *Store) Watch(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		stamp, err := s.stamp()
		if err != nil || stamp == s.cur.Load().stamp {
			continue
		}
		if err := s.Reload(); err != nil {
			s.log.Error("certificate files changed but cannot be loaded; keeping the current ones", "err", err)
		}
	}
}

func (s *Store) stamp() (string, error) {
	var out string
	for _, f := range []string{s.files.Cert, s.files.Key, s.files.CA, s.files.APICert, s.files.APIKey, s.files.ClientCA} {
		if f == "" {
			continue
		}
		fi, err := os.Stat(f)
		if err != nil {
			return "", err
		}
		out += fmt.Sprintf("%s:%d:%d;", f, fi.Size(), fi.ModTime().UnixNano())
	}
	return out, nil
}

func (s *Store) read() (*material, error) {
	f := s.files
	if f.Cert == "" || f.Key == "" || f.CA == "" {
		return nil, errors.New("TLS needs a site certificate, its key and the cluster CA")
	}
	stamp, err := s.stamp()
	if err != nil {
		return nil, err
	}
	m := &material{stamp: stamp}
	if m.peers, err = readPool(f.CA); err != nil {
		return nil, err
	}
	if m.cert, err = tls.LoadX509KeyPair(f.Cert, f.Key); err != nil {
		return nil, fmt.Errorf("load site certificate: %w", err)
	}
	if m.site, err = verifySite(m.cert.Leaf, m.cert.Certificate, m.peers, x509.ExtKeyUsageServerAuth); err != nil {
		return nil, fmt.Errorf("site certificate %s: %w", f.Cert, err)
	}
	m.api = m.cert
	if f.APICert != "" || f.APIKey != "" {
		if m.api, err = tls.LoadX509KeyPair(f.APICert, f.APIKey); err != nil {
			return nil, fmt.Errorf("load API certificate: %w", err)
		}
	}
	m.clients = m.peers.Clone()
	if f.ClientCA != "" {
		pem, err := os.ReadFile(f.ClientCA)
		if err != nil {
			return nil, fmt.Errorf("read client CA: %w", err)
		}
		if !m.clients.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("client CA %s holds no PEM certificate", f.ClientCA)
		}
	}
	return m, nil
}

func readPool(file string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("CA file %s holds no PEM certificate", file)
	}
	return pool, nil
}

// verifySite checks leaf's chain against roots for usage and returns the
// site it names.
func verifySite(leaf *x509.Certificate, chain [][]byte, roots *x509.CertPool, usage x509.ExtKeyUsage) (string, error) {
	inter := x509.NewCertPool()
	for _, der := range chain[1:] {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return "", err
		}
		inter.AddCert(c)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{usage}}); err != nil {
		return "", fmt.Errorf("not signed by the cluster CA: %w", err)
	}
	return SiteOf(leaf)
}

// PeerServerConfig is the TLS configuration of the Raft listener: it
// requires a client certificate signed by the cluster CA.
func (s *Store) PeerServerConfig() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS13,
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			m := s.cur.Load()
			return &tls.Config{
				MinVersion:   tls.VersionTLS13,
				Certificates: []tls.Certificate{m.cert},
				ClientAuth:   tls.RequireAndVerifyClientCert,
				ClientCAs:    m.peers,
			}, nil
		},
	}
}

// APIServerConfig is the TLS configuration of the client API. It asks for
// a client certificate, which sites forwarding a request present; with a
// client CA configured it requires one.
func (s *Store) APIServerConfig() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		NextProtos: []string{"h2", "http/1.1"},
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			m := s.cur.Load()
			auth := tls.VerifyClientCertIfGiven
			if s.files.ClientCA != "" {
				auth = tls.RequireAndVerifyClientCert
			}
			return &tls.Config{
				MinVersion:   tls.VersionTLS12,
				NextProtos:   []string{"h2", "http/1.1"},
				Certificates: []tls.Certificate{m.api},
				ClientAuth:   auth,
				ClientCAs:    m.clients,
			}, nil
		},
	}
}

// PeerClientConfig is the TLS configuration for connecting to another
// site: it presents this site's certificate and accepts only a server
// certificate from the cluster CA that names site (any site when site is
// empty). Host names are not checked: the site code is the identity.
func (s *Store) PeerClientConfig(site string) *tls.Config {
	return &tls.Config{
		MinVersion:         tls.VersionTLS13,
		NextProtos:         []string{"h2"},
		InsecureSkipVerify: true, // verified in VerifyConnection against the cluster CA
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			c := s.cur.Load().cert
			return &c, nil
		},
		VerifyConnection: func(cs tls.ConnectionState) error {
			got, err := s.verify(cs, x509.ExtKeyUsageServerAuth)
			if err != nil {
				return err
			}
			if site != "" && got != site {
				return fmt.Errorf("peer certificate names site %s, expected %s", got, site)
			}
			return nil
		},
	}
}

// PeerSite returns the site code of a connection's verified peer
// certificate, or an error when it presented none or one the cluster CA
// did not sign.
func (s *Store) PeerSite(cs tls.ConnectionState) (string, error) {
	return s.verify(cs, x509.ExtKeyUsageClientAuth)
}

func (s *Store) verify(cs tls.ConnectionState, usage x509.ExtKeyUsage) (string, error) {
	if len(cs.PeerCertificates) == 0 {
		return "", errors.New("peer presented no certificate")
	}
	chain := make([][]byte, len(cs.PeerCertificates))
	for i, c := range cs.PeerCertificates {
		chain[i] = c.Raw
	}
	return verifySite(cs.PeerCertificates[0], chain, s.cur.Load().peers, usage)
}
