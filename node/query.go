package node

import (
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strings"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/grpc-ecosystem/grpc-gateway/v2/utilities"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// strictQuery is the gateway's query parser: grpc-gateway's, except that
// a parameter the request does not have is refused (400, naming it and
// the ones the request takes) instead of silently ignored, so that a
// filter a user tries and the API lacks cannot pass for one that matched
// everything.
type strictQuery struct{ runtime.DefaultQueryParser }

// mapKey is grpc-gateway's syntax for a map entry, field[key].
var mapKey = regexp.MustCompile(`^(.*)\[(.*)\]$`)

func (q *strictQuery) Parse(msg proto.Message, values url.Values, filter *utilities.DoubleArray) error {
	for key := range values {
		name := key
		if m := mapKey.FindStringSubmatch(key); len(m) == 3 {
			name = m[1]
		}
		if path, ok := queryField(msg.ProtoReflect().Descriptor(), name); !ok && !filter.HasCommonPrefix(path) {
			return fmt.Errorf("unknown query parameter %q: this request takes %s", clip(key), queryFields(msg.ProtoReflect().Descriptor()))
		}
	}
	return q.DefaultQueryParser.Parse(msg, values, filter)
}

// queryField resolves a dotted query parameter (by proto or JSON names)
// to its field path, and reports whether every part names a field.
func queryField(md protoreflect.MessageDescriptor, name string) ([]string, bool) {
	parts := strings.Split(name, ".")
	var path []string
	for i, part := range parts {
		if md == nil {
			return parts, false
		}
		fd := md.Fields().ByTextName(part)
		if fd == nil {
			fd = md.Fields().ByJSONName(part)
		}
		if fd == nil {
			return parts, false
		}
		path = append(path, string(fd.Name()))
		if i < len(parts)-1 {
			md = fd.Message()
		}
	}
	return path, true
}

// queryFields lists the parameters a request takes, in their JSON names.
func queryFields(md protoreflect.MessageDescriptor) string {
	var names []string
	for i := 0; i < md.Fields().Len(); i++ {
		names = append(names, md.Fields().Get(i).JSONName())
	}
	sort.Strings(names)
	if len(names) == 0 {
		return "no parameters"
	}
	return strings.Join(names, ", ")
}
