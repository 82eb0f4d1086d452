package main

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	pb "innonet/proto/innonet/v1"
)

// glossaryCommand is `innonet glossary`: the network's sector terms in
// Chinese, English, German and Hebrew.
type glossaryCommand struct{ streams }

func (c *glossaryCommand) Run(ctx context.Context, args []string) error {
	return glossaryGroup.run(ctx, c.streams, args)
}

var glossaryGroup = group{
	name: "glossary",
	summary: `Shows and edits the glossary: how the network names its sector terms in
Chinese, English, German and Hebrew, so that translators use the same
words. Every sector and deal type is built in; HQ reviewers change their
names and add terms of their own, for every site at once.`,
	subs: []subcommand{
		{"list", "list every term and its names", glossaryList},
		{"set", "set a term's names, replacing the built-in ones or adding a term (HQ reviewer)", glossarySet},
		{"delete", "delete HQ's names of a term: a built-in term gets its own back (HQ reviewer)", glossaryDelete},
	},
	examples: `  innonet glossary list
  innonet glossary list --lang zh
  INNONET_TOKEN=$HQ innonet glossary set hydrogen --name zh=氢能 --name en=Hydrogen --name de=Wasserstoff --name he=מימן
  INNONET_TOKEN=$HQ innonet glossary set sector.it_ai --name zh=新一代信息技术 --name en="IT and AI"
  INNONET_TOKEN=$HQ innonet glossary delete sector.it_ai
`,
}

func glossaryList(ctx context.Context, std streams, args []string) error {
	f := newFlags(std, "glossary list", `Usage: innonet glossary list [--lang LANG] [flags]

Lists every term of the glossary, sorted: the built-in ones (sector.*,
deal_type.*), with HQ's changes, and HQ's own. The table has a column per
language (zh, en, de, he and any other a term has), or with --lang only
that one.

Examples:
  innonet glossary list
  innonet glossary list --lang de
  innonet glossary list --json | jq -r '.terms[] | [.term, .names.zh] | @tsv'
`)
	cf := addClientFlags(f, defaultTimeout)
	rf := addReadFlags(f)
	lang := f.String("lang", "", "show only the names in `LANG` (zh, en, de, he...)")
	if _, err := f.parse(args, 0, 0); err != nil {
		return err
	}
	c, err := cf.connect()
	if err != nil {
		return err
	}
	defer c.Close()
	var resp *pb.ListGlossaryResponse
	var header metadata.MD
	err = c.call(ctx, func(ctx context.Context) (err error) {
		resp, err = c.leads.ListGlossary(ctx, &pb.ListGlossaryRequest{Consistency: rf.consistency, MaxStaleness: rf.staleness()}, grpc.Header(&header))
		return err
	})
	if err != nil {
		return err
	}
	resp.Read = readInfo(resp.Read, header)
	if cf.json {
		return printJSON(std.out(), resp)
	}
	langs := []string{"zh", "en", "de", "he"}
	if *lang != "" {
		langs = []string{canonicalTag(*lang)}
	} else {
		for _, t := range resp.Terms {
			for tag := range t.Names {
				if !slices.Contains(langs, tag) {
					langs = append(langs, tag)
				}
			}
		}
		slices.Sort(langs[4:])
	}
	header2 := []string{"TERM"}
	for _, l := range langs {
		header2 = append(header2, strings.ToUpper(l))
	}
	t := newTable(std.out(), append(header2, "CHANGED BY")...)
	for _, term := range resp.Terms {
		row := []string{term.Term}
		for _, l := range langs {
			row = append(row, term.Names[l])
		}
		by := term.UpdatedByName
		if by == "" && term.BuiltIn {
			by = "(built in)"
		}
		t.row(append(row, by)...)
	}
	if err := t.flush(); err != nil {
		return err
	}
	printReadInfo(std.errOut(), resp.Read)
	return nil
}

