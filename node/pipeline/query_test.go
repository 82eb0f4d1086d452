package pipeline

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// synthWords are the words synthetic leads are written with: several
// scripts, so that free-text filters meet them all.
var synthWords = []string{"hydrogen", "Wasserstoffspeicher", "battery", "Straße", "氢能源汽车", "电池", "מימן", "והמימן",
	"ＡＩ", "sensor", "Quantensensor", "vaccine", "mRNA", "carbohydrate", "lab", "人工智能", "Hydrogenase"}

// synthLead returns a lead of site with number n, its fields drawn from
// rnd. Times fall on whole minutes, so that many leads share one and only
// the ID orders them.
func synthLead(rnd *rand.Rand, site string, n int) *Lead {
	word := func() string { return synthWords[rnd.IntN(len(synthWords))] }
	created := epoch.Add(time.Duration(rnd.IntN(5000)) * time.Minute)
	stage := Stage(1 + rnd.IntN(int(Withdrawn)))
	l := &Lead{
		ID: fmt.Sprintf("%s-%04d", site, n), Site: site, Stage: stage, Version: int64(1 + rnd.IntN(5)),
		Draft: Draft{Title: word() + " " + word(), Summary: word() + ", " + word() + " und " + word(),
			Organization: []string{"MIT Lincoln Lab", "Technische Universität München", "Weizmann 研究所", "Cambridge Quantum"}[rnd.IntN(4)],
			Country:      []string{"US", "GB", "DE", "IL"}[rnd.IntN(4)], Sector: Sector(1 + rnd.IntN(int(OtherSector))),
			TRL: 1 + rnd.IntN(9), DealType: DealType(1 + rnd.IntN(int(Relocation))), Tags: []string{word()}},
		Created: created,
	}
	l.StageTime = created.Add(time.Duration(rnd.IntN(300)) * time.Minute)
	l.Updated = l.StageTime.Add(time.Duration(rnd.IntN(300)) * time.Minute)
	if stage >= Claimed && stage <= Landed {
		l.Division = Divisions[rnd.IntN(len(Divisions))]
	}
	l.Published = stage != Submitted && stage != Returned && stage != Declined && (stage != Withdrawn || rnd.IntN(2) == 0)
	if rnd.IntN(4) == 0 {
		l.Translations = map[string]Translation{"zh": {Title: "翻译 " + word(), Status: TranslationDraft}}
	}
	return l
}

// synthState is a state holding n synthetic leads, inserted directly
// (Apply would take minutes for 100,000), and the leads themselves.
func synthState(tb testing.TB, n int, seed uint64) (*State, []*Lead) {
	tb.Helper()
	return synthStateBy(tb, n, seed, putLead)
}

// synthStateBy is synthState with the leads written by put.
func synthStateBy(tb testing.TB, n int, seed uint64, put func(*tx, *Lead) error) (*State, []*Lead) {
	tb.Helper()
	rnd := rand.New(rand.NewPCG(seed, seed))
	st := New()
	sites := []string{"BOS", "CBG", "MUC", "TLV", "BO"}
	next := map[string]int{}
	txn := st.write()
	var all []*Lead
	for range n {
		site := sites[rnd.IntN(len(sites))]
		next[site]++
		l := synthLead(rnd, site, next[site])
		if err := put(txn, l); err != nil {
			tb.Fatal(err)
		}
		all = append(all, l)
	}
	st.publish(txn, 0)
	return st, all
}

// referenceList is what List must return, by brute force: every lead
// that passes every filter, sorted.
func referenceList(st *State, all []*Lead, f Filter) []string {
	m := newMatcher(st, &f)
	var keep []*Lead
	for _, l := range all {
		if m.match(l) {
			keep = append(keep, l)
		}
	}
	at := func(l *Lead) time.Time {
		switch f.Order {
		case OrderCreated:
			return l.Created
		case OrderUpdated:
			return l.Updated
		case OrderStageTime:
			return l.StageTime
		}
		return time.Time{}
	}
	slices.SortFunc(keep, func(a, b *Lead) int {
		c := at(a).Compare(at(b))
		if c == 0 {
			switch {
			case lessID(a.ID, b.ID):
				c = -1
			case lessID(b.ID, a.ID):
				c = 1
			}
		}
		if f.Desc {
			c = -c
		}
		return c
	})
	return leadIDs(keep)
}

