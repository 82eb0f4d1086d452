package wan

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Voters are the Raft voters of the network, CGO first (it bootstraps);
// Divisions are the Chinese divisions' read replicas.
var (
	Voters    = []string{"CGO", "BOS", "CBG", "MUC", "TLV"}
	Divisions = []string{"BOHAI", "YRD", "PRD"}
	// Nodes are the overseas voters, where node staff submit leads.
	Nodes = []string{"BOS", "CBG", "MUC", "TLV"}
)

// Sites are all the sites, voters first.
func Sites() []string { return append(append([]string(nil), Voters...), Divisions...) }

// ChinaSide reports whether site is on the China side of the border: the
// home park and the divisions.
func ChinaSide(site string) bool { return site == "CGO" || slices.Contains(Divisions, site) }

// Matrix holds the round-trip time between every pair of sites.
type Matrix map[[2]string]time.Duration

// DefaultMatrix is the round-trip matrix of issue 17 (ms): CGO–BOS 230,
// CGO–CBG 200, CGO–MUC 180, CGO–TLV 200, BOS–CBG 75, BOS–MUC 95,
// BOS–TLV 140, CBG–MUC 20, CBG–TLV 70, MUC–TLV 55; each division 25
// from CGO and that plus 10 to the others, 30 between divisions.
func DefaultMatrix() Matrix {
	m := Matrix{}
	for pair, ms := range map[[2]string]int{
		{"CGO", "BOS"}: 230, {"CGO", "CBG"}: 200, {"CGO", "MUC"}: 180, {"CGO", "TLV"}: 200,
		{"BOS", "CBG"}: 75, {"BOS", "MUC"}: 95, {"BOS", "TLV"}: 140,
		{"CBG", "MUC"}: 20, {"CBG", "TLV"}: 70, {"MUC", "TLV"}: 55,
	} {
		m.Set(pair[0], pair[1], time.Duration(ms)*time.Millisecond)
	}
	for i, d := range Divisions {
		m.Set(d, "CGO", 25*time.Millisecond)
		for _, n := range Nodes {
			m.Set(d, n, m.RTT("CGO", n)+10*time.Millisecond)
		}
		for _, other := range Divisions[i+1:] {
			m.Set(d, other, 30*time.Millisecond)
		}
	}
	return m
}

// ParseMatrix reads overrides of the default matrix: "CGO-BOS=230,
// CBG-MUC=20" (round trips in ms). Unknown sites and malformed entries
// are refused.
func ParseMatrix(s string) (Matrix, error) {
	m := DefaultMatrix()
	if strings.TrimSpace(s) == "" {
		return m, nil
	}
	known := Sites()
	for _, entry := range strings.Split(s, ",") {
		pair, ms, ok := strings.Cut(strings.TrimSpace(entry), "=")
		a, b, ok2 := strings.Cut(pair, "-")
		if !ok || !ok2 {
			return nil, fmt.Errorf("rtt entry %q: want SITE-SITE=MS, e.g. CGO-BOS=230", entry)
		}
		for _, site := range []string{a, b} {
			if !slices.Contains(known, site) {
				return nil, fmt.Errorf("rtt entry %q: unknown site %q (valid: %s)", entry, site, strings.Join(known, ", "))
			}
		}
		if a == b {
			return nil, fmt.Errorf("rtt entry %q: a site has no round trip to itself", entry)
		}
		n, err := strconv.Atoi(ms)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("rtt entry %q: round trip %q is not a whole number of milliseconds ≥ 0", entry, ms)
		}
		m.Set(a, b, time.Duration(n)*time.Millisecond)
	}
	return m, nil
}

// Set records the round trip between a and b (both ways).
func (m Matrix) Set(a, b string, rtt time.Duration) {
	m[[2]string{a, b}], m[[2]string{b, a}] = rtt, rtt
}

// RTT is the round trip between a and b; 0 from a site to itself.
func (m Matrix) RTT(a, b string) time.Duration {
	if a == b {
		return 0
	}
	return m[[2]string{a, b}]
}

// QuorumRTT is how long the leader waits for a majority of voters to
// acknowledge an entry: the round trip to the voter that completes the
// quorum (with five voters, the second-nearest other voter), and the
// site that is.
func (m Matrix) QuorumRTT(leader string, voters []string) (time.Duration, string) {
	type peer struct {
		site string
		rtt  time.Duration
	}
	var others []peer
	for _, v := range voters {
		if v != leader {
			others = append(others, peer{v, m.RTT(leader, v)})
		}
	}
	sort.SliceStable(others, func(i, j int) bool { return others[i].rtt < others[j].rtt })
	// The leader counts itself: len(voters)/2 others complete a majority.
	need := len(voters) / 2
	if need == 0 || need > len(others) {
		return 0, leader
	}
	return others[need-1].rtt, others[need-1].site
}

// Floor is the physical least a write from origin can take with leader
// leading: the round trip from origin to the leader plus the leader's
// quorum round trip.
func (m Matrix) Floor(origin, leader string, voters []string) time.Duration {
	q, _ := m.QuorumRTT(leader, voters)
	return m.RTT(origin, leader) + q
}

// Op is one of the six kinds of write, from its natural origin.
type Op struct {
	Name   string // submit, review, claim
	Origin string // the site whose API takes it
}

// Label is how the report names the operation.
func (o Op) Label() string { return o.Name + "@" + o.Origin }

// Mix is the six kinds of write of issue 17: a node submit from each
// overseas node, an HQ review at CGO and a division claim at claimSite.
func Mix(claimSite string) []Op {
	var ops []Op
	for _, n := range Nodes {
		ops = append(ops, Op{"submit", n})
	}
	return append(ops, Op{"review", "CGO"}, Op{"claim", claimSite})
}

// FloorSum is the sum of the floors of ops with leader leading.
func (m Matrix) FloorSum(ops []Op, leader string, voters []string) time.Duration {
	var sum time.Duration
	for _, op := range ops {
		sum += m.Floor(op.Origin, leader, voters)
	}
	return sum
}

// BestPlacement is the voter whose leadership gives ops the least floor
// sum, and that sum.
func (m Matrix) BestPlacement(ops []Op, voters []string) (string, time.Duration) {
	best, bestSum := "", time.Duration(-1)
	for _, v := range voters {
		if s := m.FloorSum(ops, v, voters); bestSum < 0 || s < bestSum {
			best, bestSum = v, s
		}
	}
	return best, bestSum
}
