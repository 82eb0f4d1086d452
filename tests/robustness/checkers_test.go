package robustness

import (
	"os"
	"strings"
	"testing"
)

var (
	hq  = Actor{Role: RoleHQ}
	bos = Actor{Role: RoleStaff, Site: "BOS"}
	yrd = Actor{Role: RoleDivision, Division: "YRD"}
	prd = Actor{Role: RoleDivision, Division: "PRD"}
)

func view(id string, stage Stage, div string, v int64) *LeadView {
	return &LeadView{ID: id, Stage: stage, Division: div, Version: v}
}

// fixture is a correct history of three leads and the final state it
// leads to on two sites. Each test plants one bug in a fresh copy.
func fixture() ([]Op, *Final) {
	ops := []Op{
		{Client: 0, Kind: KindSubmit, Actor: bos, RequestID: "s1", Title: "T1", Call: 0, Return: 10, Outcome: OK, Lead: &LeadView{ID: "BOS-0001", Title: "T1", Stage: Submitted, Version: 1}},
		{Client: 0, Kind: KindSubmit, Actor: bos, RequestID: "s2", Title: "T2", Call: 11, Return: 15, Outcome: OK, Lead: &LeadView{ID: "BOS-0002", Title: "T2", Stage: Submitted, Version: 1}},
		{Client: 0, Kind: KindSubmit, Actor: bos, RequestID: "s3", Title: "T3", Call: 16, Return: 19, Outcome: Unknown, Code: "Unavailable"},
		{Client: 0, Kind: KindSubmit, Actor: bos, RequestID: "s4", Title: "T4", Call: 16, Return: 19, Outcome: Failed, Code: "InvalidArgument"},
		{Client: 1, Kind: KindReview, Actor: hq, LeadID: "BOS-0001", RequestID: "r1", Decision: "APPROVE", Call: 20, Return: 30, Outcome: OK, Lead: view("BOS-0001", Approved, "", 2)},
		{Client: 2, Kind: KindClaim, Actor: yrd, LeadID: "BOS-0001", RequestID: "c1", Call: 40, Return: 60, Outcome: OK, Lead: view("BOS-0001", Claimed, "YRD", 3)},
		{Client: 3, Kind: KindClaim, Actor: prd, LeadID: "BOS-0001", RequestID: "c2", Call: 45, Return: 55, Outcome: Failed, Code: "Aborted"},
		{Client: 4, Kind: KindGet, Actor: hq, LeadID: "BOS-0001", Consistency: "LINEARIZABLE", Call: 70, Return: 80, Outcome: OK, Lead: view("BOS-0001", Claimed, "YRD", 3)},
		{Client: 2, Kind: KindRelease, Actor: yrd, LeadID: "BOS-0001", RequestID: "c3", Call: 90, Return: 100, Outcome: OK, Lead: view("BOS-0001", Approved, "", 4)},
		{Client: 3, Kind: KindClaim, Actor: prd, LeadID: "BOS-0001", RequestID: "c4", Call: 110, Return: 120, Outcome: Unknown, Code: "DeadlineExceeded"},
		{Client: 2, Kind: KindAdvance, Actor: yrd, LeadID: "BOS-0001", RequestID: "c5", Target: Negotiating, Call: 112, Return: 118, Outcome: Failed, Code: "PermissionDenied"},
		{Client: 4, Kind: KindList, Actor: hq, Consistency: "LINEARIZABLE", Call: 130, Return: 140, Outcome: OK, Leads: []LeadView{*view("BOS-0001", Claimed, "PRD", 5), *view("BOS-0002", Submitted, "", 1)}},
		{Client: 3, Kind: KindAdvance, Actor: prd, LeadID: "BOS-0001", RequestID: "c6", Target: Negotiating, Call: 150, Return: 160, Outcome: OK, Lead: view("BOS-0001", Negotiating, "PRD", 6)},
		{Client: 5, Kind: KindGet, Actor: hq, LeadID: "BOS-0001", Consistency: "STALE", Call: 165, Return: 170, Outcome: OK, Lead: view("BOS-0001", Approved, "", 4)},
		{Client: 1, Kind: KindReview, Actor: hq, LeadID: "BOS-0003", RequestID: "r2", Decision: "RETURN", Call: 170, Return: 175, Outcome: OK, Lead: view("BOS-0003", Returned, "", 2)},
		{Client: 0, Kind: KindUpdate, Actor: bos, LeadID: "BOS-0003", RequestID: "u1", Call: 180, Return: 185, Outcome: OK, Lead: view("BOS-0003", Submitted, "", 3)},
		{Client: 0, Kind: KindWithdraw, Actor: bos, LeadID: "BOS-0003", RequestID: "w1", Call: 190, Return: 195, Outcome: OK, Lead: view("BOS-0003", Withdrawn, "", 4)},
	}
	ev := func(id string, v int64, action, who string, from, to Stage, req string) Event {
		return Event{LeadID: id, Seq: v, Action: action, UserSite: who, From: from, To: to, Version: v, LogIndex: uint64(v), RequestID: req}
	}
	site := func(code string) SiteState {
		return SiteState{
			Site: code, AppliedIndex: 42, Digest: "d1",
			Leads: []LeadView{
				{ID: "BOS-0001", Title: "T1", Stage: Negotiating, Division: "PRD", Version: 6},
				{ID: "BOS-0002", Title: "T2", Stage: Submitted, Version: 1},
				{ID: "BOS-0003", Title: "T3", Stage: Withdrawn, Version: 4},
			},
			History: map[string][]Event{
				"BOS-0001": {
					ev("BOS-0001", 1, "SUBMIT", "BOS", "", Submitted, "s1"),
					ev("BOS-0001", 2, "APPROVE", "HQ", Submitted, Approved, "r1"),
					ev("BOS-0001", 3, "CLAIM", "YRD", Approved, Claimed, "c1"),
					ev("BOS-0001", 4, "RELEASE", "YRD", Claimed, Approved, "c3"),
					ev("BOS-0001", 5, "CLAIM", "PRD", Approved, Claimed, "c4"),
					ev("BOS-0001", 6, "ADVANCE", "PRD", Claimed, Negotiating, "c6"),
				},
				"BOS-0002": {ev("BOS-0002", 1, "SUBMIT", "BOS", "", Submitted, "s2")},
				"BOS-0003": {
					ev("BOS-0003", 1, "SUBMIT", "BOS", "", Submitted, "s3"),
					ev("BOS-0003", 2, "RETURN", "HQ", Submitted, Returned, "r2"),
					ev("BOS-0003", 3, "RESUBMIT", "BOS", Returned, Submitted, "u1"),
					ev("BOS-0003", 4, "WITHDRAW", "BOS", Submitted, Withdrawn, "w1"),
				},
			},
		}
	}
	return ops, &Final{Sites: []SiteState{site("CGO"), site("BOS")}}
}

