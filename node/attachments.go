package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"time"

	"github.com/hashicorp/raft"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"innonet/node/attachments"
	"innonet/node/pipeline"
	innonetpb "innonet/proto/innonet/v1"
)

// This file wires a site's attachment store and fetcher (package
// node/attachments) to its state and its peers. The API is in
// api_attachments.go and attachments_http.go.

// Defaults of the attachment settings in Config.
const (
	DefaultMaxAttachmentBytes  = 20 << 20
	DefaultAttachmentFetchWait = 15 * time.Second
	// attachmentChunk is the size of the messages that carry bytes.
	attachmentChunk = 64 << 10
)

// openAttachments opens the site's store of attachment bytes,
// <data-dir>/attachments, and its fetcher, which Node.New starts (and
// whose metrics it registers once the site has its registry). It runs
// before the state machine starts, which kicks the fetcher.
func (n *Node) openAttachments() error {
	switch max := n.cfg.MaxAttachmentBytes; {
	case max == 0:
		n.cfg.MaxAttachmentBytes = DefaultMaxAttachmentBytes
	case max < 1 || max > pipeline.MaxAttachmentSize:
		return fmt.Errorf("max attachment bytes %d: want from 1 to %d (1 GiB)", max, int64(pipeline.MaxAttachmentSize))
	}
	if n.cfg.AttachmentFetchWait == 0 {
		n.cfg.AttachmentFetchWait = DefaultAttachmentFetchWait
	}
	st, err := attachments.Open(filepath.Join(n.cfg.DataDir, "attachments"))
	if err != nil {
		return err
	}
	fc := n.cfg.AttachmentFetch
	fc.Logger, fc.Metrics, fc.MaxBytes = n.log.With("component", "attachments"), nil, pipeline.MaxAttachmentSize
	f, err := attachments.NewFetcher(st, attachmentSource{n}, fc)
	if err != nil {
		return err
	}
	n.files, n.fetcher = st, f
	return nil
}

// attachmentSource is what the fetcher asks of the site.
type attachmentSource struct{ n *Node }

func (s attachmentSource) Wanted() []attachments.Wanted {
	files := s.n.state.StoredFiles()
	out := make([]attachments.Wanted, len(files))
	for i, f := range files {
		out[i] = attachments.Wanted{SHA256: f.SHA256, Size: f.Size, Origins: f.Origins}
	}
	return out
}

