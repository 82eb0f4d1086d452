package cluster

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
)

// compactedLog writes entries 1..n of size bytes to s in batches of 64,
// then deletes all but the last keep, as a compaction after a snapshot
// does; it returns the next index.
func compactedLog(tb testing.TB, s *raftboltdb.BoltStore, n, keep, size int) uint64 {
	tb.Helper()
	data := bytes.Repeat([]byte("x"), size)
	batch := make([]*raft.Log, 0, 64)
	for i := 1; i <= n; i++ {
		batch = append(batch, &raft.Log{Index: uint64(i), Term: 1, Type: raft.LogCommand, Data: data})
		if len(batch) == cap(batch) || i == n {
			if err := s.StoreLogs(batch); err != nil {
				tb.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	if err := s.DeleteRange(1, uint64(n-keep)); err != nil {
		tb.Fatal(err)
	}
	return uint64(n + 1)
}

// TestLogStoreWithoutFreelistReopens checks what openLogStore's comment
// promises: a store written without a freelist keeps every entry, reuses
// the pages a compaction freed, and opens again, by openLogStore, by
// checkStore (read-only) and by raft-boltdb's defaults, with the same
// entries.
func TestLogStoreWithoutFreelistReopens(t *testing.T) {
	path := filepath.Join(t.TempDir(), "raft.db")
	s, err := openLogStore(path)
	if err != nil {
		t.Fatal(err)
	}
	const n, keep = 20000, 2000
	next := compactedLog(t, s, n, keep, 600)
	if err := s.SetUint64([]byte("CurrentTerm"), 7); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	before := fileSize(t, path)

	// Reopened without a freelist on disk, the store finds the pages the
	// compaction freed: writing as many entries again as it kept does not
	// grow the file.
	s, err = openLogStore(path)
	if err != nil {
		t.Fatal(err)
	}
	data := []byte(strings.Repeat("y", 600))
	for i := range keep {
		if err := s.StoreLogs([]*raft.Log{{Index: next + uint64(i), Term: 2, Type: raft.LogCommand, Data: data}}); err != nil {
			t.Fatal(err)
		}
	}
	last := next + keep - 1
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if after := fileSize(t, path); after > before {
		t.Errorf("raft.db grew from %d to %d bytes writing %d entries into the pages a compaction freed", before, after, keep)
	}

	if err := checkStore(path); err != nil {
		t.Fatalf("checkStore of a store without a freelist: %v", err)
	}
	for _, open := range []struct {
		name string
		open func(string) (*raftboltdb.BoltStore, error)
	}{{"openLogStore", openLogStore}, {"raft-boltdb defaults", raftboltdb.NewBoltStore}, {"openLogStore after the defaults", openLogStore}} {
		s, err := open.open(path)
		if err != nil {
			t.Fatalf("%s: open: %v", open.name, err)
		}
		first, err1 := s.FirstIndex()
		lastGot, err2 := s.LastIndex()
		term, err3 := s.GetUint64([]byte("CurrentTerm"))
		if err1 != nil || err2 != nil || err3 != nil {
			t.Fatalf("%s: %v %v %v", open.name, err1, err2, err3)
		}
		if first != uint64(n-keep+1) || lastGot != last || term != 7 {
			t.Errorf("%s: entries %d..%d, term %d; want %d..%d, term 7", open.name, first, lastGot, term, n-keep+1, last)
		}
		for _, i := range []uint64{first, uint64(n), next, last} {
			var l raft.Log
			if err := s.GetLog(i, &l); err != nil || l.Index != i {
				t.Errorf("%s: entry %d: %v (index %d)", open.name, i, err, l.Index)
			}
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// BenchmarkLogStore measures one commit of one entry of 600 bytes (about
// a submit) to the log store, as the leader's and each follower's log
// take a write, in a store whose log was just compacted: 100,000 entries
// written, all but the last 10,240 (TrailingLogs) deleted, the state
// after a snapshot that followed a burst. It compares Bolt's defaults,
// which write the freelist at every commit, with openLogStore's options,
// and reports the bytes each commit wrote to the disk (write_bytes of
// /proc/self/io, where the kernel counts them).
//
//	go test -run '^$' -bench LogStore -benchtime 2000x ./cluster/
func BenchmarkLogStore(b *testing.B) {
	for _, tc := range []struct {
		name string
		open func(string) (*raftboltdb.BoltStore, error)
	}{{"freelist=synced", raftboltdb.NewBoltStore}, {"freelist=rebuilt", openLogStore}} {
		b.Run(tc.name, func(b *testing.B) {
			s, err := tc.open(filepath.Join(b.TempDir(), "raft.db"))
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			next := compactedLog(b, s, 100_000, 10_240, 600)
			data := bytes.Repeat([]byte("z"), 600)
			written := diskWrites(b)
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				if err := s.StoreLogs([]*raft.Log{{Index: next + uint64(i), Term: 1, Type: raft.LogCommand, Data: data}}); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			if w := diskWrites(b); w >= 0 && written >= 0 {
				b.ReportMetric(float64(w-written)/float64(b.N), "disk-B/op")
			}
		})
	}
}

// diskWrites is the bytes this process has had written to storage
// (write_bytes of /proc/self/io), or -1 where the kernel does not say.
func diskWrites(tb testing.TB) int64 {
	tb.Helper()
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return -1
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "write_bytes: "); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil {
				tb.Fatal(fmt.Errorf("read /proc/self/io: %w", err))
			}
			return n
		}
	}
	return -1
}
