package pipeline

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"

	memdb "github.com/hashicorp/go-memdb"
	"github.com/tidwall/btree"
)

// Some tables and indexes are B-trees beside memdb rather than memdb
// tables: the leads (by ID) and their order indexes (index.go: one per
// order and dimension, twelve in all), and the two big tables of every
// lead's past, the events (by key, which is the lead ID and a sequence,
// and by log index) and the request records (by key and by time); and
// the keyed tables (keyed.go), small tables that nearly every request
// reads or writes: the counters (by name: the lead numbers of each site,
// the clock, the log format), the users (the actor), the tokens (the
// caller's; by ID, hash and user), the sites (the actor's), the settings
// (the stage limits, the claim mode), the calendars (of the stage
// deadlines) and the attachments (of a lead answered; by key and
// SHA-256). These tables are kept in these trees only. A memdb index is
// a radix tree that copies a path of small nodes, each with its own
// watch channel, for every row written, and holds a leaf per row: about
// 300 to 500 bytes and 20 allocations per row and index. A B-tree item
// is a key and a pointer, packed up to 63 to a node, and a tree copied
// for a transaction copies a node only when the transaction first
// changes it.
//
// A transaction sees the trees that go with its rows: each transaction
// of the state is a [tx], a memdb transaction and the trees as of it. A
// write transaction's first write to the trees copies the committed ones
// (lazily: a copy shares every node until it changes one) and keeps the
// copies, a commit publishes them with the rows ([State.committed]), an
// abort drops them. Readers only ever see committed trees, which no one
// changes again. (The trees were once the one row of a memdb table, so
// that memdb carried them with its transactions; looking that row up
// was about four allocations, and nearly every read and write of a lead
// or a counter made one, and writing it into a transaction twenty; a
// read of a memdb table is two or three.)
//
// Every write to those tables goes through [insertRow] (and a request
// record's removal through [deleteRequest]), and reads through [rowsOf],
// [rowByKey], [leadByID] and [keyedIn]. The order trees are derived
// from the leads; the trees are never written to snapshots as such, but
// the rows of these tables are, from their trees.

// tx is a memdb transaction of the state and the side trees as it sees
// them: the committed ones, or, once it has written to them, its own
// copies (writableSide).
type tx struct {
	*memdb.Txn
	side *sideIndexes // never nil
}

// leadItem is a lead in the tree of leads by ID.
type leadItem struct {
	id   string
	lead *Lead
}

func lessLeadItem(a, b leadItem) bool { return a.id < b.id }

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

func compareEventItems(a, b eventItem) int {
	return cmp.Or(cmp.Compare(a.log, b.log), strings.Compare(a.key, b.key))
}

// requestItem is a request record in time order, then by key.
type requestItem struct {
	time int64
	key  string
	req  *request
}

func lessRequestItem(a, b requestItem) bool { return compareRequestItems(a, b) < 0 }

func compareRequestItems(a, b requestItem) int {
	return cmp.Or(cmp.Compare(a.time, b.time), strings.Compare(a.key, b.key))
}

// sideIndexes is the trees as of one transaction.
type sideIndexes struct {
	// owner is the write transaction that made these copies and may still
	// change them; committed trees are never changed again (a later
	// transaction copies them), so an owner that is not the caller's
	// transaction means "copy first".
	owner       *tx
	leads       *btree.BTreeG[leadItem] // by ID
	orders      [numDims][numOrders]*btree.BTreeG[orderItem]
	events      *btree.BTreeG[eventItem]           // by log index
	requests    *btree.BTreeG[requestItem]         // by time
	eventKeys   *btree.BTreeG[*Event]              // by key
	requestKeys *btree.BTreeG[*request]            // by key
	keyed       [numKeyed]*btree.BTreeG[keyedItem] // keyed.go
	// also are the other orders of the keyed tables (alsoKeys).
	also [numKeyed][maxAlso]*btree.BTreeG[keyedItem]
}

func lessEventKey(a, b *Event) bool     { return a.Key < b.Key }
func lessRequestKey(a, b *request) bool { return a.Key < b.Key }

// sideTreeDegree sets the B-trees' node size: 2×degree-1 items at most.
const sideTreeDegree = 32

func newTree[T any](less func(a, b T) bool) *btree.BTreeG[T] {
	return btree.NewBTreeGOptions(less, btree.Options{NoLocks: true, Degree: sideTreeDegree})
}

func newSideIndexes(owner *tx) *sideIndexes {
	o := &sideIndexes{owner: owner, leads: newTree(lessLeadItem),
		events: newTree(lessEventItem), requests: newTree(lessRequestItem),
		eventKeys: newTree(lessEventKey), requestKeys: newTree(lessRequestKey)}
	for k := range o.keyed {
		o.keyed[k] = newTree(lessKeyedItem)
	}
	for k := range o.also {
		for i := range numAlso(k) {
			o.also[k][i] = newTree(lessKeyedItem)
		}
	}
	for d := range o.orders {
		for k := range o.orders[d] {
			o.orders[d][k] = newTree(lessOrderItem)
		}
	}
	return o
}

