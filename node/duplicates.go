package node

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"innonet/node/dedup"
	"innonet/node/pipeline"
)

// This file keeps a site's duplicate index (package node/dedup): derived
// data, like the search index, built from the site's state at start and
// after a restore and kept up to date as entries apply, outside Apply. It
// holds every lead but the MERGED ones, with its organisation's names and
// website. It lives in memory: building it from the state takes seconds
// even at 100,000 leads. The API is in api_duplicates.go.

type duplicates struct {
	state *pipeline.State
	log   *slog.Logger
	ix    *dedup.Index

	mu      sync.Mutex
	pending map[string]struct{} // leads to read again
	all     bool                // read every lead again
	latest  uint64              // the newest applied index noted
	kick    chan struct{}

	known map[string]bool // the leads indexed; run's alone

	indexed atomic.Uint64 // the applied index the index reflects
	changed chan struct{} // closed and replaced when indexed moves
	chMu    sync.Mutex
}

func newDuplicates(state *pipeline.State, log *slog.Logger) *duplicates {
	return &duplicates{state: state, log: log, ix: dedup.New(dedup.DefaultConfig()),
		pending: map[string]struct{}{}, all: true, known: map[string]bool{}, kick: make(chan struct{}, 1), changed: make(chan struct{})}
}

// applied notes what the entry at index changed. An organisation edited
// may rename every lead linked to it; a merge removes the merged lead.
func (d *duplicates) applied(index uint64, r pipeline.Result, ok bool) {
	d.mu.Lock()
	d.latest = max(d.latest, index)
	switch {
	case !ok || r.Replayed:
	case r.Org != nil && r.Org.Version > 1:
		d.all = true
	case r.Lead != nil:
		d.pending[r.Lead.ID] = struct{}{}
	}
	d.mu.Unlock()
	d.poke()
}

// reread has the index read the whole state again (after a restore).
func (d *duplicates) reread(index uint64) {
	d.mu.Lock()
	d.all, d.latest = true, max(d.latest, index)
	d.mu.Unlock()
	d.poke()
}

func (d *duplicates) poke() {
	select {
	case d.kick <- struct{}{}:
	default:
	}
}

// run follows the state until ctx ends.
func (d *duplicates) run(ctx context.Context) {
	for {
		d.mu.Lock()
		ids, all, latest := d.pending, d.all, d.latest
		d.pending, d.all = map[string]struct{}{}, false
		d.mu.Unlock()
		if all {
			if !d.rebuild(ctx) {
				// Try again at the next entry; meanwhile the index says it
				// is behind.
				d.mu.Lock()
				d.all = true
				d.mu.Unlock()
				select {
				case <-ctx.Done():
					return
				case <-d.kick:
				}
				continue
			}
		} else {
			for id := range ids {
				d.update(id)
			}
		}
		if latest == 0 && all {
			latest = d.state.AppliedIndex()
		}
		d.setIndexed(latest)
		select {
		case <-ctx.Done():
			return
		case <-d.kick:
		}
	}
}

// rebuild reads every lead: those indexed are replaced, those gone
// removed. It reports whether it read them all.
func (d *duplicates) rebuild(ctx context.Context) bool {
	start := time.Now()
	orgs := map[string]*pipeline.Organization{}
	seen := map[string]bool{}
	var n int
	err := d.state.EachLead(func(l *pipeline.Lead) bool {
		if ctx.Err() != nil {
			return false
		}
		seen[l.ID] = true
		d.put(l, orgs)
		n++
		return true
	})
	if err != nil || ctx.Err() != nil {
		if err != nil {
			d.log.Error("duplicate index: read the leads", "err", err)
		}
		return false
	}
	for id := range d.known {
		if !seen[id] {
			d.remove(id)
		}
	}
	d.log.Debug("duplicate index built", "leads", n, "took", time.Since(start))
	return true
}

func (d *duplicates) update(id string) {
	l, err := d.state.Lead(id)
	if err != nil {
		d.remove(id)
		return
	}
	d.put(l, nil)
}

// put indexes l as it is now, or removes it once merged. orgs caches the
// organisations read during a rebuild.
func (d *duplicates) put(l *pipeline.Lead, orgs map[string]*pipeline.Organization) {
	if l.Stage == pipeline.Merged {
		d.remove(l.ID)
		return
	}
	var org *pipeline.Organization
	if l.OrganizationID != "" {
		if o, ok := orgs[l.OrganizationID]; ok {
			org = o
		} else if o, err := d.state.Organization(l.OrganizationID); err == nil {
			org = o
			if orgs != nil {
				orgs[o.ID] = o
			}
		}
	}
	if err := d.ix.Put(dedupLead(l.ID, &l.Draft, org)); err != nil {
		d.log.Error("duplicate index: add a lead", "lead", l.ID, "err", err)
		return
	}
	d.known[l.ID] = true
}

