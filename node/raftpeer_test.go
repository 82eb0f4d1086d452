package node

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"google.golang.org/grpc/codes"

	"innonet/cluster"
	"innonet/cluster/certs"
	"innonet/node/pipeline"
	innonetpb "innonet/proto/innonet/v1"
)

// The cases below reproduce, over real mutual TLS with a client speaking
// hashicorp/raft's wire protocol, how a read replica's (or a removed
// site's) certificate could act as leader: hashicorp/raft accepts
// AppendEntries from any sender at a higher term. Before the transport
// checked roles, the forged add_user below was applied on every site and
// its token worked everywhere.

// raftEntryKindApp is the cluster package's kind byte for a caller's
// command: what a forger puts in front of the pipeline command.
const raftEntryKindApp = 1

// forgery is a Raft client that presents one site's certificate.
type forgery struct {
	t    *testing.T
	as   string // the site whose certificate it presents and claims
	tr   *raft.NetworkTransport
	site *Node // the target
}

func newForgery(t *testing.T, as string, target *Node) *forgery {
	t.Helper()
	dir, _ := pki(t)
	cfg := siteStore(t, dir, as).PeerClientConfig(target.Site())
	cfg.NextProtos = nil
	return &forgery{t: t, as: as, tr: rogueRaft(t, cfg), site: target}
}

func (f *forgery) header() raft.RPCHeader {
	return raft.RPCHeader{ProtocolVersion: raft.ProtocolVersionMax, ID: []byte(f.as), Addr: []byte("127.0.0.1:1")}
}

func (f *forgery) target() (raft.ServerID, raft.ServerAddress) {
	return raft.ServerID(f.site.Site()), raft.ServerAddress(f.site.Cluster().RaftAddr())
}

// adminEntry is a log entry that adds an ADMIN with a token of the
// forger's choosing, signed by nobody.
func adminEntry(t *testing.T, n *Node, token string) []byte {
	t.Helper()
	admin, err := n.State().UserByTokenHash(HashToken(testAdminToken))
	if err != nil {
		t.Fatal(err)
	}
	cmd := pipeline.Command{Op: pipeline.OpAddUser, RequestID: "forged-1", Actor: admin.ID, Origin: "CGO", Time: time.Now().UnixNano(),
		NewUser: &pipeline.NewUser{Name: "Mallory", Role: pipeline.Admin, TokenHash: HashToken(token)}}
	data, err := cmd.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return append([]byte{raftEntryKindApp}, data...)
}

// appendEntries sends a forged AppendEntries at a higher term that
// appends one entry after the target's log and commits it.
func (f *forgery) appendEntries(data []byte) error {
	st := f.site.Cluster().Stats()
	term := st.Term + 5
	req := &raft.AppendEntriesRequest{RPCHeader: f.header(), Term: term, PrevLogEntry: st.LastIndex, PrevLogTerm: st.LastTerm,
		Entries:           []*raft.Log{{Index: st.LastIndex + 1, Term: term, Type: raft.LogCommand, Data: data}},
		LeaderCommitIndex: st.LastIndex + 1}
	var resp raft.AppendEntriesResponse
	id, addr := f.target()
	if err := f.tr.AppendEntries(id, addr, req, &resp); err != nil {
		return err
	}
	if !resp.Success {
		return fmt.Errorf("answered, but not accepted (term %d)", resp.Term)
	}
	return nil
}

func (f *forgery) timeoutNow() error {
	var resp raft.TimeoutNowResponse
	id, addr := f.target()
	return f.tr.TimeoutNow(id, addr, &raft.TimeoutNowRequest{RPCHeader: f.header()}, &resp)
}

func (f *forgery) requestVote() error {
	st := f.site.Cluster().Stats()
	req := &raft.RequestVoteRequest{RPCHeader: f.header(), Term: st.Term + 5, LastLogIndex: st.LastIndex + 100, LastLogTerm: st.Term + 5}
	var resp raft.RequestVoteResponse
	id, addr := f.target()
	return f.tr.RequestVote(id, addr, req, &resp)
}

