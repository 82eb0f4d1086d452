package pipeline

import (
	"reflect"
	"strings"
	"testing"
)

func harbor() OrgSpec {
	return OrgSpec{Kind: Startup, Name: "Harbor Bio Therapeutics", OtherNames: []string{"哈伯生物", "Harbor Bio"},
		Country: "US", Website: "https://harborbio.example", City: "Boston"}
}

func yutong() OrgSpec {
	return OrgSpec{Kind: LocalEnterprise, Name: "宇通客车", NameEN: "Yutong Bus", City: "Zhengzhou", Division: "YRD",
		LookingFor: "Battery and drive-train technology."}
}

func TestCreateOrg(t *testing.T) {
	local := yutong()
	bohaiLocal := yutong()
	bohaiLocal.Division, bohaiLocal.Name, bohaiLocal.NameEN = "BOHAI", "天津港", "Tianjin Port"
	for _, tt := range []struct {
		name  string
		actor string
		spec  OrgSpec
		want  error
		msg   string
	}{
		{"startup by node staff", "bos", harbor(), nil, ""},
		{"startup by HQ", "hq", harbor(), nil, ""},
		{"startup by admin", "admin", harbor(), nil, ""},
		{"local enterprise by its division", "yrd", local, nil, ""},
		{"local enterprise by HQ", "hq", local, nil, ""},
		{"local enterprise by node staff", "bos", local, ErrPermission, "LOCAL_ENTERPRISE"},
		{"local enterprise of another division", "yrd", bohaiLocal, ErrPermission, "BOHAI"},
		{"startup by a division", "yrd", harbor(), ErrPermission, "STARTUP"},
		{"unknown actor", "user-0099", harbor(), ErrUnauthenticated, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.raise()
			cmd := Command{Op: OpCreateOrg, Org: &tt.spec}
			if tt.want != nil {
				var res any
				assertUnchanged(t, f.st, func() { res = f.apply(tt.actor, cmd) })
				wantError(t, res, tt.want, tt.msg)
				return
			}
			got := f.ok(tt.actor, cmd).Org
			want := &Organization{ID: "org-0001", Seq: 1, Kind: tt.spec.Kind, Name: tt.spec.Name, NameEN: tt.spec.NameEN,
				OtherNames: tt.spec.OtherNames, Country: tt.spec.Country, Website: tt.spec.Website, City: tt.spec.City,
				Division: tt.spec.Division, LookingFor: tt.spec.LookingFor, Version: 1,
				Created: clock(f.index), CreatedBy: f.user(tt.actor), Updated: clock(f.index), UpdatedBy: f.user(tt.actor)}
			if tt.spec.Kind == LocalEnterprise {
				want.Country = "CN"
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("created %+v\nwant    %+v", got, want)
			}
			if o, err := f.st.Organization("org-0001"); err != nil || !reflect.DeepEqual(o, want) {
				t.Errorf("Organization(org-0001) = %+v, %v", o, err)
			}
		})
	}
	t.Run("at format 1", func(t *testing.T) {
		f := newFixture(t)
		wantError(t, f.apply("bos", Command{Op: OpCreateOrg, Org: &OrgSpec{Kind: Startup, Name: "X", Country: "US"}}), ErrPrecondition, "log format 2")
	})
}

