//go:build scale

// Package scale measures a three-site cluster holding a large state: how
// long a site takes from start to ready, how long a new or wiped follower
// takes to catch up (by snapshot), and how much memory each site holds.
// Not part of CI's pass or fail: it prints figures.
//
//	go test -tags scale -run TestScale -v -timeout 60m ./tests/scale/ -leads 100000
//
// The state is made in-process by applying real commands (a lead
// submitted, most reviewed, some claimed and moved on), written as a
// snapshot, installed on the first site with `innonet restore`, and
// replicated to the others by Raft's InstallSnapshot. With -logs DIR the
// sites log at level info and their logs are kept in DIR.
package scale

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"innonet/node"
	"innonet/node/pipeline"
)

var (
	leads    = flag.Int("leads", 20000, "leads in the cluster's state")
	profiles = flag.String("profiles", "", "directory to save each site's heap profile in at every RSS line (sites run with --pprof)")
	logs     = flag.String("logs", "", "directory to copy each site's log to at the end (the sites then log at level info, with timestamps, to see where a start's time goes)")
)

type site struct {
	code, api, raft, data, log string
	args                       []string
	cmd                        *exec.Cmd
	exited                     chan struct{}
}

type harness struct {
	t      *testing.T
	dir    string
	bin    string
	certs  string
	admin  string
	client *http.Client
	sites  []*site
	// profiled counts the rounds of heap profiles saved.
	profiled int
}

func TestScale(t *testing.T) {
	h := newHarness(t)
	snap, last := h.makeState(*leads)

	cgo, bos, cbg := h.sites[0], h.sites[1], h.sites[2]
	began := time.Now()
	if out, err := exec.Command(h.bin, "restore", "--backup", snap, "--allow-no-checksum", "--site", cgo.code,
		"--data-dir", cgo.data, "--raft-addr", cgo.raft).CombinedOutput(); err != nil {
		t.Fatalf("innonet restore: %v\n%s", err, out)
	}
	t.Logf("innonet restore (check, then install the snapshot in a new Raft group): %v", time.Since(began).Round(time.Millisecond))

	h.measure("CGO start to ready (restores its snapshot)", cgo, last)
	h.measure("BOS joins, empty, to caught up (InstallSnapshot)", bos, last)
	h.measure("CBG joins, empty, to caught up (InstallSnapshot)", cbg, last)
	h.rss()

	// A wiped site comes back as a new member (see the README's
	// "Backup and recovery"): removed, then joining again, here while
	// CGO, the site the snapshot was restored on, leads. (Through a
	// leader that joined by snapshot, whose latest snapshot names neither
	// it nor the wiped site, see cluster's
	// TestWipedSiteRejoinsLeaderThatJoinedBySnapshot.)
	h.stop(cbg, syscall.SIGKILL)
	if err := os.RemoveAll(cbg.data); err != nil {
		t.Fatal(err)
	}
	h.remove(cgo, cbg)
	h.measure("CBG wiped, restarted to caught up (InstallSnapshot)", cbg, last)

	h.stop(cgo, syscall.SIGTERM)
	h.measure("CGO restart to ready", cgo, last)
	h.rss()
}

