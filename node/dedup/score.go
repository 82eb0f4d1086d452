package dedup

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"unique"

	"innonet/node/lexicon"
)

// Strengths of the organisation signals, combined by noisy-or. A domain
// or address is registered by the organisation itself; a name can be
// shared by chance, and a person can change employer.
const (
	signalDomain     = 0.9
	signalEmail      = 0.9
	signalName       = 0.85
	signalNameDomain = 0.7
	signalFirstWord  = 0.6
	signalLabel      = 0.65
	signalPerson     = 0.6
)

// prepared is a lead with everything Check compares precomputed.
type prepared struct {
	// What a check's bound reads of each of its hundreds of candidates
	// comes first, with the lead's language, sector, deal type and TRL
	// (the first fields of Lead), so that it is read from two cache
	// lines (bound.go).
	//
	// featNums and headNums are the numbers of feats' and head's keys,
	// in ascending order, in one array; set when the lead is indexed.
	featNums, headNums []uint32
	other              bool // presents itself as another product of the organisation
	lead               Lead
	names              []orgName
	domains            []string // registrable, without free mail; website first
	web                string   // registrable domain of the website
	emails             []string
	people             []string
	feats              []feature // title, tags and summary
	head               []feature // title and tags
}

func prepare(l Lead) *prepared {
	// The strings a check compares of every candidate are interned: a
	// comparison of two equal ones then reads no characters, and the
	// different ones are read from the few copies all leads share.
	for _, s := range []*string{&l.Language, &l.Sector, &l.DealType} {
		*s = unique.Make(*s).Value()
	}
	p := &prepared{lead: l, names: orgNames(l.Organization)}
	seen := map[string]bool{}
	addDomain := func(d string) {
		if d != "" && !freeMail[d] && !seen[d] {
			seen[d] = true
			p.domains = append(p.domains, d)
		}
	}
	p.web = domainOf(l.Website)
	addDomain(p.web)
	for _, c := range l.Contacts {
		addDomain(domainOf(c.Email))
		if e := strings.ToLower(strings.TrimSpace(c.Email)); strings.Contains(e, "@") {
			p.emails = append(p.emails, e)
		}
		if n := personName(c.Name); n != "" {
			p.people = append(p.people, n)
		}
	}
	p.feats, p.head, p.other = textFeatures(&p.lead)
	if own := nameFeatures(p); len(own) > 0 {
		p.feats, p.head = without(p.feats, own), without(p.head, own)
	}
	return p
}

// nameFeatures are the text features that spell the lead's own
// organisation: its distinctive name words and domain names. A firm
// names itself in every summary it writes, so these would make any two
// of its leads look alike; organisation evidence already counts them.
func nameFeatures(p *prepared) map[string]bool {
	own := map[string]bool{}
	for _, n := range p.names {
		for _, w := range strings.Fields(n.display) {
			switch {
			case genericOrgWords[w]:
			case isHan(w):
				r := []rune(w)
				for i := 0; i+1 < len(r); i++ {
					own[string(kindHan)+":"+string(r[i:i+2])] = true
				}
			case isHebrewWord(w):
				own[string(kindHebrew)+":"+w] = true
			case isLatinWord(w):
				own[string(kindWord)+":"+w] = true
				own[string(kindWord)+":"+lexicon.Stem(w)] = true
			}
		}
	}
	for _, d := range p.domains {
		own[string(kindWord)+":"+domainLabel(d)] = true
	}
	return own
}

// without drops the features keyed in drop from fs, in place: fs is the
// caller's own (a lead's features live as long as the lead is indexed,
// so a copy grown by appending would keep up to twice their memory).
func without(fs []feature, drop map[string]bool) []feature {
	return slices.DeleteFunc(fs, func(f feature) bool { return drop[f.key] })
}

type evidence struct {
	strength float64
	reason   string
}

// orgEvidence appends to ev the organisation signals shared by a and b,
// the strongest of each kind. Reasons are written only when explain is
// set: most pairs scored are discarded, and their words are not needed.
func orgEvidence(a, b *prepared, ev []evidence, explain bool) []evidence {
	say := func(format string, args ...any) string {
		if !explain {
			return ""
		}
		return fmt.Sprintf(format, args...)
	}
	if d := firstCommon(a.domains, b.domains); d != "" {
		what := "e-mail"
		if d == a.web && d == b.web {
			what = "website"
		}
		ev = append(ev, evidence{signalDomain, say("same %s domain %s", what, d)})
	} else if da, db := commonLabel(a.domains, b.domains); da != "" {
		ev = append(ev, evidence{signalLabel, say("same domain name under other endings: %s and %s", da, db)})
	}
	if e := firstCommon(a.emails, b.emails); e != "" {
		ev = append(ev, evidence{signalEmail, say("same contact e-mail %s", e)})
	}
	if n, ok := commonName(a.names, b.names); ok {
		ev = append(ev, evidence{signalName, say("organisation name matches after removing legal forms: %s", n)})
	} else if w, ok := commonFirstWord(a.names, b.names); ok {
		ev = append(ev, evidence{signalFirstWord, say("organisation names share the distinctive word %s", w)})
	} else if n, d, ok := nameMatchesDomain(a, b); ok {
		ev = append(ev, evidence{signalNameDomain, say("organisation name %s matches the domain %s", n, d)})
	}
	if p := firstCommon(a.people, b.people); p != "" {
		ev = append(ev, evidence{signalPerson, say("same contact person %s", p)})
	}
	return ev
}

