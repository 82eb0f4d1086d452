package node

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"innonet/node/matching"
	innonetpb "innonet/proto/innonet/v1"
)

// The duplicate and matching quality benchmark: the labelled leads of
// ../shared/data/leads-dev.json submitted in index order through the API
// to a single-site cluster whose divisions store the profiles of
// divisions.json (beside it), as node staff would: free-text
// organisation, website and contacts. It scores what the API answers:
//
//   - duplicates: the possible duplicates each submit answers with (those
//     marked duplicate, each against an earlier lead), as pairwise
//     precision, recall and F1 against the labelled clusters, the share of
//     hard negatives flagged, and the same for pairs across languages;
//   - matching: GetLeadMatches' ranking of the divisions, as top-1
//     accuracy, top-1 acceptable and top-2 accuracy, overall and by the
//     labelled best division;
//   - search: the data set's queries (with their filters) as recall@10
//     and nDCG@10.
//
// Run it with
//
//	go test -run '^$' -bench BenchmarkQuality -benchtime 1x ./node/
//
// (SEARCH_DATA names another file of the same form; its divisions.json is
// read from the same directory). BenchmarkSearchQuality scores search
// per query language, with the leads linked to organisations.

// qualityLabels are the labels of a data set the benchmark scores with.
type qualityLabels struct {
	Duplicates    [][]int    `json:"duplicates"`
	HardNegatives [][]int    `json:"hard_negatives"`
	BestDivision  []string   `json:"best_division"`
	Acceptable    [][]string `json:"acceptable_divisions"`
}

func qualityDataPath() string {
	if p := os.Getenv("SEARCH_DATA"); p != "" {
		return p
	}
	return filepath.Join("..", "..", "shared", "data", "leads-dev.json")
}

