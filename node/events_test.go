package node

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	innonetpb "innonet/proto/innonet/v1"
)

// eventKey identifies an event.
func eventKey(e *innonetpb.HistoryEvent) string { return fmt.Sprintf("%s/%d", e.LeadId, e.Seq) }

// TestWatchEvents streams the history from one site, stops, writes more,
// and resumes at another site from the cursor: every event arrives once,
// in log order, and only those the caller may see.
func TestWatchEvents(t *testing.T) {
	tc := newTestCluster(t, []string{"CGO", "BOS", "MUC"}, nil)
	leader := tc.leaderNode()
	waitFormat2(tc, leader)
	follower := tc.follower(false)
	bosTok := tc.addUser("Beth Boston", innonetpb.Role_NODE_STAFF, "BOS", "")
	cbgTok := tc.addUser("Colin Cambridge", innonetpb.Role_NODE_STAFF, "CBG", "")
	hqTok := tc.addUser("Hui Reviewer", innonetpb.Role_HQ_REVIEWER, "", "")
	bos, hq := tc.clients(leader, bosTok), tc.clients(leader, hqTok)
	var ids []string
	for i := range 3 {
		l, err := bos.leads.SubmitLead(bos.ctx(t), sampleLead(fmt.Sprintf("Streamed lead %d", i)))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, l.Id)
	}
	if _, err := hq.leads.ReviewLead(hq.ctx(t), &innonetpb.ReviewLeadRequest{Id: ids[0], RequestId: rid(), Decision: innonetpb.Decision_APPROVE}); err != nil {
		t.Fatal(err)
	}

	// Watch at a follower until the four events have come.
	fc := tc.clients(follower, hqTok)
	ctx, cancel := context.WithTimeout(withToken(context.Background(), hqTok), 20*time.Second)
	stream, err := fc.leads.WatchEvents(ctx, &innonetpb.WatchEventsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	var cursor, last uint64
	for len(got) < 4 {
		m, err := stream.Recv()
		if err != nil {
			t.Fatalf("after %v: %v", got, err)
		}
		if m.Event == nil {
			continue
		}
		if m.Event.LogIndex < last || m.Cursor < cursor {
			t.Errorf("out of order: event at %d after %d, cursor %d after %d", m.Event.LogIndex, last, m.Cursor, cursor)
		}
		last, cursor = m.Event.LogIndex, m.Cursor
		got = append(got, eventKey(m.Event)+" "+m.Event.Action)
	}
	cancel()
	want := []string{ids[0] + "/1 SUBMIT", ids[1] + "/1 SUBMIT", ids[2] + "/1 SUBMIT", ids[0] + "/2 APPROVE"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("events %v, want %v", got, want)
	}

	// More happens while nobody watches; the stream resumes at the leader.
	if _, err := bos.leads.UpdateLead(bos.ctx(t), &innonetpb.UpdateLeadRequest{Id: ids[1], RequestId: rid(), Title: proto.String("Streamed lead 1, edited")}); err != nil {
		t.Fatal(err)
	}
	if _, err := bos.leads.WithdrawLead(bos.ctx(t), &innonetpb.WithdrawLeadRequest{Id: ids[2], RequestId: rid(), Comment: "gone"}); err != nil {
		t.Fatal(err)
	}
	ctx2, cancel2 := context.WithTimeout(withToken(context.Background(), hqTok), 20*time.Second)
	defer cancel2()
	stream, err = hq.leads.WatchEvents(ctx2, &innonetpb.WatchEventsRequest{AfterIndex: cursor, Follow: proto.Bool(false)})
	if err != nil {
		t.Fatal(err)
	}
	got = got[:0]
	sawProgress := false
	for {
		m, err := stream.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if m.Event == nil {
			sawProgress = m.AppliedIndex >= m.Cursor && m.Cursor > cursor
			continue
		}
		got = append(got, eventKey(m.Event)+" "+m.Event.Action)
	}
	want = []string{ids[1] + "/2 UPDATE", ids[2] + "/2 WITHDRAW"}
	if strings.Join(got, ",") != strings.Join(want, ",") || !sawProgress {
		t.Errorf("resumed: %v (progress %v), want %v", got, sawProgress, want)
	}

	// Cambridge sees none of Boston's leads; a filter keeps one lead.
	cc := tc.clients(leader, cbgTok)
	stream, err = cc.leads.WatchEvents(cc.ctx(t), &innonetpb.WatchEventsRequest{Follow: proto.Bool(false)})
	if err != nil {
		t.Fatal(err)
	}
	for {
		m, err := stream.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if m.Event != nil {
			t.Errorf("Cambridge sees %s", eventKey(m.Event))
		}
	}

	// REST: newline-delimited JSON.
	rc := newRESTClient(leader)
	req, err := http.NewRequest("GET", rc.base+"/v1/events?follow=false&leadId="+ids[0], nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+hqTok)
	resp, err := rc.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var actions []string
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		var line struct {
			Result struct {
				Event *struct{ Action string } `json:"event"`
			} `json:"result"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		if line.Result.Event != nil {
			actions = append(actions, line.Result.Event.Action)
		}
	}
	if resp.StatusCode != http.StatusOK || strings.Join(actions, ",") != "SUBMIT,APPROVE" {
		t.Errorf("GET /v1/events: %d %v", resp.StatusCode, actions)
	}
	// Server-Sent Events, resumed from Last-Event-ID.
	sse := func(lastID string) []string {
		req, err := http.NewRequest("GET", rc.base+"/v1/events?follow=false&leadId="+ids[0], nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+hqTok)
		req.Header.Set("Accept", "text/event-stream")
		if lastID != "" {
			req.Header.Set("Last-Event-ID", lastID)
		}
		resp, err := rc.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if ct := resp.Header.Get("Content-Type"); resp.StatusCode != http.StatusOK || ct != "text/event-stream" {
			t.Fatalf("SSE: %d %s", resp.StatusCode, ct)
		}
		b, _ := io.ReadAll(resp.Body)
		var ids []string
		for _, block := range strings.Split(string(b), "\n\n") {
			if strings.Contains(block, "event: lead") {
				for _, line := range strings.Split(block, "\n") {
					if id, ok := strings.CutPrefix(line, "id: "); ok {
						ids = append(ids, id)
					}
				}
			}
		}
		return ids
	}
	all := sse("")
	if len(all) != 2 {
		t.Fatalf("SSE events: %v", all)
	}
	if rest := sse(all[0]); len(rest) != 1 || rest[0] != all[1] {
		t.Errorf("SSE resumed after %s: %v, want [%s]", all[0], rest, all[1])
	}
	code, body := rc.do(t, "GET", "/v1/events?leadId=nonsense", hqTok, nil)
	if code != http.StatusBadRequest && !strings.Contains(fmt.Sprint(body), "lead_id") {
		t.Errorf("a bad lead ID: %d %v", code, body)
	}
}
