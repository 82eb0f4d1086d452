package pipeline

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// translate has actor record a translation of lead id.
func (f *fixture) translate(actor, id, lang, title, summary string, status TranslationStatus) any {
	f.tb.Helper()
	return f.apply(actor, Command{Op: OpTranslate, LeadID: id,
		Translation: &TranslationInput{Lang: lang, Title: title, Summary: summary, Status: status}})
}

// TestTranslateEveryStage: every user tries a draft translation of a
// lead in every stage. HQ and the lead's own site may in any stage,
// divisions once HQ has published the lead, admins and other sites
// never; the stage stays, the version and the history move by one.
func TestTranslateEveryStage(t *testing.T) {
	for _, from := range allStages {
		for _, actor := range actorNames {
			published := from == Approved || from >= Claimed && from <= Landed
			ok := actor == "hq" || actor == "bos" || divisionOf[actor] != "" && published
			t.Run(fmt.Sprintf("from=%s/by=%s", from, actor), func(t *testing.T) {
				f := newFixture(t)
				f.raise()
				id := f.leadIn(from)
				before, events := f.lead(id), f.history(id)
				if !ok {
					assertUnchanged(t, f.st, func() {
						wantError(t, f.translate(actor, id, "zh", "固态电池隔膜", "", TranslationDraft), ErrPermission, "translate")
					})
					return
				}
				res := wantResult(t, f.translate(actor, id, "zh", "固态电池隔膜", "", TranslationDraft))
				want := before.clone()
				want.Version, want.Updated = before.Version+1, clock(f.index)
				want.Translations = map[string]Translation{"zh": {Title: "固态电池隔膜", Status: TranslationDraft, Source: SourceOf(before),
					TranslatedBy: f.user(actor), TranslatedByName: res.Lead.Translations["zh"].TranslatedByName, Translated: clock(f.index)}}
				if !reflect.DeepEqual(res.Lead, want) {
					t.Errorf("result lead = %+v\nwant %+v", res.Lead, want)
				}
				if got := f.lead(id); !reflect.DeepEqual(got, want) {
					t.Errorf("stored lead = %+v\nwant %+v", got, want)
				}
				h := f.history(id)
				if len(h) != len(events)+1 {
					t.Fatalf("history has %d events, want %d", len(h), len(events)+1)
				}
				if e := h[len(h)-1]; e.Action != "TRANSLATE" || e.From != from || e.To != from || e.UserID != f.user(actor) {
					t.Errorf("last event = %+v", e)
				}
			})
		}
	}
}

// TestTranslationVerification: VERIFIED only by HQ, or by a second person
// for a text someone else wrote.
func TestTranslationVerification(t *testing.T) {
	f := newFixture(t)
	f.raise()
	id := f.leadIn(Approved)
	const title, summary = "固态电池隔膜", "一种陶瓷隔膜。"

	// Node staff may not write and verify at once, nor verify their own.
	wantError(t, f.translate("bos", id, "zh", title, summary, TranslationVerified), ErrPermission, "DRAFT")
	v1 := wantResult(t, f.translate("bos", id, "zh", title, summary, TranslationDraft)).Lead.Version
	wantError(t, f.translate("bos", id, "zh", title, summary, TranslationVerified), ErrPermission, "verified by HQ or by someone else")

	// A division that sees the lead verifies the text as it stands.
	res := wantResult(t, f.translate("yrd", id, "zh", title, summary, TranslationVerified))
	tr := res.Lead.Translations["zh"]
	if tr.Status != TranslationVerified || tr.TranslatedBy != f.user("bos") || tr.VerifiedBy != f.user("yrd") ||
		tr.VerifiedByName != "Yang Delta" || !tr.Verified.Equal(clock(f.index)) || res.Lead.Version != v1+1 {
		t.Errorf("after YRD verified: %+v (version %d)", tr, res.Lead.Version)
	}

	// Changing the text makes the writer its translator, and a draft again.
	res = wantResult(t, f.translate("yrd", id, "zh", title+"（修订）", summary, TranslationDraft))
	tr = res.Lead.Translations["zh"]
	if tr.Status != TranslationDraft || tr.TranslatedBy != f.user("yrd") || tr.VerifiedBy != "" || !tr.Verified.IsZero() {
		t.Errorf("after YRD's edit: %+v", tr)
	}

	// HQ writes and verifies at once.
	res = wantResult(t, f.translate("hq", id, "de", "Festkörperbatterie-Separator", "", TranslationVerified))
	if tr := res.Lead.Translations["de"]; tr.TranslatedBy != f.user("hq") || tr.VerifiedBy != f.user("hq") || tr.Fields()[0] != "title" {
		t.Errorf("HQ's German translation: %+v", tr)
	}
	h := f.history(id)
	var actions []string
	for _, e := range h[len(h)-4:] {
		actions = append(actions, e.Action)
		if e.From != Approved || e.To != Approved {
			t.Errorf("event %s moved the stage: %s to %s", e.Action, e.From, e.To)
		}
	}
	if want := []string{"TRANSLATE", "VERIFY_TRANSLATION", "TRANSLATE", "TRANSLATE"}; !reflect.DeepEqual(actions, want) {
		t.Errorf("history actions = %v, want %v", actions, want)
	}
	if c := h[len(h)-1].Comment; c != "de translation (title), VERIFIED, Hui Reviewer" {
		t.Errorf("last event's comment = %q", c)
	}
}

