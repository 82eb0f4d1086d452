package search

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"innonet/node/pipeline"
)

// fakeState is a Source of a few leads, changed by the test.
type fakeState struct {
	mu      sync.Mutex
	applied uint64
	leads   map[string]*pipeline.Lead
	orgs    map[string]*pipeline.Organization
}

func newFakeState(leads ...*pipeline.Lead) *fakeState {
	s := &fakeState{leads: map[string]*pipeline.Lead{}, orgs: map[string]*pipeline.Organization{}}
	for _, l := range leads {
		s.leads[l.ID] = l
	}
	s.applied = uint64(len(leads))
	return s
}

func (s *fakeState) AppliedIndex() uint64 { s.mu.Lock(); defer s.mu.Unlock(); return s.applied }
func (s *fakeState) Lead(id string) (*pipeline.Lead, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if l, ok := s.leads[id]; ok {
		return l, nil
	}
	return nil, pipeline.ErrNotFound
}
func (s *fakeState) Organization(id string) (*pipeline.Organization, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if o, ok := s.orgs[id]; ok {
		return o, nil
	}
	return nil, pipeline.ErrNotFound
}
func (s *fakeState) EachLead(fn func(*pipeline.Lead) bool) error {
	s.mu.Lock()
	ids := make([]string, 0, len(s.leads))
	for id := range s.leads {
		ids = append(ids, id)
	}
	s.mu.Unlock()
	slices.Sort(ids)
	for _, id := range ids {
		l, err := s.Lead(id)
		if err == nil && !fn(l) {
			break
		}
	}
	return nil
}
func (s *fakeState) Glossary() ([]*pipeline.GlossaryTerm, error) {
	return []*pipeline.GlossaryTerm{{Term: "qubit", Names: map[string]string{"en": "qubit", "zh": "量子比特"}}}, nil
}

func lead(id, lang, title, summary string, trl int, tags ...string) *pipeline.Lead {
	l := &pipeline.Lead{ID: id, Site: id[:3], Stage: pipeline.Submitted}
	l.Title, l.Summary, l.Language, l.TRL, l.Tags, l.Sector = title, summary, lang, trl, tags, pipeline.Sector(1)
	return l
}

func startIndex(t *testing.T, dir string, src Source) *Index {
	t.Helper()
	x, err := Open(Config{Dir: dir}, src)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); x.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done; x.Close() })
	return x
}

func waitIndexed(t *testing.T, x *Index, index uint64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := x.WaitFor(ctx, index); err != nil {
		t.Fatalf("index at %d, want %d: %v", x.Indexed(), index, err)
	}
}

func ids(t *testing.T, x *Index, q Query) []string {
	t.Helper()
	res, err := x.Search(context.Background(), q)
	if err != nil {
		t.Fatalf("search %q: %v", q.Text, err)
	}
	var out []string
	for _, h := range res.Hits {
		out = append(out, h.ID)
	}
	return out
}

func testLeads() []*pipeline.Lead {
	return []*pipeline.Lead{
		lead("BOS-0001", "en", "Solid hydrogen storage tanks", "Metal hydride tanks store hydrogen for trucks.", 6, "hydrogen", "storage"),
		lead("MUC-0001", "de", "Wasserstoffspeicher für Lkw", "Feststoffspeicher für Wasserstoff.", 4, "Wasserstoff"),
		lead("CGO-0001", "zh", "固态氢能储存", "用于重卡的金属氢化物储氢罐。", 5, "氢能"),
		lead("TLV-0001", "he", "רובוט לניקוי פאנלים סולאריים", "רובוט אוטונומי שמנקה פאנלים.", 7, "רובוטיקה"),
		lead("BOS-0002", "en", "Qubit control chips", "Cryogenic control of many qubits.", 3, "quantum"),
	}
}

