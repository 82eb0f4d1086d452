package search

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/index/scorch/mergeplan"
	"github.com/blevesearch/bleve/v2/mapping"

	"innonet/node/pipeline"
)

// Source is the state the index follows: a site's pipeline.State.
type Source interface {
	AppliedIndex() uint64
	Lead(id string) (*pipeline.Lead, error)
	Organization(id string) (*pipeline.Organization, error)
	EachLead(fn func(*pipeline.Lead) bool) error
	Glossary() ([]*pipeline.GlossaryTerm, error)
}

// Config configures an index.
type Config struct {
	// Dir is where the index is kept; empty keeps it in memory (tests),
	// to be rebuilt from the state on every start.
	Dir string
	// BatchSize is how many leads one write holds (default 1000).
	BatchSize int
	// Delay is how long Run gathers changes before it writes them
	// (default 100ms): one write of many leads costs the index much less
	// than many writes of one, and a burst of entries is one write.
	Delay time.Duration
	// Spacing is the least time between the starts of two writes while
	// changes keep coming (default 5s), unless a search is waiting for
	// them (every search waits: it reads its caller's writes): under a
	// steady stream of entries the index then writes one large segment
	// every few seconds instead of ten small ones a second, which it
	// would spend most of its time merging. With 64 writers on three
	// sites on one machine, 5s instead of 1s cut the CPU of a write by
	// about a fifth, most of it merges.
	Spacing time.Duration
	Logger  *slog.Logger
}

// Keys of what the index stores beside the documents.
const (
	keyMapping = "innonet.mapping" // mappingVersion
	keyApplied = "innonet.applied" // the applied index the documents reflect
	keyPrint   = "fp/"             // + shard (two hex digits): fingerprints (prints.go)
)

// Index is a site's search index. Applied and Reread may be called from
// the state machine's goroutine and never block; Run, on its own
// goroutine, does the work; Search is safe for concurrent use.
type Index struct {
	cfg Config
	log *slog.Logger
	src Source
	idx bleve.Index
	// schema is how documents are built for idx; pageMapping and
	// pageSchema, with positions, are those of the index of a page of
	// hits that Search finds their highlights in.
	schema      *schema
	pageMapping *mapping.IndexMappingImpl
	pageSchema  *schema
	// prints are the fingerprints of the documents; Run's alone.
	prints *prints

	mu      sync.Mutex
	pending map[string]struct{} // leads changed since the last batch
	all     bool                // re-read every lead
	noted   uint64              // the last applied index told of
	indexed uint64              // the last applied index the documents reflect
	// progress is closed, and replaced, whenever indexed moves.
	progress chan struct{}
	kick     chan struct{}
	hurry    chan struct{} // a search waits: write without spacing
	// compact is set, on Run's goroutine, when a round wrote enough of
	// the index for its segments to be merged (see Run).
	compact bool
	merges  atomic.Int64 // merges done, for tests
}

// Open opens the index kept in cfg.Dir, or creates it there: an index of
// another mapping version, or one that cannot be opened, is removed and
// built again from the state (Run reads every lead the first time).
func Open(cfg Config, src Source) (*Index, error) {
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 1000
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Delay <= 0 {
		cfg.Delay = 100 * time.Millisecond
	}
	if cfg.Spacing <= 0 {
		cfg.Spacing = 5 * time.Second
	}
	x := &Index{cfg: cfg, log: cfg.Logger, src: src, pending: map[string]struct{}{},
		all: true, progress: make(chan struct{}), kick: make(chan struct{}, 1), hurry: make(chan struct{}, 1),
		pageMapping: newMapping(true)}
	var err error
	if x.pageSchema, err = schemaOf(x.pageMapping); err != nil {
		return nil, err
	}
	if x.idx, err = openIndex(cfg.Dir, x.log); err != nil {
		return nil, err
	}
	// Documents are built from the mapping the index holds.
	m, ok := x.idx.Mapping().(*mapping.IndexMappingImpl)
	if !ok {
		_ = x.idx.Close()
		return nil, fmt.Errorf("search index: mapping of type %T", x.idx.Mapping())
	}
	if x.schema, err = schemaOf(m); err != nil {
		_ = x.idx.Close()
		return nil, err
	}
	if raw, err := x.idx.GetInternal([]byte(keyApplied)); err == nil && len(raw) == 8 {
		x.indexed = binary.BigEndian.Uint64(raw)
	}
	x.noted = x.indexed
	if x.prints, err = loadPrints(x.idx); err != nil {
		_ = x.idx.Close()
		return nil, err
	}
	x.kick <- struct{}{}
	return x, nil
}

