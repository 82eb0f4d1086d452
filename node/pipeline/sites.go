package pipeline

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"
)

// The site registry: from log format 2 the state knows the sites users
// and leads may name.
//
// First-level sites are the members of the cluster (HQ's site, the
// overseas nodes, the divisions' sites). Apply does not see the Raft
// configuration, so the leader registers them: once the cluster runs
// format 2 it proposes [OpRegisterSites] with every site of its configured
// topology and every member the registry does not hold yet, and again
// whenever a new member joins. Registering is additive: a site once
// registered stays, with its first name and kind.
//
// Second- and third-level nodes (a partner university, an institute, a
// target company, a team) are sub-nodes that an admin registers under a
// node or a second-level sub-node ([OpAddSite]). A sub-node's code is its
// parent's code, a hyphen and a part of its own: MUC-TUM under MUC,
// MUC-TUM-LAB under MUC-TUM. So the first-level site of any code is the
// part before the first hyphen, and a lead submitted by staff of a
// sub-node takes its ID from that site's sequence (MUC-0007), records the
// sub-node, and counts for the site.
//
// Once the registry holds any site, node staff may only be added to a
// registered node or sub-node, and a lead may only be submitted by staff
// of one; a sub-node code must be registered whenever it is used. Before
// the leader's first registration (a cluster just raised to format 2, or
// one that never was) first-level codes are taken as they are, as at
// format 1.

// SiteKind is what kind of place a site or sub-node is. The numbers match
// the wire enum.
type SiteKind int

const (
	SiteKindUnspecified SiteKind = iota
	// First-level sites.
	SiteHQ
	SiteNode
	SiteDivision
	// Sub-nodes.
	SiteUniversity
	SiteInstitute
	SiteCompany
	SiteTeam
	SiteOther
)

var siteKindNames = [...]string{"KIND_UNSPECIFIED", "HQ", "NODE", "DIVISION", "UNIVERSITY", "INSTITUTE",
	"COMPANY", "TEAM", "OTHER"}

func (k SiteKind) String() string { return enumName(siteKindNames[:], int(k)) }

// FirstLevel reports whether k is a kind of first-level site.
func (k SiteKind) FirstLevel() bool { return k == SiteHQ || k == SiteNode || k == SiteDivision }

// SubnodeKind reports whether k is a kind of sub-node.
func (k SiteKind) SubnodeKind() bool { return k >= SiteUniversity && k <= SiteOther }

// Site is one entry of the registry.
type Site struct {
	Code string `json:"code"`
	// Parent is the site or sub-node a sub-node belongs to; empty for a
	// first-level site.
	Parent  string    `json:"parent,omitempty"`
	Name    string    `json:"name"`
	Kind    SiteKind  `json:"kind"`
	Created time.Time `json:"created"`
	// CreatedBy is the admin who registered a sub-node; empty for a
	// first-level site, which the leader registers from the cluster.
	CreatedBy string `json:"createdBy,omitempty"`
}

// Level is 1 for a first-level site, 2 or 3 for a sub-node.
func (s *Site) Level() int { return strings.Count(s.Code, "-") + 1 }

// SiteSpec describes a site to register.
type SiteSpec struct {
	Code   string   `json:"code"`
	Parent string   `json:"parent,omitempty"`
	Name   string   `json:"name,omitempty"`
	Kind   SiteKind `json:"kind"`
}

// Limits on the registry.
const (
	MaxSiteName = 200
	// MaxRegisterSites bounds one OpRegisterSites.
	MaxRegisterSites = 64
	// maxListedSites bounds how many codes an error lists.
	maxListedSites = 40
)

// subnodeCodePattern: a first-level code and one or two parts of a capital
// letter and 1 to 7 capital letters or digits (a part never looks like the
// number of a lead ID).
var subnodeCodePattern = regexp.MustCompile(`^[A-Z]{2,8}(-[A-Z][A-Z0-9]{1,7}){1,2}$`)

// ValidSubnodeCode reports whether code has the form of a sub-node code
// (MUC-TUM, MUC-TUM-LAB).
func ValidSubnodeCode(code string) bool { return subnodeCodePattern.MatchString(code) }

// ValidSiteOrSubnode reports whether code is a site or a sub-node code.
func ValidSiteOrSubnode(code string) bool { return ValidSiteCode(code) || ValidSubnodeCode(code) }

// FirstLevelSite returns the first-level site of a site or sub-node code:
// MUC for MUC-TUM-LAB.
func FirstLevelSite(code string) string {
	site, _, _ := strings.Cut(code, "-")
	return site
}

// parentCode is the code of the site a sub-node code belongs to.
func parentCode(code string) string {
	i := strings.LastIndexByte(code, '-')
	if i < 0 {
		return ""
	}
	return code[:i]
}