func TestOrgValidation(t *testing.T) {
	for _, tt := range []struct {
		name  string
		edit  func(*OrgSpec)
		field string
	}{
		{"no kind", func(s *OrgSpec) { s.Kind = 0 }, "kind"},
		{"no name", func(s *OrgSpec) { s.Name = " " }, "name"},
		{"two-line name", func(s *OrgSpec) { s.Name = "Harbor\nBio" }, "name"},
		{"foreign without country", func(s *OrgSpec) { s.Country = "" }, "country"},
		{"bad country", func(s *OrgSpec) { s.Country = "XX" }, "country"},
		{"foreign with a division", func(s *OrgSpec) { s.Division = "YRD" }, "division"},
		{"foreign looking for", func(s *OrgSpec) { s.LookingFor = "money" }, "looking_for"},
		{"website without scheme", func(s *OrgSpec) { s.Website = "harborbio.example" }, "website"},
		{"website with a space", func(s *OrgSpec) { s.Website = "https://harbor bio.example" }, "website"},
		{"too many names", func(s *OrgSpec) { s.OtherNames = make([]string, MaxOtherNames+1) }, "other_names"},
		{"blank other name", func(s *OrgSpec) { s.OtherNames = []string{""} }, "other_names"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := harbor()
			tt.edit(&s)
			wantInvalid(t, Command{Op: OpCreateOrg, RequestID: "r", Org: &s}.Validate(), tt.field)
		})
	}
	for _, tt := range []struct {
		name  string
		edit  func(*OrgSpec)
		field string
	}{
		{"local without division", func(s *OrgSpec) { s.Division = "" }, "division"},
		{"local abroad", func(s *OrgSpec) { s.Country = "DE" }, "country"},
		{"unknown division", func(s *OrgSpec) { s.Division = "NORTH" }, "division"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := yutong()
			tt.edit(&s)
			wantInvalid(t, Command{Op: OpCreateOrg, RequestID: "r", Org: &s}.Validate(), tt.field)
		})
	}
	if err := (Command{Op: OpCreateOrg, RequestID: "r", Org: &OrgSpec{Kind: LocalEnterprise, Name: "宇通", Country: "CN", Division: "YRD"}}).Validate(); err != nil {
		t.Errorf("a local enterprise in CN: %v", err)
	}
	wantInvalid(t, Command{Op: OpUpdateOrg, RequestID: "r", OrgID: "org-1", OrgPatch: &OrgPatch{Name: strp("X")}}.Validate(), "id")
	wantInvalid(t, Command{Op: OpUpdateOrg, RequestID: "r", OrgID: "org-0001", OrgPatch: &OrgPatch{}}.Validate(), "organization")
	wantInvalid(t, Command{Op: OpUpdateOrg, RequestID: "r", OrgID: "org-0001", OrgPatch: &OrgPatch{Website: strp("ftp://x")}}.Validate(), "website")
}

// TestOrgDuplicates: two organisations of one country may not share a
// name in any spelling; the same name in another country may.
func TestOrgDuplicates(t *testing.T) {
	f := newFixture(t)
	f.raise()
	first := f.org("bos", harbor())
	for _, name := range []string{"harbor  bio THERAPEUTICS.", "Harbor-Bio", "哈伯生物"} {
		s := OrgSpec{Kind: Company, Name: name, Country: "US"}
		assertUnchanged(t, f.st, func() {
			wantError(t, f.apply("cbg", Command{Op: OpCreateOrg, Org: &s}), ErrConflict, first, "already a name of", "link to it")
		})
	}
	s := harbor()
	s.Country = "GB"
	f.org("cbg", s)
	other := f.org("cbg", OrgSpec{Kind: Investor, Name: "Longwood Fund", Country: "US"})
	// An edit may not take another's name either, but may keep its own.
	assertUnchanged(t, f.st, func() {
		wantError(t, f.apply("bos", Command{Op: OpUpdateOrg, OrgID: other, OrgPatch: &OrgPatch{NameEN: strp("Harbor Bio")}}), ErrConflict, first)
	})
	f.ok("bos", Command{Op: OpUpdateOrg, OrgID: first, OrgPatch: &OrgPatch{Name: strp("Harbor Bio Therapeutics Inc.")}})
}

