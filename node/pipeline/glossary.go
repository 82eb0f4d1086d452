package pipeline

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"
)

// The glossary: how the network names its sector terms in Chinese,
// English, German and Hebrew, so that translators and the console use the
// same words. It is built in (builtinGlossary: every sector and deal type
// in the four languages, the same in every binary of this version) and
// replicated where HQ changes it: OpSetGlossaryTerm stores a term's names,
// overriding the built-in ones or adding a term of its own, and
// OpDeleteGlossaryTerm removes what HQ stored (a built-in term goes back to
// its built-in names). The log and the state hold only HQ's entries, so
// there is nothing to seed and nothing a site could seed differently.

const tableGlossary = "glossary"

// Limits of the glossary.
const (
	MaxGlossaryTerm  = 64
	MaxGlossaryName  = 200
	MaxGlossaryNames = 20
)

// glossaryTermPattern is the form of a term's key: lower-case words
// joined by dots, dashes or underscores (sector.it_ai, hydrogen).
var glossaryTermPattern = regexp.MustCompile(`^[a-z0-9]+([._-][a-z0-9]+)*$`)

// GlossaryTerm is one term and its names by language (canonical BCP 47
// tags).
type GlossaryTerm struct {
	Term  string            `json:"term"`
	Names map[string]string `json:"names"`
	// Who stored HQ's entry, and when; empty for a built-in term.
	UpdatedBy     string    `json:"updatedBy,omitempty"`
	UpdatedByName string    `json:"updatedByName,omitempty"`
	Updated       time.Time `json:"updated,omitzero"`
	// BuiltIn is set on a term the binary defines (it is never stored).
	BuiltIn bool `json:"-"`
}

func (t *GlossaryTerm) clone() *GlossaryTerm {
	c := *t
	c.Names = maps.Clone(t.Names)
	return &c
}

// GlossaryInput is what the glossary commands carry: the term, and for
// OpSetGlossaryTerm its names.
type GlossaryInput struct {
	Term  string            `json:"term"`
	Names map[string]string `json:"names,omitempty"`
}

func checkGlossaryTerm(term string) *Error {
	if term == "" {
		return invalid("term", "is required")
	}
	if len(term) > MaxGlossaryTerm || !glossaryTermPattern.MatchString(term) {
		return invalid("term", "%q is not a glossary term: lower-case letters and digits, words joined by . _ or - (e.g. sector.it_ai, hydrogen), at most %d characters", truncate(term, 70), MaxGlossaryTerm)
	}
	return nil
}

func (g *GlossaryInput) validate(withNames bool) *Error {
	if err := checkGlossaryTerm(g.Term); err != nil {
		return err
	}
	if !withNames {
		if len(g.Names) > 0 {
			return invalid("names", "deleting a term takes no names")
		}
		return nil
	}
	if len(g.Names) == 0 {
		return invalid("names", "give the term's name in at least one language, e.g. {\"zh\": \"氢能\", \"en\": \"hydrogen\"}")
	}
	if len(g.Names) > MaxGlossaryNames {
		return invalid("names", "at most %d languages, got %d", MaxGlossaryNames, len(g.Names))
	}
	for _, lang := range slices.Sorted(maps.Keys(g.Names)) {
		if checkLanguage(lang) != nil || CanonicalLanguage(lang) != lang {
			return invalid("names", "%q is not a BCP 47 language tag in canonical form (e.g. zh, en, de, he, zh-Hant)", truncate(lang, 40))
		}
		if err := checkLine("names."+lang, g.Names[lang], 1, MaxGlossaryName); err != nil {
			return err
		}
	}
	return nil
}

// setGlossaryTerm applies OpSetGlossaryTerm.
func (a *applier) setGlossaryTerm() (Result, *Error) {
	if a.actor.Role != HQReviewer {
		return Result{}, errorf(CodePermission, "only HQ_REVIEWER may edit the glossary; caller is %s", a.actor.Role)
	}
	g := a.cmd.Glossary
	t := &GlossaryTerm{Term: g.Term, Names: maps.Clone(g.Names), UpdatedBy: a.actor.ID,
		UpdatedByName: a.actor.Name, Updated: a.now}
	if err := a.insert(tableGlossary, t); err != nil {
		return Result{}, err
	}
	t = t.clone()
	t.BuiltIn = builtinGlossary[t.Term] != nil
	return Result{Term: t}, nil
}

// deleteGlossaryTerm applies OpDeleteGlossaryTerm.
func (a *applier) deleteGlossaryTerm() (Result, *Error) {
	if a.actor.Role != HQReviewer {
		return Result{}, errorf(CodePermission, "only HQ_REVIEWER may edit the glossary; caller is %s", a.actor.Role)
	}
	term := a.cmd.Glossary.Term
	raw, err := a.txn.First(tableGlossary, "id", term)
	if err != nil {
		return Result{}, errorf(CodeInternal, "read glossary: %v", err)
	}
	if raw == nil {
		if builtinGlossary[term] != nil {
			return Result{}, errorf(CodeNotFound, "glossary term %s has its built-in names; there is no change of HQ's to delete", term)
		}
		return Result{}, errorf(CodeNotFound, "glossary term %s not found", term)
	}
	if err := a.txn.Delete(tableGlossary, raw); err != nil {
		return Result{}, errorf(CodeInternal, "delete glossary term: %v", err)
	}
	out := &GlossaryTerm{Term: term}
	if b := builtinGlossary[term]; b != nil {
		out = b.clone()
	}
	return Result{Term: out}, nil
}

