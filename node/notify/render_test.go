package notify

import (
	"html/template"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestCatalogComplete(t *testing.T) {
	en := slices.Sorted(maps.Keys(catalog["en"]))
	for lang, table := range catalog {
		for _, k := range en {
			if _, ok := table[k]; !ok {
				t.Errorf("%s lacks %s", lang, k)
			}
		}
		if len(table) != len(en) {
			t.Errorf("%s has %d keys, en %d", lang, len(table), len(en))
		}
	}
	for _, k := range kinds {
		if k != SLA && !has("en", "subject."+string(k)) {
			t.Errorf("no subject for %s", k)
		}
	}
	for _, a := range []string{ActionSubmit, ActionUpdate, ActionResubmit, ActionApprove, ActionReturn, ActionDecline,
		ActionClaim, ActionRelease, ActionAdvance, ActionWithdraw, ActionClose, ActionReopen, ActionAssign,
		ActionExpressInterest, ActionWithdrawInterest, ActionComment, ActionMerge, ActionMergeIn, ActionAddAttachment} {
		if !has("en", "action."+a) {
			t.Errorf("no headline for %s", a)
		}
	}
}

func TestRender(t *testing.T) {
	hq := Event{Index: 9, Time: time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC), LeadID: "L-0009",
		LeadTitle: "高温超导带材", Site: "MUC", Subnode: "MUC-TUM", Action: ActionReturn, From: "SUBMITTED",
		To: "RETURNED", ActorID: "hq1", ActorName: "王芳", ActorRole: RoleHQReviewer, ActorHome: "HQ",
		Comment: "请补充专利号。\nWhich patent family?"}
	adv := Event{Index: 10, LeadID: "L-0009", LeadTitle: "Superconducting tape", Action: ActionAdvance,
		From: "CLAIMED", To: "NEGOTIATING", ActorName: "Zhao Lei", ActorHome: "BOHAI", Division: "BOHAI"}
	cases := []struct {
		name      string
		n         Notification
		lang      string
		subject   string
		inText    []string
		notInText []string
	}{
		{"returned, zh", Notification{UserID: "tum1", Kind: Returned, Event: hq}, "zh",
			"[innonet] 总部提问：L-0009 高温超导带材",
			[]string{"王芳 (总部) 退回了线索 L-0009《高温超导带材》并提出问题。", "总部的问题：\n  请补充专利号。\n  Which patent family?",
				"在控制台中查看：https://console.example/leads/L-0009", "2026-03-02 09:30 UTC"}, nil},
		{"returned, en", Notification{UserID: "tum1", Kind: Returned, Event: hq}, "en-GB",
			"[innonet] Question from HQ: L-0009 高温超导带材",
			[]string{"王芳 (HQ) returned lead L-0009 “高温超导带材” with a question.", "HQ's question:\n  请补充专利号。"}, nil},
		{"advance, zh", Notification{Kind: StageChanged, Event: adv}, "zh-CN", "[innonet] 线索进展：L-0009 Superconducting tape",
			[]string{"Zhao Lei (BOHAI) 将线索 L-0009《Superconducting tape》从“已认领”推进到“洽谈中”。"}, []string{"备注"}},
		{"advance, en", Notification{Kind: StageChanged, Event: adv}, "en",
			"[innonet] Lead update: L-0009 Superconducting tape",
			[]string{"Zhao Lei (BOHAI) moved lead L-0009 “Superconducting tape” from Claimed to Negotiating."}, []string{"Comment"}},
		{"match", Notification{Kind: PublishedMatch, Event: Event{LeadID: "L-1", LeadTitle: "X", Action: ActionApprove,
			ActorName: "王芳"}}, "en", "[innonet] New lead for your division: L-1 X",
			[]string{"It matches your division's focus profile."}, nil},
		{"sla over", Notification{Kind: SLA, Event: Event{LeadID: "L-2", LeadTitle: "Y", Action: ActionSLA, To: "SUBMITTED",
			SLA: &SLAWarning{MustAct: "HQ", State: SLAOver, Due: time.Date(2026, 3, 9, 0, 0, 0, 0, shanghai(t))}}}, "zh",
			"[innonet] 已超期：L-2 Y", []string{"线索 L-2《Y》（待审核）已超期：总部 应在 2026-03-09 00:00 CST 前处理。"}, nil},
		{"unknown action", Notification{Kind: StageChanged, Event: Event{LeadID: "L-3", LeadTitle: "Z", Action: "FROB"}},
			"en", "[innonet] Lead update: L-3 Z", []string{"innonet: FROB on lead L-3 “Z”."}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := Render(c.n, c.lang, "https://console.example/")
			if m.Subject != c.subject {
				t.Errorf("subject %q, want %q", m.Subject, c.subject)
			}
			if m.Link != "https://console.example/leads/"+c.n.Event.LeadID {
				t.Errorf("link %q", m.Link)
			}
			for _, s := range c.inText {
				if !strings.Contains(m.Text, s) {
					t.Errorf("text lacks %q:\n%s", s, m.Text)
				}
			}
			for _, s := range c.notInText {
				if strings.Contains(m.Text, s) {
					t.Errorf("text has %q:\n%s", s, m.Text)
				}
			}
			for _, s := range c.inText[:1] {
				if !strings.Contains(m.HTML, template.HTMLEscapeString(s)) {
					t.Errorf("html lacks %q:\n%s", s, m.HTML)
				}
			}
			if !strings.Contains(m.HTML, `href="`+m.Link+`"`) {
				t.Errorf("html lacks the link:\n%s", m.HTML)
			}
		})
	}
}

