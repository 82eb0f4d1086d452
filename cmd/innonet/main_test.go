package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// These tests run the real binary as separate processes on 127.0.0.1.

func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "innonet")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// freePort returns a port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// proc is a started innonet process; Cleanup kills it if the test did not
// stop it.
type proc struct {
	cmd *exec.Cmd
	out *lockedBuffer
}

func start(t *testing.T, bin string, env []string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, out: out}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	return p
}

// stop sends SIGINT and waits for a clean exit.
func (p *proc) stop(t *testing.T) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("process exited with %v after SIGINT", err)
		}
	case <-time.After(20 * time.Second):
		p.cmd.Process.Kill()
		t.Fatal("process did not stop within 20s of SIGINT")
	}
}

// lockedBuffer collects a process's output while the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// call sends a REST request and decodes the JSON answer; https URLs must
// be served with the test CA's certificates.
func call(method, url, token, body string) (int, map[string]any, error) {
	return callWith(testHTTP(filepath.Join(testCerts, "ca.crt")), method, url, token, body)
}

func callWith(client *http.Client, method, url, token, body string) (int, map[string]any, error) {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	var out map[string]any
	err = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out, err
}

// poll calls until check accepts the answer or 30 seconds pass.
func poll(t *testing.T, what string, f func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	last := ""
	for time.Now().Before(deadline) {
		ok, msg := f()
		if ok {
			return
		}
		last = msg
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s (last: %s)", what, last)
}

func TestServeBootstrapJoinRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	admin := "inn_cmdtest-admin"
	env := []string{"INNONET_ADMIN_TOKEN=" + admin}
	dir := t.TempDir()
	ports := map[string][2]int{"CGO": {freePort(t), freePort(t)}, "BOS": {freePort(t), freePort(t)}}
	args := func(site string, extra ...string) []string {
		p := ports[site]
		return append([]string{"serve", "--site", site, "--data-dir", filepath.Join(dir, site),
			"--listen", fmt.Sprintf("127.0.0.1:%d", p[0]), "--raft-addr", fmt.Sprintf("127.0.0.1:%d", p[1]),
			"--raft-profile", "test", "--log-level", "warn", "--tls-dir", testCerts}, extra...)
	}
	api := func(site string) string { return fmt.Sprintf("https://127.0.0.1:%d", ports[site][0]) }

	cgo := start(t, bin, env, args("CGO", "--bootstrap")...)
	bos := start(t, bin, env, args("BOS", "--join", fmt.Sprintf("127.0.0.1:%d", ports["CGO"][0]))...)
	poll(t, "two members", func() (bool, string) {
		code, body, err := call("GET", api("BOS")+"/v1/cluster", admin, "")
		members, _ := body["members"].([]any)
		return err == nil && code == 200 && len(members) == 2 && body["leader"] == "CGO", fmt.Sprint(code, body, err)
	})
	code, body, err := call("POST", api("BOS")+"/v1/users", admin, `{"requestId":"u1","name":"Emily","role":"NODE_STAFF","site":"BOS"}`)
	if err != nil || code != 200 {
		t.Fatalf("create user via BOS: %d %v %v", code, body, err)
	}
	staff := body["token"].(string)
	code, body, err = call("POST", api("BOS")+"/v1/leads", staff,
		`{"requestId":"l1","title":"Lab","summary":"s","organization":"o","country":"US","sector":"IT_AI","trl":4,"dealType":"INVESTMENT"}`)
	if err != nil || code != 200 || body["id"] != "BOS-0001" {
		t.Fatalf("submit via BOS: %d %v %v", code, body, err)
	}

	// Restart BOS with the same flags and data dir: it resumes and answers
	// from its own copy.
	bos.stop(t)
	bos = start(t, bin, env, args("BOS", "--join", fmt.Sprintf("127.0.0.1:%d", ports["CGO"][0]))...)
	poll(t, "BOS serves BOS-0001 after restart", func() (bool, string) {
		code, body, err := call("GET", api("BOS")+"/v1/leads/BOS-0001?consistency=STALE", staff, "")
		return err == nil && code == 200 && body["id"] == "BOS-0001", fmt.Sprint(code, body, err)
	})
	// And the whole cluster survives a restart of the bootstrap site too.
	cgo.stop(t)
	cgo = start(t, bin, env, args("CGO", "--bootstrap")...)
	poll(t, "a write after both restarts", func() (bool, string) {
		code, body, err := call("POST", api("BOS")+"/v1/leads", staff,
			`{"requestId":"l2","title":"Lab 2","summary":"s","organization":"o","country":"DE","sector":"IT_AI","trl":4,"dealType":"INVESTMENT"}`)
		return err == nil && code == 200 && body["id"] == "BOS-0002", fmt.Sprint(code, body, err)
	})
	bos.stop(t)
	cgo.stop(t)
}

func TestDemoStartsResumesAndStops(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	dir := filepath.Join(t.TempDir(), "demo")
	// Eight sites need 16 consecutive ports; pick a base away from the
	// documented 7100 so a running demo does not collide, and below the
	// ephemeral range so no outgoing connection holds one.
	base := 20000 + os.Getpid()%10000 // below the ephemeral port range (32768+)
	run := func() (*proc, string) {
		p := start(t, bin, nil, "demo", "--dir", dir, "--base-port", fmt.Sprint(base), "--raft-profile", "test")
		poll(t, "demo ready", func() (bool, string) {
			out := p.out.String()
			return strings.Contains(out, "Press Ctrl-C"), out[max(0, len(out)-2000):]
		})
		return p, p.out.String()
	}
	p, out := run()
	hq := ""
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) > 1 && f[0] == "HQ_REVIEWER" {
			hq = f[len(f)-1]
		}
	}
	if !strings.HasPrefix(hq, "inn_") {
		t.Fatalf("no HQ_REVIEWER token in the demo output:\n%s", out)
	}
	for _, want := range []string{"sign in as Li Wei (HQ review) / demo-", "sign in as admin / demo-", fmt.Sprintf("https://127.0.0.1:%d/\n", base+1)} {
		if !strings.Contains(out, want) {
			t.Errorf("the demo output lacks %q:\n%s", want, out)
		}
	}
	leads := func() int {
		// A resumed demo may still be settling on a leader: 503 means retry.
		var n int
		poll(t, "list leads via YRD", func() (bool, string) {
			code, body, err := callWith(testHTTP(filepath.Join(dir, "certs", "ca.crt")), "GET", fmt.Sprintf("https://127.0.0.1:%d/v1/leads", base+7), hq, "")
			if err != nil || code != 200 {
				if code != 0 && code != 503 {
					t.Fatalf("list leads via YRD: %d %v %v", code, body, err)
				}
				return false, fmt.Sprint(code, body, err)
			}
			l, _ := body["leads"].([]any)
			n = len(l)
			return true, ""
		})
		return n
	}
	first := leads()
	if first == 0 {
		t.Fatal("the demo seeded no leads")
	}
	p.stop(t)
	p, _ = run()
	if got := leads(); got != first {
		t.Errorf("after resuming: got %d leads, want the same %d (no second seeding)", got, first)
	}
	p.stop(t)
}
