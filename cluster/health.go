package cluster

import (
	"context"
	"fmt"
	"maps"
	"sync"
	"time"

	"github.com/hashicorp/raft"
	autopilot "github.com/hashicorp/raft-autopilot"
)

// Stats is a member's Raft progress as it reports it: what the leader's
// health checks compare against their own.
type Stats struct {
	ID           string
	State        string
	Term         uint64
	LastIndex    uint64
	LastTerm     uint64
	AppliedIndex uint64
	CommitIndex  uint64
	// LastContact is the time since this member last heard from the
	// leader; zero on the leader.
	LastContact time.Duration
	// Format is the newest log format the member's binary reads (0: it
	// did not say, an older binary).
	Format int
	// Time is the member's clock when it answered.
	Time time.Time
	// Alarms are the member's own alarms (CORRUPT, NOSPACE).
	Alarms []Alarm
	// CheckpointIndex and CheckpointDigest are the latest state
	// checkpoint the member computed a digest of.
	CheckpointIndex  uint64
	CheckpointDigest string
	// RTT is the member's round-trip estimate to each other member it
	// measured recently (rtt.go).
	RTT map[string]time.Duration
}

// Stats reports this site's own Raft progress.
func (c *Cluster) Stats() Stats {
	st := Stats{
		ID: c.cfg.ID, State: c.raft.State().String(), Term: c.raft.CurrentTerm(),
		LastIndex: c.raft.LastIndex(), AppliedIndex: c.raft.AppliedIndex(), CommitIndex: c.raft.CommitIndex(),
		LastContact: c.LastContact(), Format: c.cfg.LogFormat, Time: c.now(), Alarms: c.Alarms(),
		RTT: c.RTT(),
	}
	cp := c.fsm.latestDigest()
	st.CheckpointIndex, st.CheckpointDigest = cp.Index, cp.Digest
	// raft exposes the last log term only through Stats.
	if t, ok := parseUint(c.raft.Stats()["last_log_term"]); ok {
		st.LastTerm = t
	}
	return st
}

// LastContact is how long ago this site last heard from the leader: zero
// on the leader, the time since it stepped down on a former leader that
// has heard from none since, and the time since the site started when it
// never has.
func (c *Cluster) LastContact() time.Duration {
	if c.raft.State() == raft.Leader {
		// Until watchLeadership records the step-down, the last time
		// anyone saw this site lead stands for it.
		c.ledUntil.Store(time.Now().UnixNano())
		return 0
	}
	last := c.raft.LastContact()
	if led := c.ledUntil.Load(); led != 0 && time.Unix(0, led).After(last) {
		last = time.Unix(0, led)
	}
	if last.IsZero() {
		return time.Since(c.started)
	}
	return time.Since(last)
}

// Health is the leader's view of every member's health (raft-autopilot).
type Health struct {
	// Known is false on a site that is not the leader (or a leader whose
	// first health round has not finished).
	Known            bool
	Healthy          bool
	FailureTolerance int
	Members          map[string]MemberHealth
	// Since is when this leader started its health checks.
	Since time.Time
}

// MemberHealth is one member's health as the leader judges it.
type MemberHealth struct {
	Healthy bool
	// Status is ALIVE, FAILED (unreachable for longer than the dead-site
	// timeout) or UNKNOWN.
	Status string
	// Stats is what the member last reported.
	Stats       Stats
	StableSince time.Time
	// ClockOffset is how far the member's clock is ahead (positive) of
	// the leader's, estimated from the health check's round trip.
	ClockOffset time.Duration
	// Alarms are the member's own alarms and CLOCK_SKEW when its offset
	// exceeds MaxClockSkew.
	Alarms []Alarm
}

// Health returns the leader's latest health round; on other sites Known is
// false.
func (c *Cluster) Health() Health {
	if !c.IsLeader() {
		return Health{}
	}
	c.health.mu.Lock()
	defer c.health.mu.Unlock()
	return c.health.last
}

// healthState is what the autopilot delegate keeps between rounds.
type healthState struct {
	mu       sync.Mutex
	last     Health
	lastSeen map[raft.ServerID]time.Time // last successful stats fetch, per member
	since    time.Time                   // when this leader started checking
	reports  map[raft.ServerID]report    // the latest stats of each member
}

// report is a member's latest stats and the clock offset measured with
// them.
type report struct {
	stats  Stats
	offset time.Duration
}

// readReplica is the autopilot node type of a site that does not want a
// vote; the promoter never promotes it.
const readReplica autopilot.NodeType = "read-replica"

