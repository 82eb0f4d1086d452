package pipeline

import (
	"strings"
	"testing"
)

func validProfile() *ProfileInput {
	return &ProfileInput{Sectors: []Sector{NewEnergyVehicles, NewMaterials}, Keywords: []string{"hydrogen", "储氢", "Wasserstoff"},
		TRLMin: 5, TRLMax: 8, TRLPreferred: 6, DealTypes: []DealType{JointVenture},
		Enterprises: []Enterprise{{Name: "上海氢能装备有限公司", NameEn: "Shanghai Hydrogen Equipment", City: "上海",
			Needs: "高压储氢瓶", NeedsEn: "high-pressure hydrogen tanks"}}}
}

func TestDivisionProfile(t *testing.T) {
	f := newFlowFixture(t)
	if p, err := f.st.DivisionProfile("YRD"); err != nil || p != nil {
		t.Fatalf("before any: %v %v", p, err)
	}
	res := f.ok("yrd", Command{Op: OpSetDivisionProfile, Division: "YRD", Profile: validProfile()})
	if p := res.Profile; p.Division != "YRD" || p.Version != 1 || p.UpdatedBy != f.user("yrd") || p.Keywords[1] != "储氢" {
		t.Fatalf("stored: %+v", p)
	}
	// HQ edits it; a stale expected version is refused.
	next := validProfile()
	next.Keywords = []string{"battery"}
	if p := f.ok("hq", Command{Op: OpSetDivisionProfile, Division: "YRD", Profile: next, ExpectedVersion: 1}).Profile; p.Version != 2 || p.UpdatedBy != f.user("hq") {
		t.Fatalf("HQ's edit: %+v", p)
	}
	assertUnchanged(t, f.st, func() {
		wantError(t, f.apply("yrd", Command{Op: OpSetDivisionProfile, Division: "YRD", Profile: validProfile(), ExpectedVersion: 1}), ErrConflict, "version 2")
	})
	ps, err := f.st.DivisionProfiles()
	if err != nil || len(ps) != 1 || ps[0].Keywords[0] != "battery" {
		t.Fatalf("profiles: %v %v", ps, err)
	}
	// It survives a snapshot.
	st := New()
	if err := st.Restore(strings.NewReader(string(snapshotBytes(t, f.st)))); err != nil {
		t.Fatal(err)
	}
	if p, err := st.DivisionProfile("YRD"); err != nil || p == nil || p.Version != 2 {
		t.Fatalf("restored: %v %v", p, err)
	}
}

func TestDivisionProfileRefused(t *testing.T) {
	f := newFlowFixture(t)
	with := func(change func(p *ProfileInput)) *ProfileInput {
		p := validProfile()
		change(p)
		return p
	}
	for _, tc := range []struct {
		name, actor, division string
		profile               *ProfileInput
		sentinel              error
		msgs                  []string
	}{
		{"another division", "prd", "YRD", validProfile(), ErrPermission, []string{"PRD", "YRD"}},
		{"node staff", "bos", "YRD", validProfile(), ErrPermission, nil},
		{"admin", "admin", "YRD", validProfile(), ErrPermission, nil},
		{"unknown division", "hq", "XYZ", validProfile(), ErrInvalid, []string{"division", "BOHAI, YRD or PRD"}},
		{"no profile", "hq", "YRD", nil, ErrInvalid, []string{"profile"}},
		{"sector twice", "hq", "YRD", with(func(p *ProfileInput) { p.Sectors = []Sector{ITAI, ITAI} }), ErrInvalid, []string{"sectors", "twice"}},
		{"unknown sector", "hq", "YRD", with(func(p *ProfileInput) { p.Sectors = []Sector{42} }), ErrInvalid, []string{"sectors[0]", "IT_AI"}},
		{"empty keyword", "hq", "YRD", with(func(p *ProfileInput) { p.Keywords = []string{" "} }), ErrInvalid, []string{"keywords[0]"}},
		{"TRL range upside down", "hq", "YRD", with(func(p *ProfileInput) { p.TRLMin, p.TRLMax, p.TRLPreferred = 8, 5, 0 }), ErrInvalid, []string{"trl_max"}},
		{"TRL max alone", "hq", "YRD", with(func(p *ProfileInput) { p.TRLMin, p.TRLPreferred = 0, 0 }), ErrInvalid, []string{"trl_min and trl_max"}},
		{"preferred outside", "hq", "YRD", with(func(p *ProfileInput) { p.TRLPreferred = 9 }), ErrInvalid, []string{"trl_preferred", "5–8"}},
		{"TRL 10", "hq", "YRD", with(func(p *ProfileInput) { p.TRLMax = 10 }), ErrInvalid, []string{"trl_max", "1 to 9"}},
		{"deal type twice", "hq", "YRD", with(func(p *ProfileInput) { p.DealTypes = []DealType{Investment, Investment} }), ErrInvalid, []string{"deal_types"}},
		{"enterprise without a name", "hq", "YRD", with(func(p *ProfileInput) { p.Enterprises[0].Name = "" }), ErrInvalid, []string{"enterprises[0].name"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assertUnchanged(t, f.st, func() {
				wantError(t, f.apply(tc.actor, Command{Op: OpSetDivisionProfile, Division: tc.division, Profile: tc.profile}), tc.sentinel, tc.msgs...)
			})
		})
	}
}