func TestRenderEscapes(t *testing.T) {
	e := Event{LeadID: "L-1/../x?y", LeadTitle: "<script>alert(1)</script>\r\nBcc: evil@example.com",
		Action: ActionComment, ActorName: `"><img src=x onerror=alert(1)>`, Comment: "a < b & c > d"}
	m := Render(Notification{Kind: Comment, Event: e}, "en", "https://console.example")
	for _, bad := range []string{"<script>", "<img", "a < b"} {
		if strings.Contains(m.HTML, bad) {
			t.Errorf("html has %q unescaped:\n%s", bad, m.HTML)
		}
	}
	for _, good := range []string{"&lt;script&gt;", "a &lt; b &amp; c &gt; d"} {
		if !strings.Contains(m.HTML, good) {
			t.Errorf("html lacks %q:\n%s", good, m.HTML)
		}
	}
	if strings.ContainsAny(m.Subject, "\r\n") {
		t.Errorf("subject spans lines: %q", m.Subject)
	}
	if m.Link != "https://console.example/leads/L-1%2F..%2Fx%3Fy" {
		t.Errorf("link %q", m.Link)
	}
	// The text body is plain text: no escaping, the title kept.
	if !strings.Contains(m.Text, "<script>alert(1)</script> Bcc: evil@example.com") {
		t.Errorf("text:\n%s", m.Text)
	}
}

func TestRenderDigest(t *testing.T) {
	day := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	ns := []Notification{
		{UserID: "u", Kind: Comment, Event: Event{Index: 12, LeadID: "L-2", LeadTitle: "B & <c>", Action: ActionComment,
			ActorName: "Li", Comment: "long\ncomment"}},
		{UserID: "u", Kind: PublishedMatch, Event: Event{Index: 11, LeadID: "L-1", LeadTitle: "A", Action: ActionApprove,
			ActorName: "王芳"}},
	}
	for _, c := range []struct{ lang, subject, first string }{
		{"en", "[innonet] Daily digest for 2026-03-02: 2 notifications", "王芳 approved lead L-1"},
		{"zh", "[innonet] 2026-03-02 每日摘要：2 条通知", "王芳 批准了线索 L-1"},
	} {
		m := RenderDigest(ns, c.lang, "https://c.example", day)
		if m.Subject != c.subject {
			t.Errorf("%s: subject %q", c.lang, m.Subject)
		}
		i, j := strings.Index(m.Text, c.first), strings.Index(m.Text, "L-2")
		if i < 0 || j < i {
			t.Errorf("%s: not in log order:\n%s", c.lang, m.Text)
		}
		if !strings.Contains(m.Text, "long comment") || !strings.Contains(m.Text, "https://c.example/leads/L-2") {
			t.Errorf("%s: text:\n%s", c.lang, m.Text)
		}
		if strings.Contains(m.HTML, "<c>") || !strings.Contains(m.HTML, "B &amp; &lt;c&gt;") {
			t.Errorf("%s: html not escaped:\n%s", c.lang, m.HTML)
		}
	}
}

func shanghai(t *testing.T) *time.Location {
	t.Helper()
	return zone(t, "Asia/Shanghai")
}

func zone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}
