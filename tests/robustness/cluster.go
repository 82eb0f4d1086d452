package robustness

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Site is one innonet process: its addresses, data dir and, while it
// runs, its PID.
type Site struct {
	Code  string
	Voter bool
	// API is the site's gRPC/REST address; clients dial it directly (only
	// traffic between sites goes through the proxies).
	API, Raft string
	DataDir   string
	LogPath   string

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
	// killed is set when the harness sent SIGKILL, so that an exit is
	// expected; paused while the process is SIGSTOPped.
	killed, paused bool
	// wiped: the data dir was deleted and the site has not rejoined.
	wiped bool
	// starts counts the processes started for the site.
	starts int
	// crashes records exits the harness did not cause.
	crashes []string
}

// Running reports whether the site's process is running (or paused).
func (s *Site) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cmd != nil
}

// Pid is the process ID of the site's running process, 0 when stopped.
func (s *Site) Pid() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil || s.cmd.Process == nil {
		return 0
	}
	return s.cmd.Process.Pid
}

// Incarnation counts the processes started for the site so far.
func (s *Site) Incarnation() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.starts
}

// Paused reports whether the site's process is stopped by SIGSTOP.
func (s *Site) Paused() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.paused
}

// Crashes lists the exits of the site's processes that the harness did
// not cause.
func (s *Site) Crashes() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.crashes...)
}

// ProcessConfig says how to start the sites.
type ProcessConfig struct {
	Bin string
	// CertDir holds ca.crt and <site>.crt/.key (innonet certs); empty runs
	// the sites with --insecure.
	CertDir    string
	AdminToken string
	// Args are extra `serve` flags for every site (timings, snapshots).
	Args []string
}

// Cluster is a set of sites run as local processes, with every link
// between them through a [Network] of proxies.
type Cluster struct {
	cfg   ProcessConfig
	Sites []*Site
	Net   *Network
	logf  func(format string, args ...any)
}

// NewCluster allocates addresses and data dirs under dir for the sites
// (codes; voters unless named in nonVoters) and starts the proxies.
// No process is started yet.
func NewCluster(dir string, cfg ProcessConfig, codes []string, nonVoters map[string]bool, logf func(string, ...any)) (*Cluster, error) {
	c := &Cluster{cfg: cfg, logf: logf}
	for _, code := range codes {
		api, err := freeAddr()
		if err != nil {
			return nil, err
		}
		raft, err := freeAddr()
		if err != nil {
			return nil, err
		}
		s := &Site{Code: code, Voter: !nonVoters[code], API: api, Raft: raft,
			DataDir: filepath.Join(dir, "data", strings.ToLower(code)),
			LogPath: filepath.Join(dir, "logs", strings.ToLower(code)+".log")}
		c.Sites = append(c.Sites, s)
	}
	if err := os.MkdirAll(filepath.Join(dir, "logs"), 0o755); err != nil {
		return nil, err
	}
	n, err := NewNetwork(c.Sites)
	if err != nil {
		return nil, err
	}
	c.Net = n
	return c, nil
}

// Site returns the site with code.
func (c *Cluster) Site(code string) *Site {
	for _, s := range c.Sites {
		if s.Code == code {
			return s
		}
	}
	return nil
}

// Start starts the site's process: bootstrapping a new cluster, or
// joining (or rejoining) it through the API of the site via.
func (c *Cluster) Start(s *Site, bootstrap bool, via *Site) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return fmt.Errorf("%s is already running", s.Code)
	}
	// The nemesis moves leadership itself; placement must not add moves
	// of its own to the history it checks.
	args := []string{"serve", "--site", s.Code, "--data-dir", s.DataDir, "--listen", s.API, "--raft-addr", s.Raft,
		"--dial-map", c.Net.DialMap(s.Code), "--leader-placement", "manual"}
	if c.cfg.CertDir != "" {
		args = append(args, "--tls-dir", c.cfg.CertDir)
	} else {
		args = append(args, "--insecure")
	}
	switch {
	case bootstrap:
		args = append(args, "--bootstrap")
	case via != nil:
		args = append(args, "--join", via.API)
	}
	if !s.Voter {
		args = append(args, "--nonvoter")
	}
	args = append(args, c.cfg.Args...)
	if err := os.MkdirAll(s.DataDir, 0o700); err != nil {
		return err
	}
	logf, err := os.OpenFile(s.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	fmt.Fprintf(logf, "\n===== %s harness: starting %s %s\n", time.Now().Format(time.RFC3339Nano), c.cfg.Bin, strings.Join(args, " "))
	cmd := exec.Command(c.cfg.Bin, args...)
	cmd.Env = append(os.Environ(), "INNONET_ADMIN_TOKEN="+c.cfg.AdminToken)
	cmd.Stdout, cmd.Stderr = logf, logf
	// If the test process dies, its sites die with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("start %s: %w", s.Code, err)
	}
	s.cmd, s.exited, s.killed, s.paused = cmd, make(chan struct{}), false, false
	s.starts++
	exited := s.exited
	go func() {
		err := cmd.Wait()
		logf.Close()
		s.mu.Lock()
		defer s.mu.Unlock()
		if !s.killed {
			msg := fmt.Sprintf("%s (pid %d) exited on its own: %v (log %s)", s.Code, cmd.Process.Pid, err, s.LogPath)
			s.crashes = append(s.crashes, msg)
			c.logf("%s", msg)
		}
		if s.cmd == cmd {
			s.cmd = nil
		}
		close(exited)
	}()
	return nil
}

