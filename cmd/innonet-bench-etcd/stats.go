package main

import (
	"math"
	"slices"
	"time"
)

// measurement is one system's figures for one cell in one round.
type measurement struct {
	// Requests is the number that succeeded; Errors the number that
	// failed (their latencies count nowhere, as in etcd's report).
	Requests int `json:"requests"`
	Errors   int `json:"errors"`
	// FirstError is one of the failures, to say what went wrong.
	FirstError string `json:"first_error,omitempty"`
	// Elapsed runs from the first request to the last answer.
	Elapsed time.Duration `json:"elapsed_ns"`
	// PerSecond is Requests over Elapsed.
	PerSecond float64       `json:"per_second"`
	P50       time.Duration `json:"p50_ns"`
	P99       time.Duration `json:"p99_ns"`
	// ServerCPU is the CPU time the cluster's three processes used for
	// the run and after it until they were quiet (on innonet: every site
	// had applied the writes and brought its search and duplicate indexes
	// up to date); the load generator's own is not in it.
	ServerCPU time.Duration `json:"server_cpu_ns,omitempty"`
	// Settle is how long the cluster took after the run to be quiet, its
	// three processes using less than 0.1 s of CPU in a second.
	Settle time.Duration `json:"settle_ns,omitempty"`
	// LeaderAllocs and ServerAllocs are the heap objects the leader, and
	// the three sites together, allocated per request over the same span
	// (innonet only: read from each site's /metrics).
	LeaderAllocs float64 `json:"leader_allocs_per_request,omitempty"`
	ServerAllocs float64 `json:"server_allocs_per_request,omitempty"`
	// Elections is how much the Raft term grew during the run: a
	// leader lost its lead (measured, not hidden, but worth knowing).
	Elections uint64 `json:"elections,omitempty"`
	// PossibleDuplicates is how many possible duplicates innonet's
	// answers named, over all the run's submissions.
	PossibleDuplicates int64 `json:"possible_duplicates,omitempty"`
	// Error says why the run did not finish; its figures, if any, are
	// those of the requests answered until then.
	Error string `json:"error,omitempty"`
}

// percentile is the latency at p (0-100) of sorted, picked the way etcd's
// report (go.etcd.io/etcd/pkg/v3/report) picks it: the first sample whose
// rank i satisfies i*100/n >= p. Both sides' percentiles then mean the same.
func percentile(sorted []time.Duration, p float64) time.Duration {
	n := len(sorted)
	for i := range n {
		if float64(i)*100/float64(n) >= p {
			return sorted[i]
		}
	}
	return 0
}

// cpuPerRequest is the server CPU time per successful request, in
// microseconds; NaN without figures.
func (m measurement) cpuPerRequest() float64 {
	if m.ServerCPU <= 0 || m.Requests == 0 {
		return math.NaN()
	}
	return float64(m.ServerCPU) / float64(time.Microsecond) / float64(m.Requests)
}

// summarize turns the latencies of the successful requests and the time
// the run took into a measurement.
func summarize(lats []time.Duration, errs int, firstErr string, elapsed time.Duration) measurement {
	slices.Sort(lats)
	m := measurement{Requests: len(lats), Errors: errs, FirstError: firstErr, Elapsed: elapsed,
		P50: percentile(lats, 50), P99: percentile(lats, 99)}
	if elapsed > 0 {
		m.PerSecond = float64(len(lats)) / elapsed.Seconds()
	}
	return m
}

// spread is the median of some values with their least and greatest.
type spread struct {
	Median float64 `json:"median"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
	// N is how many values there were (rounds that produced a figure).
	N int `json:"n"`
}

// spreadOf is the spread of vs; NaN values (a round that failed) are
// left out. The median of an even count is the mean of the middle two.
func spreadOf(vs []float64) spread {
	var ok []float64
	for _, v := range vs {
		if !math.IsNaN(v) {
			ok = append(ok, v)
		}
	}
	if len(ok) == 0 {
		return spread{Median: math.NaN(), Min: math.NaN(), Max: math.NaN()}
	}
	slices.Sort(ok)
	n := len(ok)
	med := ok[n/2]
	if n%2 == 0 {
		med = (ok[n/2-1] + ok[n/2]) / 2
	}
	return spread{Median: med, Min: ok[0], Max: ok[n-1], N: n}
}
