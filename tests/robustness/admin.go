package robustness

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	innonetpb "innonet/proto/innonet/v1"
)

// Admin runs operator tasks with the admin token.
type Admin struct {
	C     *Cluster
	Conns *Conns
	Token string
}

// Ready reports whether site is ready (knows a leader, is a member, has
// applied what it knows to be committed), by the gRPC health service.
func (a *Admin) Ready(ctx context.Context, site string) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	res, err := a.Conns.Health(site).Check(ctx, &healthpb.HealthCheckRequest{})
	if err != nil {
		return fmt.Errorf("%s: %w", site, err)
	}
	if res.Status != healthpb.HealthCheckResponse_SERVING {
		return fmt.Errorf("%s: %s", site, res.Status)
	}
	return nil
}

// View asks the leader (through any running, unpaused site) for the
// members and their health.
func (a *Admin) View(ctx context.Context) (*innonetpb.Cluster, error) {
	var errs []error
	for _, s := range a.C.Sites {
		if !s.Running() || s.Paused() {
			continue
		}
		cctx, cancel := withToken(ctx, a.Token)
		cl, err := a.Conns.Cluster(s.Code).GetCluster(cctx, &innonetpb.GetClusterRequest{Consistency: innonetpb.Consistency_LEADER})
		cancel()
		if err == nil && cl.Leader != "" {
			return cl, nil
		}
		errs = append(errs, fmt.Errorf("via %s: %v", s.Code, err))
	}
	return nil, fmt.Errorf("no leader answers: %w", errors.Join(errs...))
}

// Leader returns the current leader's site code.
func (a *Admin) Leader(ctx context.Context) (string, error) {
	cl, err := a.View(ctx)
	if err != nil {
		return "", err
	}
	return cl.Leader, nil
}

// Healthy returns nil once every site runs, is ready, and is a member
// with its intended suffrage, and the leader's health checks find the
// whole group healthy.
func (a *Admin) Healthy(ctx context.Context) error {
	for _, s := range a.C.Sites {
		if !s.Running() || s.Paused() {
			return fmt.Errorf("%s is not running", s.Code)
		}
		if err := a.Ready(ctx, s.Code); err != nil {
			return err
		}
	}
	cl, err := a.View(ctx)
	if err != nil {
		return err
	}
	members := map[string]*innonetpb.Member{}
	for _, m := range cl.Members {
		members[m.Site] = m
	}
	for _, s := range a.C.Sites {
		m := members[s.Code]
		switch {
		case m == nil:
			return fmt.Errorf("%s is not a member", s.Code)
		case m.Voter != s.Voter:
			return fmt.Errorf("%s: voter=%v, want %v", s.Code, m.Voter, s.Voter)
		case !m.Healthy:
			return fmt.Errorf("%s is not healthy (%s)", s.Code, m.Status)
		}
	}
	if len(cl.Members) != len(a.C.Sites) {
		return fmt.Errorf("%d members, want %d", len(cl.Members), len(a.C.Sites))
	}
	return nil
}

// Voters returns the sites that are voters now, sorted.
func (a *Admin) Voters(ctx context.Context) ([]string, error) {
	cl, err := a.View(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, m := range cl.Members {
		if m.Voter {
			out = append(out, m.Site)
		}
	}
	sort.Strings(out)
	return out, nil
}

// RemoveMember removes site from the Raft configuration through any
// running site other than it; a site that is no longer a member is fine.
func (a *Admin) RemoveMember(ctx context.Context, site string) error {
	var last error
	for _, s := range a.C.Sites {
		if s.Code == site || !s.Running() || s.Paused() {
			continue
		}
		cctx, cancel := withToken(ctx, a.Token)
		_, err := a.Conns.Cluster(s.Code).RemoveMember(cctx, &innonetpb.RemoveMemberRequest{Site: site})
		cancel()
		if err == nil || status.Code(err) == codes.NotFound {
			return nil
		}
		last = fmt.Errorf("via %s: %w", s.Code, err)
	}
	if last == nil {
		last = errors.New("no site to ask")
	}
	return last
}

// Users are the workload's users and their tokens.
type Users struct {
	HQ        string
	Staff     map[string]string // by site
	Divisions map[string]string // by division
}

// CreateUsers adds an HQ reviewer, node staff for each of staffSites and
// a user per division.
func (a *Admin) CreateUsers(ctx context.Context, via string, staffSites, divisions []string) (*Users, error) {
	create := func(req *innonetpb.CreateUserRequest) (string, error) {
		req.RequestId = "robustness-user-" + strings.ToLower(req.Name)
		var token string
		err := Poll(ctx, 30*time.Second, 200*time.Millisecond, func(ctx context.Context) error {
			cctx, cancel := withToken(ctx, a.Token)
			defer cancel()
			res, err := a.Conns.Users(via).CreateUser(cctx, req)
			if err != nil {
				return err
			}
			if res.Token == "" {
				// An earlier attempt created the user; its token was
				// lost with that answer. Issue another one.
				tok, err := a.Conns.Users(via).CreateToken(cctx, &innonetpb.CreateTokenRequest{
					UserId: res.User.GetId(), RequestId: req.RequestId + "-token-" + time.Now().Format("150405.000000")})
				if err != nil {
					return err
				}
				token = tok.Token
				return nil
			}
			token = res.Token
			return nil
		})
		return token, err
	}
	u := &Users{Staff: map[string]string{}, Divisions: map[string]string{}}
	var err error
	if u.HQ, err = create(&innonetpb.CreateUserRequest{Name: "HQ-Reviewer", Role: innonetpb.Role_HQ_REVIEWER}); err != nil {
		return nil, err
	}
	for _, site := range staffSites {
		if u.Staff[site], err = create(&innonetpb.CreateUserRequest{Name: "Staff-" + site, Role: innonetpb.Role_NODE_STAFF, Site: site}); err != nil {
			return nil, err
		}
	}
	for _, d := range divisions {
		if u.Divisions[d], err = create(&innonetpb.CreateUserRequest{Name: "Division-" + d, Role: innonetpb.Role_DIVISION, Division: d}); err != nil {
			return nil, err
		}
	}
	return u, nil
}

// CaughtUp returns nil once every site has applied everything the leader
// had committed when it was called (users just created can then sign in
// at every site). Each site reports its own progress (GetCluster STALE).
func (a *Admin) CaughtUp(ctx context.Context) error {
	cl, err := a.View(ctx)
	if err != nil {
		return err
	}
	return Poll(ctx, time.Minute, 100*time.Millisecond, func(ctx context.Context) error {
		for _, s := range a.C.Sites {
			cctx, cancel := withToken(ctx, a.Token)
			st, err := a.Conns.Cluster(s.Code).GetCluster(cctx, &innonetpb.GetClusterRequest{Consistency: innonetpb.Consistency_STALE})
			cancel()
			if err != nil {
				return fmt.Errorf("%s: %w", s.Code, err)
			}
			if st.AppliedIndex < cl.CommitIndex {
				return fmt.Errorf("%s applied %d of %d", s.Code, st.AppliedIndex, cl.CommitIndex)
			}
		}
		return nil
	})
}