func openIndex(dir string, log *slog.Logger) (bleve.Index, error) {
	if dir == "" {
		return bleve.NewMemOnly(newMapping(false))
	}
	if idx, err := bleve.OpenUsing(dir, map[string]any{"unsafe_batch": true}); err == nil {
		v, verr := idx.GetInternal([]byte(keyMapping))
		if verr == nil && string(v) == mappingVersion {
			return idx, nil
		}
		_ = idx.Close()
		log.Info("search index of another version: rebuilding it", "dir", dir)
	} else if entries, _ := os.ReadDir(dir); len(entries) > 0 {
		log.Warn("search index unreadable: rebuilding it", "dir", dir, "err", err)
	}
	if err := os.RemoveAll(dir); err != nil {
		return nil, fmt.Errorf("remove search index %s: %w", dir, err)
	}
	// The index is derived data, compared with the state on every start:
	// a write it loses in a crash is written again, so it need not wait
	// for the disk (unsafe_batch: no fsync per batch), which keeps it from
	// competing with the Raft log for the disk.
	idx, err := bleve.NewUsing(dir, newMapping(false), scorch.Name, scorch.Name, map[string]any{"unsafe_batch": true})
	if err != nil {
		return nil, fmt.Errorf("create search index %s: %w", dir, err)
	}
	if err := idx.SetInternal([]byte(keyMapping), []byte(mappingVersion)); err != nil {
		_ = idx.Close()
		return nil, fmt.Errorf("create search index %s: %w", dir, err)
	}
	return idx, nil
}

// Close closes the index; Run must have returned. It first gives the
// index up to closeFlush to put on disk what it holds only in memory
// (writes are not synced, and scorch drops unpersisted segments when it
// closes), so that a site stopped cleanly does not rebuild its index when
// it starts again.
func (x *Index) Close() error {
	deadline := time.Now().Add(closeFlush)
	for !persisted(x.idx) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	return x.idx.Close()
}

// closeFlush bounds Close's wait for the index to reach the disk.
const closeFlush = 5 * time.Second

// persisted tells whether a scorch index has written every segment it
// holds; an index with no such statistics (in memory) always has.
func persisted(idx bleve.Index) bool {
	m, _ := idx.StatsMap()["index"].(map[string]any)
	root, ok1 := m["CurRootEpoch"].(uint64)
	disk, ok2 := m["LastPersistedEpoch"].(uint64)
	return !ok1 || !ok2 || disk >= root
}

// Applied tells the index that the entry at index was applied and changed
// the given leads (none: it changed no lead). It never blocks.
func (x *Index) Applied(index uint64, leads ...string) {
	x.mu.Lock()
	for _, id := range leads {
		x.pending[id] = struct{}{}
	}
	x.noted = max(x.noted, index)
	x.mu.Unlock()
	x.wake()
}

// Reread tells the index that the entry at index may have changed any
// lead (an organisation renamed, the state restored from a snapshot): it
// compares every lead with what it holds. It never blocks.
func (x *Index) Reread(index uint64) {
	x.mu.Lock()
	x.all = true
	x.noted = index
	x.mu.Unlock()
	x.wake()
}

func (x *Index) wake() {
	select {
	case x.kick <- struct{}{}:
	default:
	}
}

// Indexed is the applied index the documents reflect: every lead as it
// stood at that index or later.
func (x *Index) Indexed() uint64 {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.indexed
}

