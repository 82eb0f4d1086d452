package pipeline

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
)

// busyFixture returns a state with leads of two sites in most stages,
// their histories, and remembered requests, among them "keep-me": YRD's
// claim of BOS-0001.
func busyFixture(t *testing.T) *fixture {
	t.Helper()
	f := newFixture(t)
	f.leadIn(Approved) // BOS-0001
	f.ok("yrd", Command{Op: OpClaim, RequestID: "keep-me", LeadID: "BOS-0001", Comment: "ours"})
	f.leadIn(Returned) // BOS-0002
	f.leadIn(Landed)   // BOS-0003
	f.submit("cbg")    // CBG-0001
	f.submit("cbg")    // CBG-0002
	f.ok("hq", Command{Op: OpReview, LeadID: "CBG-0002", Decision: Decline, Comment: "duplicate"})
	f.submit("cbg") // CBG-0003
	f.ok("cbg", Command{Op: OpWithdraw, LeadID: "CBG-0003"})
	f.ok("admin", Command{Op: OpAddUser, NewUser: testUser("Max", NodeStaff, "MUC", "")})
	wantError(t, f.apply("prd", Command{Op: OpClaim, LeadID: "BOS-0001"}), ErrConflict)
	return f
}

func restored(t *testing.T, snap []byte) *State {
	t.Helper()
	st := New()
	if err := st.Restore(bytes.NewReader(snap)); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	return st
}

func TestSnapshotRestore(t *testing.T) {
	f := busyFixture(t)
	snap := snapshotBytes(t, f.st)
	st := restored(t, snap)

	if got, want := readView(t, st), readView(t, f.st); !reflect.DeepEqual(got, want) {
		t.Errorf("restored state reads\n%+v\nwant\n%+v", got, want)
	}
	if got, want := st.AppliedIndex(), f.st.AppliedIndex(); got != want {
		t.Errorf("restored AppliedIndex = %d, want %d", got, want)
	}
	for _, name := range actorNames {
		want, err := f.st.User(f.user(name))
		if err != nil {
			t.Fatal(err)
		}
		tokens, err := f.st.Tokens(want.ID)
		if err != nil || len(tokens) != 1 {
			t.Fatalf("Tokens(%s) = %+v, %v; want one", want.ID, tokens, err)
		}
		if got, err := st.UserByTokenHash(tokens[0].Hash); err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("restored UserByTokenHash(%s) = %+v, %v; want %+v", name, got, err, want)
		}
	}
	if got := snapshotBytes(t, st); !bytes.Equal(got, snap) {
		t.Errorf("snapshot of the restored state differs:\ngot  %s\nwant %s", got, snap)
	}
}

