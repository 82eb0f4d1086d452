package node

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"innonet/node/pipeline"
	innonetpb "innonet/proto/innonet/v1"
)

// waitFormat2 waits until the cluster runs log format 2, which the
// workflow's commands need (the leader raises it once every site reads
// it, within a health interval or so).
func waitFormat2(tc *testCluster, n *Node) {
	tc.t.Helper()
	tc.waitFor("log format 2", func() bool { return n.State().Format() >= pipeline.Format2 })
}

// flowLead is e.lead for the workflow's stages too: NEGOTIATING with a
// DIVISION note of YRD, and LOST (YRD closed it).
func (e *authzEnv) flowLead(t *testing.T, stage innonetpb.Stage) string {
	t.Helper()
	waitFormat2(e.tc, e.n)
	holder, hq := e.as(actHolder), e.as(actHQ)
	switch stage {
	case innonetpb.Stage_NEGOTIATING, innonetpb.Stage_LOST:
		id := e.lead(t, innonetpb.Stage_CLAIMED)
		if _, err := holder.leads.AdvanceLead(e.ctx(t, actHolder), &innonetpb.AdvanceLeadRequest{Id: id, RequestId: rid(),
			Stage: innonetpb.Stage_NEGOTIATING, Note: "our offer is 42M"}); err != nil {
			t.Fatalf("advance: %v", err)
		}
		if stage == innonetpb.Stage_LOST {
			if _, err := holder.leads.CloseLead(e.ctx(t, actHolder), &innonetpb.CloseLeadRequest{Id: id, RequestId: rid(),
				Reason: innonetpb.CloseLeadRequest_TERMS_NOT_AGREED, Comment: "42M was too little"}); err != nil {
				t.Fatalf("close: %v", err)
			}
		}
		return id
	case innonetpb.Stage_DECLINED:
		id := e.lead(t, innonetpb.Stage_SUBMITTED)
		if _, err := hq.leads.ReviewLead(e.ctx(t, actHQ), &innonetpb.ReviewLeadRequest{Id: id, RequestId: rid(),
			Decision: innonetpb.Decision_DECLINE, Comment: "out of scope"}); err != nil {
			t.Fatalf("decline: %v", err)
		}
		return id
	}
	return e.lead(t, stage)
}

func flowLead(stage innonetpb.Stage) func(*testing.T, *authzEnv, int) authzTarget {
	return func(t *testing.T, e *authzEnv, _ int) authzTarget { return authzTarget{lead: e.flowLead(t, stage)} }
}

// withInterests is an APPROVED lead in which both divisions of the matrix
// expressed interest.
func withInterests(t *testing.T, e *authzEnv, _ int) authzTarget {
	id := e.flowLead(t, innonetpb.Stage_APPROVED)
	for _, act := range []int{actHolder, actRival} {
		if _, err := e.as(act).leads.ExpressInterest(e.ctx(t, act), &innonetpb.ExpressInterestRequest{Id: id, RequestId: rid(),
			Rationale: "the rationale of " + actNames[act], Enterprise: "Enterprise of " + actNames[act]}); err != nil {
			t.Fatalf("express interest: %v", err)
		}
	}
	return authzTarget{lead: id}
}

// withThread is a lead of BOS held by YRD with a comment of each
// visibility, the rival's DIVISION comment from before the claim, and
// YRD's DIVISION note "our offer is 42M" on its advance.
func withThread(t *testing.T, e *authzEnv, _ int) authzTarget {
	id := e.flowLead(t, innonetpb.Stage_APPROVED)
	post := func(act int, vis innonetpb.Comment_Visibility, body string) {
		t.Helper()
		if _, err := e.as(act).leads.AddComment(e.ctx(t, act), &innonetpb.AddCommentRequest{Id: id, RequestId: rid(),
			Body: body, Visibility: vis}); err != nil {
			t.Fatalf("comment %q: %v", body, err)
		}
	}
	post(actRival, innonetpb.Comment_DIVISION, "PRD to HQ")
	post(actOwn, innonetpb.Comment_SHARED, "BOS to all")
	post(actHQ, innonetpb.Comment_HQ_AND_SITE, "HQ to BOS")
	holder := e.as(actHolder)
	if _, err := holder.leads.ClaimLead(e.ctx(t, actHolder), &innonetpb.ClaimLeadRequest{Id: id, RequestId: rid()}); err != nil {
		t.Fatalf("claim: %v", err)
	}
	if _, err := holder.leads.AdvanceLead(e.ctx(t, actHolder), &innonetpb.AdvanceLeadRequest{Id: id, RequestId: rid(),
		Stage: innonetpb.Stage_NEGOTIATING, Note: "our offer is 42M"}); err != nil {
		t.Fatalf("advance: %v", err)
	}
	post(actHQ, innonetpb.Comment_DIVISION, "HQ to YRD")
	return authzTarget{lead: id}
}

// threadReaders is what each column reads of withThread's thread.
var threadReaders = [numActs]string{
	actAdmin:  "PRD to HQ|BOS to all|HQ to BOS|our offer is 42M|HQ to YRD",
	actHQ:     "PRD to HQ|BOS to all|HQ to BOS|our offer is 42M|HQ to YRD",
	actOwn:    "BOS to all|HQ to BOS",
	actHolder: "BOS to all|our offer is 42M|HQ to YRD",
	actRival:  "PRD to HQ|BOS to all",
}

