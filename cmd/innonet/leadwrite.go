package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"google.golang.org/protobuf/encoding/protojson"

	pb "innonet/proto/innonet/v1"
)

// This file holds the lead subcommands that change a lead. Each prints the
// lead as the write left it (a one-row table, or the Lead as JSON).

func leadSubmit(ctx context.Context, std streams, args []string) error {
	f := newFlags(std, "lead submit", `Usage: innonet lead submit --title TEXT --summary TEXT --organization NAME --country CC
                           --sector SECTOR --trl N --deal-type TYPE [--tag TAG]... [--contact CONTACT]... [flags]
       innonet lead submit --file lead.json [flags]

Submits a lead for HQ review, as node staff of the caller's site; the site
comes from the token. Prints the new lead with the ID the cluster gave it.
--file reads the JSON body of POST /v1/leads (a SubmitLeadRequest);
flags given as well override its fields. A retry with the same
--request-id (or the file's requestId) returns the lead the first attempt
created instead of submitting it twice.

Examples:
  export INNONET_ADDR=127.0.0.1:7102 INNONET_TOKEN=<Boston node staff token>
  innonet lead submit --title "mRNA vaccine platform" --summary "Thermostable mRNA formulation." \
      --organization "Longwood Vaccines" --country US --sector life-sciences-health --trl 5 \
      --deal-type technology-licensing --tag mRNA,vaccine \
      --contact "Dr. Ana Ruiz <ana@longwood.example> +1 617 555 0100" --language en
  innonet lead submit --file lead.json --request-id bos-2026-0042
  innonet lead submit --file - --json < lead.json | jq -r .id
`)
	cf, wf := addClientFlags(f, defaultTimeout), addWriteFlags(f)
	d := addDraftFlags(f)
	file := f.String("file", "", "read the lead from `FILE` (JSON of a SubmitLeadRequest, as POST /v1/leads takes it; - for stdin)")
	if _, err := f.parse(args, 0, 0); err != nil {
		return err
	}
	req := &pb.SubmitLeadRequest{}
	if *file != "" {
		if err := readJSONFile(std, *file, req); err != nil {
			return err
		}
	}
	d.submit(f, req)
	if f.isSet("request-id") || req.RequestId == "" {
		req.RequestId = wf.id()
	} else {
		wf.requestID = req.RequestId
	}
	return leadWrite(ctx, std, cf, wf, func(ctx context.Context, c *client) (*pb.Lead, error) {
		return c.leads.SubmitLead(ctx, req)
	})
}

func leadEdit(ctx context.Context, std streams, args []string) error {
	f := newFlags(std, "lead edit", `Usage: innonet lead edit ID [--title TEXT] [--summary TEXT] ... [--comment TEXT] [flags]

Changes the fields given (the same flags as lead submit) of a SUBMITTED
or RETURNED lead; editing a RETURNED lead resubmits it for review. --tag
and --contact replace the whole list. Node staff of the lead's site only.

Examples:
  innonet lead edit BOS-0003 --summary "Thermostable at 2-8 °C for 6 months." --comment "Added cold-chain data"
  innonet lead edit BOS-0003 --trl 6 --tag mRNA,cold-chain --expected-version 2
`)
	cf, wf := addClientFlags(f, defaultTimeout), addWriteFlags(f)
	ev := addExpectedVersion(f)
	d := addDraftFlags(f)
	comment := f.String("comment", "", "why the lead changed (kept in its history)")
	pos, err := f.parse(args, 1, 1)
	if err != nil {
		return err
	}
	req := &pb.UpdateLeadRequest{Id: leadID(pos[0]), RequestId: wf.id(), ExpectedVersion: *ev, Comment: *comment}
	if d.patch(f, req) == 0 {
		return f.fail("nothing to change: give at least one of the lead's fields")
	}
	return leadWrite(ctx, std, cf, wf, func(ctx context.Context, c *client) (*pb.Lead, error) {
		return c.leads.UpdateLead(ctx, req)
	})
}

