package pipeline

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Filter selects and orders leads for [State.List]. Zero fields match
// everything.
type Filter struct {
	// Stage is one stage; it joins Stages.
	Stage Stage
	// Stages keeps the leads in any of these stages.
	Stages []Stage
	Site   string
	// Subnode keeps the leads of a sub-node and of the sub-nodes under it.
	Subnode  string
	Division string
	Sector   Sector
	Country  string
	DealType DealType
	// TRLMin and TRLMax bound the technology readiness level (inclusive).
	TRLMin, TRLMax int
	// SubmittedAfter and SubmittedBefore bound the submission time: from
	// After (inclusive) to Before (exclusive). UpdatedAfter bounds the
	// time of the last change, inclusive.
	SubmittedAfter, SubmittedBefore, UpdatedAfter time.Time
	// Organization keeps the leads whose organisation contains it, case
	// and width folded (see [Fold]).
	Organization string
	// Query keeps the leads whose text holds every word of it (see
	// [ParseSearch]).
	Query string
	// Order and Desc choose the order; ties never occur (every order
	// ends with the lead ID).
	Order Order
	Desc  bool
	// After is the ID of the last lead of the previous page, in ID order.
	After string
	// Position resumes a list after a position of Order (a [Page]'s Next);
	// it wins over After.
	Position []byte
	// Limit caps the page; zero means no cap.
	Limit int
	// MaxScan caps how many leads one call examines; zero means no cap.
	// A page that reaches it ends early, with a Next to go on from.
	MaxScan int
	// Visible, when set, keeps only the leads it returns true for.
	Visible func(*Lead) bool
}

// Page is one page of a list.
type Page struct {
	Leads []*Lead
	// Next is the position to go on from (Filter.Position); nil when no
	// lead follows.
	Next []byte
	// Scanned is how many leads the call examined.
	Scanned int
}

// Leads returns the leads matching f, and whether more follow.
func (s *State) Leads(f Filter) ([]*Lead, bool, error) {
	p, err := s.List(f)
	if err != nil {
		return nil, false, err
	}
	return p.Leads, p.Next != nil, nil
}

// List returns a page of the leads matching f, in f's order. It reads the
// narrowest order index there is for f (the division's, else the site's,
// else every lead's; one run per stage asked for, or per stage present),
// from f's position on, filtering as it goes, and stops once the page is
// full or MaxScan leads were examined: the cost of a page does not grow
// with the number of leads, only with how many it must pass over that
// do not match.
func (s *State) List(f Filter) (Page, error) {
	if !f.Order.Valid() {
		return Page{}, fmt.Errorf("list leads: unknown order %d", f.Order)
	}
	pos := f.Position
	if pos == nil && f.After != "" {
		if f.Order != OrderID {
			return Page{}, fmt.Errorf("list leads: After is a position in ID order only")
		}
		pos = IDPosition(f.After)
	}
	m := newMatcher(s, &f)
	txn := s.read()
	dim, prefix := dimAll, []byte{}
	switch {
	case f.Division != "":
		dim, prefix = dimDivision, dimValue(f.Division)
	case f.Site != "":
		dim, prefix = dimSite, dimValue(f.Site)
	}
	x := orderIndexer{dim: dim, order: f.Order}
	orders := sideIn(txn)
	stages := m.stageList()
	if stages == nil {
		stages = presentStages(orders, x, prefix)
	}
	runs := make([]*run, 0, len(stages))
	for _, st := range stages {
		r := &run{prefix: append(slices.Clip(prefix), byte(st))}
		r.seek(orders, x, pos, f.Desc)
		if r.head != nil {
			runs = append(runs, r)
		}
	}
	var (
		out []*Lead
		// last is the last lead examined: the page goes on after it.
		last *Lead
		page Page
	)
	next := func() []byte {
		if last == nil {
			return pos
		}
		return orderKey(last, f.Order)
	}
	for {
		r := pick(runs, f.Desc)
		if r == nil {
			page.Leads = out
			return page, nil
		}
		if f.MaxScan > 0 && page.Scanned >= f.MaxScan {
			page.Leads, page.Next = out, next()
			return page, nil
		}
		l := r.head
		page.Scanned++
		if m.match(l) {
			if f.Limit > 0 && len(out) == f.Limit {
				// One more matches: the page is full and another follows.
				page.Leads, page.Next = out, next()
				return page, nil
			}
			out = append(out, l.clone())
		}
		last = l
		r.advance(nil)
	}
}

