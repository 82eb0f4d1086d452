package cluster

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"sync"

	"github.com/hashicorp/raft"
)

// Every log entry this package writes starts with a kind byte.
const (
	kindApp  byte = 1 // the caller's command, passed to its FSM
	kindMeta byte = 2 // a member's API address, voting wish, or a denied certificate
	// kindCheckpoint asks every site to record a digest of its state (and
	// may carry the verified digest of an earlier checkpoint): see
	// checkpoint.go. Proposed only once every member reads it.
	kindCheckpoint byte = 3
)

// metaRecord says where a member serves its API and, when Voter is set,
// whether it wants a vote (a joining voter starts as a non-voter and is
// promoted once stable, so the wish must outlive the leader that heard it).
//
// A record with Deny (and no ID) adds a certificate to the deny-list.
type metaRecord struct {
	ID      string      `json:"id,omitempty"`
	APIAddr string      `json:"apiAddr,omitempty"`
	Voter   *bool       `json:"voter,omitempty"`
	Deny    *DeniedCert `json:"deny,omitempty"`
	// Placement replaces the leader placement preferences; Move records
	// a move placement made (placer.go). Both come with the ID of the
	// proposing leader and nothing else, which binaries older than
	// placement apply as a no-op.
	Placement *PlacementPrefs `json:"placement,omitempty"`
	Move      *PlacementMove  `json:"move,omitempty"`
}

// members is the replicated per-member data, as snapshots store it.
type members struct {
	APIAddrs  map[string]string     `json:"apiAddrs"`
	WantsVote map[string]bool       `json:"wantsVote"`
	Denied    map[string]DeniedCert `json:"denied,omitempty"` // by serial
	Placement *PlacementPrefs       `json:"placement,omitempty"`
	LastMove  *PlacementMove        `json:"lastMove,omitempty"`
}

// fsm wraps the caller's FSM and keeps the members' API addresses, which
// must be replicated so any site can forward to the leader. Apply, Snapshot
// and Restore follow raft.FSM's contract (one goroutine); apiAddr may be
// called from any goroutine.
type fsm struct {
	app  raft.FSM
	mu   sync.RWMutex
	meta members
	// alarms holds CORRUPT: once raised, Apply applies nothing more and
	// Snapshot refuses, so the damage is neither skipped over nor carried
	// into a snapshot. corrupt raises it (and tells the Cluster).
	alarms  *alarms
	corrupt func(detail string)
	cps     checkpoints
	// onDenied is called (on the FSM goroutine) with the whole deny-list
	// whenever it changes, by an entry or a restore.
	onDenied func(map[string]DeniedCert)
}

func newFSM(app raft.FSM, al *alarms) *fsm {
	return &fsm{app: app, alarms: al, corrupt: func(d string) { al.raise(AlarmCorrupt, d) }, meta: members{APIAddrs: map[string]string{}, WantsVote: map[string]bool{}, Denied: map[string]DeniedCert{}}}
}

func (f *fsm) Apply(l *raft.Log) any {
	if f.alarms.has(AlarmCorrupt) {
		return fmt.Errorf("entry %d not applied: %w", l.Index, ErrCorrupt)
	}
	res, bad := f.apply(l)
	if bad != "" {
		f.corrupt(fmt.Sprintf("log entry %d (term %d): %s", l.Index, l.Term, bad))
		return fmt.Errorf("entry %d not applied: %w", l.Index, ErrCorrupt)
	}
	return res
}

