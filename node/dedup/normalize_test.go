package dedup

import (
	"slices"
	"testing"
)

func cores(s string) []string {
	var out []string
	for _, n := range orgNames(s) {
		out = append(out, n.core)
	}
	return out
}

func TestOrgNames(t *testing.T) {
	tests := []struct {
		in   string
		want string // one of the cores
	}{
		{"HydroSolid GmbH", "hydrosolid"},
		{"Hydrosolid", "hydrosolid"},
		{"海德索利德（HydroSolid）", "hydrosolid"},
		{"海德索利德（HydroSolid）", "海德索利德"},
		{"HydroSolid Technologies Inc.", "hydrosolid"},
		{"Fratelli Rossi S.p.A.", "fratellirossi"},
		{"Acme B.V.", "acme"},
		{"Zhongke Co., Ltd.", "zhongke"},
		{"深蓝海洋装备有限公司", "深蓝海洋装备"},
		{"米克罗利希特公司", "米克罗利希特"},
		{"שומר מערכות בע\"מ", "שומרמערכות"},
		{"Ordinal量子传感", "ordinal"},
		{"Lumenar Photonics, Inc.", "lumenar"},
		{"Polymera Labs（美国）", "polymera"},
		{"ＡＣＭＥ　ＧＭＢＨ", "acme"},
	}
	for _, tt := range tests {
		if got := cores(tt.in); !slices.Contains(got, tt.want) {
			t.Errorf("orgNames(%q) cores = %q, want one to be %q", tt.in, got, tt.want)
		}
	}
	// A bracketed country names no organisation.
	if got := cores("Polymera Labs（美国）"); slices.Contains(got, "美国") {
		t.Errorf("cores %q contain the country", got)
	}
	// Generic words alone do not make two organisations one.
	if a, b := cores("Galim Water Technologies"), cores("Mishor Water"); slices.ContainsFunc(a, func(s string) bool { return slices.Contains(b, s) }) {
		t.Errorf("%q and %q share a core", a, b)
	}
}

func TestDomainOf(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://www.hydrosolid.de/en/", "hydrosolid.de"},
		{"l.ferstl@hydrosolid.de", "hydrosolid.de"},
		{"oliver@brightwatercat.co.uk", "brightwatercat.co.uk"},
		{"https://galil-membranes.co.il", "galil-membranes.co.il"},
		{"mail.example.com.cn", "example.com.cn"},
		{"HTTP://Example.COM:8080", "example.com"},
		{"localhost", ""},
		{"", ""},
		{"a@b@", ""},
	}
	for _, tt := range tests {
		if got := domainOf(tt.in); got != tt.want {
			t.Errorf("domainOf(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := domainLabel("kernwerk-additive.de"); got != "kernwerkadditive" {
		t.Errorf("domainLabel = %q", got)
	}
}

func TestFreeMailIgnored(t *testing.T) {
	p := prepare(Lead{ID: "a", Contacts: []Contact{{Name: "A B", Email: "ab@gmail.com"}, {Email: "x@web.de"}}})
	if len(p.domains) != 0 {
		t.Errorf("domains %q, want none from free mail", p.domains)
	}
}

func TestPersonName(t *testing.T) {
	if a, b := personName("Dr. Stefan Krämer"), personName("Stefan KRÄMER"); a != b || a == "" {
		t.Errorf("personName: %q vs %q", a, b)
	}
	if got := personName("Stefan"); got != "" {
		t.Errorf("single name %q, want empty", got)
	}
}
