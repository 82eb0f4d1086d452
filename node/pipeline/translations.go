package pipeline

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Translations. A lead's free text (title, summary) stays as its site
// wrote it; anyone who works on the lead may add a translation into
// another language (OpTranslate), one per language, each a DRAFT or
// VERIFIED. Who may do what:
//
//	translate (DRAFT)          HQ reviewers, node staff of the lead's site, divisions that see it
//	write and verify at once   HQ reviewers
//	verify another's text      the same people, but never the translator of that text
//
// So a translation is VERIFIED only by HQ or by a second person. Changing
// the text makes the writer its translator and, unless the writer is HQ
// and asks for VERIFIED, a DRAFT again. Every accepted change is an event
// in the lead's history (TRANSLATE, VERIFY_TRANSLATION) and a new version
// of the lead; a request that would change nothing is answered with the
// lead as it is. A translation remembers which original it was made from
// (Source): once the original is edited, readers see it as outdated until
// someone writes or confirms it again.

// TranslationStatus says how far a translation can be trusted.
type TranslationStatus int

const (
	TranslationStatusUnspecified TranslationStatus = iota
	TranslationDraft
	TranslationVerified
)

var translationStatusNames = [...]string{"TRANSLATION_STATUS_UNSPECIFIED", "DRAFT", "VERIFIED"}

func (s TranslationStatus) String() string { return enumName(translationStatusNames[:], int(s)) }

// Translation is a lead's title and summary in one other language. A field
// left empty is not translated.
type Translation struct {
	Title   string            `json:"title,omitempty"`
	Summary string            `json:"summary,omitempty"`
	Status  TranslationStatus `json:"status"`
	// Source identifies the original title and summary the translation
	// was last written or confirmed against (see [SourceOf]).
	Source           string    `json:"source"`
	TranslatedBy     string    `json:"translatedBy"`
	TranslatedByName string    `json:"translatedByName"`
	Translated       time.Time `json:"translated"`
	// VerifiedBy and Verified are set while the status is VERIFIED.
	VerifiedBy     string    `json:"verifiedBy,omitempty"`
	VerifiedByName string    `json:"verifiedByName,omitempty"`
	Verified       time.Time `json:"verified,omitzero"`
}

// Fields names the fields the translation translates.
func (t Translation) Fields() []string {
	var out []string
	if t.Title != "" {
		out = append(out, "title")
	}
	if t.Summary != "" {
		out = append(out, "summary")
	}
	return out
}

// Outdated reports whether the lead's original text changed since the
// translation was written or confirmed.
func (t Translation) Outdated(l *Lead) bool { return t.Source != SourceOf(l) }

// SourceOf identifies a lead's original title and summary.
func SourceOf(l *Lead) string {
	sum := sha256.Sum256([]byte(l.Title + "\x00" + l.Summary))
	return hex.EncodeToString(sum[:8])
}

// TranslationInput is what OpTranslate carries: the language and the
// text as the caller wants it to stand.
type TranslationInput struct {
	Lang    string            `json:"lang"`
	Title   string            `json:"title,omitempty"`
	Summary string            `json:"summary,omitempty"`
	Status  TranslationStatus `json:"status"`
}

func (in *TranslationInput) validate() *Error {
	if in.Lang == "" {
		return invalid("lang", "is required: the BCP 47 tag of the translation's language (e.g. zh, en, de, he)")
	}
	if err := checkLanguage(in.Lang); err != nil {
		return invalid("lang", "%q is not a BCP 47 language tag (e.g. zh, en, de, he, zh-Hant)", truncate(in.Lang, 40))
	}
	if err := checkLine("title", in.Title, 0, MaxTitle); err != nil {
		return err
	}
	if err := checkText("summary", in.Summary, 0, MaxSummary); err != nil {
		return err
	}
	if strings.TrimSpace(in.Title) == "" && strings.TrimSpace(in.Summary) == "" {
		return invalid("title", "a translation needs a title, a summary or both")
	}
	if in.Status != TranslationDraft && in.Status != TranslationVerified {
		return invalid("status", "must be DRAFT or VERIFIED")
	}
	return nil
}

// CanonicalLanguage writes a BCP 47 tag in its canonical case (RFC 5646
// 2.1.1): zh-hant-tw is zh-Hant-TW. It changes nothing else, and needs no
// registry, so every version of innonet writes a tag the same way.
func CanonicalLanguage(tag string) string {
	parts := strings.Split(tag, "-")
	private := false
	for i, p := range parts {
		p = strings.ToLower(p)
		switch {
		case private || i == 0:
		case len(p) == 1:
			private = true // an extension or private use: lower case to the end
		case len(p) == 2:
			p = strings.ToUpper(p)
		case len(p) == 4:
			p = strings.ToUpper(p[:1]) + p[1:]
		}
		parts[i] = p
	}
	return strings.Join(parts, "-")
}

