package cluster

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"sort"
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// State checks, as etcd's leader-driven hash checks do: the leader commits
// a checkpoint entry every Config.CheckpointInterval; every site that
// applies it computes a SHA-256 digest of its whole replicated state as of
// that entry (this package's member records and the caller's snapshot
// stream, which must be the same bytes for the same state) in the
// background, and reports the latest digest in its stats. The leader
// compares what the members report for one checkpoint: when a majority of
// the members agree with its own digest, its next checkpoint carries that
// digest as verified, and every site whose digest differs raises CORRUPT
// when it applies it. When a majority agree on a digest that is not the
// leader's, the leader is the damaged one: it raises CORRUPT itself (and
// so hands leadership over). A site that did not compute the checkpoint
// (it restored a later snapshot) skips the comparison.

// formatCheckpoint is the log format that introduced checkpoint entries
// and deny-list records: the leader proposes them only when every member
// reads it.
const formatCheckpoint = 2

// checkpointBody is the payload of a checkpoint entry.
type checkpointBody struct {
	// Verify is an earlier checkpoint's digest, confirmed by a majority.
	Verify *checkpointDigest `json:"verify,omitempty"`
}

type checkpointDigest struct {
	Index  uint64 `json:"index"`
	Digest string `json:"digest"`
}

// checkpoints is what the FSM keeps of recent checkpoints: local, derived
// data (never replicated).
type checkpoints struct {
	mu      sync.Mutex
	digests map[uint64]string        // index → digest, for the latest few
	pending map[uint64]chan struct{} // digests still being computed
	latest  checkpointDigest         // the latest digest computed
}

// keepDigests is how many recent checkpoint digests a site keeps.
const keepDigests = 8

// checkpoint applies a checkpoint entry: it starts the digest of the state
// as of this entry and, if the entry carries a verified digest, compares
// this site's own with it. It returns a reason only for an entry that does
// not decode.
func (f *fsm) checkpoint(l *raft.Log) string {
	var body checkpointBody
	if err := json.Unmarshal(l.Data[1:], &body); err != nil {
		return "undecodable checkpoint"
	}
	f.cps.mu.Lock()
	if f.cps.digests == nil {
		f.cps.digests, f.cps.pending = map[uint64]string{}, map[uint64]chan struct{}{}
	}
	f.cps.mu.Unlock()
	if snap, err := f.Snapshot(); err == nil {
		done := make(chan struct{})
		f.cps.mu.Lock()
		f.cps.pending[l.Index] = done
		f.cps.mu.Unlock()
		go f.digest(l.Index, snap, done)
	}
	if v := body.Verify; v != nil {
		go f.compare(*v)
	}
	return ""
}

// digest hashes a snapshot of the state and records it.
func (f *fsm) digest(index uint64, snap raft.FSMSnapshot, done chan struct{}) {
	defer close(done)
	defer snap.Release()
	sink := &hashSink{h: sha256.New()}
	var err error
	if s, ok := snap.(*snapshot); ok {
		err = s.persistCanonical(sink)
	} else {
		err = snap.Persist(sink)
	}
	if err != nil || sink.cancelled {
		f.cps.mu.Lock()
		delete(f.cps.pending, index)
		f.cps.mu.Unlock()
		return
	}
	d := hex.EncodeToString(sink.h.Sum(nil))
	f.cps.mu.Lock()
	defer f.cps.mu.Unlock()
	delete(f.cps.pending, index)
	f.cps.digests[index] = d
	if index > f.cps.latest.Index {
		f.cps.latest = checkpointDigest{Index: index, Digest: d}
	}
	if len(f.cps.digests) > keepDigests {
		idx := make([]uint64, 0, len(f.cps.digests))
		for i := range f.cps.digests {
			idx = append(idx, i)
		}
		sort.Slice(idx, func(i, j int) bool { return idx[i] < idx[j] })
		for _, i := range idx[:len(idx)-keepDigests] {
			delete(f.cps.digests, i)
		}
	}
}

