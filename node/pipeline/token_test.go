package pipeline

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"reflect"
	"strings"
	"testing"
	"time"
)

// hashOf is the hash a proposer would put in a command for token secret.
func hashOf(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// fixtureHash is the hash of the token the fixture gave the named user.
func fixtureHash(name string) string {
	names := map[string]string{"admin": "Ada Admin", "hq": "Hui Reviewer", "bos": "Beth Boston",
		"cbg": "Colin Cambridge", "bohai": "Bo Hai", "yrd": "Yang Delta", "prd": "Pearl Delta"}
	return hashOf("token of " + names[name])
}

// tokens returns the tokens of the named fixture user.
func (f *fixture) tokens(name string) []Token {
	f.tb.Helper()
	ts, err := f.st.Tokens(f.user(name))
	if err != nil {
		f.tb.Fatalf("Tokens(%s): %v", name, err)
	}
	return ts
}

// newToken has actor create a token for the named user and returns it.
func (f *fixture) newToken(actor, name string, nt NewToken) *Token {
	f.tb.Helper()
	return f.ok(actor, Command{Op: OpCreateToken, UserID: f.user(name), NewToken: &nt}).Token
}

// authenticates reports whether hash is a token of the named user that is
// neither revoked nor expired at now.
func authenticates(st *State, hash, userID string, now time.Time) bool {
	u, t, err := st.TokenByHash(hash)
	return err == nil && u.ID == userID && u.Revoked == nil && t.Active(now)
}

func TestTokenIDsAreAssignedInOrder(t *testing.T) {
	f := newFixture(t)
	for i, name := range actorNames {
		ts := f.tokens(name)
		if want := "tok-000" + string(rune('1'+i)); len(ts) != 1 || ts[0].ID != want || ts[0].Hash != fixtureHash(name) {
			t.Errorf("tokens of %s = %+v, want one, %s, with its hash", name, ts, want)
		}
	}
	a := f.newToken("bos", "bos", NewToken{Hash: hashOf("a")})
	b := f.newToken("admin", "yrd", NewToken{Hash: hashOf("b")})
	u := f.ok("admin", Command{Op: OpAddUser, NewUser: testUser("Max", NodeStaff, "MUC", "")})
	if a.ID != "tok-0008" || b.ID != "tok-0009" || u.Token.ID != "tok-0010" || u.User.ID != "user-0008" {
		t.Errorf("got tokens %s, %s, %s (user %s); want tok-0008, tok-0009, tok-0010 (user-0008)", a.ID, b.ID, u.Token.ID, u.User.ID)
	}
}

func TestCreateToken(t *testing.T) {
	long := strings.Repeat("x", MaxTokenDescription+1)
	tests := []struct {
		name  string
		actor string
		user  string // fixture name, or a literal ID
		nt    *NewToken
		want  error // nil when the token is created
		msg   string
	}{
		{"self", "bos", "bos", &NewToken{}, nil, ""},
		{"self with ttl and description", "bos", "bos", &NewToken{TTL: time.Hour, Description: "laptop"}, nil, ""},
		{"admin for another", "admin", "yrd", &NewToken{TTL: MaxTokenTTL}, nil, ""},
		{"admin for itself", "admin", "admin", &NewToken{}, nil, ""},
		{"staff for another", "bos", "cbg", &NewToken{}, ErrPermission, "ADMIN"},
		{"reviewer for another", "hq", "bos", &NewToken{}, ErrPermission, "ADMIN"},
		{"division for another", "yrd", "prd", &NewToken{}, ErrPermission, "ADMIN"},
		{"staff for an unknown user", "bos", "user-0099", &NewToken{}, ErrPermission, "ADMIN"},
		{"admin for an unknown user", "admin", "user-0099", &NewToken{}, ErrNotFound, "user-0099"},
		{"malformed user ID", "admin", "beth", &NewToken{}, ErrInvalid, "user_id"},
		{"no token", "admin", "bos", nil, ErrInvalid, "token"},
		{"negative ttl", "bos", "bos", &NewToken{TTL: -time.Second}, ErrInvalid, "ttl: must not be negative"},
		{"ttl over five years", "bos", "bos", &NewToken{TTL: MaxTokenTTL + time.Second}, ErrInvalid, "ttl: must be at most"},
		{"two-line description", "bos", "bos", &NewToken{Description: "a\nb"}, ErrInvalid, "description"},
		{"long description", "bos", "bos", &NewToken{Description: long}, ErrInvalid, "description"},
		{"hash in use", "bos", "bos", &NewToken{Hash: fixtureHash("cbg")}, ErrInvalid, "token: is already in use"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			cmd := Command{Op: OpCreateToken, UserID: f.user(tt.user), NewToken: tt.nt}
			if tt.nt != nil && tt.nt.Hash == "" {
				nt := *tt.nt
				nt.Hash = hashOf("new token")
				cmd.NewToken = &nt
			}
			if tt.want != nil {
				var res any
				assertUnchanged(t, f.st, func() { res = f.apply(tt.actor, cmd) })
				wantError(t, res, tt.want, tt.msg)
				return
			}
			res := f.ok(tt.actor, cmd)
			want := &Token{ID: "tok-0008", UserID: f.user(tt.user), Hash: cmd.NewToken.Hash, Created: clock(f.index),
				CreatedBy: f.user(tt.actor), Description: tt.nt.Description}
			if tt.nt.TTL > 0 {
				exp := clock(f.index).Add(tt.nt.TTL)
				want.Expires = &exp
			}
			if !reflect.DeepEqual(res.Token, want) {
				t.Errorf("created token = %+v\nwant %+v", res.Token, want)
			}
			if res.User == nil || res.User.ID != want.UserID {
				t.Errorf("result user = %+v, want %s", res.User, want.UserID)
			}
			now := clock(f.index)
			for _, h := range []string{cmd.NewToken.Hash, fixtureHash(tt.user)} {
				if !authenticates(f.st, h, want.UserID, now) {
					t.Errorf("token %s… of %s does not authenticate", h[:8], tt.user)
				}
			}
		})
	}
}

