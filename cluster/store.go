package cluster

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/hashicorp/go-msgpack/v2/codec"
	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// The log store's file, raft.db (bbolt), is checked before Raft opens it:
// bbolt maps the file into memory, so a file cut short makes the process
// die of SIGBUS when a page past its end is read, and hashicorp/raft
// panics on an entry it cannot decode. checkStore reads the file's
// metadata pages itself, compares the size they promise with the file's,
// then opens it read-only and decodes every entry, verifying checksums,
// inside a goroutine that turns memory faults into panics it recovers.
// A damaged store is reported as a StoreError: one line that says what is
// wrong and what to do, never a stack trace.

// StoreError says that the log store is damaged.
type StoreError struct {
	Path    string
	Problem string
}

func (e *StoreError) Error() string {
	return fmt.Sprintf("the Raft log store %s is damaged: %s; this site cannot start from it: rebuild it from its peers (README, \"Rebuilding a damaged site\")", e.Path, e.Problem)
}

// bbolt's file layout (go.etcd.io/bbolt page.go and db.go): every page
// starts with a 16-byte header; pages 0 and 1 hold the two meta records.
const (
	boltMagic      = 0xED0CDAED
	boltVersion    = 2
	boltPageHeader = 16
	boltMetaSize   = 64 // magic … txid, then the checksum
)

type boltMeta struct {
	pageSize uint32
	freelist uint64 // the page that lists free pages
	pgid     uint64 // high-water mark: pages in use
	txid     uint64
}

const (
	boltFreelistFlag = 0x10
	boltNoFreelist   = ^uint64(0)
)

// readBoltMeta decodes and checks one meta record.
func readBoltMeta(b []byte) (boltMeta, error) {
	if len(b) < boltMetaSize {
		return boltMeta{}, errors.New("short meta page")
	}
	le := binary.LittleEndian
	if le.Uint32(b[0:]) != boltMagic {
		return boltMeta{}, errors.New("not a bbolt file (bad magic)")
	}
	if v := le.Uint32(b[4:]); v != boltVersion {
		return boltMeta{}, fmt.Errorf("bbolt version %d", v)
	}
	h := fnv.New64a()
	h.Write(b[:56])
	if h.Sum64() != le.Uint64(b[56:]) {
		return boltMeta{}, errors.New("meta checksum mismatch")
	}
	m := boltMeta{pageSize: le.Uint32(b[8:]), freelist: le.Uint64(b[32:]), pgid: le.Uint64(b[40:]), txid: le.Uint64(b[48:])}
	if m.pageSize < 512 || m.pageSize > 1<<20 || m.pageSize&(m.pageSize-1) != 0 {
		return boltMeta{}, fmt.Errorf("implausible page size %d", m.pageSize)
	}
	return m, nil
}

// checkBoltFile checks that the file holds as many pages as its newest
// valid meta record says.
func checkBoltFile(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if fi.Size() == 0 {
		return &StoreError{path, "the file is empty"}
	}
	head := make([]byte, 4096)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return err
	}
	m0, err0 := readBoltMeta(head[boltPageHeader:n])
	var best boltMeta
	var err1 error
	if err0 == nil {
		best = m0
		// The second meta record is one page further; bbolt falls back
		// on either, so only a valid and newer one matters here.
		page := make([]byte, boltPageHeader+boltMetaSize)
		if _, err := f.ReadAt(page, int64(m0.pageSize)); err == nil {
			if m1, err := readBoltMeta(page[boltPageHeader:]); err == nil && m1.txid > best.txid {
				best = m1
			}
		}
	}
	if err0 != nil {
		// Without the first, the page size is unknown: try the usual one.
		page := make([]byte, boltPageHeader+boltMetaSize)
		if _, err := f.ReadAt(page, 4096); err == nil {
			if m1, err := readBoltMeta(page[boltPageHeader:]); err == nil {
				best, err1 = m1, nil
			} else {
				err1 = err
			}
		} else {
			err1 = err
		}
		if err1 != nil {
			return &StoreError{path, fmt.Sprintf("neither of its metadata pages is valid (%v; %v)", err0, err1)}
		}
	}
	if need := int64(best.pgid) * int64(best.pageSize); fi.Size() < need {
		return &StoreError{path, fmt.Sprintf("the file is cut short: %d bytes, its metadata says %d (%d pages of %d bytes)", fi.Size(), need, best.pgid, best.pageSize)}
	}
	return checkFreelist(f, path, best)
}

// checkFreelist checks the page of free page numbers: bbolt trusts it
// when it allocates, so a damaged one would make it overwrite live pages.
func checkFreelist(f *os.File, path string, m boltMeta) error {
	if m.freelist == boltNoFreelist {
		return nil
	}
	if m.freelist < 2 || m.freelist >= m.pgid {
		return &StoreError{path, fmt.Sprintf("its free-page list is at page %d, outside the file's %d pages", m.freelist, m.pgid)}
	}
	le := binary.LittleEndian
	hdr := make([]byte, boltPageHeader+8)
	if _, err := f.ReadAt(hdr, int64(m.freelist)*int64(m.pageSize)); err != nil {
		return &StoreError{path, fmt.Sprintf("its free-page list is unreadable: %v", err)}
	}
	if flags := le.Uint16(hdr[8:]); flags != boltFreelistFlag {
		return &StoreError{path, fmt.Sprintf("page %d should list the free pages but is of kind %#x", m.freelist, flags)}
	}
	count, skip := uint64(le.Uint16(hdr[10:])), uint64(0)
	if count == 0xFFFF {
		count, skip = le.Uint64(hdr[boltPageHeader:]), 1
	}
	span := (uint64(le.Uint32(hdr[12:])) + 1) * uint64(m.pageSize)
	if (skip+count)*8+boltPageHeader > span || count > m.pgid {
		return &StoreError{path, fmt.Sprintf("its free-page list claims %d pages, more than it can hold", count)}
	}
	ids := make([]byte, count*8)
	if _, err := f.ReadAt(ids, int64(m.freelist)*int64(m.pageSize)+boltPageHeader+int64(skip*8)); err != nil {
		return &StoreError{path, fmt.Sprintf("its free-page list is unreadable: %v", err)}
	}
	for i := uint64(0); i < count; i++ {
		if id := le.Uint64(ids[i*8:]); id < 2 || id >= m.pgid {
			return &StoreError{path, fmt.Sprintf("its free-page list names page %d, outside the file's %d pages", id, m.pgid)}
		}
	}
	return nil
}