// Peers orders the members to fetch from: the leader, which is best
// connected, then the sites that received the file, then the others.
func (s attachmentSource) Peers(origins []string) []string {
	st, err := s.n.cluster.Status()
	if err != nil {
		return nil
	}
	members := map[string]bool{}
	var rest []string
	for _, m := range st.Members {
		if m.ID != s.n.cfg.Site && m.APIAddr != "" {
			members[m.ID] = true
			rest = append(rest, m.ID)
		}
	}
	var out []string
	add := func(id string) {
		if members[id] && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	leader, _ := s.n.cluster.LastKnownLeader()
	add(leader)
	for _, o := range origins {
		add(o)
	}
	slices.Sort(rest)
	for _, id := range rest {
		add(id)
	}
	return out
}

// Fetch opens a peer's copy of a file over the site-to-site API (mutual
// TLS with this site's certificate).
func (s attachmentSource) Fetch(ctx context.Context, peer, sha string) (io.ReadCloser, error) {
	st, err := s.n.cluster.Status()
	if err != nil {
		return nil, err
	}
	addr := ""
	for _, m := range st.Members {
		if m.ID == peer {
			addr = m.APIAddr
		}
	}
	if addr == "" {
		return nil, fmt.Errorf("site %s has no API address", peer)
	}
	conn, err := s.n.peers.conn(peer, addr)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	stream, err := innonetpb.NewClusterServiceClient(conn).FetchAttachment(ctx, &innonetpb.FetchAttachmentRequest{Sha256: sha})
	if err != nil {
		cancel()
		return nil, err
	}
	first, err := stream.Recv()
	if err != nil {
		cancel()
		if status.Code(err) == codes.NotFound {
			return nil, fmt.Errorf("%w: %s", attachments.ErrNotFound, status.Convert(err).Message())
		}
		return nil, err
	}
	return &chunkReader{buf: first.Data, recv: func() ([]byte, error) {
		m, err := stream.Recv()
		if err != nil {
			return nil, err
		}
		return m.Data, nil
	}, cancel: cancel}, nil
}

// chunkReader reads a stream of byte chunks.
type chunkReader struct {
	buf    []byte
	recv   func() ([]byte, error)
	cancel context.CancelFunc
}

func (r *chunkReader) Read(p []byte) (int, error) {
	for len(r.buf) == 0 {
		b, err := r.recv()
		if err != nil {
			return 0, err
		}
		r.buf = b
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

func (r *chunkReader) Close() error {
	r.cancel()
	return nil
}

// notifyingFSM is the site's state machine, which also tells the
// attachment fetcher when the state may name files the store lacks: after
// an entry that adds an attachment, and after a restore (a snapshot from
// the leader, or at start-up); and the search and duplicate indexes what
// each entry changed (search.go, duplicates.go).
type notifyingFSM struct {
	fsm
	n *Node
}

func (f notifyingFSM) Apply(l *raft.Log) any {
	res := f.fsm.Apply(l)
	f.tell(l, res)
	f.n.applied.applied()
	return res
}

// ApplyBatch applies a run of entries at once (cluster.BatchApplier) and
// tells the derived indexes about each, as Apply does.
func (f notifyingFSM) ApplyBatch(logs []*raft.Log) []any {
	out := f.fsm.ApplyBatch(logs)
	for i, res := range out {
		f.tell(logs[i], res)
	}
	f.n.applied.applied()
	return out
}

// tell passes what one applied entry changed to what derives from the
// state.
func (f notifyingFSM) tell(l *raft.Log, res any) {
	r, ok := res.(pipeline.Result)
	if ok && r.Attachment != nil && r.Attachment.Live() {
		f.n.kickFetcher()
	}
	f.n.searchApplied(l.Index, r, ok)
	f.n.dupes.applied(l.Index, r, ok)
	if ok && r.Profile != nil {
		f.n.matches.changed()
	}
	f.n.copy.apply(l.AppendedAt, time.Now())
}

func (f notifyingFSM) Restore(rc io.ReadCloser) error {
	err := f.fsm.Restore(rc)
	f.n.kickFetcher()
	f.n.search.Reread(f.n.state.AppliedIndex())
	f.n.dupes.reread(f.n.state.AppliedIndex())
	f.n.matches.changed()
	f.n.applied.applied()
	return err
}

func (n *Node) kickFetcher() {
	if n.fetcher != nil {
		n.fetcher.Kick()
	}
}

// Files is the site's store of attachment bytes.
func (n *Node) Files() *attachments.Store { return n.files }

// Fetcher is the site's fetcher of attachment bytes.
func (n *Node) Fetcher() *attachments.Fetcher { return n.fetcher }

// waitCaughtUp waits until this site has applied what the leader had
// committed when it was called (on the leader, what it committed itself:
// a leader just elected may not have applied all of it), for at most max:
// a check against its own copy of the state that failed may pass on a
// copy a moment newer (a lead submitted or claimed through this site a
// moment ago, which the leader has applied and answered, and this site
// not yet).
func (n *Node) waitCaughtUp(ctx context.Context, max time.Duration) {
	ctx, cancel := context.WithTimeout(ctx, max)
	defer cancel()
	target := n.cluster.Stats().CommitIndex
	// A leader knows the commit index itself, but may not have applied
	// all of it yet (just elected); a follower asks the leader.
	if st, err := n.cluster.Status(); err == nil && !n.cluster.IsLeader() {
		for _, m := range st.Members {
			if m.ID == st.Leader {
				if ls, err := n.fetchStats(ctx, m); err == nil && ls.CommitIndex > target {
					target = ls.CommitIndex
				}
			}
		}
	}
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for n.cluster.Stats().AppliedIndex < target {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// openStored opens the bytes of attachment a, fetching them from a peer
// first if this site does not hold them (or holds them damaged), for at
// most AttachmentFetchWait.
func (n *Node) openStored(ctx context.Context, a *pipeline.Attachment) (*attachments.File, error) {
	f, err := n.files.Open(a.SHA256)
	if err == nil {
		return f, nil
	}
	if errors.Is(err, attachments.ErrCorrupt) {
		n.fetcher.Damaged(a.SHA256, err)
	} else if !errors.Is(err, attachments.ErrNotFound) {
		return nil, status.Errorf(codes.Internal, "open the bytes of attachment %s: %v", a.SHA256, err)
	}
	var origins []string
	if a.Origin != "" {
		origins = []string{a.Origin}
	}
	wctx, cancel := context.WithTimeout(ctx, n.cfg.AttachmentFetchWait)
	defer cancel()
	// A peer may not have applied the entry yet: try again while the
	// wait lasts.
	var ferr error
	for wait := 50 * time.Millisecond; ; wait = min(2*wait, time.Second) {
		ferr = n.fetcher.Get(wctx, attachments.Wanted{SHA256: a.SHA256, Size: a.Size, Origins: origins})
		if ferr == nil {
			if f, err = n.files.Open(a.SHA256); err == nil {
				return f, nil
			}
			ferr = err
		}
		select {
		case <-wctx.Done():
		case <-time.After(wait):
			continue
		}
		break
	}
	return nil, unavailableError{status.Newf(codes.Unavailable,
		"site %s does not hold the bytes of attachment %s yet, and could not fetch them from another site within %s (%v); it keeps trying: retry shortly, or download from another site",
		n.cfg.Site, a.SHA256, n.cfg.AttachmentFetchWait, clipErr(ferr)), retryAfterFetch}
}

// retryAfterFetch is the Retry-After of a download the site cannot serve
// yet.
const retryAfterFetch = 5 * time.Second

// unavailableError is UNAVAILABLE with a time to retry after.
type unavailableError struct {
	st    *status.Status
	retry time.Duration
}

func (e unavailableError) Error() string              { return e.st.Message() }
func (e unavailableError) GRPCStatus() *status.Status { return e.st }

// clipErr shortens an error for a message.
func clipErr(err error) string {
	s := err.Error()
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return s
}