// TestTranslateUnchanged: a request that would change nothing answers the
// lead as it is: no new version, no event.
func TestTranslateUnchanged(t *testing.T) {
	f := newFixture(t)
	f.raise()
	id := f.leadIn(Submitted)
	first := wantResult(t, f.translate("bos", id, "he", "מפריד לסוללה", "", TranslationDraft)).Lead
	events := len(f.history(id))
	again := wantResult(t, f.translate("bos", id, "HE", "מפריד לסוללה", "", TranslationDraft)).Lead
	if again.Version != first.Version || len(f.history(id)) != events || !reflect.DeepEqual(again, first) {
		t.Errorf("the same translation again: version %d → %d, %d → %d events", first.Version, again.Version, events, len(f.history(id)))
	}
}

// TestTranslationOutdated: editing the original marks its translations
// outdated until one is written or confirmed again.
func TestTranslationOutdated(t *testing.T) {
	f := newFixture(t)
	f.raise()
	id := f.leadIn(Submitted)
	f.ok("bos", Command{Op: OpTranslate, LeadID: id, Translation: &TranslationInput{Lang: "zh", Title: "隔膜", Status: TranslationDraft}})
	if l := f.lead(id); l.Translations["zh"].Outdated(l) {
		t.Fatalf("a fresh translation is outdated")
	}
	f.ok("bos", Command{Op: OpUpdate, LeadID: id, Patch: &Patch{Summary: new("A new summary.")}})
	if l := f.lead(id); !l.Translations["zh"].Outdated(l) {
		t.Fatalf("the original changed, the translation is not outdated")
	}
	res := wantResult(t, f.translate("hq", id, "zh", "隔膜", "", TranslationVerified))
	if l := res.Lead; l.Translations["zh"].Outdated(l) || l.Translations["zh"].TranslatedBy != f.user("bos") {
		t.Errorf("HQ confirmed the translation: %+v", l.Translations["zh"])
	}
}

// TestTranslateRules: what the lead itself allows.
func TestTranslateRules(t *testing.T) {
	f := newFixture(t)
	f.raise()
	id := f.leadIn(Submitted) // written in English
	assertUnchanged(t, f.st, func() {
		wantError(t, f.translate("bos", id, "EN", "Separator", "", TranslationDraft), ErrPrecondition, "written in en")
		wantError(t, f.translate("bos", "BOS-0999", "zh", "隔膜", "", TranslationDraft), ErrNotFound)
		wantError(t, f.apply("bos", Command{Op: OpTranslate, LeadID: id, ExpectedVersion: 7,
			Translation: &TranslationInput{Lang: "zh", Title: "隔膜", Status: TranslationDraft}}), ErrConflict, "version")
	})
	g := newFixture(t)
	g.leadIn(Submitted)
	assertUnchanged(t, g.st, func() {
		wantError(t, g.translate("bos", id, "zh", "隔膜", "", TranslationDraft), ErrPrecondition, "log format 2")
	})
}

// TestTranslateReplay: a retry answers the first outcome; the lead's
// stage comment is rebuilt past translation events.
func TestTranslateReplay(t *testing.T) {
	f := newFixture(t)
	f.raise()
	id := f.leadIn(Returned) // stage comment "reviewed"
	c := Command{Op: OpTranslate, LeadID: id, RequestID: "tr-1",
		Translation: &TranslationInput{Lang: "de", Title: "Separator", Status: TranslationDraft}}
	first := f.ok("hq", c).Lead
	f.ok("bos", Command{Op: OpTranslate, LeadID: id, Translation: &TranslationInput{Lang: "zh", Title: "隔膜", Status: TranslationDraft}})
	again := f.ok("hq", c)
	if !again.Replayed || again.Lead.Version != first.Version || again.Lead.StageComment != "reviewed" || again.Lead.Stage != Returned {
		t.Errorf("retry = %+v, want version %d in RETURNED with comment %q", again.Lead, first.Version, "reviewed")
	}
	c.Translation.Title = "Another"
	wantError(t, f.apply("hq", c), ErrInvalid, "already used")
}

