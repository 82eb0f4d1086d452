package main

import (
	"encoding/json"
	"math"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	// As etcd's report picks them: 100 samples 1..100 ms give the 51st
	// (index 50) as the median and the 100th as p99.
	var lats []time.Duration
	for i := 100; i >= 1; i-- {
		lats = append(lats, time.Duration(i)*time.Millisecond)
	}
	m := summarize(lats, 1, "boom", 2*time.Second)
	if m.P50 != 51*time.Millisecond || m.P99 != 100*time.Millisecond {
		t.Errorf("got p50 %v p99 %v, want 51ms and 100ms", m.P50, m.P99)
	}
	if m.Requests != 100 || m.Errors != 1 || m.PerSecond != 50 {
		t.Errorf("got %+v, want 100 requests, 1 error, 50/s", m)
	}
	if got := percentile(nil, 50); got != 0 {
		t.Errorf("percentile of nothing: got %v, want 0", got)
	}
}

func TestSpreadOf(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		name string
		in   []float64
		want spread
	}{
		{"odd", []float64{3, 1, 2}, spread{Median: 2, Min: 1, Max: 3, N: 3}},
		{"even", []float64{4, 1, 2, 3}, spread{Median: 2.5, Min: 1, Max: 4, N: 4}},
		{"a failed round left out", []float64{0.5, nan, 0.7}, spread{Median: 0.6, Min: 0.5, Max: 0.7, N: 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := spreadOf(tt.in); got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
	if got := spreadOf([]float64{nan}); got.N != 0 || !math.IsNaN(got.Median) {
		t.Errorf("all failed: got %+v, want N 0 and a NaN median", got)
	}
}

func TestSpreadJSON(t *testing.T) {
	b, err := json.Marshal(map[string]spread{"none": spreadOf(nil), "some": spreadOf([]float64{1})})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"none":null,"some":{"median":1,"min":1,"max":1,"n":1}}`
	if string(b) != want {
		t.Errorf("got %s, want %s", b, want)
	}
}

func TestRatios(t *testing.T) {
	in := measurement{Requests: 10, PerSecond: 100, P50: 4 * time.Millisecond}
	et := measurement{Requests: 10, PerSecond: 400, P50: 2 * time.Millisecond}
	if got := rateRatio(in, et); got != 0.25 {
		t.Errorf("rate ratio: got %v, want 0.25", got)
	}
	if got := p50Ratio(in, et); got != 2 {
		t.Errorf("p50 ratio: got %v, want 2", got)
	}
	failed := measurement{Error: "did not finish"}
	if got := rateRatio(in, failed); !math.IsNaN(got) {
		t.Errorf("ratio with a failed run: got %v, want NaN", got)
	}
}

func TestThousands(t *testing.T) {
	for in, want := range map[float64]string{0: "0", 999.4: "999", 1831: "1,831", 1234567.8: "1,234,568"} {
		if got := thousands(in); got != want {
			t.Errorf("thousands(%v): got %q, want %q", in, got, want)
		}
	}
}
