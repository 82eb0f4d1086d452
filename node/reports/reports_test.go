package reports

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"testing"
	"time"

	"innonet/node/pipeline"
)

// book writes made-up histories into a real state, one command per log
// entry, each at the time the test sets.
type book struct {
	t     *testing.T
	st    *pipeline.State
	index uint64
	now   time.Time
	ids   map[string]string
	reqs  int
}

var shanghai = mustLoad("Asia/Shanghai")

func mustLoad(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return l
}

func newBook(t *testing.T) *book {
	b := &book{t: t, st: pipeline.New(), ids: map[string]string{}, now: time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC)}
	b.raw(pipeline.Command{Op: pipeline.OpSetFormat, SetFormat: pipeline.Format2})
	b.raw(pipeline.Command{Op: pipeline.OpRegisterSites, Sites: []pipeline.SiteSpec{
		{Code: "CGO", Name: "HQ", Kind: pipeline.SiteHQ}, {Code: "BOS", Name: "Boston", Kind: pipeline.SiteNode},
		{Code: "MUC", Name: "Munich", Kind: pipeline.SiteNode},
		{Code: "YRD", Name: "YRD", Kind: pipeline.SiteDivision}, {Code: "PRD", Name: "PRD", Kind: pipeline.SiteDivision}}})
	b.ids["admin"] = b.raw(pipeline.Command{Op: pipeline.OpBootstrap, NewUser: user("Ada", pipeline.Admin, "", "")}).User.ID
	b.do("admin", pipeline.Command{Op: pipeline.OpAddSite, Site: &pipeline.SiteSpec{Code: "MUC-TUM", Parent: "MUC", Name: "TUM", Kind: pipeline.SiteUniversity}})
	for name, u := range map[string]*pipeline.NewUser{
		"hq": user("Hui", pipeline.HQReviewer, "", ""), "bos": user("Beth", pipeline.NodeStaff, "BOS", ""),
		"muc": user("Max", pipeline.NodeStaff, "MUC", ""), "tum": user("Tina", pipeline.NodeStaff, "MUC-TUM", ""),
		"yrd": user("Yang", pipeline.DivisionRole, "", "YRD"), "prd": user("Pei", pipeline.DivisionRole, "", "PRD"),
	} {
		b.ids[name] = b.do("admin", pipeline.Command{Op: pipeline.OpAddUser, NewUser: u}).User.ID
	}
	return b
}

func user(name string, r pipeline.Role, site, division string) *pipeline.NewUser {
	sum := sha256.Sum256([]byte("token of " + name))
	return &pipeline.NewUser{Name: name, Role: r, Site: site, Division: division, TokenHash: hex.EncodeToString(sum[:])}
}

// at sets the time of the commands that follow (Shanghai time).
func (b *book) at(s string) *book {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, shanghai)
	if err != nil {
		b.t.Fatal(err)
	}
	b.now = t
	return b
}

func (b *book) raw(c pipeline.Command) pipeline.Result {
	b.t.Helper()
	c.Time = b.now.UnixNano()
	data, err := c.Encode()
	if err != nil {
		b.t.Fatal(err)
	}
	b.index++
	res := b.st.Apply(b.index, data)
	r, ok := res.(pipeline.Result)
	if !ok {
		b.t.Fatalf("%s: %v", c.Op, res)
	}
	return r
}

func (b *book) do(actor string, c pipeline.Command) pipeline.Result {
	b.t.Helper()
	b.reqs++
	c.Actor, c.RequestID = b.ids[actor], fmt.Sprintf("req-%d", b.reqs)
	if err := c.Validate(); err != nil {
		b.t.Fatalf("%s: %v", c.Op, err)
	}
	return b.raw(c)
}

func (b *book) submit(actor, country string, sector pipeline.Sector) string {
	b.t.Helper()
	return b.do(actor, pipeline.Command{Op: pipeline.OpSubmit, Draft: &pipeline.Draft{Title: "Lead", Summary: "A lead.",
		Organization: "Lab", Country: country, Sector: sector, TRL: 5, DealType: pipeline.Investment}}).Lead.ID
}

func (b *book) act(actor string, c pipeline.Command) { b.t.Helper(); b.do(actor, c) }

