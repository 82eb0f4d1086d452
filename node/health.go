package node

import (
	"fmt"
	"net/http"
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
