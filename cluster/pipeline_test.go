package cluster

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	hclog "github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
)

// follower is a transport whose AppendEntries answers come from answer,
// optionally after a delay (a round trip).
func follower(t *testing.T, delay time.Duration, answer func(n int64, req *raft.AppendEntriesRequest) *raft.AppendEntriesResponse) *transport {
	t.Helper()
	cfg := DefaultConfig()
	cfg.RaftAddr = "127.0.0.1:0"
	tr, err := newTransport(cfg, slog.New(slog.DiscardHandler), hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.Close() })
	everyone := func(string) peerRole { return peerRole{member: true, voter: true} }
	tr.gate.roles.Store(&everyone)
	var n atomic.Int64
	go func() {
		for rpc := range tr.Consumer() {
			req, ok := rpc.Command.(*raft.AppendEntriesRequest)
			if !ok {
				rpc.Respond(nil, errors.New("only AppendEntries here"))
				continue
			}
			if delay > 0 {
				time.Sleep(delay)
			}
			rpc.Respond(answer(n.Add(1), req), nil)
		}
	}()
	return tr
}

func leaderTransport(t *testing.T) *transport {
	t.Helper()
	cfg := DefaultConfig()
	cfg.RaftAddr = "127.0.0.1:0"
	cfg.TransportTimeout = 5 * time.Second
	tr, err := newTransport(cfg, slog.New(slog.DiscardHandler), hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.Close() })
	return tr
}

func appendReq(i int) *raft.AppendEntriesRequest {
	return &raft.AppendEntriesRequest{RPCHeader: raft.RPCHeader{ID: []byte("L"), Addr: []byte("L")}, Term: 3,
		PrevLogEntry: uint64(i), PrevLogTerm: 3,
		Entries: []*raft.Log{{Index: uint64(i + 1), Term: 3, Type: raft.LogCommand, Data: []byte("x"), AppendedAt: time.Unix(1700000000, 5).UTC()}}}
}

// TestPipelineRejectionDoesNotHang is hashicorp/raft#612's trigger: the
// follower answers Success=false mid-pipeline and the leader's decoder,
// as Raft's does, stops reading answers, while the sender goes on. Every
// send must still return, and Close must too.
func TestPipelineRejectionDoesNotHang(t *testing.T) {
	f := follower(t, 0, func(n int64, req *raft.AppendEntriesRequest) *raft.AppendEntriesResponse {
		return &raft.AppendEntriesResponse{Term: req.Term, LastLog: req.PrevLogEntry, Success: n <= 5}
	})
	l := leaderTransport(t)
	p, err := l.AppendEntriesPipeline("F", raft.ServerAddress(f.LocalAddr()))
	if err != nil {
		t.Fatal(err)
	}
	// The decoder: read answers until the first refusal, then stop.
	decoded := make(chan int, 1)
	go func() {
		n := 0
		for fut := range p.Consumer() {
			n++
			if !fut.Response().Success {
				decoded <- n
				return
			}
		}
	}()
	sent := make(chan error, 1)
	go func() {
		for i := range 4 * pipelineDepth {
			if _, err := p.AppendEntries(appendReq(i), new(raft.AppendEntriesResponse)); err != nil {
				sent <- err
				return
			}
		}
		sent <- nil
	}()
	select {
	case n := <-decoded:
		if n != 6 {
			t.Errorf("decoder stopped at answer %d, want the 6th (the first refusal)", n)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no refusal decoded")
	}
	select {
	case err := <-sent:
		if err != nil {
			t.Fatalf("send: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the sender hung after the decoder stopped (hashicorp/raft#612)")
	}
	closed := make(chan struct{})
	go func() { p.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close hung")
	}
	if _, err := p.AppendEntries(appendReq(0), new(raft.AppendEntriesResponse)); !errors.Is(err, raft.ErrPipelineShutdown) {
		t.Errorf("send after Close: %v, want ErrPipelineShutdown", err)
	}
}

// TestPipelineKeepsRequestsInFlight: with a follower 20 ms away, a
// pipeline carries many requests per round trip, in order, each answer
// matched to its request.
func TestPipelineKeepsRequestsInFlight(t *testing.T) {
	const rtt = 20 * time.Millisecond
	var mu sync.Mutex
	var order []uint64
	f := follower(t, 0, func(_ int64, req *raft.AppendEntriesRequest) *raft.AppendEntriesResponse {
		mu.Lock()
		order = append(order, req.PrevLogEntry)
		mu.Unlock()
		return &raft.AppendEntriesResponse{Term: req.Term, LastLog: req.PrevLogEntry + 1, Success: true}
	})
	l := leaderTransport(t)
	// The round trip is on the leader's connection, as a WAN puts it.
	l.dial = delayedDial(l.dial, rtt)
	p, err := l.AppendEntriesPipeline("F", raft.ServerAddress(f.LocalAddr()))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	const n = 200
	got := make(chan raft.AppendFuture, n)
	go func() {
		for fut := range p.Consumer() {
			got <- fut
		}
	}()
	start := time.Now()
	for i := range n {
		if _, err := p.AppendEntries(appendReq(i), new(raft.AppendEntriesResponse)); err != nil {
			t.Fatal(err)
		}
	}
	for i := range n {
		select {
		case fut := <-got:
			if err := fut.Error(); err != nil {
				t.Fatalf("answer %d: %v", i, err)
			}
			if fut.Request().PrevLogEntry != uint64(i) || fut.Response().LastLog != uint64(i+1) {
				t.Fatalf("answer %d: request %d, last log %d", i, fut.Request().PrevLogEntry, fut.Response().LastLog)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("answer %d never came", i)
		}
	}
	took := time.Since(start)
	// One at a time would take n round trips (4 s); a pipeline a few.
	if took > n*rtt/4 {
		t.Errorf("%d requests took %s: not pipelined (one per round trip would be %s)", n, took, n*rtt)
	}
	t.Logf("%d requests over a %s round trip in %s", n, rtt, took)
}

// delayedDial gives connections whose writes arrive delay later, without
// slowing the writer: a one-way latency, as a long link has.
func delayedDial(dial DialFunc, delay time.Duration) DialFunc {
	return func(ctx context.Context, addr string) (net.Conn, error) {
		c, err := dial(ctx, addr)
		if err != nil {
			return nil, err
		}
		d := &delayedConn{Conn: c, q: make(chan delayed, 1024)}
		go d.pump(delay)
		return d, nil
	}
}

type delayed struct {
	at time.Time
	b  []byte
}

type delayedConn struct {
	net.Conn
	q    chan delayed
	once sync.Once
}

func (d *delayedConn) Write(b []byte) (int, error) {
	d.q <- delayed{time.Now(), append([]byte(nil), b...)}
	return len(b), nil
}

func (d *delayedConn) pump(delay time.Duration) {
	for w := range d.q {
		time.Sleep(time.Until(w.at.Add(delay)))
		if _, err := d.Conn.Write(w.b); err != nil {
			return
		}
	}
}

func (d *delayedConn) Close() error {
	d.once.Do(func() { close(d.q) })
	return d.Conn.Close()
}
