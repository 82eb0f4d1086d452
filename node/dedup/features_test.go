package dedup

import (
	"slices"
	"testing"
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
