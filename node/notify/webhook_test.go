package notify

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

var signedAt = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC) // 1772443800

const secret = "whsec_0123456789abcdef"

func hookEvent() Event {
	return Event{Index: 314, Time: signedAt, LeadID: "L-0314", LeadTitle: "Perovskite [tandem](http://evil.example) <b>cells</b>",
		Site: "CBG", Action: ActionReturn, From: "SUBMITTED", To: "RETURNED", ActorID: "hq1", ActorName: "王芳",
		ActorRole: RoleHQReviewer, ActorHome: "HQ", Comment: "Which licence?\n[click](http://evil.example)"}
}

func TestWebhookValidate(t *testing.T) {
	cases := []struct {
		w    Webhook
		want string
	}{
		{Webhook{ID: "erp", URL: "https://erp.example/hooks/innonet", Secret: secret}, ""},
		{Webhook{ID: "t", URL: "http://127.0.0.1:8080/x", Secret: secret, Format: FormatGeneric}, ""},
		{Webhook{ID: "t", URL: "http://localhost/x", Format: FormatSlack}, ""},
		{Webhook{ID: "wx", URL: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k", Format: FormatWeCom,
			Kinds: map[Kind]bool{Claimed: true}}, ""},
		{Webhook{ID: "dd", URL: "https://oapi.dingtalk.com/robot/send?access_token=tok", Format: FormatDingTalk,
			Secret: "SECb6f1e2d3c4a5968778695a4b3c2d1e0f"}, ""},
		{Webhook{URL: "https://x.example", Secret: secret}, "id: is required"},
		{Webhook{ID: "a", URL: "http://erp.example/hook?token=sekrit", Secret: secret}, "url: must be an https URL"},
		{Webhook{ID: "a", URL: "ftp://x.example", Secret: secret}, "url: must be an https URL"},
		{Webhook{ID: "a", URL: "https://", Secret: secret}, "url: must be an https URL"},
		{Webhook{ID: "a", URL: "https://x.example", Secret: "short"}, "secret: a generic webhook needs a secret of at least 16"},
		{Webhook{ID: "a", URL: "https://oapi.dingtalk.com/robot/send", Format: FormatDingTalk}, "secret: a dingtalk webhook"},
		{Webhook{ID: "a", URL: "https://x.example", Format: "discord"}, "format: must be one of"},
		{Webhook{ID: "a", URL: "https://x.example", Format: FormatSlack, Kinds: map[Kind]bool{"WON": true}}, "kinds: unknown kind"},
	}
	for _, c := range cases {
		err := c.w.Validate()
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%+v: %v", c.w, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%+v: got %v, want %q", c.w, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), "sekrit") {
			t.Errorf("error shows the URL's token: %v", err)
		}
	}
}

func TestWebhookNotification(t *testing.T) {
	w := Webhook{ID: "a", Kinds: map[Kind]bool{Returned: true}}
	if n, ok := w.Notification(hookEvent()); !ok || n.Kind != Returned || n.UserID != "" {
		t.Errorf("got %+v, %v", n, ok)
	}
	if _, ok := w.Notification(Event{Action: ActionClaim}); ok {
		t.Error("told of a kind it did not ask for")
	}
	if _, ok := (Webhook{}).Notification(Event{Action: ActionUpdate}); ok {
		t.Error("told of an UPDATE")
	}
	if _, ok := (Webhook{}).Notification(Event{Action: ActionClaim}); !ok {
		t.Error("a webhook with no kinds hears of everything")
	}
}

func TestPayloadGeneric(t *testing.T) {
	w := Webhook{ID: "erp", URL: "https://erp.example/hooks", Secret: secret}
	n := Notification{UserID: "tum1", Kind: Returned, Event: hookEvent()}
	body, h, u, err := Payload(w, n, "en", "https://console.example", signedAt)
	if err != nil {
		t.Fatal(err)
	}
	if u != w.URL {
		t.Errorf("url %s", u)
	}
	var g Generic
	if err := json.Unmarshal(body, &g); err != nil {
		t.Fatal(err)
	}
	if g.ID != "innonet-314-RETURNED" || g.Kind != Returned || g.Link != "https://console.example/leads/L-0314" ||
		g.Event.LeadID != "L-0314" || g.Event.Comment != n.Event.Comment || !g.Created.Equal(signedAt) ||
		!strings.HasPrefix(g.Text, "王芳 (HQ) returned lead L-0314") {
		t.Errorf("body %s", body)
	}
	var raw map[string]any
	_ = json.Unmarshal(body, &raw)
	if ev := raw["event"].(map[string]any); ev["index"] != float64(314) || ev["actorRole"] != "HQ_REVIEWER" {
		t.Errorf("event fields %v", ev)
	}
	if h.Get(DeliveryHeader) != "innonet-314-RETURNED" || h.Get(KindHeader) != "RETURNED" ||
		!strings.HasPrefix(h.Get("Content-Type"), "application/json") {
		t.Errorf("headers %v", h)
	}
	if got := h.Get(SignatureHeader); !strings.HasPrefix(got, "t=1772443800,v1=") {
		t.Errorf("signature %s", got)
	}
	if err := Verify(secret, h, body, signedAt.Add(time.Minute), 0); err != nil {
		t.Errorf("verify: %v", err)
	}
}

