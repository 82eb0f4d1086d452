package pipeline

import (
	"fmt"
	"reflect"
	"strings"
	"time"
)

// This file extends the reference model (model_test.go) with the site
// registry, sub-nodes, organisations and deal terms, as sites.go,
// organizations.go and deal.go document them, again written out in the
// plainest form and judged by hand.

// mSite is what the model knows of a registered site.
type mSite struct {
	Code, Parent string
	Kind         SiteKind
}

// mOrg is what the model knows of an organisation. keys are its names as
// the duplicate check compares them, by field, judged by hand.
type mOrg struct {
	ID                string
	Kind              OrgKind
	Country, Division string
	Version           int64
	name, nameEN      string
}

// mOrgRef is an organisation in an answer: a retry answers the
// organisation as it is now, so only its ID is the first attempt's.
type mOrgRef struct{ ID string }

// mDeal is what the model knows of a lead's deal terms.
type mDeal struct {
	Partner, Amount, Currency, NextStep, Division string
	Jobs                                          int
}

func (d mDeal) empty() bool {
	return d.Partner == "" && d.Amount == "" && d.Currency == "" && d.NextStep == "" && d.Jobs == 0
}

// String is how a lead's terms compare (empty: none).
func (d mDeal) String() string {
	if d.empty() {
		return ""
	}
	return fmt.Sprintf("%s/%s %s/%d jobs/%q/by %s", d.Partner, d.Amount, d.Currency, d.Jobs, d.NextStep, d.Division)
}

func dealString(d *Deal) string {
	if d == nil {
		return ""
	}
	return mDeal{Partner: d.PartnerID, Amount: d.Amount, Currency: d.Currency, NextStep: d.NextStep, Division: d.Division, Jobs: d.Jobs}.String()
}

// registryModel is the model's registry, organisations and deal terms.
type registryModel struct {
	sites  map[string]*mSite
	orgs   map[string]*mOrg
	orgIDs []string
	deals  map[string]mDeal // by lead ID
}

func newRegistryModel() *registryModel {
	return &registryModel{sites: map[string]*mSite{}, orgs: map[string]*mOrg{}, deals: map[string]mDeal{}}
}

// modelTopologies are the sites a leader's register_sites may list.
var modelTopologies = [][]mSite{
	{{"CGO", "", SiteHQ}, {"BOS", "", SiteNode}, {"CBG", "", SiteNode}, {"MUC", "", SiteNode}, {"TLV", "", SiteNode},
		{"BOHAI", "", SiteDivision}, {"YRD", "", SiteDivision}, {"PRD", "", SiteDivision}},
	{{"BOS", "", SiteNode}, {"YRD", "", SiteDivision}},
}

// modelNewSites are the sub-nodes an add_site may describe, judged by hand.
var modelNewSites = []struct {
	site  mSite
	valid bool
}{
	{mSite{"MUC-TUM", "MUC", SiteUniversity}, true},
	{mSite{"MUC-TUM-LAB", "MUC-TUM", SiteTeam}, true},
	{mSite{"BOS-MIT", "BOS", SiteUniversity}, true},
	{mSite{"CGO-ZZU", "CGO", SiteUniversity}, true}, // under HQ: refused by the state
	{mSite{"MUC-TUM", "BOS", SiteUniversity}, false},
	{mSite{"TUM", "MUC", SiteUniversity}, false},
	{mSite{"MUC-LMU", "MUC", SiteNode}, false},
}

// modelNewOrgs are the organisations a create_org may describe, with the
// keys of their names (country|name) judged by hand.
var modelNewOrgs = []struct {
	spec  OrgSpec
	valid bool
	keys  []string
}{
	{OrgSpec{Kind: Startup, Name: "Harbor Bio", Country: "US"}, true, []string{"US|harbor bio"}},
	{OrgSpec{Kind: LocalEnterprise, Name: "宇通客车", NameEN: "Yutong Bus", Division: "YRD"}, true, []string{"CN|宇通客车", "CN|yutong bus"}},
	{OrgSpec{Kind: Company, Name: "HARBOR-BIO", Country: "US"}, true, []string{"US|harbor bio"}},
	{OrgSpec{Kind: University, Name: "TU München", Country: "DE"}, true, []string{"DE|tu münchen"}},
	{OrgSpec{Kind: Startup, Name: "Nowhere Inc"}, false, nil},
	{OrgSpec{Kind: LocalEnterprise, Name: "天津港", Division: "BOHAI"}, true, []string{"CN|天津港"}},
	{OrgSpec{Kind: Investor, Name: "Longwood Fund", Country: "US", Division: "YRD"}, false, nil},
}

