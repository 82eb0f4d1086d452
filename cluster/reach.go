package cluster

import (
	"fmt"
	"time"
)

// Whether this site can reach a leader. A follower that stops hearing
// from the leader forgets it after a heartbeat timeout or two; an
// election normally names another within Config.LeaderWait. A site that
// has heard from no leader for longer than that is cut off: it is not
// waiting for an election, and callers are better told at once. The
// errors below carry what a caller (and an operator) needs to know: from
// which site, for how long, and which leader it knew last.

// NoLeaderError says that no leader is reachable from this site. It wraps
// ErrNoLeader.
type NoLeaderError struct {
	// Site is this site.
	Site string
	// For is how long this site has gone without hearing from a leader
	// (or leading itself).
	For time.Duration
	// LastLeader is the last leader this site knew, possibly itself; ""
	// when it has known none since it started.
	LastLeader string
	// Wait is Config.LeaderWait; CutOff is For > Wait.
	Wait   time.Duration
	CutOff bool
}

func (e *NoLeaderError) Error() string {
	msg := fmt.Sprintf("no leader reachable from %s for %s", e.Site, roundWait(e.For))
	switch e.LastLeader {
	case "":
		msg += "; no leader known since this site started"
	case e.Site:
		msg += "; last leader " + e.Site + " (this site, which stepped down)"
	default:
		msg += "; last leader " + e.LastLeader
	}
	if e.CutOff {
		return msg + fmt.Sprintf("; this site is cut off (an election takes less than %s)", roundWait(e.Wait))
	}
	return msg + "; an election may be under way"
}

func (e *NoLeaderError) Unwrap() error { return ErrNoLeader }

// roundWait rounds a duration for a message: to the second from a second
// up, else to 10ms.
func roundWait(d time.Duration) time.Duration {
	if d >= time.Second {
		return d.Round(time.Second)
	}
	return d.Round(10 * time.Millisecond)
}

// Reach returns nil while this site leads or knows a leader it hears from,
// and otherwise a *NoLeaderError saying since when and which leader it
// knew last. A site silent from its leader for longer than
// Config.LeaderWait is cut off even while Raft still names that leader:
// a read replica never stands for election, so it may go on naming a
// leader it does not hear from for several heartbeat timeouts.
func (c *Cluster) Reach() error {
	if c.IsLeader() {
		return nil
	}
	if id, _ := c.Leader(); id != "" && c.LastContact() <= c.cfg.LeaderWait() {
		return nil
	}
	return c.noLeader()
}

func (c *Cluster) noLeader() *NoLeaderError {
	last, _ := c.lastLeader.Load().(string)
	d := c.LastContact()
	wait := c.cfg.LeaderWait()
	return &NoLeaderError{Site: c.cfg.ID, For: d, LastLeader: last, Wait: wait, CutOff: d > wait}
}

// CutOff reports whether this site has heard from no leader (nor led) for
// longer than Config.LeaderWait: cut off rather than waiting for an
// election.
func (c *Cluster) CutOff() bool {
	return !c.IsLeader() && c.LastContact() > c.cfg.LeaderWait()
}

// LastLeader is the last leader this site knew, possibly itself; "" when
// it has known none since it started.
func (c *Cluster) LastLeader() string {
	id, _ := c.lastLeader.Load().(string)
	return id
}
