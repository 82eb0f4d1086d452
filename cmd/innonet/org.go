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

// orgCommand is `innonet org`: organisations and local enterprises.
type orgCommand struct{ streams }

func (c *orgCommand) Run(ctx context.Context, args []string) error {
	return orgGroup.run(ctx, c.streams, args)
}

var orgGroup = group{
	name: "org",
	summary: `Works with organisations: the foreign startups, universities, institutes,
companies and investors behind leads, and the local enterprises the
divisions bring into deals. Node staff add foreign organisations, a
division its own local enterprises, HQ and admins any kind; everyone may
read them. Two organisations of one country may not share a name in any
spelling: link to the one that exists.`,
	subs: []subcommand{
		{"create", "add an organisation or a local enterprise", orgCreate},
		{"show", "show one organisation", orgShow},
		{"list", "list organisations, filtered by kind, country and name", orgList},
		{"update", "change an organisation's fields", orgUpdate},
	},
	examples: `  innonet org create --kind startup --name "Harbor Bio Therapeutics" --other-name 哈伯生物 --country US \
      --website https://harborbio.example --city Boston
  INNONET_TOKEN=$YRD innonet org create --kind local-enterprise --name 宇通客车 --name-en "Yutong Bus" \
      --city Zhengzhou --division YRD --looking-for "Battery and drive-train technology"
  innonet org list --q harbor
  innonet org list --kind local-enterprise --all --json | jq -r '.organizations[].name'
  innonet lead edit BOS-0003 --organization-id org-0001
`,
}

// orgFlags are an organisation's fields, as create and update take them.
type orgFlags struct {
	kind                                                       pb.Organization_Kind
	name, nameEN, country, website, city, division, lookingFor string
	otherNames                                                 listValue
}

func addOrgFlags(f *cmdFlags) *orgFlags {
	o := &orgFlags{}
	f.Var(enumFlag(&o.kind, pb.Organization_Kind_value), "kind", "`KIND`: "+enumChoices(pb.Organization_Kind_value))
	f.StringVar(&o.name, "name", "", "the name in the organisation's own script (a local enterprise's Chinese name)")
	f.StringVar(&o.nameEN, "name-en", "", "the English name, where the name is in another script")
	f.Var(&o.otherNames, "other-name", "another `NAME` or spelling, in any script; repeat the flag or separate with commas")
	f.StringVar(&o.country, "country", "", "ISO 3166-1 alpha-2 (US, DE, GB, IL...); a local enterprise is in CN")
	f.StringVar(&o.website, "website", "", "web address, https://...")
	f.StringVar(&o.city, "city", "", "city")
	f.StringVar(&o.division, "division", "", "for a local enterprise: the division that works with it, BOHAI, YRD or PRD")
	f.StringVar(&o.lookingFor, "looking-for", "", "for a local enterprise: what it looks for")
	return o
}

func orgCreate(ctx context.Context, std streams, args []string) error {
	f := newFlags(std, "org create", `Usage: innonet org create --kind KIND --name NAME [--country CC] [flags]

Adds an organisation and prints it with the ID the cluster gave it
(org-0001). A foreign organisation needs its country; a local enterprise
(--kind local-enterprise) names the division that works with it. A name
another organisation of the country already has is refused (ABORTED,
naming it): link leads to that one.

Examples:
  innonet org create --kind startup --name "Harbor Bio Therapeutics" --other-name "哈伯生物" --country US
  innonet org create --kind university --name "Technische Universität München" --name-en "Technical University of Munich" --country DE
  INNONET_TOKEN=$YRD innonet org create --kind local-enterprise --name 宇通客车 --name-en "Yutong Bus" --division YRD
`)
	cf, wf := addClientFlags(f, defaultTimeout), addWriteFlags(f)
	o := addOrgFlags(f)
	f.check(func() error {
		switch {
		case o.kind == pb.Organization_KIND_UNSPECIFIED:
			return fmt.Errorf("--kind is required: %s", enumChoices(pb.Organization_Kind_value))
		case o.name == "":
			return fmt.Errorf("--name is required")
		}
		return nil
	})
	if _, err := f.parse(args, 0, 0); err != nil {
		return err
	}
	req := &pb.CreateOrganizationRequest{RequestId: wf.id(), Kind: o.kind, Name: o.name, NameEn: o.nameEN,
		OtherNames: o.otherNames, Country: strings.ToUpper(o.country), Website: o.website, City: o.city,
		Division: strings.ToUpper(o.division), LookingFor: o.lookingFor}
	return orgWrite(ctx, std, cf, wf, func(ctx context.Context, c *client) (*pb.Organization, error) {
		return c.leads.CreateOrganization(ctx, req)
	})
}

