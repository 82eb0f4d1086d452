package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// etcdRun is a run of etcd's benchmark tool (go.etcd.io/etcd/v3/tools/benchmark)
// for the etcd side of a cell.
type etcdRun struct {
	bin            string
	endpoint       string
	clients, conns int
	total          int
	// args are the subcommand and its own flags: put ..., range KEY ...
	args []string
}

// command is the benchmark's command line, less the binary.
func (r etcdRun) command() []string {
	return append([]string{"--endpoints", r.endpoint, "--clients", strconv.Itoa(r.clients),
		"--conns", strconv.Itoa(r.conns), "--precise"}, r.args...)
}

// run runs the tool to the end, keeping its output in logPath, and reads
// its report. ctx bounds the run; the tool is killed (by its PID) when it
// ends.
func (r etcdRun) run(ctx context.Context, logPath string) (measurement, error) {
	cmd := exec.CommandContext(ctx, r.bin, r.command()...)
	cmd.SysProcAttr = childAttr()
	cmd.WaitDelay = 5 * time.Second
	// The report is on standard output, gRPC's logging on standard error.
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	logged := append(append(out.Bytes(), "\n===== standard error\n"...), errOut.Bytes()...)
	if lerr := os.WriteFile(logPath, logged, 0o644); lerr != nil && err == nil {
		err = lerr
	}
	if ctx.Err() != nil {
		return measurement{}, fmt.Errorf("etcd benchmark did not finish in time: %w", ctx.Err())
	}
	if err != nil {
		return measurement{}, fmt.Errorf("etcd benchmark %s: %w: %s", strings.Join(r.command(), " "), err, lastLines(errOut.String()+out.String(), 5))
	}
	m, err := parseEtcdReport(out.String())
	if err != nil {
		return measurement{}, fmt.Errorf("read the etcd benchmark's report (%s): %w", logPath, err)
	}
	return m, nil
}

// The lines of the report of etcd's benchmark that the benchmark reads
// (go.etcd.io/etcd/pkg/v3/report, report.go: String, sprintLatencies,
// errors), as printed with --precise (%g instead of %4.4f):
//
//	Summary:
//	  Total:	1.520133347 secs.
//	  Requests/sec:	6578.37...
//	Latency distribution:
//	  50% in 0.008570264 secs.
//	  99% in 0.02107 secs.
//	Error distribution:
//	  [3]	etcdserver: request timed out
var (
	reportTotal   = regexp.MustCompile(`^\s*Total:\s+(\S+) secs\.$`)
	reportRate    = regexp.MustCompile(`^\s*Requests/sec:\s+(\S+)$`)
	reportLatency = regexp.MustCompile(`^\s*([0-9.]+)% in (\S+) secs\.$`)
	reportError   = regexp.MustCompile(`^\s*\[(\d+)\]\s+(.*)$`)
)

// parseEtcdReport reads the figures of one run from the output of etcd's
// benchmark tool. The tool prints no count of successful requests; it is
// Requests/sec times Total, as the tool computed the one from the other.
func parseEtcdReport(out string) (measurement, error) {
	var (
		m                  measurement
		total, rate        float64
		haveTotal, hasRate bool
		inErrors           bool
		pct                = map[string]float64{}
	)
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		// The progress bar redraws itself with carriage returns on the
		// same line as what follows it.
		line := sc.Text()
		if i := strings.LastIndexByte(line, '\r'); i >= 0 {
			line = line[i+1:]
		}
		switch {
		case strings.TrimSpace(line) == "Error distribution:":
			inErrors = true
		case inErrors && reportError.MatchString(line):
			g := reportError.FindStringSubmatch(line)
			n, _ := strconv.Atoi(g[1])
			m.Errors += n
			if m.FirstError == "" {
				m.FirstError = g[2]
			}
		case reportTotal.MatchString(line):
			v, err := parseSeconds(reportTotal.FindStringSubmatch(line)[1])
			if err != nil {
				return m, fmt.Errorf("total: %w", err)
			}
			total, haveTotal = v, true
		case reportRate.MatchString(line):
			v, err := strconv.ParseFloat(reportRate.FindStringSubmatch(line)[1], 64)
			if err != nil {
				return m, fmt.Errorf("requests/sec: %w", err)
			}
			rate, hasRate = v, true
		case reportLatency.MatchString(line):
			g := reportLatency.FindStringSubmatch(line)
			v, err := parseSeconds(g[2])
			if err != nil {
				return m, fmt.Errorf("%s%% latency: %w", g[1], err)
			}
			pct[g[1]] = v
		}
	}
	if err := sc.Err(); err != nil {
		return m, err
	}
	if !haveTotal || !hasRate {
		if m.Errors > 0 {
			return m, fmt.Errorf("every request failed (%d errors; %s)", m.Errors, m.FirstError)
		}
		return m, errors.New("no summary (Total and Requests/sec) in the output")
	}
	p50, ok := pct["50"]
	if !ok {
		return m, errors.New("no 50% latency in the output")
	}
	m.Elapsed = secondsDuration(total)
	m.PerSecond = rate
	m.Requests = int(math.Round(rate * total))
	m.P50 = secondsDuration(p50)
	m.P99 = secondsDuration(pct["99"])
	return m, nil
}

func parseSeconds(s string) (float64, error) {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, err
	}
	if v < 0 || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, fmt.Errorf("%q is not a duration in seconds", s)
	}
	return v, nil
}

func secondsDuration(s float64) time.Duration {
	return time.Duration(math.Round(s * float64(time.Second)))
}

// lastLines is the last n lines of s.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
