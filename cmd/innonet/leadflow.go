package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	pb "innonet/proto/innonet/v1"
)

// This file holds the lead subcommands of the workflow: closing and
// reopening, claim modes and assignment, expressions of interest, and a
// lead's thread of comments.

func leadClose(ctx context.Context, std streams, args []string) error {
	f := newFlags(std, "lead close", `Usage: innonet lead close ID --reason REASON [--comment TEXT] [--shared] [flags]

Closes a CLAIMED, NEGOTIATING or SIGNED lead as LOST: the deal fell
through. The reason is one of the fixed list; OTHER needs a comment. The
comment stays between the division holding the lead and HQ unless
--shared. The division holding the lead, or HQ. HQ may reopen it (lead
reopen).

Examples:
  INNONET_TOKEN=$YRD innonet lead close BOS-0003 --reason terms-not-agreed --comment "They asked for 60M"
  INNONET_TOKEN=$HQ innonet lead close BOS-0003 --reason other --comment "Merged into CBG-0002" --shared
`)
	cf, wf := addClientFlags(f, defaultTimeout), addWriteFlags(f)
	ev := addExpectedVersion(f)
	req := &pb.CloseLeadRequest{}
	f.Var(enumFlag(&req.Reason, pb.CloseLeadRequest_Reason_value), "reason", "why, one of `REASON`: "+enumChoices(pb.CloseLeadRequest_Reason_value)+" (required)")
	f.StringVar(&req.Comment, "comment", "", "what happened (required for --reason other)")
	shared := f.Bool("shared", false, "let everyone who may see the lead read the comment (default: the division and HQ)")
	f.check(func() error {
		if req.Reason == pb.CloseLeadRequest_REASON_UNSPECIFIED {
			return fmt.Errorf("--reason is required: %s", enumChoices(pb.CloseLeadRequest_Reason_value))
		}
		return nil
	})
	pos, err := f.parse(args, 1, 1)
	if err != nil {
		return err
	}
	req.Id, req.RequestId, req.ExpectedVersion = leadID(pos[0]), wf.id(), *ev
	if *shared {
		req.Visibility = pb.Comment_SHARED
	}
	return leadWrite(ctx, std, cf, wf, func(ctx context.Context, c *client) (*pb.Lead, error) {
		return c.leads.CloseLead(ctx, req)
	})
}

func leadReopen(ctx context.Context, std streams, args []string) error {
	f := newFlags(std, "lead reopen", `Usage: innonet lead reopen ID --to submitted|approved --comment TEXT [flags]

Reopens a DECLINED or LOST lead: back to SUBMITTED, to review it again,
or to APPROVED, published to the divisions again and held by none. A
comment is required. HQ reviewers only.

Examples:
  INNONET_TOKEN=$HQ innonet lead reopen BOS-0003 --to approved --comment "The partner lowered the price"
  INNONET_TOKEN=$HQ innonet lead reopen TLV-0002 --to submitted --comment "New clinical data"
`)
	cf, wf := addClientFlags(f, defaultTimeout), addWriteFlags(f)
	ev := addExpectedVersion(f)
	req := &pb.ReopenLeadRequest{}
	f.Var(enumFlag(&req.Stage, pb.Stage_value), "to", "the `STAGE` to reopen to: submitted or approved (required)")
	f.StringVar(&req.Comment, "comment", "", "why (required)")
	f.check(func() error {
		switch {
		case req.Stage == pb.Stage_STAGE_UNSPECIFIED:
			return fmt.Errorf("--to is required: submitted or approved")
		case strings.TrimSpace(req.Comment) == "":
			return fmt.Errorf("--comment is required: say why the lead is reopened")
		}
		return nil
	})
	pos, err := f.parse(args, 1, 1)
	if err != nil {
		return err
	}
	req.Id, req.RequestId, req.ExpectedVersion = leadID(pos[0]), wf.id(), *ev
	return leadWrite(ctx, std, cf, wf, func(ctx context.Context, c *client) (*pb.Lead, error) {
		return c.leads.ReopenLead(ctx, req)
	})
}