// Kill sends SIGKILL to the site's process and waits for it to exit.
func (c *Cluster) Kill(s *Site) error {
	s.mu.Lock()
	cmd, exited := s.cmd, s.exited
	if cmd == nil {
		s.mu.Unlock()
		return nil
	}
	s.killed = true
	s.mu.Unlock()
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("kill %s (pid %d): %w", s.Code, cmd.Process.Pid, err)
	}
	select {
	case <-exited:
		return nil
	case <-time.After(10 * time.Second):
		return fmt.Errorf("%s (pid %d) did not exit after SIGKILL", s.Code, cmd.Process.Pid)
	}
}

// Pause stops the site's process with SIGSTOP.
func (c *Cluster) Pause(s *Site) error { return c.signal(s, syscall.SIGSTOP, true) }

// Resume continues a paused site with SIGCONT.
func (c *Cluster) Resume(s *Site) error { return c.signal(s, syscall.SIGCONT, false) }

func (c *Cluster) signal(s *Site, sig syscall.Signal, paused bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return fmt.Errorf("%s is not running", s.Code)
	}
	if err := s.cmd.Process.Signal(sig); err != nil {
		return fmt.Errorf("signal %v to %s (pid %d): %w", sig, s.Code, s.cmd.Process.Pid, err)
	}
	s.paused = paused
	return nil
}

// Wiped reports whether the site's data dir was deleted and the site has
// not rejoined since (see [Rejoin]).
func (s *Site) Wiped() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.wiped
}

func (s *Site) setWiped(v bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.wiped = v
}

// Wipe deletes the site's data dir; its process must be stopped.
func (c *Cluster) Wipe(s *Site) error {
	if s.Running() {
		return fmt.Errorf("wipe %s: still running", s.Code)
	}
	s.setWiped(true)
	return os.RemoveAll(s.DataDir)
}

// Stop kills every process the cluster started (resuming paused ones
// first) and stops the proxies. It is safe to call more than once.
func (c *Cluster) Stop() {
	for _, s := range c.Sites {
		if s.Paused() {
			_ = c.Resume(s)
		}
		if err := c.Kill(s); err != nil {
			c.logf("%v", err)
		}
	}
	c.Net.Close()
}

// Crashes lists every unexpected exit of a site.
func (c *Cluster) Crashes() []string {
	var out []string
	for _, s := range c.Sites {
		out = append(out, s.Crashes()...)
	}
	return out
}

// freeAddr returns a loopback address with a port that was free a moment
// ago and that the kernel does not hand out by itself: the port is below
// the ephemeral range, so no outgoing connection and no listener on port
// 0 (the proxies', other processes') can take it while its site is down
// between a kill and a restart.
func freeAddr() (string, error) {
	low := 32768
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if n, err := strconv.Atoi(f[0]); err == nil && n > 12000 {
				low = n
			}
		}
	}
	portsMu.Lock()
	defer portsMu.Unlock()
	for range 1000 {
		// Above 10000 stays clear of the usual fixed ports (innonet's
		// demo uses 7101-8208).
		port := 10000 + rand.IntN(low-10000)
		if portsUsed[port] {
			continue
		}
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			continue
		}
		l.Close()
		portsUsed[port] = true
		return l.Addr().String(), nil
	}
	return "", errors.New("no free port below the ephemeral range")
}

var (
	portsMu   sync.Mutex
	portsUsed = map[int]bool{}
)

// Poll calls cond until it returns nil or the deadline passes, and then
// returns cond's last error.
func Poll(ctx context.Context, timeout, every time.Duration, cond func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		err := cond(ctx)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("after %v: %w", timeout, err)
		case <-time.After(every):
		}
	}
}