// workflowAuthzRows are the authorization matrix's rows of the workflow.
func workflowAuthzRows() []authzRow {
	const lead = "/innonet.v1.LeadService/"
	const (
		approved    = innonetpb.Stage_APPROVED
		claimed     = innonetpb.Stage_CLAIMED
		negotiating = innonetpb.Stage_NEGOTIATING
		lost        = innonetpb.Stage_LOST
		declined    = innonetpb.Stage_DECLINED
		submitted   = innonetpb.Stage_SUBMITTED
	)
	closeLead := func(ctx context.Context, c testClients, tg authzTarget) (any, error) {
		return c.leads.CloseLead(ctx, &innonetpb.CloseLeadRequest{Id: tg.lead, RequestId: rid(), Reason: innonetpb.CloseLeadRequest_DUPLICATE})
	}
	reopen := func(ctx context.Context, c testClients, tg authzTarget) (any, error) {
		return c.leads.ReopenLead(ctx, &innonetpb.ReopenLeadRequest{Id: tg.lead, RequestId: rid(), Stage: approved, Comment: "back on"})
	}
	express := func(ctx context.Context, c testClients, tg authzTarget) (any, error) {
		return c.leads.ExpressInterest(ctx, &innonetpb.ExpressInterestRequest{Id: tg.lead, RequestId: rid(), Rationale: "we want it"})
	}
	withdraw := func(ctx context.Context, c testClients, tg authzTarget) (any, error) {
		return c.leads.WithdrawInterest(ctx, &innonetpb.WithdrawInterestRequest{Id: tg.lead, RequestId: rid()})
	}
	interests := func(ctx context.Context, c testClients, tg authzTarget) (any, error) {
		return c.leads.ListInterests(ctx, &innonetpb.ListInterestsRequest{Id: tg.lead})
	}
	assign := func(ctx context.Context, c testClients, tg authzTarget) (any, error) {
		return c.leads.AssignLead(ctx, &innonetpb.AssignLeadRequest{Id: tg.lead, RequestId: rid(), Division: "PRD"})
	}
	setMode := func(ctx context.Context, c testClients, tg authzTarget) (any, error) {
		return c.leads.SetClaimMode(ctx, &innonetpb.SetClaimModeRequest{Id: tg.lead, RequestId: rid(), ClaimMode: innonetpb.ClaimMode_ASSIGNED})
	}
	comment := func(vis innonetpb.Comment_Visibility) func(context.Context, testClients, authzTarget) (any, error) {
		return func(ctx context.Context, c testClients, tg authzTarget) (any, error) {
			return c.leads.AddComment(ctx, &innonetpb.AddCommentRequest{Id: tg.lead, RequestId: rid(), Body: "Any news?", Visibility: vis})
		}
	}
	comments := func(ctx context.Context, c testClients, tg authzTarget) (any, error) {
		return c.leads.ListComments(ctx, &innonetpb.ListCommentsRequest{Id: tg.lead})
	}
	history := func(ctx context.Context, c testClients, tg authzTarget) (any, error) {
		return c.leads.GetLeadHistory(ctx, &innonetpb.GetLeadHistoryRequest{Id: tg.lead})
	}
	getLead := func(ctx context.Context, c testClients, tg authzTarget) (any, error) {
		return c.leads.GetLead(ctx, &innonetpb.GetLeadRequest{Id: tg.lead})
	}
	// The note of YRD's advance: HQ, admins and YRD read it; others see
	// that it exists.
	notedFor := func(act int) bool { return act == actAdmin || act == actHQ || act == actHolder }
	// Columns: no token, revoked, admin, HQ, own site, other site, holder division, rival division.
	return []authzRow{
		{method: lead + "CloseLead", when: "claimed", setup: flowLead(claimed), call: closeLead,
			want: cells{UA, UA, PD, OK, PD, PD, OK, PD},
			verify: func(t *testing.T, _ *authzEnv, _ int, resp any) {
				if l := resp.(*innonetpb.Lead); l.Stage != lost || l.CloseReason != innonetpb.CloseLeadRequest_DUPLICATE || l.Division != "YRD" {
					t.Errorf("closed lead: %s for %s held by %q", l.Stage, l.CloseReason, l.Division)
				}
			}},
		{method: lead + "CloseLead", when: "approved", setup: flowLead(approved), call: closeLead,
			want: cells{UA, UA, PD, FP, PD, PD, PD, PD}},
		{method: lead + "ReopenLead", when: "lost", setup: flowLead(lost), call: reopen,
			want: cells{UA, UA, PD, OK, PD, PD, PD, PD},
			verify: func(t *testing.T, _ *authzEnv, _ int, resp any) {
				if l := resp.(*innonetpb.Lead); l.Stage != approved || l.Division != "" || l.CloseReason != 0 {
					t.Errorf("reopened lead: %s held by %q for %s", l.Stage, l.Division, l.CloseReason)
				}
			}},
		{method: lead + "ReopenLead", when: "declined", setup: flowLead(declined), call: reopen,
			want: cells{UA, UA, PD, OK, PD, PD, PD, PD}},
		{method: lead + "ReopenLead", when: "claimed", setup: flowLead(claimed), call: reopen,
			want: cells{UA, UA, PD, FP, PD, PD, PD, PD}},
		{method: lead + "ExpressInterest", when: "approved", setup: flowLead(approved), call: express,
			want: cells{UA, UA, PD, PD, PD, PD, OK, OK}},
		{method: lead + "ExpressInterest", when: "claimed", setup: flowLead(claimed), call: express,
			want: cells{UA, UA, PD, PD, PD, PD, FP, FP}},
		{method: lead + "WithdrawInterest", when: "expressed", setup: withInterests, call: withdraw,
			want: cells{UA, UA, PD, PD, PD, PD, OK, OK},
			verify: func(t *testing.T, _ *authzEnv, _ int, resp any) {
				if i := resp.(*innonetpb.Interest); i.Outcome != innonetpb.Interest_WITHDRAWN || i.WithdrawTime == nil {
					t.Errorf("withdrawn interest: %v", i)
				}
			}},
		{method: lead + "WithdrawInterest", when: "none expressed", setup: flowLead(approved), call: withdraw,
			want: cells{UA, UA, PD, PD, PD, PD, FP, FP}},
		{method: lead + "ListInterests", when: "expressed", setup: withInterests, call: interests,
			want: cells{UA, UA, OK, OK, PD, PD, OK, OK},
			verify: func(t *testing.T, _ *authzEnv, act int, resp any) {
				var got []string
				for _, i := range resp.(*innonetpb.ListInterestsResponse).Interests {
					got = append(got, i.Division+": "+i.Rationale)
				}
				want := map[int]string{
					actAdmin: "PRD: the rationale of rival division|YRD: the rationale of holder division",
					actHQ:    "PRD: the rationale of rival division|YRD: the rationale of holder division",
					// A division reads its own, never its rival's.
					actHolder: "YRD: the rationale of holder division",
					actRival:  "PRD: the rationale of rival division",
				}[act]
				if strings.Join(got, "|") != want {
					t.Errorf("interests: got %q, want %q", strings.Join(got, "|"), want)
				}
			}},
		{method: lead + "ListInterests", when: "unpublished", setup: flowLead(submitted), call: interests,
			want: cells{UA, UA, OK, OK, PD, PD, PD, PD}},
		{method: lead + "AssignLead", when: "approved", setup: flowLead(approved), call: assign,
			want: cells{UA, UA, PD, OK, PD, PD, PD, PD},
			verify: func(t *testing.T, _ *authzEnv, _ int, resp any) {
				if l := resp.(*innonetpb.Lead); l.Stage != claimed || l.Division != "PRD" {
					t.Errorf("assigned lead: %s held by %q", l.Stage, l.Division)
				}
			}},
		{method: lead + "AssignLead", when: "claimed by another", setup: flowLead(claimed), call: assign,
			want: cells{UA, UA, PD, AB, PD, PD, PD, PD}},
		{method: lead + "SetClaimMode", when: "approved", setup: flowLead(approved), call: setMode,
			want: cells{UA, UA, PD, OK, PD, PD, PD, PD}},
		{method: lead + "SetClaimMode", when: "claimed", setup: flowLead(claimed), call: setMode,
			want: cells{UA, UA, PD, FP, PD, PD, PD, PD}},
		{method: lead + "GetClaimModeSetting", want: cells{UA, UA, OK, OK, OK, OK, OK, OK},
			call: func(ctx context.Context, c testClients, _ authzTarget) (any, error) {
				return c.leads.GetClaimModeSetting(ctx, &innonetpb.GetClaimModeSettingRequest{})
			}},
		// OPEN, the default: the matrix's other leads are claimed.
		{method: lead + "UpdateClaimModeSetting", want: cells{UA, UA, PD, OK, PD, PD, PD, PD},
			setup: func(t *testing.T, e *authzEnv, _ int) authzTarget { waitFormat2(e.tc, e.n); return authzTarget{} },
			call: func(ctx context.Context, c testClients, _ authzTarget) (any, error) {
				return c.leads.UpdateClaimModeSetting(ctx, &innonetpb.UpdateClaimModeSettingRequest{RequestId: rid(), ClaimMode: innonetpb.ClaimMode_OPEN})
			}},
		{method: lead + "AddComment", when: "shared", setup: flowLead(claimed), call: comment(innonetpb.Comment_SHARED),
			want: cells{UA, UA, PD, OK, OK, PD, OK, OK}},
		{method: lead + "AddComment", when: "HQ and site", setup: flowLead(claimed), call: comment(innonetpb.Comment_HQ_AND_SITE),
			want: cells{UA, UA, PD, OK, OK, PD, PD, PD}},
		{method: lead + "AddComment", when: "division", setup: flowLead(claimed), call: comment(innonetpb.Comment_DIVISION),
			want: cells{UA, UA, PD, OK, PD, PD, OK, OK},
			verify: func(t *testing.T, _ *authzEnv, act int, resp any) {
				// HQ's goes to the division holding the lead; a division's is its own.
				if got, want := resp.(*innonetpb.Comment).Division, map[int]string{actHQ: "YRD", actHolder: "YRD", actRival: "PRD"}[act]; got != want {
					t.Errorf("comment for division %q, want %q", got, want)
				}
			}},
		{method: lead + "AddComment", when: "unpublished", setup: flowLead(submitted), call: comment(innonetpb.Comment_SHARED),
			want: cells{UA, UA, PD, OK, OK, PD, PD, PD}},
		{method: lead + "ListComments", when: "a thread of every visibility", setup: withThread, call: comments,
			want: cells{UA, UA, OK, OK, OK, PD, OK, OK},
			verify: func(t *testing.T, _ *authzEnv, act int, resp any) {
				var got []string
				for _, c := range resp.(*innonetpb.ListCommentsResponse).Comments {
					got = append(got, c.Body)
				}
				if strings.Join(got, "|") != threadReaders[act] {
					t.Errorf("thread: got %q, want %q", strings.Join(got, "|"), threadReaders[act])
				}
			}},
		{method: lead + "ListComments", when: "unpublished", setup: flowLead(submitted), call: comments,
			want: cells{UA, UA, OK, OK, OK, PD, PD, PD}},
		{method: lead + "GetLeadHistory", when: "a division's note", setup: flowLead(negotiating), call: history,
			want: cells{UA, UA, OK, OK, OK, PD, OK, OK},
			verify: func(t *testing.T, _ *authzEnv, act int, resp any) {
				events := resp.(*innonetpb.GetLeadHistoryResponse).Events
				e := events[len(events)-1]
				if notedFor(act) != (e.Comment == "our offer is 42M") || notedFor(act) == e.CommentHidden ||
					e.Visibility != innonetpb.Comment_DIVISION || e.VisibleTo != "YRD" {
					t.Errorf("the advance's event: comment %q hidden %v (%s %s)", e.Comment, e.CommentHidden, e.Visibility, e.VisibleTo)
				}
				if !slices.ContainsFunc(e.Changes, func(c *innonetpb.FieldChange) bool {
					return c.Field == "stage" && c.Old == "CLAIMED" && c.New == "NEGOTIATING"
				}) {
					t.Errorf("the advance's event: changes %v", e.Changes)
				}
			}},
		{method: lead + "GetLead", when: "a division's note", setup: flowLead(negotiating), call: getLead,
			want: cells{UA, UA, OK, OK, OK, PD, OK, OK},
			verify: func(t *testing.T, _ *authzEnv, act int, resp any) {
				l := resp.(*innonetpb.Lead)
				if notedFor(act) != (l.StageComment == "our offer is 42M") || notedFor(act) == l.StageCommentHidden {
					t.Errorf("stage comment %q hidden %v", l.StageComment, l.StageCommentHidden)
				}
			}},
	}
}

