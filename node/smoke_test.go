package node

import (
	"testing"

	innonetpb "innonet/proto/innonet/v1"
)

func TestSmokeWriteThroughFollower(t *testing.T) {
	tc := newTestCluster(t, []string{"CGO", "BOS", "CBG"}, []string{"YRD"})
	tok := tc.addUser("Alice", innonetpb.Role_NODE_STAFF, "BOS", "")
	c := tc.clients(tc.follower(false), tok)
	l, err := c.leads.SubmitLead(c.ctx(t), sampleLead("Immunosuppressant"))
	if err != nil {
		t.Fatalf("submit via follower: %v", err)
	}
	if l.Id != "BOS-0001" || l.Stage != innonetpb.Stage_SUBMITTED {
		t.Fatalf("got %s %s, want BOS-0001 SUBMITTED", l.Id, l.Stage)
	}
	nv := tc.clients(tc.follower(true), tok)
	l2, err := nv.leads.SubmitLead(nv.ctx(t), sampleLead("Second"))
	if err != nil {
		t.Fatalf("submit via non-voter: %v", err)
	}
	if l2.Id != "BOS-0002" {
		t.Fatalf("got %s, want BOS-0002", l2.Id)
	}
}
