package pipeline

import (
	"bytes"
	"fmt"

	memdb "github.com/hashicorp/go-memdb"
	"github.com/tidwall/btree"
)

// The order indexes of the lead table (index.go: one per order and
// dimension, twelve in all) are B-trees of their keys rather than memdb
// indexes. A memdb index is a radix tree that copies a path of small
// nodes, each with its own watch channel, for every lead written, and
// holds a leaf per lead: about 500 bytes and 20 allocations per lead and
// index. A B-tree item is a key and a pointer, packed 64 to a node.
//
// The trees live in memdb all the same, as the one row of
// tableLeadOrders, so that a transaction sees the trees that go with its
// leads: a write transaction's first lead copies the committed trees
// (lazily: a copy shares every node until it changes one) and stores the
// copies in the transaction, a commit publishes them with the leads, an
// abort drops them. Readers only ever see committed trees, which no one
// changes again.
//
// Every write to the lead table goes through [putLead]; the trees are
// derived from the leads and never written to snapshots.

// tableLeadOrders holds the one [leadOrders] row.
const tableLeadOrders = "lead_orders"

// leadOrdersName is the key of that row.
const leadOrdersName = "orders"

// orderItem is one entry of an order tree: a lead's key in that order
// index and the lead.
type orderItem struct {
	key  []byte
	lead *Lead
}

func lessOrderItem(a, b orderItem) bool { return bytes.Compare(a.key, b.key) < 0 }

// leadOrders is the order trees as of one transaction.
type leadOrders struct {
	Name string
	// owner is the write transaction that made these copies and may still
	// change them; committed trees are never changed again (a later
	// transaction copies them), so an owner that is not the caller's
	// transaction means "copy first".
	owner *memdb.Txn
	trees [numDims][numOrders]*btree.BTreeG[orderItem]
}

// orderTreeDegree sets the B-trees' node size: 2×degree-1 items at most.
const orderTreeDegree = 32

func newLeadOrders(owner *memdb.Txn) *leadOrders {
	o := &leadOrders{Name: leadOrdersName, owner: owner}
	for d := range o.trees {
		for k := range o.trees[d] {
			o.trees[d][k] = btree.NewBTreeGOptions(lessOrderItem, btree.Options{NoLocks: true, Degree: orderTreeDegree})
		}
	}
	return o
}

// ordersIn returns the order trees as txn sees them, to read.
func ordersIn(txn *memdb.Txn) (*leadOrders, error) {
	raw, err := txn.First(tableLeadOrders, "id", leadOrdersName)
	if err != nil {
		return nil, fmt.Errorf("read order indexes: %w", err)
	}
	if raw == nil {
		return newLeadOrders(nil), nil
	}
	return raw.(*leadOrders), nil
}

// writableOrders returns the order trees txn may change: on its first
// call in txn, copies of the trees txn started from, stored in txn.
func writableOrders(txn *memdb.Txn) (*leadOrders, error) {
	raw, err := txn.First(tableLeadOrders, "id", leadOrdersName)
	if err != nil {
		return nil, fmt.Errorf("read order indexes: %w", err)
	}
	if raw != nil && raw.(*leadOrders).owner == txn {
		return raw.(*leadOrders), nil
	}
	o := newLeadOrders(txn)
	if raw != nil {
		cur := raw.(*leadOrders)
		for d := range o.trees {
			for k := range o.trees[d] {
				o.trees[d][k] = cur.trees[d][k].Copy()
			}
		}
	}
	if err := txn.Insert(tableLeadOrders, o); err != nil {
		return nil, fmt.Errorf("write order indexes: %w", err)
	}
	return o, nil
}

// putLead writes l to the lead table, in place of the lead of its ID if
// there is one, and to the order indexes.
func putLead(txn *memdb.Txn, l *Lead) error {
	raw, err := txn.First(tableLeads, "id", l.ID)
	if err != nil {
		return fmt.Errorf("read lead %s: %w", truncate(l.ID, 40), err)
	}
	o, err := writableOrders(txn)
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
	for d := range o.trees {
		for k := range o.trees[d] {
			buf, in[d][k] = orderIndexer{dim: dimension(d), order: Order(k)}.appendKey(buf, l)
			ends[d][k] = len(buf)
		}
	}
	keys := bytes.Clone(buf)
	var old []byte
	from := 0
	for d := range o.trees {
		for k, tree := range o.trees[d] {
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

// insertRow writes obj to table, a lead through [putLead].
func insertRow(txn *memdb.Txn, table string, obj any) error {
	if table == tableLeads {
		l, ok := obj.(*Lead)
		if !ok {
			return fmt.Errorf("%T is not a lead", obj)
		}
		return putLead(txn, l)
	}
	return txn.Insert(table, obj)
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
func (o *leadOrders) from(x orderIndexer, seek []byte, desc bool) *orderIter {
	r := &orderIter{it: o.trees[x.dim][x.order].Iter(), desc: desc}
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
