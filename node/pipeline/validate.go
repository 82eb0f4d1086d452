package pipeline

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits on what a command may carry. They bound the size of every log
// entry and of the state.
const (
	MaxTitle        = 200
	MaxSummary      = 5000
	MaxOrganization = 200
	MaxTags         = 20
	MaxTag          = 50
	MaxContacts     = 10
	MaxName         = 200
	MaxEmail        = 254
	MaxPhone        = 50
	MaxComment      = 2000
	MaxRequestID    = 128
	MaxLanguage     = 35
)

var (
	leadIDPattern   = regexp.MustCompile(`^[A-Z]{2,8}-[0-9]{4,9}$`)
	siteCodePattern = regexp.MustCompile(`^[A-Z]{2,8}$`)
	languagePattern = regexp.MustCompile(`^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$`)
	// Request IDs are opaque to the server but kept printable so that
	// they read well in the history.
	requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9._:~/+=@-]+$`)
)

// ValidLeadID reports whether id has the form SITE-NNNN.
func ValidLeadID(id string) bool { return leadIDPattern.MatchString(id) }

// ValidSiteCode reports whether code looks like a site code (BOS, CGO, BOHAI).
func ValidSiteCode(code string) bool { return siteCodePattern.MatchString(code) }

// ValidDivision reports whether d is one of [Divisions].
func ValidDivision(d string) bool {
	for _, v := range Divisions {
		if v == d {
			return true
		}
	}
	return false
}

// ValidCountry reports whether c is an ISO 3166-1 alpha-2 code.
func ValidCountry(c string) bool {
	if len(c) != 2 || c[0] < 'A' || c[0] > 'Z' || c[1] < 'A' || c[1] > 'Z' {
		return false
	}
	_, ok := countries[c]
	return ok
}

// checkLine checks a single-line text field: valid UTF-8, no control
// characters, trimmed length between min and max runes.
func checkLine(field, v string, min, max int) *Error {
	if err := checkText(field, v, min, max); err != nil {
		return err
	}
	for _, r := range v {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return invalid(field, "must be a single line without control characters")
		}
	}
	return nil
}

// checkText checks a multi-line text field: valid UTF-8, no control
// characters other than newline and tab, length between min and max runes.
// Text in any language is kept as entered.
func checkText(field, v string, min, max int) *Error {
	if !utf8.ValidString(v) {
		return invalid(field, "must be valid UTF-8")
	}
	n := utf8.RuneCountInString(v)
	if n > max {
		return invalid(field, "must be at most %d characters, got %d", max, n)
	}
	if min > 0 && strings.TrimSpace(v) == "" {
		return invalid(field, "is required")
	}
	for _, r := range v {
		if unicode.IsControl(r) && r != '\n' && r != '\t' && r != '\r' {
			return invalid(field, "must not contain control characters")
		}
	}
	return nil
}

// userIDPattern is the form of the user IDs Apply assigns.
var userIDPattern = regexp.MustCompile(`^user-[0-9]{4,9}$`)

func checkRequestID(id string) *Error {
	switch {
	case id == "":
		return invalid("request_id", "is required: every write carries a client-chosen request ID")
	case len(id) > MaxRequestID:
		return invalid("request_id", "must be at most %d characters", MaxRequestID)
	case !requestIDPattern.MatchString(id):
		return invalid("request_id", "may contain only letters, digits and ._:~/+=@-")
	}
	return nil
}

func checkLeadID(id string) *Error {
	if id == "" {
		return invalid("id", "is required")
	}
	if !ValidLeadID(id) {
		return invalid("id", "%q is not a lead ID of the form SITE-NNNN", truncate(id, 40))
	}
	return nil
}

func checkComment(field, v string, required bool) *Error {
	min := 0
	if required {
		min = 1
	}
	return checkText(field, v, min, MaxComment)
}

func checkSector(s Sector) *Error {
	if s <= SectorUnspecified || s > OtherSector {
		return invalid("sector", "must be one of LIFE_SCIENCES_HEALTH, ADVANCED_MANUFACTURING, ELECTRONICS_SEMICONDUCTORS, NEW_MATERIALS, NEW_ENERGY_VEHICLES, ENVIRONMENT_WATER, IT_AI, OTHER")
	}
	return nil
}

func checkDealType(d DealType) *Error {
	if d <= DealTypeUnspecified || d > Relocation {
		return invalid("deal_type", "must be one of INVESTMENT, TECHNOLOGY_LICENSING, JOINT_VENTURE, RND_COLLABORATION, RELOCATION")
	}
	return nil
}

func checkTRL(trl int) *Error {
	if trl < 1 || trl > 9 {
		return invalid("trl", "must be a technology readiness level from 1 to 9, got %d", trl)
	}
	return nil
}

func checkCountry(c string) *Error {
	if !ValidCountry(c) {
		return invalid("country", "%q is not an ISO 3166-1 alpha-2 country code (e.g. US, GB, DE, IL)", truncate(c, 10))
	}
	return nil
}

func checkLanguage(l string) *Error {
	if l == "" {
		return nil
	}
	if len(l) > MaxLanguage || !languagePattern.MatchString(l) {
		return invalid("language", "%q is not a BCP 47 language tag (e.g. en, de, he, zh-Hans)", truncate(l, 40))
	}
	return nil
}

func checkTags(tags []string) *Error {
	if len(tags) > MaxTags {
		return invalid("tags", "at most %d tags, got %d", MaxTags, len(tags))
	}
	for _, t := range tags {
		if err := checkLine("tags", t, 1, MaxTag); err != nil {
			return err
		}
	}
	return nil
}

func checkContacts(cs []Contact) *Error {
	if len(cs) > MaxContacts {
		return invalid("contacts", "at most %d contacts, got %d", MaxContacts, len(cs))
	}
	for _, c := range cs {
		if err := checkLine("contacts.name", c.Name, 1, MaxName); err != nil {
			return err
		}
		if err := checkLine("contacts.email", c.Email, 0, MaxEmail); err != nil {
			return err
		}
		if c.Email != "" && (!strings.Contains(c.Email, "@") || strings.ContainsAny(c.Email, " \t")) {
			return invalid("contacts.email", "%q is not an email address", truncate(c.Email, 60))
		}
		if err := checkLine("contacts.phone", c.Phone, 0, MaxPhone); err != nil {
			return err
		}
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	// Cut on a rune boundary so the message stays valid UTF-8.
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

var countries = func() map[string]struct{} {
	const list = `AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ
BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ
CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ
DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR
GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY
HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP
KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY
MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ
NA NC NE NF NG NI NL NO NP NR NU NZ OM
PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW
SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ
TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ
VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW`
	m := make(map[string]struct{}, 249)
	for _, c := range strings.Fields(list) {
		m[c] = struct{}{}
	}
	return m
}()