func TestSignKnownAnswer(t *testing.T) {
	// Computed apart: HMAC-SHA256 keyed with the secret over `1772443800.{"a":1}`.
	want := "t=1772443800,v1=4c75743b0bd5c8fda7fe4cf54611e93e846ac7b2f7eea6f0959efdea6673658c"
	if got := Sign(secret, []byte(`{"a":1}`), signedAt); got != want {
		t.Errorf("got %s\nwant %s", got, want)
	}
}

func TestVerify(t *testing.T) {
	body := []byte(`{"id":"innonet-1-CLAIMED"}`)
	good := http.Header{SignatureHeader: {Sign(secret, body, signedAt)}}
	rotated := http.Header{SignatureHeader: {Sign("old-secret-0123456789", body, signedAt) + ",v1=" +
		strings.TrimPrefix(Sign(secret, body, signedAt), "t=1772443800,v1=")}}
	cases := []struct {
		name   string
		header http.Header
		body   []byte
		now    time.Time
		tol    time.Duration
		want   error
	}{
		{"good", good, body, signedAt, 0, nil},
		{"rotated secret", rotated, body, signedAt, 0, nil},
		{"tampered body", good, []byte(`{"id":"innonet-1-CLAIMED","x":1}`), signedAt, 0, ErrBadSignature},
		{"old", good, body, signedAt.Add(6 * time.Minute), 0, ErrStale},
		{"old for a tight tolerance", good, body, signedAt.Add(31 * time.Second), 30 * time.Second, ErrStale},
		{"from the future", good, body, signedAt.Add(-10 * time.Minute), 0, ErrStale},
		{"wrong secret", http.Header{SignatureHeader: {Sign("another-secret-123", body, signedAt)}}, body, signedAt, 0, ErrBadSignature},
		{"timestamp changed", http.Header{SignatureHeader: {strings.Replace(good.Get(SignatureHeader), "t=1772443800", "t=1772443900", 1)}},
			body, signedAt.Add(100 * time.Second), 0, ErrBadSignature},
		{"missing", http.Header{}, body, signedAt, 0, ErrNoSignature},
		{"malformed", http.Header{SignatureHeader: {"v1=zz"}}, body, signedAt, 0, ErrBadSignature},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := Verify(secret, c.header, c.body, c.now, c.tol); !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
				t.Errorf("got %v, want %v", err, c.want)
			}
		})
	}
}

func TestPayloadDingTalk(t *testing.T) {
	w := Webhook{ID: "dd", URL: "https://oapi.dingtalk.com/robot/send?access_token=tok", Format: FormatDingTalk,
		Secret: "SECb6f1e2d3c4a5968778695a4b3c2d1e0f"}
	body, h, u, err := Payload(w, Notification{Kind: Returned, Event: hookEvent()}, "zh", "https://console.example", signedAt)
	if err != nil {
		t.Fatal(err)
	}
	// Computed apart: base64(HMAC-SHA256(secret, "1772443800000\n" + secret)).
	const sign = "t5Qazy2IDKU+6iwTdjRitHAc2oIEOxZ349aP636y9Ig="
	pu, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	q := pu.Query()
	if q.Get("access_token") != "tok" || q.Get("timestamp") != "1772443800000" || q.Get("sign") != sign {
		t.Errorf("url %s", u)
	}
	if !strings.Contains(pu.RawQuery, "sign=t5Qazy2IDKU%2B6iwTdjRitHAc2oIEOxZ349aP636y9Ig%3D") {
		t.Errorf("sign not URL-encoded: %s", pu.RawQuery)
	}
	if h.Get(SignatureHeader) != "" {
		t.Error("a robot delivery has a generic signature")
	}
	var m struct {
		MsgType  string `json:"msgtype"`
		Markdown struct{ Title, Text string }
	}
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	if m.MsgType != "markdown" || !strings.HasPrefix(m.Markdown.Title, "[innonet] 总部提问：L-0314") {
		t.Errorf("body %s", body)
	}
	checkMarkdown(t, m.Markdown.Text, "王芳 (总部) 退回了线索 L-0314", "总部的问题：\n> Which licence?\n")
}

