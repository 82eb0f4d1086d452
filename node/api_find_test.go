package node

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"innonet/node/pipeline"
	innonetpb "innonet/proto/innonet/v1"
)

// findEnv is a two-site cluster at log format 2 with four leads of two
// sites, in several languages, stages, sectors and countries:
//
//	BOS-0001  Hydrogen storage for trucks        US NEW_ENERGY_VEHICLES  TRL 6 INVESTMENT            APPROVED
//	MUC-0001  Wasserstoffspeicher für Lkw (de)   DE NEW_ENERGY_VEHICLES  TRL 4 RND_COLLABORATION     CLAIMED by YRD, zh translation
//	MUC-0002  KI-Diagnostik für die Bildgebung   DE IT_AI                TRL 7 TECHNOLOGY_LICENSING  SUBMITTED
//	BOS-0002  Immunosuppressant                  US LIFE_SCIENCES_HEALTH TRL 5 INVESTMENT            SUBMITTED
type findEnv struct {
	tc                *testCluster
	leader, follower  *Node
	hq, bos, muc, yrd string
	prd               string
	created           map[string]*timestamppb.Timestamp
	order             []string // the leads in the order they were submitted
	translated        *innonetpb.Lead
}

func newFindEnv(t *testing.T) *findEnv {
	t.Helper()
	tc := newTestCluster(t, []string{"CGO", "BOS"}, nil)
	e := &findEnv{tc: tc, created: map[string]*timestamppb.Timestamp{}}
	e.hq = tc.addUser("Hui Reviewer", innonetpb.Role_HQ_REVIEWER, "", "")
	e.bos = tc.addUser("Beth Boston", innonetpb.Role_NODE_STAFF, "BOS", "")
	e.muc = tc.addUser("Max Müller", innonetpb.Role_NODE_STAFF, "MUC", "")
	e.yrd = tc.addUser("Yang Delta", innonetpb.Role_DIVISION, "", "YRD")
	e.prd = tc.addUser("Pearl Delta", innonetpb.Role_DIVISION, "", "PRD")
	e.leader, e.follower = tc.leaderNode(), tc.follower(false)
	tc.waitFor("the cluster runs log format 2", func() bool { return tc.leaderNode().State().Format() >= pipeline.Format2 })
	submit := func(tok string, r *innonetpb.SubmitLeadRequest) string {
		c := tc.clients(e.leader, tok)
		r.RequestId = rid()
		l, err := c.leads.SubmitLead(c.ctx(t), r)
		if err != nil {
			t.Fatalf("submit %q: %v", r.Title, err)
		}
		e.created[l.Id] = l.CreateTime
		e.order = append(e.order, l.Id)
		return l.Id
	}
	submit(e.bos, &innonetpb.SubmitLeadRequest{Title: "Hydrogen storage for trucks", Summary: "Metal hydride tanks.",
		Organization: "Hydrogenics Inc.", Country: "US", Sector: innonetpb.Sector_NEW_ENERGY_VEHICLES, Trl: 6,
		DealType: innonetpb.DealType_INVESTMENT, Tags: []string{"hydrogen"}, Language: "en"})
	submit(e.muc, &innonetpb.SubmitLeadRequest{Title: "Wasserstoffspeicher für Lkw", Summary: "Metallhydrid-Tanks für schwere Nutzfahrzeuge.",
		Organization: "Technische Universität München", Country: "DE", Sector: innonetpb.Sector_NEW_ENERGY_VEHICLES, Trl: 4,
		DealType: innonetpb.DealType_RND_COLLABORATION, Language: "de"})
	submit(e.muc, &innonetpb.SubmitLeadRequest{Title: "KI-Diagnostik für die Bildgebung", Summary: "Tumorerkennung in MRT-Bildern.",
		Organization: "Klinikum rechts der Isar", Country: "DE", Sector: innonetpb.Sector_IT_AI, Trl: 7,
		DealType: innonetpb.DealType_TECHNOLOGY_LICENSING, Language: "de"})
	submit(e.bos, &innonetpb.SubmitLeadRequest{Title: "Immunosuppressant", Summary: "Phase II, oral.",
		Organization: "Longwood Bio", Country: "US", Sector: innonetpb.Sector_LIFE_SCIENCES_HEALTH, Trl: 5,
		DealType: innonetpb.DealType_INVESTMENT})
	hq, yrd := tc.clients(e.leader, e.hq), tc.clients(e.leader, e.yrd)
	for _, id := range []string{"BOS-0001", "MUC-0001"} {
		if _, err := hq.leads.ReviewLead(hq.ctx(t), &innonetpb.ReviewLeadRequest{Id: id, RequestId: rid(), Decision: innonetpb.Decision_APPROVE}); err != nil {
			t.Fatalf("approve %s: %v", id, err)
		}
	}
	if _, err := yrd.leads.ClaimLead(yrd.ctx(t), &innonetpb.ClaimLeadRequest{Id: "MUC-0001", RequestId: rid()}); err != nil {
		t.Fatalf("claim: %v", err)
	}
	l, err := hq.leads.TranslateLead(hq.ctx(t), &innonetpb.TranslateLeadRequest{Id: "MUC-0001", Lang: "zh", RequestId: rid(),
		Title: "重型卡车储氢罐", Summary: "用于重型商用车的金属氢化物储氢罐。", Status: innonetpb.TranslationStatus_DRAFT})
	if err != nil {
		t.Fatalf("translate: %v", err)
	}
	e.translated = l
	return e
}

