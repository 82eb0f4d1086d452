package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	pb "innonet/proto/innonet/v1"
)

// defaultTimeout bounds one request of a client command. It exceeds the
// apply timeout of the lan profile, so a write that waits for a quorum
// fails with the server's UNAVAILABLE (and is retried) rather than the
// client's DEADLINE_EXCEEDED.
const defaultTimeout = 30 * time.Second

// leadCommand is `innonet lead`: the pipeline's everyday work.
type leadCommand struct{ streams }

func (c *leadCommand) Run(ctx context.Context, args []string) error {
	return leadGroup.run(ctx, c.streams, args)
}

var leadGroup = group{
	name: "lead",
	summary: `Works with leads: technology projects that overseas sites submit, HQ
reviews, and a division claims and works to a landed project.`,
	subs: []subcommand{
		{"submit", "submit a lead (node staff)", leadSubmit},
		{"list", "list the leads you may see, filtered and paged", leadList},
		{"show", "show one lead", leadShow},
		{"edit", "edit a submitted or returned lead; editing a returned lead resubmits it (node staff)", leadEdit},
		{"review", "approve, return or decline a submitted lead (HQ reviewer)", leadReview},
		{"claim", "claim an approved lead for your division (division)", leadClaim},
		{"release", "hand a claimed lead back (the claiming division or HQ)", leadRelease},
		{"advance", "move a claimed lead on: negotiating, signed, landed (the claiming division)", leadAdvance},
		{"withdraw", "withdraw a submitted, returned or approved lead (node staff)", leadWithdraw},
		{"history", "show every change applied to a lead", leadHistory},
		{"close", "close a claimed deal that fell through as lost, with a reason (the holding division or HQ)", leadClose},
		{"reopen", "reopen a declined or lost lead for review or for the divisions (HQ reviewer)", leadReopen},
		{"interest", "say why your division wants an approved lead, or revise it (division)", leadInterest},
		{"withdraw-interest", "withdraw your division's interest in a lead (division)", leadWithdrawInterest},
		{"interests", "list the divisions' interests in a lead with their outcome", leadInterests},
		{"assign", "give an approved lead to a division (HQ reviewer)", leadAssign},
		{"claim-mode", "set whether a lead is claimed (open) or assigned by HQ (HQ reviewer)", leadClaimMode},
		{"default-claim-mode", "show or set the claim mode leads get when approved", leadDefaultClaimMode},
		{"comment", "post to a lead's thread, for everyone, HQ and the site, or a division and HQ", leadComment},
		{"comments", "show a lead's thread as far as you may read it", leadComments},
		{"deal", "record the deal terms of a claimed lead: partner, amount, jobs, dates, next step (the claiming division)", leadDeal},
		{"translate", "record a lead's title and summary in another language, as a draft or verified", leadTranslate},
	},
	examples: `  export INNONET_ADDR=127.0.0.1:7102 INNONET_TOKEN=<Boston node staff token>
  innonet lead submit --title "mRNA vaccine platform" --summary "Thermostable mRNA formulation." \
      --organization "Longwood Vaccines" --country US --sector life-sciences-health --trl 5 \
      --deal-type technology-licensing --tag mRNA --contact "Dr. Ana Ruiz <ana@longwood.example>"
  INNONET_TOKEN=$HQ innonet lead review BOS-0003 --decision approve
  INNONET_TOKEN=$YRD innonet lead claim BOS-0003
  INNONET_TOKEN=$YRD innonet lead advance BOS-0003 --to negotiating --note "Meeting in Suzhou"
  innonet lead list --stage approved --all --json
  innonet lead list --sector it-ai --country de -q wasserstoff --order-by -updateTime
  innonet lead history BOS-0003
  INNONET_TOKEN=$YRD innonet lead interest BOS-0004 --rationale "Suzhou cluster" --enterprise "Suzhou BioBay"
  INNONET_TOKEN=$HQ innonet lead assign BOS-0004 --division YRD
  INNONET_TOKEN=$YRD innonet lead close BOS-0004 --reason terms-not-agreed --comment "They asked for 60M"
  innonet lead translate MUC-0002 --lang zh --title "固态氢储存" --summary "…"
  innonet lead show MUC-0002 --lang zh
`,
}

func leadShow(ctx context.Context, std streams, args []string) error {
	f := newFlags(std, "lead show", `Usage: innonet lead show ID [flags]

Shows one lead. With --lang, also its translation into that language,
when it has one, marked as such (status, translator), with the original
above it, and the sector and deal type as the glossary names them. With
--json it prints {"lead": <the lead>, "read": <who answered>}.

Examples:
  innonet lead show BOS-0003
  innonet lead show MUC-0002 --lang zh
  innonet lead show BOS-0003 --json | jq -r .lead.stage
  INNONET_ADDR=127.0.0.1:7107 innonet lead show BOS-0003 --consistency stale
`)
	cf := addClientFlags(f, defaultTimeout)
	rf := addReadFlags(f)
	lang := f.String("lang", "", "also show the translation into `LANG` (a BCP 47 tag: zh, en, de, he...)")
	pos, err := f.parse(args, 1, 1)
	if err != nil {
		return err
	}
	c, err := cf.connect()
	if err != nil {
		return err
	}
	defer c.Close()
	var l *pb.Lead
	var header metadata.MD
	err = c.call(ctx, func(ctx context.Context) (err error) {
		l, err = c.leads.GetLead(ctx, &pb.GetLeadRequest{Id: leadID(pos[0]), Consistency: rf.consistency,
			MaxStaleness: rf.staleness(), Lang: *lang}, grpc.Header(&header))
		return err
	})
	if err != nil {
		return err
	}
	ri := readInfo(nil, header)
	if cf.json {
		return printJSONFields(std.out(), jsonField{"lead", l}, jsonField{"read", ri})
	}
	if err := printLead(std.out(), l); err != nil {
		return err
	}
	printTranslation(std.out(), l, *lang)
	printReadInfo(std.errOut(), ri)
	return nil
}

