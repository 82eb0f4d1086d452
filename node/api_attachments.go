package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"os"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"innonet/node/attachments"
	"innonet/node/guard"
	"innonet/node/pipeline"
	innonetpb "innonet/proto/innonet/v1"
)

// The attachments API. An upload is taken by the site the client talks
// to: it checks the caller may add to the lead, stores the bytes
// (hashing them as they arrive), and only then proposes their SHA-256,
// name, type and size, itself if it leads or else through the leader
// (RegisterAttachment, which only a site may call: registering a hash
// without the bytes would let anyone who learnt a SHA-256 attach a file
// they do not have). A download is answered by the site the client talks
// to, from its own store, which fetches from a peer what it lacks.

// UploadAttachment takes the header, then the file.
func (s *leadService) UploadAttachment(stream innonetpb.LeadService_UploadAttachmentServer) error {
	first, err := stream.Recv()
	if errors.Is(err, io.EOF) {
		return status.Error(codes.InvalidArgument, "header: an upload starts with a message carrying its header")
	}
	if err != nil {
		return err
	}
	h := first.GetHeader()
	if h == nil {
		return status.Error(codes.InvalidArgument, "header: an upload starts with a message carrying its header, not a chunk")
	}
	body := &chunkReader{recv: func() ([]byte, error) {
		m, err := stream.Recv()
		if err != nil {
			return nil, err
		}
		if m.GetHeader() != nil {
			return nil, status.Error(codes.InvalidArgument, "header: an upload carries one header, in its first message")
		}
		return m.GetChunk(), nil
	}, cancel: func() {}}
	res, err := s.n.upload(stream.Context(), h, body)
	if err != nil {
		return err
	}
	return stream.SendAndClose(res)
}

// RegisterAttachment proposes an upload another site stored (see above).
func (s *leadService) RegisterAttachment(ctx context.Context, r *innonetpb.RegisterAttachmentRequest) (*innonetpb.AttachmentResult, error) {
	if err := siteForwarded(ctx, innonetpb.LeadService_RegisterAttachment_FullMethodName); err != nil {
		return nil, err
	}
	u, err := s.n.authenticate(ctx)
	if err != nil {
		return nil, err
	}
	h := r.GetHeader()
	if h == nil || h.Size == 0 || h.Sha256 == "" {
		return nil, status.Error(codes.InvalidArgument, "header: a registration carries the size and SHA-256 of the stored bytes")
	}
	cmd, err := s.n.attachmentCommand(u, h)
	if err != nil {
		return nil, err
	}
	res, err := s.n.propose(ctx, cmd)
	if err != nil {
		return nil, err
	}
	return s.n.attachmentResult(res), nil
}

// siteOnly are the methods only a site may call, and only by forwarding
// them: a client's call is refused by the site that takes it, before it
// could be forwarded in the client's name.
var siteOnly = map[string]bool{
	innonetpb.LeadService_RegisterAttachment_FullMethodName: true,
}

// siteForwarded refuses a site-only method that no site forwarded (the
// forwarding interceptor checked the forwarding site's certificate).
func siteForwarded(ctx context.Context, method string) error {
	if !siteOnly[method] {
		return nil
	}
	md, _ := metadata.FromIncomingContext(ctx)
	if len(md.Get(mdForwardedBy)) == 0 {
		name := method[strings.LastIndexByte(method, '/')+1:]
		return status.Errorf(codes.PermissionDenied, "%s is called by the site that stored an upload, not by clients: upload with UploadAttachment or POST /v1/leads/{id}/attachments", name)
	}
	return nil
}

func (s *leadService) ListAttachments(ctx context.Context, r *innonetpb.ListAttachmentsRequest) (*innonetpb.ListAttachmentsResponse, error) {
	u, l, err := s.visibleLead(ctx, r.Id)
	if err != nil {
		return nil, err
	}
	all, err := s.n.state.Attachments(l.ID)
	if err != nil {
		return nil, toStatus(err)
	}
	out := &innonetpb.ListAttachmentsResponse{Attachments: []*innonetpb.Attachment{}}
	for i := range all {
		a := &all[i]
		if a.VisibleTo(u, l) && (a.Live() || r.IncludeRemoved) {
			out.Attachments = append(out.Attachments, s.n.attachmentToPB(a))
		}
	}
	return out, nil
}

