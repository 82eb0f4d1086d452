package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"

	"innonet/node"
	pb "innonet/proto/innonet/v1"
)

// TestCLIBackup writes a backup to a file (never leaving a partial one
// behind) and to stdout.
func TestCLIBackup(t *testing.T) {
	tn := newTestNet(t, "CGO", "BOS", "CBG")
	staff := tn.addUser("Emily Carter", pb.Role_NODE_STAFF, "BOS", "")
	tn.submit(staff, "Backed up")
	dir := t.TempDir()
	file := filepath.Join(dir, "innonet.bak")

	// A failed backup leaves no file behind, not even the temporary one.
	r := runCLI(t, "backup", "--out", file, "--addr", tn.addr("BOS"), "--token", staff)
	if r.err == nil {
		t.Fatal("backup as node staff: got success, want an error")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("a failed backup left %v behind", entries)
	}

	r = runCLI(t, "backup", "--out", file, "--addr", tn.addr("BOS"), "--token", cliAdminToken)
	skipIfUnimplemented(t, r.err)
	if r.err != nil {
		t.Fatalf("backup: %v\n%s", r.err, r.stderr)
	}
	info, err := os.Stat(file)
	if err != nil || info.Size() == 0 || info.Mode().Perm() != 0o600 {
		t.Fatalf("backup file: got %v, %v; want a non-empty file only its owner reads", info, err)
	}
	if _, err := os.Stat(file + ".tmp"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the temporary file is left behind: %v", err)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	check, err := node.CheckBackup(data, node.BackupOptions{})
	if err != nil {
		t.Errorf("the backup file does not check: %v", err)
	}
	for _, want := range []string{fmt.Sprintf("wrote a backup of %d bytes", info.Size()), " from BOS to " + file, "SHA-256 " + check.SHA256} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("backup: stderr %q lacks %q", r.stderr, want)
		}
	}
	if r.stdout != "" {
		t.Errorf("backup --out FILE wrote to stdout: %q", r.stdout)
	}

	r = runCLI(t, "backup", "--out", "-", "--addr", tn.addr("CGO"), "--token", cliAdminToken)
	if r.err != nil || len(r.stdout) == 0 || !strings.Contains(r.stderr, "from CGO to stdout") {
		t.Errorf("backup --out -: got %v, %d bytes, stderr %q", r.err, len(r.stdout), r.stderr)
	}

	var got backupInfo
	out := cli(t, "backup", "--out", file, "--json", "--addr", tn.addr("CBG"), "--token", cliAdminToken)
	if err := json.Unmarshal([]byte(out), &got); err != nil || got.File != file || got.Bytes == 0 || got.Site != "CBG" || len(got.SHA256) != 64 {
		t.Errorf("backup --json: got %+v (%v) from\n%s", got, err, out)
	}

	cliErr(t, codes.PermissionDenied, "backup", "--out", file, "--addr", tn.addr("BOS"), "--token", staff)
}