func BenchmarkQuality(b *testing.B) {
	set := loadQualitySet(b)
	raw, err := os.ReadFile(qualityDataPath())
	if err != nil {
		b.Fatal(err)
	}
	var labels qualityLabels
	if err := json.Unmarshal(raw, &labels); err != nil {
		b.Fatal(err)
	}
	raw, err = os.ReadFile(filepath.Join(filepath.Dir(qualityDataPath()), "divisions.json"))
	if err != nil {
		b.Skipf("no divisions.json beside the data set: %v", err)
	}
	profiles, err := matching.Parse(raw)
	if err != nil {
		b.Fatal(err)
	}
	tc := newTestCluster(b, []string{"CGO"}, nil)
	leader := tc.leaderNode()
	waitFormat2(tc, leader)
	hq := tc.clients(leader, tc.addUser("HQ Reviewer", innonetpb.Role_HQ_REVIEWER, "", ""))
	for _, p := range profiles {
		req := &innonetpb.UpdateDivisionProfileRequest{Division: p.Code, RequestId: rid(),
			Keywords: append(slices.Clone(p.Keywords.EN), p.Keywords.ZH...), TrlMin: int32(p.TRL.Min), TrlMax: int32(p.TRL.Max),
			TrlPreferred: int32(p.TRL.PreferredMin), Notes: p.SectorNotesEN}
		for _, s := range p.Sectors {
			req.Sectors = append(req.Sectors, innonetpb.Sector(innonetpb.Sector_value[s]))
		}
		for _, d := range p.PreferredDealTypes {
			req.DealTypes = append(req.DealTypes, innonetpb.DealType(innonetpb.DealType_value[d]))
		}
		for _, e := range p.Enterprises {
			req.Enterprises = append(req.Enterprises, &innonetpb.Enterprise{Name: e.NameZH, NameEn: e.NameEN, City: e.City,
				Needs: e.NeedsZH, NeedsEn: e.NeedsEN})
		}
		if _, err := hq.divisions.UpdateDivisionProfile(hq.ctx(b), req); err != nil {
			b.Fatalf("profile of %s: %v", p.Code, err)
		}
	}

	staff := map[string]testClients{}
	ids := make([]string, len(set.Leads))
	index := map[string]int{}
	predicted := map[[2]int]bool{}
	for i, l := range set.Leads {
		site := l.Site
		if site == "HQ" {
			site = "BOS" // only node staff submit leads
		}
		c, ok := staff[site]
		if !ok {
			c = tc.clients(leader, tc.addUser("Staff "+site, innonetpb.Role_NODE_STAFF, site, ""))
			staff[site] = c
		}
		req := &innonetpb.SubmitLeadRequest{RequestId: rid(), Title: l.Title, Summary: l.Summary, Organization: l.Organization,
			Website: l.Website, Country: l.Country, Sector: innonetpb.Sector(innonetpb.Sector_value[l.Sector]), Trl: int32(l.TRL),
			DealType: innonetpb.DealType(innonetpb.DealType_value[l.DealType]), Tags: l.Tags, Language: l.Language}
		for _, ct := range l.Contacts {
			req.Contacts = append(req.Contacts, &innonetpb.Contact{Name: ct.Name, Email: ct.Email})
		}
		got, err := c.leads.SubmitLead(c.ctx(b), req)
		if err != nil {
			b.Fatalf("submit lead %d: %v", i, err)
		}
		ids[i], index[got.Id] = got.Id, i
		for _, d := range got.PossibleDuplicates {
			j, ok := index[d.LeadId]
			if d.Duplicate && ok {
				predicted[[2]int{min(i, j), max(i, j)}] = true
			}
		}
	}

	gold := map[[2]int]bool{}
	for _, c := range labels.Duplicates {
		for x := range c {
			for y := x + 1; y < len(c); y++ {
				gold[[2]int{min(c[x], c[y]), max(c[x], c[y])}] = true
			}
		}
	}
	prf := func(keep func(p [2]int) bool) (p, r, f float64, tp, np, ng int) {
		for pr := range predicted {
			if keep(pr) {
				np++
				if gold[pr] {
					tp++
				}
			}
		}
		for pr := range gold {
			if keep(pr) {
				ng++
			}
		}
		if np > 0 {
			p = float64(tp) / float64(np)
		}
		if ng > 0 {
			r = float64(tp) / float64(ng)
		}
		if p+r > 0 {
			f = 2 * p * r / (p + r)
		}
		return
	}
	cross := func(pr [2]int) bool { return set.Leads[pr[0]].Language != set.Leads[pr[1]].Language }
	p, r, f, tp, np, ng := prf(func([2]int) bool { return true })
	cp, cr, cf, _, _, _ := prf(cross)
	hard := 0
	for _, h := range labels.HardNegatives {
		if predicted[[2]int{min(h[0], h[1]), max(h[0], h[1])}] {
			hard++
		}
	}

	type tally struct{ n, top1, acceptable, top2 int }
	var all tally
	byDiv := map[string]*tally{}
	for b.Loop() {
		all = tally{}
		clear(byDiv)
		for i, id := range ids {
			m, err := hq.leads.GetLeadMatches(hq.ctx(b), &innonetpb.GetLeadMatchesRequest{Id: id})
			if err != nil {
				b.Fatalf("matches of lead %d: %v", i, err)
			}
			if len(m.Matches) < 2 {
				b.Fatalf("matches of lead %d: %v", i, m.Matches)
			}
			best := labels.BestDivision[i]
			t := byDiv[best]
			if t == nil {
				t = &tally{}
				byDiv[best] = t
			}
			for _, t := range []*tally{&all, t} {
				t.n++
				if m.Matches[0].Division == best {
					t.top1++
				}
				if slices.Contains(labels.Acceptable[i], m.Matches[0].Division) {
					t.acceptable++
				}
				if m.Matches[0].Division == best || m.Matches[1].Division == best {
					t.top2++
				}
			}
			if testing.Verbose() && m.Matches[0].Division != best {
				fmt.Printf("lead %3d %-60.60q best %-5s got %s (%.2f) %s\n", i, set.Leads[i].Title, best,
					m.Matches[0].Division, m.Matches[0].Score, strings.Join(m.Matches[0].Reasons, "; "))
			}
		}
	}
	// Search, on the same leads: the data set's queries, with their filters.
	var recall, ndcg float64
	for _, q := range set.Queries {
		resp, err := hq.leads.SearchLeads(hq.ctx(b), &innonetpb.SearchLeadsRequest{Q: q.Query, PageSize: 10,
			TrlMin: int32(q.Filters.TRLMin), TrlMax: int32(q.Filters.TRLMax)})
		if err != nil {
			b.Fatalf("search %s %q: %v", q.ID, q.Query, err)
		}
		var ranked []int
		for _, h := range resp.Hits {
			ranked = append(ranked, index[h.Lead.Id])
		}
		recall += recallAt10(ranked, q.Relevant)
		ndcg += ndcgAt10(ranked, q.Relevant, q.Partial)
	}
	if nq := len(set.Queries); nq > 0 {
		recall, ndcg = recall/float64(nq), ndcg/float64(nq)
	}
	share := func(k, n int) float64 { return float64(k) / float64(max(n, 1)) }
	b.ReportMetric(p, "dup-precision")
	b.ReportMetric(r, "dup-recall")
	b.ReportMetric(f, "dup-F1")
	b.ReportMetric(share(all.top1, all.n), "match-top1")
	b.ReportMetric(share(all.top2, all.n), "match-top2")
	b.ReportMetric(recall, "search-recall@10")
	b.ReportMetric(ndcg, "search-nDCG@10")
	fmt.Printf("search, %d queries: recall@10 %.3f nDCG@10 %.3f (organisations as free text; BenchmarkSearchQuality links them)\n",
		len(set.Queries), recall, ndcg)
	fmt.Printf("duplicates, %d leads submitted through the API: precision %.3f recall %.3f F1 %.3f (%d of %d flagged pairs right, %d labelled pairs)\n",
		len(ids), p, r, f, tp, np, ng)
	fmt.Printf("  across languages: precision %.3f recall %.3f F1 %.3f; hard negatives flagged: %d of %d\n", cp, cr, cf, hard, len(labels.HardNegatives))
	fmt.Printf("division matches: top-1 %.3f, top-1 acceptable %.3f, top-2 %.3f (%d leads)\n",
		share(all.top1, all.n), share(all.acceptable, all.n), share(all.top2, all.n), all.n)
	for _, d := range slices.Sorted(func(yield func(string) bool) {
		for k := range byDiv {
			if !yield(k) {
				return
			}
		}
	}) {
		t := byDiv[d]
		fmt.Printf("  best %-5s (%d leads): top-1 %.3f, top-1 acceptable %.3f, top-2 %.3f\n", d, t.n,
			share(t.top1, t.n), share(t.acceptable, t.n), share(t.top2, t.n))
	}
}
