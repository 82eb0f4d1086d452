package dedup

import "testing"

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
