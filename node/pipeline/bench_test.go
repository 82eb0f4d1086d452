package pipeline

import (
	"fmt"
	"testing"
)

// BenchmarkApplySubmit measures the FSM's throughput on new leads: the
// entries are encoded beforehand, as the log would hold them.
func BenchmarkApplySubmit(b *testing.B) {
	f := newFixture(b)
	data := make([][]byte, b.N)
	for i := range data {
		data[i] = f.encode("bos", Command{Op: OpSubmit, RequestID: fmt.Sprintf("bench-%d", i), Draft: validDraft(),
			Time: clock(uint64(i)).UnixNano()})
	}
	benchApply(b, f, data)
}

// BenchmarkApplyClaimCycle claims and releases one lead over and over: the
// path a contested lead takes, with its history growing.
func BenchmarkApplyClaimCycle(b *testing.B) {
	f := newFixture(b)
	id := f.leadIn(Approved)
	data := make([][]byte, b.N)
	for i := range data {
		op := OpClaim
		if i%2 == 1 {
			op = OpRelease
		}
		data[i] = f.encode("yrd", Command{Op: op, RequestID: fmt.Sprintf("bench-%d", i), LeadID: id,
			Time: clock(uint64(i)).UnixNano()})
	}
	benchApply(b, f, data)
}

func benchApply(b *testing.B, f *fixture, data [][]byte) {
	b.Helper()
	b.ReportAllocs()
	b.ResetTimer()
	for _, d := range data {
		if res := f.applyRaw(d); !isResult(res) {
			b.Fatalf("entry %d refused: %v", f.index, res)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "cmds/s")
}

func isResult(res any) bool {
	_, ok := res.(Result)
	return ok
}
