package pipeline

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestOrderIterMatchesSortedKeys reads an order tree from many positions,
// up and down, and expects what a sorted list of its keys gives.
func TestOrderIterMatchesSortedKeys(t *testing.T) {
	rnd := rand.New(rand.NewPCG(7, 7))
	for _, n := range []int{0, 1, 2, 63, 64, 500, 5000} {
		o := newSideIndexes(nil)
		x := orderIndexer{dim: dimAll, order: OrderID}
		tree := o.orders[x.dim][x.order]
		var keys [][]byte
		for len(keys) < n {
			k := fmt.Appendf(nil, "%06d", rnd.IntN(4*n+1))
			if _, found := slices.BinarySearchFunc(keys, k, bytes.Compare); found {
				continue
			}
			keys = append(keys, k)
			slices.SortFunc(keys, bytes.Compare)
			tree.Set(orderItem{key: k})
		}
		seeks := [][]byte{nil, {}, []byte("999999x"), []byte("0")}
		for range 200 {
			seeks = append(seeks, fmt.Appendf(nil, "%06d", rnd.IntN(4*n+2)))
		}
		for _, seek := range seeks {
			for _, desc := range []bool{false, true} {
				var want [][]byte
				if desc {
					for i := len(keys) - 1; i >= 0; i-- {
						if bytes.Compare(keys[i], seek) <= 0 {
							want = append(want, keys[i])
						}
					}
				} else {
					for _, k := range keys {
						if bytes.Compare(k, seek) >= 0 {
							want = append(want, k)
						}
					}
				}
				var got [][]byte
				it := o.from(x, seek, desc)
				for item, ok := it.next(); ok; item, ok = it.next() {
					got = append(got, item.key)
				}
				if _, ok := it.next(); ok {
					t.Fatalf("n=%d seek %q desc %v: an item after the end", n, seek, desc)
				}
				if !slices.EqualFunc(got, want, bytes.Equal) {
					t.Fatalf("n=%d seek %q desc %v: got %d keys %q..., want %d %q...", n, seek, desc, len(got), firstKeys(got), len(want), firstKeys(want))
				}
			}
		}
	}
}

func firstKeys(keys [][]byte) [][]byte { return keys[:min(3, len(keys))] }

// TestOrderTreesFollowTransactions expects the order indexes to change
// with the leads: a reader keeps the trees of the state it began on, an
// aborted write leaves nothing behind, a committed one is seen by the
// next reader, and the trees always point at the lead table's leads.
func TestOrderTreesFollowTransactions(t *testing.T) {
	st := New()
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	lead := func(id string, stage Stage, division string, minutes int) *Lead {
		return &Lead{ID: id, Site: "BOS", Stage: stage, Division: division, Created: at,
			Updated: at.Add(time.Duration(minutes) * time.Minute), StageTime: at}
	}
	write := func(commit bool, ls ...*Lead) {
		txn := st.write()
		for _, l := range ls {
			if err := putLead(txn, l); err != nil {
				t.Fatal(err)
			}
		}
		if commit {
			st.publish(txn, 0)
		} else {
			txn.Abort()
		}
	}
	ids := func(f Filter) []string {
		p, err := st.List(f)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, l := range p.Leads {
			out = append(out, l.ID)
		}
		return out
	}
	write(true, lead("BOS-0001", Submitted, "", 1), lead("BOS-0002", Submitted, "", 2), lead("BOS-0003", Claimed, "BOHAI", 3))
	before := sideKeys(t, st)
	reader := st.read()

	// Moved and claimed in a transaction that is dropped.
	write(false, lead("BOS-0001", Claimed, "YANGTZE", 9), lead("BOS-0004", Submitted, "", 4))
	if got := sideKeys(t, st); !slices.Equal(got, before) {
		t.Fatalf("an aborted write changed the order indexes: %d entries, want %d", len(got), len(before))
	}

	// The same, committed, with a lead written twice in one transaction.
	write(true, lead("BOS-0001", Approved, "", 5), lead("BOS-0001", Claimed, "YANGTZE", 9), lead("BOS-0004", Submitted, "", 4))
	if got, want := ids(Filter{Stage: Submitted}), []string{"BOS-0002", "BOS-0004"}; !slices.Equal(got, want) {
		t.Errorf("submitted leads %v, want %v", got, want)
	}
	if got, want := ids(Filter{Stage: Claimed, Order: OrderUpdated, Desc: true}), []string{"BOS-0001", "BOS-0003"}; !slices.Equal(got, want) {
		t.Errorf("claimed leads by last change, newest first: %v, want %v", got, want)
	}
	if got, want := ids(Filter{Division: "YANGTZE"}), []string{"BOS-0001"}; !slices.Equal(got, want) {
		t.Errorf("YANGTZE's leads %v, want %v", got, want)
	}
	if got := ids(Filter{Stage: Approved}); len(got) != 0 {
		t.Errorf("approved leads %v: the lead's first write in the transaction was left in the index", got)
	}
	after := sideKeys(t, st)
	// BOS-0004 in the four orders of all leads and of its site; BOS-0001
	// now in those of its division too.
	if want := len(before) + 8 + 4; len(after) != want {
		t.Errorf("%d order entries after the commit, want %d", len(after), want)
	}

	// The reader that began before still sees the trees it began on.
	o := sideIn(reader)
	n := 0
	for d := range o.orders {
		for k := range o.orders[d] {
			n += o.orders[d][k].Len()
		}
	}
	if n != len(before) {
		t.Errorf("a reader that began before the writes sees %d order entries, want %d", n, len(before))
	}
}

