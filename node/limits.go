package node

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/encoding"
	protoenc "google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Limits bound what one client may ask of a site: the size of what it
// sends, how slowly it may send it, how often it may fail to
// authenticate and how fast one token may call. Zero fields take the
// values of DefaultLimits.
type Limits struct {
	// MaxRecvMsgSize bounds one gRPC request message. The largest valid
	// request, a lead with every field at its limit (a 5000-character
	// summary, 20 tags, 10 contacts), is under 100 KiB even in 4-byte
	// characters, so 1 MiB leaves ten times that while no client can make
	// the site hold more than 1 MiB per request.
	MaxRecvMsgSize int
	// MaxSendMsgSize bounds one gRPC response: a page of 500 leads at
	// their largest is under 40 MiB. Responses are bounded by page sizes
	// already; this is the backstop.
	MaxSendMsgSize int
	// MaxBodyBytes bounds a REST request body, answered with 413 beyond.
	// JSON that spells every character as an escape is at most a few
	// times the protobuf size, so it matches MaxRecvMsgSize.
	MaxBodyBytes int64
	// MaxHeaderBytes bounds the request line and headers (431 beyond).
	MaxHeaderBytes int
	// ReadHeaderTimeout is how long a client may take to send the
	// headers of a request, which cuts off slow-loris clients.
	ReadHeaderTimeout time.Duration
	// BodyReadTimeout is how long a REST client may take to send a body.
	BodyReadTimeout time.Duration
	// WriteTimeout bounds a REST request from its headers to the end of
	// the answer (a write on a WAN may take ApplyTimeout plus
	// TransportTimeout before it is answered). The backup download is
	// bounded by BackupStallTimeout instead, and gRPC streams not at all:
	// there is no server-wide write timeout, which would cut backups.
	WriteTimeout time.Duration
	// BackupStallTimeout is the longest a backup download may stall.
	BackupStallTimeout time.Duration
	// IdleTimeout closes a keep-alive connection with no request.
	IdleTimeout time.Duration

	// AuthFailures failed authentications from one client address
	// within AuthWindow block the address for AuthCooldown; each block
	// that follows doubles the cool-down, up to AuthMaxCooldown.
	AuthFailures    int
	AuthWindow      time.Duration
	AuthCooldown    time.Duration
	AuthMaxCooldown time.Duration
	// TokenRate is how many requests per second one token may make, in
	// bursts of up to TokenBurst. A person or a script pushing leads needs
	// a few per second; 50 leaves room for a console that loads a page of
	// leads with their histories at once.
	TokenRate  float64
	TokenBurst int
	// MaxClients bounds the tables of client addresses and of tokens
	// (about 200 bytes an entry).
	MaxClients int
}

// DefaultLimits returns the limits a site applies unless told otherwise.
func DefaultLimits() Limits {
	return Limits{
		MaxRecvMsgSize:     1 << 20,
		MaxSendMsgSize:     64 << 20,
		MaxBodyBytes:       1 << 20,
		MaxHeaderBytes:     64 << 10,
		ReadHeaderTimeout:  10 * time.Second,
		BodyReadTimeout:    30 * time.Second,
		WriteTimeout:       2 * time.Minute,
		BackupStallTimeout: time.Minute,
		IdleTimeout:        2 * time.Minute,
		AuthFailures:       10,
		AuthWindow:         time.Minute,
		AuthCooldown:       time.Minute,
		AuthMaxCooldown:    15 * time.Minute,
		TokenRate:          50,
		TokenBurst:         100,
		MaxClients:         10000,
	}
}

