package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"sync"
	"time"
)

// The leader's placement loop: every PlacementInterval it feeds
// decidePlacement what it knows (its health round, the RTT rows every
// member reported, the write mix, the replicated preferences) and, when
// the decision says so, hands leadership over. The new leader starts its
// own dwell: it leads at least PlacementDwell before it may move again.

// writeMix counts writes per origin site, decayed exponentially with
// half-life halfLife so the mix follows the traffic.
type writeMix struct {
	mu       sync.Mutex
	halfLife time.Duration
	w        map[string]float64
	at       time.Time
}

func (m *writeMix) decayTo(now time.Time) {
	if m.at.IsZero() || m.halfLife <= 0 {
		m.at = now
		return
	}
	if dt := now.Sub(m.at); dt > 0 {
		f := math.Exp2(-float64(dt) / float64(m.halfLife))
		for k, v := range m.w {
			if v *= f; v < 1e-3 {
				delete(m.w, k)
			} else {
				m.w[k] = v
			}
		}
		m.at = now
	}
}

func (m *writeMix) note(origin string, now time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.decayTo(now)
	m.w[origin]++
}

func (m *writeMix) snapshot(now time.Time) map[string]float64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.decayTo(now)
	return maps.Clone(m.w)
}

// NoteWrite counts one applied write that origin (the site whose API took
// it) sent; the API layer calls it on the leader for every write it
// commits. The leader places itself by this mix.
func (c *Cluster) NoteWrite(origin string) {
	if origin != "" {
		c.writes.note(origin, time.Now())
	}
}

// PlacementMove is a leadership move placement made.
type PlacementMove struct {
	From   string    `json:"from"`
	To     string    `json:"to"`
	Reason string    `json:"reason"`
	Time   time.Time `json:"time"`
	// Err says why the transfer failed (kept on the leader that tried).
	Err string `json:"err,omitempty"`
}

// PlacementStatus is what GET /v1/cluster shows of leader placement.
type PlacementStatus struct {
	// Manual: --leader-placement manual on this site or in the
	// replicated preferences.
	Manual bool
	Prefs  PlacementPrefs
	// Known is false on a site that does not lead (or has not evaluated
	// yet): then RTT holds this site's own row only.
	Known bool
	// RTT is the matrix: RTT[a][b] is a's estimate of its round trip to b.
	RTT      map[string]map[string]time.Duration
	Mix      map[string]float64
	Decision PlacementDecision
	At       time.Time
	LastMove *PlacementMove
}

type placementState struct {
	mu     sync.Mutex
	status PlacementStatus
	failed *PlacementMove // the latest move whose transfer failed
}

// Placement reports the leader's latest evaluation; elsewhere the
// preferences and this site's own RTT row.
func (c *Cluster) Placement() PlacementStatus {
	prefs := c.fsm.placement()
	c.place.mu.Lock()
	st := c.place.status
	failed := c.place.failed
	c.place.mu.Unlock()
	last := c.fsm.lastMove()
	if failed != nil && (last == nil || failed.Time.After(last.Time)) {
		last = failed
	}
	if !c.IsLeader() || !st.Known {
		st = PlacementStatus{RTT: map[string]map[string]time.Duration{c.cfg.ID: c.RTT()}}
	}
	st.Manual = c.cfg.PlacementManual || prefs.Manual
	st.Prefs = prefs
	if last != nil {
		lm := *last
		st.LastMove = &lm
	}
	return st
}

// SetPlacement replicates the operators' placement preferences after
// checking them against the configuration. It must run on the leader.
func (c *Cluster) SetPlacement(ctx context.Context, p PlacementPrefs) error {
	if !c.IsLeader() {
		return c.notLeader()
	}
	f := c.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return fmt.Errorf("set leader placement: %w", c.mapErr(err))
	}
	voters, members := c.voterSet(), map[string]bool{}
	for _, s := range f.Configuration().Servers {
		members[string(s.ID)] = true
	}
	if err := checkPrefs(p, voters, members); err != nil {
		return err
	}
	p.Time = time.Now().UnixNano()
	// A member record naming this site, with nothing else an older
	// binary reads: such a binary applies it as a no-op rather than
	// stopping on an entry kind it does not know.
	return c.setMeta(ctx, metaRecord{ID: c.cfg.ID, Placement: &p})
}

