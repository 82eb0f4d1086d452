package pipeline

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"
)

// phc is a password hash of the form the API layer writes; n tells
// hashes apart.
func phc(n int) string {
	return fmt.Sprintf("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$%s", strings.Repeat(string(rune('A'+n%26)), 43))
}

// accounts is a fixture at log format 2, where invitations are taken.
func accounts(t *testing.T) *fixture {
	t.Helper()
	f := newFixture(t)
	f.raise()
	return f
}

func (f *fixture) invite(nu *NewUser, userID, code string, ttl time.Duration) any {
	f.tb.Helper()
	return f.apply("admin", Command{Op: OpInviteUser, NewUser: nu, UserID: userID,
		Invitation: &NewInvitation{Hash: hashOf(code), TTL: ttl}})
}

func (f *fixture) accept(userID, code string, pw int) any {
	f.tb.Helper()
	return f.apply(userID, Command{Op: OpAcceptInvitation, Credentials: &Credentials{Invitation: hashOf(code), Password: phc(pw)}})
}

func (f *fixture) signIn(userID, token string, pw int) any {
	f.tb.Helper()
	return f.apply(userID, Command{Op: OpSignIn, Credentials: &Credentials{Password: phc(pw)},
		NewToken: &NewToken{Hash: hashOf(token), TTL: DefaultSessionTTL}})
}

func newStaff(name string) *NewUser {
	return &NewUser{Name: name, Role: NodeStaff, Site: "BOS"}
}

func TestInviteAcceptSignIn(t *testing.T) {
	f := accounts(t)
	res := wantResult(t, f.invite(newStaff("Ivy Invited"), "", "code-1", 72*time.Hour))
	u, inv := res.User, res.Invitation
	if inv == nil || inv.ID != "inv-0001" || inv.UserID != u.ID || inv.Hash != hashOf("code-1") {
		t.Fatalf("got invitation %+v of user %+v", inv, u)
	}
	if want := clock(f.index).Add(72 * time.Hour); !inv.Expires.Equal(want) {
		t.Errorf("got expiry %s, want %s (command time + ttl)", inv.Expires, want)
	}
	if ts, _ := f.st.Tokens(u.ID); len(ts) != 0 {
		t.Errorf("an invited user got tokens %+v", ts)
	}
	if _, _, err := f.st.TokenByHash(hashOf("code-1")); err == nil {
		t.Error("an invitation code authenticates as a token")
	}
	// No password yet: no sign-in.
	wantError(t, f.signIn(u.ID, "s0", 1), ErrUnauthenticated, MsgWrongPassword)

	acc := wantResult(t, f.accept(u.ID, "code-1", 1))
	if acc.User.PasswordHash != phc(1) || acc.User.PasswordSet == nil || acc.Invitation.Used == nil {
		t.Errorf("after accepting: user %+v, invitation %+v", acc.User, acc.Invitation)
	}
	wantError(t, f.accept(u.ID, "code-1", 2), ErrUnauthenticated, "expired or was already used")

	wantError(t, f.signIn(u.ID, "s1", 2), ErrUnauthenticated, MsgWrongPassword)
	s := wantResult(t, f.signIn(u.ID, "s1", 1)).Token
	if !s.Session() || s.SessionTTL != DefaultSessionTTL || s.Expires == nil || !s.Expires.Equal(clock(f.index).Add(DefaultSessionTTL)) {
		t.Errorf("got session token %+v", s)
	}
	if !authenticates(f.st, hashOf("s1"), u.ID, clock(f.index)) {
		t.Error("the session token does not authenticate")
	}

	// Extending slides the expiry from the command's time.
	ext := wantResult(t, f.apply(u.ID, Command{Op: OpExtendSession, TokenID: s.ID, ActorToken: s.ID,
		Time: clock(f.index + 1).Add(time.Hour).UnixNano()})).Token
	if want := clock(f.index).Add(time.Hour + DefaultSessionTTL); !ext.Expires.Equal(want) {
		t.Errorf("extended to %s, want %s", ext.Expires, want)
	}
	// ... never past the session's lifetime.
	late := s.Created.Add(MaxSessionLifetime - time.Hour)
	for at := s.Created.Add(10 * time.Hour); at.Before(late); at = at.Add(10 * time.Hour) {
		f.ok(u.ID, Command{Op: OpExtendSession, TokenID: s.ID, ActorToken: s.ID, Time: at.UnixNano()})
	}
	capped := wantResult(t, f.apply(u.ID, Command{Op: OpExtendSession, TokenID: s.ID, Time: late.UnixNano()})).Token
	if want := s.Created.Add(MaxSessionLifetime); !capped.Expires.Equal(want) {
		t.Errorf("extended to %s, want the cap %s", capped.Expires, want)
	}
	// An API token does not slide.
	bos := f.tokens("bos")[0]
	wantError(t, f.apply("bos", Command{Op: OpExtendSession, TokenID: bos.ID}), ErrPrecondition, "API token")
	wantError(t, f.apply("bos", Command{Op: OpExtendSession, TokenID: s.ID}), ErrNotFound)

	// Signing out is revoking the session token.
	out := wantResult(t, f.apply(u.ID, Command{Op: OpRevokeToken, UserID: u.ID, TokenID: s.ID, ActorToken: s.ID})).Token
	if out.Revoked == nil {
		t.Errorf("signed out, the token is %+v", out)
	}
	wantError(t, f.apply(u.ID, Command{Op: OpExtendSession, TokenID: s.ID}), ErrUnauthenticated)
}

