package node

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/grpc-ecosystem/grpc-gateway/v2/utilities"
	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"innonet/node/guard"
	innonetpb "innonet/proto/innonet/v1"
)

// REST query parameters. grpc-gateway's own parser ignores a parameter
// that names no field of the request (?since=, ?trl=5 would list every
// lead) and does not parse the query of a request whose body is the
// whole message. innonet refuses both:
//
//   - strictQuery (the gateway's query parameter parser) refuses a name
//     that is no field of the request, or one the path already gives, and
//     a field given twice that takes one value; it reads values as
//     restvalues.go does (an enum value in any case, with or without its
//     type's prefix: stage=submitted, sector=SECTOR_IT_AI; a date for a
//     time), and names the field and what it takes when a value does not
//     parse. Request bodies are read the same way (restbody.go).
//   - refuseQueryOnBody (a gateway middleware) refuses any query
//     parameter on a route whose body is the whole request message.

// strictQuery is innonet's runtime.QueryParameterParser.
type strictQuery struct{}

func (strictQuery) Parse(msg proto.Message, values url.Values, filter *utilities.DoubleArray) error {
	md := msg.ProtoReflect().Descriptor()
	clean := url.Values{}
	var unknown []string
	for _, key := range slices.Sorted(func(yield func(string) bool) {
		for k := range values {
			if !yield(k) {
				return
			}
		}
	}) {
		path, fd := queryField(md, key)
		if fd == nil {
			unknown = append(unknown, key)
			continue
		}
		if filter.HasCommonPrefix(path) {
			return fmt.Errorf("%s: is given in the path; leave it out of the query", key)
		}
		vs := values[key]
		if !fd.IsList() && len(vs) > 1 {
			return fmt.Errorf("%s: given %d times; it takes one value", key, len(vs))
		}
		out := make([]string, len(vs))
		for i, v := range vs {
			nv, err := queryValue(key, fd, v)
			if err != nil {
				return err
			}
			out[i] = nv
		}
		clean[key] = out
	}
	if len(unknown) > 0 {
		what := "unknown query parameter " + strconv.Quote(unknown[0])
		if len(unknown) > 1 {
			what = "unknown query parameters " + quoteAll(unknown)
		}
		return fmt.Errorf("%s; this request takes %s", what, strings.Join(queryNames(md, filter), ", "))
	}
	return (&runtime.DefaultQueryParser{}).Parse(msg, clean, filter)
}

// queryField resolves a query parameter name (a field's JSON or proto
// name; a dotted path into singular message fields) to its path of proto
// names and its field, or nil.
func queryField(md protoreflect.MessageDescriptor, key string) ([]string, protoreflect.FieldDescriptor) {
	var path []string
	var fd protoreflect.FieldDescriptor
	parts := strings.Split(key, ".")
	for i, name := range parts {
		fields := md.Fields()
		if fd = fields.ByTextName(name); fd == nil {
			fd = fields.ByJSONName(name)
		}
		if fd == nil {
			return nil, nil
		}
		path = append(path, string(fd.Name()))
		if i == len(parts)-1 {
			break
		}
		if fd.Message() == nil || fd.IsList() || fd.IsMap() || wellKnownScalar(fd.Message()) {
			return nil, nil
		}
		md = fd.Message()
	}
	if fd.IsMap() || fd.Message() != nil && !wellKnownScalar(fd.Message()) {
		return nil, nil // a query parameter sets a value, not a message
	}
	return path, fd
}

// wellKnownScalar reports whether a message type is written as one value
// in a query (a time, a duration).
func wellKnownScalar(md protoreflect.MessageDescriptor) bool {
	switch md.FullName() {
	case "google.protobuf.Timestamp", "google.protobuf.Duration":
		return true
	}
	return false
}

// queryNames lists the parameters a request takes, by JSON name.
func queryNames(md protoreflect.MessageDescriptor, filter *utilities.DoubleArray) []string {
	var out []string
	for i := 0; i < md.Fields().Len(); i++ {
		fd := md.Fields().Get(i)
		if filter.HasCommonPrefix([]string{string(fd.Name())}) || fd.IsMap() ||
			fd.Message() != nil && !wellKnownScalar(fd.Message()) {
			continue
		}
		out = append(out, fd.JSONName())
	}
	if len(out) == 0 {
		return []string{"no query parameters"}
	}
	return out
}