// Glossary returns every term, sorted: the built-in ones with HQ's
// changes, and HQ's own.
func (s *State) Glossary() ([]*GlossaryTerm, error) {
	byTerm := map[string]*GlossaryTerm{}
	for k, t := range builtinGlossary {
		byTerm[k] = t.clone()
	}
	it, err := s.read().Get(tableGlossary, "id")
	if err != nil {
		return nil, fmt.Errorf("read glossary: %w", err)
	}
	for raw := it.Next(); raw != nil; raw = it.Next() {
		t := raw.(*GlossaryTerm).clone()
		t.BuiltIn = builtinGlossary[t.Term] != nil
		byTerm[t.Term] = t
	}
	out := make([]*GlossaryTerm, 0, len(byTerm))
	for _, k := range slices.Sorted(maps.Keys(byTerm)) {
		out = append(out, byTerm[k])
	}
	return out, nil
}

// GlossaryTerm returns one term as [State.Glossary] would.
func (s *State) GlossaryTerm(term string) (*GlossaryTerm, error) {
	raw, err := s.read().First(tableGlossary, "id", term)
	if err != nil {
		return nil, fmt.Errorf("read glossary: %w", err)
	}
	if raw != nil {
		t := raw.(*GlossaryTerm).clone()
		t.BuiltIn = builtinGlossary[term] != nil
		return t, nil
	}
	if b := builtinGlossary[term]; b != nil {
		return b.clone(), nil
	}
	return nil, errorf(CodeNotFound, "glossary term %s not found", truncate(term, 70))
}

// SectorTerm and DealTypeTerm are the glossary terms of a sector and a
// deal type (sector.it_ai, deal_type.investment).
func SectorTerm(s Sector) string     { return "sector." + strings.ToLower(s.String()) }
func DealTypeTerm(d DealType) string { return "deal_type." + strings.ToLower(d.String()) }

// Name returns the term's name in lang: the same tag, else the same
// primary language; "" if it has none.
func (t *GlossaryTerm) Name(lang string) string {
	lang = CanonicalLanguage(lang)
	if n, ok := t.Names[lang]; ok {
		return n
	}
	for _, tag := range slices.Sorted(maps.Keys(t.Names)) {
		if primaryLanguage(tag) == primaryLanguage(lang) {
			return t.Names[tag]
		}
	}
	return ""
}

// builtinGlossary names every sector and deal type in the four languages
// of the network.
var builtinGlossary = func() map[string]*GlossaryTerm {
	out := map[string]*GlossaryTerm{}
	add := func(term, zh, en, de, he string) {
		out[term] = &GlossaryTerm{Term: term, BuiltIn: true,
			Names: map[string]string{"zh": zh, "en": en, "de": de, "he": he}}
	}
	add(SectorTerm(LifeSciencesHealth), "生命科学与大健康", "Life sciences and health", "Lebenswissenschaften und Gesundheit", "מדעי החיים ובריאות")
	add(SectorTerm(AdvancedManufacturing), "高端装备制造", "Advanced manufacturing", "Fortschrittliche Fertigung", "ייצור מתקדם")
	add(SectorTerm(ElectronicsSemiconductors), "电子信息与半导体", "Electronics and semiconductors", "Elektronik und Halbleiter", "אלקטרוניקה ומוליכים למחצה")
	add(SectorTerm(NewMaterials), "新材料", "New materials", "Neue Werkstoffe", "חומרים חדשים")
	add(SectorTerm(NewEnergyVehicles), "新能源与智能网联汽车", "New energy and vehicles", "Neue Energien und Fahrzeuge", "אנרגיה חדשה וכלי רכב")
	add(SectorTerm(EnvironmentWater), "节能环保与水资源", "Environment and water", "Umwelt und Wasser", "סביבה ומים")
	add(SectorTerm(ITAI), "信息技术与人工智能", "Information technology and AI", "Informationstechnik und KI", "טכנולוגיית מידע ובינה מלאכותית")
	add(SectorTerm(OtherSector), "其他", "Other", "Sonstiges", "אחר")
	add(DealTypeTerm(Investment), "投资", "Investment", "Investition", "השקעה")
	add(DealTypeTerm(TechnologyLicensing), "技术许可", "Technology licensing", "Technologielizenzierung", "רישוי טכנולוגיה")
	add(DealTypeTerm(JointVenture), "合资合作", "Joint venture", "Gemeinschaftsunternehmen", "מיזם משותף")
	add(DealTypeTerm(RnDCollaboration), "研发合作", "R&D collaboration", "F&E-Kooperation", "שיתוף פעולה במחקר ופיתוח")
	add(DealTypeTerm(Relocation), "迁入落户", "Relocation", "Standortverlagerung", "העתקת פעילות")
	return out
}()
