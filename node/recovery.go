package node

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"

	"innonet/cluster"
	"innonet/node/pipeline"
)

// CheckBackup verifies a backup file (what Backup streams: see
// backupfile.go), reads it into a scratch state and reports what it holds
// and the log index it reflects, or why it cannot be restored.
func CheckBackup(backup []byte, opts BackupOptions) (BackupInfo, error) {
	_, info, err := checkBackup(backup, opts)
	return info, err
}

func checkBackup(backup []byte, opts BackupOptions) ([]byte, BackupInfo, error) {
	snap, sum, err := VerifyBackup(backup, opts)
	if err != nil {
		return nil, BackupInfo{}, err
	}
	st := pipeline.New()
	if err := st.Restore(bytes.NewReader(snap)); err != nil {
		return nil, BackupInfo{}, fmt.Errorf("not a usable backup: %w", err)
	}
	info := BackupInfo{Applied: st.AppliedIndex(), SHA256: sum}
	for _, n := range st.Counts() {
		info.Leads += n
	}
	us, err := st.Users()
	if err != nil {
		return nil, BackupInfo{}, err
	}
	info.Users = len(us)
	return snap, info, nil
}

// Restore creates a new single-site cluster in cfg.DataDir whose state is
// the backup: it checks the backup (its checksum, then its content; see
// CheckBackup), bootstraps a Raft group with this site
// as its only voter, installs the backup as the replicated state and stops.
// Start the site afterwards with the same --site, --data-dir and
// --raft-addr; other sites then join it and receive the restored state.
// The data dir must hold no Raft state.
func Restore(ctx context.Context, cfg Config, backup []byte, opts BackupOptions) error {
	if !pipeline.ValidSiteCode(cfg.Site) {
		return fmt.Errorf("site code %q: want 2 to 8 capital letters (e.g. CGO)", cfg.Site)
	}
	snap, info, err := checkBackup(backup, opts)
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(cfg.DataDir, "raft", "raft.db")); err == nil {
		return fmt.Errorf("%s already holds Raft state: restore needs an empty data dir (a new cluster)", cfg.DataDir)
	}
	cc := cfg.Cluster
	cc.ID, cc.DataDir, cc.Bootstrap, cc.APIAddr = cfg.Site, cfg.DataDir, true, cfg.APIAdvertise
	cc.FetchStats = nil
	if cc.Logger == nil {
		cc.Logger = cfg.Logger
	}
	c, err := cluster.New(cc, fsm{pipeline.New()})
	if err != nil {
		_ = os.RemoveAll(filepath.Join(cfg.DataDir, "raft")) // best effort; the restore's error matters
		return fmt.Errorf("restore: %w", err)
	}
	// The only voter elects itself.
	_, err = c.WaitForLeader(ctx)
	if err == nil {
		err = c.Restore(ctx, snap, info.Applied)
	}
	if herr := c.Halt(); err == nil {
		err = herr
	}
	if err != nil {
		// Leave the dir as it was, so the restore can simply be run again.
		_ = os.RemoveAll(filepath.Join(cfg.DataDir, "raft")) // best effort; the restore's error matters
		return fmt.Errorf("restore: %w", err)
	}
	return nil
}

// Recover rewrites the Raft configuration in cfg.DataDir to members, for
// when a majority of voters is lost for good: run it (offline) on each
// surviving site with the same members, then start them again. See
// cluster.Recover.
func Recover(cfg Config, members []cluster.Member) error {
	cc := cfg.Cluster
	cc.ID, cc.DataDir = cfg.Site, cfg.DataDir
	if cc.Logger == nil {
		cc.Logger = cfg.Logger
	}
	return cluster.Recover(cc, fsm{pipeline.New()}, members)
}
