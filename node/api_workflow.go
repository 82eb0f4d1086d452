package node

import (
	"context"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"innonet/node/pipeline"
	innonetpb "innonet/proto/innonet/v1"
)

// This file serves the workflow (the pipeline's workflow.go): closing and
// reopening leads, claim modes and assignment, expressions of interest,
// threads, and who may read which note of a lead and its history. As for
// every write, Apply decides who may make it; the reads here decide what
// the caller sees.

func (s *leadService) CloseLead(ctx context.Context, r *innonetpb.CloseLeadRequest) (*innonetpb.Lead, error) {
	return s.write(ctx, pipeline.Command{Op: pipeline.OpClose, RequestID: r.RequestId, LeadID: r.Id,
		ExpectedVersion: r.ExpectedVersion, CloseReason: pipeline.CloseReason(r.Reason), Comment: r.Comment,
		Visibility: pipeline.Visibility(r.Visibility)})
}

func (s *leadService) ReopenLead(ctx context.Context, r *innonetpb.ReopenLeadRequest) (*innonetpb.Lead, error) {
	return s.write(ctx, pipeline.Command{Op: pipeline.OpReopen, RequestID: r.RequestId, LeadID: r.Id,
		ExpectedVersion: r.ExpectedVersion, Stage: pipeline.Stage(r.Stage), Comment: r.Comment})
}

func (s *leadService) AssignLead(ctx context.Context, r *innonetpb.AssignLeadRequest) (*innonetpb.Lead, error) {
	return s.write(ctx, pipeline.Command{Op: pipeline.OpAssign, RequestID: r.RequestId, LeadID: r.Id,
		ExpectedVersion: r.ExpectedVersion, Division: r.Division, Comment: r.Comment})
}

func (s *leadService) SetClaimMode(ctx context.Context, r *innonetpb.SetClaimModeRequest) (*innonetpb.Lead, error) {
	return s.write(ctx, pipeline.Command{Op: pipeline.OpSetClaimMode, RequestID: r.RequestId, LeadID: r.Id,
		ExpectedVersion: r.ExpectedVersion, ClaimMode: pipeline.ClaimMode(r.ClaimMode)})
}

func (s *leadService) ExpressInterest(ctx context.Context, r *innonetpb.ExpressInterestRequest) (*innonetpb.Interest, error) {
	return s.writeInterest(ctx, pipeline.Command{Op: pipeline.OpExpressInterest, RequestID: r.RequestId, LeadID: r.Id,
		ExpectedVersion: r.ExpectedVersion, Interest: &pipeline.InterestDraft{Rationale: r.Rationale, Enterprise: r.Enterprise}})
}

func (s *leadService) WithdrawInterest(ctx context.Context, r *innonetpb.WithdrawInterestRequest) (*innonetpb.Interest, error) {
	return s.writeInterest(ctx, pipeline.Command{Op: pipeline.OpWithdrawInterest, RequestID: r.RequestId, LeadID: r.Id,
		ExpectedVersion: r.ExpectedVersion})
}

// writeInterest proposes an expression or withdrawal of interest as the
// caller and returns the interest it left.
func (s *leadService) writeInterest(ctx context.Context, cmd pipeline.Command) (*innonetpb.Interest, error) {
	u, err := s.n.authenticate(ctx)
	if err != nil {
		return nil, err
	}
	cmd.Actor = u.ID
	res, err := s.n.propose(ctx, cmd)
	if err != nil {
		return nil, err
	}
	if res.Interest == nil || res.Lead == nil {
		return nil, status.Error(codes.Internal, "the pipeline returned no interest")
	}
	return interestToPB(res.Interest, res.Lead), nil
}

func (s *leadService) ListInterests(ctx context.Context, r *innonetpb.ListInterestsRequest) (*innonetpb.ListInterestsResponse, error) {
	u, l, err := s.visibleLead(ctx, r.Id)
	if err != nil {
		return nil, err
	}
	if u.Role == pipeline.NodeStaff {
		return nil, status.Errorf(codes.PermissionDenied, "expressions of interest in lead %s are between the divisions and HQ", l.ID)
	}
	list, err := s.n.state.Interests(r.Id)
	if err != nil {
		return nil, toStatus(err)
	}
	out := &innonetpb.ListInterestsResponse{Interests: []*innonetpb.Interest{}}
	for i := range list {
		// A division sees its own: the others' rationales are theirs.
		if u.Role == pipeline.DivisionRole && list[i].Division != u.Division {
			continue
		}
		out.Interests = append(out.Interests, interestToPB(&list[i], l))
	}
	return out, nil
}

func (s *leadService) GetClaimModeSetting(ctx context.Context, _ *innonetpb.GetClaimModeSettingRequest) (*innonetpb.ClaimModeSetting, error) {
	if _, err := s.n.authenticate(ctx); err != nil {
		return nil, err
	}
	mode, set := s.n.state.DefaultClaimMode()
	return claimModeSettingToPB(mode, set), nil
}

