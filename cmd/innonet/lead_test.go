package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protojson"

	pb "innonet/proto/innonet/v1"
)

// TestCLILeadLifecycle takes a lead from submission to landing with the
// CLI only, each step as the role that may take it and through a
// different site, and checks the state each step left on the server.
func TestCLILeadLifecycle(t *testing.T) {
	tn := newTestNet(t, "CGO", "BOS", "CBG")
	cgo, bos, cbg := tn.addr("CGO"), tn.addr("BOS"), tn.addr("CBG")
	as := func(addr, token string) []string { return []string{"--addr", addr, "--token", token} }
	admin := as(cgo, cliAdminToken)

	// One user per role, added by the admin; the table prints the token once.
	out := cli(t, append([]string{"user", "add", "--name", "Li Wei", "--role", "hq-reviewer"}, admin...)...)
	hq := tokenLine(t, out)
	var created pb.CreateUserResponse
	cliJSON(t, &created, append([]string{"user", "add", "--name", "Emily Carter", "--role", "node-staff", "--site", "BOS"}, admin...)...)
	staff := created.Token
	if created.User.Role != pb.Role_NODE_STAFF || created.User.Site != "BOS" || !strings.HasPrefix(staff, "inn_") {
		t.Fatalf("user add --json: got %v", &created)
	}
	cliJSON(t, &created, append([]string{"user", "add", "--name", "Chen Jie", "--role", "DIVISION", "--division", "YRD"}, admin...)...)
	yrd := created.Token
	cliJSON(t, &created, append([]string{"user", "add", "--name", "Zhang Min", "--role", "division", "--division", "BOHAI"}, admin...)...)
	bohai := created.Token

	// Boston submits through its own site.
	out = cli(t, append([]string{"lead", "submit", "--title", "mRNA vaccine platform", "--summary", "Thermostable mRNA formulation.",
		"--organization", "Longwood Vaccines", "--country", "US", "--sector", "life-sciences-health", "--trl", "5",
		"--deal-type", "technology-licensing", "--tag", "mRNA,vaccine", "--tag", "cold chain",
		"--contact", "Dr. Ana Ruiz <ana@longwood.example> +1 617 555 0100", "--contact", "Tom Lee", "--language", "en"}, as(bos, staff)...)...)
	rows := tableRows(out, "BOS-0001")
	if len(rows) != 1 || rows[0][1] != "SUBMITTED" || !strings.HasPrefix(out, "ID") {
		t.Fatalf("lead submit: got\n%s\nwant a table with BOS-0001 SUBMITTED", out)
	}
	l := tn.getLead(hq, "BOS-0001")
	if l.Sector != pb.Sector_LIFE_SCIENCES_HEALTH || l.DealType != pb.DealType_TECHNOLOGY_LICENSING || l.Trl != 5 ||
		strings.Join(l.Tags, "|") != "mRNA|vaccine|cold chain" || len(l.Contacts) != 2 ||
		l.Contacts[0].Email != "ana@longwood.example" || l.Contacts[0].Phone != "+1 617 555 0100" || l.Contacts[1].Name != "Tom Lee" {
		t.Fatalf("the submitted lead: got %v", l)
	}

	// HQ returns it, Boston edits it (which resubmits it), HQ approves it.
	out = cli(t, append([]string{"lead", "review", "bos-0001", "--decision", "return", "--comment", "Which cold-chain temperature?"}, as(cgo, hq)...)...)
	if rows := tableRows(out, "BOS-0001"); len(rows) != 1 || rows[0][1] != "RETURNED" {
		t.Fatalf("lead review --decision return: got\n%s", out)
	}
	cli(t, append([]string{"lead", "edit", "BOS-0001", "--summary", "Thermostable at 2-8 °C for 6 months.", "--comment", "Added cold-chain data"}, as(bos, staff)...)...)
	if l := tn.getLead(hq, "BOS-0001"); l.Stage != pb.Stage_SUBMITTED || !strings.Contains(l.Summary, "2-8 °C") {
		t.Fatalf("after lead edit: got stage %s, summary %q; want SUBMITTED and the new summary", l.Stage, l.Summary)
	}
	var lead pb.Lead
	cliJSON(t, &lead, append([]string{"lead", "review", "BOS-0001", "--decision", "approve"}, as(cbg, hq)...)...)
	if lead.Stage != pb.Stage_APPROVED {
		t.Fatalf("lead review --decision approve --json: got stage %s", lead.Stage)
	}

	// Yangtze River Delta claims it; Bohai Rim is too late.
	cli(t, append([]string{"lead", "claim", "BOS-0001"}, as(cbg, yrd)...)...)
	if l := tn.getLead(hq, "BOS-0001"); l.Stage != pb.Stage_CLAIMED || l.Division != "YRD" {
		t.Fatalf("after lead claim: got stage %s division %q, want CLAIMED by YRD", l.Stage, l.Division)
	}
	r := cliErr(t, codes.Aborted, append([]string{"lead", "claim", "BOS-0001"}, as(cgo, bohai)...)...)
	if !strings.Contains(r.err.Error(), "already claimed by YRD") {
		t.Errorf("a late claim: got %q, want the message to name the winner", r.err)
	}

	// A stale --expected-version is refused; then the division works the lead to landing.
	cliErr(t, codes.Aborted, append([]string{"lead", "advance", "BOS-0001", "--to", "negotiating", "--expected-version", "1"}, as(cbg, yrd)...)...)
	version := tn.getLead(hq, "BOS-0001").Version
	for i, stage := range []string{"negotiating", "signed", "landed"} {
		args := []string{"lead", "advance", "BOS-0001", "--to", stage, "--note", "step " + stage}
		if i == 0 {
			args = append(args, "--expected-version", fmt.Sprint(version))
		}
		out := cli(t, append(args, as(cbg, yrd)...)...)
		if rows := tableRows(out, "BOS-0001"); len(rows) != 1 || rows[0][1] != strings.ToUpper(stage) {
			t.Fatalf("lead advance --to %s: got\n%s", stage, out)
		}
	}
	if l := tn.getLead(hq, "BOS-0001"); l.Stage != pb.Stage_LANDED {
		t.Fatalf("after advancing: got stage %s, want LANDED", l.Stage)
	}

	// The history lists every step, as a table and as JSON.
	out = cli(t, append([]string{"lead", "history", "BOS-0001"}, as(bos, staff)...)...)
	var actions []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n")[1:] {
		actions = append(actions, strings.Fields(line)[2])
	}
	want := "SUBMIT RETURN RESUBMIT APPROVE CLAIM ADVANCE ADVANCE ADVANCE"
	if got := strings.Join(actions, " "); got != want {
		t.Errorf("lead history actions: got %q, want %q\n%s", got, want, out)
	}
	var hist pb.GetLeadHistoryResponse
	cliJSON(t, &hist, append([]string{"lead", "history", "BOS-0001"}, as(cgo, hq)...)...)
	if len(hist.Events) != 8 || hist.Events[2].Comment != "Added cold-chain data" || hist.Events[7].ToStage != pb.Stage_LANDED {
		t.Errorf("lead history --json: got %v", &hist)
	}

	// lead show prints every field; --json wraps the lead with the read info.
	out = cli(t, append([]string{"lead", "show", "BOS-0001"}, as(bos, staff)...)...)
	for _, want := range []string{"Title:", "mRNA vaccine platform", "LANDED", "YRD", "Dr. Ana Ruiz <ana@longwood.example> +1 617 555 0100", "Summary:\n  Thermostable at 2-8 °C"} {
		if !strings.Contains(out, want) {
			t.Errorf("lead show: output lacks %q:\n%s", want, out)
		}
	}
	var shown struct {
		Lead json.RawMessage `json:"lead"`
		Read json.RawMessage `json:"read"`
	}
	if err := json.Unmarshal([]byte(cli(t, append([]string{"lead", "show", "BOS-0001", "--json"}, as(bos, staff)...)...)), &shown); err != nil {
		t.Fatalf("lead show --json: %v", err)
	}
	if err := protojson.Unmarshal(shown.Lead, &lead); err != nil || lead.Stage != pb.Stage_LANDED || lead.Id != "BOS-0001" {
		t.Errorf("lead show --json: lead %v, err %v", &lead, err)
	}

	// A lead from a file: submitting it twice with its request ID makes one lead.
	file := filepath.Join(t.TempDir(), "lead.json")
	body := `{"requestId": "bos-file-1", "title": "Solid-state electrolyte", "summary": "Sulfide electrolyte at pilot scale.",
		"organization": "Voltline Materials", "country": "US", "sector": "NEW_ENERGY_VEHICLES", "trl": 4, "dealType": "INVESTMENT"}`
	if err := os.WriteFile(file, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	cliJSON(t, &lead, append([]string{"lead", "submit", "--file", file, "--trl", "6"}, as(bos, staff)...)...)
	first := lead.Id
	if lead.Trl != 6 || lead.Title != "Solid-state electrolyte" {
		t.Fatalf("lead submit --file --trl 6: got %v, want the file's lead with TRL 6", &lead)
	}
	cliJSON(t, &lead, append([]string{"lead", "submit", "--file", file, "--trl", "6"}, as(cgo, staff)...)...)
	if lead.Id != first {
		t.Fatalf("submitting the same file again: got lead %s, want the first result %s", lead.Id, first)
	}

	// Withdraw it; approve, claim and release a third.
	cli(t, append([]string{"lead", "withdraw", first, "--comment", "Company acquired"}, as(bos, staff)...)...)
	if l := tn.getLead(hq, first); l.Stage != pb.Stage_WITHDRAWN || l.StageComment != "Company acquired" {
		t.Fatalf("after lead withdraw: got stage %s comment %q", l.Stage, l.StageComment)
	}
	third := tn.submit(staff, "Third lead").Id
	cli(t, append([]string{"lead", "review", third, "--decision", "approve"}, as(cgo, hq)...)...)
	cli(t, append([]string{"lead", "claim", third}, as(cgo, bohai)...)...)
	cli(t, append([]string{"lead", "release", third, "--comment", "Reassigning"}, as(cgo, hq)...)...)
	if l := tn.getLead(hq, third); l.Stage != pb.Stage_APPROVED || l.Division != "" {
		t.Fatalf("after lead release: got stage %s division %q, want APPROVED, unclaimed", l.Stage, l.Division)
	}
}

