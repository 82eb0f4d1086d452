package main

import (
	"fmt"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"

	"innonet/node/pipeline"
	pb "innonet/proto/innonet/v1"
)

// TestCLIFindAndTranslate: lead list with filters and an order, lead
// translate as draft and verified, lead show and lead list in Chinese,
// and the glossary, with the CLI only.
func TestCLIFindAndTranslate(t *testing.T) {
	tn := newTestNet(t, "CGO", "BOS")
	eventually(t, "the cluster's log format raised", func() error {
		if f := tn.leader().State().Format(); f < pipeline.Format2 {
			return fmt.Errorf("format %d", f)
		}
		return nil
	})
	cgo, bos := tn.addr("CGO"), tn.addr("BOS")
	as := func(addr, token string) []string { return []string{"--addr", addr, "--token", token} }
	muc := tn.addUser("Max Müller", pb.Role_NODE_STAFF, "MUC", "")
	hq := tn.addUser("Li Wei", pb.Role_HQ_REVIEWER, "", "")

	cli(t, append([]string{"lead", "submit", "--title", "Wasserstoffspeicher für Lkw", "--summary", "Metallhydrid-Tanks.",
		"--organization", "TU München", "--country", "DE", "--sector", "new-energy-vehicles", "--trl", "4",
		"--deal-type", "rnd-collaboration", "--language", "de"}, as(bos, muc)...)...)
	cli(t, append([]string{"lead", "submit", "--title", "KI-Diagnostik", "--summary", "MRT-Bilder.",
		"--organization", "Klinikum rechts der Isar", "--country", "DE", "--sector", "it-ai", "--trl", "7",
		"--deal-type", "technology-licensing", "--language", "de"}, as(bos, muc)...)...)
	cli(t, append([]string{"lead", "review", "MUC-0001", "--decision", "approve"}, as(cgo, hq)...)...)

	// Filters and an order.
	for _, tt := range []struct {
		args []string
		want []string
	}{
		{[]string{"--sector", "IT_AI"}, []string{"MUC-0002"}},
		{[]string{"--stage", "submitted,approved", "--order-by", "-createTime"}, []string{"MUC-0002", "MUC-0001"}},
		{[]string{"--stage", "approved", "--stage", "claimed"}, []string{"MUC-0001"}},
		{[]string{"--trl-min", "5", "--country", "de"}, []string{"MUC-0002"}},
		{[]string{"-q", "wasserstoff", "--submitted-after", "2000-01-01"}, []string{"MUC-0001"}},
		{[]string{"--organization", "münchen", "--deal-type", "rnd-collaboration"}, []string{"MUC-0001"}},
		{[]string{"--updated-after", "2999-01-01T00:00:00Z"}, nil},
	} {
		out := cli(t, append(append([]string{"lead", "list"}, tt.args...), as(bos, hq)...)...)
		var got []string
		for _, line := range strings.Split(strings.TrimSpace(out), "\n")[1:] {
			got = append(got, strings.Fields(line)[0])
		}
		if strings.Join(got, " ") != strings.Join(tt.want, " ") {
			t.Errorf("lead list %s: got %v, want %v\n%s", strings.Join(tt.args, " "), got, tt.want, out)
		}
	}
	r := cliErr(t, codes.InvalidArgument, append([]string{"lead", "list", "--order-by", "priority"}, as(bos, hq)...)...)
	if !strings.Contains(r.err.Error(), "updateTime") {
		t.Errorf("a bad --order-by: %v", r.err)
	}

	// Munich drafts a translation; it may not verify its own, HQ does.
	out := cli(t, append([]string{"lead", "translate", "MUC-0001", "--lang", "zh", "--title", "重型卡车储氢罐",
		"--summary", "金属氢化物储氢罐。"}, as(bos, muc)...)...)
	for _, want := range []string{"TITLE (ZH)", "重型卡车储氢罐 [zh draft]", "Translations: zh draft"} {
		if !strings.Contains(out, want) {
			t.Errorf("lead translate: output lacks %q:\n%s", want, out)
		}
	}
	r = cliErr(t, codes.PermissionDenied, append([]string{"lead", "translate", "MUC-0001", "--lang", "zh", "--keep-text", "--verified"}, as(bos, muc)...)...)
	if !strings.Contains(r.err.Error(), "verified by HQ or by someone else") {
		t.Errorf("verifying one's own: %v", r.err)
	}
	var lead pb.Lead
	cliJSON(t, &lead, append([]string{"lead", "translate", "MUC-0001", "--lang", "zh", "--keep-text", "--verified"}, as(cgo, hq)...)...)
	if tr := lead.Translation; tr == nil || tr.Status != pb.TranslationStatus_VERIFIED || tr.VerifiedByName != "Li Wei" ||
		tr.TranslatedByName != "Max Müller" || tr.Title != "重型卡车储氢罐" {
		t.Fatalf("lead translate --keep-text --verified --json: %v", &lead)
	}
	out = cli(t, append([]string{"lead", "show", "MUC-0001", "--lang", "zh"}, as(bos, hq)...)...)
	for _, want := range []string{"Wasserstoffspeicher für Lkw", "Translation (zh, VERIFIED, by Max Müller, verified by Li Wei",
		"重型卡车储氢罐", "新能源与智能网联汽车", "金属氢化物储氢罐。"} {
		if !strings.Contains(out, want) {
			t.Errorf("lead show --lang zh: output lacks %q:\n%s", want, out)
		}
	}
	if out := cli(t, append([]string{"lead", "show", "MUC-0002", "--lang", "he"}, as(bos, hq)...)...); !strings.Contains(out, "No translation into he") {
		t.Errorf("lead show --lang he:\n%s", out)
	}
	out = cli(t, append([]string{"lead", "list", "-q", "储氢", "--lang", "zh"}, as(bos, hq)...)...)
	if rows := tableRows(out, "MUC-0001"); len(rows) != 1 || !strings.Contains(out, "重型卡车储氢罐 [zh verified]") || !strings.Contains(out, "新能源与智能网联汽车") {
		t.Errorf("lead list -q 储氢 --lang zh:\n%s", out)
	}

	// The glossary: built in, HQ's own term, deleted again.
	out = cli(t, append([]string{"glossary", "list"}, as(bos, muc)...)...)
	if rows := tableRows(out, "sector.it_ai"); len(rows) != 1 || !strings.Contains(out, "信息技术与人工智能") || !strings.Contains(out, "(built in)") {
		t.Errorf("glossary list:\n%s", out)
	}
	out = cli(t, append([]string{"glossary", "set", "hydrogen", "--name", "zh=氢能", "--name", "EN=Hydrogen", "--name", "he=מימן"}, as(cgo, hq)...)...)
	if rows := tableRows(out, "hydrogen"); len(rows) != 3 || !strings.Contains(out, "氢能") {
		t.Errorf("glossary set:\n%s", out)
	}
	cliErr(t, codes.PermissionDenied, append([]string{"glossary", "set", "hydrogen", "--name", "en=H2"}, as(bos, muc)...)...)
	out = cli(t, append([]string{"glossary", "list", "--lang", "en"}, as(bos, muc)...)...)
	if rows := tableRows(out, "hydrogen"); len(rows) != 1 || rows[0][1] != "Hydrogen" || !strings.Contains(out, "Li Wei") {
		t.Errorf("glossary list --lang en:\n%s", out)
	}
	var term pb.GlossaryTerm
	cliJSON(t, &term, append([]string{"glossary", "delete", "hydrogen"}, as(cgo, hq)...)...)
	if term.Term != "hydrogen" || len(term.Names) != 0 {
		t.Errorf("glossary delete --json: %v", &term)
	}
	cliErr(t, codes.NotFound, append([]string{"glossary", "delete", "hydrogen"}, as(cgo, hq)...)...)
}
