package dedup

import (
	"strings"
	"unicode"

	"innonet/node/lexicon"
)

// legalForms are company-form words removed from organisation names. They
// are compared after dots and quotes are dropped, so "S.p.A." is "spa"
// and בע"מ is בעמ.
var legalForms = set("gmbh", "mbh", "ag", "kg", "kgaa", "ohg", "ug", "ev", "se",
	"inc", "incorporated", "corp", "corporation", "co", "company", "cos",
	"ltd", "limited", "llc", "llp", "lp", "plc", "pllc",
	"sa", "sas", "sarl", "srl", "spa", "sl", "bv", "nv", "oy", "oyj", "ab", "as", "aps", "asa",
	"kk", "pty", "pte", "bhd", "sdn", "sro", "zoo", "doo", "gesmbh",
	"בעמ", "חברה")

// cjkLegalSuffixes end Chinese organisation names; longest first.
var cjkLegalSuffixes = []string{"股份有限公司", "有限责任公司", "有限公司", "集团公司", "公司", "集团"}

// genericOrgWords describe what an organisation does rather than who it
// is. They are removed before names are compared, so "Galim Water
// Technologies" and "Mishor Water" share nothing, while "Lumenar" and
// "Lumenar Photonics, Inc." are the same name.
var genericOrgWords = set("the", "and", "of", "für", "fur", "und", "der", "die", "das", "for",
	"technologies", "technology", "tech", "systems", "system", "solutions", "labs", "lab",
	"group", "holding", "holdings", "international", "global", "industries", "industry",
	"innovations", "innovation", "ventures", "research", "sciences", "science",
	"bio", "biosciences", "bioscience", "biotech", "therapeutics", "tx", "dx", "diagnostics",
	"medical", "med", "medizintechnik", "health", "ai", "analytics", "data", "robotics",
	"photonics", "optics", "materials", "material", "energy", "power", "water", "storage",
	"semiconductor", "semiconductors", "electronics", "software", "engineering", "automation",
	"precision", "präzision", "institute", "institut", "university", "universität", "college",
	"aero", "aerospace", "digital", "intelligence", "networks", "devices", "instruments",
	"europe", "usa", "us", "uk", "america", "north", "gesellschaft", "werk", "werke")

// placeNames are country names that appear in brackets after a Chinese
// organisation name (Polymera Labs（美国）); they name no organisation.
var placeNames = set("美国", "德国", "英国", "以色列", "中国", "加拿大", "法国", "日本", "瑞士",
	"奥地利", "荷兰", "瑞典", "意大利", "西班牙", "韩国", "新加坡", "澳大利亚", "欧洲",
	"usa", "us", "uk", "germany", "israel", "china")

func set(ws ...string) map[string]bool {
	m := make(map[string]bool, len(ws))
	for _, w := range ws {
		m[w] = true
	}
	return m
}

// orgName is one reading of an organisation string.
type orgName struct {
	display string // as a person would write the matched part
	core    string // distinctive words joined without spaces
	first   string // first distinctive word
}

// orgNames returns the readings of an organisation string: the whole name,
// the parts inside and outside brackets, and the Latin part of a name
// written in two scripts, each without legal forms and generic words.
// "海德索利德（HydroSolid）" yields 海德索利德 and hydrosolid.
func orgNames(s string) []orgName {
	f := lexicon.Fold(s)
	f = strings.Map(func(r rune) rune {
		switch r {
		case '.', '\'', '"', '״', '׳', '’', '`':
			return -1
		case '(', ')', '[', ']', '{', '}', '/', ',', ';', '|':
			return '\x00'
		}
		return r
	}, f)
	parts := strings.Split(f, "\x00")
	parts = append(parts, f)
	// A name written in two scripts without brackets: "Ordinal量子传感".
	var latin, other strings.Builder
	for _, r := range f {
		switch {
		case r == '\x00':
			latin.WriteByte(' ')
			other.WriteByte(' ')
		case unicode.Is(unicode.Latin, r) || unicode.IsDigit(r):
			latin.WriteRune(r)
			other.WriteByte(' ')
		case unicode.IsLetter(r):
			other.WriteRune(r)
			latin.WriteByte(' ')
		default:
			latin.WriteRune(' ')
			other.WriteRune(' ')
		}
	}
	parts = append(parts, latin.String(), other.String())

	var out []orgName
	seen := map[string]bool{}
	for _, p := range parts {
		n, ok := orgNameOf(p)
		if ok && !seen[n.core] {
			seen[n.core] = true
			out = append(out, n)
		}
	}
	return out
}

