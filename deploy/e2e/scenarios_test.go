//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"
)

// mustWrite sends one write to a site and retries it with the same body
// (and request ID) while the answer is 503; anything but 200 then fails.
func (n *network) mustWrite(ctx context.Context, t *testing.T, s site, path, token string, in, out any) {
	t.Helper()
	eventually(ctx, t, 30*time.Second, "POST "+path+" at "+s.Code, func() error {
		wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		err := n.api.do(wctx, http.MethodPost, s.Client, path, token, in, out)
		if err != nil && statusOf(err) != http.StatusServiceUnavailable && statusOf(err) != 0 {
			t.Fatalf("POST %s at %s: %v", path, s.Code, err)
		}
		return err
	})
}

// testContainers checks what the image promises: a non-root user, data on
// the site's own volume, and a health check that turns healthy.
func testContainers(t *testing.T, n *network) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := docker(ctx, "image", "inspect", "--format",
		"{{.Config.User}}|{{json .Config.Healthcheck.Test}}|{{json .Config.Volumes}}|{{len .RootFS.Layers}}", n.image)
	if err != nil {
		t.Fatal(err)
	}
	want := `65532:65532|["CMD","/innonet","health"]|{"/data":{}}|2`
	if got := strings.TrimSpace(out); got != want {
		t.Errorf("image user|health check|volumes|layers:\n got %s\nwant %s (FROM scratch: the binaries, then the data and certs dirs)", got, want)
	}
	for _, s := range n.sites {
		out, err := docker(ctx, "inspect", "--format", `{{range .Mounts}}{{.Type}} {{.Name}} {{.Destination}} rw={{.RW}};{{end}}`, n.ids[s.Code])
		if err != nil {
			t.Fatal(err)
		}
		got := strings.Split(strings.TrimSuffix(strings.TrimSpace(out), ";"), ";")
		sort.Strings(got)
		want := []string{
			fmt.Sprintf("volume %s_certs /certs rw=false", n.p.name),
			fmt.Sprintf("volume %s_%s /data rw=true", n.p.name, s.Service),
		}
		sort.Strings(want)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("site %s mounts %q, want %q", s.Code, got, want)
		}
	}
	began := time.Now()
	eventually(ctx, t, 90*time.Second, "every container healthy", func() error {
		for _, s := range n.sites {
			out, err := docker(ctx, "inspect", "--format", "{{.State.Health.Status}}", n.ids[s.Code])
			if err != nil {
				return err
			}
			if st := strings.TrimSpace(out); st != "healthy" {
				return fmt.Errorf("site %s is %s", s.Code, st)
			}
		}
		return nil
	})
	t.Logf("image runs as 65532:65532 with /data on each site's own volume and the certificates read-only; all %d containers healthy (waited %s)",
		len(n.sites), time.Since(began).Round(time.Millisecond))
}

// testLifecycle takes a lead from Boston through HQ's review to a claim by
// the Yangtze River Delta division, each step through that party's own
// site, and checks every site's copy and the audit trail.
func testLifecycle(t *testing.T, n *network) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	bos, cgo, yrd := n.site("BOS"), n.site("CGO"), n.site("YRD")

	var l lead
	n.mustWrite(ctx, t, bos, "/v1/leads", n.tokens["BOS"], map[string]any{
		"requestId": "e2e-life-submit", "title": "mRNA vaccine platform", "summary": "Thermostable mRNA formulation.",
		"organization": "Longwood Vaccines", "country": "US", "sector": "LIFE_SCIENCES_HEALTH", "trl": 5,
		"dealType": "TECHNOLOGY_LICENSING", "tags": []string{"mRNA"},
		"contacts": []map[string]string{{"name": "Dr. Ana Ruiz", "email": "ana@longwood.example"}},
	}, &l)
	if l.Stage != "SUBMITTED" || l.Site != "BOS" || !strings.HasPrefix(l.ID, "BOS-") {
		t.Fatalf("submitted at BOS: got %+v, want a BOS lead in stage SUBMITTED", l)
	}
	n.mustWrite(ctx, t, cgo, "/v1/leads/"+l.ID+":review", n.tokens["HQ"],
		map[string]any{"requestId": "e2e-life-review", "decision": "APPROVE", "comment": "Fits the biomedicine cluster."}, &l)
	if l.Stage != "APPROVED" {
		t.Fatalf("reviewed at CGO: got stage %s, want APPROVED", l.Stage)
	}
	n.mustWrite(ctx, t, yrd, "/v1/leads/"+l.ID+":claim", n.tokens["YRD"], map[string]any{"requestId": "e2e-life-claim"}, &l)
	if l.Stage != "CLAIMED" || l.Division != "YRD" {
		t.Fatalf("claimed at YRD: got stage %s division %q, want CLAIMED by YRD", l.Stage, l.Division)
	}

	for _, s := range n.sites {
		eventually(ctx, t, 30*time.Second, "lead "+l.ID+" claimed in "+s.Code+"'s copy", func() error {
			var got lead
			if err := n.api.get(ctx, s.Client, "/v1/leads/"+l.ID+"?consistency=STALE", n.tokens["HQ"], &got); err != nil {
				return err
			}
			if got.Stage != "CLAIMED" || got.Division != "YRD" {
				return fmt.Errorf("stage %s division %q", got.Stage, got.Division)
			}
			return nil
		})
	}

	var h struct{ Events []historyEvent }
	if err := n.api.get(ctx, n.site("PRD").Client, "/v1/leads/"+l.ID+"/history", n.tokens["HQ"], &h); err != nil {
		t.Fatalf("history through PRD: %v", err)
	}
	want := []historyEvent{
		{Action: "SUBMIT", UserSite: "BOS", OriginSite: "BOS", ToStage: "SUBMITTED"},
		{Action: "APPROVE", UserSite: "HQ", OriginSite: "CGO", ToStage: "APPROVED"},
		{Action: "CLAIM", UserSite: "YRD", OriginSite: "YRD", ToStage: "CLAIMED"},
	}
	if fmt.Sprint(h.Events) != fmt.Sprint(want) {
		t.Fatalf("history of %s:\n got %+v\nwant %+v", l.ID, h.Events, want)
	}
	t.Logf("lead %s: submitted at BOS, approved at CGO, claimed at YRD; claimed on all %d sites; history names each origin site", l.ID, len(n.sites))
}