func leadIDsOf(leads []*innonetpb.Lead) []string {
	out := []string{}
	for _, l := range leads {
		out = append(out, l.Id)
	}
	return out
}

// list lists through site n as the user with token tok, following every
// page.
func (e *findEnv) list(t *testing.T, n *Node, tok string, r *innonetpb.ListLeadsRequest) []string {
	t.Helper()
	c := e.tc.clients(n, tok)
	var out []string
	for pages := 0; ; pages++ {
		resp, err := c.leads.ListLeads(c.ctx(t), r)
		if err != nil {
			t.Fatalf("list %v: %v", r, err)
		}
		out = append(out, leadIDsOf(resp.Leads)...)
		if resp.NextPageToken == "" || pages > 20 {
			return out
		}
		r.PageToken = resp.NextPageToken
	}
}

func TestListLeadsFilters(t *testing.T) {
	e := newFindEnv(t)
	at := func(id string) *timestamppb.Timestamp { return e.created[id] }
	tests := []struct {
		name string
		tok  string
		req  *innonetpb.ListLeadsRequest
		want []string
	}{
		{"everything, by ID", e.hq, &innonetpb.ListLeadsRequest{}, []string{"BOS-0001", "BOS-0002", "MUC-0001", "MUC-0002"}},
		{"sector", e.hq, &innonetpb.ListLeadsRequest{Sector: innonetpb.Sector_NEW_ENERGY_VEHICLES}, []string{"BOS-0001", "MUC-0001"}},
		{"country, any case", e.hq, &innonetpb.ListLeadsRequest{Country: "de"}, []string{"MUC-0001", "MUC-0002"}},
		{"deal type", e.hq, &innonetpb.ListLeadsRequest{DealType: innonetpb.DealType_INVESTMENT}, []string{"BOS-0001", "BOS-0002"}},
		{"TRL from", e.hq, &innonetpb.ListLeadsRequest{TrlMin: 5}, []string{"BOS-0001", "BOS-0002", "MUC-0002"}},
		{"TRL range", e.hq, &innonetpb.ListLeadsRequest{TrlMin: 5, TrlMax: 6}, []string{"BOS-0001", "BOS-0002"}},
		{"stages", e.hq, &innonetpb.ListLeadsRequest{Stage: []innonetpb.Stage{innonetpb.Stage_CLAIMED, innonetpb.Stage_APPROVED}},
			[]string{"BOS-0001", "MUC-0001"}},
		{"site and stage", e.hq, &innonetpb.ListLeadsRequest{Site: "muc", Stage: []innonetpb.Stage{innonetpb.Stage_SUBMITTED}}, []string{"MUC-0002"}},
		{"division", e.hq, &innonetpb.ListLeadsRequest{Division: "yrd"}, []string{"MUC-0001"}},
		{"organisation, folded", e.hq, &innonetpb.ListLeadsRequest{Organization: "MÜNCHEN"}, []string{"MUC-0001"}},
		{"q, a word's start", e.hq, &innonetpb.ListLeadsRequest{Q: "hydro"}, []string{"BOS-0001"}},
		{"q, every word", e.hq, &innonetpb.ListLeadsRequest{Q: "Hydrogen TRUCKS"}, []string{"BOS-0001"}},
		{"q, German", e.hq, &innonetpb.ListLeadsRequest{Q: "wasserstoff lkw"}, []string{"MUC-0001"}},
		{"q, inside a compound: no", e.hq, &innonetpb.ListLeadsRequest{Q: "speicher"}, nil},
		{"q, Chinese in a translation", e.hq, &innonetpb.ListLeadsRequest{Q: "储氢"}, []string{"MUC-0001"}},
		{"q, Chinese, nothing", e.hq, &innonetpb.ListLeadsRequest{Q: "电池"}, nil},
		{"submitted from", e.hq, &innonetpb.ListLeadsRequest{SubmittedAfter: at("MUC-0002")}, []string{"BOS-0002", "MUC-0002"}},
		{"submitted before", e.hq, &innonetpb.ListLeadsRequest{SubmittedBefore: at("MUC-0002")}, []string{"BOS-0001", "MUC-0001"}},
		{"updated from", e.hq, &innonetpb.ListLeadsRequest{UpdatedAfter: e.translated.UpdateTime}, []string{"MUC-0001"}},
		{"by creation", e.hq, &innonetpb.ListLeadsRequest{OrderBy: "createTime"}, e.order},
		{"by creation, newest first", e.hq, &innonetpb.ListLeadsRequest{OrderBy: "-create_time", PageSize: 1},
			[]string{"BOS-0002", "MUC-0002", "MUC-0001", "BOS-0001"}},
		{"by last change, newest first, a page each", e.hq, &innonetpb.ListLeadsRequest{OrderBy: "-updateTime", PageSize: 1},
			[]string{"MUC-0001", "BOS-0001", "BOS-0002", "MUC-0002"}},
		{"by stage time", e.hq, &innonetpb.ListLeadsRequest{OrderBy: "stageTime", Stage: []innonetpb.Stage{innonetpb.Stage_APPROVED, innonetpb.Stage_CLAIMED}},
			[]string{"BOS-0001", "MUC-0001"}},
		{"node staff: their site", e.bos, &innonetpb.ListLeadsRequest{OrderBy: "-id"}, []string{"BOS-0002", "BOS-0001"}},
		{"node staff: another site is empty", e.bos, &innonetpb.ListLeadsRequest{Site: "MUC"}, nil},
		{"division: published only", e.prd, &innonetpb.ListLeadsRequest{PageSize: 1}, []string{"BOS-0001", "MUC-0001"}},
		{"division: q", e.prd, &innonetpb.ListLeadsRequest{Q: "KI"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, n := range []*Node{e.leader, e.follower} {
				req := proto.Clone(tt.req).(*innonetpb.ListLeadsRequest)
				got := e.list(t, n, tt.tok, req)
				if len(got) == 0 && len(tt.want) == 0 {
					continue
				}
				if !slices.Equal(got, tt.want) {
					t.Errorf("through %s: got %v, want %v", n.cfg.Site, got, tt.want)
				}
			}
		})
	}

	t.Run("a page token from a follower's stale read works on the leader", func(t *testing.T) {
		c := e.tc.clients(e.follower, e.hq)
		e.tc.waitFor("the follower has the translation", func() bool {
			l, err := e.follower.State().Lead("MUC-0001")
			return err == nil && len(l.Translations) == 1
		})
		resp, err := c.leads.ListLeads(c.ctx(t), &innonetpb.ListLeadsRequest{OrderBy: "-updateTime", PageSize: 2,
			Consistency: innonetpb.Consistency_STALE})
		if err != nil || resp.NextPageToken == "" || resp.Partial {
			t.Fatalf("first page: %v %v", resp, err)
		}
		got := e.list(t, e.leader, e.hq, &innonetpb.ListLeadsRequest{OrderBy: "-updateTime", PageSize: 2, PageToken: resp.NextPageToken})
		if want := []string{"BOS-0002", "MUC-0002"}; !slices.Equal(got, want) {
			t.Errorf("second page: %v, want %v", got, want)
		}
	})

	t.Run("lang", func(t *testing.T) {
		c := e.tc.clients(e.leader, e.yrd)
		resp, err := c.leads.ListLeads(c.ctx(t), &innonetpb.ListLeadsRequest{Lang: "zh-CN"})
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range resp.Leads {
			if l.SectorLabel == "" || l.DealTypeLabel == "" {
				t.Errorf("%s: no glossary labels in zh: %q %q", l.Id, l.SectorLabel, l.DealTypeLabel)
			}
			switch l.Id {
			case "MUC-0001":
				tr := l.Translation
				if tr == nil || tr.Lang != "zh" || tr.Title != "重型卡车储氢罐" || tr.Status != innonetpb.TranslationStatus_DRAFT ||
					tr.TranslatedByName != "Hui Reviewer" || tr.Outdated || l.Title != "Wasserstoffspeicher für Lkw" ||
					l.SectorLabel != "新能源与智能网联汽车" {
					t.Errorf("MUC-0001 in zh: %v", l)
				}
			default:
				if l.Translation != nil {
					t.Errorf("%s has a translation: %v", l.Id, l.Translation)
				}
			}
		}
	})
}