// presentStages lists the stages of the leads under prefix in an order
// index, by seeking from one stage to the next.
func presentStages(orders *sideIndexes, x orderIndexer, prefix []byte) []Stage {
	var out []Stage
	seek := append(slices.Clip(prefix), 0)
	for {
		item, ok := orders.from(x, seek, false).next()
		if !ok || !bytes.HasPrefix(item.key, prefix) || len(item.key) <= len(prefix) {
			return out
		}
		st := item.key[len(prefix)]
		out = append(out, Stage(st))
		if st == 255 {
			return out
		}
		seek[len(seek)-1] = st + 1
	}
}

// run reads the leads of one stage of an order index, in order.
type run struct {
	it     *orderIter
	prefix []byte // dimension value and stage
	head   *Lead  // the next lead, nil when the run is over
	key    []byte // head's order key
}

// afterAll is a key above every order key.
var afterAll = bytes.Repeat([]byte{0xff}, 40)

// seek places the run at the first lead after pos (nil: the start).
func (r *run) seek(orders *sideIndexes, x orderIndexer, pos []byte, desc bool) {
	switch {
	case desc && pos == nil:
		r.it = orders.from(x, append(slices.Clip(r.prefix), afterAll...), true)
	default:
		r.it = orders.from(x, append(slices.Clip(r.prefix), pos...), desc)
	}
	r.advance(pos)
}

// advance moves the run to its next lead, passing over one at skip.
func (r *run) advance(skip []byte) {
	for {
		item, ok := r.it.next()
		if !ok || !bytes.HasPrefix(item.key, r.prefix) {
			r.head = nil
			return
		}
		key := item.key[len(r.prefix):]
		if skip != nil && bytes.Equal(key, skip) {
			skip = nil
			continue
		}
		r.head, r.key = item.lead, key
		return
	}
}

// pick returns the run whose head comes first in the order, or nil when
// every run is over.
func pick(runs []*run, desc bool) *run {
	var best *run
	for _, r := range runs {
		if r.head == nil {
			continue
		}
		if best == nil {
			best = r
			continue
		}
		c := bytes.Compare(r.key, best.key)
		if desc && c > 0 || !desc && c < 0 {
			best = r
		}
	}
	return best
}

// matcher applies every field of a Filter to one lead, cheapest test
// first.
type matcher struct {
	s      *State
	f      *Filter
	stages map[Stage]bool
	org    string
	terms  []searchTerm
}

func newMatcher(s *State, f *Filter) *matcher {
	m := &matcher{s: s, f: f}
	if f.Stage != StageUnspecified || len(f.Stages) > 0 {
		m.stages = map[Stage]bool{}
		if f.Stage != StageUnspecified {
			m.stages[f.Stage] = true
		}
		for _, st := range f.Stages {
			m.stages[st] = true
		}
	}
	if f.Organization != "" {
		m.org = Fold(f.Organization)
	}
	if f.Query != "" {
		m.terms = ParseSearch(f.Query)
	}
	return m
}

// stageList is the stages asked for, in order, or nil for every stage.
func (m *matcher) stageList() []Stage {
	if m.stages == nil {
		return nil
	}
	out := make([]Stage, 0, len(m.stages))
	for st := range m.stages {
		out = append(out, st)
	}
	slices.Sort(out)
	return out
}

func (m *matcher) match(l *Lead) bool {
	f := m.f
	switch {
	case m.stages != nil && !m.stages[l.Stage],
		f.Site != "" && l.Site != f.Site,
		f.Subnode != "" && l.Subnode != f.Subnode && !strings.HasPrefix(l.Subnode, f.Subnode+"-"),
		f.Division != "" && l.Division != f.Division,
		f.Sector != SectorUnspecified && l.Sector != f.Sector,
		f.Country != "" && l.Country != f.Country,
		f.DealType != DealTypeUnspecified && l.DealType != f.DealType,
		f.TRLMin > 0 && l.TRL < f.TRLMin,
		f.TRLMax > 0 && l.TRL > f.TRLMax,
		!f.SubmittedAfter.IsZero() && l.Created.Before(f.SubmittedAfter),
		!f.SubmittedBefore.IsZero() && !l.Created.Before(f.SubmittedBefore),
		!f.UpdatedAfter.IsZero() && l.Updated.Before(f.UpdatedAfter),
		f.Visible != nil && !f.Visible(l):
		return false
	}
	if m.org == "" && m.terms == nil {
		return true
	}
	d := m.s.searchDoc(l)
	if m.org != "" && !strings.Contains(d.org, m.org) {
		return false
	}
	return matchTerms(d.text, m.terms)
}

// lessID orders lead IDs by site, then by number (BOS-9999 before
// BOS-10000).
func lessID(a, b string) bool {
	as, an, _ := strings.Cut(a, "-")
	bs, bn, _ := strings.Cut(b, "-")
	if as != bs {
		return as < bs
	}
	if len(an) != len(bn) {
		return len(an) < len(bn)
	}
	return an < bn
}
