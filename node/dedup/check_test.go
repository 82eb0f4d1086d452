package dedup

import (
	"reflect"
	"strings"
	"testing"
)

var (
	hydroDE = Lead{ID: "1", Title: "Feststoff-Wasserstoffspeicher auf Magnesiumhydrid-Basis",
		Summary:      "Die HydroSolid GmbH speichert Wasserstoff in Magnesiumhydrid bei Umgebungsdruck; 350 kg H2 pro Container.",
		Organization: "HydroSolid GmbH", Country: "DE", Sector: "NEW_MATERIALS", TRL: 6, DealType: "TECHNOLOGY_LICENSING",
		Tags: []string{"Wasserstoffspeicher", "Magnesiumhydrid"}, Contacts: []Contact{{Name: "Dr. Jonas Brandt", Email: "j.brandt@hydrosolid.de"}},
		Website: "https://www.hydrosolid.de", Language: "de"}
	hydroZH = Lead{ID: "2", Title: "镁基固态储氢装置技术许可",
		Summary:      "德国海德索利德公司开发了以氢化镁为介质的固态储氢模块，单个集装箱储氢量约350公斤。",
		Organization: "海德索利德（HydroSolid）", Country: "DE", Sector: "OTHER", TRL: 5, DealType: "TECHNOLOGY_LICENSING",
		Tags: []string{"固态储氢", "氢化镁"}, Contacts: []Contact{{Name: "Jonas Brandt", Email: "jonas@gmail.com"}}, Language: "zh"}
	otherH2 = Lead{ID: "3", Title: "Metal hydride hydrogen canisters for forklifts",
		Summary:      "Borealis stores hydrogen in metal hydride canisters for fuel-cell forklifts.",
		Organization: "Borealis Hydride Inc.", Country: "CA", TRL: 7, Tags: []string{"hydrogen storage", "metal hydride"},
		Contacts: []Contact{{Name: "Ann Lee", Email: "ann@borealishydride.ca"}}, Language: "en"}
	sameOrgOther = Lead{ID: "4", Title: "Supercritical CO2 turbine blades",
		Summary:      "HydroSolid also casts ceramic turbine blades for supercritical CO2 power cycles.",
		Organization: "HydroSolid GmbH", Country: "DE", TRL: 3, Tags: []string{"turbine", "ceramic"},
		Contacts: []Contact{{Name: "Eva Roth", Email: "e.roth@hydrosolid.de"}}, Language: "en"}
)

func index(t *testing.T, ls ...Lead) *Index {
	t.Helper()
	ix := New(DefaultConfig())
	for _, l := range ls {
		if err := ix.Add(l); err != nil {
			t.Fatal(err)
		}
	}
	return ix
}

func TestCheckCrossLanguage(t *testing.T) {
	ix := index(t, hydroDE, otherH2, sameOrgOther)
	got := ix.Check(hydroZH)
	if len(got) == 0 || got[0].ID != "1" || !got[0].Duplicate {
		t.Fatalf("Check = %+v, want lead 1 first as a duplicate", got)
	}
	reasons := strings.Join(got[0].Reasons, " | ")
	for _, want := range []string{
		"organisation name matches after removing legal forms: hydrosolid",
		"same contact person jonas brandt",
		"similar title/summary across languages",
		"TRL 5 vs 6",
		"sector OTHER vs NEW_MATERIALS",
	} {
		if !strings.Contains(reasons, want) {
			t.Errorf("reasons %q lack %q", reasons, want)
		}
	}
	for _, c := range got {
		if c.ID != "1" && c.Duplicate {
			t.Errorf("lead %s flagged as duplicate: %+v", c.ID, c)
		}
	}
}

func TestCheckSameOrgOtherTechnology(t *testing.T) {
	ix := index(t, sameOrgOther)
	for _, c := range ix.Check(hydroDE) {
		if c.Duplicate {
			t.Errorf("another product of the same firm flagged: %+v", c)
		}
		if !strings.Contains(strings.Join(c.Reasons, " | "), "same website domain hydrosolid.de") &&
			!strings.Contains(strings.Join(c.Reasons, " | "), "same e-mail domain hydrosolid.de") {
			t.Errorf("reasons %q lack the shared domain", c.Reasons)
		}
	}
}

func TestCheckSameTechnologyOtherOrg(t *testing.T) {
	ix := index(t, otherH2)
	for _, c := range ix.Check(hydroDE) {
		if c.Duplicate {
			t.Errorf("another firm's product flagged: %+v", c)
		}
	}
}

func TestCheckDeterministic(t *testing.T) {
	first := index(t, hydroDE, otherH2, sameOrgOther).Check(hydroZH)
	for i := 0; i < 20; i++ {
		if got := index(t, sameOrgOther, otherH2, hydroDE).Check(hydroZH); !reflect.DeepEqual(got, first) {
			t.Fatalf("run %d: %+v, first %+v", i, got, first)
		}
	}
}

func TestAddErrors(t *testing.T) {
	ix := New(DefaultConfig())
	if err := ix.Add(Lead{}); err != ErrNoID {
		t.Errorf("Add without id: %v", err)
	}
	if err := ix.Add(hydroDE); err != nil {
		t.Fatal(err)
	}
	if err := ix.Add(hydroDE); err == nil || !strings.Contains(err.Error(), "already indexed") {
		t.Errorf("Add twice: %v", err)
	}
	if got := ix.Check(hydroDE); len(got) != 0 {
		t.Errorf("a lead matched itself: %+v", got)
	}
}

func TestOddInput(t *testing.T) {
	ix := index(t, hydroDE, Lead{ID: "empty"}, Lead{ID: "odd", Title: "\x00\xff", Organization: "（）", Website: "://", Contacts: []Contact{{Email: "@"}}})
	for _, l := range []Lead{{}, {Title: "\xff\xfe"}, {Organization: "GmbH"}, {Tags: []string{"", " "}}, {TRL: -5}} {
		_ = ix.Check(l)
	}
}

func FuzzCheck(f *testing.F) {
	f.Add("Feststoff-Wasserstoffspeicher", "海德索利德（HydroSolid）", "a@hydrosolid.de", "https://www.hydrosolid.de", "de")
	f.Add("", "", "", "", "")
	f.Add("רחפן משא כבד", "זוהר אירו מערכות בע\"מ", "x@gmail.com", "http://", "he")
	f.Fuzz(func(t *testing.T, title, org, email, web, lang string) {
		ix := index(t, hydroDE, hydroZH)
		l := Lead{ID: "f", Title: title, Summary: title, Organization: org, Website: web, Language: lang,
			Tags: []string{title}, Contacts: []Contact{{Name: org, Email: email}}}
		for _, c := range ix.Check(l) {
			if c.Confidence < 0 || c.Confidence > 1 {
				t.Fatalf("confidence %v out of range", c.Confidence)
			}
		}
		if err := ix.Add(l); err != nil {
			t.Fatal(err)
		}
	})
}