// WaitFor waits until the index reflects the applied index at least, or
// ctx ends.
func (x *Index) WaitFor(ctx context.Context, index uint64) error {
	for {
		x.mu.Lock()
		done, ch := x.indexed >= index, x.progress
		x.mu.Unlock()
		if done {
			return nil
		}
		select {
		case x.hurry <- struct{}{}:
		default:
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ch:
		}
	}
}

// Run follows the state until ctx ends: it writes what Applied and Reread
// noted, a batch at a time.
func (x *Index) Run(ctx context.Context) {
	wait := time.Second
	var last time.Time // when the last round started
	for {
		select {
		case <-ctx.Done():
			return
		case <-x.kick:
		}
		gather := x.cfg.Delay
		if since := time.Since(last); since < x.cfg.Spacing {
			gather = max(gather, x.cfg.Spacing-since)
		}
		t := time.NewTimer(gather)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		case <-x.hurry:
			t.Stop()
		}
		last = time.Now()
		for ctx.Err() == nil {
			more, err := x.step(ctx)
			if err != nil && ctx.Err() != nil {
				return // stopped in the middle of a reread
			}
			if err != nil {
				x.log.Warn("search index: update failed; retrying", "err", err, "in", wait)
				select {
				case <-ctx.Done():
					return
				case <-time.After(wait):
				}
				wait = min(2*wait, time.Minute)
				continue
			}
			wait = time.Second
			if !more {
				break
			}
		}
		if x.compact && ctx.Err() == nil {
			x.merge(ctx)
		}
	}
}

// compactAfter is how many documents a round writes before Run merges
// the index's segments when it is done (a rebuild, a restore).
const compactAfter = 10000

// merge merges the index's segments into one. A search reads every
// segment, and the many written by a rebuild, which scorch's own merges
// would leave a dozen of, made every search of a large index slower by
// half; a round of a few changes adds a small segment that scorch merges
// on its own.
func (x *Index) merge(ctx context.Context) {
	x.compact = false
	a, err := x.idx.Advanced()
	if err != nil {
		return
	}
	m, ok := a.(interface {
		ForceMerge(context.Context, *mergeplan.MergePlanOptions) error
	})
	if !ok {
		return
	}
	start := time.Now()
	if err := m.ForceMerge(ctx, &mergeplan.SingleSegmentMergePlanOptions); err != nil && ctx.Err() == nil {
		x.log.Warn("search index: merge failed", "err", err)
		return
	}
	x.merges.Add(1)
	x.log.Debug("search index merged", "took", time.Since(start))
}

// step writes one round of noted changes; more is set if it left some.
func (x *Index) step(ctx context.Context) (more bool, err error) {
	x.mu.Lock()
	ids, all, noted := x.pending, x.all, x.noted
	x.pending, x.all = map[string]struct{}{}, false
	x.mu.Unlock()
	if len(ids) == 0 && !all {
		x.advance(noted)
		return false, nil
	}
	// The state read below is at least as new as noted: every entry up to
	// noted was applied before it was noted.
	if all {
		// Every lead is read: the documents reflect at least the index
		// the state had reached before.
		noted = max(noted, x.src.AppliedIndex())
		err = x.rereadAll(ctx, noted)
	} else {
		err = x.update(ids, noted)
	}
	if err != nil {
		x.mu.Lock()
		for id := range ids {
			x.pending[id] = struct{}{}
		}
		x.all = x.all || all
		x.mu.Unlock()
		return true, err
	}
	x.advance(noted)
	x.mu.Lock()
	more = len(x.pending) > 0 || x.all
	x.mu.Unlock()
	return more, nil
}

// advance records that the documents reflect the applied index.
func (x *Index) advance(index uint64) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if index > x.indexed {
		x.indexed = index
		close(x.progress)
		x.progress = make(chan struct{})
	}
}

// writer batches the documents of one round.
type writer struct {
	x      *Index
	b      *bleve.Batch
	prints printChanges
	// orgs are the organisations read this round: many leads share one.
	orgs  map[string]*pipeline.Organization
	wrote int
}

