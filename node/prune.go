package node

import (
	"context"
	"time"

	"innonet/node/pipeline"
)

// DefaultRequestIDRetention is how long a cluster remembers the request
// IDs it applied, unless Config.RequestIDRetention says otherwise.
const DefaultRequestIDRetention = 7 * 24 * time.Hour

// pruneLoop is the leader's part of request retention (see the pipeline's
// requests.go): while this site leads a cluster of log format 2 or later,
// it proposes prune_requests, with the window, whenever the oldest request
// the state remembers is older than the window. Every site runs the loop;
// only the leader proposes. Apply computes the horizon from the command's
// time, so every site forgets the same requests at the same entry.
func (n *Node) pruneLoop(ctx context.Context) {
	retention := n.cfg.RequestIDRetention
	// Records outlive the window by at most one interval.
	t := time.NewTicker(min(max(retention/24, time.Second), time.Hour))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		n.prune(ctx, retention)
	}
}

// prune forgets the requests from before the window, in as many commands
// as it takes, if this site leads.
func (n *Node) prune(ctx context.Context, retention time.Duration) {
	for ctx.Err() == nil {
		if !n.cluster.IsLeader() || n.state.Format() < pipeline.Format2 {
			return
		}
		oldest, ok := n.state.OldestRequest()
		if !ok || !oldest.Before(time.Now().Add(-retention)) {
			return
		}
		res, err := n.propose(ctx, pipeline.Command{Op: pipeline.OpPruneRequests, Retention: retention})
		if err != nil {
			n.log.Warn("could not forget old request IDs; retrying later", "err", err)
			return
		}
		if res.Pruned > 0 {
			n.log.Info("forgot request IDs older than the retention window", "requests", res.Pruned, "retention", retention)
		}
		if !res.PruneAgain {
			return
		}
	}
}