func (s *leadService) UpdateClaimModeSetting(ctx context.Context, r *innonetpb.UpdateClaimModeSettingRequest) (*innonetpb.ClaimModeSetting, error) {
	u, err := s.n.authenticate(ctx)
	if err != nil {
		return nil, err
	}
	res, err := s.n.propose(ctx, pipeline.Command{Op: pipeline.OpSetDefaultClaimMode, RequestID: r.RequestId, Actor: u.ID,
		ClaimMode: pipeline.ClaimMode(r.ClaimMode)})
	if err != nil {
		return nil, err
	}
	if res.Setting == nil {
		return nil, status.Error(codes.Internal, "the pipeline returned no setting")
	}
	mode := pipeline.ClaimOpen
	if res.Setting.Value == pipeline.ClaimAssigned.String() {
		mode = pipeline.ClaimAssigned
	}
	return claimModeSettingToPB(mode, res.Setting), nil
}

func (s *leadService) AddComment(ctx context.Context, r *innonetpb.AddCommentRequest) (*innonetpb.Comment, error) {
	u, err := s.n.authenticate(ctx)
	if err != nil {
		return nil, err
	}
	res, err := s.n.propose(ctx, pipeline.Command{Op: pipeline.OpComment, RequestID: r.RequestId, Actor: u.ID, LeadID: r.Id,
		Comment: r.Body, Visibility: pipeline.Visibility(r.Visibility), Division: r.Division})
	if err != nil {
		return nil, err
	}
	if res.Comment == nil {
		return nil, status.Error(codes.Internal, "the pipeline returned no comment")
	}
	return commentToPB(res.Comment), nil
}

func (s *leadService) ListComments(ctx context.Context, r *innonetpb.ListCommentsRequest) (*innonetpb.ListCommentsResponse, error) {
	u, l, err := s.visibleLead(ctx, r.Id)
	if err != nil {
		return nil, err
	}
	thread, err := s.n.state.Thread(r.Id)
	if err != nil {
		return nil, toStatus(err)
	}
	out := &innonetpb.ListCommentsResponse{Comments: []*innonetpb.Comment{}}
	for i := range thread {
		if c := &thread[i]; u.CanRead(l, c.Visibility, c.Division) {
			out.Comments = append(out.Comments, commentToPB(c))
		}
	}
	return out, nil
}

// leadPB is the lead as the caller may read it: its stage comment left
// out when it is a note the caller may not read.
func leadPB(u *pipeline.User, l *pipeline.Lead) *innonetpb.Lead {
	out := leadToPB(l)
	if out == nil {
		return nil
	}
	out.ClaimMode = innonetpb.ClaimMode(l.ClaimMode)
	if l.ClaimMode == pipeline.ClaimModeUnspecified && l.Published {
		out.ClaimMode = innonetpb.ClaimMode_OPEN // approved before claim modes
	}
	out.CloseReason = innonetpb.CloseLeadRequest_Reason(l.CloseReason)
	vis, div := l.StageAudience()
	out.StageCommentVisibility = innonetpb.Comment_Visibility(vis)
	if l.StageComment != "" && !u.CanRead(l, vis, div) {
		out.StageComment, out.StageCommentHidden = "", true
	}
	return out
}

// eventPB is a history event as the caller may read it: the comment and
// the private changes of a note the caller may not read are left out,
// and the event says so.
func eventPB(u *pipeline.User, l *pipeline.Lead, e pipeline.Event) *innonetpb.HistoryEvent {
	out := eventToPB(e)
	vis, div := e.Audience()
	out.Visibility, out.VisibleTo = innonetpb.Comment_Visibility(vis), div
	readable := u.CanRead(l, vis, div)
	hidden := !readable && e.Comment != ""
	if hidden {
		out.Comment = ""
	}
	for _, c := range e.Changes {
		if c.Private && !readable {
			hidden = true
			continue
		}
		out.Changes = append(out.Changes, &innonetpb.FieldChange{Field: c.Field, Old: c.Old, New: c.New})
	}
	out.CommentHidden = hidden
	return out
}

func interestToPB(i *pipeline.Interest, l *pipeline.Lead) *innonetpb.Interest {
	out := &innonetpb.Interest{
		LeadId: i.LeadID, Division: i.Division, Rationale: i.Rationale, Enterprise: i.Enterprise,
		UserId: i.UserID, UserName: i.UserName, CreateTime: ts(i.Created), UpdateTime: ts(i.Updated),
		WithdrawnBy: i.WithdrawnBy, Outcome: innonetpb.Interest_Outcome(i.Outcome(l)),
	}
	if i.Withdrawn != nil {
		out.WithdrawTime = ts(*i.Withdrawn)
	}
	return out
}

func commentToPB(c *pipeline.Comment) *innonetpb.Comment {
	return &innonetpb.Comment{
		LeadId: c.LeadID, Seq: c.Seq, Body: c.Body, Visibility: innonetpb.Comment_Visibility(c.Visibility),
		Division: c.Division, UserId: c.UserID, UserName: c.UserName, Role: innonetpb.Role(c.Role),
		UserSite: c.UserSite, OriginSite: c.OriginSite, Time: ts(c.Time), LogIndex: c.LogIndex,
		RequestId: c.RequestID, Action: c.Action, EventVersion: c.EventVersion,
	}
}

func claimModeSettingToPB(mode pipeline.ClaimMode, s *pipeline.Setting) *innonetpb.ClaimModeSetting {
	out := &innonetpb.ClaimModeSetting{ClaimMode: innonetpb.ClaimMode(mode)}
	if s != nil {
		out.UpdateTime, out.UpdatedBy, out.UpdatedByName = ts(s.Time), s.UserID, s.UserName
	}
	return out
}
