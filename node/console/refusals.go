package console

import (
	"regexp"
	"strings"
)

// The API refuses in English, in fixed words that name the field, the
// lead, its stage and the valid values (node/pipeline's errors, the API
// layer's own). The refusals a person can meet in the console get words
// in both languages here, as the duplicate reasons do (reasons.go): each
// is a rule that maps one of those messages to a catalogue key, keeping
// its variable parts (a lead ID, a stage, a division, a number) and
// putting its enum values in words. A refusal no rule knows keeps the
// API's English under the headline of its kind.

// refusals are tried in order; the more specific of two overlapping
// messages comes first. The groups an enum family names are put in words:
// "stage", "role", "division", "site", "orgkind", a "field" name, a list
// of "stages" or "roles" ("SUBMITTED or RETURNED"), and the verb phrases
// "may" ("review leads") and "stageverb" ("closed as lost").
var refusals = []reasonRule{
	// The review, closing and reopening of a lead, and what they need.
	newRule(`comment: is required when the decision is RETURN`, "refuse.comment.return"),
	newRule(`comment: is required when the decision is DECLINE`, "refuse.comment.decline"),
	newRule(`decision: (?:must be|choose) APPROVE, RETURN or DECLINE`, "refuse.decision"),
	newRule(`comment: is required when the reason is OTHER: .*`, "refuse.comment.other"),
	newRule(`comment: is required: say why the lead is reopened`, "refuse.comment.reopen"),
	newRule(`reason: must be one of .*`, "refuse.closereason"),
	newRule(`stage: a lead is reopened to SUBMITTED .*`, "refuse.reopen.stage"),
	newRule(`rationale: is required: say why your division wants the lead`, "refuse.rationale"),
	newRule(`visibility: is required: .*`, "refuse.visibility"),

	// A lead's stage does not allow it (someone moved it meanwhile).
	newRule(`lead (\S+) is in stage (\w+); only (.+) leads can be (.+)`, "refuse.stage", 2, "stage", 3, "stages", 4, "stageverb"),
	newRule(`lead (\S+) is in stage (\w+); it can move to (\w+) only from (\w+)`, "refuse.advance", 2, "stage", 3, "stage", 4, "stage"),
	newRule(`lead (\S+) is in stage (\w+), already claimed by your division (\w+)`, "refuse.claim.yours", 2, "stage", 3, "division"),
	newRule(`lead (\S+) is in stage (\w+), already held by (\w+)`, "refuse.assign.held", 2, "stage", 3, "division"),
	newRule(`lead (\S+) is in stage \w+ with claim mode ASSIGNED: .*`, "refuse.assigned"),
	newRule(`lead (\S+) is in stage (\w+); divisions \w+ interest only while a lead is APPROVED`, "refuse.interest.stage", 2, "stage"),
	newRule(`division (\w+) has no standing expression of interest in lead (\S+) to withdraw`, "refuse.interest.none", 1, "division"),
	newRule(`lead (\S+) is in stage (\w+); nothing can be added to a withdrawn lead`, "refuse.attach.withdrawn", 2, "stage"),
	newRule(`lead (\S+) holds (\d+) attachments, the most a lead may hold; remove one first`, "refuse.attach.full"),

	// Someone changed it meanwhile.
	newRule(`lead (\S+) is at version (\d+), not the expected (\d+); read it again`, "refuse.version"),
	newRule(`organization (\S+) is at version (\d+), not the expected (\d+); read it again`, "refuse.org.version"),

	// Who may do what.
	newRule(`only (\w+) may (.+); caller is (\w+)`, "refuse.role", 1, "role", 2, "may", 3, "role"),
	newRule(`only node staff of (\S+) may (\w+) lead (\S+); caller is (\w+)`, "refuse.ownsite.role", 1, "site", 2, "may", 4, "role"),
	newRule(`lead (\S+) belongs to site (\S+); staff of (\S+) may not (\w+) it`, "refuse.ownsite", 2, "site", 3, "site", 4, "may"),
	newRule(`lead (\S+) belongs to site (\S+); staff of (\S+) may not add attachments to it`, "refuse.ownsite.attach", 2, "site", 3, "site"),
	newRule(`lead (\S+) is not claimed by (\w+); only the claiming division or HQ may release it`, "refuse.release.notheld", 2, "division"),
	newRule(`only the claiming division or HQ may release a lead; caller is (\w+)`, "refuse.release.role", 1, "role"),
	newRule(`only the claiming division may advance a lead; caller is (\w+)`, "refuse.advance.role", 1, "role"),
	newRule(`lead (\S+) is not claimed by (\w+)`, "refuse.notheld", 2, "division"),
	newRule(`lead (\S+) is not held by (\w+); only the division holding it or HQ may (\w+) it`, "refuse.holder", 2, "division", 3, "may"),
	newRule(`only the division holding a lead or HQ may (\w+) it; caller is (\w+)`, "refuse.holder.role", 1, "may", 2, "role"),
	newRule(`only the claiming division records deal terms; caller is (\w+)`, "refuse.deal.role", 1, "role"),
	newRule(`lead (\S+) is not claimed by (\w+); only the claiming division records its deal terms`, "refuse.deal.notheld", 2, "division"),
	newRule(`\w+ \S* ?may not see lead (\S+)(?:, so may not translate it)?`, "refuse.cansee"),
	newRule(`requires role ADMIN, or the caller's own user ID; caller \S+ is (\w+)`, "refuse.requires.self", 1, "role"),
	newRule(`requires role (.+); caller \S+ is (\w+)`, "refuse.requires", 1, "roles", 2, "role"),
	newRule(`expressions of interest in lead (\S+) are between the divisions and HQ`, "refuse.interests"),

	// The thread.
	newRule(`ADMIN users run the network and do not comment on leads`, "refuse.comment.admin"),
	newRule(`HQ_AND_SITE comments are between HQ and the submitting site (\S+); a division comments SHARED or DIVISION`, "refuse.comment.hqsite", 1, "site"),
	newRule(`DIVISION comments are between a division and HQ; node staff comment SHARED or HQ_AND_SITE`, "refuse.comment.division"),
	newRule(`a division writes DIVISION comments for itself \((\w+)\), not for (\w+)`, "refuse.comment.other.division", 1, "division", 2, "division"),
	newRule(`lead (\S+) is held by no division: name the division the DIVISION comment is for`, "refuse.comment.nodivision"),

	// Translations.
	newRule(`lead (\S+) is written in (\S+); a translation is into another language`, "refuse.translate.same"),
	newRule(`only HQ reviewers may write and verify a translation at once; .*`, "refuse.translate.verify"),
	newRule(`you wrote the (\S+) translation of lead (\S+); it must be verified by HQ or by someone else`, "refuse.translate.own"),
	newRule(`title: a translation needs a title, a summary or both`, "refuse.translate.empty"),
	newRule(`only HQ reviewers, node staff of the lead's site and divisions that see it may translate a lead; caller is (\w+)`,
		"refuse.translate.role", 1, "role"),

	// Deal terms.
	newRule(`currency: "(.*)" is not an ISO 4217 currency code .*`, "refuse.currency"),
	newRule(`currency: is required with an amount .*`, "refuse.currency.required"),
	newRule(`amount: "(.*)" is not an amount: .*`, "refuse.amount"),
	newRule(`amount: (\S+) has (\d+) decimals; (\w+) has (\d+)`, "refuse.amount.decimals"),
	newRule(`jobs: must be from 0 to (\d+), got (-?\d+)`, "refuse.jobs"),
	newRule(`(\w+): "(.*)" is not a date of the form YYYY-MM-DD .*`, "refuse.date", 1, "field"),
	newRule(`(\w+): (\S+) is out of range \(years (\d+) to (\d+)\)`, "refuse.date.range", 1, "field"),
	newRule(`partner_id: (\S+) is not a known organization .*`, "refuse.partner.unknown"),
	newRule(`partner_id: (\S+) \((.*)\) is a (\w+); the partner enterprise must be a LOCAL_ENTERPRISE`, "refuse.partner.kind", 3, "orgkind"),

	// A lead's fields, as submitted or edited.
	newRule(`trl: must be a technology readiness level from 1 to 9, got (-?\d+)`, "refuse.trl"),
	newRule(`country: "(.*)" is not an ISO 3166-1 alpha-2 country code .*`, "refuse.country"),
	newRule(`(?:language|lang): "(.*)" is not a BCP 47 language tag .*`, "refuse.language"),
	newRule(`sector: must be one of .*`, "refuse.sector"),
	newRule(`deal_type: must be one of .*`, "refuse.dealtype"),
	newRule(`website: "(.*)" is not a web address starting with https:// or http://`, "refuse.website"),
	newRule(`contacts\.email: "(.*)" is not an email address`, "refuse.email"),
	newRule(`tags: at most (\d+) tags, got (\d+)`, "refuse.tags"),
	newRule(`contacts: at most (\d+) contacts, got (\d+)`, "refuse.contacts"),
	newRule(`organization: is required when the lead links no organization .*`, "refuse.org.required"),
	newRule(`organization_id: (\S+) is not a known organization .*`, "refuse.org.unknown"),
	newRule(`organization_id: (\S+) \((.*)\) is a (\w+); a lead links to the foreign organization behind it`, "refuse.org.local", 3, "orgkind"),
	newRule(`country: is required for a foreign organization .*`, "refuse.org.country"),
	newRule(`"(.*)" is already a name of (\S+) \(.*\): link to it instead of adding it again`, "refuse.org.exists"),
	newRule(`your site (\S+) is not registered, so it cannot submit leads: .*`, "refuse.site.unregistered", 1, "site"),
	newRule(`file: is empty; an attachment has at least one byte`, "refuse.file.empty"),
	// The console's own (files.go, lead.go).
	newRule(`file: choose a file to attach`, "refuse.file.none"),
	newRule(`file: "(.*)" is (\d+) bytes; an attachment may be at most (\d+)`, "refuse.file.big"),
	newRule(`jobs: "(.*)" is not a whole number`, "refuse.jobs.number"),

	// Users and sites.
	newRule(`an admin cannot revoke its own token; ask another admin`, "refuse.revoke.self"),
	newRule(`user (\S+) has been revoked; add a new user instead`, "refuse.user.revoked"),
	newRule(`name: user (\S+) is already called "(.*)", and people sign in by name; .*`, "refuse.user.name"),
	newRule(`site: "(.*)" is not a registered site or sub-node; node staff may belong to: (.*) \(an admin .*\)`, "refuse.staff.site"),
	newRule(`\w+: must be one of the divisions BOHAI, YRD or PRD, got "(.*)"`, "refuse.division"),
	newRule(`code: "(.*)" is not a sub-node code: .*`, "refuse.subnode.code"),
	newRule(`site (\S+) is already registered \((.*), (\w+), under (\S+)\)`, "refuse.site.exists", 3, "sitekind", 4, "site"),

	// Any field, in the words of node/pipeline's validate.go.
	newRule(`([a-z_.]+): is required`, "refuse.required", 1, "field"),
	newRule(`([a-z_.]+): must be at most (\d+) characters, got (\d+)`, "refuse.toolong", 1, "field"),
	newRule(`([a-z_.]+): must be a single line without control characters`, "refuse.oneline", 1, "field"),
	newRule(`([a-z_.]+): must not contain control characters`, "refuse.control", 1, "field"),

	// The merge (node/pipeline merge.go).
	newRule(`(?:into: )?a lead cannot be merged into itself \((\S+)\)`, "api.merge.self"),
	newRule(`lead (\S+) was already merged into (\S+)`, "api.merge.already"),
	newRule(`lead (\S+) was itself merged into (\S+):.*`, "api.merge.intomerged"),
	newRule(`lead (\S+) is in stage (\w+), worked by (\w*): a lead a division works is not merged away.*`,
		"api.merge.worked", 2, "stage", 3, "division"),
	newRule(`into: lead (\S+) does not exist.*`, "api.merge.unknown"),
	newRule(`into: is required.*`, "api.merge.nointo"),
	newRule(`into: "(.*)" is not a lead ID.*`, "api.merge.badid"),

	// A division profile saved over a newer one.
	newRule(`the profile of (\w+) is at version (\d+), not the expected.*`, "api.profile.conflict", 1, "division"),
}

