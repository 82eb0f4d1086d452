package dedup

import (
	"math"
	"reflect"
	"testing"
)

// The bound is never below the cosine it bounds, for pairs in the same
// language and in others, and equals it for a lead and itself.
func TestCosineBound(t *testing.T) {
	leads := synthetic(400, 11)
	ix := New(DefaultConfig())
	for _, l := range leads {
		if err := ix.Put(l); err != nil {
			t.Fatal(err)
		}
	}
	tight := 0
	for i, l := range leads[:30] {
		a := prepare(l)
		idf := ix.view(a.lead.ID).idf(a)
		w := weigh(a.feats, idf, ix.numbers)
		for _, other := range leads[i:] {
			b := ix.leads[ix.ids[other.ID]]
			for _, same := range []bool{true, false} {
				got, _ := cosine(a.feats, b.feats, same, idf, false)
				bound := cosineBound(&w, b.featNums, same)
				if got > bound+boundMargin {
					t.Fatalf("%s and %s (same language %v): cosine %v above its bound %v", l.ID, other.ID, same, got, bound)
				}
				if bound < 0.5 {
					tight++
				}
			}
		}
		self, _ := cosine(a.feats, a.feats, true, idf, false)
		if bound := cosineBound(&w, ix.leads[ix.ids[l.ID]].featNums, true); math.Abs(bound-self) > 1e-9 {
			t.Errorf("%s with itself: bound %v, cosine %v", l.ID, bound, self)
		}
	}
	if tight == 0 {
		t.Error("no bound under 0.5: the test pairs share too much to show anything")
	}
}

// Checks with the bound answer exactly as checks that compare every
// candidate in full, and the bound spares most comparisons.
func TestBoundKeepsEveryAnswer(t *testing.T) {
	leads := synthetic(3000, 5)
	cfg := DefaultConfig()
	cfg.MaxResults = 0
	ix := New(cfg)
	for _, l := range leads {
		if err := ix.Put(l); err != nil {
			t.Fatal(err)
		}
	}
	probes := append(synthetic(200, 6), leads[:200]...)
	answered := 0
	for _, p := range probes {
		ix.noBound = false
		got := ix.Check(p)
		ix.noBound = true
		want := ix.Check(p)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("lead %s: with the bound %+v, in full %+v", p.ID, got, want)
		}
		answered += len(want)
	}
	if answered == 0 {
		t.Fatal("no check found a candidate: the test shows nothing")
	}
	// How many pairs the bound rules out, over all indexed leads.
	out, all := 0, 0
	for _, p := range probes[:20] {
		c := prepare(p)
		idf := ix.view(c.lead.ID).idf(c)
		feats, head := weigh(c.feats, idf, ix.numbers), weigh(c.head, idf, ix.numbers)
		for _, e := range ix.leads {
			if e == nil {
				continue
			}
			all++
			if !cfg.mayReach(c, e, &feats, &head) {
				out++
				if conf := cfg.confidence(c, e, idf); conf >= cfg.MinConfidence {
					t.Fatalf("%s and %s ruled out at confidence %v", p.ID, e.lead.ID, conf)
				}
			}
		}
	}
	if out*2 < all {
		t.Errorf("the bound rules out %d of %d pairs; it should spare most", out, all)
	}
	t.Logf("the bound rules out %d of %d pairs", out, all)
}