// modelOrgPatches are the edits an update_org may carry, judged by hand.
var modelOrgPatches = []struct {
	patch  func() *OrgPatch
	valid  bool
	nameEN string // the English name it sets, as keys compare it ("-": none)
}{
	{func() *OrgPatch { return &OrgPatch{City: new("Luoyang")} }, true, "-"},
	{func() *OrgPatch { return &OrgPatch{NameEN: new("Yutong bus")} }, true, "yutong bus"},
	{func() *OrgPatch { return &OrgPatch{Kind: new(LocalEnterprise), Division: new("YRD")} }, true, "-"},
	{func() *OrgPatch { return &OrgPatch{Kind: new(Startup)} }, true, "-"},
	{func() *OrgPatch { return &OrgPatch{Division: new("PRD")} }, true, "-"},
	{func() *OrgPatch { return &OrgPatch{Website: new("harbor.example")} }, false, "-"},
	{func() *OrgPatch { return &OrgPatch{} }, false, "-"},
}

// modelDeals are the deal edits a set_deal may carry, judged by hand.
var modelDeals = []struct {
	patch func() *DealPatch
	valid bool
}{
	{func() *DealPatch { return &DealPatch{Amount: new("42000000"), Currency: new("CNY")} }, true},
	{func() *DealPatch { return &DealPatch{PartnerID: new("org-0002")} }, true},
	{func() *DealPatch { return &DealPatch{Jobs: new(120), NextStep: new("site visit")} }, true},
	{func() *DealPatch { return &DealPatch{Amount: new("1.5"), Currency: new("JPY")} }, true},
	{func() *DealPatch { return &DealPatch{Amount: new("100")} }, true},
	{func() *DealPatch { return &DealPatch{Currency: new("XYZ")} }, false},
	{func() *DealPatch { return &DealPatch{Amount: new(""), Currency: new("")} }, true},
	{func() *DealPatch { return &DealPatch{} }, false},
	{func() *DealPatch { return &DealPatch{PartnerID: new("org-0001")} }, true},
}

// registryFormat2 reports whether op needs log format 2 because of what
// this file adds.
func registryFormat2(op mOp) bool {
	switch op.Kind {
	case OpAddSite, OpRegisterSites, OpCreateOrg, OpUpdateOrg, OpSetDeal:
		return true
	case OpSubmit:
		return modelDrafts[op.Variant].org != ""
	case OpUpdate:
		return modelPatches[op.Variant].org != nil
	case OpAddUser:
		return strings.Contains(modelNewUsers[op.Variant].site, "-")
	}
	return false
}

// validRegistryOp judges the fields of the requests this file adds.
func validRegistryOp(op mOp) bool {
	switch op.Kind {
	case OpAddSite:
		return modelNewSites[op.Variant].valid
	case OpCreateOrg:
		return modelNewOrgs[op.Variant].valid
	case OpUpdateOrg:
		num, ok := strings.CutPrefix(op.OrgID, "org-")
		return ok && len(num) >= 4 && allBytes(num, isDigitASCII) && modelOrgPatches[op.Variant].valid
	case OpSetDeal:
		return oracleLeadID(op.LeadID) && modelDeals[op.Variant].valid
	}
	return false
}

// registerSites is the leader's register_sites.
func (m *refModel) registerSites(op mOp, now time.Time) mResult {
	if m.format < 2 {
		return refused(CodePrecondition)
	}
	added := false
	for _, s := range modelTopologies[op.Variant] {
		if m.reg.sites[s.Code] == nil {
			c := s
			m.reg.sites[s.Code] = &c
			added = true
		}
	}
	return mResult{OK: true, Replayed: !added}
}

