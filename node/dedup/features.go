package dedup

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"innonet/node/lexicon"
)

// Feature kinds, the first byte of a feature key. Concepts, numbers and
// Latin words can be compared across languages; Han bigrams and Hebrew
// words only within one.
const (
	kindConcept = 'c'
	kindNumber  = 'n'
	kindWord    = 'w'
	kindHan     = 'z'
	kindHebrew  = 'h'
)

// Field weights: a title and tags say what the technology is; a summary
// also says what else the organisation does and what it wants.
const (
	weightTitle   = 2
	weightTags    = 2
	weightSummary = 1
	maxTF         = 4
)

type feature struct {
	key string
	tf  float64
}

// stopWords are function words and deal vocabulary that say nothing about
// the technology. IDF weighting discounts the rest.
var stopWords = set("the", "and", "for", "with", "from", "that", "this", "its", "their", "our",
	"are", "was", "has", "have", "been", "can", "will", "into", "than", "per", "via", "also",
	"who", "which", "while", "without", "based", "new", "more", "most", "about", "over", "under",
	"they", "them", "would", "like", "other", "one", "two", "all", "not", "but", "any", "each",
	"der", "die", "das", "und", "mit", "für", "von", "den", "dem", "des", "ein", "eine", "einen",
	"einer", "eines", "auf", "aus", "bei", "ist", "sind", "wird", "werden", "sich", "als", "auch",
	"nach", "zur", "zum", "oder", "bis", "wie", "nicht", "durch", "über", "unter", "vom", "hat",
	"company", "partner", "partners", "china", "chinese", "looking", "seeks", "seeking", "wanted",
	"offer", "offers", "interested", "licence", "license", "licensing", "investment", "investor",
	"round", "series", "seed", "joint", "venture", "development", "developed", "develops",
	"unternehmen", "gesucht", "sucht", "partnern", "lizenz", "firma", "update", "nachtrag",
	"technology", "technologie", "solution", "system", "platform")

// textFeatures extracts the weighted features of a lead's text: all of
// it, and the head (title and tags) alone. other reports that the text
// presents the lead as another product of its organisation (other.go);
// the phrase naming that product is left out.
func textFeatures(l *Lead) (all, head []feature, other bool) {
	a := newAccumulator(len(l.Title) + len(l.Summary))
	title, o1 := otherProduct(lexicon.Fold(l.Title))
	a.addText(title, weightTitle, true)
	a.addText(strings.Join(l.Tags, " ; "), weightTags, true)
	summary, o2 := otherProduct(lexicon.Fold(l.Summary))
	a.addText(summary, weightSummary, false)
	all, head = a.sorted()
	return all, head, o1 || o2
}

// An accumulator sums the weights of a lead's features, field by field.
// A key is spelled in a buffer it reuses and looked up without
// allocating: only a feature met for the first time costs a string.
type accumulator struct {
	at    map[string]int32 // key to its entry
	ents  []accEntry
	buf   []byte
	field int32 // the field being added, from 1
}

type accEntry struct {
	key       string
	all, head float64
	field     int32 // the last field that added the key
}

func newAccumulator(textLen int) *accumulator {
	n := textLen/6 + 8
	return &accumulator{at: make(map[string]int32, n), ents: make([]accEntry, 0, n), buf: make([]byte, 0, 64)}
}

// add counts the key kind:text once in the current field.
func (a *accumulator) add(kind byte, text string, w float64, head bool) {
	a.buf = append(append(a.buf[:0], kind, ':'), text...)
	i, ok := a.at[string(a.buf)]
	if !ok {
		i = int32(len(a.ents))
		k := string(a.buf)
		a.ents = append(a.ents, accEntry{key: k})
		a.at[k] = i
	}
	e := &a.ents[i]
	// Within one field a feature counts once: repetition in a summary
	// is style, not evidence.
	if e.field == a.field {
		return
	}
	e.field = a.field
	e.all += w
	if head {
		e.head += w
	}
}

// sorted returns the features of all the text and of the head, by key.
func (a *accumulator) sorted() (all, head []feature) {
	slices.SortFunc(a.ents, func(x, y accEntry) int { return strings.Compare(x.key, y.key) })
	// Both live as long as the lead is indexed: allocated to size.
	n := 0
	for _, e := range a.ents {
		if e.head > 0 {
			n++
		}
	}
	all, head = make([]feature, 0, len(a.ents)), make([]feature, 0, n)
	for _, e := range a.ents {
		all = append(all, feature{key: e.key, tf: min(e.all, maxTF)})
		if e.head > 0 {
			head = append(head, feature{key: e.key, tf: min(e.head, maxTF)})
		}
	}
	return all, head
}

