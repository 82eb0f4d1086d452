//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Why the teardown is more than `docker-compose down`: Docker engine 20.10
// sometimes keeps an endpoint in a network's store after the container that
// owned it is gone (most often a one-off `docker-compose run --rm`
// container). `docker network inspect` then shows no container, yet
// `docker network rm` answers "has active endpoints" for good, and
// docker-compose gives up before it removes the volumes. So the teardown
// below removes containers, then volumes, then networks, each step whatever
// the one before did; it force-disconnects every endpoint name it knows of
// (the services' containers and the one-off containers it named itself)
// and retries a refused network removal with a bounded backoff.

// networkRemoveBackoff is the pause before each retry of a refused network
// removal: about 15 s in all, then the engine's fault is reported.
var networkRemoveBackoff = []time.Duration{250 * time.Millisecond, 500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second}

// teardownResult is what a teardown did and what it could not undo.
type teardownResult struct {
	composeErr error    // docker-compose down's error, if it failed
	retries    int      // network removals that were refused at first and retried
	removed    []string // what the teardown itself removed after docker-compose down
	// left is what of the project's own is still there: containers and
	// volumes (a failure of this test's cleanup, always an error).
	left []string
	// stale are networks the engine refuses to remove though no container
	// is attached: the engine's stale-endpoint fault.
	stale []string
}

// problem says what is wrong with the result, or "" when nothing is: only
// containers and volumes left behind count; a stale network is the engine's
// fault and is described by staleAdvice.
func (r teardownResult) problem() string {
	if len(r.left) == 0 {
		return ""
	}
	return fmt.Sprintf("left behind: %s", strings.Join(r.left, ", "))
}

// staleAdvice names each stale network and how an operator clears it.
func (r teardownResult) staleAdvice() string {
	if len(r.stale) == 0 {
		return ""
	}
	return fmt.Sprintf("Docker engine fault, not this project's: the engine refuses to remove network(s) %s "+
		"although no container is attached (a stale endpoint left in the engine's network store). "+
		"Clear it by restarting the engine (e.g. `systemctl restart docker`) and then `docker network rm %s`. "+
		"The next run is not affected: it uses a project name and subnets of its own, chosen to overlap no existing network",
		strings.Join(r.stale, ", "), strings.Join(r.stale, " "))
}

// oneOffName is the name the test gives a one-off container of a service
// (`docker-compose run --name`), so that the teardown knows its endpoint
// name even after the container is gone.
func (p *project) oneOffName(service string) string {
	return p.name + "_" + service + "_run"
}

// runOneOff runs a one-off container of a service under a name the
// teardown knows, and makes sure it is gone afterwards.
func (p *project) runOneOff(ctx context.Context, service string) (string, error) {
	name := p.oneOffName(service)
	p.oneOffs = append(p.oneOffs, name)
	out, err := p.compose(ctx, "run", "--rm", "--name", name, service)
	if rmErr := removeContainer(ctx, name); rmErr != nil && err == nil {
		err = rmErr
	}
	return out, err
}

// removeContainer removes a container, running or not; one that does not
// exist is no error.
func removeContainer(ctx context.Context, name string) error {
	_, err := docker(ctx, "rm", "--force", "--volumes", name)
	if err != nil && strings.Contains(err.Error(), "No such container") {
		return nil
	}
	return err
}

// teardown removes every container, volume and network of the project.
// It does not stop at the first failure: each kind is removed whatever
// happened to the one before.
func (p *project) teardown(ctx context.Context, stopTimeout time.Duration) teardownResult {
	var r teardownResult
	_, r.composeErr = p.compose(ctx, "down", "--volumes", "--remove-orphans", "--timeout", fmt.Sprint(int(stopTimeout.Seconds())))

	// Containers: the one-offs by name, then anything still labelled.
	containers := append([]string(nil), p.oneOffs...)
	if ids, err := p.list(ctx, "ps", "--all", "--format", "{{.Names}}"); err == nil {
		containers = append(containers, ids...)
	}
	for _, c := range unique(containers) {
		if exists(ctx, "container", c) {
			if err := removeContainer(ctx, c); err == nil {
				r.removed = append(r.removed, "container "+c)
			}
		}
	}
	// Volumes, before the networks, so a stuck network cannot keep them.
	if vols, err := p.list(ctx, "volume", "ls", "--format", "{{.Name}}"); err == nil {
		for _, v := range vols {
			if _, err := docker(ctx, "volume", "rm", "--force", v); err == nil {
				r.removed = append(r.removed, "volume "+v)
			}
		}
	}
	// Networks: disconnect every endpoint the engine lists and every name
	// this project's containers had, then remove, with a bounded backoff.
	nets, _ := p.list(ctx, "network", "ls", "--format", "{{.Name}}")
	for _, nw := range nets {
		tries, err := p.removeNetwork(ctx, nw, containers)
		r.retries += tries
		if err == nil {
			r.removed = append(r.removed, "network "+nw)
		}
	}

	// What is left: the project's containers and volumes are this test's
	// failure; a network nobody is attached to is the engine's.
	left, err := p.leftovers(ctx)
	if err != nil {
		r.left = append(r.left, "(could not list: "+err.Error()+")")
	}
	for _, l := range unique(left) {
		kind, name, _ := strings.Cut(l, " ")
		if kind == "network" {
			if attached := p.attached(ctx, name); len(attached) == 0 {
				r.stale = append(r.stale, name)
				continue
			} else {
				l = fmt.Sprintf("network %s (containers attached: %s)", name, strings.Join(attached, ", "))
			}
		}
		r.left = append(r.left, l)
	}
	return r
}

// removeNetwork removes one network, force-disconnecting endpoints first,
// and retries a refusal; it returns how many retries it took.
func (p *project) removeNetwork(ctx context.Context, nw string, names []string) (int, error) {
	var err error
	for try := 0; ; try++ {
		for _, e := range unique(append(p.attached(ctx, nw), names...)) {
			// Errors are expected here (most names were never on this
			// network); what counts is whether the removal succeeds.
			_, _ = docker(ctx, "network", "disconnect", "--force", nw, e)
		}
		if _, err = docker(ctx, "network", "rm", nw); err == nil || !exists(ctx, "network", nw) {
			return try, nil
		}
		if try == len(networkRemoveBackoff) {
			return try, err
		}
		select {
		case <-ctx.Done():
			return try, fmt.Errorf("%w (gave up: %v)", err, ctx.Err())
		case <-time.After(networkRemoveBackoff[try]):
		}
	}
}

// attached lists the containers (endpoint names) a network reports.
func (p *project) attached(ctx context.Context, nw string) []string {
	out, err := docker(ctx, "network", "inspect", "--format", "{{range .Containers}}{{.Name}} {{end}}", nw)
	if err != nil {
		return nil
	}
	return strings.Fields(out)
}

// list runs a docker listing filtered by the project's Compose label and
// returns one name per line.
func (p *project) list(ctx context.Context, args ...string) ([]string, error) {
	out, err := docker(ctx, append(args, "--filter", "label=com.docker.compose.project="+p.name)...)
	if err != nil {
		return nil, err
	}
	return strings.Fields(out), nil
}

// exists reports whether a docker object of a kind (container, network,
// volume) exists.
func exists(ctx context.Context, kind, name string) bool {
	_, err := docker(ctx, kind, "inspect", "--format", "{{.Name}}", name)
	return err == nil
}

func unique(xs []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range xs {
		if x != "" && !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}