func TestListLeadsRefusesBadFilters(t *testing.T) {
	tc := newTestCluster(t, []string{"CGO"}, nil)
	hq := tc.clients(tc.leaderNode(), tc.addUser("Hui", innonetpb.Role_HQ_REVIEWER, "", ""))
	ts := func(s string) *timestamppb.Timestamp {
		v, _ := time.Parse(time.RFC3339, s)
		return timestamppb.New(v)
	}
	token := func(r *innonetpb.ListLeadsRequest) string {
		q, err := parseListQuery(r)
		if err != nil {
			t.Fatal(err)
		}
		return q.token(pipeline.IDPosition("BOS-0001"))
	}
	withUnknown := &innonetpb.ListLeadsRequest{Site: "BOS"}
	withUnknown.ProtoReflect().SetUnknown(protowire.AppendVarint(protowire.AppendTag(nil, 99, protowire.VarintType), 1))
	for _, tt := range []struct {
		name string
		req  *innonetpb.ListLeadsRequest
		want []string
	}{
		{"stage unspecified", &innonetpb.ListLeadsRequest{Stage: []innonetpb.Stage{0}}, []string{"stage", "SUBMITTED, APPROVED"}},
		{"stage unknown", &innonetpb.ListLeadsRequest{Stage: []innonetpb.Stage{innonetpb.Stage_APPROVED, 42}}, []string{"stage", "42"}},
		{"sector unknown", &innonetpb.ListLeadsRequest{Sector: 99}, []string{"sector", "IT_AI"}},
		{"site", &innonetpb.ListLeadsRequest{Site: "B0S"}, []string{"site", "B0S"}},
		{"division", &innonetpb.ListLeadsRequest{Division: "North"}, []string{"division", "BOHAI, YRD, PRD"}},
		{"country", &innonetpb.ListLeadsRequest{Country: "XX"}, []string{"country", "ISO 3166-1"}},
		{"TRL", &innonetpb.ListLeadsRequest{TrlMax: 10}, []string{"trlMax", "1 to 9"}},
		{"TRL range", &innonetpb.ListLeadsRequest{TrlMin: 7, TrlMax: 3}, []string{"trlMin", "trlMax"}},
		{"times", &innonetpb.ListLeadsRequest{SubmittedAfter: ts("2026-02-01T00:00:00Z"), SubmittedBefore: ts("2026-01-01T00:00:00Z")},
			[]string{"submittedAfter", "submittedBefore"}},
		{"q without words", &innonetpb.ListLeadsRequest{Q: "?!"}, []string{"q", "letter or digit"}},
		{"q too long", &innonetpb.ListLeadsRequest{Q: strings.Repeat("氢", 201)}, []string{"q", "200"}},
		{"organisation", &innonetpb.ListLeadsRequest{Organization: "a\tb"}, []string{"organization", "control"}},
		{"order", &innonetpb.ListLeadsRequest{OrderBy: "priority"}, []string{"orderBy", "updateTime, createTime, stageTime, id"}},
		{"lang", &innonetpb.ListLeadsRequest{Lang: "chinese!"}, []string{"lang", "BCP 47"}},
		{"page token", &innonetpb.ListLeadsRequest{PageToken: "!!"}, []string{"page_token"}},
		{"page token of another query", &innonetpb.ListLeadsRequest{Site: "CBG", OrderBy: "-id", PageToken: token(&innonetpb.ListLeadsRequest{Site: "BOS", OrderBy: "-id"})},
			[]string{"page_token", "another query"}},
		{"page token of another order", &innonetpb.ListLeadsRequest{OrderBy: "-id", PageToken: token(&innonetpb.ListLeadsRequest{OrderBy: "createTime"})},
			[]string{"page_token", "another query"}},
		{"an older ID token in another order", &innonetpb.ListLeadsRequest{OrderBy: "updateTime", PageToken: "Qk9TLTAwMDE"},
			[]string{"page_token"}},
		{"a field this site does not know", withUnknown, []string{"ListLeadsRequest", "99"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := hq.leads.ListLeads(hq.ctx(t), tt.req)
			checkStatus(t, err, codes.InvalidArgument, tt.want...)
		})
	}
	// In ID order, the default, a token is of the earlier form (a lead
	// ID), which sites of the earlier version read too.
	if _, err := hq.leads.ListLeads(hq.ctx(t), &innonetpb.ListLeadsRequest{PageToken: "Qk9TLTAwMDE"}); err != nil {
		t.Errorf("an ID page token: %v", err)
	}
	if got := token(&innonetpb.ListLeadsRequest{Site: "BOS"}); got != "Qk9TLTAwMDE" {
		t.Errorf("a token in ID order = %q, want base64url of BOS-0001", got)
	}
}

