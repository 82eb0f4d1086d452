package main

import (
	"context"
	"errors"
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
	check := fs.Bool("check", false, "only check the backup file (its SHA-256, then its content) and print what it holds")
	var opts node.BackupOptions
	fs.BoolVar(&opts.AllowNoChecksum, "allow-no-checksum", false, "accept a backup without a SHA-256, as written by innonet before backups had one (its content cannot be verified)")
	logLevel := fs.String("log-level", "warn", "log level: debug, info, warn, error")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), `Usage: innonet restore --backup FILE --site CODE --data-dir DIR --raft-addr ADDR
       innonet restore --backup FILE --check

Starts a NEW cluster from a backup: checks the file (the SHA-256 that
closes it must match its content: a damaged or edited backup is
refused), creates a Raft group
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
	info, err := node.CheckBackup(data, opts)
	if err != nil {
		if errors.Is(err, node.ErrBackupNoChecksum) {
			return fmt.Errorf("backup %s: %w; if you trust the file, run again with --allow-no-checksum", *backup, err)
		}
		return fmt.Errorf("backup %s: %w", *backup, err)
	}
	sum := "SHA-256 " + info.SHA256 + " verified"
	if info.SHA256 == "" {
		sum = "no SHA-256 (not verified: accepted with --allow-no-checksum)"
	}
	fmt.Printf("backup %s: %d leads, %d users, taken at log index %d, %s\n", *backup, info.Leads, info.Users, info.Applied, sum)
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
	if err := node.Restore(ctx, cfg, data, opts); err != nil {
		return err
	}
	fmt.Printf("restored into %s as site %s; now run:\n  innonet serve --site %s --data-dir %s --raft-addr %s --listen <api address>\n",
		cfg.DataDir, cfg.Site, cfg.Site, cfg.DataDir, cfg.Cluster.RaftAddr)
	return nil
}
