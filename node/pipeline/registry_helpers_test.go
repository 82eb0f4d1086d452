package pipeline

import "testing"

// defaultSites is the default topology of DESIGN.md, as the leader
// registers it.
var defaultSites = []SiteSpec{
	{Code: "CGO", Name: "Zhengzhou home park (HQ)", Kind: SiteHQ},
	{Code: "BOS", Name: "Boston", Kind: SiteNode},
	{Code: "CBG", Name: "Cambridge, UK", Kind: SiteNode},
	{Code: "MUC", Name: "Munich", Kind: SiteNode},
	{Code: "TLV", Name: "Tel Aviv", Kind: SiteNode},
	{Code: "BOHAI", Name: "Bohai Rim division", Kind: SiteDivision},
	{Code: "YRD", Name: "Yangtze River Delta division", Kind: SiteDivision},
	{Code: "PRD", Name: "Pearl River Delta division", Kind: SiteDivision},
}

// system applies a command the leader proposes on its own (no actor, no
// request ID) as the next entry.
func (f *fixture) system(c Command) any {
	f.tb.Helper()
	if c.Time == 0 {
		c.Time = clock(f.index + 1).UnixNano()
	}
	data, err := c.Encode()
	if err != nil {
		f.tb.Fatalf("encode %s: %v", c.Op, err)
	}
	return f.applyRaw(data)
}

// newRegistryFixture is a fixture at format 2 with the default topology
// registered, the sub-nodes MUC-TUM (with MUC-TUM-LAB under it) and
// MUC-LMU, and node staff "muc", "tum", "lab" and "lmu" of each.
func newRegistryFixture(tb testing.TB) *fixture {
	tb.Helper()
	f := newFixture(tb)
	f.raise()
	wantResult(tb, f.system(Command{Op: OpRegisterSites, Sites: defaultSites}))
	for _, s := range []SiteSpec{
		{Code: "MUC-TUM", Parent: "MUC", Name: "Technische Universität München", Kind: SiteUniversity},
		{Code: "MUC-TUM-LAB", Parent: "MUC-TUM", Name: "TUM battery lab", Kind: SiteTeam},
		{Code: "MUC-LMU", Parent: "MUC", Name: "Ludwig-Maximilians-Universität", Kind: SiteUniversity},
	} {
		f.ok("admin", Command{Op: OpAddSite, Site: &s})
	}
	for name, site := range map[string]string{"muc": "MUC", "tum": "MUC-TUM", "lab": "MUC-TUM-LAB", "lmu": "MUC-LMU"} {
		f.ids[name] = f.ok("admin", Command{Op: OpAddUser, NewUser: testUser("Staff of "+site, NodeStaff, site, "")}).User.ID
	}
	return f
}

// claimedBy returns a lead of BOS claimed by the named division.
func (f *fixture) claimedBy(division string) string {
	f.tb.Helper()
	id := f.submit("bos")
	f.ok("hq", Command{Op: OpReview, LeadID: id, Decision: Approve})
	f.ok(division, Command{Op: OpClaim, LeadID: id})
	return id
}

// org adds an organisation as actor and returns its ID.
func (f *fixture) org(actor string, s OrgSpec) string {
	f.tb.Helper()
	return f.ok(actor, Command{Op: OpCreateOrg, Org: &s}).Org.ID
}

func strp(s string) *string { return &s }
func intp(n int) *int       { return &n }
