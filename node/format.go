package node

import (
	"context"
	"time"

	"innonet/node/pipeline"
)

// raiseFormat is the leader's half of a rolling upgrade (see the pipeline's
// format.go): once every member reports that it reads a newer log format
// than the cluster's, the leader proposes set_format, and commands of that
// format are accepted from then on. It checks after each health round.
func (n *Node) raiseFormat(ctx context.Context) {
	interval := n.cfg.Cluster.HealthInterval
	if interval <= 0 {
		interval = 2 * time.Second
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		have := n.state.Format()
		if have >= pipeline.FormatVersion || !n.cluster.IsLeader() {
			continue
		}
		target := have
		for f := pipeline.FormatVersion; f > have; f-- {
			if ok, _, _ := n.cluster.MembersRead(f); ok {
				target = f
				break
			}
		}
		if target == have {
			continue
		}
		pctx, cancel := context.WithTimeout(ctx, n.cfg.Cluster.ApplyTimeout)
		_, err := n.propose(pctx, pipeline.Command{Op: pipeline.OpSetFormat, SetFormat: target})
		cancel()
		if err != nil {
			n.log.Warn("raise the cluster's log format", "to", target, "err", err)
			continue
		}
		n.log.Info("every site reads a newer log format: raised the cluster's", "from", have, "to", target)
	}
}
