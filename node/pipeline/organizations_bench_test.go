package pipeline

import (
	"fmt"
	"testing"
)

// BenchmarkOrganizationsPage reads a page of 50 organisations, the first
// and one deep in the list, of 10k and 100k: a page reads the sequence
// index from the page token on and stops at the page, so its cost does
// not grow with the number of organisations. A filter by words scans
// until it has filled the page.
//
//	go test -run '^$' -bench BenchmarkOrganizationsPage -benchtime 2000x ./node/pipeline/
func BenchmarkOrganizationsPage(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		f := newFixture(b)
		f.raise()
		for i := range n {
			f.ok("bos", Command{Op: OpCreateOrg, Org: &OrgSpec{Kind: Startup, Name: fmt.Sprintf("Startup %d", i), Country: "US"}})
		}
		for _, tt := range []struct {
			name string
			f    OrgFilter
		}{
			{"first page", OrgFilter{Limit: 50}},
			{"deep page", OrgFilter{Limit: 50, After: fmt.Sprintf("org-%04d", n/2)}},
			{"words, first page", OrgFilter{Limit: 50, Query: "startup 9"}},
		} {
			b.Run(fmt.Sprintf("%s/%dk", tt.name, n/1000), func(b *testing.B) {
				for b.Loop() {
					page, _, err := f.st.Organizations(tt.f)
					if err != nil || len(page) != 50 {
						b.Fatalf("page of %d, %v", len(page), err)
					}
				}
			})
		}
	}
}
