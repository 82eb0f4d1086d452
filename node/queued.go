package node

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"time"

	"google.golang.org/genproto/googleapis/rpc/code"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/known/timestamppb"

	"innonet/node/outbox"
	"innonet/node/pipeline"
	innonetpb "innonet/proto/innonet/v1"
)

// Queued intake (issue 17): a write this site cannot deliver to a leader
// is kept in the site's outbox (package outbox) and sent later, when the
// caller opts in. See doc.go for the contract.

// Metadata keys of queued writes.
const (
	// mdAllowQueued: the caller accepts a queued answer (true or false).
	// Over REST the header X-Innonet-Allow-Queued.
	mdAllowQueued = "x-innonet-allow-queued"
	// mdQueued names the request ID of a write that was queued rather
	// than applied.
	mdQueued = "x-innonet-queued"
)

// queueable are the writes a site may queue: the daily work of nodes,
// HQ and divisions on leads. Administration (users, tokens, sites,
// membership) is never queued.
var queueable = map[string]bool{
	innonetpb.LeadService_SubmitLead_FullMethodName:       true,
	innonetpb.LeadService_UpdateLead_FullMethodName:       true,
	innonetpb.LeadService_ReviewLead_FullMethodName:       true,
	innonetpb.LeadService_ClaimLead_FullMethodName:        true,
	innonetpb.LeadService_ReleaseLead_FullMethodName:      true,
	innonetpb.LeadService_AdvanceLead_FullMethodName:      true,
	innonetpb.LeadService_WithdrawLead_FullMethodName:     true,
	innonetpb.LeadService_ExpressInterest_FullMethodName:  true,
	innonetpb.LeadService_WithdrawInterest_FullMethodName: true,
	innonetpb.LeadService_AddComment_FullMethodName:       true,
}

// openOutbox opens the site's outbox in its data directory.
func (n *Node) openOutbox() error {
	box, err := outbox.Open(filepath.Join(n.cfg.DataDir, "outbox.log"))
	if err != nil {
		return err
	}
	n.outbox = box
	return nil
}

// allowQueued reports whether the request opts in to a queued answer.
func allowQueued(ctx context.Context) (bool, error) {
	v := metadata.ValueFromIncomingContext(ctx, mdAllowQueued)
	if len(v) == 0 {
		return false, nil
	}
	switch strings.ToLower(strings.TrimSpace(v[len(v)-1])) {
	case "true", "1":
		return true, nil
	case "false", "0", "":
		return false, nil
	}
	return false, status.Errorf(codes.InvalidArgument, "%s: want true or false, got %q", mdAllowQueued, v[len(v)-1])
}

// mayQueue reports whether a write taken here may be queued: a method
// that can be, a request this site took from the client (not one
// forwarded to it), and a caller who opted in.
func (n *Node) mayQueue(ctx context.Context, method string) (bool, error) {
	if !queueable[method] || n.outbox == nil || len(metadata.ValueFromIncomingContext(ctx, mdForwardedBy)) > 0 {
		return false, nil
	}
	return allowQueued(ctx)
}

// queuedBefore reports whether the caller has queued writes on this site
// still to be sent.
func (n *Node) queuedBefore(ctx context.Context) bool {
	if n.outbox.Pending() == 0 {
		return false
	}
	u, _, err := n.queuedCredential(ctx)
	return err == nil && n.outbox.PendingOf(u.ID) > 0
}

// queuedCredential is the caller by this site's own copy of the users,
// however old: a cut-off site judges no token for an answer (see
// credential), but it may take a write to queue, because the leader
// authenticates and authorizes the write again when it is delivered.
// What it can tell it refuses now: a token unknown here, revoked or
// expired.
func (n *Node) queuedCredential(ctx context.Context) (*pipeline.User, string, error) {
	tok, err := bearer(ctx)
	if err != nil {
		return nil, "", err
	}
	u, t, err := n.state.TokenByHash(HashToken(tok))
	switch {
	case errors.Is(err, pipeline.ErrUnauthenticated):
		return nil, "", status.Error(codes.Unauthenticated, msgInvalidToken)
	case err != nil:
		return nil, "", toStatus(err)
	case t.Revoked != nil || u.Revoked != nil:
		return nil, "", status.Error(codes.Unauthenticated, msgInvalidToken)
	case n.tokenExpired(t):
		return nil, "", status.Error(codes.Unauthenticated, msgExpiredToken)
	}
	return u, tok, nil
}

