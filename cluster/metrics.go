package cluster

import (
	"sync/atomic"

	"github.com/hashicorp/raft"
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the member's Prometheus metrics. Gauges that mirror Raft's
// state are read at scrape time by Collect; counters and histograms are
// updated as things happen.
type metrics struct {
	leaderChanges prometheus.Counter
	applyDuration prometheus.Histogram
	// Linearizable reads: how long each waited for its confirmation,
	// how long each round took, and how many reads shared a round.
	readWait      prometheus.Histogram
	readRounds    prometheus.Histogram
	readsPerRound prometheus.Histogram
	observations  chan raft.Observation
}

func newMetrics(site string) *metrics {
	return &metrics{
		leaderChanges: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "innonet_raft_leader_changes_total",
			Help: "Leader changes this site has observed (including to no leader).",
		}),
		applyDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "innonet_raft_apply_duration_seconds",
			Help:    "Time from proposing a command on the leader until it is committed and applied (commit time).",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}),
		readWait: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "innonet_raft_read_confirm_seconds",
			Help:    "Time a linearizable read waited on the leader until a quorum of voters confirmed its leadership.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}),
		readRounds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "innonet_raft_read_round_seconds",
			Help:    "Time of each leadership confirmation round the leader sent to the voters for linearizable reads.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}),
		readsPerRound: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "innonet_raft_reads_per_round",
			Help:    "Linearizable reads that shared one leadership confirmation round.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 10),
		}),
		observations: make(chan raft.Observation, 16),
	}
}

// watchLeaders counts leader changes and remembers the last leader known,
// for forwarding while this site is cut off from Raft traffic.
func (m *metrics) watchLeaders(done <-chan struct{}, last *atomic.Value) {
	for {
		select {
		case <-done:
			return
		case o := <-m.observations:
			m.leaderChanges.Inc()
			if lo, ok := o.Data.(raft.LeaderObservation); ok && lo.LeaderID != "" {
				last.Store(string(lo.LeaderID))
			}
		}
	}
}

var (
	descState        = prometheus.NewDesc("innonet_raft_state", "1 for this site's current Raft state (Leader, Follower, Candidate, Shutdown).", []string{"state"}, nil)
	descTerm         = prometheus.NewDesc("innonet_raft_term", "Current Raft term.", nil, nil)
	descCommitIndex  = prometheus.NewDesc("innonet_raft_commit_index", "Highest log index known to be committed.", nil, nil)
	descAppliedIndex = prometheus.NewDesc("innonet_raft_applied_index", "Highest log index applied to the pipeline.", nil, nil)
	descLastIndex    = prometheus.NewDesc("innonet_raft_last_log_index", "Highest log index stored.", nil, nil)
	descLastContact  = prometheus.NewDesc("innonet_raft_last_contact_seconds", "Time since this site last heard from the leader (0 on the leader).", nil, nil)
	descMembers      = prometheus.NewDesc("innonet_raft_members", "Members of the configuration, by suffrage.", []string{"suffrage"}, nil)
	descPeerContact  = prometheus.NewDesc("innonet_raft_peer_last_contact_seconds", "On the leader: time since each member last heard from the leader, as the member reported it.", []string{"peer"}, nil)
	descPeerHealthy  = prometheus.NewDesc("innonet_raft_peer_healthy", "On the leader: 1 when the member passes the health checks.", []string{"peer"}, nil)
	descPeerTrailing = prometheus.NewDesc("innonet_raft_peer_trailing_logs", "On the leader: how many log entries each member trails the leader by.", []string{"peer"}, nil)
	descLogEntries   = prometheus.NewDesc("innonet_raft_log_entries", "Entries in the Raft log (compaction keeps this near snapshot threshold + trailing logs).", nil, nil)
	descDiskBytes    = prometheus.NewDesc("innonet_raft_disk_bytes", "Bytes on disk, by file kind (raft_db: log and stable store; snapshots).", []string{"kind"}, nil)
	descTolerance    = prometheus.NewDesc("innonet_raft_failure_tolerance", "On the leader: voters that may fail without losing quorum.", nil, nil)
)

// Collector returns the member's Prometheus metrics: state, term and
// indexes, last contact, leader changes, apply (commit) latency and, on
// the leader, every member's health.
func (c *Cluster) Collector() prometheus.Collector { return collector{c} }

