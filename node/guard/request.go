package guard

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// requestCodec is gRPC's protobuf codec, except that a request that does
// not parse (invalid UTF-8 in a string, broken wire format) reaches the
// guard, which refuses it with INVALID_ARGUMENT: gRPC itself answers
// INTERNAL, as if the fault were the server's. The parse error waits in
// the guard's undecodable, keyed by the message, until the guard takes
// it, which it does for every message before anything else (unary and
// stream).
type requestCodec struct {
	encoding.CodecV2
	g *Guard
}

func (c requestCodec) Unmarshal(data mem.BufferSlice, v any) error {
	if err := c.CodecV2.Unmarshal(data, v); err != nil {
		c.g.undecodable.Store(v, err)
	}
	return nil
}

// takeDecodeError returns the parse error of a request message, if any.
func (g *Guard) takeDecodeError(req any) error {
	if err, ok := g.undecodable.LoadAndDelete(req); ok {
		return err.(error)
	}
	return nil
}

// checkRequest refuses a request that did not parse or that carries an
// enum number its type does not define. The pipeline checks every field
// again before a command reaches the log; this check answers at the
// site that took the request, without forwarding it, and covers every
// enum of every request, present and future, the same way.
func (g *Guard) checkRequest(c caller, req any, decodeErr error) error {
	if decodeErr != nil {
		g.record(Record{Kind: Malformed, Method: c.method, Client: c.addr,
			Code: codes.InvalidArgument.String(), Reason: decodeErr.Error(), token: c.token})
		return status.Errorf(codes.InvalidArgument, "request does not parse: %v", decodeErr)
	}
	m, ok := req.(proto.Message)
	if !ok {
		return nil
	}
	return checkEnums(m.ProtoReflect(), "")
}

// checkEnums checks the enum fields of m and of the messages within it.
func checkEnums(m protoreflect.Message, prefix string) error {
	var err error
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		name := prefix + string(fd.Name())
		switch {
		case fd.IsMap():
			// The API has no maps of enums or messages.
		case fd.IsList():
			l := v.List()
			for i := 0; i < l.Len() && err == nil; i++ {
				err = checkEnumValue(fd, l.Get(i), fmt.Sprintf("%s[%d]", name, i))
			}
		default:
			err = checkEnumValue(fd, v, name)
		}
		return err == nil
	})
	return err
}

func checkEnumValue(fd protoreflect.FieldDescriptor, v protoreflect.Value, name string) error {
	switch fd.Kind() {
	case protoreflect.EnumKind:
		ed := fd.Enum()
		if ed.Values().ByNumber(v.Enum()) == nil {
			return status.Errorf(codes.InvalidArgument, "%s: unknown %s %d (want one of %s)", name, ed.Name(), v.Enum(), enumNames(ed))
		}
	case protoreflect.MessageKind, protoreflect.GroupKind:
		return checkEnums(v.Message(), name+".")
	}
	return nil
}

// enumNames lists the values of an enum a caller may name.
func enumNames(ed protoreflect.EnumDescriptor) string {
	var names []string
	for i := 0; i < ed.Values().Len(); i++ {
		if v := ed.Values().Get(i); v.Number() != 0 {
			names = append(names, string(v.Name()))
		}
	}
	return strings.Join(names, ", ")
}

// checkMetadata refuses request metadata that is not valid UTF-8: gRPC
// passes such bytes on to the handlers, and a site that forwards them
// fails to send them (INTERNAL). Binary metadata (-bin) is exempt.
// The stats handler checks it as a gRPC request arrives; a request it did
// not see (an HTTP handler's) is checked here.
func checkMetadata(ctx context.Context) error {
	if rg := requestFrom(ctx); rg != nil && rg.headers {
		return rg.badMetadata
	}
	md, _ := metadata.FromIncomingContext(ctx)
	return validMetadata(md)
}

// validMetadata is checkMetadata's test of the metadata md.
func validMetadata(md metadata.MD) error {
	for k, vs := range md {
		if strings.HasSuffix(k, "-bin") {
			continue
		}
		for _, v := range vs {
			if !utf8.ValidString(v) {
				return status.Errorf(codes.InvalidArgument, "metadata %s: not valid UTF-8", clip(k))
			}
		}
	}
	return nil
}

// clip bounds caller input quoted in an answer and keeps it valid UTF-8,
// which a gRPC status message must be.
func clip(s string) string {
	if len(s) > 100 {
		n := 100
		for n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		s = s[:n] + "..."
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}
