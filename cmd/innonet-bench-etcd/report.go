package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// results are every figure of a run of the benchmark, as -json writes them.
type results struct {
	Command        string       `json:"command"`
	Started        time.Time    `json:"started"`
	Finished       time.Time    `json:"finished"`
	Rounds         int          `json:"rounds"`
	CPUs           int          `json:"cpus"`
	InnonetCommit  string       `json:"innonet_commit,omitempty"`
	EtcdVersion    string       `json:"etcd_version,omitempty"`
	SubmitBodySize int          `json:"submit_body_bytes"`
	Cells          []cellResult `json:"cells"`
	// At the end: how many leads innonet holds, and every member's
	// resident memory in bytes.
	InnonetLeads int              `json:"innonet_leads"`
	InnonetRSS   map[string]int64 `json:"innonet_rss_bytes,omitempty"`
	EtcdRSS      map[string]int64 `json:"etcd_rss_bytes,omitempty"`
}

type cellResult struct {
	Name     string     `json:"name"`
	Title    string     `json:"title"`
	Clients  int        `json:"clients"`
	Conns    int        `json:"conns"`
	Requests int        `json:"requests"`
	Innonet  sideResult `json:"innonet"`
	Etcd     sideResult `json:"etcd"`
	// Per round: innonet's requests per second over etcd's, and
	// innonet's p50 over etcd's.
	Ratio    spread `json:"ratio"`
	P50Ratio spread `json:"p50_ratio"`
}

type sideResult struct {
	Rounds    []measurement `json:"rounds"`
	PerSecond spread        `json:"per_second"`
	P50ms     spread        `json:"p50_ms"`
	P99ms     spread        `json:"p99_ms"`
	// CPUus is the CPU time of the cluster's processes per request, in
	// microseconds.
	CPUus spread `json:"server_cpu_us_per_request"`
	// LeaderAllocs and ServerAllocs are the heap allocations per request
	// of the leader and of the three sites (innonet only).
	LeaderAllocs spread `json:"leader_allocs_per_request"`
	ServerAllocs spread `json:"server_allocs_per_request"`
}

func newResults(cfg config, cells []cell, args []string) *results {
	r := &results{Command: strings.TrimSpace("innonet-bench-etcd " + strings.Join(args, " ")), Started: time.Now(),
		Rounds: cfg.rounds, CPUs: runtime.NumCPU(), SubmitBodySize: submitBodySize}
	for _, c := range cells {
		r.Cells = append(r.Cells, cellResult{Name: c.Name, Title: c.Title, Clients: c.Clients, Conns: c.Conns, Requests: c.Requests})
	}
	return r
}

// finish computes the medians and notes the clusters' state at the end.
func (r *results) finish(b *bench) {
	r.Finished = time.Now()
	for i := range r.Cells {
		c := &r.Cells[i]
		c.Innonet.summarize()
		c.Etcd.summarize()
		var rates, p50s []float64
		for j := range min(len(c.Innonet.Rounds), len(c.Etcd.Rounds)) {
			rates = append(rates, rateRatio(c.Innonet.Rounds[j], c.Etcd.Rounds[j]))
			p50s = append(p50s, p50Ratio(c.Innonet.Rounds[j], c.Etcd.Rounds[j]))
		}
		c.Ratio, c.P50Ratio = spreadOf(rates), spreadOf(p50s)
	}
	r.InnonetLeads = b.written + 1 // and the one the reads read
	r.InnonetRSS, r.EtcdRSS = b.innonet.rss(), b.etcd.rss()
}

func (s *sideResult) summarize() {
	var rate, p50, p99, cpu, lead, all []float64
	for _, m := range s.Rounds {
		if m.ok() && m.LeaderAllocs > 0 {
			lead, all = append(lead, m.LeaderAllocs), append(all, m.ServerAllocs)
		}
		if !m.ok() {
			rate, p50, p99 = append(rate, math.NaN()), append(p50, math.NaN()), append(p99, math.NaN())
			continue
		}
		cpu = append(cpu, m.cpuPerRequest())
		rate = append(rate, m.PerSecond)
		p50 = append(p50, float64(m.P50)/float64(time.Millisecond))
		p99 = append(p99, float64(m.P99)/float64(time.Millisecond))
	}
	s.PerSecond, s.P50ms, s.P99ms, s.CPUus = spreadOf(rate), spreadOf(p50), spreadOf(p99), spreadOf(cpu)
	s.LeaderAllocs, s.ServerAllocs = spreadOf(lead), spreadOf(all)
}