type collector struct{ c *Cluster }

func (k collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descState, descTerm, descCommitIndex, descAppliedIndex, descLastIndex,
		descLastContact, descMembers, descPeerContact, descPeerHealthy, descPeerTrailing, descTolerance, descLogEntries, descDiskBytes} {
		ch <- d
	}
	k.c.metrics.leaderChanges.Describe(ch)
	k.c.metrics.applyDuration.Describe(ch)
	k.c.metrics.readWait.Describe(ch)
	k.c.metrics.readRounds.Describe(ch)
	k.c.metrics.readsPerRound.Describe(ch)
	k.c.transport.gate.counts.Describe(ch)
	k.c.alarms.gauge.Describe(ch)
	k.c.clocks.offsets.Describe(ch)
	k.c.clocks.skewTotal.Describe(ch)
}

func (k collector) Collect(ch chan<- prometheus.Metric) {
	c := k.c
	st := c.Stats()
	for _, s := range []string{"Leader", "Follower", "Candidate", "Shutdown"} {
		v := 0.0
		if s == st.State {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(descState, prometheus.GaugeValue, v, s)
	}
	ch <- prometheus.MustNewConstMetric(descTerm, prometheus.GaugeValue, float64(st.Term))
	ch <- prometheus.MustNewConstMetric(descCommitIndex, prometheus.GaugeValue, float64(st.CommitIndex))
	ch <- prometheus.MustNewConstMetric(descAppliedIndex, prometheus.GaugeValue, float64(st.AppliedIndex))
	ch <- prometheus.MustNewConstMetric(descLastIndex, prometheus.GaugeValue, float64(st.LastIndex))
	ch <- prometheus.MustNewConstMetric(descLastContact, prometheus.GaugeValue, st.LastContact.Seconds())
	if f := c.raft.GetConfiguration(); f.Error() == nil {
		voters, others := 0, 0
		for _, s := range f.Configuration().Servers {
			if s.Suffrage == raft.Voter {
				voters++
			} else {
				others++
			}
		}
		ch <- prometheus.MustNewConstMetric(descMembers, prometheus.GaugeValue, float64(voters), "voter")
		ch <- prometheus.MustNewConstMetric(descMembers, prometheus.GaugeValue, float64(others), "nonvoter")
	}
	if u, err := c.DiskUsage(); err == nil {
		ch <- prometheus.MustNewConstMetric(descLogEntries, prometheus.GaugeValue, float64(u.LogEntries))
		ch <- prometheus.MustNewConstMetric(descDiskBytes, prometheus.GaugeValue, float64(u.RaftDBBytes), "raft_db")
		ch <- prometheus.MustNewConstMetric(descDiskBytes, prometheus.GaugeValue, float64(u.SnapshotBytes), "snapshots")
	}
	if h := c.Health(); h.Known {
		ch <- prometheus.MustNewConstMetric(descTolerance, prometheus.GaugeValue, float64(h.FailureTolerance))
		// Compare like with like: the leader's own index from the same
		// health round, not its index now.
		if self, ok := h.Members[c.cfg.ID]; ok {
			st.LastIndex = self.Stats.LastIndex
		}
		for id, m := range h.Members {
			healthy := 0.0
			if m.Healthy {
				healthy = 1
			}
			trailing := 0.0
			if st.LastIndex > m.Stats.LastIndex {
				trailing = float64(st.LastIndex - m.Stats.LastIndex)
			}
			ch <- prometheus.MustNewConstMetric(descPeerHealthy, prometheus.GaugeValue, healthy, id)
			ch <- prometheus.MustNewConstMetric(descPeerContact, prometheus.GaugeValue, m.Stats.LastContact.Seconds(), id)
			ch <- prometheus.MustNewConstMetric(descPeerTrailing, prometheus.GaugeValue, trailing, id)
		}
	}
	ch <- c.metrics.leaderChanges
	ch <- c.metrics.applyDuration
	ch <- c.metrics.readWait
	ch <- c.metrics.readRounds
	ch <- c.metrics.readsPerRound
	c.transport.gate.counts.Collect(ch)
	c.alarms.gauge.Collect(ch)
	c.clocks.offsets.Collect(ch)
	c.clocks.skewTotal.Collect(ch)
}
