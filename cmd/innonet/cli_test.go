package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"innonet/cluster"
	"innonet/node"
	pb "innonet/proto/innonet/v1"
)

// These tests run the client commands in-process against a real cluster
// of sites in the same process: real Raft over TCP on 127.0.0.1, real
// raft-boltdb files in temp dirs, real gRPC.

// cliAdminToken is the first admin's token in every test cluster.
const cliAdminToken = "inn_cli-test-admin"

// testNet is an in-process cluster of voting sites.
type testNet struct {
	t     *testing.T
	sites []string
	cfgs  map[string]node.Config
	nodes map[string]*node.Node
}

// siteConfig is the configuration of one test site on free loopback ports.
func siteConfig(t *testing.T, site string) node.Config {
	t.Helper()
	cc := cluster.DefaultConfig()
	if err := cc.UseProfile("test"); err != nil {
		t.Fatal(err)
	}
	cc.RaftAddr = "127.0.0.1:0"
	cc.RaftLogLevel = "off"
	return node.Config{Site: site, DataDir: t.TempDir(), Listen: "127.0.0.1:0", AdminToken: cliAdminToken, Cluster: cc, TLS: siteCerts(t, site),
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))}
}

// newTestNet starts voters (the first bootstraps, the others join it) and
// waits until every one of them votes and there is a leader.
func newTestNet(t *testing.T, voters ...string) *testNet {
	t.Helper()
	tn := &testNet{t: t, cfgs: map[string]node.Config{}, nodes: map[string]*node.Node{}}
	t.Cleanup(tn.closeAll)
	for i, site := range voters {
		cfg := siteConfig(t, site)
		if i == 0 {
			cfg.Bootstrap = true
		} else {
			cfg.Join = tn.addr(voters[0])
		}
		tn.start(site, cfg)
		if i == 0 {
			eventually(t, "first admin recorded", func() error {
				_, err := tn.nodes[site].State().UserByTokenHash(node.HashToken(cliAdminToken))
				return err
			})
		}
	}
	eventually(t, "every site a voter", func() error {
		st, err := tn.leader().Cluster().Status()
		if err != nil {
			return err
		}
		voting := 0
		for _, m := range st.Members {
			if m.Voter {
				voting++
			}
		}
		if voting != len(voters) {
			return fmt.Errorf("%d of %d sites vote", voting, len(voters))
		}
		return nil
	})
	return tn
}

// start starts a site and keeps its bound ports, so a restart reuses them.
func (tn *testNet) start(site string, cfg node.Config) *node.Node {
	tn.t.Helper()
	n, err := node.New(cfg)
	if err != nil {
		tn.t.Fatalf("start %s: %v", site, err)
	}
	cfg.Listen, cfg.Cluster.RaftAddr = n.Addr(), n.Cluster().RaftAddr()
	if _, ok := tn.cfgs[site]; !ok {
		tn.sites = append(tn.sites, site)
	}
	tn.cfgs[site], tn.nodes[site] = cfg, n
	return n
}

// stop closes a site, keeping its data directory.
func (tn *testNet) stop(site string) {
	tn.t.Helper()
	if n := tn.nodes[site]; n != nil {
		if err := n.Close(); err != nil {
			tn.t.Logf("close %s: %v", site, err)
		}
		tn.nodes[site] = nil
	}
}

// halt stops a site as a crash would: without handing over leadership.
func (tn *testNet) halt(site string) {
	tn.t.Helper()
	if n := tn.nodes[site]; n != nil {
		if err := n.Halt(); err != nil {
			tn.t.Logf("halt %s: %v", site, err)
		}
		tn.nodes[site] = nil
	}
}

// restart starts a stopped site again from its data directory.
func (tn *testNet) restart(site string) { tn.start(site, tn.cfgs[site]) }

func (tn *testNet) closeAll() {
	for _, site := range tn.sites {
		tn.stop(site)
	}
}

// addr is a site's API address.
func (tn *testNet) addr(site string) string {
	tn.t.Helper()
	n := tn.nodes[site]
	if n == nil {
		tn.t.Fatalf("site %s is not running", site)
	}
	return n.Addr()
}

// leader waits for a leader among the running sites and returns it.
func (tn *testNet) leader() *node.Node {
	tn.t.Helper()
	var leader *node.Node
	eventually(tn.t, "a leader", func() error {
		for _, site := range tn.sites {
			if n := tn.nodes[site]; n != nil && n.Cluster().IsLeader() {
				leader = n
				return nil
			}
		}
		return errors.New("no site leads")
	})
	return leader
}

// follower returns a running site that does not lead.
func (tn *testNet) follower() string {
	tn.t.Helper()
	leader := tn.leader().Site()
	for _, site := range tn.sites {
		if site != leader && tn.nodes[site] != nil {
			return site
		}
	}
	tn.t.Fatal("no follower")
	return ""
}

// rpc is a direct gRPC client, to check the state the CLI left behind.
type rpc struct {
	leads   pb.LeadServiceClient
	users   pb.UserServiceClient
	cluster pb.ClusterServiceClient
	token   string
}

func (tn *testNet) rpc(site, token string) rpc {
	tn.t.Helper()
	conn, err := dial(tn.addr(site), &clientTLS{ca: os.Getenv("INNONET_CA")})
	if err != nil {
		tn.t.Fatal(err)
	}
	tn.t.Cleanup(func() { conn.Close() })
	return rpc{pb.NewLeadServiceClient(conn), pb.NewUserServiceClient(conn), pb.NewClusterServiceClient(conn), token}
}

// ctx carries the bearer token and a deadline.
func (r rpc) ctx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	t.Cleanup(cancel)
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+r.token)
}