func TestAddUserTokenTTL(t *testing.T) {
	tests := []struct {
		name string
		ttl  time.Duration
		want error
	}{
		{"none", 0, nil},
		{"a day", 24 * time.Hour, nil},
		{"five years", MaxTokenTTL, nil},
		{"negative", -time.Nanosecond, ErrInvalid},
		{"over five years", MaxTokenTTL + time.Nanosecond, ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			nu := testUser("Max", NodeStaff, "MUC", "")
			nu.TokenTTL = tt.ttl
			if tt.want != nil {
				var res any
				assertUnchanged(t, f.st, func() { res = f.apply("admin", Command{Op: OpAddUser, NewUser: nu}) })
				wantError(t, res, tt.want, "token_ttl")
				return
			}
			res := f.ok("admin", Command{Op: OpAddUser, NewUser: nu})
			want := &Token{ID: "tok-0008", UserID: "user-0008", Hash: nu.TokenHash, Created: clock(f.index), CreatedBy: f.user("admin")}
			if tt.ttl > 0 {
				exp := clock(f.index).Add(tt.ttl)
				want.Expires = &exp
			}
			if !reflect.DeepEqual(res.Token, want) {
				t.Errorf("first token = %+v\nwant %+v", res.Token, want)
			}
			if ts, err := f.st.Tokens("user-0008"); err != nil || len(ts) != 1 || !reflect.DeepEqual(&ts[0], want) {
				t.Errorf("Tokens = %+v, %v; want [%+v]", ts, err, want)
			}
		})
	}
}

func TestTokenExpired(t *testing.T) {
	at := epoch.Add(time.Hour)
	tests := []struct {
		name    string
		expires *time.Time
		now     time.Time
		want    bool
	}{
		{"no expiry", nil, epoch.Add(100 * 365 * 24 * time.Hour), false},
		{"before", &at, at.Add(-time.Nanosecond), false},
		{"at the instant", &at, at, true},
		{"after", &at, at.Add(time.Nanosecond), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := Token{Expires: tt.expires}
			if got := tok.Expired(tt.now); got != tt.want {
				t.Errorf("Expired = %v, want %v", got, tt.want)
			}
			if got := tok.Active(tt.now); got == tt.want {
				t.Errorf("Active = %v, want %v", got, !tt.want)
			}
		})
	}
}

