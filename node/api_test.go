package node

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	innonetpb "innonet/proto/innonet/v1"
)

// apiEnv is one cluster shared by the subtests of TestAPI, with a user of
// each kind.
type apiEnv struct {
	tc                       *testCluster
	admin, bos, cbg, hq      string // tokens
	bohai, yrd, prd          string
	bosID, hqID, yrdID       string // user IDs
	leader, follower, replic *Node
}

func newAPIEnv(t *testing.T) *apiEnv {
	t.Helper()
	tc := newTestCluster(t, testVoters, testNonVoters)
	e := &apiEnv{tc: tc, admin: testAdminToken}
	e.bos = tc.addUser("Alice", innonetpb.Role_NODE_STAFF, "BOS", "")
	e.cbg = tc.addUser("Charles", innonetpb.Role_NODE_STAFF, "CBG", "")
	e.hq = tc.addUser("Hal", innonetpb.Role_HQ_REVIEWER, "", "")
	e.bohai = tc.addUser("Bo", innonetpb.Role_DIVISION, "", "BOHAI")
	e.yrd = tc.addUser("Yu", innonetpb.Role_DIVISION, "", "YRD")
	e.prd = tc.addUser("Pei", innonetpb.Role_DIVISION, "", "PRD")
	e.leader, e.follower, e.replic = tc.leaderNode(), tc.follower(false), tc.follower(true)
	for tok, id := range map[string]*string{e.bos: &e.bosID, e.hq: &e.hqID, e.yrd: &e.yrdID} {
		c := tc.clients(e.leader, tok)
		u, err := c.users.WhoAmI(c.ctx(t), &innonetpb.WhoAmIRequest{})
		if err != nil {
			t.Fatalf("who am I: %v", err)
		}
		*id = u.Id
	}
	return e
}

// as returns clients that talk to site n as the user with token tok.
func (e *apiEnv) as(n *Node, tok string) testClients { return e.tc.clients(n, tok) }

// submit submits a sample lead as BOS staff through the leader.
func (e *apiEnv) submit(t *testing.T, title string) *innonetpb.Lead {
	t.Helper()
	c := e.as(e.leader, e.bos)
	l, err := c.leads.SubmitLead(c.ctx(t), sampleLead(title))
	if err != nil {
		t.Fatalf("submit %q: %v", title, err)
	}
	return l
}

// review reviews a lead as HQ through the leader.
func (e *apiEnv) review(t *testing.T, id string, d innonetpb.Decision, comment string) *innonetpb.Lead {
	t.Helper()
	c := e.as(e.leader, e.hq)
	l, err := c.leads.ReviewLead(c.ctx(t), &innonetpb.ReviewLeadRequest{Id: id, RequestId: rid(), Decision: d, Comment: comment})
	if err != nil {
		t.Fatalf("review %s %s: %v", id, d, err)
	}
	return l
}

func TestAPI(t *testing.T) {
	e := newAPIEnv(t)
	t.Run("Lifecycle", e.testLifecycle)
	t.Run("Errors", e.testErrors)
	t.Run("Idempotency", e.testIdempotency)
	t.Run("Visibility", e.testVisibility)
	t.Run("ListLeads", e.testListLeads)
	t.Run("Users", e.testUsers)
	t.Run("Cluster", e.testCluster)
}

