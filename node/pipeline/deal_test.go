package pipeline

import (
	"fmt"
	"reflect"
	"testing"
)

// TestSetDealTransitions tries a deal edit from every stage as every user,
// on a lead claimed (where it is) by YRD: only the claiming division, and
// only while the lead is CLAIMED, NEGOTIATING or SIGNED.
func TestSetDealTransitions(t *testing.T) {
	for _, from := range allStages {
		for _, actor := range actorNames {
			want := denied
			if actor == "yrd" {
				switch from {
				case Claimed, Negotiating, Signed:
					want = moves(from)
				case Landed:
					want = wrongStage
				}
			}
			t.Run(fmt.Sprintf("from=%s/by=%s", from, actor), func(t *testing.T) {
				f := newFixture(t)
				f.raise()
				id := f.leadIn(from)
				before := f.lead(id)
				cmd := Command{Op: OpSetDeal, LeadID: id, Deal: &DealPatch{Amount: strp("42000000"), Currency: strp("CNY")}}
				if want.err != nil {
					var res any
					assertUnchanged(t, f.st, func() { res = f.apply(actor, cmd) })
					msgs := []string{}
					if want.err == ErrPrecondition {
						msgs = append(msgs, "stage "+from.String(), "CLAIMED, NEGOTIATING or SIGNED")
					}
					wantError(t, res, want.err, msgs...)
					return
				}
				l := f.ok(actor, cmd).Lead
				wantLead := before.clone()
				wantLead.Version, wantLead.Updated = before.Version+1, clock(f.index)
				wantLead.Deal = &Deal{Amount: "42000000", Currency: "CNY", Division: "YRD", Updated: clock(f.index), UpdatedBy: f.user("yrd")}
				if !reflect.DeepEqual(l, wantLead) {
					t.Errorf("lead after deal terms:\ngot  %+v\nwant %+v", l, wantLead)
				}
				h := f.history(id)
				e := h[len(h)-1]
				wantChanges := []Change{{Field: FieldDealAmount, New: "42000000"}, {Field: FieldDealCurrency, New: "CNY"}}
				if e.Action != "DEAL" || e.From != from || e.To != from || e.Version != l.Version || !reflect.DeepEqual(e.Changes, wantChanges) {
					t.Errorf("event %+v, want DEAL in stage %s with changes %v", e, from, wantChanges)
				}
			})
		}
	}
}

