package dedup

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
)

func ids(cs []Candidate) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.ID)
	}
	return out
}

// The tests index at least three leads: with fewer, every shared feature
// has an IDF near zero.

func TestPutReplaces(t *testing.T) {
	ix := index(t, hydroDE, otherH2, sameOrgOther)
	if got := ix.Check(hydroZH); len(got) == 0 || got[0].ID != "1" || !got[0].Duplicate {
		t.Fatalf("before the edit: Check = %+v, want lead 1 as a duplicate", got)
	}

	// Lead 1 is edited into another product of the same firm.
	edited := sameOrgOther
	edited.ID = "1"
	if err := ix.Put(edited); err != nil {
		t.Fatal(err)
	}
	if got, want := ix.Len(), 3; got != want {
		t.Errorf("Len = %d after replacing, want %d", got, want)
	}
	for _, c := range ix.Check(hydroZH) {
		if c.ID == "1" && c.Duplicate {
			t.Errorf("the old version of lead 1 still answers: %+v", c)
		}
	}
	if got := ix.Check(sameOrgOther); len(got) == 0 || got[0].ID != "1" || !got[0].Duplicate {
		t.Errorf("the new version of lead 1, a copy of lead 4, does not answer: %+v", got)
	}

	// Editing it back restores the first answer exactly.
	if err := ix.Put(hydroDE); err != nil {
		t.Fatal(err)
	}
	if got, want := ix.Check(hydroZH), index(t, hydroDE, otherH2, sameOrgOther).Check(hydroZH); !reflect.DeepEqual(got, want) {
		t.Errorf("after editing back: %+v, want %+v", got, want)
	}
}

func TestPutNew(t *testing.T) {
	ix := New(DefaultConfig())
	if err := ix.Put(Lead{}); err != ErrNoID {
		t.Errorf("Put without id: %v", err)
	}
	for _, l := range []Lead{hydroDE, otherH2, sameOrgOther} {
		if err := ix.Put(l); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := ix.Check(hydroZH), index(t, hydroDE, otherH2, sameOrgOther).Check(hydroZH); !reflect.DeepEqual(got, want) {
		t.Errorf("Check after Put of new leads = %+v, after Add %+v", got, want)
	}
	if err := ix.Add(hydroDE); err == nil {
		t.Error("Add of an ID that Put indexed succeeded")
	}
}

func TestRemove(t *testing.T) {
	ix := index(t, hydroDE, otherH2, sameOrgOther)
	ix.Remove("1")
	ix.Remove("1")       // twice is fine
	ix.Remove("missing") // so is an ID never indexed
	if got, want := ix.Len(), 2; got != want {
		t.Errorf("Len = %d, want %d", got, want)
	}
	if got := ix.Check(hydroZH); slices.Contains(ids(got), "1") {
		t.Errorf("a removed lead was returned: %+v", got)
	}
	if got, want := ix.Check(hydroZH), index(t, otherH2, sameOrgOther).Check(hydroZH); !reflect.DeepEqual(got, want) {
		t.Errorf("after Remove: %+v; an index that never had the lead: %+v", got, want)
	}
	if err := ix.Add(hydroDE); err != nil {
		t.Errorf("Add after Remove: %v", err)
	}
}

// TestChangesMatchFresh edits and removes many leads, enough to compact
// more than once, and checks that every answer equals that of an index
// built from the final leads alone: document frequencies, postings and
// block limits all follow the changes.
func TestChangesMatchFresh(t *testing.T) {
	leads := synthetic(600, 7)
	edits := synthetic(600, 8)
	cfg := DefaultConfig()
	cfg.MaxTextPosting = 20 // so that some keys cross the limit as leads come and go
	cfg.MinConfidence, cfg.MaxResults = 0, 0
	ix := New(cfg)
	for _, l := range leads {
		if err := ix.Put(l); err != nil {
			t.Fatal(err)
		}
	}
	final := map[string]Lead{}
	for _, l := range leads {
		final[l.ID] = l
	}
	// Two rounds, so that changes also follow a compaction.
	for r, version := range [][]Lead{edits, synthetic(600, 10)} {
		for i, l := range leads {
			if _, ok := final[l.ID]; !ok {
				continue
			}
			switch (i + r) % 3 {
			case 0:
				ix.Remove(l.ID)
				delete(final, l.ID)
			case 1:
				e := version[i]
				e.ID = l.ID
				if err := ix.Put(e); err != nil {
					t.Fatal(err)
				}
				final[l.ID] = e
			}
		}
		if r == 0 && ix.dead >= 400 {
			t.Fatalf("%d dead slots after the first round: the index never compacted", ix.dead)
		}
	}
	fresh := New(cfg)
	for _, l := range leads { // same order of IDs, final versions
		if f, ok := final[l.ID]; ok {
			if err := fresh.Add(f); err != nil {
				t.Fatal(err)
			}
		}
	}
	if got, want := ix.Len(), fresh.Len(); got != want {
		t.Fatalf("Len = %d, fresh index %d", got, want)
	}
	// Probes: unrelated leads, and leads of indexed organisations with
	// the summary of another, so that confidences depend on the IDF.
	probes := synthetic(30, 9)
	for i, l := range append(leads[:40], edits[:40]...) {
		p := l
		p.ID = fmt.Sprint("probe", i)
		p.Summary = edits[len(edits)-1-i].Summary
		probes = append(probes, p)
	}
	found := 0
	for i, p := range probes {
		got, want := ix.Check(p), fresh.Check(p)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("probe %d: %+v\nfresh index: %+v", i, got, want)
		}
		for _, c := range got {
			if _, ok := final[c.ID]; !ok {
				t.Errorf("probe %d: removed lead %s returned", i, c.ID)
			}
		}
		found += len(got)
	}
	if found < 10*len(probes) {
		t.Errorf("the probes found only %d candidates; the comparison says little", found)
	}
}

