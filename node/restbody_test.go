package node

import (
	"errors"
	"io"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	innonetpb "innonet/proto/innonet/v1"
)

// testBodies is the marshaler as serve.go configures it.
func testBodies() runtime.Marshaler {
	return bodyMarshaler(&runtime.JSONPb{
		MarshalOptions:   protojson.MarshalOptions{EmitUnpopulated: true},
		UnmarshalOptions: protojson.UnmarshalOptions{DiscardUnknown: false},
	})
}

// bodyShapes is a message of every shape a body can take that innonet's
// own requests do not all have: an enum in a map, in a oneof, in a nested
// message and its list, a map of messages, and the well-known types.
var bodyShapes = func() protoreflect.MessageDescriptor {
	fdp := &descriptorpb.FileDescriptorProto{}
	if err := prototext.Unmarshal([]byte(`
		name: "shapes.proto" package: "shapes" syntax: "proto3"
		dependency: ["google/protobuf/timestamp.proto", "google/protobuf/duration.proto", "google/protobuf/struct.proto", "innonet/v1/innonet.proto"]
		message_type {
			name: "Shapes"
			field { name: "stage" number: 1 label: LABEL_OPTIONAL type: TYPE_ENUM type_name: ".innonet.v1.Stage" json_name: "stage" }
			field { name: "by_label" number: 2 label: LABEL_REPEATED type: TYPE_MESSAGE type_name: ".shapes.Shapes.ByLabelEntry" json_name: "byLabel" }
			field { name: "sector" number: 3 label: LABEL_OPTIONAL type: TYPE_ENUM type_name: ".innonet.v1.Sector" oneof_index: 0 json_name: "sector" }
			field { name: "note" number: 4 label: LABEL_OPTIONAL type: TYPE_STRING oneof_index: 0 json_name: "note" }
			field { name: "inner" number: 5 label: LABEL_OPTIONAL type: TYPE_MESSAGE type_name: ".shapes.Shapes" json_name: "inner" }
			field { name: "inners" number: 6 label: LABEL_REPEATED type: TYPE_MESSAGE type_name: ".shapes.Shapes" json_name: "inners" }
			field { name: "named" number: 7 label: LABEL_REPEATED type: TYPE_MESSAGE type_name: ".shapes.Shapes.NamedEntry" json_name: "named" }
			field { name: "at" number: 8 label: LABEL_OPTIONAL type: TYPE_MESSAGE type_name: ".google.protobuf.Timestamp" json_name: "at" }
			field { name: "ttl" number: 9 label: LABEL_OPTIONAL type: TYPE_MESSAGE type_name: ".google.protobuf.Duration" json_name: "ttl" }
			field { name: "extra" number: 10 label: LABEL_OPTIONAL type: TYPE_MESSAGE type_name: ".google.protobuf.Struct" json_name: "extra" }
			field { name: "stages" number: 11 label: LABEL_REPEATED type: TYPE_ENUM type_name: ".innonet.v1.Stage" json_name: "stages" }
			field { name: "count" number: 12 label: LABEL_OPTIONAL type: TYPE_UINT64 json_name: "count" }
			field { name: "ratio" number: 13 label: LABEL_OPTIONAL type: TYPE_DOUBLE json_name: "ratio" }
			field { name: "on" number: 14 label: LABEL_OPTIONAL type: TYPE_BOOL json_name: "on" }
			field { name: "blob" number: 15 label: LABEL_OPTIONAL type: TYPE_BYTES json_name: "blob" }
			field { name: "any_value" number: 16 label: LABEL_OPTIONAL type: TYPE_MESSAGE type_name: ".google.protobuf.Value" json_name: "anyValue" }
			nested_type {
				name: "ByLabelEntry" options { map_entry: true }
				field { name: "key" number: 1 label: LABEL_OPTIONAL type: TYPE_STRING json_name: "key" }
				field { name: "value" number: 2 label: LABEL_OPTIONAL type: TYPE_ENUM type_name: ".innonet.v1.DealType" json_name: "value" }
			}
			nested_type {
				name: "NamedEntry" options { map_entry: true }
				field { name: "key" number: 1 label: LABEL_OPTIONAL type: TYPE_INT32 json_name: "key" }
				field { name: "value" number: 2 label: LABEL_OPTIONAL type: TYPE_MESSAGE type_name: ".shapes.Shapes" json_name: "value" }
			}
			oneof_decl { name: "choice" }
		}`), fdp); err != nil {
		panic(err)
	}
	fd, err := protodesc.NewFile(fdp, protoregistry.GlobalFiles)
	if err != nil {
		panic(err)
	}
	return fd.Messages().Get(0)
}()

