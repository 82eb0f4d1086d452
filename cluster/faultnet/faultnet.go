// Package faultnet cuts the links between the sites of an in-process test
// cluster the way a WAN link fails: silently. Every site dials its peers
// through its own dial function (cluster.Config.Dial, which the API layer
// also uses for site-to-site gRPC); while the link between two sites is
// cut, a dial between them hangs until its context ends, and an
// established connection stalls: what either end writes is held back and
// nothing arrives, until the link heals (then it flows again, as TCP
// retransmits would deliver it) or a deadline or Close ends the call.
// Nothing is refused or reset, so a caller without a deadline hangs, as
// it would across a dropped border link.
//
// Usage:
//
//	fn := faultnet.New()
//	cfg.Dial = fn.Dialer("CGO")        // every site dials through its own
//	fn.Name("CGO", c.RaftAddr(), api)   // the addresses each site listens on
//	fn.Split([]string{"CGO", "YRD"}, []string{"BOS", "MUC"})
//	fn.Heal()
//	defer fn.Close()                    // releases every stalled call
//
// It is for tests; production code never imports it.
package faultnet

import (
	"context"
	"fmt"
	"net"
	"os"
	"sync"
	"time"
)

// Net is a set of sites and the state of the links between them.
type Net struct {
	mu     sync.Mutex
	owner  map[string]string  // listening address → site
	cut    map[[2]string]bool // sorted site pair → cut
	change chan struct{}      // closed and replaced whenever links change
	conns  map[*conn]struct{} // open connections, for Close
	closed bool
}

// New returns a network with every link up.
func New() *Net {
	return &Net{owner: map[string]string{}, cut: map[[2]string]bool{}, change: make(chan struct{}), conns: map[*conn]struct{}{}}
}

// Name records the addresses site listens on. A link to an address no
// site owns is never cut; naming it later covers the connections already
// made to it.
func (n *Net) Name(site string, addrs ...string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, a := range addrs {
		n.owner[a] = site
	}
}

func pair(a, b string) [2]string {
	if a > b {
		a, b = b, a
	}
	return [2]string{a, b}
}

// Split cuts every link between a site of side and a site of other.
func (n *Net) Split(side, other []string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, a := range side {
		for _, b := range other {
			if a != b {
				n.cut[pair(a, b)] = true
			}
		}
	}
	n.changed()
}

// Heal restores every link; held data flows again.
func (n *Net) Heal() {
	n.mu.Lock()
	defer n.mu.Unlock()
	clear(n.cut)
	n.changed()
}

// Close heals the network and closes every connection made through it,
// so no call stays stalled after a test.
func (n *Net) Close() {
	n.mu.Lock()
	n.closed = true
	clear(n.cut)
	n.changed()
	conns := make([]*conn, 0, len(n.conns))
	for c := range n.conns {
		conns = append(conns, c)
	}
	n.mu.Unlock()
	for _, c := range conns {
		_ = c.Close()
	}
}

// changed wakes everything waiting for the links to change; n.mu is held.
func (n *Net) changed() {
	close(n.change)
	n.change = make(chan struct{})
}

// link reports whether the link from site a to the owner of addr is cut,
// and a channel closed at the next change.
func (n *Net) link(a, addr string) (cut bool, change <-chan struct{}) {
	n.mu.Lock()
	defer n.mu.Unlock()
	b, ok := n.owner[addr]
	return ok && n.cut[pair(a, b)], n.change
}

// Dialer returns the dial function of site from (a cluster.DialFunc).
func (n *Net) Dialer(from string) func(ctx context.Context, addr string) (net.Conn, error) {
	return func(ctx context.Context, addr string) (net.Conn, error) {
		for {
			cut, change := n.link(from, addr)
			if !cut {
				break
			}
			select {
			case <-ctx.Done():
				return nil, fmt.Errorf("dial %s from %s: link cut: %w", addr, from, ctx.Err())
			case <-change:
			}
		}
		var d net.Dialer
		raw, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return nil, err
		}
		c := &conn{Conn: raw, n: n, from: from, addr: addr, done: make(chan struct{})}
		n.mu.Lock()
		if n.closed {
			n.mu.Unlock()
			raw.Close()
			return nil, fmt.Errorf("dial %s: faultnet closed", addr)
		}
		n.conns[c] = struct{}{}
		n.mu.Unlock()
		return c, nil
	}
}

// conn is the dialing end of a connection from site from to addr.
// Holding back the dialer's reads and writes stalls both directions.
type conn struct {
	net.Conn
	n          *Net
	from, addr string
	once       sync.Once
	done       chan struct{}

	mu  sync.Mutex
	rdl time.Time // read deadline
	wdl time.Time // write deadline
}

// wait blocks while the link is cut, until it heals, the deadline passes
// or the connection closes.
func (c *conn) wait(deadline func() time.Time) error {
	for {
		cut, change := c.n.link(c.from, c.addr)
		if !cut {
			return nil
		}
		var timeout <-chan time.Time
		var t *time.Timer
		if dl := deadline(); !dl.IsZero() {
			d := time.Until(dl)
			if d <= 0 {
				return os.ErrDeadlineExceeded
			}
			t = time.NewTimer(d)
			timeout = t.C
		}
		var err error
		select {
		case <-change:
		case <-timeout:
			err = os.ErrDeadlineExceeded
		case <-c.done:
			err = net.ErrClosed
		}
		if t != nil {
			t.Stop()
		}
		if err != nil {
			return err
		}
	}
}

func (c *conn) readDeadline() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rdl
}

func (c *conn) writeDeadline() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.wdl
}

// Read holds back what arrives while the link is cut.
func (c *conn) Read(b []byte) (int, error) {
	if err := c.wait(c.readDeadline); err != nil {
		return 0, err
	}
	k, err := c.Conn.Read(b)
	if k > 0 {
		if werr := c.wait(c.readDeadline); werr != nil {
			// The bytes are lost with the call, as a connection that
			// timed out mid-message is useless anyway.
			return 0, werr
		}
	}
	return k, err
}

// Write blocks while the link is cut.
func (c *conn) Write(b []byte) (int, error) {
	if err := c.wait(c.writeDeadline); err != nil {
		return 0, err
	}
	return c.Conn.Write(b)
}

func (c *conn) SetDeadline(t time.Time) error {
	c.mu.Lock()
	c.rdl, c.wdl = t, t
	c.mu.Unlock()
	return c.Conn.SetDeadline(t)
}

func (c *conn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	c.rdl = t
	c.mu.Unlock()
	return c.Conn.SetReadDeadline(t)
}

func (c *conn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	c.wdl = t
	c.mu.Unlock()
	return c.Conn.SetWriteDeadline(t)
}

func (c *conn) Close() error {
	c.once.Do(func() {
		close(c.done)
		c.n.mu.Lock()
		delete(c.n.conns, c)
		c.n.mu.Unlock()
	})
	return c.Conn.Close()
}
