package pipeline

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	memdb "github.com/hashicorp/go-memdb"
)

// snapshotFormat heads the snapshot streams this version writes of a
// cluster at log format 1, which the last release reads too; a cluster at
// format 2 or later, which that release must refuse, gets the binary
// format 4 (snapshot_v4.go). snapshotFormat3 is what versions before
// format 4 wrote of such a cluster: the request records of format 2 would
// be taken for records without an answer by the last release. Restore
// reads every format (see also snapshot_v1.go).
//
//	innonet-pipeline/1  one token per user, its hash a field of the user
//	innonet-pipeline/2  tokens in their own table
//	innonet-pipeline/3  the same tables, of log format 2 (see format.go)
//	innonet-pipeline/4  format 3's tables in binary rows and compressed frames
//
// Formats 1 to 3 are newline-delimited JSON: a header line, one line per
// row and an end line; [Snapshot.WriteJSON] still writes them.
const (
	snapshotFormat  = "innonet-pipeline/2"
	snapshotFormat3 = "innonet-pipeline/3"
)

// record is one line of a snapshot stream.
type record struct {
	Format  string `json:"format,omitempty"`
	Applied uint64 `json:"applied,omitempty"`
	// Codec is how the frames of format 4 are compressed.
	Codec string          `json:"codec,omitempty"`
	Table string          `json:"table,omitempty"`
	Value json.RawMessage `json:"value,omitempty"`
	// End closes the stream with the number of rows written, so a cut-off
	// snapshot is refused rather than restored as a partial state.
	End  bool  `json:"end,omitempty"`
	Rows int64 `json:"rows,omitempty"`
}

// Snapshot is a point-in-time view of the state. Taking one is cheap (the
// state is immutable underneath); WriteTo may run while Apply goes on.
type Snapshot struct {
	txn     *tx
	applied uint64
}

// Snapshot returns a view of the state as of the last applied command.
func (s *State) Snapshot() *Snapshot {
	return &Snapshot{txn: s.read(), applied: s.applied.Load()}
}

// Applied is the log index the snapshot reflects.
func (sn *Snapshot) Applied() uint64 { return sn.applied }

// tableOrder fixes the order tables are written in, so a snapshot of a
// given state is always the same bytes.
var tableOrder = []string{tableCounters, tableUsers, tableTokens, tableLeads, tableEvents, tableRequests,
	tableInterests, tableComments, tableSettings, tableSites, tableOrgs, tableAttachments, tableGlossary, tableInvitations, tableProfiles, tableTargets, tableCalendars,
	tablePrefs, tableWebhooks, tableSinks}

// WriteTo writes the snapshot in the format the cluster's sites read:
// format 4 from log format 2 on, format 2 before (sites of the last
// release may still run then).
func (sn *Snapshot) WriteTo(w io.Writer) (int64, error) {
	if formatOf(sn.txn) >= Format2 {
		return sn.writeV4(w, snapshotCodec)
	}
	return sn.WriteJSON(w)
}

// WriteCanonical writes the snapshot as WriteTo does but without
// compressing it: the same bytes for the same state on every site,
// whatever version of the compressor a site runs or on which processor.
// The state digests of checkpoints hash this.
func (sn *Snapshot) WriteCanonical(w io.Writer) (int64, error) {
	if formatOf(sn.txn) >= Format2 {
		return sn.writeV4(w, codecNone)
	}
	return sn.WriteJSON(w)
}