// TestCLILeadListPaging lists page by page and with --all.
func TestCLILeadListPaging(t *testing.T) {
	tn := newTestNet(t, "CGO", "BOS", "CBG")
	staff := tn.addUser("Emily", pb.Role_NODE_STAFF, "BOS", "")
	hq := tn.addUser("Li Wei", pb.Role_HQ_REVIEWER, "", "")
	for i := 0; i < 7; i++ {
		tn.submit(staff, "Lead "+fmt.Sprint(i+1))
	}
	auth := []string{"--addr", tn.addr("BOS"), "--token", hq}

	r := runCLI(t, append([]string{"lead", "list", "--page-size", "3"}, auth...)...)
	if r.err != nil {
		t.Fatal(r.err)
	}
	if got := leadIDs(r.stdout); got != "BOS-0001 BOS-0002 BOS-0003" {
		t.Errorf("first page: got %q", got)
	}
	_, token, ok := strings.Cut(r.stderr, "--page-token ")
	if !ok {
		t.Fatalf("first page: no --page-token hint on stderr:\n%s", r.stderr)
	}
	token = strings.Fields(token)[0]
	out := cli(t, append([]string{"lead", "list", "--page-size", "3", "--page-token", token}, auth...)...)
	if got := leadIDs(out); got != "BOS-0004 BOS-0005 BOS-0006" {
		t.Errorf("second page: got %q", got)
	}

	tests := []struct {
		name string
		args []string
		want string
	}{
		{"all", []string{"--page-size", "3", "--all"}, "BOS-0001 BOS-0002 BOS-0003 BOS-0004 BOS-0005 BOS-0006 BOS-0007"},
		{"all from a token", []string{"--page-size", "2", "--all", "--page-token", token}, "BOS-0004 BOS-0005 BOS-0006 BOS-0007"},
		{"filtered", []string{"--stage", "submitted", "--site", "BOS", "--page-size", "5", "--all"}, "BOS-0001 BOS-0002 BOS-0003 BOS-0004 BOS-0005 BOS-0006 BOS-0007"},
		{"nothing", []string{"--stage", "landed"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, append(append([]string{"lead", "list"}, tt.args...), auth...)...)
			if r.err != nil {
				t.Fatal(r.err)
			}
			if got := leadIDs(r.stdout); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			if strings.Contains(r.stderr, "--page-token") {
				t.Errorf("the last page should print no --page-token hint:\n%s", r.stderr)
			}
			var resp pb.ListLeadsResponse
			cliJSON(t, &resp, append(append([]string{"lead", "list"}, tt.args...), auth...)...)
			var ids []string
			for _, l := range resp.Leads {
				ids = append(ids, l.Id)
			}
			if got := strings.Join(ids, " "); got != tt.want || resp.NextPageToken != "" {
				t.Errorf("--json: got leads %q and next page token %q, want %q and none", got, resp.NextPageToken, tt.want)
			}
		})
	}

	// Node staff of another site see none of Boston's leads.
	other := tn.addUser("Lukas", pb.Role_NODE_STAFF, "MUC", "")
	if got := leadIDs(cli(t, "lead", "list", "--all", "--addr", tn.addr("CGO"), "--token", other)); got != "" {
		t.Errorf("MUC staff: got %q, want no leads", got)
	}
}

