package node

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"

	"google.golang.org/grpc/metadata"
)

// Secrets shown once (a new token, a session, an invitation code) are made
// from a seed the site that took the request draws once per request, and
// sends with every attempt it forwards (mdSecretSeed, reserved for
// forwarding between sites). When that site holds a write through a
// leader change (forward.go) and a second attempt is answered as a replay
// of the first, the secret it derives is the one the first attempt
// stored, so the answer can still show it. A client's own retry is a new
// request to the site, with a new seed: its replay shows no secret.

// mdSecretSeed carries the seed of a forwarded request.
const mdSecretSeed = "x-innonet-secret-seed"

type seedKey struct{}

// newSeed draws a request's seed.
func newSeed() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b)
}

// withSeed gives the request's context its seed.
func withSeed(ctx context.Context, seed string) context.Context {
	return context.WithValue(ctx, seedKey{}, seed)
}

// requestSeed is the seed of the request: the one this site drew, or the
// one the site that forwarded it sent ("" if neither).
func requestSeed(ctx context.Context) string {
	if s, ok := ctx.Value(seedKey{}).(string); ok {
		return s
	}
	if forwarded(ctx) {
		if v := metadata.ValueFromIncomingContext(ctx, mdSecretSeed); len(v) > 0 && len(v[0]) == 64 {
			return v[0]
		}
	}
	return ""
}

// mintSecret returns the secret of purpose for this request: derived from
// its seed, or random without one. prefix is the secret's visible kind
// (tokenPrefix, invitationPrefix).
func mintSecret(ctx context.Context, prefix, purpose string) string {
	seed := requestSeed(ctx)
	if seed == "" {
		if prefix == invitationPrefix {
			return newInvitationCode()
		}
		return NewToken()
	}
	m := hmac.New(sha256.New, []byte(seed))
	m.Write([]byte(purpose))
	return prefix + hex.EncodeToString(m.Sum(nil))
}
