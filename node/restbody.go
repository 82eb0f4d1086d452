package node

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/durationpb"
)

// REST request bodies. The gateway reads a JSON body with protojson,
// which takes an enum value only by its exact name (PARTNER_WITHDREW, not
// partner_withdrew), a duration only in seconds ("5400s") and answers a
// mistake in its parser's words (proto: (line 1:28): invalid value for
// enum field reason: "bogus"). A query parameter is read more kindly
// (restquery.go); restBodies reads a body the same way, before protojson
// sees it:
//
//   - an enum value is taken as restvalues.go reads one (any case, with
//     or without its type's prefix, or by number) and rewritten to its
//     name; one that names no value is refused naming the field by its
//     JSON name and path (sectors[1], rows[2].kind) and listing the valid
//     values;
//   - a time may be a date (2026-01-31, midnight UTC), a duration may be
//     written as Go writes it (90m, 2160h);
//   - a field the message does not have is refused naming it and the
//     fields the message takes (protojson refuses it too, less legibly),
//     as is a value of the wrong JSON type (text for a number, a number
//     for text).
//
// Everything else is protojson's: restBodies only rewrites values and
// refuses what protojson would refuse too, so a body protojson takes
// means the same (FuzzRESTBody checks it), but for an enum number its
// type does not have, which it refuses as the guard does over gRPC.
// Answers are written by the wrapped JSONPb unchanged.

// restBodies is the gateway's marshaler: m, reading request bodies as
// above.
type restBodies struct{ *runtime.JSONPb }

// bodyMarshaler wraps the gateway's JSON marshaler m.
func bodyMarshaler(m *runtime.JSONPb) runtime.Marshaler { return restBodies{m} }

// NewDecoder reads one JSON value from r, as JSONPb's decoder does; an
// empty body is io.EOF, which the gateway takes for an empty request.
func (m restBodies) NewDecoder(r io.Reader) runtime.Decoder {
	d := json.NewDecoder(r)
	return runtime.DecoderFunc(func(v any) error {
		var raw json.RawMessage
		if err := d.Decode(&raw); err != nil {
			if errors.Is(err, io.EOF) {
				return err
			}
			return notJSON(err)
		}
		return m.Unmarshal(raw, v)
	})
}

// Unmarshal reads data into v, a request message.
func (m restBodies) Unmarshal(data []byte, v any) error {
	msg, ok := v.(proto.Message)
	if !ok {
		return m.JSONPb.Unmarshal(data, v)
	}
	if !json.Valid(data) {
		return notJSON(json.Unmarshal(data, new(any)))
	}
	r := bodyReader{keepUnknown: m.DiscardUnknown}
	norm, err := r.message("", msg.ProtoReflect().Descriptor(), data)
	if err != nil {
		return err
	}
	if err := m.UnmarshalOptions.Unmarshal(norm, msg); err != nil {
		// protojson's position is in the rewritten body, if it was.
		return protojsonError(err, bytes.Equal(norm, data))
	}
	return nil
}

// notJSON is the error of a body that is not JSON.
func notJSON(err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("body: not JSON (at byte %d): %v", se.Offset, err)
	}
	return fmt.Errorf("body: not JSON: %v", err)
}

// protojsonMessage is how protojson words an error: proto: (line 1:28):
// invalid value for ..., or proto: syntax error (line 1:5): ...
var protojsonMessage = regexp.MustCompile(`^proto:\s*(syntax error )?\(line (\d+):(\d+)\):\s*(.*)$`)

// protojsonError words what protojson refused (a mistake bodyReader does
// not check: a field given twice, a number out of range) for people.
func protojsonError(err error, where bool) error {
	// protojson's messages vary their spaces on purpose, and may quote
	// the body.
	msg := strings.ToValidUTF8(strings.ReplaceAll(err.Error(), "\u00a0", " "), "\uFFFD")
	if m := protojsonMessage.FindStringSubmatch(msg); m != nil {
		if !where {
			return fmt.Errorf("body: %s", m[4])
		}
		return fmt.Errorf("body: %s (line %s, column %s)", m[4], m[2], m[3])
	}
	return fmt.Errorf("body: %s", strings.TrimSpace(strings.TrimPrefix(msg, "proto:")))
}

// bodyReader rewrites a JSON body for protojson, following the message
// descriptor.
type bodyReader struct {
	// keepUnknown leaves unknown fields to protojson (which discards
	// them) instead of refusing them.
	keepUnknown bool
}

