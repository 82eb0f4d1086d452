package certs

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Options describe the certificates [Generate] writes.
type Options struct {
	// Sites are the site codes to issue certificates for.
	Sites []string
	// Hosts are DNS names or IP addresses added to every site certificate,
	// for API clients that verify host names. localhost, 127.0.0.1, ::1 and
	// the site code in lower case are always added.
	Hosts []string
	// SiteHosts adds host names or addresses to one site's certificate.
	SiteHosts map[string][]string
	// Clients are names of API client certificates to issue, signed by a
	// separate client CA (for --client-ca).
	Clients []string
	// Validity of the issued certificates (default one year). The CAs are
	// valid for ten years.
	Validity time.Duration
}

// File names inside the certificate directory.
const (
	CACert       = "ca.crt"
	CAKey        = "ca.key"
	ClientCACert = "client-ca.crt"
	ClientCAKey  = "client-ca.key"
)

// SiteFiles returns the certificate and key file names of a site.
func SiteFiles(dir, site string) (cert, key string) {
	base := filepath.Join(dir, strings.ToLower(site))
	return base + ".crt", base + ".key"
}

// ClientFiles returns the certificate and key file names of an API client.
func ClientFiles(dir, name string) (cert, key string) {
	base := filepath.Join(dir, "client-"+name)
	return base + ".crt", base + ".key"
}

// Generate writes the cluster CA (reusing ca.crt/ca.key when dir already
// holds them, so sites can be added later) and a certificate and key per
// site and client into dir. It returns the files it wrote.
func Generate(dir string, opts Options) ([]string, error) {
	if opts.Validity <= 0 {
		opts.Validity = 365 * 24 * time.Hour
	}
	for _, s := range opts.Sites {
		if !siteCode.MatchString(s) {
			return nil, fmt.Errorf("site code %q: want 2-8 capital letters", s)
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create %s: %w", dir, err)
	}
	var written []string
	ca, caKey, created, err := loadOrCreateCA(dir, CACert, CAKey, "innonet cluster CA")
	if err != nil {
		return nil, err
	}
	if created {
		written = append(written, filepath.Join(dir, CACert), filepath.Join(dir, CAKey))
	}
	for _, site := range opts.Sites {
		tmpl := leafTemplate(site, opts.Validity)
		tmpl.URIs = append(tmpl.URIs, SiteURI(site))
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
		addHosts(tmpl, append([]string{"localhost", "127.0.0.1", "::1", strings.ToLower(site)}, append(opts.Hosts, opts.SiteHosts[site]...)...))
		certFile, keyFile := SiteFiles(dir, site)
		if err := issue(tmpl, ca, caKey, certFile, keyFile); err != nil {
			return nil, fmt.Errorf("site %s: %w", site, err)
		}
		written = append(written, certFile, keyFile)
	}
	if len(opts.Clients) > 0 {
		cca, ccaKey, created, err := loadOrCreateCA(dir, ClientCACert, ClientCAKey, "innonet client CA")
		if err != nil {
			return nil, err
		}
		if created {
			written = append(written, filepath.Join(dir, ClientCACert), filepath.Join(dir, ClientCAKey))
		}
		for _, name := range opts.Clients {
			if name == "" || strings.ContainsAny(name, `/\ `) {
				return nil, fmt.Errorf("client name %q: want a plain name", name)
			}
			tmpl := leafTemplate(name, opts.Validity)
			tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
			certFile, keyFile := ClientFiles(dir, name)
			if err := issue(tmpl, cca, ccaKey, certFile, keyFile); err != nil {
				return nil, fmt.Errorf("client %s: %w", name, err)
			}
			written = append(written, certFile, keyFile)
		}
	}
	return written, nil
}

func leafTemplate(cn string, validity time.Duration) *x509.Certificate {
	now := time.Now()
	return &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: cn, Organization: []string{"innonet"}},
		NotBefore:    now.Add(-5 * time.Minute), // tolerate small clock skew
		NotAfter:     now.Add(validity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
}

func addHosts(tmpl *x509.Certificate, hosts []string) {
	seen := map[string]bool{}
	for _, h := range hosts {
		if h == "" || seen[h] {
			continue
		}
		seen[h] = true
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	return n
}

// loadOrCreateCA returns the CA in dir, creating it when neither file
// exists.
func loadOrCreateCA(dir, certName, keyName, cn string) (*x509.Certificate, *ecdsa.PrivateKey, bool, error) {
	certFile, keyFile := filepath.Join(dir, certName), filepath.Join(dir, keyName)
	_, errC := os.Stat(certFile)
	_, errK := os.Stat(keyFile)
	switch {
	case errC == nil && errK == nil:
		ca, key, err := readCA(certFile, keyFile)
		return ca, key, false, err
	case errC == nil || errK == nil:
		return nil, nil, false, fmt.Errorf("%s and %s must both exist or both be absent", certFile, keyFile)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, false, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: cn, Organization: []string{"innonet"}},
		NotBefore:             now.Add(-5 * time.Minute),
		NotAfter:              now.Add(10 * 365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, false, fmt.Errorf("create CA: %w", err)
	}
	if err := writePair(der, key, certFile, keyFile); err != nil {
		return nil, nil, false, err
	}
	ca, err := x509.ParseCertificate(der)
	return ca, key, true, err
}

func readCA(certFile, keyFile string) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return nil, nil, err
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, nil, err
	}
	cb, _ := pem.Decode(certPEM)
	kb, _ := pem.Decode(keyPEM)
	if cb == nil || kb == nil {
		return nil, nil, fmt.Errorf("%s or %s is not PEM", certFile, keyFile)
	}
	ca, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, nil, fmt.Errorf("parse %s: %w", certFile, err)
	}
	k, err := x509.ParsePKCS8PrivateKey(kb.Bytes)
	if err != nil {
		return nil, nil, fmt.Errorf("parse %s: %w", keyFile, err)
	}
	key, ok := k.(*ecdsa.PrivateKey)
	if !ok {
		return nil, nil, errors.New("CA key is not an ECDSA key")
	}
	return ca, key, nil
}

func issue(tmpl, ca *x509.Certificate, caKey *ecdsa.PrivateKey, certFile, keyFile string) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return fmt.Errorf("sign certificate: %w", err)
	}
	return writePair(der, key, certFile, keyFile)
}

// writePair writes the key first and each file through a rename, so a
// site watching the files never reads half of one.
func writePair(der []byte, key *ecdsa.PrivateKey, certFile, keyFile string) error {
	kd, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	if err := writeFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kd}), 0o600); err != nil {
		return err
	}
	return writeFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
}

func writeFile(name string, data []byte, mode os.FileMode) error {
	tmp := name + ".tmp"
	if err := os.WriteFile(tmp, data, mode); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := os.Rename(tmp, name); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}
