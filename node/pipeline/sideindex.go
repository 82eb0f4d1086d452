package pipeline

import (
	"bytes"
	"cmp"
	"fmt"

	memdb "github.com/hashicorp/go-memdb"
	"github.com/tidwall/btree"
)

// Some indexes are B-trees beside memdb's rather than memdb indexes: the
// lead table's order indexes (index.go: one per order and dimension,
// twelve in all), the events by log index and the request records by
// time. A memdb index is a radix tree that copies a path of small nodes,
// each with its own watch channel, for every row written, and holds a
// leaf per row: about 300 to 500 bytes and 20 allocations per row and
// index. A B-tree item is a key and a pointer, packed up to 63 to a node.
//
// The trees live in memdb all the same, as the one row of tableSide, so
// that a transaction sees the trees that go with its rows: a write
// transaction's first write copies the committed trees (lazily: a copy
// shares every node until it changes one) and stores the copies in the
// transaction, a commit publishes them with the rows, an abort drops
// them. Readers only ever see committed trees, which no one changes
// again.
//
// Every write to those tables goes through [insertRow] (and a request
// record's removal through [deleteRequest]); the trees are derived from
// the rows and never written to snapshots.

// tableSide holds the one [sideIndexes] row.
const tableSide = "side_indexes"

// sideName is the key of that row.
const sideName = "side"

// orderItem is one entry of an order tree: a lead's key in that order
// index and the lead.
type orderItem struct {
	key  []byte
	lead *Lead
}

func lessOrderItem(a, b orderItem) bool { return bytes.Compare(a.key, b.key) < 0 }

// eventItem is an event in log order: by log index, then key (a log
// entry may write events of several leads).
type eventItem struct {
	log   uint64
	key   string
	event *Event
}

func lessEventItem(a, b eventItem) bool {
	if a.log != b.log {
		return a.log < b.log
	}
	return a.key < b.key
}

// requestItem is a request record in time order, then by key.
type requestItem struct {
	time int64
	key  string
	req  *request
}

func lessRequestItem(a, b requestItem) bool {
	return cmp.Or(cmp.Compare(a.time, b.time), cmp.Compare(a.key, b.key)) < 0
}

// sideIndexes is the trees as of one transaction.
type sideIndexes struct {
	Name string
	// owner is the write transaction that made these copies and may still
	// change them; committed trees are never changed again (a later
	// transaction copies them), so an owner that is not the caller's
	// transaction means "copy first".
	owner    *memdb.Txn
	orders   [numDims][numOrders]*btree.BTreeG[orderItem]
	events   *btree.BTreeG[eventItem]
	requests *btree.BTreeG[requestItem]
}

// sideTreeDegree sets the B-trees' node size: 2×degree-1 items at most.
const sideTreeDegree = 32

func newTree[T any](less func(a, b T) bool) *btree.BTreeG[T] {
	return btree.NewBTreeGOptions(less, btree.Options{NoLocks: true, Degree: sideTreeDegree})
}

func newSideIndexes(owner *memdb.Txn) *sideIndexes {
	o := &sideIndexes{Name: sideName, owner: owner,
		events: newTree(lessEventItem), requests: newTree(lessRequestItem)}
	for d := range o.orders {
		for k := range o.orders[d] {
			o.orders[d][k] = newTree(lessOrderItem)
		}
	}
	return o
}

// sideIn returns the trees as txn sees them, to read.
func sideIn(txn *memdb.Txn) (*sideIndexes, error) {
	raw, err := txn.First(tableSide, "id", sideName)
	if err != nil {
		return nil, fmt.Errorf("read indexes: %w", err)
	}
	if raw == nil {
		return newSideIndexes(nil), nil
	}
	return raw.(*sideIndexes), nil
}

// writableSide returns the trees txn may change: on its first call in
// txn, copies of the trees txn started from, stored in txn.
func writableSide(txn *memdb.Txn) (*sideIndexes, error) {
	raw, err := txn.First(tableSide, "id", sideName)
	if err != nil {
		return nil, fmt.Errorf("read indexes: %w", err)
	}
	if raw != nil && raw.(*sideIndexes).owner == txn {
		return raw.(*sideIndexes), nil
	}
	o := &sideIndexes{Name: sideName, owner: txn}
	if raw == nil {
		o = newSideIndexes(txn)
	} else {
		cur := raw.(*sideIndexes)
		for d := range o.orders {
			for k := range o.orders[d] {
				o.orders[d][k] = cur.orders[d][k].Copy()
			}
		}
		o.events, o.requests = cur.events.Copy(), cur.requests.Copy()
	}
	if err := txn.Insert(tableSide, o); err != nil {
		return nil, fmt.Errorf("write indexes: %w", err)
	}
	return o, nil
}

