package pipeline

import (
	"fmt"
	"math"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
)

// The rows of the big tables (leads, events, requests, counters) are
// written in snapshots of format 4 as protobuf messages, encoded by hand
// with protowire rather than generated: the state keeps its own types
// (no copy into generated structs and back), and what a field number
// means is written down once, beside its encoder (snapshot_rows.go).
// Signed integers are zigzag varints, strings and nested messages
// length-delimited, a zero value is left out (as JSON's omitempty does),
// and a time is a zigzag varint of Unix nanoseconds, or, outside the
// years that fit in one, a message of seconds (1) and nanoseconds (2).
//
// A decoder refuses a field number it does not know: it comes from a
// newer version, and skipping it would restore less than was written.

// wireEncoder appends one message. Nested messages are written in place:
// begin reserves one byte for the length and end moves the body when its
// length needs more.
type wireEncoder struct{ b []byte }

func (e *wireEncoder) tag(num protowire.Number, typ protowire.Type) {
	e.b = protowire.AppendTag(e.b, num, typ)
}

func (e *wireEncoder) str(num protowire.Number, s string) {
	if s != "" {
		e.strAlways(num, s)
	}
}

// strAlways writes s even when empty (an element of a repeated field).
func (e *wireEncoder) strAlways(num protowire.Number, s string) {
	e.tag(num, protowire.BytesType)
	e.b = protowire.AppendString(e.b, s)
}

func (e *wireEncoder) int(num protowire.Number, v int64) {
	if v != 0 {
		e.tag(num, protowire.VarintType)
		e.b = protowire.AppendVarint(e.b, protowire.EncodeZigZag(v))
	}
}

func (e *wireEncoder) uint(num protowire.Number, v uint64) {
	if v != 0 {
		e.tag(num, protowire.VarintType)
		e.b = protowire.AppendVarint(e.b, v)
	}
}

func (e *wireEncoder) bool(num protowire.Number, v bool) {
	if v {
		e.tag(num, protowire.VarintType)
		e.b = append(e.b, 1)
	}
}

// minNano and maxNano bound the times a Unix nanosecond count holds.
var (
	minNano = time.Unix(0, math.MinInt64)
	maxNano = time.Unix(0, math.MaxInt64)
)

func (e *wireEncoder) time(num protowire.Number, t time.Time) {
	if t.IsZero() {
		return
	}
	if !t.Before(minNano) && !t.After(maxNano) {
		e.tag(num, protowire.VarintType)
		e.b = protowire.AppendVarint(e.b, protowire.EncodeZigZag(t.UnixNano()))
		return
	}
	p := e.begin(num)
	e.int(1, t.Unix())
	e.int(2, int64(t.Nanosecond()))
	e.end(p)
}

// begin starts a nested message; end closes it.
func (e *wireEncoder) begin(num protowire.Number) int {
	e.tag(num, protowire.BytesType)
	e.b = append(e.b, 0)
	return len(e.b)
}

func (e *wireEncoder) end(start int) {
	n := len(e.b) - start
	if n < 0x80 {
		e.b[start-1] = byte(n)
		return
	}
	size := protowire.SizeVarint(uint64(n))
	e.b = append(e.b, make([]byte, size-1)...)
	copy(e.b[start-1+size:], e.b[start:start+n])
	protowire.AppendVarint(e.b[:start-1], uint64(n))
}

// wireFields reads the fields of one message in turn:
//
//	for it := newWireFields(b); it.next(); {
//		switch it.num { case 1: x = it.str() … default: it.unknown() }
//	}
//	if it.err != nil { … }
//
// Every accessor checks the field's wire type; the first problem stops
// the loop and stays in err.
type wireFields struct {
	b   []byte
	num protowire.Number
	typ protowire.Type
	v   uint64
	p   []byte
	err error
	// in names the message, for errors.
	in string
}

func newWireFields(in string, b []byte) wireFields { return wireFields{in: in, b: b} }

