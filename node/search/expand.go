package search

import (
	"maps"
	"slices"
	"strings"
	"unicode"

	"innonet/node/pipeline"
)

// expand lists the names, in other words and languages, of the concepts
// the text names: a glossary term or a lexicon entry one of whose names
// appears in it adds all its other names. A name of a spaced script
// (Latin...) appears as whole words, or, if it is one long word, inside a
// word of the text (a German compound); a name of an unspaced script
// (Chinese, Hebrew) appears anywhere.
func (x *Index) expand(text string) []expansion {
	folded := pipeline.Fold(text)
	words := latinWords(folded)
	concepts := slices.Clone(lexicon)
	if terms, err := x.src.Glossary(); err == nil {
		for _, t := range terms {
			names := make([]string, 0, len(t.Names))
			for _, lang := range slices.Sorted(maps.Keys(t.Names)) {
				names = append(names, t.Names[lang])
			}
			concepts = append(concepts, names)
		}
	}
	var out []expansion
	seen := map[string]bool{folded: true}
	for _, names := range concepts {
		if !slices.ContainsFunc(names, func(n string) bool { return names2match(pipeline.Fold(n), folded, words) }) {
			continue
		}
		var add []string
		for _, n := range names {
			if f := pipeline.Fold(n); !seen[f] {
				seen[f] = true
				add = append(add, n)
			}
		}
		// A concept weighs as one alternative, however many names it
		// has: a lead that holds several of them (battery, batteries,
		// Batterie) is not counted again for each.
		for _, n := range add {
			out = append(out, expansion{name: n, boost: boostExpansion / float64(len(add))})
		}
	}
	return out
}

// expansion is a name a query is widened with, and its weight.
type expansion struct {
	name  string
	boost float64
}

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