// enqueue stores a write for later delivery and answers it: an empty
// response with the header x-innonet-queued naming its request ID. cause
// is why it could not be delivered now, for the log. A write queued
// before (the same author and request ID) is answered as it stands: still
// queued, or with its outcome.
func (n *Node) enqueue(ctx context.Context, method string, req any, cause error) (any, error) {
	r, ok := req.(interface{ GetRequestId() string })
	if !ok || r.GetRequestId() == "" {
		return nil, status.Error(codes.InvalidArgument, "request_id: is required to queue a write (it is sent later with that ID, and applied once)")
	}
	u, tok, err := n.queuedCredential(ctx)
	if err != nil {
		if cause != nil && status.Code(err) == codes.Unauthenticated {
			return nil, status.Errorf(codes.Unavailable, "%s; and the write cannot be queued: %s", status.Convert(cause).Message(), status.Convert(err).Message())
		}
		return nil, err
	}
	msg, ok := req.(proto.Message)
	if !ok {
		return nil, status.Errorf(codes.Internal, "request of %s is not a message", method)
	}
	body, err := proto.Marshal(msg)
	if err != nil {
		return nil, status.Errorf(codes.Internal, "encode the queued write: %v", err)
	}
	e := outbox.Entry{Author: u.ID, RequestID: r.GetRequestId(), Method: method, Request: body, Token: tok, QueuedAt: n.now()}
	if l, ok := req.(interface{ GetId() string }); ok {
		e.LeadID = l.GetId()
	}
	stored, existing, err := n.outbox.Add(e)
	switch {
	case errors.Is(err, outbox.ErrConflict):
		return nil, status.Errorf(codes.InvalidArgument, "request_id: %q was already used for a different queued write", e.RequestID)
	case errors.Is(err, outbox.ErrFull):
		return nil, status.Errorf(codes.ResourceExhausted, "site %s holds %d queued writes already, the most it keeps; retry when the connection to the leader returns", n.cfg.Site, outbox.MaxQueued)
	case err != nil:
		n.log.Error("outbox write failed", "err", err)
		return nil, status.Errorf(codes.Unavailable, "no leader reachable, and the write could not be queued on site %s: %v", n.cfg.Site, err)
	}
	if existing && stored.Status != outbox.Queued {
		return n.resolvedAnswer(stored)
	}
	if !existing {
		n.log.Info("write queued", "method", method, "request_id", e.RequestID, "author", u.ID, "cause", status.Convert(cause).Message())
	}
	_ = grpc.SetHeader(ctx, metadata.Pairs(mdQueued, stored.RequestID))
	return newResponse(method)
}

// resolvedAnswer answers a queued write again once it was delivered: the
// leader's answer, or its refusal.
func (n *Node) resolvedAnswer(e outbox.Entry) (any, error) {
	if e.Status == outbox.Refused {
		c := codes.FailedPrecondition
		if v, ok := code.Code_value[e.Code]; ok {
			c = codes.Code(v)
		}
		return nil, status.Error(c, e.Outcome)
	}
	out, err := newResponse(e.Method)
	if err != nil {
		return nil, err
	}
	if err := proto.Unmarshal(e.Response, out); err != nil {
		return nil, status.Errorf(codes.Internal, "decode the stored answer of %s: %v", e.RequestID, err)
	}
	return out, nil
}

// deliverQueued sends the outbox's writes, oldest first, while a leader
// is reachable. A transient failure (no leader, the leader unavailable)
// leaves the entry at the head and backs off; a refusal is final and the
// next entry follows.
func (n *Node) deliverQueued(ctx context.Context) {
	const idle, most = 200 * time.Millisecond, 5 * time.Second
	wait := idle
	for {
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		e, ok := n.outbox.Head()
		if !ok || n.cluster.Reach() != nil {
			wait = idle
			continue
		}
		if err := n.deliver(ctx, e); err != nil {
			if ctx.Err() != nil {
				return
			}
			if aerr := n.outbox.Attempt(e.Seq, status.Convert(err).Message()); aerr != nil {
				n.log.Error("outbox write failed", "err", aerr)
			}
			n.log.Debug("queued write not delivered; retrying", "request_id", e.RequestID, "err", err)
			wait = min(2*wait, most)
			continue
		}
		wait = 0
	}
}

// transient are the answers after which a queued write is sent again:
// the write surely did not take effect, or sending it again with its
// request ID is answered as a replay.
var transient = map[codes.Code]bool{
	codes.Unavailable: true, codes.DeadlineExceeded: true, codes.ResourceExhausted: true, codes.Canceled: true,
}