func TestRESTBodies(t *testing.T) {
	ts := func(s string) *timestamppb.Timestamp {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return timestamppb.New(v)
	}
	for _, tt := range []struct {
		name string
		body string
		into proto.Message
		want proto.Message // nil: refused
		errs []string
	}{
		{"an enum by its name", `{"reason":"PARTNER_WITHDREW"}`, &innonetpb.CloseLeadRequest{},
			&innonetpb.CloseLeadRequest{Reason: innonetpb.CloseLeadRequest_PARTNER_WITHDREW}, nil},
		{"in lower case", `{"reason":"partner_withdrew","visibility":"shared"}`, &innonetpb.CloseLeadRequest{},
			&innonetpb.CloseLeadRequest{Reason: innonetpb.CloseLeadRequest_PARTNER_WITHDREW, Visibility: innonetpb.Comment_SHARED}, nil},
		{"with its prefix, dashes", `{"reason":"Reason_Terms-Not-Agreed"}`, &innonetpb.CloseLeadRequest{},
			&innonetpb.CloseLeadRequest{Reason: innonetpb.CloseLeadRequest_TERMS_NOT_AGREED}, nil},
		{"by number, as text too", `{"reason":4,"visibility":"1"}`, &innonetpb.CloseLeadRequest{},
			&innonetpb.CloseLeadRequest{Reason: innonetpb.CloseLeadRequest_PROJECT_STOPPED, Visibility: innonetpb.Comment_SHARED}, nil},
		{"the zero value, as answers write it", `{"reason":"REASON_UNSPECIFIED"}`, &innonetpb.CloseLeadRequest{},
			&innonetpb.CloseLeadRequest{}, nil},
		{"proto names of fields", `{"request_id":"r1","deal_type":"investment","trl":5}`, &innonetpb.SubmitLeadRequest{},
			&innonetpb.SubmitLeadRequest{RequestId: "r1", DealType: innonetpb.DealType_INVESTMENT, Trl: 5}, nil},
		{"an unknown enum value", `{"reason":"bogus"}`, &innonetpb.CloseLeadRequest{}, nil,
			[]string{`reason: "bogus" is not a close reason; valid values: PARTNER_WITHDREW, TERMS_NOT_AGREED, WENT_TO_ANOTHER_REGION, PROJECT_STOPPED, DUPLICATE, OTHER (any case, with or without the REASON_ prefix)`}},
		{"an unknown number", `{"reason":42}`, &innonetpb.CloseLeadRequest{}, nil, []string{"reason: 42 is not a close reason", "PARTNER_WITHDREW"}},
		{"the wrong JSON type for an enum", `{"visibility":true}`, &innonetpb.AddCommentRequest{}, nil,
			[]string{"visibility: true is not a comment visibility; valid values: SHARED, HQ_AND_SITE, DIVISION"}},
		{"an enum of another message", `{"kind":"castle"}`, &innonetpb.CreateOrganizationRequest{}, nil,
			[]string{`kind: "castle" is not an organization kind`, "STARTUP"}},
		{"repeated enums", `{"sectors":["it_ai","SECTOR_NEW_MATERIALS"],"dealTypes":["relocation"]}`, &innonetpb.UpdateDivisionProfileRequest{},
			&innonetpb.UpdateDivisionProfileRequest{Sectors: []innonetpb.Sector{innonetpb.Sector_IT_AI, innonetpb.Sector_NEW_MATERIALS},
				DealTypes: []innonetpb.DealType{innonetpb.DealType_RELOCATION}}, nil},
		{"a repeated enum's bad value", `{"sectors":["it_ai","robots"]}`, &innonetpb.UpdateDivisionProfileRequest{}, nil,
			[]string{`sectors[1]: "robots" is not a sector`, "LIFE_SCIENCES_HEALTH"}},
		{"not a list", `{"sectors":"it_ai"}`, &innonetpb.UpdateDivisionProfileRequest{}, nil, []string{"sectors: must be a JSON array"}},
		{"an unknown field", `{"requestId":"x1","code":"MUC-X3","level":2}`, &innonetpb.CreateSiteRequest{}, nil,
			[]string{`unknown field "level"; this request takes requestId, code, parent, name, kind`}},
		{"an unknown field, nested", `{"rows":[{"scope":"SITE"},{"scope":"SITE","bonus":1}]}`, &innonetpb.UpdateTargetsRequest{}, nil,
			[]string{`unknown field "rows[1].bonus"; rows[1] takes scope, code, pushed`}},
		{"a duration as Go writes it", `{"tokenTtl":"2160h"}`, &innonetpb.CreateUserRequest{},
			&innonetpb.CreateUserRequest{TokenTtl: durationpb.New(2160 * time.Hour)}, nil},
		{"a duration as protojson writes it", `{"tokenTtl":"1.5s"}`, &innonetpb.CreateUserRequest{},
			&innonetpb.CreateUserRequest{TokenTtl: durationpb.New(1500 * time.Millisecond)}, nil},
		{"not a duration", `{"tokenTtl":"soon"}`, &innonetpb.CreateUserRequest{}, nil, []string{`tokenTtl: "soon" is not a duration`}},
		{"a duration as a number", `{"tokenTtl":60}`, &innonetpb.CreateUserRequest{}, nil, []string{"tokenTtl: must be a duration, as text"}},
		{"a date for a time", `{"submittedAfter":"2026-01-31","updatedAfter":"2026-02-01T09:30:00+01:00"}`, &innonetpb.ListLeadsRequest{},
			&innonetpb.ListLeadsRequest{SubmittedAfter: ts("2026-01-31T00:00:00Z"), UpdatedAfter: ts("2026-02-01T08:30:00Z")}, nil},
		{"not a time", `{"submittedAfter":"yesterday"}`, &innonetpb.ListLeadsRequest{}, nil, []string{`submittedAfter: "yesterday" is not a time`, "2026-01-31"}},
		{"text for a number", `{"trl":"five"}`, &innonetpb.SubmitLeadRequest{}, nil, []string{`trl: must be a whole number, got "five"`}},
		{"a fraction for a whole number", `{"trl":5.5}`, &innonetpb.SubmitLeadRequest{}, nil, []string{"trl: must be a whole number, got 5.5"}},
		{"a number as text", `{"trl":"5"}`, &innonetpb.SubmitLeadRequest{}, &innonetpb.SubmitLeadRequest{Trl: 5}, nil},
		{"a number for text", `{"title":5}`, &innonetpb.SubmitLeadRequest{}, nil, []string{"title: must be text, got 5"}},
		{"text for a message", `{"contacts":["Dr. Lee"]}`, &innonetpb.SubmitLeadRequest{}, nil, []string{`contacts[0]: must be a JSON object, got "Dr. Lee"`}},
		{"not an object", `["x"]`, &innonetpb.SubmitLeadRequest{}, nil, []string{`body: must be a JSON object, got ["x"]`}},
		{"a field twice (protojson's)", `{"title":"a","title":"b"}`, &innonetpb.SubmitLeadRequest{}, nil, []string{"body: ", "title"}},
		{"null is unset", `{"reason":null,"comment":null}`, &innonetpb.CloseLeadRequest{}, &innonetpb.CloseLeadRequest{}, nil},
		{"not JSON", `{"reason":`, &innonetpb.CloseLeadRequest{}, nil, []string{"body: not JSON"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := testBodies().NewDecoder(strings.NewReader(tt.body)).Decode(tt.into)
			if tt.want == nil {
				if err == nil {
					t.Fatalf("%s: taken as %v, want refused", tt.body, tt.into)
				}
				for _, w := range tt.errs {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("%s: error %q lacks %q", tt.body, err, w)
					}
				}
				if strings.Contains(err.Error(), "proto:") {
					t.Errorf("%s: error %q in protojson's words", tt.body, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("%s: %v", tt.body, err)
			}
			if !proto.Equal(tt.into, tt.want) {
				t.Errorf("%s: got %v, want %v", tt.body, tt.into, tt.want)
			}
		})
	}
}

// TestRESTBodyShapes: enums are read in every place a message may hold
// them, and a mistake is named by its path.
func TestRESTBodyShapes(t *testing.T) {
	body := `{"stage":"approved","byLabel":{"a":"investment","b":"DEAL_TYPE_RELOCATION"},"sector":"it_ai",
		"inner":{"stage":"signed","inners":[{"stages":["lost","merged"]}]},
		"named":{"7":{"stage":"landed","byLabel":{"z":"joint_venture"}}},
		"at":"2026-01-31","ttl":"90m","extra":{"stage":"whatever","n":[1,"x"]},"anyValue":"bogus","count":"18446744073709551615"}`
	got := dynamicpb.NewMessage(bodyShapes)
	if err := testBodies().NewDecoder(strings.NewReader(body)).Decode(got); err != nil {
		t.Fatal(err)
	}
	want := dynamicpb.NewMessage(bodyShapes)
	canonical := `{"stage":"APPROVED","byLabel":{"a":"INVESTMENT","b":"RELOCATION"},"sector":"IT_AI",
		"inner":{"stage":"SIGNED","inners":[{"stages":["LOST","MERGED"]}]},
		"named":{"7":{"stage":"LANDED","byLabel":{"z":"JOINT_VENTURE"}}},
		"at":"2026-01-31T00:00:00Z","ttl":"5400s","extra":{"stage":"whatever","n":[1,"x"]},"anyValue":"bogus","count":"18446744073709551615"}`
	if err := protojson.Unmarshal([]byte(canonical), want); err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(got, want) {
		t.Errorf("got %v\nwant %v", got, want)
	}
	for _, tt := range []struct{ body, want string }{
		{`{"byLabel":{"a":"buyout"}}`, `byLabel.a: "buyout" is not a deal type`},
		{`{"sector":"robots"}`, `sector: "robots" is not a sector`},
		{`{"inner":{"inners":[{},{"stages":["lost","closed"]}]}}`, `inner.inners[1].stages[1]: "closed" is not a stage`},
		{`{"named":{"7":{"byLabel":{"z":7}}}}`, `named.7.byLabel.z: 7 is not a deal type`},
		{`{"named":{"7":{"colour":"red"}}}`, `unknown field "named.7.colour"; named.7 takes stage, byLabel`},
		{`{"byLabel":["investment"]}`, "byLabel: must be a JSON object (a map)"},
		{`{"on":"yes"}`, `on: must be true or false, got "yes"`},
		{`{"ratio":"half"}`, `ratio: must be a number, got "half"`},
		{`{"blob":[1]}`, "blob: must be base64 text"},
		{`{"sector":"it_ai","note":"x"}`, "body: "}, // protojson refuses two members of a oneof
	} {
		err := testBodies().NewDecoder(strings.NewReader(tt.body)).Decode(dynamicpb.NewMessage(bodyShapes))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want an error with %q", tt.body, err, tt.want)
		}
	}
}

