package guard

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// TestUpload: a body far over MaxBodyBytes and not UTF-8 passes within
// the upload's own limit; one over that limit is 413, whether it says so
// in its Content-Length or not, and is logged as oversized; a head that
// is not UTF-8 is refused as by HTTP.
func TestUpload(t *testing.T) {
	dir := t.TempDir()
	lim := DefaultLimits()
	lim.MaxBodyBytes = 1 << 10
	g, err := New(Config{Logger: quiet, Site: "BOS", DataDir: dir, Limits: lim}, testSite{})
	if err != nil {
		t.Fatal(err)
	}
	const max = 64 << 10
	srv := httptest.NewServer(g.Upload(max, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, err := io.Copy(io.Discard, r.Body)
		if errors.Is(err, ErrBodyTooLarge) {
			WriteError(w, http.StatusRequestEntityTooLarge, status.New(codes.ResourceExhausted, "too large"), 0)
			return
		}
		if err != nil {
			t.Errorf("read the body: %v", err)
		}
		_, _ = w.Write([]byte(strings.Repeat("x", int(n%10))))
	})))
	t.Cleanup(srv.Close)
	file := bytes.Repeat([]byte{0xff, 0xfe, 0x00}, max/3)
	post := func(body io.Reader, length int64, path string) int {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, srv.URL+path, body)
		if err != nil {
			t.Fatal(err)
		}
		req.ContentLength = length
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := post(bytes.NewReader(file), int64(len(file)), "/v1/leads/BOS-0001/attachments"); got != http.StatusOK {
		t.Errorf("a file within the limit: %d, want 200", got)
	}
	over := append(file, make([]byte, max-len(file)+1)...)
	if got := post(bytes.NewReader(over), int64(len(over)), "/up"); got != http.StatusRequestEntityTooLarge {
		t.Errorf("over the limit by Content-Length: %d, want 413", got)
	}
	// A body of unknown length: the limit holds as it arrives.
	if got := post(io.MultiReader(bytes.NewReader(over)), -1, "/up"); got != http.StatusRequestEntityTooLarge {
		t.Errorf("over the limit, chunked: %d, want 413", got)
	}
	if got := post(strings.NewReader("x"), 1, "/up/%FF"); got != http.StatusBadRequest {
		t.Errorf("a path that is not UTF-8: %d, want 400", got)
	}
	raw, err := os.ReadFile(filepath.Join(dir, LogName))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(raw), `"kind":"oversized"`); n != 2 {
		t.Errorf("got %d oversized events, want 2:\n%s", n, raw)
	}
}

// TestUploadStalls: a body that stops arriving is cut off after
// BodyReadTimeout, however long the upload as a whole may take.
func TestUploadStalls(t *testing.T) {
	lim := DefaultLimits()
	lim.BodyReadTimeout = 200 * time.Millisecond
	g, err := New(Config{Logger: quiet, Site: "BOS", Limits: lim}, testSite{})
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan error, 1)
	srv := httptest.NewServer(g.Upload(1<<20, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := io.Copy(io.Discard, r.Body)
		got <- err
	})))
	t.Cleanup(srv.Close)
	pr, pw := io.Pipe()
	t.Cleanup(func() { pw.Close() })
	go func() {
		// Slow but steady: more than the timeout in all, never stalling.
		for range 5 {
			if _, err := pw.Write([]byte("chunk")); err != nil {
				return
			}
			time.Sleep(80 * time.Millisecond)
		}
		// Then nothing.
	}()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/up", pr)
	go func() {
		if resp, err := srv.Client().Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	select {
	case err := <-got:
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("the stalled body: %v, want a deadline error", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the stalled body was not cut off")
	}
}
