package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestServeDamagedStore: a site whose raft.db is damaged (cut short, or
// not a database at all) exits non-zero with one line that says what is
// wrong and what to do, never a stack trace.
func TestServeDamagedStore(t *testing.T) {
	bin := buildBinary(t)
	for _, tt := range []struct {
		name string
		data func() []byte
		want string
	}{
		{"garbage", func() []byte { return bytes.Repeat([]byte("not a database "), 5000) }, "metadata pages"},
		{"empty", func() []byte { return nil }, "empty"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.MkdirAll(filepath.Join(dir, "raft"), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "raft", "raft.db"), tt.data(), 0o600); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(bin, "serve", "--site", "BOS", "--data-dir", dir, "--insecure", "--log-level", "error",
				"--listen", "127.0.0.1:0", "--raft-addr", "127.0.0.1:0")
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err := cmd.Run()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() == 0 {
				t.Fatalf("serve on a damaged raft.db: %v, want a non-zero exit", err)
			}
			out := strings.TrimSpace(stderr.String())
			if strings.Contains(out, "goroutine") || strings.Contains(out, "panic") || strings.Contains(out, "SIGBUS") {
				t.Fatalf("stack trace on a damaged raft.db:\n%s", out)
			}
			if lines := strings.Split(out, "\n"); len(lines) != 1 || !strings.Contains(out, tt.want) || !strings.Contains(out, "rebuild it from its peers") {
				t.Errorf("serve said %q, want one line naming %q and how to rebuild", out, tt.want)
			}
		})
	}
}
