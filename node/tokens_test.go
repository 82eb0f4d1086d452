package node

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	innonetpb "innonet/proto/innonet/v1"
)

// whoami returns the ID of the user token belongs to, asking site n.
func (tc *testCluster) whoami(n *Node, token string) string {
	tc.t.Helper()
	c := tc.clients(n, token)
	u, err := c.users.WhoAmI(c.ctx(tc.t), &innonetpb.WhoAmIRequest{})
	if err != nil {
		tc.t.Fatalf("who am I: %v", err)
	}
	return u.Id
}

// tokenAccepted reports why a STALE read with token on site id fails, or
// nil when it succeeds. A STALE read authenticates against the site's own
// copy of the state.
func (tc *testCluster) tokenAccepted(t *testing.T, id, token, lead string) error {
	t.Helper()
	c := tc.clients(tc.node(id), token)
	_, err := staleGet(c.ctx(t), c, lead)
	return err
}

// waitRefused polls every site until it refuses token with UNAUTHENTICATED
// and a message containing msg.
func (tc *testCluster) waitRefused(t *testing.T, token, lead, msg string) {
	t.Helper()
	for _, id := range tc.order {
		eventually(t, 10*time.Second, id+" refusing the token", func() error {
			err := tc.tokenAccepted(t, id, token, lead)
			if err == nil {
				return fmt.Errorf("STALE read on %s still allowed", id)
			}
			if st, _ := status.FromError(err); st.Code() != codes.Unauthenticated || !strings.Contains(st.Message(), msg) {
				return fmt.Errorf("STALE read on %s: got %v, want %s with %q", id, err, codes.Unauthenticated, msg)
			}
			return nil
		})
	}
}

// tokenByID finds a token in a ListTokens answer.
func tokenByID(tokens []*innonetpb.Token, id string) *innonetpb.Token {
	for _, t := range tokens {
		if t.Id == id {
			return t
		}
	}
	return nil
}

