package node

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"innonet/cluster"
)

// readyz answers 200 when the site can serve reads and forward writes: it
// knows a leader, is a member, and has applied all it knows to be
// committed. Otherwise 503 with the reason, so a load balancer or
// orchestrator keeps traffic away while the site catches up.
func (n *Node) readyz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if err := n.cluster.Ready(); err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintf(w, "not ready: %v\n", err)
		return
	}
	fmt.Fprintln(w, "ok")
}

// watchReadiness keeps the gRPC health service (grpc.health.v1) in step
// with readiness, and logs clearly when this site finds itself outside
// the configuration (removed while away), which it cannot fix alone.
func (n *Node) watchReadiness(ctx context.Context) {
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	var lastErr error
	everReady := false
	removedSince := time.Time{}
	for {
		err := n.cluster.Ready()
		st := healthpb.HealthCheckResponse_SERVING
		if err != nil {
			st = healthpb.HealthCheckResponse_NOT_SERVING
		}
		n.health.SetServingStatus("", st)
		if (err == nil) != (lastErr == nil) || !everReady && err == nil {
			switch {
			case err == nil:
				n.log.Info("site ready")
				everReady = true
			case everReady:
				n.log.Warn("site not ready", "reason", err)
			}
		}
		lastErr = err
		if errors.Is(err, cluster.ErrNotMember) {
			if removedSince.IsZero() {
				removedSince = time.Now()
			} else if time.Since(removedSince) > 10*time.Second && n.cfg.Join == "" {
				n.log.Error("this site is not a member of the cluster (it was removed, or never joined): restart it with --join <address of a member> to rejoin")
				removedSince = time.Now().Add(time.Minute) // repeat every ~70s
			}
		} else {
			removedSince = time.Time{}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
