package cluster

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Alarms are conditions of one site that need an operator, modelled on
// etcd's alarms: while one is raised the site is not ready (/readyz 503)
// and the API layer does not answer reads from its own copy.
//
//   - CORRUPT: the site stopped applying the log because an entry failed
//     its checksum, could not be understood by this version, or the site's
//     state digest at a checkpoint differed from the other sites'. It
//     stays raised (also across restarts, through a marker file in the
//     data dir) until the site is rebuilt from its peers.
//   - NOSPACE: the site's own appends to its log fail (disk full or
//     failing). It clears by itself once an append succeeds again.
//   - CLOCK_SKEW: raised by the leader's health checks for a member whose
//     clock is further from the leader's than Config.MaxClockSkew.
const (
	AlarmCorrupt   = "CORRUPT"
	AlarmNoSpace   = "NOSPACE"
	AlarmClockSkew = "CLOCK_SKEW"
)

// Alarm is one raised alarm.
type Alarm struct {
	Kind   string
	Detail string
	Since  time.Time
}

func (a Alarm) String() string { return a.Kind + ": " + a.Detail }

// ErrCorrupt: the site stopped applying the log (see AlarmCorrupt).
var ErrCorrupt = errors.New("this site's copy is damaged (CORRUPT) and it stopped applying the log; rebuild it from its peers")

// ErrNoSpace: the site cannot write its log (see AlarmNoSpace).
var ErrNoSpace = errors.New("this site cannot write its log (NOSPACE)")

// ErrUnreadable is what the caller's FSM wraps in its answer to an entry it
// cannot understand (it does not decode, or it is of a newer format): the
// cluster then raises CORRUPT and stops applying rather than skip it.
var ErrUnreadable = errors.New("log entry cannot be applied by this version")

// corruptMarker is the file that keeps a CORRUPT alarm across restarts.
const corruptMarker = "CORRUPT"

// alarms holds this site's own alarms.
type alarms struct {
	mu     sync.Mutex
	raised map[string]Alarm
	gauge  *prometheus.GaugeVec
	marker string // path of the CORRUPT marker file
}

func newAlarms(dataDir string) *alarms {
	a := &alarms{raised: map[string]Alarm{}, marker: filepath.Join(dataDir, "raft", corruptMarker),
		gauge: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "innonet_alarm",
			Help: "1 while this site has the alarm raised (CORRUPT, NOSPACE).",
		}, []string{"kind"})}
	for _, k := range []string{AlarmCorrupt, AlarmNoSpace} {
		a.gauge.WithLabelValues(k).Set(0)
	}
	return a
}

// raise records an alarm; it reports whether it was newly raised.
func (a *alarms) raise(kind, detail string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ok := a.raised[kind]; ok {
		return false
	}
	al := Alarm{Kind: kind, Detail: detail, Since: time.Now()}
	a.raised[kind] = al
	a.gauge.WithLabelValues(kind).Set(1)
	if kind == AlarmCorrupt && a.marker != "" {
		// Best effort: the alarm holds in memory even if the disk is gone.
		_ = os.WriteFile(a.marker, []byte(al.Since.UTC().Format(time.RFC3339)+" "+detail+"\n"), 0o600)
	}
	return true
}

// clear lowers an alarm; it reports whether it was raised.
func (a *alarms) clear(kind string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ok := a.raised[kind]; !ok {
		return false
	}
	delete(a.raised, kind)
	a.gauge.WithLabelValues(kind).Set(0)
	return true
}

func (a *alarms) has(kind string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	_, ok := a.raised[kind]
	return ok
}

func (a *alarms) get(kind string) (Alarm, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	al, ok := a.raised[kind]
	return al, ok
}

func (a *alarms) list() []Alarm {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]Alarm, 0, len(a.raised))
	for _, al := range a.raised {
		out = append(out, al)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Kind < out[j].Kind })
	return out
}

// loadMarker raises CORRUPT again if an earlier run left the marker.
func (a *alarms) loadMarker() (Alarm, bool) {
	b, err := os.ReadFile(a.marker)
	if err != nil {
		return Alarm{}, false
	}
	detail := strings.TrimSpace(string(b))
	since := time.Now()
	if ts, rest, ok := strings.Cut(detail, " "); ok {
		if t, err := time.Parse(time.RFC3339, ts); err == nil {
			since, detail = t, rest
		}
	}
	a.mu.Lock()
	al := Alarm{Kind: AlarmCorrupt, Detail: detail + " (raised before the last restart)", Since: since}
	a.raised[AlarmCorrupt] = al
	a.gauge.WithLabelValues(AlarmCorrupt).Set(1)
	a.mu.Unlock()
	return al, true
}

// Alarms returns this site's raised alarms (CORRUPT, NOSPACE), ordered by
// kind. CLOCK_SKEW is judged by the leader: see Health.
func (c *Cluster) Alarms() []Alarm { return c.alarms.list() }

// Corrupt reports whether this site has stopped applying the log.
func (c *Cluster) Corrupt() bool { return c.alarms.has(AlarmCorrupt) }

// ServesLocalReads reports whether this site's own copy may answer reads:
// not while it is CORRUPT (its copy is wrong) or NOSPACE (it cannot take
// new entries, so its copy falls behind while it still hears the leader).
// The API layer forwards such reads to the leader instead.
func (c *Cluster) ServesLocalReads() error {
	if al, ok := c.alarms.get(AlarmCorrupt); ok {
		return fmt.Errorf("%w: %s", ErrCorrupt, al.Detail)
	}
	if al, ok := c.alarms.get(AlarmNoSpace); ok {
		return fmt.Errorf("%w: %s", ErrNoSpace, al.Detail)
	}
	return nil
}

// markCorrupt raises CORRUPT: from now on the FSM applies nothing and
// takes no snapshot (so the damage is not carried into one), the site is
// not ready, and a leader hands leadership to another voter.
func (c *Cluster) markCorrupt(detail string) {
	if !c.alarms.raise(AlarmCorrupt, detail) {
		return
	}
	c.log.Error("CORRUPT: this site stopped applying the log; it must be rebuilt from its peers (see README, \"Rebuilding a damaged site\")",
		"detail", detail, "alarm", AlarmCorrupt)
	if c.IsLeader() {
		go c.stepDown("this site is CORRUPT")
	}
}

// stepDown hands leadership to another voter, if there is one.
func (c *Cluster) stepDown(why string) {
	if !c.IsLeader() || c.otherVoters() == 0 {
		return
	}
	if err := c.raft.LeadershipTransfer().Error(); err != nil {
		c.log.Warn("step down: leadership transfer failed", "why", why, "err", err)
		return
	}
	to, _ := c.Leader()
	c.log.Warn("stepped down as leader", "why", why, "to", to)
}
