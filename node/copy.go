package node

import (
	"context"
	"sync"
	"time"
)

// How far behind the leader a site's copy is, as the site can tell.
//
// A read answered from this site's copy (STALE, and every page of the
// console) shows what the leader had committed some time ago; behind is
// how long ago, from two things the site knows:
//
//   - contact: the site cannot hold anything the leader committed after
//     it last heard from it, so it is at least that long behind. A site
//     cut off from the leader is behind by the whole cut.
//   - transit: while contact continues, changes may still arrive late,
//     over a slow link or while the site works through a backlog. How
//     late the newest change arrived (from the leader appending it to
//     this site applying it) says by how much. It counts for a minute
//     after that change arrived, and only for a change the leader made
//     while this site was in touch: one held back by a cut, or replayed
//     at start, measures the cut or the downtime, which contact already
//     reported while it lasted.
//
// The leader is never behind. The leader's append times are on its clock
// and the rest on this site's; the leader's health checks keep the two
// within MaxClockSkew (CLOCK_SKEW), and a change that seems to arrive
// before it was made arrived at once.
//
// The answer travels in the read's headers (x-innonet-behind-ms), beside
// the answering site's applied index and last contact.

// transitHold is how long the delay of the newest change counts after it
// arrived: long enough to describe a link that stays slow between
// changes, short enough that one slow change is not reported all day.
const transitHold = time.Minute

// contactEvery is how often the site looks at its contact with the
// leader, to know when it lost and regained it.
const contactEvery = 100 * time.Millisecond

// copyClock keeps what the site knows of how current its copy is. apply
// runs on the FSM goroutine, contact on the watcher, behind on any.
type copyClock struct {
	mu sync.Mutex
	// appended and applied are the newest applied change's append time
	// (the leader's clock) and apply time.
	appended, applied time.Time
	// back is when the site last came back in touch with the leader (at
	// first, when it started); lost is whether it is out of touch now.
	back time.Time
	lost bool
}

func newCopyClock(now time.Time) *copyClock { return &copyClock{back: now} }

// apply records a change the leader appended at appended (zero: an
// entry of a Raft version that did not say), applied now.
func (c *copyClock) apply(appended, now time.Time) {
	if appended.IsZero() {
		return
	}
	c.mu.Lock()
	c.appended, c.applied = appended, now
	c.mu.Unlock()
}

// contact records that the site last heard from the leader since ago; it
// is out of touch past lostAfter.
func (c *copyClock) contact(since, lostAfter time.Duration, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case since > lostAfter:
		c.lost = true
	case c.lost:
		c.lost, c.back = false, now.Add(-since)
	}
}

// behind is how far behind the leader the copy is now, for a site that
// does not lead and last heard from the leader contact ago.
func (c *copyClock) behind(contact time.Duration, now time.Time) time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	d := contact
	if !c.lost && c.appended.After(c.back) && now.Sub(c.applied) < transitHold {
		d = max(d, c.applied.Sub(c.appended))
	}
	return max(d, 0)
}

// behind is how far behind the leader this site's copy is.
func (n *Node) behind() time.Duration {
	if n.cluster.IsLeader() {
		return 0
	}
	return n.copy.behind(n.cluster.LastContact(), time.Now())
}

// watchContact keeps the copy clock told of the site's contact with the
// leader. A site is out of touch once it has not heard from the leader
// for its heartbeat timeout, when Raft itself gives the leader up: less
// is what a slow link's round trips look like.
func (n *Node) watchContact(ctx context.Context) {
	t := time.NewTicker(contactEvery)
	defer t.Stop()
	for {
		n.copy.contact(n.cluster.LastContact(), n.cfg.Cluster.HeartbeatTimeout, time.Now())
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
