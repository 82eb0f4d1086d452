package cluster

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// Round trips. Every site measures the round trip to every other member
// with Config.Ping (the API layer's cheap call over its pooled
// site-to-site connection) every ProbeInterval, and keeps the median of
// the last rttWindow samples per peer: one slow answer (a retransmit, a
// paused process) does not move it. A peer that has not answered for
// rttStale probes is dropped from the row, so a cut link shows as a
// missing measurement rather than as the last good figure. Each site
// reports its row in its Stats; the leader's health rounds collect the
// rows into the matrix that leader placement (placement.go) reads.

// rttWindow is how many samples per peer the estimate is the median of.
const rttWindow = 9

// rttStale is how many probe intervals without an answer drop a peer.
const rttStale = 10

// rttEstimator keeps a sliding window of round-trip samples per peer.
type rttEstimator struct {
	mu    sync.Mutex
	peers map[string]*rttSamples
}

type rttSamples struct {
	ring [rttWindow]time.Duration
	n    int // samples held (at most rttWindow)
	next int
	last time.Time // when the latest sample was taken
}

func newRTTEstimator() *rttEstimator { return &rttEstimator{peers: map[string]*rttSamples{}} }

// add records a sample for peer taken at now.
func (e *rttEstimator) add(peer string, d time.Duration, now time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.peers[peer]
	if s == nil {
		s = &rttSamples{}
		e.peers[peer] = s
	}
	s.ring[s.next] = d
	s.next = (s.next + 1) % rttWindow
	s.n = min(s.n+1, rttWindow)
	s.last = now
}

// keep forgets peers not in ids (members that left).
func (e *rttEstimator) keep(ids map[string]bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for p := range e.peers {
		if !ids[p] {
			delete(e.peers, p)
		}
	}
}

// row returns the median per peer heard from since notBefore.
func (e *rttEstimator) row(notBefore time.Time) map[string]time.Duration {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := map[string]time.Duration{}
	for p, s := range e.peers {
		if s.n == 0 || s.last.Before(notBefore) {
			continue
		}
		xs := slices.Clone(s.ring[:s.n])
		slices.Sort(xs)
		// The lower median for an even count: a window still filling
		// leans towards the faster samples, as a floor should.
		out[p] = xs[(s.n-1)/2]
	}
	return out
}

// RTT returns this site's round-trip estimates to the other members
// (empty without Config.Ping).
func (c *Cluster) RTT() map[string]time.Duration {
	return c.rtt.row(time.Now().Add(-rttStale * c.cfg.ProbeInterval))
}

// runProbes pings every other member every ProbeInterval until the
// cluster closes.
func (c *Cluster) runProbes() {
	if c.cfg.Ping == nil || c.cfg.ProbeInterval <= 0 {
		return
	}
	t := time.NewTicker(c.cfg.ProbeInterval)
	defer t.Stop()
	for {
		select {
		case <-c.done:
			return
		case <-t.C:
		}
		c.probeOnce()
	}
}

// probeOnce pings every other member in parallel and waits for the
// answers (each bounded by the probe timeout), so probes never pile up.
func (c *Cluster) probeOnce() {
	f := c.raft.GetConfiguration()
	if f.Error() != nil {
		return
	}
	ids := map[string]bool{}
	var wg sync.WaitGroup
	for _, s := range f.Configuration().Servers {
		id := string(s.ID)
		ids[id] = true
		if id == c.cfg.ID {
			continue
		}
		wg.Add(1)
		go func(s raft.Server) {
			defer wg.Done()
			c.probe(Member{ID: string(s.ID), RaftAddr: string(s.Address), APIAddr: c.fsm.apiAddr(string(s.ID))})
		}(s)
	}
	wg.Wait()
	c.rtt.keep(ids)
}

func (c *Cluster) probe(m Member) {
	// A WAN round trip is at most a few hundred ms; a probe that takes
	// longer than a few intervals says the link stalls, not how far.
	ctx, cancel := context.WithTimeout(context.Background(), max(3*c.cfg.ProbeInterval, time.Second))
	defer cancel()
	go func() {
		select {
		case <-c.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	start := time.Now()
	if err := c.cfg.Ping(ctx, m); err != nil {
		c.log.Debug("rtt probe failed", "member", m.ID, "err", err)
		return
	}
	c.rtt.add(m.ID, time.Since(start), time.Now())
}
