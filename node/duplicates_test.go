package node

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	innonetpb "innonet/proto/innonet/v1"
)

// hydroSolid is the same startup as Munich and Boston would each write it.
func hydroSolid(org, website, email string) *innonetpb.SubmitLeadRequest {
	return &innonetpb.SubmitLeadRequest{RequestId: rid(), Title: "Solid-state hydrogen storage in metal hydride pellets",
		Summary:      "HydroSolid stores hydrogen at low pressure in metal hydride pellets for stationary storage and forklifts. Pilot plant running.",
		Organization: org, Website: website, Country: "DE", Sector: innonetpb.Sector_NEW_ENERGY_VEHICLES, Trl: 6,
		DealType: innonetpb.DealType_JOINT_VENTURE, Tags: []string{"hydrogen storage", "metal hydride"}, Language: "en",
		Contacts: []*innonetpb.Contact{{Name: "Anna Weber", Email: email}}}
}

// firstHydroSolid submits three unrelated leads through c, so that the
// startup's words are rare, and then Munich's HydroSolid lead.
func firstHydroSolid(t *testing.T, c testClients) *innonetpb.Lead {
	t.Helper()
	for i := range 3 {
		if _, err := c.leads.SubmitLead(c.ctx(t), sampleLead(fmt.Sprintf("Antibody assay %d", i))); err != nil {
			t.Fatal(err)
		}
	}
	first, err := c.leads.SubmitLead(c.ctx(t), hydroSolid("HydroSolid GmbH", "https://hydrosolid.de", "anna@hydrosolid.de"))
	if err != nil {
		t.Fatal(err)
	}
	return first
}

func duplicateIDs(ds []*innonetpb.PossibleDuplicate) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.LeadId)
	}
	return out
}