// history builds the leads the tests count, in the order of time (the
// state's clock never runs backwards). Times are Shanghai's.
//
//	A (BOS) pushed 2026-01-05, returned, resubmitted 01-12, approved 01-14,
//	  claimed by YRD 01-20, negotiating 02-01, signed 03-01 (deal 42M CNY,
//	  120 jobs), landed 04-10.
//	B (BOS) pushed 01-06, approved 01-08, claimed by PRD 01-09, released
//	  01-10, claimed by YRD 01-11, closed LOST 02-15, reopened to APPROVED
//	  02-20.
//	C (MUC-TUM) pushed 2025-12-30, declined 2026-01-03, reopened 01-04 to
//	  SUBMITTED, approved 01-05.
//	D (MUC) pushed 02-02, withdrawn 02-03.
//	E (MUC) pushed 02-04, merged into A 02-05.
//	F (BOS) pushed 2026-12-31 23:00, approved 2027-01-02.
func history(t *testing.T) (*book, map[string]string) {
	b := newBook(t)
	ids := map[string]string{}
	review := func(id string, d pipeline.Decision, comment string) pipeline.Command {
		return pipeline.Command{Op: pipeline.OpReview, LeadID: id, Decision: d, Comment: comment}
	}
	b.at("2025-12-30 10:00")
	ids["C"] = b.submit("tum", "DE", pipeline.NewMaterials)
	C := ids["C"]
	b.at("2026-01-03 10:00").act("hq", review(C, pipeline.Decline, "no"))
	b.at("2026-01-04 10:00").act("hq", pipeline.Command{Op: pipeline.OpReopen, LeadID: C, Stage: pipeline.Submitted, Comment: "again"})
	b.at("2026-01-05 10:00")
	ids["A"] = b.submit("bos", "US", pipeline.NewMaterials)
	A := ids["A"]
	b.at("2026-01-05 12:00").act("hq", review(C, pipeline.Approve, ""))
	b.at("2026-01-06 10:00")
	ids["B"] = b.submit("bos", "US", pipeline.ITAI)
	B := ids["B"]
	b.at("2026-01-07 10:00").act("hq", review(A, pipeline.Return, "which TRL?"))
	b.at("2026-01-08 10:00").act("hq", review(B, pipeline.Approve, ""))
	b.at("2026-01-09 10:00").act("prd", pipeline.Command{Op: pipeline.OpClaim, LeadID: B})
	b.at("2026-01-10 10:00").act("prd", pipeline.Command{Op: pipeline.OpRelease, LeadID: B})
	b.at("2026-01-11 10:00").act("yrd", pipeline.Command{Op: pipeline.OpClaim, LeadID: B})
	title := "Lead, TRL 6"
	b.at("2026-01-12 10:00").act("bos", pipeline.Command{Op: pipeline.OpUpdate, LeadID: A, Patch: &pipeline.Patch{Title: &title}})
	b.at("2026-01-14 10:00").act("hq", review(A, pipeline.Approve, ""))
	b.at("2026-01-20 10:00").act("yrd", pipeline.Command{Op: pipeline.OpClaim, LeadID: A})
	b.at("2026-02-01 10:00").act("yrd", pipeline.Command{Op: pipeline.OpAdvance, LeadID: A, Stage: pipeline.Negotiating})
	b.at("2026-02-02 10:00")
	ids["D"] = b.submit("muc", "DE", pipeline.ITAI)
	b.at("2026-02-03 10:00").act("muc", pipeline.Command{Op: pipeline.OpWithdraw, LeadID: ids["D"], Comment: "gone"})
	b.at("2026-02-04 10:00")
	ids["E"] = b.submit("muc", "DE", pipeline.NewMaterials)
	b.at("2026-02-05 10:00").act("hq", pipeline.Command{Op: pipeline.OpMerge, LeadID: ids["E"], Into: A})
	b.at("2026-02-15 10:00").act("yrd", pipeline.Command{Op: pipeline.OpClose, LeadID: B, CloseReason: pipeline.PartnerWithdrew})
	amount, cny, jobs := "42000000", "CNY", 120
	b.at("2026-02-20 09:00").act("yrd", pipeline.Command{Op: pipeline.OpSetDeal, LeadID: A, Deal: &pipeline.DealPatch{Amount: &amount, Currency: &cny, Jobs: &jobs}})
	b.at("2026-02-20 10:00").act("hq", pipeline.Command{Op: pipeline.OpReopen, LeadID: B, Stage: pipeline.Approved, Comment: "partner back"})
	b.at("2026-03-01 10:00").act("yrd", pipeline.Command{Op: pipeline.OpAdvance, LeadID: A, Stage: pipeline.Signed})
	b.at("2026-04-10 10:00").act("yrd", pipeline.Command{Op: pipeline.OpAdvance, LeadID: A, Stage: pipeline.Landed})
	b.at("2026-12-31 23:00")
	ids["F"] = b.submit("bos", "US", pipeline.ITAI)
	b.at("2027-01-02 10:00").act("hq", review(ids["F"], pipeline.Approve, ""))
	return b, ids
}

