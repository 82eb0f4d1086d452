package main

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"

	pb "innonet/proto/innonet/v1"
)

// op is what a cell asks of both systems.
type op int

const (
	opWrite op = iota
	opReadStale
	opReadLinear
)

// cell is one line of issue 18's table.
type cell struct {
	Name, Title string
	op          op
	Clients     int
	Conns       int
	Follower    bool
	Requests    int
}

// cellNames are the names of every cell, in the order they run.
func cellNames() []string {
	var out []string
	for _, c := range allCells(config{clients: 64, conns: 8}) {
		out = append(out, c.Name)
	}
	return out
}

func allCells(cfg config) []cell {
	n := strconv.Itoa(cfg.clients)
	return []cell{
		{Name: "write-leader-1", Title: "writes to the leader, 1 client", op: opWrite, Clients: 1, Conns: 1, Requests: cfg.writes1},
		{Name: "write-leader-" + n, Title: "writes to the leader, " + n + " clients", op: opWrite, Clients: cfg.clients, Conns: cfg.conns, Requests: cfg.writes},
		{Name: "write-follower-" + n, Title: "writes to a follower, " + n + " clients", op: opWrite, Clients: cfg.clients, Conns: cfg.conns, Follower: true, Requests: cfg.writes},
		{Name: "read-stale-" + n, Title: "STALE read vs serializable, " + n, op: opReadStale, Clients: cfg.clients, Conns: cfg.conns, Requests: cfg.reads},
		{Name: "read-linear-" + n, Title: "LINEARIZABLE read, " + n, op: opReadLinear, Clients: cfg.clients, Conns: cfg.conns, Requests: cfg.reads},
	}
}

// selectCells is the cells -cells names, or all of them.
func selectCells(cfg config) ([]cell, error) {
	all := allCells(cfg)
	if cfg.only == "" {
		return all, nil
	}
	var out []cell
	for name := range strings.SplitSeq(cfg.only, ",") {
		i := slices.IndexFunc(all, func(c cell) bool { return c.Name == strings.TrimSpace(name) })
		if i < 0 {
			return nil, fmt.Errorf("-cells: no cell %q (cells: %s)", name, strings.Join(cellNames(), ", "))
		}
		out = append(out, all[i])
	}
	return out, nil
}

// etcdReadKey is the key etcd's read cells read (450 bytes of value).
const etcdReadKey = "innonet-bench-read"

// bench is one run of the benchmark: both clusters and the figures so far.
type bench struct {
	cfg      config
	cells    []cell
	dir      string
	benchBin string
	innonet  *innonetCluster
	etcd     *etcdCluster
	res      *results
	logf     func(format string, args ...any)
	// written counts the leads submitted so far, so that every lead of
	// the run is a new one.
	written int
}

// rounds runs every cell on innonet and then on etcd, round after round.
// A failed run is recorded and the benchmark goes on; it stops when ctx
// ends.
func (b *bench) rounds(ctx context.Context) error {
	for round := range b.cfg.rounds {
		for ci, c := range b.cells {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("stopped in round %d: %w", round+1, err)
			}
			wait := b.profileCell(ctx, round, c.Name)
			in, err := b.runInnonet(ctx, c)
			wait()
			if err != nil {
				in.Error = err.Error()
			}
			b.res.Cells[ci].Innonet.Rounds = append(b.res.Cells[ci].Innonet.Rounds, in)
			et, err := b.runEtcd(ctx, c, round)
			if err != nil {
				et.Error = err.Error()
			}
			b.res.Cells[ci].Etcd.Rounds = append(b.res.Cells[ci].Etcd.Rounds, et)
			b.logf("round %d/%d  %-20s innonet %-30s etcd %-30s ratio %s", round+1, b.cfg.rounds, c.Name,
				brief(in), brief(et), ratioText(in, et))
		}
	}
	return nil
}

