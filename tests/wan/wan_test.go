//go:build wan

package wan

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"text/tabwriter"
	"time"

	"innonet/tests/robustness"
)

var (
	longFlag     = flag.Bool("long", false, "the long run: the sample counts and durations of the measurement (see the package doc); flags given explicitly win")
	binFlag      = flag.String("bin", "", "innonet binary to run (default: build ./cmd/innonet)")
	insecureFlag = flag.Bool("insecure", false, "run the sites in plaintext (--insecure) instead of TLS")
	reportFlag   = flag.String("report", "", "also write the report to this file")
	keepFlag     = flag.Bool("keep", false, "keep the work dir (data, logs, report) even when the run passes")
	profileFlag  = flag.String("raft-profile", "wan", "Raft timing profile of the sites: wan, lan or test")
	rttFlag      = flag.String("rtt", "", "overrides of the round-trip matrix, e.g. CGO-BOS=230,CBG-MUC=20 (ms)")
	timeoutFlag  = flag.Duration("request-timeout", 30*time.Second, "every client request's deadline")
	claimSite    = flag.String("claim-site", "YRD", "division (and its site) whose claims are timed: BOHAI, YRD or PRD")

	samplesFlag = flag.Int("samples", 3, "placement: timed samples of each write per leader placement (long: 20)")
	warmupFlag  = flag.Int("warmup", 1, "placement: untimed rounds of the six writes after each transfer")

	autoFlag = flag.Duration("auto-duration", 45*time.Second, "auto placement: how long the mix runs (long: 2m)")

	cutFlag       = flag.Duration("cut", 20*time.Second, "border cut: how long the border stays cut (long: 2m)")
	cutModeFlag   = flag.String("cut-mode", "blackhole", "how a cut link fails: blackhole (bytes dropped, connections hang) or refuse (connections refused)")
	cutLeaderFlag = flag.String("cut-leader", "MUC", "border cut: the overseas voter that leads during the cut")
	paceFlag      = flag.Duration("pace", 2*time.Second, "border cut and flapping: each site's pause between its writes")
	boundFlag     = flag.Duration("refusal-bound", 0, "border cut: the longest a refused synchronous write may take (default: the target of 2x the profile's election timeout, plus 2s: 12s with wan)")

	flapCyclesFlag = flag.Int("flap-cycles", 2, "flapping border: down/up cycles (long: 6)")
	flapDownFlag   = flag.Duration("flap-down", 5*time.Second, "flapping border: how long the border is down in a cycle")
	flapUpFlag     = flag.Duration("flap-up", 5*time.Second, "flapping border: how long the border is up in a cycle")

	loadFlag       = flag.Duration("load-duration", 10*time.Second, "throughput: how long the 16 submitters run (long: 1m)")
	loadClients    = flag.Int("load-clients", 16, "throughput: concurrent closed-loop submitters")
	loadOriginFlag = flag.String("load-origin", "leader", "throughput: where the submitters submit: leader (node staff at the leader's site) or nodes (spread over BOS, CBG, MUC, TLV)")
	cpuProfiles    = flag.String("cpu-profiles", "", "throughput: run the sites with --pprof and save each site's CPU profile of the load in this directory")
	seqFlag        = flag.Int("seq-samples", 20, "throughput: sequential submits at the leader's site for the baseline p50 (long: 100)")
)

// long sets the long run's values of the flags not given explicitly.
func applyLong() {
	if !*longFlag {
		return
	}
	set := map[string]bool{}
	flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
	for name, v := range map[string]string{"samples": "20", "auto-duration": "2m", "cut": "2m",
		"flap-cycles": "6", "load-duration": "1m", "seq-samples": "100"} {
		if !set[name] {
			_ = flag.Set(name, v)
		}
	}
}

// leaderWait is cluster.Config.LeaderWait of each profile: twice the
// election timeout (at least 7s with test).
var leaderWait = map[string]time.Duration{"wan": 10 * time.Second, "lan": 2 * time.Second, "test": 7 * time.Second}

