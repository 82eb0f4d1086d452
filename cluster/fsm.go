package cluster

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"sync"

	"github.com/hashicorp/raft"
)

// Every log entry this package writes starts with a kind byte.
const (
	kindApp  byte = 1 // the caller's command, passed to its FSM
	kindMeta byte = 2 // a member's API address
)

// metaRecord says where a member serves its API and, when Voter is set,
// whether it wants a vote (a joining voter starts as a non-voter and is
// promoted once stable, so the wish must outlive the leader that heard it).
type metaRecord struct {
	ID      string `json:"id"`
	APIAddr string `json:"apiAddr,omitempty"`
	Voter   *bool  `json:"voter,omitempty"`
}

// members is the replicated per-member data, as snapshots store it.
type members struct {
	APIAddrs  map[string]string `json:"apiAddrs"`
	WantsVote map[string]bool   `json:"wantsVote"`
}

// fsm wraps the caller's FSM and keeps the members' API addresses, which
// must be replicated so any site can forward to the leader. Apply, Snapshot
// and Restore follow raft.FSM's contract (one goroutine); apiAddr may be
// called from any goroutine.
type fsm struct {
	app  raft.FSM
	mu   sync.RWMutex
	meta members
}

func newFSM(app raft.FSM) *fsm {
	return &fsm{app: app, meta: members{APIAddrs: map[string]string{}, WantsVote: map[string]bool{}}}
}

func (f *fsm) Apply(l *raft.Log) any {
	if len(l.Data) == 0 {
		return fmt.Errorf("empty log entry at index %d", l.Index)
	}
	switch l.Data[0] {
	case kindApp:
		inner := *l
		inner.Data = l.Data[1:]
		return f.app.Apply(&inner)
	case kindMeta:
		var m metaRecord
		if err := json.Unmarshal(l.Data[1:], &m); err != nil || m.ID == "" {
			return fmt.Errorf("bad member record at index %d", l.Index)
		}
		f.mu.Lock()
		if m.APIAddr != "" {
			f.meta.APIAddrs[m.ID] = m.APIAddr
		}
		if m.Voter != nil {
			f.meta.WantsVote[m.ID] = *m.Voter
		}
		f.mu.Unlock()
		return nil
	default:
		return fmt.Errorf("unknown entry kind %d at index %d", l.Data[0], l.Index)
	}
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
	f.mu.RLock()
	meta := members{APIAddrs: maps.Clone(f.meta.APIAddrs), WantsVote: maps.Clone(f.meta.WantsVote)}
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
	f.mu.Unlock()
	return nil
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
	return m, nil
}

type snapshot struct {
	meta members
	app  raft.FSMSnapshot
}

func (s *snapshot) Persist(sink raft.SnapshotSink) error {
	b, err := json.Marshal(s.meta)
	if err == nil {
		err = binary.Write(sink, binary.BigEndian, uint32(len(b)))
	}
	if err == nil {
		_, err = sink.Write(b)
	}
	if err != nil {
		sink.Cancel()
		return fmt.Errorf("persist snapshot members: %w", err)
	}
	// The caller's Persist closes or cancels the sink itself.
	return s.app.Persist(sink)
}

func (s *snapshot) Release() { s.app.Release() }