func (e *apiEnv) testLifecycle(t *testing.T) {
	// Each user calls through their own site, so the history shows where
	// each request came in.
	staff := e.as(e.tc.node("BOS"), e.bos)
	hq := e.as(e.tc.node("CGO"), e.hq)
	div := e.as(e.tc.node("YRD"), e.yrd)

	l, err := staff.leads.SubmitLead(staff.ctx(t), sampleLead("Immunosuppressant"))
	if err != nil {
		t.Fatalf("submit: %v", err)
	}
	id := l.Id
	steps := []struct {
		name string
		call func() (*innonetpb.Lead, error)
		want innonetpb.Stage
	}{
		{"return", func() (*innonetpb.Lead, error) {
			return hq.leads.ReviewLead(hq.ctx(t), &innonetpb.ReviewLeadRequest{Id: id, RequestId: rid(),
				Decision: innonetpb.Decision_RETURN, Comment: "Please add the clinical phase."})
		}, innonetpb.Stage_RETURNED},
		{"update", func() (*innonetpb.Lead, error) {
			return staff.leads.UpdateLead(staff.ctx(t), &innonetpb.UpdateLeadRequest{Id: id, RequestId: rid(),
				Summary: proto.String("Phase II immunosuppressant."), Comment: "Added the phase."})
		}, innonetpb.Stage_SUBMITTED},
		{"approve", func() (*innonetpb.Lead, error) {
			return hq.leads.ReviewLead(hq.ctx(t), &innonetpb.ReviewLeadRequest{Id: id, RequestId: rid(),
				Decision: innonetpb.Decision_APPROVE})
		}, innonetpb.Stage_APPROVED},
		{"claim", func() (*innonetpb.Lead, error) {
			return div.leads.ClaimLead(div.ctx(t), &innonetpb.ClaimLeadRequest{Id: id, RequestId: rid()})
		}, innonetpb.Stage_CLAIMED},
	}
	for _, s := range []innonetpb.Stage{innonetpb.Stage_NEGOTIATING, innonetpb.Stage_SIGNED, innonetpb.Stage_LANDED} {
		steps = append(steps, struct {
			name string
			call func() (*innonetpb.Lead, error)
			want innonetpb.Stage
		}{"advance to " + s.String(), func() (*innonetpb.Lead, error) {
			return div.leads.AdvanceLead(div.ctx(t), &innonetpb.AdvanceLeadRequest{Id: id, RequestId: rid(), Stage: s, Note: "On to " + s.String()})
		}, s})
	}
	for i, s := range steps {
		got, err := s.call()
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if got.Stage != s.want || got.Version != int64(i+2) {
			t.Fatalf("%s: got %s v%d, want %s v%d", s.name, got.Stage, got.Version, s.want, i+2)
		}
	}
	final, err := hq.leads.GetLead(hq.ctx(t), &innonetpb.GetLeadRequest{Id: id})
	if err != nil {
		t.Fatal(err)
	}
	if final.Stage != innonetpb.Stage_LANDED || final.Division != "YRD" || final.Summary != "Phase II immunosuppressant." {
		t.Errorf("got %s %s %q, want LANDED YRD with the updated summary", final.Stage, final.Division, final.Summary)
	}

	h, err := staff.leads.GetLeadHistory(staff.ctx(t), &innonetpb.GetLeadHistoryRequest{Id: id})
	if err != nil {
		t.Fatalf("history: %v", err)
	}
	want := []struct {
		action, user, origin string
		to                   innonetpb.Stage
	}{
		{"SUBMIT", e.bosID, "BOS", innonetpb.Stage_SUBMITTED},
		{"RETURN", e.hqID, "CGO", innonetpb.Stage_RETURNED},
		{"RESUBMIT", e.bosID, "BOS", innonetpb.Stage_SUBMITTED},
		{"APPROVE", e.hqID, "CGO", innonetpb.Stage_APPROVED},
		{"CLAIM", e.yrdID, "YRD", innonetpb.Stage_CLAIMED},
		{"ADVANCE", e.yrdID, "YRD", innonetpb.Stage_NEGOTIATING},
		{"ADVANCE", e.yrdID, "YRD", innonetpb.Stage_SIGNED},
		{"ADVANCE", e.yrdID, "YRD", innonetpb.Stage_LANDED},
	}
	if len(h.Events) != len(want) {
		t.Fatalf("got %d events, want %d: %v", len(h.Events), len(want), h.Events)
	}
	var prev *innonetpb.HistoryEvent
	for i, ev := range h.Events {
		w := want[i]
		if ev.Action != w.action || ev.UserId != w.user || ev.OriginSite != w.origin || ev.ToStage != w.to || ev.LeadId != id {
			t.Errorf("event %d: got %s by %s via %s to %s on %s, want %s by %s via %s to %s on %s",
				i, ev.Action, ev.UserId, ev.OriginSite, ev.ToStage, ev.LeadId, w.action, w.user, w.origin, w.to, id)
		}
		if ev.Version != int64(i+1) || ev.Seq != ev.Version {
			t.Errorf("event %d: got version %d seq %d, want %d", i, ev.Version, ev.Seq, i+1)
		}
		if ev.RequestId == "" || ev.Time == nil {
			t.Errorf("event %d: got request ID %q time %v, want both set", i, ev.RequestId, ev.Time)
		}
		if prev != nil {
			if ev.FromStage != prev.ToStage {
				t.Errorf("event %d: got from %s, want %s (the previous event's stage)", i, ev.FromStage, prev.ToStage)
			}
			if ev.LogIndex <= prev.LogIndex || ev.Time.AsTime().Before(prev.Time.AsTime()) {
				t.Errorf("event %d: log index %d time %v, not after the previous %d %v", i, ev.LogIndex, ev.Time.AsTime(), prev.LogIndex, prev.Time.AsTime())
			}
		}
		prev = ev
	}
	if got := h.Events[1]; got.Comment != "Please add the clinical phase." || got.UserSite != "HQ" || got.Role != innonetpb.Role_HQ_REVIEWER {
		t.Errorf("RETURN event: got comment %q user site %s role %s, want the reviewer's comment, HQ, HQ_REVIEWER", got.Comment, got.UserSite, got.Role)
	}
	if got := h.Events[4]; got.UserSite != "YRD" || got.Role != innonetpb.Role_DIVISION {
		t.Errorf("CLAIM event: got user site %s role %s, want YRD DIVISION", got.UserSite, got.Role)
	}
}

