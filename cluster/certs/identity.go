package certs

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// siteURIPrefix is the URI SAN prefix of a site certificate; the site code
// follows it.
const siteURIPrefix = "spiffe://innonet/site/"

var siteCode = regexp.MustCompile(`^[A-Z]{2,8}$`)

// ErrNoSite is returned for a certificate that names no site.
var ErrNoSite = errors.New("certificate names no innonet site")

// SiteURI is the URI SAN that makes a certificate site's certificate.
func SiteURI(site string) *url.URL {
	u, _ := url.Parse(siteURIPrefix + site)
	return u
}

// SiteOf returns the site code a certificate names. It does not verify the
// certificate; see [Store.PeerSite].
func SiteOf(cert *x509.Certificate) (string, error) {
	var found string
	for _, u := range cert.URIs {
		s := u.String()
		if !strings.HasPrefix(s, siteURIPrefix) {
			continue
		}
		code := strings.TrimPrefix(s, siteURIPrefix)
		if !siteCode.MatchString(code) {
			return "", fmt.Errorf("certificate names a malformed site code %q", code)
		}
		if found != "" && found != code {
			return "", fmt.Errorf("certificate names two sites, %s and %s", found, code)
		}
		found = code
	}
	if found == "" {
		return "", ErrNoSite
	}
	return found, nil
}