func leadHistory(ctx context.Context, std streams, args []string) error {
	f := newFlags(std, "lead history", `Usage: innonet lead history ID [flags]

Shows every change applied to a lead, in order: the audit trail, with
the fields each changed (old → new). A note you may not read (a division's,
when you are not that division or HQ) shows as such. --json adds each
change's log index and request ID.

Examples:
  innonet lead history BOS-0003
  innonet lead history BOS-0003 --json | jq -r '.events[] | [.seq, .action, .userName] | @tsv'
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
	var resp *pb.GetLeadHistoryResponse
	var header metadata.MD
	err = c.call(ctx, func(ctx context.Context) (err error) {
		resp, err = c.leads.GetLeadHistory(ctx, &pb.GetLeadHistoryRequest{Id: leadID(pos[0]), Consistency: rf.consistency,
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
	t := newTable(std.out(), "SEQ", "TIME", "ACTION", "STAGE", "USER", "ROLE", "USER SITE", "VIA", "VERSION", "COMMENT", "CHANGES")
	for _, e := range resp.Events {
		stage := enumText(e.ToStage)
		if e.FromStage != e.ToStage {
			stage = enumText(e.FromStage) + "→" + stage
		}
		t.row(fmt.Sprint(e.Seq), timeText(e.Time), e.Action, stage, userText(e.UserName, e.UserId), enumText(e.Role), e.UserSite,
			e.OriginSite, fmt.Sprint(e.Version), commentText(e), changesText(e))
	}
	if err := t.flush(); err != nil {
		return err
	}
	printReadInfo(std.errOut(), resp.Read)
	return nil
}

// stageCommentText is the lead's stage comment, or says it is hidden.
func stageCommentText(l *pb.Lead) string {
	if l.StageCommentHidden {
		return "(a note for " + visibilityText(l.StageCommentVisibility, l.Division) + ")"
	}
	return l.StageComment
}

// leadID normalizes a lead ID typed on the command line (bos-0003).
func leadID(s string) string { return strings.ToUpper(strings.TrimSpace(s)) }

// printLeads prints leads as a table, one per row.
func printLeads(w io.Writer, leads []*pb.Lead) error {
	t := newTable(w, "ID", "STAGE", "SITE", "DIVISION", "SECTOR", "TRL", "VERSION", "UPDATED", "TITLE")
	for _, l := range leads {
		site := l.Site
		if l.Subnode != "" {
			site = l.Subnode // the sub-node's code begins with the site's
		}
		t.row(l.Id, enumText(l.Stage), site, l.Division, enumText(l.Sector), fmt.Sprint(l.Trl),
			fmt.Sprint(l.Version), timeText(l.UpdateTime), clipText(l.Title, 60))
	}
	return t.flush()
}

// printLead prints every field of one lead, the summary last.
func printLead(w io.Writer, l *pb.Lead) error {
	contacts := make([]string, len(l.Contacts))
	for i, c := range l.Contacts {
		contacts[i] = contactText(c)
	}
	t := newTable(w)
	for _, kv := range [][2]string{
		{"ID:", l.Id},
		{"Title:", l.Title},
		{"Stage:", enumText(l.Stage) + " since " + timeText(l.StageTime)},
		{"Stage comment:", stageCommentText(l)},
		{"Claim mode:", enumText(l.ClaimMode)},
		{"Close reason:", enumText(l.CloseReason)},
		{"Version:", fmt.Sprint(l.Version)},
		{"Site:", l.Site},
		{"Sub-node:", l.Subnode},
		{"Submitted by:", userText(l.SubmittedByName, l.SubmittedBy)},
		{"Division:", l.Division},
		{"Organization:", orgText(l.Organization, l.OrganizationId)},
		{"Country:", l.Country},
		{"Sector:", enumText(l.Sector)},
		{"TRL:", fmt.Sprint(l.Trl)},
		{"Deal type:", enumText(l.DealType)},
		{"Tags:", strings.Join(l.Tags, ", ")},
		{"Contacts:", strings.Join(contacts, "; ")},
		{"Language:", l.Language},
		{"Created:", timeText(l.CreateTime)},
		{"Updated:", timeText(l.UpdateTime)},
	} {
		t.row(kv[0], kv[1])
	}
	if err := t.flush(); err != nil {
		return err
	}
	if err := printDealTerms(w, l); err != nil {
		return err
	}
	fmt.Fprintln(w, "Summary:")
	for _, line := range strings.Split(l.Summary, "\n") {
		fmt.Fprintf(w, "  %s\n", strings.TrimRight(oneLine(line), " "))
	}
	return nil
}
