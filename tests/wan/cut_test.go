//go:build wan

package wan

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"text/tabwriter"
	"time"

	"innonet/tests/robustness"
)

// prepare submits leads from the nodes, concurrently, and approves
// approved of them: submitted leads for HQ to review and approved ones
// for the divisions to claim.
func prepare(ctx context.Context, h *Harness, submitted, approved int) ([]string, []string, error) {
	var (
		mu       sync.Mutex
		sub, app []string
		errs     []string
		wg       sync.WaitGroup
	)
	work := make(chan bool)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for approve := range work {
				r := h.Submit(ctx, Nodes[w%len(Nodes)], false)
				if r.OK() && approve {
					r = h.Approve(ctx, "CGO", r.LeadID, false)
				}
				mu.Lock()
				switch {
				case !r.OK():
					errs = append(errs, fmt.Sprintf("%s: %s %s", r.Op.Label(), r.Outcome(), r.Message()))
				case approve:
					app = append(app, r.LeadID)
				default:
					sub = append(sub, r.LeadID)
				}
				mu.Unlock()
			}
		}()
	}
	for i := range submitted + approved {
		work <- i >= submitted
	}
	close(work)
	wg.Wait()
	if len(errs) > 0 {
		return nil, nil, fmt.Errorf("preparing leads: %d writes failed, first: %s", len(errs), errs[0])
	}
	return sub, app, nil
}

// border lists the links across the border, both directions.
func border() [][2]string {
	var out [][2]string
	for _, a := range Sites() {
		for _, b := range Sites() {
			if ChinaSide(a) != ChinaSide(b) {
				out = append(out, [2]string{a, b})
			}
		}
	}
	return out
}

// durations matches the durations in a message ("for 14s"), so that
// messages that differ only in them count as one kind.
var durations = regexp.MustCompile(`[0-9]+(\.[0-9]+)?(ms|s)\b`)

func cutBorder(h *Harness, mode robustness.CutMode) error {
	for _, l := range border() {
		if err := h.C.Net.Cut(l[0], l[1], mode); err != nil {
			return err
		}
	}
	return nil
}

func uncutBorder(h *Harness) error {
	for _, l := range border() {
		if err := h.C.Net.Uncut(l[0], l[1]); err != nil {
			return err
		}
	}
	return nil
}

// writers runs each site's natural writes until stop: reviews at CGO,
// claims at each division (of leads from its own pool), submits at the
// nodes; modes says for a site whether its i-th write is queued. It
// returns every result.
func writers(ctx context.Context, h *Harness, until time.Time, pace time.Duration, reviews []string, claims map[string][]string,
	queued func(site string, i int) bool) []Result {
	var (
		mu  sync.Mutex
		out []Result
		wg  sync.WaitGroup
	)
	for _, site := range Sites() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; time.Now().Before(until); i++ {
				q := queued(site, i)
				var r Result
				switch {
				case site == "CGO":
					if i >= len(reviews) {
						return
					}
					r = h.Approve(ctx, site, reviews[i], q)
				case ChinaSide(site):
					if i >= len(claims[site]) {
						return
					}
					r = h.Claim(ctx, site, site, claims[site][i], q)
				default:
					r = h.Submit(ctx, site, q)
				}
				mu.Lock()
				out = append(out, r)
				mu.Unlock()
				select {
				case <-ctx.Done():
					return
				case <-time.After(pace):
				}
			}
		}()
	}
	wg.Wait()
	sort.Slice(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	return out
}