// TestRestoreThenApply applies the same commands to a state and to its
// restored copy: counters and remembered requests must carry over.
func TestRestoreThenApply(t *testing.T) {
	f := busyFixture(t)
	g := *f // the same proposer, applying to the restored copy
	g.st = restored(t, snapshotBytes(t, f.st))

	next := []struct {
		name  string
		actor string
		cmd   Command
		check func(t *testing.T, res any)
	}{
		{"lead IDs continue", "bos", Command{Op: OpSubmit, Draft: validDraft()}, func(t *testing.T, res any) {
			if id := wantResult(t, res).Lead.ID; id != "BOS-0004" {
				t.Errorf("next lead = %s, want BOS-0004", id)
			}
		}},
		{"user IDs continue", "admin", Command{Op: OpAddUser, NewUser: testUser("Mia", HQReviewer, "", "")}, func(t *testing.T, res any) {
			if id := wantResult(t, res).User.ID; id != "user-0009" {
				t.Errorf("next user = %s, want user-0009", id)
			}
		}},
		{"request remembered", "yrd", Command{Op: OpClaim, RequestID: "keep-me", LeadID: "BOS-0001", Comment: "ours"}, func(t *testing.T, res any) {
			if r := wantResult(t, res); !r.Replayed || r.Lead.Version != 3 {
				t.Errorf("retry of keep-me = v%d replayed %v, want v3 replayed", r.Lead.Version, r.Replayed)
			}
		}},
		{"request body remembered", "yrd", Command{Op: OpClaim, RequestID: "keep-me", LeadID: "BOS-0002"}, func(t *testing.T, res any) {
			wantError(t, res, ErrInvalid, "request_id")
		}},
		{"stage carries over", "yrd", Command{Op: OpAdvance, LeadID: "BOS-0001", Stage: Negotiating}, func(t *testing.T, res any) {
			if r := wantResult(t, res); r.Lead.Stage != Negotiating || r.Lead.Version != 4 {
				t.Errorf("advance = %s v%d, want NEGOTIATING v4", r.Lead.Stage, r.Lead.Version)
			}
		}},
	}
	for _, n := range next {
		t.Run(n.name, func(t *testing.T) {
			data := f.encode(n.actor, n.cmd)
			want, got := f.applyRaw(data), g.applyRaw(data)
			n.check(t, want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("restored state answered %+v, want %+v", got, want)
			}
		})
	}
	if got, want := snapshotBytes(t, g.st), snapshotBytes(t, f.st); !bytes.Equal(got, want) {
		t.Errorf("snapshots differ after the same commands:\ngot  %s\nwant %s", got, want)
	}
}

func TestRestoreGarbage(t *testing.T) {
	good := snapshotBytes(t, busyFixture(t).st)
	header, _, _ := bytes.Cut(good, []byte("\n"))
	header = append(header, '\n')
	row := func(s string) []byte { return append(bytes.Clone(header), s+"\n"...) }
	tests := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"text", []byte("not a snapshot\n")},
		{"other format", []byte(`{"format":"innonet-pipeline/99","applied":7}` + "\n")},
		{"no format", []byte(`{"applied":7}` + "\n")},
		{"unknown table", row(`{"table":"secrets","value":{"id":"x"}}`)},
		{"no table", row(`{"value":{"id":"x"}}`)},
		{"row of wrong type", row(`{"table":"leads","value":[1,2]}`)},
		{"row without key", row(`{"table":"leads","value":{"title":"no id"}}`)},
		{"broken row", row(`{"table":"leads","value":{"id":"BOS-0001"`)},
		{"cut short", good[:bytes.LastIndexByte(good[:len(good)-1], '\n')+10]},
		{"trailing garbage", append(bytes.Clone(good), "}{"...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.leadIn(Signed)
			v, snap := readView(t, f.st), snapshotBytes(t, f.st)
			if err := f.st.Restore(bytes.NewReader(tt.data)); err == nil {
				t.Fatalf("Restore(%.60q) = nil error, want an error", tt.data)
			}
			if got := readView(t, f.st); !reflect.DeepEqual(got, v) {
				t.Errorf("failed Restore changed the state to %+v", got)
			}
			if got := snapshotBytes(t, f.st); !bytes.Equal(got, snap) {
				t.Errorf("failed Restore changed the snapshot:\ngot  %s\nwant %s", got, snap)
			}
		})
	}
}

// TestRestoreReplaces checks that Restore drops what the state held.
func TestRestoreReplaces(t *testing.T) {
	src := busyFixture(t)
	dst := newFixture(t)
	dst.leadIn(Landed)
	dst.ok("admin", Command{Op: OpAddUser, NewUser: testUser("Old", NodeStaff, "OLD", "")})
	if err := dst.st.Restore(bytes.NewReader(snapshotBytes(t, src.st))); err != nil {
		t.Fatal(err)
	}
	if got, want := readView(t, dst.st), readView(t, src.st); !reflect.DeepEqual(got, want) {
		t.Errorf("state after Restore =\n%+v\nwant\n%+v", got, want)
	}
}

