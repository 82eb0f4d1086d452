package cluster

import (
	"context"
	"fmt"
	"sort"

	"github.com/hashicorp/raft"
)

// Member is one site in the Raft configuration.
type Member struct {
	ID       string
	RaftAddr string
	APIAddr  string
	Voter    bool
	Leader   bool
}

// Status is the group as this site sees it.
type Status struct {
	ID           string
	State        string // Leader, Follower, Candidate, Shutdown
	Leader       string
	Term         uint64
	CommitIndex  uint64
	AppliedIndex uint64
	LastLogIndex uint64
	Members      []Member
}

// Status reports the members, the leader and the Raft indexes.
func (c *Cluster) Status() (Status, error) {
	leader, _ := c.Leader()
	st := Status{
		ID: c.cfg.ID, State: c.raft.State().String(), Leader: leader,
		Term: c.raft.CurrentTerm(), CommitIndex: c.raft.CommitIndex(),
		AppliedIndex: c.raft.AppliedIndex(), LastLogIndex: c.raft.LastIndex(),
	}
	f := c.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return st, fmt.Errorf("read configuration: %w", c.mapErr(err))
	}
	for _, s := range f.Configuration().Servers {
		id := string(s.ID)
		st.Members = append(st.Members, Member{
			ID: id, RaftAddr: string(s.Address), APIAddr: c.fsm.apiAddr(id),
			Voter: s.Suffrage == raft.Voter, Leader: id == leader,
		})
	}
	sort.Slice(st.Members, func(i, j int) bool { return st.Members[i].ID < st.Members[j].ID })
	return st, nil
}

// Join adds a site to the group, as a voter or a non-voter (read replica).
// It must run on the leader. It is idempotent: joining again with the same
// address and role changes nothing, so a restarted site may always ask.
// A site that comes back with a new Raft address replaces its old entry;
// an address held by another ID is refused.
func (c *Cluster) Join(ctx context.Context, id, raftAddr, apiAddr string, voter bool) error {
	if !c.IsLeader() {
		return c.notLeader()
	}
	if id == "" || raftAddr == "" {
		return fmt.Errorf("join: site ID and raft address are required")
	}
	f := c.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return fmt.Errorf("join %s: read configuration: %w", id, c.mapErr(err))
	}
	if apiAddr != "" && c.fsm.apiAddr(id) != apiAddr {
		if err := c.setAPIAddr(ctx, id, apiAddr); err != nil {
			return fmt.Errorf("join %s: %w", id, err)
		}
	}
	for _, s := range f.Configuration().Servers {
		switch {
		case s.ID == raft.ServerID(id) && s.Address == raft.ServerAddress(raftAddr):
			isVoter := s.Suffrage == raft.Voter
			if isVoter == voter {
				return nil // already a member as asked
			}
			if !voter {
				return c.wait(c.raft.DemoteVoter(s.ID, 0, c.cfg.ApplyTimeout), "demote "+id)
			}
			// A non-voter asking to vote is promoted below.
		case s.Address == raft.ServerAddress(raftAddr):
			return fmt.Errorf("join %s: raft address %s already belongs to site %s", id, raftAddr, s.ID)
		case s.ID == raft.ServerID(id):
			c.log.Info("site rejoins with a new raft address", "joiner", id, "old", s.Address, "new", raftAddr)
			if err := c.wait(c.raft.RemoveServer(s.ID, 0, c.cfg.ApplyTimeout), "remove old entry of "+id); err != nil {
				return err
			}
		}
	}
	if voter {
		return c.wait(c.raft.AddVoter(raft.ServerID(id), raft.ServerAddress(raftAddr), 0, c.cfg.ApplyTimeout), "add voter "+id)
	}
	return c.wait(c.raft.AddNonvoter(raft.ServerID(id), raft.ServerAddress(raftAddr), 0, c.cfg.ApplyTimeout), "add non-voter "+id)
}

func (c *Cluster) wait(f raft.IndexFuture, what string) error {
	if err := f.Error(); err != nil {
		return fmt.Errorf("%s: %w", what, c.mapErr(err))
	}
	c.log.Info("membership changed", "change", what)
	return nil
}