func TestTranslateLeadAPI(t *testing.T) {
	e := newFindEnv(t)
	muc, hq, yrd := e.tc.clients(e.follower, e.muc), e.tc.clients(e.follower, e.hq), e.tc.clients(e.follower, e.yrd)
	translate := func(c testClients, id, lang, title string, st innonetpb.TranslationStatus) (*innonetpb.Lead, error) {
		return c.leads.TranslateLead(c.ctx(t), &innonetpb.TranslateLeadRequest{Id: id, Lang: lang, RequestId: rid(), Title: title, Status: st})
	}
	// Munich drafts a Chinese title for its submitted lead, through a
	// follower; the answer carries the translation, marked.
	l, err := translate(muc, "MUC-0002", "ZH-hans", "影像AI诊断", innonetpb.TranslationStatus_DRAFT)
	if err != nil {
		t.Fatal(err)
	}
	if tr := l.Translation; tr == nil || tr.Lang != "zh-Hans" || tr.Status != innonetpb.TranslationStatus_DRAFT ||
		tr.TranslatedByName != "Max Müller" || !slices.Equal(tr.Fields, []string{"title"}) || l.Title != "KI-Diagnostik für die Bildgebung" {
		t.Fatalf("translated lead: %v", l)
	}
	if len(l.Translations) != 1 || l.Translations[0].Title != "" || l.Translations[0].Lang != "zh-Hans" {
		t.Errorf("translations list: %v", l.Translations)
	}
	_, err = translate(muc, "MUC-0002", "zh-Hans", "影像AI诊断", innonetpb.TranslationStatus_VERIFIED)
	checkStatus(t, err, codes.PermissionDenied, "verified by HQ or by someone else")
	_, err = translate(yrd, "MUC-0002", "en", "AI diagnostics for imaging", innonetpb.TranslationStatus_DRAFT)
	checkStatus(t, err, codes.PermissionDenied, "may not see lead MUC-0002")
	_, err = translate(muc, "MUC-0002", "de", "KI", innonetpb.TranslationStatus_DRAFT)
	checkStatus(t, err, codes.FailedPrecondition, "written in de")
	_, err = translate(muc, "MUC-0002", "", "KI", innonetpb.TranslationStatus_DRAFT)
	checkStatus(t, err, codes.InvalidArgument, "lang")
	_, err = translate(muc, "MUC-0002", "zh", "KI", innonetpb.TranslationStatus_TRANSLATION_STATUS_UNSPECIFIED)
	checkStatus(t, err, codes.InvalidArgument, "status", "DRAFT or VERIFIED")
	l, err = translate(hq, "MUC-0002", "zh-hans", "影像AI诊断", innonetpb.TranslationStatus_VERIFIED)
	if err != nil {
		t.Fatal(err)
	}
	if tr := l.Translation; tr.Status != innonetpb.TranslationStatus_VERIFIED || tr.VerifiedByName != "Hui Reviewer" || tr.TranslatedByName != "Max Müller" {
		t.Errorf("verified: %v", tr)
	}
	// Reading in Chinese finds it; editing the original marks it outdated.
	got, err := muc.leads.GetLead(muc.ctx(t), &innonetpb.GetLeadRequest{Id: "MUC-0002", Lang: "zh"})
	if err != nil || got.Translation == nil || got.Translation.Title != "影像AI诊断" || got.SectorLabel != "信息技术与人工智能" {
		t.Fatalf("GetLead lang=zh: %v %v", got, err)
	}
	if _, err := muc.leads.UpdateLead(muc.ctx(t), &innonetpb.UpdateLeadRequest{Id: "MUC-0002", RequestId: rid(), Title: new("KI-Diagnostik für MRT")}); err != nil {
		t.Fatal(err)
	}
	got, err = muc.leads.GetLead(muc.ctx(t), &innonetpb.GetLeadRequest{Id: "MUC-0002", Lang: "zh-Hans"})
	if err != nil || !got.Translation.Outdated || got.Translations[0].Status != innonetpb.TranslationStatus_VERIFIED {
		t.Errorf("after the edit: %v %v", got, err)
	}
	got, err = muc.leads.GetLead(muc.ctx(t), &innonetpb.GetLeadRequest{Id: "MUC-0002", Lang: "he"})
	if err != nil || got.Translation != nil || got.SectorLabel != "טכנולוגיית מידע ובינה מלאכותית" {
		t.Errorf("in Hebrew: %v %v", got, err)
	}
	_, err = muc.leads.GetLead(muc.ctx(t), &innonetpb.GetLeadRequest{Id: "MUC-0002", Lang: "x"})
	checkStatus(t, err, codes.InvalidArgument, "lang")
	h, err := muc.leads.GetLeadHistory(muc.ctx(t), &innonetpb.GetLeadHistoryRequest{Id: "MUC-0002"})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, ev := range h.Events {
		actions = append(actions, ev.Action)
	}
	if want := []string{"SUBMIT", "TRANSLATE", "VERIFY_TRANSLATION", "UPDATE"}; !slices.Equal(actions, want) {
		t.Errorf("history: %v, want %v", actions, want)
	}
}