func TestTranslationValidation(t *testing.T) {
	ok := func() *TranslationInput {
		return &TranslationInput{Lang: "zh-hant", Title: "隔膜", Summary: "陶瓷", Status: TranslationDraft}
	}
	for _, tt := range []struct {
		name  string
		in    func(*TranslationInput)
		field string
	}{
		{"no language", func(in *TranslationInput) { in.Lang = "" }, "lang"},
		{"not a language", func(in *TranslationInput) { in.Lang = "chinese!" }, "lang"},
		{"no text", func(in *TranslationInput) { in.Title, in.Summary = " ", "" }, "title"},
		{"title on two lines", func(in *TranslationInput) { in.Title = "a\nb" }, "title"},
		{"summary too long", func(in *TranslationInput) { in.Summary = strings.Repeat("字", MaxSummary+1) }, "summary"},
		{"no status", func(in *TranslationInput) { in.Status = TranslationStatusUnspecified }, "status"},
		{"unknown status", func(in *TranslationInput) { in.Status = 7 }, "status"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			in := ok()
			tt.in(in)
			wantInvalid(t, Command{Op: OpTranslate, RequestID: "r", LeadID: "BOS-0001", Translation: in}.Validate(), tt.field)
		})
	}
	if err := (Command{Op: OpTranslate, RequestID: "r", LeadID: "BOS-0001", Translation: ok()}).Validate(); err != nil {
		t.Errorf("valid translation: %v", err)
	}
	wantInvalid(t, Command{Op: OpTranslate, RequestID: "r", LeadID: "BOS-0001"}.Validate(), "translation")
	wantInvalid(t, Command{Op: OpTranslate, RequestID: "r", LeadID: "BOS-0001", Translation: ok(), Comment: "hi"}.Validate(), "comment")
	wantInvalid(t, Command{Op: OpTranslate, RequestID: "r", LeadID: "bos-1", Translation: ok()}.Validate(), "id")
	if got := (Command{Op: OpTranslate, Translation: ok()}).Format(); got != Format2 {
		t.Errorf("translate is of format %d, want %d", got, Format2)
	}
}

func TestCanonicalLanguage(t *testing.T) {
	for in, want := range map[string]string{
		"zh": "zh", "ZH": "zh", "zh-hant": "zh-Hant", "zh-hant-tw": "zh-Hant-TW", "DE-de": "de-DE",
		"he": "he", "en-x-private-AB": "en-x-private-ab", "sr-latn-rs": "sr-Latn-RS", "es-419": "es-419",
	} {
		if got := CanonicalLanguage(in); got != want {
			t.Errorf("CanonicalLanguage(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTranslationFor(t *testing.T) {
	l := &Lead{Translations: map[string]Translation{"zh-Hant": {Title: "繁"}, "zh-Hans": {Title: "简"}, "de": {Title: "Deutsch"}}}
	for _, tt := range []struct{ ask, tag, title string }{
		{"zh-hant", "zh-Hant", "繁"}, {"zh-Hans", "zh-Hans", "简"}, {"zh", "zh-Hans", "简"}, {"zh-TW", "zh-Hans", "简"},
		{"de-AT", "de", "Deutsch"}, {"he", "", ""},
	} {
		tag, tr, ok := l.TranslationFor(tt.ask)
		if tag != tt.tag || tr.Title != tt.title || ok != (tt.tag != "") {
			t.Errorf("TranslationFor(%q) = %q %q %v, want %q %q", tt.ask, tag, tr.Title, ok, tt.tag, tt.title)
		}
	}
}

// TestTranslationsSnapshot: translations and the glossary outlive a
// snapshot, byte for byte.
func TestTranslationsSnapshot(t *testing.T) {
	f := newFixture(t)
	f.raise()
	id := f.leadIn(Approved)
	f.translate("bos", id, "zh", "隔膜", "陶瓷隔膜", TranslationDraft)
	f.translate("yrd", id, "zh", "隔膜", "陶瓷隔膜", TranslationVerified)
	f.ok("hq", Command{Op: OpSetGlossaryTerm, Glossary: &GlossaryInput{Term: "hydrogen", Names: map[string]string{"zh": "氢能", "en": "hydrogen"}}})
	snap := snapshotBytes(t, f.st)
	st := restored(t, snap)
	if got, want := readView(t, st), readView(t, f.st); !reflect.DeepEqual(got, want) {
		t.Errorf("restored state reads\n%+v\nwant\n%+v", got, want)
	}
	if got := snapshotBytes(t, st); !bytes.Equal(got, snap) {
		t.Errorf("a restored state snapshots differently")
	}
	g1, _ := f.st.Glossary()
	g2, _ := st.Glossary()
	if !reflect.DeepEqual(g1, g2) {
		t.Errorf("restored glossary differs")
	}
}
