package search

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"innonet/node/pipeline"
)

// BenchmarkSearchLatency measures search latency over a synthetic index
// kept on disk, as a site keeps it: SEARCH_LEADS leads (default 10,000)
// in four languages, then a mix of English, German and Chinese queries,
// some with filters. It reports p50 and p99 per query.
//
//	SEARCH_LEADS=100000 go test -run '^$' -bench BenchmarkSearchLatency -benchtime 1x ./node/search/
func BenchmarkSearchLatency(b *testing.B) {
	n := 10000
	if v, err := strconv.Atoi(os.Getenv("SEARCH_LEADS")); err == nil && v > 0 {
		n = v
	}
	src := newFakeState(syntheticLeads(n)...)
	x, err := Open(Config{Dir: b.TempDir(), BatchSize: 2000}, src)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); x.Run(ctx) }()
	defer func() { cancel(); <-done; x.Close() }()
	start := time.Now()
	wctx, wcancel := context.WithTimeout(ctx, 30*time.Minute)
	defer wcancel()
	if err := x.WaitFor(wctx, uint64(n)); err != nil {
		b.Fatalf("index %d leads: %v", n, err)
	}
	indexed := time.Since(start)
	// A rebuild ends with a merge of its segments (Index.merge), which
	// searches would otherwise compete with: measure the settled index.
	for n >= compactAfter && x.merges.Load() == 0 && wctx.Err() == nil {
		time.Sleep(10 * time.Millisecond)
	}
	b.Logf("indexed %d leads in %s, merged in %s more", n, indexed.Round(time.Millisecond), (time.Since(start) - indexed).Round(time.Millisecond))
	queries := []Query{
		{Text: "hydrogen storage"}, {Text: "氢能"}, {Text: "Wasserstoff"}, {Text: "solid-state battery", TRLMin: 6},
		{Text: "固态电池"}, {Text: "robot gripper"}, {Text: "机器人"}, {Text: "silicon carbide inverter 800V"},
		{Text: "Meerwasserentsalzung"}, {Text: "AI drug discovery", Sector: 1}, {Text: "芯片"}, {Text: "EV charging", Site: "BOS"},
	}
	var took []time.Duration
	b.ResetTimer()
	for b.Loop() {
		for range 10 {
			for _, q := range queries {
				q.Size = 20
				t0 := time.Now()
				if _, err := x.Search(ctx, q); err != nil {
					b.Fatal(err)
				}
				took = append(took, time.Since(t0))
			}
		}
	}
	slices.Sort(took)
	p := func(q float64) time.Duration { return took[int(q*float64(len(took)-1))] }
	b.ReportMetric(float64(p(0.5).Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(p(0.99).Microseconds())/1000, "p99-ms")
	fmt.Printf("search latency, %d leads, %d queries: p50 %s p99 %s max %s\n", n, len(took), p(0.5), p(0.99), took[len(took)-1])
}

// syntheticLeads makes n leads from a small vocabulary of technologies,
// in English, German, Chinese and Hebrew.
func syntheticLeads(n int) []*pipeline.Lead {
	r := rand.New(rand.NewPCG(1, 2))
	topics := [][4]string{
		{"hydrogen storage tanks", "Wasserstoffspeicher", "储氢罐", "מיכלי מימן"},
		{"solid-state battery cells", "Festkörperbatterie", "固态电池", "סוללה במצב מוצק"},
		{"robot gripper with tactile skin", "Robotergreifer", "机器人夹爪", "גריפר רובוטי"},
		{"silicon carbide inverter", "Siliziumkarbid-Wechselrichter", "碳化硅逆变器", "ממיר סיליקון קרביד"},
		{"seawater desalination membranes", "Meerwasserentsalzung", "海水淡化膜", "התפלת מי ים"},
		{"AI drug discovery platform", "KI-Wirkstoffforschung", "人工智能药物发现", "גילוי תרופות"},
		{"chip design automation", "Chipdesign", "芯片设计", "תכנון שבבים"},
		{"EV fast charging", "Schnellladen", "电动汽车快充", "טעינה מהירה"},
		{"wastewater treatment", "Abwasserbehandlung", "污水处理", "טיהור שפכים"},
		{"drone inspection", "Drohneninspektion", "无人机巡检", "רחפן"},
	}
	filler := strings.Fields("scalable low-cost modular high-efficiency industrial pilot partner license investment market customers patent team prototype production")
	langs := []string{"en", "de", "zh", "he"}
	sites := []string{"BOS", "CBG", "MUC", "TLV"}
	out := make([]*pipeline.Lead, n)
	for i := range out {
		t := topics[r.IntN(len(topics))]
		li := r.IntN(4)
		var words []string
		for range 30 {
			words = append(words, filler[r.IntN(len(filler))])
		}
		site := sites[r.IntN(len(sites))]
		l := lead(fmt.Sprintf("%s-%04d", site, i+1), langs[li], t[li]+" "+filler[r.IntN(len(filler))], t[li]+" "+strings.Join(words, " "), 1+r.IntN(9), t[li])
		l.Site, l.Sector, l.Organization = site, pipeline.Sector(1+r.IntN(8)), fmt.Sprintf("Org %d GmbH", r.IntN(n/3+1))
		out[i] = l
	}
	return out
}