func leadReview(ctx context.Context, std streams, args []string) error {
	f := newFlags(std, "lead review", `Usage: innonet lead review ID --decision approve|return|decline [--comment TEXT] [flags]

Records HQ's decision on a SUBMITTED lead: approve publishes it to the
divisions, return sends it back to its site for more information (the
site's edit resubmits it), decline ends it. A comment is required to
return or decline. HQ reviewers only.

Examples:
  INNONET_TOKEN=$HQ innonet lead review BOS-0003 --decision approve
  INNONET_TOKEN=$HQ innonet lead review BOS-0003 --decision return --comment "Which cold-chain temperature?"
  INNONET_TOKEN=$HQ innonet lead review BOS-0004 --decision approve --claim-mode assigned
`)
	cf, wf := addClientFlags(f, defaultTimeout), addWriteFlags(f)
	ev := addExpectedVersion(f)
	req := &pb.ReviewLeadRequest{}
	f.Var(enumFlag(&req.Decision, pb.Decision_value), "decision", "`DECISION`: "+enumChoices(pb.Decision_value)+" (required)")
	f.StringVar(&req.Comment, "comment", "", "the reason, shown to the submitting site (required to return or decline)")
	f.Var(enumFlag(&req.ClaimMode, pb.ClaimMode_value), "claim-mode", "with approve: `MODE` "+enumChoices(pb.ClaimMode_value)+" (default: the lead's, else the cluster's default)")
	f.check(func() error {
		if req.Decision == pb.Decision_DECISION_UNSPECIFIED {
			return fmt.Errorf("--decision is required: approve, return or decline")
		}
		return nil
	})
	pos, err := f.parse(args, 1, 1)
	if err != nil {
		return err
	}
	req.Id, req.RequestId, req.ExpectedVersion = leadID(pos[0]), wf.id(), *ev
	return leadWrite(ctx, std, cf, wf, func(ctx context.Context, c *client) (*pb.Lead, error) {
		return c.leads.ReviewLead(ctx, req)
	})
}

func leadClaim(ctx context.Context, std streams, args []string) error {
	f := newFlags(std, "lead claim", `Usage: innonet lead claim ID [flags]

Claims an APPROVED lead for the caller's division (the division comes
from the token). Of several divisions claiming at once exactly one wins;
the others get ABORTED.

Examples:
  INNONET_ADDR=127.0.0.1:7107 INNONET_TOKEN=$YRD innonet lead claim BOS-0003
`)
	cf, wf := addClientFlags(f, defaultTimeout), addWriteFlags(f)
	ev := addExpectedVersion(f)
	pos, err := f.parse(args, 1, 1)
	if err != nil {
		return err
	}
	req := &pb.ClaimLeadRequest{Id: leadID(pos[0]), RequestId: wf.id(), ExpectedVersion: *ev}
	return leadWrite(ctx, std, cf, wf, func(ctx context.Context, c *client) (*pb.Lead, error) {
		return c.leads.ClaimLead(ctx, req)
	})
}

func leadRelease(ctx context.Context, std streams, args []string) error {
	f := newFlags(std, "lead release", `Usage: innonet lead release ID [--comment TEXT] [flags]

Hands a CLAIMED lead back: it is APPROVED again and any division may
claim it. The claiming division or HQ.

Examples:
  INNONET_TOKEN=$HQ innonet lead release CBG-0001 --comment "Reassigning to Bohai Rim"
`)
	cf, wf := addClientFlags(f, defaultTimeout), addWriteFlags(f)
	ev := addExpectedVersion(f)
	comment := f.String("comment", "", "why (kept in the lead's history)")
	pos, err := f.parse(args, 1, 1)
	if err != nil {
		return err
	}
	req := &pb.ReleaseLeadRequest{Id: leadID(pos[0]), RequestId: wf.id(), ExpectedVersion: *ev, Comment: *comment}
	return leadWrite(ctx, std, cf, wf, func(ctx context.Context, c *client) (*pb.Lead, error) {
		return c.leads.ReleaseLead(ctx, req)
	})
}