func TestInvitationRules(t *testing.T) {
	f := accounts(t)
	u := wantResult(t, f.invite(newStaff("Ivy Invited"), "", "old", time.Hour)).User

	// Expired.
	wantError(t, f.apply(u.ID, Command{Op: OpAcceptInvitation, Time: clock(f.index).Add(2 * time.Hour).UnixNano(),
		Credentials: &Credentials{Invitation: hashOf("old"), Password: phc(1)}}), ErrUnauthenticated, "expired")
	// Someone else's code.
	wantError(t, f.accept(f.user("bos"), "old", 1), ErrUnauthenticated, "expired")
	// Unknown.
	wantError(t, f.accept(u.ID, "never made", 1), ErrUnauthenticated, "expired")

	// A new invitation supersedes the old one.
	f.ok("admin", Command{Op: OpInviteUser, UserID: u.ID, Invitation: &NewInvitation{Hash: hashOf("new"), TTL: 48 * time.Hour}})
	wantError(t, f.accept(u.ID, "old", 1), ErrUnauthenticated, "expired")
	f.ok(u.ID, Command{Op: OpAcceptInvitation, Credentials: &Credentials{Invitation: hashOf("new"), Password: phc(1)}})

	// A re-invitation resets the password and ends the sessions of the old one.
	s := wantResult(t, f.signIn(u.ID, "s1", 1)).Token
	f.ok("admin", Command{Op: OpInviteUser, UserID: u.ID, Invitation: &NewInvitation{Hash: hashOf("reset"), TTL: time.Hour}})
	wantResult(t, f.signIn(u.ID, "s2", 1)) // the old password works until the reset is accepted
	f.ok(u.ID, Command{Op: OpAcceptInvitation, Credentials: &Credentials{Invitation: hashOf("reset"), Password: phc(2)}})
	wantError(t, f.signIn(u.ID, "s3", 1), ErrUnauthenticated, MsgWrongPassword)
	wantResult(t, f.signIn(u.ID, "s4", 2))
	if authenticates(f.st, hashOf("s1"), u.ID, clock(f.index)) || authenticates(f.st, hashOf("s2"), u.ID, clock(f.index)) {
		t.Error("sessions of the old password survived the reset")
	}
	_ = s

	// A revoked user can neither be invited again nor sign in.
	f.ok("admin", Command{Op: OpRevoke, UserID: u.ID})
	wantError(t, f.signIn(u.ID, "s5", 2), ErrUnauthenticated)
	wantError(t, f.invite(nil, u.ID, "again", time.Hour), ErrPrecondition, "revoked")

	// Only admins invite; names stay unique among active users.
	wantError(t, f.apply("hq", Command{Op: OpInviteUser, NewUser: newStaff("Hal"), Invitation: &NewInvitation{Hash: hashOf("x"), TTL: time.Hour}}), ErrPermission)
	wantError(t, f.invite(newStaff("beth boston"), "", "dup", time.Hour), ErrPrecondition, "already called")
	wantError(t, f.invite(newStaff("Nobody"), "", "new", time.Hour), ErrInvalid, "code")
	wantError(t, f.invite(nil, "user-0999", "x2", time.Hour), ErrNotFound)
}