var fixtureSites = []string{"CGO", "BOS"}

func TestCheckersPassCorrectHistory(t *testing.T) {
	ops, final := fixture()
	r := Check(ops, final, CheckOptions{Sites: fixtureSites})
	for _, a := range r.Anomalies {
		t.Errorf("%s: %s", a.Checker, a.Detail)
	}
	if r.LinearizableLeads != 3 || len(r.Inconclusive) != 0 {
		t.Errorf("checked %d leads (%d inconclusive), want 3 (0)", r.LinearizableLeads, len(r.Inconclusive))
	}
}

// TestCheckersCatchPlantedBugs plants one bug per case and wants the
// named checker to report it.
func TestCheckersCatchPlantedBugs(t *testing.T) {
	tests := []struct {
		name    string
		checker string
		plant   func(ops []Op, f *Final) []Op
	}{
		{"non-linearizable claims", CheckLinearizable, func(ops []Op, f *Final) []Op {
			// PRD's first claim is acknowledged although YRD's claim
			// returned before it started and nothing was released.
			for i := range ops {
				if ops[i].RequestID == "c2" {
					ops[i].Call, ops[i].Return = 61, 65
					ops[i].Outcome, ops[i].Code = OK, ""
					ops[i].Lead = view("BOS-0001", Claimed, "PRD", 4)
				}
			}
			return ops
		}},
		{"stale linearizable read", CheckLinearizable, func(ops []Op, f *Final) []Op {
			// After YRD's release was acknowledged, a linearizable read
			// still sees YRD's claim.
			return append(ops, Op{Client: 6, Kind: KindGet, Actor: hq, LeadID: "BOS-0001", Consistency: "LINEARIZABLE",
				Call: 101, Return: 105, Outcome: OK, Lead: view("BOS-0001", Claimed, "YRD", 3)})
		}},
		{"wrong conflict code", CheckLinearizable, func(ops []Op, f *Final) []Op {
			// A claim that lost to another division must say Aborted.
			for i := range ops {
				if ops[i].RequestID == "c2" {
					ops[i].Call, ops[i].Return, ops[i].Code = 61, 65, "FailedPrecondition"
				}
			}
			return ops
		}},
		{"lost acked submit", CheckSubmits, func(ops []Op, f *Final) []Op {
			s := &f.Sites[1]
			s.Leads = s.Leads[:1]
			return ops
		}},
		{"duplicated submit", CheckSubmits, func(ops []Op, f *Final) []Op {
			for i := range f.Sites {
				s := &f.Sites[i]
				s.Leads = append(s.Leads, LeadView{ID: "BOS-0004", Title: "T1", Stage: Submitted, Version: 1})
				s.History["BOS-0004"] = []Event{{LeadID: "BOS-0004", Seq: 1, Action: "SUBMIT", UserSite: "BOS", To: Submitted, Version: 1, RequestID: "s1"}}
			}
			return ops
		}},
		{"double claim", CheckClaims, func(ops []Op, f *Final) []Op {
			// The history of one site lost YRD's release: PRD claimed a
			// lead YRD held.
			h := f.Sites[0].History["BOS-0001"]
			h[3] = Event{LeadID: "BOS-0001", Seq: 4, Action: "ADVANCE", UserSite: "YRD", From: Claimed, To: Negotiating, Version: 4, RequestID: "x"}
			return ops
		}},
		{"gap in per-site IDs", CheckIDs, func(ops []Op, f *Final) []Op {
			for i := range f.Sites {
				s := &f.Sites[i]
				s.Leads[2].ID = "BOS-0004"
				s.History["BOS-0004"] = s.History["BOS-0003"]
				delete(s.History, "BOS-0003")
			}
			return ops
		}},
		{"duplicate per-site ID", CheckIDs, func(ops []Op, f *Final) []Op {
			s := &f.Sites[0]
			s.Leads = append(s.Leads, s.Leads[2])
			return ops
		}},
		{"digest mismatch", CheckConvergence, func(ops []Op, f *Final) []Op {
			f.Sites[1].Digest = "d2"
			return ops
		}},
		{"site behind", CheckConvergence, func(ops []Op, f *Final) []Op {
			f.Sites[1].AppliedIndex = 41
			return ops
		}},
		{"failed write applied", CheckWrites, func(ops []Op, f *Final) []Op {
			for i := range ops {
				if ops[i].RequestID == "c6" {
					ops[i].Outcome, ops[i].Code, ops[i].Lead = Failed, "FailedPrecondition", nil
				}
			}
			return ops
		}},
		{"retry not answered with the first outcome", CheckWrites, func(ops []Op, f *Final) []Op {
			// YRD's release was applied by a first attempt that timed
			// out; the retry was refused instead of replayed.
			for i := range ops {
				if ops[i].RequestID == "c3" {
					ops[i].Outcome, ops[i].Code, ops[i].Attempts, ops[i].Lead = Unknown, "FailedPrecondition", 2, nil
				}
			}
			return ops
		}},
		{"site goes back in time", CheckMonotonic, func(ops []Op, f *Final) []Op {
			return append(ops,
				Op{Client: 6, Kind: KindList, Actor: hq, Site: "TLV", ReadSite: "TLV", Consistency: "STALE", Incarnation: 2,
					Call: 200, Return: 201, Outcome: OK, AppliedIndex: 42},
				Op{Client: 6, Kind: KindList, Actor: hq, Site: "TLV", ReadSite: "TLV", Consistency: "STALE", Incarnation: 2,
					Call: 202, Return: 203, Outcome: OK, AppliedIndex: 40})
		}},
		{"read of a lost write", CheckReads, func(ops []Op, f *Final) []Op {
			return append(ops, Op{Client: 6, Kind: KindGet, Actor: hq, LeadID: "BOS-0002", Consistency: "STALE",
				Call: 200, Return: 201, Outcome: OK, ReadSite: "YRD", Lead: view("BOS-0002", Approved, "", 2)})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ops, final := fixture()
			ops = tt.plant(ops, final)
			dir := t.TempDir()
			r := Check(ops, final, CheckOptions{Sites: fixtureSites, VisualizeDir: dir})
			if r.Count(tt.checker) == 0 {
				t.Fatalf("checker %s found nothing; all anomalies: %v", tt.checker, r.Anomalies)
			}
			for _, a := range r.Anomalies {
				t.Logf("%s: %s", a.Checker, a.Detail)
			}
			if tt.checker == CheckLinearizable {
				if len(r.Visualizations) == 0 {
					t.Fatal("no visualization written")
				}
				b, err := os.ReadFile(r.Visualizations[0])
				if err != nil || !strings.Contains(string(b), "<html") {
					t.Fatalf("visualization %s: %v", r.Visualizations[0], err)
				}
			}
		})
	}
}

