package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"

	"innonet/node/pipeline"
	pb "innonet/proto/innonet/v1"
)

// TestCLIAttachments uploads, lists, downloads, exports, verifies and
// removes an attachment with the CLI only, through different sites.
func TestCLIAttachments(t *testing.T) {
	tn := newTestNet(t, "CGO", "BOS")
	eventually(t, "log format 2", func() error {
		if tn.leader().State().Format() < pipeline.Format2 {
			return errors.New("not yet")
		}
		return nil
	})
	staff := tn.addUser("Emily Carter", pb.Role_NODE_STAFF, "BOS", "")
	hq := tn.addUser("Li Wei", pb.Role_HQ_REVIEWER, "", "")
	lead := tn.submit(staff, "Quantum sensor").Id
	as := func(site, token string) []string { return []string{"--addr", tn.addr(site), "--token", token} }

	dir := t.TempDir()
	data := bytes.Repeat([]byte("Präsentation "), 20000)
	sum := sha256.Sum256(data)
	sha := hex.EncodeToString(sum[:])
	file := filepath.Join(dir, "Präsentation.pdf")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	out := cli(t, append([]string{"attachment", "add", strings.ToLower(lead), file, "--comment", "Deck v2"}, as("BOS", staff)...)...)
	rows := tableRows(out, sha[:12])
	if len(rows) != 1 || rows[0][1] != "Präsentation.pdf" || !strings.Contains(out, "application/pdf") || !strings.Contains(out, "Emily Carter (BOS)") {
		t.Fatalf("attachment add: got\n%s", out)
	}
	// The same bytes again change nothing, and say so.
	r := runCLI(t, append([]string{"attachment", "add", lead, file, "--name", "copy.pdf"}, as("CGO", hq)...)...)
	if r.err != nil || !strings.Contains(r.stderr, "already holds these bytes") {
		t.Errorf("the same file again: %v\n%s", r.err, r.stderr)
	}
	var res pb.AttachmentResult
	cliJSON(t, &res, append([]string{"attachment", "add", lead, file}, as("BOS", staff)...)...)
	if res.Changed || res.Attachment.Sha256 != sha || res.Attachment.AddedByName != "Emily Carter" {
		t.Errorf("attachment add --json: %v", &res)
	}

	out = cli(t, append([]string{"attachment", "list", lead}, as("CGO", hq)...)...)
	if rows := tableRows(out, sha[:12]); len(rows) != 1 {
		t.Errorf("attachment list: got\n%s", out)
	}
	var list pb.ListAttachmentsResponse
	cliJSON(t, &list, append([]string{"attachment", "list", lead}, as("CGO", hq)...)...)
	if len(list.Attachments) != 1 || list.Attachments[0].Comment != "Deck v2" {
		t.Errorf("attachment list --json: %v", &list)
	}

	// Downloaded from the other site, by a prefix of the SHA-256.
	got := filepath.Join(dir, "got.pdf")
	out = cli(t, append([]string{"attachment", "get", lead, sha[:8], "--out", got}, as("CGO", hq)...)...)
	if b, err := os.ReadFile(got); err != nil || !bytes.Equal(b, data) || !strings.Contains(out, got) {
		t.Fatalf("attachment get: %v, %d bytes\n%s", err, len(b), out)
	}
	r = runCLI(t, append([]string{"attachment", "get", lead, sha, "--out", "-"}, as("BOS", staff)...)...)
	if r.err != nil || r.stdout != string(data) {
		t.Errorf("attachment get --out -: %v, %d bytes", r.err, len(r.stdout))
	}
	cliErr(t, codes.NotFound, append([]string{"attachment", "get", lead, strings.Repeat("0", 64), "--out", got}, as("CGO", hq)...)...)

	// An export is a backup of the bytes, which verify checks.
	backup := filepath.Join(dir, "backup")
	out = cli(t, append([]string{"attachment", "export", "--out", backup}, as("CGO", hq)...)...)
	if rows := tableRows(out, backup); len(rows) != 1 || rows[0][1] != "1" || rows[0][2] != "1" {
		t.Errorf("attachment export: got\n%s", out)
	}
	out = cli(t, append([]string{"attachment", "export", "--out", backup}, as("CGO", hq)...)...)
	if rows := tableRows(out, backup); len(rows) != 1 || rows[0][2] != "0" || rows[0][3] != "1" {
		t.Errorf("attachment export again: got\n%s, want nothing downloaded again", out)
	}
	manifest, err := os.ReadFile(filepath.Join(backup, "manifest.json"))
	if err != nil || !strings.Contains(string(manifest), `"name": "Präsentation.pdf"`) {
		t.Errorf("manifest: %v\n%s", err, manifest)
	}
	out = cli(t, "attachment", "verify", backup)
	if rows := tableRows(out, "1"); len(rows) != 1 {
		t.Errorf("attachment verify: got\n%s", out)
	}
	// A site's own store verifies too.
	cli(t, "attachment", "verify", tn.nodes["BOS"].Files().Dir())
	if err := os.WriteFile(filepath.Join(backup, sha), []byte("damaged"), 0o600); err != nil {
		t.Fatal(err)
	}
	r = runCLI(t, "attachment", "verify", backup)
	if r.err == nil || !strings.Contains(r.stdout, "damaged: ") {
		t.Errorf("verify of a damaged export: %v\n%s", r.err, r.stdout)
	}

	out = cli(t, append([]string{"attachment", "remove", lead, sha[:10], "--comment", "wrong file"}, as("CGO", hq)...)...)
	if !strings.Contains(out, "by Li Wei") {
		t.Errorf("attachment remove: got\n%s", out)
	}
	out = cli(t, append([]string{"attachment", "list", lead, "--removed"}, as("BOS", staff)...)...)
	if rows := tableRows(out, sha[:12]); len(rows) != 1 || !strings.Contains(out, "by Li Wei") {
		t.Errorf("attachment list --removed: got\n%s", out)
	}

	// Mistakes on the command line and refusals.
	r = runCLI(t, append([]string{"attachment", "add", lead, "-"}, as("BOS", staff)...)...)
	var ue *usageError
	if !errors.As(r.err, &ue) || !strings.Contains(r.err.Error(), "--name is required") {
		t.Errorf("stdin without --name: %v, want a usage error", r.err)
	}
	cliErr(t, codes.NotFound, append([]string{"attachment", "add", "BOS-0099", file}, as("BOS", staff)...)...)
	cliErr(t, codes.PermissionDenied, append([]string{"attachment", "add", lead, file, "--visibility", "division"}, as("BOS", staff)...)...)
}