// apply applies one entry; bad says why the entry cannot be applied at
// all (then nothing changed and the site must stop).
func (f *fsm) apply(l *raft.Log) (res any, bad string) {
	if err := verifyChecksum(l.Data, l.Extensions); err != nil {
		return nil, err.Error()
	}
	if len(l.Data) == 0 {
		return nil, "empty entry"
	}
	switch l.Data[0] {
	case kindApp:
		inner := *l
		inner.Data = l.Data[1:]
		res := f.app.Apply(&inner)
		if isUnreadable(res) {
			return nil, res.(error).Error()
		}
		return res, ""
	case kindMeta:
		var m metaRecord
		if err := json.Unmarshal(l.Data[1:], &m); err != nil || m.ID == "" && m.Deny == nil {
			return nil, "undecodable member record"
		}
		if m.Deny != nil {
			f.mu.Lock()
			f.meta.Denied[m.Deny.Serial] = *m.Deny
			denied := maps.Clone(f.meta.Denied)
			f.mu.Unlock()
			if f.onDenied != nil {
				f.onDenied(denied)
			}
			return nil, ""
		}
		f.mu.Lock()
		if m.Placement != nil {
			p := *m.Placement
			f.meta.Placement = &p
		}
		if m.Move != nil {
			mv := *m.Move
			f.meta.LastMove = &mv
		}
		if m.APIAddr != "" {
			f.meta.APIAddrs[m.ID] = m.APIAddr
		}
		if m.Voter != nil {
			f.meta.WantsVote[m.ID] = *m.Voter
		}
		f.mu.Unlock()
		return nil, ""
	case kindCheckpoint:
		return nil, f.checkpoint(l)
	default:
		return nil, fmt.Sprintf("unknown entry kind %d (written by a newer version of innonet?)", l.Data[0])
	}
}

// BatchApplier is an application state machine that applies a run of
// entries at once, as raft hands over what committed together. Its
// results must be what Apply would return for each entry in turn. It
// may stop after an entry whose result wraps [ErrUnreadable]: it then
// returns the results up to that one and applied nothing after it.
type BatchApplier interface {
	ApplyBatch(logs []*raft.Log) []any
}

// ApplyBatch is raft.BatchingFSM's: raft hands over up to
// MaxAppendEntries committed entries at once. A run of the caller's
// commands goes to the application in one call when it is a
// [BatchApplier]; every other entry is applied as Apply applies it,
// after the run before it. Configuration entries are raft's own, which
// Apply never sees: they are answered with nil.
func (f *fsm) ApplyBatch(logs []*raft.Log) []any {
	out := make([]any, len(logs))
	ba, _ := f.app.(BatchApplier)
	var run []*raft.Log // the caller's commands, without their kind byte
	var at []int        // where each stands in logs
	flush := func() {
		if len(run) == 0 {
			return
		}
		res := ba.ApplyBatch(run)
		for k, l := range run {
			switch {
			case k >= len(res):
				out[at[k]] = fmt.Errorf("entry %d not applied: %w", l.Index, ErrCorrupt)
			case isUnreadable(res[k]):
				f.corrupt(fmt.Sprintf("log entry %d (term %d): %v", l.Index, l.Term, res[k]))
				out[at[k]] = fmt.Errorf("entry %d not applied: %w", l.Index, ErrCorrupt)
			default:
				out[at[k]] = res[k]
			}
		}
		run, at = run[:0], at[:0]
	}
	for i, l := range logs {
		if l.Type != raft.LogCommand {
			continue
		}
		if ba != nil && len(l.Data) > 1 && l.Data[0] == kindApp && !f.alarms.has(AlarmCorrupt) && verifyChecksum(l.Data, l.Extensions) == nil {
			inner := *l
			inner.Data = l.Data[1:]
			run = append(run, &inner)
			at = append(at, i)
			continue
		}
		flush()
		out[i] = f.Apply(l)
	}
	flush()
	return out
}

func isUnreadable(res any) bool {
	err, ok := res.(error)
	return ok && errors.Is(err, ErrUnreadable)
}

func (f *fsm) apiAddr(id string) string {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.meta.APIAddrs[id]
}

// wantsVote reports whether member id asked for a vote; known is false
// when no wish was ever recorded (members added before wishes were kept).
func (f *fsm) wantsVote(id string) (voter, known bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	voter, known = f.meta.WantsVote[id]
	return voter, known
}

func (f *fsm) Snapshot() (raft.FSMSnapshot, error) {
	if f.alarms.has(AlarmCorrupt) {
		return nil, fmt.Errorf("no snapshot of a damaged state: %w", ErrCorrupt)
	}
	f.mu.RLock()
	meta := members{APIAddrs: maps.Clone(f.meta.APIAddrs), WantsVote: maps.Clone(f.meta.WantsVote), Denied: maps.Clone(f.meta.Denied),
		Placement: f.meta.Placement, LastMove: f.meta.LastMove}
	f.mu.RUnlock()
	app, err := f.app.Snapshot()
	if err != nil {
		return nil, err
	}
	return &snapshot{meta: meta, app: app}, nil
}

