package pipeline

import (
	"fmt"
	"slices"
	"time"
)

// Division focus profiles: what each division looks for, so that leads
// can be matched to the divisions and the local enterprises they work with
// (the node/matching package scores them, outside Apply). A profile is
// replicated and replaced whole by OpSetDivisionProfile, by the division
// itself or by HQ; a division without one has no matches until one is
// stored. Its version lets an editor refuse to overwrite a change it has
// not seen (expectedVersion).

const tableProfiles = "profiles"

// Limits of a profile.
const (
	MaxProfileKeywords    = 100
	MaxProfileKeyword     = 80
	MaxProfileEnterprises = 50
	MaxEnterpriseName     = 200
	MaxEnterpriseNeeds    = 1000
	MaxProfileNotes       = 2000
)

// ProfileInput is the content of a profile, as OpSetDivisionProfile
// carries it.
type ProfileInput struct {
	// Sectors are ranked, most important first.
	Sectors []Sector `json:"sectors,omitempty"`
	// Keywords in any language (hydrogen, 储氢, Wasserstoff).
	Keywords []string `json:"keywords,omitempty"`
	// TRLMin and TRLMax bound the readiness the division takes on;
	// TRLPreferred, within them, is where it prefers to start. 0 is unset.
	TRLMin       int `json:"trlMin,omitempty"`
	TRLMax       int `json:"trlMax,omitempty"`
	TRLPreferred int `json:"trlPreferred,omitempty"`
	// DealTypes are the kinds of deal the division prefers.
	DealTypes   []DealType   `json:"dealTypes,omitempty"`
	Enterprises []Enterprise `json:"enterprises,omitempty"`
	// Notes is free text for people (what the sectors mean here).
	Notes string `json:"notes,omitempty"`
}

// Enterprise is a local company a division works with, and what it looks
// for, in the languages the division writes.
type Enterprise struct {
	Name    string `json:"name"`
	NameEn  string `json:"nameEn,omitempty"`
	City    string `json:"city,omitempty"`
	Needs   string `json:"needs,omitempty"`
	NeedsEn string `json:"needsEn,omitempty"`
}

// DivisionProfile is a division's stored profile.
type DivisionProfile struct {
	Division string `json:"division"`
	ProfileInput
	Version       int64     `json:"version"`
	UpdatedBy     string    `json:"updatedBy"`
	UpdatedByName string    `json:"updatedByName"`
	Updated       time.Time `json:"updated"`
}

func (p *DivisionProfile) clone() *DivisionProfile {
	c := *p
	c.Sectors = slices.Clone(p.Sectors)
	c.Keywords = slices.Clone(p.Keywords)
	c.DealTypes = slices.Clone(p.DealTypes)
	c.Enterprises = slices.Clone(p.Enterprises)
	return &c
}

