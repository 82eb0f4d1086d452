package cluster

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// DiskUsage is what the member keeps on disk: the log that compaction
// trims, the bbolt file holding it, and the retained snapshots.
type DiskUsage struct {
	LogFirstIndex uint64
	LogLastIndex  uint64
	// LogEntries is the number of entries still in the log.
	LogEntries    uint64
	RaftDBBytes   int64
	Snapshots     int
	SnapshotBytes int64
}

// DiskUsage measures the member's files now.
func (c *Cluster) DiskUsage() (DiskUsage, error) {
	var u DiskUsage
	var err error
	if u.LogFirstIndex, err = c.store.FirstIndex(); err != nil {
		return u, fmt.Errorf("disk usage: %w", err)
	}
	if u.LogLastIndex, err = c.store.LastIndex(); err != nil {
		return u, fmt.Errorf("disk usage: %w", err)
	}
	if u.LogLastIndex > 0 {
		u.LogEntries = u.LogLastIndex - u.LogFirstIndex + 1
	}
	dir := filepath.Join(c.cfg.DataDir, "raft")
	if fi, err := os.Stat(filepath.Join(dir, "raft.db")); err == nil {
		u.RaftDBBytes = fi.Size()
	}
	snaps, err := c.snaps.List()
	if err != nil {
		return u, fmt.Errorf("disk usage: list snapshots: %w", err)
	}
	u.Snapshots = len(snaps)
	err = filepath.WalkDir(filepath.Join(dir, "snapshots"), func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		if fi, err := d.Info(); err == nil {
			u.SnapshotBytes += fi.Size()
		}
		return nil
	})
	return u, err
}
