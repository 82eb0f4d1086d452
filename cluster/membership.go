package cluster

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/hashicorp/raft"
)

// Member is one site in the Raft configuration.
type Member struct {
	ID       string
	RaftAddr string
	APIAddr  string
	Voter    bool
	Leader   bool
	// WantsVote: the site asked to vote. A joining voter is a non-voter
	// until it has been healthy for the stabilization time.
	WantsVote bool
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
	LastContact  time.Duration
	// Member is false when this site is not in the configuration it
	// knows (removed, or not yet joined).
	Member  bool
	Members []Member
	// Alarms are this site's own (CORRUPT, NOSPACE).
	Alarms []Alarm
	// LastLeader is the last leader this site knew, possibly itself.
	LastLeader string
	// NoLeader is set while this site hears from no leader (see Reach);
	// its CutOff says whether that has lasted longer than an election.
	NoLeader *NoLeaderError
}

// Status reports the members, the leader and the Raft indexes.
func (c *Cluster) Status() (Status, error) {
	leader, _ := c.Leader()
	st := Status{
		ID: c.cfg.ID, State: c.raft.State().String(), Leader: leader,
		Term: c.raft.CurrentTerm(), CommitIndex: c.raft.CommitIndex(),
		AppliedIndex: c.raft.AppliedIndex(), LastLogIndex: c.raft.LastIndex(), LastContact: c.LastContact(),
		Alarms: c.Alarms(), LastLeader: c.LastLeader(),
	}
	var nl *NoLeaderError
	if errors.As(c.Reach(), &nl) {
		st.NoLeader = nl
	}
	f := c.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return st, fmt.Errorf("read configuration: %w", c.mapErr(err))
	}
	for _, s := range f.Configuration().Servers {
		id := string(s.ID)
		wants, known := c.fsm.wantsVote(id)
		if !known {
			wants = s.Suffrage == raft.Voter
		}
		st.Members = append(st.Members, Member{
			ID: id, RaftAddr: string(s.Address), APIAddr: c.fsm.apiAddr(id),
			Voter: s.Suffrage == raft.Voter, Leader: id == leader, WantsVote: wants,
		})
		if id == c.cfg.ID {
			st.Member = true
		}
	}
	sort.Slice(st.Members, func(i, j int) bool { return st.Members[i].ID < st.Members[j].ID })
	return st, nil
}

// Join adds a site to the group, as a voter or a non-voter (read replica).
// It must run on the leader. It is idempotent: joining again with the same
// address and role changes nothing, so a restarted site may always ask.
// A site that comes back with a new Raft address replaces its old entry;
// an address held by another ID is refused.
//
// A site that asks to vote joins as a non-voter and the leader's health
// checks promote it once it has been healthy for StabilizationTime, so a
// new voter that cannot keep up never counts towards quorum. (Without
// FetchStats there are no health checks, and a voter is added at once.)
func (c *Cluster) Join(ctx context.Context, id, raftAddr, apiAddr string, voter bool) error {
	if !c.IsLeader() {
		return c.notLeader()
	}
	if id == "" || raftAddr == "" {
		return fmt.Errorf("join: site ID and raft address are required: %w", ErrRefused)
	}
	f := c.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return fmt.Errorf("join %s: read configuration: %w", id, c.mapErr(err))
	}
	for _, s := range f.Configuration().Servers {
		if s.Address == raft.ServerAddress(raftAddr) && s.ID != raft.ServerID(id) {
			return fmt.Errorf("join %s: raft address %s already belongs to site %s: %w", id, raftAddr, s.ID, ErrRefused)
		}
	}
	if wants, known := c.fsm.wantsVote(id); !known || wants != voter || (apiAddr != "" && c.fsm.apiAddr(id) != apiAddr) {
		if err := c.setMeta(ctx, metaRecord{ID: id, APIAddr: apiAddr, Voter: &voter}); err != nil {
			return fmt.Errorf("join %s: %w", id, err)
		}
	}
	for _, s := range f.Configuration().Servers {
		if s.ID != raft.ServerID(id) {
			continue
		}
		if s.Address == raft.ServerAddress(raftAddr) {
			isVoter := s.Suffrage == raft.Voter
			switch {
			case isVoter == voter:
				return nil // already a member as asked
			case !voter:
				return c.wait(c.raft.DemoteVoter(s.ID, 0, c.cfg.ApplyTimeout), "demote "+id)
			case c.cfg.FetchStats != nil:
				return nil // the health checks promote it once stable
			default:
				return c.wait(c.raft.AddVoter(s.ID, s.Address, 0, c.cfg.ApplyTimeout), "promote "+id)
			}
		}
		c.log.Info("site rejoins with a new raft address", "joiner", id, "old", s.Address, "new", raftAddr)
		if err := c.wait(c.raft.RemoveServer(s.ID, 0, c.cfg.ApplyTimeout), "remove old entry of "+id); err != nil {
			return err
		}
	}
	if voter && c.cfg.FetchStats == nil {
		return c.wait(c.raft.AddVoter(raft.ServerID(id), raft.ServerAddress(raftAddr), 0, c.cfg.ApplyTimeout), "add voter "+id)
	}
	what := "add non-voter " + id
	if voter {
		what = "add " + id + " as a non-voter until it is stable"
	}
	return c.wait(c.raft.AddNonvoter(raft.ServerID(id), raft.ServerAddress(raftAddr), 0, c.cfg.ApplyTimeout), what)
}

