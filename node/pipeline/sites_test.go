package pipeline

import (
	"bytes"
	"reflect"
	"testing"
)

func TestRegisterSites(t *testing.T) {
	f := newFixture(t)
	// At format 1 the registry does not exist.
	assertUnchanged(t, f.st, func() {
		wantError(t, f.system(Command{Op: OpRegisterSites, Sites: defaultSites}), ErrPrecondition, "log format 2")
	})
	f.raise()
	if res := wantResult(t, f.system(Command{Op: OpRegisterSites, Sites: defaultSites[:2]})); res.Replayed {
		t.Errorf("first registration: Replayed, want a change")
	}
	// A second leader listing what is registered changes nothing.
	assertUnchanged(t, f.st, func() {
		if res := wantResult(t, f.system(Command{Op: OpRegisterSites, Sites: defaultSites[:2]})); !res.Replayed {
			t.Errorf("repeated registration: not Replayed")
		}
	})
	// Registering is additive: a site keeps its first name and kind.
	renamed := append([]SiteSpec{{Code: "BOS", Name: "Boston office", Kind: SiteNode}}, defaultSites[2:]...)
	wantResult(t, f.system(Command{Op: OpRegisterSites, Sites: renamed}))
	sites, err := f.st.Sites()
	if err != nil {
		t.Fatal(err)
	}
	var codes []string
	for _, s := range sites {
		codes = append(codes, s.Code)
		if s.Parent != "" || s.CreatedBy != "" || s.Level() != 1 {
			t.Errorf("first-level site %+v: want no parent, no creator, level 1", s)
		}
	}
	if want := []string{"BOHAI", "BOS", "CBG", "CGO", "MUC", "PRD", "TLV", "YRD"}; !reflect.DeepEqual(codes, want) {
		t.Errorf("registered %v, want %v", codes, want)
	}
	if s, _ := f.st.Site("BOS"); s == nil || s.Name != "Boston" || !s.Created.Equal(clock(f.index-2)) {
		t.Errorf("BOS = %+v, want the first name and time", s)
	}
	// A member without a name in the topology is named by its code.
	wantResult(t, f.system(Command{Op: OpRegisterSites, Sites: []SiteSpec{{Code: "SIN", Kind: SiteNode}}}))
	if s, _ := f.st.Site("SIN"); s == nil || s.Name != "SIN" {
		t.Errorf("SIN = %+v, want the name SIN", s)
	}
}

func TestRegisterSitesValidation(t *testing.T) {
	for _, tt := range []struct {
		name  string
		sites []SiteSpec
		field string
	}{
		{"none", nil, "sites"},
		{"a sub-node", []SiteSpec{{Code: "MUC-TUM", Kind: SiteNode}}, "sites.code"},
		{"lower case", []SiteSpec{{Code: "bos", Kind: SiteNode}}, "sites.code"},
		{"sub-node kind", []SiteSpec{{Code: "BOS", Kind: SiteUniversity}}, "sites.kind"},
		{"a division as a node", []SiteSpec{{Code: "YRD", Kind: SiteNode}}, "sites.kind"},
		{"a node as a division", []SiteSpec{{Code: "BOS", Kind: SiteDivision}}, "sites.kind"},
		{"twice", []SiteSpec{{Code: "BOS", Kind: SiteNode}, {Code: "BOS", Kind: SiteNode}}, "sites"},
		{"parent", []SiteSpec{{Code: "BOS", Parent: "CGO", Kind: SiteNode}}, "sites.parent"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			wantInvalid(t, Command{Op: OpRegisterSites, Sites: tt.sites}.Validate(), tt.field)
		})
	}
}

