package console

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	innonetpb "innonet/proto/innonet/v1"
)

// leadData is the lead page.
type leadData struct {
	L           *innonetpb.Lead
	Trans       *innonetpb.LeadTranslation // in the reader's language
	History     []*innonetpb.HistoryEvent
	Comments    []*innonetpb.Comment
	Interests   []*innonetpb.Interest
	Files       []*innonetpb.Attachment
	Can         map[string]bool
	Next        string // the stage an advance moves to
	RID         string
	Reasons     []string
	Divisions   []string
	Visibility  []string
	MyInterest  *innonetpb.Interest
	ReopenTo    []string
	MaxUploadMB int64
	// AnyAction: the actions box has a form for the user.
	AnyAction bool
	// Similar are the leads that may duplicate this one (nil: the
	// reader may not ask); Matches how it fits each division.
	Similar []dup
	Matches *matchList
	// MergeableStages are the stages a lead is merged away from.
	MergeableStages []string
	// Deadline is the lead's stage limit; nil in a final stage.
	Deadline *deadline
}

var divisions = []string{"BOHAI", "YRD", "PRD"}

var closeReasons = enumNames(innonetpb.CloseLeadRequest_Reason_name, true)

// nextStage is where an advance takes a lead.
var nextStage = map[innonetpb.Stage]innonetpb.Stage{innonetpb.Stage_CLAIMED: innonetpb.Stage_NEGOTIATING,
	innonetpb.Stage_NEGOTIATING: innonetpb.Stage_SIGNED, innonetpb.Stage_SIGNED: innonetpb.Stage_LANDED}

// actions says which forms the page offers the user: the API decides,
// this only spares people buttons that would be refused.
func actions(u *innonetpb.User, l *innonetpb.Lead) map[string]bool {
	can := map[string]bool{"comment": true}
	st := l.Stage
	live := st == innonetpb.Stage_CLAIMED || st == innonetpb.Stage_NEGOTIATING || st == innonetpb.Stage_SIGNED
	switch u.Role {
	case innonetpb.Role_HQ_REVIEWER:
		can["review"] = st == innonetpb.Stage_SUBMITTED
		can["assign"] = st == innonetpb.Stage_APPROVED
		can["release"] = st == innonetpb.Stage_CLAIMED
		can["close"] = live
		can["reopen"] = st == innonetpb.Stage_DECLINED || st == innonetpb.Stage_LOST
		can["translate"] = true
		can["merge"] = slices.Contains(mergeable, st)
	case innonetpb.Role_NODE_STAFF:
		can["reply"] = st == innonetpb.Stage_RETURNED
		can["edit"] = st == innonetpb.Stage_SUBMITTED
		can["withdraw"] = st == innonetpb.Stage_SUBMITTED || st == innonetpb.Stage_RETURNED || st == innonetpb.Stage_APPROVED
		can["translate"] = true
		can["upload"] = st != innonetpb.Stage_WITHDRAWN && st != innonetpb.Stage_MERGED
	case innonetpb.Role_DIVISION:
		mine := l.Division == u.Division
		can["interest"] = st == innonetpb.Stage_APPROVED
		can["claim"] = st == innonetpb.Stage_APPROVED && l.ClaimMode != innonetpb.ClaimMode_ASSIGNED
		can["advance"] = mine && live
		can["deal"] = mine && live
		can["close"] = mine && live
		can["release"] = mine && st == innonetpb.Stage_CLAIMED
		can["private"] = true
		can["upload"] = mine && live
	}
	return can
}