// message rewrites raw, the JSON of a message of type md at path (empty
// for the body).
func (r bodyReader) message(path string, md protoreflect.MessageDescriptor, raw []byte) ([]byte, error) {
	if md.ParentFile().Package() == "google.protobuf" {
		return r.wellKnown(path, md, raw)
	}
	members, ok := jsonObject(raw)
	switch {
	case !ok && isNull(raw):
		return raw, nil // protojson's to take or refuse
	case !ok && path == "":
		return nil, fmt.Errorf("body: must be a JSON object, got %s", shownJSON(raw))
	case !ok:
		return nil, fmt.Errorf("%s: must be a JSON object, got %s", path, shownJSON(raw))
	}
	changed := false
	for i := range members {
		mb := &members[i]
		fd := md.Fields().ByJSONName(mb.key)
		if fd == nil {
			fd = md.Fields().ByTextName(mb.key)
		}
		if fd == nil {
			if r.keepUnknown {
				continue
			}
			return nil, unknownField(path, mb.key, md)
		}
		v, err := r.field(join(path, fd.JSONName()), fd, mb.value)
		if err != nil {
			return nil, err
		}
		if !bytes.Equal(v, mb.value) {
			mb.value, changed = v, true
		}
	}
	if !changed {
		return raw, nil
	}
	return writeObject(members), nil
}

// field rewrites the JSON of field fd (a list, a map or one value).
func (r bodyReader) field(path string, fd protoreflect.FieldDescriptor, raw []byte) ([]byte, error) {
	if isNull(raw) {
		return raw, nil // unset, for protojson
	}
	switch {
	case fd.IsMap():
		members, ok := jsonObject(raw)
		if !ok {
			return nil, fmt.Errorf("%s: must be a JSON object (a map), got %s", path, shownJSON(raw))
		}
		changed := false
		for i := range members {
			mb := &members[i]
			v, err := r.value(path+"."+clip(mb.key), fd.MapValue(), mb.value)
			if err != nil {
				return nil, err
			}
			if !bytes.Equal(v, mb.value) {
				mb.value, changed = v, true
			}
		}
		if !changed {
			return raw, nil
		}
		return writeObject(members), nil
	case fd.IsList():
		elems, ok := jsonArray(raw)
		if !ok {
			return nil, fmt.Errorf("%s: must be a JSON array (a list), got %s", path, shownJSON(raw))
		}
		changed := false
		for i, el := range elems {
			v, err := r.value(fmt.Sprintf("%s[%d]", path, i), fd, el)
			if err != nil {
				return nil, err
			}
			if !bytes.Equal(v, el) {
				elems[i], changed = v, true
			}
		}
		if !changed {
			return raw, nil
		}
		return writeArray(elems), nil
	}
	return r.value(path, fd, raw)
}

// value rewrites one value of field fd (an element of a list, a map's
// value, or the field's one value).
func (r bodyReader) value(path string, fd protoreflect.FieldDescriptor, raw []byte) ([]byte, error) {
	switch fd.Kind() {
	case protoreflect.EnumKind:
		return r.enum(path, fd.Enum(), raw)
	case protoreflect.MessageKind, protoreflect.GroupKind:
		return r.message(path, fd.Message(), raw)
	}
	return raw, checkScalar(path, fd.Kind(), raw)
}

// enum rewrites an enum value to its name.
func (r bodyReader) enum(path string, ed protoreflect.EnumDescriptor, raw []byte) ([]byte, error) {
	if ed.FullName() == "google.protobuf.NullValue" || isNull(raw) {
		return raw, nil
	}
	switch raw[0] {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, notJSON(err)
		}
		if ev := lookupEnum(ed, s); ev != nil {
			return strconv.AppendQuote(nil, string(ev.Name())), nil
		}
	default:
		if f, err := strconv.ParseFloat(string(raw), 64); err == nil && math.Trunc(f) == f && f >= math.MinInt32 && f <= math.MaxInt32 &&
			ed.Values().ByNumber(protoreflect.EnumNumber(f)) != nil {
			return raw, nil
		}
	}
	return nil, enumError(path, ed, shownJSON(raw))
}

// wellKnown rewrites a time given as a date and a duration given as Go
// writes it; the other well-known types are protojson's.
func (r bodyReader) wellKnown(path string, md protoreflect.MessageDescriptor, raw []byte) ([]byte, error) {
	name := md.FullName()
	if name != "google.protobuf.Timestamp" && name != "google.protobuf.Duration" || isNull(raw) {
		return raw, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		what := "a time, as text (2026-01-31T09:30:00Z)"
		if name == "google.protobuf.Duration" {
			what = `a duration, as text ("90s", "1h30m")`
		}
		return nil, fmt.Errorf("%s: must be %s, got %s", path, what, shownJSON(raw))
	}
	if name == "google.protobuf.Timestamp" {
		v, err := timeValue(path, s)
		if err != nil {
			return nil, err
		}
		return strconv.AppendQuote(nil, v), nil
	}
	if protojson.Unmarshal(raw, &durationpb.Duration{}) == nil {
		return raw, nil // protojson's own form, "5400s", whatever its size
	}
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return nil, durationError(path, s)
	}
	return protojson.Marshal(durationpb.New(d))
}

