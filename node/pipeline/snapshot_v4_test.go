package pipeline

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"

	"innonet/node/calendar"
)

var rewriteSnapshots = flag.Bool("rewrite-snapshots", false, "write testdata/snapshot-v3.jsonl and snapshot-v4.bin anew (only when their format's writer changed on purpose)")

// allRows returns every row of every table, by table.
func allRows(tb testing.TB, st *State) map[string][]any {
	tb.Helper()
	txn := st.read()
	out := map[string][]any{}
	for _, table := range stateTables() {
		for raw := range mustIter(tb, txn, table) {
			out[table] = append(out[table], raw)
		}
	}
	return out
}

// stateTables lists, sorted, the tables of the state: memdb's and the
// tables kept in side trees only.
func stateTables() []string {
	var out []string
	for table := range schema().Tables {
		out = append(out, table)
	}
	out = append(out, sideTables...)
	return slices.Sorted(slices.Values(append(out, keyedTables[:]...)))
}

// sideKeys lists every entry of every side index of st (sideindex.go):
// the tree, the key, and the row the entry points to, which must be the
// row of that key in its table; and every row must have its entries.
func sideKeys(tb testing.TB, st *State) []string {
	tb.Helper()
	txn := st.read()
	o := sideIn(txn)
	var out []string
	rows := func(table string) int {
		n := 0
		for range mustIter(tb, txn, table) {
			n++
		}
		return n
	}
	leads := rows(tableLeads)
	for d := range o.orders {
		for k, tree := range o.orders[d] {
			if dimension(d) != dimDivision && tree.Len() != leads {
				tb.Errorf("order tree %d/%d holds %d entries for %d leads", d, k, tree.Len(), leads)
			}
			tree.Scan(func(it orderItem) bool {
				cur, err := getLead(txn, it.lead.ID)
				if err != nil || cur != it.lead {
					tb.Errorf("order tree %d/%d: key %x points to a lead %s that is not the lead table's", d, k, it.key, it.lead.ID)
				}
				out = append(out, fmt.Sprintf("%d/%d %x %s", d, k, it.key, it.lead.ID))
				return true
			})
		}
	}
	if n := rows(tableEvents); o.events.Len() != n {
		tb.Errorf("the events by log index hold %d entries for %d events", o.events.Len(), n)
	}
	o.events.Scan(func(it eventItem) bool {
		raw, err := rowByKey(txn, tableEvents, it.key)
		if err != nil || raw != it.event || it.event.LogIndex != it.log {
			tb.Errorf("events by log index: %d %s is not the event table's", it.log, it.key)
		}
		out = append(out, fmt.Sprintf("event %d %s", it.log, it.key))
		return true
	})
	if n := rows(tableRequests); o.requests.Len() != n {
		tb.Errorf("the request records by time hold %d entries for %d records", o.requests.Len(), n)
	}
	o.requests.Scan(func(it requestItem) bool {
		raw, err := rowByKey(txn, tableRequests, it.key)
		if err != nil || raw != it.req || it.req.Time != it.time {
			tb.Errorf("request records by time: %d %s is not the request table's", it.time, it.key)
		}
		out = append(out, fmt.Sprintf("request %d %s", it.time, it.key))
		return true
	})
	for k, tree := range o.keyed {
		tree.Scan(func(it keyedItem) bool {
			if row, err := keyedRowOf(k, it.row); err != nil || row.key != it.key {
				tb.Errorf("keyed table %s: key %q holds a row of key %q (%v)", keyedTables[k], it.key, row.key, err)
			}
			return true
		})
		for i := range numAlso(k) {
			tree := o.also[k][i]
			if n := o.keyed[k].Len(); tree.Len() != n {
				tb.Errorf("%s: order %d holds %d entries for %d rows", keyedTables[k], i, tree.Len(), n)
			}
			tree.Scan(func(it keyedItem) bool {
				row, err := keyedRowOf(k, it.row)
				if err != nil || keyedIn[any](txn, k, row.key) != it.row || alsoKeys(k, it.row)[i] != it.key {
					tb.Errorf("%s: order %d: %q is not the table's row (%v)", keyedTables[k], i, it.key, err)
				}
				out = append(out, fmt.Sprintf("%s %d %q", keyedTables[k], i, it.key))
				return true
			})
		}
	}
	return out
}

