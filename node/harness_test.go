package node

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"innonet/cluster"
	innonetpb "innonet/proto/innonet/v1"
)

// testAdminToken is the first admin's token in every test cluster.
const testAdminToken = "inn_test-admin-token"

// testSite is one site of an in-process test cluster.
type testSite struct {
	cfg  Config
	node *Node
}

// testCluster is a real cluster of sites in one process: real Raft over
// TCP on 127.0.0.1, real raft-boltdb files in temp dirs, real gRPC/REST.
type testCluster struct {
	t     testing.TB
	sites map[string]*testSite
	order []string
}

// newTestCluster starts voters (the first bootstraps) and non-voters, and
// waits until every site is a member and has a leader. Each tune function
// may adjust every site's Config before it starts (e.g. Raft settings).
func newTestCluster(t testing.TB, voters []string, nonVoters []string, tune ...func(*Config)) *testCluster {
	t.Helper()
	tc := &testCluster{t: t, sites: map[string]*testSite{}}
	var first string
	for i, id := range append(append([]string{}, voters...), nonVoters...) {
		cfg := testConfig(t, id, tune...)
		if i == 0 {
			cfg.Bootstrap = true
		} else {
			cfg.Join = tc.sites[first].node.Addr()
			cfg.NonVoter = i >= len(voters)
		}
		tc.start(id, cfg)
		if i == 0 {
			first = id
			tc.waitFor("first admin recorded", func() bool {
				_, err := tc.sites[id].node.State().UserByTokenHash(HashToken(testAdminToken))
				return err == nil
			})
		}
	}
	total := len(voters) + len(nonVoters)
	tc.waitFor("all sites members, voters promoted", func() bool {
		st, err := tc.leaderNode().Cluster().Status()
		if err != nil || len(st.Members) != total {
			return false
		}
		nv := 0
		for _, m := range st.Members {
			if m.Voter {
				nv++
			}
		}
		return nv == len(voters)
	})
	t.Cleanup(tc.closeAll)
	// A cluster of sites that all read the newest log format raises itself
	// to it and registers its sites right after forming: let it settle,
	// so that tests comparing states before and after see only their own
	// writes.
	settles := true
	for _, id := range tc.order {
		settles = settles && tc.sites[id].cfg.AdvertiseFormat == 0
	}
	if settles {
		tc.waitForSites()
	}
	return tc
}

// testConfig is the configuration of a test site with the test timing
// profile, before bootstrap or join is set; tune functions apply last.
func testConfig(t testing.TB, id string, tune ...func(*Config)) Config {
	t.Helper()
	cc := cluster.DefaultConfig()
	if err := cc.UseProfile("test"); err != nil {
		t.Fatal(err)
	}
	cc.RaftAddr = "127.0.0.1:0"
	cc.RaftLogLevel = "off"
	// Tests pick their leader; placement still measures round trips (a
	// loaded test machine's could otherwise move the leader).
	cc.PlacementManual = true
	cfg := Config{Site: id, DataDir: t.TempDir(), Listen: "127.0.0.1:0", AdminToken: testAdminToken,
		Cluster: cc, Limits: testLimits(), SearchInMemory: true, Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))}
	for _, f := range tune {
		f(&cfg)
	}
	return cfg
}

func (tc *testCluster) start(id string, cfg Config) {
	tc.t.Helper()
	n, err := New(cfg)
	if err != nil {
		tc.t.Fatalf("start %s: %v", id, err)
	}
	if _, ok := tc.sites[id]; !ok {
		tc.order = append(tc.order, id)
	}
	// A restarted site keeps its ports so its raft address stays the same.
	cfg.Listen = n.Addr()
	cfg.Cluster.RaftAddr = n.Cluster().RaftAddr()
	tc.sites[id] = &testSite{cfg: cfg, node: n}
}

// node returns the running node of site id (nil while it is stopped).
func (tc *testCluster) node(id string) *Node {
	tc.t.Helper()
	s, ok := tc.sites[id]
	if !ok {
		tc.t.Fatalf("no site %s in the test cluster", id)
	}
	return s.node
}

// stop halts a site as a crash would (no leadership handover), keeping
// its data directory.
func (tc *testCluster) stop(id string) {
	tc.t.Helper()
	s := tc.sites[id]
	if s.node == nil {
		return
	}
	if err := s.node.Halt(); err != nil {
		tc.t.Logf("close %s: %v", id, err)
	}
	s.node = nil
}

// restart starts a stopped site again from its data directory.
func (tc *testCluster) restart(id string) {
	tc.t.Helper()
	cfg := tc.sites[id].cfg
	tc.start(id, cfg)
}

// closeAll halts every site (no leadership handover: the test is over).
func (tc *testCluster) closeAll() {
	for _, id := range tc.order {
		if s := tc.sites[id]; s.node != nil {
			s.node.Halt()
			s.node = nil
		}
	}
}

// waitFor polls cond until it holds or 20 seconds pass.
func (tc *testCluster) waitFor(what string, cond func() bool) {
	tc.t.Helper()
	eventually(tc.t, 20*time.Second, what, func() error {
		if !cond() {
			return errors.New("not yet")
		}
		return nil
	})
}