// deliver sends one queued write through this site's own API (as the
// console does), so it takes the path of a live write: forwarded to the
// leader with its request ID, where the caller's token is judged and the
// write authorized again. It returns an error only for a transient
// failure; an answer, applied or refused, is recorded.
func (n *Node) deliver(ctx context.Context, e outbox.Entry) error {
	req, err := newRequest(e.Method)
	if err != nil {
		return n.refuse(e, err)
	}
	if err := proto.Unmarshal(e.Request, req); err != nil {
		return n.refuse(e, status.Errorf(codes.InvalidArgument, "the queued request does not decode: %v", err))
	}
	out, err := newResponse(e.Method)
	if err != nil {
		return n.refuse(e, err)
	}
	dctx, cancel := context.WithTimeout(withToken(ctx, e.Token), n.leaderWait()+n.cfg.Cluster.ApplyTimeout+n.cfg.Cluster.TransportTimeout)
	defer cancel()
	err = n.gwConn.Invoke(dctx, e.Method, req, out)
	if err != nil {
		if transient[status.Code(err)] {
			return err
		}
		return n.refuse(e, err)
	}
	body, merr := proto.Marshal(out)
	if merr != nil {
		body = nil
	}
	n.log.Info("queued write applied", "method", e.Method, "request_id", e.RequestID, "author", e.Author)
	if err := n.outbox.Resolve(e.Seq, outbox.Applied, "", "", body); err != nil {
		n.log.Error("outbox write failed", "err", err)
	}
	return nil
}

// refuse records a queued write's final refusal.
func (n *Node) refuse(e outbox.Entry, err error) error {
	st := status.Convert(err)
	n.log.Info("queued write refused", "method", e.Method, "request_id", e.RequestID, "author", e.Author, "code", st.Code(), "err", st.Message())
	if rerr := n.outbox.Resolve(e.Seq, outbox.Refused, code.Code(st.Code()).String(), st.Message(), nil); rerr != nil {
		n.log.Error("outbox write failed", "err", rerr)
	}
	return nil
}

// newRequest returns an empty request message for a method of the API.
func newRequest(method string) (proto.Message, error) {
	name, ok := methodTypes().in[method]
	if !ok {
		return nil, status.Errorf(codes.Unimplemented, "method %s cannot be queued", method)
	}
	mt, err := protoregistry.GlobalTypes.FindMessageByName(name)
	if err != nil {
		return nil, status.Errorf(codes.Internal, "request type of %s: %v", method, err)
	}
	return mt.New().Interface(), nil
}

// outboxService answers ListQueuedWrites from this site's outbox.
type outboxService struct {
	innonetpb.UnimplementedOutboxServiceServer
	n *Node
}

func (s *outboxService) ListQueuedWrites(ctx context.Context, r *innonetpb.ListQueuedWritesRequest) (*innonetpb.ListQueuedWritesResponse, error) {
	// This site's own copy of the users judges the caller, however old:
	// the list is of writes this site took from the caller's token, and a
	// cut-off site is where it is needed.
	u, _, err := s.n.queuedCredential(ctx)
	if err != nil {
		return nil, err
	}
	author := u.ID
	if r.GetAll() {
		if u.Role != pipeline.Admin {
			return nil, status.Errorf(codes.PermissionDenied, "all: requires role ADMIN; caller %s is %s", u.ID, u.Role)
		}
		author = ""
	}
	out := &innonetpb.ListQueuedWritesResponse{Site: s.n.cfg.Site}
	if s.n.outbox == nil {
		return out, nil
	}
	for _, e := range s.n.outbox.List(author) {
		w := queuedWritePB(e, s.n.cfg.Site)
		if e.Status == outbox.Queued {
			out.Pending++
		}
		out.Writes = append(out.Writes, w)
	}
	return out, nil
}

// queuedWritePB is the API's view of an outbox entry.
func queuedWritePB(e outbox.Entry, site string) *innonetpb.QueuedWrite {
	w := &innonetpb.QueuedWrite{RequestId: e.RequestID, Status: string(e.Status), Method: e.Method, Author: e.Author,
		Site: site, LeadId: e.LeadID, QueueTime: timestamppb.New(e.QueuedAt), Attempts: int32(e.Attempts),
		LastError: e.LastError, Outcome: e.Outcome, OutcomeCode: e.Code}
	if !e.ResolvedAt.IsZero() {
		w.ResolveTime = timestamppb.New(e.ResolvedAt)
	}
	if e.Status == outbox.Applied && len(e.Response) > 0 {
		var l innonetpb.Lead
		if name, ok := methodTypes().out[e.Method]; ok && name == (&l).ProtoReflect().Descriptor().FullName() && proto.Unmarshal(e.Response, &l) == nil {
			w.Lead = &l
			if w.LeadId == "" {
				w.LeadId = l.GetId()
			}
		}
	}
	return w
}

// queuedBody is the REST answer to a queued write: a QueuedWrite in
// place of the method's empty response, with 202 Accepted (see serve.go).
func (n *Node) queuedBody(rid, method string) *innonetpb.QueuedWrite {
	return &innonetpb.QueuedWrite{RequestId: rid, Status: string(outbox.Queued), Method: method, Site: n.cfg.Site}
}
