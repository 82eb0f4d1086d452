package cluster

import (
	"context"
	"fmt"
	"time"
)

// LinearizableRead returns once this site may answer a read that reflects
// every write acknowledged before the call: it must lead, it must have
// committed an entry in its own term (so its commit index covers every
// earlier leader's entries), a quorum must confirm it still leads, and it
// must have applied up to the commit index it saw at the start. This is
// Raft's ReadIndex (Raft thesis, section 6.4); only the first read of a
// term pays for a barrier through the log.
func (c *Cluster) LinearizableRead(ctx context.Context) error {
	if !c.IsLeader() {
		return c.notLeader()
	}
	term := c.raft.CurrentTerm()
	if c.barrierTerm.Load() != term {
		if err := c.raft.Barrier(c.cfg.ApplyTimeout).Error(); err != nil {
			return fmt.Errorf("linearizable read: barrier: %w", c.mapErr(err))
		}
		c.barrierTerm.Store(term)
	}
	readIndex := c.raft.CommitIndex()
	if err := c.raft.VerifyLeader().Error(); err != nil {
		return fmt.Errorf("linearizable read: verify leadership: %w", c.mapErr(err))
	}
	if c.raft.CurrentTerm() != term {
		return c.notLeader()
	}
	return c.waitApplied(ctx, readIndex)
}

// waitApplied waits until this site has applied index.
func (c *Cluster) waitApplied(ctx context.Context, index uint64) error {
	if c.raft.AppliedIndex() >= index {
		return nil
	}
	t := time.NewTicker(time.Millisecond)
	defer t.Stop()
	for c.raft.AppliedIndex() < index {
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for index %d to apply: %w", index, ctx.Err())
		case <-c.done:
			return ErrShutdown
		case <-t.C:
		}
	}
	return nil
}