func TestSearchAcrossLanguages(t *testing.T) {
	x := startIndex(t, "", newFakeState(testLeads()...))
	waitIndexed(t, x, 5)
	for _, tc := range []struct {
		name string
		q    Query
		want []string // must all be among the hits
		not  []string
	}{
		{"English finds all three hydrogen leads", Query{Text: "hydrogen storage"}, []string{"BOS-0001", "MUC-0001", "CGO-0001"}, []string{"TLV-0001"}},
		{"Chinese", Query{Text: "氢能"}, []string{"BOS-0001", "MUC-0001", "CGO-0001"}, nil},
		{"German word in a compound", Query{Text: "Wasserstoff"}, []string{"MUC-0001", "BOS-0001"}, nil},
		{"Hebrew tokenized", Query{Text: "רובוט"}, []string{"TLV-0001"}, nil},
		{"glossary", Query{Text: "量子比特"}, []string{"BOS-0002"}, nil},
		{"TRL filter", Query{Text: "hydrogen", TRLMin: 5}, []string{"BOS-0001", "CGO-0001"}, []string{"MUC-0001"}},
		{"TRL at most", Query{Text: "hydrogen", TRLMax: 4}, []string{"MUC-0001"}, []string{"BOS-0001", "CGO-0001"}},
		{"TRL range of one level", Query{Text: "hydrogen", TRLMin: 5, TRLMax: 5}, []string{"CGO-0001"}, []string{"BOS-0001", "MUC-0001"}},
		{"TRL range that is empty", Query{Text: "hydrogen", TRLMin: 6, TRLMax: 5}, nil, []string{"BOS-0001", "MUC-0001", "CGO-0001"}},
		{"site filter", Query{Text: "hydrogen", Site: "MUC"}, []string{"MUC-0001"}, []string{"BOS-0001"}},
		{"stemming", Query{Text: "tank"}, []string{"BOS-0001"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := ids(t, x, tc.q)
			for _, w := range tc.want {
				if !slices.Contains(got, w) {
					t.Errorf("hits %v, want %s among them", got, w)
				}
			}
			for _, w := range tc.not {
				if slices.Contains(got, w) {
					t.Errorf("hits %v, want no %s", got, w)
				}
			}
		})
	}
}

func TestHighlights(t *testing.T) {
	src := newFakeState(testLeads()...)
	x := startIndex(t, "", src)
	waitIndexed(t, x, 5)
	res, err := x.Search(context.Background(), Query{Text: "固态 <b>"})
	if err != nil || len(res.Hits) == 0 {
		t.Fatalf("search: %v, %d hits", err, len(res.Hits))
	}
	l, _ := src.Lead(res.Hits[0].ID)
	hl := x.Highlights(res.Hits[0], l)
	if len(hl) == 0 {
		t.Fatalf("no highlights for %s", res.Hits[0].ID)
	}
	h := hl[0]
	r := []rune(h.Text)
	if h.Field != "title" || len(h.Marks) == 0 || string(r[h.Marks[0].Start:h.Marks[0].End]) != "固态" {
		t.Errorf("highlight %+v, want the title with 固态 marked", h)
	}
}

// The index on disk keeps no positions: the highlights of a page of hits
// come from the leads as the state holds them, with the marks of the
// words typed, of the names the query was widened with and of compounds
// that begin with a word typed, whatever the filters.
func TestHighlightsOfAnIndexOnDisk(t *testing.T) {
	src := newFakeState(testLeads()...)
	x := startIndex(t, t.TempDir(), src)
	waitIndexed(t, x, 5)
	marked := func(q Query, id string) []string {
		t.Helper()
		res, err := x.Search(context.Background(), q)
		if err != nil {
			t.Fatalf("search %q: %v", q.Text, err)
		}
		for _, h := range res.Hits {
			if h.ID != id {
				continue
			}
			l, _ := src.Lead(id)
			var out []string
			for _, hl := range x.Highlights(h, l) {
				r := []rune(hl.Text)
				for _, m := range hl.Marks {
					out = append(out, hl.Field+":"+string(r[m.Start:m.End]))
				}
			}
			return out
		}
		t.Fatalf("search %q: %s not among the hits", q.Text, id)
		return nil
	}
	if got := marked(Query{Text: "hydrogen", TRLMin: 5}, "BOS-0001"); !slices.Contains(got, "title:hydrogen") {
		t.Errorf("hydrogen in BOS-0001: marks %q, want title:hydrogen", got)
	}
	if got := marked(Query{Text: "Wasserstoff"}, "MUC-0001"); !slices.Contains(got, "title:Wasserstoffspeicher") {
		t.Errorf("Wasserstoff in MUC-0001: marks %q, want the compound of the title marked", got)
	}
	if got := marked(Query{Text: "氢能"}, "BOS-0001"); !slices.Contains(got, "title:hydrogen") {
		t.Errorf("氢能 in BOS-0001: marks %q, want the English name it was widened with", got)
	}
	// A lead changed since it was indexed is marked in its text now.
	src.mu.Lock()
	l := *src.leads["BOS-0001"]
	l.Title = "Hydrogen tanks of metal hydride"
	src.leads["BOS-0001"] = &l
	src.mu.Unlock()
	if got := marked(Query{Text: "hydride"}, "BOS-0001"); !slices.Contains(got, "title:hydride") {
		t.Errorf("hydride in the changed BOS-0001: marks %q, want title:hydride", got)
	}
}

