package cluster

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/hashicorp/raft"
)

// Restore replaces the whole replicated state with app, a snapshot in the
// caller FSM's format (a backup) taken at log index, keeping the current
// members. It must run on the leader, which installs the snapshot and
// sends it to every other member; the log continues after index, so log
// indexes recorded in the state stay increasing. Meant for disaster
// recovery into a new cluster: restoring into a cluster in use discards
// whatever was written since the backup.
func (c *Cluster) Restore(ctx context.Context, app []byte, index uint64) error {
	if !c.IsLeader() {
		return c.notLeader()
	}
	// Raft refuses a restore until the leader has applied its latest
	// configuration (on a new cluster: the bootstrap entry).
	if err := c.raft.Barrier(c.cfg.ApplyTimeout).Error(); err != nil {
		return fmt.Errorf("restore: wait for the log to apply: %w", c.mapErr(err))
	}
	c.fsm.mu.RLock()
	m, err := json.Marshal(c.fsm.meta)
	c.fsm.mu.RUnlock()
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(m)))
	buf.Write(n[:])
	buf.Write(m)
	buf.Write(app)
	meta := &raft.SnapshotMeta{Version: raft.SnapshotVersionMax, Index: index, Size: int64(buf.Len())}
	timeout := c.cfg.ApplyTimeout
	if dl, ok := ctx.Deadline(); ok {
		timeout = min(timeout, max(0, time.Until(dl)))
	}
	if err := c.raft.Restore(meta, &buf, timeout); err != nil {
		return fmt.Errorf("restore: %w", c.mapErr(err))
	}
	c.log.Info("restored the replicated state from a backup", "bytes", len(app))
	return nil
}

// Recover rewrites the Raft configuration stored in cfg.DataDir to exactly
// servers, for when quorum is lost for good (a majority of voters is gone).
// Run it offline, on every surviving site that should be in the new group,
// with the same servers, then start those sites again: they elect a leader
// among themselves. Entries the lost sites held that no survivor has are
// gone; writes acknowledged by a quorum that included a survivor are kept.
// app is the caller's FSM (Recover replays the log into it to take a
// snapshot).
func Recover(cfg Config, app raft.FSM, servers []Member) error {
	if err := cfg.validate(); err != nil {
		return err
	}
	if len(servers) == 0 {
		return fmt.Errorf("recover: at least one member is required")
	}
	var conf raft.Configuration
	seen := map[string]bool{}
	self := false
	for _, m := range servers {
		if m.ID == "" || m.RaftAddr == "" {
			return fmt.Errorf("recover: member %q needs an ID and a raft address", m.ID)
		}
		if seen[m.ID] {
			return fmt.Errorf("recover: member %s listed twice", m.ID)
		}
		seen[m.ID] = true
		self = self || m.ID == cfg.ID
		s := raft.Nonvoter
		if m.Voter {
			s = raft.Voter
		}
		conf.Servers = append(conf.Servers, raft.Server{ID: raft.ServerID(m.ID), Address: raft.ServerAddress(m.RaftAddr), Suffrage: s})
	}
	if !self {
		return fmt.Errorf("recover: the new configuration must include this site (%s)", cfg.ID)
	}
	dir := filepath.Join(cfg.DataDir, "raft")
	if _, err := os.Stat(filepath.Join(dir, "raft.db")); err != nil {
		return fmt.Errorf("recover: no raft state in %s: %w", dir, err)
	}
	if err := checkStore(filepath.Join(dir, "raft.db")); err != nil {
		return fmt.Errorf("recover: %w", err)
	}
	store, err := openLogStore(filepath.Join(dir, "raft.db"))
	if err != nil {
		return fmt.Errorf("recover: open raft log store: %w", err)
	}
	defer store.Close()
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	hlog := raftLogger(log, cfg.RaftLogLevel)
	snaps, err := raft.NewFileSnapshotStoreWithLogger(dir, cfg.SnapshotRetain, hlog)
	if err != nil {
		return fmt.Errorf("recover: open snapshot store: %w", err)
	}
	_, trans := raft.NewInmemTransport(raft.ServerAddress(cfg.RaftAddr))
	defer trans.Close()
	rc := cfg.raftConfig()
	rc.Logger = hlog
	if err := raft.RecoverCluster(rc, newFSM(app, newAlarms(cfg.DataDir)), store, store, snaps, trans, conf); err != nil {
		return fmt.Errorf("recover: %w", err)
	}
	log.Warn("raft configuration rewritten for recovery", "site", cfg.ID, "members", len(conf.Servers))
	return nil
}