func orgUpdate(ctx context.Context, std streams, args []string) error {
	f := newFlags(std, "org update", `Usage: innonet org update ID [--name NAME] [--website URL] ... [flags]

Changes the fields given (the same flags as org create); an empty value
clears an optional field, --other-name replaces the whole list. Who may
is as for org create, for the organisation as it is and as it becomes.

Examples:
  innonet org update org-0001 --website https://harbor.example --other-name "哈伯生物,Harbor Bio"
  INNONET_TOKEN=$YRD innonet org update org-0002 --looking-for "Hydrogen buses" --expected-version 1
`)
	cf, wf := addClientFlags(f, defaultTimeout), addWriteFlags(f)
	o := addOrgFlags(f)
	ev := f.Int64("expected-version", 0, "refuse the edit (ABORTED) unless the organisation is still at this `VERSION`")
	pos, err := f.parse(args, 1, 1)
	if err != nil {
		return err
	}
	req := &pb.UpdateOrganizationRequest{Id: strings.ToLower(pos[0]), RequestId: wf.id(), ExpectedVersion: *ev}
	n := 0
	str := func(flag string, v string, dst **string) {
		if f.isSet(flag) {
			*dst = &v
			n++
		}
	}
	str("name", o.name, &req.Name)
	str("name-en", o.nameEN, &req.NameEn)
	str("country", strings.ToUpper(o.country), &req.Country)
	str("website", o.website, &req.Website)
	str("city", o.city, &req.City)
	str("division", strings.ToUpper(o.division), &req.Division)
	str("looking-for", o.lookingFor, &req.LookingFor)
	if f.isSet("kind") {
		req.Kind = &o.kind
		n++
	}
	if f.isSet("other-name") {
		req.OtherNames = o.otherNames
		n++
	}
	if n == 0 {
		return f.fail("nothing to change: give at least one of the organisation's fields")
	}
	return orgWrite(ctx, std, cf, wf, func(ctx context.Context, c *client) (*pb.Organization, error) {
		return c.leads.UpdateOrganization(ctx, req)
	})
}

