//go:build wan

package wan

import (
	"context"
	"fmt"
	"testing"
	"text/tabwriter"
	"time"
)

// round runs the six writes of the mix once, sequentially, each from its
// natural origin: a submit at every node, HQ's approval at CGO of the
// lead BOS just submitted, and a claim of it by the claim site's
// division. It returns the results in the order of Mix.
func round(ctx context.Context, h *Harness, claim string) []Result {
	var out []Result
	var bos string
	for _, n := range Nodes {
		r := h.Submit(ctx, n, false)
		if n == "BOS" {
			bos = r.LeadID
		}
		out = append(out, r)
	}
	review := Result{Op: Op{"review", "CGO"}, Err: fmt.Errorf("no lead to review: the submit at BOS failed")}
	claimR := Result{Op: Op{"claim", claim}, Err: fmt.Errorf("no lead to claim: the submit at BOS failed")}
	if bos != "" {
		review = h.Approve(ctx, "CGO", bos, false)
		if review.OK() {
			claimR = h.Claim(ctx, claim, claim, bos, false)
		} else {
			claimR.Err = fmt.Errorf("no lead to claim: the review failed")
		}
	}
	return append(out, review, claimR)
}

// opStats summarises one operation's samples.
type opStats struct {
	op       Op
	n, fails int
	p50, p90 time.Duration
	firstErr string
}

func summarise(op Op, rs []Result) opStats {
	s := opStats{op: op, n: len(rs)}
	var ds []time.Duration
	for _, r := range rs {
		if r.OK() {
			ds = append(ds, r.Took)
			continue
		}
		s.fails++
		if s.firstErr == "" {
			s.firstErr = fmt.Sprintf("%s: %s %s", r.Op.Label(), r.Outcome(), r.Message())
		}
	}
	s.p50, s.p90 = Percentile(ds, 50), Percentile(ds, 90)
	return s
}

func runPlacement(t *testing.T, h *Harness) {
	ctx := context.Background()
	mix := Mix(*claimSite)
	best, bestFloor := h.M.BestPlacement(mix, Voters)
	type placement struct {
		leader string
		stats  []opStats
		sum    time.Duration
		moved  string
	}
	var all []placement
	for _, leader := range Voters {
		if err := h.TransferLeadership(ctx, leader, time.Minute); err != nil {
			t.Errorf("transfer leadership to %s: %v", leader, err)
			continue
		}
		for range *warmupFlag {
			round(ctx, h, *claimSite)
		}
		byOp := make([][]Result, len(mix))
		for range *samplesFlag {
			for i, r := range round(ctx, h, *claimSite) {
				byOp[i] = append(byOp[i], r)
			}
		}
		p := placement{leader: leader}
		for i, op := range mix {
			s := summarise(op, byOp[i])
			if s.fails > 0 {
				t.Errorf("leader %s: %d of %d %s failed, first: %s", leader, s.fails, s.n, op.Label(), s.firstErr)
			}
			p.stats = append(p.stats, s)
			p.sum += s.p50
		}
		if now, err := h.Admin.Leader(ctx); err != nil || now != leader {
			p.moved = fmt.Sprintf("leader after the samples: %q (%v)", now, err)
		}
		all = append(all, p)
		h.Report.Section(fmt.Sprintf("placement: leader %s", leader), func(w *tabwriter.Writer) {
			q, via := h.M.QuorumRTT(leader, Voters)
			fmt.Fprintf(w, "quorum RTT %s (via %s); %d samples each (after %d warm-up rounds)\n", Ms(q), via, *samplesFlag, *warmupFlag)
			fmt.Fprintln(w, "write\tp50\tp90\tfloor\tp50/floor\tfailed\t")
			for _, s := range p.stats {
				floor := h.M.Floor(s.op.Origin, leader, Voters)
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%.2f\t%d/%d\t\n", s.op.Label(), Ms(s.p50), Ms(s.p90), Ms(floor), ratio(s.p50, floor), s.fails, s.n)
			}
			floorSum := h.M.FloorSum(mix, leader, Voters)
			fmt.Fprintf(w, "sum of p50s\t%s\t\t%s\t%.2f\t\t\n", Ms(p.sum), Ms(floorSum), ratio(p.sum, floorSum))
			if p.moved != "" {
				fmt.Fprintln(w, p.moved)
			}
		})
	}
	h.Report.Section("placement: summary", func(w *tabwriter.Writer) {
		fmt.Fprintf(w, "best placement by the floor: %s, floor sum %s\n", best, Ms(bestFloor))
		fmt.Fprintln(w, "leader\tsum of p50s\tfloor sum\tsum/own floor\tsum/best floor\t")
		for _, p := range all {
			fs := h.M.FloorSum(mix, p.leader, Voters)
			fmt.Fprintf(w, "%s\t%s\t%s\t%.2f\t%.2f\t\n", p.leader, Ms(p.sum), Ms(fs), ratio(p.sum, fs), ratio(p.sum, bestFloor))
		}
	})
}

func ratio(a, b time.Duration) float64 {
	if b <= 0 {
		return 0
	}
	return float64(a) / float64(b)
}
