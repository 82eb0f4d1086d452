package cluster

import (
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"
	"github.com/prometheus/client_golang/prometheus"
)

// Who may talk Raft to this site. In Raft only a leader (AppendEntries,
// InstallSnapshot, TimeoutNow) and a candidate (RequestVote,
// RequestPreVote) send requests, and both must be voters; hashicorp/raft
// itself does not check that a leader is a voter, so a read replica's or a
// removed site's certificate could otherwise replicate forged entries at a
// higher term. The transport therefore admits an RPC only when:
//
//   - the connection's certificate names a site (checked by the TLS layer)
//     and its serial is not on the replicated deny-list;
//   - the message claims that same site;
//   - that site is a voter of this site's latest configuration. A site with
//     no configuration yet (waiting to be added) accepts only the voters the
//     cluster named when it asked to join (TrustVoters); one started
//     without --join, for an admin to add, cannot know them and accepts
//     any site certificate until it holds a configuration.
//   - Until this site's own configuration names it (it has just joined, or
//     rejoined wiped), the voters named at join are accepted as well: the
//     snapshot a joining site installs may carry a configuration older
//     than its leader's membership (a leader that joined by snapshot
//     itself sends the configuration it installed), and the entries that
//     add the leader and this site come after it from that very leader.
//
// A removal is therefore a revocation: the next RPC from the removed site
// is refused. Every refusal is counted by reason
// (innonet_raft_peer_refused_total) and logged, at most once per site and
// reason every refusalLogEvery.

// Reasons a Raft peer is refused, as the metric labels them.
const (
	refusedHandshake   = "handshake"            // TLS handshake failed (no or untrusted certificate)
	refusedNoSite      = "no_site_certificate"  // the certificate names no site
	refusedDenied      = "denied_certificate"   // its serial is on the deny-list
	refusedImpersonate = "impersonation"        // the message claims another site
	refusedNotMember   = "not_member"           // the site is not in this site's configuration
	refusedNotVoter    = "not_voter"            // the site is a member but has no vote
	refusedUnknownRPC  = "unknown_message_type" // a message type no peer should send
)

var refusalReasons = []string{refusedHandshake, refusedNoSite, refusedDenied, refusedImpersonate,
	refusedNotMember, refusedNotVoter, refusedUnknownRPC}

// refusalLogEvery spaces out log lines about the same site and reason, so
// a peer that keeps trying cannot flood the log.
const refusalLogEvery = 10 * time.Second

// ErrPeerRefused is what a refused peer is answered; the wrapping error
// says why.
var ErrPeerRefused = errors.New("raft peer refused")

// peerGate keeps the facts the transport needs to admit a peer: the
// configuration (through the Cluster), the voters named at join, the
// deny-list, and the refusal counters.
type peerGate struct {
	log      *slog.Logger
	roles    atomic.Pointer[func(site string) peerRole]
	trusted  atomic.Pointer[map[string]bool]
	denied   atomic.Pointer[map[string]bool] // certificate serials, as SerialString writes them
	counts   *prometheus.CounterVec
	total    atomic.Uint64
	byReason map[string]*atomic.Uint64

	warnUnpinned sync.Once

	mu     sync.Mutex
	logged map[string]time.Time // site + reason → last log line
	quiet  map[string]int       // refusals not logged since
}

func newPeerGate(log *slog.Logger) *peerGate {
	g := &peerGate{log: log, logged: map[string]time.Time{}, quiet: map[string]int{},
		counts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "innonet_raft_peer_refused_total",
			Help: "Raft connections and messages refused, by reason (handshake, no_site_certificate, denied_certificate, impersonation, not_member, not_voter, unknown_message_type).",
		}, []string{"reason"})}
	g.byReason = map[string]*atomic.Uint64{}
	for _, r := range refusalReasons {
		g.counts.WithLabelValues(r)
		g.byReason[r] = new(atomic.Uint64)
	}
	empty := map[string]bool{}
	g.denied.Store(&empty) // g.trusted stays nil: no voters pinned

	return g
}

// SerialString is how certificate serials are written in the deny-list:
// lower-case hexadecimal without separators.
func SerialString(c *x509.Certificate) string { return strings.ToLower(c.SerialNumber.Text(16)) }

// isDenied reports whether a certificate is on the deny-list.
func (g *peerGate) isDenied(c *x509.Certificate) bool {
	return c != nil && (*g.denied.Load())[SerialString(c)]
}