func sameRows(tb testing.TB, got, want *State) {
	tb.Helper()
	g, w := allRows(tb, got), allRows(tb, want)
	if gk, wk := sideKeys(tb, got), sideKeys(tb, want); !slices.Equal(gk, wk) {
		tb.Errorf("side indexes restored with %d entries, want %d", len(gk), len(wk))
	}
	for _, table := range stateTables() {
		if !reflect.DeepEqual(g[table], w[table]) {
			tb.Errorf("table %s restored as\n%s\nwant\n%s", table, asJSON(g[table]), asJSON(w[table]))
		}
	}
}

func writeV4Bytes(tb testing.TB, st *State, codec string) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if _, err := st.Snapshot().writeV4(&buf, codec); err != nil {
		tb.Fatalf("writeV4: %v", err)
	}
	return buf.Bytes()
}

// fillAll sets every exported field of v, recursively, to a value of its
// own (a slice gets two elements, a map two entries),
// so that a field a codec forgets shows as a difference. Fields JSON
// leaves out (`json:"-"`) are not state and stay zero.
func fillAll(v reflect.Value, n *int) {
	*n++
	switch v.Kind() {
	case reflect.String:
		v.SetString(fmt.Sprintf("v%d", *n))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(*n) * -3)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(uint64(*n) << 40)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fillAll(v.Elem(), n)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		fillAll(v.Index(0), n)
		fillAll(v.Index(1), n)
	case reflect.Map:
		v.Set(reflect.MakeMap(v.Type()))
		for range 2 {
			k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
			fillAll(k, n)
			fillAll(e, n)
			v.SetMapIndex(k, e)
		}
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[calendar.Date]() {
			v.Set(reflect.ValueOf(calendar.D(2026, time.May, 1+*n%28)))
			return
		}
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(epoch.Add(time.Duration(*n)*time.Hour + time.Duration(*n))))
			return
		}
		for i := range v.NumField() {
			f := v.Type().Field(i)
			if f.IsExported() && f.Tag.Get("json") != "-" {
				fillAll(v.Field(i), n)
			}
		}
	default:
		panic(fmt.Sprintf("fillAll: no value for a %s", v.Type()))
	}
}

// filledState holds one row of every table with every field set.
func filledState(tb testing.TB) *State {
	tb.Helper()
	st := New()
	txn := st.write()
	n := 0
	for _, table := range wireTables {
		obj, err := decodeRow(record{Table: table, Value: json.RawMessage("{}")})
		if err != nil {
			tb.Fatal(err)
		}
		fillAll(reflect.ValueOf(obj).Elem(), &n)
		switch o := obj.(type) {
		case *Lead:
			o.ID, o.Stage = "BOS-0007", Negotiating // what the order indexes read
			// Elements of zero values, and times beyond Unix nanoseconds.
			o.Translations["zh"] = Translation{}
			o.Tags = append(o.Tags, "")
			o.Contacts = append(o.Contacts, Contact{})
			o.Created = time.Date(3000, 1, 2, 3, 4, 5, 6, time.UTC)
			o.Deal.Updated = time.Unix(0, 0).UTC()
		case *Event:
			o.Key, o.LeadID = "BOS-0007/0000000001", "BOS-0007"
			o.Time = time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC)
			o.Changes = append(o.Changes, Change{})
		case *request:
			// What a record names besides a lead is behind an
			// unexported pointer, which the loop above leaves alone.
			var m requestMore
			fillAll(reflect.ValueOf(&m).Elem(), &n)
			m.Lead.ID = "BOS-0007"
			o.setExtra(m)
		}
		mustInsert(tb, txn, table, obj)
	}
	st.publish(txn, 4242)
	return st
}