// delegate adapts the cluster to autopilot.ApplicationIntegration.
type delegate struct{ c *Cluster }

func (d delegate) AutopilotConfig() *autopilot.Config {
	cfg := d.c.cfg
	return &autopilot.Config{
		CleanupDeadServers:      cfg.DeadSiteTimeout > 0,
		LastContactThreshold:    cfg.LastContactThreshold,
		MaxTrailingLogs:         cfg.MaxTrailingLogs,
		MinQuorum:               cfg.MinQuorum,
		ServerStabilizationTime: cfg.StabilizationTime,
	}
}

// NotifyState records each round for Health and the metrics.
func (d delegate) NotifyState(s *autopilot.State) {
	d.c.health.mu.Lock()
	since := d.c.health.since
	d.c.health.mu.Unlock()
	h := Health{Known: true, Healthy: s.Healthy, FailureTolerance: s.FailureTolerance, Members: map[string]MemberHealth{}, Since: since}
	d.c.health.mu.Lock()
	reports := maps.Clone(d.c.health.reports)
	d.c.health.mu.Unlock()
	for id, srv := range s.Servers {
		rep := reports[id]
		st := rep.stats
		st.ID, st.LastContact, st.LastTerm, st.LastIndex = string(id), srv.Stats.LastContact, srv.Stats.LastTerm, srv.Stats.LastIndex
		m := MemberHealth{
			Healthy: srv.Health.Healthy, Status: statusName(srv.Server.NodeStatus), StableSince: srv.Health.StableSince,
			Stats: st, ClockOffset: rep.offset, Alarms: append([]Alarm(nil), st.Alarms...),
		}
		if skew := d.c.cfg.MaxClockSkew; skew > 0 && !st.Time.IsZero() && (rep.offset > skew || rep.offset < -skew) {
			m.Alarms = append(m.Alarms, Alarm{Kind: AlarmClockSkew, Since: time.Now(),
				Detail: fmt.Sprintf("clock %s the leader's (%s) by %s, more than the allowed %s", aheadBehind(rep.offset), d.c.cfg.ID, absDur(rep.offset).Round(time.Millisecond), skew)})
		}
		h.Members[string(id)] = m
	}
	d.c.health.mu.Lock()
	d.c.health.last = h
	d.c.health.mu.Unlock()
	d.c.judgeClocks(h)
}

func statusName(s autopilot.NodeStatus) string {
	switch s {
	case autopilot.NodeAlive:
		return "ALIVE"
	case autopilot.NodeFailed, autopilot.NodeLeft:
		return "FAILED"
	}
	return "UNKNOWN"
}

