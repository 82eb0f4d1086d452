package pipeline

import "strings"

// Oracles of the registry, organisations and deal terms (see
// oracle_test.go).

// oracleSubnodeCode: a site code and one or two parts of a capital
// letter and 1 to 7 capital letters or digits (MUC-TUM, MUC-TUM-LAB).
func oracleSubnodeCode(s string) bool {
	parts := strings.Split(s, "-")
	if len(parts) < 2 || len(parts) > 3 || !oracleSiteCode(parts[0]) {
		return false
	}
	for _, p := range parts[1:] {
		if len(p) < 2 || len(p) > 8 || !isUpperASCII(p[0]) ||
			!allBytes(p, func(b byte) bool { return isUpperASCII(b) || isDigitASCII(b) }) {
			return false
		}
	}
	return true
}

// oracleOrgID: "org-" and 4 to 9 digits.
func oracleOrgID(s string) bool {
	num, ok := strings.CutPrefix(s, "org-")
	return ok && len(num) >= 4 && len(num) <= 9 && allBytes(num, isDigitASCII)
}

// oracleAmount: digits, optionally a point and more digits; at most 18
// digits before the point once leading zeros are dropped.
func oracleAmount(s string) bool {
	whole, frac, hasPoint := strings.Cut(s, ".")
	if whole == "" || !allBytes(whole, isDigitASCII) || hasPoint && (frac == "" || !allBytes(frac, isDigitASCII)) {
		return false
	}
	return len(strings.TrimLeft(whole, "0")) <= 18 && len(s) <= 38
}

// oracleDate: YYYY-MM-DD, a day that exists, in the years 1990 to 2100.
func oracleDate(s string) bool {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' ||
		!allBytes(s[:4]+s[5:7]+s[8:], isDigitASCII) {
		return false
	}
	num := func(t string) int {
		n := 0
		for i := 0; i < len(t); i++ {
			n = 10*n + int(t[i]-'0')
		}
		return n
	}
	y, m, d := num(s[:4]), num(s[5:7]), num(s[8:])
	days := []int{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}
	if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
		days[1] = 29
	}
	return y >= 1990 && y <= 2100 && m >= 1 && m <= 12 && d >= 1 && d <= days[m-1]
}

// registryValidationCases puts s and n into the fields of the registry,
// organisations and deal terms, one at a time (see validationCases).
func registryValidationCases(s string, n int) []validationCase {
	const rid = "req-1"
	org := func(change func(o *OrgSpec)) Command {
		o := harbor()
		change(&o)
		return Command{Op: OpCreateOrg, RequestID: rid, Org: &o}
	}
	deal := func(p *DealPatch) Command { return Command{Op: OpSetDeal, RequestID: rid, LeadID: "BOS-0001", Deal: p} }
	parent := s
	if i := strings.LastIndexByte(s, '-'); i >= 0 {
		parent = s[:i]
	}
	return []validationCase{
		{"sub-node code", Command{Op: OpAddSite, RequestID: rid, Site: &SiteSpec{Code: s, Parent: parent, Name: "X", Kind: SiteTeam}},
			"code", oracleSubnodeCode(s), true},
		{"sub-node name", Command{Op: OpAddSite, RequestID: rid, Site: &SiteSpec{Code: "MUC-TUM", Parent: "MUC", Name: s, Kind: SiteTeam}},
			"name", oracleLine(s, 1, MaxSiteName), true},
		{"sub-node kind", Command{Op: OpAddSite, RequestID: rid, Site: &SiteSpec{Code: "MUC-TUM", Parent: "MUC", Name: "X", Kind: SiteKind(n)}},
			"kind", n >= int(SiteUniversity) && n <= int(SiteOther), true},
		{"organization name", org(func(o *OrgSpec) { o.Name = s }), "name", oracleLine(s, 1, MaxOrgName), true},
		{"organization other name", org(func(o *OrgSpec) { o.OtherNames = []string{s} }), "other_names", oracleLine(s, 1, MaxOrgName), true},
		{"organization city", org(func(o *OrgSpec) { o.City = s }), "city", oracleLine(s, 0, MaxCity), true},
		{"organization kind", org(func(o *OrgSpec) {
			o.Kind = OrgKind(n)
			if o.Kind == LocalEnterprise {
				o.Country, o.Division = "", "YRD"
			}
		}), "kind", n >= int(Startup) && n <= int(LocalEnterprise), true},
		{"organization ID", Command{Op: OpUpdateOrg, RequestID: rid, OrgID: s, OrgPatch: &OrgPatch{City: new("X")}}, "id", oracleOrgID(s), true},
		{"lead organization ID", Command{Op: OpUpdate, RequestID: rid, LeadID: "BOS-0001", Patch: &Patch{OrganizationID: &s}},
			"organization_id", s == "" || oracleOrgID(s), true},
		{"deal amount", deal(&DealPatch{Amount: &s}), "amount", s == "" || oracleAmount(s), true},
		{"deal jobs", deal(&DealPatch{Jobs: &n}), "jobs", n >= 0 && n <= MaxJobs, true},
		{"deal signing date", deal(&DealPatch{SigningDate: &s}), "expected_signing_date", s == "" || oracleDate(s), true},
		{"deal partner", deal(&DealPatch{PartnerID: &s}), "partner_id", s == "" || oracleOrgID(s), true},
		{"deal next step", deal(&DealPatch{NextStep: &s}), "next_step", oracleText(s, 0, MaxNextStep), true},
	}
}