func (s *leadService) DownloadAttachment(r *innonetpb.DownloadAttachmentRequest, stream innonetpb.LeadService_DownloadAttachmentServer) error {
	ctx := stream.Context()
	a, f, err := s.n.openAttachment(ctx, r.Id, r.Sha256)
	if err != nil {
		var ue unavailableError
		if errors.As(err, &ue) {
			_ = grpc.SetHeader(ctx, metadata.Pairs("retry-after", fmt.Sprint(int(ue.retry.Seconds()))))
		}
		return err
	}
	defer f.Close()
	_ = stream.SetHeader(metadata.Pairs(mdReadSite, s.n.cfg.Site))
	msg := &innonetpb.DownloadAttachmentResponse{Attachment: s.n.attachmentToPB(a)}
	buf := make([]byte, attachmentChunk)
	for {
		k, rerr := io.ReadFull(f, buf)
		if k > 0 {
			msg.Chunk = buf[:k]
			if err := stream.Send(msg); err != nil {
				return err
			}
			msg = &innonetpb.DownloadAttachmentResponse{}
		}
		if errors.Is(rerr, io.EOF) || errors.Is(rerr, io.ErrUnexpectedEOF) {
			break
		}
		if rerr != nil {
			return status.Errorf(codes.Internal, "read the bytes of attachment %s: %v", a.SHA256, rerr)
		}
	}
	if msg.Attachment != nil {
		return stream.Send(msg) // no bytes were sent (never: a file has at least one)
	}
	return nil
}

func (s *leadService) RemoveAttachment(ctx context.Context, r *innonetpb.RemoveAttachmentRequest) (*innonetpb.AttachmentResult, error) {
	u, err := s.n.authenticate(ctx)
	if err != nil {
		return nil, err
	}
	res, err := s.n.propose(ctx, pipeline.Command{Op: pipeline.OpRemoveAttachment, RequestID: r.RequestId, Actor: u.ID,
		LeadID: r.Id, ExpectedVersion: r.ExpectedVersion, Comment: r.Comment,
		Attachment: &pipeline.NewAttachment{SHA256: strings.ToLower(r.Sha256), Visibility: pipeline.AttachmentVisibility(r.Visibility)}})
	if err != nil {
		return nil, err
	}
	return s.n.attachmentResult(res), nil
}

// FetchAttachment serves another site the bytes of a stored file.
func (s *clusterService) FetchAttachment(r *innonetpb.FetchAttachmentRequest, stream innonetpb.ClusterService_FetchAttachmentServer) error {
	// With TLS only sites may fetch; without it (--insecure, for
	// development) anyone who knows a file's SHA-256 may.
	if s.n.cfg.TLS != nil && s.n.peerSite(stream.Context()) == "" {
		return status.Error(codes.PermissionDenied, "attachment files are served to other sites only: present a site certificate")
	}
	if !pipeline.ValidSHA256(r.Sha256) {
		return status.Errorf(codes.InvalidArgument, "sha256: %q is not a SHA-256: want 64 lower-case hex digits", clip(r.Sha256))
	}
	// A site is served what this site stores, also a file this site's
	// state does not name yet (it received the upload and has not
	// applied the entry yet); without TLS only what the state names.
	if _, ok := s.n.state.FileNamed(r.Sha256); !ok && s.n.cfg.TLS == nil {
		return status.Errorf(codes.NotFound, "no attachment on site %s names file %s", s.n.cfg.Site, r.Sha256)
	}
	f, err := s.n.files.Open(r.Sha256)
	if errors.Is(err, attachments.ErrCorrupt) {
		s.n.fetcher.Damaged(r.Sha256, err)
	}
	if errors.Is(err, attachments.ErrNotFound) {
		return status.Errorf(codes.NotFound, "site %s does not hold file %s", s.n.cfg.Site, r.Sha256)
	}
	if err != nil {
		return status.Errorf(codes.Internal, "open file %s: %v", r.Sha256, err)
	}
	defer f.Close()
	w := &chunkWriter{send: func(b []byte) error { return stream.Send(&innonetpb.AttachmentChunk{Data: b}) }}
	buf := make([]byte, attachmentChunk)
	if _, err := io.CopyBuffer(writerOnly{w}, f, buf); err != nil {
		return status.Errorf(codes.Internal, "send file %s: %v", r.Sha256, err)
	}
	return w.flush()
}

// writerOnly hides a writer's other methods from io.Copy.
type writerOnly struct{ io.Writer }