// write prints the table, and the JSON to jsonOut when given ("-":
// standard output, instead of the table).
func (r *results) write(jsonOut string, stdout io.Writer) error {
	if jsonOut != "-" {
		r.table(stdout)
	}
	if jsonOut == "" {
		return nil
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("encode the results: %w", err)
	}
	b = append(b, '\n')
	if jsonOut == "-" {
		_, err = stdout.Write(b)
		return err
	}
	if err := os.WriteFile(jsonOut, b, 0o644); err != nil {
		return fmt.Errorf("write the results: %w", err)
	}
	return nil
}

// table prints one line per cell: both sides' medians and the ratios.
func (r *results) table(w io.Writer) {
	fmt.Fprintf(w, "\ninnonet vs etcd, 3 members each on 127.0.0.1, %d CPUs, median of %d rounds (innonet %s; %s)\n\n",
		r.CPUs, r.Rounds, orDash(r.InnonetCommit), orDash(r.EtcdVersion))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "cell\tinnonet\tetcd\tratio (min–max)\tp50 ratio (min–max)\tCPU µs/req innonet, etcd\tallocs/req innonet leader, all\tnotes")
	fmt.Fprintln(tw, "----\t-------\t----\t---------------\t-------------------\t------------------------\t-----------------------------\t-----")
	for _, c := range r.Cells {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s, %s\t%s, %s\t%s\n", c.Title, c.Innonet.text(), c.Etcd.text(),
			c.Ratio.text(2), c.P50Ratio.text(2), cpuText(c.Innonet.CPUus), cpuText(c.Etcd.CPUus),
			cpuText(c.Innonet.LeaderAllocs), cpuText(c.Innonet.ServerAllocs), notes(c))
	}
	tw.Flush()
	fmt.Fprintf(w, "\nratio: innonet's requests/s over etcd's; p50 ratio: innonet's p50 latency over etcd's (lower is better for innonet);\n"+
		"CPU µs/req: CPU time of the three server processes per request (the load generators' not counted);\n"+
		"allocs/req: heap objects innonet's leader, and its three sites together, allocated per request (go_memstats_mallocs_total).\n")
	fmt.Fprintf(w, "At the end innonet held %d leads; RSS innonet %s, etcd %s.\n", r.InnonetLeads, rssText(r.InnonetRSS), rssText(r.EtcdRSS))
}

func (s sideResult) text() string {
	if len(s.Rounds) == 0 {
		return "not run"
	}
	if s.PerSecond.N == 0 {
		return "failed"
	}
	return fmt.Sprintf("%s/s, p50 %s, p99 %s", thousands(s.PerSecond.Median),
		millis(time.Duration(s.P50ms.Median*float64(time.Millisecond))),
		millis(time.Duration(s.P99ms.Median*float64(time.Millisecond))))
}

func (s spread) text(prec int) string {
	if s.N == 0 {
		return "-"
	}
	f := func(v float64) string { return fmt.Sprintf("%.*f", prec, v) }
	if s.N == 1 {
		return f(s.Median)
	}
	return fmt.Sprintf("%s (%s–%s)", f(s.Median), f(s.Min), f(s.Max))
}

// notes says which rounds failed or had failed requests.
func notes(c cellResult) string {
	var out []string
	for _, side := range []struct {
		name   string
		rounds []measurement
	}{{"innonet", c.Innonet.Rounds}, {"etcd", c.Etcd.Rounds}} {
		for i, m := range side.rounds {
			switch {
			case !m.ok():
				out = append(out, fmt.Sprintf("%s round %d failed: %s", side.name, i+1, clip(m.Error, 80)))
			case m.Errors > 0:
				out = append(out, fmt.Sprintf("%s round %d: %d errors (%s)", side.name, i+1, m.Errors, clip(m.FirstError, 60)))
			}
			if m.Elections > 0 {
				out = append(out, fmt.Sprintf("%s round %d: Raft term +%d (leader lost)", side.name, i+1, m.Elections))
			}
		}
	}
	return strings.Join(out, "; ")
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func cpuText(s spread) string {
	if s.N == 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f", s.Median)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func rssText(m map[string]int64) string {
	if len(m) == 0 {
		return "-"
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s %d MB", k, m[k]>>20))
	}
	return strings.Join(parts, ", ")
}

// MarshalJSON writes a spread without values (no round finished) as null.
func (s spread) MarshalJSON() ([]byte, error) {
	if s.N == 0 {
		return []byte("null"), nil
	}
	type plain spread
	return json.Marshal(plain(s))
}
