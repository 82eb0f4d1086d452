package node

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	innonetpb "innonet/proto/innonet/v1"
)

// stateDigest hashes a site's pipeline state: users, tokens, leads,
// history and counters, not the request records (a refused write may
// leave its refusal there, so that a retry gets the same answer).
func stateDigest(t *testing.T, n *Node) string {
	t.Helper()
	var buf bytes.Buffer
	if _, err := n.State().Snapshot().WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	sc := bufio.NewScanner(&buf)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var rec struct {
			Table string `json:"table"`
		}
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatal(err)
		}
		if rec.Table == "" || rec.Table == "requests" {
			continue // the header (applied index) and the request records
		}
		h.Write(sc.Bytes())
	}
	return hex.EncodeToString(h.Sum(nil))
}

// attackEnv is a three-site TLS cluster with a user of every role and a
// lead in every interesting state, set up before the attacks.
type attackEnv struct {
	tc                       *testCluster
	leader, follower         *Node
	bos, cbg, hq, bohai, yrd string
	revoked, expired         string
	submitted, claimed       string // lead IDs
	replayed                 *innonetpb.SubmitLeadRequest
	rest                     restClient
}

func newAttackEnv(t *testing.T) *attackEnv {
	e := &attackEnv{tc: newTestCluster(t, []string{"CGO", "BOS", "CBG"}, nil, withTLS(t))}
	tc := e.tc
	e.leader = tc.leaderNode()
	e.follower = tc.follower(false)
	e.rest = newRESTClient(e.follower)
	e.bos = tc.addUser("Emily", innonetpb.Role_NODE_STAFF, "BOS", "")
	e.cbg = tc.addUser("Oliver", innonetpb.Role_NODE_STAFF, "CBG", "")
	e.hq = tc.addUser("Li Wei", innonetpb.Role_HQ_REVIEWER, "", "")
	e.bohai = tc.addUser("Zhang Min", innonetpb.Role_DIVISION, "", "BOHAI")
	e.yrd = tc.addUser("Chen Jie", innonetpb.Role_DIVISION, "", "YRD")
	e.revoked = tc.addUser("Gone", innonetpb.Role_HQ_REVIEWER, "", "")

	admin := tc.clients(e.leader, testAdminToken)
	gone := tc.clients(e.leader, e.revoked)
	who, err := gone.users.WhoAmI(gone.ctx(t), &innonetpb.WhoAmIRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.users.RevokeUser(admin.ctx(t), &innonetpb.RevokeUserRequest{Id: who.Id, RequestId: rid()}); err != nil {
		t.Fatal(err)
	}
	exp, err := admin.users.CreateUser(admin.ctx(t), &innonetpb.CreateUserRequest{RequestId: rid(), Name: "Shortlived",
		Role: innonetpb.Role_HQ_REVIEWER, TokenTtl: durationpb.New(time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	e.expired = exp.Token

	staff := tc.clients(e.leader, e.bos)
	e.replayed = sampleLead("Replayed")
	l, err := staff.leads.SubmitLead(staff.ctx(t), e.replayed)
	if err != nil {
		t.Fatal(err)
	}
	e.submitted = l.Id
	l2, err := staff.leads.SubmitLead(staff.ctx(t), sampleLead("Claimed by BOHAI"))
	if err != nil {
		t.Fatal(err)
	}
	hq := tc.clients(e.leader, e.hq)
	if _, err := hq.leads.ReviewLead(hq.ctx(t), &innonetpb.ReviewLeadRequest{Id: l2.Id, RequestId: rid(), Decision: innonetpb.Decision_APPROVE}); err != nil {
		t.Fatal(err)
	}
	bohai := tc.clients(e.leader, e.bohai)
	if _, err := bohai.leads.ClaimLead(bohai.ctx(t), &innonetpb.ClaimLeadRequest{Id: l2.Id, RequestId: rid()}); err != nil {
		t.Fatal(err)
	}
	e.claimed = l2.Id
	// Wait until the short-lived token has expired on the follower.
	eventually(t, 10*time.Second, "the short-lived token to expire", func() error {
		c := tc.clients(e.follower, e.expired)
		if _, err := c.users.WhoAmI(c.ctx(t), &innonetpb.WhoAmIRequest{}); err == nil {
			return fmt.Errorf("still accepted")
		}
		return nil
	})
	e.converge(t)
	return e
}

// converge waits until every site has applied the leader's last index.
func (e *attackEnv) converge(t *testing.T) {
	t.Helper()
	idx := e.tc.leaderNode().Cluster().Stats().AppliedIndex
	for _, id := range e.tc.order {
		n := e.tc.node(id)
		eventually(t, 10*time.Second, id+" caught up", func() error {
			if got := n.Cluster().Stats().AppliedIndex; got < idx {
				return fmt.Errorf("applied %d < %d", got, idx)
			}
			return nil
		})
	}
}

// digests returns every site's state digest.
func (e *attackEnv) digests(t *testing.T) map[string]string {
	e.converge(t)
	out := map[string]string{}
	for _, id := range e.tc.order {
		out[id] = stateDigest(t, e.tc.node(id))
	}
	return out
}

// grpcAs calls through the follower's gRPC API as token.
func (e *attackEnv) grpcAs(token string) testClients { return e.tc.clients(e.follower, token) }

// rawREST sends raw bytes to the follower's REST API.
func (e *attackEnv) rawREST(t *testing.T, method, path, token string, body []byte) int {
	t.Helper()
	req, err := http.NewRequest(method, e.rest.base+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := e.rest.http.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

// TestAttackSuite runs hostile requests against a TLS cluster, each
// asserted to be refused with the right code, and checks that none of
// them changed the state of any site.
func TestAttackSuite(t *testing.T) {
	e := newAttackEnv(t)
	mine, other := pki(t)
	type attack struct {
		name string
		run  func(t *testing.T)
	}
	grpcCode := func(want codes.Code, call func(t *testing.T) error) func(t *testing.T) {
		return func(t *testing.T) { checkStatus(t, call(t), want) }
	}
	httpCode := func(want int, method, path, token string, body []byte) func(t *testing.T) {
		return func(t *testing.T) {
			if got := e.rawREST(t, method, path, token, body); got != want {
				t.Fatalf("got HTTP %d, want %d", got, want)
			}
		}
	}
	whoami := func(token string) func(t *testing.T) error {
		return func(t *testing.T) error {
			c := e.grpcAs(token)
			_, err := c.users.WhoAmI(c.ctx(t), &innonetpb.WhoAmIRequest{})
			return err
		}
	}
	submitJSON := func(extra string) []byte {
		return []byte(`{"requestId":"` + rid() + `","title":"T","summary":"S","organization":"O","country":"US","sector":"IT_AI","trl":4,"dealType":"INVESTMENT"` + extra + `}`)
	}
	attacks := []attack{
		{"no token (gRPC)", grpcCode(codes.Unauthenticated, whoami(""))},
		{"no token (REST)", httpCode(http.StatusUnauthorized, "GET", "/v1/leads", "", nil)},
		{"expired token", grpcCode(codes.Unauthenticated, whoami(e.expired))},
		{"revoked token", grpcCode(codes.Unauthenticated, whoami(e.revoked))},
		{"forged token", grpcCode(codes.Unauthenticated, whoami(NewToken()))},
		{"malformed authorization header", func(t *testing.T) {
			req, _ := http.NewRequest("GET", e.rest.base+"/v1/leads", nil)
			req.Header.Set("Authorization", "Basic YWRtaW46YWRtaW4=")
			resp, err := e.rest.http.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("got HTTP %d, want 401", resp.StatusCode)
			}
		}},
		{"wrong role: a division reviews", grpcCode(codes.PermissionDenied, func(t *testing.T) error {
			c := e.grpcAs(e.yrd)
			_, err := c.leads.ReviewLead(c.ctx(t), &innonetpb.ReviewLeadRequest{Id: e.submitted, RequestId: rid(), Decision: innonetpb.Decision_APPROVE})
			return err
		})},
		{"wrong role: staff creates an admin", grpcCode(codes.PermissionDenied, func(t *testing.T) error {
			c := e.grpcAs(e.bos)
			_, err := c.users.CreateUser(c.ctx(t), &innonetpb.CreateUserRequest{RequestId: rid(), Name: "Eve", Role: innonetpb.Role_ADMIN})
			return err
		})},
		{"cross-site write: CBG edits a BOS lead", grpcCode(codes.PermissionDenied, func(t *testing.T) error {
			c := e.grpcAs(e.cbg)
			_, err := c.leads.UpdateLead(c.ctx(t), &innonetpb.UpdateLeadRequest{Id: e.submitted, RequestId: rid(), Title: proto.String("Hijacked")})
			return err
		})},
		{"cross-division: YRD advances BOHAI's lead", grpcCode(codes.PermissionDenied, func(t *testing.T) error {
			c := e.grpcAs(e.yrd)
			_, err := c.leads.AdvanceLead(c.ctx(t), &innonetpb.AdvanceLeadRequest{Id: e.claimed, RequestId: rid(), Stage: innonetpb.Stage_NEGOTIATING})
			return err
		})},
		{"cross-division: YRD releases BOHAI's claim", grpcCode(codes.PermissionDenied, func(t *testing.T) error {
			c := e.grpcAs(e.yrd)
			_, err := c.leads.ReleaseLead(c.ctx(t), &innonetpb.ReleaseLeadRequest{Id: e.claimed, RequestId: rid()})
			return err
		})},
		{"replayed request ID with a different body", grpcCode(codes.InvalidArgument, func(t *testing.T) error {
			c := e.grpcAs(e.bos)
			req := proto.Clone(e.replayed).(*innonetpb.SubmitLeadRequest)
			req.Title = "Replayed with another title"
			_, err := c.leads.SubmitLead(c.ctx(t), req)
			return err
		})},
		{"oversized REST body", func(t *testing.T) {
			body := submitJSON(`,"tags":["` + strings.Repeat("x", 8<<20) + `"]`)
			if got := e.rawREST(t, "POST", "/v1/leads", e.bos, body); got != http.StatusRequestEntityTooLarge {
				t.Fatalf("got HTTP %d, want 413", got)
			}
		}},
		{"oversized gRPC message", grpcCode(codes.ResourceExhausted, func(t *testing.T) error {
			c := e.grpcAs(e.bos)
			req := sampleLead("Huge")
			req.Summary = strings.Repeat("x", 8<<20)
			_, err := c.leads.SubmitLead(c.ctx(t), req)
			return err
		})},
		{"field too long", grpcCode(codes.InvalidArgument, func(t *testing.T) error {
			c := e.grpcAs(e.bos)
			req := sampleLead(strings.Repeat("T", 10000))
			_, err := c.leads.SubmitLead(c.ctx(t), req)
			return err
		})},
		{"too many tags", grpcCode(codes.InvalidArgument, func(t *testing.T) error {
			c := e.grpcAs(e.bos)
			req := sampleLead("Tags")
			for i := range 500 {
				req.Tags = append(req.Tags, fmt.Sprint("t", i))
			}
			_, err := c.leads.SubmitLead(c.ctx(t), req)
			return err
		})},
		{"control characters in a single-line field", grpcCode(codes.InvalidArgument, func(t *testing.T) error {
			c := e.grpcAs(e.bos)
			_, err := c.leads.SubmitLead(c.ctx(t), sampleLead("Title\x1b[31mred\x07"))
			return err
		})},
		{"invalid UTF-8 (REST)", httpCode(http.StatusBadRequest, "POST", "/v1/leads", e.bos,
			[]byte(`{"requestId":"`+rid()+`","title":"bad `+"\xff\xfe"+`","summary":"S","organization":"O","country":"US","sector":"IT_AI","trl":4,"dealType":"INVESTMENT"}`))},
		{"invalid UTF-8 (gRPC wire)", grpcCode(codes.InvalidArgument, func(t *testing.T) error {
			// Go's protobuf refuses to marshal invalid UTF-8, so send the
			// bytes as they would come from a hostile client.
			var wire []byte
			wire = append(wire, 0x12, 4, 'b', 'a', 'd', 0xff) // field 2 (title)
			msg := rawMessage(wire)
			ctx, cancel := context.WithTimeout(withToken(context.Background(), e.bos), 5*time.Second)
			defer cancel()
			return e.tc.conn(e.follower).Invoke(ctx, innonetpb.LeadService_SubmitLead_FullMethodName,
				&msg, new(rawMessage), grpc.ForceCodecV2(rawCodec{}))
		})},
		{"invalid UTF-8 in the path (REST)", httpCode(http.StatusBadRequest, "GET", "/v1/leads/%FF%FE", e.hq, nil)},
		{"invalid UTF-8 in the query (REST)", httpCode(http.StatusBadRequest, "GET", "/v1/leads?pageToken=%FF", e.hq, nil)},
		{"invalid UTF-8 in a query parameter name (REST)", httpCode(http.StatusBadRequest, "GET", "/v1/leads?%FF=1", e.hq, nil)},
		{"invalid UTF-8 in a header (REST)", func(t *testing.T) {
			req, _ := http.NewRequest("GET", e.rest.base+"/v1/leads", nil)
			req.Header.Set("Authorization", "Bearer "+e.hq)
			req.Header.Set("Grpc-Metadata-Note", "bad \xff")
			resp, err := e.rest.http.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("got HTTP %d, want 400", resp.StatusCode)
			}
		}},
		{"wrong HTTP method (REST)", func(t *testing.T) {
			req, _ := http.NewRequest("DELETE", e.rest.base+"/v1/leads/"+e.submitted, nil)
			req.Header.Set("Authorization", "Bearer "+e.bos)
			resp, err := e.rest.http.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET, PATCH" {
				t.Fatalf("got HTTP %d, Allow %q; want 405, Allow \"GET, PATCH\"", resp.StatusCode, resp.Header.Get("Allow"))
			}
		}},
		{"metrics without a token", httpCode(http.StatusUnauthorized, "GET", "/metrics", "", nil)},
		{"metrics with a token that is not an admin's", httpCode(http.StatusForbidden, "GET", "/metrics", e.hq, nil)},
		{"cluster addresses asked by a non-admin", func(t *testing.T) {
			c := e.grpcAs(e.bos)
			st, err := c.clusters.GetCluster(c.ctx(t), &innonetpb.GetClusterRequest{})
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range st.Members {
				if m.RaftAddress != "" || m.ApiAddress != "" {
					t.Errorf("member %s: got Raft address %q, API address %q; want none", m.Site, m.RaftAddress, m.ApiAddress)
				}
			}
		}},
		{"unknown fields", httpCode(http.StatusBadRequest, "POST", "/v1/leads", e.bos, submitJSON(`,"claimedBy":"BOHAI","isAdmin":true`))},
		{"enum out of range", grpcCode(codes.InvalidArgument, func(t *testing.T) error {
			c := e.grpcAs(e.bos)
			req := sampleLead("Enum")
			req.Sector = innonetpb.Sector(99)
			_, err := c.leads.SubmitLead(c.ctx(t), req)
			return err
		})},
		{"TRL out of range", grpcCode(codes.InvalidArgument, func(t *testing.T) error {
			c := e.grpcAs(e.bos)
			req := sampleLead("TRL")
			req.Trl = 10
			_, err := c.leads.SubmitLead(c.ctx(t), req)
			return err
		})},
		{"country not ISO 3166", grpcCode(codes.InvalidArgument, func(t *testing.T) error {
			c := e.grpcAs(e.bos)
			req := sampleLead("Country")
			req.Country = "XX"
			_, err := c.leads.SubmitLead(c.ctx(t), req)
			return err
		})},
		{"path trick: traversal in a lead ID", func(t *testing.T) {
			for _, p := range []string{"/v1/leads/..%2Fusers", "/v1/leads/BOS-0001%00", "/v1/leads/%2E%2E", "/v1/leads/BOS-0001;drop", "/v1/leads/bos-1"} {
				if got := e.rawREST(t, "GET", p, e.hq, nil); got != http.StatusBadRequest && got != http.StatusNotFound {
					t.Errorf("GET %s: HTTP %d, want 400 or 404", p, got)
				}
			}
		}},
		{"path trick: edit through an ID with a suffix", func(t *testing.T) {
			path := "/v1/leads/" + e.submitted + "%2F..%2F" + e.claimed
			if got := e.rawREST(t, "PATCH", path, e.bos, []byte(`{"requestId":"`+rid()+`","title":"x"}`)); got != http.StatusBadRequest && got != http.StatusNotFound {
				t.Fatalf("PATCH %s: HTTP %d, want 400 or 404", path, got)
			}
		}},
		{"plaintext client on the API", grpcCode(codes.Unavailable, func(t *testing.T) error {
			conn, err := grpc.NewClient(e.follower.Addr(), grpc.WithTransportCredentials(insecureCreds()))
			if err != nil {
				return err
			}
			defer conn.Close()
			ctx, cancel := context.WithTimeout(withToken(context.Background(), e.bos), 3*time.Second)
			defer cancel()
			_, err = innonetpb.NewLeadServiceClient(conn).SubmitLead(ctx, sampleLead("plaintext"))
			return err
		})},
		{"plaintext Raft peer", func(t *testing.T) { raftAttack(t, e.follower, nil, "CBG") }},
		{"Raft peer with another CA's certificate", func(t *testing.T) {
			cfg := siteStore(t, other, "CBG").PeerClientConfig("")
			cfg.VerifyConnection, cfg.NextProtos = nil, nil
			raftAttack(t, e.follower, cfg, "CBG")
		}},
		{"Raft peer claiming another site's code", func(t *testing.T) {
			cfg := siteStore(t, mine, "TLV").PeerClientConfig("")
			cfg.NextProtos = nil
			raftAttack(t, e.follower, cfg, e.leader.Site())
		}},
		{"API peer with another CA's certificate", grpcCode(codes.Unavailable, func(t *testing.T) error {
			cfg := siteStore(t, other, e.leader.Site()).PeerClientConfig("")
			cfg.VerifyConnection = nil
			conn, err := grpc.NewClient(e.follower.Addr(), grpc.WithTransportCredentials(credentials.NewTLS(cfg)))
			if err != nil {
				return err
			}
			defer conn.Close()
			ctx, cancel := context.WithTimeout(withToken(context.Background(), e.bos), 3*time.Second)
			defer cancel()
			_, err = innonetpb.NewLeadServiceClient(conn).SubmitLead(ctx, sampleLead("foreign CA"))
			return err
		})},
		{"API peer forwarding as another site", grpcCode(codes.PermissionDenied, func(t *testing.T) error {
			ctx, cancel := context.WithTimeout(withToken(context.Background(), e.bos), 5*time.Second)
			defer cancel()
			ctx = metadata.AppendToOutgoingContext(ctx, mdForwardedBy, e.follower.Site(), mdOrigin, e.follower.Site())
			_, err := innonetpb.NewLeadServiceClient(peerConn(t, e.leader, mine, "TLV")).SubmitLead(ctx, sampleLead("forged forward"))
			return err
		})},
		{"client setting forwarding metadata", grpcCode(codes.PermissionDenied, func(t *testing.T) error {
			c := e.grpcAs(e.bos)
			ctx := metadata.AppendToOutgoingContext(c.ctx(t), mdCallerSite, "CGO")
			_, err := c.leads.SubmitLead(ctx, sampleLead("spoofed caller site"))
			return err
		})},
		{"site certificate joining as another site", grpcCode(codes.PermissionDenied, func(t *testing.T) error {
			ctx, cancel := context.WithTimeout(withToken(context.Background(), testAdminToken), 5*time.Second)
			defer cancel()
			_, err := innonetpb.NewClusterServiceClient(peerConn(t, e.follower, mine, "TLV")).JoinCluster(ctx,
				&innonetpb.JoinClusterRequest{Site: "MUC", RaftAddress: "127.0.0.1:1", ApiAddress: "127.0.0.1:2", Voter: true})
			return err
		})},
	}

	before := e.digests(t)
	for _, id := range e.tc.order[1:] {
		if before[id] != before[e.tc.order[0]] {
			t.Fatalf("sites differ before the attacks: %v", before)
		}
	}
	changed := 0
	for _, a := range attacks {
		t.Run(a.name, func(t *testing.T) {
			a.run(t)
			after := e.digests(t)
			for id, d := range after {
				if d != before[id] {
					changed++
					t.Errorf("the attack changed the state of %s", id)
				}
			}
		})
	}
	if l := e.tc.leaderNode(); l == nil {
		t.Fatal("no leader after the attacks")
	}
	t.Logf("attack suite: %d cases over TLS, %d changed state", len(attacks), changed)
}

// raftAttack sends a vote request to n's Raft port claiming to come from
// claimed, over tlsCfg (plaintext when nil), and asserts it is refused.
func raftAttack(t *testing.T, n *Node, tlsCfg *tls.Config, claimed string) {
	t.Helper()
	before := n.Cluster().RefusedPeers()
	tr := rogueRaft(t, tlsCfg)
	req := &raft.RequestVoteRequest{RPCHeader: raft.RPCHeader{ProtocolVersion: raft.ProtocolVersionMax, ID: []byte(claimed),
		Addr: []byte("127.0.0.1:1")}, Term: 1 << 40, LastLogIndex: 1 << 40, LastLogTerm: 1 << 40}
	var resp raft.RequestVoteResponse
	if err := tr.RequestVote(raft.ServerID(n.Site()), raft.ServerAddress(n.Cluster().RaftAddr()), req, &resp); err == nil {
		t.Fatalf("vote request claiming %s answered (granted=%v), want refused", claimed, resp.Granted)
	}
	eventually(t, 5*time.Second, "the refusal counted", func() error {
		if n.Cluster().RefusedPeers() == before {
			return fmt.Errorf("not counted")
		}
		return nil
	})
}

// rawMessage and rawCodec send bytes as they are, for wire-level attacks.
type rawMessage []byte

type rawCodec struct{}

func (rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	return mem.BufferSlice{mem.SliceBuffer(*v.(*rawMessage))}, nil
}
func (rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	*v.(*rawMessage) = data.Materialize()
	return nil
}
func (rawCodec) Name() string { return "proto" }
