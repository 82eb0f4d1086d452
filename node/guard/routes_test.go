package guard

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
)

// TestRoutes: a method a gateway path does not take is answered with 405
// and the methods it does take, a path no route has with 404.
func TestRoutes(t *testing.T) {
	register := func(mux *runtime.ServeMux) error {
		ok := func(w http.ResponseWriter, _ *http.Request, _ map[string]string) { _, _ = w.Write([]byte("ok")) }
		for _, r := range []struct{ method, path string }{
			{"GET", "/v1/things"}, {"POST", "/v1/things"},
			{"GET", "/v1/things/{id}"}, {"PATCH", "/v1/things/{id}"},
			{"POST", "/v1/things/{id}:archive"},
		} {
			if err := mux.HandlePath(r.method, r.path, ok); err != nil {
				return err
			}
		}
		return nil
	}
	routes, err := NewRoutes(register)
	if err != nil {
		t.Fatal(err)
	}
	gw := runtime.NewServeMux(runtime.WithRoutingErrorHandler(routes.HandleRoutingError))
	if err := register(gw); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })
	mux.Handle("/healthz", MethodNotAllowed(http.MethodGet, http.MethodHead))
	mux.Handle("/", gw)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	for _, tt := range []struct {
		method, path string
		want         int
		allow        string
	}{
		{"GET", "/v1/things/T-1", http.StatusOK, ""},
		{"DELETE", "/v1/things/T-1", http.StatusMethodNotAllowed, "GET, PATCH"},
		{"PUT", "/v1/things", http.StatusMethodNotAllowed, "GET, POST"},
		{"POST", "/v1/things/T-1:archive", http.StatusOK, ""},
		{"GET", "/v1/nothing", http.StatusNotFound, ""},
		{"POST", "/healthz", http.StatusMethodNotAllowed, "GET, HEAD"},
		{"HEAD", "/healthz", http.StatusOK, ""},
	} {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, srv.URL+tt.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.want || resp.Header.Get("Allow") != tt.allow {
				t.Fatalf("got %d, Allow %q, %s; want %d, Allow %q", resp.StatusCode, resp.Header.Get("Allow"), body, tt.want, tt.allow)
			}
			if tt.want == http.StatusMethodNotAllowed && !strings.Contains(string(body), "not allowed on "+tt.path) {
				t.Errorf("got body %s, want the method and path named", body)
			}
		})
	}
}
