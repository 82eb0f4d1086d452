//go:build e2e

package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// site is one container of the network.
type site struct {
	Code, Service string
	Voter         bool
	Client        string // API address on the clients network: what the test calls
	WANIP         string // address on the wan network: what the other sites call
}

// network is the compose project under test.
type network struct {
	t       *testing.T
	p       *project
	api     *api
	sites   []site
	admin   string
	image   string
	tokens  map[string]string // sample users' tokens: "HQ", "BOS", "YRD", ...
	ids     map[string]string // container ID by site code
	certs   string            // container ID of the one-shot certs service
	ca      []byte            // the network's CA certificate (PEM), from the certs volume
	wanNet  string            // docker network ID of the wan
	stopped bool              // torn down
}

// defaultSites is deploy/docker-compose.yml's topology: site i is .101+i.
var defaultSites = []struct {
	code  string
	voter bool
}{{"CGO", true}, {"BOS", true}, {"CBG", true}, {"MUC", true}, {"TLV", true}, {"BOHAI", false}, {"YRD", false}, {"PRD", false}}

func TestNetwork(t *testing.T) {
	requireDocker(t)
	start := time.Now()
	n := upNetwork(t)
	t.Logf("network up and seeded in %s", time.Since(start).Round(time.Millisecond))

	steps := []struct {
		name string
		run  func(t *testing.T, n *network)
	}{
		{"Containers", testContainers},
		{"TLS", testTLS},
		{"Lifecycle", testLifecycle},
		{"KillLeader", testKillLeader},
		{"PartitionLeader", testPartitionLeader},
		{"RollingRestart", testRollingRestart},
		{"Teardown", testTeardown},
	}
	for _, s := range steps {
		if !t.Run(s.name, func(t *testing.T) { s.run(t, n) }) && s.name != "Teardown" {
			// Later steps assume a healthy network: stop here rather than
			// pile up confusing failures. Cleanup still tears it down.
			t.Fatalf("step %s failed; skipping the rest", s.name)
		}
	}
	t.Logf("all steps in %s", time.Since(start).Round(time.Millisecond))
}

// upNetwork builds the image, starts the network under a project name and
// subnets of its own, waits until it is stable and loads the sample users.
// Cleanup tears it down (and removes the image) whatever happened.
func upNetwork(t *testing.T) *network {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()

	// The process ID and the time: a network an earlier run could not
	// remove (see teardown) never shares the project name of a later one.
	runID := fmt.Sprintf("%d-%d", os.Getpid(), time.Now().Unix()%100000)
	image := "innonet:e2e-" + runID
	wanNet, clientNet := freeSubnets(ctx, t)
	admin := newToken(t)
	n := &network{t: t, admin: admin, image: image, ids: map[string]string{}}
	n.p = newProject(t, "innonet-e2e-"+runID, map[string]string{
		"INNONET_IMAGE": image, "INNONET_ADMIN_TOKEN": admin,
		"INNONET_WAN_NET": wanNet, "INNONET_CLIENT_NET": clientNet,
		"INNONET_RAFT_PROFILE": "lan", "INNONET_LOG_LEVEL": "info",
	})
	for i, s := range defaultSites {
		n.sites = append(n.sites, site{Code: s.code, Service: strings.ToLower(s.code), Voter: s.voter,
			Client: fmt.Sprintf("%s.%d:7100", clientNet, 101+i), WANIP: fmt.Sprintf("%s.%d", wanNet, 101+i)})
	}
	t.Logf("project %s, image %s, wan %s.0/24, clients %s.0/24", n.p.name, image, wanNet, clientNet)

	t.Cleanup(func() { n.cleanup(image) })

	began := time.Now()
	if out, err := runScript(ctx, "../build-image.sh", image); err != nil {
		t.Fatalf("build the image: %v", err)
	} else {
		t.Logf("deploy/build-image.sh: %s in %s", strings.TrimSpace(out), time.Since(began).Round(time.Millisecond))
	}
	began = time.Now()
	if _, err := n.p.compose(ctx, "up", "--detach"); err != nil {
		t.Fatalf("docker-compose up: %v", err)
	}
	// The sites serve only TLS, with certificates from the network's CA,
	// which the one-shot certs service wrote into its volume: take the CA
	// from there, as deploy/up.sh does.
	certs, err := n.p.container(ctx, "certs")
	if err != nil {
		t.Fatal(err)
	}
	n.certs = certs
	if n.ca, err = copyOut(ctx, certs, "/certs/ca.crt"); err != nil {
		t.Fatalf("copy the CA out of the certs container: %v", err)
	}
	if n.api, err = newAPI(n.ca); err != nil {
		t.Fatal(err)
	}
	for _, s := range n.sites {
		id, err := n.p.container(ctx, s.Service)
		if err != nil {
			t.Fatal(err)
		}
		n.ids[s.Code] = id
	}
	wan, err := n.p.networkID(ctx, "wan")
	if err != nil {
		t.Fatal(err)
	}
	n.wanNet = wan
	n.waitStable(ctx, t, 2*time.Minute)
	t.Logf("eight sites ready, five voters, in %s after docker-compose up", time.Since(began).Round(time.Millisecond))

	// The optional sample data step (profile "sample") also gives the test
	// its users, one per role.
	out, err := n.p.runOneOff(ctx, "seed")
	if err != nil {
		t.Fatalf("seed: %v", err)
	}
	var users []struct{ Role, Site, Division, Token string }
	if err := json.Unmarshal([]byte(out), &users); err != nil {
		t.Fatalf("seed printed %q: %v", out, err)
	}
	n.tokens = map[string]string{}
	for _, u := range users {
		key := u.Site + u.Division
		if u.Role == "HQ_REVIEWER" {
			key = "HQ"
		}
		n.tokens[key] = u.Token
	}
	for _, k := range []string{"HQ", "BOS", "YRD"} {
		if n.tokens[k] == "" {
			t.Fatalf("seed printed no token for %s: %s", k, out)
		}
	}
	return n
}

// cleanup runs at the end of the test, passed or failed: on failure it
// shows the sites' last logs, then removes everything the test created.
func (n *network) cleanup(image string) {
	t := n.t
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if !n.stopped {
		if t.Failed() {
			if out, err := n.p.compose(ctx, "logs", "--no-color", "--tail=30"); err == nil {
				t.Logf("last logs of every site:\n%s", out)
			}
		}
		r := n.p.teardown(ctx, 10*time.Second)
		if r.composeErr != nil {
			t.Logf("cleanup: docker-compose down: %v", r.composeErr)
		}
		if msg := r.problem(); msg != "" {
			t.Errorf("cleanup: %s", msg)
		}
		if msg := r.staleAdvice(); msg != "" {
			t.Logf("cleanup: %s", msg)
		}
	}
	if _, err := docker(ctx, "image", "rm", image); err != nil && !strings.Contains(err.Error(), "No such image") {
		t.Errorf("cleanup: %v", err)
	}
}

// runScript runs one of deploy/'s scripts.
func runScript(ctx context.Context, script string, args ...string) (string, error) {
	return run(ctx, nil, "", script, args...)
}

func newToken(t *testing.T) string {
	t.Helper()
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "inn_" + hex.EncodeToString(b)
}
