package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"

	"innonet/node"
	pb "innonet/proto/innonet/v1"
)

// innonetCluster is three `innonet serve` processes on 127.0.0.1,
// plaintext (--insecure), all voters: CGO bootstraps, BOS and CBG join
// through it, the way deploy/ and tests/robustness start a cluster.
type innonetCluster struct {
	sites []*innonetSite
	admin string
	// staff is the token of a NODE_STAFF user of BOS: the benchmark's
	// caller, who submits the leads and reads them.
	staff string
	// readID is the lead the read cells read.
	readID string
}

type innonetSite struct {
	code      string
	api, raft string
	proc      *process
	conn      *grpc.ClientConn
}

// innonetArgs are the `serve` flags of every site besides its addresses:
// the per-token rate limit (50/s by default) would measure the limiter.
func innonetArgs() []string {
	return []string{"--insecure", "--log-level", "warn",
		"--rate-limit", "1e9", "--rate-burst", "1000000000",
		// Every member runs on this machine: a joining voter need not
		// prove itself for long before it is promoted (as in `innonet
		// demo`).
		"--stabilization-time", "2s"}
}

// buildInnonet builds ./cmd/innonet of the module in the working
// directory into dir/bin.
func buildInnonet(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "bin", "innonet")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "innonet/cmd/innonet")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build innonet/cmd/innonet (run from the repository, or give -innonet): %w\n%s", err, out)
	}
	return bin, nil
}

// startInnonet starts the sites under dir, waits until all three are
// healthy voters, and creates the benchmark's user and the lead it reads.
func startInnonet(ctx context.Context, ps *procs, pp *ports, bin, dir string, extra []string) (*innonetCluster, error) {
	c := &innonetCluster{admin: node.NewToken()}
	for _, code := range []string{"CGO", "BOS", "CBG"} {
		api, err := pp.addr()
		if err != nil {
			return nil, err
		}
		raft, err := pp.addr()
		if err != nil {
			return nil, err
		}
		conn, err := grpc.NewClient(api, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			return nil, fmt.Errorf("client of %s: %w", code, err)
		}
		c.sites = append(c.sites, &innonetSite{code: code, api: api, raft: raft, conn: conn})
	}
	env := []string{"INNONET_ADMIN_TOKEN=" + c.admin}
	for i, s := range c.sites {
		data := filepath.Join(dir, strings.ToLower(s.code))
		if err := os.MkdirAll(data, 0o700); err != nil {
			return c, fmt.Errorf("data dir of %s: %w", s.code, err)
		}
		args := append([]string{"serve", "--site", s.code, "--data-dir", data, "--listen", s.api, "--raft-addr", s.raft}, innonetArgs()...)
		args = append(args, extra...)
		if i == 0 {
			args = append(args, "--bootstrap")
		} else {
			args = append(args, "--join", c.sites[0].api)
		}
		p, err := ps.start("innonet-"+s.code, filepath.Join(dir, strings.ToLower(s.code)+".log"), env, []string{"INNONET_"}, bin, args...)
		if err != nil {
			return c, err
		}
		s.proc = p
		if i == 0 {
			// The others join through the first: it must serve first.
			if err := poll(ctx, time.Minute, 100*time.Millisecond, func(ctx context.Context) error { return c.ready(ctx, s) }); err != nil {
				return c, fmt.Errorf("innonet %s did not become ready: %w", s.code, err)
			}
		}
	}
	if err := poll(ctx, 2*time.Minute, 200*time.Millisecond, c.healthy); err != nil {
		return c, fmt.Errorf("innonet did not form a healthy cluster of three voters: %w", err)
	}
	if err := poll(ctx, time.Minute, 200*time.Millisecond, c.createStaff); err != nil {
		return c, fmt.Errorf("create the benchmark's user: %w", err)
	}
	leader, _, _, err := c.roles(ctx)
	if err != nil {
		return c, err
	}
	seed, err := (leads{prefix: "bench-read"}).request(0)
	if err != nil {
		return c, err
	}
	l, err := pb.NewLeadServiceClient(leader.conn).SubmitLead(c.as(ctx, c.staff), seed)
	if err != nil {
		return c, fmt.Errorf("submit the lead the reads read: %w", err)
	}
	c.readID = l.Id
	// Every site must know the user (and the lead) before it is asked.
	if err := c.caughtUp(ctx); err != nil {
		return c, err
	}
	return c, nil
}

func (c *innonetCluster) as(ctx context.Context, token string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token)
}

