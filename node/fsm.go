package node

import (
	"fmt"
	"io"

	"github.com/hashicorp/raft"

	"innonet/cluster"
	"innonet/node/pipeline"
)

// fsm adapts pipeline.State to raft.FSM: the pipeline is the state
// machine, and the log index becomes the event's audit index. An entry
// the pipeline cannot understand is reported to the cluster as
// unreadable, which stops this site (CORRUPT) instead of skipping it.
type fsm struct{ st *pipeline.State }

func (f fsm) Apply(l *raft.Log) any {
	res := f.st.Apply(l.Index, l.Data)
	if pipeline.IsUnreadable(res) {
		return fmt.Errorf("%w: %v", cluster.ErrUnreadable, res)
	}
	return res
}

// ApplyBatch applies a run of entries in one write transaction of the
// pipeline (cluster.BatchApplier); it stops after an unreadable entry.
func (f fsm) ApplyBatch(logs []*raft.Log) []any {
	entries := make([]pipeline.Entry, len(logs))
	for i, l := range logs {
		entries[i] = pipeline.Entry{Index: l.Index, Data: l.Data}
	}
	out := f.st.ApplyBatch(entries)
	for i, res := range out {
		if pipeline.IsUnreadable(res) {
			out[i] = fmt.Errorf("%w: %v", cluster.ErrUnreadable, res)
		}
	}
	return out
}

func (f fsm) Snapshot() (raft.FSMSnapshot, error) { return fsmSnapshot{f.st.Snapshot()}, nil }

func (f fsm) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	return f.st.Restore(rc)
}

type fsmSnapshot struct{ sn *pipeline.Snapshot }

func (s fsmSnapshot) Persist(sink raft.SnapshotSink) error {
	if _, err := s.sn.WriteTo(sink); err != nil {
		sink.Cancel()
		return err
	}
	return sink.Close()
}

// WriteCanonical writes the snapshot uncompressed, for the state digests
// of checkpoints, which must not depend on a compressor's version.
func (s fsmSnapshot) WriteCanonical(w io.Writer) (int64, error) { return s.sn.WriteCanonical(w) }

func (fsmSnapshot) Release() {}
