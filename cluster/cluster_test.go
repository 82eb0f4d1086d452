package cluster

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

// counterFSM is the smallest useful FSM: it appends every command and
// snapshots the list.
type counterFSM struct {
	mu   sync.Mutex
	cmds []string
}

func (f *counterFSM) Apply(l *raft.Log) any {
	if string(l.Data) == "unreadable" {
		return fmt.Errorf("command %q: %w", l.Data, ErrUnreadable)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cmds = append(f.cmds, string(l.Data))
	return len(f.cmds)
}

func (f *counterFSM) Snapshot() (raft.FSMSnapshot, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return &listSnap{data: []byte(join(f.cmds))}, nil
}

func (f *counterFSM) Restore(rc io.ReadCloser) error {
	b, err := io.ReadAll(rc)
	if err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cmds = split(string(b))
	return nil
}

func (f *counterFSM) list() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.cmds...)
}

type listSnap struct{ data []byte }

func (s *listSnap) Persist(sink raft.SnapshotSink) error {
	if _, err := sink.Write(s.data); err != nil {
		sink.Cancel()
		return err
	}
	return sink.Close()
}
func (s *listSnap) Release() {}

func join(xs []string) string {
	var b bytes.Buffer
	for _, x := range xs {
		b.WriteString(x)
		b.WriteByte('\n')
	}
	return b.String()
}

func split(s string) []string {
	var out []string
	for _, line := range bytes.Split([]byte(s), []byte("\n")) {
		if len(line) > 0 {
			out = append(out, string(line))
		}
	}
	return out
}

func startMember(t *testing.T, id string, bootstrap bool) (*Cluster, *counterFSM) {
	t.Helper()
	// What a joining site learns from the cluster it asks to join.
	return startMemberWith(t, id, bootstrap, []string{"CGO", "BOS"}, nil)
}

// startMemberWith starts a member trusting voters (when it joins) with
// the test profile, changed by tune when given.
func startMemberWith(t *testing.T, id string, bootstrap bool, voters []string, tune func(*Config)) (*Cluster, *counterFSM) {
	t.Helper()
	cfg := DefaultConfig()
	if err := cfg.UseProfile("test"); err != nil {
		t.Fatal(err)
	}
	cfg.ID, cfg.RaftAddr, cfg.APIAddr, cfg.DataDir, cfg.Bootstrap = id, "127.0.0.1:0", "api-of-"+id, t.TempDir(), bootstrap
	cfg.RaftLogLevel = "off"
	if tune != nil {
		tune(&cfg)
	}
	f := &counterFSM{}
	c, err := New(cfg, f)
	if err != nil {
		t.Fatalf("start %s: %v", id, err)
	}
	t.Cleanup(func() { c.Close() })
	if !bootstrap {
		c.TrustVoters(voters)
	}
	return c, f
}

func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestBootstrapJoinApply(t *testing.T) {
	ctx := context.Background()
	a, fa := startMember(t, "CGO", true)
	eventually(t, "CGO leads", a.IsLeader)
	eventually(t, "CGO publishes its API address", func() bool { _, api := a.Leader(); return api == "api-of-CGO" })

	b, fb := startMember(t, "BOS", false)
	r, rf := startMember(t, "YRD", false)
	if err := a.Join(ctx, "BOS", b.RaftAddr(), "api-of-BOS", true); err != nil {
		t.Fatalf("join BOS: %v", err)
	}
	if err := a.Join(ctx, "YRD", r.RaftAddr(), "api-of-YRD", false); err != nil {
		t.Fatalf("join YRD: %v", err)
	}
	// Joining again as asked is a no-op.
	if err := a.Join(ctx, "BOS", b.RaftAddr(), "api-of-BOS", true); err != nil {
		t.Fatalf("join BOS again: %v", err)
	}
	// An address held by another site is refused.
	if err := a.Join(ctx, "MUC", b.RaftAddr(), "api-of-MUC", true); err == nil {
		t.Fatal("join MUC with BOS's raft address: got nil error, want a refusal")
	}

	res, err := a.Apply(ctx, []byte("first"))
	if err != nil || res != 1 {
		t.Fatalf("apply on leader: got %v, %v; want 1, nil", res, err)
	}
	if _, err := b.Apply(ctx, []byte("x")); !errors.Is(err, ErrNotLeader) {
		t.Fatalf("apply on follower: got %v, want ErrNotLeader", err)
	}
	if id, api := b.Leader(); id != "CGO" || api != "api-of-CGO" {
		t.Fatalf("follower sees leader %q at %q, want CGO at api-of-CGO", id, api)
	}
	eventually(t, "replication to voter and non-voter", func() bool {
		return len(fb.list()) == 1 && len(rf.list()) == 1
	})
	if got := fa.list(); len(got) != 1 || got[0] != "first" {
		t.Fatalf("leader FSM got %q; the API-address records must not reach the caller's FSM", got)
	}

	st, err := b.Status()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"CGO": true, "BOS": true, "YRD": false}
	if len(st.Members) != 3 {
		t.Fatalf("members: got %d, want 3", len(st.Members))
	}
	for _, m := range st.Members {
		if v, ok := want[m.ID]; !ok || v != m.Voter || m.APIAddr != "api-of-"+m.ID || m.Leader != (m.ID == "CGO") {
			t.Errorf("member %+v: want voter=%v, api-of-%s, leader only for CGO", m, want[m.ID], m.ID)
		}
	}
	if st.Term == 0 || st.CommitIndex == 0 || st.AppliedIndex == 0 {
		t.Errorf("status indexes: got %+v, want non-zero term, commit and applied index", st)
	}
}