// checkScalar refuses a value of the wrong JSON type for a scalar field,
// which protojson refuses too: text for a number, a number for text. The
// finer points (a number's range, base64) are protojson's.
func checkScalar(path string, k protoreflect.Kind, raw []byte) error {
	if isNull(raw) {
		return nil
	}
	c := raw[0]
	text := c == '"'
	number := c == '-' || c >= '0' && c <= '9'
	switch k {
	case protoreflect.BoolKind:
		if c != 't' && c != 'f' {
			return fmt.Errorf("%s: must be true or false, got %s", path, shownJSON(raw))
		}
	case protoreflect.StringKind:
		if !text {
			return fmt.Errorf("%s: must be text, got %s", path, shownJSON(raw))
		}
	case protoreflect.BytesKind:
		if !text {
			return fmt.Errorf("%s: must be base64 text, got %s", path, shownJSON(raw))
		}
	case protoreflect.FloatKind, protoreflect.DoubleKind:
		if !number && !text || text && !numberText(raw, true) {
			return fmt.Errorf("%s: must be a number, got %s", path, shownJSON(raw))
		}
	default: // the integer kinds
		if !number && !text || text && !numberText(raw, false) || number && !wholeNumber(string(raw)) {
			return fmt.Errorf("%s: must be a whole number, got %s", path, shownJSON(raw))
		}
	}
	return nil
}

// numberText reports whether a JSON string may be a number protojson
// reads from text: a JSON number (or, for floats, NaN or ±Infinity).
func numberText(raw []byte, float bool) bool {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return false
	}
	if float && (s == "NaN" || s == "Infinity" || s == "-Infinity") {
		return true
	}
	if s == "" || s[0] != '-' && (s[0] < '0' || s[0] > '9') || !json.Valid([]byte(s)) {
		return false
	}
	return float || wholeNumber(s)
}

// wholeNumber reports whether the JSON number s may be a whole number:
// protojson takes 1e2 and 1.0 for 100 and 1, not 1.5.
func wholeNumber(s string) bool {
	if !strings.ContainsAny(s, ".eE") {
		return true
	}
	f, err := strconv.ParseFloat(s, 64)
	return err != nil || math.IsInf(f, 0) || math.Trunc(f) == f // out of range: protojson decides
}

// unknownField refuses key, which md has no field for.
func unknownField(path, key string, md protoreflect.MessageDescriptor) error {
	var names []string
	for i := 0; i < md.Fields().Len(); i++ {
		names = append(names, md.Fields().Get(i).JSONName())
	}
	what := "this request"
	if path != "" {
		what = path
	}
	takes := "no fields"
	if len(names) > 0 {
		takes = strings.Join(names, ", ")
	}
	return fmt.Errorf("unknown field %q; %s takes %s", join(path, clip(key)), what, takes)
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func isNull(raw []byte) bool { return string(raw) == "null" }

// shownJSON is a JSON value as an error shows it: text quoted, anything
// else as written, clipped.
func shownJSON(raw []byte) string {
	var s string
	if len(raw) > 0 && raw[0] == '"' && json.Unmarshal(raw, &s) == nil {
		return strconv.Quote(clip(s))
	}
	return strings.ToValidUTF8(clip(string(raw)), "\uFFFD")
}

// member is one member of a JSON object, in the order written (a key
// given twice stays twice, for protojson to refuse).
type member struct {
	key   string
	value json.RawMessage
}

// jsonObject splits raw, valid JSON, into its members; false if it is
// not an object.
func jsonObject(raw []byte) ([]member, bool) {
	d := json.NewDecoder(bytes.NewReader(raw))
	if t, err := d.Token(); err != nil || t != json.Delim('{') {
		return nil, false
	}
	var out []member
	for d.More() {
		t, err := d.Token()
		key, ok := t.(string)
		if err != nil || !ok {
			return nil, false
		}
		var v json.RawMessage
		if err := d.Decode(&v); err != nil {
			return nil, false
		}
		out = append(out, member{key, v})
	}
	return out, true
}

// jsonArray splits raw, valid JSON, into its elements; false if it is not
// an array.
func jsonArray(raw []byte) ([]json.RawMessage, bool) {
	d := json.NewDecoder(bytes.NewReader(raw))
	if t, err := d.Token(); err != nil || t != json.Delim('[') {
		return nil, false
	}
	out := []json.RawMessage{}
	for d.More() {
		var v json.RawMessage
		if err := d.Decode(&v); err != nil {
			return nil, false
		}
		out = append(out, v)
	}
	return out, true
}

func writeObject(members []member) []byte {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, m := range members {
		if i > 0 {
			b.WriteByte(',')
		}
		key, _ := json.Marshal(m.key)
		b.Write(key)
		b.WriteByte(':')
		b.Write(m.value)
	}
	b.WriteByte('}')
	return b.Bytes()
}

func writeArray(elems []json.RawMessage) []byte {
	var b bytes.Buffer
	b.WriteByte('[')
	for i, e := range elems {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(e)
	}
	b.WriteByte(']')
	return b.Bytes()
}