func leadAdvance(ctx context.Context, std streams, args []string) error {
	f := newFlags(std, "lead advance", `Usage: innonet lead advance ID --to STAGE [--note TEXT] [--shared] [flags]

Moves a claimed lead one step on: CLAIMED -> NEGOTIATING -> SIGNED ->
LANDED. --to names the next stage, so that running the command twice
cannot skip one. The note stays between the division and HQ unless
--shared. The claiming division only.

Examples:
  INNONET_TOKEN=$YRD innonet lead advance BOS-0003 --to negotiating --note "Meeting with the Suzhou partner"
  INNONET_TOKEN=$YRD innonet lead advance BOS-0003 --to signed
  INNONET_TOKEN=$YRD innonet lead advance BOS-0003 --to landed
`)
	cf, wf := addClientFlags(f, defaultTimeout), addWriteFlags(f)
	ev := addExpectedVersion(f)
	req := &pb.AdvanceLeadRequest{}
	f.Var(enumFlag(&req.Stage, pb.Stage_value), "to", "the next `STAGE`: negotiating, signed or landed (required)")
	f.StringVar(&req.Note, "note", "", "what happened (kept in the lead's history; your division's and HQ's unless --shared)")
	shared := f.Bool("shared", false, "let everyone who may see the lead read the note")
	f.check(func() error {
		if req.Stage == pb.Stage_STAGE_UNSPECIFIED {
			return fmt.Errorf("--to is required: negotiating, signed or landed")
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
		return c.leads.AdvanceLead(ctx, req)
	})
}

func leadWithdraw(ctx context.Context, std streams, args []string) error {
	f := newFlags(std, "lead withdraw", `Usage: innonet lead withdraw ID [--comment TEXT] [flags]

Withdraws a SUBMITTED, RETURNED or APPROVED lead; this is final. Node
staff of the lead's site only.

Examples:
  INNONET_ADDR=127.0.0.1:7105 INNONET_TOKEN=$TLV innonet lead withdraw TLV-0002 --comment "Company acquired"
`)
	cf, wf := addClientFlags(f, defaultTimeout), addWriteFlags(f)
	ev := addExpectedVersion(f)
	comment := f.String("comment", "", "why (kept in the lead's history)")
	pos, err := f.parse(args, 1, 1)
	if err != nil {
		return err
	}
	req := &pb.WithdrawLeadRequest{Id: leadID(pos[0]), RequestId: wf.id(), ExpectedVersion: *ev, Comment: *comment}
	return leadWrite(ctx, std, cf, wf, func(ctx context.Context, c *client) (*pb.Lead, error) {
		return c.leads.WithdrawLead(ctx, req)
	})
}

// addExpectedVersion registers --expected-version.
func addExpectedVersion(f *cmdFlags) *int64 {
	return f.Int64("expected-version", 0, "refuse the write (ABORTED) unless the lead is still at this `VERSION`, as lead show printed it")
}

// leadWrite connects, makes the write (retrying UNAVAILABLE with the same
// request) and prints the lead it returns.
func leadWrite(ctx context.Context, std streams, cf *clientFlags, wf *writeFlags, do func(ctx context.Context, c *client) (*pb.Lead, error)) error {
	c, err := cf.connect()
	if err != nil {
		return err
	}
	defer c.Close()
	var l *pb.Lead
	err = c.write(ctx, std, wf.retries, wf.id(), func(ctx context.Context) (err error) {
		l, err = do(ctx, c)
		return err
	})
	if err != nil {
		return err
	}
	if cf.json {
		return printJSON(std.out(), l)
	}
	return printLeads(std.out(), []*pb.Lead{l})
}

// readJSONFile reads the protojson message m from a file, or stdin for -.
func readJSONFile(std streams, name string, m *pb.SubmitLeadRequest) error {
	var b []byte
	var err error
	if name == "-" {
		b, err = io.ReadAll(std.in())
	} else {
		b, err = os.ReadFile(name)
	}
	if err != nil {
		return fmt.Errorf("read --file: %w", err)
	}
	if err := protojson.Unmarshal(b, m); err != nil {
		return fmt.Errorf("--file %s: %w", name, err)
	}
	return nil
}
