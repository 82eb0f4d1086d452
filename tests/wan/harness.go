package wan

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	innonetpb "innonet/proto/innonet/v1"
	"innonet/tests/robustness"
)

// Queued intake (issue 17): a client opts in with this header; a site
// that queues the write answers with the request ID in the second.
const (
	mdAllowQueued = "x-innonet-allow-queued"
	mdQueued      = "x-innonet-queued"
)

// Harness drives one cluster of innonet processes behind the per-pair
// latency proxies of a [Matrix].
type Harness struct {
	C     *robustness.Cluster
	Conns *robustness.Conns
	Admin *robustness.Admin
	Users *robustness.Users
	M     Matrix
	// RequestTimeout bounds every client request (the client's deadline).
	RequestTimeout time.Duration
	// CAFile is the cluster's CA certificate ("" in plaintext), for
	// HTTPS requests to the sites.
	CAFile string
	// RunID makes request IDs unique to the run.
	RunID string
	// Report receives the scenarios' sections.
	Report *Report

	seq  atomic.Int64
	stop func()
}

// NewHarness wraps a cluster whose users are not created yet; stop
// stops its processes and connections.
func NewHarness(c *robustness.Cluster, conns *robustness.Conns, token string, m Matrix, timeout time.Duration, runID string, stop func()) *Harness {
	return &Harness{C: c, Conns: conns, Admin: &robustness.Admin{C: c, Conns: conns, Token: token}, M: m,
		RequestTimeout: timeout, RunID: runID, stop: stop}
}

// Stop stops the cluster's processes and closes the connections; safe
// to call more than once.
func (h *Harness) Stop() {
	if h.stop != nil {
		h.stop()
	}
}

// ApplyMatrix delays every link by half its pair's round trip each way,
// so that a request and its answer take the round trip.
func (h *Harness) ApplyMatrix(sites []string) error {
	for _, a := range sites {
		for _, b := range sites {
			if a == b {
				continue
			}
			if err := h.C.Net.Delay(a, b, h.M.RTT(a, b)/2, 0); err != nil {
				return fmt.Errorf("delay %s→%s: %w", a, b, err)
			}
		}
	}
	return nil
}

// Result is the outcome of one write.
type Result struct {
	Op        Op
	RequestID string
	LeadID    string
	// AllowQueued: sent with x-innonet-allow-queued; Queued: the site
	// answered that it queued the write.
	AllowQueued, Queued bool
	Start               time.Time
	Took                time.Duration
	Err                 error
}

// OK reports whether the write was applied synchronously.
func (r Result) OK() bool { return r.Err == nil && !r.Queued }

// Outcome is a short word for the report: ok, queued, or the gRPC code.
func (r Result) Outcome() string {
	switch {
	case r.Queued:
		return "queued"
	case r.Err == nil:
		return "ok"
	case errors.Is(r.Err, context.DeadlineExceeded):
		return "DeadlineExceeded"
	}
	return status.Code(r.Err).String()
}

// Message is the error's message, without the code.
func (r Result) Message() string {
	if r.Err == nil {
		return ""
	}
	if s, ok := status.FromError(r.Err); ok {
		return s.Message()
	}
	return r.Err.Error()
}

func (h *Harness) requestID(kind string) string {
	return fmt.Sprintf("wan-%s-%s-%d", h.RunID, kind, h.seq.Add(1))
}

// call runs one write at site as token, timing it and reading whether
// the site queued it.
func (h *Harness) call(ctx context.Context, op Op, token, reqID string, queued bool,
	do func(ctx context.Context, lc innonetpb.LeadServiceClient, opts ...grpc.CallOption) (*innonetpb.Lead, error)) Result {
	ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token)
	if queued {
		ctx = metadata.AppendToOutgoingContext(ctx, mdAllowQueued, "true")
	}
	ctx, cancel := context.WithTimeout(ctx, h.RequestTimeout)
	defer cancel()
	var header metadata.MD
	r := Result{Op: op, RequestID: reqID, AllowQueued: queued, Start: time.Now()}
	lead, err := do(ctx, h.Conns.Leads(op.Origin), grpc.Header(&header))
	r.Took, r.Err = time.Since(r.Start), err
	if lead != nil {
		r.LeadID = lead.Id
	}
	if v := header.Get(mdQueued); len(v) > 0 && v[0] != "" {
		r.Queued = true
	}
	return r
}