func checkPrefs(p PlacementPrefs, voters, members map[string]bool) error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidPlacement, fmt.Sprintf(format, a...))
	}
	known := func(field, s string) error {
		if !members[s] {
			return bad("%s: %q is not a member of the cluster (members: %s)", field, s, setList(members))
		}
		if !voters[s] {
			return bad("%s: %s is not a voter, so it cannot lead (voters: %s)", field, s, setList(voters))
		}
		return nil
	}
	if p.Pin != "" {
		if err := known("pin", p.Pin); err != nil {
			return err
		}
		if slices.Contains(p.Exclude, p.Pin) {
			return bad("pin: %s is also in exclude; a site cannot be both", p.Pin)
		}
	}
	for _, s := range p.Prefer {
		if err := known("prefer", s); err != nil {
			return err
		}
		if slices.Contains(p.Exclude, s) {
			return bad("prefer: %s is also in exclude; a site cannot be both", s)
		}
	}
	left := maps.Clone(voters)
	for _, s := range p.Exclude {
		if !members[s] {
			return bad("exclude: %q is not a member of the cluster (members: %s)", s, setList(members))
		}
		delete(left, s)
	}
	if len(left) == 0 {
		return bad("exclude: names every voter (%s); at least one must be allowed to lead", setList(voters))
	}
	return nil
}

func setList(m map[string]bool) string {
	keys := slices.Sorted(maps.Keys(m))
	b, _ := json.Marshal(keys)
	return string(b)
}

// runPlacement evaluates placement every PlacementInterval while this
// site leads, until the cluster closes.
func (c *Cluster) runPlacement() {
	if c.cfg.PlacementInterval <= 0 {
		return
	}
	t := time.NewTicker(c.cfg.PlacementInterval)
	defer t.Stop()
	for {
		select {
		case <-c.done:
			return
		case <-t.C:
		}
		if !c.IsLeader() {
			continue
		}
		d, ok := c.evaluatePlacement()
		if !ok || d.Move == "" {
			continue
		}
		c.movePlacement(d)
	}
}

// evaluatePlacement runs one decision on the leader and records it; ok
// is false before the first health round.
func (c *Cluster) evaluatePlacement() (PlacementDecision, bool) {
	h := c.Health()
	if !h.Known {
		return PlacementDecision{}, false
	}
	now := time.Now()
	in := placementInput{
		Current: c.cfg.ID, Ineligible: map[string]string{}, RTT: map[string]map[string]time.Duration{},
		Mix: c.writes.snapshot(now), Prefs: c.fsm.placement(), Manual: c.cfg.PlacementManual,
		SinceChange: now.Sub(h.Since), Dwell: c.cfg.PlacementDwell, MinWrites: c.cfg.PlacementMinWrites,
		Margin: c.cfg.PlacementMargin, MinGain: c.cfg.PlacementMinGain,
	}
	voters := c.voterSet()
	in.Voters = slices.Sorted(maps.Keys(voters))
	self := h.Members[c.cfg.ID].Stats
	c.health.mu.Lock()
	for id, rep := range c.health.reports {
		if len(rep.stats.RTT) > 0 {
			in.RTT[string(id)] = maps.Clone(rep.stats.RTT)
		}
	}
	c.health.mu.Unlock()
	in.RTT[c.cfg.ID] = c.RTT()
	for id, m := range h.Members {
		in.Sites = append(in.Sites, id)
		if !voters[id] {
			continue
		}
		switch {
		case m.Status != "ALIVE":
			in.Ineligible[id] = "unreachable (" + m.Status + ")"
		case !m.Healthy:
			in.Ineligible[id] = "unhealthy (no recent contact, or trailing the log)"
		case len(m.Alarms) > 0:
			in.Ineligible[id] = "alarm " + m.Alarms[0].Kind
		case self.CommitIndex > m.Stats.LastIndex+c.cfg.MaxTrailingLogs:
			in.Ineligible[id] = fmt.Sprintf("behind: at entry %d, the leader committed %d", m.Stats.LastIndex, self.CommitIndex)
		}
	}
	slices.Sort(in.Sites)
	d := decidePlacement(in)
	c.place.mu.Lock()
	c.place.status = PlacementStatus{Known: true, RTT: in.RTT, Mix: in.Mix, Decision: d, At: now}
	c.place.mu.Unlock()
	return d, true
}

// movePlacement records the move in the log (so every site, the new
// leader too, can show why it leads) and hands leadership over.
func (c *Cluster) movePlacement(d PlacementDecision) {
	mv := PlacementMove{From: c.cfg.ID, To: d.Move, Reason: d.Reason, Time: time.Now()}
	c.log.Info("leader placement: handing leadership over", "to", d.Move, "reason", d.Reason)
	ctx, cancel := context.WithTimeout(context.Background(), c.cfg.ApplyTimeout)
	defer cancel()
	err := c.setMeta(ctx, metaRecord{ID: c.cfg.ID, Move: &mv})
	if err == nil {
		err = c.TransferLeadership(ctx, d.Move)
	}
	if err != nil {
		mv.Err = err.Error()
		c.log.Warn("leader placement: transfer failed", "to", d.Move, "err", err)
		c.place.mu.Lock()
		c.place.failed = &mv
		c.place.mu.Unlock()
	}
}