// TestConcurrent runs checks while other goroutines put and remove leads;
// run it with -race.
func TestConcurrent(t *testing.T) {
	leads := synthetic(400, 3)
	edits := synthetic(400, 4)
	ix := New(DefaultConfig())
	for _, l := range leads[:200] {
		if err := ix.Add(l); err != nil {
			t.Fatal(err)
		}
	}
	// Leads 0–49 are removed before the checkers start and never come
	// back, so no check may return them.
	for _, l := range leads[:50] {
		ix.Remove(l.ID)
	}
	gone := map[string]bool{}
	for _, l := range leads[:50] {
		gone[l.ID] = true
	}

	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 50 + w; i < len(leads); i += 2 {
				e := edits[i]
				e.ID = leads[i].ID
				if err := ix.Put(e); err != nil {
					errs <- err
					return
				}
				if i%5 == 0 {
					ix.Remove(e.ID)
				}
			}
		}()
	}
	for r := 0; r < 4; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 100; i++ {
				for _, c := range ix.Check(leads[(r*97+i)%len(leads)]) {
					if gone[c.ID] {
						errs <- fmt.Errorf("removed lead %s returned", c.ID)
						return
					}
				}
				_ = ix.Len()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	want := 0
	for i := 50; i < len(leads); i++ {
		if i%5 != 0 {
			want++
		}
	}
	if got := ix.Len(); got != want {
		t.Errorf("Len = %d after the changes, want %d", got, want)
	}
}

func TestRemoveKeepsNoSelf(t *testing.T) {
	ix := index(t, hydroDE, hydroZH)
	ix.Remove("2")
	for _, c := range ix.Check(hydroDE) {
		if c.ID == "1" || strings.Contains(c.ID, "2") {
			t.Errorf("Check(hydroDE) = %+v, want neither itself nor the removed lead", c)
		}
	}
}

