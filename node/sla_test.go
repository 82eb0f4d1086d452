package node

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"innonet/node/pipeline"
	innonetpb "innonet/proto/innonet/v1"
)

func at(t *testing.T, zone, s string) time.Time {
	t.Helper()
	loc, err := time.LoadLocation(zone)
	if err != nil {
		t.Fatal(err)
	}
	v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestSLAStatus checks deadlines counted by hand on the calendars of who
// must act.
func TestSLAStatus(t *testing.T) {
	s := newSLAs(pipeline.New())
	v := s.view()
	if v == nil {
		t.Fatal("no view of the built-in calendars")
	}
	v.limits = pipeline.SLA{Limits: map[string]int{"SUBMITTED": 5, "RETURNED": 2, "APPROVED": 3, "NEGOTIATING": 5}, Near: 1}
	cases := []struct {
		name  string
		lead  pipeline.Lead
		now   time.Time
		state innonetpb.SlaStatus_State
		due   time.Time
		who   string
		cal   string
	}{
		// Submitted Friday 17:00 in Zhengzhou: Monday to Friday count, due at
		// the end of the next Friday.
		{"review, a week", pipeline.Lead{Stage: pipeline.Submitted, Site: "BOS", StageTime: at(t, "Asia/Shanghai", "2026-12-04 17:00")},
			at(t, "Asia/Shanghai", "2026-12-09 12:00"), innonetpb.SlaStatus_ON_TIME, at(t, "Asia/Shanghai", "2026-12-12 00:00"), "HQ", "CN"},
		{"review, the last day", pipeline.Lead{Stage: pipeline.Submitted, Site: "BOS", StageTime: at(t, "Asia/Shanghai", "2026-12-04 17:00")},
			at(t, "Asia/Shanghai", "2026-12-11 12:00"), innonetpb.SlaStatus_NEAR, at(t, "Asia/Shanghai", "2026-12-12 00:00"), "HQ", "CN"},
		{"review, over", pipeline.Lead{Stage: pipeline.Submitted, Site: "BOS", StageTime: at(t, "Asia/Shanghai", "2026-12-04 17:00")},
			at(t, "Asia/Shanghai", "2026-12-12 00:00"), innonetpb.SlaStatus_OVER, at(t, "Asia/Shanghai", "2026-12-12 00:00"), "HQ", "CN"},
		// Spring Festival 2026: Saturday 14 Feb is a make-up working day,
		// 15-23 Feb are holidays: 14, 24, 25, 26, 27 Feb.
		{"review over Spring Festival", pipeline.Lead{Stage: pipeline.Submitted, Site: "MUC", StageTime: at(t, "Asia/Shanghai", "2026-02-13 10:00")},
			at(t, "Asia/Shanghai", "2026-02-23 10:00"), innonetpb.SlaStatus_ON_TIME, at(t, "Asia/Shanghai", "2026-02-28 00:00"), "HQ", "CN"},
		// Returned to Tel Aviv on a Thursday: Friday and Saturday are off,
		// Sunday and Monday count.
		{"Tel Aviv answers", pipeline.Lead{Stage: pipeline.Returned, Site: "TLV", StageTime: at(t, "Asia/Jerusalem", "2026-12-03 10:00")},
			at(t, "Asia/Jerusalem", "2026-12-05 10:00"), innonetpb.SlaStatus_ON_TIME, at(t, "Asia/Jerusalem", "2026-12-08 00:00"), "TLV", "IL"},
		// Returned to a Munich sub-node on Christmas Eve: Munich's calendar
		// (25 and 26 Dec off); Monday 28 and Tuesday 29 count, the last near.
		{"a sub-node answers", pipeline.Lead{Stage: pipeline.Returned, Site: "MUC", Subnode: "MUC-TUM", StageTime: at(t, "Europe/Berlin", "2026-12-24 10:00")},
			at(t, "Europe/Berlin", "2026-12-29 10:00"), innonetpb.SlaStatus_NEAR, at(t, "Europe/Berlin", "2026-12-30 00:00"), "MUC", "DE-BY"},
		{"the divisions claim", pipeline.Lead{Stage: pipeline.Approved, Site: "BOS", StageTime: at(t, "Asia/Shanghai", "2026-12-01 09:00")},
			at(t, "Asia/Shanghai", "2026-12-10 09:00"), innonetpb.SlaStatus_OVER, at(t, "Asia/Shanghai", "2026-12-05 00:00"), "DIVISIONS", "CN"},
		{"the division negotiates", pipeline.Lead{Stage: pipeline.Negotiating, Site: "BOS", Division: "YRD", StageTime: at(t, "Asia/Shanghai", "2026-12-01 09:00")},
			at(t, "Asia/Shanghai", "2026-12-02 09:00"), innonetpb.SlaStatus_ON_TIME, at(t, "Asia/Shanghai", "2026-12-09 00:00"), "YRD", "CN"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := v.status(&c.lead, c.now)
			if st == nil {
				t.Fatal("no deadline")
			}
			if st.State != c.state || !st.DueTime.AsTime().Equal(c.due) || st.MustAct != c.who || st.Calendar != c.cal {
				t.Errorf("got %s due %s, %s on %s; want %s due %s, %s on %s", st.State, st.DueTime.AsTime().In(c.due.Location()),
					st.MustAct, st.Calendar, c.state, c.due, c.who, c.cal)
			}
		})
	}
	if st := v.status(&pipeline.Lead{Stage: pipeline.Landed, StageTime: time.Now()}, time.Now()); st != nil {
		t.Errorf("a LANDED lead has a deadline: %v", st)
	}
	if st := v.status(&pipeline.Lead{Stage: pipeline.Claimed, Division: "YRD", StageTime: time.Now()}, time.Now()); st != nil {
		t.Errorf("a stage without a limit has a deadline: %v", st)
	}
}