// WriteJSON writes the snapshot as newline-delimited JSON records (format
// 2, or 3 from log format 2 on): what backups hold, for operators and
// their tools to read, and what Restore reads back like any snapshot.
func (sn *Snapshot) WriteJSON(w io.Writer) (int64, error) {
	cw := &countingWriter{w: w}
	bw := bufio.NewWriter(cw)
	enc := json.NewEncoder(bw)
	format := snapshotFormat
	if formatOf(sn.txn) >= Format2 {
		format = snapshotFormat3
	}
	if err := enc.Encode(record{Format: format, Applied: sn.applied}); err != nil {
		return cw.n, fmt.Errorf("write snapshot header: %w", err)
	}
	var rows int64
	for _, table := range tableOrder {
		it, err := rowsOf(sn.txn, table, "")
		if err != nil {
			return cw.n, fmt.Errorf("snapshot %s: %w", table, err)
		}
		for raw := it.Next(); raw != nil; raw = it.Next() {
			v, err := json.Marshal(raw)
			if err != nil {
				return cw.n, fmt.Errorf("snapshot %s: %w", table, err)
			}
			if err := enc.Encode(record{Table: table, Value: v}); err != nil {
				return cw.n, fmt.Errorf("write snapshot: %w", err)
			}
			rows++
		}
	}
	if err := enc.Encode(record{End: true, Rows: rows}); err != nil {
		return cw.n, fmt.Errorf("write snapshot: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return cw.n, fmt.Errorf("write snapshot: %w", err)
	}
	return cw.n, nil
}

// Restore replaces the whole state with a snapshot written by WriteTo or
// WriteJSON, of this version or an earlier one. On error the state is left
// as it was.
func (s *State) Restore(r io.Reader) error {
	br := bufio.NewReaderSize(r, 64<<10)
	line, err := br.ReadSlice('\n')
	if err != nil {
		if errors.Is(err, bufio.ErrBufferFull) {
			return fmt.Errorf("read snapshot header: no newline in its first %d bytes", br.Size())
		}
		return fmt.Errorf("read snapshot header: %w", unexpectedEOF(err))
	}
	var head record
	if err := json.Unmarshal(line, &head); err != nil {
		return fmt.Errorf("read snapshot header: %w", err)
	}
	var t *restoring
	switch head.Format {
	case snapshotFormat4:
		t, err = restoreV4(br, head)
	case snapshotFormat, snapshotFormat3:
		t, err = restoreJSON(br, decodeRow, nil)
	case snapshotFormatV1:
		up := &v1Upgrade{}
		t, err = restoreJSON(br, up.decodeRow, up.finish)
	default:
		return fmt.Errorf("restore: unknown snapshot format %q", head.Format)
	}
	if err != nil {
		return err
	}
	s.seq.Add(1)
	s.setDB(t.db, t.side)
	s.applied.Store(head.Applied)
	s.seq.Add(1)
	// The search documents of the replaced leads would keep them alive;
	// a read still under way may add one back, which only costs memory.
	s.search.Clear()
	return nil
}

// newState starts the one write transaction of a new state: a restore.
func newState() *restoring {
	db := newDB()
	t := &tx{Txn: db.Txn(true)}
	t.side = newSideIndexes(t)
	return &restoring{tx: t, db: db}
}

// restoring is a state a restore is writing, and then wrote.
type restoring struct {
	*tx
	db *memdb.MemDB
}

// restoreJSON reads the rows after the header of a JSON snapshot; finish,
// if set, completes the tables of an older format.
func restoreJSON(r io.Reader, decode func(record) (any, error), finish func(*tx) error) (*restoring, error) {
	st := newState()
	txn := st.tx
	defer txn.Abort() // after Commit, a no-op
	dec := json.NewDecoder(r)
	var rows int64
	for {
		var rec record
		err := dec.Decode(&rec)
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("restore: snapshot ends after %d rows without its end marker (cut off?)", rows)
		}
		if err != nil {
			return nil, fmt.Errorf("read snapshot: %w", err)
		}
		if rec.End {
			if rec.Rows != rows {
				return nil, fmt.Errorf("restore: snapshot has %d rows, its end marker says %d", rows, rec.Rows)
			}
			var extra json.RawMessage
			if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
				return nil, fmt.Errorf("restore: data after the snapshot's end marker")
			}
			break
		}
		rows++
		obj, err := decode(rec)
		if err != nil {
			return nil, err
		}
		if err := insertRow(txn, rec.Table, obj); err != nil {
			return nil, fmt.Errorf("restore %s: %w", rec.Table, err)
		}
	}
	if finish != nil {
		if err := finish(txn); err != nil {
			return nil, err
		}
	}
	txn.Commit()
	return st, nil
}

func decodeRow(rec record) (any, error) {
	var obj any
	switch rec.Table {
	case tableLeads:
		obj = &Lead{}
	case tableEvents:
		obj = &Event{}
	case tableUsers:
		obj = &User{}
	case tableTokens:
		obj = &Token{}
	case tableRequests:
		obj = &request{}
	case tableCounters:
		obj = &counter{}
	case tableInterests:
		obj = &Interest{}
	case tableComments:
		obj = &Comment{}
	case tableSettings:
		obj = &Setting{}
	case tableSites:
		obj = &Site{}
	case tableOrgs:
		obj = &Organization{}
	case tableAttachments:
		obj = &Attachment{}
	case tableGlossary:
		obj = &GlossaryTerm{}
	case tableInvitations:
		obj = &Invitation{}
	case tableProfiles:
		obj = &DivisionProfile{}
	case tableTargets:
		obj = &Targets{}
	case tableCalendars:
		obj = &CalendarTable{}
	case tablePrefs:
		obj = &NotificationPrefs{}
	case tableWebhooks:
		obj = &Webhook{}
	case tableSinks:
		obj = &Sink{}
	default:
		return nil, fmt.Errorf("restore: unknown table %q", rec.Table)
	}
	if err := json.Unmarshal(rec.Value, obj); err != nil {
		return nil, fmt.Errorf("restore %s: %w", rec.Table, err)
	}
	return obj, nil
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