func TestRevokeToken(t *testing.T) {
	tests := []struct {
		name  string
		actor string
		user  string
		token string
		want  error // nil when the token is revoked
		msg   string
	}{
		{"self, one of two", "bos", "bos", "tok-0003", nil, ""},
		{"self, the new one", "bos", "bos", "tok-0008", nil, ""},
		{"admin for another", "admin", "bos", "tok-0003", nil, ""},
		{"staff its only token", "cbg", "cbg", "tok-0004", nil, ""},
		{"staff for another", "cbg", "bos", "tok-0003", ErrPermission, "ADMIN"},
		{"reviewer for another", "hq", "bos", "tok-0003", ErrPermission, "ADMIN"},
		{"staff for an unknown user", "cbg", "user-0099", "tok-0003", ErrPermission, "ADMIN"},
		{"unknown token", "admin", "bos", "tok-0099", ErrNotFound, "tok-0099"},
		{"token of another user", "admin", "bos", "tok-0004", ErrNotFound, "tok-0004"},
		{"own token under another user", "bos", "bos", "tok-0004", ErrNotFound, "tok-0004"},
		{"unknown user", "admin", "user-0099", "tok-0003", ErrNotFound, "user-0099"},
		{"malformed token ID", "admin", "bos", "token-3", ErrInvalid, "token_id"},
		{"malformed user ID", "admin", "beth", "tok-0003", ErrInvalid, "user_id"},
		{"admin its last active token", "admin", "admin", "tok-0001", ErrPrecondition, "last active"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.newToken("bos", "bos", NewToken{Hash: hashOf("second")}) // tok-0008
			cmd := Command{Op: OpRevokeToken, UserID: f.user(tt.user), TokenID: tt.token}
			if tt.want != nil {
				var res any
				assertUnchanged(t, f.st, func() { res = f.apply(tt.actor, cmd) })
				wantError(t, res, tt.want, tt.msg)
				return
			}
			before := readView(t, f.st)
			res := f.ok(tt.actor, cmd)
			if res.Token == nil || res.Token.ID != tt.token || res.Token.Revoked == nil ||
				!res.Token.Revoked.Equal(clock(f.index)) || res.Token.RevokedBy != f.user(tt.actor) {
				t.Fatalf("revoked token = %+v, want %s revoked at %s by %s", res.Token, tt.token, clock(f.index), f.user(tt.actor))
			}
			// Only that token changed: its user and the user's other
			// tokens stay as they were.
			after := readView(t, f.st)
			for _, tok := range after.Tokens[f.user(tt.user)] {
				if tok.ID == tt.token {
					if !reflect.DeepEqual(&tok, res.Token) {
						t.Errorf("stored token = %+v, want %+v", tok, res.Token)
					}
					continue
				}
				if !authenticates(f.st, tok.Hash, tok.UserID, clock(f.index)) {
					t.Errorf("other token %s stopped working", tok.ID)
				}
			}
			if !authenticates(f.st, fixtureHash("cbg"), f.user("cbg"), clock(f.index)) && tt.user != "cbg" {
				t.Errorf("another user's token stopped working")
			}
			if !reflect.DeepEqual(after.Users, before.Users) {
				t.Errorf("revoking a token changed the users:\ngot  %+v\nwant %+v", after.Users, before.Users)
			}
			if _, err := f.st.UserByTokenHash(res.Token.Hash); err == nil {
				t.Errorf("UserByTokenHash of the revoked token succeeded")
			}
		})
	}
}

// TestAdminKeepsAnActiveToken checks that an admin may revoke its own
// token only while another of its tokens works at the command's time.
func TestAdminKeepsAnActiveToken(t *testing.T) {
	f := newFixture(t)
	// Expires with the next entry: clock advances a second per index.
	short := f.newToken("admin", "admin", NewToken{Hash: hashOf("short"), TTL: time.Second})
	wantError(t, f.apply("admin", Command{Op: OpRevokeToken, UserID: f.user("admin"), TokenID: "tok-0001"}),
		ErrPrecondition, "tok-0001", "last active")
	long := f.newToken("admin", "admin", NewToken{Hash: hashOf("long")})
	f.ok("admin", Command{Op: OpRevokeToken, UserID: f.user("admin"), TokenID: "tok-0001"})
	wantError(t, f.apply("admin", Command{Op: OpRevokeToken, UserID: f.user("admin"), TokenID: long.ID}),
		ErrPrecondition, long.ID, "last active")
	// The expired one may go: it is not what keeps the admin in.
	f.ok("admin", Command{Op: OpRevokeToken, UserID: f.user("admin"), TokenID: short.ID})
}

