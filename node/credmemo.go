package node

import (
	"context"
	"sync/atomic"

	"innonet/node/pipeline"
)

// A request's token is looked up in the state once. Several steps of one
// request ask who holds it: a follower, whether it knows the token at all
// (newerCredential); the handler, who the caller is (credential); a write,
// which token to name in its command (propose); the view of the answer,
// what the caller may see. Each lookup hashes the token and reads two
// tables. The memo keeps the first lookup's answer for the rest: they see
// the token as the request first found it, as if they all ran at that
// moment (a revocation applied meanwhile still refuses the write in
// Apply, which judges the token the command names).

// tokenMemo is one request's lookup of its token.
type tokenMemo struct{ got atomic.Pointer[tokenLookup] }

type tokenLookup struct {
	token string
	user  *pipeline.User
	tok   *pipeline.Token
}

type tokenMemoKey struct{}

// withTokenMemo gives the request in ctx a memo of its token lookup.
func withTokenMemo(ctx context.Context) context.Context {
	return context.WithValue(ctx, tokenMemoKey{}, &tokenMemo{})
}

// lookupToken returns the user holding token and the token, or the
// state's error (pipeline.ErrUnauthenticated for an unknown token), from
// the request's memo when an earlier step found it. The caller judges
// revocation and expiry; only a token found is kept.
func (n *Node) lookupToken(ctx context.Context, token string) (*pipeline.User, *pipeline.Token, error) {
	m, _ := ctx.Value(tokenMemoKey{}).(*tokenMemo)
	if m != nil {
		if l := m.got.Load(); l != nil && l.token == token {
			return l.user, l.tok, nil
		}
	}
	u, t, err := n.state.TokenByHash(HashToken(token))
	if err == nil && m != nil {
		m.got.Store(&tokenLookup{token: token, user: u, tok: t})
	}
	return u, t, err
}
