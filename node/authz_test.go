package node

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"innonet/node/pipeline"
	innonetpb "innonet/proto/innonet/v1"
)

// The columns of the authorization matrix: who calls. Every lead in the
// matrix is submitted by staff of BOS (the "own" site) and every claim is
// held by YRD (the "holder").
const (
	actNone    = iota // no token at all
	actRevoked        // NODE_STAFF of BOS whose user was revoked
	actAdmin
	actHQ
	actOwn    // NODE_STAFF of BOS
	actOther  // NODE_STAFF of CBG
	actHolder // DIVISION YRD
	actRival  // DIVISION PRD
	numActs
)

var actNames = [numActs]string{"no token", "revoked", "admin", "HQ", "own site", "other site", "holder division", "rival division"}

// cells holds the expected gRPC code for each actor, in column order.
type cells [numActs]codes.Code

// Short names keep each row of the matrix on one line.
const (
	OK = codes.OK
	UA = codes.Unauthenticated
	PD = codes.PermissionDenied
	FP = codes.FailedPrecondition
	AB = codes.Aborted
)

// authzTarget is what a cell acts on, prepared fresh when the call would
// change it.
type authzTarget struct {
	lead, user, token string
	join              *innonetpb.JoinClusterRequest
	org, code         string // an organization, a sub-node code (authz_registry_test.go)
	into              string // the lead a merge keeps (authz_duplicates_test.go)
}

// authzRow is one method in one situation, with the answer each actor must
// get.
type authzRow struct {
	method string // the full gRPC method name
	when   string // the situation, for the subtest name
	setup  func(t *testing.T, e *authzEnv, act int) authzTarget
	call   func(ctx context.Context, c testClients, tg authzTarget) (any, error)
	want   cells
	// verify, when set, checks an OK answer further.
	verify func(t *testing.T, e *authzEnv, act int, resp any)
}

// authzEnv is a one-site cluster with a user for every column.
type authzEnv struct {
	tc      *testCluster
	n       *Node
	tokens  [numActs]string
	ids     [numActs]string
	clients [numActs]testClients
	// shared leads for the read rows, which change nothing.
	submitted, claimed string
}

func newAuthzEnv(t *testing.T) *authzEnv {
	t.Helper()
	tc := newTestCluster(t, []string{"CGO"}, nil)
	e := &authzEnv{tc: tc, n: tc.node("CGO")}
	e.tokens[actAdmin] = testAdminToken
	for _, u := range []struct {
		act            int
		name           string
		role           innonetpb.Role
		site, division string
	}{
		{actRevoked, "Rex Revoked", innonetpb.Role_NODE_STAFF, "BOS", ""},
		{actHQ, "Hal Reviewer", innonetpb.Role_HQ_REVIEWER, "", ""},
		{actOwn, "Alice Boston", innonetpb.Role_NODE_STAFF, "BOS", ""},
		{actOther, "Charles Cambridge", innonetpb.Role_NODE_STAFF, "CBG", ""},
		{actHolder, "Yu Delta", innonetpb.Role_DIVISION, "", "YRD"},
		{actRival, "Pei Delta", innonetpb.Role_DIVISION, "", "PRD"},
	} {
		e.tokens[u.act] = tc.addUser(u.name, u.role, u.site, u.division)
	}
	conn := tc.conn(e.n)
	for act := range numActs {
		e.clients[act] = testClients{token: e.tokens[act], leads: innonetpb.NewLeadServiceClient(conn),
			users: innonetpb.NewUserServiceClient(conn), clusters: innonetpb.NewClusterServiceClient(conn),
			divisions: innonetpb.NewDivisionServiceClient(conn), reports: innonetpb.NewReportServiceClient(conn),
			notifications: innonetpb.NewNotificationServiceClient(conn), outbox: innonetpb.NewOutboxServiceClient(conn)}
	}
	for act := actRevoked; act < numActs; act++ {
		c := e.as(act)
		u, err := c.users.WhoAmI(e.ctx(t, act), &innonetpb.WhoAmIRequest{})
		if err != nil {
			t.Fatalf("who am I (%s): %v", actNames[act], err)
		}
		e.ids[act] = u.Id
	}
	admin := e.as(actAdmin)
	if _, err := admin.users.RevokeUser(e.ctx(t, actAdmin), &innonetpb.RevokeUserRequest{Id: e.ids[actRevoked], RequestId: rid()}); err != nil {
		t.Fatalf("revoke: %v", err)
	}
	e.submitted, e.claimed = e.lead(t, innonetpb.Stage_SUBMITTED), e.lead(t, innonetpb.Stage_CLAIMED)
	return e
}

