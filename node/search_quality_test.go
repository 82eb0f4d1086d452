package node

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	innonetpb "innonet/proto/innonet/v1"
)

// The search quality benchmark: the labelled leads of
// ../shared/data/leads-dev.json (see its README) submitted through the
// API to a single-site cluster, and the data set's queries scored by
// recall@10 and nDCG@10. Run it with
//
//	go test -run '^$' -bench BenchmarkSearchQuality -benchtime 1x ./node/
//
// (SEARCH_DATA names another file of the same form).

// qualitySet is the part of a labelled data set the benchmark reads.
type qualitySet struct {
	Leads []struct {
		Title, Summary, Organization, Country, Sector, DealType, Language, Site, Subnode, Website string
		TRL                                                                                       int `json:"trl"`
		Tags                                                                                      []string
		Contacts                                                                                  []struct{ Name, Email string }
	}
	Queries []struct {
		ID, Query, Language string
		Relevant            []int `json:"relevant"`
		Partial             []int `json:"partially_relevant"`
		Filters             struct {
			TRLMin int `json:"trl_min"`
			TRLMax int `json:"trl_max"`
		}
	}
}

func loadQualitySet(b *testing.B) *qualitySet {
	b.Helper()
	path := os.Getenv("SEARCH_DATA")
	if path == "" {
		path = filepath.Join("..", "..", "shared", "data", "leads-dev.json")
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		b.Skipf("no labelled data set at %s (%v): set SEARCH_DATA to one", path, err)
	}
	var set qualitySet
	if err := json.Unmarshal(raw, &set); err != nil {
		b.Fatalf("read %s: %v", path, err)
	}
	return &set
}

// bilingualName is "中文名（English）" or "中文名 (English)".
// existingOrg is the answer to a name an organisation already has.
var existingOrg = regexp.MustCompile(`is already a name of (org-[0-9]+)`)

var bilingualName = regexp.MustCompile(`^(.+?)\s*[（(]([^）)]+)[）)]$`)

func BenchmarkSearchQuality(b *testing.B) {
	set := loadQualitySet(b)
	tc := newTestCluster(b, []string{"CGO"}, nil, func(c *Config) { c.SearchInMemory = false })
	leader := tc.leaderNode()
	admin := tc.clients(leader, testAdminToken)
	staff := map[string]testClients{}
	orgs := map[string]string{} // as written → organisation ID
	ids := make([]string, len(set.Leads))
	for i, l := range set.Leads {
		site := l.Site
		if site == "HQ" {
			// HQ's own scouting: only node staff submit leads, and the
			// site does not change what an admin finds.
			site = "BOS"
		}
		c, ok := staff[site]
		if !ok {
			c = tc.clients(leader, tc.addUser("Staff "+site, innonetpb.Role_NODE_STAFF, site, ""))
			staff[site] = c
		}
		org, ok := orgs[l.Organization]
		if !ok {
			req := &innonetpb.CreateOrganizationRequest{RequestId: rid(), Kind: innonetpb.Organization_COMPANY,
				Name: l.Organization, Country: l.Country, Website: l.Website}
			if m := bilingualName.FindStringSubmatch(l.Organization); m != nil {
				req.Name, req.NameEn = m[1], m[2]
			}
			o, err := admin.leads.CreateOrganization(admin.ctx(b), req)
			switch {
			case err == nil:
				org = o.Id
			case existingOrg.MatchString(err.Error()):
				// The name is another's spelling (Hydrosolid, HydroSolid GmbH): link to it, as staff are asked to.
				org = existingOrg.FindStringSubmatch(err.Error())[1]
			default:
				b.Fatalf("create organisation %q: %v", l.Organization, err)
			}
			orgs[l.Organization] = org
		}
		req := &innonetpb.SubmitLeadRequest{RequestId: rid(), Title: l.Title, Summary: l.Summary, Organization: l.Organization,
			OrganizationId: org, Country: l.Country, Sector: innonetpb.Sector(innonetpb.Sector_value[l.Sector]), Trl: int32(l.TRL),
			DealType: innonetpb.DealType(innonetpb.DealType_value[l.DealType]), Tags: l.Tags, Language: l.Language}
		for _, ct := range l.Contacts {
			req.Contacts = append(req.Contacts, &innonetpb.Contact{Name: ct.Name, Email: ct.Email})
		}
		got, err := c.leads.SubmitLead(c.ctx(b), req)
		if err != nil {
			b.Fatalf("submit lead %d: %v", i, err)
		}
		ids[i] = got.Id
	}
	index := map[string]int{}
	for i, id := range ids {
		index[id] = i
	}
	type score struct{ recall, ndcg float64 }
	byLang := map[string][]score{}
	var all []score
	for b.Loop() {
		all = all[:0]
		clear(byLang)
		for _, q := range set.Queries {
			resp, err := admin.leads.SearchLeads(admin.ctx(b), &innonetpb.SearchLeadsRequest{Q: q.Query, PageSize: 10,
				TrlMin: int32(q.Filters.TRLMin), TrlMax: int32(q.Filters.TRLMax)})
			if err != nil {
				b.Fatalf("search %s %q: %v", q.ID, q.Query, err)
			}
			var ranked []int
			for _, h := range resp.Hits {
				ranked = append(ranked, index[h.Lead.Id])
			}
			s := score{recallAt10(ranked, q.Relevant), ndcgAt10(ranked, q.Relevant, q.Partial)}
			if testing.Verbose() {
				fmt.Printf("%s %-2s %-40q recall@10 %.2f nDCG@10 %.2f\n", q.ID, q.Language, q.Query, s.recall, s.ndcg)
			}
			all = append(all, s)
			byLang[q.Language] = append(byLang[q.Language], s)
		}
	}
	mean := func(ss []score) (r, n float64) {
		for _, s := range ss {
			r += s.recall
			n += s.ndcg
		}
		return r / float64(len(ss)), n / float64(len(ss))
	}
	r, n := mean(all)
	b.ReportMetric(r, "recall@10")
	b.ReportMetric(n, "nDCG@10")
	var lines []string
	for _, lang := range slices.Sorted(func(yield func(string) bool) {
		for k := range byLang {
			if !yield(k) {
				return
			}
		}
	}) {
		lr, ln := mean(byLang[lang])
		lines = append(lines, fmt.Sprintf("%s (%d queries): recall@10 %.3f nDCG@10 %.3f", lang, len(byLang[lang]), lr, ln))
	}
	fmt.Printf("search quality, %d leads, %d queries: recall@10 %.3f nDCG@10 %.3f\n  %s\n", len(set.Leads), len(all), r, n, strings.Join(lines, "\n  "))
}

func recallAt10(ranked, rel []int) float64 {
	hit := 0
	for _, i := range ranked[:min(10, len(ranked))] {
		if slices.Contains(rel, i) {
			hit++
		}
	}
	return float64(hit) / float64(min(len(rel), 10))
}

func ndcgAt10(ranked, rel, part []int) float64 {
	gain := func(i int) float64 {
		switch {
		case slices.Contains(rel, i):
			return 2
		case slices.Contains(part, i):
			return 1
		}
		return 0
	}
	dcg := 0.0
	for k, i := range ranked[:min(10, len(ranked))] {
		dcg += gain(i) / math.Log2(float64(k+2))
	}
	var ideal []float64
	for range rel {
		ideal = append(ideal, 2)
	}
	for range part {
		ideal = append(ideal, 1)
	}
	idcg := 0.0
	for k, g := range ideal[:min(10, len(ideal))] {
		idcg += g / math.Log2(float64(k+2))
	}
	if idcg == 0 {
		return 0
	}
	return dcg / idcg
}
