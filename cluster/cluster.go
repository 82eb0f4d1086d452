package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	autopilot "github.com/hashicorp/raft-autopilot"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
)

// logCacheEntries is how many of the latest log entries a site keeps in
// memory (raft.LogCache): more than raft sends in one AppendEntries
// (MaxAppendEntries) to a follower that keeps up, for a few rounds.
const logCacheEntries = 1024

// Cluster is one site's member of the Raft group.
type Cluster struct {
	cfg       Config
	raft      *raft.Raft
	fsm       *fsm
	store     *raftboltdb.BoltStore
	snaps     *raft.FileSnapshotStore
	transport *transport
	log       *slog.Logger
	hlog      hclog.Logger
	done      chan struct{}
	watchDone chan struct{}
	started   time.Time

	// Health checks (raft-autopilot) run while this site leads; apCancel
	// is touched only by watchLeadership's goroutine.
	autopilot *autopilot.Autopilot
	apCancel  context.CancelFunc
	health    healthState

	// barrierTerm is the term in which this leader last committed a
	// barrier: from then on its commit index covers every earlier
	// leader's entries, which linearizable reads rely on.
	barrierTerm atomic.Uint64
	metrics     *metrics
	lastLeader  atomic.Value // string: the last leader ID observed
	// ledUntil is when this site last stopped leading (Unix ns; 0:
	// never): a raft follower's last contact does not count its own
	// term as leader.
	ledUntil atomic.Int64
	reads    readIndex
	alarms   *alarms
	clocks   *clockState
	// Leader placement: round trips measured, writes counted, the
	// latest evaluation.
	rtt    *rttEstimator
	writes *writeMix
	place  placementState
}

// New opens (or creates) the site's Raft state in cfg.DataDir and starts the
// member. With cfg.Bootstrap and no existing state, it bootstraps a new
// cluster with itself as the only voter; otherwise it waits to be added by
// the leader (see Join) or resumes from disk.
func New(cfg Config, app raft.FSM) (*Cluster, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	log = log.With("site", cfg.ID)
	dir := filepath.Join(cfg.DataDir, "raft")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create raft dir: %w", err)
	}
	hlog := raftLogger(log, cfg.RaftLogLevel)

	dbPath := filepath.Join(dir, "raft.db")
	if err := checkStore(dbPath); err != nil {
		return nil, err
	}
	store, err := openLogStore(dbPath)
	if err != nil {
		return nil, fmt.Errorf("open raft log store: %w", err)
	}
	snaps, err := raft.NewFileSnapshotStoreWithLogger(dir, cfg.SnapshotRetain, hlog)
	if err != nil {
		store.Close()
		return nil, fmt.Errorf("open snapshot store: %w", err)
	}
	// Without an advertise address the transport advertises the address it
	// actually bound (which also makes port 0 work in tests).
	transport, err := newTransport(cfg, log, hlog)
	if err != nil {
		store.Close()
		return nil, fmt.Errorf("listen for raft on %s: %w", cfg.RaftAddr, err)
	}
	rc := cfg.raftConfig()
	rc.Logger = hlog

	existing, err := raft.HasExistingState(store, store, snaps)
	if err != nil {
		transport.Close()
		store.Close()
		return nil, fmt.Errorf("check raft state: %w", err)
	}
	al := newAlarms(cfg.DataDir)
	if a, ok := al.loadMarker(); ok {
		log.Error("CORRUPT: this site found itself damaged before and applies nothing; rebuild it from its peers (see README, \"Rebuilding a damaged site\")",
			"detail", a.Detail, "alarm", AlarmCorrupt)
	}
	f := newFSM(app, al)
	f.onDenied = transport.applyDenied
	c := &Cluster{cfg: cfg, fsm: f, store: store, snaps: snaps, transport: transport, log: log, hlog: hlog,
		done: make(chan struct{}), watchDone: make(chan struct{}), started: time.Now(), metrics: newMetrics(cfg.ID),
		alarms: al, clocks: newClockState(), rtt: newRTTEstimator(),
		writes: &writeMix{halfLife: cfg.PlacementHalfLife, w: map[string]float64{}}}
	c.health.reports = map[raft.ServerID]report{}
	// Until raft runs, a damaged entry is reported without a leader to
	// step down; markCorrupt needs c.raft.
	var running atomic.Bool
	f.corrupt = func(detail string) {
		if running.Load() {
			c.markCorrupt(detail)
			return
		}
		if al.raise(AlarmCorrupt, detail) {
			log.Error("CORRUPT: this site stopped applying the log; it must be rebuilt from its peers (see README, \"Rebuilding a damaged site\")",
				"detail", detail, "alarm", AlarmCorrupt)
		}
	}
	disk := diskStore{BoltStore: store, c: c}
	// Raft reads every entry back soon after writing it: the leader for
	// each follower it sends it to, every site to apply it. The cache
	// answers those reads from memory instead of a Bolt read transaction
	// and a msgpack decode each; it holds the entries as written.
	logs, err := raft.NewLogCache(logCacheEntries, disk)
	if err != nil {
		transport.Close()
		store.Close()
		return nil, fmt.Errorf("log cache: %w", err)
	}
	r, err := raft.NewRaft(rc, f, logs, disk, snaps, transport)
	if err != nil {
		transport.Close()
		store.Close()
		return nil, fmt.Errorf("start raft: %w", err)
	}
	c.raft = r
	running.Store(true)
	c.autopilot = newAutopilot(c)
	transport.setSiteLookup(c.siteAt)
	roles := c.roleOf
	transport.gate.roles.Store(&roles)
	held := c.heldSnapshot
	transport.stale.Store(&held)
	r.RegisterObserver(raft.NewObserver(c.metrics.observations, false, func(o *raft.Observation) bool {
		_, ok := o.Data.(raft.LeaderObservation)
		return ok
	}))
	go c.metrics.watchLeaders(c.done, &c.lastLeader)
	if cfg.Bootstrap && !existing {
		boot := raft.Configuration{Servers: []raft.Server{{
			ID: raft.ServerID(cfg.ID), Address: transport.LocalAddr(), Suffrage: raft.Voter,
		}}}
		if err := r.BootstrapCluster(boot).Error(); err != nil && !errors.Is(err, raft.ErrCantBootstrap) {
			c.Close()
			return nil, fmt.Errorf("bootstrap: %w", err)
		}
		log.Info("bootstrapped a new cluster", "raft_addr", transport.LocalAddr())
	} else if existing {
		log.Info("resuming from existing raft state", "dir", dir)
	}
	go c.watchLeadership()
	go c.runCheckpoints()
	go c.runProbes()
	go c.runPlacement()
	return c, nil
}