// TestRevokeTokenTwice checks that revoking a revoked token succeeds with
// the first revocation and changes nothing, and that a retry is a replay.
func TestRevokeTokenTwice(t *testing.T) {
	f := newFixture(t)
	cmd := Command{Op: OpRevokeToken, RequestID: "revoke-3", UserID: f.user("bos"), TokenID: "tok-0003"}
	first := f.ok("admin", cmd)
	tokens := f.tokens("bos")

	again := cmd
	again.RequestID = "revoke-3-again"
	res := f.ok("bos", again)
	if res.Replayed || !reflect.DeepEqual(res.Token, first.Token) {
		t.Errorf("revoke again = %+v (replayed %v), want the first revocation %+v", res.Token, res.Replayed, first.Token)
	}
	var retry any
	assertUnchanged(t, f.st, func() { retry = f.apply("admin", cmd) })
	if r := wantResult(t, retry); !r.Replayed || !reflect.DeepEqual(r.Token, first.Token) {
		t.Errorf("retry = %+v (replayed %v), want the first result replayed", r.Token, r.Replayed)
	}
	if got := f.tokens("bos"); !reflect.DeepEqual(got, tokens) {
		t.Errorf("tokens after revoking again = %+v, want %+v", got, tokens)
	}
}

// TestCreateTokenReplay retries a create_token whose proposer drew a new
// token: the first token is returned and the second is never stored.
func TestCreateTokenReplay(t *testing.T) {
	f := newFixture(t)
	cmd := Command{Op: OpCreateToken, RequestID: "rotate-1", UserID: f.user("bos"),
		NewToken: &NewToken{Hash: hashOf("first"), TTL: time.Hour, Description: "ci"}}
	first := f.ok("bos", cmd)
	retry := cmd
	retry.NewToken = &NewToken{Hash: hashOf("second"), TTL: time.Hour, Description: "ci"}
	var res any
	assertUnchanged(t, f.st, func() { res = f.apply("bos", retry) })
	if r := wantResult(t, res); !r.Replayed || !reflect.DeepEqual(r.Token, first.Token) {
		t.Errorf("retry = %+v (replayed %v), want the first %+v replayed", r.Token, r.Replayed, first.Token)
	}
	if _, _, err := f.st.TokenByHash(hashOf("second")); err == nil {
		t.Errorf("the retry's token was stored")
	}
	other := retry
	other.NewToken = &NewToken{Hash: hashOf("third"), TTL: 2 * time.Hour, Description: "ci"}
	wantError(t, f.apply("bos", other), ErrInvalid, "request_id")
}

// TestRevokeUserRevokesTokens checks that revoking a user revokes every
// token it holds, and that no token can be added to it afterwards.
func TestRevokeUserRevokesTokens(t *testing.T) {
	f := newFixture(t)
	f.newToken("bos", "bos", NewToken{Hash: hashOf("second")})
	f.ok("bos", Command{Op: OpRevokeToken, UserID: f.user("bos"), TokenID: "tok-0008"})
	earlier := f.tokens("bos")[1]
	f.newToken("admin", "bos", NewToken{Hash: hashOf("third")})
	f.ok("admin", Command{Op: OpRevoke, UserID: f.user("bos")})
	at := clock(f.index)

	ts := f.tokens("bos")
	if len(ts) != 3 {
		t.Fatalf("bos has %d tokens, want 3", len(ts))
	}
	for _, tok := range ts {
		if tok.ID == earlier.ID {
			if !reflect.DeepEqual(tok, earlier) {
				t.Errorf("token revoked earlier = %+v, want it untouched %+v", tok, earlier)
			}
			continue
		}
		if tok.Revoked == nil || !tok.Revoked.Equal(at) || tok.RevokedBy != f.user("admin") {
			t.Errorf("token %s = revoked %v by %q, want at %s by %s", tok.ID, tok.Revoked, tok.RevokedBy, at, f.user("admin"))
		}
		if _, err := f.st.UserByTokenHash(tok.Hash); err == nil {
			t.Errorf("token %s still authenticates", tok.ID)
		}
	}
	if !authenticates(f.st, fixtureHash("cbg"), f.user("cbg"), at) {
		t.Errorf("another user's token stopped working")
	}
	var res any
	assertUnchanged(t, f.st, func() {
		res = f.apply("admin", Command{Op: OpCreateToken, UserID: f.user("bos"), NewToken: &NewToken{Hash: hashOf("fourth")}})
	})
	wantError(t, res, ErrPrecondition, "revoked")
	if r := f.ok("admin", Command{Op: OpRevokeToken, UserID: f.user("bos"), TokenID: "tok-0003"}); r.Token.Revoked == nil || !r.Token.Revoked.Equal(at) {
		t.Errorf("revoking a token of a revoked user = %+v, want the revocation at %s", r.Token, at)
	}
}

