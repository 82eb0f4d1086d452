package cluster

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"
)

// Linearizable reads follow Raft's ReadIndex (Raft thesis, section 6.4):
// the leader notes its commit index, confirms with a quorum of voters that
// it still leads, and answers once it has applied that index.
//
// The confirmation is this package's own, not hashicorp/raft's
// VerifyLeader. VerifyLeader (v1.7.3, verifyLeader) counts heartbeat
// answers from every member, read replicas included, and counts answers
// to heartbeats that were already in flight when the read began. A leader
// cut off from the voters but still reaching read replicas (CGO with the
// Chinese divisions, the border down) is then confirmed by the replicas,
// and answers a LINEARIZABLE read that misses writes a new leader
// committed on the other side: correctness rests on the leader lease,
// which a paused process outlives.
//
// Here the leader sends a round of its own after the read began: an
// empty AppendEntries of its term to every voter of its latest
// configuration, over the Raft transport (so the peer gate admits it as
// it admits the leader's heartbeats). A voter accepts it only if it is
// at that term or older, and then follows this leader; a voter at a
// higher term answers with that term. Once a quorum of voters (this site
// included) has accepted, no other leader can have been elected before
// the round was sent, so the commit index noted before sending covers
// every write acknowledged before the read began. A voter at a higher
// term ends the round: this site no longer leads. Read replicas are not
// asked.
//
// Reads that arrive while a round is in flight wait for the next round
// and share it (as etcd batches ReadIndex requests), so under load a
// leader sends one round per round trip to its quorum, however many reads
// are waiting.

// ErrNotConfirmed: this leader could not confirm with a quorum of voters
// that it still leads, so it may not answer a linearizable read; the
// wrapping error says who did not answer.
var ErrNotConfirmed = errors.New("leadership not confirmed by a quorum of voters")

// readIndex batches linearizable reads onto confirmation rounds.
type readIndex struct {
	mu      sync.Mutex
	next    *readRound // the round that new reads join; sent when the one in flight ends
	sending bool       // a goroutine is sending rounds

	// The barrier of the current term, shared by the rounds that wait
	// for it; touched only by the goroutine sending rounds.
	barrierFor  uint64
	barrierDone chan error

	rounds atomic.Uint64 // rounds sent, for tests
}

// readRound is one confirmation round and the reads waiting for it.
type readRound struct {
	done  chan struct{}
	index uint64 // the commit index noted before the round was sent
	err   error
	reads int
}

// LinearizableRead returns once this site may answer a read that reflects
// every write acknowledged before the call: it leads, it has committed an
// entry of its own term (a barrier, once per term), a quorum of voters
// has confirmed in a round sent after the call began that it still leads,
// and it has applied the commit index it noted before that round.
//
// A site that does not lead answers ErrNotLeader, or a *NoLeaderError
// when it knows no leader. A leader that cannot confirm its leadership
// within Config.LeaderWait (or ctx's deadline, if sooner) answers an
// error wrapping ErrNotConfirmed that names the voters that did not
// answer.
func (c *Cluster) LinearizableRead(ctx context.Context) error {
	start := time.Now()
	bound := start.Add(c.cfg.LeaderWait())
	expired := time.NewTimer(c.cfg.LeaderWait())
	defer expired.Stop()
	var last error
	for attempt := 0; ; attempt++ {
		if !c.IsLeader() {
			return c.notLeader()
		}
		r := c.reads.join(c)
		select {
		case <-r.done:
		case <-expired.C:
			err := fmt.Errorf("%w: no round answered within %s", ErrNotConfirmed, roundWait(c.cfg.LeaderWait()))
			if last != nil {
				err = last
			}
			return fmt.Errorf("linearizable read: %w", err)
		case <-ctx.Done():
			return fmt.Errorf("linearizable read: %w", ctx.Err())
		case <-c.done:
			return ErrShutdown
		}
		if r.err == nil {
			c.metrics.readWait.Observe(time.Since(start).Seconds())
			return c.waitApplied(ctx, r.index)
		}
		last = r.err
		if !errors.Is(r.err, ErrNotConfirmed) {
			return fmt.Errorf("linearizable read: %w", r.err)
		}
		// A round may fail on one broken connection; try again while the
		// bound allows, briefly spaced so a leader whose voters refuse at
		// once does not spin.
		pause := min(10*time.Millisecond<<min(attempt, 4), c.cfg.HeartbeatTimeout/4)
		if time.Now().Add(pause).After(bound) {
			return fmt.Errorf("linearizable read: %w", last)
		}
		t := time.NewTimer(pause)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("linearizable read: %w (%w)", ctx.Err(), last)
		case <-c.done:
			t.Stop()
			return ErrShutdown
		}
	}
}