func (a *accumulator) addText(s string, w float64, head bool) {
	a.field++
	if s == "" {
		return
	}
	for _, m := range lexicon.Default().Find(s) {
		a.add(kindConcept, string(m.Concept), w, head)
	}
	f := lexicon.Fold(s)
	for _, tok := range tokensWithJoins(f) {
		switch {
		case hasDigit(tok):
			for _, n := range numbers(tok) {
				a.add(kindNumber, n, w, head)
			}
			if hasLetter(tok) && isLatinWord(tok) && len(tok) >= 3 {
				a.add(kindWord, tok, w, head) // 800v, h2, cas12
			}
		case isHan(tok):
			r := []rune(tok)
			for i := 0; i+1 < len(r); i++ {
				a.add(kindHan, string(r[i:i+2]), w, head)
			}
		case isHebrewWord(tok):
			if len([]rune(tok)) >= 2 {
				a.add(kindHebrew, tok, w, head)
			}
		case isLatinWord(tok):
			st := lexicon.Stem(tok)
			if len(st) >= 3 && !stopWords[tok] && !stopWords[st] {
				a.add(kindWord, st, w, head)
			}
		}
	}
}

// tokensWithJoins splits text into words and also yields hyphenated
// sequences joined, so "Micro-LED" meets "microLED".
func tokensWithJoins(f string) []string {
	var out []string
	for _, field := range strings.FieldsFunc(f, func(r rune) bool {
		return unicode.IsSpace(r) || (unicode.IsPunct(r) && r != '-' && r != '.' && r != ',') || unicode.IsSymbol(r)
	}) {
		field = strings.Trim(field, "-.,")
		if field == "" {
			continue
		}
		if !strings.Contains(field, "-") {
			out = appendScripts(out, strings.Trim(field, ".,"))
			continue
		}
		parts := strings.FieldsFunc(field, func(r rune) bool { return r == '-' })
		for _, p := range parts {
			out = appendScripts(out, strings.Trim(p, ".,"))
		}
		if len(parts) > 1 && isLatinWord(strings.Join(parts, "")) {
			out = append(out, strings.Join(parts, ""))
		}
	}
	return out
}

// appendScripts appends the parts of token t, cut where the script
// changes: "Micro-LED激光" has the Latin "led" and the Han "激光". A
// part is a substring of t (t is valid UTF-8, as folding leaves it).
func appendScripts(out []string, t string) []string {
	if !utf8.ValidString(t) {
		return append(out, splitScripts(t)...)
	}
	start, cls := 0, -1
	for i, r := range t {
		c := 0 // scriptClass of every ASCII rune
		if r >= utf8.RuneSelf {
			c = scriptClass(r)
		}
		if c != cls && i > start {
			out = append(out, t[start:i])
			start = i
		}
		cls = c
	}
	if len(t) > start {
		out = append(out, t[start:])
	}
	return out
}

// splitScripts is appendScripts for a token that is not valid UTF-8.
func splitScripts(t string) []string {
	var out []string
	var cur []rune
	cls := -1
	for _, r := range t {
		c := scriptClass(r)
		if c != cls && len(cur) > 0 {
			out = append(out, string(cur))
			cur = cur[:0]
		}
		cls = c
		cur = append(cur, r)
	}
	if len(cur) > 0 {
		out = append(out, string(cur))
	}
	return out
}

func scriptClass(r rune) int {
	switch {
	case unicode.Is(unicode.Han, r):
		return 1
	case unicode.Is(unicode.Hebrew, r):
		return 2
	default:
		return 0
	}
}

// numbers returns the digit runs of a token with at least two digits, the
// decimal comma written as a point ("2,4" and "2.4" agree).
func numbers(tok string) []string {
	var out []string
	var cur strings.Builder
	flush := func() {
		s := strings.Trim(cur.String(), ".")
		if len(strings.ReplaceAll(s, ".", "")) >= 2 {
			out = append(out, s)
		}
		cur.Reset()
	}
	for _, r := range tok {
		switch {
		case unicode.IsDigit(r):
			cur.WriteRune(r)
		case (r == '.' || r == ',') && cur.Len() > 0:
			cur.WriteByte('.')
		default:
			if cur.Len() > 0 {
				flush()
			}
		}
	}
	if cur.Len() > 0 {
		flush()
	}
	return out
}

func hasDigit(s string) bool { return strings.IndexFunc(s, unicode.IsDigit) >= 0 }

func hasLetter(s string) bool { return strings.IndexFunc(s, unicode.IsLetter) >= 0 }

func isLatinWord(s string) bool {
	for _, r := range s {
		if !unicode.Is(unicode.Latin, r) && !unicode.IsDigit(r) && !unicode.Is(unicode.Mn, r) {
			return false
		}
	}
	return s != ""
}

func isHebrewWord(s string) bool {
	for _, r := range s {
		if !unicode.Is(unicode.Hebrew, r) && !strings.ContainsRune("'\"״׳", r) {
			return false
		}
	}
	return s != ""
}

// comparable reports whether features of kind k can match between leads
// in languages a and b.
func comparable(k byte, sameLanguage bool) bool {
	return sameLanguage || k == kindConcept || k == kindNumber || k == kindWord
}