// queryValue checks one value of a field and writes it as the gateway's
// parser reads it.
func queryValue(key string, fd protoreflect.FieldDescriptor, v string) (string, error) {
	switch fd.Kind() {
	case protoreflect.EnumKind:
		return enumValue(key, fd.Enum(), v)
	case protoreflect.Int32Kind, protoreflect.Int64Kind, protoreflect.Sint32Kind, protoreflect.Sint64Kind,
		protoreflect.Sfixed32Kind, protoreflect.Sfixed64Kind:
		bits := 64
		if k := fd.Kind(); k == protoreflect.Int32Kind || k == protoreflect.Sint32Kind || k == protoreflect.Sfixed32Kind {
			bits = 32
		}
		if _, err := strconv.ParseInt(strings.TrimSpace(v), 10, bits); err != nil {
			return "", fmt.Errorf("%s: %q is not a whole number", key, clip(v))
		}
		return strings.TrimSpace(v), nil
	case protoreflect.Uint32Kind, protoreflect.Uint64Kind, protoreflect.Fixed32Kind, protoreflect.Fixed64Kind:
		if _, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64); err != nil {
			return "", fmt.Errorf("%s: %q is not a whole number of zero or more", key, clip(v))
		}
		return strings.TrimSpace(v), nil
	case protoreflect.BoolKind:
		if _, err := strconv.ParseBool(v); err != nil {
			return "", fmt.Errorf("%s: %q is not true or false", key, clip(v))
		}
	case protoreflect.MessageKind:
		switch fd.Message().FullName() {
		case "google.protobuf.Timestamp":
			return timeValue(key, v)
		case "google.protobuf.Duration":
			if _, err := time.ParseDuration(v); err != nil {
				return "", durationError(key, v)
			}
		}
	}
	return v, nil
}

func quoteAll(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = strconv.Quote(s)
	}
	return strings.Join(q, ", ")
}

// bodyRoutes are the REST routes (method and path pattern, as
// runtime.Pattern writes it) whose body is the whole request message,
// from the API's HTTP rules.
func bodyRoutes() map[string]bool {
	out := map[string]bool{}
	services := innonetpb.File_innonet_v1_innonet_proto.Services()
	for i := 0; i < services.Len(); i++ {
		methods := services.Get(i).Methods()
		for j := 0; j < methods.Len(); j++ {
			rule, ok := proto.GetExtension(methods.Get(j).Options(), annotations.E_Http).(*annotations.HttpRule)
			if !ok || rule == nil || rule.GetBody() != "*" {
				continue
			}
			var method, path string
			switch p := rule.GetPattern().(type) {
			case *annotations.HttpRule_Post:
				method, path = http.MethodPost, p.Post
			case *annotations.HttpRule_Put:
				method, path = http.MethodPut, p.Put
			case *annotations.HttpRule_Patch:
				method, path = http.MethodPatch, p.Patch
			case *annotations.HttpRule_Delete:
				method, path = http.MethodDelete, p.Delete
			case *annotations.HttpRule_Get:
				method, path = http.MethodGet, p.Get
			default:
				continue
			}
			out[method+" "+patternString(path)] = true
		}
	}
	return out
}

// patternString writes an HTTP rule's path as runtime.Pattern.String
// does: {id} is {id=*}.
func patternString(path string) string {
	var b strings.Builder
	for {
		open := strings.IndexByte(path, '{')
		if open < 0 {
			b.WriteString(path)
			return b.String()
		}
		end := strings.IndexByte(path[open:], '}')
		if end < 0 {
			b.WriteString(path)
			return b.String()
		}
		v := path[open+1 : open+end]
		if !strings.Contains(v, "=") {
			v += "=*"
		}
		b.WriteString(path[:open] + "{" + v + "}")
		path = path[open+end+1:]
	}
}

// refuseQueryOnBody is a gateway middleware that refuses query
// parameters on a route whose body is the whole request (the gateway
// would drop them unread).
func refuseQueryOnBody() runtime.Middleware {
	routes := bodyRoutes()
	return func(next runtime.HandlerFunc) runtime.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request, params map[string]string) {
			if r.URL.RawQuery != "" {
				if p, ok := runtime.HTTPPattern(r.Context()); ok && routes[r.Method+" "+p.String()] {
					keys := slices.Sorted(func(yield func(string) bool) {
						for k := range r.URL.Query() {
							if !yield(k) {
								return
							}
						}
					})
					guard.WriteError(w, http.StatusBadRequest, status.Newf(codes.InvalidArgument,
						"unknown query parameter %s: %s %s takes its fields in the JSON body, and no query parameters",
						quoteAll(keys), r.Method, clip(r.URL.Path)), 0)
					return
				}
			}
			next(w, r, params)
		}
	}
}
