package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "innonet/proto/innonet/v1"
)

// This file holds `lead list` with its filters, and `lead translate`.

func leadList(ctx context.Context, std streams, args []string) error {
	f := newFlags(std, "lead list", `Usage: innonet lead list [filters] [--order-by ORDER] [--lang LANG] [--all] [flags]

Lists the leads you may see: HQ reviewers and admins see every lead, node
staff their own site's, divisions every lead HQ has approved. Every
filter given must hold. Ordered by ID unless --order-by says otherwise.
One page at a time (--page-size, --page-token), or every page with --all;
a page may hold fewer leads than asked for when the filters pass few
leads (the server examines at most 10,000 leads per page), and --all
goes on until the end. With --json the pages are printed as one
ListLeadsResponse.

Free text (-q): every word must appear in the title, summary,
organisation, tags or a translation, in any case; a word in Latin,
Greek or Cyrillic script matches the start of a word (hydro finds
hydrogen), one in Chinese, Japanese, Hebrew or Arabic matches anywhere.

With --lang the table shows each lead's title in that language beside
the original, where it has a translation.

Examples:
  innonet lead list --stage submitted --stage returned --order-by createTime
  innonet lead list --sector it-ai --country DE --trl-min 4 --trl-max 7
  innonet lead list -q "hydrogen storage" --submitted-after 2026-01-01 --order-by -updateTime
  innonet lead list -q 氢能 --lang zh
  innonet lead list --site BOS --all --json | jq -r '.leads[].id'
  INNONET_ADDR=127.0.0.1:7107 innonet lead list --division YRD --consistency stale --max-staleness 30s
`)
	cf := addClientFlags(f, defaultTimeout)
	rf := addReadFlags(f)
	req := &pb.ListLeadsRequest{}
	f.Var(enumListFlag(&req.Stage, pb.Stage_value), "stage", "only leads in `STAGE` (repeat, or separate with commas, for any of several): "+enumChoices(pb.Stage_value))
	f.StringVar(&req.Site, "site", "", "only leads submitted by `SITE` (BOS, CBG, MUC, TLV...)")
	f.StringVar(&req.Subnode, "subnode", "", "only leads of the sub-node `CODE` (MUC-TUM) and the sub-nodes under it")
	f.StringVar(&req.Division, "division", "", "only leads claimed by `DIVISION`: BOHAI, YRD or PRD")
	f.Var(enumFlag(&req.Sector, pb.Sector_value), "sector", "only leads of `SECTOR`: "+enumChoices(pb.Sector_value))
	f.StringVar(&req.Country, "country", "", "only leads whose organisation is in `COUNTRY` (ISO 3166-1 alpha-2: DE, US, IL, GB...)")
	f.Var(enumFlag(&req.DealType, pb.DealType_value), "deal-type", "only leads seeking a deal of `TYPE`: "+enumChoices(pb.DealType_value))
	trlMin := f.Int("trl-min", 0, "only leads at technology readiness level `N` or above (1 to 9)")
	trlMax := f.Int("trl-max", 0, "only leads at technology readiness level `N` or below (1 to 9)")
	f.Var(timeFlag{&req.SubmittedAfter}, "submitted-after", "only leads submitted at or after `TIME` (a date, 2026-01-31, or an RFC 3339 time)")
	f.Var(timeFlag{&req.SubmittedBefore}, "submitted-before", "only leads submitted before `TIME`")
	f.Var(timeFlag{&req.UpdatedAfter}, "updated-after", "only leads changed at or after `TIME`")
	f.StringVar(&req.Organization, "organization", "", "only leads whose organisation's name contains `TEXT` (any case)")
	f.StringVar(&req.Q, "q", "", "only leads whose text holds every word of `WORDS`")
	f.StringVar(&req.OrderBy, "order-by", "", "`ORDER`: id (the default), createTime, updateTime or stageTime; a leading - for newest first (-updateTime)")
	f.StringVar(&req.Lang, "lang", "", "read the leads in `LANG` (zh, en, de, he...): their translations into it, where they have one")
	pageSize := f.Int("page-size", 0, "leads per page, 1 to 500 (default 50)")
	f.StringVar(&req.PageToken, "page-token", "", "print the page after the one that ended with this token")
	all := f.Bool("all", false, "follow the pages to the end")
	if _, err := f.parse(args, 0, 0); err != nil {
		return err
	}
	req.TrlMin, req.TrlMax = int32(*trlMin), int32(*trlMax)
	req.PageSize, req.Consistency, req.MaxStaleness = int32(*pageSize), rf.consistency, rf.staleness()
	c, err := cf.connect()
	if err != nil {
		return err
	}
	defer c.Close()

	var out *pb.ListLeadsResponse
	var header metadata.MD
	for {
		var resp *pb.ListLeadsResponse
		header = nil
		err := c.call(ctx, func(ctx context.Context) (err error) {
			resp, err = c.leads.ListLeads(ctx, req, grpc.Header(&header))
			return err
		})
		if err != nil {
			return err
		}
		if out == nil {
			out = resp
		} else {
			out.Leads = append(out.Leads, resp.Leads...)
			out.NextPageToken, out.Read, out.Partial = resp.NextPageToken, resp.Read, resp.Partial
		}
		if !*all || resp.NextPageToken == "" {
			break
		}
		if resp.NextPageToken == req.PageToken {
			return fmt.Errorf("the server answered page token %q with itself", req.PageToken)
		}
		req.PageToken = resp.NextPageToken
	}
	out.Read = readInfo(out.Read, header)
	if cf.json {
		return printJSON(std.out(), out)
	}
	if req.Lang != "" {
		err = printLeadsIn(std.out(), out.Leads, req.Lang)
	} else {
		err = printLeads(std.out(), out.Leads)
	}
	if err != nil {
		return err
	}
	printReadInfo(std.errOut(), out.Read)
	if out.NextPageToken != "" {
		if out.Partial {
			fmt.Fprintln(std.errOut(), "this page stopped early: the server examined as many leads as one page may, and few passed the filters")
		}
		fmt.Fprintf(std.errOut(), "more leads: run again with --all, or with --page-token %s\n", out.NextPageToken)
	}
	return nil
}

