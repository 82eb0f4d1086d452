package reports

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"innonet/node/pipeline"
)

// BenchmarkFunnel measures a funnel over 100,000 leads with real
// histories (submitted; a third approved, of which half claimed and some
// signed): the first report, which reads every history, and the next
// ones, which read the summaries kept by version. Run with
//
//	go test -run '^$' -bench BenchmarkFunnel -benchtime 20x ./node/reports/
func BenchmarkFunnel(b *testing.B) {
	t := &testing.T{}
	bk := newBook(t)
	start := time.Date(2026, 1, 1, 9, 0, 0, 0, shanghai)
	const n = 100_000
	for i := range n {
		bk.now = start.Add(time.Duration(i) * 4 * time.Minute)
		actor := []string{"bos", "muc", "tum"}[i%3]
		id := bk.submit(actor, "US", pipeline.Sector(1+i%8))
		if i%3 == 0 {
			bk.act("hq", pipeline.Command{Op: pipeline.OpReview, LeadID: id, Decision: pipeline.Approve})
			if i%2 == 0 {
				bk.act("yrd", pipeline.Command{Op: pipeline.OpClaim, LeadID: id})
				if i%5 == 0 {
					bk.act("yrd", pipeline.Command{Op: pipeline.OpAdvance, LeadID: id, Stage: pipeline.Negotiating})
					bk.act("yrd", pipeline.Command{Op: pipeline.OpAdvance, LeadID: id, Stage: pipeline.Signed})
				}
			}
		}
	}
	if t.Failed() {
		b.Fatal("building the histories failed")
	}
	e := New(bk.st)
	q := FunnelQuery{From: start, To: start.AddDate(1, 0, 0), GroupBy: []Dimension{BySite, ByMonth}, Location: shanghai}
	t0 := time.Now()
	f, err := e.Funnel(q)
	if err != nil {
		b.Fatal(err)
	}
	cold := time.Since(t0)
	var took []time.Duration
	for b.Loop() {
		t0 := time.Now()
		if _, err := e.Funnel(q); err != nil {
			b.Fatal(err)
		}
		took = append(took, time.Since(t0))
	}
	slices.Sort(took)
	p99 := took[int(0.99*float64(len(took)-1))]
	b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
	fmt.Printf("funnel by site and month over %d leads (%d pushed, %d groups): first %s, then p50 %s p99 %s\n",
		n, f.Total.Counts[Pushed], len(f.Groups), cold.Round(time.Millisecond), took[len(took)/2].Round(100*time.Microsecond), p99.Round(100*time.Microsecond))
}