// admitSite decides whether site may send Raft requests to this one.
func (g *peerGate) admitSite(site string) (reason string, err error) {
	f := g.roles.Load()
	if f == nil {
		return refusedNotMember, fmt.Errorf("%w: site %s: this site is not running Raft yet", ErrPeerRefused, site)
	}
	role := (*f)(site)
	pinned := g.trusted.Load()
	var trusted map[string]bool
	if pinned != nil {
		trusted = *pinned
	}
	switch {
	case role.empty && pinned == nil:
		// A new site started without --join, waiting for an admin to
		// add it (innonet cluster add): it cannot know the voters, so
		// the first site certificate that leads it is believed.
		g.warnUnpinned.Do(func() {
			g.log.Warn("this site has no Raft configuration and no list of voters (it was not started with --join): it accepts the first leader that contacts it; start new sites with --join to accept only the cluster's voters")
		})
		return "", nil
	case role.outsider && trusted[site]:
		return "", nil
	case role.empty:
		return refusedNotMember, fmt.Errorf("%w: site %s: this site has no configuration yet and the cluster did not name %s as a voter when it joined", ErrPeerRefused, site, site)
	case !role.member:
		return refusedNotMember, fmt.Errorf("%w: site %s is not a member of this site's configuration", ErrPeerRefused, site)
	case !role.voter:
		return refusedNotVoter, fmt.Errorf("%w: site %s is not a voter, and only voters lead or stand for election", ErrPeerRefused, site)
	}
	return "", nil
}

// refuse counts a refusal and logs it unless the same site and reason
// were logged within refusalLogEvery.
func (g *peerGate) refuse(reason, site, remote string, err error) {
	g.total.Add(1)
	g.counts.WithLabelValues(reason).Inc()
	if n, ok := g.byReason[reason]; ok {
		n.Add(1)
	}
	key := site + "\x00" + reason
	now := time.Now()
	g.mu.Lock()
	if last, ok := g.logged[key]; ok && now.Sub(last) < refusalLogEvery {
		g.quiet[key]++
		g.mu.Unlock()
		return
	}
	g.logged[key] = now
	suppressed := g.quiet[key]
	delete(g.quiet, key)
	if len(g.logged) > 4096 { // a flood of distinct names must not grow the map for ever
		clear(g.logged)
		clear(g.quiet)
	}
	g.mu.Unlock()
	args := []any{"reason", reason, "remote", remote, "err", err}
	if site != "" {
		args = append(args, "cert_site", site)
	}
	if suppressed > 0 {
		args = append(args, "suppressed_since_last", suppressed)
	}
	g.log.Warn("refused a raft peer", args...)
}

// TrustVoters names the voters this site accepts Raft traffic from while
// it has no configuration of its own: the voters the cluster listed when
// this site asked to join. Called with none, it pins an empty list: the
// site then refuses everyone until it learns the voters. Once the site
// holds a configuration, only the voters in it count.
func (c *Cluster) TrustVoters(sites []string) {
	m := make(map[string]bool, len(sites))
	for _, s := range sites {
		m[s] = true
	}
	c.transport.gate.trusted.Store(&m)
}

// peerRole is what this site's latest configuration says of a peer.
type peerRole struct {
	member, voter bool
	// empty: this site holds no configuration yet.
	empty bool
	// outsider: the configuration does not name this site itself (empty,
	// or one installed from a snapshot older than this site's joining).
	outsider bool
}

// Outsider reports whether this site's latest configuration does not name
// it: it has not joined yet, or holds only a snapshot older than its
// joining, or was removed. Until it is named, the voters it accepts Raft
// traffic from are the ones TrustVoters named (see admitSite), and the
// caller should keep them current.
func (c *Cluster) Outsider() bool { return c.roleOf(c.cfg.ID).outsider }

// roleOf reports what this site's latest configuration says of site.
func (c *Cluster) roleOf(site string) peerRole {
	f := c.raft.GetConfiguration() // a cached copy, never blocks
	if f.Error() != nil {
		return peerRole{}
	}
	servers := f.Configuration().Servers
	r := peerRole{empty: len(servers) == 0, outsider: true}
	for _, s := range servers {
		if string(s.ID) == site {
			r.member, r.voter = true, s.Suffrage == raft.Voter
		}
		if string(s.ID) == c.cfg.ID {
			r.outsider = false
		}
	}
	return r
}

// PeerRefusals returns how many Raft connections and messages this site
// refused, by reason (the labels of innonet_raft_peer_refused_total).
func (c *Cluster) PeerRefusals() map[string]uint64 {
	out := map[string]uint64{}
	for r, n := range c.transport.gate.byReason {
		out[r] = n.Load()
	}
	return out
}