// printLeadsIn prints leads as a table with their titles in lang beside
// the original.
func printLeadsIn(w io.Writer, leads []*pb.Lead, lang string) error {
	t := newTable(w, "ID", "STAGE", "SITE", "DIVISION", "SECTOR", "TRL", "UPDATED", "TITLE", "TITLE ("+strings.ToUpper(lang)+")")
	for _, l := range leads {
		sector := l.SectorLabel
		if sector == "" {
			sector = enumText(l.Sector)
		}
		t.row(l.Id, enumText(l.Stage), l.Site, l.Division, sector, fmt.Sprint(l.Trl),
			timeText(l.UpdateTime), clipText(l.Title, 50), clipText(translatedTitle(l), 50))
	}
	return t.flush()
}

// translatedTitle is a lead's title in the language read, marked with
// the translation's status; "" without one.
func translatedTitle(l *pb.Lead) string {
	tr := l.Translation
	if tr == nil || tr.Title == "" {
		return ""
	}
	mark := strings.ToLower(enumText(tr.Status))
	if tr.Outdated {
		mark += ", outdated"
	}
	return fmt.Sprintf("%s [%s %s]", tr.Title, tr.Lang, mark)
}

// printTranslation prints, after a lead, its translation into lang and
// the list of its translations.
func printTranslation(w io.Writer, l *pb.Lead, lang string) {
	if tr := l.Translation; tr != nil {
		who := tr.TranslatedByName
		if tr.VerifiedByName != "" {
			who += ", verified by " + tr.VerifiedByName
		}
		outdated := ""
		if tr.Outdated {
			outdated = "; the original changed since"
		}
		fmt.Fprintf(w, "Translation (%s, %s, by %s, %s%s):\n", tr.Lang, enumText(tr.Status), who, timeText(tr.TranslateTime), outdated)
		t := newTable(w)
		t.row("  Title:", tr.Title)
		if l.SectorLabel != "" || l.DealTypeLabel != "" {
			t.row("  Sector:", l.SectorLabel)
			t.row("  Deal type:", l.DealTypeLabel)
		}
		_ = t.flush()
		if tr.Summary != "" {
			fmt.Fprintln(w, "  Summary:")
			for _, line := range strings.Split(tr.Summary, "\n") {
				fmt.Fprintf(w, "    %s\n", strings.TrimRight(oneLine(line), " "))
			}
		}
	} else if lang != "" {
		fmt.Fprintf(w, "No translation into %s.\n", lang)
	}
	if len(l.Translations) > 0 {
		var list []string
		for _, tr := range l.Translations {
			s := tr.Lang + " " + strings.ToLower(enumText(tr.Status))
			if tr.Outdated {
				s += " (outdated)"
			}
			list = append(list, s)
		}
		fmt.Fprintf(w, "Translations: %s\n", strings.Join(list, ", "))
	}
}

