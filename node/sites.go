package node

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"innonet/node/pipeline"
)

// The site registry (see the pipeline's sites.go) holds the first-level
// sites because the leader puts them there: Apply does not see the Raft
// configuration. While this site leads a cluster of log format 2 or
// later, registerSites proposes register_sites with every site of
// Config.Topology and every member of the configuration that the
// registry does not hold yet: at once after the format is raised, and
// again when a site joins. Admins register the second- and third-level
// nodes themselves (CreateSite).

// DefaultTopology is the default network of DESIGN.md: HQ's site, the
// four overseas nodes and the three divisions' sites. A site whose
// Config.Topology is nil registers these; the names are only the
// registry's (the sites run under their codes).
var DefaultTopology = []pipeline.SiteSpec{
	{Code: "CGO", Name: "Zhengzhou home park (HQ)", Kind: pipeline.SiteHQ},
	{Code: "BOS", Name: "Boston", Kind: pipeline.SiteNode},
	{Code: "CBG", Name: "Cambridge, UK", Kind: pipeline.SiteNode},
	{Code: "MUC", Name: "Munich", Kind: pipeline.SiteNode},
	{Code: "TLV", Name: "Tel Aviv", Kind: pipeline.SiteNode},
	{Code: "BOHAI", Name: "Bohai Rim division", Kind: pipeline.SiteDivision},
	{Code: "YRD", Name: "Yangtze River Delta division", Kind: pipeline.SiteDivision},
	{Code: "PRD", Name: "Pearl River Delta division", Kind: pipeline.SiteDivision},
}

// ParseTopology reads a topology as `innonet serve --topology` takes it:
// entries separated by ";", each CODE=KIND:NAME (KIND hq, node or
// division; ":NAME" optional), or "none" for no sites beyond the
// cluster's members.
func ParseTopology(s string) ([]pipeline.SiteSpec, error) {
	s = strings.TrimSpace(s)
	if s == "none" {
		return []pipeline.SiteSpec{}, nil
	}
	var out []pipeline.SiteSpec
	for _, entry := range strings.Split(s, ";") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		code, rest, ok := strings.Cut(entry, "=")
		if !ok {
			return nil, fmt.Errorf("topology entry %q: want CODE=KIND:NAME, e.g. BOS=node:Boston", entry)
		}
		kind, name, _ := strings.Cut(rest, ":")
		spec := pipeline.SiteSpec{Code: strings.TrimSpace(code), Name: strings.TrimSpace(name)}
		switch strings.ToLower(strings.TrimSpace(kind)) {
		case "hq":
			spec.Kind = pipeline.SiteHQ
		case "node":
			spec.Kind = pipeline.SiteNode
		case "division":
			spec.Kind = pipeline.SiteDivision
		default:
			return nil, fmt.Errorf("topology entry %q: kind %q: want hq, node or division", entry, kind)
		}
		out = append(out, spec)
	}
	if err := checkTopology(out); err != nil {
		return nil, err
	}
	return out, nil
}

// FormatTopology writes a topology as ParseTopology reads it.
func FormatTopology(sites []pipeline.SiteSpec) string {
	if len(sites) == 0 {
		return "none"
	}
	parts := make([]string, len(sites))
	for i, s := range sites {
		parts[i] = fmt.Sprintf("%s=%s:%s", s.Code, strings.ToLower(s.Kind.String()), s.Name)
	}
	return strings.Join(parts, ";")
}

// checkTopology refuses a topology the registry would refuse.
func checkTopology(sites []pipeline.SiteSpec) error {
	if len(sites) == 0 {
		return nil
	}
	if len(sites) > pipeline.MaxRegisterSites {
		return fmt.Errorf("topology: at most %d sites, got %d", pipeline.MaxRegisterSites, len(sites))
	}
	if err := (pipeline.Command{Op: pipeline.OpRegisterSites, Sites: sites}).Validate(); err != nil {
		return fmt.Errorf("topology: %w", err)
	}
	return nil
}

// topology is the site's configured topology.
func (n *Node) topology() []pipeline.SiteSpec {
	if n.cfg.Topology == nil {
		return DefaultTopology
	}
	return n.cfg.Topology
}

// memberSpec is how a member the topology does not name is registered:
// a division's site by its code, any other as an overseas node.
func memberSpec(code string) pipeline.SiteSpec {
	if pipeline.ValidDivision(code) {
		return pipeline.SiteSpec{Code: code, Kind: pipeline.SiteDivision}
	}
	return pipeline.SiteSpec{Code: code, Kind: pipeline.SiteNode}
}

// unregisteredSites lists the sites of the topology and the members of
// the configuration that the registry does not hold, topology first.
func (n *Node) unregisteredSites() []pipeline.SiteSpec {
	have := map[string]bool{}
	if sites, err := n.state.Sites(); err == nil {
		for _, s := range sites {
			have[s.Code] = true
		}
	}
	var out []pipeline.SiteSpec
	add := func(s pipeline.SiteSpec) {
		if !have[s.Code] {
			have[s.Code] = true
			out = append(out, s)
		}
	}
	for _, s := range n.topology() {
		add(s)
	}
	if st, err := n.cluster.Status(); err == nil {
		codes := make([]string, 0, len(st.Members))
		for _, m := range st.Members {
			codes = append(codes, m.ID)
		}
		slices.Sort(codes)
		for _, c := range codes {
			if pipeline.ValidSiteCode(c) {
				add(memberSpec(c))
			}
		}
	}
	return out
}

// registerSites is the leader's loop that keeps the registry's
// first-level sites in step with the topology and the members. It checks
// often while the cluster waits for format 2 (so that the registry is
// filled right after the raise) and after a proposal, else at the health
// interval.
func (n *Node) registerSites(ctx context.Context) {
	interval := n.cfg.Cluster.HealthInterval
	if interval <= 0 {
		interval = 2 * time.Second
	}
	fast := min(interval, 250*time.Millisecond)
	t := time.NewTimer(fast)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		next := interval
		switch {
		case n.state.Format() < pipeline.Format2:
			next = fast
		case n.cluster.IsLeader():
			if missing := n.unregisteredSites(); len(missing) > 0 && n.proposeSites(ctx, missing) {
				next = fast // more may be due than one command registers
			}
		}
		t.Reset(next)
	}
}

// proposeSites registers first-level sites, at most a command's worth,
// and reports whether it did.
func (n *Node) proposeSites(ctx context.Context, missing []pipeline.SiteSpec) bool {
	if len(missing) > pipeline.MaxRegisterSites {
		missing = missing[:pipeline.MaxRegisterSites]
	}
	pctx, cancel := context.WithTimeout(ctx, n.cfg.Cluster.ApplyTimeout)
	defer cancel()
	if _, err := n.propose(pctx, pipeline.Command{Op: pipeline.OpRegisterSites, Sites: missing}); err != nil {
		n.log.Warn("register sites; retrying later", "sites", len(missing), "err", err)
		return false
	}
	codes := make([]string, len(missing))
	for i, s := range missing {
		codes[i] = s.Code
	}
	n.log.Info("registered first-level sites", "sites", strings.Join(codes, ","))
	return true
}