// upload checks an upload's header and the caller's right to add to the
// lead, stores the bytes body yields, and proposes the attachment.
func (n *Node) upload(ctx context.Context, h *innonetpb.AttachmentHeader, body io.Reader) (*innonetpb.AttachmentResult, error) {
	u, err := n.authenticate(ctx)
	if err != nil {
		return nil, err
	}
	cmd, err := n.attachmentCommand(u, h)
	if err != nil {
		return nil, err
	}
	if h.Size > n.cfg.MaxAttachmentBytes {
		return nil, n.tooLarge()
	}
	if err := n.mayAttach(ctx, u, cmd); err != nil {
		return nil, err
	}
	st, err := n.files.Put(body, n.cfg.MaxAttachmentBytes, attachments.Want{SHA256: cmd.Attachment.SHA256, Size: h.Size})
	if err != nil {
		return nil, n.storeError(err)
	}
	cmd.Attachment.SHA256, cmd.Attachment.Size = st.SHA256, st.Size
	return n.proposeAttachment(ctx, cmd)
}

// attachmentCommand is the add_attachment an upload header asks for,
// with its defaults filled in and its fields checked; the SHA-256 and
// size are the header's (to be replaced by those of the stored bytes).
func (n *Node) attachmentCommand(u *pipeline.User, h *innonetpb.AttachmentHeader) (pipeline.Command, error) {
	vis := pipeline.AttachmentVisibility(h.Visibility)
	if vis == pipeline.AttachmentVisibilityUnspecified {
		vis = pipeline.AttachmentShared
		if u.Role == pipeline.DivisionRole {
			vis = pipeline.AttachmentDivision
		}
	}
	ct := "application/octet-stream"
	if strings.TrimSpace(h.ContentType) != "" {
		mt, _, err := mime.ParseMediaType(h.ContentType)
		if err != nil {
			return pipeline.Command{}, status.Errorf(codes.InvalidArgument, "content_type: %q is not a media type such as application/pdf", clip(h.ContentType))
		}
		ct = mt // lower case, without parameters
	}
	na := &pipeline.NewAttachment{SHA256: strings.ToLower(h.Sha256), Name: h.Name, ContentType: ct, Size: h.Size, Visibility: vis}
	cmd := pipeline.Command{Op: pipeline.OpAddAttachment, RequestID: h.RequestId, Actor: u.ID, LeadID: h.Id,
		ExpectedVersion: h.ExpectedVersion, Comment: h.Comment, Attachment: na}
	// Check every field before a byte is stored: a stand-in SHA-256 and
	// size where the client sent none.
	check := cmd
	c := *na
	if c.SHA256 == "" {
		c.SHA256 = strings.Repeat("0", 64)
	}
	if c.Size == 0 {
		c.Size = 1
	}
	if h.Size < 0 {
		return pipeline.Command{}, status.Errorf(codes.InvalidArgument, "size: must not be negative, got %d", h.Size)
	}
	check.Attachment = &c
	if err := check.Validate(); err != nil {
		return pipeline.Command{}, toStatus(err)
	}
	if have := n.state.Format(); have < pipeline.Format2 {
		return pipeline.Command{}, status.Error(codes.FailedPrecondition,
			"attachments need log format 2, which the cluster does not run yet (some site runs an older version of innonet, or the cluster is raising it): retry shortly")
	}
	return cmd, nil
}

// mayAttach checks the caller may add to the lead in this site's copy of
// the state, before the bytes are taken; a site a moment behind the
// leader checks again once it has caught up. Apply decides in the end.
func (n *Node) mayAttach(ctx context.Context, u *pipeline.User, cmd pipeline.Command) error {
	check := func() error {
		l, err := n.state.Lead(cmd.LeadID)
		if err != nil {
			return toStatus(err)
		}
		if !u.CanSee(l) {
			return status.Errorf(codes.PermissionDenied, "%s %s may not see lead %s", u.Role, u.Home(), l.ID)
		}
		if err := pipeline.CanAddAttachment(u, l, cmd.Attachment.Visibility); err != nil {
			return toStatus(err)
		}
		return nil
	}
	err := check()
	if err != nil {
		// Behind: a follower, or a leader just elected that has not
		// applied all it committed.
		n.waitCaughtUp(ctx, 5*time.Second)
		err = check()
	}
	// A lead the client was just told of may reach this copy a moment
	// after the leader's commit index said (the leader's was not to be
	// had): look again for a little while before saying it is not there.
	for deadline := time.Now().Add(2 * time.Second); status.Code(err) == codes.NotFound && time.Now().Before(deadline); {
		select {
		case <-ctx.Done():
			return err
		case <-time.After(20 * time.Millisecond):
		}
		err = check()
	}
	return err
}

