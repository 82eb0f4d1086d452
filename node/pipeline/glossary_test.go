package pipeline

import (
	"strings"
	"testing"
)

// TestBuiltinGlossary: every sector and deal type has a built-in term,
// named in the four languages of the network.
func TestBuiltinGlossary(t *testing.T) {
	var terms []string
	for s := SectorUnspecified + 1; s <= OtherSector; s++ {
		terms = append(terms, SectorTerm(s))
	}
	for d := DealTypeUnspecified + 1; d <= Relocation; d++ {
		terms = append(terms, DealTypeTerm(d))
	}
	st := New()
	g, err := st.Glossary()
	if err != nil {
		t.Fatal(err)
	}
	if len(g) != len(terms) {
		t.Errorf("a new state's glossary has %d terms, want %d", len(g), len(terms))
	}
	for _, term := range terms {
		gt, err := st.GlossaryTerm(term)
		if err != nil {
			t.Fatalf("GlossaryTerm(%s): %v", term, err)
		}
		if !gt.BuiltIn || gt.UpdatedBy != "" {
			t.Errorf("%s: %+v, want a built-in term", term, gt)
		}
		for _, lang := range []string{"zh", "en", "de", "he"} {
			if gt.Name(lang) == "" {
				t.Errorf("%s has no name in %s", term, lang)
			}
		}
		if err := (&GlossaryInput{Term: term, Names: gt.Names}).validate(true); err != nil {
			t.Errorf("built-in term %s does not validate: %v", term, err)
		}
	}
	if got := SectorTerm(ITAI); got != "sector.it_ai" {
		t.Errorf("SectorTerm(IT_AI) = %q", got)
	}
	if got, _ := st.GlossaryTerm(SectorTerm(ITAI)); got.Name("zh-Hans") != "信息技术与人工智能" {
		t.Errorf("IT_AI in zh-Hans = %q", got.Name("zh-Hans"))
	}
}

// TestGlossaryEdits: HQ overrides a built-in term, adds its own and
// deletes both; nobody else may.
func TestGlossaryEdits(t *testing.T) {
	f := newFixture(t)
	f.raise()
	set := func(actor, term string, names map[string]string) any {
		return f.apply(actor, Command{Op: OpSetGlossaryTerm, Glossary: &GlossaryInput{Term: term, Names: names}})
	}
	del := func(actor, term string) any {
		return f.apply(actor, Command{Op: OpDeleteGlossaryTerm, Glossary: &GlossaryInput{Term: term}})
	}
	for _, actor := range []string{"admin", "bos", "yrd"} {
		assertUnchanged(t, f.st, func() {
			wantError(t, set(actor, "hydrogen", map[string]string{"en": "hydrogen"}), ErrPermission, "HQ_REVIEWER")
			wantError(t, del(actor, "sector.it_ai"), ErrPermission, "HQ_REVIEWER")
		})
	}
	it := SectorTerm(ITAI)
	res := wantResult(t, set("hq", it, map[string]string{"zh": "新一代信息技术", "en": "IT and AI"}))
	if res.Term.Names["zh"] != "新一代信息技术" || !res.Term.BuiltIn || res.Term.UpdatedByName != "Hui Reviewer" {
		t.Errorf("set %s = %+v", it, res.Term)
	}
	if got, _ := f.st.GlossaryTerm(it); got.Name("de") != "" || got.Name("en") != "IT and AI" {
		t.Errorf("HQ's names replace the built-in ones: %+v", got)
	}
	wantResult(t, set("hq", "hydrogen", map[string]string{"zh": "氢能", "he": "מימן"}))
	g, _ := f.st.Glossary()
	if len(g) != 14 || g[0].Term != "deal_type.investment" || g[len(g)-1].Term != "sector.other" {
		t.Errorf("glossary has %d terms, %s to %s", len(g), g[0].Term, g[len(g)-1].Term)
	}
	// Deleting HQ's entry restores a built-in term, and removes another.
	if res := wantResult(t, del("hq", it)); res.Term.Name("de") != "Informationstechnik und KI" {
		t.Errorf("delete %s = %+v", it, res.Term)
	}
	wantResult(t, del("hq", "hydrogen"))
	assertUnchanged(t, f.st, func() {
		wantError(t, del("hq", it), ErrNotFound, "built-in")
		wantError(t, del("hq", "hydrogen"), ErrNotFound, "not found")
	})
	if _, err := f.st.GlossaryTerm("hydrogen"); err == nil {
		t.Errorf("a deleted term is still there")
	}

	g2 := newFixture(t)
	assertUnchanged(t, g2.st, func() {
		wantError(t, g2.apply("hq", Command{Op: OpSetGlossaryTerm, Glossary: &GlossaryInput{Term: "x", Names: map[string]string{"en": "x"}}}),
			ErrPrecondition, "log format 2")
	})
}

func TestGlossaryValidation(t *testing.T) {
	for _, tt := range []struct {
		name  string
		in    GlossaryInput
		field string
	}{
		{"no term", GlossaryInput{Names: map[string]string{"en": "x"}}, "term"},
		{"upper case", GlossaryInput{Term: "Hydrogen", Names: map[string]string{"en": "x"}}, "term"},
		{"slash", GlossaryInput{Term: "sector/it_ai", Names: map[string]string{"en": "x"}}, "term"},
		{"too long", GlossaryInput{Term: strings.Repeat("a", MaxGlossaryTerm+1), Names: map[string]string{"en": "x"}}, "term"},
		{"no names", GlossaryInput{Term: "x"}, "names"},
		{"bad language", GlossaryInput{Term: "x", Names: map[string]string{"chinese": "x"}}, "names"},
		{"language not canonical", GlossaryInput{Term: "x", Names: map[string]string{"zh-hant": "x"}}, "names"},
		{"empty name", GlossaryInput{Term: "x", Names: map[string]string{"en": " "}}, "names.en"},
		{"name on two lines", GlossaryInput{Term: "x", Names: map[string]string{"en": "a\nb"}}, "names.en"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in
			wantInvalid(t, Command{Op: OpSetGlossaryTerm, RequestID: "r", Glossary: &in}.Validate(), tt.field)
		})
	}
	wantInvalid(t, Command{Op: OpDeleteGlossaryTerm, RequestID: "r", Glossary: &GlossaryInput{Term: "x", Names: map[string]string{"en": "x"}}}.Validate(), "names")
	wantInvalid(t, Command{Op: OpDeleteGlossaryTerm, RequestID: "r"}.Validate(), "term")
	if err := (Command{Op: OpDeleteGlossaryTerm, RequestID: "r", Glossary: &GlossaryInput{Term: "sector.it_ai"}}).Validate(); err != nil {
		t.Errorf("valid delete: %v", err)
	}
}