// Restore reads what snapshot.Persist wrote: a 4-byte length, the member
// records as JSON, then the caller's snapshot.
func (f *fsm) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	var n uint32
	if err := binary.Read(rc, binary.BigEndian, &n); err != nil {
		return fmt.Errorf("read snapshot members: %w", err)
	}
	if n > 64<<20 {
		return fmt.Errorf("snapshot members record of %d bytes is too large", n)
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(rc, buf); err != nil {
		return fmt.Errorf("read snapshot members: %w", err)
	}
	meta, err := decodeMembers(buf)
	if err != nil {
		return err
	}
	if err := f.app.Restore(io.NopCloser(rc)); err != nil {
		return err
	}
	f.mu.Lock()
	f.meta = meta
	denied := maps.Clone(meta.Denied)
	f.mu.Unlock()
	if f.onDenied != nil {
		f.onDenied(denied)
	}
	return nil
}

// placement returns the replicated placement preferences.
func (f *fsm) placement() PlacementPrefs {
	f.mu.RLock()
	defer f.mu.RUnlock()
	if f.meta.Placement == nil {
		return PlacementPrefs{}
	}
	p := *f.meta.Placement
	p.Prefer, p.Exclude = slices.Clone(p.Prefer), slices.Clone(p.Exclude)
	return p
}

// lastMove returns the last move leader placement recorded, if any.
func (f *fsm) lastMove() *PlacementMove {
	f.mu.RLock()
	defer f.mu.RUnlock()
	if f.meta.LastMove == nil {
		return nil
	}
	mv := *f.meta.LastMove
	return &mv
}

// denied returns the deny-list.
func (f *fsm) denied() map[string]DeniedCert {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return maps.Clone(f.meta.Denied)
}

// decodeMembers reads the members record of a snapshot; snapshots written
// before voter wishes were kept hold a bare map of API addresses.
func decodeMembers(b []byte) (members, error) {
	m := members{}
	if err := json.Unmarshal(b, &m); err != nil || m.APIAddrs == nil {
		old := map[string]string{}
		if err := json.Unmarshal(b, &old); err != nil {
			return m, fmt.Errorf("decode snapshot members: %w", err)
		}
		m = members{APIAddrs: old}
	}
	if m.WantsVote == nil {
		m.WantsVote = map[string]bool{}
	}
	if m.Denied == nil {
		m.Denied = map[string]DeniedCert{}
	}
	return m, nil
}

type snapshot struct {
	meta members
	app  raft.FSMSnapshot
}

func (s *snapshot) Persist(sink raft.SnapshotSink) error {
	if err := s.writeMeta(sink); err != nil {
		sink.Cancel()
		return err
	}
	// The caller's Persist closes or cancels the sink itself.
	return s.app.Persist(sink)
}

// writeMeta writes the member records: a 4-byte length and their JSON.
func (s *snapshot) writeMeta(w io.Writer) error {
	b, err := json.Marshal(s.meta)
	if err == nil {
		err = binary.Write(w, binary.BigEndian, uint32(len(b)))
	}
	if err == nil {
		_, err = w.Write(b)
	}
	if err != nil {
		return fmt.Errorf("persist snapshot members: %w", err)
	}
	return nil
}

// canonicalSnapshot is a caller's snapshot that can also write itself
// without what may differ between sites that hold the same state (its
// compression): what the state digests of checkpoints hash. A snapshot
// without it is hashed as Persist writes it.
type canonicalSnapshot interface {
	WriteCanonical(w io.Writer) (int64, error)
}

// persistCanonical writes what the state digest of a checkpoint hashes:
// the member records, then the caller's snapshot, canonical if it can be.
func (s *snapshot) persistCanonical(sink raft.SnapshotSink) error {
	c, ok := s.app.(canonicalSnapshot)
	if !ok {
		return s.Persist(sink)
	}
	if err := s.writeMeta(sink); err != nil {
		return err
	}
	if _, err := c.WriteCanonical(sink); err != nil {
		return fmt.Errorf("persist canonical snapshot: %w", err)
	}
	return nil
}

func (s *snapshot) Release() { s.app.Release() }
