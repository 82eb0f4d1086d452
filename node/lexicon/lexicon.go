package lexicon

import (
	"slices"
	"sort"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// Concept is a language-neutral identifier of a technology idea, such as
// "hydrogen" or "battery".
type Concept string

// Match is one occurrence of a concept in a text.
type Match struct {
	Concept Concept
	// Term is the lexicon term that matched, as written in the table.
	Term string
	// Pos orders matches by where they were found (a byte offset for
	// Chinese and Hebrew terms, a scaled token index for Latin ones).
	Pos int
}

// Row is one concept of a table with its terms; terms of one language are
// separated by "|".
type Row struct {
	ID             Concept
	EN, DE, ZH, HE string
}

// Lexicon finds concepts in text. It is immutable once built and safe for
// concurrent use.
type Lexicon struct {
	en    map[string][]phrase // first stemmed token -> phrases, longest first
	de    []term              // matched inside tokens (long) or as tokens (short)
	subst []term              // zh and he terms, matched as substrings of the text, longest first
	// byFirst lists, per first rune of a non-ASCII term, the positions
	// in subst of the terms that begin with it, ascending; asciiFirst
	// those of the terms that begin with an ASCII character (5G基站),
	// which are tried on every text.
	byFirst    map[rune][]int
	asciiFirst []int
	ids        []Concept

	// deByGram lists, per first three bytes of a long German term, the
	// positions in de of the terms that begin with them, ascending; and
	// deShort, per text of a short one, the positions of those terms: a
	// word is compared only with the terms that may occur in it.
	deByGram map[uint32][]int
	deShort  map[string][]int
	// deFirst2 has the bit of every pair of bytes a long German term
	// begins with, so that most positions of a word need no map lookup.
	deFirst2 *[1 << 16 / 64]uint64
}

// deGram is how many leading bytes of a long German term deByGram files
// it under (a long term has at least five runes).
const deGram = 3

// deHit is a German term found in a word, at byte offset k.
type deHit struct {
	t *term
	k int
}

type phrase struct {
	tokens  []string
	concept Concept
	term    string
}

type term struct {
	text    string // folded
	first   rune   // text's first rune
	concept Concept
	term    string
	long    bool
	hebrew  bool
}

// New builds a Lexicon from rows.
func New(rows []Row) *Lexicon {
	lx := &Lexicon{en: map[string][]phrase{}}
	seen := map[Concept]bool{}
	for _, r := range rows {
		if !seen[r.ID] {
			seen[r.ID] = true
			lx.ids = append(lx.ids, r.ID)
		}
		for _, t := range split(r.EN) {
			toks := stemAll(Words(Fold(t)))
			if len(toks) == 0 {
				continue
			}
			lx.en[toks[0]] = append(lx.en[toks[0]], phrase{tokens: toks, concept: r.ID, term: t})
		}
		for _, t := range split(r.DE) {
			ws := Words(Fold(t))
			switch {
			case len(ws) == 0:
			case len(ws) > 1:
				toks := stemAll(ws)
				lx.en[toks[0]] = append(lx.en[toks[0]], phrase{tokens: toks, concept: r.ID, term: t})
			default:
				lx.de = append(lx.de, term{text: ws[0], concept: r.ID, term: t, long: utf8.RuneCountInString(ws[0]) >= 5})
			}
		}
		for _, t := range append(split(r.ZH), split(r.HE)...) {
			f := Fold(t)
			if f == "" {
				continue
			}
			first, _ := utf8.DecodeRuneInString(f)
			lx.subst = append(lx.subst, term{text: f, first: first, concept: r.ID, term: t, hebrew: isHebrew(f)})
		}
	}
	for k, ps := range lx.en {
		sort.SliceStable(ps, func(i, j int) bool { return len(ps[i].tokens) > len(ps[j].tokens) })
		lx.en[k] = ps
	}
	// Longer substrings first so that, at one position, the most specific
	// term is reported first; all matches are still reported.
	sort.SliceStable(lx.subst, func(i, j int) bool { return len(lx.subst[i].text) > len(lx.subst[j].text) })
	sort.SliceStable(lx.de, func(i, j int) bool { return len(lx.de[i].text) > len(lx.de[j].text) })
	lx.deByGram, lx.deShort, lx.deFirst2 = map[uint32][]int{}, map[string][]int{}, new([1 << 16 / 64]uint64)
	for i, t := range lx.de {
		if t.long {
			g := gram(t.text, 0)
			lx.deByGram[g] = append(lx.deByGram[g], i)
			lx.deFirst2[g>>14] |= 1 << (g >> 8 & 63)
		} else {
			lx.deShort[t.text] = append(lx.deShort[t.text], i)
		}
	}
	lx.byFirst = map[rune][]int{}
	for i, t := range lx.subst {
		if t.first < utf8.RuneSelf {
			lx.asciiFirst = append(lx.asciiFirst, i)
			continue
		}
		lx.byFirst[t.first] = append(lx.byFirst[t.first], i)
	}
	return lx
}

// Default returns the lexicon built from the package's own table.
var Default = sync.OnceValue(func() *Lexicon { return New(Table()) })

// Concepts lists every concept of the lexicon in table order.
func (lx *Lexicon) Concepts() []Concept { return append([]Concept(nil), lx.ids...) }

// Find returns the concepts in text in order of position. A concept may
// appear more than once. Where terms overlap, the longest wins, so
// "Wasserstoff" is hydrogen and not water, and 燃料电池 is a fuel cell and
// not a battery.
func (lx *Lexicon) Find(text string) []Match {
	var out []Match
	add := func(c Concept, t string, pos int) {
		for _, id := range strings.Split(string(c), "+") {
			out = append(out, Match{Concept: Concept(id), Term: t, Pos: pos})
		}
	}
	f := Fold(text)
	words := Words(f)
	stems := stemAll(words)
	consumed := make([]bool, len(words))
	for i := 0; i < len(stems); {
		n := 0
		for _, p := range lx.en[stems[i]] {
			if i+len(p.tokens) <= len(stems) && equal(stems[i:i+len(p.tokens)], p.tokens) {
				add(p.concept, p.term, i*1000)
				n = len(p.tokens)
				break
			}
		}
		if n == 0 {
			i++
			continue
		}
		for k := i; k < i+n; k++ {
			consumed[k] = true
		}
		i += n
	}
	for i, w := range words {
		if consumed[i] || !isLatin(w) {
			continue
		}
		for _, h := range lx.germanIn(w) {
			add(h.t.concept, h.t.term, i*1000+h.k)
		}
	}
	var taken []span
	for _, i := range lx.substCandidates(f) {
		t := &lx.subst[i]
		for _, k := range indexAll(f, t.text) {
			if t.hebrew && !hebrewStart(f, k, utf8.RuneCountInString(t.text) < 3) {
				continue
			}
			if free(taken, k, k+len(t.text)) {
				taken = append(taken, span{k, k + len(t.text)})
				add(t.concept, t.term, k)
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Pos < out[j].Pos })
	return out
}

// substCandidates returns the positions in lx.subst, ascending (so
// longest first, as the table is sorted), of the terms that may occur in
// folded text f: only a term whose first rune occurs in f can, and most
// texts have no Chinese or Hebrew letter at all.
func (lx *Lexicon) substCandidates(f string) []int {
	var (
		out  []int
		seen map[rune]bool
	)
	for _, r := range f {
		if r < utf8.RuneSelf || seen[r] {
			continue
		}
		if seen == nil {
			seen = map[rune]bool{}
		}
		seen[r] = true
		out = append(out, lx.byFirst[r]...)
	}
	if len(out) == 0 {
		return lx.asciiFirst
	}
	out = append(out, lx.asciiFirst...)
	slices.Sort(out)
	return out
}

// germanIn returns what the German terms find in word w: a short term
// as the whole word, a long one anywhere inside it, longest first and
// never overlapping. Only the terms that may occur in w are tried
// (deCandidates), which is cheaper than remembering the answers for the
// words seen.
func (lx *Lexicon) germanIn(w string) []deHit {
	return lx.germanScan(w, lx.deCandidates(w))
}

// deCandidates returns the positions in lx.de, ascending, of the German
// terms that may occur in word w: the short ones that are w, and the long
// ones whose first bytes are somewhere in w.
func (lx *Lexicon) deCandidates(w string) []int {
	out := slices.Clone(lx.deShort[w])
	for k := 0; k+deGram <= len(w); k++ {
		g := gram(w, k)
		if lx.deFirst2[g>>14]&(1<<(g>>8&63)) == 0 {
			continue
		}
		out = append(out, lx.deByGram[g]...)
	}
	if len(out) > 1 {
		slices.Sort(out)
		out = slices.Compact(out)
	}
	return out
}

// gram packs the deGram bytes of s from k into the low 24 bits of a
// number, the first byte highest: bits 8 to 23 are the first two bytes.
func gram(s string, k int) uint32 {
	return uint32(s[k])<<16 | uint32(s[k+1])<<8 | uint32(s[k+2])
}

// germanScan returns what the German terms at positions cands of lx.de
// (ascending, so longest first) find in word w.
func (lx *Lexicon) germanScan(w string, cands []int) []deHit {
	var (
		hits  []deHit
		taken []span
	)
	for _, i := range cands {
		t := &lx.de[i]
		if !t.long {
			if w == t.text && len(taken) == 0 {
				hits = append(hits, deHit{t, 0})
				taken = append(taken, span{0, len(w)})
			}
			continue
		}
		for _, k := range indexAll(w, t.text) {
			if free(taken, k, k+len(t.text)) {
				taken = append(taken, span{k, k + len(t.text)})
				hits = append(hits, deHit{t, k})
			}
		}
	}
	return hits
}

type span struct{ from, to int }

func free(taken []span, from, to int) bool {
	for _, s := range taken {
		if from < s.to && s.from < to {
			return false
		}
	}
	return true
}

func indexAll(s, sub string) []int {
	var out []int
	for off := 0; off < len(s); {
		k := strings.Index(s[off:], sub)
		if k < 0 {
			break
		}
		out = append(out, off+k)
		off += k + len(sub)
	}
	return out
}

// Fold applies Unicode NFKC and full case folding, so that full-width
// forms, ligatures and case variants compare equal.
func Fold(s string) string {
	if isASCII(s) {
		// NFKC leaves ASCII as it is, and full case folding of ASCII
		// is lowering A-Z (TestFoldASCII).
		return strings.ToLower(s)
	}
	return foldUnicode(s)
}

func foldUnicode(s string) string { return cases.Fold().String(norm.NFKC.String(s)) }

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// Words splits folded text into runs of letters and digits. Hebrew
// geresh and gershayim inside a word are kept (צ'ארג'ווייז, בע"מ).
func Words(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.Is(unicode.Mn, r)
	})
}

