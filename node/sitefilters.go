package node

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"innonet/node/pipeline"
)

// Filters that name a site. A list filtered by a site or a sub-node the
// registry does not hold (the typo MUCH, a sub-node nobody registered)
// would answer an empty list, as if the site had no leads; these checks
// refuse it instead, naming the parameter and the sites it takes, as
// creating a user does (pipeline.checkStaffSite). They read the state the
// list reads, so a sub-node is known to a filter exactly when its leads
// can be listed.
//
// Before the leader's first registration (a cluster that still runs log
// format 1, or was just raised to 2) the registry is empty and first-level
// codes are taken as they are; sub-nodes exist only once registered.

// maxListedCodes bounds how many codes an error lists.
const maxListedCodes = 40

// checkSiteFilter refuses param naming a first-level site (code, already
// in upper case) that is neither registered nor a member of the cluster.
func (n *Node) checkSiteFilter(param, code string) error {
	nodes, err := n.unknownSite(code)
	if err != nil || nodes == nil {
		return err
	}
	return status.Errorf(codes.InvalidArgument, "%s: %q is not a registered site; leads come from the nodes %s (GET /v1/sites lists every site)",
		param, clip(code), listCodes(nodes))
}

// unknownSite returns, if the first-level site code is known or there is
// no registry yet, nil; else the overseas nodes the registry knows, for
// the error.
func (n *Node) unknownSite(code string) ([]string, error) {
	if code == "" {
		return nil, nil
	}
	known, err := n.knownSite(code)
	if err != nil || known {
		return nil, err
	}
	sites, err := n.firstLevelSites()
	if err != nil || len(sites) == 0 {
		return nil, err // no registry yet: taken as it is
	}
	nodes := []string{}
	for _, s := range sites {
		if s.Kind == pipeline.SiteNode {
			nodes = append(nodes, s.Code)
		}
	}
	return nodes, nil
}

// checkSubnodeFilter refuses param naming a sub-node (code, in upper case
// and of a sub-node's form) that is not registered.
func (n *Node) checkSubnodeFilter(param, code string) error {
	if code == "" {
		return nil
	}
	known, err := n.knownSite(code)
	if err != nil || known {
		return err
	}
	sites, err := n.state.Sites()
	if err != nil {
		return toStatus(err)
	}
	var subnodes, under []string
	for _, s := range sites {
		if s.Parent == "" {
			continue
		}
		subnodes = append(subnodes, s.Code)
		if pipeline.FirstLevelSite(s.Code) == pipeline.FirstLevelSite(code) {
			under = append(under, s.Code)
		}
	}
	switch {
	case len(subnodes) == 0:
		return status.Errorf(codes.InvalidArgument, "%s: %q is not a registered sub-node; none is registered yet (an admin registers sub-nodes with POST /v1/sites)", param, clip(code))
	case len(under) > 0:
		subnodes = under
	}
	return status.Errorf(codes.InvalidArgument, "%s: %q is not a registered sub-node; registered sub-nodes: %s (GET /v1/sites lists them all)",
		param, clip(code), listCodes(subnodes))
}

// knownSite reports whether code is a registered site or sub-node, or a
// member of the cluster (one the leader is about to register).
func (n *Node) knownSite(code string) (bool, error) {
	_, err := n.state.Site(code)
	var pe *pipeline.Error
	switch {
	case err == nil:
		return true, nil
	case !errors.As(err, &pe) || pe.Code != pipeline.CodeNotFound:
		return false, toStatus(err)
	}
	if st, err := n.cluster.Status(); err == nil {
		for _, m := range st.Members {
			if m.ID == code {
				return true, nil
			}
		}
	}
	return false, nil
}

// firstLevelSites are the registered first-level sites with the members
// not registered yet (as nodes, or divisions' sites), by code; none while
// the registry is empty.
func (n *Node) firstLevelSites() ([]pipeline.Site, error) {
	all, err := n.state.Sites()
	if err != nil {
		return nil, toStatus(err)
	}
	if len(all) == 0 {
		return nil, nil
	}
	var out []pipeline.Site
	have := map[string]bool{}
	for _, s := range all {
		if s.Parent == "" {
			out = append(out, s)
			have[s.Code] = true
		}
	}
	if st, err := n.cluster.Status(); err == nil {
		for _, m := range st.Members {
			if !have[m.ID] && pipeline.ValidSiteCode(m.ID) {
				spec := memberSpec(m.ID)
				out = append(out, pipeline.Site{Code: m.ID, Name: m.ID, Kind: spec.Kind})
			}
		}
	}
	slices.SortFunc(out, func(a, b pipeline.Site) int { return strings.Compare(a.Code, b.Code) })
	return out, nil
}

// listCodes writes codes for an error message, at most maxListedCodes.
func listCodes(codes []string) string {
	switch n := len(codes); {
	case n == 0:
		return "(none registered)"
	case n > maxListedCodes:
		return strings.Join(codes[:maxListedCodes], ", ") + fmt.Sprintf(" and %d more", n-maxListedCodes)
	}
	return strings.Join(codes, ", ")
}
