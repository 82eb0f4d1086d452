package dedup

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
)

// Config tunes an Index. The values of DefaultConfig were chosen on the
// labelled development set as round, mild settings that hold over a range
// of thresholds; quality_test.go reports them on held-out halves too.
type Config struct {
	// Threshold is the confidence from which a candidate is reported as
	// a duplicate.
	Threshold float64
	// MinConfidence is the lowest confidence Check returns at all.
	MinConfidence float64
	// MaxResults bounds the candidates Check returns.
	MaxResults int
	// MaxPosting skips blocking keys shared by more leads than this; such
	// keys (a common word) would make a check scan most of the index.
	MaxPosting int
	// MaxTextPosting is the same bound for text features used as keys.
	// Pairs found only through text stay below TextOnly, so these keys
	// serve suggestions and can be bounded tightly.
	MaxTextPosting int
	// SimLow and SimHigh map text similarity linearly to [0,1]: at or
	// below SimLow the texts count as unrelated, at or above SimHigh as
	// the same technology.
	SimLow, SimHigh float64
	// TextOnly caps the confidence of a pair without organisation
	// evidence.
	TextOnly float64
	// TextWeight is the exponent of the technology similarity in the
	// confidence; the organisation evidence gets 1-TextWeight.
	TextWeight float64
	// TRLGapFactor multiplies the confidence once for every step by
	// which the TRLs differ beyond one.
	TRLGapFactor float64
	// DealTypeFactor and SectorFactor multiply the confidence when the
	// two leads name different deal types or sectors.
	DealTypeFactor, SectorFactor float64
	// OtherProductFactor multiplies the confidence of a pair with
	// organisation evidence when one lead presents itself as another
	// product of the organisation and the other does not (other.go).
	OtherProductFactor float64
}

// DefaultConfig returns the configuration measured in the package tests.
func DefaultConfig() Config {
	return Config{
		Threshold:          0.6,
		MinConfidence:      0.2,
		MaxResults:         10,
		MaxPosting:         2000,
		MaxTextPosting:     100,
		SimLow:             0.05,
		SimHigh:            0.45,
		TextOnly:           0.4,
		TextWeight:         0.6,
		TRLGapFactor:       0.85,
		DealTypeFactor:     0.9,
		SectorFactor:       0.9,
		OtherProductFactor: 0.7,
	}
}

// Errors returned by Add and Put.
var (
	ErrNoID        = errors.New("lead has no id")
	ErrDuplicateID = errors.New("lead id already indexed")
)

// Index holds existing leads for duplicate checks. It is safe for
// concurrent use: any number of Check calls run in parallel, and Add, Put
// and Remove may be called at the same time from other goroutines; a
// change waits for the checks in progress and is seen in full by every
// check that starts after it returns. The expensive part of a change,
// reading the lead's text, is done before the lock is taken.
type Index struct {
	cfg Config

	mu sync.RWMutex
	// leads are the slots postings point at; a replaced or removed
	// lead leaves nil behind until maybeCompact drops the dead slots.
	leads []*prepared
	ids   map[string]int32 // live lead ID to its slot
	dead  int              // nil slots in leads
	// terms holds, per key, the slots listed under it (dead ones
	// included) and the number of live leads holding it. Text feature
	// keys (lower-case kind) double as document frequencies.
	terms map[string]*term
	// numbers numbers every text feature key an indexed lead has held,
	// for the bound of bound.go; a number is never reused.
	numbers map[string]uint32
	// gen counts the changes: a lead added, or taken out (replaced or
	// removed); added is the ID of the last lead added, if that was the
	// last change.
	gen   uint64
	added string
	// below is cfg.unreachable() (bound.go).
	below [2]float64
	// noBound, set by tests, compares every candidate in full.
	noBound bool
}

// New returns an empty Index.
func New(cfg Config) *Index {
	return &Index{cfg: cfg, below: cfg.unreachable(), ids: map[string]int32{}, terms: map[string]*term{}, numbers: map[string]uint32{}}
}

// term is what the index holds of one key.
type term struct {
	key   string  // the key, shared by the features of every lead holding it
	count int     // live leads holding the key
	slots []int32 // the slots listed under it, dead ones included
}

// count is the number of live leads holding k. ix.mu is held.
func (ix *Index) count(k string) int {
	if t := ix.terms[k]; t != nil {
		return t.count
	}
	return 0
}