// TestRESTBodyEmpty: an empty body is io.EOF, which the gateway takes for
// an empty request, as JSONPb's decoder answers.
func TestRESTBodyEmpty(t *testing.T) {
	for _, body := range []string{"", " \n"} {
		if err := testBodies().NewDecoder(strings.NewReader(body)).Decode(&innonetpb.CloseLeadRequest{}); !errors.Is(err, io.EOF) {
			t.Errorf("%q: %v, want io.EOF", body, err)
		}
	}
}

// FuzzRESTBody: no body makes the reader panic, and a body protojson
// takes is taken to the same message (unless it names an enum value by a
// number the enum does not have, which restBodies refuses).
func FuzzRESTBody(f *testing.F) {
	for _, s := range []string{
		`{"reason":"partner_withdrew","comment":"x","visibility":2}`,
		`{"stage":"approved","byLabel":{"a":"investment"},"inner":{"inners":[{"stages":["lost"]}]},"named":{"7":{}}}`,
		`{"at":"2026-01-31T09:30:00.5+02:00","ttl":"-1.5s","extra":{"a":[null,true]},"anyValue":null}`,
		`{"count":"1e3","ratio":"NaN","on":false,"blob":"AAE=","note":"\u00e9"}`,
		`{"count":1.0,"ratio":-0,"sector":null,"stages":[1,"2",null]}`,
		`{"title":"a","title":"b"}`, `[]`, `null`, `"x"`, `{"inner":[]}`,
		`{"reason":{"a":"重型卡车储氢罐重型卡车储氢罐重型卡车储氢罐"}}`, "{\"reason\":[\"\xff\xfe\"]}",
	} {
		f.Add(uint8(0), []byte(s))
	}
	types := []protoreflect.MessageDescriptor{
		bodyShapes,
		(&innonetpb.CloseLeadRequest{}).ProtoReflect().Descriptor(),
		(&innonetpb.SubmitLeadRequest{}).ProtoReflect().Descriptor(),
		(&innonetpb.UpdateTargetsRequest{}).ProtoReflect().Descriptor(),
	}
	bodies := testBodies()
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		md := types[int(which)%len(types)]
		ours := dynamicpb.NewMessage(md)
		err := bodies.Unmarshal(body, ours)
		if err != nil && !utf8.ValidString(err.Error()) {
			t.Fatalf("%q: the error is not UTF-8: %q", body, err)
		}
		theirs := dynamicpb.NewMessage(md)
		if protojson.Unmarshal(body, theirs) != nil || hasUnknownEnum(theirs) {
			return
		}
		if err != nil {
			t.Fatalf("%s: refused (%v), protojson takes it", body, err)
		}
		if !proto.Equal(ours, theirs) {
			t.Fatalf("%s: read as %v, protojson reads %v", body, ours, theirs)
		}
	})
}

// hasUnknownEnum reports whether m holds an enum number its enum does not
// name.
func hasUnknownEnum(m protoreflect.Message) bool {
	unknown := false
	check := func(fd protoreflect.FieldDescriptor, v protoreflect.Value) {
		switch {
		case fd.Enum() != nil:
			unknown = unknown || fd.Enum().Values().ByNumber(v.Enum()) == nil
		case fd.Message() != nil:
			unknown = unknown || hasUnknownEnum(v.Message())
		}
	}
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsList():
			for i := 0; i < v.List().Len(); i++ {
				check(fd, v.List().Get(i))
			}
		case fd.IsMap():
			v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
				check(fd.MapValue(), mv)
				return true
			})
		default:
			check(fd, v)
		}
		return !unknown
	})
	return unknown
}