// join returns the round a read that begins now waits for: one not sent
// yet, which a goroutine sends as soon as the round in flight ends.
func (ri *readIndex) join(c *Cluster) *readRound {
	ri.mu.Lock()
	defer ri.mu.Unlock()
	if ri.next == nil {
		ri.next = &readRound{done: make(chan struct{})}
	}
	r := ri.next
	r.reads++
	if !ri.sending {
		ri.sending = true
		go ri.send(c)
	}
	return r
}

// send sends rounds while reads wait for one.
func (ri *readIndex) send(c *Cluster) {
	for {
		ri.mu.Lock()
		r := ri.next
		ri.next = nil
		if r == nil {
			ri.sending = false
			ri.mu.Unlock()
			return
		}
		ri.mu.Unlock()
		began := time.Now()
		ri.rounds.Add(1)
		r.index, r.err = c.confirm()
		c.metrics.readRounds.Observe(time.Since(began).Seconds())
		c.metrics.readsPerRound.Observe(float64(r.reads))
		close(r.done)
	}
}

// leaderTerm returns the term this site leads in, or false when it does
// not lead. The term is read on both sides of the state: leadership is
// only won within a term and always given up before the term moves on, so
// an unchanged term around a Leader state is the term led.
func (c *Cluster) leaderTerm() (uint64, bool) {
	t1 := c.raft.CurrentTerm()
	leading := c.raft.State() == raft.Leader
	t2 := c.raft.CurrentTerm()
	return t1, leading && t1 == t2
}

// confirm runs one round: it returns the commit index noted before asking
// the voters, once a quorum of them confirmed this site leads.
func (c *Cluster) confirm() (uint64, error) {
	term, ok := c.leaderTerm()
	if !ok {
		return 0, c.notLeader()
	}
	deadline := time.NewTimer(c.cfg.ElectionTimeout)
	defer deadline.Stop()
	if err := c.barrier(term, deadline.C); err != nil {
		return 0, err
	}
	index := c.raft.CommitIndex()

	f := c.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return 0, fmt.Errorf("read configuration: %w", c.mapErr(err))
	}
	var voters []raft.Server
	acks, self := 0, raft.ServerID(c.cfg.ID)
	total := 0
	for _, s := range f.Configuration().Servers {
		if s.Suffrage != raft.Voter {
			continue
		}
		total++
		if s.ID == self {
			acks++
			continue
		}
		voters = append(voters, s)
	}
	quorum := total/2 + 1
	if acks >= quorum {
		return index, nil
	}

	type answer struct {
		id   raft.ServerID
		term uint64
		ok   bool
		err  error
	}
	answers := make(chan answer, len(voters))
	for _, v := range voters {
		go func() {
			t, ok, err := c.askVoter(v, term)
			answers <- answer{v.ID, t, ok, err}
		}()
	}
	pending := map[raft.ServerID]bool{}
	for _, v := range voters {
		pending[v.ID] = true
	}
	var refused []string
	for len(pending) > 0 && acks+len(pending) >= quorum {
		select {
		case a := <-answers:
			delete(pending, a.id)
			switch {
			case a.err != nil:
				refused = append(refused, fmt.Sprintf("%s: %v", a.id, a.err))
			case a.term > term:
				return 0, fmt.Errorf("%w: voter %s is at term %d, past this leader's %d", ErrNotLeader, a.id, a.term, term)
			case !a.ok:
				refused = append(refused, fmt.Sprintf("%s refused at term %d", a.id, a.term))
			default:
				acks++
			}
			if acks >= quorum {
				if t, ok := c.leaderTerm(); !ok || t != term {
					return 0, c.notLeader()
				}
				return index, nil
			}
		case <-deadline.C:
			return 0, c.unconfirmed(acks, total, pending, refused)
		case <-c.done:
			return 0, ErrShutdown
		}
	}
	return 0, c.unconfirmed(acks, total, pending, refused)
}