func (e *apiEnv) testErrors(t *testing.T) {
	submitted := e.submit(t, "Waiting for review")
	claimed := e.submit(t, "Already claimed")
	e.review(t, claimed.Id, innonetpb.Decision_APPROVE, "")
	bo := e.as(e.leader, e.bohai)
	if _, err := bo.leads.ClaimLead(bo.ctx(t), &innonetpb.ClaimLeadRequest{Id: claimed.Id, RequestId: rid()}); err != nil {
		t.Fatalf("claim %s: %v", claimed.Id, err)
	}
	usedReq := sampleLead("First use of a request ID")
	first := e.as(e.leader, e.bos)
	if _, err := first.leads.SubmitLead(first.ctx(t), usedReq); err != nil {
		t.Fatal(err)
	}
	leadsBefore := e.leadCount(t)

	bad := func(mutate func(r *innonetpb.SubmitLeadRequest)) *innonetpb.SubmitLeadRequest {
		r := sampleLead("Bad input")
		mutate(r)
		return r
	}
	type call func(ctx context.Context, c testClients) error
	submit := func(r *innonetpb.SubmitLeadRequest) call {
		return func(ctx context.Context, c testClients) error { _, err := c.leads.SubmitLead(ctx, r); return err }
	}
	tests := []struct {
		name  string
		token string // "" sends no token
		call  call
		want  codes.Code
		parts []string
	}{
		{"trl out of range", e.bos, submit(bad(func(r *innonetpb.SubmitLeadRequest) { r.Trl = 12 })), codes.InvalidArgument, []string{"trl", "12"}},
		{"unknown country", e.bos, submit(bad(func(r *innonetpb.SubmitLeadRequest) { r.Country = "XX" })), codes.InvalidArgument, []string{"country", "XX"}},
		{"blank title", e.bos, submit(bad(func(r *innonetpb.SubmitLeadRequest) { r.Title = "  " })), codes.InvalidArgument, []string{"title"}},
		{"no request ID", e.bos, submit(bad(func(r *innonetpb.SubmitLeadRequest) { r.RequestId = "" })), codes.InvalidArgument, []string{"request_id"}},
		{"no sector", e.bos, submit(bad(func(r *innonetpb.SubmitLeadRequest) { r.Sector = 0 })), codes.InvalidArgument, []string{"sector"}},
		{"request ID reused for another body", e.bos, submit(bad(func(r *innonetpb.SubmitLeadRequest) { r.RequestId = usedReq.RequestId })), codes.InvalidArgument, []string{"request_id", usedReq.RequestId}},
		{"return without a comment", e.hq, func(ctx context.Context, c testClients) error {
			_, err := c.leads.ReviewLead(ctx, &innonetpb.ReviewLeadRequest{Id: submitted.Id, RequestId: rid(), Decision: innonetpb.Decision_RETURN})
			return err
		}, codes.InvalidArgument, []string{"comment"}},
		{"malformed lead ID", e.hq, func(ctx context.Context, c testClients) error {
			_, err := c.leads.GetLead(ctx, &innonetpb.GetLeadRequest{Id: "bos-1"})
			return err
		}, codes.InvalidArgument, []string{"id", "bos-1"}},
		{"unknown lead", e.hq, func(ctx context.Context, c testClients) error {
			_, err := c.leads.GetLead(ctx, &innonetpb.GetLeadRequest{Id: "BOS-9999"})
			return err
		}, codes.NotFound, []string{"BOS-9999"}},
		{"review of an unknown lead", e.hq, func(ctx context.Context, c testClients) error {
			_, err := c.leads.ReviewLead(ctx, &innonetpb.ReviewLeadRequest{Id: "BOS-9999", RequestId: rid(), Decision: innonetpb.Decision_APPROVE})
			return err
		}, codes.NotFound, []string{"BOS-9999"}},
		{"no token", "", submit(sampleLead("No token")), codes.Unauthenticated, []string{"token"}},
		{"unknown token", "inn_not-a-real-token", submit(sampleLead("Bad token")), codes.Unauthenticated, []string{"token"}},
		{"node staff reviews", e.bos, func(ctx context.Context, c testClients) error {
			_, err := c.leads.ReviewLead(ctx, &innonetpb.ReviewLeadRequest{Id: submitted.Id, RequestId: rid(), Decision: innonetpb.Decision_APPROVE})
			return err
		}, codes.PermissionDenied, []string{"HQ_REVIEWER"}},
		{"other site's staff edits", e.cbg, func(ctx context.Context, c testClients) error {
			_, err := c.leads.UpdateLead(ctx, &innonetpb.UpdateLeadRequest{Id: submitted.Id, RequestId: rid(), Title: proto.String("Taken over")})
			return err
		}, codes.PermissionDenied, []string{"BOS", "CBG"}},
		{"division submits", e.bohai, submit(sampleLead("Not a node")), codes.PermissionDenied, []string{"NODE_STAFF"}},
		{"other site's staff reads", e.cbg, func(ctx context.Context, c testClients) error {
			_, err := c.leads.GetLead(ctx, &innonetpb.GetLeadRequest{Id: submitted.Id})
			return err
		}, codes.PermissionDenied, []string{submitted.Id}},
		{"division reads an unpublished lead", e.yrd, func(ctx context.Context, c testClients) error {
			_, err := c.leads.GetLeadHistory(ctx, &innonetpb.GetLeadHistoryRequest{Id: submitted.Id})
			return err
		}, codes.PermissionDenied, []string{submitted.Id}},
		{"claim of a submitted lead", e.yrd, func(ctx context.Context, c testClients) error {
			_, err := c.leads.ClaimLead(ctx, &innonetpb.ClaimLeadRequest{Id: submitted.Id, RequestId: rid()})
			return err
		}, codes.FailedPrecondition, []string{"SUBMITTED", "APPROVED"}},
		{"advance past a stage", e.bohai, func(ctx context.Context, c testClients) error {
			_, err := c.leads.AdvanceLead(ctx, &innonetpb.AdvanceLeadRequest{Id: claimed.Id, RequestId: rid(), Stage: innonetpb.Stage_SIGNED})
			return err
		}, codes.FailedPrecondition, []string{"CLAIMED", "NEGOTIATING"}},
		{"claim lost", e.yrd, func(ctx context.Context, c testClients) error {
			_, err := c.leads.ClaimLead(ctx, &innonetpb.ClaimLeadRequest{Id: claimed.Id, RequestId: rid()})
			return err
		}, codes.Aborted, []string{claimed.Id, "BOHAI"}},
		{"stale expected version", e.bos, func(ctx context.Context, c testClients) error {
			_, err := c.leads.UpdateLead(ctx, &innonetpb.UpdateLeadRequest{Id: submitted.Id, RequestId: rid(), ExpectedVersion: 7, Title: proto.String("Late edit")})
			return err
		}, codes.Aborted, []string{"version", "7"}},
		{"page size over the limit", e.hq, func(ctx context.Context, c testClients) error {
			_, err := c.leads.ListLeads(ctx, &innonetpb.ListLeadsRequest{PageSize: 501})
			return err
		}, codes.InvalidArgument, []string{"page_size"}},
		{"create user as non-admin", e.hq, func(ctx context.Context, c testClients) error {
			_, err := c.users.CreateUser(ctx, &innonetpb.CreateUserRequest{RequestId: rid(), Name: "Eve", Role: innonetpb.Role_HQ_REVIEWER})
			return err
		}, codes.PermissionDenied, []string{"ADMIN"}},
		{"node staff without a site", e.admin, func(ctx context.Context, c testClients) error {
			_, err := c.users.CreateUser(ctx, &innonetpb.CreateUserRequest{RequestId: rid(), Name: "Nobody", Role: innonetpb.Role_NODE_STAFF})
			return err
		}, codes.InvalidArgument, []string{"site"}},
		{"join as non-admin", e.hq, func(ctx context.Context, c testClients) error {
			_, err := c.clusters.JoinCluster(ctx, &innonetpb.JoinClusterRequest{Site: "MUC", RaftAddress: "127.0.0.1:1", ApiAddress: "127.0.0.1:2", Voter: true})
			return err
		}, codes.PermissionDenied, []string{"ADMIN"}},
		{"join with a bad site code", e.admin, func(ctx context.Context, c testClients) error {
			_, err := c.clusters.JoinCluster(ctx, &innonetpb.JoinClusterRequest{Site: "munich", RaftAddress: "127.0.0.1:1", ApiAddress: "127.0.0.1:2"})
			return err
		}, codes.InvalidArgument, []string{"site", "munich"}},
	}
	// Errors must come back the same whether the site leads or forwards.
	for _, via := range []*Node{e.leader, e.follower, e.replic} {
		for _, tt := range tests {
			t.Run(via.Site()+"/"+tt.name, func(t *testing.T) {
				c := e.as(via, tt.token)
				ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
				defer cancel()
				if tt.token != "" {
					ctx = withToken(ctx, tt.token)
				}
				checkStatus(t, tt.call(ctx, c), tt.want, tt.parts...)
			})
		}
	}

	// Rejected requests changed nothing.
	if got := e.leadCount(t); got != leadsBefore {
		t.Errorf("got %d leads after the rejected requests, want %d", got, leadsBefore)
	}
	hq := e.as(e.leader, e.hq)
	for _, l := range []*innonetpb.Lead{submitted, claimed} {
		got, err := hq.leads.GetLead(hq.ctx(t), &innonetpb.GetLeadRequest{Id: l.Id})
		if err != nil {
			t.Fatal(err)
		}
		if want := map[string]int64{submitted.Id: 1, claimed.Id: 3}[l.Id]; got.Version != want || got.Title != l.Title {
			t.Errorf("lead %s: got v%d %q after the rejected requests, want v%d %q", l.Id, got.Version, got.Title, want, l.Title)
		}
	}
}

