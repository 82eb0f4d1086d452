package robustness

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/durationpb"

	innonetpb "innonet/proto/innonet/v1"
)

// Workload runs the clients: node staff submitting and resubmitting
// leads, HQ reviewing and releasing them, the three divisions racing to
// claim the same approved leads from different sites and working them,
// and reads at every consistency level, all recorded in a History.
type Workload struct {
	H     *History
	Conns *Conns
	Users *Users
	// Sites are the site codes a retry may go to.
	Sites []string
	Seed  uint64
	// Pace is the mean pause of a client between operations.
	Pace time.Duration
	// MaxAttempts bounds the attempts of one write (retries reuse its
	// request ID).
	MaxAttempts int
	// Incarnation returns how many processes were started for a site
	// (nil: not tracked).
	Incarnation func(site string) int

	known registry
}

// ClientSpec is one client: the site it talks to and who it acts as.
type ClientSpec struct {
	Home  string
	Actor Actor
}

// DefaultClients is two or three clients per site: HQ reviewers at the
// home park, node staff at each overseas node, and every division at two
// or more sites (YRD is also the read replica's site).
var DefaultClients = []ClientSpec{
	{"CGO", Actor{Role: RoleHQ}},
	{"CGO", Actor{Role: RoleHQ}},
	{"CGO", Actor{Role: RoleDivision, Division: "BOHAI"}},
	{"BOS", Actor{Role: RoleStaff, Site: "BOS"}},
	{"BOS", Actor{Role: RoleDivision, Division: "YRD"}},
	{"CBG", Actor{Role: RoleStaff, Site: "CBG"}},
	{"CBG", Actor{Role: RoleDivision, Division: "PRD"}},
	{"MUC", Actor{Role: RoleStaff, Site: "MUC"}},
	{"MUC", Actor{Role: RoleDivision, Division: "BOHAI"}},
	{"TLV", Actor{Role: RoleStaff, Site: "TLV"}},
	{"TLV", Actor{Role: RoleDivision, Division: "PRD"}},
	{"YRD", Actor{Role: RoleDivision, Division: "YRD"}},
	{"YRD", Actor{Role: RoleDivision, Division: "BOHAI"}},
}

// Run runs the clients until ctx ends, then waits for their operations
// in flight.
func (w *Workload) Run(ctx context.Context, clients []ClientSpec) {
	w.known.leads = map[string]LeadView{}
	var wg sync.WaitGroup
	for i, spec := range clients {
		c := &client{id: i, w: w, home: spec.Home, actor: spec.Actor,
			rng: rand.New(rand.NewPCG(w.Seed, uint64(i)+1))}
		switch spec.Actor.Role {
		case RoleHQ:
			c.token, c.name = w.Users.HQ, fmt.Sprintf("c%02d-hq", i)
		case RoleStaff:
			c.token, c.name = w.Users.Staff[spec.Actor.Site], fmt.Sprintf("c%02d-%s", i, spec.Actor.Site)
		case RoleDivision:
			c.token, c.name = w.Users.Divisions[spec.Actor.Division], fmt.Sprintf("c%02d-%s", i, spec.Actor.Division)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.run(ctx)
		}()
	}
	wg.Wait()
}

// registry is what the clients know of the leads, from answers they got;
// it steers them to plausible operations (it is never used to check).
type registry struct {
	mu    sync.Mutex
	leads map[string]LeadView
	ids   []string // in the order first seen
}

func (r *registry) observe(v LeadView) {
	r.mu.Lock()
	defer r.mu.Unlock()
	cur, ok := r.leads[v.ID]
	if !ok {
		r.ids = append(r.ids, v.ID)
	}
	if !ok || v.Version > cur.Version {
		if v.Title == "" {
			v.Title = cur.Title
		}
		r.leads[v.ID] = v
	}
}

// pick returns one of the newest n leads that match, at random.
func (r *registry) pick(rng *rand.Rand, n int, match func(LeadView) bool) (string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var found []string
	for i := len(r.ids) - 1; i >= 0 && len(found) < n; i-- {
		if match(r.leads[r.ids[i]]) {
			found = append(found, r.ids[i])
		}
	}
	if len(found) == 0 {
		return "", false
	}
	return found[rng.IntN(len(found))], true
}

func (r *registry) get(id string) LeadView {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.leads[id]
}

type client struct {
	id         int
	name, home string
	actor      Actor
	token      string
	rng        *rand.Rand
	w          *Workload
	seq        int
}