// as returns the clients of an actor; the token goes with each call's
// context (see ctx).
func (e *authzEnv) as(act int) testClients { return e.clients[act] }

// ctx carries the actor's token; the no-token actor sends no header.
func (e *authzEnv) ctx(t *testing.T, act int) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	t.Cleanup(cancel)
	if act == actNone {
		return ctx
	}
	return withToken(ctx, e.tokens[act])
}

// lead returns a new lead of BOS moved to stage by the users whose job it
// is; a claimed lead is held by YRD.
func (e *authzEnv) lead(t *testing.T, stage innonetpb.Stage) string {
	t.Helper()
	own, hq, holder := e.as(actOwn), e.as(actHQ), e.as(actHolder)
	l, err := own.leads.SubmitLead(e.ctx(t, actOwn), sampleLead("Authorization matrix lead"))
	if err != nil {
		t.Fatalf("submit: %v", err)
	}
	if stage == innonetpb.Stage_SUBMITTED {
		return l.Id
	}
	if _, err := hq.leads.ReviewLead(e.ctx(t, actHQ), &innonetpb.ReviewLeadRequest{Id: l.Id, RequestId: rid(), Decision: innonetpb.Decision_APPROVE}); err != nil {
		t.Fatalf("approve: %v", err)
	}
	if stage == innonetpb.Stage_APPROVED {
		return l.Id
	}
	if _, err := holder.leads.ClaimLead(e.ctx(t, actHolder), &innonetpb.ClaimLeadRequest{Id: l.Id, RequestId: rid()}); err != nil {
		t.Fatalf("claim: %v", err)
	}
	if stage != innonetpb.Stage_CLAIMED {
		t.Fatalf("lead: no way to stage %s", stage)
	}
	return l.Id
}

// victim returns a new user for the admin to revoke.
func (e *authzEnv) victim(t *testing.T) string {
	t.Helper()
	resp, err := e.as(actAdmin).users.CreateUser(e.ctx(t, actAdmin), &innonetpb.CreateUserRequest{
		RequestId: rid(), Name: "Victor Victim", Role: innonetpb.Role_NODE_STAFF, Site: "BOS"})
	if err != nil {
		t.Fatalf("create victim: %v", err)
	}
	return resp.User.Id
}

// spareToken gives user one more token and returns its ID.
func (e *authzEnv) spareToken(t *testing.T, user string) string {
	t.Helper()
	resp, err := e.as(actAdmin).users.CreateToken(e.ctx(t, actAdmin), &innonetpb.CreateTokenRequest{
		UserId: user, RequestId: rid(), Description: "spare for the authorization matrix"})
	if err != nil {
		t.Fatalf("create token for %s: %v", user, err)
	}
	return resp.TokenInfo.Id
}

// self is the user a "for itself" row acts on: the caller, or BOS staff
// for callers that are not signed in as a working user.
func (e *authzEnv) self(act int) string {
	if act == actNone || act == actRevoked {
		return e.ids[actOwn]
	}
	return e.ids[act]
}

// digest is everything a refused call must leave as it was: the
// replicated state (without its applied index, which every log entry
// advances, refused ones too) and the Raft configuration.
func (e *authzEnv) digest(t *testing.T) string {
	t.Helper()
	var buf bytes.Buffer
	if _, err := e.n.State().Snapshot().WriteTo(&buf); err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	_, body, _ := bytes.Cut(buf.Bytes(), []byte("\n"))
	st, err := e.n.Cluster().Status()
	if err != nil {
		t.Fatalf("cluster status: %v", err)
	}
	return fmt.Sprintf("%s\nmembers: %+v", body, st.Members)
}

// Setups for the rows.
func freshLead(stage innonetpb.Stage) func(*testing.T, *authzEnv, int) authzTarget {
	return func(t *testing.T, e *authzEnv, _ int) authzTarget { return authzTarget{lead: e.lead(t, stage)} }
}

// format2 waits, before setup (if any), until the cluster runs log
// format 2, which the commands of the row need.
func format2(setup func(*testing.T, *authzEnv, int) authzTarget) func(*testing.T, *authzEnv, int) authzTarget {
	return func(t *testing.T, e *authzEnv, act int) authzTarget {
		e.tc.waitFor("log format 2", func() bool { return e.n.State().Format() >= pipeline.Format2 })
		if setup == nil {
			return authzTarget{}
		}
		return setup(t, e, act)
	}
}

// searchByID searches for the target lead by its ID.
func searchByID(ctx context.Context, c testClients, tg authzTarget) (any, error) {
	return c.leads.SearchLeads(ctx, &innonetpb.SearchLeadsRequest{Q: tg.lead})
}

