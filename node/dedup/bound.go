package dedup

import "math"

// A check compares the lead checked with every candidate its blocking
// keys find, hundreds once the index is large, and most fall below
// MinConfidence. The similarity of a pair needs the weight of every
// feature of the candidate; an upper bound of it needs only the features
// the two share, and the checked lead's weights, worked out once per
// check. A candidate whose confidence at that bound stays below
// MinConfidence is not compared at all: the confidence grows with the
// similarity, so its exact value would be lower still.

// weighed is the checked lead's features with their weights (tf × idf).
type weighed struct {
	feats []feature
	w     []float64
	// norm is the sum of the squared weights of the features that can
	// match a lead in another language ([0]) or in the same one ([1]).
	norm [2]float64
}

func weigh(fs []feature, idf func(string) float64) weighed {
	out := weighed{feats: fs, w: make([]float64, len(fs))}
	for i, f := range fs {
		w := f.tf * idf(f.key)
		out.w[i] = w
		for s, same := range []bool{false, true} {
			if comparable(f.key[0], same) {
				out.norm[s] += w * w
			}
		}
	}
	return out
}

// cosineBound is at least cosine(a.feats, bf, same, ...): by
// Cauchy–Schwarz the dot product over the shared features is at most the
// norm of a's shared part times the norm of b, so the cosine is at most
// the share of a's norm that b shares.
func cosineBound(a *weighed, bf []feature, same bool) float64 {
	na := a.norm[0]
	if same {
		na = a.norm[1]
	}
	if na == 0 {
		return 0
	}
	var shared float64
	i, j := 0, 0
	for i < len(a.feats) && j < len(bf) {
		switch ak, bk := a.feats[i].key, bf[j].key; {
		case ak < bk:
			i++
		case bk < ak:
			j++
		default:
			if comparable(ak[0], same) {
				shared += a.w[i] * a.w[i]
			}
			i++
			j++
		}
	}
	return math.Min(1, math.Sqrt(shared/na))
}

// boundMargin covers the rounding of the bound's arithmetic.
const boundMargin = 1e-9

// mayReach reports whether the pair of c (weighed as feats and head) and
// e may reach MinConfidence: false only when its confidence at the upper
// bound of its similarity stays below it.
func (cfg *Config) mayReach(c, e *prepared, feats, head *weighed) bool {
	if !(cfg.SimHigh > cfg.SimLow) || cfg.TextWeight < 0 || cfg.TextWeight > 1 || cfg.TextOnly < 0 {
		return true // the confidence might not grow with the similarity
	}
	same := c.lead.Language == e.lead.Language
	s := (cosineBound(feats, e.feats, same)+cosineBound(head, e.head, same))/2 + boundMargin
	var buf [6]evidence
	o := noisyOr(orgEvidence(c, e, buf[:0], false))
	return cfg.combine(c, e, o, math.Min(1, s)) >= cfg.MinConfidence
}
