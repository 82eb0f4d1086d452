package cluster

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/hashicorp/raft"
)

// Config configures one site's Raft member.
type Config struct {
	// ID is the site code, used as the Raft server ID.
	ID string
	// RaftAddr is the address Raft listens on; AdvertiseAddr, if set, is the
	// address other sites dial (behind NAT or in containers).
	RaftAddr      string
	AdvertiseAddr string
	// APIAddr is this site's gRPC/REST address, replicated so that other
	// sites can forward requests here while this site leads.
	APIAddr string
	// DataDir holds raft.db (log and stable store) and snapshots/.
	DataDir string
	// Bootstrap makes this site the first member of a new cluster. It is
	// ignored when DataDir already holds Raft state.
	Bootstrap bool

	// Timings. LAN defaults come from DefaultConfig; see Profiles.
	HeartbeatTimeout   time.Duration
	ElectionTimeout    time.Duration
	LeaderLeaseTimeout time.Duration
	CommitTimeout      time.Duration
	// ApplyTimeout bounds how long Apply waits for a command to commit.
	ApplyTimeout time.Duration
	// TransportTimeout bounds each Raft RPC on the network.
	TransportTimeout time.Duration
	// MinLeaderWait is a floor under LeaderWait (twice the election
	// timeout). Only the test profile sets one, Consul's 7s hold: test
	// clusters on a loaded machine change leaders often, and elect more
	// slowly than twice its 200ms.
	MinLeaderWait time.Duration

	// Log compaction: a snapshot is taken every SnapshotInterval when at
	// least SnapshotThreshold entries were added since the last; the log
	// keeps TrailingLogs entries behind it so lagging sites can catch up
	// without a full snapshot. SnapshotRetain snapshot files are kept.
	SnapshotInterval  time.Duration
	SnapshotThreshold uint64
	TrailingLogs      uint64
	SnapshotRetain    int

	// Server health (raft-autopilot, run by the leader). A member is
	// healthy when it heard from the leader within LastContactThreshold,
	// is on the leader's term and trails the leader's log by at most
	// MaxTrailingLogs entries. A site that asked to vote joins as a
	// non-voter and is promoted once it has been healthy for
	// StabilizationTime. A member the leader cannot reach for
	// DeadSiteTimeout is removed, if that leaves at least MinQuorum voters
	// and Raft's own limit (never more than a minority at once) allows;
	// DeadSiteTimeout 0 disables the removal.
	LastContactThreshold time.Duration
	MaxTrailingLogs      uint64
	StabilizationTime    time.Duration
	DeadSiteTimeout      time.Duration
	MinQuorum            uint
	// HealthInterval is how often the leader polls the members.
	HealthInterval time.Duration
	// FetchStats asks a member for its Raft progress (the leader's health
	// checks need every member's view). The API layer supplies it; without
	// it every other member counts as unreachable.
	FetchStats func(ctx context.Context, m Member) (Stats, error)

	// Ping makes one cheap round trip to member m over the API layer's
	// site-to-site connection; every site calls it for every other
	// member each ProbeInterval and reports its round-trip estimates in
	// its Stats (rtt.go). Without it nothing is measured and placement
	// never moves the leader.
	Ping          func(ctx context.Context, m Member) error
	ProbeInterval time.Duration

	// Leader placement (placement.go, placer.go): every
	// PlacementInterval the leader estimates the commit latency of the
	// observed write mix at each eligible voter and hands leadership to
	// the best one when it gains at least PlacementMargin (relative) and
	// PlacementMinGain per write, once it has led PlacementDwell and
	// seen PlacementMinWrites writes (or none: then every site counts
	// alike). Writes are counted with a half-life of
	// PlacementHalfLife. PlacementManual (--leader-placement manual)
	// never moves it; PlacementInterval 0 turns the loop off.
	PlacementManual    bool
	PlacementInterval  time.Duration
	PlacementDwell     time.Duration
	PlacementHalfLife  time.Duration
	PlacementMinWrites float64
	PlacementMargin    float64
	PlacementMinGain   time.Duration

	// PinVoters makes a site with no configuration yet refuse all Raft
	// traffic until TrustVoters names the voters (a site that joins
	// through the API learns them from the cluster). Without it such a
	// site accepts the first site certificate that leads it.
	PinVoters bool
	// LogFormat is the newest log format this binary reads (its own
	// entries and the caller's commands); every site reports it, and
	// entries of a newer format are proposed only once every member reads
	// them (see format.go). Zero: format 1, what binaries without
	// checkpoints read.
	LogFormat int
	// CheckpointInterval is how often the leader commits a state
	// checkpoint, at which every site digests its state and the digests
	// are compared (checkpoint.go); 0 disables them.
	CheckpointInterval time.Duration
	// MaxClockSkew is how far a member's clock may be from the leader's
	// before it is reported (CLOCK_SKEW), and a leader that far ahead of
	// most voters hands leadership over (clock.go); 0 disables the check.
	MaxClockSkew time.Duration
	// Clock, for tests, replaces time.Now as this site's clock where it
	// is reported to others.
	Clock func() time.Time

	// PeerTLS, when set, makes Raft traffic mutual TLS bound to site
	// identities; nil means plaintext.
	PeerTLS PeerTLS
	// Dial opens connections to other sites (default: TCP).
	Dial DialFunc
	// NoPipeline replicates with one AppendEntries at a time per follower
	// instead of a pipeline (pipeline.go): for comparison, and a way back
	// should the pipeline misbehave.
	NoPipeline bool

	// Logger receives the package's logs and, at RaftLogLevel (off, error,
	// warn, info, debug), the Raft library's.
	Logger       *slog.Logger
	RaftLogLevel string
}