func (x *Index) newWriter() *writer {
	return &writer{x: x, b: x.idx.NewBatch(), prints: printChanges{}, orgs: map[string]*pipeline.Organization{}}
}

func (w *writer) organization(id string) *pipeline.Organization {
	if id == "" {
		return nil
	}
	o, ok := w.orgs[id]
	if !ok {
		o, _ = w.x.src.Organization(id)
		w.orgs[id] = o
	}
	return o
}

// put writes l if it differs from what the index holds.
func (w *writer) put(l *pipeline.Lead) error {
	ts := texts(l, w.organization(l.OrganizationID))
	fp := fingerprint(l, ts)
	if old, ok := w.prints.get(w.x.prints, l.ID); ok && old == fp {
		return nil
	}
	d, err := w.x.schema.document(l, ts)
	if err == nil {
		err = w.b.IndexAdvanced(d)
	}
	if err != nil {
		return fmt.Errorf("index lead %s: %w", l.ID, err)
	}
	w.prints.set(w.x.prints, l.ID, fp)
	return w.flushIfFull()
}

func (w *writer) remove(id string) error {
	w.b.Delete(id)
	w.prints.remove(w.x.prints, id)
	return w.flushIfFull()
}

func (w *writer) flushIfFull() error {
	if w.b.Size() < w.x.cfg.BatchSize {
		return nil
	}
	return w.flush()
}

func (w *writer) flush() error {
	if w.b.Size() == 0 {
		return nil
	}
	w.wrote += w.b.Size()
	w.prints.write(w.b)
	if err := w.x.idx.Batch(w.b); err != nil {
		return fmt.Errorf("write search index: %w", err)
	}
	w.prints.commit(w.x.prints)
	w.b.Reset()
	return nil
}

// done flushes the last batch with the applied index it reflects.
func (w *writer) done(applied uint64) error {
	var buf [8]byte
	binary.BigEndian.PutUint64(buf[:], applied)
	w.b.SetInternal([]byte(keyApplied), buf[:])
	return w.flush()
}

func (x *Index) update(ids map[string]struct{}, applied uint64) error {
	w := x.newWriter()
	for id := range ids {
		l, err := x.src.Lead(id)
		switch {
		case errors.Is(err, pipeline.ErrNotFound):
			err = w.remove(id)
		case err == nil:
			err = w.put(l)
		}
		if err != nil {
			return err
		}
	}
	return w.done(applied)
}

// rereadAll compares every lead of the state with the index, and removes
// what the state no longer holds (a restore to an earlier state). It
// stops when ctx ends (a site that restored a large state may be told
// to stop while it reads it).
func (x *Index) rereadAll(ctx context.Context, applied uint64) error {
	start := time.Now()
	w := x.newWriter()
	seen := 0
	var werr error
	err := x.src.EachLead(func(l *pipeline.Lead) bool {
		if werr = ctx.Err(); werr != nil {
			return false
		}
		seen++
		werr = w.put(l)
		return werr == nil
	})
	if err == nil {
		err = werr
	}
	if err != nil {
		return err
	}
	if err := w.flush(); err != nil {
		return err
	}
	if x.prints.len() > seen {
		if err := x.removeGone(w); err != nil {
			return err
		}
	}
	if err := w.done(applied); err != nil {
		return err
	}
	x.compact = x.compact || w.wrote >= compactAfter
	x.log.Debug("search index compared with the state", "leads", seen, "written", w.wrote, "took", time.Since(start))
	return nil
}

// removeGone removes the documents of leads the state does not hold.
func (x *Index) removeGone(w *writer) error {
	var gone []string
	for _, m := range x.prints {
		for id := range m {
			if _, err := x.src.Lead(id); errors.Is(err, pipeline.ErrNotFound) {
				gone = append(gone, id)
			}
		}
	}
	for _, id := range gone {
		if err := w.remove(id); err != nil {
			return err
		}
	}
	return nil
}
