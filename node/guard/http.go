package guard

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
)

// HTTP guards every request that is not gRPC (REST, backup download,
// health, metrics): a blocked client is refused before anything is
// read, a request that is not valid UTF-8 (path, query, headers, body)
// is refused with 400, the answer must be written within WriteTimeout,
// and a body must arrive within BodyReadTimeout and MaxBodyBytes. The
// body is read here, whole, because the gateway answers a body it cannot
// read with 400, and a client that sent too much should see 413.
func (g *Guard) HTTP(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		_ = rc.SetWriteDeadline(time.Now().Add(g.lim.WriteTimeout))
		addr, method, ok := g.admitHTTP(w, r)
		if !ok {
			return
		}
		if !g.readBody(w, r, rc, addr, method) {
			return
		}
		next.ServeHTTP(retryAfterWriter{w}, r)
	})
}

// admitHTTP refuses a blocked client and a request head that is not
// valid UTF-8, or returns the client's address and the request line.
func (g *Guard) admitHTTP(w http.ResponseWriter, r *http.Request) (addr, method string, ok bool) {
	// The client's address is the connection's (the site takes the
	// entry the gateway appends). A client's own X-Forwarded-For is
	// never used, and one the gateway cannot pass on (not ASCII) would
	// make it drop the header, address and all.
	r.Header.Del("X-Forwarded-For")
	addr = httpClientAddr(r)
	method = clipMethod(r.Method + " " + r.URL.Path)
	token := httpToken(r)
	if rf := g.refusal(addr, token); rf.wait > 0 {
		g.record(Record{Kind: Throttled, Method: method, Client: addr,
			Code: codes.ResourceExhausted.String(), Reason: rf.reason, token: token})
		writeRefusal(w, r, http.StatusTooManyRequests, status.New(codes.ResourceExhausted, rf.message), rf.wait)
		return "", "", false
	}
	if what := invalidUTF8(r); what != "" {
		g.malformedHTTP(w, method, addr, token, what)
		return "", "", false
	}
	return addr, method, true
}

// invalidUTF8 names the part of r's head that is not valid UTF-8, or "".
// Such bytes would reach a string field of a request message, which gRPC
// cannot marshal (the gateway would answer 500), or be dropped.
func invalidUTF8(r *http.Request) string {
	if !utf8.ValidString(r.URL.Path) || !utf8.ValidString(r.URL.RawPath) {
		return "path"
	}
	if !utf8.ValidString(r.URL.RawQuery) {
		return "query"
	}
	q, _ := url.ParseQuery(r.URL.RawQuery) // the gateway answers a malformed query itself
	for k, vs := range q {
		if !utf8.ValidString(k) {
			return "query parameter name"
		}
		for _, v := range vs {
			if !utf8.ValidString(v) {
				return "query parameter " + clip(k)
			}
		}
	}
	for k, vs := range r.Header {
		for _, v := range vs {
			if !utf8.ValidString(v) {
				return "header " + clip(k)
			}
		}
	}
	return ""
}

// malformedHTTP refuses a request that is not valid UTF-8.
func (g *Guard) malformedHTTP(w http.ResponseWriter, method, addr, token, what string) {
	msg := what + ": not valid UTF-8"
	g.record(Record{Kind: Malformed, Method: method, Client: addr,
		Code: codes.InvalidArgument.String(), Reason: msg, token: token})
	WriteError(w, http.StatusBadRequest, status.New(codes.InvalidArgument, msg), 0)
}