// leadCount is the number of leads, as the leader sees them.
func (e *apiEnv) leadCount(t *testing.T) int {
	t.Helper()
	c := e.as(e.leader, e.hq)
	n, token := 0, ""
	for {
		resp, err := c.leads.ListLeads(c.ctx(t), &innonetpb.ListLeadsRequest{PageSize: 500, PageToken: token})
		if err != nil {
			t.Fatalf("list leads: %v", err)
		}
		n += len(resp.Leads)
		if token = resp.NextPageToken; token == "" {
			return n
		}
	}
}

func (e *apiEnv) testIdempotency(t *testing.T) {
	staff := e.as(e.follower, e.bos)
	other := e.as(e.replic, e.bos)
	req := sampleLead("Submitted twice")
	l1, err := staff.leads.SubmitLead(staff.ctx(t), req)
	if err != nil {
		t.Fatal(err)
	}
	// A retry, through another site, returns the first result.
	l2, err := other.leads.SubmitLead(other.ctx(t), req)
	if err != nil {
		t.Fatalf("retry: %v", err)
	}
	if l2.Id != l1.Id || l2.Version != 1 {
		t.Errorf("retried submit: got %s v%d, want %s v1", l2.Id, l2.Version, l1.Id)
	}
	next := e.submit(t, "After the retry")
	if want := fmt.Sprintf("BOS-%04d", leadNumber(t, l1.Id)+1); next.Id != want {
		t.Errorf("next lead: got %s, want %s (the retry must not use up an ID)", next.Id, want)
	}

	upd := &innonetpb.UpdateLeadRequest{Id: l1.Id, RequestId: rid(), Title: proto.String("Retitled once")}
	u1, err := staff.leads.UpdateLead(staff.ctx(t), upd)
	if err != nil {
		t.Fatal(err)
	}
	u2, err := other.leads.UpdateLead(other.ctx(t), upd)
	if err != nil {
		t.Fatalf("retried update: %v", err)
	}
	if u1.Version != 2 || u2.Version != 2 || u2.Title != "Retitled once" {
		t.Errorf("update then retry: got v%d and v%d %q, want v2 twice", u1.Version, u2.Version, u2.Title)
	}
	got, err := staff.leads.GetLead(staff.ctx(t), &innonetpb.GetLeadRequest{Id: l1.Id})
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != 2 {
		t.Errorf("after a retried update: got v%d, want v2", got.Version)
	}
	h, err := staff.leads.GetLeadHistory(staff.ctx(t), &innonetpb.GetLeadHistoryRequest{Id: l1.Id})
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Events) != 2 {
		t.Errorf("got %d history events, want 2 (SUBMIT, UPDATE)", len(h.Events))
	}

	changed := proto.Clone(upd).(*innonetpb.UpdateLeadRequest)
	changed.Title = proto.String("Retitled differently")
	_, err = staff.leads.UpdateLead(staff.ctx(t), changed)
	checkStatus(t, err, codes.InvalidArgument, "request_id")
}

