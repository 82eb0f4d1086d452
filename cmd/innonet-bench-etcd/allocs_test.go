package main

import (
	"encoding/json"
	"testing"
)

// TestAllocsPerRequest checks the per-request figures, and that a run
// without successful requests leaves a measurement JSON can encode.
func TestAllocsPerRequest(t *testing.T) {
	before := map[string]float64{"CGO": 1000, "BOS": 500, "CBG": 500}
	after := map[string]float64{"CGO": 3000, "BOS": 1500, "CBG": 2500}
	lead, all := allocsPerRequest(before, after, "CGO", 10)
	if lead != 200 || all != 500 {
		t.Errorf("leader %v, all %v per request; want 200 and 500", lead, all)
	}
	var m measurement
	m.LeaderAllocs, m.ServerAllocs = allocsPerRequest(before, after, "CGO", 0)
	if _, err := json.Marshal(m); err != nil {
		t.Errorf("a run without requests: %v", err)
	}
}
