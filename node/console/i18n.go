package console

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"golang.org/x/text/message/catalog"
)

// The console speaks these languages; the first is the fallback.
var languages = []language.Tag{language.English, language.SimplifiedChinese}

// langCodes are the values of the lang cookie and form field.
var langCodes = []string{"en", "zh"}

//go:embed locales/*.json
var localeFS embed.FS

// catalogue holds every message in every language. Messages are
// fmt-style formats (golang.org/x/text/message), so numbers in them are
// localized.
type catalogue struct {
	cat     *catalog.Builder
	keys    map[string]map[string]string // lang → key → message
	matcher language.Matcher
}

// loadCatalogue reads locales/<part>.<lang>.json or locales/<lang>.json:
// every file adds keys to the language its name ends with.
func loadCatalogue() (*catalogue, error) {
	c := &catalogue{cat: catalog.NewBuilder(catalog.Fallback(language.English)),
		keys: map[string]map[string]string{}, matcher: language.NewMatcher(languages)}
	files, err := fs.Glob(localeFS, "locales/*.json")
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		parts := strings.Split(strings.TrimSuffix(path.Base(f), ".json"), ".")
		code := parts[len(parts)-1]
		tag, ok := tagOf(code)
		if !ok {
			return nil, fmt.Errorf("locale file %s: unknown language %q", f, code)
		}
		raw, err := localeFS.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var m map[string]string
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, fmt.Errorf("locale file %s: %w", f, err)
		}
		if c.keys[code] == nil {
			c.keys[code] = map[string]string{}
		}
		for k, v := range m {
			if _, dup := c.keys[code][k]; dup {
				return nil, fmt.Errorf("locale file %s: key %q defined twice", f, k)
			}
			c.keys[code][k] = v
			if err := c.cat.SetString(tag, k, v); err != nil {
				return nil, fmt.Errorf("locale file %s: key %q: %w", f, k, err)
			}
		}
	}
	return c, nil
}

func tagOf(code string) (language.Tag, bool) {
	for i, c := range langCodes {
		if c == code {
			return languages[i], true
		}
	}
	return language.Und, false
}

// missing lists the keys some language has and another lacks.
func (c *catalogue) missing() []string {
	all := map[string]bool{}
	for _, m := range c.keys {
		for k := range m {
			all[k] = true
		}
	}
	var out []string
	for _, code := range langCodes {
		for k := range all {
			if _, ok := c.keys[code][k]; !ok {
				out = append(out, code+": "+k)
			}
		}
	}
	sort.Strings(out)
	return out
}

// has reports whether key is in the catalogue.
func (c *catalogue) has(key string) bool {
	_, ok := c.keys["en"][key]
	return ok
}

// choose picks the language of a request: the lang cookie if the user
// chose one, else the best match of Accept-Language.
func (c *catalogue) choose(r *http.Request) string {
	if ck, err := r.Cookie(langCookie); err == nil {
		if _, ok := tagOf(ck.Value); ok {
			return ck.Value
		}
	}
	tags, _, _ := language.ParseAcceptLanguage(r.Header.Get("Accept-Language"))
	_, i, _ := c.matcher.Match(tags...)
	return langCodes[i]
}

// tr translates for one language.
type tr struct {
	lang string
	p    *message.Printer
	c    *catalogue
}

func (c *catalogue) printer(lang string) *tr {
	tag, _ := tagOf(lang)
	return &tr{lang: lang, p: message.NewPrinter(tag, message.Catalog(c.cat)), c: c}
}

// T returns the message for key with args; an unknown key shows as
// itself, which the catalogue test catches.
func (t *tr) T(key string, args ...any) string {
	if !t.c.has(key) {
		return key
	}
	return t.p.Sprintf(key, args...)
}

// Enum translates one value of an enum family, e.g. Enum("stage", "SUBMITTED").
func (t *tr) Enum(family, value string) string {
	k := family + "." + value
	if !t.c.has(k) {
		return value
	}
	return t.p.Sprintf(k)
}

