package wan

import (
	"slices"
	"time"
)

// Percentile is the p-th percentile (0-100) of ds by the nearest-rank
// method; 0 for no samples.
func Percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	rank := int(p/100*float64(len(s))+0.999999) - 1
	return s[min(max(rank, 0), len(s)-1)]
}

// Ms formats d in whole milliseconds, as the report shows latencies.
func Ms(d time.Duration) string { return d.Round(time.Millisecond).String() }
