package pipeline

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"runtime"
	"slices"
	"sync"

	"github.com/tidwall/btree"
)

// sideLoader writes the rows of a snapshot being restored into a new
// state: what [insertRow] does row by row, with the side trees built at
// the end from sorted items instead of one insert at a time.
//
// A snapshot holds the leads, the events and the request records in key
// order, so their trees by key grow by appending (btree's Load, which
// inserts as Set does when an item is not past the last). Their other
// orders (the order indexes of the leads, the events by log index, the
// request records by time) are collected, then sorted and loaded in
// [sideLoader.finish], the trees in parallel. A row whose key came
// before, as no snapshot written by innonet has, replaces the earlier
// row as insertRow would have it.
type sideLoader struct {
	txn      *tx
	side     *sideIndexes
	orders   [numDims][numOrders][]orderItem
	events   []eventItem
	requests []requestItem
	// The rows a later row of the same key replaced, to leave out of
	// the sorted orders; nil until there is one.
	goneLeads    map[*Lead]bool
	goneEvents   map[*Event]bool
	goneRequests map[*request]bool
	text         textSharer
}

func newSideLoader(txn *tx) *sideLoader {
	return &sideLoader{txn: txn, side: newSideIndexes(txn)}
}

// insert writes obj, a row of table.
func (ld *sideLoader) insert(table string, obj any) error {
	if k := keyedOf(table); k >= 0 {
		it, err := keyedRowOf(k, obj)
		if err != nil {
			return err
		}
		ld.side.setKeyed(k, it)
		return nil
	}
	if !slices.Contains(sideTables, table) {
		return ld.txn.Insert(table, obj)
	}
	l, e, r, err := sideRow(table, obj)
	switch {
	case err != nil:
		return err
	case l != nil:
		ld.lead(l)
	case e != nil:
		ld.text.event(ld.side, e)
		ld.events = loadKeyed(ld.side.eventKeys, &ld.goneEvents, ld.events, e, eventEntry)
	default:
		ld.requests = loadKeyed(ld.side.requestKeys, &ld.goneRequests, ld.requests, r, requestEntry)
	}
	return nil
}

// loadKeyed appends row to its tree by key, marking gone the row it
// replaces if any, and returns items with row's entry in the other order
// appended.
func loadKeyed[R comparable, E any](byKey *btree.BTreeG[R], gone *map[R]bool, items []E, row R, entry func(R) E) []E {
	if old, ok := byKey.Load(row); ok {
		*gone = markGone(*gone, old)
	}
	return append(items, entry(row))
}

func markGone[T comparable](m map[T]bool, v T) map[T]bool {
	if m == nil {
		m = map[T]bool{}
	}
	m[v] = true
	return m
}

func (ld *sideLoader) lead(l *Lead) {
	if old, ok := ld.side.leads.Load(leadItem{id: l.ID, lead: l}); ok {
		ld.goneLeads = markGone(ld.goneLeads, old.lead)
	}
	keys, ends, in := orderKeys(l)
	from := 0
	for d := range ld.orders {
		for k := range ld.orders[d] {
			if in[d][k] {
				ld.orders[d][k] = append(ld.orders[d][k], orderItem{key: keys[from:ends[d][k]:ends[d][k]], lead: l})
			}
			from = ends[d][k]
		}
	}
}

// finish sorts and loads the collected orders and stores the trees in
// the transaction.
func (ld *sideLoader) finish() error {
	// The biggest first, so that the workers end together.
	events, requests := ld.events, ld.requests
	ld.events, ld.requests = nil, nil
	jobs := []func(){func() {
		if ld.goneEvents != nil {
			events = slices.DeleteFunc(events, func(it eventItem) bool { return ld.goneEvents[it.event] })
		}
		ld.side.events = sortLoad(ld.side.events, events, compareEventItems)
	}, func() {
		if ld.goneRequests != nil {
			requests = slices.DeleteFunc(requests, func(it requestItem) bool { return ld.goneRequests[it.req] })
		}
		ld.side.requests = sortLoad(ld.side.requests, requests, compareRequestItems)
	}}
	for d := range ld.orders {
		for k := range ld.orders[d] {
			items, tree := ld.orders[d][k], ld.side.orders[d][k]
			ld.orders[d][k] = nil
			jobs = append(jobs, func() {
				if ld.goneLeads != nil {
					items = slices.DeleteFunc(items, func(it orderItem) bool { return ld.goneLeads[it.lead] })
				}
				ld.side.orders[d][k] = loadSorted(tree, sortedOrderItems(items))
			})
		}
	}
	// The trees by key were loaded as the rows came.
	side := ld.side
	jobs = append(jobs, func() { side.leads = packed(side.leads) },
		func() { side.eventKeys = packed(side.eventKeys) },
		func() { side.requestKeys = packed(side.requestKeys) })
	runJobs(jobs, runtime.GOMAXPROCS(0))
	ld.txn.side = ld.side
	return nil
}