// TestActorToken checks that a command carrying the token its actor
// authenticated with is refused once that token is revoked or expired.
func TestActorToken(t *testing.T) {
	tests := []struct {
		name  string
		token string // the actor token of bos's submit
		want  error
		msg   string
	}{
		{"active", "tok-0003", nil, ""},
		{"new active one", "tok-0008", nil, ""},
		{"revoked", "tok-0009", ErrUnauthenticated, "tok-0009"},
		{"expired", "tok-0010", ErrUnauthenticated, "expired"},
		{"another user's", "tok-0004", ErrUnauthenticated, "tok-0004"},
		{"unknown", "tok-0099", ErrUnauthenticated, "tok-0099"},
		{"malformed", "3", ErrInvalid, "actor_token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.newToken("bos", "bos", NewToken{Hash: hashOf("a")}) // tok-0008
			f.newToken("bos", "bos", NewToken{Hash: hashOf("b")}) // tok-0009
			f.ok("bos", Command{Op: OpRevokeToken, UserID: f.user("bos"), TokenID: "tok-0009"})
			f.newToken("bos", "bos", NewToken{Hash: hashOf("c"), TTL: time.Second}) // tok-0010, expired at the next entry
			cmd := Command{Op: OpSubmit, Draft: validDraft(), ActorToken: tt.token}
			if tt.want != nil {
				var res any
				assertUnchanged(t, f.st, func() { res = f.apply("bos", cmd) })
				wantError(t, res, tt.want, tt.msg)
				return
			}
			f.ok("bos", cmd)
		})
	}
}

// TestRetryWithRotatedToken checks that a retry sent with another token
// of the same user (the client rotated in between) is a replay.
func TestRetryWithRotatedToken(t *testing.T) {
	f := newFixture(t)
	first := f.ok("bos", Command{Op: OpSubmit, RequestID: "s-1", Draft: validDraft(), ActorToken: "tok-0003"})
	f.newToken("bos", "bos", NewToken{Hash: hashOf("rotated")})
	f.ok("bos", Command{Op: OpRevokeToken, UserID: f.user("bos"), TokenID: "tok-0003"})
	res := f.ok("bos", Command{Op: OpSubmit, RequestID: "s-1", Draft: validDraft(), ActorToken: "tok-0008"})
	if !res.Replayed || !reflect.DeepEqual(res.Lead, first.Lead) {
		t.Errorf("retry = %+v (replayed %v), want the first %+v replayed", res.Lead, res.Replayed, first.Lead)
	}
}

// TestTokenDeterminism applies one log of token commands to two states
// and expects the same answers and the same snapshot bytes.
func TestTokenDeterminism(t *testing.T) {
	f := newFixture(t)
	var log [][]byte
	rec := func(actor string, c Command) { log = append(log, f.encode(actor, c)); f.index++ }
	rec("", Command{Op: OpBootstrap, NewUser: testUser("Ada Admin", Admin, "", "")})
	for _, name := range actorNames[1:] {
		nu := testUser(name, NodeStaff, "BOS", "")
		nu.TokenTTL = time.Duration(len(name)) * time.Hour
		rec("admin", Command{Op: OpAddUser, NewUser: nu})
	}
	for i := range 20 {
		user := []string{"user-0002", "user-0003", "user-0004"}[i%3]
		rec("admin", Command{Op: OpCreateToken, UserID: user, NewToken: &NewToken{Hash: hashOf(string(rune('a' + i))), TTL: time.Duration(i) * time.Minute}})
		rec("admin", Command{Op: OpRevokeToken, UserID: user, TokenID: "tok-" + []string{"0002", "0003", "0004", "0009", "0099"}[i%5]})
	}
	rec("admin", Command{Op: OpRevoke, UserID: "user-0003"})

	a, b := New(), New()
	for i, data := range log {
		ra, rb := a.Apply(uint64(i+1), data), b.Apply(uint64(i+1), data)
		if !reflect.DeepEqual(ra, rb) {
			t.Fatalf("entry %d: answers differ: %+v vs %+v", i+1, ra, rb)
		}
	}
	if sa, sb := snapshotBytes(t, a), snapshotBytes(t, b); !bytes.Equal(sa, sb) {
		t.Errorf("snapshots differ:\n%s\n%s", sa, sb)
	}
	if ts, err := a.Tokens("user-0002"); err != nil || len(ts) < 5 {
		t.Errorf("user-0002 has tokens %+v, %v; the log does not exercise much", ts, err)
	}
}
