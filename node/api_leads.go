package node

import (
	"context"
	"unicode/utf8"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"innonet/node/pipeline"
	innonetpb "innonet/proto/innonet/v1"
)

type leadService struct {
	innonetpb.UnimplementedLeadServiceServer
	n *Node
}

// write authenticates the caller, proposes cmd as the caller and returns
// the resulting lead.
func (s *leadService) write(ctx context.Context, cmd pipeline.Command) (*innonetpb.Lead, error) {
	out, _, _, err := s.writeLead(ctx, cmd)
	return out, err
}

// writeLead proposes a command that answers with a lead, and returns the
// caller's view of it, the caller and the lead.
func (s *leadService) writeLead(ctx context.Context, cmd pipeline.Command) (*innonetpb.Lead, *pipeline.User, *pipeline.Lead, error) {
	u, err := s.n.authenticate(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	cmd.Actor = u.ID
	res, err := s.n.propose(ctx, cmd)
	if err != nil {
		return nil, nil, nil, err
	}
	out, l := s.leadOf(u, res)
	return out, u, l, nil
}

// leadOf is the caller's view of the lead a command answered with.
func (s *leadService) leadOf(u *pipeline.User, res pipeline.Result) (*innonetpb.Lead, *pipeline.Lead) {
	out := leadPB(u, res.Lead)
	s.n.decorateLead(u, out, res.Lead)
	return out, res.Lead
}

// SubmitLead and UpdateLead answer with the possible duplicates of the
// lead as it now stands (api_duplicates.go). A submit that is the only
// write this site is proposing checks its lead while it commits, and
// keeps that answer if the only change to the duplicate index meanwhile
// was the new lead itself: the same answer as a check after the commit,
// without its wait.
func (s *leadService) SubmitLead(ctx context.Context, r *innonetpb.SubmitLeadRequest) (*innonetpb.Lead, error) {
	u, err := s.n.authenticate(ctx)
	if err != nil {
		return nil, err
	}
	cmd := pipeline.Command{Op: pipeline.OpSubmit, RequestID: r.RequestId, Draft: draftFromPB(r), Actor: u.ID}
	var pre *precheck
	if s.n.proposing.Load() == 0 && cmd.Validate() == nil {
		pre = s.n.precheckDraft(cmd.Draft)
	}
	res, err := s.n.propose(ctx, cmd)
	if err != nil {
		return nil, err
	}
	out, l := s.leadOf(u, res)
	if res.Replayed {
		pre = nil // the lead was indexed before the check began
	}
	out.PossibleDuplicates = s.n.freshDuplicates(ctx, u, l, pre, res.Index)
	return out, nil
}

func (s *leadService) UpdateLead(ctx context.Context, r *innonetpb.UpdateLeadRequest) (*innonetpb.Lead, error) {
	out, u, l, err := s.writeLead(ctx, pipeline.Command{Op: pipeline.OpUpdate, RequestID: r.RequestId, LeadID: r.Id,
		ExpectedVersion: r.ExpectedVersion, Patch: patchFromPB(r), Comment: r.Comment})
	if err != nil {
		return nil, err
	}
	out.PossibleDuplicates = s.n.freshDuplicates(ctx, u, l, nil, 0)
	return out, nil
}

func (s *leadService) ReviewLead(ctx context.Context, r *innonetpb.ReviewLeadRequest) (*innonetpb.Lead, error) {
	return s.write(ctx, pipeline.Command{Op: pipeline.OpReview, RequestID: r.RequestId, LeadID: r.Id,
		ExpectedVersion: r.ExpectedVersion, Decision: pipeline.Decision(r.Decision), Comment: r.Comment,
		ClaimMode: pipeline.ClaimMode(r.ClaimMode)})
}

func (s *leadService) ClaimLead(ctx context.Context, r *innonetpb.ClaimLeadRequest) (*innonetpb.Lead, error) {
	return s.write(ctx, pipeline.Command{Op: pipeline.OpClaim, RequestID: r.RequestId, LeadID: r.Id, ExpectedVersion: r.ExpectedVersion})
}

func (s *leadService) ReleaseLead(ctx context.Context, r *innonetpb.ReleaseLeadRequest) (*innonetpb.Lead, error) {
	return s.write(ctx, pipeline.Command{Op: pipeline.OpRelease, RequestID: r.RequestId, LeadID: r.Id,
		ExpectedVersion: r.ExpectedVersion, Comment: r.Comment})
}

func (s *leadService) AdvanceLead(ctx context.Context, r *innonetpb.AdvanceLeadRequest) (*innonetpb.Lead, error) {
	return s.write(ctx, pipeline.Command{Op: pipeline.OpAdvance, RequestID: r.RequestId, LeadID: r.Id,
		ExpectedVersion: r.ExpectedVersion, Stage: pipeline.Stage(r.Stage), Comment: r.Note,
		Visibility: pipeline.Visibility(r.Visibility)})
}

func (s *leadService) WithdrawLead(ctx context.Context, r *innonetpb.WithdrawLeadRequest) (*innonetpb.Lead, error) {
	return s.write(ctx, pipeline.Command{Op: pipeline.OpWithdraw, RequestID: r.RequestId, LeadID: r.Id,
		ExpectedVersion: r.ExpectedVersion, Comment: r.Comment})
}

// visibleLead reads a lead the caller may see.
func (s *leadService) visibleLead(ctx context.Context, id string) (*pipeline.User, *pipeline.Lead, error) {
	u, err := s.n.authenticate(ctx)
	if err != nil {
		return nil, nil, err
	}
	if !pipeline.ValidLeadID(id) {
		return nil, nil, status.Errorf(codes.InvalidArgument, "id: %q is not a lead ID of the form SITE-NNNN", clip(id))
	}
	l, err := s.n.state.Lead(id)
	if err != nil {
		return nil, nil, toStatus(err)
	}
	if !u.CanSee(l) {
		return nil, nil, status.Errorf(codes.PermissionDenied, "%s %s may not see lead %s", u.Role, u.Home(), id)
	}
	return u, l, nil
}

func (s *leadService) GetLead(ctx context.Context, r *innonetpb.GetLeadRequest) (*innonetpb.Lead, error) {
	lang, err := readLanguage(r)
	if err != nil {
		return nil, err
	}
	u, l, err := s.visibleLead(ctx, r.Id)
	if err != nil {
		return nil, err
	}
	out := leadPB(u, l)
	s.n.decorateLead(u, out, l)
	return s.localize(out, l, lang, nil), nil
}

func (s *leadService) GetLeadHistory(ctx context.Context, r *innonetpb.GetLeadHistoryRequest) (*innonetpb.GetLeadHistoryResponse, error) {
	u, l, err := s.visibleLead(ctx, r.Id)
	if err != nil {
		return nil, err
	}
	events, err := s.n.state.History(r.Id)
	if err != nil {
		return nil, toStatus(err)
	}
	out := &innonetpb.GetLeadHistoryResponse{}
	for _, e := range events {
		// What the caller may read of it (api_workflow.go, api_attachments.go).
		out.Events = append(out.Events, eventPB(u, l, attachmentEventFor(u, e)))
	}
	return out, nil
}

// clip shortens caller input quoted back in an error message, at a
// character's boundary (a message must stay UTF-8).
func clip(s string) string {
	if len(s) > 40 {
		n := 40
		for n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		return s[:n] + "..."
	}
	return s
}
