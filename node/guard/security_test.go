package guard

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestSecurityLogRotation(t *testing.T) {
	path := filepath.Join(t.TempDir(), LogName)
	l := newSecurityLog(path, 1000)
	for i := 0; i < 30; i++ {
		if err := l.write(Record{Time: time.Now(), Site: "BOS", Kind: Unauthenticated, Client: "192.0.2.1", Reason: "no token"}); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []string{path, path + ".1"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Size() > 1000 || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: got %d bytes, mode %v; want at most 1000 bytes, 0600", p, fi.Size(), fi.Mode().Perm())
		}
	}
	if _, err := os.Stat(path + ".2"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("got a second rotation (%v), want one", err)
	}
}

func TestSecurityFloodControl(t *testing.T) {
	l := newSecurityLog("", 0)
	now := time.Now()
	written := 0
	for i := 0; i < 100; i++ {
		if _, ok := l.admit("throttled|192.0.2.1", now); ok {
			written++
		}
	}
	if written != securityBurst {
		t.Errorf("got %d of 100 events written at once, want %d", written, securityBurst)
	}
	if _, ok := l.admit("throttled|192.0.2.2", now); !ok {
		t.Error("another client's event was held back")
	}
	suppressed, ok := l.admit("throttled|192.0.2.1", now.Add(securityEvery))
	if !ok || suppressed != 100-securityBurst {
		t.Errorf("got (%d, %v) later, want the event written with %d suppressed", suppressed, ok, 100-securityBurst)
	}
}

func TestSecurityRedact(t *testing.T) {
	tok := "inn_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	tests := []struct{ in, mustNot string }{
		{"bad header Bearer " + tok, tok},
		{"token " + tok + " refused", tok},
		{"authorization: bearer abc.def", "abc.def"},
		{strings.Repeat("é", 400), strings.Repeat("é", 200)},
		{"bad \xff byte", "\xff"},
	}
	for _, tt := range tests {
		got := redact(tt.in)
		if strings.Contains(got, tt.mustNot) || len(got) > maxReason+3 {
			t.Errorf("redact(%.40q) = %.60q, which holds %.20q or is too long", tt.in, got, tt.mustNot)
		}
	}
}

// TestSecurityLogPerSite: two guards in one process (sites in a test or
// the demo) keep logs, flood control and counts of their own.
func TestSecurityLogPerSite(t *testing.T) {
	dirA, dirB := t.TempDir(), t.TempDir()
	a, err := New(Config{Logger: quiet, Site: "BOS", DataDir: dirA}, testSite{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(Config{Logger: quiet, Site: "MUC", DataDir: dirB}, testSite{})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < securityBurst; i++ {
		a.record(Record{Kind: Throttled, Client: "192.0.2.1", Reason: "test"})
	}
	b.record(Record{Kind: Throttled, Client: "192.0.2.1", Reason: "test"})
	for _, tt := range []struct {
		dir, site string
		lines     int
	}{{dirA, "BOS", securityBurst}, {dirB, "MUC", 1}} {
		raw, err := os.ReadFile(filepath.Join(tt.dir, LogName))
		if err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(string(raw), `"site":"`+tt.site+`"`); n != tt.lines || strings.Count(string(raw), "\n") != tt.lines {
			t.Errorf("%s: got %q, want %d lines of its own", tt.site, raw, tt.lines)
		}
	}
}