func TestGlossaryAPI(t *testing.T) {
	tc := newTestCluster(t, []string{"CGO"}, nil)
	tc.waitFor("the cluster runs log format 2", func() bool { return tc.leaderNode().State().Format() >= pipeline.Format2 })
	hq := tc.clients(tc.leaderNode(), tc.addUser("Hui", innonetpb.Role_HQ_REVIEWER, "", ""))
	staff := tc.clients(tc.leaderNode(), tc.addUser("Beth", innonetpb.Role_NODE_STAFF, "BOS", ""))
	list, err := staff.leads.ListGlossary(staff.ctx(t), &innonetpb.ListGlossaryRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Terms) != 13 || list.Read == nil || list.Read.Site != "CGO" {
		t.Fatalf("glossary: %d terms, read %v", len(list.Terms), list.Read)
	}
	for _, term := range list.Terms {
		if !term.BuiltIn || len(term.Names) != 4 || term.Names["zh"] == "" || term.Names["he"] == "" {
			t.Errorf("built-in term %v", term)
		}
	}
	set := func(c testClients, term string, names map[string]string) (*innonetpb.GlossaryTerm, error) {
		return c.leads.SetGlossaryTerm(c.ctx(t), &innonetpb.SetGlossaryTermRequest{Term: term, RequestId: rid(), Names: names})
	}
	got, err := set(hq, "hydrogen", map[string]string{"zh": "氢能", "EN": "Hydrogen", "de": "Wasserstoff", "he": "מימן"})
	if err != nil {
		t.Fatal(err)
	}
	if got.Names["en"] != "Hydrogen" || got.BuiltIn || got.UpdatedByName != "Hui" || got.UpdateTime == nil {
		t.Errorf("set hydrogen: %v", got)
	}
	_, err = set(staff, "hydrogen", map[string]string{"en": "H2"})
	checkStatus(t, err, codes.PermissionDenied, "HQ_REVIEWER")
	_, err = set(hq, "Hydrogen Power", map[string]string{"en": "x"})
	checkStatus(t, err, codes.InvalidArgument, "term")
	_, err = set(hq, "h2", map[string]string{"en": "x", "EN": "y"})
	checkStatus(t, err, codes.InvalidArgument, "names", "twice")
	_, err = set(hq, "h2", nil)
	checkStatus(t, err, codes.InvalidArgument, "names")
	del := func(term, id string) (*innonetpb.GlossaryTerm, error) {
		return hq.leads.DeleteGlossaryTerm(hq.ctx(t), &innonetpb.DeleteGlossaryTermRequest{Term: term, RequestId: id})
	}
	if got, err := del("hydrogen", "del-1"); err != nil || len(got.Names) != 0 {
		t.Errorf("delete hydrogen: %v %v", got, err)
	}
	if got, err := del("hydrogen", "del-1"); err != nil || got.Term != "hydrogen" {
		t.Errorf("delete retried: %v %v", got, err)
	}
	_, err = del("hydrogen", rid())
	checkStatus(t, err, codes.NotFound, "hydrogen")
	_, err = del("sector.it_ai", "")
	checkStatus(t, err, codes.InvalidArgument, "request_id")
}

