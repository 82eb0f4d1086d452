package pipeline

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

var listSizes = flag.String("list.leads", "10000,100000", "the numbers of leads BenchmarkListLeads lists from, comma-separated")

// BenchmarkListLeads measures the server-side cost of one page of 50
// leads (State.List, as ListLeads calls it) at 10,000 and 100,000 leads
// (-list.leads 1000000 for a million):
// the first page, and a deep page (the one after 90% of the matching
// leads), for the orders and filters people use. "examined/op" is how
// many leads the page read. Run with
//
//	go test -run '^$' -bench BenchmarkListLeads -benchtime 2000x ./node/pipeline/
//
// It reports the mean time (ns/op) and the median and 99th percentile of
// the pages' times (p50-µs, p99-µs).
//
// A filter no index narrows and that few leads pass (the q and sector
// cases) reads further, up to the scan budget the API sets (10,000
// leads); it does not grow with the total either, past that budget.
func BenchmarkListLeads(b *testing.B) {
	cases := []struct {
		name string
		f    Filter
	}{
		{"all by id", Filter{}},
		{"all by -updateTime", Filter{Order: OrderUpdated, Desc: true}},
		{"stage=SUBMITTED by createTime", Filter{Stage: Submitted, Order: OrderCreated}},
		{"site=MUC by -updateTime", Filter{Site: "MUC", Order: OrderUpdated, Desc: true}},
		{"site=MUC stage=APPROVED,CLAIMED", Filter{Site: "MUC", Stages: []Stage{Approved, Claimed}}},
		{"division=YRD by stageTime", Filter{Division: "YRD", Order: OrderStageTime}},
		{"sector=IT_AI country=DE", Filter{Sector: ITAI, Country: "DE"}},
		{"q=hydrogen", Filter{Query: "hydrogen", Order: OrderUpdated, Desc: true}},
		{"q=氢能源", Filter{Query: "氢能源"}},
		{"q=nothing matches (budget)", Filter{Query: "zzzz", MaxScan: 10000}},
	}
	for _, field := range strings.Split(*listSizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(field))
		if err != nil || n <= 0 {
			b.Fatalf("-list.leads: %q is not a number of leads", field)
		}
		st, all := synthState(b, n, 7)
		for _, c := range cases {
			f := c.f
			f.Limit = 50
			ref := referenceList(st, all, f)
			for _, depth := range []string{"first", "deep"} {
				g := f
				if depth == "deep" {
					if len(ref) < 100 {
						continue
					}
					lead, err := st.Lead(ref[len(ref)*9/10])
					if err != nil {
						b.Fatal(err)
					}
					g.Position = positionOf(lead, f.Order)
				}
				b.Run(fmt.Sprintf("leads=%d/%s/page=%s", n, c.name, depth), func(b *testing.B) {
					examined := 0
					var took []time.Duration
					b.ReportAllocs()
					for b.Loop() {
						t0 := time.Now()
						p, err := st.List(g)
						took = append(took, time.Since(t0))
						if err != nil {
							b.Fatal(err)
						}
						examined += p.Scanned
					}
					slices.Sort(took)
					b.ReportMetric(float64(examined)/float64(b.N), "examined/op")
					b.ReportMetric(float64(took[len(took)/2].Nanoseconds())/1e3, "p50-µs")
					b.ReportMetric(float64(took[len(took)*99/100].Nanoseconds())/1e3, "p99-µs")
				})
			}
		}
	}
}

// BenchmarkOrderIndexMemory reports the heap a lead costs with the order
// indexes (twelve, of which four hold claimed leads only) and without
// (in the tree by ID only), at 100,000 leads:
//
//	go test -run '^$' -bench BenchmarkOrderIndexMemory -benchtime 1x ./node/pipeline/
func BenchmarkOrderIndexMemory(b *testing.B) {
	with := heapOf(b, func() any { st, _ := synthState(b, 100000, 9); return st })
	without := heapOf(b, func() any {
		st, _ := synthStateBy(b, 100000, 9, func(txn *tx, l *Lead) error {
			writableSide(txn).leads.Set(leadItem{id: l.ID, lead: l})
			return nil
		})
		return st
	})
	for b.Loop() {
	}
	b.ReportMetric(float64(with)/100000, "B/lead")
	b.ReportMetric(float64(without)/100000, "B/lead-without-order-indexes")
}

func heapOf(b *testing.B, build func() any) uint64 {
	b.Helper()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	keep := build()
	runtime.GC()
	runtime.ReadMemStats(&after)
	if *heapProfile != "" {
		f, err := os.Create(*heapProfile)
		if err != nil {
			b.Fatal(err)
		}
		if err := pprof.WriteHeapProfile(f); err != nil {
			b.Fatal(err)
		}
		if err := f.Close(); err != nil {
			b.Fatal(err)
		}
	}
	runtime.KeepAlive(keep)
	return after.HeapAlloc - before.HeapAlloc
}

// heapProfile, when set, is where heapOf writes the heap profile of what
// it measured (the last one measured wins): go tool pprof -sample_index
// inuse_space FILE.
var heapProfile = flag.String("heap.profile", "", "write the heap profile of the state a benchmark measured the heap of to this file")
