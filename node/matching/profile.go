package matching

import (
	"encoding/json"
	"fmt"
)

// Profile is a division's focus, shaped like shared/data/divisions.json.
type Profile struct {
	Code      string   `json:"code"`
	NameEN    string   `json:"name_en"`
	NameZH    string   `json:"name_zh"`
	RegionsEN []string `json:"regions_en"`
	RegionsZH []string `json:"regions_zh"`
	// Sectors are ranked, most important first.
	Sectors            []string     `json:"sectors"`
	SectorNotesEN      string       `json:"sector_notes_en"`
	Keywords           Keywords     `json:"keywords"`
	TRL                TRLRange     `json:"trl_range"`
	PreferredDealTypes []string     `json:"preferred_deal_types"`
	Enterprises        []Enterprise `json:"enterprises"`
}

// Keywords are a division's focus terms per language.
type Keywords struct {
	EN []string `json:"en"`
	ZH []string `json:"zh"`
}

// TRLRange is the range of technology readiness a division takes on.
type TRLRange struct {
	Min          int `json:"min"`
	Max          int `json:"max"`
	PreferredMin int `json:"preferred_min"`
}

// Enterprise is a local company a division works with, and what it needs.
type Enterprise struct {
	NameZH  string `json:"name_zh"`
	NameEN  string `json:"name_en"`
	City    string `json:"city"`
	NeedsZH string `json:"needs_zh"`
	NeedsEN string `json:"needs_en"`
}

// Parse decodes a divisions file: an object with a "divisions" array.
func Parse(b []byte) ([]Profile, error) {
	var f struct {
		Divisions []Profile `json:"divisions"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("parse division profiles: %w", err)
	}
	seen := map[string]bool{}
	for i, p := range f.Divisions {
		if p.Code == "" {
			return nil, fmt.Errorf("parse division profiles: division %d has no code", i)
		}
		if seen[p.Code] {
			return nil, fmt.Errorf("parse division profiles: division %s twice", p.Code)
		}
		seen[p.Code] = true
	}
	return f.Divisions, nil
}