// TestRESTQueryParameters: over REST an unknown parameter, a repeated
// one, or a value a field cannot take is 400 naming it; enum values are
// read in any case and with or without their prefix.
func TestRESTQueryParameters(t *testing.T) {
	e := newFindEnv(t)
	rc := newRESTClient(e.follower)
	listIDs := func(query string) []string {
		t.Helper()
		out := rc.ok(t, "GET", "/v1/leads?"+query, e.hq, nil)
		var got []string
		for _, l := range out["leads"].([]any) {
			got = append(got, field(l.(map[string]any), "id"))
		}
		return got
	}
	for _, tt := range []struct {
		query string
		want  []string
	}{
		{"sector=it_ai", []string{"MUC-0002"}},
		{"sector=SECTOR_IT_AI", []string{"MUC-0002"}},
		{"sector=It-Ai&country=de", []string{"MUC-0002"}},
		{"stage=approved&stage=CLAIMED", []string{"BOS-0001", "MUC-0001"}},
		{"stage=stage_submitted&site=bos", []string{"BOS-0002"}},
		{"dealType=investment&trlMin=6", []string{"BOS-0001"}},
		{"deal_type=DEAL_TYPE_INVESTMENT&trl_max=5", []string{"BOS-0002"}},
		{"q=" + url.QueryEscape("储氢"), []string{"MUC-0001"}},
		{"q=hydrogen&orderBy=-updateTime", []string{"BOS-0001"}},
		{"organization=klinikum", []string{"MUC-0002"}},
		{"submittedAfter=2000-01-01&submittedBefore=2100-01-01T00:00:00Z&orderBy=createTime", e.order},
		{"updatedAfter=2100-01-01", nil},
		{"division=YRD&consistency=STALE&maxStaleness=5s", []string{"MUC-0001"}},
		{"pageSize=500&orderBy=id", []string{"BOS-0001", "BOS-0002", "MUC-0001", "MUC-0002"}},
	} {
		if got := listIDs(tt.query); !slices.Equal(got, tt.want) {
			t.Errorf("GET /v1/leads?%s: got %v, want %v", tt.query, got, tt.want)
		}
	}
	for _, tt := range []struct {
		method, path string
		body         any
		want         []string
	}{
		{"GET", "/v1/leads?trl=5", nil, []string{`unknown query parameter "trl"`, "trlMin", "trlMax", "submittedAfter", "orderBy"}},
		{"GET", "/v1/leads?since=2026-01-01&hq=1", nil, []string{`unknown query parameters "hq", "since"`}},
		{"GET", "/v1/leads?sector=robots", nil, []string{"sector", `"robots"`, "LIFE_SCIENCES_HEALTH", "IT_AI", "OTHER", "SECTOR_ prefix"}},
		{"GET", "/v1/leads?stage=submitted&stage=closed", nil, []string{"stage", `"closed"`, "SUBMITTED, APPROVED, RETURNED"}},
		{"GET", "/v1/leads?dealType=buyout", nil, []string{"dealType", "deal type", "RND_COLLABORATION"}},
		{"GET", "/v1/leads?stage=STAGE_UNSPECIFIED", nil, []string{"stage", "STAGE_UNSPECIFIED"}},
		{"GET", "/v1/leads?trlMin=abc", nil, []string{"trlMin", "whole number"}},
		{"GET", "/v1/leads?trlMin=12", nil, []string{"trlMin", "1 to 9"}},
		{"GET", "/v1/leads?submittedAfter=yesterday", nil, []string{"submittedAfter", "2026-01-31"}},
		{"GET", "/v1/leads?site=BOS&site=MUC", nil, []string{"site", "2 times"}},
		{"GET", "/v1/leads?orderBy=priority", nil, []string{"orderBy", "updateTime"}},
		{"GET", "/v1/leads?maxStaleness=soon&consistency=STALE", nil, []string{"maxStaleness", "duration"}},
		{"GET", "/v1/leads/MUC-0001?id=BOS-0001", nil, []string{"id", "in the path"}},
		{"GET", "/v1/leads/MUC-0001?language=zh", nil, []string{`unknown query parameter "language"`, "lang"}},
		{"GET", "/v1/leads/MUC-0001/history?since=1", nil, []string{`"since"`}},
		{"GET", "/v1/glossary?lang=zh", nil, []string{`"lang"`, "consistency"}},
		{"POST", "/v1/leads/MUC-0002:review?decision=APPROVE", map[string]any{"requestId": rid(), "decision": "APPROVE"},
			[]string{`unknown query parameter "decision"`, "JSON body"}},
		{"PUT", "/v1/leads/MUC-0002/translations/zh?status=DRAFT", map[string]any{"requestId": rid(), "title": "诊断"},
			[]string{`"status"`, "JSON body"}},
	} {
		code, out := rc.do(t, tt.method, tt.path, e.hq, tt.body)
		if code != http.StatusBadRequest {
			t.Errorf("%s %s: got %d %v, want 400", tt.method, tt.path, code, out)
			continue
		}
		for _, w := range tt.want {
			if msg := field(out, "message"); !strings.Contains(msg, w) {
				t.Errorf("%s %s: message %q lacks %q", tt.method, tt.path, msg, w)
			}
		}
	}
}