// DefaultConfig returns LAN timings (Raft's defaults) and moderate log
// compaction.
func DefaultConfig() Config {
	c := Config{
		CommitTimeout:      50 * time.Millisecond,
		TransportTimeout:   10 * time.Second,
		SnapshotInterval:   2 * time.Minute,
		SnapshotThreshold:  8192,
		TrailingLogs:       10240,
		SnapshotRetain:     2,
		RaftLogLevel:       "warn",
		DeadSiteTimeout:    15 * time.Minute,
		MinQuorum:          3,
		PlacementMargin:    0.15,
		PlacementMinGain:   10 * time.Millisecond,
		PlacementMinWrites: 20,
		PlacementHalfLife:  5 * time.Minute,
	}
	if err := c.UseProfile("lan"); err != nil {
		panic(err)
	}
	return c
}

// Profiles names the timing profiles UseProfile accepts.
//
//   - lan: heartbeat and election 1s, leader lease 500ms, apply 10s;
//     health: last contact 1s, 250 trailing entries, stable after 10s,
//     polled every 2s; clock skew allowed 500ms; a state checkpoint every
//     5m; round trips probed every 1s, placement evaluated every 10s
//     after a dwell of 60s. For sites in one data centre or on one machine.
//   - wan: heartbeat and election 5s, leader lease 2.5s, apply 30s;
//     health: last contact 5s, 1000 trailing entries, stable after 30s,
//     polled every 5s; clock skew allowed 2s; a checkpoint every 5m;
//     round trips probed every 2s, placement evaluated every 5s after a
//     dwell of 45s (so a CGO bootstrap reaches MUC within a minute). For
//     sites on different continents (round trips of 20-250 ms and links
//     that stall): five times the LAN timings, as Consul's
//     raft_multiplier recommends for production, so a slow link is not
//     taken for a dead leader.
//   - test: heartbeat and election 200ms, lease 100ms, apply 5s; leader
//     wait 7s (see LeaderWait); health: last contact 500ms,
//     stable after 300ms, polled every 100ms; clock skew allowed 500ms; a
//     checkpoint every 2s; round trips probed every 250ms, placement
//     evaluated every 200ms after a dwell of 1.5s, writes counted with a
//     half-life of 30s. For in-process tests on loopback.
var Profiles = []string{"lan", "wan", "test"}

