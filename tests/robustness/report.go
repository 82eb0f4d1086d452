package robustness

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// Report is the summary of a run.
type Report struct {
	Seed     uint64
	Duration time.Duration
	// Replay is the command that runs the same schedule again.
	Replay   string
	Security string // "TLS" or "insecure"
	Sites    []string
	Ops      []Op
	Faults   []Fault
	Result   *CheckResult
	Final    *Final
	Crashes  []string
	// Liveness lists faults that could not be injected or healed, and
	// times the cluster was not healthy within the deadline after healing.
	Liveness []string
	Notes    []string
}

// Anomalies is the total number of anomalies (crashes included).
func (r *Report) Anomalies() int {
	n := len(r.Crashes) + len(r.Liveness)
	if r.Result != nil {
		n += len(r.Result.Anomalies)
	}
	return n
}

// Write prints the report.
func (r *Report) Write(w io.Writer) {
	fmt.Fprintf(w, "innonet robustness report\n")
	fmt.Fprintf(w, "seed %d   workload %v   transport %s   sites %s\n", r.Seed, r.Duration, r.Security, strings.Join(r.Sites, ","))
	fmt.Fprintf(w, "replay: %s\n\n", r.Replay)

	fmt.Fprintf(w, "Operations by type and outcome\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "op\ttotal\tok\tfail\tunknown\tretried\t\n")
	type count struct{ total, ok, fail, unknown, retried int }
	counts := map[Kind]*count{}
	codes := map[Kind]map[string]int{}
	var all count
	for _, op := range r.Ops {
		c := counts[op.Kind]
		if c == nil {
			c = &count{}
			counts[op.Kind] = c
			codes[op.Kind] = map[string]int{}
		}
		for _, c := range []*count{c, &all} {
			c.total++
			switch op.Outcome {
			case OK:
				c.ok++
			case Failed:
				c.fail++
			default:
				c.unknown++
			}
			if op.Attempts > 1 {
				c.retried++
			}
		}
		if op.Outcome != OK {
			codes[op.Kind][op.Outcome.String()+":"+op.Code]++
		}
	}
	for _, k := range Kinds {
		if c := counts[k]; c != nil {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t\n", k, c.total, c.ok, c.fail, c.unknown, c.retried)
		}
	}
	fmt.Fprintf(tw, "all\t%d\t%d\t%d\t%d\t%d\t\n", all.total, all.ok, all.fail, all.unknown, all.retried)
	tw.Flush()
	fmt.Fprintf(w, "\nNot-ok answers by type (outcome:code)\n")
	for _, k := range Kinds {
		if len(codes[k]) == 0 {
			continue
		}
		var parts []string
		for c, n := range codes[k] {
			parts = append(parts, fmt.Sprintf("%s=%d", c, n))
		}
		sort.Strings(parts)
		fmt.Fprintf(w, "  %-9s %s\n", k, strings.Join(parts, " "))
	}
	reads := map[string]int{}
	for _, op := range r.Ops {
		if op.Kind.IsRead() && op.Outcome == OK {
			reads[op.Consistency]++
		}
	}
	var cons []string
	for c, n := range reads {
		cons = append(cons, fmt.Sprintf("%s=%d", c, n))
	}
	sort.Strings(cons)
	fmt.Fprintf(w, "  successful reads by consistency: %s\n", strings.Join(cons, " "))

	fmt.Fprintf(w, "\nLatency of successful operations (ms)\n")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "op\tn\tp50\tp95\tp99\tmax\t\n")
	for _, k := range Kinds {
		var ds []int64
		for _, op := range r.Ops {
			if op.Kind == k && op.Outcome == OK {
				ds = append(ds, op.Return-op.Call)
			}
		}
		if len(ds) == 0 {
			continue
		}
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		q := func(p float64) string {
			i := int(p * float64(len(ds)-1))
			return fmt.Sprintf("%.1f", float64(ds[i])/1e6)
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t\n", k, len(ds), q(0.50), q(0.95), q(0.99), q(1))
	}
	tw.Flush()

	fmt.Fprintf(w, "\nFaults injected\n")
	byKind := map[FaultKind]int{}
	for _, f := range r.Faults {
		byKind[f.Kind]++
	}
	for _, k := range FaultKinds {
		fmt.Fprintf(w, "  %-15s %d\n", k, byKind[k])
	}
	fmt.Fprintf(w, "  %-15s %d\n", "total", len(r.Faults))
	for _, f := range r.Faults {
		rec := "not recovered"
		if f.Recovered > 0 || f.Err == "" {
			rec = "healthy " + f.Recovered.Round(10*time.Millisecond).String() + " after healing"
		}
		fmt.Fprintf(w, "  %8.1fs  %-15s %-45s held %5.1fs  %s", f.Start.Seconds(), f.Kind, f.Detail, (f.End - f.Start).Seconds(), rec)
		if f.Err != "" {
			fmt.Fprintf(w, "  (%s)", f.Err)
		}
		fmt.Fprintln(w)
	}

	if r.Final != nil {
		fmt.Fprintf(w, "\nFinal state\n")
		for _, s := range r.Final.Sites {
			if s.Err != "" {
				fmt.Fprintf(w, "  %-6s unreadable: %s\n", s.Site, s.Err)
				continue
			}
			fmt.Fprintf(w, "  %-6s applied index %-6d leads %-5d digest %.16s\n", s.Site, s.AppliedIndex, len(s.Leads), s.Digest)
		}
	}

	fmt.Fprintf(w, "\nAnomalies (must be 0)\n")
	if r.Result != nil {
		for _, c := range Checkers {
			fmt.Fprintf(w, "  %-13s %d\n", c, r.Result.Count(c))
		}
		fmt.Fprintf(w, "  (linearizability: %d leads, %d operations checked; %d inconclusive %v)\n",
			r.Result.LinearizableLeads, r.Result.LinearizableOps, len(r.Result.Inconclusive), r.Result.Inconclusive)
	}
	fmt.Fprintf(w, "  %-13s %d\n", "crashes", len(r.Crashes))
	fmt.Fprintf(w, "  %-13s %d\n", "liveness", len(r.Liveness))
	fmt.Fprintf(w, "  %-13s %d\n", "total", r.Anomalies())
	const maxShown = 50
	shown := 0
	if r.Result != nil {
		for _, a := range r.Result.Anomalies {
			if shown++; shown > maxShown {
				fmt.Fprintf(w, "  ... and %d more\n", len(r.Result.Anomalies)-maxShown)
				break
			}
			fmt.Fprintf(w, "  [%s] %s\n", a.Checker, a.Detail)
		}
	}
	for _, c := range r.Crashes {
		fmt.Fprintf(w, "  [crash] %s\n", c)
	}
	for _, l := range r.Liveness {
		fmt.Fprintf(w, "  [liveness] %s\n", l)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
}