// TestEventsAfterInLogOrder reads the events after many log indexes and
// expects, by brute force over the event table, every event of a later
// entry, by log index and then key, and that fn's false stops the read.
func TestEventsAfterInLogOrder(t *testing.T) {
	st := New()
	for i, data := range determinismLog(t) {
		st.Apply(uint64(i+1), data)
	}
	var all []*Event
	for raw := range mustIter(t, st.read(), tableEvents) {
		all = append(all, raw.(*Event))
	}
	slices.SortFunc(all, func(a, b *Event) int {
		if a.LogIndex != b.LogIndex {
			return cmp.Compare(a.LogIndex, b.LogIndex)
		}
		return strings.Compare(a.Key, b.Key)
	})
	if len(all) < 50 {
		t.Fatalf("only %d events: the log does not exercise the index", len(all))
	}
	v := st.View()
	for after := uint64(0); after <= st.AppliedIndex()+1; after++ {
		var want, got []string
		for _, e := range all {
			if e.LogIndex > after {
				want = append(want, e.Key)
			}
		}
		if err := v.EventsAfter(after, func(e *Event) bool { got = append(got, e.Key); return true }); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("events after %d: %v, want %v", after, got, want)
		}
		if len(want) > 1 {
			got = got[:0]
			_ = v.EventsAfter(after, func(e *Event) bool { got = append(got, e.Key); return len(got) < 2 })
			if len(got) != 2 {
				t.Fatalf("events after %d: fn returned false at the second and was called %d times", after, len(got))
			}
		}
	}
}

// TestSortOrderItemsAsBytes checks that sorting by the keys' 16-byte
// prefixes orders items as their keys do, where keys end inside the
// prefix, share it, or differ only after it or by a zero byte.
func TestSortOrderItemsAsBytes(t *testing.T) {
	rnd := rand.New(rand.NewPCG(16, 16))
	alphabet := []byte{0, 1, 'a', 'b', 0xff}
	var items []orderItem
	for i := range 5000 {
		key := make([]byte, rnd.IntN(24))
		for j := range key {
			key[j] = alphabet[rnd.IntN(len(alphabet))]
		}
		if i%3 == 0 { // a shared prefix of 16 bytes, as leads of one stage and second have
			key = append([]byte("BOS\x00\x03\x18\x7a\x00\x00\x00\x00\x00\x00\x00\x00\x01"), key...)
		}
		items = append(items, orderItem{key: key, lead: &Lead{ID: fmt.Sprint(i)}})
	}
	want := slices.Clone(items)
	slices.SortStableFunc(want, func(a, b orderItem) int { return bytes.Compare(a.key, b.key) })
	items = sortedOrderItems(items)
	for i := range items {
		if !bytes.Equal(items[i].key, want[i].key) {
			t.Fatalf("item %d: key %q, want %q", i, items[i].key, want[i].key)
		}
	}
	seen := map[*Lead]bool{}
	for _, it := range items {
		seen[it.lead] = true
	}
	if len(seen) != len(items) {
		t.Errorf("sorted items hold %d distinct leads of %d", len(seen), len(items))
	}
}

// BenchmarkSortOrderItems sorts 300,000 items of one order tree as a
// restore does, each key in an allocation of its own among the leads'
// other memory, by comparing the keys (bytes) and by their prefixes
// first (prefix).
func BenchmarkSortOrderItems(b *testing.B) {
	rnd := rand.New(rand.NewPCG(3, 3))
	sites := []string{"BOS\x00", "CBG\x00", "MUC\x00", "TLV\x00"}
	var items []orderItem
	var ballast [][]byte // the other memory a lead holds, between the keys
	for i := range 300_000 {
		key := append([]byte(sites[rnd.IntN(len(sites))]), byte(rnd.IntN(8)))
		key = binary.BigEndian.AppendUint64(key, uint64(1_790_000_000_000+rnd.Int64N(30_000_000_000)))
		key = fmt.Appendf(key, "%s-%06d", sites[i%4][:3], i)
		items = append(items, orderItem{key: key, lead: &Lead{ID: fmt.Sprint(i)}})
		ballast = append(ballast, make([]byte, 4096))
	}
	for _, m := range []struct {
		name string
		sort func([]orderItem)
	}{
		{"bytes", func(it []orderItem) {
			slices.SortFunc(it, func(a, b orderItem) int { return bytes.Compare(a.key, b.key) })
		}},
		{"prefix", func(it []orderItem) { _ = sortedOrderItems(it) }},
	} {
		b.Run(m.name, func(b *testing.B) {
			work := make([]orderItem, len(items))
			for b.Loop() {
				copy(work, items)
				m.sort(work)
			}
		})
	}
	runtime.KeepAlive(ballast)
}
