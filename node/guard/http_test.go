package guard

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestHTTPInvalidUTF8: a REST request with bytes that are not UTF-8 in
// its path, query, headers or body is refused with 400 in the gateway's
// error shape and logged; valid UTF-8 anywhere passes.
func TestHTTPInvalidUTF8(t *testing.T) {
	dir := t.TempDir()
	g, err := New(Config{Logger: quiet, Site: "BOS", DataDir: dir, Limits: DefaultLimits()}, testSite{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(g.HTTP(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = w.Write([]byte("ok"))
	})))
	t.Cleanup(srv.Close)
	tests := []struct {
		name, method, path, header, body string
		want                             int
		in                               string // the part named in the message
	}{
		{"valid everywhere", "POST", "/v1/leads/%C3%A9?q=%E4%B8%AD", "Grüße", `{"title":"Grüße"}`, http.StatusOK, ""},
		{"path", "GET", "/v1/leads/%FF%FE", "", "", http.StatusBadRequest, "path"},
		{"query value", "GET", "/v1/leads?pageToken=%FF", "", "", http.StatusBadRequest, "query parameter pageToken"},
		{"query name", "GET", "/v1/leads?%FF=1", "", "", http.StatusBadRequest, "query parameter name"},
		{"header", "GET", "/v1/leads", "bad \xff", "", http.StatusBadRequest, "header X-Note"},
		{"body", "POST", "/v1/leads", "", `{"title":"bad ` + "\xff\xfe" + `"}`, http.StatusBadRequest, "request body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body io.Reader
			if tt.body != "" {
				body = strings.NewReader(tt.body)
			}
			req, err := http.NewRequest(tt.method, srv.URL+tt.path, body)
			if err != nil {
				t.Fatal(err)
			}
			if tt.header != "" {
				req.Header.Set("X-Note", tt.header)
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			raw, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.want {
				t.Fatalf("got %d %s, want %d", resp.StatusCode, raw, tt.want)
			}
			if tt.want == http.StatusOK {
				return
			}
			var st struct {
				Code    int    `json:"code"`
				Message string `json:"message"`
			}
			if err := json.Unmarshal(raw, &st); err != nil || st.Code != 3 || st.Message != tt.in+": not valid UTF-8" {
				t.Errorf("got body %s (%v), want code 3 and the message %q", raw, err, tt.in+": not valid UTF-8")
			}
		})
	}
	raw, err := os.ReadFile(filepath.Join(dir, LogName))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(raw), `"kind":"malformed"`); n != len(tests)-1 {
		t.Errorf("got %d malformed events, want %d:\n%s", n, len(tests)-1, raw)
	}
}