// TestSnapshotV4EveryTableAndField writes a state that holds a row of
// every table with every field set, and expects every row back as it
// was, by every codec. A field added to a row type without a field
// number in snapshot_rows.go fails here.
func TestSnapshotV4EveryTableAndField(t *testing.T) {
	tables := stateTables()
	if got := slices.Sorted(slices.Values(wireTables)); !slices.Equal(got, tables) {
		t.Fatalf("wireTables = %v, want every table of the schema: %v", got, tables)
	}
	st := filledState(t)
	for table, rows := range allRows(t, st) {
		if len(rows) != 1 {
			t.Fatalf("table %s holds %d rows, want 1", table, len(rows))
		}
	}
	for _, codec := range []string{codecNone, codecZstd} {
		t.Run(codec, func(t *testing.T) {
			snap := writeV4Bytes(t, st, codec)
			got := restored(t, snap)
			sameRows(t, got, st)
			if got.AppliedIndex() != 4242 {
				t.Errorf("AppliedIndex = %d, want 4242", got.AppliedIndex())
			}
			if again := writeV4Bytes(t, got, codec); !bytes.Equal(again, snap) {
				t.Errorf("the restored state snapshots differently")
			}
		})
	}
}

// TestSnapshotV4OfRealState runs real commands, snapshots the state in
// the format a cluster of log format 2 writes, and restores it.
func TestSnapshotV4OfRealState(t *testing.T) {
	f := realisticTemplate(t, 60)
	f.ok("bos", addCmd("BOS-0001", 1, AttachmentShared))
	f.ok("hq", Command{Op: OpSetClaimMode, LeadID: f.leadIn(Approved), ClaimMode: ClaimAssigned})
	f.ok("yrd", Command{Op: OpExpressInterest, LeadID: "BOS-0031", Interest: &InterestDraft{Rationale: "Suzhou", Enterprise: "苏州生物"}})
	snap := snapshotBytes(t, f.st)
	head, _, _ := bytes.Cut(snap, []byte("\n"))
	if want := `{"format":"innonet-pipeline/4","applied":` + fmt.Sprint(f.index) + `,"codec":"zstd"}`; string(head) != want {
		t.Fatalf("header = %s, want %s", head, want)
	}
	got := restored(t, snap)
	sameRows(t, got, f.st)
	if g, w := readView(t, got), readView(t, f.st); !reflect.DeepEqual(g, w) {
		t.Errorf("restored state reads\n%+v\nwant\n%+v", g, w)
	}
	if again := snapshotBytes(t, got); !bytes.Equal(again, snap) {
		t.Errorf("the restored state snapshots differently")
	}
	// The JSON of format 3, as backups hold it, restores the same rows.
	sameRows(t, restored(t, snapshotJSON(t, f.st)), f.st)
	// So does the uncompressed form that checkpoints hash.
	var canon bytes.Buffer
	if _, err := f.st.Snapshot().WriteCanonical(&canon); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(canon.Bytes()[:100], []byte(`"codec":"none"`)) {
		t.Errorf("canonical snapshot starts %.80q, want codec none", canon.Bytes())
	}
	sameRows(t, restored(t, canon.Bytes()), f.st)
	t.Logf("%d leads: JSON %d bytes, format 4 %d bytes uncompressed, %d compressed", 60, len(snapshotJSON(t, f.st)), canon.Len(), len(snap))
}

// goldenCommands are the commands behind testdata/snapshot-v3.jsonl and
// snapshot-v4.bin: leads in several stages, a translation, deal terms,
// a comment, an interest and an attachment, at log format 2.
func goldenCommands(f *fixture) {
	f.raise()
	f.leadIn(Submitted)
	f.flowLeadIn(Lost)
	id := f.leadIn(Negotiating)
	f.ok("yrd", Command{Op: OpSetDeal, LeadID: id, Deal: &DealPatch{Amount: strp("42000000"), Currency: strp("CNY"), Jobs: intp(120)}})
	f.ok("hq", Command{Op: OpTranslate, LeadID: id, Translation: &TranslationInput{Lang: "zh", Title: "固态电池隔膜", Status: TranslationVerified}})
	f.ok("yrd", Command{Op: OpComment, LeadID: id, Comment: "Partner visits in May", Visibility: Shared})
	open := f.leadIn(Approved)
	f.ok("hq", Command{Op: OpSetClaimMode, LeadID: open, ClaimMode: ClaimAssigned})
	f.ok("prd", Command{Op: OpExpressInterest, LeadID: open, Interest: &InterestDraft{Rationale: "Shenzhen", Enterprise: "深圳电池"}})
	f.ok("bos", addCmd(id, 1, AttachmentShared))
}