// testKillLeader kills the leader's container with SIGKILL in the middle of
// a stream of writes.
func testKillLeader(t *testing.T, n *network) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	n.waitStable(ctx, t, time.Minute)
	old := n.leader(ctx, t)
	id := n.ids[old.Code]

	l := startLoad(ctx, n.api, n.tokens["BOS"], "kill", n.clients(), 2, 5000, 10*time.Millisecond)
	defer l.stop()
	l.waitAcked(ctx, t, 50, 30*time.Second, "writes before the kill")

	killed := time.Now()
	if _, err := docker(ctx, "kill", "--signal", "KILL", id); err != nil {
		t.Fatal(err)
	}
	defer func() { _, _ = docker(context.Background(), "start", id) }() // in case the test stops early
	atKill := l.count()
	var voters []site
	for _, s := range n.others(old) {
		if s.Voter {
			voters = append(voters, s)
		}
	}
	leader, election := n.waitNewLeader(ctx, t, old, killed, voters)
	atElection := l.count()
	l.waitAcked(ctx, t, atElection+50, 30*time.Second, "writes after the new leader")
	resumed := time.Since(killed)
	stats := l.stop()
	if len(stats.Failures) > 0 {
		t.Fatalf("writes refused for good: %v", stats.Failures)
	}

	if _, err := docker(ctx, "start", id); err != nil {
		t.Fatal(err)
	}
	n.waitStable(ctx, t, time.Minute)
	rejoined := time.Since(killed)
	n.verify(ctx, t, stats.Acked, time.Minute)
	t.Logf("kill -9 of leader %s after %d writes: %s leads %s after the kill; 50 more writes acknowledged %s after the kill; %s restarted and stable %s after the kill",
		old.Code, atKill, leader.Code, election.Round(time.Millisecond), resumed.Round(time.Millisecond), old.Code, rejoined.Round(time.Millisecond))
	t.Logf("kill -9 load: %s", stats)
}

