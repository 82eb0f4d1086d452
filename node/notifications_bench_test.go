package node

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	innonetpb "innonet/proto/innonet/v1"
)

// BenchmarkNotificationLatency measures, on a 3-site cluster on loopback,
// the time from a submit's request (through its commit) to its webhook
// delivery received and to the HQ reviewer's inbox showing it (asked at
// a follower), p50 and p99 over 100 submits one after another; then how
// many events per second one stream (WatchEvents, follow=false) sends.
//
//	go test -run '^$' -bench BenchmarkNotificationLatency -benchtime 1x ./node/
func BenchmarkNotificationLatency(b *testing.B) {
	tc := newTestCluster(b, []string{"CGO", "BOS", "MUC"}, nil)
	leader := tc.leaderNode()
	waitFormat2(tc, leader)
	var mu sync.Mutex
	got := map[string]time.Time{}
	rcv := newReceiver(&testing.T{}, "a-long-webhook-secret")
	rcv.onDelivery = func(key string) {
		mu.Lock()
		if _, ok := got[key]; !ok {
			got[key] = time.Now()
		}
		mu.Unlock()
	}
	admin := tc.clients(leader, testAdminToken)
	if _, err := admin.notifications.CreateWebhook(admin.ctx(b), &innonetpb.CreateWebhookRequest{RequestId: rid(), Url: rcv.url,
		Format: "generic", Kinds: []string{"SUBMITTED"}, Secret: "a-long-webhook-secret"}); err != nil {
		b.Fatal(err)
	}
	staff := tc.clients(leader, tc.addUser("Beth Boston", innonetpb.Role_NODE_STAFF, "BOS", ""))
	hqTok := tc.addUser("Hui Reviewer", innonetpb.Role_HQ_REVIEWER, "", "")
	hqAtFollower := tc.clients(tc.follower(false), hqTok)
	const n = 100
	var hook, inbox []time.Duration
	for b.Loop() {
		hook, inbox = hook[:0], inbox[:0]
		for i := range n {
			t0 := time.Now()
			l, err := staff.leads.SubmitLead(staff.ctx(b), sampleLead(fmt.Sprintf("Timed lead %d", i)))
			if err != nil {
				b.Fatal(err)
			}
			h, err := staff.leads.GetLeadHistory(staff.ctx(b), &innonetpb.GetLeadHistoryRequest{Id: l.Id})
			if err != nil {
				b.Fatal(err)
			}
			key := fmt.Sprintf("innonet-%d-SUBMITTED", h.Events[0].LogIndex)
			for {
				box, err := hqAtFollower.notifications.ListNotifications(hqAtFollower.ctx(b), &innonetpb.ListNotificationsRequest{PageSize: 1})
				if err != nil {
					b.Fatal(err)
				}
				if len(box.Notifications) > 0 && box.Notifications[0].LeadId == l.Id {
					inbox = append(inbox, time.Since(t0))
					break
				}
				if time.Since(t0) > 10*time.Second {
					b.Fatalf("%s not in the inbox", l.Id)
				}
				time.Sleep(time.Millisecond)
			}
			for {
				mu.Lock()
				at, ok := got[key]
				mu.Unlock()
				if ok {
					hook = append(hook, at.Sub(t0))
					break
				}
				if time.Since(t0) > 10*time.Second {
					b.Fatalf("%s not delivered", key)
				}
				time.Sleep(time.Millisecond)
			}
		}
	}
	q := func(ds []time.Duration, p float64) time.Duration {
		s := slices.Clone(ds)
		slices.Sort(s)
		return s[int(p*float64(len(s)-1))].Round(100 * time.Microsecond)
	}
	// A stream's rate: every event so far, over and over.
	ctx, cancel := context.WithTimeout(withToken(context.Background(), hqTok), time.Minute)
	defer cancel()
	events, start := 0, time.Now()
	for time.Since(start) < 3*time.Second {
		st, err := hqAtFollower.leads.WatchEvents(ctx, &innonetpb.WatchEventsRequest{Follow: proto.Bool(false)})
		if err != nil {
			b.Fatal(err)
		}
		for {
			m, err := st.Recv()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			if m.Event != nil {
				events++
			}
		}
	}
	rate := float64(events) / time.Since(start).Seconds()
	b.ReportMetric(float64(q(hook, 0.99).Microseconds())/1000, "webhook-p99-ms")
	b.ReportMetric(float64(q(inbox, 0.99).Microseconds())/1000, "inbox-p99-ms")
	b.ReportMetric(rate, "stream-events/s")
	fmt.Printf("notifications, 3 sites, %d submits, from the request: webhook p50 %s p99 %s; inbox at a follower p50 %s p99 %s; one stream %.0f events/s\n",
		n, q(hook, 0.5), q(hook, 0.99), q(inbox, 0.5), q(inbox, 0.99), rate)
}
