package dedup

import (
	"slices"
	"strings"
	"testing"

	"innonet/node/lexicon"
)

func TestOtherProduct(t *testing.T) {
	for _, tt := range []struct {
		in, want string
		cue      bool
	}{
		{"besides its tactile gripper, nivra licenses a vision package", " , nivra licenses a vision package", true},
		{"neben dem wasserstoffgeschäft entwickelt hydrosolid einen wärmespeicher", "  einen wärmespeicher", true},
		{"als zweites produkt entwickelt voltara ein bms", "als zweites produkt entwickelt voltara ein bms", true},
		{"除了储氢，公司还开发了储热", " ，公司还开发了储热", true},
		{"nebenbei: a plain summary", "nebenbei: a plain summary", false},
		{"a plain summary", "a plain summary", false},
	} {
		got, cue := otherProduct(tt.in)
		if got != tt.want || cue != tt.cue {
			t.Errorf("otherProduct(%q) = %q, %v; want %q, %v", tt.in, got, cue, tt.want, tt.cue)
		}
	}
}

// TestHoldsCueAsContains expects the one-pass test to say what looking
// for every cue in turn says: of each cue wherever it stands, of a cue
// cut short, and of text without one.
func TestHoldsCueAsContains(t *testing.T) {
	cues := append(slices.Clone(besideCues), ordinalCues...)
	texts := []string{"", "a", "solid-state battery cells for trucks", "festkörperbatterie für lkw", "固态电池", "רחפן אוטונומי"}
	for _, c := range cues {
		r := []rune(c)
		texts = append(texts, c, "x"+c, "the "+c+" and more", "氢"+c+"氢", string(r[:len(r)-1]), string(r[1:]))
	}
	for _, l := range synthetic(50, 5) {
		texts = append(texts, lexicon.Fold(l.Summary))
	}
	for _, s := range texts {
		want := slices.ContainsFunc(cues, func(c string) bool { return strings.Contains(s, c) })
		if got := holdsCue(s); got != want {
			t.Errorf("holdsCue(%q) = %v, want %v", s, got, want)
		}
	}
}