func (d *duplicates) remove(id string) {
	d.ix.Remove(id)
	delete(d.known, id)
}

// dedupLead is what duplicate detection reads of a lead or a draft: its
// organisation's names (all of them, when it links to one) and website.
func dedupLead(id string, dr *pipeline.Draft, org *pipeline.Organization) dedup.Lead {
	names := []string{dr.Organization}
	website := dr.Website
	if org != nil {
		names = append(names, org.Name, org.NameEN)
		names = append(names, org.OtherNames...)
		if website == "" {
			website = org.Website
		}
	}
	var kept []string
	for _, n := range names {
		if n = strings.TrimSpace(n); n != "" {
			kept = append(kept, n)
		}
	}
	out := dedup.Lead{ID: id, Title: dr.Title, Summary: dr.Summary, Organization: strings.Join(kept, " / "),
		Country: dr.Country, TRL: dr.TRL, Tags: dr.Tags, Website: website, Language: dr.Language}
	// A draft being typed may not say yet: unset compares as unknown.
	if dr.Sector != pipeline.SectorUnspecified {
		out.Sector = dr.Sector.String()
	}
	if dr.DealType != pipeline.DealTypeUnspecified {
		out.DealType = dr.DealType.String()
	}
	for _, c := range dr.Contacts {
		out.Contacts = append(out.Contacts, dedup.Contact{Name: c.Name, Email: c.Email})
	}
	return out
}

func (d *duplicates) setIndexed(i uint64) {
	if i <= d.indexed.Load() {
		return
	}
	d.indexed.Store(i)
	d.chMu.Lock()
	close(d.changed)
	d.changed = make(chan struct{})
	d.chMu.Unlock()
}

// waitFor waits until the index reflects the entry at index, or ctx
// ends.
func (d *duplicates) waitFor(ctx context.Context, index uint64) error {
	for {
		d.chMu.Lock()
		ch := d.changed
		d.chMu.Unlock()
		if d.indexed.Load() >= index {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ch:
		}
	}
}

// check returns the indexed leads that may duplicate l, leaving out l's
// own ID.
func (d *duplicates) check(l dedup.Lead) []dedup.Candidate { return d.ix.Check(l) }

// precheck is a check of a lead not yet written, made while it is.
type precheck struct {
	done  chan struct{}
	cands []dedup.Candidate
	gen   uint64 // the generation of the index it read
	ok    bool   // it ran to the end, on an index that had caught up
	// until bounds its wait, and the submit's wait after the commit, for
	// the index to catch up.
	until time.Time
	// org is the version of the organisation the lead linked to when the
	// check began (0: none); the caller compares it after the commit.
	org int64
}

// precheck starts checking l, a lead with no ID yet, once the index
// reflects every entry applied before now (waiting at most catchUp); org
// is the version of the organisation l was read with.
func (d *duplicates) precheck(l dedup.Lead, org int64, catchUp time.Duration) *precheck {
	p := &precheck{done: make(chan struct{}), until: time.Now().Add(catchUp), org: org}
	applied := d.state.AppliedIndex()
	go func() {
		defer close(p.done)
		defer func() {
			if r := recover(); r != nil {
				d.log.Error("duplicate check of a submit before it committed", "panic", r)
			}
		}()
		ctx, cancel := context.WithDeadline(context.Background(), p.until)
		defer cancel()
		if d.waitFor(ctx, applied) != nil {
			return
		}
		p.cands, p.gen = d.ix.CheckAt(l)
		p.ok = true
	}()
	return p
}

// precheckResult waits for p and returns its answer for the lead id that
// the entry at index wrote, if the index has not changed since p read it
// but perhaps by the addition of that lead: then p's answer is the one a
// check after the entry would give (dedup.Index.UnchangedSince). When
// the index reflects every entry before index, that is known at once;
// otherwise it waits for the index to reflect the entry (until p.until).
// It reports false for a nil p.
func (d *duplicates) precheckResult(ctx context.Context, p *precheck, id string, index uint64) ([]dedup.Candidate, bool) {
	if p == nil {
		return nil, false
	}
	<-p.done
	if !p.ok {
		return nil, false
	}
	if d.indexed.Load()+1 >= index && d.ix.UnchangedSince(p.gen, id) {
		return p.cands, true
	}
	wctx, cancel := context.WithDeadline(ctx, p.until)
	defer cancel()
	if d.waitFor(wctx, index) != nil || !d.ix.UnchangedSince(p.gen, id) {
		return nil, false
	}
	return p.cands, true
}
