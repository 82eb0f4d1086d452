package cluster

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"
)

// DeniedCert is a certificate the cluster no longer trusts, whatever its
// expiry: the replicated deny-list every site checks on the Raft port (and
// the API layer on site-to-site calls). Removing a site from the
// configuration already refuses its certificate on the Raft port; the
// deny-list covers a stolen key of a site that stays, before its new
// certificate is issued.
type DeniedCert struct {
	// Serial is the certificate's serial number in lower-case hex, no
	// separators (as SerialString writes it).
	Serial  string `json:"serial"`
	Comment string `json:"comment,omitempty"`
	// By and Time say who added it and when (the proposer's clock).
	By   string `json:"by,omitempty"`
	Time int64  `json:"time,omitempty"`
}

var serialPattern = regexp.MustCompile(`^[0-9a-f]{1,64}$`)

// NormalizeSerial accepts a serial as operators copy it (openssl prints
// upper case with or without colons, e.g. "serial=3A:F0...") and returns
// the deny-list's spelling, or an error that says what is wrong.
func NormalizeSerial(s string) (string, error) {
	v := strings.ToLower(strings.TrimSpace(s))
	v = strings.TrimPrefix(v, "serial=")
	v = strings.TrimPrefix(v, "0x")
	v = strings.ReplaceAll(v, ":", "")
	if !serialPattern.MatchString(v) {
		if len(s) > 80 {
			s = s[:80] + "..."
		}
		return "", fmt.Errorf("serial %q: want the certificate's serial number in hexadecimal (as `openssl x509 -noout -serial` prints it)", s)
	}
	if v = strings.TrimLeft(v, "0"); v == "" {
		v = "0"
	}
	return v, nil
}

// DenyCertificate adds a certificate serial to the replicated deny-list.
// It must run on the leader. Every site drops the Raft connections it has
// and refuses the certificate from then on; adding a serial again only
// updates its comment.
func (c *Cluster) DenyCertificate(ctx context.Context, serial, comment, by string) (DeniedCert, error) {
	s, err := NormalizeSerial(serial)
	if err != nil {
		return DeniedCert{}, fmt.Errorf("%w: %v", ErrRefused, err)
	}
	d := DeniedCert{Serial: s, Comment: comment, By: by, Time: time.Now().UnixNano()}
	if err := c.setMeta(ctx, metaRecord{Deny: &d}); err != nil {
		return DeniedCert{}, err
	}
	return d, nil
}

// DeniedCertificates returns the deny-list, ordered by serial.
func (c *Cluster) DeniedCertificates() []DeniedCert {
	m := c.fsm.denied()
	out := make([]DeniedCert, 0, len(m))
	for _, d := range m {
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Serial < out[j].Serial })
	return out
}

// IsDenied reports whether a certificate serial (as SerialString writes
// it) is on the deny-list.
func (c *Cluster) IsDenied(serial string) bool { return (*c.transport.gate.denied.Load())[serial] }

// applyDenied installs a new deny-list in the transport and closes the
// inbound Raft connections made with a certificate now on it, so the
// certificate is refused at once.
func (t *transport) applyDenied(list map[string]DeniedCert) {
	set := make(map[string]bool, len(list))
	for s := range list {
		set[s] = true
	}
	t.gate.denied.Store(&set)
	t.dropDenied()
}