// TestDeterminism applies one sequence of entries, refused and garbage
// ones included, to two states and expects the same answers and bytes.
func TestDeterminism(t *testing.T) {
	log := determinismLog(t)
	a, b := New(), New()
	for i, data := range log {
		ra, rb := a.Apply(uint64(i+1), data), b.Apply(uint64(i+1), data)
		if !reflect.DeepEqual(ra, rb) {
			t.Fatalf("entry %d: answers differ: %+v vs %+v", i+1, ra, rb)
		}
	}
	sa, sb := snapshotBytes(t, a), snapshotBytes(t, b)
	if !bytes.Equal(sa, sb) {
		t.Errorf("snapshots differ:\n%s\n%s", sa, sb)
	}
	if n := a.Counts()[Negotiating]; n == 0 {
		t.Errorf("no lead reached NEGOTIATING; the script does not exercise much")
	}
}

// determinismLog is a log of users added, leads submitted, reviewed,
// claimed (by one division or several), moved on, a request ID used
// twice, and garbage entries.
func determinismLog(t *testing.T) [][]byte {
	script := newFixture(t)
	var log [][]byte
	rec := func(actor string, c Command) { log = append(log, script.encode(actor, c)); script.index++ }
	rec("", Command{Op: OpBootstrap, NewUser: testUser("Ada Admin", Admin, "", "")})
	for _, name := range actorNames[1:] {
		nu := map[string]*NewUser{
			"hq": testUser("Hui", HQReviewer, "", ""), "bos": testUser("Beth", NodeStaff, "BOS", ""),
			"cbg": testUser("Colin", NodeStaff, "CBG", ""), "bohai": testUser("Bo", DivisionRole, "", "BOHAI"),
			"yrd": testUser("Yang", DivisionRole, "", "YRD"), "prd": testUser("Pearl", DivisionRole, "", "PRD"),
		}[name]
		rec("admin", Command{Op: OpAddUser, NewUser: nu})
	}
	for i := 1; i <= 30; i++ {
		id := fmt.Sprintf("BOS-%04d", i)
		rec("bos", Command{Op: OpSubmit, Draft: validDraft(), Origin: "BOS"})
		rec("hq", Command{Op: OpReview, LeadID: id, Decision: []Decision{Approve, Approve, Return, Decline}[i%4], Comment: "c"})
		for _, d := range []string{"bohai", "yrd", "prd"}[:1+i%3] {
			rec(d, Command{Op: OpClaim, LeadID: id})
		}
		rec([]string{"bohai", "yrd"}[i%2], Command{Op: OpAdvance, LeadID: id, Stage: Negotiating})
		rec("cbg", Command{Op: OpSubmit, RequestID: "same", Draft: validDraft()})
		log = append(log, []byte(strings.Repeat("{", i)))
	}
	return log
}

// TestSnapshotWhileApplying writes a snapshot and reads while Apply goes
// on, as the Raft contract allows, and expects the snapshot to show the
// state as of when it was taken.
func TestSnapshotWhileApplying(t *testing.T) {
	f := busyFixture(t)
	want := snapshotBytes(t, f.st)
	sn := f.st.Snapshot()
	data := make([][]byte, 200)
	for i := range data {
		data[i] = f.encode("bos", Command{Op: OpSubmit, Draft: validDraft(), Time: 1})
	}

	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for _, d := range data {
			if _, ok := f.applyRaw(d).(Result); !ok {
				t.Errorf("submit at index %d refused", f.index)
			}
		}
	}()
	for i := 0; i < 20; i++ {
		if _, _, err := f.st.Leads(Filter{Site: "BOS"}); err != nil {
			t.Errorf("Leads: %v", err)
		}
	}
	var got bytes.Buffer
	if _, err := sn.WriteTo(&got); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if !bytes.Equal(got.Bytes(), want) {
		t.Errorf("snapshot taken before the applies shows them:\ngot  %s\nwant %s", got.Bytes(), want)
	}
	if n := len(f.history("BOS-0203")); n != 1 {
		t.Errorf("last submitted lead has %d events, want 1", n)
	}
}