// Refusal is an API refusal's message in the reader's language, and
// whether a rule knew it.
func (t *tr) Refusal(msg string) (string, bool) {
	msg = strings.TrimSpace(msg)
	for _, r := range refusals {
		if m := r.re.FindStringSubmatch(msg); m != nil {
			return r.words(t, m), true
		}
	}
	return msg, false
}

// enumWords puts one value of an enum family in words; see refusals.
func (t *tr) enumWords(family, v string) string {
	switch family {
	case "field":
		return t.Field(v)
	case "stages":
		return t.or("stage", v)
	case "roles":
		return t.or("role", v)
	case "may", "stageverb", "transfields":
		if k := family + "." + slug(v); t.c.has(k) {
			return t.T(k)
		}
		return v
	}
	return t.Enum(family, v)
}

// or puts a list of an enum family's values ("SUBMITTED, RETURNED or
// APPROVED") in words.
func (t *tr) or(family, list string) string {
	parts := strings.FieldsFunc(strings.ReplaceAll(list, " or ", ","), func(r rune) bool { return r == ',' || r == ' ' })
	words := make([]string, len(parts))
	for i, p := range parts {
		words[i] = t.Enum(family, p)
	}
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return t.T("list.or", strings.Join(words[:len(words)-1], t.T("list.sep")), words[len(words)-1])
}

var nonWord = regexp.MustCompile(`[^a-z0-9]+`)

// slug is the catalogue key of a verb phrase: "closed as lost" is
// closed_as_lost.
func slug(s string) string {
	return strings.Trim(nonWord.ReplaceAllString(strings.ToLower(s), "_"), "_")
}