// withDefaults fills the zero fields of l from DefaultLimits.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxRecvMsgSize <= 0 {
		l.MaxRecvMsgSize = d.MaxRecvMsgSize
	}
	if l.MaxSendMsgSize <= 0 {
		l.MaxSendMsgSize = d.MaxSendMsgSize
	}
	if l.MaxBodyBytes <= 0 {
		l.MaxBodyBytes = d.MaxBodyBytes
	}
	if l.MaxHeaderBytes <= 0 {
		l.MaxHeaderBytes = d.MaxHeaderBytes
	}
	for _, p := range []struct{ v, def *time.Duration }{
		{&l.ReadHeaderTimeout, &d.ReadHeaderTimeout}, {&l.BodyReadTimeout, &d.BodyReadTimeout},
		{&l.WriteTimeout, &d.WriteTimeout}, {&l.BackupStallTimeout, &d.BackupStallTimeout},
		{&l.IdleTimeout, &d.IdleTimeout}, {&l.AuthWindow, &d.AuthWindow},
		{&l.AuthCooldown, &d.AuthCooldown}, {&l.AuthMaxCooldown, &d.AuthMaxCooldown},
	} {
		if *p.v <= 0 {
			*p.v = *p.def
		}
	}
	if l.AuthFailures <= 0 {
		l.AuthFailures = d.AuthFailures
	}
	if l.TokenRate <= 0 {
		l.TokenRate = d.TokenRate
	}
	if l.TokenBurst <= 0 {
		l.TokenBurst = d.TokenBurst
	}
	if l.MaxClients <= 0 {
		l.MaxClients = d.MaxClients
	}
	return l
}

// limits are the site's limits: the configured ones, or without any
// siteLimits, with defaults for the zero fields.
func (n *Node) limits() Limits {
	if n.cfg.Limits == (Limits{}) {
		return siteLimits.withDefaults()
	}
	return n.cfg.Limits.withDefaults()
}

// siteLimits are the limits of every site New starts without
// Config.Limits. They are a package
// variable rather than a Config field so that tests in this package can
// lower them; New reads them once, when the site starts serving.
var siteLimits = DefaultLimits()

// serverOptions are the gRPC server's limits and the guard's hooks.
func (g *guard) serverOptions() []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.MaxRecvMsgSize(g.lim.MaxRecvMsgSize),
		grpc.MaxSendMsgSize(g.lim.MaxSendMsgSize),
		grpc.ForceServerCodecV2(requestCodec{encoding.GetCodecV2(protoenc.Name)}),
		grpc.StatsHandler(g),
	}
}

// requestCodec is gRPC's protobuf codec, except that a request that does
// not parse (invalid UTF-8 in a string, broken wire format) reaches the
// guard, which refuses it with INVALID_ARGUMENT: gRPC itself answers
// INTERNAL, as if the fault were the server's. The parse error waits in
// undecodable, keyed by the message, until the guard takes it, which it
// does for every message before anything else (unary and stream).
type requestCodec struct{ encoding.CodecV2 }

var undecodable sync.Map // message → error

func (c requestCodec) Unmarshal(data mem.BufferSlice, v any) error {
	if err := c.CodecV2.Unmarshal(data, v); err != nil {
		undecodable.Store(v, err)
	}
	return nil
}

// takeDecodeError returns the parse error of a request message, if any.
func takeDecodeError(req any) error {
	if err, ok := undecodable.LoadAndDelete(req); ok {
		return err.(error)
	}
	return nil
}

// checkRequest refuses a request that did not parse or that carries an
// enum number its type does not define. The pipeline checks every field
// again before a command reaches the log; this check answers at the
// site that took the request, without forwarding it, and covers every
// enum of every request, present and future, the same way.
func (g *guard) checkRequest(c caller, req any, decodeErr error) error {
	if decodeErr != nil {
		g.n.recordSecurity(securityRecord{Kind: secMalformed, Method: c.method, Client: c.addr,
			Code: codes.InvalidArgument.String(), Reason: decodeErr.Error(), tokenHash: c.tokenHash})
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

// limitHTTP guards every request that is not gRPC (REST, backup download,
// health, metrics): a blocked client address is refused before anything
// is read, the answer must be written within WriteTimeout, and a body
// must arrive within BodyReadTimeout and MaxBodyBytes. The body is read
// here, whole, because the gateway answers a body it cannot read with
// 400, and a client that sent too much should see 413.
func (g *guard) limitHTTP(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		_ = rc.SetWriteDeadline(time.Now().Add(g.lim.WriteTimeout))
		// The client's address is the connection's (clientAddr takes the
		// entry the gateway appends). A client's own X-Forwarded-For is
		// never used, and one the gateway cannot pass on (not ASCII) would
		// make it drop the header, address and all.
		r.Header.Del("X-Forwarded-For")
		addr := httpClientAddr(r)
		method := clipMethod(r.Method + " " + r.URL.Path)
		if wait := g.blocked(addr); wait > 0 {
			g.n.recordSecurity(securityRecord{Kind: secThrottled, Method: method, Client: addr,
				Code: codes.ResourceExhausted.String(), Reason: "address blocked after failed authentications", tokenHash: httpTokenHash(r)})
			writeHTTPError(w, http.StatusTooManyRequests, status.New(codes.ResourceExhausted, throttledMessage(addr, wait)), wait)
			return
		}
		if !g.readBody(w, r, rc, addr, method) {
			return
		}
		next.ServeHTTP(retryAfterWriter{w}, r)
	})
}

