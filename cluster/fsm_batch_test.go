package cluster

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/hashicorp/raft"
)

// batchFSM is counterFSM applying runs of entries at once, as a
// BatchApplier: it records the runs and stops after an unreadable entry.
type batchFSM struct {
	counterFSM
	runs [][]string
}

func (f *batchFSM) ApplyBatch(logs []*raft.Log) []any {
	var run []string
	var out []any
	for _, l := range logs {
		run = append(run, string(l.Data))
		res := f.Apply(l)
		out = append(out, res)
		if isUnreadable(res) {
			break
		}
	}
	f.runs = append(f.runs, run)
	return out
}

func appEntry(index uint64, cmd string) *raft.Log {
	data := append([]byte{kindApp}, cmd...)
	return &raft.Log{Index: index, Type: raft.LogCommand, Data: data, Extensions: checksumExt(data)}
}

func newBatchFSM(t *testing.T) (*fsm, *batchFSM, *alarms) {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "raft"), 0o700); err != nil {
		t.Fatal(err)
	}
	app := &batchFSM{}
	al := newAlarms(dir)
	return newFSM(app, al), app, al
}

// A batch from raft gives the application its commands in runs, split
// by the entries that are not the application's (applied in order
// between them); raft's configuration entries are answered with nil.
func TestFSMApplyBatchRuns(t *testing.T) {
	f, app, _ := newBatchFSM(t)
	meta := append([]byte{kindMeta}, `{"id":"BOS","apiAddr":"10.0.0.2:7101"}`...)
	logs := []*raft.Log{
		appEntry(1, "a"), appEntry(2, "b"),
		{Index: 3, Type: raft.LogCommand, Data: meta, Extensions: checksumExt(meta)},
		{Index: 4, Type: raft.LogConfiguration, Data: []byte("raft's own")},
		appEntry(5, "c"),
	}
	got := f.ApplyBatch(logs)
	if want := []any{1, 2, nil, nil, 3}; !reflect.DeepEqual(got, want) {
		t.Errorf("results %v, want %v", got, want)
	}
	if want := [][]string{{"a", "b"}, {"c"}}; !reflect.DeepEqual(app.runs, want) {
		t.Errorf("runs %q, want %q", app.runs, want)
	}
	if got := f.apiAddr("BOS"); got != "10.0.0.2:7101" {
		t.Errorf("the member record between the runs was not applied: API address %q", got)
	}
}

// An entry the application cannot read, or one whose checksum is wrong,
// raises CORRUPT in the middle of a batch: nothing after it is applied
// and every later entry of the batch is answered ErrCorrupt.
func TestFSMApplyBatchStopsAtDamage(t *testing.T) {
	bad := appEntry(2, "b")
	bad.Extensions = checksumExt([]byte("something else"))
	for _, tt := range []struct {
		name  string
		entry *raft.Log
		want  string
	}{
		{"unreadable to the app", appEntry(2, "unreadable"), "cannot be applied by this version"},
		{"checksum", bad, "checksum mismatch"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f, app, al := newBatchFSM(t)
			meta := append([]byte{kindMeta}, `{"id":"BOS","apiAddr":"10.0.0.2:7101"}`...)
			got := f.ApplyBatch([]*raft.Log{appEntry(1, "a"), tt.entry, appEntry(3, "c"),
				{Index: 4, Type: raft.LogCommand, Data: meta, Extensions: checksumExt(meta)}})
			if got[0] != 1 {
				t.Errorf("entry 1 answered %v, want 1", got[0])
			}
			for i, res := range got[1:] {
				if err, ok := res.(error); !ok || !errors.Is(err, ErrCorrupt) {
					t.Errorf("entry %d answered %v, want ErrCorrupt", i+2, res)
				}
			}
			if list := app.list(); !reflect.DeepEqual(list, []string{"a"}) {
				t.Errorf("the application holds %q, want only a", list)
			}
			if addr := f.apiAddr("BOS"); addr != "" {
				t.Errorf("the member record after the damage was applied (API address %q)", addr)
			}
			a, ok := al.get(AlarmCorrupt)
			if !ok || !strings.Contains(a.Detail, "log entry 2") {
				t.Fatalf("alarm = %+v (raised %v), want CORRUPT naming entry 2", a, ok)
			}
			if !strings.Contains(a.Detail, tt.want) {
				t.Errorf("alarm %q does not say why (%q)", a.Detail, tt.want)
			}
		})
	}
}