func counts(g Group) map[string]int {
	out := map[string]int{}
	for _, s := range Steps {
		if g.Counts[s] != 0 {
			out[s.String()] = g.Counts[s]
		}
	}
	return out
}

func equalCounts(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestFunnelCountsFromHistory(t *testing.T) {
	b, _ := history(t)
	e := New(b.st)
	y2026 := time.Date(2026, 1, 1, 0, 0, 0, 0, shanghai)
	f, err := e.Funnel(FunnelQuery{From: y2026, To: y2026.AddDate(1, 0, 0), Location: shanghai})
	if err != nil {
		t.Fatal(err)
	}
	// Pushed in 2026: A, B, D, F (23:00 on 31 Dec is 2026 in Shanghai); C
	// was pushed in 2025, E is merged. Approved: A, B, C. Claimed: A, B
	// once each. Signed and landed: A (LANDED counts as signed too).
	want := map[string]int{"pushed": 4, "approved": 3, "claimed": 2, "negotiating": 1, "signed": 1, "landed": 1,
		"declined": 1, "withdrawn": 1, "lost": 1}
	if got := counts(f.Total); !equalCounts(got, want) {
		t.Errorf("2026: %v, want %v", got, want)
	}
	if f.Applied != b.st.AppliedIndex() || f.Leads != 5 {
		t.Errorf("applied %d (state %d), leads %d", f.Applied, b.st.AppliedIndex(), f.Leads)
	}
	// Median days: pushed→approved A 9 (first push 01-05 to 01-14), B 2, C
	// 6.08 (2025-12-30 10:00 to 01-05 12:00): median 6.1.
	if d := f.Total.Days[Approved]; d != 6.1 {
		t.Errorf("median days to approval %v, want 6.1", d)
	}
	if c := f.Total.Conversion(Approved); c != 0.75 {
		t.Errorf("approved/pushed %v, want 0.75", c)
	}

	// By division: PRD claimed B first (the first claim counts), YRD A;
	// B was lost while YRD held it.
	f, err = e.Funnel(FunnelQuery{From: y2026, To: y2026.AddDate(1, 0, 0), GroupBy: []Dimension{ByDivision}, Location: shanghai})
	if err != nil {
		t.Fatal(err)
	}
	byDiv := map[string]map[string]int{}
	for _, g := range f.Groups {
		byDiv[g.Key[0]] = counts(g)
	}
	if got, want := byDiv["PRD"], map[string]int{"claimed": 1}; !equalCounts(got, want) {
		t.Errorf("PRD: %v, want %v", got, want)
	}
	if got, want := byDiv["YRD"], map[string]int{"claimed": 1, "negotiating": 1, "signed": 1, "landed": 1, "lost": 1}; !equalCounts(got, want) {
		t.Errorf("YRD: %v, want %v", got, want)
	}

	// By site and month: C counts for MUC (sub-node MUC-TUM), declined
	// and approved in January (pushed in 2025).
	f, err = e.Funnel(FunnelQuery{From: y2026, To: y2026.AddDate(0, 2, 0), GroupBy: []Dimension{BySite, BySubnode, ByMonth}, Location: shanghai})
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]map[string]int{}
	for _, g := range f.Groups {
		rows[fmt.Sprint(g.Key)] = counts(g)
	}
	if got, want := rows["[MUC MUC-TUM 2026-01]"], map[string]int{"approved": 1, "declined": 1}; !equalCounts(got, want) {
		t.Errorf("MUC-TUM in January: %v, want %v (rows %v)", got, want, rows)
	}
	if got, want := rows["[MUC  2026-02]"], map[string]int{"pushed": 1, "withdrawn": 1}; !equalCounts(got, want) {
		t.Errorf("MUC in February: %v, want %v (rows %v)", got, want, rows)
	}
	if got, want := rows["[BOS  2026-01]"], map[string]int{"pushed": 2, "approved": 2, "claimed": 2}; !equalCounts(got, want) {
		t.Errorf("BOS in January: %v, want %v", got, want)
	}

	// 2027 holds F's approval only; F was pushed in 2026.
	f, err = e.Funnel(FunnelQuery{From: y2026.AddDate(1, 0, 0), To: y2026.AddDate(2, 0, 0), Location: shanghai})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := counts(f.Total), map[string]int{"approved": 1}; !equalCounts(got, want) {
		t.Errorf("2027: %v, want %v", got, want)
	}
	// The caller's view: BOS staff see BOS's leads only.
	f, err = e.Funnel(FunnelQuery{Visible: func(l *pipeline.Lead) bool { return l.Site == "BOS" }})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := counts(f.Total)["pushed"], 3; got != want {
		t.Errorf("BOS pushed %d in all, want %d", got, want)
	}
}