// primaryLanguage is the first subtag of a canonical tag: zh of zh-Hant.
func primaryLanguage(tag string) string {
	p, _, _ := strings.Cut(tag, "-")
	return p
}

// translationLangs lists the languages l is translated into, sorted.
func (l *Lead) translationLangs() []string {
	return slices.Sorted(maps.Keys(l.Translations))
}

// TranslationFor returns l's translation that fits the language asked for:
// the same tag, else the first (by tag) of the same primary language (zh
// for zh-Hant). ok is false when there is none.
func (l *Lead) TranslationFor(lang string) (tag string, t Translation, ok bool) {
	lang = CanonicalLanguage(lang)
	if t, ok := l.Translations[lang]; ok {
		return lang, t, true
	}
	for _, tag := range l.translationLangs() {
		if primaryLanguage(tag) == primaryLanguage(lang) {
			return tag, l.Translations[tag], true
		}
	}
	return "", Translation{}, false
}

// TranslationLangs lists the languages l is translated into, sorted.
func (l *Lead) TranslationLangs() []string { return l.translationLangs() }

// mayTranslate is who may translate l at all.
func mayTranslate(u *User, l *Lead) *Error {
	switch u.Role {
	case HQReviewer, NodeStaff, DivisionRole:
	default:
		return errorf(CodePermission, "only HQ reviewers, node staff of the lead's site and divisions that see it may translate a lead; caller is %s", u.Role)
	}
	if !u.CanSee(l) {
		return errorf(CodePermission, "%s %s may not see lead %s, so may not translate it", u.Role, u.Home(), l.ID)
	}
	return nil
}

// translate applies OpTranslate.
func (a *applier) translate() (Result, *Error) {
	in := a.cmd.Translation
	cur, err := getLead(a.txn, a.cmd.LeadID)
	if err != nil {
		return Result{}, err
	}
	if err := mayTranslate(a.actor, cur); err != nil {
		return Result{}, err
	}
	if v := a.cmd.ExpectedVersion; v != 0 && v != cur.Version {
		return Result{}, errorf(CodeConflict, "lead %s is at version %d, not the expected %d; read it again", cur.ID, cur.Version, v)
	}
	lang := CanonicalLanguage(in.Lang)
	if cur.Language != "" && CanonicalLanguage(cur.Language) == lang {
		return Result{}, errorf(CodePrecondition, "lead %s is written in %s; a translation is into another language", cur.ID, lang)
	}
	old, had := cur.Translations[lang]
	sameText := had && old.Title == in.Title && old.Summary == in.Summary
	if in.Status == TranslationVerified && a.actor.Role != HQReviewer {
		switch {
		case !sameText:
			return Result{}, errorf(CodePermission, "only HQ reviewers may write and verify a translation at once; save it as DRAFT and let HQ or a colleague verify it")
		case old.TranslatedBy == a.actor.ID:
			return Result{}, errorf(CodePermission, "you wrote the %s translation of lead %s; it must be verified by HQ or by someone else", lang, cur.ID)
		}
	}
	source := SourceOf(cur)
	if sameText && old.Status == in.Status && old.Source == source {
		return Result{Lead: cur}, nil // as it stands already
	}
	t := old
	if !sameText {
		t = Translation{Title: in.Title, Summary: in.Summary, TranslatedBy: a.actor.ID,
			TranslatedByName: a.actor.Name, Translated: a.now}
	}
	t.Status, t.Source = in.Status, source
	t.VerifiedBy, t.VerifiedByName, t.Verified = "", "", time.Time{}
	action := "TRANSLATE"
	if in.Status == TranslationVerified {
		t.VerifiedBy, t.VerifiedByName, t.Verified = a.actor.ID, a.actor.Name, a.now
		if sameText {
			action = "VERIFY_TRANSLATION"
		}
	}
	next := cur.clone()
	if next.Translations == nil {
		next.Translations = map[string]Translation{}
	}
	next.Translations[lang] = t
	next.Version = cur.Version + 1
	next.Updated = a.now
	// The event says what changed; the history keeps no other comment
	// for it (see leadAt).
	a.cmd.Comment = fmt.Sprintf("%s translation (%s), %s, %s", lang, strings.Join(t.Fields(), " and "), t.Status, t.TranslatedByName)
	if err := a.save(next, action, cur.Stage); err != nil {
		return Result{}, err
	}
	return Result{Lead: next}, nil
}
