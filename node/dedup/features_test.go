package dedup

import (
	"slices"
	"strings"
	"testing"

	"innonet/node/lexicon"
)

// TestAppendScriptsMatchesSplit expects the substring cut of a token
// into scripts to give what cutting its runes gives.
func TestAppendScriptsMatchesSplit(t *testing.T) {
	for _, tok := range []string{"", "led", "micro", "led激光", "激光led", "a激b", "מימןh2", "h2מימן氢", "氢", "ééé氢x", "x\xffy", "\xff"} {
		got := appendScripts(nil, tok)
		if want := splitScripts(tok); !slices.Equal(got, want) {
			t.Errorf("appendScripts(%q) = %q, want %q", tok, got, want)
		}
	}
}

// mapFeatures is textFeatures as maps of every key's weight, the plain
// way the accumulator must agree with: each field adds its weight once
// per key, the head being the title and the tags.
func mapFeatures(l *Lead) (all, head map[string]float64) {
	all, head = map[string]float64{}, map[string]float64{}
	field := func(s string, w float64, inHead bool) {
		a := newAccumulator(0) // only its spelling of keys is used
		a.addText(s, w, inHead)
		for _, e := range a.ents {
			all[e.key] += w
			if inHead {
				head[e.key] += w
			}
		}
	}
	title, _ := otherProduct(lexicon.Fold(l.Title))
	field(title, weightTitle, true)
	field(strings.Join(l.Tags, " ; "), weightTags, true)
	summary, _ := otherProduct(lexicon.Fold(l.Summary))
	field(summary, weightSummary, false)
	return all, head
}

// TestTextFeaturesSumFields expects the features of a lead's text to be
// the sum of its fields' features, each key counted once a field, capped
// at maxTF, sorted by key, in every script.
func TestTextFeaturesSumFields(t *testing.T) {
	leads := append(synthetic(200, 9),
		Lead{Title: "Hydrogen hydrogen storage 700 bar", Tags: []string{"hydrogen", "storage"}, Summary: "Hydrogen storage tanks, 700 bar, for hydrogen trucks."},
		Lead{Title: "固态电池 固态电池", Tags: []string{"电池"}, Summary: "固态电池用于电动汽车，能量密度400Wh/kg。"},
		Lead{Title: "רחפן לבדיקת קווי מתח", Summary: "רחפן אוטונומי. רחפן."},
		Lead{Title: "Wasserstoffspeicher für Lkw", Tags: []string{"Wasserstoff"}, Summary: "Neben dem Brennstoffzellen-Geschäft: Wasserstoffspeicher."},
		Lead{})
	for i := range leads {
		l := &leads[i]
		all, head, _ := textFeatures(l)
		wantAll, wantHead := mapFeatures(l)
		check := func(name string, got []feature, want map[string]float64) {
			if !slices.IsSortedFunc(got, func(a, b feature) int { return strings.Compare(a.key, b.key) }) {
				t.Errorf("lead %d %s: not sorted by key", i, name)
			}
			if len(got) != len(want) {
				t.Errorf("lead %d %s: %d features, want %d", i, name, len(got), len(want))
			}
			for _, f := range got {
				if w, ok := want[f.key]; !ok || f.tf != min(w, maxTF) {
					t.Errorf("lead %d %s: %s weighs %v, want %v", i, name, f.key, f.tf, min(w, maxTF))
				}
			}
		}
		check("all", all, wantAll)
		check("head", head, wantHead)
	}
}