func leadAssign(ctx context.Context, std streams, args []string) error {
	f := newFlags(std, "lead assign", `Usage: innonet lead assign ID --division DIVISION [--comment TEXT] [flags]

Claims an APPROVED lead for a division, as HQ decides (see the divisions'
reasons with lead interests). Exactly one of an assignment and claims
racing for the lead wins; the others get ABORTED naming the division that
holds it. HQ reviewers only.

Examples:
  INNONET_TOKEN=$HQ innonet lead interests BOS-0003
  INNONET_TOKEN=$HQ innonet lead assign BOS-0003 --division YRD --comment "Closest to the cell-line suppliers"
`)
	cf, wf := addClientFlags(f, defaultTimeout), addWriteFlags(f)
	ev := addExpectedVersion(f)
	req := &pb.AssignLeadRequest{}
	f.StringVar(&req.Division, "division", "", "the `DIVISION` that gets the lead: BOHAI, YRD or PRD (required)")
	f.StringVar(&req.Comment, "comment", "", "why this division (kept in the lead's history)")
	f.check(func() error {
		if req.Division == "" {
			return fmt.Errorf("--division is required: BOHAI, YRD or PRD")
		}
		return nil
	})
	pos, err := f.parse(args, 1, 1)
	if err != nil {
		return err
	}
	req.Id, req.RequestId, req.ExpectedVersion, req.Division = leadID(pos[0]), wf.id(), *ev, strings.ToUpper(req.Division)
	return leadWrite(ctx, std, cf, wf, func(ctx context.Context, c *client) (*pb.Lead, error) {
		return c.leads.AssignLead(ctx, req)
	})
}

func leadClaimMode(ctx context.Context, std streams, args []string) error {
	f := newFlags(std, "lead claim-mode", `Usage: innonet lead claim-mode ID --mode open|assigned [flags]

Sets how divisions get a SUBMITTED, RETURNED or APPROVED lead: open (the
first division to claim it wins) or assigned (divisions express interest,
HQ assigns it). A lead takes the cluster's default (lead default-claim-mode)
when HQ approves it, unless set here or in the review. HQ reviewers only.

Examples:
  INNONET_TOKEN=$HQ innonet lead claim-mode BOS-0003 --mode assigned
`)
	cf, wf := addClientFlags(f, defaultTimeout), addWriteFlags(f)
	ev := addExpectedVersion(f)
	req := &pb.SetClaimModeRequest{}
	f.Var(enumFlag(&req.ClaimMode, pb.ClaimMode_value), "mode", "`MODE`: "+enumChoices(pb.ClaimMode_value)+" (required)")
	f.check(func() error {
		if req.ClaimMode == pb.ClaimMode_CLAIM_MODE_UNSPECIFIED {
			return fmt.Errorf("--mode is required: open or assigned")
		}
		return nil
	})
	pos, err := f.parse(args, 1, 1)
	if err != nil {
		return err
	}
	req.Id, req.RequestId, req.ExpectedVersion = leadID(pos[0]), wf.id(), *ev
	return leadWrite(ctx, std, cf, wf, func(ctx context.Context, c *client) (*pb.Lead, error) {
		return c.leads.SetClaimMode(ctx, req)
	})
}

