package robustness

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
)

// FaultKind is a kind of fault the nemesis injects.
type FaultKind string

// The faults, each held for a few seconds and then healed.
const (
	FaultKill      FaultKind = "kill-restart"   // kill -9 a site, restart it on its data dir
	FaultIsolate   FaultKind = "isolate-leader" // cut every link to and from the leader
	FaultPartition FaultKind = "partition"      // split the sites into a majority and a minority
	FaultOneWay    FaultKind = "one-way-link"   // the leader cannot reach a site, or it the leader
	FaultPause     FaultKind = "pause"          // SIGSTOP a site, then SIGCONT
	FaultLatency   FaultKind = "latency"        // delay the links of a site, or all links
	FaultWipe      FaultKind = "wipe-rejoin"    // kill a site, delete its data, rejoin it as a new member
	FaultQuorum    FaultKind = "quorum-loss"    // kill -9 a majority of the voters, the leader among them; restart them
)

// FaultKinds lists every fault kind.
var FaultKinds = []FaultKind{FaultKill, FaultIsolate, FaultPartition, FaultOneWay, FaultPause, FaultLatency, FaultWipe, FaultQuorum}

// Fault is one injected fault.
type Fault struct {
	Kind   FaultKind
	Detail string
	// Start and End (healed) since the history began.
	Start, End time.Duration
	// Recovered is how long after healing the cluster was healthy again
	// (every site a ready member with its suffrage); zero if it was not
	// within the deadline, in which case Err says why.
	Recovered time.Duration
	Err       string
}

// Nemesis injects faults on a seeded random schedule.
type Nemesis struct {
	C     *Cluster
	Admin *Admin
	H     *History
	Rng   *rand.Rand
	// Hold is how long a fault lasts (uniform in [Hold, 2*Hold]); Gap is
	// the quiet time between faults (uniform in [Gap, 2*Gap]).
	Hold, Gap time.Duration
	// RecoverTimeout bounds the wait for a healthy cluster after a fault.
	RecoverTimeout time.Duration
	Logf           func(format string, args ...any)

	Faults []Fault
}

// Run injects faults until ctx ends: first every kind once in a seeded
// random order, then kinds at random. One fault at a time, and the next
// only once the cluster is healthy again (or the recovery deadline
// passed), so quorum is lost only while a quorum-loss fault is held.
func (n *Nemesis) Run(ctx context.Context) {
	order := append([]FaultKind(nil), FaultKinds...)
	n.Rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	for i := 0; ; i++ {
		if !n.sleep(ctx, n.jitter(n.Gap)) {
			return
		}
		kind := FaultKinds[n.Rng.IntN(len(FaultKinds))]
		if i < len(order) {
			kind = order[i]
		}
		f := Fault{Kind: kind, Start: time.Duration(n.H.Now())}
		detail, err := n.inject(ctx, kind)
		f.Detail, f.End = detail, time.Duration(n.H.Now())
		if err != nil {
			f.Err = err.Error()
		}
		n.Logf("nemesis: %s %s (held %v)%s", kind, detail, (f.End - f.Start).Round(time.Millisecond), errSuffix(err))
		healed := time.Now()
		if err := Poll(context.WithoutCancel(ctx), n.RecoverTimeout, 250*time.Millisecond, n.Admin.Healthy); err != nil {
			f.Err = strings.TrimSpace(f.Err + " not healthy after healing: " + err.Error())
			n.Logf("nemesis: cluster not healthy %v after healing %s: %v", n.RecoverTimeout, kind, err)
		} else {
			f.Recovered = time.Since(healed)
		}
		n.Faults = append(n.Faults, f)
	}
}

func errSuffix(err error) string {
	if err == nil {
		return ""
	}
	return ": " + err.Error()
}

func (n *Nemesis) jitter(d time.Duration) time.Duration {
	return d + time.Duration(n.Rng.Int64N(int64(d)+1))
}

// sleep waits for d; false if ctx ended first.
func (n *Nemesis) sleep(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}

// hold keeps a fault in place; a fault started is always held to its end
// and healed, even if the run ends meanwhile.
func (n *Nemesis) hold() { time.Sleep(n.jitter(n.Hold)) }

func (n *Nemesis) randomSite() *Site { return n.C.Sites[n.Rng.IntN(len(n.C.Sites))] }