// leadNumber is the number in a BOS lead ID.
func leadNumber(t *testing.T, id string) int {
	t.Helper()
	var n int
	if _, err := fmt.Sscanf(id, "BOS-%d", &n); err != nil {
		t.Fatalf("lead ID %s: %v", id, err)
	}
	return n
}

func (e *apiEnv) testVisibility(t *testing.T) {
	l := e.submit(t, "Seen by few")
	get := func(c testClients) error {
		_, err := c.leads.GetLead(c.ctx(t), &innonetpb.GetLeadRequest{Id: l.Id})
		return err
	}
	listed := func(c testClients) bool {
		t.Helper()
		resp, err := c.leads.ListLeads(c.ctx(t), &innonetpb.ListLeadsRequest{Site: "BOS", PageSize: 500})
		if err != nil {
			t.Fatalf("list: %v", err)
		}
		return slices.ContainsFunc(resp.Leads, func(x *innonetpb.Lead) bool { return x.Id == l.Id })
	}
	cbg := e.as(e.follower, e.cbg)
	div := e.as(e.replic, e.bohai)
	hq := e.as(e.follower, e.hq)
	if err := get(hq); err != nil {
		t.Errorf("HQ reads a submitted lead: %v", err)
	}
	checkStatus(t, get(cbg), codes.PermissionDenied)
	checkStatus(t, get(div), codes.PermissionDenied)
	if listed(cbg) || listed(div) {
		t.Errorf("a submitted BOS lead is listed to CBG staff (%v) or a division (%v)", listed(cbg), listed(div))
	}

	e.review(t, l.Id, innonetpb.Decision_APPROVE, "")
	if err := get(div); err != nil {
		t.Errorf("division reads an approved lead: %v", err)
	}
	if !listed(div) {
		t.Errorf("approved lead %s is not listed to a division", l.Id)
	}
	checkStatus(t, get(cbg), codes.PermissionDenied)
	// A stale read on the division's own site also sees it once replicated.
	eventually(t, 10*time.Second, "stale read of the approved lead on the read replica", func() error {
		_, err := staleGet(div.ctx(t), div, l.Id)
		return err
	})
}

