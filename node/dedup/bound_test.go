package dedup

import (
	"fmt"
	"math"
	"reflect"
	"strings"
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
		idf := ix.view(a).idf(a)
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
// candidate in full, and the bound spares most comparisons. With a tiny
// MaxPosting most organisation keys are too common to be looked up, so
// candidates found through text alone may have organisation evidence.
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
	for _, maxPosting := range []int{cfg.MaxPosting, 2} {
		ix.cfg.MaxPosting = maxPosting
		answered := 0
		for _, p := range probes {
			ix.noBound = false
			got := ix.Check(p)
			ix.noBound = true
			want := ix.Check(p)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("MaxPosting %d, lead %s: with the bound %+v, in full %+v", maxPosting, p.ID, got, want)
			}
			answered += len(want)
		}
		if answered == 0 {
			t.Fatalf("MaxPosting %d: no check found a candidate: the test shows nothing", maxPosting)
		}
	}
	ix.cfg.MaxPosting = cfg.MaxPosting
	// How many pairs the bound rules out, over all indexed leads.
	out, all := 0, 0
	below := cfg.unreachable()
	for _, p := range probes[:20] {
		c := prepare(p)
		idf := ix.view(c).idf(c)
		feats, head := weigh(c.feats, idf, ix.numbers), weigh(c.head, idf, ix.numbers)
		for _, e := range ix.leads {
			if e == nil {
				continue
			}
			all++
			if !cfg.mayReach(c, e, &feats, &head, false, below) {
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

// A pair found through a shared word alone, whose organisation keys were
// too common to be looked up, still counts its organisation evidence:
// the bound does not take it for a pair without any (whose texts, alike
// in one word, would stay far below MinConfidence).
func TestBoundCountsOrganisationsTooCommonToLookUp(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxPosting = 3
	ix := New(cfg)
	// Each lead has a title of its own and a summary of two words of its
	// own and three shared: texts alike enough for a candidate with the
	// organisation's evidence, too little without.
	words := strings.Fields("alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november")
	lead := func(i int) Lead {
		own := func(k int) string { return words[(3*i+k)%len(words)] + strings.Repeat("q", 1+i/len(words)) }
		return Lead{ID: fmt.Sprint("L", i), Title: own(0), Summary: own(1) + " " + own(2) + " zorblatic quantelix mirovane",
			Organization: "Quellwerk Photonics GmbH", Website: "https://quellwerk.example", Language: "en"}
	}
	for i := range 6 {
		if err := ix.Put(lead(i)); err != nil {
			t.Fatal(err)
		}
	}
	// Leads of other organisations, without the shared words, give them
	// their weight.
	for _, l := range synthetic(200, 3) {
		if err := ix.Put(l); err != nil {
			t.Fatal(err)
		}
	}
	probe := lead(6)
	ix.noBound = true
	want := ix.Check(probe)
	ix.noBound = false
	got := ix.Check(probe)
	if len(want) == 0 {
		t.Fatal("the leads of one organisation sharing a word are no candidates: the test shows nothing")
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("with the bound %+v, in full %+v", got, want)
	}
}

// The similarity floor below which no pair can reach MinConfidence is
// tight (just above it, a pair with no factor against it does reach
// it), holds for any organisation evidence and any metadata, and is off
// where a factor could raise a confidence.
func TestUnreachable(t *testing.T) {
	cfg := DefaultConfig()
	below := cfg.unreachable()
	for i, o := range []float64{0, 1} {
		if below[i] <= 0 || below[i] >= 1 {
			t.Fatalf("floor %d is %v, want one within (0, 1)", i, below[i])
		}
		if got := cfg.unpenalised(o, below[i]); got >= cfg.MinConfidence {
			t.Errorf("evidence %v at the floor %v: confidence %v reaches %v", o, below[i], got, cfg.MinConfidence)
		}
		if got := cfg.unpenalised(o, below[i]+1e-6); got < cfg.MinConfidence {
			t.Errorf("evidence %v just above the floor %v: confidence %v, want at least %v", o, below[i], got, cfg.MinConfidence)
		}
	}
	// Any pair, any evidence, at or below the floor of its case.
	pairs := []struct{ c, e Lead }{
		{Lead{TRL: 3, DealType: "LICENSE", Sector: "ENERGY"}, Lead{TRL: 3, DealType: "LICENSE", Sector: "ENERGY"}},
		{Lead{TRL: 2, DealType: "LICENSE"}, Lead{TRL: 9, DealType: "JOINT_VENTURE", Sector: "HEALTH"}},
	}
	for _, p := range pairs {
		c, e := prepare(p.c), prepare(p.e)
		for _, o := range []float64{0, 1e-9, 0.3, 0.99, 1} {
			floor := below[0]
			if o > 0 {
				floor = below[1]
			}
			for _, s := range []float64{0, floor / 2, floor} {
				if got := cfg.combine(c, e, o, s); got >= cfg.MinConfidence {
					t.Errorf("evidence %v, similarity %v (floor %v): confidence %v reaches %v", o, s, floor, got, cfg.MinConfidence)
				}
			}
		}
	}
	raised := cfg
	raised.SectorFactor = 1.2
	if got := raised.unreachable(); got != [2]float64{-1, -1} {
		t.Errorf("with a factor above 1: %v, want no floor", got)
	}
	anything := cfg
	anything.MinConfidence = 0
	if got := anything.unreachable(); got != [2]float64{-1, -1} {
		t.Errorf("with MinConfidence 0: %v, want no floor", got)
	}
}
