package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// JSON output is the REST API's JSON: protojson with lowerCamelCase field
// names, enums by name, 64-bit integers as strings, every field present.
// protojson varies its whitespace on purpose, so the output is re-indented
// to be byte-stable.
var jsonOptions = protojson.MarshalOptions{EmitUnpopulated: true}

// marshalJSON returns m as compact JSON.
func marshalJSON(m proto.Message) (json.RawMessage, error) {
	b, err := jsonOptions.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encode %s as JSON: %w", m.ProtoReflect().Descriptor().Name(), err)
	}
	return b, nil
}

// printJSON writes m to w as one indented JSON document.
func printJSON(w io.Writer, m proto.Message) error {
	b, err := marshalJSON(m)
	if err != nil {
		return err
	}
	return writeIndented(w, b)
}

// printJSONFields writes one JSON object whose fields are the given
// messages, in order ({"lead": ..., "read": ...}); a nil message is null.
func printJSONFields(w io.Writer, fields ...jsonField) error {
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, f := range fields {
		if i > 0 {
			buf.WriteByte(',')
		}
		name, _ := json.Marshal(f.name)
		buf.Write(name)
		buf.WriteByte(':')
		if f.msg == nil || !f.msg.ProtoReflect().IsValid() {
			buf.WriteString("null")
			continue
		}
		b, err := marshalJSON(f.msg)
		if err != nil {
			return err
		}
		buf.Write(b)
	}
	buf.WriteByte('}')
	return writeIndented(w, buf.Bytes())
}

type jsonField struct {
	name string
	msg  proto.Message
}

func writeIndented(w io.Writer, b []byte) error {
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		return fmt.Errorf("indent JSON: %w", err)
	}
	out.WriteByte('\n')
	_, err := w.Write(out.Bytes())
	return err
}

// table writes aligned columns.
type table struct{ tw *tabwriter.Writer }

func newTable(w io.Writer, header ...string) *table {
	t := &table{tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)}
	if len(header) > 0 {
		fmt.Fprintln(t.tw, strings.Join(header, "\t"))
	}
	return t
}

// row adds a row; each cell is made safe for one line (see cell).
func (t *table) row(cells ...string) {
	for i := range cells {
		cells[i] = cell(cells[i])
	}
	fmt.Fprintln(t.tw, strings.Join(cells, "\t"))
}

func (t *table) flush() error { return t.tw.Flush() }

// cell makes free text safe for a table: control characters (tabs and
// newlines would break the columns) become spaces, and an empty cell is
// "-".
func cell(s string) string {
	if s = oneLine(s); s == "" {
		return "-"
	}
	return s
}

// oneLine replaces control characters and line separators with spaces.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, s)
}

// clipText shortens s to at most n characters, marking the cut.
func clipText(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// timeText prints a timestamp in UTC, or "" when it is unset.
func timeText(ts *timestamppb.Timestamp) string {
	if ts == nil {
		return ""
	}
	return ts.AsTime().UTC().Format(time.RFC3339)
}

// roundDuration keeps a duration short enough to read.
func roundDuration(d time.Duration) time.Duration {
	switch {
	case d >= time.Minute:
		return d.Round(time.Second)
	case d >= time.Second:
		return d.Round(100 * time.Millisecond)
	default:
		return d.Round(time.Millisecond)
	}
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// enum is a generated protobuf enum type.
type enum interface {
	~int32
	String() string
}

// enumText prints an enum value by name, "" for the zero value.
func enumText[E enum](v E) string {
	if v == 0 {
		return ""
	}
	return v.String()
}

// enumArg spells an enum value as on the command line: hq-reviewer.
func enumArg[E enum](v E) string {
	return strings.ToLower(strings.ReplaceAll(v.String(), "_", "-"))
}

// enumValue is a flag holding an enum value, given by name in any case
// with '-' or '_' (--role hq-reviewer, --stage APPROVED).
type enumValue[E enum] struct {
	p      *E
	values map[string]int32 // the generated NAME -> number map
}

func enumFlag[E enum](p *E, values map[string]int32) *enumValue[E] {
	return &enumValue[E]{p: p, values: values}
}

func (e *enumValue[E]) String() string {
	if e == nil || e.p == nil || *e.p == 0 {
		return ""
	}
	return enumArg(*e.p)
}

func (e *enumValue[E]) Set(s string) error {
	key := strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(s), "-", "_"))
	v, ok := e.values[key]
	if !ok || v == 0 {
		return fmt.Errorf("want one of %s", enumChoices(e.values))
	}
	*e.p = E(v)
	return nil
}

// enumChoices lists an enum's names, in number order, as flags take them.
func enumChoices(values map[string]int32) string {
	type kv struct {
		name string
		n    int32
	}
	var list []kv
	for k, v := range values {
		if v != 0 {
			list = append(list, kv{strings.ToLower(strings.ReplaceAll(k, "_", "-")), v})
		}
	}
	sort.Slice(list, func(i, j int) bool { return list[i].n < list[j].n })
	names := make([]string, len(list))
	for i, x := range list {
		names[i] = x.name
	}
	return strings.Join(names, ", ")
}
