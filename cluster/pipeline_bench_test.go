package cluster

import (
	"context"
	"fmt"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkReplicationWAN measures commits per second and their median
// latency on three voters whose connections to each other carry a
// one-way delay (a 25 ms round trip), with 16 writers, replicating with
// and without the pipeline:
//
//	go test -run '^$' -bench BenchmarkReplicationWAN -benchtime 2000x ./cluster/
func BenchmarkReplicationWAN(b *testing.B) {
	for _, pipelined := range []bool{false, true} {
		b.Run(fmt.Sprintf("pipeline=%v", pipelined), func(b *testing.B) {
			leader := wanCluster(b, 25*time.Millisecond, !pipelined)
			ctx := context.Background()
			var next atomic.Int64
			lat := make([]time.Duration, b.N)
			var wg sync.WaitGroup
			b.ResetTimer()
			start := time.Now()
			for range 16 {
				wg.Go(func() {
					for {
						i := next.Add(1) - 1
						if i >= int64(b.N) {
							return
						}
						t0 := time.Now()
						if _, err := leader.Apply(ctx, []byte(fmt.Sprintf("cmd-%d", i))); err != nil {
							b.Error(err)
							return
						}
						lat[i] = time.Since(t0)
					}
				})
			}
			wg.Wait()
			el := time.Since(start)
			b.StopTimer()
			slices.Sort(lat)
			b.ReportMetric(float64(b.N)/el.Seconds(), "commits/s")
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
		})
	}
}

// wanCluster starts CGO (leader), BOS and MUC with delayed connections and
// returns the leader once both followers are voters.
func wanCluster(b *testing.B, rtt time.Duration, noPipeline bool) *Cluster {
	b.Helper()
	var d net.Dialer
	dial := delayedDial(func(ctx context.Context, addr string) (net.Conn, error) { return d.DialContext(ctx, "tcp", addr) }, rtt)
	start := func(id string, bootstrap bool) *Cluster {
		cfg := DefaultConfig()
		if err := cfg.UseProfile("test"); err != nil {
			b.Fatal(err)
		}
		cfg.HeartbeatTimeout, cfg.ElectionTimeout, cfg.LeaderLeaseTimeout = time.Second, time.Second, 500*time.Millisecond
		cfg.ID, cfg.RaftAddr, cfg.APIAddr, cfg.DataDir, cfg.Bootstrap = id, "127.0.0.1:0", "api-of-"+id, b.TempDir(), bootstrap
		cfg.RaftLogLevel, cfg.Dial, cfg.NoPipeline = "off", dial, noPipeline
		c, err := New(cfg, &counterFSM{})
		if err != nil {
			b.Fatalf("start %s: %v", id, err)
		}
		b.Cleanup(func() { c.Close() })
		if !bootstrap {
			c.TrustVoters([]string{"CGO"})
		}
		return c
	}
	a := start("CGO", true)
	deadline := time.Now().Add(20 * time.Second)
	for !a.IsLeader() {
		if time.Now().After(deadline) {
			b.Fatal("CGO never led")
		}
		time.Sleep(10 * time.Millisecond)
	}
	ctx := context.Background()
	for _, id := range []string{"BOS", "MUC"} {
		c := start(id, false)
		if err := a.Join(ctx, id, c.RaftAddr(), "api-of-"+id, true); err != nil {
			b.Fatalf("join %s: %v", id, err)
		}
	}
	for {
		st, err := a.Status()
		voters := 0
		if err == nil {
			for _, m := range st.Members {
				if m.Voter {
					voters++
				}
			}
		}
		if voters == 3 {
			return a
		}
		if time.Now().After(deadline) {
			b.Fatalf("followers not voters: %+v, %v", st, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