// found checks that a search found the target lead (the shared lead of
// the row's stage) for exactly the actors who may read it one by one.
func found(target func(*authzEnv) string, may ...int) func(*testing.T, *authzEnv, int, any) {
	return func(t *testing.T, e *authzEnv, act int, resp any) {
		t.Helper()
		var ids []string
		for _, h := range resp.(*innonetpb.SearchLeadsResponse).Hits {
			ids = append(ids, h.Lead.Id)
		}
		want := slices.Contains(may, act)
		if got := slices.Contains(ids, target(e)); got != want {
			t.Errorf("search found %v: target among them %v, want %v", ids, got, want)
		}
	}
}

func sharedSubmitted(_ *testing.T, e *authzEnv, _ int) authzTarget {
	return authzTarget{lead: e.submitted}
}

func sharedClaimed(_ *testing.T, e *authzEnv, _ int) authzTarget {
	return authzTarget{lead: e.claimed}
}

func forOwnStaff(_ *testing.T, e *authzEnv, _ int) authzTarget {
	return authzTarget{user: e.ids[actOwn]}
}

func forItself(_ *testing.T, e *authzEnv, act int) authzTarget { return authzTarget{user: e.self(act)} }

func ownStaffSpare(t *testing.T, e *authzEnv, _ int) authzTarget {
	return authzTarget{user: e.ids[actOwn], token: e.spareToken(t, e.ids[actOwn])}
}

func itsOwnSpare(t *testing.T, e *authzEnv, act int) authzTarget {
	u := e.self(act)
	return authzTarget{user: u, token: e.spareToken(t, u)}
}

