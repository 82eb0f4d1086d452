package matching

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"innonet/node/lexicon"
)

// Lead is the part of a lead that matching reads.
type Lead struct {
	Title    string
	Summary  string
	Tags     []string
	Sector   string
	TRL      int
	DealType string
}

// Score is one division's result for a lead.
type Score struct {
	Division string
	Score    float64
	Reasons  []string
	// Enterprise is the name of the division's enterprise whose needs fit
	// the lead best; "" if none does.
	Enterprise string
}

// Weights of the parts of a score; see the package documentation.
type Weights struct {
	Keyword, Enterprise, Sector, TRLBonus, DealBonus float64
}

// DefaultWeights make keywords and enterprise needs the main evidence,
// the sector a strong hint (submitters disagree on it) and TRL and deal
// type tie-breakers, as the annotators' rules describe.
func DefaultWeights() Weights {
	return Weights{Keyword: 1, Enterprise: 1, Sector: 1.5, TRLBonus: 0.2, DealBonus: 0.1}
}

// Matcher ranks divisions for leads. It is immutable and safe for
// concurrent use.
type Matcher struct {
	w      Weights
	divs   []division
	weight map[string]float64 // concept -> 1/number of divisions naming it
}

type division struct {
	p           Profile
	keywords    map[string]string // concept or literal keyword -> keyword as written
	enterprises []map[string]bool
}

// New builds a Matcher with DefaultWeights.
func New(ps []Profile) *Matcher { return NewWeighted(ps, DefaultWeights()) }

// NewWeighted builds a Matcher with the given weights.
func NewWeighted(ps []Profile, w Weights) *Matcher {
	lx := lexicon.Default()
	m := &Matcher{w: w, weight: map[string]float64{}}
	count := map[string]int{}
	for _, p := range ps {
		d := division{p: p, keywords: map[string]string{}}
		for _, kw := range append(append([]string(nil), p.Keywords.EN...), p.Keywords.ZH...) {
			ms := lx.Find(kw)
			if len(ms) == 0 {
				d.keywords[literal(kw)] = kw
			}
			for _, x := range ms {
				if _, ok := d.keywords[string(x.Concept)]; !ok {
					d.keywords[string(x.Concept)] = kw
				}
			}
		}
		named := map[string]bool{}
		for k := range d.keywords {
			named[k] = true
		}
		for _, e := range p.Enterprises {
			set := map[string]bool{}
			for _, x := range lx.Find(e.NeedsEN + " ; " + e.NeedsZH) {
				set[string(x.Concept)] = true
				named[string(x.Concept)] = true
			}
			d.enterprises = append(d.enterprises, set)
		}
		for k := range named {
			count[k]++
		}
		m.divs = append(m.divs, d)
	}
	for k, n := range count {
		m.weight[k] = 1 / float64(n)
	}
	return m
}

func literal(kw string) string { return "kw:" + lexicon.Fold(kw) }

// Rank scores every division for l, best first.
func (m *Matcher) Rank(l Lead) []Score {
	tf, text := m.leadConcepts(l)
	out := make([]Score, 0, len(m.divs))
	for _, d := range m.divs {
		out = append(out, m.score(d, l, tf, text))
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Score > out[j].Score })
	return out
}

// leadConcepts counts the lead's concepts, title and tags twice.
func (m *Matcher) leadConcepts(l Lead) (map[string]float64, string) {
	lx := lexicon.Default()
	tf := map[string]float64{}
	fields := []struct {
		text string
		w    float64
	}{{l.Title, 2}, {strings.Join(l.Tags, " ; "), 2}, {l.Summary, 1}}
	for _, f := range fields {
		seen := map[string]bool{}
		for _, x := range lx.Find(f.text) {
			if k := string(x.Concept); !seen[k] {
				seen[k] = true
				tf[k] += f.w
			}
		}
	}
	text := lexicon.Fold(l.Title + " ; " + strings.Join(l.Tags, " ; ") + " ; " + l.Summary)
	return tf, text
}

