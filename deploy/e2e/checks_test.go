//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// site returns the site with a code.
func (n *network) site(code string) site {
	for _, s := range n.sites {
		if s.Code == code {
			return s
		}
	}
	panic("no site " + code) // the codes are the test's own constants
}

// clients is every site's client address.
func (n *network) clients() []string {
	var out []string
	for _, s := range n.sites {
		out = append(out, s.Client)
	}
	return out
}

// eventually polls f until it returns nil, failing the test with f's last
// error when timeout passes.
func eventually(ctx context.Context, t *testing.T, timeout time.Duration, what string, f func() error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		err := f()
		if err == nil {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s: not done after %s: %v", what, timeout, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// waitStable polls until every site is ready and every site's own view
// shows the same leader and all eight members with the five voters.
func (n *network) waitStable(ctx context.Context, t *testing.T, timeout time.Duration) {
	t.Helper()
	eventually(ctx, t, timeout, "every site ready, one leader, five voters", func() error {
		leader := ""
		for _, s := range n.sites {
			if !n.api.ready(ctx, s.Client) {
				return fmt.Errorf("site %s is not ready", s.Code)
			}
			v, err := n.api.view(ctx, s.Client, n.admin)
			if err != nil {
				return fmt.Errorf("site %s: %w", s.Code, err)
			}
			if leader == "" {
				leader = v.Leader
			}
			if v.Leader == "" || v.Leader != leader {
				return fmt.Errorf("site %s sees leader %q, others %q", s.Code, v.Leader, leader)
			}
			var voters []string
			for _, m := range v.Members {
				if m.Voter {
					voters = append(voters, m.Site)
				}
			}
			if len(v.Members) != len(n.sites) || len(voters) != 5 {
				return fmt.Errorf("site %s sees %d members, voters %v", s.Code, len(v.Members), voters)
			}
		}
		return nil
	})
}

// leader returns the leader all sites agree on (call after waitStable).
func (n *network) leader(ctx context.Context, t *testing.T) site {
	t.Helper()
	v, err := n.api.view(ctx, n.sites[0].Client, n.admin)
	if err != nil || v.Leader == "" {
		t.Fatalf("no leader in CGO's view: %v", err)
	}
	return n.site(v.Leader)
}

// waitNewLeader polls the given sites until one of them sees a leader other
// than old, and returns it with the time it took since since.
func (n *network) waitNewLeader(ctx context.Context, t *testing.T, old site, since time.Time, among []site) (site, time.Duration) {
	t.Helper()
	var found string
	eventually(ctx, t, 30*time.Second, "a new leader", func() error {
		for _, s := range among {
			v, err := n.api.view(ctx, s.Client, n.admin)
			if err == nil && v.Leader != "" && v.Leader != old.Code {
				found = v.Leader
				return nil
			}
		}
		return fmt.Errorf("no site sees a leader other than %s", old.Code)
	})
	return n.site(found), time.Since(since)
}

// others is every site but the one given.
func (n *network) others(s site) []site {
	var out []site
	for _, o := range n.sites {
		if o.Code != s.Code {
			out = append(out, o)
		}
	}
	return out
}

// verify waits until every site's own copy holds every acknowledged write,
// each exactly once, and all sites hold the same leads.
func (n *network) verify(ctx context.Context, t *testing.T, acked []ackedWrite, timeout time.Duration) {
	t.Helper()
	if len(acked) == 0 {
		t.Fatal("no acknowledged writes to verify")
	}
	began := time.Now()
	hq := n.tokens["HQ"]
	eventually(ctx, t, timeout, "every acknowledged write on every site, once", func() error {
		var first []lead
		for i, s := range n.sites {
			leads, err := n.api.leads(ctx, s.Client, hq)
			if err != nil {
				return fmt.Errorf("list leads at %s: %w", s.Code, err)
			}
			byTitle := map[string][]string{}
			for _, l := range leads {
				byTitle[l.Title] = append(byTitle[l.Title], l.ID)
			}
			for _, w := range acked {
				ids := byTitle[w.Title]
				switch {
				case len(ids) == 0:
					return fmt.Errorf("site %s has not got acknowledged write %s (lead %s) among its %d leads", s.Code, w.RequestID, w.LeadID, len(leads))
				case len(ids) > 1:
					return fmt.Errorf("site %s has write %s %d times: leads %v", s.Code, w.RequestID, len(ids), ids)
				case ids[0] != w.LeadID:
					return fmt.Errorf("site %s has write %s as lead %s, acknowledged as %s", s.Code, w.RequestID, ids[0], w.LeadID)
				}
			}
			if i == 0 {
				first = leads
			} else if len(leads) != len(first) {
				return fmt.Errorf("site %s has %d leads, %s has %d", s.Code, len(leads), n.sites[0].Code, len(first))
			}
		}
		return nil
	})
	t.Logf("all %d acknowledged writes on all %d sites, exactly once (checked within %s)", len(acked), len(n.sites), time.Since(began).Round(time.Millisecond))
}
