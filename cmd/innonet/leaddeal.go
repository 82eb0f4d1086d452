package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	pb "innonet/proto/innonet/v1"
)

func leadDeal(ctx context.Context, std streams, args []string) error {
	f := newFlags(std, "lead deal", `Usage: innonet lead deal ID [--partner ORG-ID] [--amount N --currency CUR] [--jobs N]
                         [--signing DATE] [--landing DATE] [--next-step TEXT] [flags]

Records the deal terms of a CLAIMED, NEGOTIATING or SIGNED lead: the
partner enterprise (a local enterprise, innonet org list --kind
local-enterprise), the investment amount (a decimal number, no
separators) and its currency (ISO 4217), the jobs expected, the expected
signing and landing dates (YYYY-MM-DD) and the next step. The flags given
are set, an empty value clears a field, the others stay. Each change is a
DEAL event in the lead's history with the old and new values. The terms
are seen by the claiming division and HQ only; releasing the lead drops
them. The claiming division only.

Examples:
  INNONET_TOKEN=$YRD innonet lead deal MUC-0001 --partner org-0002 --amount 42000000 --currency CNY \
      --jobs 120 --signing 2027-01-15 --landing 2027-09-01 --next-step "Board meeting in Zhengzhou"
  INNONET_TOKEN=$YRD innonet lead deal MUC-0001 --jobs 150 --landing ""
`)
	cf, wf := addClientFlags(f, defaultTimeout), addWriteFlags(f)
	ev := addExpectedVersion(f)
	var partner, amount, currency, signing, landing, next string
	var jobs int
	f.StringVar(&partner, "partner", "", "the partner enterprise, an organisation `ID` of kind local-enterprise")
	f.StringVar(&amount, "amount", "", "the investment, a decimal `NUMBER` such as 42000000 or 1250000.50")
	f.StringVar(&currency, "currency", "", "the amount's ISO 4217 `CODE`: CNY, USD, EUR, GBP, ILS...")
	f.IntVar(&jobs, "jobs", 0, "jobs the project is expected to create (0 clears)")
	f.StringVar(&signing, "signing", "", "expected signing `DATE`, YYYY-MM-DD")
	f.StringVar(&landing, "landing", "", "expected landing `DATE`, YYYY-MM-DD")
	f.StringVar(&next, "next-step", "", "the next step, free text")
	pos, err := f.parse(args, 1, 1)
	if err != nil {
		return err
	}
	req := &pb.UpdateDealTermsRequest{Id: leadID(pos[0]), RequestId: wf.id(), ExpectedVersion: *ev}
	n := 0
	str := func(flag, v string, dst **string) {
		if f.isSet(flag) {
			*dst = &v
			n++
		}
	}
	str("partner", strings.ToLower(partner), &req.PartnerId)
	str("amount", amount, &req.Amount)
	str("currency", strings.ToUpper(currency), &req.Currency)
	str("signing", signing, &req.ExpectedSigningDate)
	str("landing", landing, &req.ExpectedLandingDate)
	str("next-step", next, &req.NextStep)
	if f.isSet("jobs") {
		j := int32(jobs)
		req.Jobs = &j
		n++
	}
	if n == 0 {
		return f.fail("nothing to change: give at least one of the deal terms")
	}
	c, err := cf.connect()
	if err != nil {
		return err
	}
	defer c.Close()
	var l *pb.Lead
	err = c.write(ctx, std, wf.retries, wf.id(), func(ctx context.Context) (err error) {
		l, err = c.leads.UpdateDealTerms(ctx, req)
		return err
	})
	if err != nil {
		return err
	}
	if cf.json {
		return printJSON(std.out(), l)
	}
	if err := printLeads(std.out(), []*pb.Lead{l}); err != nil {
		return err
	}
	return printDealTerms(std.out(), l)
}

// printDealTerms prints a lead's deal terms, or that it has terms the
// caller may not see.
func printDealTerms(w io.Writer, l *pb.Lead) error {
	d := l.DealTerms
	switch {
	case d == nil && l.HasDealTerms:
		fmt.Fprintln(w, "Deal terms:     recorded (shown to the claiming division and HQ only)")
		return nil
	case d == nil:
		return nil
	}
	amount := ""
	if d.Amount != "" {
		amount = d.Amount + " " + d.Currency
	} else if d.Currency != "" {
		amount = "(" + d.Currency + ")"
	}
	jobs := ""
	if d.Jobs != 0 {
		jobs = fmt.Sprint(d.Jobs)
	}
	fmt.Fprintln(w, "Deal terms:")
	t := newTable(w)
	for _, kv := range [][2]string{
		{"  Partner:", orgText(d.PartnerName, d.PartnerId)},
		{"  Investment:", amount},
		{"  Jobs:", jobs},
		{"  Signing:", d.ExpectedSigningDate},
		{"  Landing:", d.ExpectedLandingDate},
		{"  Next step:", d.NextStep},
		{"  Recorded:", strings.TrimSpace(d.Division + " " + timeText(d.UpdateTime) + " by " + userText(d.UpdatedByName, d.UpdatedBy))},
	} {
		t.row(kv[0], kv[1])
	}
	return t.flush()
}

// orgText shows an organisation: "Harbor Bio (org-0001)", or the free
// text of a lead that links none.
func orgText(name, id string) string {
	switch {
	case id == "":
		return name
	case name == "":
		return id
	}
	return name + " (" + id + ")"
}

// changesText shows the fields a history event changed, "field: old →
// new"; values withheld from the caller are shown as such.
func changesText(e *pb.HistoryEvent) string {
	parts := make([]string, 0, len(e.Changes))
	for _, c := range e.Changes {
		field := strings.TrimPrefix(c.Field, "dealTerms.")
		if e.ChangesWithheld && strings.HasPrefix(c.Field, "dealTerms.") {
			parts = append(parts, field+" (withheld)")
			continue
		}
		old, nw := c.Old, c.New
		if old == "" {
			old = "-"
		}
		if nw == "" {
			nw = "-"
		}
		parts = append(parts, field+": "+old+" → "+nw)
	}
	return clipText(strings.Join(parts, "; "), 120)
}