// runInnonet runs cell c on innonet.
func (b *bench) runInnonet(ctx context.Context, c cell) (measurement, error) {
	ctx, cancel := context.WithTimeout(ctx, b.cfg.runTimeout)
	defer cancel()
	leader, follower, term, err := b.innonet.roles(ctx)
	if err != nil {
		return measurement{}, err
	}
	target := leader
	if c.Follower {
		target = follower
	}
	var dups atomic.Int64
	l := load{addr: target.api, token: b.innonet.staff, clients: c.Clients, conns: c.Conns, total: c.Requests}
	switch c.op {
	case opWrite:
		// Made before the clock starts, as etcd's tool makes its puts
		// apart from the clients.
		reqs := make([]*pb.SubmitLeadRequest, c.Requests)
		gen := leads{prefix: "bench"}
		for i := range reqs {
			if reqs[i], err = gen.request(b.written + i); err != nil {
				return measurement{}, err
			}
		}
		b.written += c.Requests
		l.call = func(ctx context.Context, conn *grpc.ClientConn, i int) error {
			res, err := pb.NewLeadServiceClient(conn).SubmitLead(ctx, reqs[i])
			dups.Add(int64(len(res.GetPossibleDuplicates())))
			return err
		}
	case opReadStale, opReadLinear:
		req := &pb.GetLeadRequest{Id: b.innonet.readID, Consistency: pb.Consistency_STALE}
		if c.op == opReadLinear {
			req.Consistency = pb.Consistency_LINEARIZABLE
		}
		l.call = func(ctx context.Context, conn *grpc.ClientConn, _ int) error {
			_, err := pb.NewLeadServiceClient(conn).GetLead(ctx, req)
			return err
		}
	}
	cpu := b.innonet.cpu()
	mallocs, merr := b.innonet.mallocs(ctx)
	if merr != nil {
		b.logf("allocations before %s: %v", c.Name, merr)
	}
	m, err := l.run(ctx)
	m.PossibleDuplicates = dups.Load()
	if err != nil {
		return m, err
	}
	if c.op == opWrite {
		// What the followers still have to apply would run during etcd's
		// turn: let them finish first.
		if err := b.innonet.caughtUp(ctx); err != nil {
			return m, err
		}
	}
	// The sites keep their search and duplicate indexes after the
	// answers (the search index writes every few seconds under load): that
	// work is part of what the writes cost, and would otherwise run during
	// etcd's turn.
	if m.Settle, err = settle(ctx, b.innonet.cpu); err != nil {
		b.logf("innonet after %s: %v", c.Name, err)
	}
	m.ServerCPU = b.innonet.cpu() - cpu
	if after, err := b.innonet.mallocs(ctx); err == nil && merr == nil {
		m.LeaderAllocs, m.ServerAllocs = allocsPerRequest(mallocs, after, leader.code, m.Requests)
	}
	if _, _, after, err := b.innonet.roles(ctx); err == nil && after > term {
		m.Elections = after - term
	}
	return m, nil
}

// runEtcd runs cell c on etcd with etcd's benchmark tool.
func (b *bench) runEtcd(ctx context.Context, c cell, round int) (measurement, error) {
	ctx, cancel := context.WithTimeout(ctx, b.cfg.runTimeout)
	defer cancel()
	leader, follower, term, err := b.etcd.roles(ctx)
	if err != nil {
		return measurement{}, err
	}
	r := etcdRun{bin: b.benchBin, endpoint: leader, clients: c.Clients, conns: c.Conns, total: c.Requests}
	if c.Follower {
		r.endpoint = follower
	}
	total := strconv.Itoa(c.Requests)
	switch c.op {
	case opWrite:
		// Sequential keys 0..total-1 (16 bytes each); a later run writes
		// new revisions of the same keys, which etcd stores as it does
		// new keys (its backend is keyed by revision).
		r.args = []string{"put", "--key-size", "16", "--val-size", "450", "--sequential-keys", "--key-space-size", total, "--total", total}
	case opReadStale:
		r.args = []string{"range", etcdReadKey, "--consistency", "s", "--total", total}
	case opReadLinear:
		r.args = []string{"range", etcdReadKey, "--consistency", "l", "--total", total}
	}
	logPath := filepath.Join(b.dir, "etcd", fmt.Sprintf("benchmark-%s-round%d.txt", c.Name, round+1))
	cpu := b.etcd.cpu()
	m, err := r.run(ctx, logPath)
	if err != nil {
		return m, err
	}
	if m.Settle, err = settle(ctx, b.etcd.cpu); err != nil {
		b.logf("etcd after %s: %v", c.Name, err)
	}
	m.ServerCPU = b.etcd.cpu() - cpu
	if _, _, after, err := b.etcd.roles(ctx); err == nil && after > term {
		m.Elections = after - term
	}
	return m, nil
}