// TestRestoreGoldenSnapshots restores a snapshot of format 3 (as the
// versions before format 4 wrote them) and one of format 4 (as this
// version first wrote them), both committed, and expects the state that
// replaying the same commands gives today.
func TestRestoreGoldenSnapshots(t *testing.T) {
	f := newFixture(t)
	goldenCommands(f)
	files := []struct {
		name, format string
		write        func() []byte
	}{
		{"testdata/snapshot-v3.jsonl", snapshotFormat3, func() []byte { return snapshotJSON(t, f.st) }},
		{"testdata/snapshot-v4.bin", snapshotFormat4, func() []byte { return snapshotBytes(t, f.st) }},
	}
	for _, file := range files {
		t.Run(file.format, func(t *testing.T) {
			if *rewriteSnapshots {
				if err := os.WriteFile(file.name, file.write(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			b, err := os.ReadFile(file.name)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(b, []byte(`{"format":"`+file.format+`"`)) {
				t.Fatalf("%s is not of format %s: %.60q", file.name, file.format, b)
			}
			got := restored(t, b)
			sameRows(t, got, f.st)
			if g, w := got.AppliedIndex(), f.st.AppliedIndex(); g != w {
				t.Errorf("AppliedIndex = %d, want %d", g, w)
			}
		})
	}
}

// v4Records writes a format 4 snapshot (uncompressed) of the given
// records, for tests that need one this version would not write.
func v4Records(applied uint64, rows int, recs ...[]byte) []byte {
	var buf bytes.Buffer
	fmt.Fprintf(&buf, `{"format":"innonet-pipeline/4","applied":%d,"codec":"none"}`+"\n", applied)
	fw := &frameWriter{w: &buf, codec: plainFrames{}}
	for _, r := range recs {
		fw.write(r)
	}
	fw.end(int64(rows))
	return buf.Bytes()
}

// rec is one record: a table tag and a row.
func rec(tag byte, row []byte) []byte {
	return append(binary.AppendUvarint([]byte{tag}, uint64(len(row))), row...)
}

func tagOf(table string) byte { return byte(slices.Index(wireTables, table) + 1) }

// TestRestoreV4Damaged restores damaged and hostile snapshots of format 4
// and expects each refused, with the state as it was.
func TestRestoreV4Damaged(t *testing.T) {
	src := newFixture(t)
	goldenCommands(src)
	good := snapshotBytes(t, src.st)
	plain := writeV4Bytes(t, src.st, codecNone)
	header := len(good) - len(bytes.SplitN(good, []byte("\n"), 2)[1])
	var lead wireEncoder
	lead.lead(&Lead{ID: "BOS-0001", Site: "BOS", Stage: Submitted})
	flip := func(b []byte, at int) []byte { b = bytes.Clone(b); b[at] ^= 0x40; return b }
	withField := func(num protowire.Number, typ protowire.Type, v []byte) []byte {
		return append(protowire.AppendTag(bytes.Clone(lead.b), num, typ), v...)
	}
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"header only", good[:header], "frame 1"},
		{"no terminating frame", good[:len(good)-2], "frame"},
		{"no final newline", good[:len(good)-1], "newline"},
		{"trailing garbage", append(bytes.Clone(good), "x"...), "after the end"},
		{"second snapshot appended", append(bytes.Clone(good), good...), "after the end"},
		{"a bit flipped in a compressed frame", flip(good, header+40), "frame 1"},
		{"a bit flipped in a plain frame", flip(plain, len(plain)/2), "checksum"},
		{"unknown codec", bytes.Replace(good, []byte(`"codec":"zstd"`), []byte(`"codec":"lz5"`), 1), "unknown snapshot codec"},
		{"no codec", bytes.Replace(good, []byte(`,"codec":"zstd"`), nil, 1), "unknown snapshot codec"},
		{"header without newline", []byte(`{"format":"innonet-pipeline/4"` + strings.Repeat(" ", 70<<10) + "}\n"), "no newline"},
		{"frame claims 1 GB", append([]byte(`{"format":"innonet-pipeline/4","codec":"none"}`+"\n"), binary.AppendUvarint(nil, 1<<30)...), "claims"},
		{"frame length overflows", append([]byte(`{"format":"innonet-pipeline/4","codec":"none"}`+"\n"), bytes.Repeat([]byte{0xff}, 11)...), "frame 1"},
		{"row claims 1 GB", v4Records(1, 1, binary.AppendUvarint([]byte{tagOf(tableLeads)}, 1<<30)), "claims"},
		{"row cut short", v4Records(1, 1, binary.AppendUvarint([]byte{tagOf(tableLeads)}, 100)), "unexpected EOF"},
		{"row count too high", v4Records(1, 2, rec(tagOf(tableLeads), lead.b)), "end marker says 2"},
		{"row count too low", v4Records(1, 0, rec(tagOf(tableLeads), lead.b)), "end marker says 0"},
		{"unknown table tag", v4Records(1, 1, rec(byte(len(wireTables)+1), lead.b)), "unknown table tag"},
		{"unknown field", v4Records(1, 1, rec(tagOf(tableLeads), withField(99, protowire.VarintType, []byte{1}))), "unknown field 99"},
		{"field of the wrong wire type", v4Records(1, 1, rec(tagOf(tableLeads), withField(5, protowire.BytesType, []byte{1, 1}))), "wire type"},
		{"group wire type", v4Records(1, 1, rec(tagOf(tableLeads), withField(5, protowire.StartGroupType, nil))), "wire type"},
		{"truncated varint", v4Records(1, 1, rec(tagOf(tableLeads), withField(6, protowire.VarintType, []byte{0x80}))), "lead"},
		{"nested message cut", v4Records(1, 1, rec(tagOf(tableLeads), withField(16, protowire.BytesType, []byte{5, 0x0a}))), "lead"},
		{"row without a key", v4Records(1, 1, rec(tagOf(tableLeads), nil)), "restore leads"},
		{"event without a key", v4Records(1, 1, rec(tagOf(tableEvents), nil)), "restore events"},
		{"request record without a key", v4Records(1, 1, rec(tagOf(tableRequests), nil)), "restore requests"},
		{"two rows with one key", v4Records(1, 2, rec(tagOf(tableLeads), lead.b), rec(tagOf(tableLeads), lead.b)), ""},
		{"JSON row of the wrong shape", v4Records(1, 1, rec(tagOf(tableUsers), []byte(`[1,2]`))), "restore users"},
		{"bad JSON in a request's copy", v4Records(1, 1, rec(tagOf(tableRequests), protowire.AppendBytes(protowire.AppendTag(nil, 4, protowire.BytesType), []byte("{")))), "request field 4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.leadIn(Signed)
			v, snap := readView(t, f.st), snapshotBytes(t, f.st)
			err := f.st.Restore(bytes.NewReader(tt.data))
			if err == nil {
				if tt.name == "two rows with one key" {
					return // memdb replaces the row: nothing to refuse, and nothing lost but a duplicate
				}
				t.Fatalf("Restore = nil error, want one about %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Restore = %v, want an error about %q", err, tt.want)
			}
			if got := readView(t, f.st); !reflect.DeepEqual(got, v) {
				t.Errorf("failed Restore changed the state to %+v", got)
			}
			if got := snapshotBytes(t, f.st); !bytes.Equal(got, snap) {
				t.Errorf("failed Restore changed the snapshot")
			}
		})
	}
	// Cut anywhere, the snapshot is refused.
	for _, snap := range [][]byte{good, plain} {
		for n := 0; n < len(snap); n += 1 + len(snap)/97 {
			if err := New().Restore(bytes.NewReader(snap[:n])); err == nil {
				t.Errorf("Restore of the first %d of %d bytes = nil error", n, len(snap))
			}
		}
	}
}