// N formats an integer with the language's digit grouping.
func (t *tr) N(n any) string { return t.p.Sprint(n) }

// Time formats a time in the language's way, in loc.
func (t *tr) Time(tm time.Time, loc *time.Location) string {
	if tm.IsZero() {
		return ""
	}
	tm = tm.In(loc)
	if t.lang == "zh" {
		return tm.Format("2006年1月2日 15:04 MST")
	}
	return tm.Format("2 Jan 2006 15:04 MST")
}

// Date formats a day.
func (t *tr) Date(tm time.Time, loc *time.Location) string {
	if tm.IsZero() {
		return ""
	}
	tm = tm.In(loc)
	if t.lang == "zh" {
		return tm.Format("2006年1月2日")
	}
	return tm.Format("2 Jan 2006")
}

// Age says how long ago in words: "3 d", "5 h", "12 min".
func (t *tr) Age(d time.Duration) string {
	switch {
	case d >= 48*time.Hour:
		return t.T("age.days", int(d/(24*time.Hour)))
	case d >= time.Hour:
		return t.T("age.hours", int(d/time.Hour))
	case d >= time.Minute:
		return t.T("age.minutes", int(d/time.Minute))
	}
	return t.T("age.now")
}

// Span says how long in words, rounded down to its largest unit: "40 s",
// "3 min", "5 h", "3 d".
func (t *tr) Span(d time.Duration) string {
	switch {
	case d >= 48*time.Hour:
		return t.T("span.days", int(d/(24*time.Hour)))
	case d >= time.Hour:
		return t.T("span.hours", int(d/time.Hour))
	case d >= time.Minute:
		return t.T("span.minutes", int(d/time.Minute))
	}
	return t.T("span.seconds", int(d/time.Second))
}

// Amount formats a deal amount (a decimal string, as the API keeps it)
// with the language's digit grouping, then its currency.
func (t *tr) Amount(amount, currency string) string {
	whole, frac, _ := strings.Cut(amount, ".")
	n, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return strings.TrimSpace(amount + " " + currency)
	}
	s := t.p.Sprint(n)
	if frac != "" {
		s += "." + frac
	}
	return strings.TrimSpace(s + " " + currency)
}

// Dur formats a short duration (a last contact, a lag) to a sensible
// precision.
func (t *tr) Dur(d time.Duration) string {
	switch {
	case d >= time.Minute:
		return t.T("dur.minutes", int(d/time.Minute), int(d%time.Minute/time.Second))
	case d >= time.Second:
		return t.p.Sprintf("%.1f s", d.Seconds())
	}
	return t.p.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
}

// Bytes formats a file size.
func (t *tr) Bytes(n int64) string {
	switch {
	case n >= 1<<20:
		return t.p.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return t.p.Sprintf("%.0f KB", float64(n)/(1<<10))
	}
	return t.p.Sprintf("%d B", n)
}

// Field names a changed field in the reader's language: "title",
// "dealTerms.amount", "interest.rationale".
func (t *tr) Field(name string) string {
	if t.c.has("field." + name) {
		return t.Enum("field", name)
	}
	group, leaf, ok := strings.Cut(name, ".")
	if !ok {
		return name
	}
	return t.Enum("field", group) + " · " + t.Enum("field", leaf)
}

// changeFamilies are the enum families of changed fields' values.
var changeFamilies = map[string]string{"stage": "stage", "sector": "sector", "dealType": "dealtype", "deal_type": "dealtype",
	"division": "division", "claimMode": "claimmode", "claim_mode": "claimmode", "closeReason": "reason"}

// Change shows the value of a changed field in the reader's language
// where it is one of a set (a stage, a sector…), else as it is.
func (t *tr) Change(field, value string) string {
	if fam, ok := changeFamilies[field]; ok && value != "" {
		return t.Enum(fam, value)
	}
	return value
}