// TestRESTTranslationsAndGlossary: the paths of the contract, with curl's
// JSON.
func TestRESTTranslationsAndGlossary(t *testing.T) {
	e := newFindEnv(t)
	rc := newRESTClient(e.leader)
	out := rc.ok(t, "PUT", "/v1/leads/MUC-0002/translations/zh", e.muc,
		`{"requestId":"tr-rest-1","title":"影像AI诊断","summary":"MRT图像中的肿瘤识别。","status":"DRAFT"}`)
	tr := out["translation"].(map[string]any)
	if field(tr, "lang") != "zh" || field(tr, "status") != "DRAFT" || field(tr, "translatedByName") != "Max Müller" ||
		field(out, "title") != "KI-Diagnostik für die Bildgebung" || field(out, "version") != "2" {
		t.Errorf("PUT translation: %v", out)
	}
	code, body := rc.do(t, "PUT", "/v1/leads/MUC-0002/translations/zh", e.muc, `{"requestId":"tr-rest-2","title":"x","status":"DRAFT","by":"me"}`)
	if code != http.StatusBadRequest || !strings.Contains(field(body, "message"), "by") {
		t.Errorf("an unknown field: %d %v", code, body)
	}
	out = rc.ok(t, "GET", "/v1/leads/MUC-0002?lang=zh", e.hq, nil)
	if tr := out["translation"].(map[string]any); field(tr, "title") != "影像AI诊断" || field(out, "sectorLabel") != "信息技术与人工智能" {
		t.Errorf("GET ?lang=zh: %v", out)
	}
	out = rc.ok(t, "GET", "/v1/glossary", e.muc, nil)
	if terms := out["terms"].([]any); len(terms) != 13 || field(terms[0].(map[string]any), "term") != "deal_type.investment" {
		t.Errorf("GET /v1/glossary: %v", out)
	}
	out = rc.ok(t, "PUT", "/v1/glossary/hydrogen", e.hq, `{"requestId":"g-1","names":{"zh":"氢能","en":"Hydrogen","de":"Wasserstoff","he":"מימן"}}`)
	if names := out["names"].(map[string]any); names["zh"] != "氢能" || field(out, "updatedByName") != "Hui Reviewer" {
		t.Errorf("PUT /v1/glossary/hydrogen: %v", out)
	}
	if code, body := rc.do(t, "PUT", "/v1/glossary/hydrogen", e.muc, `{"requestId":"g-2","names":{"en":"H2"}}`); code != http.StatusForbidden {
		t.Errorf("PUT by node staff: %d %v", code, body)
	}
	rc.ok(t, "DELETE", "/v1/glossary/hydrogen?requestId=g-3", e.hq, nil)
	if code, body := rc.do(t, "DELETE", "/v1/glossary/hydrogen?requestId=g-4", e.hq, nil); code != http.StatusNotFound {
		t.Errorf("DELETE again: %d %v", code, body)
	}
}

