package node

import (
	"net/http"
	"strings"
	"testing"

	innonetpb "innonet/proto/innonet/v1"
)

// A REST caller cannot set innonet's site-to-site metadata: the history
// records the site that really took the request.
func TestRESTCannotSpoofOrigin(t *testing.T) {
	tc := newTestCluster(t, []string{"CGO"}, nil)
	tok := tc.addUser("Emily", innonetpb.Role_NODE_STAFF, "BOS", "")
	leader := tc.leaderNode()
	body := `{"requestId":"spoof-1","title":"t","summary":"s","organization":"o","country":"US","sector":"IT_AI","trl":3,"dealType":"INVESTMENT"}`
	req, err := http.NewRequest("POST", "http://"+leader.Addr()+"/v1/leads", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Grpc-Metadata-X-Innonet-Origin", "TLV")
	req.Header.Set("Grpc-Metadata-X-Innonet-Forwarded-By", "TLV")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("submit: got status %d, want 200", resp.StatusCode)
	}
	events, err := leader.State().History("BOS-0001")
	if err != nil {
		t.Fatal(err)
	}
	if got := events[0].OriginSite; got != "CGO" {
		t.Errorf("origin site: got %q, want CGO (the spoofed header must be ignored)", got)
	}
}