func (s *Server) showLead(w http.ResponseWriter, r *http.Request, v *view, ctx context.Context) {
	if p := checkQuery(r); p != "" {
		s.errorPage(w, r, v, http.StatusBadRequest, errParam(v.T, p))
		return
	}
	id := r.PathValue("id")
	l, err := s.leads.GetLead(ctx, &innonetpb.GetLeadRequest{Id: id, Consistency: v.Read, Lang: v.Lang})
	if fallBack(v, err) {
		l, err = s.leads.GetLead(ctx, &innonetpb.GetLeadRequest{Id: id, Consistency: stale, Lang: v.Lang})
	}
	if err != nil {
		s.errorPage(w, r, v, httpStatus(err), s.apiFlash(v.T, err))
		return
	}
	d := &leadData{L: l, Can: actions(v.User, l), RID: newRID(), Reasons: closeReasons, Divisions: divisions,
		Visibility: []string{"SHARED", "HQ_AND_SITE"}, MaxUploadMB: s.cfg.MaxUpload >> 20,
		Deadline: deadlineOf(v.T, l.Sla, s.userLoc(v.User))}
	if v.User.Role == innonetpb.Role_DIVISION {
		d.Visibility = []string{"SHARED", "DIVISION"}
	}
	if tr := l.Translation; tr != nil && tr.Lang != l.Language && (tr.Title != "" || tr.Summary != "") {
		d.Trans = tr
	}
	for _, a := range []string{"review", "reply", "edit", "interest", "claim", "advance", "deal", "release", "close", "reopen", "withdraw", "merge"} {
		d.AnyAction = d.AnyAction || d.Can[a]
	}
	if n, ok := nextStage[l.Stage]; ok {
		d.Next = n.String()
	}
	if d.Can["reopen"] {
		d.ReopenTo = []string{"SUBMITTED", "APPROVED"}
	}
	var md metadata.MD
	if h, err := s.leads.GetLeadHistory(ctx, &innonetpb.GetLeadHistoryRequest{Id: id, Consistency: v.Read}, grpc.Header(&md)); err == nil {
		d.History = h.Events
		v.Fresh = freshOf(h.Read, md)
	}
	if c, err := s.leads.ListComments(ctx, &innonetpb.ListCommentsRequest{Id: id, Consistency: v.Read}); err == nil {
		d.Comments = c.Comments
	}
	if in, err := s.leads.ListInterests(ctx, &innonetpb.ListInterestsRequest{Id: id, Consistency: v.Read}); err == nil {
		d.Interests = in.Interests
		for _, i := range in.Interests {
			if v.User.Role == innonetpb.Role_DIVISION && i.Division == v.User.Division && i.Outcome == innonetpb.Interest_PENDING {
				d.MyInterest = i
			}
		}
	}
	if a, err := s.leads.ListAttachments(ctx, &innonetpb.ListAttachmentsRequest{Id: id, Consistency: v.Read}); err == nil {
		d.Files = a.Attachments
	}
	for _, st := range mergeable {
		d.MergeableStages = append(d.MergeableStages, st.String())
	}
	if sim, err := s.leads.GetSimilarLeads(ctx, &innonetpb.GetSimilarLeadsRequest{Id: id, Consistency: stale}); err == nil {
		d.Similar = s.dups(v.T, sim.Similar)
	}
	if m, err := s.leads.GetLeadMatches(ctx, &innonetpb.GetLeadMatchesRequest{Id: id, Consistency: stale}); err == nil {
		d.Matches = s.matchList(ctx, v.T, m.Matches)
	}
	v.Title, v.Data = l.Id+" · "+l.Title, d
	s.render(w, v, "lead")
}

// retryWrite calls write again while its answer is that the cluster has
// no leader (an election takes a second or two), for up to writeRetry.
func retryWrite(ctx context.Context, write func() error) error {
	deadline := time.Now().Add(writeRetry)
	for wait := 100 * time.Millisecond; ; wait = min(2*wait, time.Second) {
		err := write()
		if status.Code(err) != codes.Unavailable || time.Now().Add(wait).After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
	}
}

// writeRetry bounds how long an action waits for a leader.
const writeRetry = 5 * time.Second

