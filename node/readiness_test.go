package node

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// healthCheck asks site n's gRPC health service about the whole server
// (service ""), with no token.
func healthCheck(tc *testCluster, n *Node) (healthpb.HealthCheckResponse_ServingStatus, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := healthpb.NewHealthClient(tc.conn(n)).Check(ctx, &healthpb.HealthCheckRequest{Service: ""})
	if err != nil {
		return healthpb.HealthCheckResponse_UNKNOWN, err
	}
	return resp.Status, nil
}

// probe waits until site n answers path with status want and a body
// containing bodyPart, and its gRPC health says serving.
func probe(t *testing.T, tc *testCluster, n *Node, path string, want int, bodyPart string, serving healthpb.HealthCheckResponse_ServingStatus) {
	t.Helper()
	eventually(t, 15*time.Second, fmt.Sprintf("%s %d and gRPC health %s on %s", path, want, serving, n.Site()), func() error {
		code, body, _ := rawGet(t, n, path, "")
		if code != want || !strings.Contains(string(body), bodyPart) {
			return fmt.Errorf("GET %s: got %d %q, want %d with %q", path, code, body, want, bodyPart)
		}
		st, err := healthCheck(tc, n)
		if err != nil {
			return fmt.Errorf("health check: %w", err)
		}
		if st != serving {
			return fmt.Errorf("health check: got %s, want %s", st, serving)
		}
		return nil
	})
}

func TestReadiness(t *testing.T) {
	tc := newTestCluster(t, testVoters, testNonVoters)
	leader := tc.leaderNode().Site()
	for _, id := range tc.order {
		t.Run("healthy cluster/"+id, func(t *testing.T) {
			n := tc.node(id)
			if code, body, _ := rawGet(t, n, "/healthz", ""); code != http.StatusOK {
				t.Errorf("GET /healthz: got %d %q, want 200", code, body)
			}
			probe(t, tc, n, "/readyz", http.StatusOK, "ok", healthpb.HealthCheckResponse_SERVING)
		})
	}

	// The leader survives with the read replica; the other two voters
	// crash, so the group has no quorum and, soon, no leader.
	var stopped []string
	for _, id := range testVoters {
		if id != leader {
			tc.stop(id)
			stopped = append(stopped, id)
		}
	}
	for _, id := range []string{leader, testNonVoters[0]} {
		t.Run("no quorum/"+id, func(t *testing.T) {
			n := tc.node(id)
			// Answered on the site itself: with no leader to forward to,
			// a NOT_SERVING answer (not an error) shows it was not
			// forwarded, and no token was needed.
			probe(t, tc, n, "/readyz", http.StatusServiceUnavailable, "no leader", healthpb.HealthCheckResponse_NOT_SERVING)
			if code, body, _ := rawGet(t, n, "/healthz", ""); code != http.StatusOK {
				t.Errorf("GET /healthz without a quorum: got %d %q, want 200 (the process is alive)", code, body)
			}
		})
	}

	tc.restart(stopped[0])
	for _, id := range []string{leader, testNonVoters[0], stopped[0]} {
		t.Run("quorum back/"+id, func(t *testing.T) {
			probe(t, tc, tc.node(id), "/readyz", http.StatusOK, "ok", healthpb.HealthCheckResponse_SERVING)
		})
	}
}