// compare checks this site's digest of a checkpoint against the verified
// one, waiting for the digest if it is still being computed.
func (f *fsm) compare(v checkpointDigest) {
	f.cps.mu.Lock()
	wait := f.cps.pending[v.Index]
	f.cps.mu.Unlock()
	if wait != nil {
		<-wait
	}
	f.cps.mu.Lock()
	mine, ok := f.cps.digests[v.Index]
	f.cps.mu.Unlock()
	if ok && mine != v.Digest {
		f.corrupt(fmt.Sprintf("state digest at checkpoint %d is %s, but a majority of the sites hold %s", v.Index, short(mine), short(v.Digest)))
	}
}

// latestDigest returns the latest checkpoint digest this site computed.
func (f *fsm) latestDigest() checkpointDigest {
	f.cps.mu.Lock()
	defer f.cps.mu.Unlock()
	return f.cps.latest
}

func short(d string) string {
	if len(d) > 12 {
		return d[:12]
	}
	return d
}

// hashSink is a raft.SnapshotSink that only hashes what it is given.
type hashSink struct {
	h         hash.Hash
	cancelled bool
}

func (s *hashSink) Write(p []byte) (int, error) { return s.h.Write(p) }
func (s *hashSink) Close() error                { return nil }
func (s *hashSink) ID() string                  { return "digest" }
func (s *hashSink) Cancel() error               { s.cancelled = true; return nil }

// runCheckpoints commits a checkpoint every CheckpointInterval while this
// site leads and every member reads checkpoint entries.
func (c *Cluster) runCheckpoints() {
	if c.cfg.CheckpointInterval <= 0 {
		return
	}
	t := time.NewTicker(c.cfg.CheckpointInterval)
	defer t.Stop()
	for {
		select {
		case <-c.done:
			return
		case <-t.C:
		}
		if !c.IsLeader() || c.Corrupt() {
			continue
		}
		if ok, _, _ := c.membersRead(formatCheckpoint); !ok {
			continue
		}
		body := checkpointBody{Verify: c.verifiedDigest()}
		b, err := json.Marshal(body)
		if err != nil {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), c.cfg.ApplyTimeout)
		if _, err := c.apply(ctx, append([]byte{kindCheckpoint}, b...)); err != nil {
			c.log.Debug("checkpoint not committed", "err", err)
		}
		cancel()
	}
}

// verifiedDigest compares the members' digests of the leader's latest
// checkpoint. It returns the digest when a majority of the members hold
// the leader's; when a majority hold another, the leader raises CORRUPT.
func (c *Cluster) verifiedDigest() *checkpointDigest {
	mine := c.fsm.latestDigest()
	if mine.Index == 0 {
		return nil
	}
	h := c.Health()
	if !h.Known {
		return nil
	}
	members := len(h.Members)
	votes := map[string][]string{} // digest → sites
	for id, m := range h.Members {
		if id == c.cfg.ID {
			votes[mine.Digest] = append(votes[mine.Digest], id)
			continue
		}
		if m.Stats.CheckpointIndex == mine.Index && m.Stats.CheckpointDigest != "" {
			d := m.Stats.CheckpointDigest
			votes[d] = append(votes[d], id)
		}
	}
	if len(votes[mine.Digest])*2 > members {
		if len(votes) > 1 {
			for d, sites := range votes {
				if d != mine.Digest {
					c.log.Error("state digest differs from the majority's: these sites will raise CORRUPT", "checkpoint", mine.Index,
						"sites", sites, "their_digest", short(d), "majority_digest", short(mine.Digest))
				}
			}
		}
		return &mine
	}
	for d, sites := range votes {
		if d != mine.Digest && len(sites)*2 > members {
			c.markCorrupt(fmt.Sprintf("state digest at checkpoint %d is %s, but a majority of the sites (%v) hold %s", mine.Index, short(mine.Digest), sites, short(d)))
		}
	}
	return nil
}
