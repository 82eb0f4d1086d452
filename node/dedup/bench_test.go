package dedup

import (
	"fmt"
	"math/rand"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// synthetic returns n leads with made-up organisations, domains and
// technology words, deterministically from seed.
func synthetic(n int, seed int64) []Lead {
	r := rand.New(rand.NewSource(seed))
	syl := []string{"ka", "lo", "mi", "ra", "ten", "vor", "sil", "dex", "qua", "bri", "nor", "zen", "hal", "gri", "tek", "pho"}
	name := func() string {
		var b strings.Builder
		for k := 2 + r.Intn(3); k > 0; k-- {
			b.WriteString(syl[r.Intn(len(syl))])
		}
		return b.String()
	}
	vocab := make([]string, 3000)
	for i := range vocab {
		vocab[i] = name()
	}
	tech := []string{"hydrogen", "battery", "membrane", "sensor", "robot", "catalyst", "antibody", "coating", "laser", "drone", "wastewater", "radar"}
	words := func(k int) string {
		ws := make([]string, k)
		for i := range ws {
			if r.Intn(3) == 0 {
				ws[i] = tech[r.Intn(len(tech))]
			} else {
				ws[i] = vocab[r.Intn(len(vocab))]
			}
		}
		return strings.Join(ws, " ")
	}
	out := make([]Lead, n)
	for i := range out {
		org := name()
		out[i] = Lead{ID: fmt.Sprint(i), Title: words(6), Summary: words(40), Organization: strings.ToUpper(org[:1]) + org[1:] + " GmbH",
			Country: "DE", TRL: 1 + r.Intn(9), Tags: []string{words(1), words(2)}, Language: "en",
			Contacts: []Contact{{Name: name() + " " + name(), Email: "info@" + org + ".de"}}, Website: "https://" + org + ".de"}
	}
	return out
}

// index100k is an index of 100,000 synthetic leads, built once for the
// benchmarks that need one, with Put from two goroutines.
var index100k = sync.OnceValue(func() *Index {
	ix := New(DefaultConfig())
	leads := synthetic(100_000, 1)
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Go(func() {
			for i := w; i < len(leads); i += 2 {
				if err := ix.Put(leads[i]); err != nil {
					panic(err)
				}
			}
		})
	}
	wg.Wait()
	return ix
})

// BenchmarkCheck100k measures one duplicate check against 100,000 leads.
func BenchmarkCheck100k(b *testing.B) {
	ix := index100k()
	probes := synthetic(64, 2)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		ix.Check(probes[i%len(probes)])
	}
}

// BenchmarkPut100k measures an edit: a lead of a 100,000-lead index
// replaced by a new version, compactions included.
func BenchmarkPut100k(b *testing.B) {
	ix := index100k()
	edits := synthetic(1000, 3)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		e := edits[i%len(edits)]
		e.ID = fmt.Sprint((i * 7919) % 100_000)
		if err := ix.Put(e); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBuild100k measures building an index of 100,000 leads with
// Put from one goroutine; one operation is the whole build.
func BenchmarkBuild100k(b *testing.B) {
	leads := synthetic(100_000, 1)
	for b.Loop() {
		ix := New(DefaultConfig())
		for _, l := range leads {
			if err := ix.Put(l); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkPrepare measures reading a lead's features (names, domains,
// the weighted words and concepts of its text), which Put and Check do
// for every lead before they touch the index.
//
//	go test -run '^$' -bench BenchmarkPrepare -benchmem ./node/dedup/
func BenchmarkPrepare(b *testing.B) {
	leads := synthetic(1000, 4)
	for i := 0; b.Loop(); i++ {
		prepare(leads[i%len(leads)])
	}
}

// BenchmarkHeap100k measures the memory an index of 100,000 synthetic
// leads keeps (the live heap it adds, after a collection) per lead; one
// operation is building it.
//
//	go test -run '^$' -bench BenchmarkHeap100k -benchtime 1x ./node/dedup/
func BenchmarkHeap100k(b *testing.B) {
	leads := synthetic(100_000, 1)
	for b.Loop() {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		ix := New(DefaultConfig())
		for _, l := range leads {
			if err := ix.Put(l); err != nil {
				b.Fatal(err)
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/float64(len(leads)), "heap-B/lead")
		runtime.KeepAlive(ix)
	}
}