func glossarySet(ctx context.Context, std streams, args []string) error {
	f := newFlags(std, "glossary set", `Usage: innonet glossary set TERM --name LANG=NAME [--name LANG=NAME]... [flags]

Sets a term's names, one --name per language; they replace every name
the term had (give them all). A built-in term (sector.it_ai,
deal_type.investment...) keeps HQ's names until they are deleted; any
other term is HQ's own: lower-case words joined by . _ or - (hydrogen,
cell-therapy). HQ reviewers only.

Examples:
  INNONET_TOKEN=$HQ innonet glossary set hydrogen --name zh=氢能 --name en=Hydrogen --name de=Wasserstoff --name he=מימן
  INNONET_TOKEN=$HQ innonet glossary set sector.new_materials --name zh=新材料 --name en="Advanced materials"
`)
	cf, wf := addClientFlags(f, defaultTimeout), addWriteFlags(f)
	names := nameList{}
	f.Var(names, "name", "the term's name in a language, `LANG=NAME` (zh=氢能); repeat for each language")
	f.check(func() error {
		if len(names) == 0 {
			return fmt.Errorf("give at least one --name LANG=NAME")
		}
		return nil
	})
	pos, err := f.parse(args, 1, 1)
	if err != nil {
		return err
	}
	req := &pb.SetGlossaryTermRequest{Term: strings.TrimSpace(pos[0]), RequestId: wf.id(), Names: names}
	return glossaryWrite(ctx, std, cf, wf, func(ctx context.Context, c *client) (*pb.GlossaryTerm, error) {
		return c.leads.SetGlossaryTerm(ctx, req)
	})
}

func glossaryDelete(ctx context.Context, std streams, args []string) error {
	f := newFlags(std, "glossary delete", `Usage: innonet glossary delete TERM [flags]

Deletes HQ's names of a term: a built-in term gets its built-in names
back, any other term is gone. HQ reviewers only.

Examples:
  INNONET_TOKEN=$HQ innonet glossary delete sector.it_ai
  INNONET_TOKEN=$HQ innonet glossary delete hydrogen --json
`)
	cf, wf := addClientFlags(f, defaultTimeout), addWriteFlags(f)
	pos, err := f.parse(args, 1, 1)
	if err != nil {
		return err
	}
	req := &pb.DeleteGlossaryTermRequest{Term: strings.TrimSpace(pos[0]), RequestId: wf.id()}
	return glossaryWrite(ctx, std, cf, wf, func(ctx context.Context, c *client) (*pb.GlossaryTerm, error) {
		return c.leads.DeleteGlossaryTerm(ctx, req)
	})
}

// glossaryWrite makes a glossary write (retrying UNAVAILABLE with the
// same request) and prints the term as it left it.
func glossaryWrite(ctx context.Context, std streams, cf *clientFlags, wf *writeFlags, do func(ctx context.Context, c *client) (*pb.GlossaryTerm, error)) error {
	c, err := cf.connect()
	if err != nil {
		return err
	}
	defer c.Close()
	var term *pb.GlossaryTerm
	err = c.write(ctx, std, wf.retries, wf.id(), func(ctx context.Context) (err error) {
		term, err = do(ctx, c)
		return err
	})
	if err != nil {
		return err
	}
	if cf.json {
		return printJSON(std.out(), term)
	}
	t := newTable(std.out(), "TERM", "LANG", "NAME")
	tags := slices.Sorted(func(yield func(string) bool) {
		for k := range term.Names {
			if !yield(k) {
				return
			}
		}
	})
	if len(tags) == 0 {
		t.row(term.Term, "-", "(deleted)")
	}
	for _, tag := range tags {
		t.row(term.Term, tag, term.Names[tag])
	}
	return t.flush()
}

// nameList is the repeatable --name LANG=NAME.
type nameList map[string]string

func (n nameList) String() string {
	var parts []string
	for k, v := range n {
		parts = append(parts, k+"="+v)
	}
	slices.Sort(parts)
	return strings.Join(parts, ",")
}

func (n nameList) Set(s string) error {
	lang, name, ok := strings.Cut(s, "=")
	lang = strings.TrimSpace(lang)
	if !ok || lang == "" || strings.TrimSpace(name) == "" {
		return fmt.Errorf("want LANG=NAME, e.g. zh=氢能")
	}
	if _, dup := n[canonicalTag(lang)]; dup {
		return fmt.Errorf("%s is given twice", lang)
	}
	n[canonicalTag(lang)] = name
	return nil
}
