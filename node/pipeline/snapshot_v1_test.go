package pipeline

import (
	"bytes"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

// testdata/snapshot-v1.jsonl was written by the code of format
// innonet-pipeline/1 (one token hash per user row) after these commands.
func v1Commands(f *fixture) {
	f.leadIn(Approved)
	f.ok("admin", Command{Op: OpRevoke, RequestID: "revoke-cbg", UserID: f.user("cbg")})
}

func readV1(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/snapshot-v1.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte(`{"format":"innonet-pipeline/1"`)) {
		t.Fatalf("testdata/snapshot-v1.jsonl is not a v1 snapshot: %.80s", b)
	}
	return b
}

// TestRestoreV1Snapshot restores a snapshot of the earlier format and
// expects the state that replaying the same log gives today: each user's
// token, numbered in user order, revoked with its user.
func TestRestoreV1Snapshot(t *testing.T) {
	f := newFixture(t)
	v1Commands(f)
	got := restored(t, readV1(t))

	if g, w := readView(t, got), readView(t, f.st); !reflect.DeepEqual(g, w) {
		t.Errorf("restored v1 state reads\n%+v\nwant, as replayed\n%+v", g, w)
	}
	if g, w := got.AppliedIndex(), f.st.AppliedIndex(); g != w {
		t.Errorf("AppliedIndex = %d, want %d", g, w)
	}
	now := clock(f.index)
	for _, name := range actorNames {
		ok := authenticates(got, fixtureHash(name), f.user(name), now)
		if want := name != "cbg"; ok != want {
			t.Errorf("token of %s authenticates = %v, want %v", name, ok, want)
		}
	}

	// Counters carry over: the same next commands get the same answers.
	g := *f
	g.st = got
	for _, c := range []struct {
		actor string
		cmd   Command
	}{
		{"admin", Command{Op: OpAddUser, NewUser: testUser("Max", NodeStaff, "MUC", "")}},
		{"bos", Command{Op: OpCreateToken, UserID: f.user("bos"), NewToken: &NewToken{Hash: hashOf("rotated"), TTL: time.Hour}}},
		{"bos", Command{Op: OpRevokeToken, UserID: f.user("bos"), TokenID: "tok-0003"}},
		{"admin", Command{Op: OpCreateToken, UserID: f.user("cbg"), NewToken: &NewToken{Hash: hashOf("x")}}},
	} {
		data := f.encode(c.actor, c.cmd)
		want, res := f.applyRaw(data), g.applyRaw(data)
		if !reflect.DeepEqual(res, want) {
			t.Errorf("%s on the restored v1 state = %+v, want %+v", c.cmd.Op, res, want)
		}
	}
	if ts := g.tokens("bos"); len(ts) != 2 || ts[1].ID != "tok-0009" {
		t.Errorf("tokens of bos after rotation = %+v, want tok-0003 and tok-0009", ts)
	}

	// What the restored state writes is the current format, and restores.
	snap := snapshotBytes(t, got)
	if !bytes.HasPrefix(snap, []byte(`{"format":"`+snapshotFormat+`"`)) {
		t.Errorf("snapshot of the restored state starts %.60s, want format %s", snap, snapshotFormat)
	}
	if again := restored(t, snap); !reflect.DeepEqual(readView(t, again), readView(t, got)) {
		t.Errorf("restoring the new snapshot changed the state")
	}
}

func TestRestoreV1Garbage(t *testing.T) {
	good := string(readV1(t))
	tests := []struct {
		name string
		data string
		want string
	}{
		{"tokens table in v1", strings.Replace(good, `{"table":"leads"`,
			`{"table":"tokens","value":{"id":"tok-0001"}}`+"\n"+`{"table":"leads"`, 1), "unknown table"},
		{"user without a token hash", strings.Replace(good, `"tokenHash":"8338cc9c979c2a9ec1bdbf829a1c27436e8774586f26da0599b996e892439540",`, "", 1), "no token hash"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.data == good {
				t.Fatal("the test did not change the snapshot")
			}
			f := newFixture(t)
			v, snap := readView(t, f.st), snapshotBytes(t, f.st)
			err := f.st.Restore(strings.NewReader(tt.data))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Restore = %v, want an error about %q", err, tt.want)
			}
			if got := readView(t, f.st); !reflect.DeepEqual(got, v) {
				t.Errorf("failed Restore changed the state")
			}
			if got := snapshotBytes(t, f.st); !bytes.Equal(got, snap) {
				t.Errorf("failed Restore changed the snapshot")
			}
		})
	}
}