func noisyOr(ev []evidence) float64 {
	q := 1.0
	for _, e := range ev {
		q *= 1 - e.strength
	}
	return 1 - q
}

func firstCommon(a, b []string) string {
	for _, x := range a {
		for _, y := range b {
			if x == y {
				return x
			}
		}
	}
	return ""
}

// commonLabel finds domains with the same name of five or more letters
// under different endings (hydrosolid.de, hydrosolid.com).
func commonLabel(a, b []string) (string, string) {
	for _, x := range a {
		for _, y := range b {
			if lx := domainLabel(x); len(lx) >= 5 && lx == domainLabel(y) {
				return x, y
			}
		}
	}
	return "", ""
}

func commonName(a, b []orgName) (string, bool) {
	for _, x := range a {
		for _, y := range b {
			if x.core == y.core {
				return x.display, true
			}
		}
	}
	return "", false
}

func commonFirstWord(a, b []orgName) (string, bool) {
	for _, x := range a {
		for _, y := range b {
			if x.first == y.first && len([]rune(x.first)) >= 4 {
				return x.first, true
			}
		}
	}
	return "", false
}

func nameMatchesDomain(a, b *prepared) (string, string, bool) {
	for _, pair := range [2][2]*prepared{{a, b}, {b, a}} {
		for _, n := range pair[0].names {
			for _, d := range pair[1].domains {
				if len(n.core) >= 4 && n.core == domainLabel(d) {
					return n.display, d, true
				}
			}
		}
	}
	return "", "", false
}

// similarity is the IDF-weighted cosine of the features two leads can
// share, with the shared features by weight for the reasons.
func similarity(a, b *prepared, idf func(string) float64, explain bool) (float64, []string) {
	all, terms := cosine(a.feats, b.feats, a.lead.Language == b.lead.Language, idf, explain)
	head, _ := cosine(a.head, b.head, a.lead.Language == b.lead.Language, idf, false)
	return (all + head) / 2, terms
}

func cosine(af, bf []feature, same bool, idf func(string) float64, explain bool) (float64, []string) {
	type shared struct {
		key string
		w   float64
	}
	var dot, na, nb float64
	var common []shared
	i, j := 0, 0
	for i < len(af) || j < len(bf) {
		switch {
		case j == len(bf) || (i < len(af) && af[i].key < bf[j].key):
			if f := af[i]; comparable(f.key[0], same) {
				w := f.tf * idf(f.key)
				na += w * w
			}
			i++
		case i == len(af) || bf[j].key < af[i].key:
			if f := bf[j]; comparable(f.key[0], same) {
				w := f.tf * idf(f.key)
				nb += w * w
			}
			j++
		default:
			f, g := af[i], bf[j]
			if comparable(f.key[0], same) {
				v := idf(f.key)
				wa, wb := f.tf*v, g.tf*v
				na += wa * wa
				nb += wb * wb
				dot += wa * wb
				if explain && wa*wb > 0 {
					common = append(common, shared{f.key, wa * wb})
				}
			}
			i++
			j++
		}
	}
	if na == 0 || nb == 0 {
		return 0, nil
	}
	if !explain {
		return dot / math.Sqrt(na*nb), nil
	}
	sort.Slice(common, func(i, j int) bool {
		if common[i].w != common[j].w {
			return common[i].w > common[j].w
		}
		return common[i].key < common[j].key
	})
	var terms []string
	seen := map[string]bool{}
	for _, c := range common {
		if len(terms) == 6 {
			break
		}
		if t := c.key[2:]; !seen[t] {
			seen[t] = true
			terms = append(terms, t)
		}
	}
	return dot / math.Sqrt(na*nb), terms
}

// score compares candidate c with existing lead e, with the reasons.
func (cfg *Config) score(c, e *prepared, idf func(string) float64) Candidate {
	return cfg.compare(c, e, idf, true)
}

// confidence is score's confidence alone, which costs no allocation:
// most leads compared fall below MinConfidence and are not explained.
func (cfg *Config) confidence(c, e *prepared, idf func(string) float64) float64 {
	return cfg.compare(c, e, idf, false).Confidence
}

