package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestServeSIGTERMHandsOverAndRestoreFromBackup runs three real serve
// processes: SIGTERM to the leader hands leadership over before it exits;
// a backup taken with the CLI from a follower restores into a new
// single-site cluster that serves the same leads to the same tokens.
func TestServeSIGTERMHandsOverAndRestoreFromBackup(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	admin := "inn_cmdtest-admin"
	env := []string{"INNONET_ADMIN_TOKEN=" + admin}
	dir := t.TempDir()
	sites := []string{"CGO", "BOS", "CBG"}
	ports := map[string][2]int{}
	for _, s := range sites {
		ports[s] = [2]int{freePort(t), freePort(t)}
	}
	args := func(site string, extra ...string) []string {
		p := ports[site]
		return append([]string{"serve", "--site", site, "--data-dir", filepath.Join(dir, site),
			"--listen", fmt.Sprintf("127.0.0.1:%d", p[0]), "--raft-addr", fmt.Sprintf("127.0.0.1:%d", p[1]),
			"--raft-profile", "test", "--log-level", "info", "--insecure"}, extra...)
	}
	api := func(site string) string { return fmt.Sprintf("http://127.0.0.1:%d", ports[site][0]) }
	procs := map[string]*proc{"CGO": start(t, bin, env, args("CGO", "--bootstrap")...)}
	for _, s := range sites[1:] {
		procs[s] = start(t, bin, env, args(s, "--join", fmt.Sprintf("127.0.0.1:%d", ports["CGO"][0]))...)
	}
	poll(t, "three voters", func() (bool, string) {
		code, body, err := call("GET", api("BOS")+"/v1/cluster", admin, "")
		members, _ := body["members"].([]any)
		voters := 0
		for _, m := range members {
			if mm, _ := m.(map[string]any); mm["voter"] == true {
				voters++
			}
		}
		return err == nil && code == 200 && voters == 3, fmt.Sprint(code, body, err)
	})
	code, body, err := call("POST", api("BOS")+"/v1/users", admin, `{"requestId":"u1","name":"Emily","role":"NODE_STAFF","site":"BOS"}`)
	if err != nil || code != 200 {
		t.Fatalf("create user: %d %v %v", code, body, err)
	}
	staff := body["token"].(string)
	for i := 1; i <= 3; i++ {
		code, body, err := call("POST", api("CBG")+"/v1/leads", staff, fmt.Sprintf(
			`{"requestId":"l%d","title":"Lab %d","summary":"s","organization":"o","country":"US","sector":"IT_AI","trl":4,"dealType":"INVESTMENT"}`, i, i))
		if err != nil || code != 200 {
			t.Fatalf("submit %d: %d %v %v", i, code, body, err)
		}
	}

	// SIGTERM the leader: it hands over before exiting.
	_, body, _ = call("GET", api("BOS")+"/v1/cluster", admin, "")
	leader, _ := body["leader"].(string)
	lp := procs[leader]
	if lp == nil {
		t.Fatalf("no leader process for %q", leader)
	}
	lp.cmd.Process.Signal(syscall.SIGTERM)
	if err := waitExit(lp, 20*time.Second); err != nil {
		t.Fatalf("leader %s after SIGTERM: %v\n%s", leader, err, lp.out.String())
	}
	if !strings.Contains(lp.out.String(), "handed leadership over before shutdown") {
		t.Fatalf("leader %s did not hand over on SIGTERM; its log:\n%s", leader, lp.out.String())
	}
	var follower string
	for _, s := range sites {
		if s != leader {
			follower = s
		}
	}
	poll(t, "a new leader", func() (bool, string) {
		code, body, err := call("GET", api(follower)+"/v1/cluster", admin, "")
		return err == nil && code == 200 && body["leader"] != "" && body["leader"] != leader, fmt.Sprint(code, body, err)
	})

	// Back up from a follower with the CLI, then restore into a new cluster.
	backup := filepath.Join(dir, "innonet.backup")
	out, err := runBinary(bin, "backup", "--insecure", "--addr", fmt.Sprintf("127.0.0.1:%d", ports[follower][0]), "--token", admin, "--out", backup)
	if err != nil {
		t.Fatalf("innonet backup: %v\n%s", err, out)
	}
	out, err = runBinary(bin, "restore", "--backup", backup, "--check")
	if err != nil || !strings.Contains(out, "3 leads, 2 users") || !strings.Contains(out, " verified") {
		t.Fatalf("restore --check: %v\n%s", err, out)
	}
	checkEditedBackups(t, bin, backup, dir)
	newAPI, newRaft := freePort(t), freePort(t)
	newDir := filepath.Join(dir, "restored")
	out, err = runBinary(bin, "restore", "--backup", backup, "--site", "CGO", "--data-dir", newDir,
		"--raft-addr", fmt.Sprintf("127.0.0.1:%d", newRaft))
	if err != nil {
		t.Fatalf("innonet restore: %v\n%s", err, out)
	}
	restored := start(t, bin, nil, "serve", "--site", "CGO", "--data-dir", newDir, "--raft-profile", "test", "--insecure",
		"--listen", fmt.Sprintf("127.0.0.1:%d", newAPI), "--raft-addr", fmt.Sprintf("127.0.0.1:%d", newRaft))
	newURL := fmt.Sprintf("http://127.0.0.1:%d", newAPI)
	poll(t, "the restored cluster serves BOS-0003 to the old token", func() (bool, string) {
		code, body, err := call("GET", newURL+"/v1/leads/BOS-0003", staff, "")
		return err == nil && code == 200 && body["title"] == "Lab 3", fmt.Sprint(code, body, err)
	})
	code, body, err = call("POST", newURL+"/v1/leads", staff,
		`{"requestId":"l4","title":"Lab 4","summary":"s","organization":"o","country":"US","sector":"IT_AI","trl":4,"dealType":"INVESTMENT"}`)
	if err != nil || code != 200 || body["id"] != "BOS-0004" {
		t.Fatalf("submit on the restored cluster: %d %v %v, want BOS-0004", code, body, err)
	}
	restored.stop(t)
	for s, p := range procs {
		if s != leader {
			p.stop(t)
		}
	}
}

