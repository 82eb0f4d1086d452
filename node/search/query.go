package search

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/search/query"

	"innonet/node/pipeline"
)

// Query is one search.
type Query struct {
	// Text is what the user typed, in any language.
	Text string
	// Filters: zero values match everything. Site is a first-level site.
	Stages         []pipeline.Stage
	Sector         pipeline.Sector
	Site           string
	TRLMin, TRLMax int
	// PublishedOnly keeps the leads HQ has published (what divisions see).
	PublishedOnly bool
	// From and Size select the hits: ranks From to From+Size-1.
	From, Size int
}

// maxTRL is the highest technology readiness level a lead can have
// (pipeline's checkTRL): an open range of levels ends there.
const maxTRL = 9

// Hit is one lead the index found, by rank.
type Hit struct {
	ID    string
	Score float64
	// locations: where the query's terms are in each field, by byte
	// offsets into the field's text (for Highlights).
	locations map[string][][2]int
}

// Result is a page of hits.
type Result struct {
	Hits []Hit
	// Total is how many leads matched in all.
	Total uint64
	// Expanded lists the names the query was widened with, from the
	// glossary and the lexicon.
	Expanded []string
}

// Weights of the parts of a query: the words typed, and the names the
// expansion adds (each a little less than the words themselves), and a
// German compound that starts with a word typed.
const (
	boostExpansion = 0.6
	boostPrefix    = 0.4
	// minCompound is the shortest name or word looked for inside a
	// compound ("Batterie" in "Batterierecycling").
	minCompound = 5
)

