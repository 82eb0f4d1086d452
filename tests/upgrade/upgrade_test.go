//go:build upgrade

// Package upgrade runs a rolling upgrade for real: a cluster of the last
// released innonet (built in the test from git history) is upgraded site
// by site to the current code under a steady write load, and must end
// with every acknowledged write on every site and identical state
// digests. Run it with
//
//	go test -tags upgrade -count=1 -timeout 15m -v ./tests/upgrade/
//
// It needs git history (a full clone) and the Go toolchain.
package upgrade

import (
	"bytes"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
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

// releasedCommit is the last release before log formats: its binary
// writes and reads log format 1 and reports no format.
const releasedCommit = "0205aa67b07dd8048adc846054f9f55406f9152f"

type site struct {
	code, api, raft, data, log string
	voter                      bool
	args                       []string
	cmd                        *exec.Cmd
	exited                     chan struct{}
	bin                        string
}

type harness struct {
	t      *testing.T
	dir    string
	certs  string
	admin  string
	client *http.Client
	sites  []*site
}

func repoRoot(t *testing.T) string {
	out, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		t.Fatalf("the upgrade test needs the git repository: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// build compiles the current innonet and the released one.
func build(t *testing.T, dir string) (newBin, oldBin string) {
	t.Helper()
	root := repoRoot(t)
	newBin, oldBin = filepath.Join(dir, "innonet-new"), filepath.Join(dir, "innonet-old")
	run := func(d string, name string, args ...string) {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Dir = d
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
	}
	began := time.Now()
	run(root, "go", "build", "-o", newBin, "./cmd/innonet")
	src := filepath.Join(dir, "released-src")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	archive := exec.Command("git", "archive", "--format=tar", releasedCommit)
	archive.Dir = root
	tarball, err := archive.Output()
	if err != nil {
		t.Fatalf("git archive %s (a full clone is needed): %v", releasedCommit, err)
	}
	untar := exec.Command("tar", "-x", "-C", src)
	untar.Stdin = bytes.NewReader(tarball)
	if out, err := untar.CombinedOutput(); err != nil {
		t.Fatalf("untar: %v\n%s", err, out)
	}
	run(src, "go", "build", "-o", oldBin, "./cmd/innonet")
	t.Logf("built the current innonet and release %.7s in %s", releasedCommit, time.Since(began).Round(time.Second))
	return newBin, oldBin
}

// freeAddrs picks n distinct free ports on loopback (holding them all
// until every one is picked, so none is handed out twice).
func freeAddrs(t *testing.T, n int) []string {
	var out []string
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		out = append(out, l.Addr().String())
	}
	return out
}

func newHarness(t *testing.T, newBin string) *harness {
	dir := t.TempDir()
	b := make([]byte, 32)
	rand.Read(b)
	h := &harness{t: t, dir: dir, certs: filepath.Join(dir, "certs"), admin: "inn_" + hex.EncodeToString(b)}
	codes := []string{"CGO", "BOS", "CBG", "YRD"}
	if out, err := exec.Command(newBin, "certs", "--dir", h.certs, "--sites", strings.Join(codes, ",")).CombinedOutput(); err != nil {
		t.Fatalf("innonet certs: %v\n%s", err, out)
	}
	pem, err := os.ReadFile(filepath.Join(h.certs, "ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	h.client = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	addrs := freeAddrs(t, 2*len(codes))
	for i, c := range codes {
		s := &site{code: c, api: addrs[2*i], raft: addrs[2*i+1], data: filepath.Join(dir, "data", c), log: filepath.Join(dir, c+".log"), voter: c != "YRD"}
		s.args = []string{"serve", "--site", c, "--data-dir", s.data, "--listen", s.api, "--raft-addr", s.raft, "--tls-dir", h.certs,
			"--raft-profile", "test", "--log-level", "warn"}
		if i == 0 {
			s.args = append(s.args, "--bootstrap")
		} else {
			s.args = append(s.args, "--join", h.sites[0].api)
		}
		if !s.voter {
			s.args = append(s.args, "--nonvoter")
		}
		h.sites = append(h.sites, s)
	}
	t.Cleanup(func() {
		for _, s := range h.sites {
			h.stop(s, syscall.SIGKILL)
		}
		if t.Failed() {
			for _, s := range h.sites {
				if b, err := os.ReadFile(s.log); err == nil {
					lines := strings.Split(strings.TrimSpace(string(b)), "\n")
					t.Logf("last lines of %s's log:\n%s", s.code, strings.Join(lines[max(0, len(lines)-15):], "\n"))
				}
			}
		}
	})
	return h
}

func (h *harness) start(s *site, bin string) {
	h.t.Helper()
	f, err := os.OpenFile(s.log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		h.t.Fatal(err)
	}
	fmt.Fprintf(f, "---- starting %s\n", filepath.Base(bin))
	cmd := exec.Command(bin, s.args...)
	cmd.Env = append(os.Environ(), "INNONET_ADMIN_TOKEN="+h.admin)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		h.t.Fatal(err)
	}
	s.cmd, s.bin, s.exited = cmd, bin, make(chan struct{})
	go func() { cmd.Wait(); f.Close(); close(s.exited) }()
}

// stop ends a site's process (SIGTERM hands leadership over first) and
// waits for it to exit.
func (h *harness) stop(s *site, sig syscall.Signal) {
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Signal(sig)
	select {
	case <-s.exited:
	case <-time.After(30 * time.Second):
		s.cmd.Process.Kill()
		<-s.exited
	}
	s.cmd = nil
}

func (h *harness) call(s *site, method, path, token string, body any) (int, []byte, error) {
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, "https://"+s.api+path, r)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := h.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

func (h *harness) eventually(timeout time.Duration, what string, f func() error) {
	h.t.Helper()
	deadline := time.Now().Add(timeout)
	var err error
	for time.Now().Before(deadline) {
		if err = f(); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	h.t.Fatalf("timed out after %s waiting for %s: %v", timeout, what, err)
}

func (h *harness) ready(s *site) error {
	resp, err := h.client.Get("https://" + s.api + "/readyz")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return fmt.Errorf("%s: /readyz %d %s", s.code, resp.StatusCode, strings.TrimSpace(string(b)))
	}
	return nil
}

type member struct {
	Site             string `json:"site"`
	Voter            bool   `json:"voter"`
	Leader           bool   `json:"leader"`
	LogFormat        int    `json:"logFormat"`
	CheckpointIndex  string `json:"checkpointIndex"`
	CheckpointDigest string `json:"checkpointDigest"`
	Alarms           []struct{ Kind, Detail string }
}

type clusterView struct {
	Leader    string   `json:"leader"`
	LogFormat int      `json:"logFormat"`
	Members   []member `json:"members"`
}

func (h *harness) cluster(s *site) (clusterView, error) {
	var v clusterView
	code, b, err := h.call(s, "GET", "/v1/cluster", h.admin, nil)
	if err != nil {
		return v, err
	}
	if code != 200 {
		return v, fmt.Errorf("GET /v1/cluster: %d %s", code, b)
	}
	return v, json.Unmarshal(b, &v)
}

// load submits leads through the running sites until stopped, each with a
// request ID and retried with it until some site acknowledges it.
type load struct {
	mu     sync.Mutex
	acked  []string
	failed []string
	last   string // the latest refusal, for messages
	stop   chan struct{}
	done   chan struct{}
}

func (h *harness) startLoad(token string) *load {
	l := &load{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(l.done)
		for i := 0; ; i++ {
			select {
			case <-l.stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			body := map[string]any{"requestId": fmt.Sprintf("upgrade-%d", i), "title": fmt.Sprintf("Upgrade lead %d", i),
				"summary": "written during the rolling upgrade", "organization": "Rolling GmbH", "country": "DE",
				"sector": "NEW_MATERIALS", "trl": 4, "dealType": "TECHNOLOGY_LICENSING"}
			deadline := time.Now().Add(30 * time.Second)
			for try := 0; ; try++ {
				s := h.sites[(i+try)%len(h.sites)]
				code, b, err := h.call(s, "POST", "/v1/leads", token, body)
				if err == nil && code == 200 {
					var lead struct {
						ID string `json:"id"`
					}
					if err := json.Unmarshal(b, &lead); err != nil || lead.ID == "" {
						l.mu.Lock()
						l.failed = append(l.failed, fmt.Sprintf("%v: answered %s", body["requestId"], b))
						l.mu.Unlock()
						break
					}
					l.mu.Lock()
					l.acked = append(l.acked, lead.ID)
					l.mu.Unlock()
					break
				}
				l.mu.Lock()
				l.last = fmt.Sprintf("%s: %d %v %s", s.code, code, err, b)
				l.mu.Unlock()
				if time.Now().After(deadline) {
					l.mu.Lock()
					l.failed = append(l.failed, fmt.Sprintf("%v: %d %v %s", body["requestId"], code, err, b))
					l.mu.Unlock()
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
		}
	}()
	return l
}

func (l *load) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.acked)
}

func TestRollingUpgrade(t *testing.T) {
	dir := t.TempDir()
	newBin, oldBin := build(t, dir)
	h := newHarness(t, newBin)
	for _, s := range h.sites {
		h.start(s, oldBin)
		if s == h.sites[0] {
			h.eventually(30*time.Second, "the first site ready", func() error { return h.ready(s) })
		}
	}
	h.eventually(60*time.Second, "four members, three voters, all ready", func() error {
		v, err := h.cluster(h.sites[0])
		if err != nil {
			return err
		}
		voters := 0
		for _, m := range v.Members {
			if m.Voter {
				voters++
			}
		}
		if len(v.Members) != 4 || voters != 3 {
			return fmt.Errorf("%d members, %d voters", len(v.Members), voters)
		}
		for _, s := range h.sites {
			if err := h.ready(s); err != nil {
				return err
			}
		}
		return nil
	})
	code, b, err := h.call(h.sites[0], "POST", "/v1/users", h.admin, map[string]any{"requestId": "staff-1", "name": "Bea", "role": "NODE_STAFF", "site": "BOS"})
	if err != nil || code != 200 {
		t.Fatalf("create a user: %d %v %s", code, err, b)
	}
	var created struct{ Token string }
	if err := json.Unmarshal(b, &created); err != nil || created.Token == "" {
		t.Fatalf("create a user: answered %s", b)
	}

	ld := h.startLoad(created.Token)
	waitWrites := func(what string) {
		n := ld.count()
		h.eventually(30*time.Second, what, func() error {
			if ld.count() < n+10 {
				ld.mu.Lock()
				defer ld.mu.Unlock()
				return fmt.Errorf("%d writes acknowledged, want %d (last refusal: %s)", len(ld.acked), n+10, ld.last)
			}
			return nil
		})
	}
	waitWrites("writes on the released version")

	upgrade := func(s *site) {
		t.Helper()
		began := time.Now()
		h.stop(s, syscall.SIGTERM)
		h.start(s, newBin)
		h.eventually(60*time.Second, s.code+" ready on the new version", func() error { return h.ready(s) })
		waitWrites("writes after upgrading " + s.code)
		t.Logf("upgraded %s in %s; %d writes acknowledged so far", s.code, time.Since(began).Round(time.Millisecond), ld.count())
	}
	byCode := map[string]*site{}
	for _, s := range h.sites {
		byCode[s.code] = s
	}
	upgrade(byCode["YRD"])
	upgrade(byCode["BOS"])
	// Let an upgraded voter lead the mixed cluster.
	h.eventually(30*time.Second, "BOS leads", func() error {
		code, b, err := h.call(byCode["BOS"], "POST", "/v1/cluster:transfer-leadership", h.admin, map[string]any{"site": "BOS"})
		if err != nil || code != 200 {
			return fmt.Errorf("transfer: %d %v %s", code, err, b)
		}
		v, err := h.cluster(byCode["BOS"])
		if err != nil || v.Leader != "BOS" {
			return fmt.Errorf("leader %q (%v)", v.Leader, err)
		}
		return nil
	})
	// Mixed: a command of the new format is refused, naming an old site.
	code, b, err = h.call(byCode["BOS"], "POST", "/v1/cluster/denied-certificates", h.admin, map[string]any{"serial": "0badc0de", "comment": "mixed"})
	if err != nil || code != 400 || !bytes.Contains(b, []byte("older version")) {
		t.Errorf("deny-list while CGO and CBG run the release: %d %v %s, want 400 naming an older version", code, err, b)
	}
	if v, err := h.cluster(byCode["BOS"]); err != nil || v.LogFormat != 1 {
		t.Errorf("mixed cluster's log format: %d (%v), want 1", v.LogFormat, err)
	}
	t.Logf("mixed cluster (BOS, YRD new; CGO, CBG released): new-format command refused: %s", strings.TrimSpace(string(b)))
	upgrade(byCode["CBG"])
	upgrade(byCode["CGO"])

	h.eventually(30*time.Second, "the cluster's log format raised to 2", func() error {
		v, err := h.cluster(h.sites[0])
		if err != nil || v.LogFormat < 2 {
			return fmt.Errorf("log format %d (%v)", v.LogFormat, err)
		}
		return nil
	})
	code, b, err = h.call(h.sites[0], "POST", "/v1/cluster/denied-certificates", h.admin, map[string]any{"serial": "0badc0de", "comment": "after the upgrade"})
	if err != nil || code != 200 {
		t.Errorf("deny-list after the upgrade: %d %v %s", code, err, b)
	}
	waitWrites("writes after the upgrade")
	close(ld.stop)
	<-ld.done
	if len(ld.failed) > 0 {
		t.Errorf("%d writes never acknowledged, e.g. %s", len(ld.failed), ld.failed[0])
	}

	// Every acknowledged write on every site, and one state everywhere.
	for _, s := range h.sites {
		h.eventually(30*time.Second, "every acknowledged lead on "+s.code, func() error {
			for _, id := range ld.acked {
				code, b, err := h.call(s, "GET", "/v1/leads/"+id+"?consistency=STALE", h.admin, nil)
				if err != nil || code != 200 {
					return fmt.Errorf("%s on %s: %d %v %s", id, s.code, code, err, b)
				}
			}
			return nil
		})
	}
	var digest string
	h.eventually(30*time.Second, "every site's digest of one checkpoint", func() error {
		v, err := h.cluster(h.sites[0])
		if err != nil {
			return err
		}
		idx, dig := "", ""
		for _, m := range v.Members {
			if len(m.Alarms) > 0 {
				return fmt.Errorf("%s has alarms %v", m.Site, m.Alarms)
			}
			if m.CheckpointIndex == "" || m.CheckpointIndex == "0" || m.CheckpointDigest == "" {
				return fmt.Errorf("%s has computed no checkpoint digest yet", m.Site)
			}
			if idx != "" && m.CheckpointIndex != idx {
				return fmt.Errorf("checkpoints differ: %s at %q, others at %q", m.Site, m.CheckpointIndex, idx)
			}
			if dig != "" && m.CheckpointDigest != dig {
				t.Fatalf("state digests differ at checkpoint %s: %s has %s, another %s", idx, m.Site, m.CheckpointDigest, dig)
			}
			idx, dig = m.CheckpointIndex, m.CheckpointDigest
		}
		digest = idx + " " + dig
		return nil
	})
	for _, s := range h.sites {
		if err := h.ready(s); err != nil {
			t.Error(err)
		}
	}
	t.Logf("rolling upgrade done: %d writes acknowledged, none lost; every site at checkpoint %s", len(ld.acked), digest)
}