// staffSiteCode is the answer to adding node staff at code, from format 2:
// a registered node or sub-node, or (before the leader's first
// registration) any first-level code.
func (m *refModel) staffSiteCode(code string) *Code {
	if m.format < 2 {
		return nil
	}
	bad := CodeInvalid
	s := m.reg.sites[code]
	switch {
	case s == nil && len(m.reg.sites) == 0 && !strings.Contains(code, "-"):
		return nil
	case s == nil, s.Kind == SiteHQ, s.Kind == SiteDivision:
		return &bad
	}
	return nil
}

// submitSite is where a lead of u is submitted: its site and sub-node, or
// the code it is refused with.
func (m *refModel) submitSite(u *mUser) (site, subnode string, code *Code) {
	if m.format >= 2 && m.reg.sites[u.Site] == nil && (len(m.reg.sites) > 0 || strings.Contains(u.Site, "-")) {
		c := CodePrecondition
		return "", "", &c
	}
	if first, _, ok := strings.Cut(u.Site, "-"); ok {
		return first, u.Site, nil
	}
	return u.Site, "", nil
}

// staffOf is whether node staff u act for lead l: of its site, of its
// sub-node, or of a sub-node above it.
func staffOf(u *mUser, l *mLead) bool {
	if u.Role != NodeStaff {
		return false
	}
	return u.Site == l.Site || l.Subnode != "" && (l.Subnode == u.Site || strings.HasPrefix(l.Subnode, u.Site+"-"))
}

// linkable is the answer to linking a lead to org: a foreign organisation.
func (m *refModel) linkable(org string) *Code {
	if o := m.reg.orgs[org]; o == nil || o.Kind == LocalEnterprise {
		c := CodeInvalid
		return &c
	}
	return nil
}

// registryOp answers the requests this file adds.
func (m *refModel) registryOp(u *mUser, op mOp) mResult {
	switch op.Kind {
	case OpAddSite:
		s := modelNewSites[op.Variant].site
		parent := m.reg.sites[s.Parent]
		switch {
		case u.Role != Admin:
			return refused(CodePermission)
		case parent == nil, parent.Kind == SiteHQ, parent.Kind == SiteDivision:
			return refused(CodeInvalid)
		case m.reg.sites[s.Code] != nil:
			return refused(CodeConflict)
		}
		c := s
		m.reg.sites[s.Code] = &c
		r := s
		return mResult{OK: true, Site: &r}
	case OpCreateOrg:
		v := modelNewOrgs[op.Variant]
		if code := mayWriteModelOrg(u, v.spec.Kind, v.spec.Division); code != nil {
			return refused(*code)
		}
		if m.namesTaken(v.keys, "") {
			return refused(CodeConflict)
		}
		o := &mOrg{ID: fmt.Sprintf("org-%04d", len(m.reg.orgIDs)+1), Kind: v.spec.Kind, Country: v.spec.Country,
			Division: v.spec.Division, Version: 1}
		if o.Kind == LocalEnterprise {
			o.Country = "CN"
		}
		for _, k := range v.keys {
			_, name, _ := strings.Cut(k, "|")
			if o.name == "" {
				o.name = name
			} else {
				o.nameEN = name
			}
		}
		m.reg.orgs[o.ID] = o
		m.reg.orgIDs = append(m.reg.orgIDs, o.ID)
		return mResult{OK: true, Org: &mOrgRef{o.ID}}
	case OpUpdateOrg:
		return m.updateOrg(u, op)
	case OpSetDeal:
		return m.setDeal(u, op)
	}
	return refused(CodeInvalid)
}

func mayWriteModelOrg(u *mUser, k OrgKind, division string) *Code {
	deny := CodePermission
	switch {
	case u.Role == Admin || u.Role == HQReviewer:
		return nil
	case u.Role == NodeStaff && k != LocalEnterprise:
		return nil
	case u.Role == DivisionRole && k == LocalEnterprise && division == u.Division:
		return nil
	}
	return &deny
}

// namesTaken reports whether another organisation than self holds a key.
func (m *refModel) namesTaken(keys []string, self string) bool {
	for _, id := range m.reg.orgIDs {
		o := m.reg.orgs[id]
		if id == self {
			continue
		}
		for _, k := range keys {
			if k == o.Country+"|"+o.name || o.nameEN != "" && k == o.Country+"|"+o.nameEN {
				return true
			}
		}
	}
	return false
}