// checkStore checks raft.db before Raft opens it (see above).
func checkStore(path string) (err error) {
	if err := checkBoltFile(path); err != nil {
		return err
	}
	if _, statErr := os.Stat(path); errors.Is(statErr, os.ErrNotExist) {
		return nil
	}
	done := make(chan error, 1)
	go func() {
		// A damaged page can still fault or trip a panic in bbolt or the
		// decoder: both end here instead of killing the process.
		debug.SetPanicOnFault(true)
		defer func() {
			if r := recover(); r != nil {
				done <- &StoreError{path, fmt.Sprintf("reading it failed: %v", r)}
			}
		}()
		done <- readAllEntries(path)
	}()
	return <-done
}

// readAllEntries opens the store read-only and decodes every entry (the
// log need not be contiguous: a restored site's continues after a gap).
func readAllEntries(path string) error {
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: 5 * time.Second})
	if err != nil {
		if errors.Is(err, bolterrors.ErrTimeout) {
			return fmt.Errorf("open raft log store %s: another process holds it (is this site already running?)", path)
		}
		return &StoreError{path, fmt.Sprintf("it does not open: %v", err)}
	}
	defer db.Close()
	return db.View(func(tx *bolt.Tx) error {
		logs := tx.Bucket([]byte("logs"))
		if logs == nil {
			return nil // created on first use
		}
		cur := logs.Cursor()
		for k, v := cur.First(); k != nil; k, v = cur.Next() {
			if len(k) != 8 {
				return &StoreError{path, fmt.Sprintf("a log key of %d bytes", len(k))}
			}
			i := binary.BigEndian.Uint64(k)
			var l raft.Log
			if err := codec.NewDecoderBytes(v, &codec.MsgpackHandle{}).Decode(&l); err != nil {
				return &StoreError{path, fmt.Sprintf("log entry %d does not decode: %v", i, err)}
			}
			if l.Index != i {
				return &StoreError{path, fmt.Sprintf("log entry %d is stored as entry %d", i, l.Index)}
			}
			if l.Type == raft.LogCommand {
				if err := verifyChecksum(l.Data, l.Extensions); err != nil {
					return &StoreError{path, fmt.Sprintf("log entry %d: %v", i, err)}
				}
			}
		}
		if conf := tx.Bucket([]byte("conf")); conf != nil {
			if err := conf.ForEach(func(k, v []byte) error { return nil }); err != nil {
				return &StoreError{path, fmt.Sprintf("its stable records are unreadable: %v", err)}
			}
		}
		return nil
	})
}

// openLogStore opens the log store at path (bbolt through raft-boltdb).
// By default Bolt writes its freelist, the list of the pages it may
// reuse, at every commit: a log that has just been compacted after a
// snapshot has most of its file free, so every commit of one entry
// wrote a freelist of hundreds of kilobytes besides it. With
// NoFreelistSync it writes none (the data and the meta pages are synced
// as before) and rebuilds the list by walking the file's pages when it
// opens it, as Consul, Vault and rqlite open theirs and etcd its
// backend; the hashmap freelist finds a run of free pages without
// scanning one long array. A store written so opens with the defaults
// too (Bolt then writes the list again). BenchmarkLogStore measures it.
func openLogStore(path string) (*raftboltdb.BoltStore, error) {
	return raftboltdb.New(raftboltdb.Options{Path: path, BoltOptions: &bolt.Options{
		NoFreelistSync: true,
		FreelistType:   bolt.FreelistMapType,
	}})
}

// diskStore wraps the log and stable store to notice when this site's
// own writes fail (NOSPACE) and when they succeed again.
type diskStore struct {
	*raftboltdb.BoltStore
	c *Cluster
}

func (s diskStore) StoreLog(l *raft.Log) error {
	return s.result(s.BoltStore.StoreLog(l))
}

func (s diskStore) StoreLogs(logs []*raft.Log) error {
	return s.result(s.BoltStore.StoreLogs(logs))
}

func (s diskStore) Set(k, v []byte) error { return s.result(s.BoltStore.Set(k, v)) }

func (s diskStore) SetUint64(k []byte, v uint64) error { return s.result(s.BoltStore.SetUint64(k, v)) }

func (s diskStore) result(err error) error {
	if err == nil {
		if s.c.alarms.clear(AlarmNoSpace) {
			s.c.log.Info("NOSPACE cleared: this site writes its log again", "alarm", AlarmNoSpace)
		}
		return nil
	}
	what := "writing the log failed"
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		what = "the disk is full"
	}
	if s.c.alarms.raise(AlarmNoSpace, fmt.Sprintf("%s: %v", what, err)) {
		s.c.log.Error("NOSPACE: this site cannot write its Raft log; it answers no reads from its own copy until it can (it recovers by itself once space is freed)",
			"err", err, "alarm", AlarmNoSpace)
	}
	return err
}
