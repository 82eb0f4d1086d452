package node

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"

	innonetpb "innonet/proto/innonet/v1"
)

func TestSearchLeads(t *testing.T) {
	tc := newTestCluster(t, []string{"CGO"}, nil)
	n := tc.leaderNode()
	hqTok := tc.addUser("Hal", innonetpb.Role_HQ_REVIEWER, "", "")
	hq := tc.clients(n, hqTok)
	bos := tc.clients(n, tc.addUser("Beth", innonetpb.Role_NODE_STAFF, "BOS", ""))
	muc := tc.clients(n, tc.addUser("Max", innonetpb.Role_NODE_STAFF, "MUC", ""))
	div := tc.clients(n, tc.addUser("Yu", innonetpb.Role_DIVISION, "", "YRD"))

	submit := func(c testClients, title, summary, lang string, trl int32) string {
		t.Helper()
		req := sampleLead(title)
		req.Summary, req.Language, req.Trl = summary, lang, trl
		l, err := c.leads.SubmitLead(c.ctx(t), req)
		if err != nil {
			t.Fatalf("submit %q: %v", title, err)
		}
		return l.Id
	}
	en := submit(bos, "Hydrogen storage <b>tanks</b>", "Metal hydride tanks store hydrogen for trucks.", "en", 6)
	de := submit(muc, "Wasserstoffspeicher für Lkw", "Feststoffspeicher für Wasserstoff.", "de", 4)
	other := submit(bos, "Sodium-ion cells", "Cheap cells for storage.", "en", 5)
	if _, err := hq.leads.ReviewLead(hq.ctx(t), &innonetpb.ReviewLeadRequest{Id: de, RequestId: rid(), Decision: innonetpb.Decision_APPROVE}); err != nil {
		t.Fatalf("approve: %v", err)
	}

	search := func(c testClients, r *innonetpb.SearchLeadsRequest) []string {
		t.Helper()
		resp, err := c.leads.SearchLeads(c.ctx(t), r)
		if err != nil {
			t.Fatalf("search %q: %v", r.Q, err)
		}
		var ids []string
		for _, h := range resp.Hits {
			ids = append(ids, h.Lead.Id)
		}
		return ids
	}
	for _, tc := range []struct {
		name string
		c    testClients
		r    *innonetpb.SearchLeadsRequest
		want []string
	}{
		{"HQ, across languages", hq, &innonetpb.SearchLeadsRequest{Q: "氢能"}, []string{en, de}},
		{"node staff see their site's", bos, &innonetpb.SearchLeadsRequest{Q: "Wasserstoff"}, []string{en}},
		{"node staff of another site", muc, &innonetpb.SearchLeadsRequest{Q: "hydrogen", Site: "BOS"}, nil},
		{"divisions see published leads", div, &innonetpb.SearchLeadsRequest{Q: "hydrogen"}, []string{de}},
		{"TRL in the text", hq, &innonetpb.SearchLeadsRequest{Q: "hydrogen TRL 5+"}, []string{en}},
		{"by ID", hq, &innonetpb.SearchLeadsRequest{Q: strings.ToLower(other)}, []string{other}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := search(tc.c, tc.r)
			slices.Sort(got)
			want := slices.Clone(tc.want)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("hits %v, want %v", got, want)
			}
		})
	}

	t.Run("highlights are plain text with marks", func(t *testing.T) {
		resp, err := hq.leads.SearchLeads(hq.ctx(t), &innonetpb.SearchLeadsRequest{Q: "tanks", PageSize: 1})
		if err != nil || len(resp.Hits) != 1 {
			t.Fatalf("search: %v, %d hits", err, len(resp.Hits))
		}
		h := resp.Hits[0].Highlights[0]
		r := []rune(h.Text)
		if h.Field != "title" || h.Text != "Hydrogen storage <b>tanks</b>" || len(h.Marks) != 1 || string(r[h.Marks[0].Start:h.Marks[0].End]) != "tanks" {
			t.Errorf("highlight %v, want the title with tanks marked", h)
		}
	})

	t.Run("pages", func(t *testing.T) {
		var all []string
		tok := ""
		for range 5 {
			resp, err := hq.leads.SearchLeads(hq.ctx(t), &innonetpb.SearchLeadsRequest{Q: "hydrogen sodium", PageSize: 1, PageToken: tok})
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range resp.Hits {
				all = append(all, h.Lead.Id)
			}
			if tok = resp.NextPageToken; tok == "" {
				break
			}
		}
		slices.Sort(all)
		if want := []string{en, de, other}; !slices.Equal(all, slices.Sorted(slices.Values(want))) {
			t.Errorf("pages held %v, want %v", all, want)
		}
	})

	t.Run("bad input names the field", func(t *testing.T) {
		for _, r := range []struct {
			req  *innonetpb.SearchLeadsRequest
			want string
		}{
			{&innonetpb.SearchLeadsRequest{Q: " ,;"}, "q:"},
			{&innonetpb.SearchLeadsRequest{Q: strings.Repeat("a", 201)}, "q:"},
			{&innonetpb.SearchLeadsRequest{Q: "x", TrlMin: 10}, "trlMin"},
			{&innonetpb.SearchLeadsRequest{Q: "x", TrlMin: 6, TrlMax: 4}, "trlMin"},
			{&innonetpb.SearchLeadsRequest{Q: "x", Site: "MUC-TUM"}, "site"},
			{&innonetpb.SearchLeadsRequest{Q: "x", PageSize: 101}, "page_size"},
			{&innonetpb.SearchLeadsRequest{Q: "x", PageToken: "nope"}, "page_token"},
			{&innonetpb.SearchLeadsRequest{Q: "x", Sector: 99}, "sector"},
			{&innonetpb.SearchLeadsRequest{Q: "x", Lang: "not a tag!"}, "lang"},
		} {
			_, err := hq.leads.SearchLeads(hq.ctx(t), r.req)
			checkStatus(t, err, codes.InvalidArgument, r.want)
		}
	})

	t.Run("REST refuses unknown parameters", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, "http://"+n.Addr()+"/v1/search?q=hydrogen&trl=5", nil)
		req.Header.Set("Authorization", "Bearer "+hqTok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("GET /v1/search?trl=5: %d, want 400", resp.StatusCode)
		}
	})

	t.Run("console page escapes and marks", func(t *testing.T) {
		b := newBrowser(t, n, hqTok)
		code, page := b.get("/search?q=tanks")
		if code != http.StatusOK {
			t.Fatalf("GET /search: %d\n%s", code, page)
		}
		if strings.Contains(page, "<b>tanks") || !strings.Contains(page, "&lt;b&gt;<mark>tanks</mark>&lt;/b&gt;") {
			t.Errorf("search page does not show the title escaped with tanks marked:\n%s", page)
		}
		if code, _ := b.get("/search?q=x&bogus=1"); code != http.StatusBadRequest {
			t.Errorf("GET /search?bogus=1: %d, want 400", code)
		}
	})
}