// FuzzRestoreV4 restores arbitrary bytes as a snapshot: it must never
// panic, and what it accepts must snapshot and restore to itself.
func FuzzRestoreV4(f *testing.F) {
	src := newFixture(f)
	goldenCommands(src)
	f.Add(snapshotBytes(f, src.st))
	f.Add(writeV4Bytes(f, src.st, codecNone))
	var lead wireEncoder
	lead.lead(&Lead{ID: "BOS-0001", Site: "BOS", Stage: Submitted, Deal: &Deal{Jobs: 3}, Translations: map[string]Translation{"de": {Title: "x"}}})
	var ev wireEncoder
	ev.event(&Event{Key: "BOS-0001/0000000001", LeadID: "BOS-0001", Changes: []Change{{Field: "stage"}}, Attachment: &AttachmentRef{Key: "a"}})
	f.Add(v4Records(3, 2, rec(tagOf(tableLeads), lead.b), rec(tagOf(tableEvents), ev.b)))
	f.Fuzz(func(t *testing.T, data []byte) {
		st := New()
		if err := st.Restore(bytes.NewReader(data)); err != nil {
			if st.AppliedIndex() != 0 || len(allRows(t, st)) != 0 {
				t.Fatalf("a failed Restore (%v) changed the state", err)
			}
			return
		}
		snap := writeV4Bytes(t, st, codecNone)
		again := New()
		if err := again.Restore(bytes.NewReader(snap)); err != nil {
			t.Fatalf("the snapshot of an accepted snapshot does not restore: %v", err)
		}
		if got := writeV4Bytes(t, again, codecNone); !bytes.Equal(got, snap) {
			t.Fatalf("an accepted snapshot does not restore to itself")
		}
	})
}