// flowUsers is a cluster of three voters and a read replica with a user
// of each kind, for the workflow's end-to-end tests.
type flowUsers struct {
	tc                            *testCluster
	hq, bos, cbg, yrd, prd, bohai string // tokens
}

func newFlowUsers(t *testing.T) *flowUsers {
	t.Helper()
	tc := newTestCluster(t, testVoters, testNonVoters)
	f := &flowUsers{tc: tc}
	f.hq = tc.addUser("Hui Reviewer", innonetpb.Role_HQ_REVIEWER, "", "")
	f.bos = tc.addUser("Beth Boston", innonetpb.Role_NODE_STAFF, "BOS", "")
	f.cbg = tc.addUser("Colin Cambridge", innonetpb.Role_NODE_STAFF, "CBG", "")
	f.yrd = tc.addUser("Yang Delta", innonetpb.Role_DIVISION, "", "YRD")
	f.prd = tc.addUser("Pearl Delta", innonetpb.Role_DIVISION, "", "PRD")
	f.bohai = tc.addUser("Bo Hai", innonetpb.Role_DIVISION, "", "BOHAI")
	waitFormat2(tc, tc.leaderNode())
	return f
}

// at returns clients of site id for token tok.
func (f *flowUsers) at(id, tok string) testClients { return f.tc.clients(f.tc.node(id), tok) }

