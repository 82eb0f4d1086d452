package reports

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"innonet/node/pipeline"
)

// Dimension is what a funnel is grouped by.
type Dimension string

// The dimensions.
const (
	BySite     Dimension = "site"
	BySubnode  Dimension = "subnode"
	ByDivision Dimension = "division"
	BySector   Dimension = "sector"
	ByCountry  Dimension = "country"
	ByDealType Dimension = "dealType"
	ByMonth    Dimension = "month"
)

// Dimensions lists the valid dimensions.
var Dimensions = []Dimension{BySite, BySubnode, ByDivision, BySector, ByCountry, ByDealType, ByMonth}

// ParseDimension reads a dimension by name, in any case.
func ParseDimension(s string) (Dimension, error) {
	for _, d := range Dimensions {
		if strings.EqualFold(string(d), s) {
			return d, nil
		}
	}
	names := make([]string, len(Dimensions))
	for i, d := range Dimensions {
		names[i] = string(d)
	}
	return "", fmt.Errorf("%q is not a grouping; valid values: %s", s, strings.Join(names, ", "))
}

// FunnelQuery asks for a funnel.
type FunnelQuery struct {
	// From and To bound the period: a step counts when a lead reached it
	// at or after From and before To. Zero bounds are open.
	From, To time.Time
	GroupBy  []Dimension
	// Location is where months begin (HQ's: Asia/Shanghai); nil is UTC.
	Location *time.Location
	// Visible keeps the leads the caller may see; nil keeps all.
	Visible func(*pipeline.Lead) bool
}

// Group is one row of a funnel: the counts of one combination of the
// grouping's values.
type Group struct {
	// Key holds one value per dimension of the query, in its order; ""
	// where a lead has none (a lead no division held yet, one from no
	// sub-node).
	Key []string
	// Counts is how many leads reached each step in the period.
	Counts [numSteps]int
	// Days is, for each step of the main line after the first, the
	// median number of days from the step before it, over the leads that
	// reached it in the period; -1 where none did.
	Days [numSteps]float64
}

// Conversion is the share of the leads that reached the step before s on
// the main line that the group counts at s (0 when none did).
func (g *Group) Conversion(s Step) float64 {
	i := slices.Index(chain, s)
	if i <= 0 || g.Counts[chain[i-1]] == 0 {
		return 0
	}
	return float64(g.Counts[s]) / float64(g.Counts[chain[i-1]])
}

// Funnel is the answer to a FunnelQuery.
type Funnel struct {
	Groups []Group // sorted by key
	Total  Group
	// Applied is the log index the funnel reflects; Leads how many leads
	// it read (MERGED ones are not counted: their survivor is).
	Applied uint64
	Leads   int
}

// Funnel counts, from the history of every lead the query keeps, the
// leads that reached each step in the period, by group.
func (e *Engine) Funnel(q FunnelQuery) (*Funnel, error) {
	loc := q.Location
	if loc == nil {
		loc = time.UTC
	}
	sums, applied, err := e.summaries(q.Visible)
	if err != nil {
		return nil, err
	}
	in := func(t time.Time) bool {
		return !t.IsZero() && (q.From.IsZero() || !t.Before(q.From)) && (q.To.IsZero() || t.Before(q.To))
	}
	type acc struct {
		g    Group
		days [numSteps][]float64
	}
	groups := map[string]*acc{}
	total := &acc{}
	var key []string
	for _, s := range sums {
		if s.merged {
			continue
		}
		for _, st := range Steps {
			t := s.reached[st]
			if !in(t) {
				continue
			}
			key = key[:0]
			for _, d := range q.GroupBy {
				key = append(key, s.value(d, st, loc))
			}
			k := strings.Join(key, "\x00")
			a := groups[k]
			if a == nil {
				a = &acc{g: Group{Key: slices.Clone(key)}}
				groups[k] = a
			}
			var d float64 = -1
			if i := slices.Index(chain, st); i > 0 {
				if prev := s.reached[chain[i-1]]; !prev.IsZero() {
					d = t.Sub(prev).Hours() / 24
				}
			}
			for _, x := range []*acc{a, total} {
				x.g.Counts[st]++
				if d >= 0 {
					x.days[st] = append(x.days[st], d)
				}
			}
		}
	}
	out := &Funnel{Applied: applied}
	for _, s := range sums {
		if !s.merged {
			out.Leads++
		}
	}
	finish := func(a *acc) Group {
		for st := range numSteps {
			a.g.Days[st] = median(a.days[st])
		}
		return a.g
	}
	for _, a := range groups {
		out.Groups = append(out.Groups, finish(a))
	}
	sort.Slice(out.Groups, func(i, j int) bool { return slices.Compare(out.Groups[i].Key, out.Groups[j].Key) < 0 })
	out.Total = finish(total)
	return out, nil
}

// value is the summary's value of dimension d for the step st.
func (s *summary) value(d Dimension, st Step, loc *time.Location) string {
	switch d {
	case BySite:
		return s.site
	case BySubnode:
		return s.subnode
	case ByDivision:
		return s.division[st]
	case BySector:
		return s.sector
	case ByCountry:
		return s.country
	case ByDealType:
		return s.dealType
	case ByMonth:
		return s.reached[st].In(loc).Format("2006-01")
	}
	return ""
}

// median is the median of xs, rounded to a tenth of a day; -1 if empty.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return -1
	}
	slices.Sort(xs)
	m := xs[len(xs)/2]
	if len(xs)%2 == 0 {
		m = (xs[len(xs)/2-1] + m) / 2
	}
	return float64(int(m*10+0.5)) / 10
}