// readBody replaces r.Body with the body read in full, or answers the
// request and returns false.
func (g *guard) readBody(w http.ResponseWriter, r *http.Request, rc *http.ResponseController, addr, method string) bool {
	if r.Body == nil || r.Body == http.NoBody {
		return true
	}
	limit := g.lim.MaxBodyBytes
	tooLarge := func() bool {
		g.n.recordSecurity(securityRecord{Kind: secOversized, Method: method, Client: addr,
			Code: codes.ResourceExhausted.String(), Reason: fmt.Sprintf("request body over %d bytes", limit)})
		writeHTTPError(w, http.StatusRequestEntityTooLarge,
			status.Newf(codes.ResourceExhausted, "request body too large: the limit is %d bytes", limit), 0)
		return false
	}
	if r.ContentLength > limit {
		return tooLarge()
	}
	_ = rc.SetReadDeadline(time.Now().Add(g.lim.BodyReadTimeout))
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return tooLarge()
	case errors.Is(err, os.ErrDeadlineExceeded):
		// The deadline stays passed, so the server does not wait for the
		// rest of the body before it answers and closes the connection.
		w.Header().Set("Connection", "close")
		g.n.recordSecurity(securityRecord{Kind: secSlowClient, Method: method, Client: addr,
			Code: codes.DeadlineExceeded.String(), Reason: fmt.Sprintf("request body not received within %s", g.lim.BodyReadTimeout)})
		writeHTTPError(w, http.StatusRequestTimeout,
			status.Newf(codes.DeadlineExceeded, "request body not received within %s", g.lim.BodyReadTimeout), 0)
		return false
	case err != nil:
		writeHTTPError(w, http.StatusBadRequest, status.Newf(codes.InvalidArgument, "read request body: %v", err), 0)
		return false
	}
	_ = rc.SetReadDeadline(time.Time{})
	r.Body = io.NopCloser(bytes.NewReader(body))
	return true
}

// writeHTTPError answers in the gateway's error shape (a google.rpc.Status
// as JSON), so REST clients parse every error the same way.
func writeHTTPError(w http.ResponseWriter, code int, st *status.Status, retry time.Duration) {
	body, err := protojson.MarshalOptions{EmitUnpopulated: true}.Marshal(st.Proto())
	if err != nil {
		body = []byte(`{"code":13,"message":"internal error","details":[]}`)
	}
	w.Header().Set("Content-Type", "application/json")
	if retry > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(retrySeconds(retry)))
	}
	w.WriteHeader(code)
	_, _ = w.Write(body)
}

// retryAfterWriter gives a 429 from the gateway the standard Retry-After
// header, from the retry-after metadata the guard set.
type retryAfterWriter struct{ http.ResponseWriter }

func (w retryAfterWriter) WriteHeader(code int) {
	if code == http.StatusTooManyRequests {
		if v := w.Header().Get("Grpc-Metadata-Retry-After"); v != "" {
			w.Header().Set("Retry-After", v)
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

// Flush keeps the gateway's streaming answers working through the wrapper.
func (w retryAfterWriter) Flush() { _ = http.NewResponseController(w.ResponseWriter).Flush() }

func (w retryAfterWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// clipMethod bounds the request line quoted in the security log.
func clipMethod(s string) string {
	if len(s) > 100 {
		return s[:100] + "..."
	}
	return s
}