// TestWorkflowAcrossSites plays the week through the gRPC API,
// each user through its own site: HQ returns a lead with a question, the
// site answers in the thread, HQ approves it for assignment, two
// divisions express interest, HQ assigns it, the winner's note stays
// between it and HQ, the deal falls through and HQ reopens it; who sees
// what is checked for HQ, the submitting site, another site, the winner
// and its rival at every step.
func TestWorkflowAcrossSites(t *testing.T) {
	f := newFlowUsers(t)
	hq, bos, cbg := f.at("CGO", f.hq), f.at("BOS", f.bos), f.at("CBG", f.cbg)
	yrd, prd := f.at("YRD", f.yrd), f.at("CBG", f.prd)

	l, err := bos.leads.SubmitLead(bos.ctx(t), sampleLead("Bioengineering research centre"))
	if err != nil {
		t.Fatal(err)
	}
	id := l.Id
	if _, err := hq.leads.ReviewLead(hq.ctx(t), &innonetpb.ReviewLeadRequest{Id: id, RequestId: rid(),
		Decision: innonetpb.Decision_RETURN, Comment: "Which cell lines?"}); err != nil {
		t.Fatal(err)
	}
	if _, err := bos.leads.UpdateLead(bos.ctx(t), &innonetpb.UpdateLeadRequest{Id: id, RequestId: rid(),
		Summary: proto.String("CHO and HEK293 lines."), Comment: "CHO and HEK293"}); err != nil {
		t.Fatal(err)
	}
	// The review's question and the answer are one HQ_AND_SITE thread.
	thread := func(c testClients) []string {
		t.Helper()
		resp, err := c.leads.ListComments(c.ctx(t), &innonetpb.ListCommentsRequest{Id: id})
		if err != nil {
			t.Fatalf("ListComments: %v", err)
		}
		var out []string
		for _, c := range resp.Comments {
			out = append(out, fmt.Sprintf("%s %s: %s", c.Visibility, c.UserName, c.Body))
		}
		return out
	}
	want := []string{"HQ_AND_SITE Hui Reviewer: Which cell lines?", "HQ_AND_SITE Beth Boston: CHO and HEK293"}
	if got := thread(bos); !slices.Equal(got, want) {
		t.Errorf("the site's thread: got %q, want %q", got, want)
	}
	if _, err := bos.leads.AddComment(bos.ctx(t), &innonetpb.AddCommentRequest{Id: id, RequestId: rid(),
		Body: "Datasheets follow by mail.", Visibility: innonetpb.Comment_HQ_AND_SITE}); err != nil {
		t.Fatal(err)
	}
	if _, err := hq.leads.ReviewLead(hq.ctx(t), &innonetpb.ReviewLeadRequest{Id: id, RequestId: rid(),
		Decision: innonetpb.Decision_APPROVE, ClaimMode: innonetpb.ClaimMode_ASSIGNED}); err != nil {
		t.Fatal(err)
	}
	// Published now, the divisions see the lead but not the review's Q&A.
	if got := thread(yrd); len(got) != 0 {
		t.Errorf("a division reads the review's Q&A: %q", got)
	}
	// ASSIGNED: no claim; both divisions say why they want it.
	_, err = prd.leads.ClaimLead(prd.ctx(t), &innonetpb.ClaimLeadRequest{Id: id, RequestId: rid()})
	checkStatus(t, err, codes.FailedPrecondition, "HQ assigns this lead")
	for _, d := range []struct {
		c          testClients
		why, which string
	}{{yrd, "Suzhou biomedicine cluster", "Suzhou BioBay"}, {prd, "Shenzhen CDMO capacity", "Shenzhen Bio"}} {
		i, err := d.c.leads.ExpressInterest(d.c.ctx(t), &innonetpb.ExpressInterestRequest{Id: id, RequestId: rid(),
			Rationale: d.why, Enterprise: d.which})
		if err != nil || i.Outcome != innonetpb.Interest_PENDING || i.Rationale != d.why {
			t.Fatalf("express interest: %v, %v", i, err)
		}
	}
	listed := func(c testClients) []string {
		t.Helper()
		resp, err := c.leads.ListInterests(c.ctx(t), &innonetpb.ListInterestsRequest{Id: id})
		if err != nil {
			t.Fatalf("ListInterests: %v", err)
		}
		var out []string
		for _, i := range resp.Interests {
			out = append(out, fmt.Sprintf("%s %s (%s, %s)", i.Division, i.Outcome, i.Rationale, i.Enterprise))
		}
		return out
	}
	if got := listed(hq); !slices.Equal(got, []string{"PRD PENDING (Shenzhen CDMO capacity, Shenzhen Bio)",
		"YRD PENDING (Suzhou biomedicine cluster, Suzhou BioBay)"}) {
		t.Errorf("HQ's view of the interests: %q", got)
	}
	if got := listed(prd); !slices.Equal(got, []string{"PRD PENDING (Shenzhen CDMO capacity, Shenzhen Bio)"}) {
		t.Errorf("PRD's view of the interests: %q", got)
	}
	_, err = bos.leads.ListInterests(bos.ctx(t), &innonetpb.ListInterestsRequest{Id: id})
	checkStatus(t, err, codes.PermissionDenied, "between the divisions and HQ")
	// HQ assigns it to YRD: a second assignment and a claim are told who won.
	if l, err := hq.leads.AssignLead(hq.ctx(t), &innonetpb.AssignLeadRequest{Id: id, RequestId: rid(),
		Division: "YRD", Comment: "Closest to the cell-line suppliers"}); err != nil || l.Division != "YRD" {
		t.Fatalf("assign: %v, %v", l, err)
	}
	_, err = hq.leads.AssignLead(hq.ctx(t), &innonetpb.AssignLeadRequest{Id: id, RequestId: rid(), Division: "PRD"})
	checkStatus(t, err, codes.Aborted, "already claimed by YRD")
	if got := listed(hq); !slices.Equal(got, []string{"PRD NOT_CHOSEN (Shenzhen CDMO capacity, Shenzhen Bio)",
		"YRD CHOSEN (Suzhou biomedicine cluster, Suzhou BioBay)"}) {
		t.Errorf("the interests after the assignment: %q", got)
	}
	// YRD's negotiation note is YRD's and HQ's.
	if _, err := yrd.leads.AdvanceLead(yrd.ctx(t), &innonetpb.AdvanceLeadRequest{Id: id, RequestId: rid(),
		Stage: innonetpb.Stage_NEGOTIATING, Note: "our offer is 42M"}); err != nil {
		t.Fatal(err)
	}
	for _, r := range []struct {
		name  string
		c     testClients
		reads bool
	}{{"HQ", hq, true}, {"the winner", yrd, true}, {"its rival", prd, false}, {"the submitting site", bos, false}} {
		l, err := r.c.leads.GetLead(r.c.ctx(t), &innonetpb.GetLeadRequest{Id: id})
		if err != nil {
			t.Fatalf("%s: GetLead: %v", r.name, err)
		}
		h, err := r.c.leads.GetLeadHistory(r.c.ctx(t), &innonetpb.GetLeadHistoryRequest{Id: id})
		if err != nil {
			t.Fatalf("%s: GetLeadHistory: %v", r.name, err)
		}
		last := h.Events[len(h.Events)-1]
		inThread := slices.ContainsFunc(thread(r.c), func(s string) bool { return strings.Contains(s, "42M") })
		if (l.StageComment == "our offer is 42M") != r.reads || l.StageCommentHidden == r.reads ||
			(last.Comment == "our offer is 42M") != r.reads || last.CommentHidden == r.reads || inThread != r.reads {
			t.Errorf("%s reads the note: lead %q (hidden %v), history %q (hidden %v), thread %v; want %v",
				r.name, l.StageComment, l.StageCommentHidden, last.Comment, last.CommentHidden, inThread, r.reads)
		}
		if last.Action != "ADVANCE" || last.UserName != "Yang Delta" {
			t.Errorf("%s: the last event is %s by %s", r.name, last.Action, last.UserName)
		}
	}
	for _, call := range []func() error{
		func() error { _, err := cbg.leads.GetLead(cbg.ctx(t), &innonetpb.GetLeadRequest{Id: id}); return err },
		func() error {
			_, err := cbg.leads.ListComments(cbg.ctx(t), &innonetpb.ListCommentsRequest{Id: id})
			return err
		},
		func() error {
			_, err := cbg.leads.ListInterests(cbg.ctx(t), &innonetpb.ListInterestsRequest{Id: id})
			return err
		},
	} {
		checkStatus(t, call(), codes.PermissionDenied, "may not see lead "+id)
	}
	// The deal falls through; HQ reopens it for the divisions.
	_, err = prd.leads.CloseLead(prd.ctx(t), &innonetpb.CloseLeadRequest{Id: id, RequestId: rid(), Reason: innonetpb.CloseLeadRequest_DUPLICATE})
	checkStatus(t, err, codes.PermissionDenied, "not held by PRD")
	_, err = yrd.leads.CloseLead(yrd.ctx(t), &innonetpb.CloseLeadRequest{Id: id, RequestId: rid(), Reason: innonetpb.CloseLeadRequest_OTHER})
	checkStatus(t, err, codes.InvalidArgument, "comment", "OTHER")
	if l, err := yrd.leads.CloseLead(yrd.ctx(t), &innonetpb.CloseLeadRequest{Id: id, RequestId: rid(),
		Reason: innonetpb.CloseLeadRequest_TERMS_NOT_AGREED, Comment: "They asked for 60M"}); err != nil || l.Stage != innonetpb.Stage_LOST {
		t.Fatalf("close: %v, %v", l, err)
	}
	l, err = hq.leads.ReopenLead(hq.ctx(t), &innonetpb.ReopenLeadRequest{Id: id, RequestId: rid(),
		Stage: innonetpb.Stage_APPROVED, Comment: "Partner lowered the price"})
	if err != nil || l.Stage != innonetpb.Stage_APPROVED || l.Division != "" || l.ClaimMode != innonetpb.ClaimMode_ASSIGNED {
		t.Fatalf("reopen: %v, %v", l, err)
	}
	// Every event says what it changed.
	h, err := hq.leads.GetLeadHistory(hq.ctx(t), &innonetpb.GetLeadHistoryRequest{Id: id})
	if err != nil {
		t.Fatal(err)
	}
	var changes []string
	for _, e := range h.Events {
		var cs []string
		for _, c := range e.Changes {
			if c.Field != "summary" && c.Field != "title" && c.Field != "organization" {
				cs = append(cs, fmt.Sprintf("%s %s→%s", c.Field, c.Old, c.New))
			}
		}
		changes = append(changes, e.Action+": "+strings.Join(cs, ", "))
	}
	wantChanges := []string{
		"SUBMIT: stage →SUBMITTED, country →US, sector →LIFE_SCIENCES_HEALTH, trl →5, dealType →INVESTMENT",
		"RETURN: stage SUBMITTED→RETURNED",
		"RESUBMIT: stage RETURNED→SUBMITTED",
		"APPROVE: stage SUBMITTED→APPROVED, claimMode →ASSIGNED",
		"EXPRESS_INTEREST: interest.rationale →Suzhou biomedicine cluster, interest.enterprise →Suzhou BioBay",
		"EXPRESS_INTEREST: interest.rationale →Shenzhen CDMO capacity, interest.enterprise →Shenzhen Bio",
		"ASSIGN: stage APPROVED→CLAIMED, division →YRD",
		"ADVANCE: stage CLAIMED→NEGOTIATING",
		"CLOSE: stage NEGOTIATING→LOST, closeReason →TERMS_NOT_AGREED",
		"REOPEN: stage LOST→APPROVED, division YRD→, closeReason TERMS_NOT_AGREED→",
	}
	if !slices.Equal(changes, wantChanges) {
		t.Errorf("the history's changes:\n%s\nwant\n%s", strings.Join(changes, "\n"), strings.Join(wantChanges, "\n"))
	}
	// A division reads that PRD expressed interest, not why.
	h, err = yrd.leads.GetLeadHistory(yrd.ctx(t), &innonetpb.GetLeadHistoryRequest{Id: id})
	if err != nil {
		t.Fatal(err)
	}
	if e := h.Events[5]; e.Action != "EXPRESS_INTEREST" || e.UserName != "Pearl Delta" || !e.CommentHidden || len(e.Changes) != 0 {
		t.Errorf("YRD reads PRD's interest event as %v", e)
	}
}

