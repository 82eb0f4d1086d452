package outbox

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func open(t *testing.T, path string) *Outbox {
	t.Helper()
	o, err := Open(path)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { _ = o.Close() })
	return o
}

func entry(author, rid string) Entry {
	return Entry{Author: author, RequestID: rid, Method: "/innonet.v1.LeadService/ClaimLead", Request: []byte("req-" + rid), Token: "inn_secret"}
}

// TestDurable: what was added and resolved is there after a reopen, in
// order, with the outcomes, and the credential of a resolved entry is gone.
func TestDurable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "outbox.log")
	o := open(t, path)
	for _, rid := range []string{"a", "b", "c"} {
		if _, existing, err := o.Add(entry("u1", rid)); err != nil || existing {
			t.Fatalf("add %s: existing %v, err %v", rid, existing, err)
		}
	}
	head, ok := o.Head()
	if !ok || head.RequestID != "a" {
		t.Fatalf("head: got %+v %v, want a", head, ok)
	}
	if err := o.Attempt(head.Seq, "no leader"); err != nil {
		t.Fatal(err)
	}
	if h, _ := o.Head(); h.Seq != head.Seq || h.Attempts != 1 || h.LastError != "no leader" {
		t.Fatalf("after a transient failure the head is %+v, want a again with 1 attempt", h)
	}
	if err := o.Resolve(head.Seq, Refused, "ABORTED", "lead BOS-0001 was claimed by YRD meanwhile", nil); err != nil {
		t.Fatal(err)
	}
	b, _ := o.Head()
	if err := o.Resolve(b.Seq, Applied, "", "", []byte("resp")); err != nil {
		t.Fatal(err)
	}
	if err := o.Close(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := o.Add(entry("u1", "z")); !errors.Is(err, ErrClosed) {
		t.Errorf("add after close: got %v, want ErrClosed", err)
	}

	o = open(t, path)
	got := o.List("u1")
	if len(got) != 3 || got[0].RequestID != "c" || got[1].RequestID != "b" || got[2].RequestID != "a" {
		t.Fatalf("list after reopen: got %+v, want c, b, a", got)
	}
	if got[2].Status != Refused || got[2].Outcome != "lead BOS-0001 was claimed by YRD meanwhile" || got[2].Token != "" || got[2].Code != "ABORTED" {
		t.Errorf("refused entry after reopen: %+v", got[2])
	}
	if got[1].Status != Applied || string(got[1].Response) != "resp" || got[1].Token != "" {
		t.Errorf("applied entry after reopen: %+v", got[1])
	}
	if got[0].Status != Queued || got[0].Token != "inn_secret" {
		t.Errorf("queued entry after reopen: %+v", got[0])
	}
	if h, ok := o.Head(); !ok || h.RequestID != "c" || o.Pending() != 1 {
		t.Errorf("head after reopen: %+v (pending %d), want c", h, o.Pending())
	}
	if e, _, err := o.Add(entry("u1", "d")); err != nil || e.Seq != 4 {
		t.Errorf("add after reopen: seq %d, err %v; want 4", e.Seq, err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("journal mode: %v %v, want 0600", fi.Mode(), err)
	}
}

// TestIdempotent: the same write again is the stored entry; another write
// under the same request ID is a conflict; another author's is new.
func TestIdempotent(t *testing.T) {
	o := open(t, filepath.Join(t.TempDir(), "outbox.log"))
	first, _, err := o.Add(entry("u1", "a"))
	if err != nil {
		t.Fatal(err)
	}
	again, existing, err := o.Add(entry("u1", "a"))
	if err != nil || !existing || again.Seq != first.Seq {
		t.Errorf("same write again: got seq %d existing %v err %v, want seq %d existing", again.Seq, existing, err, first.Seq)
	}
	other := entry("u1", "a")
	other.Request = []byte("different")
	if _, _, err := o.Add(other); !errors.Is(err, ErrConflict) {
		t.Errorf("another write, same request ID: got %v, want ErrConflict", err)
	}
	if _, existing, err := o.Add(entry("u2", "a")); err != nil || existing {
		t.Errorf("another author: existing %v err %v", existing, err)
	}
	if o.PendingOf("u1") != 1 || o.PendingOf("u2") != 1 || o.PendingOf("u3") != 0 || o.Pending() != 2 {
		t.Errorf("pending: u1 %d, u2 %d, u3 %d, all %d; want 1, 1, 0, 2", o.PendingOf("u1"), o.PendingOf("u2"), o.PendingOf("u3"), o.Pending())
	}
	if len(o.List("")) != 2 || len(o.List("u2")) != 1 {
		t.Errorf("lists: all %d, u2 %d; want 2 and 1", len(o.List("")), len(o.List("u2")))
	}
	if err := o.Resolve(first.Seq, Queued, "", "", nil); err == nil {
		t.Error("resolve to queued: no error")
	}
	if err := o.Resolve(99, Applied, "", "", nil); !errors.Is(err, ErrNotFound) {
		t.Errorf("resolve of an unknown entry: got %v, want ErrNotFound", err)
	}
}

// TestTornTail: a record cut short at the end (a crash while appending,
// before the write was answered) is dropped, and appending goes on.
func TestTornTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "outbox.log")
	o := open(t, path)
	for _, rid := range []string{"a", "b"} {
		if _, _, err := o.Add(entry("u1", rid)); err != nil {
			t.Fatal(err)
		}
	}
	_ = o.Close()
	data, _ := os.ReadFile(path)
	for _, tail := range [][]byte{data[:len(data)-5], append(append([]byte{}, data...), make([]byte, 300)...)} {
		if err := os.WriteFile(path, tail, 0o600); err != nil {
			t.Fatal(err)
		}
		o, err := Open(path)
		if err != nil {
			t.Fatalf("open with a torn tail: %v", err)
		}
		if _, _, err := o.Add(entry("u1", "c")); err != nil {
			t.Fatal(err)
		}
		_ = o.Close()
		o = open(t, path)
		if n := len(o.List("")); n < 2 {
			t.Errorf("after a torn tail and an add: %d entries", n)
		}
		_ = o.Close()
	}
}