// randomFilter draws a filter with a few of its fields set.
func randomFilter(rnd *rand.Rand) Filter {
	f := Filter{Order: Order(rnd.IntN(int(numOrders))), Desc: rnd.IntN(2) == 0}
	for range rnd.IntN(4) {
		switch rnd.IntN(13) {
		case 0:
			f.Stages = append(f.Stages, Stage(1+rnd.IntN(int(Withdrawn))))
		case 1:
			f.Site = []string{"BOS", "CBG", "BO", "XX"}[rnd.IntN(4)]
		case 2:
			f.Division = Divisions[rnd.IntN(len(Divisions))]
		case 3:
			f.Sector = Sector(1 + rnd.IntN(int(OtherSector)))
		case 4:
			f.Country = []string{"US", "DE"}[rnd.IntN(2)]
		case 5:
			f.DealType = DealType(1 + rnd.IntN(int(Relocation)))
		case 6:
			f.TRLMin, f.TRLMax = 1+rnd.IntN(9), 1+rnd.IntN(9)
		case 7:
			f.SubmittedAfter = epoch.Add(time.Duration(rnd.IntN(5000)) * time.Minute)
		case 8:
			f.SubmittedBefore = epoch.Add(time.Duration(rnd.IntN(5000)) * time.Minute)
		case 9:
			f.UpdatedAfter = epoch.Add(time.Duration(rnd.IntN(5600)) * time.Minute)
		case 10:
			f.Organization = []string{"münchen", "LAB", "研究"}[rnd.IntN(3)]
		case 11:
			f.Query = []string{"hydro", "电池", "מימן", "ai", "straße quanten", "翻译"}[rnd.IntN(6)]
		case 12:
			f.Stage = Stage(1 + rnd.IntN(int(Withdrawn)))
		}
	}
	if rnd.IntN(4) == 0 {
		f.Visible = func(l *Lead) bool { return l.Published }
	}
	return f
}

// listAll pages through f with List and returns every ID, failing on a
// page larger than the limit or a scan beyond the budget.
func listAll(t *testing.T, st *State, f Filter) []string {
	t.Helper()
	var ids []string
	for pages := 0; ; pages++ {
		if pages > 10000 {
			t.Fatalf("no end after %d pages", pages)
		}
		p, err := st.List(f)
		if err != nil {
			t.Fatal(err)
		}
		if f.Limit > 0 && len(p.Leads) > f.Limit {
			t.Fatalf("page of %d leads, limit %d", len(p.Leads), f.Limit)
		}
		if f.MaxScan > 0 && p.Scanned > f.MaxScan {
			t.Fatalf("page examined %d leads, budget %d", p.Scanned, f.MaxScan)
		}
		ids = append(ids, leadIDs(p.Leads)...)
		if p.Next == nil {
			return ids
		}
		if !ValidPosition(p.Next, f.Order) {
			t.Fatalf("page ends at position %x, not one of order %s", p.Next, f.Order)
		}
		f.Position = p.Next
	}
}

// TestListMatchesReference pages through random filters, orders and page
// sizes, with and without a scan budget, and compares every list with
// brute force.
func TestListMatchesReference(t *testing.T) {
	st, all := synthState(t, 1500, 1)
	rnd := rand.New(rand.NewPCG(2, 2))
	for i := range 300 {
		f := randomFilter(rnd)
		f.Limit = []int{0, 1, 7, 50}[rnd.IntN(4)]
		if rnd.IntN(3) == 0 {
			f.MaxScan = 1 + rnd.IntN(200)
		}
		name := fmt.Sprintf("%d/%s-desc=%v-limit=%d-scan=%d", i, f.Order, f.Desc, f.Limit, f.MaxScan)
		t.Run(name, func(t *testing.T) {
			want := referenceList(st, all, f)
			got := listAll(t, st, f)
			if !slices.Equal(got, want) {
				t.Errorf("filter %+v:\ngot  %d leads %v\nwant %d leads %v", f, len(got), head(got), len(want), head(want))
			}
		})
	}
}

func head(ids []string) []string {
	if len(ids) > 12 {
		return append(ids[:12:12], "...")
	}
	return ids
}

// TestListFullPageKnowsTheEnd: a page that takes the last matching lead
// says that none follows (no empty page after it), and one that does
// not, says so.
func TestListFullPageKnowsTheEnd(t *testing.T) {
	f := busyFixture(t)
	for _, tt := range []struct {
		filter   Filter
		want     []string
		wantMore bool
	}{
		{Filter{Limit: 3, Site: "CBG"}, []string{"CBG-0001", "CBG-0002", "CBG-0003"}, false},
		{Filter{Limit: 2, Site: "CBG"}, []string{"CBG-0001", "CBG-0002"}, true},
		{Filter{Limit: 1, Order: OrderUpdated, Desc: true}, []string{"CBG-0003"}, true},
		{Filter{Limit: 2, Stages: []Stage{Landed, Declined}, Order: OrderCreated}, []string{"BOS-0003", "CBG-0002"}, false},
	} {
		got, more, err := f.st.Leads(tt.filter)
		if err != nil {
			t.Fatal(err)
		}
		if ids := leadIDs(got); !reflect.DeepEqual(ids, tt.want) || more != tt.wantMore {
			t.Errorf("Leads(%+v) = %v, more %v; want %v, more %v", tt.filter, ids, more, tt.want, tt.wantMore)
		}
	}
}

