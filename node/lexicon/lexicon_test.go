package lexicon

import (
	"reflect"
	"testing"
)

func concepts(ms []Match) []Concept {
	seen := map[Concept]bool{}
	var out []Concept
	for _, m := range ms {
		if !seen[m.Concept] {
			seen[m.Concept] = true
			out = append(out, m.Concept)
		}
	}
	return out
}

func TestFind(t *testing.T) {
	tests := []struct {
		name, text string
		want       []Concept
	}{
		{"en phrase", "PEM fuel cells for trucks", []Concept{"fuel-cell", "vehicle"}},
		{"de compound", "Feststoff-Wasserstoffspeicher", []Concept{"solid", "hydrogen", "storage"}},
		{"de longest wins", "Wasserstoff", []Concept{"hydrogen"}},
		{"zh", "镁基固态储氢", []Concept{"magnesium", "solid", "storage", "hydrogen"}},
		{"zh longest wins", "燃料电池", []Concept{"fuel-cell"}},
		{"he prefix", "רחפן משא כבד מונע בתאי דלק מימן", []Concept{"drone", "fuel-cell", "hydrogen"}},
		{"compound concept", "solid-state batteries", []Concept{"solid-state-battery", "solid", "battery"}},
		{"full width", "ＳｉＣ inverter", []Concept{"silicon-carbide", "inverter"}},
		{"empty", "", nil},
		{"unknown", "lorem ipsum", nil},
	}
	lx := Default()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := concepts(lx.Find(tt.text))
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Find(%q) = %v, want %v", tt.text, got, tt.want)
			}
		})
	}
}

// Every concept should be reachable in each of the four languages, so that
// no language is compared on a smaller vocabulary than another.
func TestTableComplete(t *testing.T) {
	for _, r := range Table() {
		if r.EN == "" || r.DE == "" || r.ZH == "" || r.HE == "" {
			t.Errorf("row %s lacks a language", r.ID)
		}
	}
}
