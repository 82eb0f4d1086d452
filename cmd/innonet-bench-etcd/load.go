package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
)

// call sends request i of a run over conn and waits for its answer.
type call func(ctx context.Context, conn *grpc.ClientConn, i int) error

// load is a run of the innonet side of a cell, made the way etcd's
// benchmark makes its own: clients goroutines share conns connections
// (client c uses connection c mod conns) and take the requests 0..total-1
// in turn until all are answered.
type load struct {
	addr           string
	token          string
	clients, conns int
	total          int
	call           call
}

// run sends the requests and measures them. It gives up when ctx ends
// (the run's time bound) and then returns what it measured with an error.
func (l load) run(ctx context.Context) (measurement, error) {
	conns := make([]*grpc.ClientConn, l.conns)
	defer func() {
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
	}()
	for i := range conns {
		c, err := grpc.NewClient(l.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			return measurement{}, fmt.Errorf("dial %s: %w", l.addr, err)
		}
		conns[i] = c
		// Connect before the clock starts, as etcd's tool does.
		if err := awaitReady(ctx, c); err != nil {
			return measurement{}, fmt.Errorf("connect to %s: %w", l.addr, err)
		}
	}
	ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+l.token)
	var (
		next     atomic.Int64
		wg       sync.WaitGroup
		mu       sync.Mutex
		lats     = make([]time.Duration, 0, l.total)
		errs     int
		firstErr string
	)
	start := time.Now()
	for c := range l.clients {
		wg.Add(1)
		go func(conn *grpc.ClientConn) {
			defer wg.Done()
			mine := make([]time.Duration, 0, l.total/l.clients+1)
			var bad int
			var badMsg string
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= l.total {
					break
				}
				t0 := time.Now()
				err := l.call(ctx, conn, i)
				d := time.Since(t0)
				switch {
				case err == nil:
					mine = append(mine, d)
				case ctx.Err() == nil:
					bad++
					if badMsg == "" {
						badMsg = err.Error()
					}
				}
			}
			mu.Lock()
			lats = append(lats, mine...)
			errs += bad
			if firstErr == "" {
				firstErr = badMsg
			}
			mu.Unlock()
		}(conns[c%len(conns)])
	}
	wg.Wait()
	m := summarize(lats, errs, firstErr, time.Since(start))
	if err := ctx.Err(); err != nil {
		return m, fmt.Errorf("%d of %d requests answered before the run's time was up: %w", m.Requests+m.Errors, l.total, err)
	}
	return m, nil
}

// awaitReady connects conn and waits until it is ready or ctx ends.
func awaitReady(ctx context.Context, conn *grpc.ClientConn) error {
	conn.Connect()
	for {
		s := conn.GetState()
		if s == connectivity.Ready {
			return nil
		}
		if !conn.WaitForStateChange(ctx, s) {
			return fmt.Errorf("connection %s: %w", s, ctx.Err())
		}
	}
}