// env is what every scenario shares: the binary, certificates, admin
// token, work dir and report, and the cluster most scenarios run on.
type env struct {
	dir, bin, certDir, caFile, token string
	m                                Matrix
	placementFlag                    bool // serve has --leader-placement
	report                           *Report
	shared                           *Harness
	sharedErr                        error
	clusters                         int
	// top is the top-level test: clusters are stopped when it ends, so
	// that the shared one outlives the subtest that started it.
	top *testing.T
}

func TestWAN(t *testing.T) {
	applyLong()
	if !leaderWaitKnown(*profileFlag) {
		t.Fatalf("-raft-profile %q: want wan, lan or test", *profileFlag)
	}
	switch {
	case *cutModeFlag != string(robustness.Blackhole) && *cutModeFlag != string(robustness.Refuse):
		t.Fatalf("-cut-mode %q: want blackhole or refuse", *cutModeFlag)
	case *loadOriginFlag != "leader" && *loadOriginFlag != "nodes":
		t.Fatalf("-load-origin %q: want leader or nodes", *loadOriginFlag)
	case !contains(Divisions, *claimSite):
		t.Fatalf("-claim-site %q: want one of %s", *claimSite, strings.Join(Divisions, ", "))
	case !contains(Nodes, *cutLeaderFlag):
		t.Fatalf("-cut-leader %q: want an overseas voter: %s", *cutLeaderFlag, strings.Join(Nodes, ", "))
	}
	m, err := ParseMatrix(*rttFlag)
	if err != nil {
		t.Fatalf("-rtt: %v", err)
	}
	e := &env{m: m, report: &Report{Out: os.Stdout}, top: t}
	e.dir, err = os.MkdirTemp("", "innonet-wan-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() || *keepFlag {
			fmt.Printf("wan: work dir kept: %s\n", e.dir)
			return
		}
		os.RemoveAll(e.dir)
	})
	e.bin = *binFlag
	if e.bin == "" {
		e.bin = buildBinary(t, e.dir)
	}
	help, _ := exec.Command(e.bin, "serve", "--help").CombinedOutput()
	e.placementFlag = strings.Contains(string(help), "-leader-placement")
	security := "TLS"
	if *insecureFlag {
		security = "insecure (plaintext)"
	} else {
		e.certDir = filepath.Join(e.dir, "certs")
		if out, err := exec.Command(e.bin, "certs", "--dir", e.certDir, "--sites", strings.Join(Sites(), ",")).CombinedOutput(); err != nil {
			t.Fatalf("innonet certs: %v\n%s", err, out)
		}
		e.caFile = filepath.Join(e.certDir, "ca.crt")
	}
	tok := make([]byte, 32)
	_, _ = rand.Read(tok)
	e.token = "inn_" + hex.EncodeToString(tok)
	e.report.Section("WAN harness", func(w *tabwriter.Writer) {
		fmt.Fprintf(w, "sites: voters %s (CGO bootstraps), non-voters %s; raft profile %s; %s; cut mode %s\n",
			strings.Join(Voters, " "), strings.Join(Divisions, " "), *profileFlag, security, *cutModeFlag)
		fmt.Fprintf(w, "round trips (ms), one proxy per ordered pair, half each way:\n")
		fmt.Fprintf(w, "\t")
		for _, b := range Sites() {
			fmt.Fprintf(w, "%s\t", b)
		}
		fmt.Fprintln(w)
		for _, a := range Sites() {
			fmt.Fprintf(w, "%s\t", a)
			for _, b := range Sites() {
				fmt.Fprintf(w, "%d\t", m.RTT(a, b).Milliseconds())
			}
			fmt.Fprintln(w)
		}
	})

	t.Run("auto", func(t *testing.T) { runAuto(t, e) })
	t.Run("placement", func(t *testing.T) { runPlacement(t, e.cluster(t)) })
	t.Run("throughput", func(t *testing.T) { runThroughput(t, e.cluster(t)) })
	t.Run("cut", func(t *testing.T) { runCut(t, e.cluster(t)) })
	t.Run("flap", func(t *testing.T) { runFlap(t, e.cluster(t)) })

	b := e.report.Bytes()
	_ = os.WriteFile(filepath.Join(e.dir, "report.txt"), b, 0o644)
	if *reportFlag != "" {
		if err := os.WriteFile(*reportFlag, b, 0o644); err != nil {
			t.Errorf("write report: %v", err)
		}
	}
}

