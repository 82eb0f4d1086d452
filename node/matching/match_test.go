package matching

import (
	"reflect"
	"strings"
	"testing"
)

func testProfiles() []Profile {
	return []Profile{
		{Code: "NORTH", Sectors: []string{"OTHER", "NEW_MATERIALS"},
			Keywords: Keywords{EN: []string{"hydrogen", "fuel cell"}, ZH: []string{"氢能"}},
			TRL:      TRLRange{Min: 4, Max: 9, PreferredMin: 6}, PreferredDealTypes: []string{"JOINT_VENTURE"},
			Enterprises: []Enterprise{{NameEN: "North Gas", NeedsEN: "Needs hydrogen storage."}}},
		{Code: "SOUTH", Sectors: []string{"NEW_ENERGY_VEHICLES"},
			Keywords:    Keywords{EN: []string{"lithium battery", "EDA"}, ZH: []string{"锂电池"}},
			TRL:         TRLRange{Min: 5, Max: 9, PreferredMin: 6},
			Enterprises: []Enterprise{{NameEN: "South Cells", NeedsEN: "Seeks sodium-ion batteries."}}},
	}
}

func TestRank(t *testing.T) {
	m := New(testProfiles())
	tests := []struct {
		name string
		lead Lead
		want string
	}{
		{"german hydrogen", Lead{Title: "Feststoff-Wasserstoffspeicher", Sector: "NEW_MATERIALS", TRL: 6}, "NORTH"},
		{"hebrew battery", Lead{Title: "סוללות נתרן לרכב", Sector: "NEW_ENERGY_VEHICLES", TRL: 6}, "SOUTH"},
		{"literal keyword", Lead{Title: "EDA for analog layout"}, "SOUTH"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := m.Rank(tt.lead)
			if got[0].Division != tt.want {
				t.Errorf("rank 1 = %s (%v), want %s", got[0].Division, got, tt.want)
			}
		})
	}
}

func TestReasons(t *testing.T) {
	m := New(testProfiles())
	r := m.Rank(Lead{Title: "hydrogen storage tanks", Sector: "OTHER", TRL: 5, DealType: "JOINT_VENTURE"})
	got := strings.Join(r[0].Reasons, " | ")
	for _, want := range []string{"keywords hydrogen", "enterprise North Gas looks for hydrogen, storage", "sector OTHER ranked 1st of 2", "TRL 5 within 4–9, below the preferred 6", "prefers deal type JOINT_VENTURE"} {
		if !strings.Contains(got, want) {
			t.Errorf("reasons %q lack %q", got, want)
		}
	}
}

func TestDeterministic(t *testing.T) {
	m := New(testProfiles())
	l := Lead{Title: "hydrogen fuel cell battery", Summary: "锂电池 氢能", Sector: "OTHER", TRL: 6}
	first := m.Rank(l)
	for i := 0; i < 50; i++ {
		if got := New(testProfiles()).Rank(l); !reflect.DeepEqual(got, first) {
			t.Fatalf("run %d: %v, first %v", i, got, first)
		}
	}
}

func TestEmpty(t *testing.T) {
	if got := New(nil).Rank(Lead{}); len(got) != 0 {
		t.Errorf("no profiles: %v", got)
	}
	if got := New(testProfiles()).Rank(Lead{}); len(got) != 2 || got[0].Division != "NORTH" {
		t.Errorf("empty lead: %v, want both divisions in profile order", got)
	}
}

func TestParse(t *testing.T) {
	if _, err := Parse([]byte(`{"divisions":[{"code":"A"},{"code":"A"}]}`)); err == nil {
		t.Error("duplicate code accepted")
	}
	if _, err := Parse([]byte(`{"divisions":[{}]}`)); err == nil {
		t.Error("missing code accepted")
	}
	ps, err := Parse([]byte(`{"divisions":[{"code":"A","sectors":["X"],"trl_range":{"min":2,"max":8,"preferred_min":3}}]}`))
	if err != nil || ps[0].TRL.Max != 8 || ps[0].Sectors[0] != "X" {
		t.Errorf("Parse = %+v, %v", ps, err)
	}
}