func (p *ProfileInput) validate() *Error {
	seen := map[Sector]bool{}
	for i, s := range p.Sectors {
		if s <= SectorUnspecified || s > OtherSector {
			return invalid(fmt.Sprintf("sectors[%d]", i), "must be one of %s", joinNames(sectorNames[1:]))
		}
		if seen[s] {
			return invalid("sectors", "%s is listed twice; list each sector once, most important first", s)
		}
		seen[s] = true
	}
	if len(p.Keywords) > MaxProfileKeywords {
		return invalid("keywords", "at most %d keywords, got %d", MaxProfileKeywords, len(p.Keywords))
	}
	for i, k := range p.Keywords {
		if err := checkLine(fmt.Sprintf("keywords[%d]", i), k, 1, MaxProfileKeyword); err != nil {
			return err
		}
	}
	for _, t := range []struct {
		field string
		v     int
	}{{"trl_min", p.TRLMin}, {"trl_max", p.TRLMax}, {"trl_preferred", p.TRLPreferred}} {
		if t.v < 0 || t.v > 9 {
			return invalid(t.field, "must be a technology readiness level from 1 to 9 (or 0 for none), got %d", t.v)
		}
	}
	if (p.TRLMin == 0) != (p.TRLMax == 0) {
		return invalid("trl_max", "give both trl_min and trl_max, or neither")
	}
	if p.TRLMin > p.TRLMax {
		return invalid("trl_max", "must be at least trl_min (%d), got %d", p.TRLMin, p.TRLMax)
	}
	if p.TRLPreferred != 0 && (p.TRLMin == 0 || p.TRLPreferred < p.TRLMin || p.TRLPreferred > p.TRLMax) {
		return invalid("trl_preferred", "must lie within trl_min and trl_max (%d–%d), got %d", p.TRLMin, p.TRLMax, p.TRLPreferred)
	}
	seenDeal := map[DealType]bool{}
	for i, d := range p.DealTypes {
		if d <= DealTypeUnspecified || d > Relocation {
			return invalid(fmt.Sprintf("deal_types[%d]", i), "must be one of %s", joinNames(dealTypeNames[1:]))
		}
		if seenDeal[d] {
			return invalid("deal_types", "%s is listed twice", d)
		}
		seenDeal[d] = true
	}
	if len(p.Enterprises) > MaxProfileEnterprises {
		return invalid("enterprises", "at most %d enterprises, got %d", MaxProfileEnterprises, len(p.Enterprises))
	}
	for i, e := range p.Enterprises {
		f := fmt.Sprintf("enterprises[%d].", i)
		if err := checkLine(f+"name", e.Name, 1, MaxEnterpriseName); err != nil {
			return err
		}
		if err := checkLine(f+"name_en", e.NameEn, 0, MaxEnterpriseName); err != nil {
			return err
		}
		if err := checkLine(f+"city", e.City, 0, MaxEnterpriseName); err != nil {
			return err
		}
		if err := checkText(f+"needs", e.Needs, 0, MaxEnterpriseNeeds); err != nil {
			return err
		}
		if err := checkText(f+"needs_en", e.NeedsEn, 0, MaxEnterpriseNeeds); err != nil {
			return err
		}
	}
	return checkText("notes", p.Notes, 0, MaxProfileNotes)
}

func joinNames(names []string) string {
	out := ""
	for i, n := range names {
		if i > 0 {
			out += ", "
		}
		out += n
	}
	return out
}

// setDivisionProfile applies OpSetDivisionProfile.
func (a *applier) setDivisionProfile() (Result, *Error) {
	div := a.cmd.Division
	switch {
	case a.actor.Role == HQReviewer:
	case a.actor.Role == DivisionRole && a.actor.Division == div:
	case a.actor.Role == DivisionRole:
		return Result{}, errorf(CodePermission, "division %s may edit its own profile only, not %s's", a.actor.Division, div)
	default:
		return Result{}, errorf(CodePermission, "only the division itself or HQ may edit a division's profile; caller is %s", a.actor.Role)
	}
	cur, err := profileOf(a.txn.First, div)
	if err != nil {
		return Result{}, errorf(CodeInternal, "read profile: %v", err)
	}
	var version int64
	if cur != nil {
		version = cur.Version
	}
	if v := a.cmd.ExpectedVersion; v != 0 && v != version {
		return Result{}, errorf(CodeConflict, "the profile of %s is at version %d, not the expected %d; read it again", div, version, v)
	}
	in := *a.cmd.Profile
	p := &DivisionProfile{Division: div, ProfileInput: in, Version: version + 1,
		UpdatedBy: a.actor.ID, UpdatedByName: a.actor.Name, Updated: a.now}
	p = p.clone()
	if err := a.insert(tableProfiles, p); err != nil {
		return Result{}, err
	}
	return Result{Profile: p.clone()}, nil
}

func profileOf(first func(table, index string, args ...any) (any, error), div string) (*DivisionProfile, error) {
	raw, err := first(tableProfiles, "id", div)
	if err != nil || raw == nil {
		return nil, err
	}
	return raw.(*DivisionProfile), nil
}

// DivisionProfile returns the stored profile of div, or nil if it has
// none.
func (s *State) DivisionProfile(div string) (*DivisionProfile, error) {
	p, err := profileOf(s.read().First, div)
	if err != nil {
		return nil, fmt.Errorf("read profile of %s: %w", div, err)
	}
	if p == nil {
		return nil, nil
	}
	return p.clone(), nil
}

// DivisionProfiles returns the stored profiles, in the order of
// [Divisions].
func (s *State) DivisionProfiles() ([]*DivisionProfile, error) {
	var out []*DivisionProfile
	for _, d := range Divisions {
		p, err := s.DivisionProfile(d)
		if err != nil {
			return nil, err
		}
		if p != nil {
			out = append(out, p)
		}
	}
	return out, nil
}
