package main

import (
	"fmt"
	"testing"

	"innonet/node/dedup"
)

// BenchmarkDuplicateCheck measures what a site does for every lead this
// tool submits once the state holds 60,000 of its leads: index the new
// lead, then check it for duplicates (the site that took the submit),
// and then the check alone, of a lead the index holds (as the leader
// checks a lead it has just indexed). The tool's leads share many coined
// words, so a check meets hundreds of candidates, unlike node/dedup's
// synthetic leads.
//
//	go test -run '^$' -bench DuplicateCheck -benchtime 1000x ./cmd/innonet-bench-etcd/
func BenchmarkDuplicateCheck(b *testing.B) {
	gen := leads{prefix: "bench"}
	lead := func(i int) dedup.Lead {
		r, err := gen.request(i)
		if err != nil {
			b.Fatal(err)
		}
		l := dedup.Lead{ID: fmt.Sprint(i), Title: r.Title, Summary: r.Summary, Organization: r.Organization,
			Country: r.Country, TRL: int(r.Trl), Tags: r.Tags, Language: r.Language,
			Sector: r.Sector.String(), DealType: r.DealType.String()}
		for _, c := range r.Contacts {
			l.Contacts = append(l.Contacts, dedup.Contact{Name: c.Name, Email: c.Email})
		}
		return l
	}
	const indexed = 60000
	ix := dedup.New(dedup.DefaultConfig())
	for i := range indexed {
		if err := ix.Put(lead(i)); err != nil {
			b.Fatal(err)
		}
	}
	next := make([]dedup.Lead, 1000)
	for i := range next {
		next[i] = lead(indexed + i)
	}
	b.Run("index-and-check", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			l := next[i%len(next)]
			if err := ix.Put(l); err != nil {
				b.Fatal(err)
			}
			ix.Check(l)
		}
	})
	for _, l := range next {
		if err := ix.Put(l); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("check", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			ix.Check(next[i%len(next)])
		}
	})
}