// TestModelUnknownWrites checks that a write of unknown outcome may have
// happened (a later read sees it) or not (a later read does not).
func TestModelUnknownWrites(t *testing.T) {
	base := []Op{
		{Client: 1, Kind: KindReview, Actor: hq, LeadID: "CBG-0001", RequestID: "r", Decision: "APPROVE", Call: 0, Return: 10, Outcome: OK, Lead: view("CBG-0001", Approved, "", 2)},
		{Client: 2, Kind: KindClaim, Actor: yrd, LeadID: "CBG-0001", RequestID: "c", Call: 20, Return: 30, Outcome: Unknown, Code: "Unavailable"},
	}
	for _, seen := range []*LeadView{view("CBG-0001", Approved, "", 2), view("CBG-0001", Claimed, "YRD", 3)} {
		ops := append(append([]Op(nil), base...), Op{Client: 3, Kind: KindGet, Consistency: "LINEARIZABLE", LeadID: "CBG-0001", Call: 40, Return: 50, Outcome: OK, Lead: seen})
		r := &CheckResult{}
		if bad := checkLinearizable(ops, CheckOptions{}, r); len(bad) > 0 {
			t.Errorf("read of %v after an unknown claim: %v", *seen, bad)
		}
	}
	// But not both: once seen claimed, it cannot be unclaimed again.
	ops := append(append([]Op(nil), base...),
		Op{Client: 3, Kind: KindGet, Consistency: "LINEARIZABLE", LeadID: "CBG-0001", Call: 40, Return: 50, Outcome: OK, Lead: view("CBG-0001", Claimed, "YRD", 3)},
		Op{Client: 3, Kind: KindGet, Consistency: "LINEARIZABLE", LeadID: "CBG-0001", Call: 60, Return: 70, Outcome: OK, Lead: view("CBG-0001", Approved, "", 2)})
	if bad := checkLinearizable(ops, CheckOptions{}, &CheckResult{}); len(bad) == 0 {
		t.Error("a claim seen and then unseen passed")
	}
}