// Len returns the number of leads indexed.
func (ix *Index) Len() int {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return len(ix.ids)
}

// Add indexes a new lead; a lead with the same ID must not be indexed
// already (use Put to replace one).
func (ix *Index) Add(l Lead) error {
	if l.ID == "" {
		return ErrNoID
	}
	p := prepare(own(l))
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if _, ok := ix.ids[l.ID]; ok {
		return fmt.Errorf("add %s: %w", l.ID, ErrDuplicateID)
	}
	ix.insert(p)
	return nil
}

// Put indexes l, replacing the lead with the same ID if there is one:
// the lead was edited. Checks that start after Put returns see only the
// new version.
func (ix *Index) Put(l Lead) error {
	if l.ID == "" {
		return ErrNoID
	}
	p := prepare(own(l))
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.delete(l.ID)
	ix.insert(p)
	ix.maybeCompact()
	return nil
}

// Remove drops the lead with the given ID, as when it was merged into
// another or withdrawn. Removing an ID that is not indexed does nothing.
func (ix *Index) Remove(id string) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ix.delete(id) {
		ix.maybeCompact()
	}
}

// own copies the slices of l, so the caller may reuse them once the lead
// is indexed.
func own(l Lead) Lead {
	l.Tags = slices.Clone(l.Tags)
	l.Contacts = slices.Clone(l.Contacts)
	return l
}

// insert adds p in a new slot; ix.mu is held and p.lead.ID is not live.
func (ix *Index) insert(p *prepared) {
	nums := make([]uint32, len(p.feats)+len(p.head))
	p.featNums = ix.number(nums[:len(p.feats):len(p.feats)], p.feats)
	p.headNums = ix.number(nums[len(p.feats):], p.head)
	n := int32(len(ix.leads))
	ix.ids[p.lead.ID] = n
	ix.leads = append(ix.leads, p)
	ix.gen++
	ix.added = p.lead.ID
	for _, k := range keys(p) {
		t := ix.terms[k]
		if t == nil {
			t = &term{key: k}
			ix.terms[k] = t
		}
		t.count++
		t.slots = append(t.slots, n)
	}
	// The features name their keys by the index's one copy of each: a
	// lead's own spelling of some fifty keys would otherwise stay in
	// memory as long as the lead (a seventh of what an indexed lead cost).
	for _, fs := range [][]feature{p.feats, p.head} {
		for i := range fs {
			if t := ix.terms[fs[i].key]; t != nil { // every feature is a key of keys(p)
				fs[i].key = t.key
			}
		}
	}
}

// delete makes the slot of id dead and takes its keys out of the counts;
// its postings stay until compact. ix.mu is held.
func (ix *Index) delete(id string) bool {
	n, ok := ix.ids[id]
	if !ok {
		return false
	}
	for _, k := range keys(ix.leads[n]) {
		t := ix.terms[k]
		if t.count--; t.count == 0 {
			delete(ix.terms, k)
		}
	}
	delete(ix.ids, id)
	ix.leads[n] = nil
	ix.dead++
	ix.gen++
	ix.added = ""
	return true
}

// minCompact is the fewest dead slots worth a compaction.
const minCompact = 64

// maybeCompact rewrites the slots and postings without the dead slots
// once they are as many as the live ones, so the dead never cost a check
// more than the live and the cost of compaction is spread over as many
// changes as it has slots. ix.mu is held.
func (ix *Index) maybeCompact() {
	if ix.dead < minCompact || ix.dead < len(ix.ids) {
		return
	}
	slot := make([]int32, len(ix.leads))
	live := make([]*prepared, 0, len(ix.ids))
	for i, p := range ix.leads {
		slot[i] = -1
		if p != nil {
			slot[i] = int32(len(live))
			ix.ids[p.lead.ID] = slot[i]
			live = append(live, p)
		}
	}
	for _, t := range ix.terms {
		out := t.slots[:0]
		for _, i := range t.slots {
			if slot[i] >= 0 {
				out = append(out, slot[i])
			}
		}
		t.slots = slices.Clip(out)
	}
	ix.leads, ix.dead = live, 0
}