// BenchmarkIndexLeads measures building the index of a site's leads from
// nothing, on disk, as a site that joins or was wiped does: SEARCH_LEADS
// synthetic leads (default 5,000) per run, the time and the allocations
// per lead (the indexer's merges in the background included).
//
//	go test -run '^$' -bench BenchmarkIndexLeads -benchtime 3x ./node/search/
func BenchmarkIndexLeads(b *testing.B) {
	n := 5000
	if v, err := strconv.Atoi(os.Getenv("SEARCH_LEADS")); err == nil && v > 0 {
		n = v
	}
	src := newFakeState(syntheticLeads(n)...)
	var mallocs uint64
	var took time.Duration
	for b.Loop() {
		b.StopTimer()
		dir := b.TempDir()
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		b.StartTimer()
		t0 := time.Now()
		x, err := Open(Config{Dir: dir, BatchSize: 2000}, src)
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); x.Run(ctx) }()
		wctx, wcancel := context.WithTimeout(ctx, 10*time.Minute)
		err = x.WaitFor(wctx, uint64(n))
		wcancel()
		cancel()
		<-done
		if cerr := x.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			b.Fatalf("index %d leads: %v", n, err)
		}
		took += time.Since(t0)
		b.StopTimer()
		runtime.ReadMemStats(&after)
		mallocs += after.Mallocs - before.Mallocs
		b.StartTimer()
	}
	b.ReportMetric(float64(took.Microseconds())/float64(b.N*n), "µs/lead")
	b.ReportMetric(float64(mallocs)/float64(b.N*n), "allocs/lead")
}

// BenchmarkIndexStream measures keeping the index of a stream of new
// leads, as a site does while leads are submitted: SEARCH_LEADS leads
// (default 20,000) arrive in rounds of SEARCH_ROUND (default 3,000, five
// seconds of writes at 600 a second), each written as the index's rounds
// write them. It reports the CPU time per lead of the whole process, so
// scorch's own merges in the background count too, and the segments left.
//
//	go test -run '^$' -bench BenchmarkIndexStream -benchtime 1x ./node/search/
func BenchmarkIndexStream(b *testing.B) {
	n, round := 20000, 3000
	if v, err := strconv.Atoi(os.Getenv("SEARCH_LEADS")); err == nil && v > 0 {
		n = v
	}
	if v, err := strconv.Atoi(os.Getenv("SEARCH_ROUND")); err == nil && v > 0 {
		round = v
	}
	leads := syntheticLeads(n)
	var cpu time.Duration
	for b.Loop() {
		b.StopTimer()
		src := newFakeState()
		x, err := Open(Config{Dir: b.TempDir()}, src)
		if err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		if _, err := x.step(ctx); err != nil { // the first reread, of nothing
			b.Fatal(err)
		}
		runtime.GC()
		b.StartTimer()
		c0 := processCPU(b)
		for from := 0; from < n; from += round {
			batch := leads[from:min(from+round, n)]
			ids := make([]string, len(batch))
			src.mu.Lock()
			for i, l := range batch {
				src.leads[l.ID] = l
				ids[i] = l.ID
			}
			src.applied += uint64(len(batch))
			applied := src.applied
			src.mu.Unlock()
			x.Applied(applied, ids...)
			for more := true; more; {
				if more, err = x.step(ctx); err != nil {
					b.Fatal(err)
				}
			}
		}
		if err := x.Close(); err != nil {
			b.Fatal(err)
		}
		cpu += processCPU(b) - c0
	}
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N*n), "cpu-µs/lead")
}

// processCPU is the CPU time this process has used, of every thread.
func processCPU(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