func (e *apiEnv) testListLeads(t *testing.T) {
	muc := e.tc.addUser("Max", innonetpb.Role_NODE_STAFF, "MUC", "")
	staff := e.as(e.follower, muc)
	var ids []string
	for i := range 5 {
		l, err := staff.leads.SubmitLead(staff.ctx(t), sampleLead(fmt.Sprintf("Munich lead %d", i+1)))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, l.Id)
	}
	if want := []string{"MUC-0001", "MUC-0002", "MUC-0003", "MUC-0004", "MUC-0005"}; !slices.Equal(ids, want) {
		t.Fatalf("got IDs %v, want %v", ids, want)
	}
	e.review(t, "MUC-0002", innonetpb.Decision_APPROVE, "")
	e.review(t, "MUC-0004", innonetpb.Decision_APPROVE, "")
	e.review(t, "MUC-0005", innonetpb.Decision_DECLINE, "Out of scope.")
	bo := e.as(e.leader, e.bohai)
	if _, err := bo.leads.ClaimLead(bo.ctx(t), &innonetpb.ClaimLeadRequest{Id: "MUC-0004", RequestId: rid()}); err != nil {
		t.Fatal(err)
	}

	hq := e.as(e.replic, e.hq)
	list := func(c testClients, r *innonetpb.ListLeadsRequest) []string {
		t.Helper()
		resp, err := c.leads.ListLeads(c.ctx(t), r)
		if err != nil {
			t.Fatalf("list %v: %v", r, err)
		}
		var out []string
		for _, l := range resp.Leads {
			out = append(out, l.Id)
		}
		return out
	}
	tests := []struct {
		name string
		c    testClients
		req  *innonetpb.ListLeadsRequest
		want []string
	}{
		{"by site", hq, &innonetpb.ListLeadsRequest{Site: "MUC"}, ids},
		{"by site and stage", hq, &innonetpb.ListLeadsRequest{Site: "MUC", Stage: []innonetpb.Stage{innonetpb.Stage_SUBMITTED}}, []string{"MUC-0001", "MUC-0003"}},
		{"by stage", hq, &innonetpb.ListLeadsRequest{Stage: []innonetpb.Stage{innonetpb.Stage_DECLINED}}, []string{"MUC-0005"}},
		{"by division", hq, &innonetpb.ListLeadsRequest{Division: "BOHAI", Site: "MUC"}, []string{"MUC-0004"}},
		{"by division and stage", hq, &innonetpb.ListLeadsRequest{Division: "BOHAI", Stage: []innonetpb.Stage{innonetpb.Stage_APPROVED}}, nil},
		{"own site only", staff, &innonetpb.ListLeadsRequest{}, ids},
		{"published only", bo, &innonetpb.ListLeadsRequest{Site: "MUC"}, []string{"MUC-0002", "MUC-0004"}},
		{"stale", e.as(e.leader, e.hq), &innonetpb.ListLeadsRequest{Site: "MUC", Consistency: innonetpb.Consistency_STALE}, ids},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := list(tt.c, tt.req); !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}

	t.Run("pages", func(t *testing.T) {
		var pages [][]string
		var tokens []string
		token := ""
		for range 10 {
			resp, err := hq.leads.ListLeads(hq.ctx(t), &innonetpb.ListLeadsRequest{Site: "MUC", PageSize: 2, PageToken: token})
			if err != nil {
				t.Fatal(err)
			}
			var page []string
			for _, l := range resp.Leads {
				page = append(page, l.Id)
			}
			pages = append(pages, page)
			tokens = append(tokens, resp.NextPageToken)
			if token = resp.NextPageToken; token == "" {
				break
			}
		}
		want := [][]string{{"MUC-0001", "MUC-0002"}, {"MUC-0003", "MUC-0004"}, {"MUC-0005"}}
		if !slices.EqualFunc(pages, want, slices.Equal) {
			t.Errorf("got pages %v, want %v", pages, want)
		}
		if len(tokens) != 3 || tokens[0] == "" || tokens[1] == "" || tokens[2] != "" {
			t.Errorf("got page tokens %q, want two tokens then none", tokens)
		}
		_, err := hq.leads.ListLeads(hq.ctx(t), &innonetpb.ListLeadsRequest{PageToken: "not a token"})
		checkStatus(t, err, codes.InvalidArgument, "page_token")
		_, err = hq.leads.ListLeads(hq.ctx(t), &innonetpb.ListLeadsRequest{PageSize: 501})
		checkStatus(t, err, codes.InvalidArgument, "page_size", "500")
		_, err = hq.leads.ListLeads(hq.ctx(t), &innonetpb.ListLeadsRequest{Division: "SOUTH"})
		checkStatus(t, err, codes.InvalidArgument, "division")
	})
}