// TestListReadsOnlyWhatAPageNeeds: a page of an unfiltered list, or of one
// the index narrows, examines the page and one lead more, however many
// leads there are and however deep the page.
func TestListReadsOnlyWhatAPageNeeds(t *testing.T) {
	st, all := synthState(t, 5000, 3)
	for _, f := range []Filter{
		{Limit: 50},
		{Limit: 50, Order: OrderUpdated, Desc: true},
		{Limit: 50, Site: "MUC", Order: OrderCreated},
		{Limit: 50, Stages: []Stage{Submitted, Returned}, Order: OrderStageTime, Desc: true},
		{Limit: 50, Division: "YRD", Order: OrderUpdated},
		{Limit: 50, Site: "TLV", Stage: Approved},
	} {
		want := referenceList(st, all, f)
		for page := 0; f.Position != nil || page == 0; page++ {
			p, err := st.List(f)
			if err != nil {
				t.Fatal(err)
			}
			if p.Next != nil && p.Scanned != f.Limit+1 {
				t.Errorf("%+v page %d examined %d leads for a page of %d", f, page, p.Scanned, f.Limit)
			}
			if got := leadIDs(p.Leads); !slices.Equal(got, want[page*f.Limit:min(len(want), (page+1)*f.Limit)]) {
				t.Fatalf("%+v page %d = %v", f, page, head(got))
			}
			f.Position = p.Next
		}
	}
}

// TestListAfterID keeps the old way of paging: after a lead ID.
func TestListAfterID(t *testing.T) {
	st, all := synthState(t, 300, 4)
	want := referenceList(st, all, Filter{})
	got, _, err := st.Leads(Filter{After: want[99], Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(leadIDs(got), want[100:110]) {
		t.Errorf("after %s: %v, want %v", want[99], leadIDs(got), want[100:110])
	}
	if _, err := st.List(Filter{After: want[0], Order: OrderUpdated}); err == nil {
		t.Errorf("After with OrderUpdated: no error")
	}
}

// TestListSeesChanges: the order indexes follow every change Apply makes
// (a lead that moves stage or is updated moves in the lists).
func TestListSeesChanges(t *testing.T) {
	f := newFixture(t)
	a := f.leadIn(Approved)
	b := f.leadIn(Submitted)
	c := f.leadIn(Claimed)
	list := func(fl Filter) []string {
		t.Helper()
		got, _, err := f.st.Leads(fl)
		if err != nil {
			t.Fatal(err)
		}
		return leadIDs(got)
	}
	if got := list(Filter{Order: OrderUpdated, Desc: true}); !slices.Equal(got, []string{c, b, a}) {
		t.Errorf("newest first: %v", got)
	}
	f.ok("yrd", Command{Op: OpClaim, LeadID: a})
	if got := list(Filter{Order: OrderUpdated, Desc: true}); !slices.Equal(got, []string{a, c, b}) {
		t.Errorf("after a claim, newest first: %v", got)
	}
	if got := list(Filter{Division: "YRD", Order: OrderStageTime}); !slices.Equal(got, []string{c, a}) {
		t.Errorf("YRD's by stage time: %v", got)
	}
	f.ok("yrd", Command{Op: OpRelease, LeadID: a})
	if got := list(Filter{Division: "YRD"}); !slices.Equal(got, []string{c}) {
		t.Errorf("YRD's after a release: %v", got)
	}
	if got := list(Filter{Stage: Approved, Site: "BOS"}); !slices.Equal(got, []string{a}) {
		t.Errorf("approved at BOS: %v", got)
	}
}

// TestOrderKeysOrderAsLessID checks the byte encoding of IDs against
// lessID, across a number's digit count and a site code's length.
func TestOrderKeysOrderAsLessID(t *testing.T) {
	ids := []string{"BO-0001", "BO-10000", "BOS-0001", "BOS-0002", "BOS-0999", "BOS-1000", "BOS-9999", "BOS-10000", "BOS-123456789", "BOSA-0001", "CBG-0001"}
	for i, a := range ids {
		for j, b := range ids {
			if got, want := strings.Compare(string(idKey(a)), string(idKey(b))) < 0, i < j; got != want || lessID(a, b) != want {
				t.Errorf("%s < %s: key order %v, lessID %v, want %v", a, b, got, lessID(a, b), want)
			}
		}
	}
	for _, id := range []string{"BOS-0001", "BO-10000", "TLV-123456789"} {
		if got, ok := PositionLeadID(idKey(id)); got != id || !ok {
			t.Errorf("PositionLeadID(idKey(%s)) = %s %v", id, got, ok)
		}
	}
	for _, tt := range []struct {
		key []byte
		o   Order
		ok  bool
	}{
		{idKey("BOS-0001"), OrderID, true},
		{append(timeKey(epoch), idKey("BOS-0001")...), OrderUpdated, true},
		{idKey("BOS-0001"), OrderUpdated, false},
		{[]byte("bos\x00\x00\x00\x00\x00\x00\x00\x00\x01"), OrderID, false},
		{nil, OrderID, false},
	} {
		if got := ValidPosition(tt.key, tt.o); got != tt.ok {
			t.Errorf("ValidPosition(%x, %s) = %v, want %v", tt.key, tt.o, got, tt.ok)
		}
	}
}