// TestNewReadFieldsWaitForFormat2: while the cluster runs log format 1 (a
// site may run an older version, the leader too), a site does not forward
// a read whose filters or language an older leader would drop unread.
func TestNewReadFieldsWaitForFormat2(t *testing.T) {
	n := &Node{state: pipeline.New()}
	for _, tt := range []struct {
		req  any
		want string
	}{
		{&innonetpb.ListLeadsRequest{Stage: []innonetpb.Stage{innonetpb.Stage_SUBMITTED}, Site: "BOS", PageSize: 5}, ""},
		{&innonetpb.ListLeadsRequest{Stage: []innonetpb.Stage{innonetpb.Stage_SUBMITTED, innonetpb.Stage_RETURNED}}, "several stages"},
		{&innonetpb.ListLeadsRequest{Sector: innonetpb.Sector_IT_AI}, "these filters"},
		{&innonetpb.ListLeadsRequest{OrderBy: "-updateTime"}, "these filters"},
		{&innonetpb.GetLeadRequest{Id: "BOS-0001"}, ""},
		{&innonetpb.GetLeadRequest{Id: "BOS-0001", Lang: "zh"}, "lang"},
		{&innonetpb.GetLeadHistoryRequest{Id: "BOS-0001"}, ""},
	} {
		err := n.newReadFields(tt.req)
		if tt.want == "" {
			if err != nil {
				t.Errorf("%v: %v", tt.req, err)
			}
			continue
		}
		checkStatus(t, err, codes.FailedPrecondition, tt.want, "log format 1", "STALE")
	}
	data, err := pipeline.Command{Op: pipeline.OpSetFormat, SetFormat: pipeline.Format2, Time: time.Now().UnixNano()}.Encode()
	if err != nil {
		t.Fatal(err)
	}
	n.state.Apply(1, data)
	if err := n.newReadFields(&innonetpb.ListLeadsRequest{Sector: innonetpb.Sector_IT_AI}); err != nil {
		t.Errorf("at format 2: %v", err)
	}
}
