package node

import (
	"net/http"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"

	innonetpb "innonet/proto/innonet/v1"
)

// TestAuthStaleReplica: a token revoked on the leader keeps no power on
// a replica cut off from the leader's Raft traffic. Past
// MaxAuthStaleness the replica sends what it would answer itself (a
// STALE read) to the leader, which judges the token; what it cannot send
// on (a backup, its own view of the cluster) it refuses with
// UNAVAILABLE, as it refuses everything once no leader is in reach.
func TestAuthStaleReplica(t *testing.T) {
	const maxStale = 500 * time.Millisecond
	tc := newTestCluster(t, []string{"CGO"}, nil)
	leader := tc.node("CGO")

	raftAddr := freePort(t)
	proxy := newTCPProxy(t, raftAddr)
	tc.start("YRD", testConfig(t, "YRD", func(c *Config) {
		c.Cluster.RaftAddr, c.Cluster.AdvertiseAddr = raftAddr, proxy.addr()
		c.Join, c.NonVoter = leader.Addr(), true
		c.MaxAuthStaleness = maxStale
	}))
	yrd := tc.node("YRD")

	hq := tc.addUser("Li Wei", innonetpb.Role_HQ_REVIEWER, "", "")
	admin := tc.clients(leader, testAdminToken)
	leaving, err := admin.users.CreateUser(admin.ctx(t), &innonetpb.CreateUserRequest{RequestId: rid(), Name: "Leaving",
		Role: innonetpb.Role_HQ_REVIEWER})
	if err != nil {
		t.Fatal(err)
	}
	staff := tc.clients(leader, tc.addUser("Emily Carter", innonetpb.Role_NODE_STAFF, "BOS", ""))
	lead, err := staff.leads.SubmitLead(staff.ctx(t), sampleLead("Read on a cut-off replica"))
	if err != nil {
		t.Fatal(err)
	}
	tc.waitFor("YRD has the users and the lead", func() bool {
		_, err := yrd.State().Lead(lead.Id)
		return err == nil && yrd.State().AppliedIndex() == leader.State().AppliedIndex()
	})

	proxy.setCut(true)
	if _, err := admin.users.RevokeUser(admin.ctx(t), &innonetpb.RevokeUserRequest{Id: leaving.User.Id, RequestId: rid()}); err != nil {
		t.Fatal(err)
	}
	if _, err := yrd.State().UserByTokenHash(HashToken(leaving.Token)); err != nil {
		t.Fatalf("YRD applied the revocation (%v): the link was cut too late for the test", err)
	}
	tc.waitFor("YRD to be cut off for longer than the max auth staleness", func() bool {
		return yrd.Cluster().LastContact() > maxStale
	})
	stale := func(token string) (metadata.MD, error) {
		c := tc.clients(yrd, token)
		var md metadata.MD
		_, err := c.leads.GetLead(c.ctx(t), &innonetpb.GetLeadRequest{Id: lead.Id, Consistency: innonetpb.Consistency_STALE}, grpc.Header(&md))
		return md, err
	}

	t.Run("the revoked token is refused", func(t *testing.T) {
		_, err := stale(leaving.Token)
		checkStatus(t, err, codes.Unauthenticated)
	})
	t.Run("a valid token is answered by the leader", func(t *testing.T) {
		md, err := stale(hq)
		if err != nil {
			t.Fatal(err)
		}
		if site := first(md, mdReadSite); site != leader.Site() {
			t.Errorf("read site header: got %q, want the leader %s", site, leader.Site())
		}
	})
	t.Run("a backup is refused", func(t *testing.T) {
		_, _, err := backupGRPC(tc.clients(yrd, testAdminToken).ctx(t), tc.clients(yrd, testAdminToken))
		checkStatus(t, err, codes.Unavailable, "cannot check credentials", "cut off from the leader")
		if code, body, _ := rawGet(t, yrd, "/v1/backup", testAdminToken); code != http.StatusServiceUnavailable {
			t.Errorf("GET /v1/backup: got %d %s, want 503", code, body)
		}
	})
	t.Run("the replica's own view of the cluster is refused", func(t *testing.T) {
		c := tc.clients(yrd, testAdminToken)
		_, err := c.clusters.GetCluster(c.ctx(t), &innonetpb.GetClusterRequest{Consistency: innonetpb.Consistency_STALE})
		checkStatus(t, err, codes.Unavailable, "YRD cannot check credentials")
		st, err := c.clusters.GetCluster(c.ctx(t), &innonetpb.GetClusterRequest{})
		if err != nil || st.Site != leader.Site() {
			t.Errorf("the leader's view: got %v, %v; want it from %s", st, err, leader.Site())
		}
	})
	t.Run("with no leader in reach every token is refused", func(t *testing.T) {
		tc.stop("CGO")
		for _, tok := range []string{hq, leaving.Token} {
			_, err := stale(tok)
			checkStatus(t, err, codes.Unavailable, "YRD cannot check credentials", "cut off from the leader for")
		}
		c := tc.clients(yrd, hq)
		_, err := c.users.WhoAmI(c.ctx(t), &innonetpb.WhoAmIRequest{})
		checkStatus(t, err, codes.Unavailable)
	})
}
