package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	pb "innonet/proto/innonet/v1"
)

func clusterPlacement(ctx context.Context, std streams, args []string) error {
	f := newFlags(std, "cluster placement", `Usage: innonet cluster placement [--mode auto|manual] [--pin SITE] [--prefer SITES] [--exclude SITES] [flags]

Without flags, shows leader placement as the leader sees it: the mode and
preferences, the round-trip matrix every site measures, the expected
commit latency per write at each voter, and why the leader moved or
stays. With flags, replaces the replicated preferences (every flag not
given is cleared) and shows the result: --mode manual stops automatic
moves cluster-wide; --pin leads at one voter whenever it is healthy;
--prefer gives voters a bonus (the first the most); --exclude never leads
at the listed sites. Setting is for admins only.

Examples:
  innonet cluster placement
  innonet cluster placement --prefer MUC,CBG --exclude CGO
  innonet cluster placement --pin MUC
  innonet cluster placement --mode manual
`)
	cf := addClientFlags(f, defaultTimeout)
	var retries int
	addRetriesFlag(f, &retries, 5)
	req := &pb.SetLeaderPlacementRequest{}
	f.StringVar(&req.Mode, "mode", "auto", "auto or manual")
	pin := f.String("pin", "", "the voter to lead whenever it is healthy")
	prefer := f.String("prefer", "", "comma-separated voters to prefer, the first the most")
	exclude := f.String("exclude", "", "comma-separated sites never to lead")
	if _, err := f.parse(args, 0, 0); err != nil {
		return err
	}
	set := f.isSet("mode") || f.isSet("pin") || f.isSet("prefer") || f.isSet("exclude")
	if !set {
		c, err := cf.connect()
		if err != nil {
			return err
		}
		defer c.Close()
		var cl *pb.Cluster
		if err := c.call(ctx, func(ctx context.Context) (err error) {
			cl, err = c.cluster.GetCluster(ctx, &pb.GetClusterRequest{Consistency: pb.Consistency_LEADER})
			return err
		}); err != nil {
			return err
		}
		if cf.json {
			return printJSON(std.out(), cl.GetPlacement())
		}
		return printPlacement(std.out(), cl)
	}
	req.Pin, req.Prefer, req.Exclude = siteCode(*pin), siteCodes(*prefer), siteCodes(*exclude)
	c, err := cf.connect()
	if err != nil {
		return err
	}
	defer c.Close()
	var cl *pb.Cluster
	if err := c.write(ctx, std, retries, "", func(ctx context.Context) (err error) {
		cl, err = c.cluster.SetLeaderPlacement(ctx, req)
		return err
	}); err != nil {
		return err
	}
	if cf.json {
		return printJSON(std.out(), cl.GetPlacement())
	}
	return printPlacement(std.out(), cl)
}

func siteCodes(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = siteCode(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// printPlacement prints the preferences, the matrix (rows: the measuring
// site) and the estimates.
func printPlacement(w io.Writer, cl *pb.Cluster) error {
	p := cl.GetPlacement()
	fmt.Fprintf(w, "leader %s, placement %s", orNone(cl.Leader), p.GetMode())
	if p.GetPin() != "" {
		fmt.Fprintf(w, ", pinned to %s", p.Pin)
	}
	if len(p.GetPrefer()) > 0 {
		fmt.Fprintf(w, ", prefer %s", strings.Join(p.Prefer, ","))
	}
	if len(p.GetExclude()) > 0 {
		fmt.Fprintf(w, ", exclude %s", strings.Join(p.Exclude, ","))
	}
	fmt.Fprintln(w)
	var sites []string
	for _, r := range p.GetRtt() {
		sites = append(sites, r.Site)
	}
	if len(sites) > 0 {
		t := newTable(w, append([]string{"RTT FROM\\TO"}, sites...)...)
		for _, r := range p.GetRtt() {
			cells := []string{r.Site}
			for _, to := range sites {
				cell := "-"
				if to == r.Site {
					cell = "0"
				}
				for _, peer := range r.Peers {
					if peer.Site == to {
						cell = peer.Rtt.AsDuration().Round(100 * time.Microsecond).String()
					}
				}
				cells = append(cells, cell)
			}
			t.row(cells...)
		}
		if err := t.flush(); err != nil {
			return err
		}
	}
	if len(p.GetEstimates()) > 0 {
		t := newTable(w, "VOTER", "PER WRITE", "UNAVAILABLE")
		for _, e := range p.Estimates {
			per := "-"
			if e.PerWrite != nil {
				per = e.PerWrite.AsDuration().Round(100 * time.Microsecond).String()
			}
			t.row(e.Site, per, e.Unavailable)
		}
		if err := t.flush(); err != nil {
			return err
		}
	}
	if !p.GetKnown() {
		fmt.Fprintln(w, "estimates: unknown (only the leader's answer has them)")
	}
	if p.GetReason() != "" {
		fmt.Fprintf(w, "now: %s\n", p.Reason)
	}
	if mv := p.GetLastMove(); mv != nil {
		fmt.Fprintf(w, "last move: %s → %s at %s: %s", mv.From, mv.To, mv.Time.AsTime().UTC().Format(time.RFC3339), mv.Reason)
		if mv.Error != "" {
			fmt.Fprintf(w, " (failed: %s)", mv.Error)
		}
		fmt.Fprintln(w)
	}
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
