package main

import (
	"fmt"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"

	pb "innonet/proto/innonet/v1"
)

// waitForSites waits until the leader has registered the default
// topology (once the cluster runs log format 2).
func (tn *testNet) waitForSites() {
	tn.t.Helper()
	eventually(tn.t, "the default topology registered", func() error {
		sites, err := tn.leader().State().Sites()
		if err != nil || len(sites) < 8 {
			return fmt.Errorf("%d sites registered (%v)", len(sites), err)
		}
		return nil
	})
}

// TestCLIRegistry works the registry, organisations and deal terms with
// the CLI only: a sub-node and its staff, a foreign organisation and a
// local enterprise, a lead linked to one and claimed with deal terms, and
// who sees them.
func TestCLIRegistry(t *testing.T) {
	tn := newTestNet(t, "CGO", "BOS")
	tn.waitForSites()
	cgo, bos := tn.addr("CGO"), tn.addr("BOS")
	as := func(addr, token string) []string { return []string{"--addr", addr, "--token", token} }
	admin := as(cgo, cliAdminToken)
	hq := tn.addUser("Li Wei", pb.Role_HQ_REVIEWER, "", "")
	yrd := tn.addUser("Chen Jie", pb.Role_DIVISION, "", "YRD")
	prd := tn.addUser("Huang Lei", pb.Role_DIVISION, "", "PRD")

	// The registry: the default topology, then a sub-node of Munich.
	out := cli(t, append([]string{"site", "list"}, as(bos, hq)...)...)
	if rows := tableRows(out, "CGO"); len(rows) != 1 || rows[0][1] != "HQ" || !strings.Contains(out, "Munich") {
		t.Errorf("site list: got\n%s\nwant CGO as HQ and Munich", out)
	}
	out = cli(t, append([]string{"site", "add", "muc-tum", "--name", "Technische Universität München", "--kind", "university"}, admin...)...)
	if rows := tableRows(out, "MUC-TUM"); len(rows) != 1 || rows[0][1] != "UNIVERSITY" || !strings.Contains(out, "admin (user-0001)") {
		t.Errorf("site add: got\n%s", out)
	}
	cliErr(t, codes.PermissionDenied, append([]string{"site", "add", "MUC-LMU", "--name", "LMU", "--kind", "university"}, as(bos, hq)...)...)
	var sites pb.ListSitesResponse
	cliJSON(t, &sites, append([]string{"site", "list"}, as(bos, hq)...)...)
	for _, s := range sites.Sites {
		if s.Code == "MUC" && (len(s.Subnodes) != 1 || s.Subnodes[0].Code != "MUC-TUM") {
			t.Errorf("site list --json: MUC has %v, want MUC-TUM", s.Subnodes)
		}
	}
	if r := runCLI(t, append([]string{"site", "add", "MUC-X1", "--kind", "team"}, admin...)...); r.err == nil || !strings.Contains(r.stderr, "--name is required") {
		t.Errorf("site add without --name: got %v %q", r.err, r.stderr)
	}

	// Staff of registered sites only; a sub-node's staff submit for MUC.
	r := cliErr(t, codes.InvalidArgument, append([]string{"user", "add", "--name", "Typo", "--role", "node-staff", "--site", "MUCH"}, admin...)...)
	if !strings.Contains(r.err.Error(), "BOS, CBG, MUC, MUC-TUM, TLV") {
		t.Errorf("a typo: got %q, want the known sites named", r.err)
	}
	tum := tn.addUser("Jonas Weber", pb.Role_NODE_STAFF, "MUC-TUM", "")

	// Organisations: a foreign one by node staff, a local enterprise by
	// its division; the duplicate is refused.
	out = cli(t, append([]string{"org", "create", "--kind", "university", "--name", "Technische Universität München",
		"--name-en", "Technical University of Munich", "--other-name", "TUM,慕尼黑工业大学", "--country", "de"}, as(bos, tum)...)...)
	if rows := tableRows(out, "org-0001"); len(rows) != 1 || rows[0][1] != "UNIVERSITY" || rows[0][2] != "DE" {
		t.Errorf("org create: got\n%s", out)
	}
	r = cliErr(t, codes.Aborted, append([]string{"org", "create", "--kind", "company", "--name", "TUM", "--country", "DE"}, as(cgo, hq)...)...)
	if !strings.Contains(r.err.Error(), "org-0001") {
		t.Errorf("a duplicate: got %q", r.err)
	}
	var yutong pb.Organization
	cliJSON(t, &yutong, append([]string{"org", "create", "--kind", "local-enterprise", "--name", "宇通客车", "--name-en", "Yutong Bus",
		"--city", "Zhengzhou", "--division", "yrd", "--looking-for", "Battery technology"}, as(cgo, yrd)...)...)
	if yutong.Id != "org-0002" || yutong.Country != "CN" || yutong.CreatedByName != "Chen Jie" {
		t.Errorf("org create --json: got %v", &yutong)
	}
	cliErr(t, codes.PermissionDenied, append([]string{"org", "create", "--kind", "local-enterprise", "--name", "天津港", "--division", "BOHAI"}, as(cgo, yrd)...)...)
	out = cli(t, append([]string{"org", "list", "--q", "慕尼黑"}, as(bos, prd)...)...)
	if len(tableRows(out, "org-0001")) != 1 || len(tableRows(out, "org-0002")) != 0 {
		t.Errorf("org list --q: got\n%s", out)
	}
	out = cli(t, append([]string{"org", "list", "--kind", "local-enterprise", "--all"}, as(bos, prd)...)...)
	if len(tableRows(out, "org-0002")) != 1 || len(tableRows(out, "org-0001")) != 0 {
		t.Errorf("org list --kind: got\n%s", out)
	}
	cli(t, append([]string{"org", "update", "org-0002", "--looking-for", "Hydrogen buses", "--expected-version", "1"}, as(cgo, yrd)...)...)
	out = cli(t, append([]string{"org", "show", "ORG-0002"}, as(bos, tum)...)...)
	for _, want := range []string{"Yutong Bus", "Hydrogen buses", "Version:", "2", "Chen Jie (user-"} {
		if !strings.Contains(out, want) {
			t.Errorf("org show: output lacks %q:\n%s", want, out)
		}
	}

	// A lead of the sub-node, linked to its organisation.
	out = cli(t, append([]string{"lead", "submit", "--title", "Festkörperbatterie", "--summary", "Sulfid-Elektrolyt.",
		"--organization-id", "org-0001", "--country", "DE", "--sector", "new-energy-vehicles", "--trl", "5",
		"--deal-type", "joint-venture", "--language", "de"}, as(bos, tum)...)...)
	if rows := tableRows(out, "MUC-0001"); len(rows) != 1 || rows[0][2] != "MUC-TUM" {
		t.Fatalf("lead submit by MUC-TUM staff: got\n%s", out)
	}
	out = cli(t, append([]string{"lead", "show", "MUC-0001"}, as(cgo, hq)...)...)
	for _, want := range []string{"Sub-node:", "MUC-TUM", "Jonas Weber (user-", "Technische Universität München (org-0001)"} {
		if !strings.Contains(out, want) {
			t.Errorf("lead show: output lacks %q:\n%s", want, out)
		}
	}
	cli(t, append([]string{"lead", "review", "MUC-0001", "--decision", "approve"}, as(cgo, hq)...)...)
	cli(t, append([]string{"lead", "claim", "MUC-0001"}, as(cgo, yrd)...)...)

	// Deal terms: set, partly changed, and seen by YRD and HQ only.
	if r := runCLI(t, append([]string{"lead", "deal", "MUC-0001"}, as(cgo, yrd)...)...); r.err == nil || !strings.Contains(r.stderr, "nothing to change") {
		t.Errorf("lead deal without terms: got %v %q", r.err, r.stderr)
	}
	out = cli(t, append([]string{"lead", "deal", "MUC-0001", "--partner", "org-0002", "--amount", "42000000", "--currency", "cny",
		"--jobs", "120", "--signing", "2027-01-15", "--landing", "2027-09-01", "--next-step", "Board meeting in Zhengzhou"}, as(bos, yrd)...)...)
	for _, want := range []string{"MUC-0001", "宇通客车 (org-0002)", "42000000 CNY", "120", "2027-09-01", "Chen Jie (user-"} {
		if !strings.Contains(out, want) {
			t.Errorf("lead deal: output lacks %q:\n%s", want, out)
		}
	}
	var l pb.Lead
	cliJSON(t, &l, append([]string{"lead", "deal", "MUC-0001", "--jobs", "150", "--landing", ""}, as(cgo, yrd)...)...)
	if l.DealTerms == nil || l.DealTerms.Jobs != 150 || l.DealTerms.ExpectedLandingDate != "" || l.DealTerms.Amount != "42000000" {
		t.Errorf("lead deal --json: got %v", l.DealTerms)
	}
	cliErr(t, codes.InvalidArgument, append([]string{"lead", "deal", "MUC-0001", "--currency", "RMB"}, as(cgo, yrd)...)...)
	cliErr(t, codes.PermissionDenied, append([]string{"lead", "deal", "MUC-0001", "--jobs", "1"}, as(cgo, prd)...)...)
	for _, tt := range []struct {
		who, token string
		sees       bool
	}{{"YRD", yrd, true}, {"HQ", hq, true}, {"PRD", prd, false}, {"MUC-TUM staff", tum, false}} {
		out := cli(t, append([]string{"lead", "show", "MUC-0001"}, as(bos, tt.token)...)...)
		if got := strings.Contains(out, "42000000 CNY"); got != tt.sees {
			t.Errorf("lead show as %s shows the amount: %v, want %v\n%s", tt.who, got, tt.sees, out)
		}
		if !tt.sees && !strings.Contains(out, "shown to the claiming division and HQ only") {
			t.Errorf("lead show as %s: want a note that there are terms\n%s", tt.who, out)
		}
		out = cli(t, append([]string{"lead", "history", "MUC-0001"}, as(bos, tt.token)...)...)
		if got := strings.Contains(out, "jobs: 120 → 150"); got != tt.sees || !tt.sees && !strings.Contains(out, "jobs (withheld)") {
			t.Errorf("lead history as %s shows the change of jobs: %v, want %v\n%s", tt.who, got, tt.sees, out)
		}
	}
	out = cli(t, append([]string{"lead", "history", "MUC-0001"}, as(cgo, hq)...)...)
	if !strings.Contains(out, "Jonas Weber (user-") || !strings.Contains(out, "Li Wei (user-") {
		t.Errorf("lead history: want users by name\n%s", out)
	}
	out = cli(t, append([]string{"user", "list"}, admin...)...)
	if !strings.Contains(out, "admin (user-0001)") {
		t.Errorf("user list: want the creators by name\n%s", out)
	}
}