func leadTranslate(ctx context.Context, std streams, args []string) error {
	f := newFlags(std, "lead translate", `Usage: innonet lead translate ID --lang LANG [--title TEXT] [--summary TEXT] [--verified] [flags]

Records the lead's title and summary in another language; the original
stays as it was written. One translation per language: this replaces
the one the lead has. It is a DRAFT unless --verified: HQ reviewers may
write and verify at once; anyone else verifies a translation someone
else wrote, as it stands (give its text unchanged, or only --verified
with --keep-text). Editing the text makes you its translator. HQ
reviewers, node staff of the lead's site and divisions that see it.

Examples:
  innonet lead translate MUC-0002 --lang zh --title "固态储氢罐" --summary "用于重型卡车的金属氢化物储氢罐。"
  INNONET_TOKEN=$HQ innonet lead translate MUC-0002 --lang zh --keep-text --verified
  innonet lead translate TLV-0001 --lang en --summary "A future-chain lab for ..." --json
`)
	cf, wf := addClientFlags(f, defaultTimeout), addWriteFlags(f)
	ev := addExpectedVersion(f)
	lang := f.String("lang", "", "the translation's language, a BCP 47 `TAG`: zh, en, de, he, zh-Hant... (required)")
	title := f.String("title", "", "the title in that language")
	summary := f.String("summary", "", "the summary in that language")
	verified := f.Bool("verified", false, "record the translation as VERIFIED (checked by a second person or HQ)")
	keep := f.Bool("keep-text", false, "keep the translation's current text (to verify it, or set it back to draft)")
	f.check(func() error {
		switch {
		case *lang == "":
			return fmt.Errorf("--lang is required: the translation's language (zh, en, de, he...)")
		case *keep && (f.isSet("title") || f.isSet("summary")):
			return fmt.Errorf("--keep-text excludes --title and --summary")
		case !*keep && *title == "" && *summary == "":
			return fmt.Errorf("give --title, --summary or both (or --keep-text)")
		}
		return nil
	})
	pos, err := f.parse(args, 1, 1)
	if err != nil {
		return err
	}
	req := &pb.TranslateLeadRequest{Id: leadID(pos[0]), Lang: *lang, RequestId: wf.id(), ExpectedVersion: *ev,
		Title: *title, Summary: *summary, Status: pb.TranslationStatus_DRAFT}
	if *verified {
		req.Status = pb.TranslationStatus_VERIFIED
	}
	c, err := cf.connect()
	if err != nil {
		return err
	}
	defer c.Close()
	if *keep {
		var cur *pb.Lead
		err := c.call(ctx, func(ctx context.Context) (err error) {
			cur, err = c.leads.GetLead(ctx, &pb.GetLeadRequest{Id: req.Id, Lang: req.Lang})
			return err
		})
		if err != nil {
			return err
		}
		if cur.Translation == nil || cur.Translation.Lang != canonicalTag(req.Lang) {
			return fmt.Errorf("lead %s has no translation into %s to keep", req.Id, req.Lang)
		}
		req.Title, req.Summary = cur.Translation.Title, cur.Translation.Summary
	}
	var l *pb.Lead
	err = c.write(ctx, std, wf.retries, wf.id(), func(ctx context.Context) (err error) {
		l, err = c.leads.TranslateLead(ctx, req)
		return err
	})
	if err != nil {
		return err
	}
	if cf.json {
		return printJSON(std.out(), l)
	}
	if err := printLeadsIn(std.out(), []*pb.Lead{l}, req.Lang); err != nil {
		return err
	}
	printTranslation(std.out(), l, "")
	return nil
}

// canonicalTag writes a BCP 47 tag in its canonical case, as the server
// does: zh-hant-tw is zh-Hant-TW.
func canonicalTag(tag string) string {
	parts := strings.Split(strings.TrimSpace(tag), "-")
	private := false
	for i, p := range parts {
		p = strings.ToLower(p)
		switch {
		case private || i == 0:
		case len(p) == 1:
			private = true
		case len(p) == 2:
			p = strings.ToUpper(p)
		case len(p) == 4:
			p = strings.ToUpper(p[:1]) + p[1:]
		}
		parts[i] = p
	}
	return strings.Join(parts, "-")
}

// timeFlag is a flag holding a time: a date (midnight UTC) or RFC 3339.
type timeFlag struct{ p **timestamppb.Timestamp }

func (t timeFlag) String() string {
	if t.p == nil || *t.p == nil {
		return ""
	}
	return (*t.p).AsTime().Format(time.RFC3339)
}

func (t timeFlag) Set(s string) error {
	s = strings.TrimSpace(s)
	v, err := time.Parse(time.DateOnly, s)
	if err != nil {
		if v, err = time.Parse(time.RFC3339Nano, s); err != nil {
			return fmt.Errorf("want a date (2026-01-31) or an RFC 3339 time (2026-01-31T09:30:00Z)")
		}
	}
	*t.p = timestamppb.New(v)
	return nil
}

// enumListValue is a repeatable flag of enum values, also comma-separated
// (--stage submitted,returned).
type enumListValue[E enum] struct {
	p      *[]E
	values map[string]int32
}

func enumListFlag[E enum](p *[]E, values map[string]int32) *enumListValue[E] {
	return &enumListValue[E]{p: p, values: values}
}

func (e *enumListValue[E]) String() string {
	if e == nil || e.p == nil {
		return ""
	}
	var names []string
	for _, v := range *e.p {
		names = append(names, enumArg(v))
	}
	return strings.Join(names, ",")
}

func (e *enumListValue[E]) Set(s string) error {
	for _, part := range strings.Split(s, ",") {
		var v E
		if err := enumFlag(&v, e.values).Set(part); err != nil {
			return err
		}
		*e.p = append(*e.p, v)
	}
	return nil
}
