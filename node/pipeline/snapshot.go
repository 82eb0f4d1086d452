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
// cluster at log format 1, which the last release reads too, and
// snapshotFormat3 those of a cluster at format 2 or later, which it must
// refuse: it would take the request records of format 2 for records
// without an answer. Restore also reads the formats of earlier versions
// (see snapshot_v1.go).
//
//	innonet-pipeline/1  one token per user, its hash a field of the user
//	innonet-pipeline/2  tokens in their own table
//	innonet-pipeline/3  the same tables, of log format 2 (see format.go)
const (
	snapshotFormat  = "innonet-pipeline/2"
	snapshotFormat3 = "innonet-pipeline/3"
)

// record is one line of a snapshot stream.
type record struct {
	Format  string          `json:"format,omitempty"`
	Applied uint64          `json:"applied,omitempty"`
	Table   string          `json:"table,omitempty"`
	Value   json.RawMessage `json:"value,omitempty"`
	// End closes the stream with the number of rows written, so a cut-off
	// snapshot is refused rather than restored as a partial state.
	End  bool  `json:"end,omitempty"`
	Rows int64 `json:"rows,omitempty"`
}

// Snapshot is a point-in-time view of the state. Taking one is cheap (the
// state is immutable underneath); WriteTo may run while Apply goes on.
type Snapshot struct {
	txn     *memdb.Txn
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

// WriteTo writes the snapshot as newline-delimited JSON records.
func (sn *Snapshot) WriteTo(w io.Writer) (int64, error) {
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
		it, err := sn.txn.Get(table, "id")
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

// Restore replaces the whole state with a snapshot written by WriteTo, of
// this version or an earlier one. On error the state is left as it was.
func (s *State) Restore(r io.Reader) error {
	db := newDB()
	txn := db.Txn(true)
	dec := json.NewDecoder(bufio.NewReader(r))
	var head record
	if err := dec.Decode(&head); err != nil {
		return fmt.Errorf("read snapshot header: %w", err)
	}
	decode := decodeRow
	var up *v1Upgrade
	switch head.Format {
	case snapshotFormat, snapshotFormat3:
	case snapshotFormatV1:
		up = &v1Upgrade{}
		decode = up.decodeRow
	default:
		return fmt.Errorf("restore: unknown snapshot format %q", head.Format)
	}
	var rows int64
	for {
		var rec record
		err := dec.Decode(&rec)
		if errors.Is(err, io.EOF) {
			txn.Abort()
			return fmt.Errorf("restore: snapshot ends after %d rows without its end marker (cut off?)", rows)
		}
		if err != nil {
			txn.Abort()
			return fmt.Errorf("read snapshot: %w", err)
		}
		if rec.End {
			if rec.Rows != rows {
				txn.Abort()
				return fmt.Errorf("restore: snapshot has %d rows, its end marker says %d", rows, rec.Rows)
			}
			var extra json.RawMessage
			if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
				txn.Abort()
				return fmt.Errorf("restore: data after the snapshot's end marker")
			}
			break
		}
		rows++
		obj, err := decode(rec)
		if err != nil {
			txn.Abort()
			return err
		}
		if err := txn.Insert(rec.Table, obj); err != nil {
			txn.Abort()
			return fmt.Errorf("restore %s: %w", rec.Table, err)
		}
	}
	if up != nil {
		if err := up.finish(txn); err != nil {
			txn.Abort()
			return err
		}
	}
	txn.Commit()
	s.seq.Add(1)
	s.db.Store(db)
	s.applied.Store(head.Applied)
	s.seq.Add(1)
	return nil
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
