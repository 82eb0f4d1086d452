package node

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"innonet/node/guard"
	innonetpb "innonet/proto/innonet/v1"
)

// anonCtx is a context without a bearer token, bounded in time.
func anonCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// invite has the admin invite a user (new when userID is empty) through
// site n and returns the answer.
func (tc *testCluster) invite(n *Node, name, userID string, ttl time.Duration) *innonetpb.InviteUserResponse {
	tc.t.Helper()
	admin := tc.clients(n, testAdminToken)
	r := &innonetpb.InviteUserRequest{RequestId: rid(), UserId: userID}
	if userID == "" {
		r.Name, r.Role, r.Site = name, innonetpb.Role_NODE_STAFF, "BOS"
	}
	if ttl != 0 {
		r.Ttl = durationpb.New(ttl)
	}
	resp, err := admin.users.InviteUser(admin.ctx(tc.t), r)
	if err != nil {
		tc.t.Fatalf("invite %s%s: %v", name, userID, err)
	}
	return resp
}

// everySite runs check against each running site until it holds there, or
// fails the test at the deadline.
func (tc *testCluster) everySite(what string, check func(n *Node) error) {
	tc.t.Helper()
	for _, id := range tc.order {
		n := tc.sites[id].node
		if n == nil {
			continue
		}
		eventually(tc.t, 20*time.Second, what+" at "+id, func() error { return check(n) })
	}
}