// waitApplied waits until every running site has applied what the
// leader had applied when it was called: a STALE read anywhere then sees
// the writes made before.
func (tc *testCluster) waitApplied() {
	tc.t.Helper()
	want := tc.leaderNode().State().AppliedIndex()
	eventually(tc.t, 20*time.Second, "every site caught up with the leader", func() error {
		for _, id := range tc.order {
			if s := tc.node(id); s != nil && s.State().AppliedIndex() < want {
				return fmt.Errorf("%s applied %d of %d", id, s.State().AppliedIndex(), want)
			}
		}
		return nil
	})
}

// leaderNode waits for a leader among the running sites and returns it.
func (tc *testCluster) leaderNode() *Node {
	tc.t.Helper()
	var leader *Node
	tc.waitFor("a leader", func() bool {
		for _, id := range tc.order {
			if n := tc.sites[id].node; n != nil && n.Cluster().IsLeader() {
				leader = n
				return true
			}
		}
		return false
	})
	return leader
}

// follower returns a running voter or non-voter that is not the leader.
func (tc *testCluster) follower(nonVoter bool) *Node {
	tc.t.Helper()
	leader := tc.leaderNode()
	for _, id := range tc.order {
		s := tc.sites[id]
		if s.node != nil && s.node != leader && s.cfg.NonVoter == nonVoter {
			return s.node
		}
	}
	tc.t.Fatalf("no follower (nonVoter=%v)", nonVoter)
	return nil
}

// conn dials a site's API over gRPC.
func (tc *testCluster) conn(n *Node) *grpc.ClientConn {
	tc.t.Helper()
	creds := insecure.NewCredentials()
	if n.cfg.TLS != nil {
		creds = credentials.NewTLS(&tls.Config{RootCAs: testCAPool(tc.t)})
	}
	c, err := grpc.NewClient(n.Addr(), grpc.WithTransportCredentials(creds))
	if err != nil {
		tc.t.Fatal(err)
	}
	tc.t.Cleanup(func() { c.Close() })
	return c
}

// testClients holds typed gRPC clients for one site, authenticated as one user.
type testClients struct {
	token         string
	leads         innonetpb.LeadServiceClient
	users         innonetpb.UserServiceClient
	clusters      innonetpb.ClusterServiceClient
	divisions     innonetpb.DivisionServiceClient
	reports       innonetpb.ReportServiceClient
	notifications innonetpb.NotificationServiceClient
	outbox        innonetpb.OutboxServiceClient
}

func (tc *testCluster) clients(n *Node, token string) testClients {
	c := tc.conn(n)
	return testClients{token: token, leads: innonetpb.NewLeadServiceClient(c),
		users: innonetpb.NewUserServiceClient(c), clusters: innonetpb.NewClusterServiceClient(c),
		divisions: innonetpb.NewDivisionServiceClient(c), reports: innonetpb.NewReportServiceClient(c),
		notifications: innonetpb.NewNotificationServiceClient(c), outbox: innonetpb.NewOutboxServiceClient(c)}
}

// ctx returns a context carrying the bearer token, bounded in time.
func (c testClients) ctx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	t.Cleanup(cancel)
	return withToken(ctx, c.token)
}

var reqSeq atomic.Int64

// rid returns a fresh request ID; it is safe for concurrent use.
func rid() string { return fmt.Sprintf("req-%d-%d", time.Now().UnixNano(), reqSeq.Add(1)) }

// addUser creates a user through the API and returns its token.
func (tc *testCluster) addUser(name string, role innonetpb.Role, site, division string) string {
	tc.t.Helper()
	admin := tc.clients(tc.leaderNode(), testAdminToken)
	resp, err := admin.users.CreateUser(admin.ctx(tc.t), &innonetpb.CreateUserRequest{
		RequestId: rid(), Name: name, Role: role, Site: site, Division: division})
	if err != nil {
		tc.t.Fatalf("create user %s: %v", name, err)
	}
	return resp.Token
}

// sampleLead is a valid submit request.
func sampleLead(title string) *innonetpb.SubmitLeadRequest {
	return &innonetpb.SubmitLeadRequest{RequestId: rid(), Title: title, Summary: "A test lead.",
		Organization: "Test Lab", Country: "US", Sector: innonetpb.Sector_LIFE_SCIENCES_HEALTH,
		Trl: 5, DealType: innonetpb.DealType_INVESTMENT}
}

// eventually polls f until it returns nil or timeout passes, then fails t
// with what and f's last error.
func eventually(t testing.TB, timeout time.Duration, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s: %v", timeout, what, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// checkStatus fails t unless err is a gRPC status with code want whose
// message contains each of parts.
func checkStatus(t testing.TB, err error, want codes.Code, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %s", want)
	}
	st, ok := status.FromError(err)
	if !ok {
		t.Fatalf("got non-status error %v, want %s", err, want)
	}
	if st.Code() != want {
		t.Fatalf("got %s (%q), want %s", st.Code(), st.Message(), want)
	}
	for _, p := range parts {
		if !strings.Contains(st.Message(), p) {
			t.Errorf("got message %q, want it to mention %q", st.Message(), p)
		}
	}
}