// testPartitionLeader cuts the leader's container off the wan (its users
// still reach it on the clients network), then reconnects it.
func testPartitionLeader(t *testing.T, n *network) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	n.waitStable(ctx, t, time.Minute)
	old := n.leader(ctx, t)
	id := n.ids[old.Code]

	l := startLoad(ctx, n.api, n.tokens["BOS"], "partition", n.clients(), 2, 5000, 10*time.Millisecond)
	defer l.stop()
	l.waitAcked(ctx, t, 50, 30*time.Second, "writes before the partition")

	cut := time.Now()
	if _, err := docker(ctx, "network", "disconnect", n.wanNet, id); err != nil {
		t.Fatal(err)
	}
	connected := false
	reconnect := func() error {
		_, err := docker(context.Background(), "network", "connect", "--ip", old.WANIP, "--alias", old.Service, n.wanNet, id)
		if err == nil {
			connected = true
		}
		return err
	}
	defer func() {
		if !connected {
			_ = reconnect() // in case the test stops early; the test has failed already
		}
	}()

	leader, election := n.waitNewLeader(ctx, t, old, cut, n.others(old))
	atElection := l.count()
	l.waitAcked(ctx, t, atElection+50, 30*time.Second, "the majority accepting writes")

	// The cut-off site still answers its own users: reads from its copy,
	// but a write gets 503 once it knows it leads no one.
	eventually(ctx, t, 30*time.Second, old.Code+" stepping down", func() error {
		v, err := n.api.view(ctx, old.Client, n.admin)
		if err != nil {
			return err
		}
		if v.State == "Leader" || v.Leader != "" {
			return fmt.Errorf("%s is %s and sees leader %q", old.Code, v.State, v.Leader)
		}
		return nil
	})
	refused := map[string]any{
		"requestId": "e2e-partition-refused", "title": "e2e refused while cut off", "summary": "Must not be applied.",
		"organization": "e2e", "country": "US", "sector": "IT_AI", "trl": 5, "dealType": "INVESTMENT",
	}
	wctx, wcancel := context.WithTimeout(ctx, 15*time.Second)
	err := n.api.do(wctx, http.MethodPost, old.Client, "/v1/leads", n.tokens["BOS"], refused, nil)
	wcancel()
	if statusOf(err) != http.StatusServiceUnavailable {
		t.Fatalf("write at cut-off %s: got %v, want HTTP 503", old.Code, err)
	}
	if n.api.ready(ctx, old.Client) {
		t.Errorf("cut-off %s answers 200 on /readyz, want 503", old.Code)
	}
	if _, err := n.api.leads(ctx, old.Client, n.tokens["HQ"]); err != nil {
		t.Errorf("stale read at cut-off %s: %v", old.Code, err)
	}
	stats := l.stop()
	if len(stats.Failures) > 0 {
		t.Fatalf("writes refused for good: %v", stats.Failures)
	}

	healed := time.Now()
	if err := reconnect(); err != nil {
		t.Fatal(err)
	}
	n.waitStable(ctx, t, time.Minute)
	converged := time.Since(healed)
	n.verify(ctx, t, stats.Acked, time.Minute)
	for _, s := range n.sites {
		leads, err := n.api.leads(ctx, s.Client, n.tokens["HQ"])
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range leads {
			if l.Title == refused["title"] {
				t.Errorf("site %s has the write refused with 503 during the partition: lead %s", s.Code, l.ID)
			}
		}
	}
	t.Logf("partition of leader %s: %s leads %s after the cut; the majority acknowledged %d writes while %s was cut off; %s answered 503 to a write and to /readyz and served stale reads; stable again %s after reconnecting",
		old.Code, leader.Code, election.Round(time.Millisecond), len(stats.Acked)-atElection, old.Code, old.Code, converged.Round(time.Millisecond))
	t.Logf("partition load: %s", stats)
}

// testRollingRestart restarts every site in turn (docker stop: SIGTERM,
// then start),
// the leader last, under a steady write load, waiting for each to be ready
// and for writes to flow before the next.
func testRollingRestart(t *testing.T, n *network) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	n.waitStable(ctx, t, time.Minute)
	leader := n.leader(ctx, t)
	order := append(n.others(leader), leader)

	l := startLoad(ctx, n.api, n.tokens["BOS"], "rolling", n.clients(), 2, 20000, 20*time.Millisecond)
	defer l.stop()
	l.waitAcked(ctx, t, 20, 30*time.Second, "writes before the first restart")
	began := time.Now()
	var took []string
	for _, s := range order {
		start := time.Now()
		if _, err := docker(ctx, "stop", "--time", "20", n.ids[s.Code]); err != nil {
			t.Fatal(err)
		}
		stopped := time.Since(start)
		if _, err := docker(ctx, "start", n.ids[s.Code]); err != nil {
			t.Fatal(err)
		}
		n.waitStable(ctx, t, time.Minute)
		took = append(took, fmt.Sprintf("%s %s (stop %s)", s.Code, time.Since(start).Round(100*time.Millisecond), stopped.Round(100*time.Millisecond)))
		l.waitAcked(ctx, t, l.count()+10, 30*time.Second, "writes after restarting "+s.Code)
	}
	stats := l.stop()
	if len(stats.Failures) > 0 {
		t.Fatalf("writes refused for good: %v", stats.Failures)
	}
	n.verify(ctx, t, stats.Acked, time.Minute)
	t.Logf("rolling restart of all %d sites (leader %s last) in %s: %s", len(order), leader.Code,
		time.Since(began).Round(time.Millisecond), strings.Join(took, ", "))
	t.Logf("rolling restart load: %s", stats)
}

// testTeardown removes the network and checks nothing of it is left: no
// container and no volume, ever; a network only when the engine itself
// refuses to drop a stale endpoint with no container attached, which is
// reported as the engine's fault (see teardown).
func testTeardown(t *testing.T, n *network) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	began := time.Now()
	r := n.p.teardown(ctx, 20*time.Second)
	n.stopped = true
	if r.composeErr != nil {
		t.Logf("docker-compose down failed; the teardown went on by itself: %v", r.composeErr)
	}
	if len(r.removed) > 0 {
		t.Logf("removed after docker-compose down: %s", strings.Join(r.removed, ", "))
	}
	t.Logf("teardown: %d network removal(s) needed a retry", r.retries)
	if msg := r.staleAdvice(); msg != "" {
		t.Log(msg)
	}
	if msg := r.problem(); msg != "" {
		t.Fatalf("after teardown: %s", msg)
	}
	t.Logf("torn down in %s: no container or volume of project %s left, %d stale network(s)",
		time.Since(began).Round(time.Millisecond), n.p.name, len(r.stale))
}