func TestAddSite(t *testing.T) {
	tum := SiteSpec{Code: "MUC-TUM", Parent: "MUC", Name: "Technische Universität München", Kind: SiteUniversity}
	tests := []struct {
		name  string
		actor string
		spec  SiteSpec
		want  error
		msgs  []string
	}{
		{"by admin", "admin", tum, nil, nil},
		{"third level", "admin", SiteSpec{Code: "MUC-TUM-LAB", Parent: "MUC-TUM", Name: "Battery lab", Kind: SiteTeam}, nil, nil},
		{"by HQ", "hq", tum, ErrPermission, []string{"ADMIN"}},
		{"by node staff", "bos", tum, ErrPermission, []string{"ADMIN"}},
		{"unknown parent", "admin", SiteSpec{Code: "LON-UCL", Parent: "LON", Name: "UCL", Kind: SiteUniversity}, ErrInvalid,
			[]string{"parent", "LON", "BOS, CBG, MUC, MUC-TUM, TLV"}},
		{"under HQ", "admin", SiteSpec{Code: "CGO-ZZU", Parent: "CGO", Name: "Zhengzhou University", Kind: SiteUniversity}, ErrInvalid,
			[]string{"parent", "CGO", "hq"}},
		{"under a division", "admin", SiteSpec{Code: "YRD-SJTU", Parent: "YRD", Name: "SJTU", Kind: SiteUniversity}, ErrInvalid,
			[]string{"parent", "YRD", "division"}},
		{"twice", "admin", SiteSpec{Code: "MUC-TUM", Parent: "MUC", Name: "TUM again", Kind: SiteUniversity}, ErrConflict,
			[]string{"MUC-TUM", "already registered"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.raise()
			wantResult(t, f.system(Command{Op: OpRegisterSites, Sites: defaultSites}))
			if tt.name != "by admin" {
				f.ok("admin", Command{Op: OpAddSite, Site: &tum})
			}
			cmd := Command{Op: OpAddSite, Site: &tt.spec}
			if tt.want != nil {
				var res any
				assertUnchanged(t, f.st, func() { res = f.apply(tt.actor, cmd) })
				wantError(t, res, tt.want, tt.msgs...)
				return
			}
			got := f.ok(tt.actor, cmd).Site
			want := &Site{Code: tt.spec.Code, Parent: tt.spec.Parent, Name: tt.spec.Name, Kind: tt.spec.Kind,
				Created: clock(f.index), CreatedBy: f.user(tt.actor)}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("registered %+v\nwant %+v", got, want)
			}
			if s, err := f.st.Site(tt.spec.Code); err != nil || !reflect.DeepEqual(s, want) {
				t.Errorf("Site(%s) = %+v, %v", tt.spec.Code, s, err)
			}
		})
	}
}

func TestAddSiteValidation(t *testing.T) {
	for _, tt := range []struct {
		name  string
		spec  SiteSpec
		field string
	}{
		{"first-level code", SiteSpec{Code: "TUM", Parent: "MUC", Name: "TUM", Kind: SiteUniversity}, "code"},
		{"fourth level", SiteSpec{Code: "MUC-TUM-LAB-X", Parent: "MUC-TUM-LAB", Name: "X", Kind: SiteTeam}, "code"},
		{"digits like a lead number", SiteSpec{Code: "MUC-0007", Parent: "MUC", Name: "X", Kind: SiteTeam}, "code"},
		{"wrong parent", SiteSpec{Code: "MUC-TUM", Parent: "BOS", Name: "TUM", Kind: SiteUniversity}, "parent"},
		{"no parent", SiteSpec{Code: "MUC-TUM", Name: "TUM", Kind: SiteUniversity}, "parent"},
		{"no name", SiteSpec{Code: "MUC-TUM", Parent: "MUC", Kind: SiteUniversity}, "name"},
		{"first-level kind", SiteSpec{Code: "MUC-TUM", Parent: "MUC", Name: "TUM", Kind: SiteNode}, "kind"},
		{"no kind", SiteSpec{Code: "MUC-TUM", Parent: "MUC", Name: "TUM"}, "kind"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			wantInvalid(t, Command{Op: OpAddSite, RequestID: "r", Site: &tt.spec}.Validate(), tt.field)
		})
	}
	wantInvalid(t, Command{Op: OpAddSite, RequestID: "r"}.Validate(), "site")
}