func waitExit(p *proc, d time.Duration) error {
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(d):
		p.cmd.Process.Kill()
		return fmt.Errorf("did not exit within %s", d)
	}
}

// checkEditedBackups edits copies of a backup as someone with the file
// might (a lead's title, a user's role), and cuts off its checksum as a
// backup of an older innonet lacks it: restore and restore --check must
// refuse each, the last unless --allow-no-checksum accepts it.
func checkEditedBackups(t *testing.T, bin, backup, dir string) {
	t.Helper()
	data, err := os.ReadFile(backup)
	if err != nil {
		t.Fatal(err)
	}
	noChecksum := data[:bytes.LastIndexByte(data[:len(data)-1], '\n')+1]
	for _, tt := range []struct {
		name string
		data []byte
		want string
	}{
		{"title edited", bytes.Replace(data, []byte(`"title":"Lab 2"`), []byte(`"title":"Lab 2 (sold)"`), 1), "does not match its SHA-256"},
		{"NODE_STAFF made ADMIN", bytes.Replace(data, []byte(`"name":"Emily","role":4`), []byte(`"name":"Emily","role":1`), 1), "does not match its SHA-256"},
		{"no checksum", noChecksum, "--allow-no-checksum"},
	} {
		if bytes.Equal(tt.data, data) {
			t.Fatalf("%s: the edit changed nothing", tt.name)
		}
		file := filepath.Join(dir, "edited.backup")
		if err := os.WriteFile(file, tt.data, 0o600); err != nil {
			t.Fatal(err)
		}
		for _, args := range [][]string{{"--check"}, {"--site", "CGO", "--data-dir", filepath.Join(dir, "edited"), "--raft-addr", fmt.Sprintf("127.0.0.1:%d", freePort(t))}} {
			out, err := runBinary(bin, append([]string{"restore", "--backup", file}, args...)...)
			if err == nil || !strings.Contains(out, tt.want) {
				t.Errorf("restore %s of a backup with %s: %v\n%s\nwant a refusal saying %q", args[0], tt.name, err, out, tt.want)
			}
		}
	}
	out, err := runBinary(bin, "restore", "--backup", filepath.Join(dir, "edited.backup"), "--check", "--allow-no-checksum")
	if err != nil || !strings.Contains(out, "3 leads, 2 users") || !strings.Contains(out, "not verified") {
		t.Errorf("restore --check --allow-no-checksum of a backup without checksum: %v\n%s", err, out)
	}
}

func runBinary(bin string, args ...string) (string, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = os.Environ()
	out, err := cmd.CombinedOutput()
	return string(out), err
}