// Stem removes common English plural endings; it is deliberately light so
// that it never merges distinct technical words.
func Stem(w string) string {
	n := len(w)
	switch {
	case n > 4 && strings.HasSuffix(w, "ies"):
		return w[:n-3] + "y"
	case n > 4 && (strings.HasSuffix(w, "ses") || strings.HasSuffix(w, "xes") || strings.HasSuffix(w, "ches") || strings.HasSuffix(w, "shes")):
		return w[:n-2]
	case n > 3 && strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss") && !strings.HasSuffix(w, "us") && !strings.HasSuffix(w, "is"):
		return w[:n-1]
	}
	return w
}

func stemAll(ws []string) []string {
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = Stem(w)
	}
	return out
}

func split(s string) []string {
	var out []string
	for _, t := range strings.Split(s, "|") {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	return out
}

func equal(a, b []string) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func isLatin(w string) bool {
	for _, r := range w {
		if unicode.IsLetter(r) && !unicode.Is(unicode.Latin, r) {
			return false
		}
	}
	return true
}

// hebrewPrefixes are the one-letter words Hebrew writes attached to the
// next word: and, the, in, to, from, that, as.
const hebrewPrefixes = "והבלמשכ"

// hebrewStart reports whether a Hebrew term found at byte k starts a word,
// allowing up to two attached prefix letters (ובמים, שה…). A short term
// must stand alone: with a prefix, two letters are too often part of
// another word (בד in כבד).
func hebrewStart(s string, k int, short bool) bool {
	n := 0
	for k > 0 {
		r, size := utf8.DecodeLastRuneInString(s[:k])
		if !unicode.IsLetter(r) {
			return true
		}
		if short || !strings.ContainsRune(hebrewPrefixes, r) || n == 2 {
			return false
		}
		n++
		k -= size
	}
	return true
}

func isHebrew(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Hebrew, r) {
			return true
		}
	}
	return false
}