func TestAdminMaySignOutItsLastSession(t *testing.T) {
	f := accounts(t)
	admin := f.user("admin")
	f.ok("admin", Command{Op: OpInviteUser, UserID: admin, Invitation: &NewInvitation{Hash: hashOf("a"), TTL: time.Hour}})
	f.ok("admin", Command{Op: OpAcceptInvitation, Credentials: &Credentials{Invitation: hashOf("a"), Password: phc(3)}})
	s := wantResult(t, f.signIn(admin, "s", 3)).Token
	// A session does not count as the admin's way back in...
	wantError(t, f.apply("admin", Command{Op: OpRevokeToken, UserID: admin, TokenID: "tok-0001"}), ErrPrecondition, "last active")
	// ...and signing out is always allowed.
	f.ok("admin", Command{Op: OpRevokeToken, UserID: admin, TokenID: s.ID, ActorToken: s.ID})
}

func TestAccountsValidation(t *testing.T) {
	inv := &NewInvitation{Hash: hashOf("c"), TTL: time.Hour}
	cred := &Credentials{Invitation: hashOf("c"), Password: phc(1)}
	tests := []struct {
		name  string
		cmd   Command
		field string // "" when valid
	}{
		{"invite new", Command{Op: OpInviteUser, NewUser: newStaff("N"), Invitation: inv}, ""},
		{"invite existing", Command{Op: OpInviteUser, UserID: "user-0002", Invitation: inv}, ""},
		{"invite both", Command{Op: OpInviteUser, NewUser: newStaff("N"), UserID: "user-0002", Invitation: inv}, "user_id"},
		{"invite neither", Command{Op: OpInviteUser, Invitation: inv}, "name"},
		{"invite with token", Command{Op: OpInviteUser, NewUser: testUser("N", NodeStaff, "BOS", ""), Invitation: inv}, "token"},
		{"invite bad id", Command{Op: OpInviteUser, UserID: "bob", Invitation: inv}, "user_id"},
		{"invite no code", Command{Op: OpInviteUser, UserID: "user-0002"}, "invitation"},
		{"invite bad code", Command{Op: OpInviteUser, UserID: "user-0002", Invitation: &NewInvitation{Hash: "XY", TTL: time.Hour}}, "code"},
		{"invite no ttl", Command{Op: OpInviteUser, UserID: "user-0002", Invitation: &NewInvitation{Hash: hashOf("c")}}, "ttl"},
		{"invite long ttl", Command{Op: OpInviteUser, UserID: "user-0002", Invitation: &NewInvitation{Hash: hashOf("c"), TTL: MaxInvitationTTL + 1}}, "ttl"},
		{"invite bad role", Command{Op: OpInviteUser, NewUser: &NewUser{Name: "N"}, Invitation: inv}, "role"},
		{"accept", Command{Op: OpAcceptInvitation, Credentials: cred}, ""},
		{"accept nothing", Command{Op: OpAcceptInvitation}, "credentials"},
		{"accept plain password", Command{Op: OpAcceptInvitation, Credentials: &Credentials{Invitation: hashOf("c"), Password: "hunter2hunter2"}}, "password"},
		{"accept bad code", Command{Op: OpAcceptInvitation, Credentials: &Credentials{Invitation: "inv_x", Password: phc(1)}}, "code"},
		{"sign in", Command{Op: OpSignIn, Credentials: &Credentials{Password: phc(1)}, NewToken: &NewToken{Hash: hashOf("t"), TTL: time.Hour}}, ""},
		{"sign in with code", Command{Op: OpSignIn, Credentials: cred, NewToken: &NewToken{Hash: hashOf("t"), TTL: time.Hour}}, "code"},
		{"sign in no token", Command{Op: OpSignIn, Credentials: &Credentials{Password: phc(1)}}, "token"},
		{"sign in endless", Command{Op: OpSignIn, Credentials: &Credentials{Password: phc(1)}, NewToken: &NewToken{Hash: hashOf("t")}}, "ttl"},
		{"extend", Command{Op: OpExtendSession, TokenID: "tok-0001"}, ""},
		{"extend bad id", Command{Op: OpExtendSession, TokenID: "x"}, "token_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cmd.RequestID = "r1"
			err := tt.cmd.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("got %v, want valid", err)
				}
				if tt.cmd.Format() != Format2 {
					t.Errorf("got format %d, want 2", tt.cmd.Format())
				}
				return
			}
			wantInvalid(t, err, tt.field)
		})
	}
}