func TestSetDealValues(t *testing.T) {
	f := newFixture(t)
	f.raise()
	partner := f.org("yrd", yutong())
	startup := f.org("bos", harbor())
	id := f.claimedBy("yrd")
	set := func(p DealPatch) any { return f.apply("yrd", Command{Op: OpSetDeal, LeadID: id, Deal: &p}) }
	for _, tt := range []struct {
		name string
		p    DealPatch
		msgs []string
	}{
		{"an amount without currency", DealPatch{Amount: strp("100")}, []string{"currency", "required"}},
		{"too many decimals", DealPatch{Amount: strp("100.255"), Currency: strp("CNY")}, []string{"amount", "CNY has 2"}},
		{"decimals of yen", DealPatch{Amount: strp("100.5"), Currency: strp("JPY")}, []string{"JPY has 0"}},
		{"a startup as partner", DealPatch{PartnerID: &startup}, []string{"partner_id", "LOCAL_ENTERPRISE"}},
		{"an unknown partner", DealPatch{PartnerID: strp("org-0099")}, []string{"partner_id", "org-0099"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			assertUnchanged(t, f.st, func() { wantError(t, set(tt.p), ErrInvalid, tt.msgs...) })
		})
	}
	l := wantResult(t, set(DealPatch{PartnerID: &partner, Amount: strp("0042000000.50"), Currency: strp("CNY"), Jobs: intp(120),
		SigningDate: strp("2027-01-15"), LandingDate: strp("2027-09-01"), NextStep: strp("Board meeting in Zhengzhou")})).Lead
	want := Deal{PartnerID: partner, Amount: "42000000.50", Currency: "CNY", Jobs: 120, SigningDate: "2027-01-15",
		LandingDate: "2027-09-01", NextStep: "Board meeting in Zhengzhou", Division: "YRD", Updated: clock(f.index), UpdatedBy: f.user("yrd")}
	if l.Deal == nil || *l.Deal != want {
		t.Fatalf("deal = %+v\nwant %+v", l.Deal, want)
	}
	v := l.Version
	// A partial edit changes and lists only what it changes.
	l = wantResult(t, set(DealPatch{Jobs: intp(150), NextStep: strp("Board meeting in Zhengzhou"), LandingDate: strp("")})).Lead
	h := f.history(id)
	if got, want := h[len(h)-1].Changes, []Change{{Field: FieldDealJobs, Old: "120", New: "150"}, {Field: FieldDealLandingDate, Old: "2027-09-01"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("changes = %v, want %v", got, want)
	}
	if l.Version != v+1 || l.Deal.Jobs != 150 || l.Deal.LandingDate != "" || l.Deal.Amount != "42000000.50" {
		t.Errorf("after a partial edit: %+v (v%d)", l.Deal, l.Version)
	}
	// An edit that changes nothing leaves the lead and its history (it is
	// remembered as any applied request is).
	before, events := f.lead(id), len(f.history(id))
	if l := wantResult(t, set(DealPatch{Jobs: intp(150)})).Lead; !reflect.DeepEqual(l, before) || len(f.history(id)) != events {
		t.Errorf("a no-op edit changed the lead to %+v", l)
	}
	// A retry answers the first outcome.
	retry := Command{Op: OpSetDeal, LeadID: id, RequestID: "deal-retry", Deal: &DealPatch{Jobs: intp(200)}}
	first := f.ok("yrd", retry)
	again := f.ok("yrd", retry)
	if !again.Replayed || again.Lead.Version != first.Lead.Version || again.Lead.StageComment != first.Lead.StageComment {
		t.Errorf("retry = %+v, want the first outcome %+v", again.Lead, first.Lead)
	}
	// Clearing every field drops the terms.
	l = wantResult(t, set(DealPatch{PartnerID: strp(""), Amount: strp(""), Currency: strp(""), Jobs: intp(0), SigningDate: strp(""), NextStep: strp("")})).Lead
	if l.Deal != nil {
		t.Errorf("deal after clearing every field = %+v, want none", l.Deal)
	}
}

func TestSetDealValidation(t *testing.T) {
	for _, tt := range []struct {
		name  string
		p     *DealPatch
		field string
	}{
		{"nothing", &DealPatch{}, "deal"},
		{"none", nil, "deal"},
		{"negative amount", &DealPatch{Amount: strp("-5")}, "amount"},
		{"separators", &DealPatch{Amount: strp("42,000,000")}, "amount"},
		{"exponent", &DealPatch{Amount: strp("4.2e7")}, "amount"},
		{"a trailing point", &DealPatch{Amount: strp("42.")}, "amount"},
		{"too large", &DealPatch{Amount: strp("1234567890123456789")}, "amount"},
		{"unknown currency", &DealPatch{Currency: strp("XYZ")}, "currency"},
		{"lower-case currency", &DealPatch{Currency: strp("cny")}, "currency"},
		{"negative jobs", &DealPatch{Jobs: intp(-1)}, "jobs"},
		{"no such day", &DealPatch{SigningDate: strp("2027-02-30")}, "expected_signing_date"},
		{"a timestamp", &DealPatch{LandingDate: strp("2027-02-01T00:00:00Z")}, "expected_landing_date"},
		{"long ago", &DealPatch{LandingDate: strp("1900-01-01")}, "expected_landing_date"},
		{"a bad partner ID", &DealPatch{PartnerID: strp("yutong")}, "partner_id"},
		{"a control character", &DealPatch{NextStep: strp("call \x07")}, "next_step"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			wantInvalid(t, Command{Op: OpSetDeal, RequestID: "r", LeadID: "BOS-0001", Deal: tt.p}.Validate(), tt.field)
		})
	}
	if err := (Command{Op: OpSetDeal, RequestID: "r", LeadID: "BOS-0001", Deal: &DealPatch{Amount: strp("0.125"), Currency: strp("KWD")}}).Validate(); err != nil {
		t.Errorf("three decimals of dinar: %v", err)
	}
}

// TestDealBelongsToTheClaim: the terms are the claiming division's and
// HQ's; releasing the lead drops them, and the next division starts
// afresh.
func TestDealBelongsToTheClaim(t *testing.T) {
	f := newFixture(t)
	f.raise()
	id := f.claimedBy("yrd")
	f.ok("yrd", Command{Op: OpSetDeal, LeadID: id, Deal: &DealPatch{Amount: strp("9"), Currency: strp("EUR")}})
	l := f.lead(id)
	h := f.history(id)
	deal := h[len(h)-1]
	for name, want := range map[string]bool{"admin": true, "hq": true, "yrd": true, "bohai": false, "prd": false, "bos": false} {
		u, _ := f.st.User(f.user(name))
		if got := u.CanSeeDeal(l); got != want {
			t.Errorf("%s CanSeeDeal = %v, want %v", name, got, want)
		}
		if got := u.CanSeeDealEvent(&deal); got != want {
			t.Errorf("%s CanSeeDealEvent = %v, want %v", name, got, want)
		}
	}
	f.ok("hq", Command{Op: OpRelease, LeadID: id, Comment: "reassigning"})
	if l := f.lead(id); l.Deal != nil {
		t.Errorf("released lead keeps deal terms %+v", l.Deal)
	}
	f.ok("bohai", Command{Op: OpClaim, LeadID: id})
	u, _ := f.st.User(f.user("bohai"))
	if u.CanSeeDealEvent(&deal) {
		t.Errorf("the next division sees the values of YRD's deal event")
	}
	l = f.ok("bohai", Command{Op: OpSetDeal, LeadID: id, Deal: &DealPatch{Jobs: intp(3)}}).Lead
	if l.Deal.Amount != "" || l.Deal.Division != "BOHAI" {
		t.Errorf("BOHAI's terms = %+v, want its own only", l.Deal)
	}
	// The terms are shown with the lead after a restart too.
	if l2 := restored(t, snapshotBytes(t, f.st)); l2 == nil {
		t.Fatal("no state")
	} else if got, _ := l2.Lead(id); got.Deal == nil || got.Deal.Jobs != 3 {
		t.Errorf("restored deal = %+v", got.Deal)
	}
	// And a replayed request of a lead with terms is answered as first.
	if st := f.lead(id); st.Deal == nil {
		t.Errorf("deal lost")
	}
}
