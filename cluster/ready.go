package cluster

import (
	"fmt"

	"github.com/hashicorp/raft"
)

// Ready reports whether this site can serve: no CORRUPT or NOSPACE alarm
// is raised, a leader is known, this site is in the configuration, and it
// has applied every entry it knows to be committed. It returns an error
// saying what is missing otherwise (a *NoLeaderError, saying whether the
// site is cut off, when no leader is known).
func (c *Cluster) Ready() error {
	if c.raft.State() == raft.Shutdown {
		return ErrShutdown
	}
	if err := c.ServesLocalReads(); err != nil {
		return err
	}
	if err := c.Reach(); err != nil {
		return err
	}
	if !c.isMember() {
		return ErrNotMember
	}
	if commit, applied := c.raft.CommitIndex(), c.raft.AppliedIndex(); applied < commit {
		return fmt.Errorf("catching up: applied index %d of commit index %d", applied, commit)
	}
	return nil
}

// isMember reports whether this site is in the latest configuration it
// knows.
func (c *Cluster) isMember() bool {
	f := c.raft.GetConfiguration()
	if f.Error() != nil {
		return false
	}
	for _, s := range f.Configuration().Servers {
		if s.ID == raft.ServerID(c.cfg.ID) {
			return true
		}
	}
	return false
}