func leadDefaultClaimMode(ctx context.Context, std streams, args []string) error {
	f := newFlags(std, "lead default-claim-mode", `Usage: innonet lead default-claim-mode [--set open|assigned] [flags]

Shows the cluster's default claim mode, which a lead takes when HQ
approves it without naming one (GET /v1/settings/claim-mode); with --set,
changes it for the leads approved from then on (HQ reviewers only;
published leads keep theirs).

Examples:
  innonet lead default-claim-mode
  INNONET_TOKEN=$HQ innonet lead default-claim-mode --set assigned
`)
	cf, wf := addClientFlags(f, defaultTimeout), addWriteFlags(f)
	rf := addReadFlags(f)
	var mode pb.ClaimMode
	f.Var(enumFlag(&mode, pb.ClaimMode_value), "set", "change the default to `MODE`: "+enumChoices(pb.ClaimMode_value))
	if _, err := f.parse(args, 0, 0); err != nil {
		return err
	}
	c, err := cf.connect()
	if err != nil {
		return err
	}
	defer c.Close()
	var s *pb.ClaimModeSetting
	if mode != pb.ClaimMode_CLAIM_MODE_UNSPECIFIED {
		req := &pb.UpdateClaimModeSettingRequest{RequestId: wf.id(), ClaimMode: mode}
		err = c.write(ctx, std, wf.retries, wf.id(), func(ctx context.Context) (err error) {
			s, err = c.leads.UpdateClaimModeSetting(ctx, req)
			return err
		})
	} else {
		err = c.call(ctx, func(ctx context.Context) (err error) {
			s, err = c.leads.GetClaimModeSetting(ctx, &pb.GetClaimModeSettingRequest{Consistency: rf.consistency, MaxStaleness: rf.staleness()})
			return err
		})
	}
	if err != nil {
		return err
	}
	if cf.json {
		return printJSON(std.out(), s)
	}
	t := newTable(std.out(), "DEFAULT CLAIM MODE", "SINCE", "SET BY")
	t.row(enumText(s.ClaimMode), timeText(s.UpdateTime), s.UpdatedByName)
	return t.flush()
}

func leadInterest(ctx context.Context, std streams, args []string) error {
	f := newFlags(std, "lead interest", `Usage: innonet lead interest ID --rationale TEXT [--enterprise NAME] [flags]

Says why your division wants an APPROVED lead, and with which local
enterprise; running it again revises what your division said. HQ sees
every division's side by side (lead interests) and may assign the lead;
the other divisions do not see yours. Divisions only.

Examples:
  INNONET_TOKEN=$YRD innonet lead interest BOS-0003 --rationale "Fits the Suzhou biomedicine cluster" --enterprise "Suzhou BioBay"
`)
	cf, wf := addClientFlags(f, defaultTimeout), addWriteFlags(f)
	ev := addExpectedVersion(f)
	req := &pb.ExpressInterestRequest{}
	f.StringVar(&req.Rationale, "rationale", "", "why your division wants the lead (required)")
	f.StringVar(&req.Enterprise, "enterprise", "", "the local enterprise your division would work it with")
	f.check(func() error {
		if strings.TrimSpace(req.Rationale) == "" {
			return fmt.Errorf("--rationale is required: say why your division wants the lead")
		}
		return nil
	})
	pos, err := f.parse(args, 1, 1)
	if err != nil {
		return err
	}
	req.Id, req.RequestId, req.ExpectedVersion = leadID(pos[0]), wf.id(), *ev
	return interestWrite(ctx, std, cf, wf, func(ctx context.Context, c *client) (*pb.Interest, error) {
		return c.leads.ExpressInterest(ctx, req)
	})
}

func leadWithdrawInterest(ctx context.Context, std streams, args []string) error {
	f := newFlags(std, "lead withdraw-interest", `Usage: innonet lead withdraw-interest ID [flags]

Withdraws your division's interest in an APPROVED lead (it stays in the
lead's history). Divisions only.

Examples:
  INNONET_TOKEN=$PRD innonet lead withdraw-interest BOS-0003
`)
	cf, wf := addClientFlags(f, defaultTimeout), addWriteFlags(f)
	ev := addExpectedVersion(f)
	pos, err := f.parse(args, 1, 1)
	if err != nil {
		return err
	}
	req := &pb.WithdrawInterestRequest{Id: leadID(pos[0]), RequestId: wf.id(), ExpectedVersion: *ev}
	return interestWrite(ctx, std, cf, wf, func(ctx context.Context, c *client) (*pb.Interest, error) {
		return c.leads.WithdrawInterest(ctx, req)
	})
}

