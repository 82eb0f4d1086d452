package node

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"innonet/node/notify"
	innonetpb "innonet/proto/innonet/v1"
)

// TestInbox follows a returned lead to its node's inbox and an answer to
// HQ's, in each reader's language, and marks them read.
func TestInbox(t *testing.T) {
	tc := newTestCluster(t, []string{"CGO"}, nil)
	n := tc.node("CGO")
	waitFormat2(tc, n)
	bos := tc.clients(n, tc.addUser("Beth Boston", innonetpb.Role_NODE_STAFF, "BOS", ""))
	hq := tc.clients(n, tc.addUser("Hui Reviewer", innonetpb.Role_HQ_REVIEWER, "", ""))
	nc := innonetpb.NewNotificationServiceClient(tc.conn(n))
	l, err := bos.leads.SubmitLead(bos.ctx(t), sampleLead("A lead HQ asks about"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := hq.leads.ReviewLead(hq.ctx(t), &innonetpb.ReviewLeadRequest{Id: l.Id, RequestId: rid(),
		Decision: innonetpb.Decision_RETURN, Comment: "Which TRL, exactly?"}); err != nil {
		t.Fatal(err)
	}
	box, err := nc.ListNotifications(bos.ctx(t), &innonetpb.ListNotificationsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(box.Notifications) != 1 || box.Notifications[0].Kind != "RETURNED" || box.Unread != 1 ||
		!strings.Contains(box.Notifications[0].Text, "Which TRL, exactly?") || !strings.Contains(box.Notifications[0].Link, "/leads/"+l.Id) {
		t.Fatalf("Boston's inbox: %v", box)
	}
	// HQ hears of the new lead, in Chinese.
	hbox, err := nc.ListNotifications(hq.ctx(t), &innonetpb.ListNotificationsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(hbox.Notifications) != 1 || hbox.Notifications[0].Kind != "SUBMITTED" || !containsHan(hbox.Notifications[0].Subject) {
		t.Fatalf("HQ's inbox: %v", hbox)
	}
	// The answer.
	if _, err := bos.leads.UpdateLead(bos.ctx(t), &innonetpb.UpdateLeadRequest{Id: l.Id, RequestId: rid(), Trl: proto.Int32(6), Comment: "TRL 6"}); err != nil {
		t.Fatal(err)
	}
	hbox, err = nc.ListNotifications(hq.ctx(t), &innonetpb.ListNotificationsRequest{UnreadOnly: true})
	if err != nil || len(hbox.Notifications) != 2 || hbox.Notifications[0].Kind != "ANSWERED" {
		t.Fatalf("HQ's inbox after the answer: %v %v", hbox, err)
	}
	// Marked read, through now.
	if _, err := nc.MarkNotificationsRead(hq.ctx(t), &innonetpb.MarkNotificationsReadRequest{RequestId: rid()}); err != nil {
		t.Fatal(err)
	}
	hbox, err = nc.ListNotifications(hq.ctx(t), &innonetpb.ListNotificationsRequest{UnreadOnly: true})
	if err != nil || len(hbox.Notifications) != 0 || hbox.Unread != 0 {
		t.Fatalf("HQ's unread after marking: %v %v", hbox, err)
	}
	// Preferences: English for HQ; a bad time zone is refused.
	if _, err := nc.UpdateNotificationPreferences(hq.ctx(t), &innonetpb.UpdateNotificationPreferencesRequest{RequestId: rid(), Lang: "en",
		TimeZone: "Mars/Olympus"}); err == nil || !strings.Contains(err.Error(), "time_zone") {
		t.Errorf("a bad time zone: %v", err)
	}
	p, err := nc.UpdateNotificationPreferences(hq.ctx(t), &innonetpb.UpdateNotificationPreferencesRequest{RequestId: rid(), Lang: "en"})
	if err != nil || p.Lang != "en" || len(p.DefaultKinds) == 0 {
		t.Fatalf("preferences: %v %v", p, err)
	}
	hbox, err = nc.ListNotifications(hq.ctx(t), &innonetpb.ListNotificationsRequest{})
	if err != nil || containsHan(hbox.Notifications[0].Subject) || hbox.Notifications[0].Read != true {
		t.Errorf("HQ's inbox in English: %v %v", hbox, err)
	}
	// No kind at all: HQ hears of nothing more.
	if p, err := nc.UpdateNotificationPreferences(hq.ctx(t), &innonetpb.UpdateNotificationPreferencesRequest{RequestId: rid(),
		CustomKinds: true}); err != nil || !p.CustomKinds || len(p.Kinds) != 0 {
		t.Fatalf("no kinds: %v %v", p, err)
	}
	if _, err := bos.leads.SubmitLead(bos.ctx(t), sampleLead("A lead HQ hears nothing of")); err != nil {
		t.Fatal(err)
	}
	if hbox, err = nc.ListNotifications(hq.ctx(t), &innonetpb.ListNotificationsRequest{UnreadOnly: true}); err != nil || len(hbox.Notifications) != 0 {
		t.Errorf("HQ with no kinds: %v %v", hbox, err)
	}
}

func containsHan(s string) bool {
	for _, r := range s {
		if r >= 0x4e00 && r <= 0x9fff {
			return true
		}
	}
	return false
}

// receiver is a webhook endpoint on 127.0.0.1 that verifies signatures
// and keeps what it got.
type receiver struct {
	t      *testing.T
	secret string
	mu     sync.Mutex
	keys   []string // X-Innonet-Delivery of each delivery, in order
	bad    int
	fail   int // answer 500 to this many deliveries first
	srv    *http.Server
	url    string
	// onDelivery, if set, is called with each verified delivery's key.
	onDelivery func(key string)
}

func newReceiver(t *testing.T, secret string) *receiver {
	r := &receiver{t: t, secret: secret}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r.url = "http://" + lis.Addr().String() + "/hook"
	r.srv = &http.Server{Handler: r, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = r.srv.Serve(lis) }()
	t.Cleanup(func() { _ = r.srv.Close() })
	return r
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := notify.Verify(r.secret, req.Header, body, time.Now(), 5*time.Minute); err != nil {
		r.bad++
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	if r.fail > 0 {
		r.fail--
		http.Error(w, "try again", http.StatusInternalServerError)
		return
	}
	var m map[string]any
	if json.Unmarshal(body, &m) != nil {
		r.bad++
	}
	r.keys = append(r.keys, req.Header.Get("X-Innonet-Delivery"))
	if r.onDelivery != nil {
		r.onDelivery(req.Header.Get("X-Innonet-Delivery"))
	}
	w.WriteHeader(http.StatusNoContent)
}

func (r *receiver) got() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.keys...)
}

// TestWebhookSurvivesLeaderLoss registers a signed webhook, submits leads
// while the leader is stopped mid-way, and checks that the receiver got a
// delivery of every submit, once per key, all signed.
func TestWebhookSurvivesLeaderLoss(t *testing.T) {
	tc := newTestCluster(t, []string{"CGO", "BOS", "MUC"}, nil)
	leader := tc.leaderNode()
	waitFormat2(tc, leader)
	rcv := newReceiver(t, "a-long-webhook-secret")
	rcv.fail = 2 // the first deliveries fail: retried with backoff
	admin := innonetpb.NewNotificationServiceClient(tc.conn(leader))
	actx, cancel := context.WithTimeout(withToken(context.Background(), testAdminToken), 15*time.Second)
	defer cancel()
	wh, err := admin.CreateWebhook(actx, &innonetpb.CreateWebhookRequest{RequestId: rid(), Url: rcv.url, Format: "generic",
		Kinds: []string{"SUBMITTED"}, Secret: "a-long-webhook-secret"})
	if err != nil {
		t.Fatal(err)
	}
	staffTok := tc.addUser("Beth Boston", innonetpb.Role_NODE_STAFF, "BOS", "")
	var ids []string
	submit := func(n *Node, k int) {
		c := tc.clients(n, staffTok)
		for i := range k {
			l, err := c.leads.SubmitLead(c.ctx(t), sampleLead(fmt.Sprintf("Hooked lead %d", len(ids)+i)))
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, l.Id)
		}
	}
	submit(leader, 4)
	// The sending site goes away mid-way.
	old := leader.Site()
	tc.stop(old)
	tc.waitFor("a new leader", func() bool {
		for _, id := range []string{"CGO", "BOS", "MUC"} {
			if id != old && tc.node(id) != nil && tc.node(id).Cluster().IsLeader() {
				return true
			}
		}
		return false
	})
	submit(tc.leaderNode(), 4)
	eventually(t, 90*time.Second, "every submit delivered", func() error {
		seen := map[string]bool{}
		for _, k := range rcv.got() {
			seen[k] = true
		}
		if len(seen) < len(ids) {
			return fmt.Errorf("%d of %d delivered: %v", len(seen), len(ids), rcv.got())
		}
		return nil
	})
	keys := rcv.got()
	sort.Strings(keys)
	for i := 1; i < len(keys); i++ {
		if keys[i] == keys[i-1] {
			t.Logf("delivered twice with the same key %s (at least once, as documented)", keys[i])
		}
	}
	if rcv.bad != 0 {
		t.Errorf("%d deliveries failed verification", rcv.bad)
	}
	// The log says what happened, newest first.
	nc := innonetpb.NewNotificationServiceClient(tc.conn(tc.leaderNode()))
	eventually(t, 20*time.Second, "the deliveries recorded", func() error {
		dctx, dcancel := context.WithTimeout(withToken(context.Background(), testAdminToken), 5*time.Second)
		defer dcancel()
		log, err := nc.ListWebhookDeliveries(dctx, &innonetpb.ListWebhookDeliveriesRequest{Id: wh.Id})
		if err != nil {
			return err
		}
		failed := 0
		for _, d := range log.Deliveries {
			if d.Status == http.StatusInternalServerError {
				failed++
			}
		}
		if failed < 1 || log.DeliveredThrough == 0 {
			return fmt.Errorf("log %v", log)
		}
		return nil
	})
}

// TestSLANotification warns HQ in its inbox when a lead to review comes
// near its deadline, once.
func TestSLANotification(t *testing.T) {
	tc := newTestCluster(t, []string{"CGO"}, nil)
	n := tc.node("CGO")
	waitFormat2(tc, n)
	bos := tc.clients(n, tc.addUser("Beth Boston", innonetpb.Role_NODE_STAFF, "BOS", ""))
	hq := tc.clients(n, tc.addUser("Hui Reviewer", innonetpb.Role_HQ_REVIEWER, "", ""))
	if _, err := hq.reports.UpdateSlaSettings(hq.ctx(t), &innonetpb.UpdateSlaSettingsRequest{RequestId: rid(),
		Limits: map[string]int32{"SUBMITTED": 1}, Near: 1}); err != nil {
		t.Fatal(err)
	}
	l, err := bos.leads.SubmitLead(bos.ctx(t), sampleLead("A lead near its deadline"))
	if err != nil {
		t.Fatal(err)
	}
	sla := func() int {
		box, err := hq.notifications.ListNotifications(hq.ctx(t), &innonetpb.ListNotificationsRequest{})
		if err != nil {
			t.Fatal(err)
		}
		k := 0
		for _, x := range box.Notifications {
			if x.Kind == "SLA" && x.LeadId == l.Id {
				k++
			}
		}
		return k
	}
	if got := sla(); got != 0 {
		t.Fatalf("%d SLA notifications before the check", got)
	}
	rcv := newReceiver(t, "a-long-webhook-secret")
	admin := tc.clients(n, testAdminToken)
	if _, err := admin.notifications.CreateWebhook(admin.ctx(t), &innonetpb.CreateWebhookRequest{RequestId: rid(), Url: rcv.url,
		Format: "generic", Kinds: []string{"SLA"}, Secret: "a-long-webhook-secret"}); err != nil {
		t.Fatal(err)
	}
	n.notifier.checkSLA(time.Now())
	n.notifier.checkSLA(time.Now())
	if got := sla(); got != 1 {
		t.Errorf("%d SLA notifications, want 1", got)
	}
	// The webhook hears of it too, once.
	n.kickDispatcher()
	eventually(t, 10*time.Second, "the SLA delivered to the webhook", func() error {
		if got := rcv.got(); len(got) != 1 || !strings.HasSuffix(got[0], "-SLA") {
			return fmt.Errorf("got %v", got)
		}
		return nil
	})
}

// TestInboxCatchUpInChunks reads a history longer than a chunk, one chunk
// per call, to the end, and keeps each user's newest notifications only:
// what a site that restored a large state does before it can stop.
func TestInboxCatchUpInChunks(t *testing.T) {
	tc := newTestCluster(t, []string{"CGO"}, nil)
	n := tc.node("CGO")
	waitFormat2(tc, n)
	bos := tc.clients(n, tc.addUser("Beth Boston", innonetpb.Role_NODE_STAFF, "BOS", ""))
	tc.addUser("Hui Reviewer", innonetpb.Role_HQ_REVIEWER, "", "")
	var ids []string
	for i := range 7 {
		l, err := bos.leads.SubmitLead(bos.ctx(t), sampleLead(fmt.Sprintf("Lead %d of a long history", i)))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, l.Id)
	}
	users, err := n.state.Users()
	if err != nil {
		t.Fatal(err)
	}
	var hq string
	for _, u := range users {
		if u.Name == "Hui Reviewer" {
			hq = u.ID
		}
	}
	// A notifier of its own, beside the site's, from the start.
	nt := newNotifier(n)
	nt.chunk, nt.max = 2, 3
	calls := 0
	for done := false; !done; {
		if calls++; calls > 50 {
			t.Fatalf("not caught up after %d calls", calls)
		}
		if done, err = nt.catchUp(); err != nil {
			t.Fatal(err)
		}
	}
	if calls < 4 {
		t.Errorf("7 submissions read in %d calls of at most 2 events each", calls)
	}
	if applied := n.state.AppliedIndex(); nt.cursor < applied {
		t.Errorf("cursor %d after catching up, want %d", nt.cursor, applied)
	}
	var got []string
	for _, x := range nt.inbox[hq] {
		got = append(got, x.Event.LeadID)
	}
	if want := ids[len(ids)-3:]; !slices.Equal(got, want) {
		t.Errorf("HQ's inbox holds the SUBMITTED of %v, want the newest three: %v", got, want)
	}
}