// proposeAttachment commits an upload's add_attachment: on the leader
// itself, elsewhere through the leader (RegisterAttachment). The bytes
// are stored already, and the command carries the request ID, so while
// no leader answers (an election, leadership moving) it tries again, for
// up to the apply timeout, rather than make the client send the file
// again; a site cut off from every leader stops at once, and an attempt
// waits for an unreachable leader no longer than the leader wait.
func (n *Node) proposeAttachment(ctx context.Context, cmd pipeline.Command) (*innonetpb.AttachmentResult, error) {
	na := cmd.Attachment
	req := &innonetpb.RegisterAttachmentRequest{Header: &innonetpb.AttachmentHeader{
		Id: cmd.LeadID, RequestId: cmd.RequestID, Name: na.Name, ContentType: na.ContentType,
		Visibility: innonetpb.Attachment_Visibility(na.Visibility), Comment: cmd.Comment,
		Size: na.Size, Sha256: na.SHA256, ExpectedVersion: cmd.ExpectedVersion}}
	md, _ := metadata.FromIncomingContext(ctx)
	deadline := time.Now().Add(n.cfg.Cluster.ApplyTimeout)
	wait := 50 * time.Millisecond
	for {
		var res *innonetpb.AttachmentResult
		var err error
		if n.cluster.IsLeader() {
			var r pipeline.Result
			if r, err = n.propose(ctx, cmd); err == nil {
				res = n.attachmentResult(r)
			}
		} else {
			var resp any
			giveUp := time.Now().Add(n.leaderWait())
			if resp, _, err = n.forward(ctx, md, innonetpb.LeadService_RegisterAttachment_FullMethodName, req, giveUp); err == nil {
				res = resp.(*innonetpb.AttachmentResult)
			}
		}
		if err == nil || status.Code(err) != codes.Unavailable || time.Now().Add(wait).After(deadline) || n.cluster.CutOff() {
			return res, n.withCause(err)
		}
		n.log.Debug("attachment not committed yet; trying again", "lead", cmd.LeadID, "sha256", na.SHA256, "err", err)
		select {
		case <-ctx.Done():
			return nil, toStatus(ctx.Err())
		case <-time.After(wait):
		}
		wait = min(2*wait, time.Second)
	}
}

// tooLargeError is RESOURCE_EXHAUSTED for gRPC and 413 for REST.
type tooLargeError struct{ st *status.Status }

func (e tooLargeError) Error() string              { return e.st.Message() }
func (e tooLargeError) GRPCStatus() *status.Status { return e.st }

func (n *Node) tooLarge() error {
	return tooLargeError{status.Newf(codes.ResourceExhausted,
		"attachment too large: site %s takes files of at most %d bytes (%s; serve --max-attachment-bytes); nothing was stored",
		n.cfg.Site, n.cfg.MaxAttachmentBytes, byteSize(n.cfg.MaxAttachmentBytes))}
}

// storeError turns a failed Put into the caller's error.
func (n *Node) storeError(err error) error {
	if s, ok := status.FromError(err); ok && s.Code() != codes.Unknown {
		return s.Err() // the client's stream failed
	}
	switch {
	case errors.Is(err, attachments.ErrTooLarge), errors.Is(err, guard.ErrBodyTooLarge):
		return n.tooLarge()
	case errors.Is(err, attachments.ErrEmpty):
		return status.Error(codes.InvalidArgument, "file: is empty; an attachment has at least one byte")
	case errors.Is(err, attachments.ErrMismatch):
		field := "sha256"
		if strings.Contains(err.Error(), "bytes, not the") {
			field = "size"
		}
		return status.Errorf(codes.InvalidArgument, "%s: the file that arrived does not match the request (%v); nothing was stored", field, strings.TrimPrefix(err.Error(), attachments.ErrMismatch.Error()+": "))
	case errors.Is(err, os.ErrDeadlineExceeded):
		return stalledError{status.Newf(codes.DeadlineExceeded, "the upload stalled: no bytes arrived for %s; nothing was stored", n.guard.Limits().BodyReadTimeout)}
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return toStatus(err)
	}
	return status.Errorf(codes.Internal, "store the file on site %s: %v", n.cfg.Site, err)
}