// Submit submits a lead at site as that node's staff.
func (h *Harness) Submit(ctx context.Context, site string, queued bool) Result {
	id := h.requestID("submit-" + strings.ToLower(site))
	req := &innonetpb.SubmitLeadRequest{RequestId: id, Title: "WAN lead " + id,
		Summary: "A lead submitted by the WAN harness.", Organization: "Org of " + site,
		Country: "US", Sector: innonetpb.Sector_IT_AI, Trl: 5, DealType: innonetpb.DealType_INVESTMENT}
	return h.call(ctx, Op{"submit", site}, h.Users.Staff[site], id, queued,
		func(ctx context.Context, lc innonetpb.LeadServiceClient, opts ...grpc.CallOption) (*innonetpb.Lead, error) {
			return lc.SubmitLead(ctx, req, opts...)
		})
}

// Approve approves a submitted lead at site as the HQ reviewer.
func (h *Harness) Approve(ctx context.Context, site, leadID string, queued bool) Result {
	id := h.requestID("review")
	req := &innonetpb.ReviewLeadRequest{Id: leadID, RequestId: id, Decision: innonetpb.Decision_APPROVE}
	r := h.call(ctx, Op{"review", site}, h.Users.HQ, id, queued,
		func(ctx context.Context, lc innonetpb.LeadServiceClient, opts ...grpc.CallOption) (*innonetpb.Lead, error) {
			return lc.ReviewLead(ctx, req, opts...)
		})
	r.LeadID = leadID
	return r
}

// Claim claims an approved lead at site for division.
func (h *Harness) Claim(ctx context.Context, site, division, leadID string, queued bool) Result {
	id := h.requestID("claim-" + strings.ToLower(division))
	req := &innonetpb.ClaimLeadRequest{Id: leadID, RequestId: id}
	r := h.call(ctx, Op{"claim", site}, h.Users.Divisions[division], id, queued,
		func(ctx context.Context, lc innonetpb.LeadServiceClient, opts ...grpc.CallOption) (*innonetpb.Lead, error) {
			return lc.ClaimLead(ctx, req, opts...)
		})
	r.LeadID = leadID
	return r
}

// Applied counts the events of lead leadID carrying requestID, read from
// the leader through site.
func (h *Harness) Applied(ctx context.Context, site, leadID, requestID string) (int, error) {
	ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+h.Admin.Token)
	ctx, cancel := context.WithTimeout(ctx, h.RequestTimeout)
	defer cancel()
	res, err := h.Conns.Leads(site).GetLeadHistory(ctx, &innonetpb.GetLeadHistoryRequest{Id: leadID, Consistency: innonetpb.Consistency_LEADER})
	if err != nil {
		return 0, fmt.Errorf("history of %s via %s: %w", leadID, site, err)
	}
	n := 0
	for _, e := range res.Events {
		if e.RequestId == requestID {
			n++
		}
	}
	return n, nil
}

// TransferLeadership hands leadership to site and waits until the
// cluster reports it leading.
func (h *Harness) TransferLeadership(ctx context.Context, site string, timeout time.Duration) error {
	return robustness.Poll(ctx, timeout, 250*time.Millisecond, func(ctx context.Context) error {
		leader, err := h.Admin.Leader(ctx)
		if err != nil {
			return err
		}
		if leader == site {
			return nil
		}
		cctx := metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+h.Admin.Token)
		cctx, cancel := context.WithTimeout(cctx, h.RequestTimeout)
		defer cancel()
		if _, err := h.Conns.Cluster(leader).TransferLeadership(cctx, &innonetpb.TransferLeadershipRequest{Site: site}); err != nil {
			return fmt.Errorf("transfer %s→%s: %w", leader, site, err)
		}
		return fmt.Errorf("%s still leads", leader)
	})
}