// authzRows is the matrix. A new method needs a row here:
// TestAuthzMatrix fails for any method of the API without one.
func authzRows() []authzRow {
	const (
		lead    = "/innonet.v1.LeadService/"
		user    = "/innonet.v1.UserService/"
		cluster = "/innonet.v1.ClusterService/"
	)
	getLead := func(ctx context.Context, c testClients, tg authzTarget) (any, error) {
		return c.leads.GetLead(ctx, &innonetpb.GetLeadRequest{Id: tg.lead})
	}
	history := func(ctx context.Context, c testClients, tg authzTarget) (any, error) {
		return c.leads.GetLeadHistory(ctx, &innonetpb.GetLeadHistoryRequest{Id: tg.lead})
	}
	update := func(ctx context.Context, c testClients, tg authzTarget) (any, error) {
		return c.leads.UpdateLead(ctx, &innonetpb.UpdateLeadRequest{Id: tg.lead, RequestId: rid(), Title: proto.String("Retitled")})
	}
	approve := func(ctx context.Context, c testClients, tg authzTarget) (any, error) {
		return c.leads.ReviewLead(ctx, &innonetpb.ReviewLeadRequest{Id: tg.lead, RequestId: rid(), Decision: innonetpb.Decision_APPROVE})
	}
	claim := func(ctx context.Context, c testClients, tg authzTarget) (any, error) {
		return c.leads.ClaimLead(ctx, &innonetpb.ClaimLeadRequest{Id: tg.lead, RequestId: rid()})
	}
	release := func(ctx context.Context, c testClients, tg authzTarget) (any, error) {
		return c.leads.ReleaseLead(ctx, &innonetpb.ReleaseLeadRequest{Id: tg.lead, RequestId: rid()})
	}
	advanceTo := func(s innonetpb.Stage) func(context.Context, testClients, authzTarget) (any, error) {
		return func(ctx context.Context, c testClients, tg authzTarget) (any, error) {
			return c.leads.AdvanceLead(ctx, &innonetpb.AdvanceLeadRequest{Id: tg.lead, RequestId: rid(), Stage: s})
		}
	}
	translate := func(ctx context.Context, c testClients, tg authzTarget) (any, error) {
		return c.leads.TranslateLead(ctx, &innonetpb.TranslateLeadRequest{Id: tg.lead, Lang: "zh", RequestId: rid(),
			Title: "授权矩阵", Status: innonetpb.TranslationStatus_DRAFT})
	}
	translatedBy := func(t *testing.T, e *authzEnv, act int, resp any) {
		if tr := resp.(*innonetpb.Lead).Translation; tr == nil || tr.TranslatedBy != e.ids[act] {
			t.Errorf("got translation %v, want one by %s", tr, e.ids[act])
		}
	}
	withdraw := func(ctx context.Context, c testClients, tg authzTarget) (any, error) {
		return c.leads.WithdrawLead(ctx, &innonetpb.WithdrawLeadRequest{Id: tg.lead, RequestId: rid(), Comment: "partner went elsewhere"})
	}
	createToken := func(ctx context.Context, c testClients, tg authzTarget) (any, error) {
		return c.users.CreateToken(ctx, &innonetpb.CreateTokenRequest{UserId: tg.user, RequestId: rid()})
	}
	listTokens := func(ctx context.Context, c testClients, tg authzTarget) (any, error) {
		return c.users.ListTokens(ctx, &innonetpb.ListTokensRequest{UserId: tg.user})
	}
	revokeToken := func(ctx context.Context, c testClients, tg authzTarget) (any, error) {
		return c.users.RevokeToken(ctx, &innonetpb.RevokeTokenRequest{UserId: tg.user, TokenId: tg.token, RequestId: rid()})
	}
	const (
		submitted = innonetpb.Stage_SUBMITTED
		approved  = innonetpb.Stage_APPROVED
		claimed   = innonetpb.Stage_CLAIMED
	)
	// Columns: no token, revoked, admin, HQ, own site, other site, holder division, rival division.
	return append([]authzRow{
		{method: lead + "SubmitLead", want: cells{UA, UA, PD, PD, OK, OK, PD, PD},
			call: func(ctx context.Context, c testClients, _ authzTarget) (any, error) {
				return c.leads.SubmitLead(ctx, sampleLead("Matrix submission"))
			},
			verify: func(t *testing.T, _ *authzEnv, act int, resp any) {
				// Staff submit for their own site, whatever they send.
				if got, want := resp.(*innonetpb.Lead).Site, map[int]string{actOwn: "BOS", actOther: "CBG"}[act]; got != want {
					t.Errorf("got a lead of site %s, want %s", got, want)
				}
			}},
		{method: lead + "GetLead", when: "unpublished", setup: sharedSubmitted, call: getLead,
			want: cells{UA, UA, OK, OK, OK, PD, PD, PD}},
		{method: lead + "GetLead", when: "claimed", setup: sharedClaimed, call: getLead,
			want: cells{UA, UA, OK, OK, OK, PD, OK, OK}},
		{method: lead + "GetLeadHistory", when: "unpublished", setup: sharedSubmitted, call: history,
			want: cells{UA, UA, OK, OK, OK, PD, PD, PD}},
		{method: lead + "GetLeadHistory", when: "claimed", setup: sharedClaimed, call: history,
			want: cells{UA, UA, OK, OK, OK, PD, OK, OK}},
		{method: lead + "ListLeads", want: cells{UA, UA, OK, OK, OK, OK, OK, OK},
			call: func(ctx context.Context, c testClients, _ authzTarget) (any, error) {
				return c.leads.ListLeads(ctx, &innonetpb.ListLeadsRequest{PageSize: 500})
			},
			verify: func(t *testing.T, e *authzEnv, act int, resp any) {
				// The list holds exactly what the caller may read one by one.
				seen := map[string]bool{}
				for _, l := range resp.(*innonetpb.ListLeadsResponse).Leads {
					seen[l.Id] = true
				}
				for id, want := range map[string]bool{
					e.submitted: act == actAdmin || act == actHQ || act == actOwn,
					e.claimed:   act != actOther,
				} {
					if seen[id] != want {
						t.Errorf("lead %s listed: got %v, want %v", id, seen[id], want)
					}
				}
			}},
		{method: lead + "SearchLeads", when: "unpublished", setup: sharedSubmitted, call: searchByID,
			want: cells{UA, UA, OK, OK, OK, OK, OK, OK}, verify: found(func(e *authzEnv) string { return e.submitted }, actAdmin, actHQ, actOwn)},
		{method: lead + "SearchLeads", when: "claimed", setup: sharedClaimed, call: searchByID,
			want: cells{UA, UA, OK, OK, OK, OK, OK, OK}, verify: found(func(e *authzEnv) string { return e.claimed }, actAdmin, actHQ, actOwn, actHolder, actRival)},
		{method: lead + "UpdateLead", when: "submitted", setup: freshLead(submitted), call: update,
			want: cells{UA, UA, PD, PD, OK, PD, PD, PD}},
		{method: lead + "UpdateLead", when: "claimed", setup: freshLead(claimed), call: update,
			want: cells{UA, UA, PD, PD, FP, PD, PD, PD}},
		{method: lead + "ReviewLead", when: "submitted", setup: freshLead(submitted), call: approve,
			want: cells{UA, UA, PD, OK, PD, PD, PD, PD}},
		{method: lead + "ReviewLead", when: "approved", setup: freshLead(approved), call: approve,
			want: cells{UA, UA, PD, FP, PD, PD, PD, PD}},
		{method: lead + "ClaimLead", when: "approved", setup: freshLead(approved), call: claim,
			want: cells{UA, UA, PD, PD, PD, PD, OK, OK},
			verify: func(t *testing.T, e *authzEnv, act int, resp any) {
				if got, want := resp.(*innonetpb.Lead).Division, map[int]string{actHolder: "YRD", actRival: "PRD"}[act]; got != want {
					t.Errorf("got a lead claimed by %q, want %q", got, want)
				}
			}},
		{method: lead + "ClaimLead", when: "claimed", setup: freshLead(claimed), call: claim,
			want: cells{UA, UA, PD, PD, PD, PD, FP, AB}},
		{method: lead + "ReleaseLead", when: "claimed", setup: freshLead(claimed), call: release,
			want: cells{UA, UA, PD, OK, PD, PD, OK, PD}},
		{method: lead + "ReleaseLead", when: "approved", setup: freshLead(approved), call: release,
			want: cells{UA, UA, PD, FP, PD, PD, PD, PD}},
		{method: lead + "AdvanceLead", when: "claimed to negotiating", setup: freshLead(claimed), call: advanceTo(innonetpb.Stage_NEGOTIATING),
			want: cells{UA, UA, PD, PD, PD, PD, OK, PD}},
		{method: lead + "AdvanceLead", when: "claimed to signed", setup: freshLead(claimed), call: advanceTo(innonetpb.Stage_SIGNED),
			want: cells{UA, UA, PD, PD, PD, PD, FP, PD}},
		{method: lead + "WithdrawLead", when: "submitted", setup: freshLead(submitted), call: withdraw,
			want: cells{UA, UA, PD, PD, OK, PD, PD, PD}},
		{method: lead + "WithdrawLead", when: "claimed", setup: freshLead(claimed), call: withdraw,
			want: cells{UA, UA, PD, PD, FP, PD, PD, PD}},
		{method: lead + "TranslateLead", when: "unpublished", setup: format2(freshLead(submitted)), call: translate,
			want: cells{UA, UA, PD, OK, OK, PD, PD, PD}, verify: translatedBy},
		{method: lead + "TranslateLead", when: "claimed", setup: format2(freshLead(claimed)), call: translate,
			want: cells{UA, UA, PD, OK, OK, PD, OK, OK}, verify: translatedBy},
		{method: lead + "ListGlossary", want: cells{UA, UA, OK, OK, OK, OK, OK, OK},
			call: func(ctx context.Context, c testClients, _ authzTarget) (any, error) {
				return c.leads.ListGlossary(ctx, &innonetpb.ListGlossaryRequest{})
			}},
		{method: lead + "SetGlossaryTerm", setup: format2(nil), want: cells{UA, UA, PD, OK, PD, PD, PD, PD},
			call: func(ctx context.Context, c testClients, _ authzTarget) (any, error) {
				return c.leads.SetGlossaryTerm(ctx, &innonetpb.SetGlossaryTermRequest{Term: "matrix", RequestId: rid(),
					Names: map[string]string{"zh": "矩阵", "en": "matrix"}})
			}},
		{method: lead + "DeleteGlossaryTerm", want: cells{UA, UA, PD, OK, PD, PD, PD, PD},
			setup: format2(func(t *testing.T, e *authzEnv, _ int) authzTarget {
				hq := e.as(actHQ)
				if _, err := hq.leads.SetGlossaryTerm(e.ctx(t, actHQ), &innonetpb.SetGlossaryTermRequest{Term: "matrix-delete",
					RequestId: rid(), Names: map[string]string{"en": "to delete"}}); err != nil {
					t.Fatalf("set the term to delete: %v", err)
				}
				return authzTarget{}
			}),
			call: func(ctx context.Context, c testClients, _ authzTarget) (any, error) {
				return c.leads.DeleteGlossaryTerm(ctx, &innonetpb.DeleteGlossaryTermRequest{Term: "matrix-delete", RequestId: rid()})
			}},

		{method: user + "CreateUser", want: cells{UA, UA, OK, PD, PD, PD, PD, PD},
			call: func(ctx context.Context, c testClients, _ authzTarget) (any, error) {
				return c.users.CreateUser(ctx, &innonetpb.CreateUserRequest{RequestId: rid(), Name: "Mallory",
					Role: innonetpb.Role_ADMIN})
			}},
		{method: user + "ListUsers", want: cells{UA, UA, OK, PD, PD, PD, PD, PD},
			call: func(ctx context.Context, c testClients, _ authzTarget) (any, error) {
				return c.users.ListUsers(ctx, &innonetpb.ListUsersRequest{})
			}},
		{method: user + "WhoAmI", want: cells{UA, UA, OK, OK, OK, OK, OK, OK},
			call: func(ctx context.Context, c testClients, _ authzTarget) (any, error) {
				return c.users.WhoAmI(ctx, &innonetpb.WhoAmIRequest{})
			},
			verify: func(t *testing.T, e *authzEnv, act int, resp any) {
				if got := resp.(*innonetpb.User).Id; got != e.ids[act] {
					t.Errorf("got user %s, want %s", got, e.ids[act])
				}
			}},
		{method: user + "RevokeUser", when: "another user", want: cells{UA, UA, OK, PD, PD, PD, PD, PD},
			setup: func(t *testing.T, e *authzEnv, _ int) authzTarget { return authzTarget{user: e.victim(t)} },
			call: func(ctx context.Context, c testClients, tg authzTarget) (any, error) {
				return c.users.RevokeUser(ctx, &innonetpb.RevokeUserRequest{Id: tg.user, RequestId: rid()})
			}},
		{method: user + "RevokeUser", when: "itself", setup: forItself, want: cells{UA, UA, FP, PD, PD, PD, PD, PD},
			call: func(ctx context.Context, c testClients, tg authzTarget) (any, error) {
				return c.users.RevokeUser(ctx, &innonetpb.RevokeUserRequest{Id: tg.user, RequestId: rid()})
			}},
		{method: user + "CreateToken", when: "for BOS staff", setup: forOwnStaff, call: createToken,
			want: cells{UA, UA, OK, PD, OK, PD, PD, PD}},
		{method: user + "CreateToken", when: "for itself", setup: forItself, call: createToken,
			want: cells{UA, UA, OK, OK, OK, OK, OK, OK}},
		{method: user + "ListTokens", when: "of BOS staff", setup: forOwnStaff, call: listTokens,
			want: cells{UA, UA, OK, PD, OK, PD, PD, PD}},
		{method: user + "ListTokens", when: "its own", setup: forItself, call: listTokens,
			want: cells{UA, UA, OK, OK, OK, OK, OK, OK}},
		{method: user + "RevokeToken", when: "of BOS staff", setup: ownStaffSpare, call: revokeToken,
			want: cells{UA, UA, OK, PD, OK, PD, PD, PD}},
		{method: user + "RevokeToken", when: "its own spare", setup: itsOwnSpare, call: revokeToken,
			want: cells{UA, UA, OK, OK, OK, OK, OK, OK}},

		// Sign-in for people (api_accounts.go): AcceptInvitation and SignIn
		// take no token, so every caller gets the same answer.
		{method: user + "InviteUser", want: cells{UA, UA, OK, PD, PD, PD, PD, PD}, setup: format2(nil),
			call: func(ctx context.Context, c testClients, _ authzTarget) (any, error) {
				return c.users.InviteUser(ctx, &innonetpb.InviteUserRequest{RequestId: rid(), Name: "Invitee " + rid(),
					Role: innonetpb.Role_HQ_REVIEWER})
			}},
		{method: user + "AcceptInvitation", when: "an unknown code", want: cells{UA, UA, UA, UA, UA, UA, UA, UA},
			call: func(ctx context.Context, c testClients, _ authzTarget) (any, error) {
				return c.users.AcceptInvitation(ctx, &innonetpb.AcceptInvitationRequest{RequestId: rid(), Code: newInvitationCode(), Password: "a fine password"})
			}},
		{method: user + "AcceptInvitation", when: "a fresh code", want: cells{OK, OK, OK, OK, OK, OK, OK, OK},
			setup: format2(func(_ *testing.T, e *authzEnv, _ int) authzTarget {
				return authzTarget{code: e.tc.invite(e.n, "Acceptor "+rid(), "", 0).Code}
			}),
			call: func(ctx context.Context, c testClients, tg authzTarget) (any, error) {
				return c.users.AcceptInvitation(ctx, &innonetpb.AcceptInvitationRequest{RequestId: rid(), Code: tg.code, Password: "a fine password"})
			}},
		{method: user + "SignIn", when: "a wrong password", want: cells{UA, UA, UA, UA, UA, UA, UA, UA},
			call: func(ctx context.Context, c testClients, _ authzTarget) (any, error) {
				return c.users.SignIn(ctx, &innonetpb.SignInRequest{RequestId: rid(), Name: "Alice Boston", Password: "not her password"})
			}},
		{method: user + "SignIn", when: "the right password", want: cells{OK, OK, OK, OK, OK, OK, OK, OK},
			setup: format2(func(t *testing.T, e *authzEnv, _ int) authzTarget {
				name := "Signer " + rid()
				inv := e.tc.invite(e.n, name, "", 0)
				c := e.tc.clients(e.n, "")
				if _, err := c.users.AcceptInvitation(anonCtx(t), &innonetpb.AcceptInvitationRequest{RequestId: rid(), Code: inv.Code, Password: "a fine password"}); err != nil {
					t.Fatal(err)
				}
				return authzTarget{user: name}
			}),
			call: func(ctx context.Context, c testClients, tg authzTarget) (any, error) {
				return c.users.SignIn(ctx, &innonetpb.SignInRequest{RequestId: rid(), Name: tg.user, Password: "a fine password"})
			}},
		{method: user + "SignOut", when: "with an API token", want: cells{UA, UA, FP, FP, FP, FP, FP, FP},
			call: func(ctx context.Context, c testClients, _ authzTarget) (any, error) {
				return c.users.SignOut(ctx, &innonetpb.SignOutRequest{RequestId: rid()})
			}},
		{method: user + "ExtendSession", when: "with an API token", want: cells{UA, UA, FP, FP, FP, FP, FP, FP},
			call: func(ctx context.Context, c testClients, _ authzTarget) (any, error) {
				return c.users.ExtendSession(ctx, &innonetpb.ExtendSessionRequest{RequestId: rid()})
			}},

		{method: cluster + "GetCluster", want: cells{UA, UA, OK, OK, OK, OK, OK, OK},
			call: func(ctx context.Context, c testClients, _ authzTarget) (any, error) {
				return c.clusters.GetCluster(ctx, &innonetpb.GetClusterRequest{})
			}},
		// The membership rows ask for changes that leave the one-site
		// cluster as it is (or that it refuses), so that the matrix can run
		// every cell on it.
		{method: cluster + "JoinCluster", when: "the site as it is", want: cells{UA, UA, OK, PD, PD, PD, PD, PD},
			setup: func(_ *testing.T, e *authzEnv, _ int) authzTarget {
				return authzTarget{join: &innonetpb.JoinClusterRequest{Site: "CGO",
					RaftAddress: e.n.Cluster().RaftAddr(), ApiAddress: e.n.Addr(), Voter: true}}
			},
			call: func(ctx context.Context, c testClients, tg authzTarget) (any, error) {
				return c.clusters.JoinCluster(ctx, tg.join)
			}},
		{method: cluster + "RemoveMember", when: "the last voter", want: cells{UA, UA, FP, PD, PD, PD, PD, PD},
			call: func(ctx context.Context, c testClients, _ authzTarget) (any, error) {
				return c.clusters.RemoveMember(ctx, &innonetpb.RemoveMemberRequest{Site: "CGO"})
			}},
		{method: cluster + "PromoteMember", when: "a voter", want: cells{UA, UA, OK, PD, PD, PD, PD, PD},
			call: func(ctx context.Context, c testClients, _ authzTarget) (any, error) {
				return c.clusters.PromoteMember(ctx, &innonetpb.PromoteMemberRequest{Site: "CGO"})
			}},
		{method: cluster + "DemoteMember", when: "the leader", want: cells{UA, UA, FP, PD, PD, PD, PD, PD},
			call: func(ctx context.Context, c testClients, _ authzTarget) (any, error) {
				return c.clusters.DemoteMember(ctx, &innonetpb.DemoteMemberRequest{Site: "CGO"})
			}},
		{method: cluster + "TransferLeadership", when: "to the leader", want: cells{UA, UA, OK, PD, PD, PD, PD, PD},
			call: func(ctx context.Context, c testClients, _ authzTarget) (any, error) {
				return c.clusters.TransferLeadership(ctx, &innonetpb.TransferLeadershipRequest{Site: "CGO"})
			}},
		{method: cluster + "Backup", want: cells{UA, UA, OK, PD, PD, PD, PD, PD},
			call: func(ctx context.Context, c testClients, _ authzTarget) (any, error) {
				stream, err := c.clusters.Backup(ctx, &innonetpb.BackupRequest{})
				if err != nil {
					return nil, err
				}
				for n := 0; ; n++ {
					if _, err := stream.Recv(); err != nil {
						if err == io.EOF {
							return n, nil
						}
						return nil, err
					}
				}
			}},
		{method: cluster + "DenyCertificate", want: cells{UA, UA, OK, PD, PD, PD, PD, PD},
			call: func(ctx context.Context, c testClients, _ authzTarget) (any, error) {
				return c.clusters.DenyCertificate(ctx, &innonetpb.DenyCertificateRequest{Serial: "5ca1ab1e", Comment: "matrix"})
			}},
		{method: cluster + "SetLeaderPlacement", want: cells{UA, UA, OK, PD, PD, PD, PD, PD},
			call: func(ctx context.Context, c testClients, _ authzTarget) (any, error) {
				return c.clusters.SetLeaderPlacement(ctx, &innonetpb.SetLeaderPlacementRequest{Mode: "auto"})
			}},
		{method: cluster + "ListDeniedCertificates", want: cells{UA, UA, OK, PD, PD, PD, PD, PD},
			call: func(ctx context.Context, c testClients, _ authzTarget) (any, error) {
				return c.clusters.ListDeniedCertificates(ctx, &innonetpb.ListDeniedCertificatesRequest{})
			}},
		// Without TLS the figures are public: the leader's health checks
		// read them from every member.
		{method: cluster + "GetSiteStats", want: cells{OK, OK, OK, OK, OK, OK, OK, OK},
			call: func(ctx context.Context, c testClients, _ authzTarget) (any, error) {
				return c.clusters.GetSiteStats(ctx, &innonetpb.GetSiteStatsRequest{})
			}},
		// This site's outbox: everyone signed in sees their own queued
		// writes; everyone's is for admins.
		{method: "/innonet.v1.OutboxService/ListQueuedWrites", want: cells{UA, UA, OK, OK, OK, OK, OK, OK},
			call: func(ctx context.Context, c testClients, _ authzTarget) (any, error) {
				return c.outbox.ListQueuedWrites(ctx, &innonetpb.ListQueuedWritesRequest{})
			}},
		{method: "/innonet.v1.OutboxService/ListQueuedWrites", when: "all", want: cells{UA, UA, OK, PD, PD, PD, PD, PD},
			call: func(ctx context.Context, c testClients, _ authzTarget) (any, error) {
				return c.outbox.ListQueuedWrites(ctx, &innonetpb.ListQueuedWritesRequest{All: true})
			}},
	}, registryAuthzRows()...)
}

