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
	tf := map[string]float64{}
	title, o1 := otherProduct(lexicon.Fold(l.Title))
	addText(tf, title, weightTitle)
	addText(tf, strings.Join(l.Tags, " ; "), weightTags)
	h := map[string]float64{}
	for k, v := range tf {
		h[k] = v
	}
	summary, o2 := otherProduct(lexicon.Fold(l.Summary))
	addText(tf, summary, weightSummary)
	return sorted(tf), sorted(h), o1 || o2
}

func sorted(tf map[string]float64) []feature {
	out := make([]feature, 0, len(tf))
	for k, v := range tf {
		out = append(out, feature{key: k, tf: min(v, maxTF)})
	}
	slices.SortFunc(out, func(a, b feature) int { return strings.Compare(a.key, b.key) })
	return out
}

func addText(tf map[string]float64, s string, w float64) {
	if s == "" {
		return
	}
	// Within one field a feature counts once: repetition in a summary is
	// style, not evidence.
	seen := make(map[string]bool, len(s)/4)
	add := func(k string) {
		if !seen[k] {
			seen[k] = true
			tf[k] += w
		}
	}
	for _, m := range lexicon.Default().Find(s) {
		add(string(kindConcept) + ":" + string(m.Concept))
	}
	f := lexicon.Fold(s)
	for _, tok := range tokensWithJoins(f) {
		switch {
		case hasDigit(tok):
			for _, n := range numbers(tok) {
				add(string(kindNumber) + ":" + n)
			}
			if hasLetter(tok) && isLatinWord(tok) && len(tok) >= 3 {
				add(string(kindWord) + ":" + tok) // 800v, h2, cas12
			}
		case isHan(tok):
			r := []rune(tok)
			for i := 0; i+1 < len(r); i++ {
				add(string(kindHan) + ":" + string(r[i:i+2]))
			}
		case isHebrewWord(tok):
			if len([]rune(tok)) >= 2 {
				add(string(kindHebrew) + ":" + tok)
			}
		case isLatinWord(tok):
			st := lexicon.Stem(tok)
			if len(st) >= 3 && !stopWords[tok] && !stopWords[st] {
				add(string(kindWord) + ":" + st)
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