func checkSiteKindOf(field string, k SiteKind, subnode bool) *Error {
	if subnode && !k.SubnodeKind() {
		return invalid(field, "a sub-node's kind must be UNIVERSITY, INSTITUTE, COMPANY, TEAM or OTHER")
	}
	if !subnode && !k.FirstLevel() {
		return invalid(field, "a first-level site's kind must be HQ, NODE or DIVISION")
	}
	return nil
}

// validate checks a sub-node an admin registers.
func (s *SiteSpec) validateSubnode() *Error {
	if !ValidSubnodeCode(s.Code) {
		return invalid("code", "%q is not a sub-node code: its parent's code, a hyphen and 2 to 8 capital letters or digits starting with a letter (e.g. MUC-TUM under MUC, MUC-TUM-LAB under MUC-TUM)", truncate(s.Code, 40))
	}
	switch want := parentCode(s.Code); {
	case s.Parent == "":
		return invalid("parent", "is required (for %s: %s)", s.Code, want)
	case s.Parent != want:
		return invalid("parent", "the parent of %s is %s (its code without the last part), got %q", s.Code, want, truncate(s.Parent, 40))
	}
	if err := checkLine("name", s.Name, 1, MaxSiteName); err != nil {
		return err
	}
	return checkSiteKindOf("kind", s.Kind, true)
}

// validateFirstLevel checks a first-level site the leader registers.
func (s *SiteSpec) validateFirstLevel() *Error {
	if !ValidSiteCode(s.Code) {
		return invalid("sites.code", "%q is not a site code of 2 to 8 capital letters", truncate(s.Code, 40))
	}
	if s.Parent != "" {
		return invalid("sites.parent", "a first-level site has no parent")
	}
	if err := checkLine("sites.name", s.Name, 0, MaxSiteName); err != nil {
		return err
	}
	if err := checkSiteKindOf("sites.kind", s.Kind, false); err != nil {
		return err
	}
	if (s.Kind == SiteDivision) != ValidDivision(s.Code) {
		return invalid("sites.kind", "%s: the divisions' sites are BOHAI, YRD and PRD, of kind DIVISION", s.Code)
	}
	return nil
}

func validateRegisterSites(specs []SiteSpec) *Error {
	if len(specs) == 0 || len(specs) > MaxRegisterSites {
		return invalid("sites", "must list 1 to %d sites, got %d", MaxRegisterSites, len(specs))
	}
	seen := map[string]bool{}
	for i := range specs {
		if err := specs[i].validateFirstLevel(); err != nil {
			return err
		}
		if seen[specs[i].Code] {
			return invalid("sites", "lists %s twice", specs[i].Code)
		}
		seen[specs[i].Code] = true
	}
	return nil
}

// siteOf returns the registered site or sub-node code, or nil.
func siteOf(txn *tx, code string) *Site { return keyedIn[*Site](txn, keyedSites, code) }

// registryInForce reports whether the registry holds any site, from which
// on users and leads may only name registered sites.
func registryInForce(txn *tx) bool { return anyKeyed(txn, keyedSites) }

// staffSites lists the registered codes node staff may belong to (nodes
// and sub-nodes), for error messages.
func staffSites(txn *tx) string {
	it, err := rowsOf(txn, tableSites, "")
	if err != nil {
		return "(unreadable)"
	}
	var codes []string
	for raw := it.Next(); raw != nil; raw = it.Next() {
		if s := raw.(*Site); s.Kind == SiteNode || s.Kind.SubnodeKind() {
			codes = append(codes, s.Code)
		}
	}
	if len(codes) == 0 {
		return "none yet"
	}
	if n := len(codes); n > maxListedSites {
		return strings.Join(codes[:maxListedSites], ", ") + fmt.Sprintf(" and %d more (GET /v1/sites)", n-maxListedSites)
	}
	return strings.Join(codes, ", ")
}

// checkStaffSite refuses, from format 2, node staff bound to a code that
// is not a registered node or sub-node: a typo (MUCH), a sub-node nobody
// registered (TUM), or HQ's or a division's site.
func (a *applier) checkStaffSite(code string) *Error {
	if a.format < Format2 {
		return nil
	}
	s := siteOf(a.txn, code)
	if s == nil {
		if !registryInForce(a.txn) && !ValidSubnodeCode(code) {
			return nil
		}
		return invalid("site", "%q is not a registered site or sub-node; node staff may belong to: %s (an admin registers sub-nodes with POST /v1/sites)", truncate(code, 40), staffSites(a.txn))
	}
	if s.Kind == SiteHQ || s.Kind == SiteDivision {
		return invalid("site", "%s is the site of %s (%s); node staff belong to an overseas node or a sub-node: %s", s.Code, strings.ToLower(s.Kind.String()), s.Name, staffSites(a.txn))
	}
	return nil
}