func runCut(t *testing.T, h *Harness) {
	ctx := context.Background()
	leader := *cutLeaderFlag
	if err := h.TransferLeadership(ctx, leader, time.Minute); err != nil {
		t.Fatalf("transfer leadership to %s: %v", leader, err)
	}
	// The target is about twice the election timeout (leaderWait): a
	// site counts itself cut off after that long without its leader,
	// even while Raft still names it. The assertion allows 2s more for
	// a loaded machine; the report counts the answers later than the
	// target.
	target := leaderWait[*profileFlag]
	bound := *boundFlag
	if bound == 0 {
		bound = target + 2*time.Second
	}
	perSite := int(*cutFlag / *paceFlag) + 2
	reviews, approved, err := prepare(ctx, h, perSite, perSite*len(Divisions))
	if err != nil {
		t.Fatal(err)
	}
	claims := map[string][]string{}
	for i, d := range Divisions {
		claims[d] = approved[i*perSite : (i+1)*perSite]
	}
	if err := h.Admin.CaughtUp(ctx); err != nil {
		t.Fatalf("before the cut: %v", err)
	}

	mode := robustness.CutMode(*cutModeFlag)
	if err := cutBorder(h, mode); err != nil {
		t.Fatalf("cut the border: %v", err)
	}
	cutAt := time.Now()
	// China-side sites alternate synchronous and queued writes, starting
	// with a synchronous one; overseas nodes write synchronously.
	results := writers(ctx, h, cutAt.Add(*cutFlag), *paceFlag, reviews, claims,
		func(site string, i int) bool { return ChinaSide(site) && i%2 == 1 })
	if err := uncutBorder(h); err != nil {
		t.Fatalf("heal the border: %v", err)
	}
	healedAt := time.Now()
	cutFor := healedAt.Sub(cutAt)
	healthyErr := robustness.Poll(ctx, 3*time.Minute, 250*time.Millisecond, h.Admin.Healthy)
	healthyIn := time.Since(healedAt)
	if healthyErr != nil {
		t.Errorf("cluster not healthy after the cut: %v", healthyErr)
	}
	endLeader, _ := h.Admin.Leader(ctx)

	// After healing: was each write applied, and how often?
	type check struct {
		applied int
		err     error
	}
	checks := make([]check, len(results))
	anyQueued := false
	for i, r := range results {
		if r.LeadID == "" {
			continue // a submit that failed: nothing to look up
		}
		via := endLeader
		if via == "" {
			via = "CGO"
		}
		if r.Queued {
			anyQueued = true
			// A queued write is delivered when its site reaches the
			// leader again: wait for it.
			checks[i].err = robustness.Poll(ctx, 2*time.Minute, 500*time.Millisecond, func(ctx context.Context) error {
				n, err := h.Applied(ctx, via, r.LeadID, r.RequestID)
				checks[i].applied = n
				if err == nil && n == 0 {
					err = fmt.Errorf("queued %s %s not applied yet", r.Op.Label(), r.RequestID)
				}
				return err
			})
		} else {
			checks[i].applied, checks[i].err = h.Applied(ctx, via, r.LeadID, r.RequestID)
		}
	}

	// Assertions: what must hold.
	for i, r := range results {
		china := ChinaSide(r.Op.Origin)
		switch {
		case china && !r.Queued && r.Took > bound:
			t.Errorf("%s %s (allow queued: %v) answered after %s, more than the bound %s: %s %s",
				r.Op.Label(), r.RequestID, r.AllowQueued, Ms(r.Took), Ms(bound), r.Outcome(), r.Message())
		case r.Queued && (checks[i].err != nil || checks[i].applied != 1):
			t.Errorf("queued %s %s: applied %d times after healing (want exactly once): %v",
				r.Op.Label(), r.RequestID, checks[i].applied, checks[i].err)
		}
	}

	h.Report.Section(fmt.Sprintf("border cut: leader %s, China side (CGO %s) cut off for %s (%s)",
		leader, strings.Join(Divisions, " "), cutFor.Round(100*time.Millisecond), mode), func(w *tabwriter.Writer) {
		fmt.Fprintf(w, "China side alternates synchronous and x-innonet-allow-queued writes every %s; writes stop at %s, the border heals when the last is answered\n",
			*paceFlag, *cutFlag)
		fmt.Fprintf(w, "target: told within %s (2× the %s election timeout); asserted: within %s\n", Ms(target), *profileFlag, Ms(bound))
		fmt.Fprintf(w, "site\twrite\tmode\tn\tok\tqueued\trefused\trefusal p50\trefusal max\t> %s\tok p50\tapplied after heal\t\n", Ms(target))
		type key struct{ site, op, mode string }
		type agg struct {
			n, ok, queued, refused, applied, doubled, late int
			refusals, oks                                  []time.Duration
			messages                                       map[string]int    // by shape
			example                                        map[string]string // the first of each shape
		}
		var keys []key
		aggs := map[key]*agg{}
		for i, r := range results {
			m := "sync"
			if r.AllowQueued {
				m = "queued"
			}
			k := key{r.Op.Origin, r.Op.Name, m}
			a := aggs[k]
			if a == nil {
				a = &agg{messages: map[string]int{}, example: map[string]string{}}
				aggs[k] = a
				keys = append(keys, k)
			}
			a.n++
			switch {
			case r.Queued:
				a.queued++
			case r.Err == nil:
				a.ok++
				a.oks = append(a.oks, r.Took)
			default:
				a.refused++
				a.refusals = append(a.refusals, r.Took)
				msg := r.Outcome() + " " + r.Message()
				shape := durations.ReplaceAllString(msg, "#")
				if a.messages[shape]++; a.example[shape] == "" {
					a.example[shape] = msg
				}
			}
			if !r.Queued && r.Took > target {
				a.late++
			}
			if checks[i].applied > 0 {
				a.applied++
			}
			if checks[i].applied > 1 {
				a.doubled++
			}
		}
		sort.Slice(keys, func(i, j int) bool {
			a, b := keys[i], keys[j]
			if ChinaSide(a.site) != ChinaSide(b.site) {
				return ChinaSide(a.site)
			}
			if a.site != b.site {
				return a.site < b.site
			}
			return a.mode > b.mode
		})
		for _, k := range keys {
			a := aggs[k]
			applied := fmt.Sprintf("%d", a.applied)
			if a.doubled > 0 {
				applied += fmt.Sprintf(" (%d more than once!)", a.doubled)
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%d\t%d\t%d\t%s\t%s\t%d\t%s\t%s\t\n", k.site, k.op, k.mode, a.n, a.ok, a.queued, a.refused,
				Ms(Percentile(a.refusals, 50)), Ms(Percentile(a.refusals, 100)), a.late, Ms(Percentile(a.oks, 50)), applied)
		}
		_ = w.Flush()
		fmt.Fprintln(w, "what the refused were told (the first of each kind of message, and how many got one like it):")
		for _, k := range keys {
			var msgs []string
			for m := range aggs[k].messages {
				msgs = append(msgs, m)
			}
			sort.Strings(msgs)
			for _, m := range msgs {
				fmt.Fprintf(w, "  %s %s %s ×%d: %s\n", k.site, k.op, k.mode, aggs[k].messages[m], aggs[k].example[m])
			}
		}
		if !anyQueued {
			fmt.Fprintln(w, "no site queued a write: the x-innonet-allow-queued writes were refused like the synchronous ones (queued intake not in this binary)")
		}
		healthy := "healthy after " + healthyIn.Round(100*time.Millisecond).String()
		if healthyErr != nil {
			healthy = "NOT healthy: " + healthyErr.Error()
		}
		fmt.Fprintf(w, "after healing: cluster %s; leader %s\n", healthy, endLeader)
	})
}
