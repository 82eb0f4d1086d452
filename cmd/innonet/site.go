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

// siteCommand is `innonet site`: the site registry.
type siteCommand struct{ streams }

func (c *siteCommand) Run(ctx context.Context, args []string) error {
	return siteGroup.run(ctx, c.streams, args)
}

var siteGroup = group{
	name: "site",
	summary: `Shows and extends the site registry: the first-level sites (HQ's site,
the overseas nodes and the divisions' sites: the cluster's members) and
the second- and third-level nodes under the overseas nodes (partner
universities, institutes, companies, teams), whose staff submit leads
through their node. Users and leads may only name registered sites.`,
	subs: []subcommand{
		{"list", "list the sites and their sub-nodes", siteList},
		{"add", "register a second- or third-level node under a node (admin)", siteAdd},
	},
	examples: `  innonet site list
  INNONET_TOKEN=$(cat innonet-demo/admin.token) innonet site add MUC-TUM --parent MUC \
      --name "Technische Universität München" --kind university
  INNONET_TOKEN=$(cat innonet-demo/admin.token) innonet user add --name "Jonas Weber" --role node-staff --site MUC-TUM
`,
}

func siteList(ctx context.Context, std streams, args []string) error {
	f := newFlags(std, "site list", `Usage: innonet site list [flags]

Lists the registry as a tree: each first-level site (marked when it is a
member of the cluster) and, indented under it, its sub-nodes. A member
the leader has not registered yet is marked "not registered".

Examples:
  innonet site list
  innonet site list --json | jq -r '.sites[] | select(.code == "MUC") | .subnodes[].code'
`)
	cf := addClientFlags(f, defaultTimeout)
	rf := addReadFlags(f)
	if _, err := f.parse(args, 0, 0); err != nil {
		return err
	}
	c, err := cf.connect()
	if err != nil {
		return err
	}
	defer c.Close()
	var resp *pb.ListSitesResponse
	var header metadata.MD
	err = c.call(ctx, func(ctx context.Context) (err error) {
		resp, err = c.cluster.ListSites(ctx, &pb.ListSitesRequest{Consistency: rf.consistency, MaxStaleness: rf.staleness()}, grpc.Header(&header))
		return err
	})
	if err != nil {
		return err
	}
	resp.Read = readInfo(resp.Read, header)
	if cf.json {
		return printJSON(std.out(), resp)
	}
	if err := printSites(std.out(), resp.Sites); err != nil {
		return err
	}
	printReadInfo(std.errOut(), resp.Read)
	return nil
}

func siteAdd(ctx context.Context, std streams, args []string) error {
	f := newFlags(std, "site add", `Usage: innonet site add CODE --parent SITE --name NAME --kind KIND [flags]

Registers a second- or third-level node: a partner university,
institute, company or team that feeds leads through an overseas node.
Its CODE is the parent's code, a hyphen and 2 to 8 capital letters or
digits (MUC-TUM under MUC, MUC-TUM-LAB under MUC-TUM). Its staff
(innonet user add --site CODE) submit leads that take the node's IDs
(MUC-0007), record the sub-node, and are seen and managed by the node's
staff as well. Admins only.

Examples:
  innonet site add MUC-TUM --parent MUC --name "Technische Universität München" --kind university
  innonet site add MUC-TUM-LAB --parent MUC-TUM --name "TUM battery lab" --kind team
`)
	cf, wf := addClientFlags(f, defaultTimeout), addWriteFlags(f)
	req := &pb.CreateSiteRequest{}
	f.StringVar(&req.Parent, "parent", "", "the registered node or second-level node it belongs to, e.g. MUC (default: the code without its last part)")
	f.StringVar(&req.Name, "name", "", "its name (required)")
	f.Var(enumFlag(&req.Kind, subnodeKinds), "kind", "`KIND`: "+enumChoices(subnodeKinds)+" (required)")
	f.check(func() error {
		switch {
		case req.Name == "":
			return fmt.Errorf("--name is required")
		case req.Kind == pb.Site_KIND_UNSPECIFIED:
			return fmt.Errorf("--kind is required: %s", enumChoices(subnodeKinds))
		}
		return nil
	})
	pos, err := f.parse(args, 1, 1)
	if err != nil {
		return err
	}
	req.Code = strings.ToUpper(strings.TrimSpace(pos[0]))
	if req.Parent == "" {
		if i := strings.LastIndexByte(req.Code, '-'); i > 0 {
			req.Parent = req.Code[:i]
		}
	}
	req.Parent, req.RequestId = strings.ToUpper(req.Parent), wf.id()
	c, err := cf.connect()
	if err != nil {
		return err
	}
	defer c.Close()
	var s *pb.Site
	err = c.write(ctx, std, wf.retries, wf.id(), func(ctx context.Context) (err error) {
		s, err = c.cluster.CreateSite(ctx, req)
		return err
	})
	if err != nil {
		return err
	}
	if cf.json {
		return printJSON(std.out(), s)
	}
	return printSites(std.out(), []*pb.Site{s})
}

// subnodeKinds are the kinds a sub-node may have, as --kind takes them.
var subnodeKinds = func() map[string]int32 {
	m := map[string]int32{}
	for name, v := range pb.Site_Kind_value {
		if v >= int32(pb.Site_UNIVERSITY) {
			m[name] = v
		}
	}
	return m
}()

// printSites prints sites as a table, sub-nodes indented under their site.
func printSites(w io.Writer, sites []*pb.Site) error {
	t := newTable(w, "CODE", "KIND", "NAME", "MEMBER", "CREATED BY")
	var walk func(list []*pb.Site, depth int)
	walk = func(list []*pb.Site, depth int) {
		for _, s := range list {
			member := ""
			switch {
			case s.Level == 1 && !s.Registered:
				member = "yes (not registered)"
			case s.Level == 1:
				member = yesNo(s.Member)
			}
			t.row(strings.Repeat("  ", depth)+s.Code, enumText(s.Kind), s.Name, member, userText(s.CreatedByName, s.CreatedBy))
			walk(s.Subnodes, depth+1)
		}
	}
	walk(sites, 0)
	return t.flush()
}