// openAttachment authenticates the caller, finds the attachment of lead
// id with the SHA-256 sha that the caller may see, and opens its bytes.
func (n *Node) openAttachment(ctx context.Context, id, sha string) (*pipeline.Attachment, *attachments.File, error) {
	u, err := n.authenticate(ctx)
	if err != nil {
		return nil, nil, err
	}
	if !pipeline.ValidLeadID(id) {
		return nil, nil, status.Errorf(codes.InvalidArgument, "id: %q is not a lead ID of the form SITE-NNNN", clip(id))
	}
	sha = strings.ToLower(sha)
	if !pipeline.ValidSHA256(sha) {
		return nil, nil, status.Errorf(codes.InvalidArgument, "sha256: %q is not a SHA-256: want 64 hex digits", clip(sha))
	}
	l, err := n.state.Lead(id)
	if err != nil {
		return nil, nil, toStatus(err)
	}
	if !u.CanSee(l) {
		return nil, nil, status.Errorf(codes.PermissionDenied, "%s %s may not see lead %s", u.Role, u.Home(), id)
	}
	all, err := n.state.Attachments(id)
	if err != nil {
		return nil, nil, toStatus(err)
	}
	var found, hidden *pipeline.Attachment
	for i := range all {
		a := &all[i]
		if a.SHA256 != sha || !a.Live() {
			continue
		}
		if a.VisibleTo(u, l) {
			found = a
			break
		}
		hidden = a
	}
	switch {
	case found == nil && hidden != nil:
		return nil, nil, status.Errorf(codes.PermissionDenied, "attachment %s of lead %s is visible to division %s and HQ only", sha, id, hidden.Division)
	case found == nil:
		return nil, nil, status.Errorf(codes.NotFound, "lead %s has no attachment %s", id, sha)
	}
	f, err := n.openStored(ctx, found)
	if err != nil {
		return nil, nil, err
	}
	return found, f, nil
}

// attachmentResult answers an upload or a removal.
func (n *Node) attachmentResult(res pipeline.Result) *innonetpb.AttachmentResult {
	return &innonetpb.AttachmentResult{Attachment: n.attachmentToPB(res.Attachment), Changed: res.Lead != nil}
}

func (n *Node) attachmentToPB(a *pipeline.Attachment) *innonetpb.Attachment {
	if a == nil {
		return nil
	}
	out := &innonetpb.Attachment{
		LeadId: a.LeadID, Sha256: a.SHA256, Name: a.Name, ContentType: a.ContentType, Size: a.Size,
		Visibility: innonetpb.Attachment_Visibility(a.Visibility), Division: a.Division,
		AddedBy: a.AddedBy, AddedByName: a.AddedByName, AddedFor: a.AddedFor, OriginSite: a.Origin,
		Comment: a.Comment, AddTime: ts(a.Added), LeadVersion: a.Version, LogIndex: a.LogIndex,
		Stored: n.files.Has(a.SHA256),
	}
	if a.Removed != nil {
		out.RemoveTime, out.RemovedBy, out.RemoveVersion = ts(*a.Removed), a.RemovedBy, a.RemovedVersion
		if u, err := n.state.User(a.RemovedBy); err == nil {
			out.RemovedByName = u.Name
		}
	}
	return out
}

// attachmentCount is how many attachments of lead l user u may see.
func (n *Node) attachmentCount(u *pipeline.User, l *pipeline.Lead) int32 {
	all, err := n.state.Attachments(l.ID)
	if err != nil {
		return 0
	}
	c := int32(0)
	for i := range all {
		if all[i].Live() && all[i].VisibleTo(u, l) {
			c++
		}
	}
	return c
}

// decorateLeads fills what the leads of an answer show beside the state:
// the count of attachments the caller may see and the stage deadline
// (sla.go), as of now.
func (n *Node) decorateLeads(u *pipeline.User, leads ...*innonetpb.Lead) {
	now, sla := time.Now(), n.slas.view()
	for _, pb := range leads {
		if pb == nil {
			continue
		}
		if l, err := n.state.Lead(pb.Id); err == nil {
			n.decorate(u, pb, l, sla, now)
		}
	}
}

// decorateLead is decorateLeads of one lead made from l, which the
// caller has read already.
func (n *Node) decorateLead(u *pipeline.User, pb *innonetpb.Lead, l *pipeline.Lead) {
	n.decorate(u, pb, l, n.slas.view(), time.Now())
}

// decorate fills pb, made from l, as decorateLeads does.
func (n *Node) decorate(u *pipeline.User, pb *innonetpb.Lead, l *pipeline.Lead, sla *slaView, now time.Time) {
	pb.AttachmentCount = n.attachmentCount(u, l)
	pb.Sla = sla.status(l, now)
}

// attachmentEventFor is a history event as user u may read it: an
// attachment u may not see shows that it was added or removed, not its
// comment.
func attachmentEventFor(u *pipeline.User, e pipeline.Event) pipeline.Event {
	if a := e.Attachment; a != nil && a.Visibility == pipeline.AttachmentDivision && !pipeline.VisibleDivisionOnly(u, a.Division) {
		e.Comment = ""
		e.Attachment = nil
	}
	return e
}

// byteSize prints a size in the largest whole binary unit.
func byteSize(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
