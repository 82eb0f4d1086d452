//go:build wan

package wan

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"text/tabwriter"
	"time"

	"innonet/tests/robustness"
)

func runFlap(t *testing.T, h *Harness) {
	ctx := context.Background()
	startLeader, err := h.Admin.Leader(ctx)
	if err != nil {
		t.Fatalf("no leader before the flapping: %v", err)
	}
	cycle := *flapDownFlag + *flapUpFlag
	total := time.Duration(*flapCyclesFlag) * cycle
	perSite := int(total / *paceFlag) + 2
	reviews, approved, err := prepare(ctx, h, perSite, perSite*len(Divisions))
	if err != nil {
		t.Fatal(err)
	}
	claims := map[string][]string{}
	for i, d := range Divisions {
		claims[d] = approved[i*perSite : (i+1)*perSite]
	}
	if err := h.Admin.CaughtUp(ctx); err != nil {
		t.Fatalf("before the flapping: %v", err)
	}
	mode := robustness.CutMode(*cutModeFlag)
	begin := time.Now()
	flapErr := make(chan error, 1)
	go func() {
		// The fault schedule: down, then up, for each cycle.
		for range *flapCyclesFlag {
			if err := cutBorder(h, mode); err != nil {
				flapErr <- err
				return
			}
			time.Sleep(*flapDownFlag)
			if err := uncutBorder(h); err != nil {
				flapErr <- err
				return
			}
			time.Sleep(*flapUpFlag)
		}
		flapErr <- nil
	}()
	results := writers(ctx, h, begin.Add(total), *paceFlag, reviews, claims, func(string, int) bool { return false })
	if err := <-flapErr; err != nil {
		t.Fatalf("flapping the border: %v", err)
	}
	healedAt := time.Now()
	healthyErr := robustness.Poll(ctx, 3*time.Minute, 250*time.Millisecond, h.Admin.Healthy)
	if healthyErr == nil {
		healthyErr = h.Admin.CaughtUp(ctx)
	}
	convergedIn := time.Since(healedAt)
	if healthyErr != nil {
		t.Errorf("cluster did not converge after the flapping: %v", healthyErr)
	}
	endLeader, _ := h.Admin.Leader(ctx)

	h.Report.Section(fmt.Sprintf("flapping border: %d cycles of %s down / %s up (%s), every site writing every %s",
		*flapCyclesFlag, *flapDownFlag, *flapUpFlag, mode, *paceFlag), func(w *tabwriter.Writer) {
		fmt.Fprintln(w, "site\twrite\tn\tok\tok %\tok p50\tok p90\tfailed p50\tfailed max\tfailures by code\t")
		type agg struct {
			op        string
			n, ok     int
			oks, errs []time.Duration
			codes     map[string]int
		}
		aggs := map[string]*agg{}
		for _, r := range results {
			a := aggs[r.Op.Origin]
			if a == nil {
				a = &agg{op: r.Op.Name, codes: map[string]int{}}
				aggs[r.Op.Origin] = a
			}
			a.n++
			if r.OK() {
				a.ok++
				a.oks = append(a.oks, r.Took)
			} else {
				a.errs = append(a.errs, r.Took)
				a.codes[r.Outcome()]++
			}
		}
		for _, site := range Sites() {
			a := aggs[site]
			if a == nil {
				continue
			}
			var codes []string
			for c, n := range a.codes {
				codes = append(codes, fmt.Sprintf("%s×%d", c, n))
			}
			sort.Strings(codes)
			fmt.Fprintf(w, "%s\t%s\t%d\t%d\t%.0f\t%s\t%s\t%s\t%s\t%v\t\n", site, a.op, a.n, a.ok, 100*float64(a.ok)/float64(max(a.n, 1)),
				Ms(Percentile(a.oks, 50)), Ms(Percentile(a.oks, 90)), Ms(Percentile(a.errs, 50)), Ms(Percentile(a.errs, 100)), codes)
		}
		conv := "converged (healthy, every site caught up) " + convergedIn.Round(100*time.Millisecond).String() + " after the last heal"
		if healthyErr != nil {
			conv = "did NOT converge: " + healthyErr.Error()
		}
		fmt.Fprintf(w, "leader before %s, after %s; %s\n", startLeader, endLeader, conv)
	})
}