// A check of a lead the index holds as it is reuses what Put read of it,
// and answers as a check that reads it anew; a lead that differs in any
// field is read anew.
func TestCheckReusesIndexedFeatures(t *testing.T) {
	leads := synthetic(300, 3)
	cfg := DefaultConfig()
	cfg.MinConfidence, cfg.MaxResults = 0, 0
	ix := New(cfg)
	for _, l := range leads {
		if err := ix.Put(l); err != nil {
			t.Fatal(err)
		}
	}
	for _, l := range leads[:50] {
		p := ix.features(l)
		if p != ix.leads[ix.ids[l.ID]] {
			t.Fatalf("lead %s as indexed: Check reads it anew", l.ID)
		}
		want, _ := ix.check(prepare(l))
		if got := ix.Check(l); !reflect.DeepEqual(got, want) {
			t.Fatalf("lead %s: Check with the indexed features answers %+v, read anew %+v", l.ID, got, want)
		}
	}
	l := leads[7]
	for name, change := range map[string]func(*Lead){
		"title":   func(l *Lead) { l.Title += " v2" },
		"summary": func(l *Lead) { l.Summary += "." },
		"org":     func(l *Lead) { l.Organization += " AG" },
		"country": func(l *Lead) { l.Country = "ZZ" },
		"sector":  func(l *Lead) { l.Sector = "other" },
		"trl":     func(l *Lead) { l.TRL++ },
		"deal":    func(l *Lead) { l.DealType = "other" },
		"tags":    func(l *Lead) { l.Tags = append(slices.Clone(l.Tags), "new") },
		"contacts": func(l *Lead) {
			l.Contacts = append(slices.Clone(l.Contacts), Contact{Name: "A B", Email: "a@b.example"})
		},
		"website":  func(l *Lead) { l.Website = "https://other.example" },
		"language": func(l *Lead) { l.Language = "xx" },
	} {
		c := l
		change(&c)
		if p := ix.features(c); p == ix.leads[ix.ids[l.ID]] || !sameLead(&p.lead, &c) {
			t.Errorf("a lead whose %s changed: Check uses the indexed version", name)
		}
	}
}

// A lead is checked alike before it is indexed, once it is, and (as
// CheckAt and UnchangedSince let a writer rely on) an answer taken before
// is kept only when nothing but that lead was added since.
func TestCheckSameBeforeAndAfterIndexed(t *testing.T) {
	leads := synthetic(800, 11)
	cfg := DefaultConfig()
	cfg.MaxTextPosting = 20 // so that the lead's own keys cross the limit
	cfg.MinConfidence, cfg.MaxResults = 0, 0
	ix := New(cfg)
	found := 0
	for i, l := range leads {
		before, gen := ix.CheckAt(l)
		if err := ix.Put(l); err != nil {
			t.Fatal(err)
		}
		if !ix.UnchangedSince(gen, l.ID) {
			t.Fatalf("lead %d: UnchangedSince(%d, %s) = false just after adding it alone", i, gen, l.ID)
		}
		after := ix.Check(l)
		if !reflect.DeepEqual(before, after) {
			t.Fatalf("lead %d: checked before it was indexed: %+v\nafter: %+v", i, before, after)
		}
		found += len(after)
		if i%50 == 0 {
			// An edit checked while the older version is indexed is
			// checked as the edit would be once indexed.
			e := leads[len(leads)-1-i]
			e.ID = l.ID
			while := ix.Check(e)
			if err := ix.Put(e); err != nil {
				t.Fatal(err)
			}
			if got := ix.Check(e); !reflect.DeepEqual(while, got) {
				t.Fatalf("edit of lead %d: checked while the old version was indexed: %+v\nonce indexed: %+v", i, while, got)
			}
			if err := ix.Put(l); err != nil {
				t.Fatal(err)
			}
		}
	}
	if found < len(leads) {
		t.Errorf("only %d candidates in all: the comparison says little", found)
	}

	l := leads[0]
	l.ID = "new-1"
	_, gen := ix.CheckAt(l)
	other := leads[1]
	other.ID = "new-2"
	if err := ix.Put(other); err != nil {
		t.Fatal(err)
	}
	if err := ix.Put(l); err != nil {
		t.Fatal(err)
	}
	if ix.UnchangedSince(gen, l.ID) {
		t.Error("UnchangedSince = true after another lead was added too")
	}
	_, gen = ix.CheckAt(l)
	if err := ix.Put(l); err != nil { // already indexed: replaced
		t.Fatal(err)
	}
	if ix.UnchangedSince(gen, l.ID) {
		t.Error("UnchangedSince = true after a lead indexed before was replaced")
	}
	_, gen = ix.CheckAt(l)
	if !ix.UnchangedSince(gen, l.ID) || !ix.UnchangedSince(gen, "") {
		t.Error("UnchangedSince = false with no change at all")
	}
	ix.Remove(other.ID)
	if ix.UnchangedSince(gen, l.ID) || ix.UnchangedSince(gen, other.ID) {
		t.Error("UnchangedSince = true after a lead was removed")
	}
}
