package main

import (
	"context"
	"debug/buildinfo"
	"errors"
	"flag"
	"fmt"
	"go/build"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	switch {
	case errors.Is(err, flag.ErrHelp):
	case err != nil:
		fmt.Fprintln(os.Stderr, "innonet-bench-etcd:", err)
		os.Exit(1)
	}
}

// config is what the flags set.
type config struct {
	innonetBin, etcdBin, benchBin string
	rounds                        int
	writes1, writes, reads        int
	clients, conns                int
	only                          string
	runTimeout, timeout           time.Duration
	jsonOut                       string
	keep                          bool
	serveFlags                    []string // more flags for every site's `innonet serve`
	profileDir                    string
	profileFor                    time.Duration
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("innonet-bench-etcd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.innonetBin, "innonet", "", "innonet binary to run (default: go build ./cmd/innonet of the repository in the working directory)")
	fs.StringVar(&c.etcdBin, "etcd", "", "etcd binary (default: etcd on PATH)")
	fs.StringVar(&c.benchBin, "etcd-benchmark", "", "etcd's benchmark tool, go.etcd.io/etcd/v3/tools/benchmark (default: etcd-benchmark on PATH or in $GOPATH/bin)")
	fs.IntVar(&c.rounds, "rounds", 3, "rounds: each runs every cell, innonet then etcd")
	fs.IntVar(&c.writes1, "writes1", 1000, "requests per run of the single-client write cell")
	fs.IntVar(&c.writes, "writes", 10000, "requests per run of the write cells with -clients clients")
	fs.IntVar(&c.reads, "reads", 30000, "requests per run of the read cells")
	fs.IntVar(&c.clients, "clients", 64, "clients of the cells with many")
	fs.IntVar(&c.conns, "conns", 8, "gRPC connections the many clients share (both systems; the single client has one)")
	fs.StringVar(&c.only, "cells", "", "run only these cells, comma-separated (default: all: "+strings.Join(cellNames(), ",")+")")
	short := fs.Bool("short", false, "a quick check: -writes1 200 -writes 2000 -reads 5000 unless given")
	fs.DurationVar(&c.runTimeout, "run-timeout", 5*time.Minute, "the most one run of one cell on one system may take")
	fs.DurationVar(&c.timeout, "timeout", time.Hour, "the most the whole benchmark may take")
	fs.StringVar(&c.jsonOut, "json", "", "also write every figure as JSON to this file (- for standard output, instead of the table)")
	fs.Func("serve-flag", "one more flag for every innonet site's `serve`, e.g. -serve-flag=--pprof (repeat for more)", func(v string) error {
		if !strings.HasPrefix(v, "--") {
			return fmt.Errorf("%q is not a flag of innonet serve (they begin with --)", v)
		}
		c.serveFlags = append(c.serveFlags, v)
		return nil
	})
	fs.StringVar(&c.profileDir, "cpu-profiles", "", "directory to save a CPU profile of every innonet site in during each run of each cell (ROUND-CELL-SITE.pprof; the sites run with --pprof)")
	fs.DurationVar(&c.profileFor, "cpu-profile-for", 15*time.Second, "how long each CPU profile of -cpu-profiles lasts, from the start of the run")
	fs.BoolVar(&c.keep, "keep", false, "keep the temporary directory (data and logs of every member, etcd's reports)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: go run ./cmd/innonet-bench-etcd [flags]

Starts a 3-member innonet cluster and a 3-member etcd cluster on 127.0.0.1
and runs issue 18's cells on both, interleaved, over -rounds rounds; prints
each cell's medians and the median ratio innonet/etcd with its min-max.

Needs etcd (apt-get install -y etcd-server) and etcd's benchmark tool:
`+benchInstall+`
Flags:
`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *short {
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		if !set["writes1"] {
			c.writes1 = 200
		}
		if !set["writes"] {
			c.writes = 2000
		}
		if !set["reads"] {
			c.reads = 5000
		}
	}
	switch {
	case c.rounds < 1:
		return c, errors.New("-rounds must be at least 1")
	case c.writes1 < 1 || c.writes < 1 || c.reads < 1:
		return c, errors.New("-writes1, -writes and -reads must be at least 1")
	case c.clients < 1 || c.conns < 1 || c.conns > c.clients:
		return c, errors.New("-clients must be at least 1, and -conns from 1 to -clients")
	case c.runTimeout <= 0 || c.timeout <= 0:
		return c, errors.New("-run-timeout and -timeout must be positive")
	case c.profileFor < time.Second:
		return c, errors.New("-cpu-profile-for must be at least 1s")
	}
	if c.profileDir != "" {
		if err := os.MkdirAll(c.profileDir, 0o755); err != nil {
			return c, fmt.Errorf("-cpu-profiles: %w", err)
		}
		c.serveFlags = append(c.serveFlags, "--pprof")
	}
	return c, nil
}

const benchInstall = `  mkdir /tmp/etcd-benchmark && cd /tmp/etcd-benchmark && go mod init etcd-benchmark &&
    go get go.etcd.io/etcd/v3@v3.5.11 &&
    go build -o "$(go env GOPATH)/bin/etcd-benchmark" go.etcd.io/etcd/v3/tools/benchmark
`

// findTools finds etcd and etcd's benchmark, or says how to get them.
func findTools(c config) (etcd, bench string, err error) {
	var missing []string
	etcd = c.etcdBin
	if etcd == "" {
		if etcd, err = exec.LookPath("etcd"); err != nil {
			missing = append(missing, "etcd is not on PATH (nor given by -etcd); on Debian or Ubuntu:\n  apt-get install -y etcd-server\n")
		}
	}
	bench = c.benchBin
	if bench == "" {
		if bench, err = exec.LookPath("etcd-benchmark"); err != nil {
			bench = filepath.Join(build.Default.GOPATH, "bin", "etcd-benchmark")
			if _, serr := os.Stat(bench); serr != nil {
				bench = ""
				missing = append(missing, "etcd's benchmark tool is neither on PATH nor in $GOPATH/bin as etcd-benchmark (nor given by -etcd-benchmark); build it with\n"+benchInstall)
			}
		}
	}
	if len(missing) > 0 {
		return "", "", errors.New("missing tools:\n" + strings.Join(missing, ""))
	}
	if out, err := exec.Command(bench, "--help").CombinedOutput(); err != nil || !strings.Contains(string(out), "benchmark tool for etcd") {
		return "", "", fmt.Errorf("%s does not look like etcd's benchmark tool (go.etcd.io/etcd/v3/tools/benchmark): %v", bench, err)
	}
	return etcd, bench, nil
}

// run is the whole benchmark.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	cells, err := selectCells(cfg)
	if err != nil {
		return err
	}
	etcdBin, benchBin, err := findTools(cfg)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.timeout)
	defer cancel()
	dir, err := os.MkdirTemp("", "innonet-bench-etcd-")
	if err != nil {
		return err
	}
	defer func() {
		if cfg.keep {
			fmt.Fprintf(stderr, "kept %s\n", dir)
			return
		}
		if err := os.RemoveAll(dir); err != nil {
			fmt.Fprintf(stderr, "remove %s: %v\n", dir, err)
		}
	}()
	ps := &procs{}
	// Stopped before the directory is removed (defers run last first).
	defer ps.stopAll(15 * time.Second)
	logf := func(format string, args ...any) { fmt.Fprintf(stderr, format+"\n", args...) }

	innonetBin := cfg.innonetBin
	if innonetBin == "" {
		logf("building innonet...")
		if innonetBin, err = buildInnonet(ctx, dir); err != nil {
			return err
		}
	}
	b := &bench{cfg: cfg, cells: cells, dir: dir, benchBin: benchBin, logf: logf,
		res: newResults(cfg, cells, args)}
	b.res.EtcdVersion = toolVersion(etcdBin, "--version")
	// The commit of the binary that runs: a binary given with -innonet
	// need not be of the working tree's.
	if b.res.InnonetCommit = binaryCommit(innonetBin); b.res.InnonetCommit == "" && cfg.innonetBin == "" {
		b.res.InnonetCommit = toolVersion("git", "describe", "--always", "--dirty")
	}
	pp := &ports{}
	logf("starting innonet (3 sites) and etcd (3 members) on 127.0.0.1 under %s...", dir)
	if b.innonet, err = startInnonet(ctx, ps, pp, innonetBin, filepath.Join(dir, "innonet"), cfg.serveFlags); err != nil {
		if b.innonet != nil {
			b.innonet.close()
		}
		return err
	}
	defer b.innonet.close()
	if b.etcd, err = startEtcd(ctx, ps, pp, etcdBin, filepath.Join(dir, "etcd")); err != nil {
		return err
	}
	leader, _, _, err := b.etcd.roles(ctx)
	if err != nil {
		return err
	}
	if err := b.etcd.put(ctx, leader, etcdReadKey, make([]byte, 450)); err != nil {
		return fmt.Errorf("put etcd's read key: %w", err)
	}
	runErr := b.rounds(ctx)
	b.res.finish(b)
	if err := b.res.write(cfg.jsonOut, stdout); err != nil {
		return errors.Join(runErr, err)
	}
	return runErr
}

// toolVersion is the first line a binary prints for its version.
// binaryCommit is the commit a Go binary was built from, as go build
// stamps it ("-dirty" when the tree had changes), or "" if it holds none.
func binaryCommit(bin string) string {
	info, err := buildinfo.ReadFile(bin)
	if err != nil {
		return ""
	}
	var rev, dirty string
	for _, s := range info.Settings {
		switch {
		case s.Key == "vcs.revision":
			rev = s.Value[:min(len(s.Value), 7)]
		case s.Key == "vcs.modified" && s.Value == "true":
			dirty = "-dirty"
		}
	}
	if rev == "" {
		return ""
	}
	return rev + dirty
}

func toolVersion(bin string, args ...string) string {
	out, err := exec.Command(bin, args...).Output()
	if err != nil {
		return ""
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return line
}