// TestAuthzMatrix calls every method of the API as every kind of caller,
// on a lead of the caller's own site or another's, claimed by the
// caller's division or another's, and checks the exact answer of each
// cell; a refused call must change nothing.
func TestAuthzMatrix(t *testing.T) {
	rows := slices.Concat(authzRows(), workflowAuthzRows(), attachmentAuthzRows(), duplicateAuthzRows(), reportAuthzRows(), notificationAuthzRows())
	t.Run("every method has a row", func(t *testing.T) {
		covered := map[string]bool{}
		for _, r := range rows {
			covered[r.method] = true
		}
		services := innonetpb.File_innonet_v1_innonet_proto.Services()
		for i := 0; i < services.Len(); i++ {
			s := services.Get(i)
			for j := 0; j < s.Methods().Len(); j++ {
				name := "/" + string(s.FullName()) + "/" + string(s.Methods().Get(j).Name())
				if !covered[name] {
					t.Errorf("method %s has no row in the authorization matrix (authzRows)", name)
				}
				delete(covered, name)
			}
		}
		for name := range covered {
			t.Errorf("the authorization matrix has a row for %s, which the API does not have", name)
		}
	})
	e := newAuthzEnv(t)
	// Before the first cell: the leader raising the format mid-cell
	// would show as a change made by a refused call.
	waitFormat2(e.tc, e.n)
	for i := range rows {
		r := &rows[i]
		name := strings.TrimPrefix(r.method, "/innonet.v1.")
		if r.when != "" {
			name += " " + r.when
		}
		t.Run(name, func(t *testing.T) {
			for act := range numActs {
				t.Run(actNames[act], func(t *testing.T) { e.cell(t, r, act) })
			}
		})
	}
}

// cell runs one cell of the matrix.
func (e *authzEnv) cell(t *testing.T, r *authzRow, act int) {
	t.Helper()
	var tg authzTarget
	if r.setup != nil {
		tg = r.setup(t, e, act)
	}
	want := r.want[act]
	var before string
	if want != codes.OK {
		before = e.digest(t)
	}
	resp, err := r.call(e.ctx(t, act), e.as(act), tg)
	if got := status.Code(err); got != want {
		t.Fatalf("got %s (%v), want %s", got, err, want)
	}
	if err == nil {
		if r.verify != nil {
			r.verify(t, e, act, resp)
		}
		return
	}
	if after := e.digest(t); after != before {
		t.Errorf("a refused call changed the state: %s", firstDifference(after, before))
	}
}

// firstDifference shows the first line where got and want differ.
func firstDifference(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < max(len(g), len(w)); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return fmt.Sprintf("line %d:\ngot  %s\nwant %s", i+1, gl, wl)
		}
	}
	return "no difference"
}
