//go:build robustness

package robustness

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	seedFlag     = flag.Uint64("seed", 0, "seed of the fault schedule and the workload (0: a random one, printed)")
	durationFlag = flag.Duration("duration", 3*time.Minute, "how long the workload and the nemesis run")
	longFlag     = flag.Bool("long", false, "a long run: 30 minutes unless -duration is given (raise -timeout to match)")
	binFlag      = flag.String("bin", "", "innonet binary to run (default: build ./cmd/innonet)")
	insecureFlag = flag.Bool("insecure", false, "run the sites in plaintext (--insecure) instead of TLS")
	reportFlag   = flag.String("report", "", "also write the report to this file")
	keepFlag     = flag.Bool("keep", false, "keep the work dir (data, logs, report) even when the run passes")
	profileFlag  = flag.String("raft-profile", "lan", "Raft timing profile of the sites: lan, or test for faster (and more) elections")
	leaderReads  = flag.Bool("check-leader-reads", false, "also check LEADER reads for linearizability (they may legitimately be stale: exploration only)")
)

// Sites of the run: five voters and the Yangtze River Delta division's
// read replica.
var (
	runSites  = []string{"CGO", "BOS", "CBG", "MUC", "TLV", "YRD"}
	nonVoters = map[string]bool{"YRD": true}
)