// TestAssignRaceAcrossSites has HQ assign a lead while two divisions
// claim it, each through its own site: exactly one wins, and the others
// are told which division holds the lead.
func TestAssignRaceAcrossSites(t *testing.T) {
	f := newFlowUsers(t)
	hq, bos := f.at("CGO", f.hq), f.at("BOS", f.bos)
	for round := range 5 {
		l, err := bos.leads.SubmitLead(bos.ctx(t), sampleLead(fmt.Sprintf("Race %d", round)))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := hq.leads.ReviewLead(hq.ctx(t), &innonetpb.ReviewLeadRequest{Id: l.Id, RequestId: rid(),
			Decision: innonetpb.Decision_APPROVE}); err != nil {
			t.Fatal(err)
		}
		racers := []struct {
			division string
			call     func() (*innonetpb.Lead, error)
		}{
			{"BOHAI", func() (*innonetpb.Lead, error) {
				c := f.at("CBG", f.hq)
				return c.leads.AssignLead(c.ctx(t), &innonetpb.AssignLeadRequest{Id: l.Id, RequestId: rid(), Division: "BOHAI"})
			}},
			{"YRD", func() (*innonetpb.Lead, error) {
				c := f.at("YRD", f.yrd)
				return c.leads.ClaimLead(c.ctx(t), &innonetpb.ClaimLeadRequest{Id: l.Id, RequestId: rid()})
			}},
			{"PRD", func() (*innonetpb.Lead, error) {
				c := f.at("BOS", f.prd)
				return c.leads.ClaimLead(c.ctx(t), &innonetpb.ClaimLeadRequest{Id: l.Id, RequestId: rid()})
			}},
		}
		errs := make([]error, len(racers))
		var wg sync.WaitGroup
		for i, r := range racers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = r.call()
			}()
		}
		wg.Wait()
		got, err := hq.leads.GetLead(hq.ctx(t), &innonetpb.GetLeadRequest{Id: l.Id})
		if err != nil {
			t.Fatal(err)
		}
		winners := 0
		for i, err := range errs {
			switch {
			case err == nil:
				winners++
				if got.Division != racers[i].division {
					t.Errorf("round %d: %s won, the lead is held by %s", round, racers[i].division, got.Division)
				}
			case status.Code(err) != codes.Aborted || !strings.Contains(err.Error(), "already claimed by "+got.Division):
				t.Errorf("round %d: %s lost with %v, want ABORTED naming %s", round, racers[i].division, err, got.Division)
			}
		}
		if winners != 1 || got.Stage != innonetpb.Stage_CLAIMED || got.Version != 3 {
			t.Errorf("round %d: %d winners, lead %s v%d held by %s", round, winners, got.Stage, got.Version, got.Division)
		}
	}
}