// TestStaffSites: from format 2, node staff belong to registered nodes and
// sub-nodes only (a typo is refused, naming the known ones); before the
// leader's first registration first-level codes pass as at format 1.
func TestStaffSites(t *testing.T) {
	staff := func(site string) Command {
		return Command{Op: OpAddUser, NewUser: testUser("New "+site, NodeStaff, site, "")}
	}
	t.Run("registry in force", func(t *testing.T) {
		f := newRegistryFixture(t)
		for _, tt := range []struct {
			site string
			msgs []string
		}{
			{"MUCH", []string{`"MUCH" is not a registered site or sub-node`, "BOS, CBG, MUC, MUC-LMU, MUC-TUM, MUC-TUM-LAB, TLV"}},
			{"TUM", []string{`"TUM"`}},
			{"MUC-TUX", []string{`"MUC-TUX"`}},
			{"CGO", []string{"CGO is the site of hq", "overseas node"}},
			{"YRD", []string{"YRD is the site of division"}},
		} {
			assertUnchanged(t, f.st, func() { wantError(t, f.apply("admin", staff(tt.site)), ErrInvalid, append(tt.msgs, "site")...) })
		}
		for _, site := range []string{"TLV", "MUC-TUM", "MUC-TUM-LAB"} {
			if u := f.ok("admin", staff(site)).User; u.Site != site {
				t.Errorf("added %+v, want site %s", u, site)
			}
		}
	})
	t.Run("format 2 before the first registration", func(t *testing.T) {
		f := newFixture(t)
		f.raise()
		f.ok("admin", staff("TUM"))
		wantError(t, f.apply("admin", staff("MUC-TUM")), ErrInvalid, "MUC-TUM", "none yet")
	})
	t.Run("format 1", func(t *testing.T) {
		f := newFixture(t)
		f.ok("admin", staff("MUCH"))
		wantError(t, f.apply("admin", staff("MUC-TUM")), ErrPrecondition, "log format 2")
	})
}

// TestSubnodeLeads: a lead of sub-node staff takes its site's ID sequence,
// records the sub-node, counts for the site, and is seen and managed by
// the site's staff and the sub-node's (and those above it), not by a
// sibling sub-node's.
func TestSubnodeLeads(t *testing.T) {
	f := newRegistryFixture(t)
	tumLead := f.ok("tum", Command{Op: OpSubmit, Draft: validDraft()}).Lead
	mucLead := f.ok("muc", Command{Op: OpSubmit, Draft: validDraft()}).Lead
	labLead := f.ok("lab", Command{Op: OpSubmit, Draft: validDraft()}).Lead
	for _, tt := range []struct {
		lead          *Lead
		id, subnode   string
		seenBy, blind []string
	}{
		{tumLead, "MUC-0001", "MUC-TUM", []string{"muc", "tum", "hq", "admin"}, []string{"lab", "lmu", "bos", "yrd"}},
		{mucLead, "MUC-0002", "", []string{"muc", "hq"}, []string{"tum", "lab", "lmu", "bos", "yrd"}},
		{labLead, "MUC-0003", "MUC-TUM-LAB", []string{"muc", "tum", "lab"}, []string{"lmu", "bos"}},
	} {
		l := tt.lead
		if l.ID != tt.id || l.Site != "MUC" || l.Subnode != tt.subnode || l.SourceNode() != map[bool]string{true: "MUC", false: tt.subnode}[tt.subnode == ""] {
			t.Errorf("lead %+v: want %s of site MUC from sub-node %q", l, tt.id, tt.subnode)
		}
		for _, name := range tt.seenBy {
			if u, _ := f.st.User(f.user(name)); !u.CanSee(l) {
				t.Errorf("%s does not see %s", name, l.ID)
			}
		}
		for _, name := range tt.blind {
			if u, _ := f.st.User(f.user(name)); u.CanSee(l) {
				t.Errorf("%s sees %s", name, l.ID)
			}
		}
	}
	if e := f.history(tumLead.ID)[0]; e.UserSite != "MUC-TUM" {
		t.Errorf("submit event %+v: want the user's site MUC-TUM", e)
	}
	// Managing: the site's staff edit the sub-node's lead; a sub-node's
	// staff do not edit the site's or a sibling's.
	edit := Command{Op: OpUpdate, Patch: &Patch{Title: strp("Edited")}}
	edit.LeadID = tumLead.ID
	f.ok("muc", edit)
	f.ok("tum", edit)
	for _, tt := range []struct{ actor, lead string }{{"tum", mucLead.ID}, {"lmu", tumLead.ID}, {"lab", tumLead.ID}, {"bos", tumLead.ID}} {
		c := edit
		c.LeadID = tt.lead
		assertUnchanged(t, f.st, func() { wantError(t, f.apply(tt.actor, c), ErrPermission, "belongs to site") })
	}
	f.ok("muc", Command{Op: OpWithdraw, LeadID: labLead.ID, Comment: "merged into MUC-0001"})
	// Counts roll up to the site.
	if got := f.st.CountsBySite(); got[StageSite{Submitted, "MUC"}] != 2 || got[StageSite{Withdrawn, "MUC"}] != 1 || len(got) != 2 {
		t.Errorf("CountsBySite = %v, want 2 submitted and 1 withdrawn of MUC", got)
	}
	// A site filter lists the sub-nodes' leads with the site's.
	leads, _, err := f.st.Leads(Filter{Site: "MUC"})
	if err != nil || len(leads) != 3 {
		t.Errorf("Leads(site MUC) = %d leads, %v; want 3", len(leads), err)
	}
}

