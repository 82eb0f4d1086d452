package node

import (
	"net/http"
	"strings"
	"testing"

	innonetpb "innonet/proto/innonet/v1"
)

// TestPprof: with --pprof the runtime profiles answer an admin, and only
// an admin; without it there are none.
func TestPprof(t *testing.T) {
	tc := newTestCluster(t, []string{"CGO"}, nil, func(c *Config) { c.Pprof = true })
	n := tc.node("CGO")
	staff := tc.addUser("Emily Carter", innonetpb.Role_NODE_STAFF, "BOS", "")
	for _, tt := range []struct {
		name, path, token string
		want              int
	}{
		{"heap as admin", "/debug/pprof/heap?debug=1", testAdminToken, http.StatusOK},
		{"index as admin", "/debug/pprof/", testAdminToken, http.StatusOK},
		{"goroutines as staff", "/debug/pprof/goroutine?debug=1", staff, http.StatusForbidden},
		{"heap without a token", "/debug/pprof/heap", "", http.StatusUnauthorized},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, body, _ := rawGet(t, n, tt.path, tt.token)
			if code != tt.want {
				t.Fatalf("GET %s: got %d %.200s, want %d", tt.path, code, body, tt.want)
			}
			if code == http.StatusOK && tt.path == "/debug/pprof/heap?debug=1" && !strings.Contains(string(body), "heap profile") {
				t.Errorf("got %.200s, want a heap profile", body)
			}
		})
	}

	off := newTestCluster(t, []string{"BOS"}, nil)
	if code, body, _ := rawGet(t, off.node("BOS"), "/debug/pprof/heap", testAdminToken); code == http.StatusOK && strings.Contains(string(body), "heap profile") {
		t.Errorf("without Pprof: got a profile (%d)", code)
	}
}