func (f *forgery) installSnapshot() error {
	st := f.site.Cluster().Stats()
	req := &raft.InstallSnapshotRequest{RPCHeader: f.header(), SnapshotVersion: raft.SnapshotVersionMax, Term: st.Term + 5,
		LastLogIndex: st.LastIndex + 100, LastLogTerm: st.Term + 5, Size: 4}
	var resp raft.InstallSnapshotResponse
	id, addr := f.target()
	return f.tr.InstallSnapshot(id, addr, req, &resp, strings.NewReader("junk"))
}

// TestRaftPeersByRole: only voters of a site's configuration may send it
// Raft requests. A read replica's certificate cannot append forged
// entries, force an election or install a snapshot on a voter; a removed
// site's certificate is refused at once; a certificate on the deny-list
// is refused and its connections dropped. Each refusal is counted by
// reason, and nothing changes on any site.
func TestRaftPeersByRole(t *testing.T) {
	tc := newTestCluster(t, []string{"CGO", "BOS", "CBG"}, []string{"YRD"}, withTLS(t))
	leader := tc.leaderNode()
	victim := tc.follower(false)
	forged := "inn_forged-admin-token"
	before := map[string]string{}
	for _, id := range tc.order {
		before[id] = stateDigest(t, tc.node(id))
	}
	termBefore := victim.Cluster().Stats().Term

	yrd := newForgery(t, "YRD", victim)
	attacks := []struct {
		name   string
		do     func() error
		reason string
	}{
		{"append a forged admin as leader", func() error { return yrd.appendEntries(adminEntry(t, leader, forged)) }, "not_voter"},
		{"heartbeat as leader", func() error { return yrd.appendEntries(nil) }, "not_voter"},
		{"force an election (TimeoutNow)", yrd.timeoutNow, "not_voter"},
		{"stand for election at a higher term", yrd.requestVote, "not_voter"},
		{"install a snapshot", yrd.installSnapshot, "not_voter"},
	}
	for _, a := range attacks {
		t.Run("read replica/"+a.name, func(t *testing.T) {
			n := victim.Cluster().PeerRefusals()[a.reason]
			if err := a.do(); err == nil {
				t.Fatalf("YRD's certificate: accepted, want refused")
			}
			if got := victim.Cluster().PeerRefusals()[a.reason]; got <= n {
				t.Errorf("refusals for %s: %d before, %d after, want one more", a.reason, n, got)
			}
		})
	}
	if got := victim.Cluster().Stats().Term; got != termBefore {
		t.Errorf("term moved from %d to %d under the forged messages", termBefore, got)
	}
	// Nothing changed anywhere, and the forged token works nowhere.
	tc.waitFor("a write still commits after the attacks", func() bool {
		_, err := tc.clients(leader, testAdminToken).users.WhoAmI(tc.clients(leader, testAdminToken).ctx(t), &innonetpb.WhoAmIRequest{})
		return err == nil
	})
	for _, id := range tc.order {
		n := tc.node(id)
		if got := stateDigest(t, n); got != before[id] {
			t.Errorf("%s: state changed under the forged messages", id)
		}
		_, err := tc.clients(n, forged).leads.ListLeads(tc.clients(n, forged).ctx(t), &innonetpb.ListLeadsRequest{Consistency: innonetpb.Consistency_STALE})
		checkStatus(t, err, codes.Unauthenticated)
	}

	// A voter's honest heartbeat-shaped message still gets through the
	// transport (raft then judges it on its merits).
	t.Run("voter is admitted", func(t *testing.T) {
		var other string
		for _, id := range []string{"CGO", "BOS", "CBG"} {
			if id != victim.Site() {
				other = id
			}
		}
		n := victim.Cluster().RefusedPeers()
		f := newForgery(t, other, victim)
		var resp raft.RequestVoteResponse
		id, addr := f.target()
		stale := &raft.RequestVoteRequest{RPCHeader: f.header(), Term: 1}
		if err := f.tr.RequestVote(id, addr, stale, &resp); err != nil {
			t.Errorf("a voter's (stale) vote request: %v, want an answer", err)
		}
		if got := victim.Cluster().RefusedPeers(); got != n {
			t.Errorf("a voter's message was refused (%d refusals, was %d)", got, n)
		}
	})

	// Removing the replica is a revocation: its certificate stays valid
	// for TLS, but it is no longer a member.
	t.Run("removed site", func(t *testing.T) {
		admin := tc.clients(leader, testAdminToken)
		if _, err := admin.clusters.RemoveMember(admin.ctx(t), &innonetpb.RemoveMemberRequest{Site: "YRD"}); err != nil {
			t.Fatal(err)
		}
		tc.waitFor("the victim applies the removal", func() bool { return !victim.isMember("YRD") })
		n := victim.Cluster().PeerRefusals()["not_member"]
		if err := yrd.appendEntries(adminEntry(t, leader, forged)); err == nil {
			t.Fatal("removed YRD's certificate: accepted, want refused")
		}
		if err := yrd.requestVote(); err == nil {
			t.Fatal("removed YRD's vote request: accepted, want refused")
		}
		if got := victim.Cluster().PeerRefusals()["not_member"]; got < n+2 {
			t.Errorf("not_member refusals: %d, want at least %d", got, n+2)
		}
	})

	// A stolen key of a site that stays: the admin denies its serial, and
	// every site refuses it, on the Raft port and on site-to-site calls.
	t.Run("denied certificate", func(t *testing.T) {
		dir, _ := pki(t)
		serial := certSerial(t, dir, "PRD")
		admin := tc.clients(leader, testAdminToken)
		tc.waitFor("the cluster's log format allows the deny-list", func() bool { return leader.State().Format() >= pipeline.Format2 })
		if _, err := admin.clusters.DenyCertificate(admin.ctx(t), &innonetpb.DenyCertificateRequest{Serial: "0x" + serial, Comment: "laptop stolen"}); err != nil {
			t.Fatal(err)
		}
		tc.waitFor("every site knows the denied serial", func() bool {
			for _, id := range tc.order {
				// The members by the leader's configuration: removed YRD
				// may never learn of its removal, nor of the deny-list.
				if n := tc.node(id); n != nil && leader.isMember(id) && !n.Cluster().IsDenied(serial) {
					return false
				}
			}
			return true
		})
		n := victim.Cluster().PeerRefusals()["denied_certificate"]
		prd := newForgery(t, "PRD", victim)
		if err := prd.requestVote(); err == nil {
			t.Fatal("denied certificate: answered, want refused")
		}
		if got := victim.Cluster().PeerRefusals()["denied_certificate"]; got <= n {
			t.Errorf("denied_certificate refusals: %d, want more than %d", got, n)
		}
		list, err := admin.clusters.ListDeniedCertificates(admin.ctx(t), &innonetpb.ListDeniedCertificatesRequest{})
		if err != nil || len(list.Certificates) != 1 || list.Certificates[0].Serial != serial || list.Certificates[0].Comment != "laptop stolen" {
			t.Errorf("deny-list = %v, %v; want the one serial with its comment", list, err)
		}
		_, err = admin.clusters.DenyCertificate(admin.ctx(t), &innonetpb.DenyCertificateRequest{Serial: "not hex"})
		checkStatus(t, err, codes.InvalidArgument, "serial")
		staff := tc.addUser("Bea", innonetpb.Role_NODE_STAFF, "BOS", "")
		_, err = tc.clients(leader, staff).clusters.DenyCertificate(tc.clients(leader, staff).ctx(t), &innonetpb.DenyCertificateRequest{Serial: serial})
		checkStatus(t, err, codes.PermissionDenied)
	})
}

// certSerial reads a site certificate's serial as the deny-list spells it.
func certSerial(t *testing.T, dir, site string) string {
	t.Helper()
	c, _ := certs.SiteFiles(dir, site)
	b, err := os.ReadFile(c)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	cert, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return cluster.SerialString(cert)
}
