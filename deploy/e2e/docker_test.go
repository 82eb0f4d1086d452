//go:build e2e

package e2e

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// requireDocker fails the test at once, with a message that says what is
// missing, when no Docker engine answers or docker-compose is absent.
func requireDocker(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"docker", "docker-compose"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("the e2e tests need %s on PATH: %v", tool, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := run(ctx, nil, "", "docker", "info", "--format", "{{.ServerVersion}}")
	if err != nil || strings.TrimSpace(out) == "" {
		t.Fatalf("no Docker engine answers (`docker info` failed; is the daemon running, may this user use it?): %v", err)
	}
	t.Logf("Docker engine %s", strings.TrimSpace(out))
}

// run executes a command and returns its standard output; on failure the
// error carries its standard error.
func run(ctx context.Context, env []string, dir, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	if env != nil {
		cmd.Env = env
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

// docker runs the docker CLI.
func docker(ctx context.Context, args ...string) (string, error) {
	return run(ctx, nil, "", "docker", args...)
}

// copyOut reads one file from a container, running or exited (the image
// has no shell to cat it with): docker cp streams it as a tar archive.
func copyOut(ctx context.Context, container, path string) ([]byte, error) {
	out, err := docker(ctx, "cp", container+":"+path, "-")
	if err != nil {
		return nil, err
	}
	tr := tar.NewReader(strings.NewReader(out))
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("docker cp %s:%s: no file in the archive", container, path)
		}
		if err != nil {
			return nil, fmt.Errorf("docker cp %s:%s: %w", container, path, err)
		}
		if h.Typeflag == tar.TypeReg {
			return io.ReadAll(tr)
		}
	}
}

// project is one compose project: the network under test.
type project struct {
	name    string
	dir     string // deploy/, where docker-compose.yml is
	envFile string
	env     []string
	oneOffs []string // names of the one-off containers it ran (runOneOff)
}

// newProject prepares a project whose settings come from vars alone: an
// env file of its own keeps deploy/.env (an operator's network) out of it.
func newProject(t *testing.T, name string, vars map[string]string) *project {
	t.Helper()
	dir, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	var file strings.Builder
	env := os.Environ()
	for k, v := range vars {
		fmt.Fprintf(&file, "%s=%s\n", k, v)
		env = append(env, k+"="+v)
	}
	envFile := filepath.Join(t.TempDir(), "compose.env")
	if err := os.WriteFile(envFile, []byte(file.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return &project{name: name, dir: dir, envFile: envFile, env: env}
}

// compose runs docker-compose on the project.
func (p *project) compose(ctx context.Context, args ...string) (string, error) {
	base := []string{"--env-file", p.envFile, "--project-name", p.name, "--file", "docker-compose.yml"}
	return run(ctx, p.env, p.dir, "docker-compose", append(base, args...)...)
}

// container returns the ID of a service's container.
func (p *project) container(ctx context.Context, service string) (string, error) {
	out, err := p.compose(ctx, "ps", "-q", service)
	if err != nil {
		return "", err
	}
	id := strings.TrimSpace(out)
	if id == "" || strings.Contains(id, "\n") {
		return "", fmt.Errorf("service %s: want one container, got %q", service, id)
	}
	return id, nil
}

// leftovers lists the project's containers, networks and volumes that
// still exist, found by the labels Compose puts on everything it creates
// and, in case a label is missing, by the project's name prefix.
func (p *project) leftovers(ctx context.Context) ([]string, error) {
	label := "label=com.docker.compose.project=" + p.name
	name := "name=" + p.name + "_"
	var left []string
	for _, ls := range [][]string{
		{"ps", "--all", "--filter", label, "--format", "container {{.Names}}"},
		{"ps", "--all", "--filter", name, "--format", "container {{.Names}}"},
		{"network", "ls", "--filter", label, "--format", "network {{.Name}}"},
		{"network", "ls", "--filter", name, "--format", "network {{.Name}}"},
		{"volume", "ls", "--filter", label, "--format", "volume {{.Name}}"},
		{"volume", "ls", "--filter", name, "--format", "volume {{.Name}}"},
	} {
		out, err := docker(ctx, ls...)
		if err != nil {
			return nil, err
		}
		for _, line := range strings.Split(out, "\n") {
			if line = strings.TrimSpace(line); line != "" {
				left = append(left, line)
			}
		}
	}
	return left, nil
}

// networkID returns the ID of one of the project's networks (wan, clients).
func (p *project) networkID(ctx context.Context, name string) (string, error) {
	out, err := docker(ctx, "network", "ls", "-q", "--filter", "label=com.docker.compose.project="+p.name,
		"--filter", "label=com.docker.compose.network="+name)
	if err != nil {
		return "", err
	}
	id := strings.TrimSpace(out)
	if id == "" || strings.Contains(id, "\n") {
		return "", fmt.Errorf("network %s of project %s: want one, got %q", name, p.name, id)
	}
	return id, nil
}

// freeSubnets picks two /24s in 10.231.0.0/16 (as "10.231.N" prefixes) that
// overlap neither this host's addresses nor any Docker network, starting
// from a place derived from the process ID so that concurrent runs differ.
func freeSubnets(ctx context.Context, t *testing.T) (wan, clients string) {
	t.Helper()
	var used []*net.IPNet
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatalf("list host addresses: %v", err)
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			used = append(used, n)
		}
	}
	out, err := docker(ctx, "network", "ls", "-q")
	if err != nil {
		t.Fatal(err)
	}
	if ids := strings.Fields(out); len(ids) > 0 {
		out, err := docker(ctx, append([]string{"network", "inspect", "--format", "{{range .IPAM.Config}}{{.Subnet}} {{end}}"}, ids...)...)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range strings.Fields(out) {
			if _, n, err := net.ParseCIDR(s); err == nil {
				used = append(used, n)
			}
		}
	}
	free := func(third int) bool {
		_, mine, _ := net.ParseCIDR(fmt.Sprintf("10.231.%d.0/24", third))
		for _, n := range used {
			if n.Contains(mine.IP) || mine.Contains(n.IP) {
				return false
			}
		}
		return true
	}
	start := os.Getpid() % 127
	for i := range 127 {
		k := (start + i) % 127
		if free(2*k) && free(2*k+1) {
			return fmt.Sprintf("10.231.%d", 2*k), fmt.Sprintf("10.231.%d", 2*k+1)
		}
	}
	t.Fatal("no two free /24 subnets in 10.231.0.0/16 for the test network")
	return "", ""
}
