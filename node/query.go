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

// strictQuery is the gateway's query parser, except that a parameter the
// request message has no field for is refused (400, naming it and the
// parameters the path takes) instead of ignored: a filter that is not
// applied must not look as if it were.
type strictQuery struct{ runtime.DefaultQueryParser }

// The gateway keeps its query parser in a variable of its package, for
// every mux of the process: set it once, before any site serves.
func init() { runtime.NewServeMux(runtime.SetQueryParameterParser(&strictQuery{})) }

// mapKey strips a map key from a parameter name, as the gateway reads
// "labels[key]".
var mapKey = regexp.MustCompile(`^(.*)\[(.*)\]$`)

func (p *strictQuery) Parse(msg proto.Message, values url.Values, filter *utilities.DoubleArray) error {
	desc := msg.ProtoReflect().Descriptor()
	for key := range values {
		name := key
		if m := mapKey.FindStringSubmatch(key); m != nil {
			name = m[1]
		}
		if !knownQueryPath(desc, strings.Split(name, ".")) {
			return fmt.Errorf("unknown query parameter %q; this request takes %s", clip(key), queryNames(desc, filter))
		}
	}
	return p.DefaultQueryParser.Parse(msg, values, filter)
}

// knownQueryPath reports whether path names a field of desc, by proto or
// JSON name, through singular message fields.
func knownQueryPath(desc protoreflect.MessageDescriptor, path []string) bool {
	for i, part := range path {
		fd := desc.Fields().ByName(protoreflect.Name(part))
		if fd == nil {
			fd = desc.Fields().ByJSONName(part)
		}
		if fd == nil {
			return false
		}
		if i == len(path)-1 {
			return true
		}
		if fd.Message() == nil || fd.IsList() || fd.IsMap() {
			return false
		}
		desc = fd.Message()
	}
	return false
}

// queryNames lists the parameters a request takes in the query: its
// fields by JSON name, without those the path sets.
func queryNames(desc protoreflect.MessageDescriptor, filter *utilities.DoubleArray) string {
	var names []string
	for i := 0; i < desc.Fields().Len(); i++ {
		fd := desc.Fields().Get(i)
		if filter != nil && filter.HasCommonPrefix([]string{string(fd.Name())}) {
			continue
		}
		names = append(names, fd.JSONName())
	}
	sort.Strings(names)
	if len(names) == 0 {
		return "no parameters"
	}
	return strings.Join(names, ", ")
}