func TestUpdateOrg(t *testing.T) {
	f := newFixture(t)
	f.raise()
	id := f.org("bos", harbor())
	local := f.org("yrd", yutong())
	o := f.ok("cbg", Command{Op: OpUpdateOrg, OrgID: id, OrgPatch: &OrgPatch{Website: strp(""), Kind: kindp(Company),
		OtherNames: []string{"Harbour Bio"}}}).Org
	if o.Version != 2 || o.Kind != Company || o.Website != "" || !reflect.DeepEqual(o.OtherNames, []string{"Harbour Bio"}) ||
		o.UpdatedBy != f.user("cbg") || !o.Updated.Equal(clock(f.index)) || o.CreatedBy != f.user("bos") || o.Name != "Harbor Bio Therapeutics" {
		t.Errorf("updated %+v", o)
	}
	for _, tt := range []struct {
		name  string
		actor string
		cmd   Command
		want  error
		msg   string
	}{
		{"stale version", "bos", Command{OrgID: id, ExpectedVersion: 1, OrgPatch: &OrgPatch{City: strp("Cambridge")}}, ErrConflict, "version 2"},
		{"unknown", "bos", Command{OrgID: "org-0099", OrgPatch: &OrgPatch{City: strp("Cambridge")}}, ErrNotFound, "org-0099"},
		{"staff make it local", "bos", Command{OrgID: id, OrgPatch: &OrgPatch{Kind: kindp(LocalEnterprise), Division: strp("YRD")}}, ErrPermission, "LOCAL_ENTERPRISE"},
		{"staff edit a local enterprise", "bos", Command{OrgID: local, OrgPatch: &OrgPatch{City: strp("Luoyang")}}, ErrPermission, ""},
		{"a rival division", "bohai", Command{OrgID: local, OrgPatch: &OrgPatch{City: strp("Luoyang")}}, ErrPermission, "YRD"},
		{"the division gives it away", "yrd", Command{OrgID: local, OrgPatch: &OrgPatch{Division: strp("PRD")}}, ErrPermission, "PRD"},
		{"a local enterprise abroad", "hq", Command{OrgID: local, OrgPatch: &OrgPatch{Country: strp("DE")}}, ErrInvalid, "country"},
		{"foreign with no country", "hq", Command{OrgID: local, OrgPatch: &OrgPatch{Kind: kindp(Company), Division: strp("")}}, ErrInvalid, "country"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.cmd
			c.Op = OpUpdateOrg
			assertUnchanged(t, f.st, func() { wantError(t, f.apply(tt.actor, c), tt.want, tt.msg) })
		})
	}
	f.ok("yrd", Command{Op: OpUpdateOrg, OrgID: local, OrgPatch: &OrgPatch{LookingFor: strp("Hydrogen buses.")}})
	f.ok("hq", Command{Op: OpUpdateOrg, OrgID: local, OrgPatch: &OrgPatch{Division: strp("PRD")}})
	if o, _ := f.st.Organization(local); o.Division != "PRD" || o.Country != "CN" || o.Version != 3 {
		t.Errorf("local enterprise after edits = %+v", o)
	}
}

func kindp(k OrgKind) *OrgKind { return &k }

func TestListOrgs(t *testing.T) {
	f := newFixture(t)
	f.raise()
	f.org("bos", harbor())
	f.org("yrd", yutong())
	f.org("cbg", OrgSpec{Kind: University, Name: "University of Cambridge", Country: "GB"})
	f.org("bos", OrgSpec{Kind: Investor, Name: "Longwood Fund", Country: "US"})
	f.org("hq", OrgSpec{Kind: LocalEnterprise, Name: "郑州宇通集团", NameEN: "Yutong Group", Division: "YRD"})
	ids := func(orgs []*Organization) string {
		var out []string
		for _, o := range orgs {
			out = append(out, o.ID)
		}
		return strings.Join(out, " ")
	}
	for _, tt := range []struct {
		name string
		f    OrgFilter
		want string
		more bool
	}{
		{"all", OrgFilter{}, "org-0001 org-0002 org-0003 org-0004 org-0005", false},
		{"by kind", OrgFilter{Kind: LocalEnterprise}, "org-0002 org-0005", false},
		{"by country", OrgFilter{Country: "US"}, "org-0001 org-0004", false},
		{"by words", OrgFilter{Query: "cambridge UNIVERSITY"}, "org-0003", false},
		{"by another script", OrgFilter{Query: "宇通"}, "org-0002 org-0005", false},
		{"by another name", OrgFilter{Query: "哈伯"}, "org-0001", false},
		{"by English name", OrgFilter{Query: "yutong"}, "org-0002 org-0005", false},
		{"first page", OrgFilter{Limit: 2}, "org-0001 org-0002", true},
		{"next page", OrgFilter{Limit: 2, After: "org-0002"}, "org-0003 org-0004", true},
		{"last page", OrgFilter{Limit: 2, After: "org-0004"}, "org-0005", false},
		{"filtered page", OrgFilter{Limit: 1, Country: "US", After: "org-0001"}, "org-0004", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, more, err := f.st.Organizations(tt.f)
			if err != nil {
				t.Fatal(err)
			}
			if ids(got) != tt.want || more != tt.more {
				t.Errorf("Organizations(%+v) = %s (more %v), want %s (more %v)", tt.f, ids(got), more, tt.want, tt.more)
			}
		})
	}
}

