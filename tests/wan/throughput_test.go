//go:build wan

package wan

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"text/tabwriter"
	"time"
)

// The issue's figure: 16 closed-loop submitters with MUC leading.
const issueWritesPerSec = 151

func runThroughput(t *testing.T, h *Harness) {
	ctx := context.Background()
	leader, _ := h.M.BestPlacement(Mix(*claimSite), Voters)
	if err := h.TransferLeadership(ctx, leader, time.Minute); err != nil {
		t.Fatalf("transfer leadership to %s: %v", leader, err)
	}
	origin := func(i int) string {
		if *loadOriginFlag == "nodes" {
			return Nodes[i%len(Nodes)]
		}
		return leader
	}
	// Sequential baseline from the same origins.
	var seq []time.Duration
	h.Submit(ctx, origin(0), false) // warm-up
	for i := range *seqFlag {
		r := h.Submit(ctx, origin(i), false)
		if !r.OK() {
			t.Errorf("sequential submit at %s: %s %s", r.Op.Origin, r.Outcome(), r.Message())
			continue
		}
		seq = append(seq, r.Took)
	}
	// Closed loop: each submitter sends its next write when the last is
	// answered.
	var (
		mu    sync.Mutex
		load  []time.Duration
		fails int
		first string
		wg    sync.WaitGroup
	)
	sitesCPU := func() time.Duration {
		var d time.Duration
		for _, s := range h.C.Sites {
			if pid := s.Pid(); pid != 0 {
				d += cpuOf(pid)
			}
		}
		return d
	}
	cpu0, self0 := sitesCPU(), selfCPU()
	begin := time.Now()
	deadline := begin.Add(*loadFlag)
	var profiled sync.WaitGroup
	if *cpuProfiles != "" && *loadFlag >= 3*time.Second {
		profiled.Go(func() {
			if err := h.CPUProfiles(ctx, *cpuProfiles, *loadFlag-2*time.Second); err != nil {
				t.Errorf("%v", err)
			}
		})
	}
	for i := range *loadClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				r := h.Submit(ctx, origin(i), false)
				mu.Lock()
				if r.OK() {
					load = append(load, r.Took)
				} else {
					fails++
					if first == "" {
						first = fmt.Sprintf("%s: %s %s", r.Op.Label(), r.Outcome(), r.Message())
					}
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(begin)
	profiled.Wait()
	cpuSites, cpuSelf := sitesCPU()-cpu0, selfCPU()-self0
	if fails > 0 {
		t.Errorf("%d of %d submits under load failed, first: %s", fails, fails+len(load), first)
	}
	seqP50, loadP50 := Percentile(seq, 50), Percentile(load, 50)
	perSec := float64(len(load)) / elapsed.Seconds()
	where := fmt.Sprintf("node staff at the leader's site %s", leader)
	if *loadOriginFlag == "nodes" {
		where = "node staff spread over BOS, CBG, MUC, TLV"
	}
	h.Report.Section(fmt.Sprintf("throughput: leader %s, %d closed-loop submitters", leader, *loadClients), func(w *tabwriter.Writer) {
		fmt.Fprintf(w, "submitters: %s; %v of load, %d writes, %d failed\n", where, elapsed.Round(10*time.Millisecond), len(load), fails)
		fmt.Fprintln(w, "\tp50\tp90\tn\t")
		fmt.Fprintf(w, "sequential\t%s\t%s\t%d\t\n", Ms(seqP50), Ms(Percentile(seq, 90)), len(seq))
		fmt.Fprintf(w, "under load\t%s\t%s\t%d\t\n", Ms(loadP50), Ms(Percentile(load, 90)), len(load))
		fmt.Fprintf(w, "writes/s: %.1f (target ≥ %d: 3× the issue's %d/s; closed-loop bound %d/p50 sequential = %.1f/s)\n",
			perSec, 3*issueWritesPerSec, issueWritesPerSec, *loadClients, float64(*loadClients)/seqP50.Seconds())
		fmt.Fprintf(w, "p50 under load / sequential p50: %.2f (target ≤ 1.30)\n", ratio(loadP50, seqP50))
		if n := len(load); n > 0 {
			perWrite := (cpuSites + cpuSelf) / time.Duration(n)
			fmt.Fprintf(w, "CPU per write: %.1f ms in the %d sites' processes, %.1f ms in this process (clients, TLS, proxies); %.0f%% of %d cores busy; at that cost this machine allows at most %.0f writes/s\n",
				ms(cpuSites/time.Duration(n)), len(h.C.Sites), ms(cpuSelf/time.Duration(n)),
				100*(cpuSites+cpuSelf).Seconds()/elapsed.Seconds()/float64(runtime.NumCPU()), runtime.NumCPU(),
				float64(runtime.NumCPU())/perWrite.Seconds())
		}
	})
}