func (it *wireFields) next() bool {
	if it.err != nil || len(it.b) == 0 {
		return false
	}
	num, typ, n := protowire.ConsumeTag(it.b)
	if n < 0 {
		it.err = fmt.Errorf("%s: %w", it.in, protowire.ParseError(n))
		return false
	}
	it.b = it.b[n:]
	it.num, it.typ = num, typ
	switch typ {
	case protowire.VarintType:
		it.v, n = protowire.ConsumeVarint(it.b)
	case protowire.BytesType:
		it.p, n = protowire.ConsumeBytes(it.b)
	default:
		it.err = fmt.Errorf("%s: field %d has wire type %d, which format 4 does not use", it.in, num, typ)
		return false
	}
	if n < 0 {
		it.err = fmt.Errorf("%s: field %d: %w", it.in, num, protowire.ParseError(n))
		return false
	}
	it.b = it.b[n:]
	return true
}

// count returns how many fields num the rest of the message holds, to
// size a repeated field's slice before decoding it; a damaged message
// counts what precedes the damage, which the decoding then reports.
func (it wireFields) count(num protowire.Number) int {
	n := 0
	for it.next() {
		if it.num == num {
			n++
		}
	}
	return n
}

func (it *wireFields) want(typ protowire.Type) bool {
	if it.err != nil {
		return false
	}
	if it.typ != typ {
		it.err = fmt.Errorf("%s: field %d has wire type %d, want %d", it.in, it.num, it.typ, typ)
		return false
	}
	return true
}

func (it *wireFields) unknown() {
	if it.err == nil {
		it.err = fmt.Errorf("%s: unknown field %d (written by a newer version of innonet?)", it.in, it.num)
	}
}

func (it *wireFields) str() string {
	if !it.want(protowire.BytesType) {
		return ""
	}
	return string(it.p)
}

// interned returns the field as a string shared with every equal one the
// table has seen: for values that repeat across rows (site codes, user
// IDs and names, actions), so that a restored state holds each once.
func (it *wireFields) interned(t *internTable) string {
	if !it.want(protowire.BytesType) {
		return ""
	}
	return t.get(it.p)
}

func (it *wireFields) bytes() []byte {
	if !it.want(protowire.BytesType) {
		return nil
	}
	return it.p
}

func (it *wireFields) int() int64 {
	if !it.want(protowire.VarintType) {
		return 0
	}
	return protowire.DecodeZigZag(it.v)
}

func (it *wireFields) uint() uint64 {
	if !it.want(protowire.VarintType) {
		return 0
	}
	return it.v
}

func (it *wireFields) bool() bool {
	if !it.want(protowire.VarintType) {
		return false
	}
	return it.v != 0
}

func (it *wireFields) time() time.Time {
	if it.err != nil {
		return time.Time{}
	}
	switch it.typ {
	case protowire.VarintType:
		return time.Unix(0, protowire.DecodeZigZag(it.v)).UTC()
	case protowire.BytesType:
		var sec, nsec int64
		for f := newWireFields(it.in+" time", it.p); f.next(); {
			switch f.num {
			case 1:
				sec = f.int()
			case 2:
				nsec = f.int()
			default:
				f.unknown()
			}
			if f.err != nil {
				it.err = f.err
				return time.Time{}
			}
		}
		return time.Unix(sec, nsec).UTC()
	}
	it.err = fmt.Errorf("%s: field %d has wire type %d, want a time", it.in, it.num, it.typ)
	return time.Time{}
}

// internTable shares the strings of a restore that repeat across rows.
// It holds at most internMax strings of at most internLen bytes, so a
// hostile snapshot cannot grow it without bound.
type internTable struct{ m map[string]string }

const (
	internMax = 1 << 16
	internLen = 48
)

func (t *internTable) get(p []byte) string {
	if len(p) == 0 {
		return ""
	}
	if len(p) > internLen {
		return string(p)
	}
	if s, ok := t.m[string(p)]; ok {
		return s
	}
	s := string(p)
	if t.m == nil {
		t.m = map[string]string{}
	}
	if len(t.m) < internMax {
		t.m[s] = s
	}
	return s
}