// sideIn returns the trees as txn sees them, to read.
func sideIn(txn *tx) *sideIndexes { return txn.side }

// writableSide returns the trees txn may change: on its first call in
// txn, copies of the trees txn started from, which txn keeps (and its
// commit publishes, see State.committed).
func writableSide(txn *tx) *sideIndexes {
	if txn.side.owner == txn {
		return txn.side
	}
	cur, o := txn.side, &sideIndexes{owner: txn}
	for d := range o.orders {
		for k := range o.orders[d] {
			o.orders[d][k] = cur.orders[d][k].Copy()
		}
	}
	o.leads, o.events, o.requests = cur.leads.Copy(), cur.events.Copy(), cur.requests.Copy()
	o.eventKeys, o.requestKeys = cur.eventKeys.Copy(), cur.requestKeys.Copy()
	for k := range o.keyed {
		o.keyed[k] = cur.keyed[k].Copy()
	}
	for k := range o.also {
		for i := range numAlso(k) {
			o.also[k][i] = cur.also[k][i].Copy()
		}
	}
	txn.side = o
	return o
}

// insertRow writes obj to table, in place of the row of its key if there
// is one: to memdb, or to the side trees of its table.
func insertRow(txn *tx, table string, obj any) error {
	if k := keyedOf(table); k >= 0 {
		it, err := keyedRowOf(k, obj)
		if err != nil {
			return err
		}
		writableSide(txn).setKeyed(k, it)
		return nil
	}
	if !slices.Contains(sideTables, table) {
		return txn.Insert(table, obj)
	}
	l, e, r, err := sideRow(table, obj)
	switch {
	case err != nil:
		return err
	case l != nil:
		return putLead(txn, l)
	case e != nil:
		return putEvent(txn, e)
	}
	return putRequest(txn, r)
}

// sideRow checks that obj, a row of the leads, the events or the request
// records, is of that table's type and has its key, and returns it as
// that type.
func sideRow(table string, obj any) (l *Lead, e *Event, r *request, err error) {
	var ok bool
	switch table {
	case tableLeads:
		if l, ok = obj.(*Lead); ok && (l == nil || l.ID == "") {
			err = errNoKey
		}
	case tableEvents:
		if e, ok = obj.(*Event); ok && (e == nil || e.Key == "") {
			err = errNoKey
		}
	case tableRequests:
		if r, ok = obj.(*request); ok && (r == nil || r.Key == "") {
			err = errNoKey
		}
	}
	if !ok {
		return nil, nil, nil, fmt.Errorf("%T is not a row of %s", obj, table)
	}
	return l, e, r, err
}

// errNoKey refuses a row of a side table without its key, as memdb
// refuses one of its tables.
var errNoKey = errors.New("a row without its key (ID)")

// putEvent writes e, in place of the event of its key if there is one.
func putEvent(txn *tx, e *Event) error {
	o := writableSide(txn)
	putKeyed(o.eventKeys, o.events, e, eventEntry)
	return nil
}

// putRequest writes r, in place of the record of its key if there is one.
func putRequest(txn *tx, r *request) error {
	o := writableSide(txn)
	putKeyed(o.requestKeys, o.requests, r, requestEntry)
	return nil
}

// deleteRequest removes the request record r.
func deleteRequest(txn *tx, r *request) error {
	o := writableSide(txn)
	if old, ok := o.requestKeys.Delete(r); ok {
		o.requests.Delete(requestEntry(old))
	}
	return nil
}

// putKeyed writes row to its table's tree by key, in place of the row of
// its key if there is one, and its entry to the table's other order.
func putKeyed[R, E any](byKey *btree.BTreeG[R], byOrder *btree.BTreeG[E], row R, entry func(R) E) {
	if old, ok := byKey.Set(row); ok {
		byOrder.Delete(entry(old))
	}
	byOrder.Set(entry(row))
}

func eventEntry(e *Event) eventItem { return eventItem{log: e.LogIndex, key: e.Key, event: e} }

func requestEntry(r *request) requestItem { return requestItem{time: r.Time, key: r.Key, req: r} }

// sideTables are the tables kept in the side trees only, not in memdb,
// besides the keyed tables.
var sideTables = []string{tableLeads, tableEvents, tableRequests}

// rowIter yields rows in key order; Next returns nil after the last.
type rowIter interface{ Next() any }