// keys are all the keys a lead is listed under: its organisation keys
// and its text features.
func keys(p *prepared) []string {
	ks := orgKeys(p)
	for _, f := range p.feats {
		ks = append(ks, f.key)
	}
	return ks
}

// orgKeys are the blocking keys of a lead's organisation evidence; every
// signal of orgEvidence has a key here, so a pair with organisation
// evidence always shares a block.
func orgKeys(p *prepared) []string {
	var ks []string
	for _, d := range p.domains {
		ks = append(ks, "D:"+d, "L:"+domainLabel(d), "O:"+domainLabel(d))
	}
	for _, e := range p.emails {
		ks = append(ks, "E:"+e)
	}
	for _, n := range p.names {
		ks = append(ks, "O:"+n.core, "F:"+n.first)
	}
	for _, n := range p.people {
		ks = append(ks, "P:"+n)
	}
	sort.Strings(ks)
	out := ks[:0]
	for i, k := range ks {
		if i == 0 || k != ks[i-1] {
			out = append(out, k)
		}
	}
	return out
}

// blockEntry is a candidate of a check: its slot, and whether one of
// the organisation keys found it.
type blockEntry struct {
	slot int32
	org  bool
}

// rareKeys is how many of a candidate's rarest text features are used as
// blocking keys besides its organisation keys.
const rareKeys = 8

// Check returns the indexed leads that may duplicate l, most confident
// first (ties by ID), at most Config.MaxResults of them. l itself need not
// be indexed; if it is, it is not compared with itself. Check may run
// concurrently with any other method.
func (ix *Index) Check(l Lead) []Candidate {
	out, _ := ix.check(ix.features(l))
	return out
}

// CheckAt is Check that also returns the generation of the index it
// read: how many changes (leads added, and leads taken out when replaced
// or removed) had been made to it. With UnchangedSince, it lets a caller
// check a new lead while it is being written and keep the answer once
// the lead is written, when nothing else changed meanwhile.
func (ix *Index) CheckAt(l Lead) ([]Candidate, uint64) { return ix.check(ix.features(l)) }

// UnchangedSince reports whether the index is as it was at generation
// gen, but perhaps for the addition of the lead id (not indexed at gen)
// as the only change. A check of that lead is then answered exactly as
// a check made at gen: a check leaves the checked lead's own indexed
// version out.
func (ix *Index) UnchangedSince(gen uint64, id string) bool {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return ix.gen == gen || id != "" && ix.gen == gen+1 && ix.added == id
}

// features returns what the index compares of l: what it holds already
// when it holds l as it is (a lead just written, checked for its writer,
// which Put has read), else l read anew.
func (ix *Index) features(l Lead) *prepared {
	if l.ID != "" {
		ix.mu.RLock()
		var p *prepared
		if n, ok := ix.ids[l.ID]; ok {
			p = ix.leads[n]
		}
		ix.mu.RUnlock()
		if p != nil && sameLead(&p.lead, &l) {
			return p
		}
	}
	return prepare(l)
}

// sameLead reports whether a and b hold the same values.
func sameLead(a, b *Lead) bool {
	return a.ID == b.ID && a.Title == b.Title && a.Summary == b.Summary && a.Organization == b.Organization &&
		a.Country == b.Country && a.Sector == b.Sector && a.TRL == b.TRL && a.DealType == b.DealType &&
		a.Website == b.Website && a.Language == b.Language &&
		slices.Equal(a.Tags, b.Tags) && slices.Equal(a.Contacts, b.Contacts)
}

// view is the index as a check of one lead sees it: without the
// version of that lead it holds, if it holds one, so that a lead is
// checked alike before and after it is indexed (and while an edit of it
// is). ix.mu is held while it is used.
type view struct {
	ix *Index
	// indexed says that the lead checked is the very version the index
	// holds (a lead just written, checked for its writer): the keys left
	// out are then its own keys, and nothing needs listing.
	indexed bool
	self    map[string]bool // else the keys of the indexed version, if any
	slot    int32           // the slot of the indexed version, -1 for none
	live    int             // the leads indexed, the checked one left out
}

func (ix *Index) view(c *prepared) view {
	v := view{ix: ix, slot: -1, live: len(ix.ids)}
	n, ok := ix.ids[c.lead.ID]
	if !ok || c.lead.ID == "" {
		return v
	}
	v.slot, v.live = n, v.live-1
	if ix.leads[n] == c {
		v.indexed = true
		return v
	}
	ks := keys(ix.leads[n])
	v.self = make(map[string]bool, len(ks))
	for _, k := range ks {
		v.self[k] = true
	}
	return v
}