// watchLeadership records this site's API address in the log whenever it
// becomes leader and the replicated record is missing or out of date, so a
// site restarted with a new API address is found again.
func (c *Cluster) watchLeadership() {
	defer close(c.watchDone)
	defer c.runHealth(false)
	for {
		select {
		case <-c.done:
			return
		case leader := <-c.raft.LeaderCh():
			if !leader {
				c.ledUntil.Store(time.Now().UnixNano())
			}
			c.runHealth(leader)
			if leader && c.Corrupt() {
				go c.stepDown("this site is CORRUPT")
			}
			if !leader || c.cfg.APIAddr == "" || c.fsm.apiAddr(c.cfg.ID) == c.cfg.APIAddr {
				continue
			}
			ctx, cancel := context.WithTimeout(context.Background(), c.cfg.ApplyTimeout)
			if err := c.setAPIAddr(ctx, c.cfg.ID, c.cfg.APIAddr); err != nil {
				c.log.Warn("record own API address", "err", err)
			}
			cancel()
		}
	}
}

// ID is this site's server ID.
func (c *Cluster) ID() string { return c.cfg.ID }

// RaftAddr is the address other sites reach this one's Raft transport on.
func (c *Cluster) RaftAddr() string { return string(c.transport.LocalAddr()) }

// Apply proposes cmd and returns the caller FSM's response once the command
// is committed and applied here. It returns ErrNotLeader on a follower,
// ErrUnknownOutcome when leadership is lost mid-commit, ErrTimeout or the
// context's error when time runs out.
func (c *Cluster) Apply(ctx context.Context, cmd []byte) (any, error) {
	entry := make([]byte, 1+len(cmd))
	entry[0] = kindApp
	copy(entry[1:], cmd)
	return c.apply(ctx, entry)
}

func (c *Cluster) apply(ctx context.Context, entry []byte) (any, error) {
	if c.raft.State() != raft.Leader {
		return nil, c.notLeader()
	}
	if err := c.ServesLocalReads(); err != nil && c.Corrupt() {
		// This leader would commit the entry but could not apply it; it
		// is handing leadership over.
		return nil, err
	}
	timeout := c.cfg.ApplyTimeout
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < timeout {
		timeout = time.Until(dl)
	}
	start := time.Now()
	f := c.raft.ApplyLog(raft.Log{Data: entry, Extensions: checksumExt(entry)}, timeout)
	done := make(chan error, 1)
	go func() { done <- f.Error() }()
	select {
	case err := <-done:
		if err != nil {
			return nil, c.mapErr(err)
		}
		c.metrics.applyDuration.Observe(time.Since(start).Seconds())
		return f.Response(), nil
	case <-ctx.Done():
		// The entry may still commit; a retry with the same request ID is safe.
		return nil, fmt.Errorf("apply: %w", ctx.Err())
	}
}

func (c *Cluster) notLeader() error {
	if id, _ := c.Leader(); id == "" {
		return c.noLeader()
	}
	return ErrNotLeader
}

