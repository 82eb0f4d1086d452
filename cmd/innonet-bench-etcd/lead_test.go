package main

import (
	"testing"

	"google.golang.org/protobuf/proto"
)

func TestLeadRequests(t *testing.T) {
	gen := leads{prefix: "bench"}
	ids, titles := map[string]bool{}, map[string]bool{}
	for i := range 2000 {
		r, err := gen.request(i)
		if err != nil {
			t.Fatal(err)
		}
		if got := proto.Size(r); got != submitBodySize {
			t.Fatalf("lead %d: got %d bytes, want %d", i, got, submitBodySize)
		}
		if ids[r.RequestId] || titles[r.Title] {
			t.Fatalf("lead %d repeats a request ID or title: %q %q", i, r.RequestId, r.Title)
		}
		ids[r.RequestId], titles[r.Title] = true, true
		if len(r.Country) != 2 || r.Sector == 0 || r.DealType == 0 || r.Trl < 1 || r.Trl > 9 || r.Organization == "" {
			t.Fatalf("lead %d is not a valid submission: %v", i, r)
		}
	}
	a, _ := gen.request(7)
	b, _ := gen.request(7)
	if !proto.Equal(a, b) {
		t.Error("the same index gave two different leads")
	}
}