// sortLoad sorts items and appends them to tree, which must be empty,
// and returns the tree packed.
func sortLoad[T any](tree *btree.BTreeG[T], items []T, cmp func(a, b T) int) *btree.BTreeG[T] {
	slices.SortFunc(items, cmp)
	return loadSorted(tree, items)
}

// loadSorted appends items, sorted, to tree, which must be empty, and
// returns the tree packed.
func loadSorted[T any](tree *btree.BTreeG[T], items []T) *btree.BTreeG[T] {
	for _, it := range items {
		tree.Load(it)
	}
	return packed(tree)
}

// sortedOrderItems returns items sorted by key, in a new slice. Each
// lead's keys live in an allocation of their own, so comparing two keys
// reads two places far apart in memory: sorting a million items that way
// was most of the time a restore spent on its order trees. The keys'
// first 16 bytes are sorted instead, packed in numbers beside each item's
// position, and only items whose first 16 bytes are equal compare their
// keys.
func sortedOrderItems(items []orderItem) []orderItem {
	type prefixed struct {
		hi, lo uint64
		at     int
	}
	ps := make([]prefixed, len(items))
	for i, it := range items {
		hi, lo := keyPrefix(it.key)
		ps[i] = prefixed{hi, lo, i}
	}
	slices.SortFunc(ps, func(a, b prefixed) int {
		if c := cmp.Or(cmp.Compare(a.hi, b.hi), cmp.Compare(a.lo, b.lo)); c != 0 {
			return c
		}
		return bytes.Compare(items[a.at].key, items[b.at].key)
	})
	sorted := make([]orderItem, len(items))
	for i, p := range ps {
		sorted[i] = items[p.at]
	}
	return sorted
}

// keyPrefix packs the first 16 bytes of key into two numbers, big-endian,
// a short key padded with zero bytes. Two keys whose prefixes differ
// order as their prefixes do (where one key ends inside the prefix, the
// other, longer and equal up to there, sorts after it either way);
// equal prefixes say nothing.
func keyPrefix(key []byte) (hi, lo uint64) {
	var b [16]byte
	copy(b[:], key)
	return binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])
}

// packed returns a copy of tree, which it replaces, whose nodes hold
// their items in arrays of their own size. A tree filled in order splits
// each full leaf in two and leaves the left half, which is never written
// again, in the whole array of the leaf it was: twice the memory of its
// items. A copy made by writing every node is made of arrays the size of
// its nodes: 6,543 -> 5,884 bytes of heap per lead restored at 20,000
// leads, and no slower to restore (there is less to collect).
func packed[T any](tree *btree.BTreeG[T]) *btree.BTreeG[T] {
	c := tree.Copy()
	c.ScanMut(func(T) bool { return true })
	return c
}

// runJobs runs jobs on up to n goroutines.
func runJobs(jobs []func(), n int) {
	next := make(chan func())
	var wg sync.WaitGroup
	for range min(n, len(jobs)) {
		wg.Go(func() {
			for job := range next {
				job()
			}
		})
	}
	for _, job := range jobs {
		next <- job
	}
	close(next)
	wg.Wait()
}

// textSharer makes the long strings of a lead's events share the bytes
// of equal strings of the lead and of its earlier events, as they do in
// a state that applied the events (a change holds the lead's own
// strings); decoded apart, each would be a copy of its own. A snapshot
// holds the leads before the events, and the events grouped by lead.
type textSharer struct {
	leadID string
	seen   map[string]string
}

func (t *textSharer) event(side *sideIndexes, e *Event) {
	if e.LeadID != t.leadID || t.seen == nil {
		t.leadID = e.LeadID
		if t.seen == nil {
			t.seen = map[string]string{}
		}
		clear(t.seen)
		if it, ok := side.leads.Get(leadItem{id: e.LeadID}); ok {
			l := it.lead
			for _, s := range []string{l.Title, l.Summary, l.Organization, l.Website, l.StageComment} {
				t.share(s)
			}
			for _, tr := range l.Translations {
				t.share(tr.Title)
				t.share(tr.Summary)
			}
		}
	}
	for i := range e.Changes {
		c := &e.Changes[i]
		c.Old, c.New = t.share(c.Old), t.share(c.New)
	}
	e.Comment = t.share(e.Comment)
}

// share returns the string seen before that equals s, or s; short
// strings are the decoder's to intern.
func (t *textSharer) share(s string) string {
	if len(s) <= internLen {
		return s
	}
	if v, ok := t.seen[s]; ok {
		return v
	}
	t.seen[s] = s
	return s
}