// TestDuplicatesAndMerge follows a duplicate from the submit that finds it
// to HQ's merge: Boston is told Munich holds the same startup without
// seeing Munich's lead, HQ sees both and merges one into the other.
func TestDuplicatesAndMerge(t *testing.T) {
	tc := newTestCluster(t, []string{"CGO"}, nil)
	n := tc.node("CGO")
	waitFormat2(tc, n)
	muc := tc.clients(n, tc.addUser("Max Munich", innonetpb.Role_NODE_STAFF, "MUC", ""))
	bos := tc.clients(n, tc.addUser("Beth Boston", innonetpb.Role_NODE_STAFF, "BOS", ""))
	hq := tc.clients(n, tc.addUser("Hui Reviewer", innonetpb.Role_HQ_REVIEWER, "", ""))
	yrd := tc.clients(n, tc.addUser("Yang Delta", innonetpb.Role_DIVISION, "", "YRD"))

	first := firstHydroSolid(t, muc)
	if len(first.PossibleDuplicates) != 0 {
		t.Errorf("the first HydroSolid lead: possible duplicates %v, want none", first.PossibleDuplicates)
	}
	second, err := bos.leads.SubmitLead(bos.ctx(t), hydroSolid("HydroSolid Technologies Inc.", "", "a.weber@hydrosolid.de"))
	if err != nil {
		t.Fatal(err)
	}
	if len(second.PossibleDuplicates) == 0 {
		t.Fatalf("Boston's HydroSolid lead: no possible duplicates, want %s", first.Id)
	}
	d := second.PossibleDuplicates[0]
	if d.LeadId != first.Id || !d.Duplicate || d.Confidence < 0.6 || len(d.Reasons) == 0 || d.Site != "MUC" {
		t.Errorf("Boston's possible duplicate: %v", d)
	}
	// Boston may not see Munich's lead: the ID and the reasons, not what it says.
	if d.Visible || d.Title != "" || d.Organization != "" || d.Stage != innonetpb.Stage_STAGE_UNSPECIFIED {
		t.Errorf("Boston sees %v of a lead it may not read", d)
	}
	// Reasons by kind only: nothing of what Munich's lead says.
	if why := strings.Join(d.Reasons, "; "); !strings.Contains(why, "the same e-mail domain") || strings.Contains(why, "hydrosolid") ||
		strings.Contains(why, "TRL") {
		t.Errorf("reasons %q, want kinds without the other lead's values", d.Reasons)
	}

	// The form checks a draft as it is typed; the lead being edited is left out.
	chk, err := bos.leads.CheckDuplicates(bos.ctx(t), &innonetpb.CheckDuplicatesRequest{Title: "Metal hydride hydrogen storage",
		Organization: "Hydrosolid", Contacts: []*innonetpb.Contact{{Email: "info@hydrosolid.de"}}, Tags: []string{"hydrogen storage"}})
	if err != nil {
		t.Fatal(err)
	}
	if ids := duplicateIDs(chk.PossibleDuplicates); !slices.Contains(ids, first.Id) || !slices.Contains(ids, second.Id) {
		t.Errorf("CheckDuplicates found %v, want %s and %s", ids, first.Id, second.Id)
	}
	chk, err = bos.leads.CheckDuplicates(bos.ctx(t), &innonetpb.CheckDuplicatesRequest{Id: second.Id, Title: second.Title,
		Summary: second.Summary, Organization: second.Organization, Contacts: second.Contacts, Tags: second.Tags})
	if err != nil {
		t.Fatal(err)
	}
	if ids := duplicateIDs(chk.PossibleDuplicates); slices.Contains(ids, second.Id) || !slices.Contains(ids, first.Id) {
		t.Errorf("CheckDuplicates of %s found %v", second.Id, ids)
	}
	_, err = bos.leads.CheckDuplicates(bos.ctx(t), &innonetpb.CheckDuplicatesRequest{Title: strings.Repeat("x", 201)})
	checkStatus(t, err, codes.InvalidArgument, "title", "200")

	// An edit answers with the duplicates too.
	ed, err := bos.leads.UpdateLead(bos.ctx(t), &innonetpb.UpdateLeadRequest{Id: second.Id, RequestId: rid(), Trl: proto.Int32(7)})
	if err != nil {
		t.Fatal(err)
	}
	if ids := duplicateIDs(ed.PossibleDuplicates); !slices.Equal(ids, []string{first.Id}) {
		t.Errorf("the edit's possible duplicates: %v, want %s", ids, first.Id)
	}

	// HQ sees both, with what they say.
	sim, err := hq.leads.GetSimilarLeads(hq.ctx(t), &innonetpb.GetSimilarLeadsRequest{Id: second.Id})
	if err != nil {
		t.Fatal(err)
	}
	if len(sim.Similar) == 0 || sim.Similar[0].LeadId != first.Id || !sim.Similar[0].Visible ||
		sim.Similar[0].Title != first.Title || sim.Similar[0].Stage != innonetpb.Stage_SUBMITTED {
		t.Fatalf("HQ's similar leads of %s: %v", second.Id, sim.Similar)
	}
	_, err = yrd.leads.GetSimilarLeads(yrd.ctx(t), &innonetpb.GetSimilarLeadsRequest{Id: second.Id})
	checkStatus(t, err, codes.PermissionDenied)

	// Over REST, unknown fields and parameters are refused.
	rc := newRESTClient(n)
	if code, body := rc.do(t, "POST", "/v1/leads/"+second.Id+":merge", hq.token,
		map[string]any{"requestId": rid(), "into": first.Id, "reason": "dup"}); code != http.StatusBadRequest {
		t.Errorf("merge with an unknown field: %d %v", code, body)
	}
	if code, body := rc.do(t, "GET", "/v1/leads/"+second.Id+"/similar?limit=3", hq.token, nil); code != http.StatusBadRequest ||
		!strings.Contains(fmt.Sprint(body["message"]), "limit") {
		t.Errorf("similar with an unknown parameter: %d %v", code, body)
	}
	_, err = bos.leads.MergeLead(bos.ctx(t), &innonetpb.MergeLeadRequest{Id: second.Id, Into: first.Id, RequestId: rid()})
	checkStatus(t, err, codes.PermissionDenied)

	// HQ merges Boston's lead into Munich's, over REST.
	code, body := rc.do(t, "POST", "/v1/leads/"+second.Id+":merge", hq.token,
		map[string]any{"requestId": rid(), "into": first.Id, "comment": "the same startup; Munich found it first"})
	if code != http.StatusOK || body["stage"] != "MERGED" || body["mergedInto"] != first.Id {
		t.Fatalf("merge over REST: %d %v", code, body)
	}
	merged, err := bos.leads.GetLead(bos.ctx(t), &innonetpb.GetLeadRequest{Id: second.Id})
	if err != nil || merged.Stage != innonetpb.Stage_MERGED || merged.MergedInto != first.Id {
		t.Fatalf("Boston reads its merged lead: %v %v", merged, err)
	}
	kept, err := hq.leads.GetLead(hq.ctx(t), &innonetpb.GetLeadRequest{Id: first.Id})
	if err != nil || !slices.Equal(kept.MergedFrom, []string{second.Id}) {
		t.Fatalf("the survivor: %v %v", kept, err)
	}
	for _, id := range []string{first.Id, second.Id} {
		h, err := hq.leads.GetLeadHistory(hq.ctx(t), &innonetpb.GetLeadHistoryRequest{Id: id})
		if err != nil {
			t.Fatal(err)
		}
		if a := h.Events[len(h.Events)-1].Action; a != "MERGE" && a != "MERGE_IN" {
			t.Errorf("the last event of %s: %s", id, a)
		}
	}
	_, err = hq.leads.MergeLead(hq.ctx(t), &innonetpb.MergeLeadRequest{Id: first.Id, Into: second.Id, RequestId: rid()})
	checkStatus(t, err, codes.FailedPrecondition, second.Id, "merged into", first.Id)
	// A merged lead is no one's duplicate any more.
	eventually(t, 5*time.Second, "the merged lead leaves the duplicate index", func() error {
		sim, err := hq.leads.GetSimilarLeads(hq.ctx(t), &innonetpb.GetSimilarLeadsRequest{Id: first.Id})
		if err != nil {
			return err
		}
		if ids := duplicateIDs(sim.Similar); slices.Contains(ids, second.Id) {
			return fmt.Errorf("similar leads of %s: %v", first.Id, ids)
		}
		return nil
	})
	// Listing by stage counts each once.
	list, err := hq.leads.ListLeads(hq.ctx(t), &innonetpb.ListLeadsRequest{Stage: []innonetpb.Stage{innonetpb.Stage_MERGED}})
	if err != nil || len(list.Leads) != 1 || list.Leads[0].Id != second.Id {
		t.Errorf("MERGED leads: %v %v", list.GetLeads(), err)
	}
}