// TestCLIAttachmentHelp: the attachment command and each subcommand have
// --help with a description and examples; all but the offline verify
// take the client flags.
func TestCLIAttachmentHelp(t *testing.T) {
	r := runCLI(t, "attachment", "--help")
	if !errors.Is(r.err, flag.ErrHelp) || !strings.Contains(r.stdout, "Usage: innonet attachment") || !strings.Contains(r.stdout, "Examples:") {
		t.Fatalf("attachment --help: %v\n%s", r.err, r.stdout)
	}
	for _, s := range attachmentGroup.subs {
		if !strings.Contains(r.stdout, s.summary) {
			t.Errorf("attachment --help lacks subcommand %s", s.name)
		}
		t.Run(s.name, func(t *testing.T) {
			r := runCLI(t, "attachment", s.name, "--help")
			want := []string{"Usage: innonet attachment " + s.name, "Examples:\n  ", "-json"}
			if s.name != "verify" {
				want = append(want, "-addr", "-timeout", "INNONET_TOKEN")
			}
			if !errors.Is(r.err, flag.ErrHelp) {
				t.Fatalf("got %v, want flag.ErrHelp", r.err)
			}
			for _, w := range want {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("output lacks %q:\n%s", w, r.stdout)
				}
			}
		})
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"attachment", "add", "BOS-0001"}, "want 2 argument(s), got 1"},
		{[]string{"attachment", "add", "BOS-0001", "f.pdf", "--visibility", "secret"}, "want one of shared, division"},
		{[]string{"attachment", "get", "BOS-0001", "9f86"}, "at least its first 8 hex digits"},
		{[]string{"attachment", "export"}, "--out is required"},
		{[]string{"attachment", "verify"}, "want 1 argument(s), got 0"},
	} {
		r := runCLI(t, tt.args...)
		var ue *usageError
		if !errors.As(r.err, &ue) || !strings.Contains(r.stderr+r.err.Error(), tt.want) {
			t.Errorf("innonet %s: %v\n%s, want a usage error with %q", strings.Join(tt.args, " "), r.err, r.stderr, tt.want)
		}
	}
}