func orgShow(ctx context.Context, std streams, args []string) error {
	f := newFlags(std, "org show", `Usage: innonet org show ID [flags]

Shows one organisation with all its names.

Examples:
  innonet org show org-0001
  innonet org show org-0001 --json | jq -r .otherNames[]
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
	var o *pb.Organization
	err = c.call(ctx, func(ctx context.Context) (err error) {
		o, err = c.leads.GetOrganization(ctx, &pb.GetOrganizationRequest{Id: strings.ToLower(pos[0]), Consistency: rf.consistency, MaxStaleness: rf.staleness()})
		return err
	})
	if err != nil {
		return err
	}
	if cf.json {
		return printJSON(std.out(), o)
	}
	return printOrg(std.out(), o)
}

func orgList(ctx context.Context, std streams, args []string) error {
	f := newFlags(std, "org list", `Usage: innonet org list [--kind KIND] [--country CC] [--q WORDS] [--all] [flags]

Lists organisations in ID order: all, or those of a kind, of a country,
or one of whose names holds every word of --q (any script, without
regard to case or punctuation). One page at a time (--page-size,
--page-token), or every page with --all.

Examples:
  innonet org list --q "harbor bio"
  innonet org list --q 宇通
  innonet org list --kind local-enterprise --all
  innonet org list --country DE --json | jq -r '.organizations[].id'
`)
	cf := addClientFlags(f, defaultTimeout)
	rf := addReadFlags(f)
	req := &pb.ListOrganizationsRequest{}
	f.Var(enumFlag(&req.Kind, pb.Organization_Kind_value), "kind", "only organisations of `KIND`: "+enumChoices(pb.Organization_Kind_value))
	f.StringVar(&req.Country, "country", "", "only organisations of this country (ISO 3166-1 alpha-2)")
	f.StringVar(&req.Q, "q", "", "only organisations one of whose names holds every one of these `WORDS`")
	pageSize := f.Int("page-size", 0, "organisations per page, 1 to 500 (default 50)")
	f.StringVar(&req.PageToken, "page-token", "", "print the page after the one that ended with this token")
	all := f.Bool("all", false, "follow the pages to the end")
	if _, err := f.parse(args, 0, 0); err != nil {
		return err
	}
	req.PageSize, req.Consistency, req.MaxStaleness = int32(*pageSize), rf.consistency, rf.staleness()
	c, err := cf.connect()
	if err != nil {
		return err
	}
	defer c.Close()
	var out *pb.ListOrganizationsResponse
	var header metadata.MD
	for {
		var resp *pb.ListOrganizationsResponse
		header = nil
		err := c.call(ctx, func(ctx context.Context) (err error) {
			resp, err = c.leads.ListOrganizations(ctx, req, grpc.Header(&header))
			return err
		})
		if err != nil {
			return err
		}
		if out == nil {
			out = resp
		} else {
			out.Organizations = append(out.Organizations, resp.Organizations...)
			out.NextPageToken, out.Read = resp.NextPageToken, resp.Read
		}
		if !*all || resp.NextPageToken == "" || resp.NextPageToken == req.PageToken {
			break
		}
		req.PageToken = resp.NextPageToken
	}
	out.Read = readInfo(out.Read, header)
	if cf.json {
		return printJSON(std.out(), out)
	}
	if err := printOrgs(std.out(), out.Organizations); err != nil {
		return err
	}
	printReadInfo(std.errOut(), out.Read)
	if out.NextPageToken != "" {
		fmt.Fprintf(std.errOut(), "more organisations: run again with --all, or with --page-token %s\n", out.NextPageToken)
	}
	return nil
}

// orgWrite connects, makes the write (retrying UNAVAILABLE with the same
// request) and prints the organisation it returns.
func orgWrite(ctx context.Context, std streams, cf *clientFlags, wf *writeFlags, do func(ctx context.Context, c *client) (*pb.Organization, error)) error {
	c, err := cf.connect()
	if err != nil {
		return err
	}
	defer c.Close()
	var o *pb.Organization
	err = c.write(ctx, std, wf.retries, wf.id(), func(ctx context.Context) (err error) {
		o, err = do(ctx, c)
		return err
	})
	if err != nil {
		return err
	}
	if cf.json {
		return printJSON(std.out(), o)
	}
	return printOrgs(std.out(), []*pb.Organization{o})
}

// printOrgs prints organisations as a table, one per row.
func printOrgs(w io.Writer, orgs []*pb.Organization) error {
	t := newTable(w, "ID", "KIND", "COUNTRY", "DIVISION", "VERSION", "NAME", "OTHER NAMES")
	for _, o := range orgs {
		names := o.OtherNames
		if o.NameEn != "" {
			names = append([]string{o.NameEn}, names...)
		}
		t.row(o.Id, enumText(o.Kind), o.Country, o.Division, fmt.Sprint(o.Version), clipText(o.Name, 50), clipText(strings.Join(names, "; "), 60))
	}
	return t.flush()
}

// printOrg prints every field of one organisation.
func printOrg(w io.Writer, o *pb.Organization) error {
	t := newTable(w)
	for _, kv := range [][2]string{
		{"ID:", o.Id},
		{"Kind:", enumText(o.Kind)},
		{"Name:", o.Name},
		{"English name:", o.NameEn},
		{"Other names:", strings.Join(o.OtherNames, "; ")},
		{"Country:", o.Country},
		{"City:", o.City},
		{"Website:", o.Website},
		{"Division:", o.Division},
		{"Looking for:", o.LookingFor},
		{"Version:", fmt.Sprint(o.Version)},
		{"Created:", timeText(o.CreateTime) + " by " + userText(o.CreatedByName, o.CreatedBy)},
		{"Updated:", timeText(o.UpdateTime) + " by " + userText(o.UpdatedByName, o.UpdatedBy)},
	} {
		t.row(kv[0], kv[1])
	}
	return t.flush()
}
