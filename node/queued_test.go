package node

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"

	"innonet/cluster/faultnet"
	innonetpb "innonet/proto/innonet/v1"
)

// queuedCtx opts a call in to a queued answer.
func queuedCtx(ctx context.Context) context.Context {
	return metadata.AppendToOutgoingContext(ctx, mdAllowQueued, "true")
}

// postQueued sends a REST write with X-Innonet-Allow-Queued.
func postQueued(t *testing.T, n *Node, path, token string, body any) (int, http.Header, map[string]any) {
	t.Helper()
	raw, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, "http://"+n.Addr()+path, strings.NewReader(string(raw)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set(queuedHeader, "true")
	resp, err := (&http.Client{Timeout: 15 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("POST %s: %d and a body that is not JSON: %q", path, resp.StatusCode, b)
	}
	return resp.StatusCode, resp.Header, out
}

// TestQueuedAcrossCut (issue 17): a follower cut off from the two other
// sites takes writes whose callers opt in, answers them at once as queued
// (a header over gRPC, 202 over REST) and lists them to their authors;
// without the opt-in it still refuses UNAVAILABLE. It is restarted while
// cut off and keeps them. Once the link is back it delivers them in order
// with their request IDs: the submit is applied once, and the claim a
// rival division made meanwhile on the other side leaves the queued claim
// refused, with the leader's message listed to its author.
func TestQueuedAcrossCut(t *testing.T) {
	fn := faultnet.New()
	tc := newTestCluster(t, testVoters, nil, func(c *Config) { c.Cluster.Dial = fn.Dialer(c.Site) })
	t.Cleanup(fn.Close)
	st, err := tc.leaderNode().Cluster().Status()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range st.Members {
		fn.Name(m.ID, m.RaftAddr, m.APIAddr, tc.node(m.ID).Addr())
	}
	staff := tc.addUser("Emily Carter", innonetpb.Role_NODE_STAFF, "BOS", "")
	hqTok := tc.addUser("Wang Fang", innonetpb.Role_HQ_REVIEWER, "", "")
	yrdTok := tc.addUser("Li Wei", innonetpb.Role_DIVISION, "", "YRD")
	prdTok := tc.addUser("Chen Jie", innonetpb.Role_DIVISION, "", "PRD")
	leader := tc.leaderNode()
	cut := tc.follower(false)
	cutID := cut.Site()
	var others []string
	for _, id := range tc.order {
		if id != cutID {
			others = append(others, id)
		}
	}
	hq := tc.clients(leader, hqTok)
	sc := tc.clients(leader, staff)
	lead, err := sc.leads.SubmitLead(sc.ctx(t), sampleLead("Contested lead"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := hq.leads.ReviewLead(hq.ctx(t), &innonetpb.ReviewLeadRequest{Id: lead.Id, RequestId: rid(), Decision: innonetpb.Decision_APPROVE}); err != nil {
		t.Fatal(err)
	}
	tc.waitFor("the approved lead at "+cutID, func() bool {
		l, err := cut.State().Lead(lead.Id)
		return err == nil && l.Version >= 2
	})

	// A site restarted while cut off holds what its latest snapshot
	// holds (Raft applies no later entry before it hears the commit
	// index): take one, so it still knows the users after the restart.
	eventually(t, 10*time.Second, "a snapshot at "+cutID, cut.Cluster().Snapshot)
	fn.Split([]string{cutID}, others)
	tc.waitFor(cutID+" to know no leader", func() bool { return cut.Cluster().Reach() != nil })

	// A claim over gRPC, queued: an empty lead and the request ID in the
	// header x-innonet-queued.
	yrd := tc.clients(cut, yrdTok)
	claim := &innonetpb.ClaimLeadRequest{Id: lead.Id, RequestId: rid()}
	var header metadata.MD
	began := time.Now()
	got, err := yrd.leads.ClaimLead(queuedCtx(yrd.ctx(t)), claim, grpc.Header(&header))
	if err != nil {
		t.Fatalf("queued claim at the cut-off site: %v", err)
	}
	if v := header.Get(mdQueued); len(v) != 1 || v[0] != claim.RequestId || got.Id != "" {
		t.Errorf("queued claim: header %v, lead %q; want %s: [%s] and an empty lead", header, got.Id, mdQueued, claim.RequestId)
	}
	if took := time.Since(began); took > 2*time.Second {
		t.Errorf("queued claim answered after %s", took)
	}
	// A submit over REST, queued: 202 Accepted and a QueuedWrite.
	restSubmit := restLead("Queued over REST")
	code, h, out := postQueued(t, cut, "/v1/leads", staff, restSubmit)
	if code != http.StatusAccepted || field(out, "requestId") != restSubmit["requestId"] || field(out, "status") != "queued" ||
		h.Get(mdQueued) != restSubmit["requestId"] {
		t.Errorf("queued REST submit: got %d %v (header %q), want 202 with requestId %v and status queued", code, out, h.Get(mdQueued), restSubmit["requestId"])
	}
	// A comment through the console, which opts in: the notice says it
	// was saved here, and /queued lists it.
	web := newBrowser(t, cut, hqTok)
	code, page := web.get("/leads/" + lead.Id)
	if code != http.StatusOK {
		t.Fatalf("lead page at the cut-off site: %d", code)
	}
	form := url.Values{"csrf": {csrfIn(t, page)}, "rid": {"web-queued-comment"}, "version": {"2"},
		"body": {"Queued from the console"}, "visibility": {"SHARED"}}
	if code, loc, _ := web.post("/leads/"+lead.Id+"/comment", form); code != http.StatusSeeOther || loc != "/leads/"+lead.Id {
		t.Fatalf("console comment at the cut-off site: %d to %q", code, loc)
	}
	if _, page := web.get("/leads/" + lead.Id); !strings.Contains(page, `class="flash queued"`) || !strings.Contains(page, "it will be sent when the connection to the leader returns") {
		t.Errorf("the lead page after a queued comment does not say it was queued:\n%s", page)
	}
	if _, page := web.get("/queued"); !strings.Contains(page, `data-request-id="web-queued-comment"`) || !strings.Contains(page, "Waiting to be sent") ||
		!strings.Contains(page, `id="nav-queued"`) {
		t.Errorf("/queued does not list the queued comment as waiting:\n%s", page)
	}
	if _, page := web.get("/leads"); !strings.Contains(page, `class="badge queued"`) {
		t.Errorf("the lead list does not mark the lead with a queued write:\n%s", page)
	}
	// Without the opt-in: UNAVAILABLE, naming the cause, as before.
	c := tc.clients(cut, staff)
	_, err = c.leads.SubmitLead(c.ctx(t), sampleLead("Not queued"))
	checkStatus(t, err, codes.Unavailable, "no leader reachable from "+cutID)
	// A bad opt-in value is refused, naming the header.
	_, err = c.leads.SubmitLead(metadata.AppendToOutgoingContext(c.ctx(t), mdAllowQueued, "perhaps"), sampleLead("Bad opt-in"))
	checkStatus(t, err, codes.InvalidArgument, mdAllowQueued)

	// Meanwhile PRD claims the lead on the other side.
	prd := tc.clients(leader, prdTok)
	if _, err := prd.leads.ClaimLead(prd.ctx(t), &innonetpb.ClaimLeadRequest{Id: lead.Id, RequestId: rid()}); err != nil {
		t.Fatalf("PRD's claim at the leader: %v", err)
	}

	// The authors see their writes pending, at the cut-off site.
	list := func(token string) *innonetpb.ListQueuedWritesResponse {
		t.Helper()
		c := tc.clients(tc.node(cutID), token)
		resp, err := c.outbox.ListQueuedWrites(c.ctx(t), &innonetpb.ListQueuedWritesRequest{})
		if err != nil {
			t.Fatalf("list queued writes at %s: %v", cutID, err)
		}
		return resp
	}
	if l := list(yrdTok); l.Pending != 1 || len(l.Writes) != 1 || l.Writes[0].RequestId != claim.RequestId || l.Writes[0].LeadId != lead.Id {
		t.Errorf("YRD's queued writes while cut off: %v, want the claim pending", l)
	}

	// Restarted while cut off, the site keeps them.
	tc.stop(cutID)
	tc.restart(cutID)
	cut = tc.node(cutID)
	if l := list(staff); l.Pending != 1 || len(l.Writes) != 1 || l.Writes[0].Status != "queued" {
		t.Errorf("staff's queued writes after a restart: %v, want the submit pending", l)
	}

	fn.Heal()
	tc.waitFor("the outbox delivered", func() bool { return cut.outbox.Pending() == 0 })

	l := list(yrdTok).Writes[0]
	t.Logf("YRD's queued claim: %s %s: %s", l.Status, l.OutcomeCode, l.Outcome)
	if l.Status != "refused" || l.OutcomeCode == "" || l.Outcome == "" || !strings.Contains(l.Outcome, "PRD") {
		t.Errorf("YRD's queued claim after the cut: %v, want refused with the leader's message naming PRD", l)
	}
	if c := list(hqTok).Writes[0]; c.Status != "applied" || c.RequestId != "web-queued-comment" {
		t.Errorf("HQ's queued console comment after the cut: %v, want applied", c)
	}
	if _, page := web.get("/queued"); !strings.Contains(page, "Applied") {
		t.Errorf("/queued after the cut does not show the comment applied:\n%s", page)
	}
	s := list(staff).Writes[0]
	if s.Status != "applied" || s.GetLead().GetTitle() != "Queued over REST" {
		t.Errorf("staff's queued submit after the cut: %v, want applied with the lead", s)
	}
	leads, err := hq.leads.ListLeads(hq.ctx(t), &innonetpb.ListLeadsRequest{Consistency: innonetpb.Consistency_LINEARIZABLE})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, l := range leads.Leads {
		if l.Title == "Queued over REST" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("after the cut: %d leads titled %q, want exactly one", n, "Queued over REST")
	}
	// The queued submit sent again is answered with the lead it made.
	code, _, out = postQueued(t, cut, "/v1/leads", staff, restSubmit)
	if code != http.StatusOK || field(out, "id") != s.GetLead().GetId() {
		t.Errorf("the queued submit sent again: %d %v, want 200 and lead %s", code, out, s.GetLead().GetId())
	}
}