// server returns member id of the current configuration.
func (c *Cluster) server(id string) (raft.Server, []raft.Server, error) {
	f := c.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return raft.Server{}, nil, fmt.Errorf("read configuration: %w", c.mapErr(err))
	}
	servers := f.Configuration().Servers
	for _, s := range servers {
		if s.ID == raft.ServerID(id) {
			return s, servers, nil
		}
	}
	return raft.Server{}, servers, fmt.Errorf("site %s: %w", id, ErrUnknownMember)
}

// Remove takes a site out of the group. It must run on the leader. The
// last voter cannot be removed. A leader removing itself steps down once
// the change commits and the others elect a new leader.
func (c *Cluster) Remove(ctx context.Context, id string) error {
	if !c.IsLeader() {
		return c.notLeader()
	}
	s, servers, err := c.server(id)
	if err != nil {
		return err
	}
	if s.Suffrage == raft.Voter {
		voters := 0
		for _, o := range servers {
			if o.Suffrage == raft.Voter {
				voters++
			}
		}
		if voters == 1 {
			return fmt.Errorf("remove %s: it is the last voter: %w", id, ErrRefused)
		}
	}
	return c.wait(c.raft.RemoveServer(s.ID, 0, c.cfg.ApplyTimeout), "remove "+id)
}

// Promote makes a non-voter a voter at once (an operator's override of the
// stabilization wait). It must run on the leader.
func (c *Cluster) Promote(ctx context.Context, id string) error {
	if !c.IsLeader() {
		return c.notLeader()
	}
	s, _, err := c.server(id)
	if err != nil {
		return err
	}
	yes := true
	if err := c.setMeta(ctx, metaRecord{ID: id, Voter: &yes}); err != nil {
		return err
	}
	if s.Suffrage == raft.Voter {
		return nil
	}
	return c.wait(c.raft.AddVoter(s.ID, s.Address, 0, c.cfg.ApplyTimeout), "promote "+id)
}

// Demote makes a voter a non-voter (read replica). It must run on the
// leader; the leader cannot demote itself (transfer leadership first) nor
// the last voter.
func (c *Cluster) Demote(ctx context.Context, id string) error {
	if !c.IsLeader() {
		return c.notLeader()
	}
	s, _, err := c.server(id)
	if err != nil {
		return err
	}
	if id == c.cfg.ID {
		return fmt.Errorf("demote %s: it leads; transfer leadership first: %w", id, ErrRefused)
	}
	no := false
	if err := c.setMeta(ctx, metaRecord{ID: id, Voter: &no}); err != nil {
		return err
	}
	if s.Suffrage != raft.Voter {
		return nil
	}
	return c.wait(c.raft.DemoteVoter(s.ID, 0, c.cfg.ApplyTimeout), "demote "+id)
}

// TransferLeadership hands leadership to voter id, or with id empty to the
// most up-to-date voter, and returns once this site has stepped down. It
// must run on the leader.
func (c *Cluster) TransferLeadership(ctx context.Context, id string) error {
	if !c.IsLeader() {
		return c.notLeader()
	}
	if id == "" {
		if c.otherVoters() == 0 {
			return fmt.Errorf("transfer leadership: no other voter: %w", ErrRefused)
		}
		return c.waitFuture(c.raft.LeadershipTransfer(), "transfer leadership")
	}
	if id == c.cfg.ID {
		return nil // already leads
	}
	s, _, err := c.server(id)
	if err != nil {
		return err
	}
	if s.Suffrage != raft.Voter {
		return fmt.Errorf("transfer leadership to %s: it is not a voter: %w", id, ErrRefused)
	}
	return c.waitFuture(c.raft.LeadershipTransferToServer(s.ID, s.Address), "transfer leadership to "+id)
}

func (c *Cluster) waitFuture(f raft.Future, what string) error {
	if err := f.Error(); err != nil {
		return fmt.Errorf("%s: %w", what, c.mapErr(err))
	}
	c.log.Info("leadership transferred", "change", what)
	return nil
}

func (c *Cluster) wait(f raft.IndexFuture, what string) error {
	if err := f.Error(); err != nil {
		return fmt.Errorf("%s: %w", what, c.mapErr(err))
	}
	c.log.Info("membership changed", "change", what)
	return nil
}
