package cluster

import (
	"context"
	"testing"
)

// BenchmarkLinearizableRead measures a linearizable read on the leader of
// three voters and a read replica on loopback: one reader at a time, and
// many at once (which share confirmation rounds).
func BenchmarkLinearizableRead(b *testing.B) {
	g := newGroup(b)
	cgo := g.start("CGO")
	for _, id := range []string{"BOS", "MUC", "YRD"} {
		g.start(id)
		g.join(id, id != "YRD")
	}
	g.apply(cgo, "one")
	ctx := context.Background()
	b.Run("sequential", func(b *testing.B) {
		for b.Loop() {
			if err := cgo.LinearizableRead(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.SetParallelism(16)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := cgo.LinearizableRead(ctx); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}