// checkMarkdown checks a robot's markdown: the headline, the comment
// quoted, one link (the console's), and nothing of the injected markup.
func checkMarkdown(t *testing.T, md string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(md, w) {
			t.Errorf("markdown lacks %q:\n%s", w, md)
		}
	}
	if strings.Count(md, "](") != 1 || !strings.HasSuffix(md, "(https://console.example/leads/L-0314)") {
		t.Errorf("markdown links:\n%s", md)
	}
	if strings.Contains(md, "<b>") || strings.Contains(md, "[tandem]") {
		t.Errorf("markup in markdown:\n%s", md)
	}
}

func TestPayloadWeCom(t *testing.T) {
	w := Webhook{ID: "wx", URL: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k", Format: FormatWeCom}
	body, _, u, err := Payload(w, Notification{Kind: Returned, Event: hookEvent()}, "en", "https://console.example", signedAt)
	if err != nil || u != w.URL {
		t.Fatal(err, u)
	}
	var m struct {
		MsgType  string `json:"msgtype"`
		Markdown struct{ Content string }
	}
	if err := json.Unmarshal(body, &m); err != nil || m.MsgType != "markdown" {
		t.Fatalf("%s: %v", body, err)
	}
	checkMarkdown(t, m.Markdown.Content, "**Question from HQ: L-0314 Perovskite ［tandem］(http://evil.example) ＜b＞cells＜/b＞**",
		"HQ's question:\n> Which licence?\n> ［click］(http://evil.example)\n")
}

func TestPayloadSlack(t *testing.T) {
	w := Webhook{ID: "s", URL: "https://hooks.slack.com/services/T/B/X", Format: FormatSlack}
	body, _, _, err := Payload(w, Notification{Kind: Returned, Event: hookEvent()}, "en", "https://console.example", signedAt)
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Text   string
		Blocks []struct {
			Type     string
			Text     struct{ Type, Text string }
			Elements []struct{ Type, URL string }
		}
	}
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(m.Text, "[innonet] Question from HQ") || len(m.Blocks) != 3 {
		t.Fatalf("body %s", body)
	}
	if b := m.Blocks[0]; b.Type != "section" || b.Text.Type != "mrkdwn" || !strings.Contains(b.Text.Text, "&lt;b&gt;cells&lt;/b&gt;") {
		t.Errorf("first block %+v", b)
	}
	if b := m.Blocks[1]; !strings.HasPrefix(b.Text.Text, "> Which licence?\n> [click]") {
		t.Errorf("comment block %+v", b)
	}
	if b := m.Blocks[2]; b.Type != "actions" || b.Elements[0].URL != "https://console.example/leads/L-0314" {
		t.Errorf("actions block %+v", b)
	}
}

func TestPayloadTeams(t *testing.T) {
	w := Webhook{ID: "t", URL: "https://prod.westeurope.logic.azure.com/workflows/x", Format: FormatTeams}
	body, _, _, err := Payload(w, Notification{Kind: PublishedMatch, Event: Event{Index: 5, LeadID: "L-5", LeadTitle: "Qubits",
		Action: ActionApprove, ActorName: "Wang"}}, "en", "https://console.example", signedAt)
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Type        string
		Attachments []struct {
			ContentType string
			Content     struct {
				Type, Version string
				Body          []struct{ Type, Text string }
				Actions       []struct{ Type, Title, URL string }
			}
		}
	}
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	if m.Type != "message" || len(m.Attachments) != 1 || m.Attachments[0].ContentType != "application/vnd.microsoft.card.adaptive" {
		t.Fatalf("body %s", body)
	}
	c := m.Attachments[0].Content
	if c.Type != "AdaptiveCard" || len(c.Body) != 3 || c.Body[2].Text != "It matches your division's focus profile." ||
		c.Actions[0].Type != "Action.OpenUrl" || c.Actions[0].URL != "https://console.example/leads/L-5" {
		t.Errorf("card %+v", c)
	}
}

func TestPayloadInvalid(t *testing.T) {
	_, _, _, err := Payload(Webhook{ID: "x", URL: "http://erp.example"}, Notification{Kind: Claimed}, "en", "", signedAt)
	if err == nil || !strings.Contains(err.Error(), "webhook x: url:") {
		t.Errorf("got %v", err)
	}
}

