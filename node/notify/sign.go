package notify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Errors of [Verify].
var (
	ErrNoSignature  = errors.New("no X-Innonet-Signature header")
	ErrBadSignature = errors.New("signature does not match the body")
	ErrStale        = errors.New("signature timestamp outside the tolerance")
)

// DefaultTolerance is how far a signature's timestamp may be from the
// receiver's clock when Verify is given no tolerance.
const DefaultTolerance = 5 * time.Minute

// Sign is the X-Innonet-Signature of body at t: t=<unix seconds>,v1=<hex
// HMAC-SHA256 of "<t>.<body>" keyed with secret>. The timestamp is
// signed with the body, so a captured delivery cannot be replayed later.
func Sign(secret string, body []byte, t time.Time) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac(secret, ts, body))
}

func mac(secret, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// Verify checks a generic delivery's signature, as a receiver does: one
// of its v1 signatures must match body (there may be several while a
// secret is rotated), and its timestamp must be within tolerance of now
// (DefaultTolerance if tolerance is 0).
func Verify(secret string, header http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	h := header.Get(SignatureHeader)
	if h == "" {
		return ErrNoSignature
	}
	var ts string
	var sigs [][]byte
	for _, part := range strings.Split(h, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			if b, err := hex.DecodeString(v); err == nil {
				sigs = append(sigs, b)
			}
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(sigs) == 0 {
		return fmt.Errorf("malformed signature header %q: %w", h, ErrBadSignature)
	}
	want := mac(secret, ts, body)
	matched := false
	for _, s := range sigs {
		matched = hmac.Equal(s, want) || matched
	}
	if !matched {
		return ErrBadSignature
	}
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("signed %v from now: %w", d.Round(time.Second), ErrStale)
	}
	return nil
}