// TestRestoreV4RowsOutOfOrder restores a snapshot whose leads, events and
// request records come in reverse key order, with a second row for some
// keys, as no innonet writes them: the restore builds its side trees in
// bulk from rows it expects in key order (sideload.go), and must end
// with what inserting the same rows one by one gives, every later row
// replacing the earlier one of its key.
func TestRestoreV4RowsOutOfOrder(t *testing.T) {
	src := realisticTemplate(t, 60).st
	rows := allRows(t, src)
	type row struct {
		table string
		obj   any
	}
	var seq []row
	for _, table := range []string{tableLeads, tableEvents, tableRequests} {
		in := rows[table]
		if len(in) < 10 {
			t.Fatalf("the template holds %d rows of %s, want 10 or more", len(in), table)
		}
		// The first half in order, the rest reversed, then again the
		// rows of a few keys, changed.
		for i, obj := range in[:len(in)/2] {
			seq = append(seq, row{table, obj})
			if i == 2 {
				seq = append(seq, row{table, again(t, obj)}) // right after its first
			}
		}
		for _, obj := range slices.Backward(in[len(in)/2:]) {
			seq = append(seq, row{table, obj})
		}
		for _, i := range []int{0, 1, len(in) / 2, len(in) - 1} {
			seq = append(seq, row{table, again(t, in[i])})
		}
	}
	var recs [][]byte
	for _, r := range seq {
		var e wireEncoder
		switch v := r.obj.(type) {
		case *Lead:
			e.lead(v)
		case *Event:
			e.event(v)
		case *request:
			if err := e.request(v); err != nil {
				t.Fatal(err)
			}
		}
		recs = append(recs, rec(tagOf(r.table), e.b))
	}
	got := restored(t, v4Records(77, len(recs), recs...))

	want := New()
	txn := want.write()
	for _, r := range seq {
		// The restore decodes its own copies: compare with copies too.
		mustInsert(t, txn, r.table, r.obj)
	}
	want.publish(txn, 0)
	sameRows(t, got, want)
	for _, table := range []string{tableLeads, tableEvents, tableRequests} {
		if g, w := len(allRows(t, got)[table]), len(rows[table]); g != w {
			t.Errorf("%s: %d rows restored, want %d (one per key)", table, g, w)
		}
	}
}

// again returns a copy of a lead, event or request record with a field
// changed that no index reads, so that it replaces the original.
func again(t *testing.T, obj any) any {
	switch v := obj.(type) {
	case *Lead:
		c := *v
		c.Title += " (again)"
		return &c
	case *Event:
		c := *v
		c.Comment += " (again)"
		return &c
	case *request:
		c := *v
		c.Fingerprint += "-again"
		return &c
	}
	t.Fatalf("again(%T)", obj)
	return nil
}