func (c *client) run(ctx context.Context) {
	for ctx.Err() == nil {
		switch c.actor.Role {
		case RoleStaff:
			c.staffStep()
		case RoleHQ:
			c.hqStep()
		case RoleDivision:
			c.divisionStep()
		}
		pause := time.Duration(float64(c.w.Pace) * (0.5 + c.rng.Float64()))
		select {
		case <-ctx.Done():
		case <-time.After(pause):
		}
	}
}

func (c *client) staffStep() {
	own := func(stages ...Stage) func(LeadView) bool {
		return func(l LeadView) bool { return strings.HasPrefix(l.ID, c.actor.Site+"-") && hasStage(l, stages...) }
	}
	r := c.rng.Float64()
	switch {
	case r < 0.25:
		c.submit()
		return
	case r < 0.45:
		if id, ok := c.w.known.pick(c.rng, 10, own(Returned, Submitted)); ok {
			c.update(id)
			return
		}
	case r < 0.48:
		if id, ok := c.w.known.pick(c.rng, 10, own(Submitted, Returned, Approved)); ok {
			c.withdraw(id)
			return
		}
	}
	if c.rng.IntN(2) == 0 {
		if id, ok := c.w.known.pick(c.rng, 10, own()); ok {
			c.get(id)
			return
		}
	}
	c.list(&innonetpb.ListLeadsRequest{Site: c.actor.Site, PageSize: 100})
}

func (c *client) hqStep() {
	r := c.rng.Float64()
	switch {
	case r < 0.55:
		if id, ok := c.w.known.pick(c.rng, 6, stageIs(Submitted)); ok {
			d := "APPROVE"
			switch x := c.rng.Float64(); {
			case x < 0.12:
				d = "RETURN"
			case x < 0.20:
				d = "DECLINE"
			}
			c.review(id, d)
			return
		}
		c.list(&innonetpb.ListLeadsRequest{Stage: []innonetpb.Stage{innonetpb.Stage_SUBMITTED}, PageSize: 100})
		return
	case r < 0.63:
		if id, ok := c.w.known.pick(c.rng, 6, stageIs(Claimed)); ok {
			c.release(id)
			return
		}
	}
	if c.rng.IntN(2) == 0 {
		if id, ok := c.w.known.pick(c.rng, 8, stageIs(Approved, Claimed, Negotiating)); ok {
			c.get(id)
			return
		}
	}
	st := []innonetpb.Stage{innonetpb.Stage_SUBMITTED, innonetpb.Stage_APPROVED, innonetpb.Stage_CLAIMED}[c.rng.IntN(3)]
	c.list(&innonetpb.ListLeadsRequest{Stage: []innonetpb.Stage{st}, PageSize: 100})
}

func (c *client) divisionStep() {
	mine := func(stages ...Stage) func(LeadView) bool {
		return func(l LeadView) bool { return l.Division == c.actor.Division && hasStage(l, stages...) }
	}
	r := c.rng.Float64()
	switch {
	case r < 0.40:
		// Every division goes for the few newest approved leads, so
		// claims race.
		if id, ok := c.w.known.pick(c.rng, 3, stageIs(Approved)); ok {
			c.claim(id)
			return
		}
	case r < 0.60:
		if id, ok := c.w.known.pick(c.rng, 6, mine(Claimed, Negotiating, Signed)); ok {
			next := map[Stage]Stage{Claimed: Negotiating, Negotiating: Signed, Signed: Landed}[c.w.known.get(id).Stage]
			c.advance(id, next)
			return
		}
	case r < 0.68:
		if id, ok := c.w.known.pick(c.rng, 6, mine(Claimed)); ok {
			c.release(id)
			return
		}
	}
	if c.rng.IntN(3) > 0 {
		if id, ok := c.w.known.pick(c.rng, 5, stageIs(Approved, Claimed, Negotiating, Signed)); ok {
			c.get(id)
			return
		}
	}
	c.list(&innonetpb.ListLeadsRequest{Stage: []innonetpb.Stage{innonetpb.Stage_APPROVED}, PageSize: 100})
}

func hasStage(l LeadView, stages ...Stage) bool {
	if len(stages) == 0 {
		return true
	}
	for _, s := range stages {
		if l.Stage == s {
			return true
		}
	}
	return false
}

func stageIs(stages ...Stage) func(LeadView) bool {
	return func(l LeadView) bool { return hasStage(l, stages...) }
}

// maxStaleness bounds a third of the STALE reads: a site that has not
// heard from the leader for that long forwards them to the leader.
const maxStaleness = 2 * time.Second

