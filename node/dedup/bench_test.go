package dedup

import (
	"fmt"
	"math/rand"
	"strings"
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

// BenchmarkCheck100k measures one duplicate check against 100,000 leads.
func BenchmarkCheck100k(b *testing.B) {
	ix := New(DefaultConfig())
	for _, l := range synthetic(100_000, 1) {
		if err := ix.Add(l); err != nil {
			b.Fatal(err)
		}
	}
	probes := synthetic(64, 2)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		ix.Check(probes[i%len(probes)])
	}
}