// TestUnregisteredStaffSubmit: staff left on a site that is not
// registered (added at format 1) cannot submit once the registry is in
// force.
func TestUnregisteredStaffSubmit(t *testing.T) {
	f := newFixture(t)
	f.ids["tum"] = f.ok("admin", Command{Op: OpAddUser, NewUser: testUser("Tim TUM", NodeStaff, "TUM", "")}).User.ID
	f.raise()
	f.ok("tum", Command{Op: OpSubmit, Draft: validDraft()}) // not yet in force
	wantResult(t, f.system(Command{Op: OpRegisterSites, Sites: defaultSites}))
	assertUnchanged(t, f.st, func() {
		wantError(t, f.apply("tum", Command{Op: OpSubmit, Draft: validDraft()}), ErrPrecondition, "TUM is not registered", "MUC")
	})
	f.ok("bos", Command{Op: OpSubmit, Draft: validDraft()})
}

func TestSitesSnapshot(t *testing.T) {
	f := newRegistryFixture(t)
	f.ok("tum", Command{Op: OpSubmit, Draft: validDraft()})
	snap := snapshotBytes(t, f.st)
	g := New()
	if err := g.Restore(bytes.NewReader(snap)); err != nil {
		t.Fatal(err)
	}
	if got := snapshotBytes(t, g); !bytes.Equal(got, snap) {
		t.Errorf("a restored registry snapshots differently:\ngot  %s\nwant %s", got, snap)
	}
	want, _ := f.st.Sites()
	if got, _ := g.Sites(); !reflect.DeepEqual(got, want) || len(got) != 11 {
		t.Errorf("restored sites = %+v\nwant %+v", got, want)
	}
	if l, err := g.Lead("MUC-0001"); err != nil || l.Subnode != "MUC-TUM" {
		t.Errorf("restored lead = %+v, %v", l, err)
	}
}

func TestFirstLevelSite(t *testing.T) {
	for code, want := range map[string]string{"MUC": "MUC", "MUC-TUM": "MUC", "MUC-TUM-LAB": "MUC"} {
		if got := FirstLevelSite(code); got != want {
			t.Errorf("FirstLevelSite(%s) = %s, want %s", code, got, want)
		}
	}
	for code, want := range map[string]bool{"MUC-TUM": true, "MUC-T2": true, "MUC-TUM-LAB": true, "MUC": false,
		"MUC-7": false, "MUC-0007": false, "MUC-tum": false, "MUC-A-B-C": false, "MUC-ABCDEFGHI": false} {
		if got := ValidSubnodeCode(code); got != want {
			t.Errorf("ValidSubnodeCode(%s) = %v, want %v", code, got, want)
		}
	}
}