// rowsOf returns the rows of table whose key begins with prefix ("":
// every row), in key order, as memdb's "id" index orders them.
func rowsOf(txn *tx, table, prefix string) (rowIter, error) {
	if k := keyedOf(table); k >= 0 {
		return &keyIter[keyedItem]{it: sideIn(txn).keyed[k].Iter(), seek: keyedItem{key: prefix}, prefix: prefix,
			key: func(it keyedItem) string { return it.key }, row: func(it keyedItem) any { return it.row }}, nil
	}
	switch table {
	case tableLeads, tableEvents, tableRequests:
		o := sideIn(txn)
		switch table {
		case tableLeads:
			return &keyIter[leadItem]{it: o.leads.Iter(), seek: leadItem{id: prefix}, prefix: prefix,
				key: func(it leadItem) string { return it.id }, row: func(it leadItem) any { return it.lead }}, nil
		case tableEvents:
			return &keyIter[*Event]{it: o.eventKeys.Iter(), seek: &Event{Key: prefix}, prefix: prefix,
				key: func(e *Event) string { return e.Key }, row: func(e *Event) any { return e }}, nil
		}
		return &keyIter[*request]{it: o.requestKeys.Iter(), seek: &request{Key: prefix}, prefix: prefix,
			key: func(r *request) string { return r.Key }, row: func(r *request) any { return r }}, nil
	}
	var (
		it  memdb.ResultIterator
		err error
	)
	if prefix == "" {
		it, err = txn.Get(table, "id")
	} else {
		it, err = txn.Get(table, "id_prefix", prefix)
	}
	if err != nil {
		return nil, err
	}
	return it, nil
}

// rowByKey returns the row of table with key, or nil.
func rowByKey(txn *tx, table, key string) (any, error) {
	if k := keyedOf(table); k >= 0 {
		return keyedIn[any](txn, k, key), nil
	}
	switch table {
	case tableLeads:
		if l, err := leadByID(txn, key); l != nil || err != nil {
			return l, err
		}
		return nil, nil
	case tableEvents, tableRequests:
		o := sideIn(txn)
		if table == tableEvents {
			if e, ok := o.eventKeys.Get(&Event{Key: key}); ok {
				return e, nil
			}
			return nil, nil
		}
		if r, ok := o.requestKeys.Get(&request{Key: key}); ok {
			return r, nil
		}
		return nil, nil
	}
	return txn.First(table, "id", key)
}

// leadByID returns the lead of that ID, or nil.
func leadByID(txn *tx, id string) (*Lead, error) {
	o := sideIn(txn)
	it, _ := o.leads.Get(leadItem{id: id})
	return it.lead, nil
}

// eachLead calls fn with every lead in ID order until fn returns false.
func eachLead(txn *tx, fn func(*Lead) bool) error {
	o := sideIn(txn)
	o.leads.Scan(func(it leadItem) bool { return fn(it.lead) })
	return nil
}

// keyIter reads a tree by key from a prefix on, while keys have it.
type keyIter[T any] struct {
	it     btree.IterG[T]
	seek   T
	prefix string
	key    func(T) string
	row    func(T) any
	begun  bool
	done   bool
}

func (r *keyIter[T]) Next() any {
	if r.done {
		return nil
	}
	var ok bool
	if r.begun {
		ok = r.it.Next()
	} else {
		r.begun = true
		ok = r.it.Seek(r.seek)
	}
	if !ok || !strings.HasPrefix(r.key(r.it.Item()), r.prefix) {
		r.done = true
		return nil
	}
	return r.row(r.it.Item())
}

// putLead writes l to the lead table, in place of the lead of its ID if
// there is one, and to the order indexes.
func putLead(txn *tx, l *Lead) error {
	o := writableSide(txn)
	prev, replaced := o.leads.Set(leadItem{id: l.ID, lead: l})
	keys, ends, in := orderKeys(l)
	var old []byte
	from := 0
	for d := range o.orders {
		for k, tree := range o.orders[d] {
			key := keys[from:ends[d][k]:ends[d][k]]
			from = ends[d][k]
			if replaced {
				var was bool
				old, was = orderIndexer{dim: dimension(d), order: Order(k)}.appendKey(old[:0], prev.lead)
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

// orderKeys returns l's keys in every order tree, end to end in one
// allocation sized to fit: the key of tree [d][k] ends at ends[d][k], and
// is there only if in[d][k] (a lead without a division is in no tree by
// division).
func orderKeys(l *Lead) (keys []byte, ends [numDims][numOrders]int, in [numDims][numOrders]bool) {
	var stack [512]byte
	buf := stack[:0]
	for d := range numDims {
		for k := range numOrders {
			buf, in[d][k] = orderIndexer{dim: d, order: k}.appendKey(buf, l)
			ends[d][k] = len(buf)
		}
	}
	return bytes.Clone(buf), ends, in
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
