package node

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
)

// Server-Sent Events for browsers: GET /v1/events with Accept:
// text/event-stream is the same stream (WatchEvents through the gateway),
// each message an event whose id is its cursor, so that a browser's
// EventSource resumes by itself after a reconnect (Last-Event-ID becomes
// afterIndex). A ": keep-alive" comment goes out with every progress
// message.

// sse serves GET /v1/events as Server-Sent Events when asked for them.
func (n *Node) sse(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || r.URL.Path != "/v1/events" || r.Header.Get("Accept") != "text/event-stream" {
			next.ServeHTTP(w, r)
			return
		}
		in := r.Clone(r.Context())
		q := in.URL.Query()
		if id := r.Header.Get("Last-Event-ID"); id != "" && !q.Has("afterIndex") {
			if _, err := strconv.ParseUint(id, 10, 64); err == nil {
				q.Set("afterIndex", id)
			}
		}
		in.URL.RawQuery = q.Encode()
		in.Header.Set("Accept", "application/json")
		sw := &sseWriter{w: w, header: http.Header{}}
		next.ServeHTTP(sw, in)
		sw.flushLine()
	})
}

// sseWriter turns the gateway's newline-delimited JSON into events.
type sseWriter struct {
	w       http.ResponseWriter
	header  http.Header
	started bool
	status  int
	buf     bytes.Buffer
}

func (s *sseWriter) Header() http.Header { return s.header }

func (s *sseWriter) WriteHeader(code int) { s.status = code }

func (s *sseWriter) start() {
	if s.started {
		return
	}
	s.started = true
	if s.status != 0 && s.status != http.StatusOK {
		// An error before the stream: pass it on as it is.
		for k, v := range s.header {
			s.w.Header()[k] = v
		}
		s.w.WriteHeader(s.status)
		return
	}
	h := s.w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	s.w.WriteHeader(http.StatusOK)
}

func (s *sseWriter) Write(b []byte) (int, error) {
	s.start()
	if s.status != 0 && s.status != http.StatusOK {
		return s.w.Write(b)
	}
	s.buf.Write(b)
	for {
		line, err := s.buf.ReadBytes('\n')
		if err != nil {
			// Not a whole line yet: keep it for the next write.
			rest := append([]byte(nil), line...)
			s.buf.Reset()
			s.buf.Write(rest)
			break
		}
		s.event(bytes.TrimSpace(line))
	}
	return len(b), nil
}

func (s *sseWriter) flushLine() {
	if s.buf.Len() > 0 {
		s.event(bytes.TrimSpace(s.buf.Bytes()))
		s.buf.Reset()
	}
	s.start()
}

// event writes one line of the gateway's as an event.
func (s *sseWriter) event(line []byte) {
	if len(line) == 0 {
		return
	}
	var m struct {
		Result *struct {
			Event  json.RawMessage `json:"event"`
			Cursor string          `json:"cursor"`
		} `json:"result"`
		Error json.RawMessage `json:"error"`
	}
	var out bytes.Buffer
	switch err := json.Unmarshal(line, &m); {
	case err != nil || m.Error != nil:
		out.WriteString("event: error\ndata: ")
		out.Write(line)
		out.WriteString("\n\n")
	case m.Result != nil && len(m.Result.Event) > 0 && string(m.Result.Event) != "null":
		out.WriteString("id: " + m.Result.Cursor + "\nevent: lead\ndata: ")
		out.Write(line)
		out.WriteString("\n\n")
	default:
		out.WriteString(": keep-alive\nid: ")
		if m.Result != nil {
			out.WriteString(m.Result.Cursor)
		}
		out.WriteString("\nevent: progress\ndata: ")
		out.Write(line)
		out.WriteString("\n\n")
	}
	_, _ = s.w.Write(out.Bytes())
	if f, ok := s.w.(http.Flusher); ok {
		f.Flush()
	}
}

// Flush passes the gateway's flushes on.
func (s *sseWriter) Flush() {
	s.start()
	if f, ok := s.w.(http.Flusher); ok {
		f.Flush()
	}
}