// TestWorkflowREST drives the workflow over REST on the paths, and
// checks the settings endpoint, the enums by name (in any case, with or
// without their prefix) and the refusals of unknown fields, enum values
// and query parameters.
func TestWorkflowREST(t *testing.T) {
	f := newFlowUsers(t)
	c := newRESTClient(f.tc.follower(false))
	l := c.ok(t, "POST", "/v1/leads", f.bos, restLead("Future-chain lab"))
	id := field(l, "id")
	// The default claim mode, read by anyone, changed by HQ.
	checkLead(t, c.ok(t, "GET", "/v1/settings/claim-mode", f.prd, nil), map[string]string{"claimMode": "OPEN", "updatedBy": ""})
	code, out := c.do(t, "PUT", "/v1/settings/claim-mode", f.yrd, map[string]any{"requestId": rid(), "claimMode": "ASSIGNED"})
	if code != http.StatusForbidden {
		t.Errorf("PUT /v1/settings/claim-mode as a division: %d %v, want 403", code, out)
	}
	set := c.ok(t, "PUT", "/v1/settings/claim-mode", f.hq, map[string]any{"requestId": rid(), "claimMode": "ASSIGNED"})
	checkLead(t, set, map[string]string{"claimMode": "ASSIGNED", "updatedByName": "Hui Reviewer"})
	checkLead(t, c.ok(t, "POST", "/v1/leads/"+id+":review", f.hq, map[string]any{"requestId": rid(), "decision": "APPROVE"}),
		map[string]string{"stage": "APPROVED", "claimMode": "ASSIGNED"})
	steps := []struct {
		method, path, token string
		body                map[string]any
		want                map[string]string
	}{
		{"POST", "/v1/leads/" + id + ":express-interest", f.yrd, map[string]any{"requestId": rid(), "rationale": "Suzhou", "enterprise": "Suzhou Bio"},
			map[string]string{"division": "YRD", "outcome": "PENDING", "enterprise": "Suzhou Bio", "userName": "Yang Delta"}},
		{"POST", "/v1/leads/" + id + ":express-interest", f.bohai, map[string]any{"requestId": rid(), "rationale": "Tianjin"},
			map[string]string{"division": "BOHAI", "outcome": "PENDING"}},
		{"POST", "/v1/leads/" + id + ":withdraw-interest", f.bohai, map[string]any{"requestId": rid()},
			map[string]string{"division": "BOHAI", "outcome": "WITHDRAWN"}},
		{"POST", "/v1/leads/" + id + ":set-claim-mode", f.hq, map[string]any{"requestId": rid(), "claimMode": "claim_mode_assigned"},
			map[string]string{"claimMode": "ASSIGNED"}},
		{"POST", "/v1/leads/" + id + ":assign", f.hq, map[string]any{"requestId": rid(), "division": "YRD", "comment": "Suzhou it is"},
			map[string]string{"stage": "CLAIMED", "division": "YRD", "stageComment": "Suzhou it is"}},
		{"POST", "/v1/leads/" + id + "/comments", f.yrd, map[string]any{"requestId": rid(), "body": "Meeting on Monday", "visibility": "division"},
			map[string]string{"visibility": "DIVISION", "division": "YRD", "seq": "1"}},
		{"POST", "/v1/leads/" + id + ":advance", f.yrd, map[string]any{"requestId": rid(), "stage": "NEGOTIATING", "note": "term sheet sent", "visibility": "SHARED"},
			map[string]string{"stage": "NEGOTIATING", "stageComment": "term sheet sent", "stageCommentVisibility": "SHARED"}},
		{"POST", "/v1/leads/" + id + ":close", f.hq, map[string]any{"requestId": rid(), "reason": "project_stopped", "comment": "funding gone"},
			map[string]string{"stage": "LOST", "closeReason": "PROJECT_STOPPED", "division": "YRD", "stageCommentVisibility": "DIVISION"}},
		{"POST", "/v1/leads/" + id + ":reopen", f.hq, map[string]any{"requestId": rid(), "stage": "SUBMITTED", "comment": "new investor"},
			map[string]string{"stage": "SUBMITTED", "division": "", "closeReason": "REASON_UNSPECIFIED"}},
	}
	for _, s := range steps {
		checkLead(t, c.ok(t, s.method, s.path, s.token, s.body), s.want)
	}
	// PRD reads the shared note but not HQ's close comment, nor YRD's comment.
	th := c.ok(t, "GET", "/v1/leads/"+id+"/comments", f.hq, nil)
	if n := len(th["comments"].([]any)); n != 5 {
		t.Errorf("HQ's thread has %d comments, want 5: %v", n, th)
	}
	h := c.ok(t, "GET", "/v1/leads/"+id+"/history?consistency=LINEARIZABLE", f.bos, nil)
	events, _ := h["events"].([]any)
	closed := events[len(events)-2].(map[string]any)
	if field(closed, "action") != "CLOSE" || closed["commentHidden"] != true || field(closed, "comment") != "" {
		t.Errorf("the site reads the close event as %v", closed)
	}
	changes, _ := closed["changes"].([]any)
	if len(changes) != 2 || field(changes[1].(map[string]any), "field") != "closeReason" || field(changes[1].(map[string]any), "new") != "PROJECT_STOPPED" {
		t.Errorf("the close event's changes: %v", changes)
	}
	interests := c.ok(t, "GET", "/v1/leads/"+id+"/interests", f.hq, nil)
	if n := len(interests["interests"].([]any)); n != 2 || interests["read"] == nil {
		t.Errorf("GET interests: %v", interests)
	}
	// Refusals: 400 naming what is wrong.
	for _, tt := range []struct {
		name, method, path, token string
		body                      any
		want                      int
		parts                     []string
	}{
		{"unknown query parameter", "GET", "/v1/leads/" + id + "/comments?visibility=SHARED", f.hq, nil, 400,
			[]string{`unknown query parameter "visibility"`, "consistency", "maxStaleness"}},
		{"unknown filter", "GET", "/v1/leads?colour=blue", f.hq, nil, 400, []string{`"colour"`, "pageSize"}},
		{"unknown JSON field", "POST", "/v1/leads/" + id + ":reopen", f.hq, map[string]any{"requestId": rid(), "stage": "APPROVED", "comment": "x", "division": "YRD"}, 400,
			[]string{`unknown field "division"; this request takes id, requestId`}},
		{"unknown reason", "POST", "/v1/leads/" + id + ":close", f.hq, map[string]any{"requestId": rid(), "reason": "bored"}, 400,
			[]string{`reason: "bored" is not a close reason; valid values: PARTNER_WITHDREW, TERMS_NOT_AGREED, WENT_TO_ANOTHER_REGION, PROJECT_STOPPED, DUPLICATE, OTHER`}},
		{"unknown visibility", "POST", "/v1/leads/" + id + "/comments", f.hq, map[string]any{"requestId": rid(), "body": "hi", "visibility": "public"}, 400,
			[]string{`visibility: "public" is not a comment visibility; valid values: SHARED, HQ_AND_SITE, DIVISION`}},
		{"bad visibility", "POST", "/v1/leads/" + id + "/comments", f.hq, map[string]any{"requestId": rid(), "body": "hi"}, 400, []string{"visibility", "SHARED", "HQ_AND_SITE", "DIVISION"}},
		{"assign a site", "POST", "/v1/leads/" + id + ":assign", f.hq, map[string]any{"requestId": rid(), "division": "MUC"}, 400, []string{"division", "BOHAI, YRD or PRD"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, out := c.do(t, tt.method, tt.path, tt.token, tt.body)
			if code != tt.want {
				t.Fatalf("got %d %v, want %d", code, out, tt.want)
			}
			for _, p := range tt.parts {
				if !strings.Contains(field(out, "message"), p) {
					t.Errorf("message %q, want it to mention %q", field(out, "message"), p)
				}
			}
		})
	}
}
