package dedup

import (
	"math"
	"slices"
)

// A check compares the lead checked with every candidate its blocking
// keys find, hundreds once the index is large, and most fall below
// MinConfidence. The similarity of a pair needs the weight of every
// feature of the candidate; an upper bound of it needs only the features
// the two share, and the checked lead's weights, worked out once per
// check. A candidate whose confidence at that bound stays below
// MinConfidence is not compared at all: the confidence grows with the
// similarity, so its exact value would be lower still. The shared
// features are found by the numbers the index gives every key, two
// sorted lists of integers. The confidence also grows with the
// organisation evidence, so the bound takes the most there could be,
// unless the check knows the pair has none: no organisation key of the
// checked lead was too common to look up, and none of them found the
// candidate.

// weighed is the checked lead's features with their weights (tf × idf).
type weighed struct {
	// nums are the numbered keys in ascending order, and w2 their
	// squared weights when they can match a lead in another language
	// (w2[i][0]) or in the same one (w2[i][1]), else 0. A key without a
	// number is held by no indexed lead, so it is shared with none.
	nums []uint32
	w2   [][2]float64
	// norm is the sum of the squared weights of the features that can
	// match a lead in another language ([0]) or in the same one ([1]).
	norm [2]float64
}

func weigh(fs []feature, idf func(string) float64, numbers map[string]uint32) weighed {
	type numbered struct {
		num uint32
		w2  [2]float64
	}
	var out weighed
	nums := make([]numbered, 0, len(fs))
	for _, f := range fs {
		w := f.tf * idf(f.key)
		var w2 [2]float64
		for s, same := range []bool{false, true} {
			if comparable(f.key[0], same) {
				w2[s] = w * w
				out.norm[s] += w * w
			}
		}
		if num, ok := numbers[f.key]; ok {
			nums = append(nums, numbered{num, w2})
		}
	}
	slices.SortFunc(nums, func(a, b numbered) int { return int(int64(a.num) - int64(b.num)) })
	out.nums, out.w2 = make([]uint32, len(nums)), make([][2]float64, len(nums))
	for i, n := range nums {
		out.nums[i], out.w2[i] = n.num, n.w2
	}
	return out
}

// number fills out, as long as fs, with the numbers of fs's keys in
// ascending order, numbering the new ones, and returns it. ix.mu is held.
func (ix *Index) number(out []uint32, fs []feature) []uint32 {
	for i, f := range fs {
		num, ok := ix.numbers[f.key]
		if !ok {
			num = uint32(len(ix.numbers))
			ix.numbers[f.key] = num
		}
		out[i] = num
	}
	slices.Sort(out)
	return out
}

// cosineBound is at least the cosine of a's features and those of an
// indexed lead numbered bnums: by Cauchy–Schwarz the dot product over
// the shared features is at most the norm of a's shared part times the
// norm of b, so the cosine is at most the share of a's norm that b
// shares.
func cosineBound(a *weighed, bnums []uint32, same bool) float64 {
	s := 0
	if same {
		s = 1
	}
	if a.norm[s] == 0 {
		return 0
	}
	// A merge of the two sorted lists that steps without branching on
	// their order (which a branch predictor cannot guess), summing the
	// weights of the numbers in both.
	var shared float64
	an, w2 := a.nums, a.w2
	i, j := 0, 0
	for i < len(an) && j < len(bnums) {
		x, y := an[i], bnums[j]
		if x == y {
			shared += w2[i][s]
		}
		i += b2i(x <= y)
		j += b2i(y <= x)
	}
	return math.Min(1, math.Sqrt(shared/a.norm[s]))
}

// boundMargin covers the rounding of the bound's arithmetic.
const boundMargin = 1e-9

// mayReach reports whether the pair of c (weighed as feats and head) and
// the indexed lead e may reach MinConfidence: false only when its
// confidence at the upper bound of its similarity stays below it. noOrg
// says that the pair is known to have no organisation evidence.
// below is cfg.unreachable(), which spares most pairs the arithmetic of
// the confidence.
func (cfg *Config) mayReach(c, e *prepared, feats, head *weighed, noOrg bool, below [2]float64) bool {
	if !cfg.growsWithSimilarity() {
		return true
	}
	same := c.lead.Language == e.lead.Language
	s := math.Min(1, (cosineBound(feats, e.featNums, same)+cosineBound(head, e.headNums, same))/2+boundMargin)
	if s <= below[0] && (noOrg || s <= below[1]) {
		return false
	}
	if noOrg {
		return cfg.combine(c, e, 0, s) >= cfg.MinConfidence
	}
	// The confidence grows with the organisation evidence too, so with
	// none and with the most there is it bounds every case, before the
	// evidence itself is looked at.
	if cfg.combine(c, e, 0, s) < cfg.MinConfidence && cfg.combine(c, e, 1, s) < cfg.MinConfidence {
		return false
	}
	var buf [6]evidence
	o := noisyOr(orgEvidence(c, e, buf[:0], false))
	return cfg.combine(c, e, o, s) >= cfg.MinConfidence
}

// growsWithSimilarity reports whether the confidence never falls as the
// similarity grows, which every bound here assumes.
func (cfg *Config) growsWithSimilarity() bool {
	return cfg.SimHigh > cfg.SimLow && cfg.TextWeight >= 0 && cfg.TextWeight <= 1 && cfg.TextOnly >= 0
}

// unreachable returns, for a pair without organisation evidence ([0])
// and for one with any ([1]), a similarity at or below which the pair
// cannot reach MinConfidence whatever its metadata, or -1 where there is
// none. The confidence without the metadata factors (each at most 1)
// grows with the similarity and with the evidence, so the most
// similarity that fails with the most evidence and no factor fails for
// every pair; it is found by bisection.
func (cfg *Config) unreachable() [2]float64 {
	out := [2]float64{-1, -1}
	if !cfg.growsWithSimilarity() || !cfg.penaltiesAtMostOne() {
		return out
	}
	for i, o := range [2]float64{0, 1} {
		switch {
		case cfg.unpenalised(o, 0) >= cfg.MinConfidence:
			continue // even no similarity may reach it
		case cfg.unpenalised(o, 1) < cfg.MinConfidence:
			out[i] = 1 // nothing does
			continue
		}
		fails, reaches := 0.0, 1.0
		for range 64 {
			mid := (fails + reaches) / 2
			if cfg.unpenalised(o, mid) < cfg.MinConfidence {
				fails = mid
			} else {
				reaches = mid
			}
		}
		out[i] = fails
	}
	return out
}

// b2i is 1 for true, 0 for false.
func b2i(b bool) int {
	var n int
	if b {
		n = 1
	}
	return n
}