func (e *apiEnv) testUsers(t *testing.T) {
	admin := e.as(e.follower, e.admin)
	req := &innonetpb.CreateUserRequest{RequestId: rid(), Name: "Tamar", Role: innonetpb.Role_NODE_STAFF, Site: "TLV"}
	resp, err := admin.users.CreateUser(admin.ctx(t), req)
	if err != nil {
		t.Fatalf("create user: %v", err)
	}
	if resp.Token == "" || resp.User.Site != "TLV" || resp.User.Role != innonetpb.Role_NODE_STAFF || resp.User.Id == "" {
		t.Fatalf("got %v, want a TLV NODE_STAFF user with a token", resp)
	}
	me := e.as(e.replic, resp.Token)
	who, err := me.users.WhoAmI(me.ctx(t), &innonetpb.WhoAmIRequest{})
	if err != nil {
		t.Fatalf("who am I with the new token: %v", err)
	}
	if who.Id != resp.User.Id || who.Name != "Tamar" {
		t.Errorf("got %s %s, want %s Tamar", who.Id, who.Name, resp.User.Id)
	}
	again, err := admin.users.CreateUser(admin.ctx(t), req)
	if err != nil {
		t.Fatalf("retried create user: %v", err)
	}
	if again.User.Id != resp.User.Id || again.Token != "" {
		t.Errorf("retried create user: got %s token %q, want %s and no new token", again.User.Id, again.Token, resp.User.Id)
	}

	tests := []struct {
		name  string
		token string
		req   *innonetpb.CreateUserRequest
		want  codes.Code
		parts []string
	}{
		{"by node staff", e.bos, &innonetpb.CreateUserRequest{RequestId: rid(), Name: "Eve", Role: innonetpb.Role_ADMIN}, codes.PermissionDenied, []string{"ADMIN"}},
		{"by a division", e.yrd, &innonetpb.CreateUserRequest{RequestId: rid(), Name: "Eve", Role: innonetpb.Role_ADMIN}, codes.PermissionDenied, []string{"ADMIN"}},
		{"node staff without a site", e.admin, &innonetpb.CreateUserRequest{RequestId: rid(), Name: "Nobody", Role: innonetpb.Role_NODE_STAFF}, codes.InvalidArgument, []string{"site"}},
		{"division without a division", e.admin, &innonetpb.CreateUserRequest{RequestId: rid(), Name: "Nobody", Role: innonetpb.Role_DIVISION}, codes.InvalidArgument, []string{"division"}},
		{"no role", e.admin, &innonetpb.CreateUserRequest{RequestId: rid(), Name: "Nobody"}, codes.InvalidArgument, []string{"role"}},
		{"no name", e.admin, &innonetpb.CreateUserRequest{RequestId: rid(), Role: innonetpb.Role_HQ_REVIEWER}, codes.InvalidArgument, []string{"name"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := e.as(e.follower, tt.token)
			_, err := c.users.CreateUser(c.ctx(t), tt.req)
			checkStatus(t, err, tt.want, tt.parts...)
		})
	}
}

