//go:build wan

package wan

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"text/tabwriter"
	"time"
)

// runAuto starts its own cluster with automatic leader placement (CGO
// bootstraps and leads at first), drives the mix of six writes and
// follows where the leader goes.
func runAuto(t *testing.T, e *env) {
	if !e.placementFlag {
		msg := "SKIPPED: innonet serve has no --leader-placement flag (automatic placement not in this binary)"
		e.report.Section("auto placement", func(w *tabwriter.Writer) { fmt.Fprintln(w, msg) })
		t.Skip(msg)
	}
	h, err := e.start([]string{"--leader-placement", "auto"})
	if err != nil {
		t.Fatalf("cluster with --leader-placement auto: %v", err)
	}
	defer h.Stop()
	ctx := context.Background()
	mix := Mix(*claimSite)
	best, bestFloor := h.M.BestPlacement(mix, Voters)

	// Follow the leader once a second.
	type move struct {
		at     time.Duration
		leader string
	}
	var (
		mu    sync.Mutex
		moves []move
	)
	begin := time.Now()
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		last := ""
		for {
			if l, err := h.Admin.Leader(ctx); err == nil && l != last {
				mu.Lock()
				moves = append(moves, move{time.Since(begin), l})
				mu.Unlock()
				last = l
			}
			select {
			case <-stop:
				return
			case <-time.After(time.Second):
			}
		}
	}()
	type sample struct {
		at time.Duration
		rs []Result
	}
	var samples []sample
	fails := 0
	for time.Since(begin) < *autoFlag {
		at := time.Since(begin)
		rs := round(ctx, h, *claimSite)
		for _, r := range rs {
			if !r.OK() {
				fails++
			}
		}
		samples = append(samples, sample{at, rs})
	}
	close(stop)
	<-done
	if fails > 0 {
		t.Errorf("%d writes failed during the auto-placement run", fails)
	}
	// The last quarter of the run shows where placement settled.
	window := *autoFlag * 3 / 4
	sums := func(from time.Duration) (time.Duration, int) {
		byOp := make([][]Result, len(mix))
		n := 0
		for _, s := range samples {
			if s.at < from {
				continue
			}
			n++
			for i, r := range s.rs {
				byOp[i] = append(byOp[i], r)
			}
		}
		var sum time.Duration
		for i, op := range mix {
			sum += summarise(op, byOp[i]).p50
		}
		return sum, n
	}
	whole, nWhole := sums(0)
	last, nLast := sums(window)
	final, _ := h.Admin.Leader(ctx)
	h.Report.Section("auto placement: CGO bootstraps, --leader-placement auto", func(w *tabwriter.Writer) {
		var ms []string
		mu.Lock()
		for _, m := range moves {
			ms = append(ms, fmt.Sprintf("%s at %.1fs", m.leader, m.at.Seconds()))
		}
		mu.Unlock()
		fmt.Fprintf(w, "leaders seen: %s; leader at the end: %s; best placement by the floor: %s (floor sum %s)\n",
			strings.Join(ms, " → "), final, best, Ms(bestFloor))
		fmt.Fprintln(w, "window\trounds\tsum of p50s\t/best floor\t")
		fmt.Fprintf(w, "whole run (%s)\t%d\t%s\t%.2f\t\n", *autoFlag, nWhole, Ms(whole), ratio(whole, bestFloor))
		fmt.Fprintf(w, "last quarter\t%d\t%s\t%.2f\t(target ≤ 1.15)\n", nLast, Ms(last), ratio(last, bestFloor))
	})
}