// consistency picks a read consistency (and for some STALE reads a bound
// on staleness); linearizable reads are the ones checked, so they are the
// most frequent. name is how the history records it.
func (c *client) consistency() (cons innonetpb.Consistency, bound *durationpb.Duration, name string) {
	switch x := c.rng.Float64(); {
	case x < 0.25:
		if c.rng.IntN(3) == 0 {
			return innonetpb.Consistency_STALE, durationpb.New(maxStaleness), "STALE<=" + maxStaleness.String()
		}
		return innonetpb.Consistency_STALE, nil, "STALE"
	case x < 0.5:
		return innonetpb.Consistency_LEADER, nil, "LEADER"
	}
	return innonetpb.Consistency_LINEARIZABLE, nil, "LINEARIZABLE"
}

// site returns where attempt goes: the client's own site first, then
// alternately another site and its own.
func (c *client) site(attempt int) string {
	if attempt%2 == 0 {
		return c.home
	}
	for {
		if s := c.w.Sites[c.rng.IntN(len(c.w.Sites))]; s != c.home {
			return s
		}
	}
}

func (c *client) newOp(kind Kind, leadID string) *Op {
	c.seq++
	return &Op{Client: c.id, Kind: kind, Actor: c.actor, LeadID: leadID, Site: c.home,
		RequestID: fmt.Sprintf("%s-%d", c.name, c.seq)}
}

// write runs op until it succeeds, fails definitely, or MaxAttempts
// attempts ended in doubt; every attempt carries op's request ID.
func (c *client) write(op *Op, call func(ctx context.Context, leads innonetpb.LeadServiceClient) (*innonetpb.Lead, error)) {
	h := c.w.H
	op.Call = h.Now()
	for attempt := 0; attempt < c.w.MaxAttempts; attempt++ {
		if attempt > 0 {
			time.Sleep(min(200*time.Millisecond<<attempt, 2*time.Second))
		}
		ctx, cancel := withToken(context.Background(), c.token)
		lead, err := call(ctx, c.w.Conns.Leads(c.site(attempt)))
		cancel()
		op.Attempts++
		outcome, code := classify(err)
		op.Code = code
		if err != nil {
			op.Err = err.Error()
		}
		switch {
		case outcome == OK:
			v := leadView(lead)
			op.Lead, op.Outcome, op.Err = &v, OK, ""
		case outcome == Failed && attempt == 0:
			op.Outcome = Failed
		case outcome == Failed:
			// An earlier attempt may still have taken effect.
			op.Outcome = Unknown
		default:
			op.Outcome = Unknown
			continue
		}
		break
	}
	op.Return = h.Now()
	h.Add(op)
	if op.Lead != nil {
		c.w.known.observe(*op.Lead)
	}
}

func (c *client) submit() {
	op := c.newOp(KindSubmit, "")
	op.Title = "Robustness lead " + op.RequestID
	req := &innonetpb.SubmitLeadRequest{RequestId: op.RequestID, Title: op.Title,
		Summary: "A lead submitted by the robustness workload.", Organization: "Org of " + c.actor.Site,
		Country: "US", Sector: innonetpb.Sector_IT_AI, Trl: int32(1 + c.rng.IntN(9)), DealType: innonetpb.DealType_INVESTMENT}
	c.write(op, func(ctx context.Context, lc innonetpb.LeadServiceClient) (*innonetpb.Lead, error) {
		return lc.SubmitLead(ctx, req)
	})
	if op.Lead != nil {
		op.LeadID = op.Lead.ID
	}
}

func (c *client) update(id string) {
	op := c.newOp(KindUpdate, id)
	summary := "Updated by " + op.RequestID
	req := &innonetpb.UpdateLeadRequest{Id: id, RequestId: op.RequestID, Summary: &summary, Comment: "more detail"}
	c.write(op, func(ctx context.Context, lc innonetpb.LeadServiceClient) (*innonetpb.Lead, error) {
		return lc.UpdateLead(ctx, req)
	})
}

func (c *client) withdraw(id string) {
	op := c.newOp(KindWithdraw, id)
	req := &innonetpb.WithdrawLeadRequest{Id: id, RequestId: op.RequestID, Comment: "withdrawn by the workload"}
	c.write(op, func(ctx context.Context, lc innonetpb.LeadServiceClient) (*innonetpb.Lead, error) {
		return lc.WithdrawLead(ctx, req)
	})
}