func TestRobustness(t *testing.T) {
	seed := *seedFlag
	for seed == 0 {
		seed = mrand.Uint64() % 1_000_000_000
	}
	duration := *durationFlag
	if *longFlag && !flagSet("duration") {
		duration = 30 * time.Minute
	}
	fmt.Printf("robustness: seed %d, duration %v\n", seed, duration)
	t.Logf("seed %d, duration %v", seed, duration)

	dir, err := os.MkdirTemp("", "innonet-robustness-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() || *keepFlag {
			fmt.Printf("robustness: work dir kept: %s (seed %d)\n", dir, seed)
			return
		}
		os.RemoveAll(dir)
	})
	bin := *binFlag
	if bin == "" {
		bin = buildBinary(t, dir)
	}
	security, certDir, caFile := "TLS", "", ""
	if *insecureFlag {
		security = "insecure"
	} else {
		certDir = filepath.Join(dir, "certs")
		if out, err := exec.Command(bin, "certs", "--dir", certDir, "--sites", strings.Join(runSites, ",")).CombinedOutput(); err != nil {
			t.Fatalf("innonet certs: %v\n%s", err, out)
		}
		caFile = filepath.Join(certDir, "ca.crt")
	}
	tok := make([]byte, 32)
	_, _ = rand.Read(tok)
	adminToken := "inn_" + hex.EncodeToString(tok)

	logf := func(format string, args ...any) {
		t.Logf(format, args...)
	}
	c, err := NewCluster(dir, ProcessConfig{
		Bin: bin, CertDir: certDir, AdminToken: adminToken,
		Args: []string{
			"--raft-profile", *profileFlag, "--stabilization-time", "3s", "--dead-site-timeout", "0",
			// Snapshot often so that restarts restore snapshots and a
			// wiped site catches up from one.
			"--snapshot-interval", "5s", "--snapshot-threshold", "200", "--trailing-logs", "100",
			// Compare the sites' state digests often: a digest that differs
			// without a real divergence would raise CORRUPT and stop a
			// site, which the convergence and liveness checks catch.
			"--checkpoint-interval", "2s",
		},
	}, runSites, nonVoters, logf)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Stop)
	conns, err := Dial(c.Sites, caFile)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(conns.Close)
	admin := &Admin{C: c, Conns: conns, Token: adminToken}
	ctx := context.Background()

	// Bring the cluster up: CGO bootstraps, the others join through it.
	cgo := c.Site("CGO")
	if err := c.Start(cgo, true, nil); err != nil {
		t.Fatal(err)
	}
	if err := Poll(ctx, time.Minute, 100*time.Millisecond, func(ctx context.Context) error { return admin.Ready(ctx, "CGO") }); err != nil {
		t.Fatalf("CGO not ready: %v (log %s)", err, cgo.LogPath)
	}
	for _, s := range c.Sites[1:] {
		if err := c.Start(s, false, cgo); err != nil {
			t.Fatal(err)
		}
	}
	if err := Poll(ctx, 2*time.Minute, 250*time.Millisecond, admin.Healthy); err != nil {
		t.Fatalf("cluster not healthy: %v (logs in %s)", err, filepath.Join(dir, "logs"))
	}
	users, err := admin.CreateUsers(ctx, "CGO", []string{"BOS", "CBG", "MUC", "TLV"}, []string{"BOHAI", "YRD", "PRD"})
	if err != nil {
		t.Fatalf("create users: %v", err)
	}
	if err := admin.CaughtUp(ctx); err != nil {
		t.Fatalf("users not replicated: %v", err)
	}
	fmt.Printf("robustness: cluster of %s up (%s); running the workload and the nemesis for %v\n", strings.Join(runSites, ","), security, duration)

	// The run.
	h := NewHistory()
	w := &Workload{H: h, Conns: conns, Users: users, Sites: runSites, Seed: seed, Pace: 250 * time.Millisecond, MaxAttempts: 4,
		Incarnation: func(site string) int { return c.Site(site).Incarnation() }}
	nem := &Nemesis{C: c, Admin: admin, H: h, Rng: mrand.New(mrand.NewPCG(seed, 0x6e656d65736973)),
		Hold: 3 * time.Second, Gap: 2 * time.Second, RecoverTimeout: time.Minute,
		Logf: func(format string, args ...any) { fmt.Printf("robustness: "+format+"\n", args...) }}
	runCtx, cancel := context.WithTimeout(ctx, duration)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); w.Run(runCtx, DefaultClients) }()
	go func() { defer wg.Done(); nem.Run(runCtx) }()
	wg.Wait()
	cancel()

	// Heal everything, bring every site back, wait for convergence.
	var notes, liveness []string
	for _, f := range nem.Faults {
		if f.Err != "" {
			liveness = append(liveness, fmt.Sprintf("%s %s at %.1fs: %s", f.Kind, f.Detail, f.Start.Seconds(), f.Err))
		}
	}
	if err := c.Net.HealAll(); err != nil {
		liveness = append(liveness, "final heal: "+err.Error())
	}
	for _, s := range c.Sites {
		if s.Paused() {
			_ = c.Resume(s)
		}
	}
	for _, s := range c.Sites {
		var err error
		switch {
		case s.Running():
		case s.Wiped():
			err = Rejoin(ctx, c, admin, s, time.Minute)
		default:
			err = c.Start(s, false, nem.otherRunning(s))
		}
		if err != nil {
			liveness = append(liveness, "final restart: "+err.Error())
		}
	}
	healed := time.Now()
	if err := Poll(ctx, 2*time.Minute, 250*time.Millisecond, admin.Healthy); err != nil {
		liveness = append(liveness, "cluster not healthy after the final heal: "+err.Error())
	} else {
		notes = append(notes, fmt.Sprintf("cluster healthy %v after the final heal", time.Since(healed).Round(10*time.Millisecond)))
	}
	collectCtx, cancelCollect := context.WithTimeout(ctx, 10*time.Minute)
	final := Collect(collectCtx, conns, adminToken, runSites, 2*time.Minute)
	cancelCollect()
	ops := h.Ops()
	result := Check(ops, final, CheckOptions{Sites: runSites, VisualizeDir: filepath.Join(dir, "visualizations"),
		LinearizableTimeout: time.Minute, LeaderReadsLinearizable: *leaderReads})
	replay := fmt.Sprintf("go test -tags robustness -run TestRobustness -count=1 -timeout %v -v ./tests/robustness -seed %d -duration %v",
		max(15*time.Minute, duration+10*time.Minute), seed, duration)
	if *insecureFlag {
		replay += " -insecure"
	}
	if *profileFlag != "lan" {
		replay += " -raft-profile " + *profileFlag
	}
	if *leaderReads {
		replay += " -check-leader-reads"
	}
	rep := &Report{Seed: seed, Duration: duration, Replay: replay, Security: security, Sites: runSites, Ops: ops, Faults: nem.Faults,
		Result: result, Final: final, Crashes: c.Crashes(), Liveness: liveness, Notes: notes}
	if b, err := json.Marshal(struct {
		Ops    []Op
		Faults []Fault
		Final  *Final
	}{ops, nem.Faults, final}); err == nil {
		_ = os.WriteFile(filepath.Join(dir, "history.json"), b, 0o644)
	}
	var buf bytes.Buffer
	rep.Write(&buf)
	fmt.Print("\n" + buf.String())
	_ = os.WriteFile(filepath.Join(dir, "report.txt"), buf.Bytes(), 0o644)
	if *reportFlag != "" {
		if err := os.WriteFile(*reportFlag, buf.Bytes(), 0o644); err != nil {
			t.Errorf("write report: %v", err)
		}
	}
	if n := rep.Anomalies(); n > 0 {
		t.Fatalf("%d anomalies (seed %d); report, logs and visualizations in %s", n, seed, dir)
	}
}

func flagSet(name string) bool {
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// buildBinary builds ./cmd/innonet (without -race: the run is about the
// system's behaviour under faults, and the machine is small).
func buildBinary(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "innonet")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/innonet")
	cmd.Dir = filepath.Join("..", "..")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build innonet: %v\n%s", err, out)
	}
	return bin
}