func TestAccountsRefusedAtFormat1(t *testing.T) {
	f := newFixture(t)
	wantError(t, f.invite(newStaff("Ivy"), "", "c", time.Hour), ErrPrecondition, "log format 2")
}

func TestAccountsNothingChangedOnRefusal(t *testing.T) {
	f := accounts(t)
	u := wantResult(t, f.invite(newStaff("Ivy Invited"), "", "c", time.Hour)).User
	assertUnchanged(t, f.st, func() {
		wantError(t, f.accept(u.ID, "wrong", 1), ErrUnauthenticated)
		wantError(t, f.signIn(u.ID, "s", 1), ErrUnauthenticated)
		wantError(t, f.invite(newStaff("Ivy Invited"), "", "c2", time.Hour), ErrPrecondition)
	})
}

func TestAccountsSnapshotRoundTrip(t *testing.T) {
	f := accounts(t)
	u := wantResult(t, f.invite(newStaff("Ivy Invited"), "", "c", time.Hour)).User
	f.ok(u.ID, Command{Op: OpAcceptInvitation, Credentials: &Credentials{Invitation: hashOf("c"), Password: phc(1)}})
	wantResult(t, f.signIn(u.ID, "s", 1))
	f.ok("admin", Command{Op: OpInviteUser, UserID: u.ID, Invitation: &NewInvitation{Hash: hashOf("c2"), TTL: time.Hour}})
	snap := snapshotBytes(t, f.st)
	st := New()
	if err := st.Restore(bytes.NewReader(snap)); err != nil {
		t.Fatal(err)
	}
	if got := snapshotBytes(t, st); !bytes.Equal(got, snap) {
		t.Errorf("snapshot changed in a round trip:\ngot  %s\nwant %s", got, snap)
	}
	if inv, err := st.InvitationByHash(hashOf("c2")); err != nil || !inv.Usable(clock(f.index)) {
		t.Errorf("restored invitation: %+v, %v", inv, err)
	}
	if _, tok, err := st.TokenByHash(hashOf("s")); err != nil || !tok.Session() || tok.SessionTTL != DefaultSessionTTL {
		t.Errorf("restored session: %+v, %v", tok, err)
	}
	if users, _ := st.UsersByName(" ivy invited "); len(users) != 1 || users[0].PasswordHash != phc(1) {
		t.Errorf("restored user: %+v", users)
	}
}

func TestAccountsReplay(t *testing.T) {
	f := accounts(t)
	cmd := Command{Op: OpInviteUser, RequestID: "inv-1", NewUser: newStaff("Ivy Invited"), Invitation: &NewInvitation{Hash: hashOf("c"), TTL: time.Hour}}
	first := f.ok("admin", cmd)
	cmd.Invitation = &NewInvitation{Hash: hashOf("c-retry"), TTL: time.Hour}
	again := f.ok("admin", cmd)
	if !again.Replayed || again.Invitation == nil || again.Invitation.ID != first.Invitation.ID || again.User.ID != first.User.ID {
		t.Errorf("retry: got %+v, want a replay of %+v", again, first)
	}
	acc := Command{Op: OpAcceptInvitation, RequestID: "acc-1", Credentials: &Credentials{Invitation: hashOf("c"), Password: phc(1)}}
	f.ok(first.User.ID, acc)
	acc.Credentials = &Credentials{Invitation: hashOf("c"), Password: phc(2)} // another salt
	if r := f.ok(first.User.ID, acc); !r.Replayed {
		t.Errorf("a retried acceptance: %+v, want a replay", r)
	}
}
