package pipeline

import (
	"reflect"
	"testing"
)

func TestFold(t *testing.T) {
	for in, want := range map[string]string{
		"Hydrogen":    "hydrogen",
		"ＡＩ Ｈ２":       "ai h2", // full width
		"Straße":      "strasse",
		"ﬁne":         "fine", // ligature
		"ΣΊΣΥΦΟΣ":     "σίσυφοσ",
		"氢能源":         "氢能源",
		"ｶﾀｶﾅ":        "カタカナ", // half-width katakana
		"İstanbul":    "i̇stanbul",
		"MÜNCHEN":     "münchen",
		"Mu\u0308nch": "münch", // combining diaeresis composes
	} {
		if got := Fold(in); got != want {
			t.Errorf("Fold(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseSearch(t *testing.T) {
	for q, want := range map[string][]searchTerm{
		"hydrogen":            {{word: "hydrogen"}},
		"  Solid-State, AI! ": {{word: "solid"}, {word: "state"}, {word: "ai"}},
		"氢能 电池":               {{word: "氢能", anywhere: true}, {word: "电池", anywhere: true}},
		"AI芯片":                {{word: "ai芯片", anywhere: true}},
		"מימן":                {{word: "מימן", anywhere: true}},
		"?!":                  nil,
	} {
		if got := ParseSearch(q); !reflect.DeepEqual(got, want) {
			t.Errorf("ParseSearch(%q) = %+v, want %+v", q, got, want)
		}
	}
}

// TestSearchMatches: what a query finds in a lead's text, in several
// scripts.
func TestSearchMatches(t *testing.T) {
	text := Fold("Wasserstoffspeicher für Busse — Hydrogenase-Enzym\n" +
		"用于AI的氢能源汽车电池\nמערכת והמימן\nCarbohydrate analysis\nSTRASSE der ＡＩ-Zukunft")
	for _, tt := range []struct {
		q    string
		want bool
	}{
		{"hydrogen", true}, // the start of Hydrogenase
		{"HYDROGENASE enzym", true},
		{"carbo", true},
		{"hydrate", false},    // inside a word
		{"speicher", false},   // inside a German compound
		{"wasserstoff", true}, // its beginning
		{"氢能", true},          // Han: anywhere
		{"能源汽车", true},
		{"汽油", false},
		{"ai", true},     // after Han characters, and ＡＩ
		{"מימן", true},   // Hebrew: with its prefix
		{"straße", true}, // folding both ways
		{"für busse", true},
		{"fur", false},         // no diacritic folding
		{"hydrogen 汽油", false}, // every word must match
		{"", true},
	} {
		if got := matchTerms(text, ParseSearch(tt.q)); got != tt.want {
			t.Errorf("%q in the text: %v, want %v", tt.q, got, tt.want)
		}
	}
}

// TestSearchDocFollowsVersions: the cached text of a lead is remade when
// the state holds a new version of it (an edit, a translation).
func TestSearchDocFollowsVersions(t *testing.T) {
	f := newFixture(t)
	f.raise()
	id := f.leadIn(Submitted)
	find := func(q string) int {
		t.Helper()
		got, _, err := f.st.Leads(Filter{Query: q})
		if err != nil {
			t.Fatal(err)
		}
		return len(got)
	}
	if find("separator") != 1 || find("membrane") != 0 {
		t.Fatalf("before the edit")
	}
	f.ok("bos", Command{Op: OpUpdate, LeadID: id, Patch: &Patch{Title: new("Ceramic membrane")}})
	if find("separator") != 1 || find("membrane") != 1 {
		t.Errorf("after the edit: separator %d, membrane %d", find("separator"), find("membrane"))
	}
	if find("隔膜") != 0 {
		t.Fatalf("before the translation")
	}
	f.translate("bos", id, "zh", "陶瓷隔膜", "", TranslationDraft)
	if find("隔膜") != 1 {
		t.Errorf("a translation is not searched")
	}
	got, _, _ := f.st.Leads(Filter{Organization: "lincoln"})
	if len(got) != 1 {
		t.Errorf("organization lincoln: %d leads", len(got))
	}
}