// interestWrite is leadWrite for the writes that return an interest.
func interestWrite(ctx context.Context, std streams, cf *clientFlags, wf *writeFlags, do func(ctx context.Context, c *client) (*pb.Interest, error)) error {
	c, err := cf.connect()
	if err != nil {
		return err
	}
	defer c.Close()
	var i *pb.Interest
	err = c.write(ctx, std, wf.retries, wf.id(), func(ctx context.Context) (err error) {
		i, err = do(ctx, c)
		return err
	})
	if err != nil {
		return err
	}
	if cf.json {
		return printJSON(std.out(), i)
	}
	return printInterests(std.out(), []*pb.Interest{i})
}

func leadInterests(ctx context.Context, std streams, args []string) error {
	f := newFlags(std, "lead interests", `Usage: innonet lead interests ID [flags]

Lists the divisions' expressions of interest in a lead, side by side,
with what became of each (pending, chosen, not chosen, withdrawn). HQ
sees every division's; a division sees its own.

Examples:
  INNONET_TOKEN=$HQ innonet lead interests BOS-0003
  innonet lead interests BOS-0003 --json | jq -r '.interests[] | [.division, .outcome] | @tsv'
`)
	cf := addClientFlags(f, defaultTimeout)
	rf := addReadFlags(f)
	pos, err := f.parse(args, 1, 1)
	if err != nil {
		return err
	}
	c, err := cf.connect()
	if err != nil {
		return err
	}
	defer c.Close()
	var resp *pb.ListInterestsResponse
	var header metadata.MD
	err = c.call(ctx, func(ctx context.Context) (err error) {
		resp, err = c.leads.ListInterests(ctx, &pb.ListInterestsRequest{Id: leadID(pos[0]), Consistency: rf.consistency,
			MaxStaleness: rf.staleness()}, grpc.Header(&header))
		return err
	})
	if err != nil {
		return err
	}
	resp.Read = readInfo(resp.Read, header)
	if cf.json {
		return printJSON(std.out(), resp)
	}
	if err := printInterests(std.out(), resp.Interests); err != nil {
		return err
	}
	printReadInfo(std.errOut(), resp.Read)
	return nil
}

// printInterests prints interests as a table, one per row.
func printInterests(w io.Writer, list []*pb.Interest) error {
	t := newTable(w, "DIVISION", "OUTCOME", "ENTERPRISE", "BY", "UPDATED", "RATIONALE")
	for _, i := range list {
		outcome := enumText(i.Outcome)
		if i.WithdrawnBy != "" {
			outcome += " by " + userText(i.WithdrawnByName, i.WithdrawnBy)
		}
		t.row(i.Division, outcome, i.Enterprise, userText(i.UserName, i.UserId), timeText(i.UpdateTime), clipText(i.Rationale, 60))
	}
	return t.flush()
}