// Search runs q against the index; with no text, every lead the filters
// keep matches, ranked alike. It does not wait for the index to
// catch up, nor check who may see a hit: the caller does both.
func (x *Index) Search(ctx context.Context, q Query) (*Result, error) {
	text := strings.TrimSpace(q.Text)
	var root query.Query = bleve.NewMatchAllQuery()
	var expanded []expansion
	// words is the query of the text alone, which the highlights show.
	var words query.Query
	switch id := strings.ToUpper(text); {
	case pipeline.ValidLeadID(id):
		// A lead's ID finds that lead.
		t := bleve.NewTermQuery(id)
		t.SetField(fieldID)
		root = t
	case text != "":
		expanded = x.expand(text)
		should := []query.Query{textQuery(text, "", 1)}
		should = append(should, prefixQueries(text)...)
		for _, e := range expanded {
			should = append(should, textQuery(e.name, e.lang, e.boost))
		}
		root = bleve.NewDisjunctionQuery(should...)
		words = root
	}
	if filters := filterQueries(q); len(filters) > 0 {
		root = bleve.NewConjunctionQuery(append([]query.Query{root}, filters...)...)
	}
	size := q.Size
	if size <= 0 {
		size = 10
	}
	// Ranking reads only the terms' frequencies (the index keeps no
	// positions); where the words are in the text is found for the page's
	// hits alone (locations).
	req := bleve.NewSearchRequestOptions(root, size, max(q.From, 0), false)
	res, err := x.idx.SearchInContext(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	out := &Result{Total: res.Total, Hits: make([]Hit, 0, len(res.Hits))}
	for _, e := range expanded {
		out.Expanded = append(out.Expanded, e.name)
	}
	var locs map[string]map[string][][2]int
	if words != nil && len(res.Hits) > 0 {
		ids := make([]string, len(res.Hits))
		for i, h := range res.Hits {
			ids[i] = h.ID
		}
		if locs, err = x.locations(ctx, words, ids); err != nil {
			return nil, err
		}
	}
	for _, h := range res.Hits {
		out.Hits = append(out.Hits, Hit{ID: h.ID, Score: h.Score, locations: locs[h.ID]})
	}
	return out, nil
}

// locations finds where root, a query of text, matches each of the leads
// ids, by field. The site's index keeps no positions, so they are found
// in a small index, in memory, of just these leads as the state holds
// them now (the offsets Highlights cuts out of the same texts), with
// positions: a page of hits costs a few leads' indexing, where keeping
// positions cost every write of every lead.
func (x *Index) locations(ctx context.Context, root query.Query, ids []string) (map[string]map[string][][2]int, error) {
	page, err := bleve.NewUsing("", x.pageMapping, scorch.Name, scorch.Name, nil)
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	defer func() { _ = page.Close() }() // in memory: nothing to lose
	b := page.NewBatch()
	for _, id := range ids {
		l, err := x.src.Lead(id)
		if err != nil {
			continue // gone since it was indexed: no highlights
		}
		d, err := x.pageSchema.document(l, x.textsNow(l))
		if err == nil {
			err = b.IndexAdvanced(d)
		}
		if err != nil {
			return nil, fmt.Errorf("search: highlight lead %s: %w", id, err)
		}
	}
	if err := page.Batch(b); err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	req := bleve.NewSearchRequestOptions(root, len(ids), 0, false)
	req.IncludeLocations = true
	res, err := page.SearchInContext(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	out := make(map[string]map[string][][2]int, len(res.Hits))
	for _, h := range res.Hits {
		byField := map[string][][2]int{}
		for field, terms := range h.Locations {
			for _, locs := range terms {
				for _, l := range locs {
					byField[field] = append(byField[field], [2]int{int(l.Start), int(l.End)})
				}
			}
		}
		out[h.ID] = byField
	}
	return out, nil
}

// textQuery asks for s, a text in the language lang ("": any), in every
// field that may hold it, each analyzed as its language. Text in English,
// or of no known language, is looked for in every language's fields,
// since leads in every language carry English words (AI, SiC, lidar);
// text in another language only in that language's, which keeps a query
// widened with many names from costing a search many times over.
func textQuery(s, lang string, boost float64) query.Query {
	var qs []query.Query
	only := groupOf(lang)
	if lang == "" || only == "en" {
		only = ""
	}
	for _, g := range groups {
		if only != "" && g.name != only {
			continue
		}
		for _, f := range textFields {
			m := bleve.NewMatchQuery(s)
			m.SetField(g.name + "." + f.name)
			m.SetBoost(boost * f.boost)
			qs = append(qs, m)
		}
	}
	m := bleve.NewMatchQuery(s)
	m.SetField(namesField)
	m.SetBoost(boost * 1.5)
	qs = append(qs, m)
	// The CJK analyzer indexes pairs of characters: one character alone
	// (氢, hydrogen) is found as the first of a pair (氢能, 氢气).
	if r := []rune(strings.TrimSpace(s)); len(r) == 1 && unicode.In(r[0], unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul) {
		for _, f := range textFields {
			p := bleve.NewPrefixQuery(string(r))
			p.SetField("zh." + f.name)
			p.SetBoost(boost * f.boost)
			qs = append(qs, p)
		}
	}
	return bleve.NewDisjunctionQuery(qs...)
}

// prefixQueries find the German (and other Latin-script) compounds that
// begin with a long word of s: "Wasserstoff" finds
// "Wasserstoffspeicher", which the German analyzer keeps whole.
func prefixQueries(s string) []query.Query {
	var qs []query.Query
	for _, w := range latinWords(s) {
		if len([]rune(w)) < minCompound {
			continue
		}
		for _, field := range []string{"de.title", "de.tags", "de.summary", "xx.title", "xx.tags", "xx.summary"} {
			p := bleve.NewPrefixQuery(germanFold(w))
			p.SetField(field)
			p.SetBoost(boostPrefix)
			qs = append(qs, p)
		}
	}
	return qs
}

// germanFold spells a word as the German analyzer indexes it (lower
// case, umlauts and ß folded).
func germanFold(w string) string {
	return strings.NewReplacer("ä", "a", "ö", "o", "ü", "u", "ß", "ss").Replace(strings.ToLower(w))
}

func filterQueries(q Query) []query.Query {
	var out []query.Query
	term := func(field, v string) query.Query {
		t := bleve.NewTermQuery(v)
		t.SetField(field)
		t.SetBoost(0)
		return t
	}
	if len(q.Stages) > 0 {
		var qs []query.Query
		for _, s := range q.Stages {
			qs = append(qs, term(fieldStage, s.String()))
		}
		out = append(out, bleve.NewDisjunctionQuery(qs...))
	}
	if q.Sector != 0 {
		out = append(out, term(fieldSector, q.Sector.String()))
	}
	if q.Site != "" {
		out = append(out, term(fieldSite, q.Site))
	}
	if q.TRLMin > 0 || q.TRLMax > 0 {
		hi := q.TRLMax
		if hi <= 0 {
			hi = maxTRL
		}
		var qs []query.Query
		for v := max(q.TRLMin, 0); v <= hi; v++ {
			qs = append(qs, term(fieldTRL, strconv.Itoa(v)))
		}
		if len(qs) == 0 {
			out = append(out, bleve.NewMatchNoneQuery())
		} else {
			out = append(out, bleve.NewDisjunctionQuery(qs...))
		}
	}
	if q.PublishedOnly {
		b := bleve.NewBoolFieldQuery(true)
		b.SetField(fieldPublished)
		b.SetBoost(0)
		out = append(out, b)
	}
	return out
}

// trlInText is a readiness level typed into the query: "TRL 6+",
// "TRL>=6", "TRL 4-6", "TRL 7".
var trlInText = regexp.MustCompile(`(?i)\bTRL\s*(?:>=|≥|>)?\s*([1-9])\s*(\+|-\s*([1-9]))?`)

// ParseText takes a readiness level out of what the user typed: the rest
// of the text, and the level's bounds (0 where it sets none).
func ParseText(s string) (rest string, trlMin, trlMax int) {
	m := trlInText.FindStringSubmatchIndex(s)
	if m == nil {
		return s, 0, 0
	}
	lo, _ := strconv.Atoi(s[m[2]:m[3]])
	switch {
	case m[4] >= 0 && s[m[4]] == '+':
		trlMin = lo
	case m[6] >= 0:
		hi, _ := strconv.Atoi(s[m[6]:m[7]])
		trlMin, trlMax = min(lo, hi), max(lo, hi)
	case strings.Contains(s[m[0]:m[1]], ">"), strings.Contains(s[m[0]:m[1]], "≥"):
		trlMin = lo
	default:
		trlMin, trlMax = lo, lo
	}
	rest = strings.Join(strings.Fields(s[:m[0]]+" "+s[m[1]:]), " ")
	return rest, trlMin, trlMax
}

// Keeps reports whether l, as the state holds it now, passes q's filters:
// the index may hold an older version of it.
func (q *Query) Keeps(l *pipeline.Lead) bool {
	switch {
	case len(q.Stages) > 0 && !slices.Contains(q.Stages, l.Stage),
		q.Sector != 0 && l.Sector != q.Sector,
		q.Site != "" && l.Site != q.Site,
		q.TRLMin > 0 && l.TRL < q.TRLMin,
		q.TRLMax > 0 && l.TRL > q.TRLMax,
		q.PublishedOnly && !l.Published:
		return false
	}
	return true
}
