package pipeline

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// Free-text search of leads (Filter.Query, Filter.Organization): no index,
// no ranking; a list tests each lead it reads. The search issue brings a
// real engine (bleve) later; until then the rules are simple enough to
// state:
//
//   - Text and query are normalized alike: NFKC (full-width Ｈ2 is H2,
//     the ligature ﬁ is fi), then Unicode case folding (Straße matches
//     STRASSE), then NFKC again.
//   - A query is split into words at whatever is not a letter, digit or
//     mark; a lead matches if its title, summary, organisation, tags or a
//     translation of them hold every word.
//   - A word written in a script that separates words with spaces
//     (Latin, Greek, Cyrillic, Hangul...) matches the beginning of a word
//     of the text: "hydro" finds "hydrogen" and "Hydrogenase", not
//     "carbohydrate".
//   - A word with a character of a script that writes words without
//     spaces, or attaches prefixes to them (Chinese, Japanese, Thai,
//     Hebrew, Arabic...), matches anywhere: 氢能 finds 氢能源汽车, מימן
//     finds והמימן.
//
// The folded text of each lead is computed once per version of the lead
// and kept beside the state (searchDoc), not in it: it is derived data.

// Fold normalizes text for matching: NFKC, Unicode case folding, NFKC.
func Fold(s string) string {
	return norm.NFKC.String(cases.Fold().String(norm.NFKC.String(s)))
}

// searchTerm is one word of a query.
type searchTerm struct {
	word string
	// anywhere: the word matches anywhere in the text, not only at the
	// start of a word.
	anywhere bool
}

// ParseSearch splits a query into the words a lead must hold; none if the
// query has no letter or digit.
func ParseSearch(q string) []searchTerm {
	var out []searchTerm
	for _, w := range strings.FieldsFunc(Fold(q), func(r rune) bool { return !isWordRune(r) }) {
		t := searchTerm{word: w}
		for _, r := range w {
			if unspaced(r) {
				t.anywhere = true
				break
			}
		}
		out = append(out, t)
	}
	return out
}

// SearchWords returns the words of a query as they are matched (folded),
// for error messages and tests.
func SearchWords(q string) []string {
	var out []string
	for _, t := range ParseSearch(q) {
		out = append(out, t.word)
	}
	return out
}

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r) }

// unspacedScripts write words without spaces between them, or with
// prefixes (articles, prepositions) joined to the word.
var unspacedScripts = []*unicode.RangeTable{
	unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Thai, unicode.Lao, unicode.Khmer,
	unicode.Myanmar, unicode.Tibetan, unicode.Hebrew, unicode.Arabic, unicode.Bopomofo,
}

func unspaced(r rune) bool { return r >= 0x0590 && unicode.IsOneOf(unspacedScripts, r) }

// matchTerms reports whether folded text holds every term.
func matchTerms(text string, terms []searchTerm) bool {
	for _, t := range terms {
		if !matchTerm(text, t) {
			return false
		}
	}
	return true
}

func matchTerm(text string, t searchTerm) bool {
	if t.anywhere {
		return strings.Contains(text, t.word)
	}
	for from := 0; ; {
		i := strings.Index(text[from:], t.word)
		if i < 0 {
			return false
		}
		i += from
		if i == 0 {
			return true
		}
		// The start of a word: after a character that is no part of a
		// word, or after one of a script without spaces (用于AI).
		if prev, _ := utf8.DecodeLastRuneInString(text[:i]); !isWordRune(prev) || unspaced(prev) {
			return true
		}
		_, size := utf8.DecodeRuneInString(text[i:])
		from = i + size
	}
}

// searchDoc is the folded text of one version of a lead.
type searchDoc struct {
	lead *Lead  // the version it was made from: the state's own value
	text string // title, summary, organisation, tags and translations
	org  string // the organisation alone
}

// searchDoc returns the folded text of l, which must be a value the state
// holds (they are never changed in place, so a new version is a new
// pointer). Safe for concurrent use.
func (s *State) searchDoc(l *Lead) *searchDoc {
	if v, ok := s.search.Load(l.ID); ok && v.(*searchDoc).lead == l {
		return v.(*searchDoc)
	}
	var b strings.Builder
	for _, part := range []string{l.Title, l.Summary, l.Organization} {
		b.WriteString(part)
		b.WriteByte('\n')
	}
	for _, t := range l.Tags {
		b.WriteString(t)
		b.WriteByte('\n')
	}
	for _, lang := range l.translationLangs() {
		tr := l.Translations[lang]
		b.WriteString(tr.Title)
		b.WriteByte('\n')
		b.WriteString(tr.Summary)
		b.WriteByte('\n')
	}
	d := &searchDoc{lead: l, text: Fold(b.String()), org: Fold(l.Organization)}
	s.search.Store(l.ID, d)
	return d
}
