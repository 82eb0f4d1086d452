package node

import (
	"net"
	"sync"
	"testing"
	"time"
)

// tcpProxy relays TCP connections to a target and can cut the link: while
// cut, it closes every relayed connection and refuses new ones, as a
// failed network path would look to both ends. It can also slow the link:
// every byte then arrives a delay after it was sent, both ways.
type tcpProxy struct {
	lis    net.Listener
	target string
	mu     sync.Mutex
	cut    bool
	delay  time.Duration
	conns  map[net.Conn]bool
}

func newTCPProxy(t testing.TB, target string) *tcpProxy {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &tcpProxy{lis: lis, target: target, conns: map[net.Conn]bool{}}
	go p.serve()
	t.Cleanup(func() {
		lis.Close()
		p.setCut(true)
	})
	return p
}

func (p *tcpProxy) addr() string { return p.lis.Addr().String() }

func (p *tcpProxy) serve() {
	for {
		in, err := p.lis.Accept()
		if err != nil {
			return
		}
		go p.relay(in)
	}
}

func (p *tcpProxy) relay(in net.Conn) {
	p.mu.Lock()
	cut := p.cut
	p.mu.Unlock()
	if cut {
		in.Close()
		return
	}
	out, err := net.Dial("tcp", p.target)
	if err != nil {
		in.Close()
		return
	}
	if !p.track(in, out) {
		return
	}
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		p.copy(dst, src) // until either side closes
		done <- struct{}{}
	}
	go pipe(out, in)
	go pipe(in, out)
	<-done
	in.Close()
	out.Close()
	p.untrack(in, out)
}

// copy relays src to dst, each piece the link's delay after it was read.
func (p *tcpProxy) copy(dst, src net.Conn) {
	type piece struct {
		b   []byte
		due time.Time
	}
	pieces := make(chan piece, 4096)
	go func() {
		defer close(pieces)
		buf := make([]byte, 32<<10)
		for {
			n, err := src.Read(buf)
			if n > 0 {
				p.mu.Lock()
				due := time.Now().Add(p.delay)
				p.mu.Unlock()
				pieces <- piece{append([]byte(nil), buf[:n]...), due}
			}
			if err != nil {
				return
			}
		}
	}()
	for pc := range pieces {
		if wait := time.Until(pc.due); wait > 0 {
			time.Sleep(wait) // the link's latency, not a wait for the cluster
		}
		if _, err := dst.Write(pc.b); err != nil {
			src.Close()
			for range pieces {
			}
			return
		}
	}
}

func (p *tcpProxy) track(conns ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cut {
		for _, c := range conns {
			c.Close()
		}
		return false
	}
	for _, c := range conns {
		p.conns[c] = true
	}
	return true
}

func (p *tcpProxy) untrack(conns ...net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range conns {
		delete(p.conns, c)
	}
}

// setDelay makes every byte arrive d after it was sent (0: at once).
func (p *tcpProxy) setDelay(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.delay = d
}

// setCut cuts (true) or restores (false) the link.
func (p *tcpProxy) setCut(cut bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = cut
	if cut {
		for c := range p.conns {
			c.Close()
			delete(p.conns, c)
		}
	}
}

// freePort returns a loopback address with a port that was free a moment
// ago, for a site whose Raft address must be known before it starts.
func freePort(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}
