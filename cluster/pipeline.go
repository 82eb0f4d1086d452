package cluster

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/hashicorp/go-msgpack/v2/codec"
	"github.com/hashicorp/raft"
)

// Pipelined replication. Without a pipeline hashicorp/raft sends one
// AppendEntries at a time to each follower and waits for its answer, so
// over a WAN a follower gets at most one batch per round trip. With one,
// the leader keeps sending while answers are on their way back.
//
// hashicorp/raft's own pipeline (in NetworkTransport) can deadlock
// (hashicorp/raft#612): Raft's decoder stops reading answers when a
// follower answers Success=false or a newer term, the transport's reader
// then parks on a full channel of answers, requests in flight can no
// longer be retired, and the sender parks on a full channel of requests
// while Raft waits for it to return before it closes the pipeline. Its
// Close also hands the connection back to the pool with answers still
// unread, for the next RPC on it to read as its own.
//
// This pipeline differs in the two places that matter:
//   - a request's slot is freed when its answer is read, not when Raft
//     takes the answer: answers go to an unbounded queue that Raft may
//     stop reading at any time, so the reader never waits for Raft and the
//     sender waits at most for the network (each read has the transport's
//     timeout);
//   - it has a connection of its own, closed with the pipeline, so no
//     answer outlives it.
//
// It speaks NetworkTransport's wire format (a type byte, then the request
// in msgpack; the answer as an error string and the response), so the
// followers' side is unchanged.

// pipelineDepth is how many AppendEntries may be in flight to one
// follower.
const pipelineDepth = 64

// rpcAppendEntries is NetworkTransport's type byte for AppendEntries.
const rpcAppendEntries byte = 0

// errPipelineClosed answers requests still in flight when the pipeline
// closes.
var errPipelineClosed = errors.New("replication pipeline closed")

type pipeline struct {
	conn    net.Conn
	timeout time.Duration
	w       *bufio.Writer
	enc     *codec.Encoder
	dec     *codec.Decoder

	sendMu sync.Mutex // one request written at a time, in order

	mu       sync.Mutex
	cond     *sync.Cond
	inflight []*appendFuture // sent, answer not yet read, in order
	answered []raft.AppendFuture
	closed   bool

	consumer chan raft.AppendFuture
	done     chan struct{}
	wg       sync.WaitGroup
}

func newPipeline(conn net.Conn, timeout time.Duration) *pipeline {
	p := &pipeline{conn: conn, timeout: timeout, w: bufio.NewWriterSize(conn, 64<<10),
		dec:      codec.NewDecoder(bufio.NewReaderSize(conn, 64<<10), &codec.MsgpackHandle{}),
		consumer: make(chan raft.AppendFuture), done: make(chan struct{})}
	// As NetworkTransport encodes by default (MsgpackUseNewTimeFormat
	// unset), so that followers decode log times the same way.
	h := &codec.MsgpackHandle{}
	h.TimeNotBuiltin = true
	p.enc = codec.NewEncoder(p.w, h)
	p.cond = sync.NewCond(&p.mu)
	p.wg.Add(2)
	go p.read()
	go p.deliver()
	return p
}

// AppendEntries implements raft.AppendPipeline. It waits while
// pipelineDepth requests are in flight: for answers from the network,
// never for Raft.
func (p *pipeline) AppendEntries(args *raft.AppendEntriesRequest, resp *raft.AppendEntriesResponse) (raft.AppendFuture, error) {
	f := &appendFuture{start: time.Now(), args: args, resp: resp, done: make(chan struct{})}
	p.sendMu.Lock()
	defer p.sendMu.Unlock()
	p.mu.Lock()
	for len(p.inflight) >= pipelineDepth && !p.closed {
		p.cond.Wait()
	}
	if p.closed {
		p.mu.Unlock()
		return nil, raft.ErrPipelineShutdown
	}
	// Queued before it is written, so the reader expects its answer in
	// order; if the write fails the connection is closed and the reader
	// fails it with the rest.
	p.inflight = append(p.inflight, f)
	p.cond.Broadcast()
	p.mu.Unlock()
	if p.timeout > 0 {
		_ = p.conn.SetWriteDeadline(time.Now().Add(p.timeout))
	}
	err := p.w.WriteByte(rpcAppendEntries)
	if err == nil {
		err = p.enc.Encode(args)
	}
	if err == nil {
		err = p.w.Flush()
	}
	if err != nil {
		p.fail()
		return nil, fmt.Errorf("pipeline send: %w", err)
	}
	return f, nil
}

// read reads the answers in the order the requests were sent.
func (p *pipeline) read() {
	defer p.wg.Done()
	for {
		p.mu.Lock()
		for len(p.inflight) == 0 && !p.closed {
			p.cond.Wait()
		}
		if len(p.inflight) == 0 {
			p.mu.Unlock()
			return
		}
		f := p.inflight[0]
		p.mu.Unlock()
		if p.timeout > 0 {
			_ = p.conn.SetReadDeadline(time.Now().Add(p.timeout))
		}
		var rpcErr string
		err := p.dec.Decode(&rpcErr)
		if err == nil {
			err = p.dec.Decode(f.resp)
		}
		if err != nil {
			// The connection is unusable past a failed read: fail what is
			// in flight (Raft then replicates without a pipeline).
			p.fail()
			return
		}
		p.mu.Lock()
		if p.closed {
			// fail has answered f already.
			p.mu.Unlock()
			return
		}
		if rpcErr != "" {
			f.err = errors.New(rpcErr)
		}
		p.inflight = p.inflight[1:]
		p.answered = append(p.answered, f)
		p.cond.Broadcast()
		p.mu.Unlock()
		close(f.done)
	}
}

// deliver hands answers to Raft as it takes them.
func (p *pipeline) deliver() {
	defer p.wg.Done()
	for {
		p.mu.Lock()
		for len(p.answered) == 0 && !p.closed {
			p.cond.Wait()
		}
		if len(p.answered) == 0 {
			p.mu.Unlock()
			return
		}
		f := p.answered[0]
		p.answered = p.answered[1:]
		p.mu.Unlock()
		select {
		case p.consumer <- f:
		case <-p.done:
			return
		}
	}
}

// fail closes the pipeline and its connection, failing what is in flight.
func (p *pipeline) fail() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	pending := p.inflight
	p.inflight = nil
	p.cond.Broadcast()
	p.mu.Unlock()
	close(p.done)
	_ = p.conn.Close()
	for _, f := range pending {
		f.err = errPipelineClosed
		close(f.done)
	}
}

// Consumer implements raft.AppendPipeline.
func (p *pipeline) Consumer() <-chan raft.AppendFuture { return p.consumer }

// Close implements raft.AppendPipeline: it closes the connection and
// fails the requests in flight.
func (p *pipeline) Close() error {
	p.fail()
	p.wg.Wait()
	return nil
}

// appendFuture is one pipelined AppendEntries.
type appendFuture struct {
	start time.Time
	args  *raft.AppendEntriesRequest
	resp  *raft.AppendEntriesResponse
	err   error
	done  chan struct{}
}

func (f *appendFuture) Error() error {
	<-f.done
	return f.err
}

func (f *appendFuture) Start() time.Time                      { return f.start }
func (f *appendFuture) Request() *raft.AppendEntriesRequest   { return f.args }
func (f *appendFuture) Response() *raft.AppendEntriesResponse { return f.resp }
