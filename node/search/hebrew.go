package search

import (
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	tokunicode "github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	"github.com/blevesearch/bleve/v2/registry"

	"innonet/node/lexicon"
)

// hebrewAnalyzer reads Hebrew: Unicode words, lower case (for the Latin
// words Hebrew leads carry), and each word also without the one-letter
// words Hebrew writes attached to the next (and, the, in, to, from, that,
// as): "ובמימן" is also indexed, and asked for, as "במימן" and "מימן".
const hebrewAnalyzer = "innonet_he"

// hebrewPrefixes are the letters hebrewStems strips.
const hebrewPrefixes = "הובלמשכ"

// A letter is stripped only where the rest is a word the lexicon knows,
// or is at least hebrewMinRest letters long, and never from a word the
// lexicon knows: a shorter rest is too often a word of its own that
// starts with one of the letters (מים, water, is not ים, sea, with
// "from"). The word as written is indexed too, so a wrong cut only adds.
const hebrewMinRest = 4

// hebrewWords are the Hebrew words of node/lexicon's terms.
var hebrewWords = sync.OnceValue(func() map[string]bool {
	out := map[string]bool{}
	for _, r := range lexicon.Table() {
		for _, t := range strings.Split(r.HE, "|") {
			for _, w := range lexicon.Words(lexicon.Fold(t)) {
				out[w] = true
			}
		}
	}
	return out
})

// hebrewStems are the forms of w without up to two prefix letters, that
// the rules above allow, longest first.
func hebrewStems(w string) []string {
	var out []string
	if hebrewWords()[w] {
		return nil
	}
	for range 2 {
		r, size := utf8.DecodeRuneInString(w)
		if !strings.ContainsRune(hebrewPrefixes, r) {
			break
		}
		rest := w[size:]
		if !hebrewWords()[rest] && utf8.RuneCountInString(rest) < hebrewMinRest {
			break
		}
		out = append(out, rest)
		w = rest
	}
	return out
}

// hebrewFilter adds, after each Hebrew token, its forms without prefixes
// at the same position.
type hebrewFilter struct{}

func (hebrewFilter) Filter(in analysis.TokenStream) analysis.TokenStream {
	out := make(analysis.TokenStream, 0, len(in))
	for _, t := range in {
		out = append(out, t)
		r, _ := utf8.DecodeRune(t.Term)
		if !unicode.Is(unicode.Hebrew, r) {
			continue
		}
		for _, s := range hebrewStems(string(t.Term)) {
			out = append(out, &analysis.Token{Term: []byte(s), Start: t.Start, End: t.End,
				Position: t.Position, Type: t.Type, KeyWord: t.KeyWord})
		}
	}
	return out
}

func init() {
	err := registry.RegisterAnalyzer(hebrewAnalyzer, func(_ map[string]any, cache *registry.Cache) (analysis.Analyzer, error) {
		tok, err := cache.TokenizerNamed(tokunicode.Name)
		if err != nil {
			return nil, err
		}
		lower, err := cache.TokenFilterNamed(lowercase.Name)
		if err != nil {
			return nil, err
		}
		return &analysis.DefaultAnalyzer{Tokenizer: tok, TokenFilters: []analysis.TokenFilter{lower, hebrewFilter{}}}, nil
	})
	if err != nil {
		panic(err)
	}
}
