package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"innonet/cluster"
	"innonet/node"
)

// restoreCommand starts a new cluster from a backup file, offline.
type restoreCommand struct{}

func (c *restoreCommand) Run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("restore", flag.ContinueOnError)
	var cfg node.Config
	cfg.Cluster = cluster.DefaultConfig()
	backup := fs.String("backup", "", "backup file written by 'innonet backup' or GET /v1/backup (required)")
	fs.StringVar(&cfg.Site, "site", "", "site code of the first site of the new cluster (required)")
	fs.StringVar(&cfg.DataDir, "data-dir", "", "empty data directory for that site (required)")
	fs.StringVar(&cfg.Cluster.RaftAddr, "raft-addr", "127.0.0.1:7201", "the Raft address the site will serve on (give serve the same)")
	fs.StringVar(&cfg.Cluster.AdvertiseAddr, "raft-advertise", "", "Raft address other sites dial, if not --raft-addr (give serve the same)")
	check := fs.Bool("check", false, "only check the backup file and print what it holds")
	logLevel := fs.String("log-level", "warn", "log level: debug, info, warn, error")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), `Usage: innonet restore --backup FILE --site CODE --data-dir DIR --raft-addr ADDR
       innonet restore --backup FILE --check

Starts a NEW cluster from a backup: checks the file, creates a Raft group
in the empty data dir with this site as its only voter, and installs the
backup as the replicated state (leads, history, users and their tokens).
Then start the site with serve (same --site, --data-dir, --raft-addr; no
--bootstrap needed) and let the other sites join it with fresh data dirs.

Examples:
  innonet backup --addr 10.0.0.1:7101 --out innonet.backup      # while the old cluster runs
  innonet restore --backup innonet.backup --check
  innonet restore --backup innonet.backup --site CGO --data-dir /var/lib/innonet --raft-addr 10.0.0.1:7201
  innonet serve --site CGO --data-dir /var/lib/innonet --listen 10.0.0.1:7101 --raft-addr 10.0.0.1:7201

Flags:
`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *backup == "" {
		fs.Usage()
		return fmt.Errorf("--backup is required")
	}
	data, err := os.ReadFile(*backup)
	if err != nil {
		return fmt.Errorf("read backup: %w", err)
	}
	leads, users, applied, err := node.CheckBackup(data)
	if err != nil {
		return err
	}
	fmt.Printf("backup %s: %d leads, %d users, taken at log index %d\n", *backup, leads, users, applied)
	if *check {
		return nil
	}
	if cfg.Site == "" || cfg.DataDir == "" {
		fs.Usage()
		return fmt.Errorf("--site and --data-dir are required")
	}
	if cfg.Logger, err = newLogger(*logLevel); err != nil {
		return err
	}
	if err := cfg.Cluster.UseProfile("lan"); err != nil {
		return err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("create data dir: %w", err)
	}
	if err := node.Restore(ctx, cfg, data); err != nil {
		return err
	}
	fmt.Printf("restored into %s as site %s; now run:\n  innonet serve --site %s --data-dir %s --raft-addr %s --listen <api address>\n",
		cfg.DataDir, cfg.Site, cfg.Site, cfg.DataDir, cfg.Cluster.RaftAddr)
	return nil
}