func (c *Cluster) mapErr(err error) error {
	switch {
	case errors.Is(err, raft.ErrNotLeader):
		return c.notLeader()
	case errors.Is(err, raft.ErrLeadershipLost), errors.Is(err, raft.ErrLeadershipTransferInProgress):
		return ErrUnknownOutcome
	case errors.Is(err, raft.ErrEnqueueTimeout):
		return ErrTimeout
	case errors.Is(err, raft.ErrRaftShutdown):
		return ErrShutdown
	}
	return fmt.Errorf("raft: %w", err)
}

// IsLeader reports whether this site is the leader now.
func (c *Cluster) IsLeader() bool { return c.raft.State() == raft.Leader }

// Leader returns the leader's site ID and API address, or empty strings
// when no leader is known.
func (c *Cluster) Leader() (id, apiAddr string) {
	_, sid := c.raft.LeaderWithID()
	if sid == "" {
		return "", ""
	}
	return string(sid), c.fsm.apiAddr(string(sid))
}

// LastKnownLeader returns the leader this site heard from most recently,
// even if it has not heard from it for longer than the heartbeat timeout
// (when Leader reports none). A request forwarded there is safe: a site
// that no longer leads refuses it.
func (c *Cluster) LastKnownLeader() (id, apiAddr string) {
	if id, addr := c.Leader(); id != "" {
		return id, addr
	}
	id, _ = c.lastLeader.Load().(string)
	if id == "" || id == c.cfg.ID {
		return "", ""
	}
	return id, c.fsm.apiAddr(id)
}

// WaitForLeader blocks until a leader is known or ctx ends.
func (c *Cluster) WaitForLeader(ctx context.Context) (string, error) {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		if id, _ := c.Leader(); id != "" {
			return id, nil
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("wait for leader: %w", ctx.Err())
		case <-t.C:
		}
	}
}

// Snapshot forces a snapshot now (log compaction); mostly for tests and
// operators.
func (c *Cluster) Snapshot() error {
	if err := c.raft.Snapshot().Error(); err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	return nil
}

// Close hands leadership to another voter if this site leads (so the
// group need not wait an election timeout to notice it is gone), then
// stops the member and closes its stores. It does not leave the
// configuration: a site closed and started again resumes.
func (c *Cluster) Close() error {
	c.HandOver()
	return c.Halt()
}

// HandOver transfers leadership to another voter if this site leads and
// there is one; it returns once this site has stepped down (or the
// transfer failed, which is logged). Close calls it; a caller that must
// keep serving during the handover calls it before Halt.
func (c *Cluster) HandOver() {
	if !c.IsLeader() || c.otherVoters() == 0 {
		return
	}
	start := time.Now()
	if err := c.raft.LeadershipTransfer().Error(); err != nil {
		c.log.Warn("leadership handover before shutdown failed", "err", err)
		return
	}
	to, _ := c.Leader()
	c.log.Info("handed leadership over before shutdown", "to", to, "took", time.Since(start).Round(time.Millisecond))
}

// Halt stops the member at once, without handing over leadership: to the
// rest of the group it looks like a crash. For fault drills and tests;
// Close is the orderly way.
func (c *Cluster) Halt() error {
	select {
	case <-c.done:
		return nil
	default:
		close(c.done)
	}
	<-c.watchDone
	shutdown := c.raft.Shutdown()
	// Raft waits for its replication to stop; a call stalled on a cut
	// link would hold it until its deadline.
	c.transport.closeOutbound()
	err := shutdown.Error()
	if cerr := c.transport.Close(); err == nil {
		err = cerr
	}
	if cerr := c.store.Close(); err == nil {
		err = cerr
	}
	return err
}

// otherVoters counts the voters other than this site.
func (c *Cluster) otherVoters() int {
	f := c.raft.GetConfiguration()
	if f.Error() != nil {
		return 0
	}
	n := 0
	for _, s := range f.Configuration().Servers {
		if s.Suffrage == raft.Voter && s.ID != raft.ServerID(c.cfg.ID) {
			n++
		}
	}
	return n
}

// setAPIAddr replicates a member's API address.
func (c *Cluster) setAPIAddr(ctx context.Context, id, addr string) error {
	return c.setMeta(ctx, metaRecord{ID: id, APIAddr: addr})
}

// setMeta replicates a member record (API address and/or voting wish).
func (c *Cluster) setMeta(ctx context.Context, m metaRecord) error {
	id := m.ID
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	entry := append([]byte{kindMeta}, b...)
	res, err := c.apply(ctx, entry)
	if err != nil {
		return fmt.Errorf("record member %s: %w", id, err)
	}
	if err, ok := res.(error); ok {
		return err
	}
	return nil
}

var _ io.Closer = (*Cluster)(nil)
