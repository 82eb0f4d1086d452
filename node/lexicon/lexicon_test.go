package lexicon

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func concepts(ms []Match) []Concept {
	seen := map[Concept]bool{}
	var out []Concept
	for _, m := range ms {
		if !seen[m.Concept] {
			seen[m.Concept] = true
			out = append(out, m.Concept)
		}
	}
	return out
}

func TestFind(t *testing.T) {
	tests := []struct {
		name, text string
		want       []Concept
	}{
		{"en phrase", "PEM fuel cells for trucks", []Concept{"fuel-cell", "vehicle"}},
		{"de compound", "Feststoff-Wasserstoffspeicher", []Concept{"solid", "hydrogen", "storage"}},
		{"de longest wins", "Wasserstoff", []Concept{"hydrogen"}},
		{"zh", "镁基固态储氢", []Concept{"magnesium", "solid", "storage", "hydrogen"}},
		{"zh longest wins", "燃料电池", []Concept{"fuel-cell"}},
		{"he prefix", "רחפן משא כבד מונע בתאי דלק מימן", []Concept{"drone", "fuel-cell", "hydrogen"}},
		{"compound concept", "solid-state batteries", []Concept{"solid-state-battery", "solid", "battery"}},
		{"full width", "ＳｉＣ inverter", []Concept{"silicon-carbide", "inverter"}},
		{"empty", "", nil},
		{"unknown", "lorem ipsum", nil},
	}
	lx := Default()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := concepts(lx.Find(tt.text))
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Find(%q) = %v, want %v", tt.text, got, tt.want)
			}
		})
	}
}

// Every concept should be reachable in each of the four languages, so that
// no language is compared on a smaller vocabulary than another.
func TestTableComplete(t *testing.T) {
	for _, r := range Table() {
		if r.EN == "" || r.DE == "" || r.ZH == "" || r.HE == "" {
			t.Errorf("row %s lacks a language", r.ID)
		}
	}
}

// TestSubstCandidatesKeepEveryTerm checks that Find's shortcut for the
// Chinese and Hebrew terms (only those whose first rune occurs in the
// text are tried) never leaves out a term that occurs, and keeps the
// table's order (longest first), on which overlapping matches depend.
func TestSubstCandidatesKeepEveryTerm(t *testing.T) {
	lx := Default()
	rnd := rand.New(rand.NewPCG(1, 2))
	var texts []string
	for _, tm := range lx.subst {
		texts = append(texts, tm.text, "x "+tm.text+" y")
	}
	for range 500 {
		var b strings.Builder
		for range 1 + rnd.IntN(6) {
			b.WriteString(lx.subst[rnd.IntN(len(lx.subst))].text)
			if rnd.IntN(2) == 0 {
				b.WriteString(" battery ")
			}
		}
		texts = append(texts, b.String())
	}
	texts = append(texts, "", "plain ascii text", "Wasserstoffspeicher")
	for _, text := range texts {
		f := Fold(text)
		cands := lx.substCandidates(f)
		if !slices.IsSorted(cands) {
			t.Fatalf("%q: candidates out of table order: %v", text, cands)
		}
		for i, tm := range lx.subst {
			if strings.Contains(f, tm.text) {
				if _, found := slices.BinarySearch(cands, i); !found {
					t.Fatalf("%q: term %q occurs but is not a candidate", text, tm.text)
				}
			}
		}
	}
}

// TestGermanCandidatesFindAsAllTerms checks that looking for the German
// terms only among deCandidates finds in a word exactly what trying every
// term in table order finds: compounds of terms, terms inside other
// letters, short terms as whole words, and words that hold none.
func TestGermanCandidatesFindAsAllTerms(t *testing.T) {
	lx := Default()
	rnd := rand.New(rand.NewPCG(3, 4))
	all := make([]int, len(lx.de))
	for i := range all {
		all[i] = i
	}
	var words []string
	for _, tm := range lx.de {
		words = append(words, tm.text, "x"+tm.text+"ung", tm.text[:len(tm.text)-1])
	}
	const letters = "abcdefghiklmnoprstuvzäöüß"
	for range 2000 {
		var b strings.Builder
		for range 1 + rnd.IntN(3) {
			if rnd.IntN(3) > 0 {
				b.WriteString(lx.de[rnd.IntN(len(lx.de))].text)
			} else {
				r := []rune(letters)
				for range 2 + rnd.IntN(6) {
					b.WriteRune(r[rnd.IntN(len(r))])
				}
			}
		}
		words = append(words, b.String())
	}
	words = append(words, "", "a", "ab", "abc", "battery")
	found := 0
	for _, w := range words {
		got, want := lx.germanScan(w, lx.deCandidates(w)), lx.germanScan(w, all)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: the candidates find %+v, every term %+v", w, got, want)
		}
		found += len(want)
	}
	if found < len(lx.de) {
		t.Fatalf("the words held %d German terms, want at least one of each of %d", found, len(lx.de))
	}
}

// BenchmarkFindNewWords finds the concepts of lead-sized texts whose
// words are new each time (names, coined terms), which every German term
// that may occur in them is tried on.
func BenchmarkFindNewWords(b *testing.B) {
	lx := Default()
	rnd := rand.New(rand.NewPCG(5, 6))
	const letters = "abcdefghiklmnoprstuvz"
	word := func() string {
		w := make([]byte, 5+rnd.IntN(5))
		for k := range w {
			w[k] = letters[rnd.IntN(len(letters))]
		}
		return string(w)
	}
	for b.Loop() {
		b.StopTimer()
		var ws []string
		for range 30 {
			ws = append(ws, word())
		}
		text := "Solid-state hydrogen storage " + strings.Join(ws, " ")
		b.StartTimer()
		lx.Find(text)
	}
}

// BenchmarkFind finds the concepts of a lead-sized English text and of a
// Chinese one.
func BenchmarkFind(b *testing.B) {
	lx := Default()
	for _, text := range []string{
		"Solid-state hydrogen storage in magnesium hydride for fuel cell trucks, with a PEM stack and lidar-guided drones",
		"镁基固态储氢材料，用于燃料电池重卡和无人机，配套激光雷达",
	} {
		b.Run(fmt.Sprint(utf8.RuneCountInString(text)), func(b *testing.B) {
			for b.Loop() {
				lx.Find(text)
			}
		})
	}
}

// TestFoldASCII checks Fold's shortcut for ASCII text against NFKC and
// full case folding, for every ASCII character.
func TestFoldASCII(t *testing.T) {
	var all strings.Builder
	for c := range utf8.RuneSelf {
		s := string(rune(c))
		all.WriteString(s)
		if got, want := Fold(s), foldUnicode(s); got != want {
			t.Errorf("Fold(%q) = %q, want %q", s, got, want)
		}
	}
	if got, want := Fold(all.String()), foldUnicode(all.String()); got != want {
		t.Errorf("Fold of every ASCII character = %q, want %q", got, want)
	}
}