func TestDeliver(t *testing.T) {
	var got []byte
	var gotHeader http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ok":
			got, _ = io.ReadAll(r.Body)
			gotHeader = r.Header
			if err := Verify(secret, r.Header, got, time.Now(), 0); err != nil {
				http.Error(w, err.Error(), http.StatusUnauthorized)
				return
			}
			w.WriteHeader(http.StatusAccepted)
		case "/down":
			http.Error(w, "maintenance", http.StatusServiceUnavailable)
		case "/robot":
			_, _ = w.Write([]byte(`{"errcode":310000,"errmsg":"sign not match"}`))
		case "/robot-ok":
			_, _ = w.Write([]byte(`{"errcode":0,"errmsg":"ok"}`))
		case "/moved":
			http.Redirect(w, r, "/ok", http.StatusFound)
		case "/slow":
			// Having read the body, the server sees the client hang up.
			_, _ = io.Copy(io.Discard, r.Body)
			select {
			case <-r.Context().Done():
			case <-time.After(10 * time.Second):
			}
		}
	}))
	t.Cleanup(srv.Close)

	w := Webhook{ID: "erp", URL: srv.URL + "/ok", Secret: secret}
	n, _ := w.Notification(hookEvent())
	body, h, u, err := Payload(w, n, "zh", "https://console.example", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if status, err := Deliver(t.Context(), nil, u, body, h); status != http.StatusAccepted || err != nil {
		t.Fatalf("status %d, %v", status, err)
	}
	if string(got) != string(body) || gotHeader.Get(DeliveryHeader) != "innonet-314-RETURNED" {
		t.Errorf("receiver got %s, %v", got, gotHeader)
	}

	cases := []struct {
		path   string
		status int
		text   string
	}{
		{"/down?key=sekrit", 503, "503 Service Unavailable: \"maintenance\\n\""},
		{"/robot?access_token=sekrit", 200, "errcode 310000: \"sign not match\""},
		{"/moved?key=sekrit", 302, "302 Found"},
	}
	for _, c := range cases {
		status, err := Deliver(t.Context(), nil, srv.URL+c.path, body, h)
		if status != c.status || !errors.Is(err, ErrNotDelivered) || !strings.Contains(err.Error(), c.text) {
			t.Errorf("%s: status %d, %v", c.path, status, err)
		}
		if err != nil && strings.Contains(err.Error(), "sekrit") {
			t.Errorf("%s: error shows the token: %v", c.path, err)
		}
	}
	if status, err := Deliver(t.Context(), nil, srv.URL+"/robot-ok", body, h); status != 200 || err != nil {
		t.Errorf("robot ok: %d, %v", status, err)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	if _, err := Deliver(ctx, nil, srv.URL+"/slow?key=sekrit", body, h); !errors.Is(err, context.DeadlineExceeded) ||
		strings.Contains(err.Error(), "sekrit") {
		t.Errorf("slow: %v", err)
	}
	if _, err := Deliver(t.Context(), nil, "http://127.0.0.1:1/x?key=sekrit", body, h); err == nil || strings.Contains(err.Error(), "sekrit") {
		t.Errorf("refused: %v", err)
	}
}

func TestBackoff(t *testing.T) {
	var total time.Duration
	prev := time.Duration(0)
	for a := 1; a <= Retries; a++ {
		d := Backoff(a)
		if d <= 0 || d > 4*time.Hour || a < Retries && d < prev {
			t.Errorf("Backoff(%d) = %v after %v", a, d, prev)
		}
		total += d
		prev = d
	}
	if total != 24*time.Hour {
		t.Errorf("total %v, want a day", total)
	}
	for _, a := range []int{0, -1, Retries + 1} {
		if d := Backoff(a); d != 0 {
			t.Errorf("Backoff(%d) = %v", a, d)
		}
	}
	for _, c := range []struct {
		attempt int
		want    time.Duration
	}{{1, 30 * time.Second}, {2, time.Minute}, {8, 64 * time.Minute}, {10, 4 * time.Hour}, {13, 4 * time.Hour},
		{14, 3*time.Hour + 44*time.Minute + 30*time.Second}} {
		if got := Backoff(c.attempt); got != c.want {
			t.Errorf("Backoff(%d) = %v, want %v", c.attempt, got, c.want)
		}
	}
}

func TestJitter(t *testing.T) {
	seen := map[time.Duration]bool{}
	for _, key := range []string{"innonet-1-CLAIMED", "innonet-2-CLAIMED", "innonet-3-CLAIMED", "innonet-4-SLA"} {
		for a := 1; a <= Retries; a++ {
			d, b := Jitter(key, a), Backoff(a)
			if d < b*9/10 || d > b*11/10 {
				t.Errorf("Jitter(%s, %d) = %v, Backoff %v", key, a, d, b)
			}
			if d != Jitter(key, a) {
				t.Errorf("Jitter(%s, %d) not deterministic", key, a)
			}
		}
		seen[Jitter(key, 5)] = true
	}
	if len(seen) < 2 {
		t.Error("every key retries at the same moment")
	}
}
