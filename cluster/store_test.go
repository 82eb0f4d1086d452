package cluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// storeWithEntries runs a one-site cluster, applies n commands and
// closes it; it returns the config (to start it again) and what was
// applied.
func storeWithEntries(t *testing.T, n int) (Config, []string) {
	t.Helper()
	cfg := DefaultConfig()
	if err := cfg.UseProfile("test"); err != nil {
		t.Fatal(err)
	}
	cfg.ID, cfg.RaftAddr, cfg.DataDir, cfg.Bootstrap, cfg.RaftLogLevel = "CGO", "127.0.0.1:0", t.TempDir(), true, "off"
	cfg.SnapshotThreshold = 1 << 20 // keep every entry in raft.db
	f := &counterFSM{}
	c, err := New(cfg, f)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "CGO leads", c.IsLeader)
	var want []string
	for i := range n {
		cmd := fmt.Sprintf("payload-%04d-%s", i, strings.Repeat("x", 40))
		if _, err := c.Apply(context.Background(), []byte(cmd)); err != nil {
			t.Fatal(err)
		}
		want = append(want, cmd)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	cfg.Bootstrap = false
	return cfg, want
}

func dbPath(cfg Config) string { return filepath.Join(cfg.DataDir, "raft", "raft.db") }

// wantStoreError starts the site and expects it to refuse with a
// StoreError that says why.
func wantStoreError(t *testing.T, cfg Config, msg string) {
	t.Helper()
	c, err := New(cfg, &counterFSM{})
	if err == nil {
		c.Halt()
		t.Fatalf("start on a damaged raft.db: got nil error, want a StoreError")
	}
	var se *StoreError
	if !errors.As(err, &se) {
		t.Fatalf("start on a damaged raft.db: %v (%T), want a StoreError", err, err)
	}
	if !strings.Contains(err.Error(), msg) || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "rebuild it from its peers") {
		t.Errorf("error = %q, want one line that says %q and what to do", err, msg)
	}
}

func TestStoreFlippedPayloadByte(t *testing.T) {
	cfg, _ := storeWithEntries(t, 20)
	b, err := os.ReadFile(dbPath(cfg))
	if err != nil {
		t.Fatal(err)
	}
	// bbolt copies pages on write, so stale copies of the entry may sit
	// in free pages too: change every copy, as a failing disk might.
	found := 0
	for i := 0; ; i++ {
		j := bytes.Index(b[i:], []byte("payload-0013-"))
		if j < 0 {
			break
		}
		i += j
		b[i+11] ^= 0x01 // "0013" reads "0012": still valid data, but not what was written
		found++
	}
	if found == 0 {
		t.Fatal("payload not found in raft.db")
	}
	if err := os.WriteFile(dbPath(cfg), b, 0o600); err != nil {
		t.Fatal(err)
	}
	wantStoreError(t, cfg, "checksum mismatch")
}

func TestStoreTruncated(t *testing.T) {
	cfg, _ := storeWithEntries(t, 200)
	fi, err := os.Stat(dbPath(cfg))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(dbPath(cfg), fi.Size()/2); err != nil {
		t.Fatal(err)
	}
	wantStoreError(t, cfg, "cut short")
	if err := os.Truncate(dbPath(cfg), 0); err != nil {
		t.Fatal(err)
	}
	wantStoreError(t, cfg, "empty")
	if err := os.WriteFile(dbPath(cfg), []byte("not a database at all, just text that someone wrote here"), 0o600); err != nil {
		t.Fatal(err)
	}
	wantStoreError(t, cfg, "metadata pages")
}

// TestStoreRandomBitFlips: 64 random bit flips anywhere in raft.db, for
// several seeds. The site either refuses to start with a StoreError or
// starts and holds exactly what was applied: never a crash, never a
// silently different state.
func TestStoreRandomBitFlips(t *testing.T) {
	refused, started := 0, 0
	for seed := range uint64(12) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			cfg, want := storeWithEntries(t, 60)
			b, err := os.ReadFile(dbPath(cfg))
			if err != nil {
				t.Fatal(err)
			}
			r := rand.New(rand.NewPCG(seed, 64))
			for range 64 {
				bit := r.IntN(len(b) * 8)
				b[bit/8] ^= 1 << (bit % 8)
			}
			if err := os.WriteFile(dbPath(cfg), b, 0o600); err != nil {
				t.Fatal(err)
			}
			f := &counterFSM{}
			c, err := New(cfg, f)
			if err != nil {
				var se *StoreError
				if !errors.As(err, &se) {
					t.Fatalf("start: %v (%T), want a StoreError", err, err)
				}
				refused++
				t.Logf("refused: %v", se.Problem)
				return
			}
			defer c.Halt()
			started++
			eventually(t, "the log replayed", func() bool { return len(f.list()) >= len(want) || c.Corrupt() })
			if c.Corrupt() {
				return // stopped at a damaged entry, as it must
			}
			if got := f.list(); strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("started on a damaged raft.db and holds %d entries that differ from the %d applied", len(got), len(want))
			}
		})
	}
	t.Logf("64 random bit flips, 12 seeds: %d refused to start with a clear error, %d started with the right state", refused, started)
}
