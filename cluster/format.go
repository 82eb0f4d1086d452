package cluster

import "fmt"

// Log formats across versions. Config.LogFormat is the newest log format
// this binary reads, both this package's entries (checkpoints and
// deny-list records came with format 2) and the caller's commands; every
// site reports it in its stats, which the leader's health checks collect.
// The leader proposes an entry of a newer format only when every member
// reads it (MembersRead); what the caller does with that is its own
// business (the pipeline raises its replicated format the same way).

// MembersRead reports, on the leader, whether every member of the
// configuration has reported a log format of at least format. If not, it
// names a member that has not and the format it reported (0: it reported
// none, an older binary, or it has not answered a health check yet).
func (c *Cluster) MembersRead(format int) (ok bool, site string, has int) {
	return c.membersRead(format)
}

func (c *Cluster) membersRead(format int) (bool, string, int) {
	if !c.IsLeader() {
		return false, c.cfg.ID, 0
	}
	f := c.raft.GetConfiguration()
	if f.Error() != nil {
		return false, "", 0
	}
	c.health.mu.Lock()
	defer c.health.mu.Unlock()
	for _, s := range f.Configuration().Servers {
		if string(s.ID) == c.cfg.ID {
			if c.cfg.LogFormat < format {
				return false, c.cfg.ID, c.cfg.LogFormat
			}
			continue
		}
		rep, ok := c.health.reports[s.ID]
		if !ok || rep.stats.Format < format {
			return false, string(s.ID), rep.stats.Format
		}
	}
	return true, "", 0
}

// FormatError is the refusal of something only a newer log format can
// express while a member still runs an older binary.
func FormatError(site string, has, need int) error {
	if has == 0 {
		return fmt.Errorf("site %s runs an older version of innonet (or has not reported its version yet): this needs log format %d on every site; upgrade %s first", site, need, site)
	}
	return fmt.Errorf("site %s runs an older version of innonet (it reads log format %d; this needs %d): upgrade %s first", site, has, need, site)
}
