package cluster

import (
	"sort"
	"sync"
	"time"

	"github.com/hashicorp/raft"
	"github.com/prometheus/client_golang/prometheus"
)

// Clocks. The leader stamps its clock into every command, and tokens
// expire by the clock of the site that checks them, so a site whose clock
// is off stamps history out of order or misjudges tokens. The leader's
// health checks already ask every member for its stats; the member's
// answer carries its clock, and the leader estimates the member's offset
// from the middle of the round trip (good to half the round trip). A
// member further than MaxClockSkew from the leader is shown with a
// CLOCK_SKEW alarm (GET /v1/cluster), logged and counted. A leader whose
// clock is ahead of most other voters by more than that hands leadership
// to a voter whose clock agrees with the others: it would otherwise stamp
// the future into the log.

// now is the site's clock (Config.Clock, for tests; time.Now otherwise).
func (c *Cluster) now() time.Time {
	if c.cfg.Clock != nil {
		return c.cfg.Clock()
	}
	return time.Now()
}

// clockState is the leader's record of skew reports.
type clockState struct {
	mu        sync.Mutex
	warned    map[string]time.Time // member → last warning
	lastStep  time.Time            // last hand-over because of this site's clock
	offsets   *prometheus.GaugeVec
	skewTotal prometheus.Counter
	skewed    map[string]bool // members over the bound in the last round
}

func newClockState() *clockState {
	return &clockState{warned: map[string]time.Time{}, skewed: map[string]bool{},
		offsets: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "innonet_raft_peer_clock_offset_seconds",
			Help: "On the leader: how far each member's clock is ahead (positive) or behind the leader's, estimated from the health checks.",
		}, []string{"peer"}),
		skewTotal: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "innonet_clock_skew_events_total",
			Help: "Times the leader found a member's clock further from its own than --max-clock-skew.",
		}),
	}
}

func aheadBehind(d time.Duration) string {
	if d > 0 {
		return "ahead of"
	}
	return "behind"
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// judgeClocks runs after each health round on the leader.
func (c *Cluster) judgeClocks(h Health) {
	skew := c.cfg.MaxClockSkew
	cs := c.clocks
	cs.offsets.Reset()
	now := time.Now()
	var votersBehind, votersKnown int
	type candidate struct {
		id     string
		offset time.Duration
	}
	var sane []candidate
	voters := c.voterSet()
	for id, m := range h.Members {
		if id == c.cfg.ID || m.Stats.Time.IsZero() {
			continue
		}
		cs.offsets.WithLabelValues(id).Set(m.ClockOffset.Seconds())
		over := skew > 0 && absDur(m.ClockOffset) > skew
		cs.mu.Lock()
		if over && !cs.skewed[id] {
			cs.skewTotal.Inc()
		}
		cs.skewed[id] = over
		warn := over && now.Sub(cs.warned[id]) > time.Minute
		if warn {
			cs.warned[id] = now
		}
		cs.mu.Unlock()
		if warn {
			c.log.Warn("clock skew: a member's clock differs from the leader's by more than --max-clock-skew",
				"member", id, "offset", m.ClockOffset.Round(time.Millisecond), "max_clock_skew", skew, "alarm", AlarmClockSkew)
		}
		if voters[id] {
			votersKnown++
			if skew > 0 && m.ClockOffset < -skew {
				// Behind this leader, as most are when it is the one off:
				// these agree with each other, so one of them leads next.
				votersBehind++
				if m.Healthy {
					sane = append(sane, candidate{id, m.ClockOffset})
				}
			}
		}
	}
	// Most other voters are behind this leader: its clock is the one off.
	if skew <= 0 || votersKnown == 0 || votersBehind*2 <= votersKnown || len(sane) == 0 {
		return
	}
	cs.mu.Lock()
	recent := now.Sub(cs.lastStep) < 30*time.Second
	if !recent {
		cs.lastStep = now
	}
	cs.mu.Unlock()
	if recent {
		return
	}
	// The voter nearest the middle of the others' clocks.
	sort.Slice(sane, func(i, j int) bool { return sane[i].offset < sane[j].offset })
	sane[0] = sane[len(sane)/2]
	to := sane[0].id
	c.log.Warn("clock skew: this site's clock is ahead of most other voters'; handing leadership over so that it does not stamp the future into the log",
		"voters_behind", votersBehind, "voters", votersKnown, "max_clock_skew", skew, "to", to, "alarm", AlarmClockSkew)
	go func() {
		addr := ""
		if f := c.raft.GetConfiguration(); f.Error() == nil {
			for _, s := range f.Configuration().Servers {
				if string(s.ID) == to {
					addr = string(s.Address)
				}
			}
		}
		if err := c.raft.LeadershipTransferToServer(raft.ServerID(to), raft.ServerAddress(addr)).Error(); err != nil {
			c.log.Warn("clock skew: leadership hand-over failed", "to", to, "err", err)
		}
	}()
}

// voterSet is the voters of the latest configuration.
func (c *Cluster) voterSet() map[string]bool {
	out := map[string]bool{}
	if f := c.raft.GetConfiguration(); f.Error() == nil {
		for _, s := range f.Configuration().Servers {
			if s.Suffrage == raft.Voter {
				out[string(s.ID)] = true
			}
		}
	}
	return out
}
