package robustness

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/rs/zerolog"
)

// CutMode is how a cut link fails.
type CutMode string

const (
	// Refuse stops the proxies: open connections are closed and new ones
	// refused, as when a host is down.
	Refuse CutMode = "refuse"
	// Blackhole drops every byte in both directions and keeps connections
	// open, as when packets are lost on the way: callers hang until their
	// timeouts.
	Blackhole CutMode = "blackhole"
)

// Link is the directed path from one site to another: the connections the
// first site opens to the second one's Raft and API addresses, each
// through its own proxy. Raft and forwarding RPCs are request/response on
// a connection the caller opened, so cutting A→B stops what A asks of B,
// while B's requests to A (and their answers) still flow.
type Link struct {
	From, To  string
	raft, api *toxiproxy.Proxy

	mu      sync.Mutex
	cut     CutMode
	delayed bool
}

// Network is the fault-injecting mesh between sites: one toxiproxy
// proxy per ordered pair of sites and kind of traffic, in this process.
type Network struct {
	srv   *toxiproxy.ApiServer
	links map[[2]string]*Link
	sites []*Site
}

// NewNetwork starts the proxies between every ordered pair of sites, each
// listening on a free loopback port (see freeAddr) and forwarding to the
// target site's Raft or API address.
func NewNetwork(sites []*Site) (*Network, error) {
	srv := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(nil), zerolog.Nop())
	n := &Network{srv: srv, links: map[[2]string]*Link{}, sites: sites}
	for _, from := range sites {
		for _, to := range sites {
			if from == to {
				continue
			}
			raftVia, err := freeAddr()
			if err != nil {
				n.Close()
				return nil, err
			}
			apiVia, err := freeAddr()
			if err != nil {
				n.Close()
				return nil, err
			}
			l := &Link{From: from.Code, To: to.Code}
			l.raft = toxiproxy.NewProxy(srv, from.Code+"-"+to.Code+"-raft", raftVia, to.Raft)
			l.api = toxiproxy.NewProxy(srv, from.Code+"-"+to.Code+"-api", apiVia, to.API)
			for _, p := range []*toxiproxy.Proxy{l.raft, l.api} {
				if err := p.Start(); err != nil {
					n.Close()
					return nil, fmt.Errorf("start proxy %s: %w", p.Name, err)
				}
			}
			n.links[[2]string{from.Code, to.Code}] = l
		}
	}
	return n, nil
}

// DialMap is the --dial-map of site from: every other site's Raft and API
// address routed through the proxy of the link from→to.
func (n *Network) DialMap(from string) string {
	var pairs []string
	for _, to := range n.sites {
		if l := n.links[[2]string{from, to.Code}]; l != nil {
			pairs = append(pairs, to.Raft+"="+l.raft.Listen, to.API+"="+l.api.Listen)
		}
	}
	sort.Strings(pairs)
	return strings.Join(pairs, ",")
}

func (n *Network) link(from, to string) (*Link, error) {
	l := n.links[[2]string{from, to}]
	if l == nil {
		return nil, fmt.Errorf("no link %s→%s", from, to)
	}
	return l, nil
}

// Cut stops traffic on the link from→to.
func (n *Network) Cut(from, to string, mode CutMode) error {
	l, err := n.link(from, to)
	if err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cut != "" {
		return nil
	}
	for _, p := range []*toxiproxy.Proxy{l.raft, l.api} {
		switch mode {
		case Refuse:
			p.Stop()
		case Blackhole:
			for _, stream := range []string{"upstream", "downstream"} {
				if err := addToxic(p, "cut-"+stream, "timeout", stream, `{"timeout":0}`); err != nil {
					return err
				}
			}
		default:
			return fmt.Errorf("unknown cut mode %q", mode)
		}
	}
	l.cut = mode
	return nil
}

// Delay adds latency (± jitter) to each direction of the link from→to,
// so a round trip on it takes about twice latency more.
func (n *Network) Delay(from, to string, latency, jitter time.Duration) error {
	l, err := n.link(from, to)
	if err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.delayed {
		return nil
	}
	attrs := fmt.Sprintf(`{"latency":%d,"jitter":%d}`, latency.Milliseconds(), jitter.Milliseconds())
	for _, p := range []*toxiproxy.Proxy{l.raft, l.api} {
		for _, stream := range []string{"upstream", "downstream"} {
			if err := addToxic(p, "delay-"+stream, "latency", stream, attrs); err != nil {
				return err
			}
		}
	}
	l.delayed = true
	return nil
}

// Heal removes every fault from the link from→to.
func (n *Network) Heal(from, to string) error {
	l, err := n.link(from, to)
	if err != nil {
		return err
	}
	return l.heal()
}

// Uncut ends a cut of the link from→to and keeps its delay, if any (the
// WAN harness restores a border without losing the latencies).
func (n *Network) Uncut(from, to string) error {
	l, err := n.link(from, to)
	if err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.uncutLocked()
}

func (l *Link) heal() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.uncutLocked(); err != nil {
		return err
	}
	if l.delayed {
		for _, p := range []*toxiproxy.Proxy{l.raft, l.api} {
			for _, stream := range []string{"upstream", "downstream"} {
				_ = p.Toxics.RemoveToxic(context.Background(), "delay-"+stream)
			}
		}
	}
	l.delayed = false
	return nil
}

// uncutLocked removes the link's cut; l.mu is held.
func (l *Link) uncutLocked() error {
	for _, p := range []*toxiproxy.Proxy{l.raft, l.api} {
		switch l.cut {
		case Refuse:
			// The port was free a moment ago; retry in case another
			// process grabbed it meanwhile and lets it go again.
			var err error
			for i := 0; i < 20; i++ {
				if err = p.Start(); err == nil || errors.Is(err, toxiproxy.ErrProxyAlreadyStarted) {
					err = nil
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
			if err != nil {
				return fmt.Errorf("restart proxy %s on %s: %w", p.Name, p.Listen, err)
			}
		case Blackhole:
			for _, stream := range []string{"upstream", "downstream"} {
				_ = p.Toxics.RemoveToxic(context.Background(), "cut-"+stream)
			}
		}
	}
	l.cut = ""
	return nil
}

// HealAll removes every fault from every link.
func (n *Network) HealAll() error {
	var first error
	for _, l := range n.links {
		if err := l.heal(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// Faulty lists the links that are cut or delayed, for the report.
func (n *Network) Faulty() []string {
	var out []string
	for _, l := range n.links {
		l.mu.Lock()
		if l.cut != "" || l.delayed {
			out = append(out, fmt.Sprintf("%s→%s cut=%q delayed=%v", l.From, l.To, l.cut, l.delayed))
		}
		l.mu.Unlock()
	}
	sort.Strings(out)
	return out
}

// Close stops every proxy.
func (n *Network) Close() {
	for _, l := range n.links {
		l.raft.Stop()
		l.api.Stop()
	}
}

func addToxic(p *toxiproxy.Proxy, name, typ, stream, attrs string) error {
	body := fmt.Sprintf(`{"name":%q,"type":%q,"stream":%q,"toxicity":1,"attributes":%s}`, name, typ, stream, attrs)
	if _, err := p.Toxics.AddToxicJson(strings.NewReader(body)); err != nil {
		return fmt.Errorf("add %s toxic to %s: %w", typ, p.Name, err)
	}
	return nil
}