// TestTokenRotation rotates a user's token without downtime: the new
// token works on every site while the old one still does, then the old
// one is revoked and every site refuses it as soon as it has applied the
// revocation, while the new one keeps working.
func TestTokenRotation(t *testing.T) {
	tc := newTestCluster(t, testVoters, testNonVoters)
	old := tc.addUser("Alice", innonetpb.Role_NODE_STAFF, "BOS", "")
	leader, follower, replica := tc.leaderNode(), tc.follower(false), tc.follower(true)
	self := tc.whoami(leader, old)
	sc := tc.clients(follower, old)
	lead, err := sc.leads.SubmitLead(sc.ctx(t), sampleLead("Future-chain lab"))
	if err != nil {
		t.Fatalf("submit: %v", err)
	}

	// 1. The user creates a second token for itself, through a follower.
	req := &innonetpb.CreateTokenRequest{UserId: self, RequestId: rid(), Ttl: durationpb.New(90 * 24 * time.Hour), Description: "laptop"}
	created, err := sc.users.CreateToken(sc.ctx(t), req)
	if err != nil {
		t.Fatalf("create token: %v", err)
	}
	fresh, info := created.Token, created.TokenInfo
	if !strings.HasPrefix(fresh, "inn_") || len(fresh) != 68 || info.GetUserId() != self || info.GetCreatedBy() != self ||
		info.GetDescription() != "laptop" || info.GetState() != innonetpb.TokenState_ACTIVE {
		t.Fatalf("create token: got %v, want a fresh inn_ token of %s, ACTIVE, described", created, self)
	}
	if got, want := info.ExpireTime.AsTime().Sub(info.CreateTime.AsTime()), 90*24*time.Hour; got != want {
		t.Errorf("got expire time %s after the create time, want %s", got, want)
	}

	t.Run("retry shows no token", func(t *testing.T) {
		again, err := sc.users.CreateToken(sc.ctx(t), req)
		if err != nil {
			t.Fatal(err)
		}
		if again.Token != "" || !proto.Equal(again.TokenInfo, info) {
			t.Errorf("retry: got %v, want no token and the first metadata %v", again, info)
		}
	})

	t.Run("both tokens work on every site", func(t *testing.T) {
		for _, id := range tc.order {
			eventually(t, 10*time.Second, "the new token accepted by "+id, func() error {
				return tc.tokenAccepted(t, id, fresh, lead.Id)
			})
			if err := tc.tokenAccepted(t, id, old, lead.Id); err != nil {
				t.Errorf("old token on %s during the overlap: %v", id, err)
			}
		}
	})

	var oldID string
	t.Run("list shows metadata only", func(t *testing.T) {
		c := tc.clients(replica, fresh)
		list, err := c.users.ListTokens(c.ctx(t), &innonetpb.ListTokensRequest{UserId: self})
		if err != nil {
			t.Fatal(err)
		}
		if len(list.Tokens) != 2 || list.Tokens[1].Id != info.Id || list.Read.GetConsistency() != innonetpb.Consistency_LEADER {
			t.Fatalf("list tokens: got %v, want two (the new one last) read from the leader", list)
		}
		oldID = list.Tokens[0].Id
		for _, tok := range list.Tokens {
			if tok.State != innonetpb.TokenState_ACTIVE {
				t.Errorf("token %s: got state %s, want ACTIVE", tok.Id, tok.State)
			}
		}
		// A STALE read is answered by the replica once its copy knows the
		// token (until then it sends the caller to the leader).
		eventually(t, 10*time.Second, "the replica's copy has the new token", func() error {
			_, _, err := replica.State().TokenByHash(HashToken(fresh))
			return err
		})
		body := newRESTClient(replica).ok(t, "GET", "/v1/users/"+self+"/tokens?consistency=STALE", fresh, nil)
		raw, _ := json.Marshal(body)
		for _, secret := range []string{old, fresh, HashToken(old), HashToken(fresh)} {
			if strings.Contains(string(raw), secret) {
				t.Errorf("GET /v1/users/%s/tokens shows a token or its hash: %s", self, raw)
			}
		}
		if read, _ := body["read"].(map[string]any); field(read, "site") != replica.Site() {
			t.Errorf("STALE list: got read info %v, want site %s", body["read"], replica.Site())
		}
	})

	// 2. With the new token, the user revokes the old one over REST
	// through the read replica.
	out := newRESTClient(replica).ok(t, "DELETE", "/v1/users/"+self+"/tokens/"+oldID, fresh, nil)
	if field(out, "id") != oldID || field(out, "state") != "REVOKED" || field(out, "revokedBy") != self || field(out, "revokeTime") == "" {
		t.Fatalf("revoke the old token: got %v, want %s REVOKED by %s", out, oldID, self)
	}

	t.Run("old token refused on every site, new one works", func(t *testing.T) {
		tc.waitRefused(t, old, lead.Id, "invalid token")
		for _, id := range tc.order {
			if err := tc.tokenAccepted(t, id, fresh, lead.Id); err != nil {
				t.Errorf("new token on %s after the revocation: %v", id, err)
			}
			c := tc.clients(tc.node(id), old)
			_, err := c.leads.SubmitLead(c.ctx(t), sampleLead("After the revocation"))
			checkStatus(t, err, codes.Unauthenticated, "invalid token")
		}
	})

	t.Run("revoking again changes nothing", func(t *testing.T) {
		for i := range 2 {
			again := newRESTClient(follower).ok(t, "DELETE", "/v1/users/"+self+"/tokens/"+oldID, testAdminToken, nil)
			if field(again, "revokeTime") != field(out, "revokeTime") || field(again, "revokedBy") != self {
				t.Errorf("revoke %d again: got %v, want the first revocation %v", i+1, again, out)
			}
		}
	})
}

