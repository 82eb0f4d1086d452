package console

import (
	"regexp"
	"strings"
)

// The API explains a possible duplicate (node/dedup) and a division match
// (node/matching) in short English statements built from fixed
// templates ("same web domain hydrosolid.de", "TRL 6 within 4–8"). The
// console shows them in the reader's language: each template is a rule
// here and a key in the catalogue that keeps the statement's variable
// parts (a domain, a name, a number). A statement no rule knows, from a
// newer site, is shown as it came.

// reasonRule maps one template to a catalogue key; enums names the
// groups that hold an enum value (a sector, a deal type) to put in words.
type reasonRule struct {
	re    *regexp.Regexp
	key   string
	enums map[int]string
}

func newRule(pattern, key string, enums ...any) reasonRule {
	r := reasonRule{re: regexp.MustCompile("^" + pattern + "$"), key: key, enums: map[int]string{}}
	for i := 0; i+1 < len(enums); i += 2 {
		r.enums[enums[i].(int)] = enums[i+1].(string)
	}
	return r
}

// reasonRules are tried in order: the more specific of two overlapping
// templates comes first.
var reasonRules = []reasonRule{
	// node/dedup: organisation evidence.
	newRule(`same website domain (\S+)`, "reason.dup.website"),
	newRule(`same e-mail domain (\S+)`, "reason.dup.emaildomain"),
	newRule(`same domain name under other endings: (\S+) and (\S+)`, "reason.dup.label"),
	newRule(`same contact e-mail (\S+)`, "reason.dup.email"),
	newRule(`organisation name matches after removing legal forms: (.+)`, "reason.dup.name"),
	newRule(`organisation names share the distinctive word (.+)`, "reason.dup.word"),
	newRule(`organisation name (.+) matches the domain (\S+)`, "reason.dup.namedomain"),
	newRule(`same contact person (.+)`, "reason.dup.person"),
	// node/dedup: the text and the facts.
	newRule(`similar title/summary across languages \(([0-9.]+)\)`, "reason.dup.textacross"),
	newRule(`similar title/summary \(([0-9.]+)\)`, "reason.dup.text"),
	newRule(`shared terms: (.+)`, "reason.dup.terms"),
	newRule(`TRL (\d+) vs (\d+)`, "reason.dup.trl"),
	newRule(`country (\S*) vs (\S*)`, "reason.dup.country"),
	newRule(`deal type (\S+) vs (\S+)`, "reason.dup.dealtype", 1, "dealtype", 2, "dealtype"),
	newRule(`sector (\S+) vs (\S+)`, "reason.dup.sector", 1, "sector", 2, "sector"),
	newRule(`the checked lead presents itself as another product of the organisation`, "reason.dup.otherself"),
	newRule(`lead (\S+) presents itself as another product of the organisation`, "reason.dup.other"),
	newRule(`no shared organisation evidence`, "reason.dup.noorg"),
	// node/dedup's reasons for a lead the reader may not see, by kind
	// only (node/api_duplicates.go).
	newRule(`the same website domain`, "reason.dup.hidden.website"),
	newRule(`the same e-mail domain`, "reason.dup.hidden.emaildomain"),
	newRule(`the same domain name under another ending`, "reason.dup.hidden.label"),
	newRule(`a contact with the same e-mail address`, "reason.dup.hidden.email"),
	newRule(`a contact of the same name`, "reason.dup.hidden.person"),
	newRule(`the same organisation name`, "reason.dup.hidden.name"),
	newRule(`a distinctive word of the organisation's name`, "reason.dup.hidden.word"),
	newRule(`the organisation's name matches the other lead's domain`, "reason.dup.hidden.namedomain"),
	newRule(`similar technology`, "reason.dup.hidden.text"),
	newRule(`a different TRL`, "reason.dup.hidden.trl"),
	newRule(`a different country`, "reason.dup.hidden.country"),
	newRule(`a different kind of deal`, "reason.dup.hidden.dealtype"),
	newRule(`a different sector`, "reason.dup.hidden.sector"),
	newRule(`one of the two presents itself as another product of the organisation`, "reason.dup.hidden.other"),
	// node/matching.
	newRule(`keywords (.+) \(([0-9.]+)\)`, "reason.match.keywords"),
	newRule(`enterprise (.+?) looks for (.*) \(([0-9.]+)\): (.*)`, "reason.match.enterprise"),
	newRule(`sector (\S+) ranked (\d+)(?:st|nd|rd|th) of (\d+) \(([0-9.]+)\)`, "reason.match.sector", 1, "sector"),
	newRule(`TRL (\d+) within (\d+)–(\d+), below the preferred (\d+)`, "reason.match.trlbelow"),
	newRule(`TRL (\d+) within (\d+)–(\d+)`, "reason.match.trlin"),
	newRule(`TRL (\d+) outside (\d+)–(\d+)`, "reason.match.trlout"),
	newRule(`prefers deal type (\S+)`, "reason.match.dealtype", 1, "dealtype"),
}

// translationNote is the note node/pipeline writes for a translation
// saved or verified ("zh translation (title and summary), VERIFIED, Li
// Wei"), in the thread and the history beside the action.
var translationNote = newRule(`(\S+) translation \((.+)\), (\w+), (.*)`, "note.translation", 2, "transfields", 3, "tstatus")

// Note shows the note of a thread comment or a history event: as
// written, but for the notes the API writes itself.
func (t *tr) Note(action, note string) string {
	if action == "TRANSLATE" || action == "VERIFY_TRANSLATION" {
		if m := translationNote.re.FindStringSubmatch(note); m != nil {
			return translationNote.words(t, m)
		}
	}
	return note
}

// Reason shows one statement of the API in the reader's language.
func (t *tr) Reason(s string) string {
	s = strings.TrimSpace(s)
	for _, r := range reasonRules {
		if m := r.re.FindStringSubmatch(s); m != nil {
			return r.words(t, m)
		}
	}
	return s
}

// words is the rule's message for match m, its enum values in words.
func (r reasonRule) words(t *tr, m []string) string {
	args := make([]any, 0, len(m)-1)
	for i, g := range m[1:] {
		if fam, ok := r.enums[i+1]; ok {
			g = t.enumWords(fam, g)
		}
		args = append(args, g)
	}
	return t.T(r.key, args...)
}

// Reasons shows a list of statements in the reader's language, less
// those that compare a value the draft has not set yet ("deal type
// DEAL_TYPE_UNSPECIFIED vs JOINT_VENTURE" while the form is typed).
func (t *tr) Reasons(list []string) []string {
	out := make([]string, 0, len(list))
	for _, s := range list {
		if !unsetComparison(s) {
			out = append(out, t.Reason(s))
		}
	}
	return out
}

func unsetComparison(s string) bool {
	for _, r := range reasonRules {
		m := r.re.FindStringSubmatch(strings.TrimSpace(s))
		if m == nil {
			continue
		}
		for i := range r.enums {
			if strings.HasSuffix(m[i], "_UNSPECIFIED") {
				return true
			}
		}
		return false
	}
	return false
}