func TestTargets(t *testing.T) {
	b, _ := history(t)
	rows := []pipeline.TargetRow{
		{Scope: pipeline.ScopeNetwork, Pushed: 40, Approved: 20, Signed: 6, Landed: 3, Investment: "100000000", Currency: "CNY", Jobs: 500},
		{Scope: pipeline.ScopeSite, Code: "MUC", Pushed: 10},
		{Scope: pipeline.ScopeSubnode, Code: "MUC-TUM", Approved: 2},
		{Scope: pipeline.ScopeDivision, Code: "YRD", Signed: 2},
	}
	b.act("hq", pipeline.Command{Op: pipeline.OpSetTargets, Year: 2026, Targets: rows})
	rep, err := New(b.st).Targets(2026, shanghai, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Targets == nil || len(rep.Rows) != 4 {
		t.Fatalf("report: %+v", rep)
	}
	// The last command applied is F's approval on 2027-01-02: the year is over.
	net := rep.Rows[0]
	if net.Actual[Pushed] != 4 || net.Actual[Approved] != 3 || net.Actual[Signed] != 1 || net.Actual[Landed] != 1 ||
		net.Investment != "42000000" || net.Jobs != 120 || net.Expected != 1 || net.MonthsLeft != 0 {
		t.Errorf("network: %+v", net)
	}
	if muc := rep.Rows[1]; muc.Actual[Pushed] != 1 || muc.Actual[Withdrawn] != 1 {
		t.Errorf("MUC (D pushed in 2026; C in 2025; E merged): %+v", muc.Actual)
	}
	if tum := rep.Rows[2]; tum.Actual[Approved] != 1 {
		t.Errorf("MUC-TUM: %+v", tum.Actual)
	}
	// YRD claimed A first (B's first claim was PRD's): A counts as
	// pushed and approved for YRD.
	if yrd := rep.Rows[3]; yrd.Actual[Signed] != 1 || yrd.Actual[Claimed] != 1 || yrd.Actual[Lost] != 1 ||
		yrd.Actual[Pushed] != 1 || yrd.Actual[Approved] != 1 {
		t.Errorf("YRD: %+v", yrd.Actual)
	}
	// Mid-year pace: a state whose last command is on 2 July.
	b3 := newBook(t)
	b3.at("2026-03-01 10:00")
	b3.submit("bos", "US", pipeline.ITAI)
	b3.at("2026-07-02 12:00").act("hq", pipeline.Command{Op: pipeline.OpSetTargets, Year: 2026, Targets: rows[:1]})
	rep, err = New(b3.st).Targets(2026, shanghai, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := rep.Rows[0]
	if p.Expected < 0.49 || p.Expected > 0.51 || p.MonthsLeft < 5.9 || p.MonthsLeft > 6.1 {
		t.Errorf("half-way: expected %v, months left %v", p.Expected, p.MonthsLeft)
	}
	// 39 more leads to push in about 6 months: 6.5 a month.
	if got := p.PerMonth[Pushed]; got < 6.4 || got > 6.6 {
		t.Errorf("pace to push %v a month, want 6.5", got)
	}
}