func (m *Matcher) score(d division, l Lead, tf map[string]float64, text string) Score {
	s := Score{Division: d.p.Code}
	var total float64

	var kwSum float64
	var hits []string
	keys := make([]string, 0, len(d.keywords))
	for k := range d.keywords {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	seenKW := map[string]bool{}
	for _, k := range keys {
		n := tf[k]
		if strings.HasPrefix(k, "kw:") && containsWord(text, strings.TrimPrefix(k, "kw:")) {
			n = 1
		}
		if n == 0 {
			continue
		}
		w := m.weight[k]
		if w == 0 {
			w = 1
		}
		kwSum += w * n
		if kw := d.keywords[k]; !seenKW[kw] {
			seenKW[kw] = true
			hits = append(hits, kw)
		}
	}
	total += m.w.Keyword * kwSum
	if len(hits) > 0 {
		s.Reasons = append(s.Reasons, fmt.Sprintf("keywords %s (%.2f)", strings.Join(hits, ", "), m.w.Keyword*kwSum))
	}

	best, bestSum := -1, 0.0
	var bestHits []string
	for i, e := range d.enterprises {
		var sum float64
		var eh []string
		for k := range e {
			if n := tf[k]; n > 0 {
				sum += m.weight[k] * n
				eh = append(eh, k)
			}
		}
		if sum > bestSum {
			best, bestSum, bestHits = i, sum, eh
		}
	}
	if best >= 0 {
		sort.Strings(bestHits)
		e := d.p.Enterprises[best]
		total += m.w.Enterprise * bestSum
		name, needs := e.NameEN, e.NeedsEN
		if name == "" {
			name = e.NameZH
		}
		if needs == "" {
			needs = e.NeedsZH
		}
		s.Enterprise = name
		s.Reasons = append(s.Reasons, fmt.Sprintf("enterprise %s looks for %s (%.2f): %s", name, strings.Join(bestHits, ", "), m.w.Enterprise*bestSum, needs))
	}

	for r, sec := range d.p.Sectors {
		if sec == l.Sector {
			v := m.w.Sector * float64(len(d.p.Sectors)-r) / float64(len(d.p.Sectors))
			total += v
			s.Reasons = append(s.Reasons, fmt.Sprintf("sector %s ranked %s of %d (%.2f)", sec, ordinal(r+1), len(d.p.Sectors), v))
			break
		}
	}

	if tr := d.p.TRL; l.TRL > 0 && l.TRL >= tr.Min && l.TRL <= tr.Max {
		v := m.w.TRLBonus
		note := ""
		if l.TRL < tr.PreferredMin {
			v /= 2
			note = fmt.Sprintf(", below the preferred %d", tr.PreferredMin)
		}
		total += v
		s.Reasons = append(s.Reasons, fmt.Sprintf("TRL %d within %d–%d%s", l.TRL, tr.Min, tr.Max, note))
	} else if l.TRL > 0 {
		s.Reasons = append(s.Reasons, fmt.Sprintf("TRL %d outside %d–%d", l.TRL, tr.Min, tr.Max))
	}
	for _, dt := range d.p.PreferredDealTypes {
		if dt == l.DealType {
			total += m.w.DealBonus
			s.Reasons = append(s.Reasons, "prefers deal type "+dt)
			break
		}
	}
	s.Score = math.Round(total*1000) / 1000
	return s
}

// containsWord reports whether w occurs in text not inside a longer Latin
// word ("eda" is not in "pedal").
func containsWord(text, w string) bool {
	for off := 0; ; {
		k := strings.Index(text[off:], w)
		if k < 0 {
			return false
		}
		k += off
		before, after := k == 0 || !isAlnum(text[k-1]), k+len(w) == len(text) || !isAlnum(text[k+len(w)])
		if before && after {
			return true
		}
		off = k + 1
	}
}

func isAlnum(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= '0' && b <= '9'
}

func ordinal(n int) string {
	switch n {
	case 1:
		return "1st"
	case 2:
		return "2nd"
	case 3:
		return "3rd"
	}
	return fmt.Sprintf("%dth", n)
}