func leadComment(ctx context.Context, std streams, args []string) error {
	f := newFlags(std, "lead comment", `Usage: innonet lead comment ID --body TEXT --visibility shared|hq-and-site|division [--division DIVISION] [flags]

Posts to a lead's thread. Who may read it: shared (everyone who may see
the lead), hq-and-site (HQ and the submitting site: the questions and
answers of a review) or division (one division and HQ: a division writes
for itself; HQ for the division named with --division, by default the one
holding the lead).

Examples:
  innonet lead comment BOS-0003 --body "Datasheets follow by mail." --visibility hq-and-site
  INNONET_TOKEN=$YRD innonet lead comment BOS-0003 --body "Our offer: 42M" --visibility division
  INNONET_TOKEN=$HQ innonet lead comment BOS-0003 --body "Which enterprise?" --visibility division --division PRD
`)
	cf, wf := addClientFlags(f, defaultTimeout), addWriteFlags(f)
	req := &pb.AddCommentRequest{}
	f.StringVar(&req.Body, "body", "", "the comment, in any language (required)")
	f.Var(enumFlag(&req.Visibility, pb.Comment_Visibility_value), "visibility", "who may read it, `VISIBILITY`: "+enumChoices(pb.Comment_Visibility_value)+" (required)")
	f.StringVar(&req.Division, "division", "", "for HQ's division comments: the `DIVISION` it is for")
	f.check(func() error {
		switch {
		case strings.TrimSpace(req.Body) == "":
			return fmt.Errorf("--body is required")
		case req.Visibility == pb.Comment_VISIBILITY_UNSPECIFIED:
			return fmt.Errorf("--visibility is required: %s", enumChoices(pb.Comment_Visibility_value))
		}
		return nil
	})
	pos, err := f.parse(args, 1, 1)
	if err != nil {
		return err
	}
	req.Id, req.RequestId, req.Division = leadID(pos[0]), wf.id(), strings.ToUpper(req.Division)
	c, err := cf.connect()
	if err != nil {
		return err
	}
	defer c.Close()
	var out *pb.Comment
	err = c.write(ctx, std, wf.retries, wf.id(), func(ctx context.Context) (err error) {
		out, err = c.leads.AddComment(ctx, req)
		return err
	})
	if err != nil {
		return err
	}
	if cf.json {
		return printJSON(std.out(), out)
	}
	return printComments(std.out(), []*pb.Comment{out})
}

func leadComments(ctx context.Context, std streams, args []string) error {
	f := newFlags(std, "lead comments", `Usage: innonet lead comments ID [flags]

Shows a lead's thread as far as you may read it: the comments posted and
the notes of its history (HQ's review questions, the site's answers, a
division's notes), in order.

Examples:
  innonet lead comments BOS-0003
  innonet lead comments BOS-0003 --json | jq -r '.comments[] | [.userName, .body] | @tsv'
`)
	cf := addClientFlags(f, defaultTimeout)
	rf := addReadFlags(f)
	pos, err := f.parse(args, 1, 1)
	if err != nil {
		return err
	}
	c, err := cf.connect()
	if err != nil {
		return err
	}
	defer c.Close()
	var resp *pb.ListCommentsResponse
	var header metadata.MD
	err = c.call(ctx, func(ctx context.Context) (err error) {
		resp, err = c.leads.ListComments(ctx, &pb.ListCommentsRequest{Id: leadID(pos[0]), Consistency: rf.consistency,
			MaxStaleness: rf.staleness()}, grpc.Header(&header))
		return err
	})
	if err != nil {
		return err
	}
	resp.Read = readInfo(resp.Read, header)
	if cf.json {
		return printJSON(std.out(), resp)
	}
	if err := printComments(std.out(), resp.Comments); err != nil {
		return err
	}
	printReadInfo(std.errOut(), resp.Read)
	return nil
}

// printComments prints a thread as a table, one entry per row.
func printComments(w io.Writer, list []*pb.Comment) error {
	t := newTable(w, "TIME", "USER", "ROLE", "FROM", "VISIBLE TO", "COMMENT")
	for _, c := range list {
		from := "comment"
		if c.Action != "" {
			from = c.Action
		}
		t.row(timeText(c.Time), c.UserName, enumText(c.Role), from, visibilityText(c.Visibility, c.Division), c.Body)
	}
	return t.flush()
}

// visibilityText says who may read a note: SHARED, HQ_AND_SITE, DIVISION YRD.
func visibilityText(v pb.Comment_Visibility, division string) string {
	return strings.TrimSpace(enumText(v) + " " + division)
}

// commentText is a history event's comment, or says it is hidden.
func commentText(e *pb.HistoryEvent) string {
	if e.CommentHidden {
		return "(a note for " + visibilityText(e.Visibility, e.VisibleTo) + ")"
	}
	return clipText(e.Comment, 60)
}