// addUser creates a user over gRPC and returns its token, once every
// running site has it.
func (tn *testNet) addUser(name string, role pb.Role, site, division string) string {
	tn.t.Helper()
	admin := tn.rpc(tn.leader().Site(), cliAdminToken)
	resp, err := admin.users.CreateUser(admin.ctx(tn.t), &pb.CreateUserRequest{RequestId: newRequestID(),
		Name: name, Role: role, Site: site, Division: division})
	if err != nil {
		tn.t.Fatalf("create user %s: %v", name, err)
	}
	// Sites authenticate from their own copy: wait until every one has it.
	for _, site := range tn.sites {
		if n := tn.nodes[site]; n != nil {
			eventually(tn.t, site+" knows "+name, func() error {
				_, err := n.State().UserByTokenHash(node.HashToken(resp.Token))
				return err
			})
		}
	}
	return resp.Token
}

// submit creates a lead over gRPC as token (node staff) and returns it.
func (tn *testNet) submit(token, title string) *pb.Lead {
	tn.t.Helper()
	staff := tn.rpc(tn.leader().Site(), token)
	l, err := staff.leads.SubmitLead(staff.ctx(tn.t), &pb.SubmitLeadRequest{RequestId: newRequestID(), Title: title,
		Summary: "A test lead.", Organization: "Test Lab", Country: "US", Sector: pb.Sector_IT_AI, Trl: 4,
		DealType: pb.DealType_INVESTMENT})
	if err != nil {
		tn.t.Fatalf("submit %q: %v", title, err)
	}
	return l
}

// getLead reads a lead over gRPC from the leader.
func (tn *testNet) getLead(token, id string) *pb.Lead {
	tn.t.Helper()
	r := tn.rpc(tn.leader().Site(), token)
	l, err := r.leads.GetLead(r.ctx(tn.t), &pb.GetLeadRequest{Id: id})
	if err != nil {
		tn.t.Fatalf("get lead %s: %v", id, err)
	}
	return l
}

// cliResult is what one in-process run of the CLI printed and returned.
type cliResult struct {
	stdout, stderr string
	err            error
}

// runCLI runs `innonet args...` in-process with captured output. args[0]
// is the command (lead, user, cluster, backup).
func runCLI(t *testing.T, args ...string) cliResult {
	t.Helper()
	var out, errOut bytes.Buffer
	return runCLIWith(t, streams{stdin: strings.NewReader(""), stdout: &out, stderr: &errOut}, args...)
}

// runCLIWith runs the CLI with the given streams; the result holds their
// output when they are *bytes.Buffer or *lockedBuffer.
func runCLIWith(t *testing.T, std streams, args ...string) cliResult {
	t.Helper()
	commands := map[string]command{
		"lead": &leadCommand{std}, "user": &userCommand{std}, "cluster": &clusterCommand{std}, "backup": &backupCommand{std},
		"org": &orgCommand{std}, "site": &siteCommand{std}, "attachment": &attachmentCommand{std},
		"glossary": &glossaryCommand{std},
	}
	c, ok := commands[args[0]]
	if !ok {
		t.Fatalf("no client command %q", args[0])
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	err := c.Run(ctx, args[1:])
	return cliResult{stdout: text(std.stdout), stderr: text(std.stderr), err: err}
}

func text(w io.Writer) string {
	if s, ok := w.(fmt.Stringer); ok {
		return s.String()
	}
	return ""
}

// cli runs the CLI and fails the test unless it succeeds; it returns
// stdout.
func cli(t *testing.T, args ...string) string {
	t.Helper()
	r := runCLI(t, args...)
	if r.err != nil {
		t.Fatalf("innonet %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.err, r.stdout, r.stderr)
	}
	return r.stdout
}

// cliJSON runs the CLI with --json and decodes stdout into m.
func cliJSON(t *testing.T, m proto.Message, args ...string) {
	t.Helper()
	out := cli(t, append(args, "--json")...)
	if err := protojson.Unmarshal([]byte(out), m); err != nil {
		t.Fatalf("innonet %s --json: output does not parse as %s: %v\n%s", strings.Join(args, " "),
			m.ProtoReflect().Descriptor().Name(), err, out)
	}
}

// cliErr runs the CLI, expects an API error with code want, and returns
// the result.
func cliErr(t *testing.T, want codes.Code, args ...string) cliResult {
	t.Helper()
	r := runCLI(t, args...)
	if r.err == nil {
		t.Fatalf("innonet %s: got success, want %s\n%s", strings.Join(args, " "), want, r.stdout)
	}
	if got := status.Code(r.err); got != want {
		t.Fatalf("innonet %s: got %v (code %s), want %s", strings.Join(args, " "), r.err, got, want)
	}
	if prefix := codeName(want) + ": "; !strings.HasPrefix(r.err.Error(), prefix) {
		t.Errorf("innonet %s: got error %q, want it to start with %q", strings.Join(args, " "), r.err, prefix)
	}
	var ue *usageError
	if errors.As(r.err, &ue) {
		t.Errorf("innonet %s: an API error is a usage error (exit 2), want exit 1", strings.Join(args, " "))
	}
	return r
}

// skipIfUnimplemented skips the test while the server does not implement
// what the command calls yet.
func skipIfUnimplemented(t *testing.T, err error) {
	t.Helper()
	if status.Code(err) == codes.Unimplemented {
		t.Skipf("server side pending: %v", err)
	}
}

// eventually polls f until it returns nil or 20 seconds pass.
func eventually(t *testing.T, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s: %v", what, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// tableRows returns the rows of a table printed by the CLI whose first
// column is key, split into fields.
func tableRows(out, key string) [][]string {
	var rows [][]string
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) > 0 && f[0] == key {
			rows = append(rows, f)
		}
	}
	return rows
}