// TestFSMStopsAtDamagedEntry: an entry that is empty, of an unknown kind,
// undecodable, fails its checksum, or that the caller's FSM cannot
// understand raises CORRUPT: nothing after it is applied, no snapshot is
// taken, and the alarm survives a restart (the marker file).
func TestFSMStopsAtDamagedEntry(t *testing.T) {
	good := append([]byte{kindApp}, "hello"...)
	for _, tt := range []struct {
		name string
		log  raft.Log
		want string
	}{
		{"empty", raft.Log{Data: nil}, "empty entry"},
		{"unknown kind", raft.Log{Data: []byte{9}}, "unknown entry kind 9"},
		{"bad member record", raft.Log{Data: append([]byte{kindMeta}, "{"...)}, "undecodable member record"},
		{"checksum", raft.Log{Data: good, Extensions: checksumExt(append([]byte{kindApp}, "hellO"...))}, "checksum mismatch"},
		{"unknown checksum format", raft.Log{Data: good, Extensions: []byte{7, 1, 2, 3, 4}}, "unknown checksum extension"},
		{"unreadable to the app", raft.Log{Data: append([]byte{kindApp}, "unreadable"...)}, "cannot be applied by this version"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.MkdirAll(filepath.Join(dir, "raft"), 0o700); err != nil {
				t.Fatal(err)
			}
			app := &counterFSM{}
			al := newAlarms(dir)
			f := newFSM(app, al)
			l := tt.log
			l.Index, l.Type = 7, raft.LogCommand
			if _, ok := f.Apply(&l).(error); !ok {
				t.Fatalf("apply: got no error, want one")
			}
			a, ok := al.get(AlarmCorrupt)
			if !ok || !strings.Contains(a.Detail, tt.want) || !strings.Contains(a.Detail, "log entry 7") {
				t.Fatalf("alarm = %+v (raised %v), want CORRUPT naming entry 7 and %q", a, ok, tt.want)
			}
			if _, ok := f.Apply(&raft.Log{Index: 8, Type: raft.LogCommand, Data: good, Extensions: checksumExt(good)}).(error); !ok {
				t.Error("an entry after the damaged one was applied")
			}
			if got := app.list(); len(got) != 0 {
				t.Errorf("app state after a damaged entry: %q, want nothing applied", got)
			}
			if _, err := f.Snapshot(); err == nil {
				t.Error("snapshot of a damaged state: got nil error")
			}
			again := newAlarms(dir)
			if a, ok := again.loadMarker(); !ok || !strings.Contains(a.Detail, tt.want) {
				t.Errorf("after a restart: alarm %+v (raised %v), want CORRUPT again", a, ok)
			}
		})
	}
}

// The wrapper FSM's snapshot carries the API addresses and the caller's
// snapshot, and Restore gives both back.
func TestFSMSnapshotRoundTrip(t *testing.T) {
	app := &counterFSM{}
	f := newFSM(app, newAlarms(t.TempDir()))
	for i, data := range [][]byte{
		append([]byte{kindMeta}, `{"id":"BOS","apiAddr":"10.0.0.2:7101"}`...),
		append([]byte{kindApp}, "hello"...),
	} {
		if res := f.Apply(&raft.Log{Index: uint64(i + 1), Type: raft.LogCommand, Data: data}); res != nil {
			if err, ok := res.(error); ok {
				t.Fatalf("apply %d: %v", i, err)
			}
		}
	}
	snap, err := f.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	sink := &memSink{}
	if err := snap.Persist(sink); err != nil {
		t.Fatal(err)
	}
	g := newFSM(&counterFSM{}, newAlarms(t.TempDir()))
	if err := g.Restore(io.NopCloser(bytes.NewReader(sink.Bytes()))); err != nil {
		t.Fatal(err)
	}
	if got := g.apiAddr("BOS"); got != "10.0.0.2:7101" {
		t.Errorf("restored API address: got %q, want 10.0.0.2:7101", got)
	}
	if got := g.app.(*counterFSM).list(); len(got) != 1 || got[0] != "hello" {
		t.Errorf("restored app state: got %q, want [hello]", got)
	}
	// A length prefix larger than the limit is refused, not allocated.
	var huge bytes.Buffer
	huge.Write(binary.BigEndian.AppendUint32(nil, 1<<31))
	if err := g.Restore(io.NopCloser(&huge)); err == nil {
		t.Error("restore with a huge members record: got nil error, want one")
	}
}

type memSink struct{ bytes.Buffer }

func (*memSink) ID() string    { return "mem" }
func (*memSink) Cancel() error { return nil }
func (*memSink) Close() error  { return nil }

func TestConfigValidation(t *testing.T) {
	cfg := DefaultConfig()
	if err := cfg.UseProfile("moon"); err == nil {
		t.Error("UseProfile(moon): got nil error")
	}
	cfg.ID, cfg.RaftAddr, cfg.DataDir = "BOS", "127.0.0.1:0", t.TempDir()
	cfg.LeaderLeaseTimeout = 2 * cfg.HeartbeatTimeout
	if _, err := New(cfg, &counterFSM{}); err == nil {
		t.Error("New with lease > heartbeat: got nil error")
	}
}
