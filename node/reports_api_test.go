package node

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	innonetpb "innonet/proto/innonet/v1"
)

// get sends a GET with the token and language and returns the status and
// the raw body.
func getRaw(t *testing.T, n *Node, path, token, lang string) (int, http.Header, []byte) {
	t.Helper()
	rc := newRESTClient(n)
	req, err := http.NewRequest("GET", rc.base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if lang != "" {
		req.Header.Set("Accept-Language", lang)
	}
	resp, err := rc.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

// TestReportsAndExports drives the reports over REST on a small week of
// leads, and checks the files they export.
func TestReportsAndExports(t *testing.T) {
	tc := newTestCluster(t, []string{"CGO"}, nil)
	n := tc.node("CGO")
	waitFormat2(tc, n)
	bos := tc.clients(n, tc.addUser("Beth Boston", innonetpb.Role_NODE_STAFF, "BOS", ""))
	muc := tc.clients(n, tc.addUser("Max Munich", innonetpb.Role_NODE_STAFF, "MUC", ""))
	hq := tc.clients(n, tc.addUser("Hui Reviewer", innonetpb.Role_HQ_REVIEWER, "", ""))
	yrd := tc.clients(n, tc.addUser("Yang Delta", innonetpb.Role_DIVISION, "", "YRD"))
	var ids []string
	for i, c := range []testClients{bos, bos, bos, muc} {
		l, err := c.leads.SubmitLead(c.ctx(t), sampleLead(fmt.Sprintf("Reported lead %d", i)))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, l.Id)
	}
	for _, id := range ids[:2] {
		if _, err := hq.leads.ReviewLead(hq.ctx(t), &innonetpb.ReviewLeadRequest{Id: id, RequestId: rid(), Decision: innonetpb.Decision_APPROVE}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := yrd.leads.ClaimLead(yrd.ctx(t), &innonetpb.ClaimLeadRequest{Id: ids[0], RequestId: rid()}); err != nil {
		t.Fatal(err)
	}
	loc, _ := time.LoadLocation(defaultReportZone)
	today := time.Now().In(loc).Format(time.DateOnly)
	rc := newRESTClient(n)

	code, body := rc.do(t, "GET", "/v1/reports/funnel?groupBy=site&from="+today+"&to="+today, hq.token, nil)
	if code != http.StatusOK {
		t.Fatalf("funnel: %d %v", code, body)
	}
	rows := map[string]map[string]any{}
	for _, g := range body["groups"].([]any) {
		g := g.(map[string]any)
		rows[fmt.Sprint(g["key"])] = g["counts"].(map[string]any)
	}
	if c := rows["[BOS]"]; c["pushed"] != 3.0 || c["approved"] != 2.0 || c["claimed"] != 1.0 {
		t.Errorf("BOS today: %v", c)
	}
	if c := rows["[MUC]"]; c["pushed"] != 1.0 || c["approved"] != 0.0 {
		t.Errorf("MUC today: %v", c)
	}
	if total := body["total"].(map[string]any); total["conversion"].(map[string]any)["approved"] != 0.5 {
		t.Errorf("approved/pushed: %v", total["conversion"])
	}
	if body["appliedIndex"] == "0" || body["timeZone"] != "Asia/Shanghai" {
		t.Errorf("funnel says %v %v", body["appliedIndex"], body["timeZone"])
	}
	// BOS staff count BOS's leads only.
	code, body = rc.do(t, "GET", "/v1/reports/funnel", bos.token, nil)
	if code != http.StatusOK || body["total"].(map[string]any)["counts"].(map[string]any)["pushed"] != 3.0 {
		t.Errorf("BOS's own funnel: %d %v", code, body["total"])
	}
	for _, bad := range []struct{ query, want string }{
		{"groupBy=colour", "site, subnode, division"},
		{"groupBy=site&groupBy=SITE", "twice"},
		{"from=2026-13-01", "from"},
		{"from=2026-12-01&to=2026-11-01", "before"},
		{"timeZone=Mars/Olympus", "time zone"},
		{"since=2026-01-01", "since"},
		{"format=pdf", "csv or xlsx"},
	} {
		code, body := rc.do(t, "GET", "/v1/reports/funnel?"+bad.query, hq.token, nil)
		if code != http.StatusBadRequest || !strings.Contains(fmt.Sprint(body["message"]), bad.want) {
			t.Errorf("funnel?%s: %d %v, want 400 naming %q", bad.query, code, body, bad.want)
		}
	}

	// Targets: HQ sets them; everyone reads progress.
	year := time.Now().In(loc).Year()
	code, body = rc.do(t, "PUT", fmt.Sprintf("/v1/targets/%d", year), hq.token, map[string]any{"requestId": rid(), "rows": []any{
		map[string]any{"scope": "SITE", "code": "BOS", "pushed": 30, "signed": 3},
		map[string]any{"scope": "DIVISION", "code": "YRD", "signed": 4, "investment": "50000000", "currency": "CNY"},
	}})
	if code != http.StatusOK || body["version"] != "1" {
		t.Fatalf("PUT targets: %d %v", code, body)
	}
	code, body = rc.do(t, "PUT", fmt.Sprintf("/v1/targets/%d", year), hq.token, map[string]any{"requestId": rid(), "rows": []any{
		map[string]any{"scope": "SITE", "code": "BOS-X", "pushed": 30}}})
	if code != http.StatusBadRequest || !strings.Contains(fmt.Sprint(body["message"]), "rows[0].code") && !strings.Contains(fmt.Sprint(body["message"]), "targets[0].code") {
		t.Errorf("a bad target: %d %v", code, body)
	}
	code, body = rc.do(t, "GET", fmt.Sprintf("/v1/reports/targets?year=%d", year), bos.token, nil)
	if code != http.StatusOK {
		t.Fatalf("target report: %d %v", code, body)
	}
	first := body["rows"].([]any)[0].(map[string]any)
	if a := first["actual"].(map[string]any); a["pushed"] != 3.0 {
		t.Errorf("BOS pushed %v against its target", a["pushed"])
	}

	// Files. CSV in Chinese, with a byte-order mark.
	code, hdr, raw := getRaw(t, n, "/v1/reports/funnel?groupBy=site&format=csv", hq.token, "zh-CN,zh;q=0.9")
	if code != http.StatusOK || !bytes.HasPrefix(raw, []byte("\uFEFF")) || !strings.HasPrefix(hdr.Get("Content-Type"), "text/csv") {
		t.Fatalf("funnel CSV: %d %s %q", code, hdr.Get("Content-Type"), raw[:min(len(raw), 80)])
	}
	recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(raw, []byte("\uFEFF")))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if recs[0][0] != "节点" || recs[0][1] != "推送" {
		t.Errorf("Chinese headers: %v", recs[0])
	}
	if len(recs) != 4 || recs[1][0] != "BOS" || recs[1][1] != "3" || recs[3][0] != "总计" {
		t.Errorf("funnel CSV rows: %v", recs)
	}
	// The lead list as a workbook, every page of it.
	code, _, raw = getRaw(t, n, "/v1/leads?format=xlsx&pageSize=1", hq.token, "en")
	if code != http.StatusOK {
		t.Fatalf("leads XLSX: %d %s", code, raw)
	}
	f, err := excelize.OpenReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	xrows, err := f.GetRows("Leads")
	if err != nil {
		t.Fatal(err)
	}
	if len(xrows) != 5 || xrows[0][0] != "Lead" || xrows[1][0] != ids[0] {
		t.Errorf("leads workbook: %v", xrows)
	}
	// What the caller may not do, a file does not do either.
	code, _, raw = getRaw(t, n, "/v1/leads?format=csv&site=MUC", bos.token, "en")
	if code != http.StatusOK || strings.Contains(string(raw), ids[3]) {
		t.Errorf("BOS exports MUC's lead: %d %s", code, raw)
	}
	if code, _, raw := getRaw(t, n, "/v1/users?format=csv", testAdminToken, ""); code != http.StatusBadRequest {
		t.Errorf("users as CSV: %d %s", code, raw)
	}
	// The monthly workbook.
	code, _, raw = getRaw(t, n, "/v1/reports/monthly?month="+today[:7], hq.token, "zh")
	if code != http.StatusOK {
		t.Fatalf("monthly: %d %s", code, raw)
	}
	f, err = excelize.OpenReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if sheets := f.GetSheetList(); len(sheets) != 6 || sheets[0] != "目标完成情况" {
		t.Errorf("monthly sheets: %v", sheets)
	}
	if code, _, raw := getRaw(t, n, "/v1/reports/monthly?month=2026-13", hq.token, ""); code != http.StatusBadRequest ||
		!strings.Contains(string(raw), "month") {
		t.Errorf("monthly with a bad month: %d %s", code, raw)
	}
}