// TestTokenExpiry checks that tokens stop working on every site once
// their time to live has passed, by each site's clock.
func TestTokenExpiry(t *testing.T) {
	tc := newTestCluster(t, testVoters, testNonVoters)
	leader := tc.leaderNode()
	staff := tc.addUser("Alice", innonetpb.Role_NODE_STAFF, "BOS", "")
	self := tc.whoami(leader, staff)
	sc := tc.clients(leader, staff)
	lead, err := sc.leads.SubmitLead(sc.ctx(t), sampleLead("Immunosuppressant"))
	if err != nil {
		t.Fatalf("submit: %v", err)
	}
	admin := tc.clients(leader, testAdminToken)

	const ttl = 3 * time.Second
	user, err := admin.users.CreateUser(admin.ctx(t), &innonetpb.CreateUserRequest{RequestId: rid(), Name: "Temp",
		Role: innonetpb.Role_HQ_REVIEWER, TokenTtl: durationpb.New(ttl)})
	if err != nil {
		t.Fatalf("create user with a token TTL: %v", err)
	}
	short, err := sc.users.CreateToken(sc.ctx(t), &innonetpb.CreateTokenRequest{UserId: self, RequestId: rid(), Ttl: durationpb.New(ttl)})
	if err != nil {
		t.Fatalf("create token with a TTL: %v", err)
	}
	for _, info := range []*innonetpb.Token{user.TokenInfo, short.TokenInfo} {
		if got := info.ExpireTime.AsTime().Sub(info.CreateTime.AsTime()); got != ttl {
			t.Errorf("token %s: got expire time %s after the create time, want %s", info.Id, got, ttl)
		}
	}
	// The leader applied both before it answered.
	for _, tok := range []string{user.Token, short.Token} {
		if err := tc.tokenAccepted(t, leader.Site(), tok, lead.Id); err != nil {
			t.Fatalf("token with a TTL of %s right after creation: %v", ttl, err)
		}
	}

	tc.waitRefused(t, user.Token, lead.Id, "token expired")
	tc.waitRefused(t, short.Token, lead.Id, "token expired")
	c := tc.clients(leader, short.Token)
	_, err = c.users.WhoAmI(c.ctx(t), &innonetpb.WhoAmIRequest{})
	checkStatus(t, err, codes.Unauthenticated, "token expired")
	if code, body := newRESTClient(tc.follower(true)).do(t, "GET", "/v1/me", short.Token, nil); code != http.StatusUnauthorized {
		t.Errorf("GET /v1/me with an expired token: got %d %v, want 401", code, body)
	}
	for _, tok := range []string{user.Token, short.Token} {
		if err := tc.tokenAccepted(t, leader.Site(), tok, lead.Id); err != nil && strings.Contains(err.Error(), tok) {
			t.Errorf("the refusal echoes the token: %v", err)
		}
	}

	// The user's first token, which has no TTL, still works; the list
	// shows which expired.
	list, err := sc.users.ListTokens(sc.ctx(t), &innonetpb.ListTokensRequest{UserId: self})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Tokens) != 2 || list.Tokens[0].State != innonetpb.TokenState_ACTIVE || list.Tokens[0].ExpireTime != nil ||
		list.Tokens[1].State != innonetpb.TokenState_EXPIRED {
		t.Errorf("list tokens: got %v, want the first ACTIVE without expiry, the second EXPIRED", list.Tokens)
	}
}