// TestCorrupt: damage anywhere but a torn tail is a clear error, never a
// panic or a silently shorter outbox.
func TestCorrupt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "outbox.log")
	o := open(t, path)
	for _, rid := range []string{"a", "b", "c"} {
		if _, _, err := o.Add(entry("u1", rid)); err != nil {
			t.Fatal(err)
		}
	}
	_ = o.Close()
	good, _ := os.ReadFile(path)
	flip := func(at int) []byte {
		b := append([]byte{}, good...)
		b[at] ^= 0x40
		return b
	}
	cases := map[string][]byte{
		"header":          append([]byte("sqlite format 3\x00"), good[len(magic):]...),
		"first body":      flip(len(magic) + headerLen + 3),
		"last body":       flip(len(good) - 3),
		"length":          flip(len(magic) + 3),
		"inside a string": flip(strings.Index(string(good), "secret") + 1),
		"random garbage":  append([]byte(magic), []byte(strings.Repeat("\xff\x01garbage", 40))...),
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			if err := os.WriteFile(path, data, 0o600); err != nil {
				t.Fatal(err)
			}
			o, err := Open(path)
			var ce *CorruptError
			if !errors.As(err, &ce) {
				if o != nil {
					_ = o.Close()
				}
				t.Fatalf("got %v, want a *CorruptError", err)
			}
			if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "damaged") {
				t.Errorf("message %q does not name the file", err)
			}
		})
	}
}

// TestRewrite: a journal with many superseded records is rewritten on
// open, and keeps every entry.
func TestRewrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "outbox.log")
	o := open(t, path)
	e, _, _ := o.Add(entry("u1", "a"))
	for range 100 {
		if err := o.Attempt(e.Seq, "no leader"); err != nil {
			t.Fatal(err)
		}
	}
	_ = o.Close()
	before, _ := os.Stat(path)
	o = open(t, path)
	after, _ := os.Stat(path)
	if after.Size() >= before.Size()/10 {
		t.Errorf("journal of %d bytes rewritten to %d", before.Size(), after.Size())
	}
	if h, ok := o.Head(); !ok || h.Attempts != 100 {
		t.Errorf("head after the rewrite: %+v", h)
	}
	if _, _, err := o.Add(entry("u1", "b")); err != nil {
		t.Fatal(err)
	}
	_ = o.Close()
	o = open(t, path)
	if len(o.List("")) != 2 {
		t.Errorf("after rewrite and add: %d entries, want 2", len(o.List("")))
	}
}
