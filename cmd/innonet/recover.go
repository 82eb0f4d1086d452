package main

import (
	"context"
	"flag"
	"fmt"
	"strings"

	"innonet/cluster"
	"innonet/node"
)

// recoverCommand rewrites a stopped site's Raft configuration after a
// permanent loss of quorum.
type recoverCommand struct{}

func (c *recoverCommand) Run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("recover", flag.ContinueOnError)
	var cfg node.Config
	cfg.Cluster = cluster.DefaultConfig()
	fs.StringVar(&cfg.Site, "site", "", "this site's code (required)")
	fs.StringVar(&cfg.DataDir, "data-dir", "", "this site's data directory; the site must be stopped (required)")
	membersFlag := fs.String("members", "", "the new group: SITE=RAFTADDR[:nonvoter],... listing every surviving site, this one included (required)")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn, error")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), `Usage: innonet recover --site CODE --data-dir DIR --members SITE=ADDR,...

Brings a network back after a majority of its voters is lost for good
(they will not come back, so no quorum can form). Stop every surviving site,
run recover on each with the SAME --members list (the survivors only),
then start them again with serve: they elect a leader among themselves.
Writes that no survivor had are lost; every write a survivor holds is kept.
Sites that were lost must not be restarted with their old data: wipe their
data dirs and --join them as new members.

This is a last resort: while a quorum exists, use 'innonet cluster remove'.

Examples:
  # CGO and BOS survive; MUC, CBG and TLV are gone for good
  innonet recover --site CGO --data-dir /var/lib/innonet --members CGO=10.0.0.1:7201,BOS=10.0.0.2:7201
  innonet recover --site BOS --data-dir /var/lib/innonet --members CGO=10.0.0.1:7201,BOS=10.0.0.2:7201
  # then start both with 'innonet serve' as before

Flags:
`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if cfg.Site == "" || cfg.DataDir == "" || *membersFlag == "" {
		fs.Usage()
		return fmt.Errorf("--site, --data-dir and --members are required")
	}
	members, err := parseMembers(*membersFlag)
	if err != nil {
		return err
	}
	for _, m := range members {
		if m.ID == cfg.Site {
			cfg.Cluster.RaftAddr = m.RaftAddr
		}
	}
	if cfg.Cluster.RaftAddr == "" {
		return fmt.Errorf("--members must include this site (%s)", cfg.Site)
	}
	if cfg.Logger, err = newLogger(*logLevel); err != nil {
		return err
	}
	if err := node.Recover(cfg, members); err != nil {
		return err
	}
	fmt.Printf("site %s now has the configuration %s; start it again with 'innonet serve'\n", cfg.Site, *membersFlag)
	return nil
}

// parseMembers reads SITE=HOST:PORT[:nonvoter],...
func parseMembers(s string) ([]cluster.Member, error) {
	var out []cluster.Member
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		site, addr, ok := strings.Cut(part, "=")
		if !ok || site == "" || addr == "" {
			return nil, fmt.Errorf("--members: %q is not SITE=HOST:PORT[:nonvoter]", part)
		}
		m := cluster.Member{ID: site, RaftAddr: addr, Voter: true}
		if a, ok := strings.CutSuffix(addr, ":nonvoter"); ok {
			m.RaftAddr, m.Voter = a, false
		}
		out = append(out, m)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("--members is empty")
	}
	return out, nil
}