func (m *refModel) updateOrg(u *mUser, op mOp) mResult {
	o := m.reg.orgs[op.OrgID]
	if o == nil {
		return refused(CodeNotFound)
	}
	if code := mayWriteModelOrg(u, o.Kind, o.Division); code != nil {
		return refused(*code)
	}
	if op.ExpectedVersion != 0 && op.ExpectedVersion != o.Version {
		return refused(CodeConflict)
	}
	next := *o
	p := modelOrgPatches[op.Variant]
	patch := p.patch()
	if patch.Kind != nil {
		next.Kind = *patch.Kind
	}
	if patch.Division != nil {
		next.Division = *patch.Division
	}
	if p.nameEN != "-" {
		next.nameEN = p.nameEN
	}
	if (o.Kind == LocalEnterprise) != (next.Kind == LocalEnterprise) {
		next.Country = map[bool]string{true: "CN"}[next.Kind == LocalEnterprise]
	}
	if code := mayWriteModelOrg(u, next.Kind, next.Division); code != nil {
		return refused(*code)
	}
	if next.Kind == LocalEnterprise && next.Division == "" || next.Kind != LocalEnterprise && (next.Country == "" || next.Division != "") {
		return refused(CodeInvalid)
	}
	keys := []string{next.Country + "|" + next.name}
	if next.nameEN != "" {
		keys = append(keys, next.Country+"|"+next.nameEN)
	}
	if m.namesTaken(keys, o.ID) {
		return refused(CodeConflict)
	}
	next.Version++
	*o = next
	return mResult{OK: true, Org: &mOrgRef{o.ID}}
}

func (m *refModel) setDeal(u *mUser, op mOp) mResult {
	l := m.leads[op.LeadID]
	switch {
	case l == nil:
		return refused(CodeNotFound)
	case u.Role != DivisionRole || l.Division != u.Division:
		return refused(CodePermission)
	case op.ExpectedVersion != 0 && op.ExpectedVersion != l.Version:
		return refused(CodeConflict)
	case l.Stage != Claimed && l.Stage != Negotiating && l.Stage != Signed:
		return refused(CodePrecondition)
	}
	cur := m.reg.deals[l.ID]
	next := cur
	p := modelDeals[op.Variant].patch()
	for _, f := range []struct {
		dst *string
		src *string
	}{{&next.Partner, p.PartnerID}, {&next.Amount, p.Amount}, {&next.Currency, p.Currency}, {&next.NextStep, p.NextStep}} {
		if f.src != nil {
			*f.dst = *f.src
		}
	}
	if p.Jobs != nil {
		next.Jobs = *p.Jobs
	}
	bad := refused(CodeInvalid)
	switch {
	case next.Amount != "" && next.Currency == "":
		return bad
	case next.Currency == "JPY" && strings.Contains(next.Amount, "."):
		return bad
	case next.Partner != "" && (m.reg.orgs[next.Partner] == nil || m.reg.orgs[next.Partner].Kind != LocalEnterprise):
		return bad
	}
	next.Division = u.Division
	if next.String() == cur.String() {
		c := *l
		return mResult{OK: true, Lead: &c}
	}
	m.reg.deals[l.ID] = next
	l.Deal = next.String()
	l.Version++
	c := *l
	return mResult{OK: true, Lead: &c}
}

// compareRegistry compares the registry and the organisations with the
// model's.
func (r *modelRun) compareRegistry() error {
	sites, err := r.st.Sites()
	if err != nil {
		return err
	}
	got, want := map[string]mSite{}, map[string]mSite{}
	for _, s := range sites {
		got[s.Code] = mSite{s.Code, s.Parent, s.Kind}
	}
	for code, s := range r.m.reg.sites {
		want[code] = *s
	}
	if !reflect.DeepEqual(got, want) {
		return fmt.Errorf("sites differ:\ngot  %+v\nwant %+v", got, want)
	}
	orgs, _, err := r.st.Organizations(OrgFilter{})
	if err != nil {
		return err
	}
	gotO, wantO := map[string]mOrg{}, map[string]mOrg{}
	for _, o := range orgs {
		gotO[o.ID] = mOrg{ID: o.ID, Kind: o.Kind, Country: o.Country, Division: o.Division, Version: o.Version}
	}
	for id, o := range r.m.reg.orgs {
		c := *o
		c.name, c.nameEN = "", ""
		wantO[id] = c
	}
	if !reflect.DeepEqual(gotO, wantO) {
		return fmt.Errorf("organizations differ:\ngot  %+v\nwant %+v", gotO, wantO)
	}
	return nil
}

