package outbox

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
)

// The journal's layout: a magic line, then records of a 4-byte length
// (little-endian), a 4-byte CRC-32C of the body, and the body, an entry
// in JSON.
const (
	magic     = "innonet-outbox 1\n"
	headerLen = 8
	// maxRecord bounds one record: a request is bounded by the API's
	// message size well below this.
	maxRecord = 64 << 20
	fileMode  = 0o600
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// CorruptError says the journal cannot be read: where, and why.
type CorruptError struct {
	Path   string
	Offset int64
	Reason string
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("outbox %s is damaged at byte %d: %s; move it aside to start with an empty outbox (its queued writes are then lost)",
		e.Path, e.Offset, e.Reason)
}

type journal struct {
	path    string
	f       *os.File
	size    int64 // where the next record goes
	records int   // records in the file
}

// openJournal opens or creates the journal and returns each entry's
// latest record, in file order.
func openJournal(path string) (*journal, []*Entry, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, fileMode)
	if err != nil {
		return nil, nil, fmt.Errorf("open outbox: %w", err)
	}
	j := &journal{path: path, f: f}
	recs, err := j.load()
	if err != nil {
		_ = f.Close()
		return nil, nil, err
	}
	return j, recs, nil
}

func (j *journal) load() ([]*Entry, error) {
	data, err := io.ReadAll(j.f)
	if err != nil {
		return nil, fmt.Errorf("read outbox %s: %w", j.path, err)
	}
	if len(data) == 0 {
		if err := j.writeAt0([]byte(magic)); err != nil {
			return nil, err
		}
		j.size = int64(len(magic))
		return nil, syncDir(j.path)
	}
	corrupt := func(off int, reason string, a ...any) error {
		return &CorruptError{Path: j.path, Offset: int64(off), Reason: fmt.Sprintf(reason, a...)}
	}
	if len(data) < len(magic) || string(data[:len(magic)]) != magic {
		return nil, corrupt(0, "not an innonet outbox (bad header)")
	}
	latest := map[uint64]*Entry{}
	var order []uint64
	off := len(magic)
	for off < len(data) {
		rest := data[off:]
		if len(rest) < headerLen {
			break // cut short while appending
		}
		n := binary.LittleEndian.Uint32(rest[0:])
		sum := binary.LittleEndian.Uint32(rest[4:])
		if n == 0 || n > maxRecord {
			if allZero(rest) {
				break // the file grew, the record was never written
			}
			return nil, corrupt(off, "record length %d out of range", n)
		}
		if int(n) > len(rest)-headerLen {
			break // cut short while appending
		}
		body := rest[headerLen : headerLen+int(n)]
		if crc32.Checksum(body, castagnoli) != sum {
			if off+headerLen+int(n) == len(data) && allZero(body) {
				break
			}
			return nil, corrupt(off, "checksum mismatch")
		}
		var e Entry
		if err := json.Unmarshal(body, &e); err != nil {
			return nil, corrupt(off, "record does not parse: %v", err)
		}
		if e.Seq == 0 || e.Author == "" || e.RequestID == "" {
			return nil, corrupt(off, "record lacks a sequence number, author or request ID")
		}
		if e.Status != Queued && e.Status != Applied && e.Status != Refused {
			return nil, corrupt(off, "unknown status %q", e.Status)
		}
		if _, ok := latest[e.Seq]; !ok {
			order = append(order, e.Seq)
		}
		latest[e.Seq] = &e
		j.records++
		off += headerLen + int(n)
	}
	if off < len(data) {
		// Drop the torn tail, so the next record follows the last whole one.
		if err := j.f.Truncate(int64(off)); err != nil {
			return nil, fmt.Errorf("outbox %s: drop a record cut short: %w", j.path, err)
		}
		if err := j.f.Sync(); err != nil {
			return nil, fmt.Errorf("outbox %s: %w", j.path, err)
		}
	}
	j.size = int64(off)
	out := make([]*Entry, 0, len(order))
	keys := map[string]uint64{}
	for _, seq := range order {
		e := latest[seq]
		if prev, ok := keys[key(e.Author, e.RequestID)]; ok && prev != seq {
			return nil, corrupt(0, "entries %d and %d have the same author and request ID", prev, seq)
		}
		keys[key(e.Author, e.RequestID)] = seq
		out = append(out, e)
	}
	return out, nil
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

func (j *journal) writeAt0(b []byte) error {
	if _, err := j.f.WriteAt(b, 0); err != nil {
		return fmt.Errorf("write outbox %s: %w", j.path, err)
	}
	if err := j.f.Sync(); err != nil {
		return fmt.Errorf("sync outbox %s: %w", j.path, err)
	}
	return nil
}

func encode(e *Entry) ([]byte, error) {
	body, err := json.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("encode queued write: %w", err)
	}
	if len(body) > maxRecord {
		return nil, fmt.Errorf("queued write of %d bytes exceeds the outbox's %d", len(body), maxRecord)
	}
	rec := make([]byte, headerLen+len(body))
	binary.LittleEndian.PutUint32(rec[0:], uint32(len(body)))
	binary.LittleEndian.PutUint32(rec[4:], crc32.Checksum(body, castagnoli))
	copy(rec[headerLen:], body)
	return rec, nil
}

// append writes one record and fsyncs it. A failed write is cut off
// again, so the journal stays readable.
func (j *journal) append(e *Entry) error {
	rec, err := encode(e)
	if err != nil {
		return err
	}
	if _, err := j.f.WriteAt(rec, j.size); err != nil {
		_ = j.f.Truncate(j.size)
		return fmt.Errorf("write outbox %s: %w", j.path, err)
	}
	if err := j.f.Sync(); err != nil {
		_ = j.f.Truncate(j.size)
		return fmt.Errorf("sync outbox %s: %w", j.path, err)
	}
	j.size += int64(len(rec))
	j.records++
	return nil
}

// rewrite replaces the journal with one record per entry.
func (j *journal) rewrite(entries []*Entry) error {
	tmp := j.path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, fileMode)
	if err != nil {
		return fmt.Errorf("rewrite outbox: %w", err)
	}
	buf := []byte(magic)
	for _, e := range entries {
		rec, err := encode(e)
		if err != nil {
			_ = f.Close()
			return err
		}
		buf = append(buf, rec...)
	}
	_, err = f.Write(buf)
	if err == nil {
		err = f.Sync()
	}
	if err != nil {
		_ = f.Close()
		_ = os.Remove(tmp)
		return fmt.Errorf("rewrite outbox %s: %w", j.path, err)
	}
	if err := os.Rename(tmp, j.path); err != nil {
		_ = f.Close()
		_ = os.Remove(tmp)
		return fmt.Errorf("rewrite outbox %s: %w", j.path, err)
	}
	if err := syncDir(j.path); err != nil {
		_ = f.Close()
		return err
	}
	_ = j.f.Close()
	j.f, j.size, j.records = f, int64(len(buf)), len(entries)
	return nil
}

func (j *journal) close() error {
	if err := j.f.Close(); err != nil {
		return fmt.Errorf("close outbox %s: %w", j.path, err)
	}
	return nil
}

// syncDir makes a created or renamed file's directory entry durable.
func syncDir(path string) error {
	d, err := os.Open(filepath.Dir(path))
	if err != nil {
		return fmt.Errorf("sync outbox directory: %w", err)
	}
	defer func() { _ = d.Close() }()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return fmt.Errorf("sync outbox directory: %w", err)
	}
	return nil
}
