package node

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"innonet/node/matching"
	"innonet/node/pipeline"
)

// BenchmarkMatchLatency measures division matching as the API does it,
// on MATCH_LEADS leads (default 100,000; the labelled leads of
// ../shared/data repeated under new IDs) of which a fifth are APPROVED,
// with the profiles of divisions.json:
//
//   - lead: one lead's matches (GetLeadMatches) when its scores are not
//     cached yet;
//
//   - division: one division's list over every APPROVED lead
//     (ListDivisionMatches), with the scores cached (as once warmed);
//
//   - cold: the same list right after a profile changed.
//
//     go test -run '^$' -bench BenchmarkMatchLatency -benchtime 1x ./node/
func BenchmarkMatchLatency(b *testing.B) {
	set := loadQualitySet(b)
	raw, err := os.ReadFile(filepath.Join(filepath.Dir(qualityDataPath()), "divisions.json"))
	if err != nil {
		b.Skipf("no divisions.json beside the data set: %v", err)
	}
	ps, err := matching.Parse(raw)
	if err != nil {
		b.Fatal(err)
	}
	n := 100000
	if v, err := strconv.Atoi(os.Getenv("MATCH_LEADS")); err == nil && v > 0 {
		n = v
	}
	var profiles []*pipeline.DivisionProfile
	for i, p := range ps {
		dp := &pipeline.DivisionProfile{Division: p.Code, Version: int64(i + 1), ProfileInput: pipeline.ProfileInput{
			Keywords: append(slices.Clone(p.Keywords.EN), p.Keywords.ZH...), TRLMin: p.TRL.Min, TRLMax: p.TRL.Max, TRLPreferred: p.TRL.PreferredMin}}
		for _, s := range p.Sectors {
			dp.Sectors = append(dp.Sectors, pipeline.Sector(sectorValue(s)))
		}
		for _, e := range p.Enterprises {
			dp.Enterprises = append(dp.Enterprises, pipeline.Enterprise{Name: e.NameZH, NameEn: e.NameEN, Needs: e.NeedsZH, NeedsEn: e.NeedsEN})
		}
		profiles = append(profiles, dp)
	}
	m := newMatches(func() ([]*pipeline.DivisionProfile, error) { return profiles, nil })
	var approved []*pipeline.Lead
	all := make([]*pipeline.Lead, n)
	for i := range n {
		src := set.Leads[i%len(set.Leads)]
		l := &pipeline.Lead{ID: fmt.Sprintf("BOS-%06d", i+1), Version: 1, Stage: pipeline.Submitted,
			StageTime: time.Unix(int64(i), 0), Draft: pipeline.Draft{Title: src.Title, Summary: src.Summary, Tags: src.Tags,
				Sector: pipeline.Sector(sectorValue(src.Sector)), TRL: src.TRL}}
		if i%5 == 0 {
			l.Stage = pipeline.Approved
			approved = append(approved, l)
		}
		all[i] = l
	}
	ctx := context.Background()
	quantiles := func(took []time.Duration) (p50, p99 time.Duration) {
		slices.Sort(took)
		return took[len(took)/2], took[int(0.99*float64(len(took)-1))]
	}
	var one, list, cold []time.Duration
	for b.Loop() {
		one, list, cold = one[:0], list[:0], cold[:0]
		for _, l := range all[:2000] {
			t0 := time.Now()
			if _, err := m.scores(l); err != nil {
				b.Fatal(err)
			}
			one = append(one, time.Since(t0))
		}
		t0 := time.Now()
		if _, err := m.forDivision(ctx, approved, "BOHAI"); err != nil {
			b.Fatal(err)
		}
		cold = append(cold, time.Since(t0))
		for _, div := range []string{"BOHAI", "YRD", "PRD"} {
			for range 20 {
				t0 := time.Now()
				if _, err := m.forDivision(ctx, approved, div); err != nil {
					b.Fatal(err)
				}
				list = append(list, time.Since(t0))
			}
		}
	}
	o50, o99 := quantiles(one)
	l50, l99 := quantiles(list)
	b.ReportMetric(float64(o99.Microseconds())/1000, "lead-p99-ms")
	b.ReportMetric(float64(l99.Microseconds())/1000, "division-p99-ms")
	fmt.Printf("matches, %d leads (%d APPROVED): one lead p50 %s p99 %s; a division's list p50 %s p99 %s; cold list %s\n",
		n, len(approved), o50, o99, l50, l99, cold[0])
}

func sectorValue(name string) int {
	for s := pipeline.Sector(1); s <= pipeline.OtherSector; s++ {
		if s.String() == name {
			return int(s)
		}
	}
	return 0
}