func leaderWaitKnown(profile string) bool { _, ok := leaderWait[profile]; return ok }

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// cluster is the shared cluster, started on first use (leader placement
// manual where the binary has the flag); a scenario that needs it skips
// when it could not be started.
func (e *env) cluster(t *testing.T) *Harness {
	t.Helper()
	if e.shared == nil && e.sharedErr == nil {
		var extra []string
		if e.placementFlag {
			extra = []string{"--leader-placement", "manual"}
		}
		e.shared, e.sharedErr = e.start(extra)
	}
	if e.sharedErr != nil {
		t.Fatalf("cluster: %v", e.sharedErr)
	}
	return e.shared
}

// start starts a cluster of all the sites behind the matrix's latencies:
// CGO bootstraps, the others join through it; then creates the users.
// The processes are stopped when the top-level test ends.
func (e *env) start(extra []string) (*Harness, error) {
	e.clusters++
	dir := filepath.Join(e.dir, fmt.Sprintf("cluster%d", e.clusters))
	args := append([]string{"--raft-profile", *profileFlag, "--stabilization-time", "3s", "--dead-site-timeout", "0",
		// The throughput scenario measures replication, not the per-token
		// rate limiter.
		"--rate-limit", "1000000", "--rate-burst", "1000000"}, extra...)
	if *cpuProfiles != "" {
		args = append(args, "--pprof")
	}
	nonVoters := map[string]bool{}
	for _, d := range Divisions {
		nonVoters[d] = true
	}
	logf := func(format string, a ...any) { fmt.Printf("wan: "+format+"\n", a...) }
	c, err := robustness.NewCluster(dir, robustness.ProcessConfig{Bin: e.bin, CertDir: e.certDir, AdminToken: e.token, Args: args},
		Sites(), nonVoters, logf)
	if err != nil {
		return nil, err
	}
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			c.Stop()
		}
	}
	e.top.Cleanup(stop)
	conns, err := robustness.Dial(c.Sites, e.caFile)
	if err != nil {
		stop()
		return nil, err
	}
	h := NewHarness(c, conns, e.token, e.m, *timeoutFlag, fmt.Sprintf("%d-%d", time.Now().Unix()%100000, e.clusters),
		func() { stop(); conns.Close() })
	h.Report, h.CAFile = e.report, e.caFile
	if err := h.ApplyMatrix(Sites()); err != nil {
		h.Stop()
		return nil, err
	}
	ctx := context.Background()
	begin := time.Now()
	cgo := c.Site("CGO")
	if err := c.Start(cgo, true, nil); err != nil {
		h.Stop()
		return nil, err
	}
	if err := robustness.Poll(ctx, 2*time.Minute, 100*time.Millisecond, func(ctx context.Context) error { return h.Admin.Ready(ctx, "CGO") }); err != nil {
		h.Stop()
		return nil, fmt.Errorf("CGO not ready: %w (log %s)", err, cgo.LogPath)
	}
	for _, s := range c.Sites[1:] {
		if err := c.Start(s, false, cgo); err != nil {
			h.Stop()
			return nil, err
		}
	}
	if err := robustness.Poll(ctx, 3*time.Minute, 250*time.Millisecond, h.Admin.Healthy); err != nil {
		h.Stop()
		return nil, fmt.Errorf("cluster not healthy: %w (logs in %s)", err, filepath.Join(dir, "logs"))
	}
	users, err := h.Admin.CreateUsers(ctx, "CGO", Nodes, Divisions)
	if err != nil {
		h.Stop()
		return nil, fmt.Errorf("create users: %w", err)
	}
	h.Users = users
	if err := h.Admin.CaughtUp(ctx); err != nil {
		h.Stop()
		return nil, fmt.Errorf("users not replicated: %w", err)
	}
	fmt.Printf("wan: cluster %d of %s up in %v (%s)\n", e.clusters, strings.Join(Sites(), ","),
		time.Since(begin).Round(100*time.Millisecond), strings.Join(args, " "))
	return h, nil
}

// buildBinary builds ./cmd/innonet (without -race: the harness measures
// latency, and the machine is small).
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