// UseProfile sets the timings of a named profile.
func (c *Config) UseProfile(name string) error {
	switch name {
	case "lan":
		c.HeartbeatTimeout, c.ElectionTimeout, c.LeaderLeaseTimeout = time.Second, time.Second, 500*time.Millisecond
		c.MinLeaderWait = 0
		c.ApplyTimeout = 10 * time.Second
		c.LastContactThreshold, c.MaxTrailingLogs, c.StabilizationTime, c.HealthInterval = time.Second, 250, 10*time.Second, 2*time.Second
		c.MaxClockSkew, c.CheckpointInterval = 500*time.Millisecond, 5*time.Minute
		c.ProbeInterval, c.PlacementInterval, c.PlacementDwell = time.Second, 10*time.Second, time.Minute
	case "wan":
		c.HeartbeatTimeout, c.ElectionTimeout, c.LeaderLeaseTimeout = 5*time.Second, 5*time.Second, 2500*time.Millisecond
		c.MinLeaderWait = 0
		c.ApplyTimeout = 30 * time.Second
		c.TransportTimeout = 30 * time.Second
		c.LastContactThreshold, c.MaxTrailingLogs, c.StabilizationTime, c.HealthInterval = 5*time.Second, 1000, 30*time.Second, 5*time.Second
		c.MaxClockSkew, c.CheckpointInterval = 2*time.Second, 5*time.Minute
		c.ProbeInterval, c.PlacementInterval, c.PlacementDwell = 2*time.Second, 5*time.Second, 45*time.Second
	case "test":
		c.HeartbeatTimeout, c.ElectionTimeout, c.LeaderLeaseTimeout = 200*time.Millisecond, 200*time.Millisecond, 100*time.Millisecond
		c.MinLeaderWait = 7 * time.Second
		c.CommitTimeout = 5 * time.Millisecond
		c.ApplyTimeout = 5 * time.Second
		c.LastContactThreshold, c.MaxTrailingLogs, c.StabilizationTime, c.HealthInterval = 500*time.Millisecond, 250, 300*time.Millisecond, 100*time.Millisecond
		c.MaxClockSkew, c.CheckpointInterval = 500*time.Millisecond, 2*time.Second
		c.ProbeInterval, c.PlacementInterval, c.PlacementDwell = 250*time.Millisecond, 200*time.Millisecond, 1500*time.Millisecond
		c.PlacementHalfLife = 30 * time.Second
	default:
		return fmt.Errorf("unknown timing profile %q (want lan, wan or test)", name)
	}
	return nil
}

// LeaderWait is how long a site waits for a leader it cannot reach
// before it answers that none is reachable, and after which a site that
// has heard from no leader calls itself cut off: twice the election
// timeout (2s with the lan profile, 10s with wan; at least MinLeaderWait,
// 7s with test). A crashed leader is replaced within it as a rule:
// followers miss it after one to two heartbeat timeouts and elect another
// in a round of votes. A request that would wait longer is answered
// UNAVAILABLE, to be sent again (with the same request ID) or through
// another site.
func (c Config) LeaderWait() time.Duration { return max(2*c.ElectionTimeout, c.MinLeaderWait) }

func (c Config) validate() error {
	switch {
	case c.ID == "":
		return fmt.Errorf("cluster config: ID (site code) is required")
	case c.RaftAddr == "":
		return fmt.Errorf("cluster config: RaftAddr is required")
	case c.DataDir == "":
		return fmt.Errorf("cluster config: DataDir is required")
	case c.LeaderLeaseTimeout > c.HeartbeatTimeout:
		return fmt.Errorf("cluster config: leader lease timeout %s exceeds heartbeat timeout %s", c.LeaderLeaseTimeout, c.HeartbeatTimeout)
	case c.ElectionTimeout < c.HeartbeatTimeout:
		return fmt.Errorf("cluster config: election timeout %s is below heartbeat timeout %s", c.ElectionTimeout, c.HeartbeatTimeout)
	}
	return nil
}

func (c Config) raftConfig() *raft.Config {
	rc := raft.DefaultConfig()
	rc.LocalID = raft.ServerID(c.ID)
	rc.HeartbeatTimeout = c.HeartbeatTimeout
	rc.ElectionTimeout = c.ElectionTimeout
	rc.LeaderLeaseTimeout = c.LeaderLeaseTimeout
	rc.CommitTimeout = c.CommitTimeout
	rc.SnapshotInterval = c.SnapshotInterval
	rc.SnapshotThreshold = c.SnapshotThreshold
	rc.TrailingLogs = c.TrailingLogs
	return rc
}
