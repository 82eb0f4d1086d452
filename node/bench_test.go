package node

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	innonetpb "innonet/proto/innonet/v1"
)

// BenchmarkSubmitEndToEnd measures committed submits per second on a
// three-voter cluster on loopback: gRPC in, Raft commit to a quorum (real
// TCP transport, raft-boltdb with fsync), apply, answer. "via=follower"
// adds the forwarding hop a caller pays when it does not talk to the
// leader. Each run builds a fresh cluster before the timer starts.
func BenchmarkSubmitEndToEnd(b *testing.B) {
	for _, via := range []string{"follower", "leader"} {
		for _, workers := range []int{1, 64} {
			b.Run(fmt.Sprintf("via=%s/concurrency=%d", via, workers), func(b *testing.B) {
				benchSubmit(b, testVoters, via == "leader", workers)
			})
		}
	}
}

// BenchmarkSubmitOneSite is BenchmarkSubmitEndToEnd's leader alone: a
// cluster of one voter, so that its allocations per submit are the
// leader's (and the in-process client's, some 80 of them): the request,
// the log write and the apply, and the derived work (search index,
// duplicate index, inboxes) that every site does after the apply.
// allocs/op counts until the last answer, allocs-settled/op until the
// search and duplicate indexes have taken in every submit (568 and 915
// at 64 clients on 2026-12-04, 1,332 and 1,374 with one; see README,
// Performance against etcd).
func BenchmarkSubmitOneSite(b *testing.B) {
	for _, workers := range []int{1, 64} {
		b.Run(fmt.Sprintf("concurrency=%d", workers), func(b *testing.B) {
			benchSubmit(b, testVoters[:1], true, workers)
		})
	}
}

// productionLike gives benchmark sites what a deployed site runs with: the
// LAN timing profile and the search index on disk (tests keep it in
// memory, where indexing costs several times as much).
func productionLike(b *testing.B) func(*Config) {
	return func(c *Config) {
		if err := c.Cluster.UseProfile("lan"); err != nil {
			b.Fatal(err)
		}
		c.SearchInMemory = false
	}
}

func benchSubmit(b *testing.B, voters []string, toLeader bool, workers int) {
	tc := newTestCluster(b, voters, nil, productionLike(b))
	tok := tc.addUser("Bench", innonetpb.Role_NODE_STAFF, "BOS", "")
	target := tc.leaderNode()
	if !toLeader {
		target = tc.follower(false)
	}
	c := tc.clients(target, tok)
	ctx := withToken(context.Background(), tok)
	// One submit before the timer, so the connection is up.
	if _, err := c.leads.SubmitLead(ctx, sampleLead("Warm-up")); err != nil {
		b.Fatalf("warm-up submit: %v", err)
	}

	var (
		next      atomic.Int64
		mu        sync.Mutex
		firstErr  error
		latencies = make([]time.Duration, b.N)
		wg        sync.WaitGroup
	)
	// The leader answers every submit, forwarded or not.
	prechecks := tc.leaderNode().metrics.prechecks.WithLabelValues("kept")
	kept := testutil.ToFloat64(prechecks)
	b.ReportAllocs()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	began := time.Now()
	for range workers {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= int64(b.N) {
					return
				}
				req := benchLead(i)
				rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
				t0 := time.Now()
				_, err := c.leads.SubmitLead(rctx, req)
				latencies[i] = time.Since(t0)
				cancel()
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(began)
	b.StopTimer()
	if firstErr != nil {
		b.Fatalf("submit: %v", firstErr)
	}
	// allocs/op stops at the last answer; every site then still brings
	// its search and duplicate indexes up to date (the search index
	// writes every few seconds under load). Counted until they have, the
	// allocations are what a submit costs the process in all.
	applied := tc.leaderNode().state.AppliedIndex()
	eventually(b, 2*time.Minute, "the derived indexes catch up", func() error {
		for _, id := range tc.order {
			n := tc.sites[id].node
			if n.search.Indexed() < applied || n.dupes.indexed.Load() < applied {
				return fmt.Errorf("%s: search at %d, duplicates at %d of %d", id, n.search.Indexed(), n.dupes.indexed.Load(), applied)
			}
		}
		return nil
	})
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(b.N), "allocs-settled/op")
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "ops/s")
	slices.Sort(latencies)
	b.ReportMetric(float64(latencies[len(latencies)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(latencies[len(latencies)*99/100].Microseconds())/1000, "p99-ms")
	// The submits that kept the duplicate check made while they committed.
	b.ReportMetric((testutil.ToFloat64(prechecks)-kept)/float64(b.N), "prechecked/op")
}

// BenchmarkGetLeadByConsistency measures one-at-a-time GetLead latency
// through a follower at each read level: STALE answers locally, LEADER
// adds the forwarding hop, LINEARIZABLE adds the leader's quorum round
// (VerifyLeader) on top.
func BenchmarkGetLeadByConsistency(b *testing.B) {
	tc := newTestCluster(b, testVoters, nil)
	tok := tc.addUser("Bench", innonetpb.Role_NODE_STAFF, "BOS", "")
	lc := tc.clients(tc.leaderNode(), tok)
	lead, err := lc.leads.SubmitLead(withToken(context.Background(), tok), sampleLead("Read me"))
	if err != nil {
		b.Fatal(err)
	}
	c := tc.clients(tc.follower(false), tok)
	ctx := withToken(context.Background(), tok)
	for _, cons := range []innonetpb.Consistency{innonetpb.Consistency_STALE, innonetpb.Consistency_LEADER, innonetpb.Consistency_LINEARIZABLE} {
		b.Run(cons.String(), func(b *testing.B) {
			req := &innonetpb.GetLeadRequest{Id: lead.Id, Consistency: cons}
			if _, err := c.leads.GetLead(ctx, req); err != nil { // warm-up; STALE may lag the submit
				eventually(b, 5*time.Second, "the follower has the lead", func() error {
					_, err := c.leads.GetLead(ctx, req)
					return err
				})
			}
			latencies := make([]time.Duration, b.N)
			b.ResetTimer()
			for i := range b.N {
				t0 := time.Now()
				if _, err := c.leads.GetLead(ctx, req); err != nil {
					b.Fatal(err)
				}
				latencies[i] = time.Since(t0)
			}
			b.StopTimer()
			slices.Sort(latencies)
			b.ReportMetric(float64(latencies[len(latencies)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(latencies[len(latencies)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}

// benchLead is the i-th lead of a submit benchmark: each from its own
// organisation, with words of its own among common ones, as real leads
// are. (Leads that all name one organisation would all be duplicates of
// each other, and every submit would pay for comparing it with them all.)
func benchLead(i int64) *innonetpb.SubmitLeadRequest {
	r := rand.New(rand.NewPCG(uint64(i), 7))
	word := func() string {
		const letters = "abcdefghiklmnoprstuvz"
		b := make([]byte, 5+r.IntN(5))
		for k := range b {
			b[k] = letters[r.IntN(len(letters))]
		}
		return string(b)
	}
	common := []string{"battery", "sensor", "hydrogen", "imaging", "catalyst", "robotics", "vaccine", "membrane", "laser", "polymer"}
	org := strings.ToUpper(word()[:1]) + word() + " GmbH"
	req := sampleLead(fmt.Sprintf("%s %s %s platform", common[r.IntN(len(common))], word(), word()))
	req.Summary = fmt.Sprintf("A %s %s that cuts %s costs; pilot with %s.", word(), common[r.IntN(len(common))], word(), word())
	req.Organization = org
	return req
}