func (c *client) review(id, decision string) {
	op := c.newOp(KindReview, id)
	op.Decision = decision
	req := &innonetpb.ReviewLeadRequest{Id: id, RequestId: op.RequestID,
		Decision: innonetpb.Decision(innonetpb.Decision_value[decision])}
	if decision != "APPROVE" {
		req.Comment = "needs work"
	}
	c.write(op, func(ctx context.Context, lc innonetpb.LeadServiceClient) (*innonetpb.Lead, error) {
		return lc.ReviewLead(ctx, req)
	})
}

func (c *client) claim(id string) {
	op := c.newOp(KindClaim, id)
	req := &innonetpb.ClaimLeadRequest{Id: id, RequestId: op.RequestID}
	c.write(op, func(ctx context.Context, lc innonetpb.LeadServiceClient) (*innonetpb.Lead, error) {
		return lc.ClaimLead(ctx, req)
	})
}

func (c *client) release(id string) {
	op := c.newOp(KindRelease, id)
	req := &innonetpb.ReleaseLeadRequest{Id: id, RequestId: op.RequestID, Comment: "released by the workload"}
	c.write(op, func(ctx context.Context, lc innonetpb.LeadServiceClient) (*innonetpb.Lead, error) {
		return lc.ReleaseLead(ctx, req)
	})
}

func (c *client) advance(id string, to Stage) {
	op := c.newOp(KindAdvance, id)
	op.Target = to
	req := &innonetpb.AdvanceLeadRequest{Id: id, RequestId: op.RequestID,
		Stage: innonetpb.Stage(innonetpb.Stage_value[string(to)]), Note: "progress"}
	c.write(op, func(ctx context.Context, lc innonetpb.LeadServiceClient) (*innonetpb.Lead, error) {
		return lc.AdvanceLead(ctx, req)
	})
}

// get reads one lead, once (reads are not retried).
func (c *client) get(id string) {
	cons, bound, name := c.consistency()
	op := &Op{Client: c.id, Kind: KindGet, Actor: c.actor, LeadID: id, Site: c.home, Consistency: name, Attempts: 1}
	ctx, cancel := withToken(context.Background(), c.token)
	defer cancel()
	var md metadata.MD
	inc := c.incarnation()
	op.Call = c.w.H.Now()
	lead, err := c.w.Conns.Leads(c.home).GetLead(ctx, &innonetpb.GetLeadRequest{Id: id, Consistency: cons, MaxStaleness: bound}, grpc.Header(&md))
	op.Return = c.w.H.Now()
	op.Incarnation = sameIncarnation(inc, c.incarnation())
	c.finishRead(op, err)
	if err == nil {
		v := leadView(lead)
		op.Lead = &v
		if s := md.Get("x-innonet-read-site"); len(s) > 0 {
			op.ReadSite = s[0]
		}
		if s := md.Get("x-innonet-applied-index"); len(s) > 0 {
			op.AppliedIndex, _ = strconv.ParseUint(s[0], 10, 64)
		}
		c.w.known.observe(v)
	}
	c.w.H.Add(op)
}

// list reads one page of leads, once.
func (c *client) list(req *innonetpb.ListLeadsRequest) {
	var name string
	req.Consistency, req.MaxStaleness, name = c.consistency()
	op := &Op{Client: c.id, Kind: KindList, Actor: c.actor, Site: c.home, Consistency: name, Attempts: 1}
	ctx, cancel := withToken(context.Background(), c.token)
	defer cancel()
	inc := c.incarnation()
	op.Call = c.w.H.Now()
	res, err := c.w.Conns.Leads(c.home).ListLeads(ctx, req)
	op.Return = c.w.H.Now()
	op.Incarnation = sameIncarnation(inc, c.incarnation())
	c.finishRead(op, err)
	if err == nil {
		op.ReadSite = res.GetRead().GetSite()
		op.AppliedIndex = res.GetRead().GetAppliedIndex()
		for _, l := range res.Leads {
			v := leadView(l)
			op.Leads = append(op.Leads, v)
			c.w.known.observe(v)
		}
	}
	c.w.H.Add(op)
}

// incarnation returns the number of processes started for the client's
// site, or -1 if that is not tracked.
func (c *client) incarnation() int {
	if c.w.Incarnation == nil {
		return -1
	}
	return c.w.Incarnation(c.home)
}

func sameIncarnation(before, after int) int {
	if before != after {
		return -1
	}
	return before
}

func (c *client) finishRead(op *Op, err error) {
	op.Outcome, op.Code = classify(err)
	if err != nil {
		op.Err = err.Error()
	}
}

func leadView(l *innonetpb.Lead) LeadView {
	return LeadView{ID: l.GetId(), Title: l.GetTitle(), Stage: Stage(l.GetStage().String()), Division: l.GetDivision(), Version: l.GetVersion()}
}