// TestDivisionProfilesAndMatches stores two divisions' profiles and
// checks that a hydrogen lead goes to the division that looks for
// hydrogen, with reasons, in the lead's matches and the division's list.
func TestDivisionProfilesAndMatches(t *testing.T) {
	tc := newTestCluster(t, []string{"CGO"}, nil)
	n := tc.node("CGO")
	waitFormat2(tc, n)
	muc := tc.clients(n, tc.addUser("Max Munich", innonetpb.Role_NODE_STAFF, "MUC", ""))
	hq := tc.clients(n, tc.addUser("Hui Reviewer", innonetpb.Role_HQ_REVIEWER, "", ""))
	bohai := tc.clients(n, tc.addUser("Bo Hai", innonetpb.Role_DIVISION, "", "BOHAI"))
	yrd := tc.clients(n, tc.addUser("Yang Delta", innonetpb.Role_DIVISION, "", "YRD"))

	empty, err := yrd.divisions.GetDivisionProfile(yrd.ctx(t), &innonetpb.GetDivisionProfileRequest{Division: "YRD"})
	if err != nil || empty.Version != 0 || len(empty.Keywords) != 0 {
		t.Fatalf("YRD's profile before any: %v %v", empty, err)
	}
	bp, err := bohai.divisions.UpdateDivisionProfile(bohai.ctx(t), &innonetpb.UpdateDivisionProfileRequest{Division: "BOHAI", RequestId: rid(),
		Sectors:  []innonetpb.Sector{innonetpb.Sector_NEW_ENERGY_VEHICLES, innonetpb.Sector_ADVANCED_MANUFACTURING},
		Keywords: []string{"氢能", "储氢", "electrolyser"}, TrlMin: 4, TrlMax: 8, TrlPreferred: 5,
		DealTypes: []innonetpb.DealType{innonetpb.DealType_JOINT_VENTURE},
		Enterprises: []*innonetpb.Enterprise{{Name: "天津港氢能物流有限公司", NameEn: "Tianjin Port Hydrogen Logistics", City: "天津",
			Needs: "叉车和港口设备的储氢方案", NeedsEn: "hydrogen storage for forklifts and port equipment"}}})
	if err != nil || bp.Version != 1 || bp.UpdatedByName != "Bo Hai" {
		t.Fatalf("BOHAI's profile: %v %v", bp, err)
	}
	if _, err := yrd.divisions.UpdateDivisionProfile(yrd.ctx(t), &innonetpb.UpdateDivisionProfileRequest{Division: "YRD", RequestId: rid(),
		Sectors: []innonetpb.Sector{innonetpb.Sector_ELECTRONICS_SEMICONDUCTORS}, Keywords: []string{"chip", "EDA", "芯片"}, TrlMin: 3, TrlMax: 9}); err != nil {
		t.Fatal(err)
	}
	_, err = yrd.divisions.UpdateDivisionProfile(yrd.ctx(t), &innonetpb.UpdateDivisionProfileRequest{Division: "BOHAI", RequestId: rid()})
	checkStatus(t, err, codes.PermissionDenied, "YRD", "BOHAI")
	_, err = hq.divisions.UpdateDivisionProfile(hq.ctx(t), &innonetpb.UpdateDivisionProfileRequest{Division: "BOHAI", RequestId: rid(),
		ExpectedVersion: 7, Keywords: []string{"hydrogen"}})
	checkStatus(t, err, codes.Aborted, "version 1")
	_, err = hq.divisions.UpdateDivisionProfile(hq.ctx(t), &innonetpb.UpdateDivisionProfileRequest{Division: "BOHAI", RequestId: rid(),
		TrlMin: 7, TrlMax: 3})
	checkStatus(t, err, codes.InvalidArgument, "trl_max")
	rc := newRESTClient(n)
	if code, body := rc.do(t, "PUT", "/v1/divisions/YRD/profile", yrd.token, map[string]any{"requestId": rid(), "keyword": []string{"x"}}); code != http.StatusBadRequest {
		t.Errorf("a profile with an unknown field: %d %v", code, body)
	}
	all, err := muc.divisions.ListDivisionProfiles(muc.ctx(t), &innonetpb.ListDivisionProfilesRequest{})
	if err != nil || len(all.Profiles) != 3 || all.Profiles[0].Division != "BOHAI" || all.Profiles[0].Version != 1 || all.Profiles[2].Version != 0 {
		t.Fatalf("profiles: %v %v", all, err)
	}

	h2, err := muc.leads.SubmitLead(muc.ctx(t), hydroSolid("HydroSolid GmbH", "https://hydrosolid.de", "anna@hydrosolid.de"))
	if err != nil {
		t.Fatal(err)
	}
	chip, err := muc.leads.SubmitLead(muc.ctx(t), &innonetpb.SubmitLeadRequest{RequestId: rid(), Title: "Open-source EDA for analog chip layout",
		Summary: "Automated analog layout for chip designers.", Organization: "LayoutLab", Country: "DE",
		Sector: innonetpb.Sector_ELECTRONICS_SEMICONDUCTORS, Trl: 5, DealType: innonetpb.DealType_TECHNOLOGY_LICENSING})
	if err != nil {
		t.Fatal(err)
	}
	m, err := muc.leads.GetLeadMatches(muc.ctx(t), &innonetpb.GetLeadMatchesRequest{Id: h2.Id})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Matches) != 2 || m.Matches[0].Division != "BOHAI" || m.Matches[0].Rank != 1 || m.Matches[1].Rank != 2 ||
		m.Matches[0].Score <= m.Matches[1].Score || m.Matches[0].Enterprise != "Tianjin Port Hydrogen Logistics" {
		t.Fatalf("matches of the hydrogen lead: %v", m.Matches)
	}
	why := strings.Join(m.Matches[0].Reasons, "; ")
	for _, part := range []string{"储氢", "TRL 6 within 4–8", "sector NEW_ENERGY_VEHICLES", "Tianjin Port Hydrogen Logistics"} {
		if !strings.Contains(why, part) {
			t.Errorf("BOHAI's reasons %q do not say %q", why, part)
		}
	}
	// The division's list: approved leads only, best first.
	for _, id := range []string{h2.Id, chip.Id} {
		if _, err := hq.leads.ReviewLead(hq.ctx(t), &innonetpb.ReviewLeadRequest{Id: id, RequestId: rid(), Decision: innonetpb.Decision_APPROVE}); err != nil {
			t.Fatal(err)
		}
	}
	for div, best := range map[string]string{"BOHAI": h2.Id, "YRD": chip.Id} {
		list, err := yrd.divisions.ListDivisionMatches(yrd.ctx(t), &innonetpb.ListDivisionMatchesRequest{Division: div, PageSize: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(list.Matches) != 1 || list.Matches[0].Lead.Id != best || list.Matches[0].Match.Rank != 1 || list.NextPageToken == "" {
			t.Fatalf("%s's first match: %v", div, list)
		}
		next, err := yrd.divisions.ListDivisionMatches(yrd.ctx(t), &innonetpb.ListDivisionMatchesRequest{Division: div, PageSize: 1, PageToken: list.NextPageToken})
		if err != nil || len(next.Matches) != 1 || next.Matches[0].Lead.Id == best || next.NextPageToken != "" {
			t.Fatalf("%s's second page: %v %v", div, next, err)
		}
	}
	_, err = yrd.divisions.ListDivisionMatches(yrd.ctx(t), &innonetpb.ListDivisionMatchesRequest{Division: "YRD", PageToken: "nonsense"})
	checkStatus(t, err, codes.InvalidArgument, "page_token")
	_, err = yrd.divisions.ListDivisionMatches(yrd.ctx(t), &innonetpb.ListDivisionMatchesRequest{Division: "EAST"})
	checkStatus(t, err, codes.InvalidArgument, "BOHAI, YRD or PRD")
	if code, body := rc.do(t, "GET", "/v1/divisions/YRD/matches?stage=APPROVED", yrd.token, nil); code != http.StatusBadRequest {
		t.Errorf("matches with an unknown parameter: %d %v", code, body)
	}
	if code, body := rc.do(t, "GET", "/v1/divisions/BOHAI/matches", yrd.token, nil); code != http.StatusOK ||
		!strings.Contains(fmt.Sprint(body["matches"]), h2.Id) {
		t.Errorf("GET /v1/divisions/BOHAI/matches: %d %v", code, body)
	}
}

// TestSubmitCheckedWhileItCommits: a submit that is the only write in
// flight checks its lead for duplicates while it commits, and answers as
// a check after the commit would.
func TestSubmitCheckedWhileItCommits(t *testing.T) {
	tc := newTestCluster(t, []string{"CGO"}, nil)
	n := tc.node("CGO")
	waitFormat2(tc, n)
	tok := tc.addUser("Max Munich", innonetpb.Role_NODE_STAFF, "MUC", "")
	muc := tc.clients(n, tok)
	u, err := n.State().UserByTokenHash(HashToken(tok))
	if err != nil {
		t.Fatal(err)
	}
	first := firstHydroSolid(t, muc)
	// A write of the site's own (housekeeping) in flight at the same
	// time makes a submit check again after the commit instead: a few
	// tries, so that the test does not hang on one.
	prechecked := false
	for try := 0; try < 5 && !prechecked; try++ {
		kept := testutil.ToFloat64(n.metrics.prechecks.WithLabelValues("kept"))
		second, err := muc.leads.SubmitLead(muc.ctx(t), hydroSolid(fmt.Sprintf("HydroSolid Technologies %d Inc.", try), "", "a.weber@hydrosolid.de"))
		if err != nil {
			t.Fatal(err)
		}
		prechecked = testutil.ToFloat64(n.metrics.prechecks.WithLabelValues("kept")) == kept+1
		if ids := duplicateIDs(second.PossibleDuplicates); !slices.Contains(ids, first.Id) {
			t.Fatalf("HydroSolid lead %s: possible duplicates %v, want %s among them", second.Id, ids, first.Id)
		}
		l, err := n.State().Lead(second.Id)
		if err != nil {
			t.Fatal(err)
		}
		after := n.possibleDuplicates(u, l.ID, &l.Draft)
		if len(after) != len(second.PossibleDuplicates) {
			t.Fatalf("checked after the commit: %v\nwhile it committed: %v", after, second.PossibleDuplicates)
		}
		for i := range after {
			if !proto.Equal(after[i], second.PossibleDuplicates[i]) {
				t.Errorf("candidate %d checked after the commit: %v\nwhile it committed: %v", i, after[i], second.PossibleDuplicates[i])
			}
		}
	}
	if !prechecked {
		t.Error("no submit kept the check it made while it committed, though each was the only write")
	}
}