// FetchServerStats asks every member, in parallel, for its progress; the
// leader answers for itself.
func (d delegate) FetchServerStats(ctx context.Context, servers map[raft.ServerID]*autopilot.Server) map[raft.ServerID]*autopilot.ServerStats {
	c := d.c
	out := map[raft.ServerID]*autopilot.ServerStats{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	now := time.Now()
	for id, srv := range servers {
		if string(id) == c.cfg.ID {
			st := c.Stats()
			mu.Lock()
			out[id] = &autopilot.ServerStats{LastContact: st.LastContact, LastTerm: st.LastTerm, LastIndex: st.LastIndex}
			mu.Unlock()
			c.health.mu.Lock()
			c.health.reports[id] = report{stats: st}
			c.health.mu.Unlock()
			continue
		}
		if c.cfg.FetchStats == nil {
			continue
		}
		wg.Add(1)
		go func(id raft.ServerID, srv *autopilot.Server) {
			defer wg.Done()
			fctx, cancel := context.WithTimeout(ctx, max(c.cfg.LastContactThreshold, time.Second))
			defer cancel()
			sent := c.now()
			st, err := c.cfg.FetchStats(fctx, Member{ID: string(id), RaftAddr: string(srv.Address), APIAddr: c.fsm.apiAddr(string(id))})
			if err != nil {
				c.log.Debug("health check: member unreachable", "member", id, "err", err)
				return
			}
			// The member read its clock somewhere within the round trip:
			// take the middle (as NTP does); the error is at most half
			// the round trip.
			rtt := c.now().Sub(sent)
			var offset time.Duration
			if !st.Time.IsZero() {
				offset = st.Time.Sub(sent.Add(rtt / 2))
			}
			c.health.mu.Lock()
			c.health.reports[id] = report{stats: st, offset: offset}
			c.health.mu.Unlock()
			mu.Lock()
			out[id] = &autopilot.ServerStats{LastContact: st.LastContact, LastTerm: st.LastTerm, LastIndex: st.LastIndex}
			mu.Unlock()
			c.health.mu.Lock()
			c.health.lastSeen[id] = now
			c.health.mu.Unlock()
		}(id, srv)
	}
	wg.Wait()
	return out
}

// KnownServers is every member of the Raft configuration, with whether the
// leader can reach it (failed once unreachable for DeadSiteTimeout) and
// whether it wants a vote.
func (d delegate) KnownServers() map[raft.ServerID]*autopilot.Server {
	c := d.c
	f := c.raft.GetConfiguration()
	if f.Error() != nil {
		return nil
	}
	_, leader := c.raft.LeaderWithID()
	c.health.mu.Lock()
	defer c.health.mu.Unlock()
	out := map[raft.ServerID]*autopilot.Server{}
	for _, s := range f.Configuration().Servers {
		status := autopilot.NodeAlive
		if s.ID != raft.ServerID(c.cfg.ID) && c.cfg.DeadSiteTimeout > 0 {
			seen, ok := c.health.lastSeen[s.ID]
			if !ok {
				seen = c.health.since
			}
			if time.Since(seen) > c.cfg.DeadSiteTimeout {
				status = autopilot.NodeFailed
			}
		}
		typ := autopilot.NodeVoter
		if voter, known := c.fsm.wantsVote(string(s.ID)); (known && !voter) || (!known && s.Suffrage != raft.Voter) {
			typ = readReplica
		}
		out[s.ID] = &autopilot.Server{
			ID: s.ID, Name: string(s.ID), Address: s.Address, NodeStatus: status, RaftVersion: raft.ProtocolVersionMax,
			IsLeader: s.ID == leader, NodeType: typ, Meta: map[string]string{"api": c.fsm.apiAddr(string(s.ID))},
		}
	}
	return out
}

// RemoveFailedServer removes a member that has been unreachable for the
// dead-site timeout; autopilot has already checked that quorum allows it.
func (d delegate) RemoveFailedServer(srv *autopilot.Server) {
	c := d.c
	go func() {
		c.log.Warn("removing a dead site", "member", srv.ID, "unreachable_for_more_than", c.cfg.DeadSiteTimeout)
		if err := c.raft.RemoveServer(srv.ID, 0, c.cfg.ApplyTimeout).Error(); err != nil {
			c.log.Warn("remove dead site", "member", srv.ID, "err", err)
		}
	}()
}

// promoter promotes a non-voter that wants a vote once it has been healthy
// for the stabilization time, and never touches read replicas or demotes
// anyone on its own.
type promoter struct{ *autopilot.StablePromoter }

func (promoter) GetNodeTypes(_ *autopilot.Config, s *autopilot.State) map[raft.ServerID]autopilot.NodeType {
	types := map[raft.ServerID]autopilot.NodeType{}
	for id, srv := range s.Servers {
		types[id] = srv.Server.NodeType
	}
	return types
}

func (promoter) CalculatePromotionsAndDemotions(c *autopilot.Config, s *autopilot.State) autopilot.RaftChanges {
	var changes autopilot.RaftChanges
	now := time.Now()
	stable := s.ServerStabilizationTime(c)
	for id, srv := range s.Servers {
		if srv.State == autopilot.RaftNonVoter && srv.Server.NodeType == autopilot.NodeVoter && srv.Health.IsStable(now, stable) {
			changes.Promotions = append(changes.Promotions, id)
		}
	}
	return changes
}

// runHealth runs autopilot while this site leads.
func (c *Cluster) runHealth(leading bool) {
	if c.autopilot == nil {
		return
	}
	if !leading {
		if c.apCancel != nil {
			c.apCancel()
			<-c.autopilot.Stop()
			c.apCancel = nil
		}
		return
	}
	if c.apCancel != nil {
		return
	}
	c.health.mu.Lock()
	c.health.since = time.Now()
	c.health.lastSeen = map[raft.ServerID]time.Time{}
	c.health.reports = map[raft.ServerID]report{}
	c.health.last = Health{}
	c.health.mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	c.apCancel = cancel
	c.autopilot.Start(ctx)
}

func newAutopilot(c *Cluster) *autopilot.Autopilot {
	interval := c.cfg.HealthInterval
	if interval <= 0 {
		interval = autopilot.DefaultUpdateInterval
	}
	return autopilot.New(c.raft, delegate{c},
		autopilot.WithLogger(c.hlog.Named("autopilot")),
		autopilot.WithPromoter(promoter{new(autopilot.StablePromoter)}),
		autopilot.WithUpdateInterval(interval),
		autopilot.WithReconcileInterval(interval),
	)
}