// TestSLAOverREST sets limits and a calendar year over REST and finds a
// lead near its limit on every answer and in the breach list.
func TestSLAOverREST(t *testing.T) {
	tc := newTestCluster(t, []string{"CGO"}, nil)
	n := tc.node("CGO")
	waitFormat2(tc, n)
	bos := tc.clients(n, tc.addUser("Beth Boston", innonetpb.Role_NODE_STAFF, "BOS", ""))
	hq := tc.clients(n, tc.addUser("Hui Reviewer", innonetpb.Role_HQ_REVIEWER, "", ""))
	rc := newRESTClient(n)
	code, body := rc.do(t, "GET", "/v1/sla", bos.token, nil)
	if code != http.StatusOK || body["limits"].(map[string]any)["SUBMITTED"] != 5.0 {
		t.Fatalf("default limits: %d %v", code, body)
	}
	for _, bad := range []struct {
		body map[string]any
		want string
	}{
		{map[string]any{"requestId": rid(), "limits": map[string]any{"LANDED": 3}}, "SUBMITTED, RETURNED"},
		{map[string]any{"requestId": rid(), "limits": map[string]any{"SUBMITTED": 0}}, "limits.SUBMITTED"},
		{map[string]any{"requestId": rid(), "limits": map[string]any{"SUBMITTED": 3}, "near": 99}, "near"},
	} {
		if code, body := rc.do(t, "PUT", "/v1/sla", hq.token, bad.body); code != http.StatusBadRequest || !strings.Contains(fmt.Sprint(body["message"]), bad.want) {
			t.Errorf("PUT /v1/sla %v: %d %v, want 400 naming %q", bad.body, code, body, bad.want)
		}
	}
	if code, body := rc.do(t, "PUT", "/v1/sla", bos.token, map[string]any{"requestId": rid(), "limits": map[string]any{"SUBMITTED": 1}}); code != http.StatusForbidden {
		t.Errorf("node staff set limits: %d %v", code, body)
	}
	// One working day to review, warned one day before: a new lead is near at once.
	if code, body := rc.do(t, "PUT", "/v1/sla", hq.token, map[string]any{"requestId": rid(), "limits": map[string]any{"SUBMITTED": 1}, "near": 1}); code != http.StatusOK {
		t.Fatalf("PUT /v1/sla: %d %v", code, body)
	}
	l, err := bos.leads.SubmitLead(bos.ctx(t), sampleLead("A lead HQ must review"))
	if err != nil {
		t.Fatal(err)
	}
	if l.Sla == nil || l.Sla.State != innonetpb.SlaStatus_NEAR || l.Sla.MustAct != "HQ" || l.Sla.Calendar != "CN" || l.Sla.LimitDays != 1 {
		t.Errorf("the new lead's deadline: %v", l.Sla)
	}
	code, body = rc.do(t, "GET", "/v1/reports/sla?mustAct=HQ", bos.token, nil)
	if code != http.StatusOK || body["near"] != 1.0 || len(body["leads"].([]any)) != 1 {
		t.Errorf("breaches: %d %v", code, body)
	}
	if code, body := rc.do(t, "GET", "/v1/reports/sla?state=ON_TIME", bos.token, nil); code != http.StatusBadRequest {
		t.Errorf("breaches ON_TIME: %d %v", code, body)
	}
	// The metrics count it too.
	m := scrapeMetrics(t, n)
	if v := m.value(t, "innonet_sla_leads", "state", "NEAR", "must_act", "HQ"); v != 1 {
		t.Errorf("innonet_sla_leads{NEAR,HQ} = %v, want 1", v)
	}
	if v := m.value(t, "innonet_funnel_site_leads", "step", "pushed", "site", "BOS"); v != 1 {
		t.Errorf("innonet_funnel_site_leads{pushed,BOS} = %v, want 1", v)
	}
	if v := m.value(t, "innonet_oldest_unreviewed_seconds"); v <= 0 || v > 60 {
		t.Errorf("innonet_oldest_unreviewed_seconds = %v", v)
	}

	// China's 2027 schedule, as HQ enters it.
	if code, body := rc.do(t, "PUT", "/v1/calendars/CN/2027", hq.token, map[string]any{"requestId": rid(), "official": true,
		"holidays": []any{map[string]any{"date": "2027-02-06", "name": "春节"}}, "workdays": []any{"2027-02-03"}}); code != http.StatusBadRequest ||
		!strings.Contains(fmt.Sprint(body["message"]), "2027-02-03") {
		t.Errorf("a weekday as a make-up day: %d %v", code, body)
	}
	if code, body := rc.do(t, "PUT", "/v1/calendars/CN/2027", hq.token, map[string]any{"requestId": rid(), "official": true,
		"holidays": []any{map[string]any{"date": "2027-02-08", "name": "春节"}}, "workdays": []any{"2027-02-06"}}); code != http.StatusOK || body["source"] != "HQ" {
		t.Fatalf("PUT /v1/calendars/CN/2027: %d %v", code, body)
	}
	code, body = rc.do(t, "GET", "/v1/calendars/CN/2027", bos.token, nil)
	if code != http.StatusOK || body["source"] != "HQ" || body["official"] != true || fmt.Sprint(body["workdays"]) != "[2027-02-06]" {
		t.Errorf("GET /v1/calendars/CN/2027: %d %v", code, body)
	}
	if code, body := rc.do(t, "GET", "/v1/calendars/FR/2027", bos.token, nil); code != http.StatusBadRequest {
		t.Errorf("an unknown calendar: %d %v", code, body)
	}
	if code, body := rc.do(t, "GET", "/v1/calendars/US/2026", bos.token, nil); code != http.StatusOK || body["source"] != "BUILT_IN" ||
		!strings.Contains(fmt.Sprint(body["holidays"]), "2026-07-03") {
		t.Errorf("the US calendar of 2026 (4 July is a Saturday, observed on the 3rd): %d %v", code, body)
	}
}
