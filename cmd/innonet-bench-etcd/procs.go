package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// procs are the long-running processes the benchmark started (the
// members of both clusters). It stops them by PID, and only them.
type procs struct {
	mu   sync.Mutex
	list []*process
}

// process is one started program, its log and, once it exits, its error.
type process struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	done    chan struct{}
	err     error // valid after done is closed
}

// start runs bin with args, its output appended to logPath, with env
// added to this process's environment less the variables that start with
// one of drop (etcd reads its flags from ETCD_* variables too).
func (p *procs) start(name, logPath string, env, drop []string, bin string, args ...string) (*process, error) {
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("log of %s: %w", name, err)
	}
	fmt.Fprintf(logf, "===== %s: %s %s\n", time.Now().Format(time.RFC3339Nano), bin, strings.Join(args, " "))
	cmd := exec.Command(bin, args...)
	cmd.Env = append(environ(drop), env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = childAttr()
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	pr := &process{name: name, cmd: cmd, logPath: logPath, done: make(chan struct{})}
	go func() {
		pr.err = cmd.Wait()
		logf.Close()
		close(pr.done)
	}()
	p.mu.Lock()
	p.list = append(p.list, pr)
	p.mu.Unlock()
	return pr, nil
}

// environ is os.Environ without the variables whose names start with one
// of drop.
func environ(drop []string) []string {
	var out []string
	for _, kv := range os.Environ() {
		keep := true
		for _, d := range drop {
			if strings.HasPrefix(kv, d) {
				keep = false
			}
		}
		if keep {
			out = append(out, kv)
		}
	}
	return out
}

// exited reports whether the process has exited, with its error.
func (pr *process) exited() (bool, error) {
	select {
	case <-pr.done:
		if pr.err == nil {
			return true, errors.New("exited")
		}
		return true, pr.err
	default:
		return false, nil
	}
}

// pid is the process's PID.
func (pr *process) pid() int { return pr.cmd.Process.Pid }

// rssBytes reads the process's resident set size from /proc; 0 where
// there is no /proc.
func (pr *process) rssBytes() int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pr.pid()) + "/status")
	if err != nil {
		return 0
	}
	for _, line := range bytes.Split(b, []byte("\n")) {
		if f := strings.Fields(string(line)); len(f) == 3 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

// clockTicks is USER_HZ, the unit of the CPU times in /proc (100 on
// every Linux that Go runs on).
const clockTicks = 100

// cpuTime is the CPU time (user and system) the process has used so far,
// from /proc; 0 where there is no /proc.
func (pr *process) cpuTime() time.Duration {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pr.pid()) + "/stat")
	if err != nil {
		return 0
	}
	// pid (comm) state ppid ...: utime and stime are the 14th and 15th
	// fields, the 12th and 13th after the command's closing parenthesis.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * time.Second / clockTicks
}

// tail is the end of the process's log, for an error message.
func (pr *process) tail(n int) string {
	b, err := os.ReadFile(pr.logPath)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// stopAll sends SIGTERM to every process still running, waits up to
// grace for them to exit, and then kills the rest with SIGKILL.
func (p *procs) stopAll(grace time.Duration) {
	p.mu.Lock()
	list := append([]*process(nil), p.list...)
	p.mu.Unlock()
	for _, pr := range list {
		if done, _ := pr.exited(); !done {
			_ = pr.cmd.Process.Signal(syscall.SIGTERM)
		}
	}
	timer := time.NewTimer(grace)
	defer timer.Stop()
	expired := false
	for _, pr := range list {
		if !expired {
			select {
			case <-pr.done:
				continue
			case <-timer.C:
				expired = true
			}
		}
		select {
		case <-pr.done:
			continue
		default:
		}
		_ = pr.cmd.Process.Kill()
		<-pr.done
	}
}