// Quiet is how little CPU a cluster's three processes use in a window of
// settleWindow once they have done the work of a run (heartbeats and
// housekeeping only); settleMax bounds the wait.
const (
	settleWindow = time.Second
	quietCPU     = 100 * time.Millisecond
	settleMax    = 2 * time.Minute
)

// settle waits until the processes whose CPU time cpu sums are quiet,
// and returns how long that took.
func settle(ctx context.Context, cpu func() time.Duration) (time.Duration, error) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, settleMax)
	defer cancel()
	for {
		before := cpu()
		select {
		case <-ctx.Done():
			return time.Since(start), fmt.Errorf("still busy after %v: %w", settleMax, ctx.Err())
		case <-time.After(settleWindow):
		}
		if cpu()-before < quietCPU {
			return time.Since(start), nil
		}
	}
}

// brief is a measurement in a few words, for the progress lines.
func brief(m measurement) string {
	if m.Error != "" && m.Requests == 0 {
		return "failed"
	}
	s := fmt.Sprintf("%s/s p50 %s", thousands(m.PerSecond), millis(m.P50))
	if m.Errors > 0 {
		s += fmt.Sprintf(" (%d errors)", m.Errors)
	}
	if m.Error != "" {
		s += " (did not finish)"
	}
	if m.Elections > 0 {
		s += fmt.Sprintf(" (%d elections)", m.Elections)
	}
	if m.PossibleDuplicates > 0 && m.Requests > 0 {
		s += fmt.Sprintf(" (%.1f possible duplicates a lead)", float64(m.PossibleDuplicates)/float64(m.Requests))
	}
	if m.Settle > 2*settleWindow {
		s += fmt.Sprintf(" (quiet %.0f s after)", m.Settle.Seconds())
	}
	return s
}

func ratioText(in, et measurement) string {
	r := rateRatio(in, et)
	if math.IsNaN(r) {
		return "-"
	}
	return strconv.FormatFloat(r, 'f', 2, 64)
}

// rateRatio is innonet's requests per second over etcd's in one round;
// NaN when either run failed.
func rateRatio(in, et measurement) float64 {
	if !in.ok() || !et.ok() {
		return math.NaN()
	}
	return in.PerSecond / et.PerSecond
}

// p50Ratio is innonet's p50 over etcd's in one round.
func p50Ratio(in, et measurement) float64 {
	if !in.ok() || !et.ok() || et.P50 <= 0 {
		return math.NaN()
	}
	return float64(in.P50) / float64(et.P50)
}

// ok reports whether the run finished (failed requests are counted and
// shown, but do not void the run).
func (m measurement) ok() bool { return m.Error == "" && m.Requests > 0 && m.PerSecond > 0 }

func millis(d time.Duration) string {
	ms := float64(d) / float64(time.Millisecond)
	switch {
	case ms >= 100:
		return fmt.Sprintf("%.0f ms", ms)
	case ms >= 10:
		return fmt.Sprintf("%.1f ms", ms)
	default:
		return fmt.Sprintf("%.2f ms", ms)
	}
}

// thousands is v rounded, with commas: 12,345.
func thousands(v float64) string {
	if math.IsNaN(v) {
		return "-"
	}
	s := strconv.FormatInt(int64(math.Round(v)), 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