// readBody replaces r.Body with the body read in full, or answers the
// request and returns false.
func (g *Guard) readBody(w http.ResponseWriter, r *http.Request, rc *http.ResponseController, addr, method string) bool {
	if r.Body == nil || r.Body == http.NoBody {
		return true
	}
	limit := g.lim.MaxBodyBytes
	tooLarge := func() bool {
		g.record(Record{Kind: Oversized, Method: method, Client: addr,
			Code: codes.ResourceExhausted.String(), Reason: fmt.Sprintf("request body over %d bytes", limit)})
		writeRefusal(w, r, http.StatusRequestEntityTooLarge,
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
		g.record(Record{Kind: SlowClient, Method: method, Client: addr,
			Code: codes.DeadlineExceeded.String(), Reason: fmt.Sprintf("request body not received within %s", g.lim.BodyReadTimeout)})
		WriteError(w, http.StatusRequestTimeout,
			status.Newf(codes.DeadlineExceeded, "request body not received within %s", g.lim.BodyReadTimeout), 0)
		return false
	case err != nil:
		WriteError(w, http.StatusBadRequest, status.Newf(codes.InvalidArgument, "read request body: %v", err), 0)
		return false
	}
	_ = rc.SetReadDeadline(time.Time{})
	if !utf8.Valid(body) {
		g.malformedHTTP(w, method, addr, httpToken(r), "request body")
		return false
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	return true
}

// Authenticating guards an HTTP handler that authenticates on its own
// rather than through the gRPC API (the backup download, metrics): the
// token's rate limit before, the security log and the failure count
// after (denied is what a 403 from next means, for the log), and a write
// deadline that moves with every write, so a large download may take as
// long as it needs but may not stall.
func (g *Guard) Authenticating(denied string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := httpAuthContext(r)
		c := caller{method: clipMethod(r.Method + " " + r.URL.Path), addr: httpClientAddr(r), token: httpToken(r)}
		if c.token != "" {
			if wait := g.tokenWait(c.tokenHash()); wait > 0 {
				g.record(Record{Kind: RateLimited, Method: c.method, Client: c.addr,
					Code: codes.ResourceExhausted.String(), Reason: "token over its rate limit", token: c.token})
				WriteError(w, http.StatusTooManyRequests, status.New(codes.ResourceExhausted, g.rateLimitedMessage(wait)), wait)
				return
			}
		}
		sw := &stallWriter{ResponseWriter: w, rc: http.NewResponseController(w), stall: g.lim.BackupStallTimeout}
		next.ServeHTTP(sw, r)
		switch sw.code {
		case http.StatusUnauthorized:
			g.outcome(ctx, c, status.Error(codes.Unauthenticated, "unauthenticated"))
		case http.StatusForbidden:
			g.outcome(ctx, c, status.Error(codes.PermissionDenied, denied))
		}
	})
}

// stallWriter moves the write deadline forward as a response is written.
type stallWriter struct {
	http.ResponseWriter
	rc    *http.ResponseController
	stall time.Duration
	code  int
	next  time.Time // when to move the deadline again
}

func (w *stallWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *stallWriter) Write(p []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	if now := time.Now(); now.After(w.next) {
		_ = w.rc.SetWriteDeadline(now.Add(w.stall))
		w.next = now.Add(w.stall / 10)
	}
	return w.ResponseWriter.Write(p)
}

func (w *stallWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// httpAuthContext carries an HTTP request's Authorization header as gRPC
// metadata, for Bearer.
func httpAuthContext(r *http.Request) context.Context {
	return metadata.NewIncomingContext(r.Context(), metadata.Pairs("authorization", r.Header.Get("Authorization")))
}

// httpToken is an HTTP request's bearer token, or "".
func httpToken(r *http.Request) string {
	tok, err := Bearer(httpAuthContext(r))
	if err != nil {
		return ""
	}
	return tok
}

// httpClientAddr is the IP address of an HTTP client, as the gateway
// passes it on in X-Forwarded-For.
func httpClientAddr(r *http.Request) string {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

// WriteError answers in the gateway's error shape (a google.rpc.Status
// as JSON), so REST clients parse every error the same way; a retry
// above 0 is sent as Retry-After.
func WriteError(w http.ResponseWriter, code int, st *status.Status, retry time.Duration) {
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

// writeRefusal answers a refusal in the REST error shape, or, to a
// browser on a page of the web console (not /v1/, asking for HTML), as a
// short page in both of the console's languages: the guard refuses
// before the console (which knows the user's language) sees the request.
func writeRefusal(w http.ResponseWriter, r *http.Request, code int, st *status.Status, retry time.Duration) {
	if strings.HasPrefix(r.URL.Path, "/v1/") || !strings.Contains(r.Header.Get("Accept"), "text/html") {
		WriteError(w, code, st, retry)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'")
	if retry > 0 {
		h.Set("Retry-After", strconv.Itoa(retrySeconds(retry)))
	}
	w.WriteHeader(code)
	zh, en := "请求被拒绝", "Refused"
	switch code {
	case http.StatusTooManyRequests:
		zh, en = fmt.Sprintf("尝试次数过多，请在 %d 秒后重试。", retrySeconds(retry)), fmt.Sprintf("Too many attempts. Try again in %d s.", retrySeconds(retry))
	case http.StatusRequestEntityTooLarge:
		zh, en = "提交的内容过大。", "What you sent is too large."
	}
	_, _ = fmt.Fprintf(w, `<!doctype html><html><head><meta charset="utf-8"><title>innonet</title></head><body style="font-family:sans-serif;max-width:40rem;margin:3rem auto">`+
		`<h1 lang="zh-CN">%s</h1><h1 lang="en">%s</h1><p>%s</p><p><a href="/">innonet</a></p></body></html>`,
		html.EscapeString(zh), html.EscapeString(en), html.EscapeString(st.Message()))
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