func newHarness(t *testing.T) *harness {
	dir := t.TempDir()
	if *logs != "" {
		t.Cleanup(func() { // before the directory is removed
			if err := os.MkdirAll(*logs, 0o755); err != nil {
				t.Error(err)
				return
			}
			for _, c := range []string{"CGO", "BOS", "CBG"} {
				if b, err := os.ReadFile(filepath.Join(dir, c+".log")); err == nil {
					if err := os.WriteFile(filepath.Join(*logs, c+".log"), b, 0o644); err != nil {
						t.Error(err)
					}
				}
			}
		})
	}
	b := make([]byte, 32)
	rand.Read(b)
	h := &harness{t: t, dir: dir, bin: filepath.Join(dir, "innonet"), certs: filepath.Join(dir, "certs"), admin: "inn_" + hex.EncodeToString(b)}
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	build := exec.Command("go", "build", "-o", h.bin, "./cmd/innonet")
	build.Dir = filepath.Dir(strings.TrimSpace(string(gomod)))
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	codes := []string{"CGO", "BOS", "CBG"}
	if out, err := exec.Command(h.bin, "certs", "--dir", h.certs, "--sites", strings.Join(codes, ",")).CombinedOutput(); err != nil {
		t.Fatalf("innonet certs: %v\n%s", err, out)
	}
	pem, err := os.ReadFile(filepath.Join(h.certs, "ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	h.client = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	var addrs []string
	for range 2 * len(codes) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		addrs = append(addrs, l.Addr().String())
	}
	for i, c := range codes {
		s := &site{code: c, api: addrs[2*i], raft: addrs[2*i+1], data: filepath.Join(dir, "data", c), log: filepath.Join(dir, c+".log")}
		level := "warn"
		if *logs != "" {
			level = "info"
		}
		s.args = []string{"serve", "--site", c, "--data-dir", s.data, "--listen", s.api, "--raft-addr", s.raft, "--tls-dir", h.certs, "--log-level", level}
		if *profiles != "" {
			s.args = append(s.args, "--pprof")
		}
		if i > 0 {
			s.args = append(s.args, "--join", addrs[0])
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

// makeState applies the commands of n leads to a state at log format 2,
// writes its snapshot to a file and returns the file and the last lead's
// ID.
func (h *harness) makeState(n int) (string, string) {
	t := h.t
	began := time.Now()
	st := pipeline.New()
	var index uint64
	apply := func(actor string, c pipeline.Command) pipeline.Result {
		t.Helper()
		index++
		c.Actor = actor
		c.Time = time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC).Add(time.Duration(index) * time.Second).UnixNano()
		if c.Op != pipeline.OpBootstrap && c.Op != pipeline.OpSetFormat {
			c.RequestID = fmt.Sprintf("scale-%d", index)
		}
		data, err := c.Encode()
		if err != nil {
			t.Fatal(err)
		}
		raw := st.Apply(index, data)
		res, ok := raw.(pipeline.Result)
		if !ok {
			t.Fatalf("entry %d (%s) refused: %v", index, c.Op, raw)
		}
		return res
	}
	user := func(actor, name string, role pipeline.Role, site, division string) string {
		return apply(actor, pipeline.Command{Op: pipeline.OpAddUser, NewUser: &pipeline.NewUser{Name: name, Role: role, Site: site, Division: division,
			TokenHash: node.HashToken("inn_" + name)}}).User.ID
	}
	admin := apply("", pipeline.Command{Op: pipeline.OpBootstrap, NewUser: &pipeline.NewUser{Name: "Ada Admin", Role: pipeline.Admin, TokenHash: node.HashToken(h.admin)}}).User.ID
	hq := user(admin, "Hui Reviewer", pipeline.HQReviewer, "", "")
	staff := []string{user(admin, "Beth Boston", pipeline.NodeStaff, "BOS", ""), user(admin, "Colin Cambridge", pipeline.NodeStaff, "CBG", "")}
	divs := []string{user(admin, "Bo Hai", pipeline.DivisionRole, "", "BOHAI"), user(admin, "Yang Delta", pipeline.DivisionRole, "", "YRD")}
	apply("", pipeline.Command{Op: pipeline.OpSetFormat, SetFormat: pipeline.Format2})
	// Words of random syllables: text about as compressible as prose.
	rnd := mrand.New(mrand.NewPCG(18, 18))
	syllables := strings.Fields("ka ri to mu se na lo be di fa ge hu ji ko lu me ni po qu ra su te vi wo xa yu ze an el in on un " +
		"ber chen dor fel gan hol jun kes lin mor")
	text := func(n int) string {
		var b strings.Builder
		for b.Len() < n {
			for range 2 + rnd.IntN(3) {
				b.WriteString(syllables[rnd.IntN(len(syllables))])
			}
			b.WriteByte(' ')
		}
		return strings.TrimSpace(b.String())
	}
	var last string
	for i := range n {
		id := apply(staff[i%2], pipeline.Command{Op: pipeline.OpSubmit, Draft: &pipeline.Draft{Title: text(40), Summary: text(300),
			Organization: "Technische Universität München", Country: "DE", Sector: pipeline.Sector(1 + i%8), TRL: 1 + i%9,
			DealType: pipeline.DealType(1 + i%5), Tags: []string{"battery", "pilot"}, Language: "en",
			Contacts: []pipeline.Contact{{Name: "Dana Lee", Email: "dana@example.edu"}}}}).Lead.ID
		last = id
		if i%4 == 0 {
			continue // still in review
		}
		apply(hq, pipeline.Command{Op: pipeline.OpReview, LeadID: id, Decision: pipeline.Approve, Comment: "good fit"})
		if i%4 == 1 {
			continue
		}
		div := divs[i%2]
		apply(div, pipeline.Command{Op: pipeline.OpClaim, LeadID: id})
		apply(div, pipeline.Command{Op: pipeline.OpAdvance, LeadID: id, Stage: pipeline.Negotiating, Comment: "first meeting held"})
	}
	file := filepath.Join(h.dir, "state.snapshot")
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	size, err := st.Snapshot().WriteTo(w)
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = f.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	head, _ := os.ReadFile(file)
	head, _, _ = bytes.Cut(head, []byte("\n"))
	t.Logf("state: %d leads, %d log entries, made in %v; snapshot %s: %.1f MB (%.0f bytes per lead)",
		n, index, time.Since(began).Round(time.Millisecond), head, float64(size)/1e6, float64(size)/float64(n))
	return file, last
}

// measure starts s and reports how long it took until it is ready and
// serves the last lead from its own state.
func (h *harness) measure(what string, s *site, last string) {
	h.t.Helper()
	began := time.Now()
	h.start(s)
	deadline := began.Add(30 * time.Minute)
	var err error
	for time.Now().Before(deadline) {
		if err = h.caughtUp(s, last); err == nil {
			h.t.Logf("%s: %v", what, time.Since(began).Round(10*time.Millisecond))
			return
		}
		select {
		case <-s.exited:
			h.t.Fatalf("%s: the site exited: %v", what, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
	h.t.Fatalf("%s: not caught up after %v: %v", what, time.Since(began), err)
}

func (h *harness) caughtUp(s *site, last string) error {
	resp, err := h.client.Get("https://" + s.api + "/readyz")
	if err != nil {
		return err
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("/readyz %d %s", resp.StatusCode, strings.TrimSpace(string(b)))
	}
	req, _ := http.NewRequest("GET", "https://"+s.api+"/v1/leads/"+last+"?consistency=STALE", nil)
	req.Header.Set("Authorization", "Bearer "+h.admin)
	resp, err = h.client.Do(req)
	if err != nil {
		return err
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET lead %s: %d %.200s", last, resp.StatusCode, b)
	}
	return nil
}

// remove removes s from the cluster, through via, retrying while the
// cluster cannot take it yet (a new leader not yet known everywhere).
func (h *harness) remove(via, s *site) {
	h.t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		req, _ := http.NewRequest("DELETE", "https://"+via.api+"/v1/cluster/members/"+s.code, nil)
		req.Header.Set("Authorization", "Bearer "+h.admin)
		resp, err := h.client.Do(req)
		if err != nil {
			h.t.Fatalf("remove %s: %v", s.code, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		switch {
		case resp.StatusCode == http.StatusOK:
			return
		case resp.StatusCode == http.StatusServiceUnavailable && time.Now().Before(deadline):
			time.Sleep(200 * time.Millisecond)
		default:
			h.t.Fatalf("remove %s: %d %s", s.code, resp.StatusCode, b)
		}
	}
}

// rss reports each running site's resident memory.
func (h *harness) rss() {
	var out []string
	for _, s := range h.sites {
		if s.cmd == nil {
			continue
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
				out = append(out, s.code+" "+strings.TrimSpace(rest))
			}
		}
	}
	h.t.Logf("RSS: %s", strings.Join(out, ", "))
	if *profiles != "" {
		h.saveHeapProfiles()
	}
}

// saveHeapProfiles saves every running site's heap profile in -profiles,
// numbered by the RSS line it goes with (go tool pprof -sample_index
// inuse_space FILE).
func (h *harness) saveHeapProfiles() {
	h.profiled++
	if err := os.MkdirAll(*profiles, 0o755); err != nil {
		h.t.Fatal(err)
	}
	for _, s := range h.sites {
		if s.cmd == nil {
			continue
		}
		req, err := http.NewRequest("GET", "https://"+s.api+"/debug/pprof/heap", nil)
		if err != nil {
			h.t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+h.admin)
		resp, err := h.client.Do(req)
		if err != nil {
			h.t.Logf("heap profile of %s: %v", s.code, err)
			continue
		}
		name := filepath.Join(*profiles, fmt.Sprintf("%d-%s.heap", h.profiled, s.code))
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err == nil && resp.StatusCode == http.StatusOK {
			err = os.WriteFile(name, b, 0o644)
		} else if err == nil {
			err = fmt.Errorf("status %d: %.200s", resp.StatusCode, b)
		}
		if err != nil {
			h.t.Logf("heap profile of %s: %v", s.code, err)
			continue
		}
		h.t.Logf("heap profile of %s: %s", s.code, name)
	}
}

func (h *harness) start(s *site) {
	h.t.Helper()
	f, err := os.OpenFile(s.log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		h.t.Fatal(err)
	}
	cmd := exec.Command(h.bin, s.args...)
	cmd.Env = append(os.Environ(), "INNONET_ADMIN_TOKEN="+h.admin)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		h.t.Fatal(err)
	}
	s.cmd, s.exited = cmd, make(chan struct{})
	go func() { cmd.Wait(); f.Close(); close(s.exited) }()
}

func (h *harness) stop(s *site, sig syscall.Signal) {
	if s.cmd == nil {
		return
	}
	began := time.Now()
	s.cmd.Process.Signal(sig)
	select {
	case <-s.exited:
		if sig == syscall.SIGTERM {
			h.t.Logf("%s stopped (SIGTERM) in %v", s.code, time.Since(began).Round(10*time.Millisecond))
		}
	case <-time.After(20 * time.Second):
		// SIGQUIT: the Go runtime writes every goroutine's stack to the
		// site's log (see -logs) before it exits.
		h.t.Errorf("%s did not stop within 20 s of %v: sending SIGQUIT (its goroutines are in its log)", s.code, sig)
		s.cmd.Process.Signal(syscall.SIGQUIT)
		select {
		case <-s.exited:
		case <-time.After(10 * time.Second):
			s.cmd.Process.Kill()
			<-s.exited
		}
	}
	s.cmd = nil
}
