package node

import (
	"fmt"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"

	innonetpb "innonet/proto/innonet/v1"
)

// TestClusterShowsPlacement: GET /v1/cluster (the leader's answer) carries
// every site's round-trip row, an estimate per voter and the reason, and
// SetLeaderPlacement refuses what cannot be followed, naming the field.
func TestClusterShowsPlacement(t *testing.T) {
	tc := newTestCluster(t, testVoters, testNonVoters)
	admin := tc.clients(tc.leaderNode(), testAdminToken)
	all := append(append([]string(nil), testVoters...), testNonVoters...)
	eventually(t, 15e9, "every site's RTT row on the leader", func() error {
		cl, err := admin.clusters.GetCluster(admin.ctx(t), &innonetpb.GetClusterRequest{})
		if err != nil {
			return err
		}
		p := cl.GetPlacement()
		if !p.GetKnown() || p.Mode != "manual" {
			return fmt.Errorf("placement known %v mode %q, want known and manual (the test configuration)", p.GetKnown(), p.GetMode())
		}
		rows := map[string]int{}
		for _, r := range p.Rtt {
			rows[r.Site] = len(r.Peers)
		}
		for _, s := range all {
			if rows[s] != len(all)-1 {
				return fmt.Errorf("row of %s has %d peers, want %d (rows %v)", s, rows[s], len(all)-1, rows)
			}
		}
		est := 0
		for _, e := range p.Estimates {
			if e.PerWrite != nil {
				est++
			}
		}
		if est != len(testVoters) || p.Reason == "" {
			return fmt.Errorf("%d estimates, reason %q; want one per voter and a reason", est, p.Reason)
		}
		return nil
	})

	// Sent to a follower: forwarded to the leader, validated there.
	c := tc.clients(tc.follower(false), testAdminToken)
	bad := []struct {
		req  *innonetpb.SetLeaderPlacementRequest
		want []string
	}{
		{&innonetpb.SetLeaderPlacementRequest{Mode: "sometimes"}, []string{"mode", "auto or manual"}},
		{&innonetpb.SetLeaderPlacementRequest{Pin: "XYZ"}, []string{"pin", "XYZ", "not a member"}},
		{&innonetpb.SetLeaderPlacementRequest{Pin: "YRD"}, []string{"pin", "YRD is not a voter"}},
		{&innonetpb.SetLeaderPlacementRequest{Pin: "BOS", Exclude: []string{"BOS"}}, []string{"pin", "BOS is also in exclude"}},
		{&innonetpb.SetLeaderPlacementRequest{Exclude: []string{"CGO", "BOS", "CBG"}}, []string{"exclude", "every voter"}},
		{&innonetpb.SetLeaderPlacementRequest{Prefer: []string{"bos"}}, []string{"prefer", "not a site code"}},
	}
	for _, b := range bad {
		_, err := c.clusters.SetLeaderPlacement(c.ctx(t), b.req)
		checkStatus(t, err, codes.InvalidArgument, b.want...)
	}
	cl, err := c.clusters.SetLeaderPlacement(c.ctx(t), &innonetpb.SetLeaderPlacementRequest{Mode: "manual", Prefer: []string{"BOS"}, Exclude: []string{"YRD"}})
	if err != nil {
		t.Fatal(err)
	}
	if p := cl.GetPlacement(); p.Mode != "manual" || len(p.Prefer) != 1 || p.Prefer[0] != "BOS" {
		t.Errorf("placement after setting %+v, want manual, prefer BOS", p)
	}

	// Over REST, through a read replica.
	rc := newRESTClient(tc.node("YRD"))
	code, body := rc.do(t, "PUT", "/v1/cluster/placement", testAdminToken, map[string]any{"pin": "CBG", "exclude": []string{"CGO"}})
	if code != 200 {
		t.Fatalf("PUT /v1/cluster/placement: %d %v", code, body)
	}
	if p, _ := body["placement"].(map[string]any); p["pin"] != "CBG" {
		t.Errorf("placement answered %v, want pin CBG", body["placement"])
	}
	code, body = rc.do(t, "PUT", "/v1/cluster/placement", testAdminToken, map[string]any{"pinned": "CBG"})
	if code != 400 || !strings.Contains(fmt.Sprint(body), "pinned") {
		t.Errorf("an unknown field: %d %v, want 400 naming it", code, body)
	}
	code, body = rc.do(t, "GET", "/v1/cluster", testAdminToken, nil)
	if p, _ := body["placement"].(map[string]any); code != 200 || p["rtt"] == nil {
		t.Errorf("GET /v1/cluster: %d, placement %v; want the RTT matrix", code, body["placement"])
	}
}