// submitter returns the site a lead submitted by the actor belongs to and
// the sub-node it came from (empty for staff of the site itself), refusing
// from format 2 staff whose site is not registered.
func (a *applier) submitter() (site, subnode string, err *Error) {
	code := a.actor.Site
	if a.format >= Format2 {
		if siteOf(a.txn, code) == nil && (registryInForce(a.txn) || ValidSubnodeCode(code)) {
			return "", "", errorf(CodePrecondition, "your site %s is not registered, so it cannot submit leads: ask an admin to register it as a sub-node (POST /v1/sites) or to add you to one of %s", truncate(code, 40), staffSites(a.txn))
		}
	}
	if ValidSubnodeCode(code) {
		return FirstLevelSite(code), code, nil
	}
	return code, "", nil
}

// addSite registers a sub-node. ADMIN only; its parent must be a
// registered overseas node or a second-level sub-node.
func (a *applier) addSite() (Result, *Error) {
	if a.actor.Role != Admin {
		return Result{}, errorf(CodePermission, "only ADMIN may register sub-nodes; caller is %s", a.actor.Role)
	}
	spec := a.cmd.Site
	parent := siteOf(a.txn, spec.Parent)
	switch {
	case parent == nil:
		return Result{}, invalid("parent", "%s is not a registered site or sub-node; sub-nodes belong to one of: %s", spec.Parent, staffSites(a.txn))
	case parent.Kind == SiteHQ || parent.Kind == SiteDivision:
		return Result{}, invalid("parent", "%s is the site of %s; sub-nodes belong to an overseas node (%s)", parent.Code, strings.ToLower(parent.Kind.String()), staffSites(a.txn))
	}
	if cur := siteOf(a.txn, spec.Code); cur != nil {
		return Result{}, errorf(CodeConflict, "site %s is already registered (%s, %s, under %s)", cur.Code, cur.Name, cur.Kind, cur.Parent)
	}
	s := &Site{Code: spec.Code, Parent: spec.Parent, Name: spec.Name, Kind: spec.Kind, Created: a.now, CreatedBy: a.actor.ID}
	if err := a.insert(tableSites, s); err != nil {
		return Result{}, err
	}
	return Result{Site: s}, nil
}

// registerSites registers the first-level sites the leader lists that the
// registry does not hold yet. It needs no actor, like set_format: the
// leader proposes it from the cluster's configuration. Listing only
// registered sites changes nothing and succeeds, so a second leader's
// proposal is harmless.
func (a *applier) registerSites() (Result, *Error) {
	added := 0
	for _, spec := range a.cmd.Sites {
		if siteOf(a.txn, spec.Code) != nil {
			continue
		}
		name := spec.Name
		if strings.TrimSpace(name) == "" {
			name = spec.Code
		}
		if err := a.insert(tableSites, &Site{Code: spec.Code, Name: name, Kind: spec.Kind, Created: a.now}); err != nil {
			return Result{}, err
		}
		added++
	}
	if added == 0 {
		return Result{Replayed: true}, nil
	}
	return Result{}, nil
}

// Sites returns the registry: every site and sub-node, by code.
func (s *State) Sites() ([]Site, error) {
	it, err := rowsOf(s.read(), tableSites, "")
	if err != nil {
		return nil, fmt.Errorf("list sites: %w", err)
	}
	var out []Site
	for raw := it.Next(); raw != nil; raw = it.Next() {
		out = append(out, *raw.(*Site))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	return out, nil
}

// Site returns the registered site or sub-node code.
func (s *State) Site(code string) (*Site, error) {
	site := siteOf(s.read(), code)
	if site == nil {
		return nil, errorf(CodeNotFound, "site %s is not registered", truncate(code, 40))
	}
	c := *site
	return &c, nil
}

// StaffOf reports whether u is node staff of the site or sub-node lead l
// came from, or of a site above it: staff of MUC act for every lead of
// MUC and of its sub-nodes, staff of MUC-TUM for those of MUC-TUM and of
// MUC-TUM-LAB.
func (u *User) StaffOf(l *Lead) bool {
	if u.Role != NodeStaff {
		return false
	}
	if u.Site == l.Site {
		return true
	}
	return l.Subnode != "" && (l.Subnode == u.Site || strings.HasPrefix(l.Subnode, u.Site+"-"))
}

// SourceNode is the site or sub-node a lead came from: its sub-node if it
// has one, else its site.
func (l *Lead) SourceNode() string {
	if l.Subnode != "" {
		return l.Subnode
	}
	return l.Site
}
