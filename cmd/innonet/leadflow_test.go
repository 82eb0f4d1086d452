package main

import (
	"errors"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"

	"innonet/node/pipeline"
	pb "innonet/proto/innonet/v1"
)

// TestCLIWorkflow works a lead through the workflow with the CLI only:
// HQ makes leads assigned, two divisions express interest, HQ assigns the
// lead, the winner's note stays its own, the deal is closed and reopened;
// the threads and history read as each user may read them.
func TestCLIWorkflow(t *testing.T) {
	tn := newTestNet(t, "CGO", "BOS")
	cgo, bos := tn.addr("CGO"), tn.addr("BOS")
	as := func(addr, token string) []string { return []string{"--addr", addr, "--token", token} }
	hqTok := tn.addUser("Li Wei", pb.Role_HQ_REVIEWER, "", "")
	staffTok := tn.addUser("Emily Carter", pb.Role_NODE_STAFF, "BOS", "")
	yrdTok := tn.addUser("Chen Jie", pb.Role_DIVISION, "", "YRD")
	prdTok := tn.addUser("Zhang Min", pb.Role_DIVISION, "", "PRD")
	hq, staff, yrd, prd := as(cgo, hqTok), as(bos, staffTok), as(bos, yrdTok), as(cgo, prdTok)
	eventually(t, "log format 2", func() error {
		if tn.leader().State().Format() < pipeline.Format2 {
			return errors.New("not yet")
		}
		return nil
	})

	// The default claim mode, shown and set.
	out := cli(t, append([]string{"lead", "default-claim-mode"}, prd...)...)
	if rows := tableRows(out, "OPEN"); len(rows) != 1 {
		t.Fatalf("lead default-claim-mode: got\n%s", out)
	}
	cliErr(t, codes.PermissionDenied, append([]string{"lead", "default-claim-mode", "--set", "assigned"}, yrd...)...)
	var setting pb.ClaimModeSetting
	cliJSON(t, &setting, append([]string{"lead", "default-claim-mode", "--set", "assigned"}, hq...)...)
	if setting.ClaimMode != pb.ClaimMode_ASSIGNED || setting.UpdatedByName != "Li Wei" {
		t.Fatalf("lead default-claim-mode --set assigned --json: got %v", &setting)
	}

	id := tn.submit(staffTok, "Future-chain lab").Id
	cli(t, append([]string{"lead", "review", id, "--decision", "return", "--comment", "Which lab partner?"}, hq...)...)
	cli(t, append([]string{"lead", "edit", id, "--trl", "6", "--comment", "Technion"}, staff...)...)
	cli(t, append([]string{"lead", "comment", id, "--body", "Letter of intent attached.", "--visibility", "hq-and-site"}, staff...)...)
	cli(t, append([]string{"lead", "review", id, "--decision", "approve"}, hq...)...)
	if l := tn.getLead(hqTok, id); l.ClaimMode != pb.ClaimMode_ASSIGNED {
		t.Fatalf("approved under the ASSIGNED default: mode %s", l.ClaimMode)
	}
	r := cliErr(t, codes.FailedPrecondition, append([]string{"lead", "claim", id}, yrd...)...)
	if !strings.Contains(r.err.Error(), "HQ assigns this lead") {
		t.Errorf("a claim of an assigned lead: %v", r.err)
	}

	// Interests, side by side for HQ, one's own for a division.
	out = cli(t, append([]string{"lead", "interest", id, "--rationale", "Suzhou biomedicine cluster", "--enterprise", "Suzhou BioBay"}, yrd...)...)
	if rows := tableRows(out, "YRD"); len(rows) != 1 || rows[0][1] != "PENDING" {
		t.Fatalf("lead interest: got\n%s", out)
	}
	cli(t, append([]string{"lead", "interest", id, "--rationale", "Shenzhen CDMO", "--enterprise", "Shenzhen Bio"}, prd...)...)
	out = cli(t, append([]string{"lead", "interests", id}, hq...)...)
	if len(tableRows(out, "YRD")) != 1 || len(tableRows(out, "PRD")) != 1 {
		t.Errorf("lead interests as HQ: got\n%s", out)
	}
	var interests pb.ListInterestsResponse
	cliJSON(t, &interests, append([]string{"lead", "interests", id}, prd...)...)
	if len(interests.Interests) != 1 || interests.Interests[0].Division != "PRD" {
		t.Errorf("lead interests as PRD: got %v, want PRD's only", &interests)
	}
	cliErr(t, codes.PermissionDenied, append([]string{"lead", "interests", id}, staff...)...)
	var withdrawn pb.Interest
	cliJSON(t, &withdrawn, append([]string{"lead", "withdraw-interest", id}, prd...)...)
	if withdrawn.Outcome != pb.Interest_WITHDRAWN || withdrawn.WithdrawnByName != "Zhang Min" {
		t.Errorf("lead withdraw-interest: got %v, want WITHDRAWN by Zhang Min", &withdrawn)
	}
	// Who withdrew it, and who expressed it, by name.
	out = cli(t, append([]string{"lead", "interests", id}, hq...)...)
	if rows := tableRows(out, "PRD"); len(rows) != 1 || !strings.Contains(strings.Join(rows[0], " "), "WITHDRAWN by Zhang Min (user-") {
		t.Errorf("lead interests after PRD withdrew: got\n%s\nwant PRD WITHDRAWN by Zhang Min", out)
	}
	if rows := tableRows(out, "YRD"); len(rows) != 1 || !strings.Contains(strings.Join(rows[0], " "), "Chen Jie (user-") {
		t.Errorf("lead interests: got\n%s\nwant YRD's by Chen Jie", out)
	}

	// HQ assigns; a second assignment is told who holds the lead.
	out = cli(t, append([]string{"lead", "assign", id, "--division", "yrd", "--comment", "Closest to the partner"}, hq...)...)
	if rows := tableRows(out, id); len(rows) != 1 || rows[0][1] != "CLAIMED" || rows[0][3] != "YRD" {
		t.Fatalf("lead assign: got\n%s", out)
	}
	r = cliErr(t, codes.Aborted, append([]string{"lead", "assign", id, "--division", "PRD"}, hq...)...)
	if !strings.Contains(r.err.Error(), "already claimed by YRD") {
		t.Errorf("a second assignment: %v", r.err)
	}

	// YRD's note is YRD's and HQ's; the site sees that it exists.
	cli(t, append([]string{"lead", "advance", id, "--to", "negotiating", "--note", "our offer is 42M"}, yrd...)...)
	if out := cli(t, append([]string{"lead", "show", id}, staff...)...); strings.Contains(out, "42M") || !strings.Contains(out, "(a note for DIVISION YRD)") {
		t.Errorf("lead show as the site: got\n%s", out)
	}
	if out := cli(t, append([]string{"lead", "show", id}, hq...)...); !strings.Contains(out, "our offer is 42M") || !strings.Contains(out, "ASSIGNED") {
		t.Errorf("lead show as HQ: got\n%s", out)
	}
	out = cli(t, append([]string{"lead", "history", id}, staff...)...)
	if strings.Contains(out, "42M") || !strings.Contains(out, "(a note for DIVISION YRD)") || !strings.Contains(out, "stage: CLAIMED → NEGOTIATING") ||
		!strings.Contains(out, "trl: 4 → 6") || !strings.Contains(out, "division: - → YRD") {
		t.Errorf("lead history as the site: got\n%s", out)
	}
	out = cli(t, append([]string{"lead", "comments", id}, staff...)...)
	for _, want := range []string{"Which lab partner?", "Technion", "Letter of intent attached.", "Closest to the partner"} {
		if !strings.Contains(out, want) {
			t.Errorf("lead comments as the site: lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "42M") {
		t.Errorf("lead comments as the site shows YRD's note:\n%s", out)
	}
	var thread pb.ListCommentsResponse
	cliJSON(t, &thread, append([]string{"lead", "comments", id}, prd...)...)
	for _, c := range thread.Comments {
		if c.Visibility != pb.Comment_SHARED {
			t.Errorf("PRD reads a %s comment: %v", c.Visibility, c)
		}
	}
	var posted pb.Comment
	cliJSON(t, &posted, append([]string{"lead", "comment", id, "--body", "Keep it under 50M", "--visibility", "division"}, hq...)...)
	if posted.Division != "YRD" || posted.Seq != 2 {
		t.Errorf("lead comment as HQ: got %v", &posted)
	}
	cliErr(t, codes.PermissionDenied, append([]string{"lead", "comment", id, "--body", "hi", "--visibility", "division"}, staff...)...)

	// The deal falls through; HQ reopens it.
	cliErr(t, codes.InvalidArgument, append([]string{"lead", "close", id, "--reason", "other"}, yrd...)...)
	out = cli(t, append([]string{"lead", "close", id, "--reason", "terms-not-agreed", "--comment", "They asked for 60M"}, yrd...)...)
	if rows := tableRows(out, id); len(rows) != 1 || rows[0][1] != "LOST" {
		t.Fatalf("lead close: got\n%s", out)
	}
	var reopened pb.Lead
	cliJSON(t, &reopened, append([]string{"lead", "reopen", id, "--to", "approved", "--comment", "The partner lowered the price"}, hq...)...)
	if reopened.Stage != pb.Stage_APPROVED || reopened.Division != "" {
		t.Errorf("lead reopen --to approved: got %v", &reopened)
	}
	cli(t, append([]string{"lead", "claim-mode", id, "--mode", "open"}, hq...)...)
	cli(t, append([]string{"lead", "claim", id}, prd...)...)
	if l := tn.getLead(hqTok, id); l.Division != "PRD" || l.ClaimMode != pb.ClaimMode_OPEN {
		t.Errorf("after claim-mode open and a claim: %s held by %s", l.ClaimMode, l.Division)
	}
}

// TestCLIWorkflowUsage checks the workflow's usage errors: each is caught
// on the command line, before any request.
func TestCLIWorkflowUsage(t *testing.T) {
	for _, args := range [][]string{
		{"lead", "close", "BOS-0001"},
		{"lead", "close", "BOS-0001", "--reason", "bored"},
		{"lead", "reopen", "BOS-0001", "--to", "approved"},
		{"lead", "reopen", "BOS-0001", "--comment", "why"},
		{"lead", "assign", "BOS-0001"},
		{"lead", "claim-mode", "BOS-0001"},
		{"lead", "interest", "BOS-0001"},
		{"lead", "comment", "BOS-0001", "--body", "hi"},
		{"lead", "comment", "BOS-0001", "--visibility", "shared"},
		{"lead", "default-claim-mode", "--set", "first-come"},
		{"lead", "interests"},
	} {
		t.Run(strings.Join(args[1:], " "), func(t *testing.T) {
			r := runCLI(t, append(args, "--addr", "127.0.0.1:1", "--token", "inn_x")...)
			var ue *usageError
			if !errors.As(r.err, &ue) {
				t.Errorf("got %v, want a usage error", r.err)
			}
		})
	}
}