// otherRunning returns a running, unpaused site other than s.
func (n *Nemesis) otherRunning(s *Site) *Site {
	var out []*Site
	for _, o := range n.C.Sites {
		if o != s && o.Running() && !o.Paused() {
			out = append(out, o)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out[n.Rng.IntN(len(out))]
}

func (n *Nemesis) cutMode() CutMode {
	if n.Rng.IntN(2) == 0 {
		return Refuse
	}
	return Blackhole
}

// leaderOrRandom returns the leader (or a random site if none is known).
func (n *Nemesis) leaderOrRandom(ctx context.Context) *Site {
	if l, err := n.Admin.Leader(ctx); err == nil {
		if s := n.C.Site(l); s != nil {
			return s
		}
	}
	return n.randomSite()
}

func (n *Nemesis) inject(ctx context.Context, kind FaultKind) (string, error) {
	switch kind {
	case FaultKill:
		s := n.randomSite()
		if n.Rng.IntN(2) == 0 {
			s = n.leaderOrRandom(ctx)
		}
		if err := n.C.Kill(s); err != nil {
			return s.Code, err
		}
		n.hold()
		return s.Code, n.C.Start(s, false, n.otherRunning(s))
	case FaultIsolate:
		leader := n.leaderOrRandom(ctx)
		mode := n.cutMode()
		var pairs [][2]string
		for _, o := range n.C.Sites {
			if o != leader {
				pairs = append(pairs, [2]string{leader.Code, o.Code}, [2]string{o.Code, leader.Code})
			}
		}
		return fmt.Sprintf("%s (%s)", leader.Code, mode), n.cutFor(pairs, mode)
	case FaultPartition:
		minority, majority := n.split(ctx)
		mode := n.cutMode()
		var pairs [][2]string
		for _, a := range minority {
			for _, b := range majority {
				pairs = append(pairs, [2]string{a, b}, [2]string{b, a})
			}
		}
		return fmt.Sprintf("%v | %v (%s)", minority, majority, mode), n.cutFor(pairs, mode)
	case FaultOneWay:
		leader := n.leaderOrRandom(ctx)
		other := n.otherRunning(leader)
		if other == nil {
			return "", fmt.Errorf("no site besides %s", leader.Code)
		}
		from, to := leader.Code, other.Code
		if n.Rng.IntN(2) == 0 {
			from, to = to, from
		}
		mode := n.cutMode()
		return fmt.Sprintf("%s cannot reach %s (%s)", from, to, mode), n.cutFor([][2]string{{from, to}}, mode)
	case FaultPause:
		s := n.randomSite()
		if n.Rng.IntN(2) == 0 {
			s = n.leaderOrRandom(ctx)
		}
		// Half the pauses are about an election timeout long, so that a
		// paused leader may resume before it learns it was deposed.
		hold := n.jitter(n.Hold)
		if n.Rng.IntN(2) == 0 {
			hold = time.Duration(300+n.Rng.IntN(1200)) * time.Millisecond
		}
		if err := n.C.Pause(s); err != nil {
			return s.Code, err
		}
		time.Sleep(hold)
		return fmt.Sprintf("%s for %v", s.Code, hold.Round(time.Millisecond)), n.C.Resume(s)
	case FaultLatency:
		latency := time.Duration(50+n.Rng.IntN(200)) * time.Millisecond
		var pairs [][2]string
		what := "all links"
		if n.Rng.IntN(2) == 0 {
			s := n.leaderOrRandom(ctx)
			what = "links of " + s.Code
			for _, o := range n.C.Sites {
				if o != s {
					pairs = append(pairs, [2]string{s.Code, o.Code}, [2]string{o.Code, s.Code})
				}
			}
		} else {
			for _, a := range n.C.Sites {
				for _, b := range n.C.Sites {
					if a != b {
						pairs = append(pairs, [2]string{a.Code, b.Code})
					}
				}
			}
		}
		var err error
		for _, p := range pairs {
			if e := n.C.Net.Delay(p[0], p[1], latency, latency/4); e != nil && err == nil {
				err = e
			}
		}
		n.hold()
		for _, p := range pairs {
			if e := n.C.Net.Heal(p[0], p[1]); e != nil && err == nil {
				err = e
			}
		}
		return fmt.Sprintf("%s +%v±%v each way", what, latency, latency/4), err
	case FaultWipe:
		return n.wipe(ctx)
	case FaultQuorum:
		return n.loseQuorum(ctx)
	}
	return "", fmt.Errorf("unknown fault %q", kind)
}

// cutFor cuts the links, holds, and heals them.
func (n *Nemesis) cutFor(pairs [][2]string, mode CutMode) error {
	var err error
	for _, p := range pairs {
		if e := n.C.Net.Cut(p[0], p[1], mode); e != nil && err == nil {
			err = e
		}
	}
	n.hold()
	for _, p := range pairs {
		if e := n.C.Net.Heal(p[0], p[1]); e != nil && err == nil {
			err = e
		}
	}
	return err
}

// voters returns the voters the cluster reports, or the sites started as
// voters if it cannot say.
func (n *Nemesis) voters(ctx context.Context) []string {
	voters, err := n.Admin.Voters(ctx)
	if err == nil && len(voters) > 0 {
		return voters
	}
	voters = nil
	for _, s := range n.C.Sites {
		if s.Voter {
			voters = append(voters, s.Code)
		}
	}
	return voters
}

// split divides the sites into a minority holding fewer than half of the
// voters (the leader as likely as any) and the rest.
func (n *Nemesis) split(ctx context.Context) (minority, majority []string) {
	voters := n.voters(ctx)
	isVoter := map[string]bool{}
	for _, v := range voters {
		isVoter[v] = true
	}
	k := 1 + n.Rng.IntN(max(1, (len(voters)-1)/2))
	perm := n.Rng.Perm(len(voters))
	inMinority := map[string]bool{}
	for _, i := range perm[:k] {
		inMinority[voters[i]] = true
	}
	for _, s := range n.C.Sites {
		if !isVoter[s.Code] && n.Rng.IntN(2) == 0 {
			inMinority[s.Code] = true
		}
	}
	for _, s := range n.C.Sites {
		if inMinority[s.Code] {
			minority = append(minority, s.Code)
		} else {
			majority = append(majority, s.Code)
		}
	}
	return minority, majority
}

// loseQuorum kills -9 a majority of the running voters, the leader first,
// holds, and restarts them on their data dirs (a region-wide power cut).
// Until they are back no write can commit; every write they acknowledged
// before must still be there after.
func (n *Nemesis) loseQuorum(ctx context.Context) (string, error) {
	voters := n.voters(ctx)
	leader := n.leaderOrRandom(ctx)
	var victims []*Site
	if slices.Contains(voters, leader.Code) && leader.Running() {
		victims = append(victims, leader)
	}
	for _, i := range n.Rng.Perm(len(voters)) {
		s := n.C.Site(voters[i])
		if len(victims) > len(voters)/2 {
			break
		}
		if s != nil && s != leader && s.Running() {
			victims = append(victims, s)
		}
	}
	var codes []string
	for _, s := range victims {
		codes = append(codes, s.Code)
	}
	detail := fmt.Sprintf("%v of %d voters", codes, len(voters))
	if len(victims) <= len(voters)/2 {
		return detail, fmt.Errorf("only %d running voters to kill", len(victims))
	}
	var killed []*Site
	var err error
	for _, s := range victims {
		if err = n.C.Kill(s); err != nil {
			break
		}
		killed = append(killed, s)
	}
	n.hold()
	for _, s := range killed {
		if e := n.C.Start(s, false, nil); e != nil && err == nil {
			err = e
		}
	}
	return detail, err
}

// wipe kills a site, deletes its data dir, removes it from the
// configuration, and starts it again with --join as a new member.
func (n *Nemesis) wipe(ctx context.Context) (string, error) {
	s := n.randomSite()
	if n.Rng.IntN(3) == 0 {
		s = n.leaderOrRandom(ctx)
	}
	if err := n.C.Kill(s); err != nil {
		return s.Code, err
	}
	if err := n.C.Wipe(s); err != nil {
		return s.Code, err
	}
	n.hold()
	return s.Code, Rejoin(ctx, n.C, n.Admin, s, n.RecoverTimeout)
}

// Rejoin starts a wiped site as a new member: once it is out of the
// configuration (never with an empty log under its old membership, which
// could undo commitments it voted for), with --join through another
// running site. If it cannot be removed within timeout it stays down and
// stays marked wiped, so that a later Rejoin tries again.
func Rejoin(ctx context.Context, c *Cluster, a *Admin, s *Site, timeout time.Duration) error {
	err := Poll(context.WithoutCancel(ctx), timeout, 250*time.Millisecond, func(ctx context.Context) error {
		return a.RemoveMember(ctx, s.Code)
	})
	if err != nil {
		return fmt.Errorf("remove %s before it rejoins: %w", s.Code, err)
	}
	var via *Site
	for _, o := range c.Sites {
		if o != s && o.Running() && !o.Paused() {
			via = o
			break
		}
	}
	if via == nil {
		return fmt.Errorf("no running site for %s to join through", s.Code)
	}
	if err := c.Start(s, false, via); err != nil {
		return err
	}
	s.setWiped(false)
	return nil
}