// TestCLIReads covers the read consistency flags and the read info.
func TestCLIReads(t *testing.T) {
	tn := newTestNet(t, "CGO", "BOS", "CBG")
	staff := tn.addUser("Emily", pb.Role_NODE_STAFF, "BOS", "")
	hq := tn.addUser("Li Wei", pb.Role_HQ_REVIEWER, "", "")
	tn.submit(staff, "Lead one")
	follower := tn.follower()
	eventually(t, "the follower has the lead", func() error {
		return runCLI(t, "lead", "show", "BOS-0001", "--consistency", "stale", "--addr", tn.addr(follower), "--token", hq).err
	})

	t.Run("stale", func(t *testing.T) {
		for _, args := range [][]string{
			{"lead", "list", "--consistency", "stale"},
			{"lead", "list", "--max-staleness", "5s"},
			{"lead", "history", "BOS-0001", "--consistency", "STALE", "--max-staleness", "10s"},
			{"lead", "show", "BOS-0001", "--consistency", "stale"},
		} {
			out := cli(t, append(args, "--addr", tn.addr(follower), "--token", hq)...)
			if !strings.Contains(out, "BOS-0001") && !strings.Contains(out, "SUBMIT") {
				t.Errorf("%s: got\n%s", strings.Join(args, " "), out)
			}
		}
	})

	t.Run("linearizable", func(t *testing.T) {
		r := runCLI(t, "lead", "list", "--consistency", "linearizable", "--json", "--addr", tn.addr(follower), "--token", hq)
		skipIfUnimplemented(t, r.err)
		if r.err != nil {
			t.Fatalf("lead list --consistency linearizable: %v\n%s", r.err, r.stderr)
		}
		var resp pb.ListLeadsResponse
		if err := protojson.Unmarshal([]byte(r.stdout), &resp); err != nil || len(resp.Leads) != 1 {
			t.Fatalf("got %v (%v), want one lead", &resp, err)
		}
		if resp.Read.GetSite() != "" && resp.Read.Consistency != pb.Consistency_LINEARIZABLE {
			t.Errorf("read info: got consistency %s, want LINEARIZABLE", resp.Read.Consistency)
		}
	})

	t.Run("read info", func(t *testing.T) {
		var resp pb.ListLeadsResponse
		cliJSON(t, &resp, "lead", "list", "--consistency", "stale", "--addr", tn.addr(follower), "--token", hq)
		if resp.Read.Site != follower || resp.Read.Consistency != pb.Consistency_STALE || resp.Read.AppliedIndex == 0 {
			t.Errorf("lead list --consistency stale --json: got read %v, want site %s, STALE, an applied index", resp.Read, follower)
		}
		for _, args := range [][]string{{"lead", "list"}, {"lead", "show", "BOS-0001"}, {"lead", "history", "BOS-0001"}} {
			r := runCLI(t, append(args, "--consistency", "stale", "--addr", tn.addr(follower), "--token", hq)...)
			if r.err != nil || !strings.Contains(r.stderr, "read: answered by "+follower+" (STALE)") {
				t.Errorf("%s: got err %v, stderr %q; want the read info footer", strings.Join(args, " "), r.err, r.stderr)
			}
		}
		var shown struct {
			Read json.RawMessage `json:"read"`
		}
		out := cli(t, "lead", "show", "BOS-0001", "--json", "--addr", tn.addr(follower), "--token", hq)
		var ri pb.ReadInfo
		if err := json.Unmarshal([]byte(out), &shown); err != nil || protojson.Unmarshal(shown.Read, &ri) != nil || ri.Site == "" {
			t.Errorf("lead show --json: got read %s, want the read info from the headers", shown.Read)
		}
	})
}

// tokenLine returns the token the table output of user add printed.
func tokenLine(t *testing.T, out string) string {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		if tok, ok := strings.CutPrefix(line, "token: "); ok && strings.HasPrefix(tok, "inn_") {
			return tok
		}
	}
	t.Fatalf("user add printed no token:\n%s", out)
	return ""
}

// leadIDs returns the IDs in the first column of a lead table.
func leadIDs(out string) string {
	var ids []string
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) > 0 && f[0] != "ID" {
			ids = append(ids, f[0])
		}
	}
	return strings.Join(ids, " ")
}