// leadAction runs one form of the lead page, then goes back to it with
// what happened.
func (s *Server) leadAction(w http.ResponseWriter, r *http.Request, v *view, ctx context.Context) {
	id, action := r.PathValue("id"), r.PathValue("action")
	f := r.PostFormValue
	rid := f("rid")
	if rid == "" {
		rid = newRID()
	}
	ver, _ := strconv.ParseInt(f("version"), 10, 64)
	if !leadActions[action] {
		s.errorPage(w, r, v, http.StatusNotFound, &flash{Kind: "error", Msg: v.T.T("error.action", action)})
		return
	}
	notice := "done." + action
	if action == "review" {
		notice = "done.review." + f("decision")
	}
	// A merge is confirmed on a page of its own first.
	if action == "merge" && f("confirm") != "yes" {
		s.mergePage(w, r, v, ctx, id, f("into"), f("comment"), rid)
		return
	}
	// The daily work on a lead may be queued on a site cut off from the
	// leader (queued.go).
	mark := &queuedMark{}
	if queuedForms[action] {
		ctx, mark = allowQueued(ctx)
	}
	// Every write carries its request ID, so sending it again while the
	// cluster elects a leader does it at most once.
	var res *innonetpb.Lead
	err := retryWrite(ctx, func() (err error) {
		res, err = s.runAction(ctx, r, id, action, rid, ver)
		return err
	})
	next := "/leads/" + id
	switch {
	case err != nil:
		s.setFlash(w, s.apiFlash(v.T, err))
	case mark.queued() != "":
		s.setFlash(w, queuedFlash(v.T))
	case action == "merge":
		s.setFlash(w, &flash{Kind: "notice", Msg: v.T.T("done.merge", id, res.GetMergedInto())})
		next = "/leads/" + res.GetMergedInto()
	default:
		fl := &flash{Kind: "notice", Msg: v.T.T(notice)}
		if res != nil {
			fl.Warn = s.dupNotice(v.T, res.PossibleDuplicates)
		}
		s.setFlash(w, fl)
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// leadActions are the forms of the lead page.
var leadActions = map[string]bool{"review": true, "claim": true, "release": true, "advance": true, "withdraw": true,
	"close": true, "reopen": true, "interest": true, "withdraw-interest": true, "assign": true, "comment": true,
	"reply": true, "edit": true, "deal": true, "translate": true, "remove-file": true, "upload": true, "merge": true}

// runAction calls the API for one form of the lead page; the lead it
// answers with, where the page needs it (an edit's possible duplicates,
// a merge's survivor).
func (s *Server) runAction(ctx context.Context, r *http.Request, id, action, rid string, ver int64) (res *innonetpb.Lead, err error) {
	f := r.PostFormValue
	switch action {
	case "review":
		dec, ok := innonetpb.Decision_value[f("decision")]
		if !ok || dec == 0 {
			err = status.Errorf(codes.InvalidArgument, "decision: choose APPROVE, RETURN or DECLINE")
			break
		}
		_, err = s.leads.ReviewLead(ctx, &innonetpb.ReviewLeadRequest{Id: id, RequestId: rid, ExpectedVersion: ver,
			Decision: innonetpb.Decision(dec), Comment: f("comment"), ClaimMode: innonetpb.ClaimMode(innonetpb.ClaimMode_value[f("claim_mode")])})
	case "claim":
		_, err = s.leads.ClaimLead(ctx, &innonetpb.ClaimLeadRequest{Id: id, RequestId: rid})
	case "release":
		_, err = s.leads.ReleaseLead(ctx, &innonetpb.ReleaseLeadRequest{Id: id, RequestId: rid, ExpectedVersion: ver, Comment: f("comment")})
	case "advance":
		st := innonetpb.Stage(innonetpb.Stage_value[f("stage")])
		_, err = s.leads.AdvanceLead(ctx, &innonetpb.AdvanceLeadRequest{Id: id, RequestId: rid, ExpectedVersion: ver, Stage: st,
			Note: f("note"), Visibility: innonetpb.Comment_Visibility(innonetpb.Comment_Visibility_value[f("visibility")])})
	case "withdraw":
		_, err = s.leads.WithdrawLead(ctx, &innonetpb.WithdrawLeadRequest{Id: id, RequestId: rid, ExpectedVersion: ver, Comment: f("comment")})
	case "close":
		_, err = s.leads.CloseLead(ctx, &innonetpb.CloseLeadRequest{Id: id, RequestId: rid, ExpectedVersion: ver,
			Reason: innonetpb.CloseLeadRequest_Reason(innonetpb.CloseLeadRequest_Reason_value[f("reason")]), Comment: f("comment")})
	case "reopen":
		_, err = s.leads.ReopenLead(ctx, &innonetpb.ReopenLeadRequest{Id: id, RequestId: rid, ExpectedVersion: ver,
			Stage: innonetpb.Stage(innonetpb.Stage_value[f("stage")]), Comment: f("comment")})
	case "interest":
		_, err = s.leads.ExpressInterest(ctx, &innonetpb.ExpressInterestRequest{Id: id, RequestId: rid, Rationale: f("rationale"), Enterprise: f("enterprise")})
	case "withdraw-interest":
		_, err = s.leads.WithdrawInterest(ctx, &innonetpb.WithdrawInterestRequest{Id: id, RequestId: rid})
	case "assign":
		_, err = s.leads.AssignLead(ctx, &innonetpb.AssignLeadRequest{Id: id, RequestId: rid, ExpectedVersion: ver, Division: f("division"), Comment: f("comment")})
	case "comment":
		_, err = s.leads.AddComment(ctx, &innonetpb.AddCommentRequest{Id: id, RequestId: rid, Body: f("body"),
			Visibility: innonetpb.Comment_Visibility(innonetpb.Comment_Visibility_value[f("visibility")])})
	case "reply", "edit":
		req := &innonetpb.UpdateLeadRequest{Id: id, RequestId: rid, ExpectedVersion: ver, Comment: f("comment")}
		if r.PostForm.Has("title") {
			t := strings.TrimSpace(f("title"))
			req.Title = &t
		}
		if r.PostForm.Has("summary") {
			sm := strings.TrimSpace(f("summary"))
			req.Summary = &sm
		}
		if r.PostForm.Has("website") {
			ws := website(f("website"))
			req.Website = &ws
		}
		res, err = s.leads.UpdateLead(ctx, req)
	case "merge":
		res, err = s.leads.MergeLead(ctx, &innonetpb.MergeLeadRequest{Id: id, RequestId: rid, ExpectedVersion: ver,
			Into: strings.ToUpper(strings.TrimSpace(f("into"))), Comment: strings.TrimSpace(f("comment"))})
	case "deal":
		req := &innonetpb.UpdateDealTermsRequest{Id: id, RequestId: rid, ExpectedVersion: ver}
		for _, p := range []struct {
			name string
			dst  **string
		}{{"amount", &req.Amount}, {"currency", &req.Currency}, {"expected_signing_date", &req.ExpectedSigningDate},
			{"expected_landing_date", &req.ExpectedLandingDate}, {"next_step", &req.NextStep}, {"partner_id", &req.PartnerId}} {
			if r.PostForm.Has(p.name) {
				val := strings.TrimSpace(f(p.name))
				*p.dst = &val
			}
		}
		if j := strings.TrimSpace(f("jobs")); j != "" {
			n, perr := strconv.Atoi(j)
			if perr != nil {
				err = status.Errorf(codes.InvalidArgument, "jobs: %q is not a whole number", j)
				break
			}
			n32 := int32(n)
			req.Jobs = &n32
		}
		_, err = s.leads.UpdateDealTerms(ctx, req)
	case "translate":
		st := innonetpb.TranslationStatus(innonetpb.TranslationStatus_value[f("status")])
		_, err = s.leads.TranslateLead(ctx, &innonetpb.TranslateLeadRequest{Id: id, RequestId: rid, Lang: f("lang"),
			Title: f("title"), Summary: f("summary"), Status: st})
	case "remove-file":
		_, err = s.leads.RemoveAttachment(ctx, &innonetpb.RemoveAttachmentRequest{Id: id, Sha256: f("sha256")})
	case "upload":
		err = s.uploadFile(ctx, r, id, rid)
	}
	return res, err
}