// ready asks the site's gRPC health service whether it serves (has a
// leader, is a member, has caught up).
func (c *innonetCluster) ready(ctx context.Context, s *innonetSite) error {
	if done, err := s.proc.exited(); done {
		return fmt.Errorf("%s: %w:\n%s", s.code, err, s.proc.tail(10))
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	res, err := healthpb.NewHealthClient(s.conn).Check(ctx, &healthpb.HealthCheckRequest{})
	if err != nil {
		return fmt.Errorf("%s: %w", s.code, err)
	}
	if res.Status != healthpb.HealthCheckResponse_SERVING {
		return fmt.Errorf("%s: %s", s.code, res.Status)
	}
	return nil
}

// view is the leader's view of the cluster, asked through the first site
// that answers.
func (c *innonetCluster) view(ctx context.Context) (*pb.Cluster, error) {
	var last error
	for _, s := range c.sites {
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		cl, err := pb.NewClusterServiceClient(s.conn).GetCluster(c.as(cctx, c.admin), &pb.GetClusterRequest{Consistency: pb.Consistency_LEADER})
		cancel()
		if err == nil && cl.Leader != "" {
			return cl, nil
		}
		if err == nil {
			err = errors.New("no leader")
		}
		last = fmt.Errorf("via %s: %w", s.code, err)
	}
	return nil, fmt.Errorf("no leader answers: %w", last)
}

// healthy returns nil once every site is ready and the leader counts
// three healthy voters.
func (c *innonetCluster) healthy(ctx context.Context) error {
	for _, s := range c.sites {
		if err := c.ready(ctx, s); err != nil {
			return err
		}
	}
	cl, err := c.view(ctx)
	if err != nil {
		return err
	}
	voters := 0
	for _, m := range cl.Members {
		if !m.Healthy {
			return fmt.Errorf("%s is not healthy (%s)", m.Site, m.Status)
		}
		if m.Voter {
			voters++
		}
	}
	if voters != len(c.sites) {
		return fmt.Errorf("%d voters of %d sites", voters, len(c.sites))
	}
	return nil
}

// createStaff creates the benchmark's NODE_STAFF user of BOS (once the
// leader has registered the site) and keeps its token.
func (c *innonetCluster) createStaff(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	users := pb.NewUserServiceClient(c.sites[0].conn)
	res, err := users.CreateUser(c.as(ctx, c.admin), &pb.CreateUserRequest{RequestId: "bench-staff",
		Name: "Benchmark Staff", Role: pb.Role_NODE_STAFF, Site: "BOS"})
	if err != nil {
		return err
	}
	if res.Token == "" {
		// An earlier attempt created the user and its answer was lost.
		tok, err := users.CreateToken(c.as(ctx, c.admin), &pb.CreateTokenRequest{UserId: res.User.GetId(),
			RequestId: fmt.Sprintf("bench-staff-token-%d", time.Now().UnixNano())})
		if err != nil {
			return err
		}
		c.staff = tok.Token
		return nil
	}
	c.staff = res.Token
	return nil
}

// caughtUp returns once every site has applied what the leader had
// committed when it was called.
func (c *innonetCluster) caughtUp(ctx context.Context) error {
	cl, err := c.view(ctx)
	if err != nil {
		return err
	}
	err = poll(ctx, time.Minute, 50*time.Millisecond, func(ctx context.Context) error {
		for _, s := range c.sites {
			st, err := pb.NewClusterServiceClient(s.conn).GetCluster(c.as(ctx, c.admin), &pb.GetClusterRequest{Consistency: pb.Consistency_STALE})
			if err != nil {
				return fmt.Errorf("%s: %w", s.code, err)
			}
			if st.AppliedIndex < cl.CommitIndex {
				return fmt.Errorf("%s applied %d of %d", s.code, st.AppliedIndex, cl.CommitIndex)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("innonet sites did not catch up: %w", err)
	}
	return nil
}

// roles returns the leader, a follower (the first other site) and the
// Raft term.
func (c *innonetCluster) roles(ctx context.Context) (leader, follower *innonetSite, term uint64, err error) {
	cl, err := c.view(ctx)
	if err != nil {
		return nil, nil, 0, err
	}
	for _, s := range c.sites {
		if s.code == cl.Leader {
			leader = s
		} else if follower == nil {
			follower = s
		}
	}
	if leader == nil {
		return nil, nil, 0, fmt.Errorf("leader %q is none of the sites", cl.Leader)
	}
	return leader, follower, cl.Term, nil
}

// cpu is the CPU time the sites have used so far.
func (c *innonetCluster) cpu() time.Duration {
	var sum time.Duration
	for _, s := range c.sites {
		sum += s.proc.cpuTime()
	}
	return sum
}

// rss is the resident memory of each site, by site code.
func (c *innonetCluster) rss() map[string]int64 {
	out := map[string]int64{}
	for _, s := range c.sites {
		if s.proc != nil {
			out[s.code] = s.proc.rssBytes()
		}
	}
	return out
}

// close closes the benchmark's connections (not the sites: see procs).
func (c *innonetCluster) close() {
	for _, s := range c.sites {
		s.conn.Close()
	}
}