// unconfirmed describes a round that did not reach a quorum.
func (c *Cluster) unconfirmed(acks, total int, pending map[raft.ServerID]bool, refused []string) error {
	var silent []string
	for id := range pending {
		silent = append(silent, string(id))
	}
	slices.Sort(silent)
	slices.Sort(refused)
	detail := fmt.Sprintf("%d of %d voters confirmed %s within %s", acks, total, c.cfg.ID, roundWait(c.cfg.ElectionTimeout))
	if len(silent) > 0 {
		detail += "; no answer from " + strings.Join(silent, ", ")
	}
	if len(refused) > 0 {
		detail += "; " + strings.Join(refused, "; ")
	}
	return fmt.Errorf("%w: %s", ErrNotConfirmed, detail)
}

// barrier makes sure this leader has committed and applied an entry of
// term, which linearizable reads rely on: from then on its commit index
// covers every earlier leader's entries. Only the first round of a term
// waits for one; a barrier that outlasts a round is waited for by the
// next.
func (c *Cluster) barrier(term uint64, deadline <-chan time.Time) error {
	if c.barrierTerm.Load() == term {
		return nil
	}
	ri := &c.reads
	if ri.barrierFor != term || ri.barrierDone == nil {
		f := c.raft.Barrier(c.cfg.ApplyTimeout)
		done := make(chan error, 1)
		go func() { done <- f.Error() }()
		ri.barrierFor, ri.barrierDone = term, done
	}
	select {
	case err := <-ri.barrierDone:
		ri.barrierDone = nil
		if err != nil {
			return fmt.Errorf("barrier: %w", c.mapErr(err))
		}
		c.barrierTerm.Store(term)
		return nil
	case <-deadline:
		return fmt.Errorf("%w: the barrier of term %d did not commit within %s", ErrNotConfirmed, term, roundWait(c.cfg.ElectionTimeout))
	case <-c.done:
		return ErrShutdown
	}
}

// askVoter sends voter an empty AppendEntries of term, as the leader's
// heartbeats are, and returns the voter's term and whether it accepted
// this site as the leader of term.
func (c *Cluster) askVoter(v raft.Server, term uint64) (uint64, bool, error) {
	self := raft.ServerID(c.cfg.ID)
	req := raft.AppendEntriesRequest{
		RPCHeader: raft.RPCHeader{ProtocolVersion: raft.ProtocolVersionMax, ID: []byte(c.cfg.ID),
			Addr: c.transport.EncodePeer(self, c.transport.LocalAddr())},
		Term: term,
	}
	var resp raft.AppendEntriesResponse
	if err := c.transport.AppendEntries(v.ID, v.Address, &req, &resp); err != nil {
		return 0, false, err
	}
	return resp.Term, resp.Success, nil
}

// waitApplied waits until this site has applied index.
func (c *Cluster) waitApplied(ctx context.Context, index uint64) error {
	if c.raft.AppliedIndex() >= index {
		return nil
	}
	t := time.NewTicker(time.Millisecond)
	defer t.Stop()
	for c.raft.AppliedIndex() < index {
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for index %d to apply: %w", index, ctx.Err())
		case <-c.done:
			return ErrShutdown
		case <-t.C:
		}
	}
	return nil
}