func orgNameOf(part string) (orgName, bool) {
	var words []string
	for _, w := range lexicon.Words(part) {
		if isHan(w) {
			for _, suf := range cjkLegalSuffixes {
				if strings.HasSuffix(w, suf) && len(w) > len(suf) {
					w = strings.TrimSuffix(w, suf)
					break
				}
			}
		}
		if !legalForms[w] && !placeNames[w] {
			words = append(words, w)
		}
	}
	if len(words) == 0 {
		return orgName{}, false
	}
	var core []string
	for _, w := range words {
		if !genericOrgWords[w] {
			core = append(core, w)
		}
	}
	if len(core) == 0 {
		core = words
	}
	n := orgName{display: strings.Join(words, " "), core: strings.Join(core, ""), first: core[0]}
	if len([]rune(n.core)) < 3 {
		return orgName{}, false
	}
	return n, true
}

// freeMail are mail providers anyone can use; a shared address there says
// nothing about the organisation.
var freeMail = set("gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com",
	"msn.com", "yahoo.com", "yahoo.co.uk", "ymail.com", "icloud.com", "me.com", "mac.com",
	"aol.com", "proton.me", "protonmail.com", "gmx.de", "gmx.net", "gmx.at", "gmx.com",
	"web.de", "t-online.de", "freenet.de", "posteo.de", "mail.de", "mail.com", "mail.ru",
	"yandex.ru", "qq.com", "163.com", "126.com", "sina.com", "foxmail.com", "walla.co.il",
	"walla.com", "zoho.com", "fastmail.com", "hey.com")

// secondLevel are labels under which a country registry sells names
// (example.co.uk, example.co.il, example.com.cn).
var secondLevel = set("co", "com", "ac", "org", "net", "gov", "edu", "or", "ne", "gv")

// domainOf returns the registrable domain of an e-mail address, URL or
// host name, in lower case, or "" when there is none.
func domainOf(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	if i := strings.LastIndexByte(s, '@'); i >= 0 {
		s = s[i+1:]
	}
	if i := strings.Index(s, "://"); i >= 0 {
		s = s[i+3:]
	}
	if i := strings.IndexAny(s, "/?#:"); i >= 0 {
		s = s[:i]
	}
	s = strings.Trim(s, ".")
	labels := strings.Split(s, ".")
	if len(labels) < 2 {
		return ""
	}
	for _, l := range labels {
		if l == "" {
			return ""
		}
	}
	n := 2
	if len(labels) >= 3 && len(labels[len(labels)-1]) == 2 && secondLevel[labels[len(labels)-2]] {
		n = 3
	}
	return strings.Join(labels[len(labels)-n:], ".")
}

// domainLabel is the name part of a registrable domain without hyphens:
// "kernwerk-additive.de" is "kernwerkadditive".
func domainLabel(d string) string {
	l, _, _ := strings.Cut(d, ".")
	return strings.ReplaceAll(l, "-", "")
}

// personTitles are removed from contact names.
var personTitles = set("dr", "prof", "mr", "mrs", "ms", "dipl", "ing", "phd", "md", "herr", "frau", "mag")

// personName normalises a contact name to compare it with another; it
// returns "" for names of fewer than two words, which are too ambiguous.
func personName(s string) string {
	var ws []string
	for _, w := range lexicon.Words(lexicon.Fold(strings.ReplaceAll(s, ".", " "))) {
		if !personTitles[w] {
			ws = append(ws, w)
		}
	}
	if len(ws) < 2 {
		return ""
	}
	return strings.Join(ws, " ")
}

func isHan(w string) bool {
	for _, r := range w {
		if !unicode.Is(unicode.Han, r) {
			return false
		}
	}
	return w != ""
}