// ownCount is the number of leads, the checked one left out, holding k,
// one of the checked lead's keys.
func (v view) ownCount(k string) int {
	n := v.ix.count(k)
	if v.indexed || v.self[k] {
		n--
	}
	return n
}

// idf returns the IDF weight of a key for a check of c, which counts
// as one more lead holding its own keys. Every comparison weighs c's
// features again, and the features candidates share: each key's weight
// is worked out once per check.
func (v view) idf(c *prepared) func(string) float64 {
	n := float64(v.live + 1)
	// The leads holding k, c counted in and its indexed version left
	// out. When c is the indexed version, those are the leads the index
	// counts.
	df := v.ix.count
	if !v.indexed {
		own := make(map[string]bool, len(c.feats))
		for _, f := range c.feats {
			own[f.key] = true
		}
		df = func(k string) int {
			d := v.ix.count(k)
			if v.self[k] {
				d--
			}
			if own[k] {
				d++
			}
			return d
		}
	}
	weights := make(map[string]float64, 4*len(c.feats))
	return func(k string) float64 {
		if w, ok := weights[k]; ok {
			return w
		}
		w := math.Max(0, math.Log((n+1)/(float64(df(k))+1)))
		weights[k] = w
		return w
	}
}

func (ix *Index) check(c *prepared) ([]Candidate, uint64) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	v := ix.view(c)
	// The candidates in the order found, and whether an organisation key
	// found each. When every organisation key of c was looked up (none
	// was too common), a candidate no organisation key found has no
	// organisation evidence (orgKeys), which spares its bound a case.
	var (
		block  = map[int32]int32{} // slot to its place in cands
		cands  []blockEntry
		allOrg = true
	)
	collect := func(k string, limit int, org bool) {
		t := ix.terms[k]
		if t == nil {
			return
		}
		if v.ownCount(k) > limit {
			allOrg = allOrg && !org
			return
		}
		for _, i := range t.slots {
			if ix.leads[i] == nil || i == v.slot {
				continue
			}
			if at, ok := block[i]; ok {
				cands[at].org = cands[at].org || org
				continue
			}
			block[i] = int32(len(cands))
			cands = append(cands, blockEntry{slot: i, org: org})
		}
	}
	for _, k := range orgKeys(c) {
		collect(k, ix.cfg.MaxPosting, true)
	}
	type rareKey struct {
		key   string
		count int
	}
	rare := make([]rareKey, 0, len(c.feats))
	for _, f := range c.feats {
		if d := v.ownCount(f.key); d > 0 && d <= ix.cfg.MaxTextPosting {
			rare = append(rare, rareKey{f.key, d})
		}
	}
	slices.SortFunc(rare, func(a, b rareKey) int {
		if a.count != b.count {
			return a.count - b.count
		}
		return strings.Compare(a.key, b.key)
	})
	for i := 0; i < len(rare) && i < rareKeys; i++ {
		collect(rare[i].key, ix.cfg.MaxTextPosting, false)
	}

	idf := v.idf(c)
	feats, head := weigh(c.feats, idf, ix.numbers), weigh(c.head, idf, ix.numbers)
	// In slot order, the order the leads were indexed and so, mostly,
	// the order of their places in memory.
	slices.SortFunc(cands, func(a, b blockEntry) int { return cmp.Compare(a.slot, b.slot) })
	var out []Candidate
	for _, b := range cands {
		e := ix.leads[b.slot]
		if !ix.noBound && !ix.cfg.mayReach(c, e, &feats, &head, allOrg && !b.org, ix.below) {
			continue // bound.go
		}
		if ix.cfg.confidence(c, e, idf) >= ix.cfg.MinConfidence {
			out = append(out, ix.cfg.score(c, e, idf))
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Confidence != out[j].Confidence {
			return out[i].Confidence > out[j].Confidence
		}
		return out[i].ID < out[j].ID
	})
	if ix.cfg.MaxResults > 0 && len(out) > ix.cfg.MaxResults {
		out = out[:ix.cfg.MaxResults]
	}
	return out, ix.gen
}