func TestFollowsAndPersists(t *testing.T) {
	dir := t.TempDir()
	src := newFakeState(testLeads()...)
	x, err := Open(Config{Dir: dir}, src)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); x.Run(ctx) }()
	waitIndexed(t, x, 5)
	src.mu.Lock()
	src.leads["BOS-0003"] = lead("BOS-0003", "en", "Sodium-ion cells", "Cheap cells.", 5)
	src.applied = 6
	src.mu.Unlock()
	x.Applied(6, "BOS-0003")
	waitIndexed(t, x, 6)
	if got := ids(t, x, Query{Text: "sodium"}); !slices.Equal(got, []string{"BOS-0003"}) {
		t.Errorf("hits %v, want BOS-0003", got)
	}
	cancel()
	<-done
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}

	// Writes are not synced (the index is derived data): the reopened
	// index holds what reached the disk, at least the first batch, and
	// compares the rest with the state.
	again := startIndex(t, dir, src)
	if got := again.Indexed(); got < 5 {
		t.Errorf("reopened index at %d, want at least 5", got)
	}
	waitIndexed(t, again, 6)
	if got := ids(t, again, Query{Text: "sodium"}); !slices.Equal(got, []string{"BOS-0003"}) {
		t.Errorf("reopened: hits %v, want BOS-0003", got)
	}
}

func TestParseText(t *testing.T) {
	for _, tc := range []struct {
		in, rest string
		lo, hi   int
	}{
		{"solid-state battery TRL 6+", "solid-state battery", 6, 0},
		{"TRL 4-6 robots", "robots", 4, 6},
		{"trl>=7 lidar", "lidar", 7, 0},
		{"lidar", "lidar", 0, 0},
	} {
		rest, lo, hi := ParseText(tc.in)
		if rest != tc.rest || lo != tc.lo || hi != tc.hi {
			t.Errorf("ParseText(%q) = %q, %d, %d; want %q, %d, %d", tc.in, rest, lo, hi, tc.rest, tc.lo, tc.hi)
		}
	}
}

func TestHebrewPrefixes(t *testing.T) {
	x := startIndex(t, "", newFakeState(
		lead("TLV-0001", "he", "אחסון מימן מוצק", "מיכלים לאחסון מימן לרכבים.", 5),
		lead("TLV-0002", "he", "רחפן לבדיקת קווי מתח", "הרחפן מצלם את הקווים.", 6),
		lead("TLV-0003", "he", "טיפול במים", "מערכת לטיהור מים.", 4),
		lead("TLV-0004", "he", "מערכת ניווט", "ניווט בלי לוויין.", 3),
	))
	waitIndexed(t, x, 4)
	for _, tc := range []struct {
		q    string
		want string
	}{
		{"המימן", "TLV-0001"},   // the + a known word
		{"ובמימן", "TLV-0001"},  // and + in + a known word
		{"לרחפן", "TLV-0002"},   // to + a word long enough
		{"מים", "TLV-0003"},     // too short to strip: water, not "from sea"
		{"והניווט", "TLV-0004"}, // a word the lexicon does not know
	} {
		t.Run(tc.q, func(t *testing.T) {
			got := ids(t, x, Query{Text: tc.q})
			if len(got) == 0 || got[0] != tc.want {
				t.Errorf("hits %v, want %s first", got, tc.want)
			}
		})
	}
	for _, tc := range []struct {
		w    string
		want []string
	}{
		{"המימן", []string{"מימן"}},
		{"ובמימן", []string{"במימן", "מימן"}},
		{"מימן", nil},
		{"מים", nil},
		{"שבב", nil},
	} {
		if got := hebrewStems(tc.w); !slices.Equal(got, tc.want) {
			t.Errorf("hebrewStems(%q) = %q, want %q", tc.w, got, tc.want)
		}
	}
}

// cancelingState ends a context as the index reads its second lead.
type cancelingState struct {
	*fakeState
	cancel func()
	read   int
}

func (s *cancelingState) EachLead(fn func(*pipeline.Lead) bool) error {
	return s.fakeState.EachLead(func(l *pipeline.Lead) bool {
		if s.read++; s.read == 2 {
			s.cancel()
		}
		return fn(l)
	})
}

// TestRereadStopsWithItsContext: a site told to stop while its index
// reads every lead of a large state (after a restore) stops reading.
func TestRereadStopsWithItsContext(t *testing.T) {
	src := &cancelingState{fakeState: newFakeState(testLeads()...)}
	x, err := Open(Config{Dir: t.TempDir()}, src)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	ctx, cancel := context.WithCancel(context.Background())
	src.cancel = cancel
	done := make(chan struct{})
	go func() { defer close(done); x.Run(ctx) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		cancel()
		t.Fatal("Run did not return within 10 s of its context's end")
	}
	if src.read != 2 {
		t.Errorf("the reread read %d of 5 leads, want it to stop at the second, when its context ended", src.read)
	}
}