func (e *apiEnv) testCluster(t *testing.T) {
	want := map[string]bool{"CGO": true, "BOS": true, "CBG": true, "YRD": false} // site: voter
	for _, id := range e.tc.order {
		t.Run(id, func(t *testing.T) {
			c := e.as(e.tc.node(id), e.yrd)
			eventually(t, 10*time.Second, "cluster status on "+id, func() error {
				st, err := c.clusters.GetCluster(c.ctx(t), &innonetpb.GetClusterRequest{Consistency: innonetpb.Consistency_STALE})
				if err != nil {
					return err
				}
				if !st.Member || st.HealthKnown != (id == e.leader.Site()) {
					return fmt.Errorf("site %s: got member %v, health known %v; want a member, with health only on the leader", id, st.Member, st.HealthKnown)
				}
				if st.Site != id || st.Leader != e.leader.Site() || st.Term == 0 || st.AppliedIndex == 0 || st.CommitIndex == 0 {
					return fmt.Errorf("got site %s leader %s term %d applied %d commit %d, want %s, leader %s, term, applied and commit > 0",
						st.Site, st.Leader, st.Term, st.AppliedIndex, st.CommitIndex, id, e.leader.Site())
				}
				leaders := 0
				got := map[string]bool{}
				for _, m := range st.Members {
					got[m.Site] = m.Voter
					if m.Leader {
						leaders++
						if m.Site != st.Leader {
							return fmt.Errorf("member %s is flagged leader, but the leader is %s", m.Site, st.Leader)
						}
					}
					if m.ApiAddress != "" || m.RaftAddress != "" {
						return fmt.Errorf("member %s: got API address %q raft address %q, want none shown to a division", m.Site, m.ApiAddress, m.RaftAddress)
					}
				}
				if leaders != 1 {
					return fmt.Errorf("got %d members flagged leader, want 1", leaders)
				}
				if fmt.Sprint(got) != fmt.Sprint(want) {
					return fmt.Errorf("got members (site: voter) %v, want %v", got, want)
				}
				return nil
			})
		})
	}
	t.Run("default asks the leader, with health", func(t *testing.T) {
		c := e.as(e.follower, e.yrd)
		eventually(t, 10*time.Second, "healthy cluster", func() error {
			st, err := c.clusters.GetCluster(c.ctx(t), &innonetpb.GetClusterRequest{})
			if err != nil {
				return err
			}
			if st.Site != e.leader.Site() || !st.HealthKnown || !st.Healthy || st.FailureTolerance != 1 {
				return fmt.Errorf("got site %s health known %v healthy %v tolerance %d, want the leader %s, healthy, tolerance 1",
					st.Site, st.HealthKnown, st.Healthy, st.FailureTolerance, e.leader.Site())
			}
			for _, m := range st.Members {
				if !m.Healthy || m.Status != "ALIVE" || m.LastIndex == 0 || m.StableSince == nil {
					return fmt.Errorf("member %s: healthy %v status %s last index %d stable since %v", m.Site, m.Healthy, m.Status, m.LastIndex, m.StableSince)
				}
			}
			return nil
		})
	})
	t.Run("admins see the addresses", func(t *testing.T) {
		for _, cons := range []innonetpb.Consistency{innonetpb.Consistency_LEADER, innonetpb.Consistency_STALE} {
			c := e.as(e.follower, testAdminToken)
			st, err := c.clusters.GetCluster(c.ctx(t), &innonetpb.GetClusterRequest{Consistency: cons})
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range st.Members {
				if m.ApiAddress == "" || m.RaftAddress == "" {
					t.Errorf("%s: member %s: got API address %q raft address %q, want both", cons, m.Site, m.ApiAddress, m.RaftAddress)
				}
			}
		}
	})
	t.Run("REST shows no addresses to a division", func(t *testing.T) {
		code, _, body := restFrom(t, e.follower, "127.0.0.1", "GET", "/v1/cluster", e.yrd, nil)
		if code != http.StatusOK || !strings.Contains(string(body), `"members"`) {
			t.Fatalf("got %d %s, want 200 with members", code, body)
		}
		if strings.Contains(string(body), "127.0.0.1:") {
			t.Errorf("got %s, want no addresses", body)
		}
	})
	c := e.as(e.follower, "")
	_, err := c.clusters.GetCluster(context.Background(), &innonetpb.GetClusterRequest{})
	checkStatus(t, err, codes.Unauthenticated)
}
