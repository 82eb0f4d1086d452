package search

import (
	"maps"
	"slices"
	"strings"
	"sync"
	"unicode"

	"innonet/node/lexicon"
	"innonet/node/pipeline"
)

// expand lists the names, in other words and languages, of the concepts
// the text names: a concept of node/lexicon, or a glossary term, one of
// whose names appears in it adds all its other names. Lexicon concepts
// are found as that package finds them (see lexicon.Lexicon.Find). A
// glossary name of a spaced script (Latin...) appears as whole words, or,
// if it is one long word, inside a word of the text (a German compound);
// a name of an unspaced script (Chinese, Hebrew) appears anywhere.
func (x *Index) expand(text string) []expansion {
	folded := pipeline.Fold(text)
	words := latinWords(folded)
	var concepts [][]name
	lt := lexiconTerms()
	seenRow := map[string]bool{}
	for _, m := range lexicon.Default().Find(text) {
		for _, row := range lt.byTerm[m.Term] {
			if !seenRow[row] {
				seenRow[row] = true
				concepts = append(concepts, lt.names[row])
			}
		}
	}
	if terms, err := x.src.Glossary(); err == nil {
		for _, t := range terms {
			names := make([]name, 0, len(t.Names))
			for _, lang := range slices.Sorted(maps.Keys(t.Names)) {
				names = append(names, name{text: t.Names[lang], lang: lang})
			}
			if slices.ContainsFunc(names, func(n name) bool { return names2match(pipeline.Fold(n.text), folded, words) }) {
				concepts = append(concepts, names)
			}
		}
	}
	var out []expansion
	seen := map[string]bool{folded: true}
	for _, names := range concepts {
		var add []name
		for _, n := range names {
			if f := pipeline.Fold(n.text); !seen[f] {
				seen[f] = true
				add = append(add, n)
			}
		}
		// A concept weighs as one alternative in each language, however
		// many names it has there: a lead that holds several of them
		// (battery, batteries) is not counted again for each, and a lead
		// holds the names of its own language, not those of the others.
		perLang := map[string]int{}
		for _, n := range add {
			perLang[groupOf(n.lang)]++
		}
		for _, n := range add {
			out = append(out, expansion{name: n.text, lang: n.lang, boost: boostExpansion / float64(perLang[groupOf(n.lang)])})
		}
	}
	return out
}

// expansion is a name a query is widened with, its language, and its
// weight.
type expansion struct {
	name, lang string
	boost      float64
}

// A name is one of a concept's names, in a language (a BCP 47 tag).
type name struct{ text, lang string }

// lexTerms is node/lexicon's table read for expansion.
type lexTerms struct {
	// byTerm lists the rows (by their ID as the table writes it) that
	// hold a term, as the table writes it.
	byTerm map[string][]string
	// names are every name of a row's concept: of every row of that ID,
	// in table order.
	names map[string][]name
}

// lexiconTerms reads node/lexicon's built-in table once. A row's ID may
// name several concepts ("solid-state-battery+solid+battery"): its terms
// expand to its own row, not to every row of the wider concepts, so that
// "固态电池" asks for solid-state batteries and not for every battery.
var lexiconTerms = sync.OnceValue(func() *lexTerms {
	lt := &lexTerms{byTerm: map[string][]string{}, names: map[string][]name{}}
	for _, r := range lexicon.Table() {
		id := string(r.ID)
		for _, col := range []struct{ lang, terms string }{{"en", r.EN}, {"de", r.DE}, {"zh", r.ZH}, {"he", r.HE}} {
			for _, t := range strings.Split(col.terms, "|") {
				if t = strings.TrimSpace(t); t == "" {
					continue
				}
				if !slices.Contains(lt.byTerm[t], id) {
					lt.byTerm[t] = append(lt.byTerm[t], id)
				}
				lt.names[id] = append(lt.names[id], name{text: t, lang: col.lang})
			}
		}
	}
	return lt
})

// names2match reports whether the folded name appears in the folded text
// (whose Latin words are words).
func names2match(name, text string, words []string) bool {
	if name == "" {
		return false
	}
	if strings.IndexFunc(name, unspaced) >= 0 {
		return strings.Contains(text, name)
	}
	nw := latinWords(name)
	if len(nw) == 0 {
		return false
	}
	for i := 0; i+len(nw) <= len(words); i++ {
		ok := true
		for j, w := range nw {
			if !sameWord(words[i+j], w) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	if len(nw) == 1 && len([]rune(nw[0])) >= minCompound {
		for _, w := range words {
			if len(w) > len(nw[0]) && strings.Contains(w, nw[0]) {
				return true
			}
		}
	}
	return false
}

// sameWord compares words, allowing an English plural.
func sameWord(a, b string) bool {
	if a == b {
		return true
	}
	if len(a) < len(b) {
		a, b = b, a
	}
	return len(b) >= 3 && (a == b+"s" || a == b+"es" || strings.TrimSuffix(a, "ies") == strings.TrimSuffix(b, "y") && strings.HasSuffix(a, "ies"))
}

// latinWords splits s into words of letters and digits, leaving out the
// characters of unspaced scripts.
func latinWords(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.IsMark(r) || unspaced(r)
	})
}

// unspaced reports whether r is of a script whose words are not separated
// by spaces, or that attaches prefixes to them.
func unspaced(r rune) bool {
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Thai, unicode.Hebrew, unicode.Arabic)
}