// TestTokenRefusals checks who may manage whose tokens and the errors of
// bad requests, over gRPC and REST.
func TestTokenRefusals(t *testing.T) {
	tc := newTestCluster(t, testVoters, nil)
	leader, follower := tc.leaderNode(), tc.follower(false)
	alice := tc.addUser("Alice", innonetpb.Role_NODE_STAFF, "BOS", "")
	bob := tc.addUser("Bob", innonetpb.Role_NODE_STAFF, "BOS", "")
	hq := tc.addUser("Hal", innonetpb.Role_HQ_REVIEWER, "", "")
	gone := tc.addUser("Gone", innonetpb.Role_NODE_STAFF, "CBG", "")
	aliceID, bobID, adminID, goneID := tc.whoami(leader, alice), tc.whoami(leader, bob), tc.whoami(leader, testAdminToken), tc.whoami(leader, gone)
	admin := tc.clients(follower, testAdminToken)
	if _, err := admin.users.RevokeUser(admin.ctx(t), &innonetpb.RevokeUserRequest{Id: goneID, RequestId: rid()}); err != nil {
		t.Fatal(err)
	}
	list, err := admin.users.ListTokens(admin.ctx(t), &innonetpb.ListTokensRequest{UserId: aliceID})
	if err != nil || len(list.Tokens) != 1 {
		t.Fatalf("list Alice's tokens: %v, %v", list, err)
	}
	aliceTok := list.Tokens[0].Id
	list, err = admin.users.ListTokens(admin.ctx(t), &innonetpb.ListTokensRequest{UserId: adminID})
	if err != nil || len(list.Tokens) != 1 {
		t.Fatalf("list the admin's tokens: %v, %v", list, err)
	}
	adminTok := list.Tokens[0].Id

	create := func(tok, user string, ttl *durationpb.Duration) error {
		c := tc.clients(follower, tok)
		_, err := c.users.CreateToken(c.ctx(t), &innonetpb.CreateTokenRequest{UserId: user, RequestId: rid(), Ttl: ttl})
		return err
	}
	listOf := func(tok, user string) error {
		c := tc.clients(follower, tok)
		_, err := c.users.ListTokens(c.ctx(t), &innonetpb.ListTokensRequest{UserId: user})
		return err
	}
	revoke := func(tok, user, id string) error {
		c := tc.clients(follower, tok)
		_, err := c.users.RevokeToken(c.ctx(t), &innonetpb.RevokeTokenRequest{UserId: user, TokenId: id})
		return err
	}
	tests := []struct {
		name  string
		call  func() error
		want  codes.Code
		parts []string
	}{
		{"staff creates for another", func() error { return create(alice, bobID, nil) }, codes.PermissionDenied, []string{"ADMIN"}},
		{"reviewer creates for another", func() error { return create(hq, aliceID, nil) }, codes.PermissionDenied, []string{"ADMIN"}},
		{"staff creates for the admin", func() error { return create(alice, adminID, nil) }, codes.PermissionDenied, []string{"ADMIN"}},
		{"staff lists another's", func() error { return listOf(bob, aliceID) }, codes.PermissionDenied, []string{"ADMIN"}},
		{"staff revokes another's", func() error { return revoke(bob, aliceID, aliceTok) }, codes.PermissionDenied, []string{"ADMIN"}},
		{"no token", func() error { return create("", aliceID, nil) }, codes.Unauthenticated, []string{"Bearer"}},
		{"unknown token", func() error { return listOf("inn_not-a-token", aliceID) }, codes.Unauthenticated, []string{"invalid token"}},
		{"revoked user's token", func() error { return create(gone, goneID, nil) }, codes.Unauthenticated, []string{"invalid token"}},
		{"admin creates for an unknown user", func() error { return create(testAdminToken, "user-9999", nil) }, codes.NotFound, []string{"user-9999"}},
		{"admin lists an unknown user's", func() error { return listOf(testAdminToken, "user-9999") }, codes.NotFound, []string{"user-9999"}},
		{"admin revokes an unknown token", func() error { return revoke(testAdminToken, aliceID, "tok-9999") }, codes.NotFound, []string{"tok-9999"}},
		{"admin revokes another user's token", func() error { return revoke(testAdminToken, bobID, aliceTok) }, codes.NotFound, []string{aliceTok}},
		{"malformed token ID", func() error { return revoke(testAdminToken, aliceID, "abc") }, codes.InvalidArgument, []string{"token_id"}},
		{"malformed user ID", func() error { return listOf(testAdminToken, "alice") }, codes.InvalidArgument, []string{"user_id"}},
		{"negative ttl", func() error { return create(alice, aliceID, durationpb.New(-time.Second)) }, codes.InvalidArgument, []string{"ttl", "negative"}},
		{"ttl over five years", func() error { return create(alice, aliceID, durationpb.New(6*365*24*time.Hour)) }, codes.InvalidArgument, []string{"ttl", "5 years"}},
		{"invalid duration", func() error {
			return create(alice, aliceID, &durationpb.Duration{Seconds: 1, Nanos: -1})
		}, codes.InvalidArgument, []string{"ttl"}},
		{"create for a revoked user", func() error { return create(testAdminToken, goneID, nil) }, codes.FailedPrecondition, []string{"revoked"}},
		{"admin revokes its last active token", func() error { return revoke(testAdminToken, adminID, adminTok) }, codes.FailedPrecondition, []string{"last active"}},
		{"user with a negative token ttl", func() error {
			_, err := admin.users.CreateUser(admin.ctx(t), &innonetpb.CreateUserRequest{RequestId: rid(), Name: "X",
				Role: innonetpb.Role_HQ_REVIEWER, TokenTtl: durationpb.New(-time.Hour)})
			return err
		}, codes.InvalidArgument, []string{"token_ttl"}},
		{"user with a token ttl over five years", func() error {
			_, err := admin.users.CreateUser(admin.ctx(t), &innonetpb.CreateUserRequest{RequestId: rid(), Name: "X",
				Role: innonetpb.Role_HQ_REVIEWER, TokenTtl: durationpb.New(100 * 365 * 24 * time.Hour)})
			return err
		}, codes.InvalidArgument, []string{"token_ttl"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkStatus(t, tt.call(), tt.want, tt.parts...)
		})
	}

	rest := newRESTClient(follower)
	base := "/v1/users/" + aliceID + "/tokens"
	for _, tt := range []struct {
		name, method, path, token string
		body                      any
		want                      int
	}{
		{"create without a token", "POST", base, "", map[string]any{"requestId": rid()}, http.StatusUnauthorized},
		{"create for another", "POST", base, bob, map[string]any{"requestId": rid()}, http.StatusForbidden},
		{"create with a bad ttl", "POST", base, alice, map[string]any{"requestId": rid(), "ttl": "-5s"}, http.StatusBadRequest},
		{"create for an unknown user", "POST", "/v1/users/user-9999/tokens", testAdminToken, map[string]any{"requestId": rid()}, http.StatusNotFound},
		{"list without a token", "GET", base, "", nil, http.StatusUnauthorized},
		{"list another's", "GET", base, hq, nil, http.StatusForbidden},
		{"revoke another's", "DELETE", base + "/" + aliceTok, bob, nil, http.StatusForbidden},
		{"revoke an unknown token", "DELETE", base + "/tok-9999", alice, nil, http.StatusNotFound},
		{"revoke with a bad token", "DELETE", base + "/" + aliceTok, "inn_bad", nil, http.StatusUnauthorized},
	} {
		t.Run("REST "+tt.name, func(t *testing.T) {
			if code, body := rest.do(t, tt.method, tt.path, tt.token, tt.body); code != tt.want {
				t.Errorf("%s %s: got %d %v, want %d", tt.method, tt.path, code, body, tt.want)
			}
		})
	}

	// Over REST, the user creates a token for itself: shown once, with a
	// TTL given as a JSON duration.
	out := rest.ok(t, "POST", base, alice, map[string]any{"requestId": "rest-create", "ttl": "3600s", "description": "over REST"})
	info, _ := out["tokenInfo"].(map[string]any)
	if !strings.HasPrefix(field(out, "token"), "inn_") || field(info, "userId") != aliceID || field(info, "state") != "ACTIVE" ||
		field(info, "description") != "over REST" || field(info, "expireTime") == "" {
		t.Errorf("POST %s: got %v, want a token of %s with its metadata", base, out, aliceID)
	}
	again := rest.ok(t, "POST", base, alice, map[string]any{"requestId": "rest-create", "ttl": "3600s", "description": "over REST"})
	if againInfo, _ := again["tokenInfo"].(map[string]any); field(again, "token") != "" || field(againInfo, "id") != field(info, "id") {
		t.Errorf("POST %s again with the same request ID: got %v, want no token and the same metadata", base, again)
	}
}