// TestSignIn walks a person's way in and out: invitation, password,
// session at every site, extension, sign-out refused everywhere after.
func TestSignIn(t *testing.T) {
	tc := newTestCluster(t, testVoters, testNonVoters)
	leader, follower, replica := tc.leaderNode(), tc.follower(false), tc.follower(true)
	waitFormat2(tc, leader)
	const name, password = "Sita Signin", "correct horse battery"

	inv := tc.invite(follower, name, "", 0)
	if !strings.HasPrefix(inv.Code, invitationPrefix) || len(inv.Code) != len(invitationPrefix)+64 || inv.InvitationId == "" {
		t.Fatalf("got invitation %+v", inv)
	}
	if got := time.Until(inv.ExpireTime.AsTime()); got < 71*time.Hour || got > 73*time.Hour {
		t.Errorf("invitation expires in %s, want the default 72h", got)
	}
	userID := inv.User.Id
	anon := tc.clients(replica, "")

	t.Run("the code is no bearer token", func(t *testing.T) {
		for _, n := range []*Node{leader, follower, replica} {
			c := tc.clients(n, inv.Code)
			_, err := c.users.WhoAmI(c.ctx(t), &innonetpb.WhoAmIRequest{})
			checkStatus(t, err, codes.Unauthenticated)
		}
	})
	t.Run("no sign-in before a password", func(t *testing.T) {
		_, err := anon.users.SignIn(anonCtx(t), &innonetpb.SignInRequest{RequestId: rid(), Name: name, Password: password})
		checkStatus(t, err, codes.Unauthenticated, "wrong name or password")
	})
	t.Run("password policy", func(t *testing.T) {
		for _, pw := range []string{"", "short", name, strings.ToUpper(name), strings.Repeat("x", 12), strings.Repeat("p", 257)} {
			_, err := anon.users.AcceptInvitation(anonCtx(t), &innonetpb.AcceptInvitationRequest{RequestId: rid(), Code: inv.Code, Password: pw})
			checkStatus(t, err, codes.InvalidArgument, "password")
		}
	})
	accepted, err := anon.users.AcceptInvitation(anonCtx(t), &innonetpb.AcceptInvitationRequest{RequestId: rid(), Code: inv.Code, Password: password})
	if err != nil {
		t.Fatalf("accept: %v", err)
	}
	if accepted.Id != userID || accepted.PasswordSetTime == nil {
		t.Errorf("accepted: %+v", accepted)
	}
	t.Run("the code is one-time", func(t *testing.T) {
		_, err := anon.users.AcceptInvitation(anonCtx(t), &innonetpb.AcceptInvitationRequest{RequestId: rid(), Code: inv.Code, Password: "another good one"})
		checkStatus(t, err, codes.Unauthenticated, "expired or was already used")
		_, err = anon.users.AcceptInvitation(anonCtx(t), &innonetpb.AcceptInvitationRequest{RequestId: rid(), Code: newInvitationCode(), Password: "another good one"})
		checkStatus(t, err, codes.Unauthenticated, "expired or was already used")
	})
	t.Run("no request ID needed", func(t *testing.T) {
		in, err := anon.users.SignIn(anonCtx(t), &innonetpb.SignInRequest{Name: name, Password: password})
		if err != nil || in.Token == "" {
			t.Fatalf("sign in without a request ID: %v", err)
		}
	})
	t.Run("wrong name or password", func(t *testing.T) {
		for _, r := range []*innonetpb.SignInRequest{{Name: name, Password: "not the password"}, {Name: "Nobody", Password: password}} {
			r.RequestId = rid()
			_, err := anon.users.SignIn(anonCtx(t), r)
			checkStatus(t, err, codes.Unauthenticated, "wrong name or password")
		}
	})

	in, err := tc.clients(follower, "").users.SignIn(anonCtx(t), &innonetpb.SignInRequest{RequestId: rid(), Name: " sita signin", Password: password})
	if err != nil {
		t.Fatalf("sign in: %v", err)
	}
	session := in.Token
	if in.User.Id != userID || in.TokenInfo.Kind != innonetpb.TokenKind_SESSION || session == "" {
		t.Fatalf("signed in: %+v", in)
	}
	if got := time.Until(in.TokenInfo.ExpireTime.AsTime()); got < 11*time.Hour || got > 13*time.Hour {
		t.Errorf("session expires in %s, want 12h", got)
	}
	tc.everySite("the session token works", func(n *Node) error {
		c := tc.clients(n, session)
		u, err := c.users.WhoAmI(c.ctx(t), &innonetpb.WhoAmIRequest{})
		if err != nil {
			return err
		}
		if u.Id != userID {
			return fmt.Errorf("got user %s", u.Id)
		}
		_, err = c.leads.ListLeads(c.ctx(t), &innonetpb.ListLeadsRequest{})
		return err
	})

	sc := tc.clients(replica, session)
	ext, err := sc.users.ExtendSession(sc.ctx(t), &innonetpb.ExtendSessionRequest{RequestId: rid()})
	if err != nil {
		t.Fatalf("extend: %v", err)
	}
	if !ext.ExpireTime.AsTime().After(in.TokenInfo.ExpireTime.AsTime()) {
		t.Errorf("extended to %s, not past %s", ext.ExpireTime.AsTime(), in.TokenInfo.ExpireTime.AsTime())
	}
	t.Run("API tokens are no sessions", func(t *testing.T) {
		admin := tc.clients(follower, testAdminToken)
		_, err := admin.users.ExtendSession(admin.ctx(t), &innonetpb.ExtendSessionRequest{RequestId: rid()})
		checkStatus(t, err, codes.FailedPrecondition, "API token")
		_, err = admin.users.SignOut(admin.ctx(t), &innonetpb.SignOutRequest{RequestId: rid()})
		checkStatus(t, err, codes.FailedPrecondition, "use RevokeToken for API tokens")
	})

	out, err := tc.clients(follower, session).users.SignOut(sc.ctx(t), &innonetpb.SignOutRequest{RequestId: rid()})
	if err != nil {
		t.Fatalf("sign out: %v", err)
	}
	if out.State != innonetpb.TokenState_REVOKED {
		t.Errorf("signed out: %+v", out)
	}
	tc.everySite("the session token refused", func(n *Node) error {
		c := tc.clients(n, session)
		_, err := c.users.WhoAmI(c.ctx(t), &innonetpb.WhoAmIRequest{})
		if status.Code(err) != codes.Unauthenticated {
			return fmt.Errorf("got %v, want UNAUTHENTICATED", err)
		}
		return nil
	})

	t.Run("re-invitation resets the password", func(t *testing.T) {
		again := tc.invite(leader, "", userID, time.Hour)
		if again.User.Id != userID {
			t.Fatalf("re-invited %+v", again.User)
		}
		if _, err := anon.users.AcceptInvitation(anonCtx(t), &innonetpb.AcceptInvitationRequest{RequestId: rid(), Code: again.Code, Password: "a brand new secret"}); err != nil {
			t.Fatal(err)
		}
		_, err := anon.users.SignIn(anonCtx(t), &innonetpb.SignInRequest{RequestId: rid(), Name: name, Password: password})
		checkStatus(t, err, codes.Unauthenticated, "wrong name or password")
		if _, err := anon.users.SignIn(anonCtx(t), &innonetpb.SignInRequest{RequestId: rid(), Name: name, Password: "a brand new secret"}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("an expired invitation is refused", func(t *testing.T) {
		short := tc.invite(leader, "", userID, time.Millisecond)
		eventually(t, 10*time.Second, "the invitation to expire", func() error {
			if time.Now().Before(short.ExpireTime.AsTime()) {
				return fmt.Errorf("not yet")
			}
			return nil
		})
		_, err := anon.users.AcceptInvitation(anonCtx(t), &innonetpb.AcceptInvitationRequest{RequestId: rid(), Code: short.Code, Password: "yet another secret"})
		checkStatus(t, err, codes.Unauthenticated, "expired or was already used")
	})
	t.Run("a revoked user cannot sign in", func(t *testing.T) {
		admin := tc.clients(leader, testAdminToken)
		if _, err := admin.users.RevokeUser(admin.ctx(t), &innonetpb.RevokeUserRequest{RequestId: rid(), Id: userID}); err != nil {
			t.Fatal(err)
		}
		_, err := anon.users.SignIn(anonCtx(t), &innonetpb.SignInRequest{RequestId: rid(), Name: name, Password: "a brand new secret"})
		checkStatus(t, err, codes.Unauthenticated, "wrong name or password")
	})
}

// TestSignInThrottled: failed sign-ins and bad invitation codes count as
// failed authentications of the client's address at the site that took
// them, as wrong tokens do, and block it.
func TestSignInThrottled(t *testing.T) {
	const failures = 3
	tc := newTestCluster(t, []string{"CGO"}, []string{"YRD"}, withLimits(func(l *Limits) {
		l.AuthFailures, l.AuthWindow, l.AuthCooldown, l.AuthMaxCooldown = failures, time.Minute, time.Minute, 4*time.Minute
	}))
	leader, follower := tc.node("CGO"), tc.node("YRD")
	waitFormat2(tc, leader)
	inv := tc.invite(leader, "Tom Throttled", "", 0)
	tc.waitFor("the invitation on YRD", func() bool { _, err := follower.State().InvitationByHash(HashToken(inv.Code)); return err == nil })
	if _, err := tc.clients(leader, "").users.AcceptInvitation(anonCtx(t), &innonetpb.AcceptInvitationRequest{RequestId: rid(), Code: inv.Code, Password: "the right password"}); err != nil {
		t.Fatal(err)
	}

	c := tc.clientsFrom(follower, attackerIP, "")
	for i := 0; i < failures-1; i++ {
		_, err := c.users.SignIn(anonCtx(t), &innonetpb.SignInRequest{RequestId: rid(), Name: "Tom Throttled", Password: fmt.Sprintf("guess number %d", i)})
		checkStatus(t, err, codes.Unauthenticated, "wrong name or password")
	}
	_, err := c.users.AcceptInvitation(anonCtx(t), &innonetpb.AcceptInvitationRequest{RequestId: rid(), Code: newInvitationCode(), Password: "whatever it is"})
	checkStatus(t, err, codes.Unauthenticated, "expired or was already used")

	_, err = c.users.SignIn(anonCtx(t), &innonetpb.SignInRequest{RequestId: rid(), Name: "Tom Throttled", Password: "the right password"})
	checkStatus(t, err, codes.ResourceExhausted, "too many failed authentications from "+attackerIP)
	if _, err := tc.clients(follower, "").users.SignIn(anonCtx(t), &innonetpb.SignInRequest{RequestId: rid(), Name: "Tom Throttled", Password: "the right password"}); err != nil {
		t.Errorf("another address: %v", err)
	}
	text, recs := securityLines(t, follower)
	checkNoSecrets(t, text, "the right password", "guess number 0", inv.Code)
	if got := countKind(recs, guard.Unauthenticated, attackerIP); got != failures {
		t.Errorf("got %d unauthenticated events from %s, want %d:\n%s", got, attackerIP, failures, text)
	}
}

// TestSignInREST takes the web console's way: the REST paths of the
// contract, with JSON bodies, through a follower.
func TestSignInREST(t *testing.T) {
	tc := newTestCluster(t, []string{"CGO", "BOS", "CBG"}, nil)
	waitFormat2(tc, tc.leaderNode())
	rc := newRESTClient(tc.follower(false))

	inv := rc.ok(t, "POST", "/v1/invitations", testAdminToken, map[string]any{"requestId": rid(), "name": "Rita Rest",
		"role": "HQ_REVIEWER", "ttl": "3600s"})
	code := field(inv, "code")
	if !strings.HasPrefix(code, "inv_") || field(inv, "invitationId") == "" || field(inv, "expireTime") == "" {
		t.Fatalf("POST /v1/invitations: %v", inv)
	}
	if st, out := rc.do(t, "POST", "/v1/invitations:accept", "", map[string]any{"code": code, "password": "rita"}); st != 400 ||
		!strings.Contains(field(out, "message"), "password") {
		t.Errorf("a short password: got %d %v, want 400 naming the password", st, out)
	}
	user := rc.ok(t, "POST", "/v1/invitations:accept", "", map[string]any{"requestId": rid(), "code": code, "password": "rita's own secret"})
	if field(user, "passwordSetTime") == "" || field(user, "passwordHash") != "" {
		t.Errorf("accepted: %v", user)
	}
	if st, out := rc.do(t, "POST", "/v1/sessions", "", map[string]any{"name": "Rita Rest", "password": "wrong one!"}); st != 401 ||
		field(out, "message") != "wrong name or password" {
		t.Errorf("a wrong password: got %d %v, want 401", st, out)
	}
	in := rc.ok(t, "POST", "/v1/sessions", "", map[string]any{"requestId": rid(), "name": "Rita Rest", "password": "rita's own secret"})
	token := field(in, "token")
	if info, _ := in["tokenInfo"].(map[string]any); token == "" || field(info, "kind") != "SESSION" {
		t.Fatalf("POST /v1/sessions: %v", in)
	}
	if me := rc.ok(t, "GET", "/v1/me", token, nil); field(me, "name") != "Rita Rest" {
		t.Errorf("GET /v1/me: %v", me)
	}
	if ext := rc.ok(t, "POST", "/v1/sessions:extend", token, map[string]any{}); field(ext, "state") != "ACTIVE" {
		t.Errorf("extend: %v", ext)
	}
	if out := rc.ok(t, "POST", "/v1/sessions:signout", token, map[string]any{}); field(out, "state") != "REVOKED" {
		t.Errorf("sign out: %v", out)
	}
	if st, _ := rc.do(t, "GET", "/v1/me", token, nil); st != 401 {
		t.Errorf("GET /v1/me after signing out: got %d, want 401", st)
	}
	if st, out := rc.do(t, "POST", "/v1/sessions:signout", testAdminToken, map[string]any{}); st != 400 ||
		!strings.Contains(field(out, "message"), "use RevokeToken for API tokens") {
		t.Errorf("signing out an API token: got %d %v, want 400 (FAILED_PRECONDITION)", st, out)
	}
}