func (cfg *Config) compare(c, e *prepared, idf func(string) float64, explain bool) Candidate {
	var buf [6]evidence
	ev := orgEvidence(c, e, buf[:0], explain)
	o := noisyOr(ev)
	s, terms := similarity(c, e, idf, explain)
	conf := cfg.combine(c, e, o, s)
	cand := Candidate{ID: e.lead.ID, Confidence: conf, Duplicate: conf >= cfg.Threshold}
	if explain {
		cand.Reasons = reasons(c, e, ev, o, s, terms)
	}
	return cand
}

// combine is the confidence of the pair c, e from its organisation
// evidence o and text similarity s, rounded to three decimals; it never
// falls as s grows.
func (cfg *Config) combine(c, e *prepared, o, s float64) float64 {
	conf := cfg.base(o, s)
	if gap := trlGap(c, e); gap >= 2 {
		conf *= math.Pow(cfg.TRLGapFactor, float64(gap-1))
	}
	if differ(c.lead.DealType, e.lead.DealType) {
		conf *= cfg.DealTypeFactor
	}
	if differ(c.lead.Sector, e.lead.Sector) {
		conf *= cfg.SectorFactor
	}
	if o > 0 && c.other != e.other {
		conf *= cfg.OtherProductFactor
	}
	return round3(conf)
}

// round3 rounds a confidence to the three decimals it is given in.
func round3(conf float64) float64 { return math.Round(conf*1000) / 1000 }

// base is the confidence from o and s alone, before the factors of the
// pair's metadata and of another product.
func (cfg *Config) base(o, s float64) float64 {
	ramp := math.Max(0, math.Min(1, (s-cfg.SimLow)/(cfg.SimHigh-cfg.SimLow)))
	if o > 0 {
		return math.Pow(o, 1-cfg.TextWeight) * math.Pow(ramp, cfg.TextWeight)
	}
	return cfg.TextOnly * ramp
}

// unpenalised is combine's confidence with every factor at 1, rounded
// as combine rounds: at least combine's for any pair when
// penaltiesAtMostOne.
func (cfg *Config) unpenalised(o, s float64) float64 { return round3(cfg.base(o, s)) }

// penaltiesAtMostOne reports whether each factor combine multiplies by
// is within [0, 1], so that none can raise a confidence.
func (cfg *Config) penaltiesAtMostOne() bool {
	for _, f := range []float64{cfg.TRLGapFactor, cfg.DealTypeFactor, cfg.SectorFactor, cfg.OtherProductFactor} {
		if !(f >= 0 && f <= 1) {
			return false
		}
	}
	return true
}

// trlGap is how far apart the two leads' TRLs are (0 when either has
// none).
func trlGap(c, e *prepared) int {
	ct, et := c.lead.TRL, e.lead.TRL
	if ct <= 0 || et <= 0 {
		return 0
	}
	if ct > et {
		return int(ct - et)
	}
	return int(et - ct)
}

// reasons explains compare's confidence in words: the organisation
// evidence, the text similarity, and every difference that lowered it.
// Only leads worth showing are explained, so the cheap pass of compare
// builds no strings.
func reasons(c, e *prepared, ev []evidence, o, s float64, terms []string) []string {
	out := make([]string, 0, len(ev)+4)
	for _, x := range ev {
		out = append(out, x.reason)
	}
	across := ""
	if c.lead.Language != e.lead.Language {
		across = " across languages"
	}
	out = append(out, fmt.Sprintf("similar title/summary%s (%.2f)", across, s))
	if len(terms) > 0 {
		out = append(out, "shared terms: "+strings.Join(terms, ", "))
	}
	if trlGap(c, e) > 0 {
		out = append(out, fmt.Sprintf("TRL %d vs %d", c.lead.TRL, e.lead.TRL))
	}
	if differ(c.lead.Country, e.lead.Country) {
		out = append(out, fmt.Sprintf("country %s vs %s", c.lead.Country, e.lead.Country))
	}
	if differ(c.lead.DealType, e.lead.DealType) {
		out = append(out, fmt.Sprintf("deal type %s vs %s", c.lead.DealType, e.lead.DealType))
	}
	if differ(c.lead.Sector, e.lead.Sector) {
		out = append(out, fmt.Sprintf("sector %s vs %s", c.lead.Sector, e.lead.Sector))
	}
	if o > 0 && c.other != e.other {
		if e.other {
			out = append(out, fmt.Sprintf("lead %s presents itself as another product of the organisation", e.lead.ID))
		} else {
			out = append(out, "the checked lead presents itself as another product of the organisation")
		}
	}
	if o == 0 {
		out = append(out, "no shared organisation evidence")
	}
	return out
}

func differ(a, b string) bool { return a != "" && b != "" && a != b }