// TestRevokeUserRevokesEveryToken checks that RevokeUser still revokes
// the user, now with every token it holds.
func TestRevokeUserRevokesEveryToken(t *testing.T) {
	tc := newTestCluster(t, testVoters, testNonVoters)
	leader := tc.leaderNode()
	first := tc.addUser("Alice", innonetpb.Role_NODE_STAFF, "BOS", "")
	self := tc.whoami(leader, first)
	c := tc.clients(leader, first)
	lead, err := c.leads.SubmitLead(c.ctx(t), sampleLead("Regional headquarters"))
	if err != nil {
		t.Fatal(err)
	}
	second, err := c.users.CreateToken(c.ctx(t), &innonetpb.CreateTokenRequest{UserId: self, RequestId: rid()})
	if err != nil {
		t.Fatal(err)
	}
	admin := tc.clients(tc.follower(true), testAdminToken)
	u, err := admin.users.RevokeUser(admin.ctx(t), &innonetpb.RevokeUserRequest{Id: self, RequestId: rid()})
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{first, second.Token} {
		tc.waitRefused(t, tok, lead.Id, "invalid token")
	}
	list, err := admin.users.ListTokens(admin.ctx(t), &innonetpb.ListTokensRequest{UserId: self})
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range list.Tokens {
		if tok.State != innonetpb.TokenState_REVOKED || !proto.Equal(tok.RevokeTime, u.RevokeTime) || tok.RevokedBy != u.RevokedBy {
			t.Errorf("token %s: got %s revoked at %v by %q, want REVOKED with the user at %v by %q",
				tok.Id, tok.State, tok.RevokeTime, tok.RevokedBy, u.RevokeTime, u.RevokedBy)
		}
	}
	if len(list.Tokens) != 2 || tokenByID(list.Tokens, second.TokenInfo.Id) == nil {
		t.Errorf("list tokens: got %v, want both", list.Tokens)
	}
}