// TestLeadOrganization: a lead links to the foreign organisation behind
// it; then its free-text organization may be empty.
func TestLeadOrganization(t *testing.T) {
	f := newFixture(t)
	f.raise()
	id := f.org("bos", harbor())
	local := f.org("yrd", yutong())
	d := validDraft()
	d.Organization, d.OrganizationID = "", id
	l := f.ok("bos", Command{Op: OpSubmit, Draft: d}).Lead
	if l.OrganizationID != id || l.Organization != "" {
		t.Errorf("lead %+v: want a link to %s", l, id)
	}
	for _, tt := range []struct {
		name, org string
		msgs      []string
	}{
		{"a local enterprise", local, []string{"organization_id", "LOCAL_ENTERPRISE"}},
		{"unknown", "org-0042", []string{"organization_id", "org-0042", "not a known organization"}},
	} {
		d := validDraft()
		d.OrganizationID = tt.org
		assertUnchanged(t, f.st, func() { wantError(t, f.apply("bos", Command{Op: OpSubmit, Draft: d}), ErrInvalid, tt.msgs...) })
	}
	// Without a link the free text is required, as before.
	d = validDraft()
	d.Organization = ""
	wantInvalid(t, Command{Op: OpSubmit, RequestID: "r", Draft: d}.Validate(), "organization")
	// An edit links, relinks or unlinks; unlinking needs the free text.
	assertUnchanged(t, f.st, func() {
		wantError(t, f.apply("bos", Command{Op: OpUpdate, LeadID: l.ID, Patch: &Patch{OrganizationID: strp("")}}), ErrInvalid, "organization")
	})
	l = f.ok("bos", Command{Op: OpUpdate, LeadID: l.ID, Patch: &Patch{OrganizationID: strp(""), Organization: strp("Harbor Bio")}}).Lead
	if l.OrganizationID != "" || l.Organization != "Harbor Bio" {
		t.Errorf("unlinked lead %+v", l)
	}
	other := f.submit("bos")
	if l := f.ok("bos", Command{Op: OpUpdate, LeadID: other, Patch: &Patch{OrganizationID: &id}}).Lead; l.OrganizationID != id {
		t.Errorf("linked lead %+v", l)
	}
	assertUnchanged(t, f.st, func() {
		wantError(t, f.apply("bos", Command{Op: OpUpdate, LeadID: other, Patch: &Patch{OrganizationID: &local}}), ErrInvalid, "organization_id")
	})
	// At format 1 a link is refused: the last release would drop it.
	g := newFixture(t)
	d = validDraft()
	d.OrganizationID = "org-0001"
	wantError(t, g.apply("bos", Command{Op: OpSubmit, Draft: d}), ErrPrecondition, "log format 2")
}

func TestNormalizedName(t *testing.T) {
	for in, want := range map[string]string{
		"Harbor Bio Therapeutics, Inc.":  "harbor bio therapeutics inc",
		"  ACME--GmbH ":                  "acme gmbh",
		"宇通 客车":                          "宇通 客车",
		"Technische Universität München": "technische universität münchen",
		"...":                            "",
	} {
		if got := normalizedName(in); got != want {
			t.Errorf("normalizedName(%q) = %q, want %q", in, got, want)
		}
	}
}