// decodeRegistry turns the bytes of a registry request (kRegistry) into
// an mOp: b3's low 3 bits choose the request, its high nibble the variant.
func (r *modelRun) decodeRegistry(b []byte) mOp {
	m := r.m
	v := int(b[3] >> 4)
	var op mOp
	switch b[3] & 7 {
	case 0:
		op = mOp{Kind: OpAddSite, Variant: v % len(modelNewSites)}
	case 1:
		op = mOp{Kind: OpCreateOrg, Variant: v % len(modelNewOrgs)}
	case 2:
		op = mOp{Kind: OpUpdateOrg, Variant: v % len(modelOrgPatches)}
		switch i := int(b[2]) % (len(m.reg.orgIDs) + 2); {
		case b[2] == 255:
			op.OrgID = "org-1"
		case i < len(m.reg.orgIDs):
			op.OrgID = m.reg.orgIDs[i]
		default:
			op.OrgID = "org-0999"
		}
		if o := m.reg.orgs[op.OrgID]; o != nil && b[4]>>4 >= 13 {
			op.ExpectedVersion = o.Version + 1
		}
	case 4:
		return mOp{Kind: OpRegisterSites, Variant: v % len(modelTopologies)}
	default:
		op = mOp{Kind: OpSetDeal, Variant: v % len(modelDeals)}
		if n := len(m.leadIDs); n > 0 {
			op.LeadID = m.leadIDs[n-1-int(b[2])%min(n, 3)]
		} else {
			op.LeadID = "TLV-0999"
		}
		if l := m.leads[op.LeadID]; l != nil && b[4]>>4 >= 13 {
			op.ExpectedVersion = l.Version + 1
		}
	}
	switch low := b[4] & 15; {
	case low < 2:
		op.RequestID = fmt.Sprintf("r%d", low)
	case low == 15:
		op.RequestID = "bad id"
	default:
		r.fresh++
		op.RequestID = fmt.Sprintf("f-%d", r.fresh)
	}
	op.Actor = r.actor(op, b[1])
	op.ActorToken = r.actorToken(op.Actor, b[0])
	return op
}

// registryCommand fills the parts of the log entry for op this file adds.
func registryCommand(op mOp, c *Command) {
	switch op.Kind {
	case OpAddSite:
		s := modelNewSites[op.Variant].site
		c.Site = &SiteSpec{Code: s.Code, Parent: s.Parent, Name: "Sub-node " + s.Code, Kind: s.Kind}
	case OpRegisterSites:
		for _, s := range modelTopologies[op.Variant] {
			c.Sites = append(c.Sites, SiteSpec{Code: s.Code, Name: "Site " + s.Code, Kind: s.Kind})
		}
	case OpCreateOrg:
		s := modelNewOrgs[op.Variant].spec
		c.Org = &s
	case OpUpdateOrg:
		c.OrgID, c.OrgPatch = op.OrgID, modelOrgPatches[op.Variant].patch()
	case OpSetDeal:
		c.Deal = modelDeals[op.Variant].patch()
	}
}

// registryActor is the user who would normally send a registry request.
func registryActor(op mOp, l *mLead, b byte) func(u *mUser) bool {
	switch op.Kind {
	case OpCreateOrg, OpUpdateOrg:
		switch b % 3 {
		case 0:
			return func(u *mUser) bool { return u.Role == HQReviewer }
		case 1:
			return func(u *mUser) bool { return u.Role == NodeStaff }
		}
		return func(u *mUser) bool { return u.Role == DivisionRole }
	case OpSetDeal:
		return func(u *mUser) bool { return u.Role == DivisionRole && u.Division == l.Division }
	}
	return func(u *mUser) bool { return u.Role == Admin }
}