// insertRow writes obj to table, keeping the side indexes of leads,
// events and request records.
func insertRow(txn *memdb.Txn, table string, obj any) error {
	switch table {
	case tableLeads:
		l, ok := obj.(*Lead)
		if !ok {
			return fmt.Errorf("%T is not a lead", obj)
		}
		return putLead(txn, l)
	case tableEvents:
		e, ok := obj.(*Event)
		if !ok {
			return fmt.Errorf("%T is not an event", obj)
		}
		return putEvent(txn, e)
	case tableRequests:
		r, ok := obj.(*request)
		if !ok {
			return fmt.Errorf("%T is not a request record", obj)
		}
		return putRequest(txn, r)
	}
	return txn.Insert(table, obj)
}

// putEvent writes e, in place of the event of its key if there is one.
func putEvent(txn *memdb.Txn, e *Event) error {
	raw, err := txn.First(tableEvents, "id", e.Key)
	if err != nil {
		return fmt.Errorf("read event %s: %w", truncate(e.Key, 60), err)
	}
	o, err := writableSide(txn)
	if err != nil {
		return err
	}
	if err := txn.Insert(tableEvents, e); err != nil {
		return err
	}
	if raw != nil {
		old := raw.(*Event)
		o.events.Delete(eventItem{log: old.LogIndex, key: old.Key})
	}
	o.events.Set(eventItem{log: e.LogIndex, key: e.Key, event: e})
	return nil
}

// putRequest writes r, in place of the record of its key if there is one.
func putRequest(txn *memdb.Txn, r *request) error {
	raw, err := txn.First(tableRequests, "id", r.Key)
	if err != nil {
		return fmt.Errorf("read request %s: %w", truncate(r.Key, 60), err)
	}
	o, err := writableSide(txn)
	if err != nil {
		return err
	}
	if err := txn.Insert(tableRequests, r); err != nil {
		return err
	}
	if raw != nil {
		old := raw.(*request)
		o.requests.Delete(requestItem{time: old.Time, key: old.Key})
	}
	o.requests.Set(requestItem{time: r.Time, key: r.Key, req: r})
	return nil
}

// deleteRequest removes the request record r.
func deleteRequest(txn *memdb.Txn, r *request) error {
	o, err := writableSide(txn)
	if err != nil {
		return err
	}
	if err := txn.Delete(tableRequests, r); err != nil {
		return err
	}
	o.requests.Delete(requestItem{time: r.Time, key: r.Key})
	return nil
}

// putLead writes l to the lead table, in place of the lead of its ID if
// there is one, and to the order indexes.
func putLead(txn *memdb.Txn, l *Lead) error {
	raw, err := txn.First(tableLeads, "id", l.ID)
	if err != nil {
		return fmt.Errorf("read lead %s: %w", truncate(l.ID, 40), err)
	}
	o, err := writableSide(txn)
	if err != nil {
		return err
	}
	if err := txn.Insert(tableLeads, l); err != nil {
		return err
	}
	// The new keys share one allocation, sized to fit.
	var (
		stack [512]byte
		ends  [numDims][numOrders]int
		in    [numDims][numOrders]bool
	)
	buf := stack[:0]
	for d := range o.orders {
		for k := range o.orders[d] {
			buf, in[d][k] = orderIndexer{dim: dimension(d), order: Order(k)}.appendKey(buf, l)
			ends[d][k] = len(buf)
		}
	}
	keys := bytes.Clone(buf)
	var old []byte
	from := 0
	for d := range o.orders {
		for k, tree := range o.orders[d] {
			key := keys[from:ends[d][k]:ends[d][k]]
			from = ends[d][k]
			if raw != nil {
				var was bool
				old, was = orderIndexer{dim: dimension(d), order: Order(k)}.appendKey(old[:0], raw.(*Lead))
				if was && (!in[d][k] || !bytes.Equal(old, key)) {
					tree.Delete(orderItem{key: old})
				}
			}
			if in[d][k] {
				tree.Set(orderItem{key: key, lead: l})
			}
		}
	}
	return nil
}

// orderIter reads an order tree from a position, up or down.
type orderIter struct {
	it      btree.IterG[orderItem]
	desc    bool
	pending bool // it is at an item not yet returned
	done    bool
}

// from returns an iterator over the tree of x, ascending from the first
// key at or after seek, or, with desc, descending from the last key at or
// before seek.
func (o *sideIndexes) from(x orderIndexer, seek []byte, desc bool) *orderIter {
	r := &orderIter{it: o.orders[x.dim][x.order].Iter(), desc: desc}
	found := r.it.Seek(orderItem{key: seek})
	switch {
	case !desc:
		r.pending = found
	case !found:
		r.pending = r.it.Last() // every key is before seek
	case bytes.Equal(r.it.Item().key, seek):
		r.pending = true
	default:
		r.pending = r.it.Prev()
	}
	r.done = !r.pending
	return r
}

// next returns the next item, and false when there is none.
func (r *orderIter) next() (orderItem, bool) {
	switch {
	case r.done:
		return orderItem{}, false
	case r.pending:
		r.pending = false
		return r.it.Item(), true
	}
	var ok bool
	if r.desc {
		ok = r.it.Prev()
	} else {
		ok = r.it.Next()
	}
	if !ok {
		r.done = true
		return orderItem{}, false
	}
	return r.it.Item(), true
}
