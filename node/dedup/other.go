package dedup

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// A lead about a firm's second product tends to say so: "Besides its
// tactile gripper, Nivra licenses …", "Als zweites Produkt …", "除了…",
// "בנוסף לרחפן …". Such a lead is evidence against a duplicate of the
// firm's other leads, and the product it sets itself apart from must not
// count as shared technology.

// besideCues introduce a phrase naming another product of the firm
// ("besides its tactile gripper,"); the phrase is left out of the text
// features.
var besideCues = []string{
	"besides ", "in addition to its ", "in addition to their ", "apart from its ", "apart from their ",
	"aside from its ", "alongside its ", "alongside their ",
	"neben dem ", "neben der ", "neben den ", "neben ihrem ", "neben ihrer ", "neben seinem ", "neben seiner ",
	"zusätzlich zu ", "zusätzlich zum ", "zusätzlich zur ", "außer dem ", "außer der ",
	"除了",
	"בנוסף ל", "מלבד ", "פרט ל",
}

// ordinalCues say that the lead is about a further product without
// naming the first.
var ordinalCues = []string{
	"second product", "second programme", "second program", "second business", "another product",
	"separate product", "a further product",
	"zweites produkt", "zweiten produkt", "zweites standbein", "weiteres produkt", "weiteren produkt",
	"zweites programm", "zweiten programm",
	"第二款", "第二个产品", "第二项", "另一款", "另一项产品", "另一条产品线",
	"מוצר שני", "מוצר נוסף", "תוכנית שנייה",
}

// besidePhraseWords bounds the phrase a beside cue introduces when no
// punctuation ends it sooner ("Neben dem Wasserstoffgeschäft entwickelt …").
const besidePhraseWords = 3

// otherProduct reports whether folded text s says it is about another
// product of the organisation, and returns s without the phrases that
// name the product it sets itself apart from.
func otherProduct(s string) (string, bool) {
	if !holdsCue(s) {
		return s, false // most texts: no cue to look for one by one
	}
	cue := false
	for _, c := range ordinalCues {
		if strings.Contains(s, c) {
			cue = true
			break
		}
	}
	for _, c := range besideCues {
		for from := 0; ; {
			j := strings.Index(s[from:], c)
			if j < 0 {
				break
			}
			i := from + j
			if continuesWord(s, i, c) {
				from = i + len(c)
				continue
			}
			cue = true
			end := i + len(c) + phraseEnd(s[i+len(c):])
			s = s[:i] + " " + s[end:]
			from = i + 1
		}
	}
	return s, cue
}

// cuesByGram files every cue under its first two bytes, and cueGrams
// marks those pairs of bytes, so that one pass over a text finds whether
// it holds any cue at all.
var cuesByGram, cueGrams = func() (map[uint16][]string, *[1 << 10]uint64) {
	by := map[uint16][]string{}
	var marks [1 << 10]uint64
	for _, c := range append(slices.Clone(besideCues), ordinalCues...) {
		g := uint16(c[0])<<8 | uint16(c[1]) // every cue has two bytes or more
		by[g] = append(by[g], c)
		marks[g>>6] |= 1 << (g & 63)
	}
	return by, &marks
}()

// holdsCue reports whether any beside or ordinal cue occurs in s.
func holdsCue(s string) bool {
	for i := 0; i+1 < len(s); i++ {
		g := uint16(s[i])<<8 | uint16(s[i+1])
		if cueGrams[g>>6]&(1<<(g&63)) == 0 {
			continue
		}
		for _, c := range cuesByGram[g] {
			if strings.HasPrefix(s[i:], c) {
				return true
			}
		}
	}
	return false
}

// continuesWord reports whether the cue at s[i:] ends a longer word, as
// "besides" in "nobesides" would; Han text has no word breaks to check.
func continuesWord(s string, i int, c string) bool {
	r, _ := utf8.DecodeLastRuneInString(s[:i])
	first, _ := utf8.DecodeRuneInString(c)
	return unicode.IsLetter(r) && unicode.IsLetter(first) && !unicode.Is(unicode.Han, first)
}

// phraseEnd returns the length of the phrase at the start of s: up to
// punctuation, or besidePhraseWords words.
func phraseEnd(s string) int {
	words, inWord := 0, false
	for i, r := range s {
		switch {
		case unicode.IsPunct(r) && r != '-' && r != '\'' && r != '"' && r != '״' && r != '׳':
			return i
		case unicode.IsSpace(r):
			if inWord {
				words++
				if words == besidePhraseWords {
					return i
				}
			}
			inWord = false
		default:
			inWord = true
		}
	}
	return len(s)
}
