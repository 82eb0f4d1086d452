package node

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	innonetpb "innonet/proto/innonet/v1"
)

// userByID finds a user in a ListUsers answer.
func userByID(users []*innonetpb.User, id string) *innonetpb.User {
	for _, u := range users {
		if u.Id == id {
			return u
		}
	}
	return nil
}

func TestRevokeUser(t *testing.T) {
	tc := newTestCluster(t, testVoters, testNonVoters)
	victim := tc.addUser("Alice", innonetpb.Role_NODE_STAFF, "BOS", "")
	other := tc.addUser("Bob", innonetpb.Role_NODE_STAFF, "BOS", "")
	hq := tc.addUser("Hal", innonetpb.Role_HQ_REVIEWER, "", "")
	leader, follower, replica := tc.leaderNode(), tc.follower(false), tc.follower(true)
	admin := tc.clients(follower, testAdminToken)
	whoami := func(tok string) string {
		t.Helper()
		c := tc.clients(leader, tok)
		u, err := c.users.WhoAmI(c.ctx(t), &innonetpb.WhoAmIRequest{})
		if err != nil {
			t.Fatalf("who am I: %v", err)
		}
		return u.Id
	}
	victimID, adminID := whoami(victim), whoami(testAdminToken)

	// The victim leaves a trace in a lead's history before it is revoked.
	vc := tc.clients(follower, victim)
	lead, err := vc.leads.SubmitLead(vc.ctx(t), sampleLead("Submitted before the revocation"))
	if err != nil {
		t.Fatalf("submit: %v", err)
	}
	// Every site reads the lead below, a replica too.
	tc.waitApplied()

	t.Run("refusals", func(t *testing.T) {
		for _, tt := range []struct {
			name  string
			token string
			id    string
			want  codes.Code
			parts []string
		}{
			{"by node staff", other, victimID, codes.PermissionDenied, []string{"ADMIN"}},
			{"by HQ", hq, victimID, codes.PermissionDenied, []string{"ADMIN"}},
			{"by the victim itself", victim, victimID, codes.PermissionDenied, []string{"ADMIN"}},
			{"unknown user", testAdminToken, "user-9999", codes.NotFound, []string{"user-9999"}},
			{"malformed ID", testAdminToken, "alice", codes.InvalidArgument, []string{"id"}},
			{"empty ID", testAdminToken, "", codes.InvalidArgument, []string{"id"}},
			{"an admin revoking itself", testAdminToken, adminID, codes.FailedPrecondition, []string{"own"}},
		} {
			t.Run(tt.name, func(t *testing.T) {
				c := tc.clients(replica, tt.token)
				_, err := c.users.RevokeUser(c.ctx(t), &innonetpb.RevokeUserRequest{Id: tt.id, RequestId: rid()})
				checkStatus(t, err, tt.want, tt.parts...)
			})
		}
		rest := newRESTClient(replica)
		for _, tt := range []struct {
			name  string
			token string
			want  int
		}{
			{"REST without a token", "", http.StatusUnauthorized},
			{"REST by HQ", hq, http.StatusForbidden},
			{"REST by node staff", other, http.StatusForbidden},
		} {
			t.Run(tt.name, func(t *testing.T) {
				if code, body := rest.do(t, "DELETE", "/v1/users/"+victimID, tt.token, nil); code != tt.want {
					t.Errorf("DELETE /v1/users/%s/tokens: got %d %v, want %d", victimID, code, body, tt.want)
				}
			})
		}
		// None of the refusals revoked anything.
		for _, id := range tc.order {
			c := tc.clients(tc.node(id), victim)
			if _, err := staleGet(c.ctx(t), c, lead.Id); err != nil {
				t.Errorf("the victim's token on %s after the refused revocations: %v", id, err)
			}
		}
	})

	// Revoke over gRPC through the follower (forwarded to the leader).
	revoked, err := admin.users.RevokeUser(admin.ctx(t), &innonetpb.RevokeUserRequest{Id: victimID, RequestId: rid()})
	if err != nil {
		t.Fatalf("revoke %s: %v", victimID, err)
	}
	if revoked.Id != victimID || revoked.RevokeTime == nil || revoked.RevokedBy != adminID {
		t.Fatalf("revoke: got %v, want %s with a revoke time, revoked by %s", revoked, victimID, adminID)
	}

	t.Run("token refused on every site", func(t *testing.T) {
		for _, id := range tc.order {
			c := tc.clients(tc.node(id), victim)
			// A STALE read authenticates against the site's own copy of
			// the users: it is refused once the revocation is applied there.
			eventually(t, 10*time.Second, "the revoked token refused by "+id, func() error {
				_, err := staleGet(c.ctx(t), c, lead.Id)
				if err == nil {
					return fmt.Errorf("STALE read on %s still allowed", id)
				}
				if code := status.Code(err); code != codes.Unauthenticated {
					return fmt.Errorf("STALE read on %s: got %v, want %s", id, err, codes.Unauthenticated)
				}
				return nil
			})
			_, err := c.leads.SubmitLead(c.ctx(t), sampleLead("Submitted after the revocation"))
			checkStatus(t, err, codes.Unauthenticated)
			_, err = c.users.WhoAmI(c.ctx(t), &innonetpb.WhoAmIRequest{})
			checkStatus(t, err, codes.Unauthenticated)
		}
		// Others keep their access.
		for _, id := range tc.order {
			c := tc.clients(tc.node(id), other)
			if _, err := staleGet(c.ctx(t), c, lead.Id); err != nil {
				t.Errorf("another user's token on %s: %v", id, err)
			}
		}
	})

	t.Run("user and history remain", func(t *testing.T) {
		users, err := admin.users.ListUsers(admin.ctx(t), &innonetpb.ListUsersRequest{})
		if err != nil {
			t.Fatal(err)
		}
		u := userByID(users.Users, victimID)
		if u == nil {
			t.Fatalf("revoked user %s missing from ListUsers", victimID)
		}
		if !proto.Equal(u, revoked) {
			t.Errorf("got %v in ListUsers, want %v", u, revoked)
		}
		for _, u := range users.Users {
			if u.Id != victimID && (u.RevokeTime != nil || u.RevokedBy != "") {
				t.Errorf("user %s: got revoke time %v by %q, want it untouched", u.Id, u.RevokeTime, u.RevokedBy)
			}
		}
		c := tc.clients(leader, hq)
		h, err := c.leads.GetLeadHistory(c.ctx(t), &innonetpb.GetLeadHistoryRequest{Id: lead.Id})
		if err != nil {
			t.Fatal(err)
		}
		if len(h.Events) != 1 || h.Events[0].UserId != victimID || h.Events[0].Action != "SUBMIT" {
			t.Errorf("got history %v, want the revoked user's SUBMIT", h.Events)
		}
		got, err := c.leads.GetLead(c.ctx(t), &innonetpb.GetLeadRequest{Id: lead.Id})
		if err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(got, lead) {
			t.Errorf("got lead %v, want it unchanged: %v", got, lead)
		}
	})

	t.Run("revoking again changes nothing", func(t *testing.T) {
		before, err := stateDump(leader.State())
		if err != nil {
			t.Fatal(err)
		}
		// Over gRPC with a new request ID, then twice over REST (no body,
		// so the same default request ID), through the read replica.
		again, err := admin.users.RevokeUser(admin.ctx(t), &innonetpb.RevokeUserRequest{Id: victimID, RequestId: rid()})
		if err != nil {
			t.Fatalf("revoke again over gRPC: %v", err)
		}
		if !proto.Equal(again, revoked) {
			t.Errorf("revoke again: got %v, want the first answer %v", again, revoked)
		}
		rest := newRESTClient(replica)
		for i := range 2 {
			out := rest.ok(t, "DELETE", "/v1/users/"+victimID, testAdminToken, nil)
			at, err := time.Parse(time.RFC3339Nano, field(out, "revokeTime"))
			if err != nil || !at.Equal(revoked.RevokeTime.AsTime()) || field(out, "id") != victimID || field(out, "revokedBy") != adminID {
				t.Errorf("REST revoke %d: got %v, want %s revoked at %s by %s", i+1, out, victimID, revoked.RevokeTime.AsTime(), adminID)
			}
		}
		after, err := stateDump(leader.State())
		if err != nil {
			t.Fatal(err)
		}
		if after != before {
			t.Errorf("revoking a revoked user changed the state:\ngot  %.2000s\nwant %.2000s", after, before)
		}
	})
}
