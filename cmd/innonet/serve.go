package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"

	"innonet/cluster"
	"innonet/node"
	"innonet/node/notify"
)

// serveCommand runs one site until interrupted.
type serveCommand struct{}

// raftFlags registers the Raft timing and compaction flags on fs, with the
// defaults of cfg, and returns a function that applies them (profile first,
// then any flag set explicitly).
func raftFlags(fs *flag.FlagSet, cfg *cluster.Config) func() error {
	profile := fs.String("raft-profile", "lan", "Raft timing profile: lan (one data centre), wan (sites on several continents: 5x the LAN timings), test")
	fs.DurationVar(&cfg.HeartbeatTimeout, "heartbeat-timeout", cfg.HeartbeatTimeout, "Raft heartbeat timeout (overrides the profile)")
	fs.DurationVar(&cfg.ElectionTimeout, "election-timeout", cfg.ElectionTimeout, "Raft election timeout (overrides the profile)")
	fs.DurationVar(&cfg.LeaderLeaseTimeout, "leader-lease-timeout", cfg.LeaderLeaseTimeout, "Raft leader lease timeout (overrides the profile)")
	fs.DurationVar(&cfg.CommitTimeout, "commit-timeout", cfg.CommitTimeout, "Raft commit timeout")
	fs.DurationVar(&cfg.ApplyTimeout, "apply-timeout", cfg.ApplyTimeout, "how long a write waits for a quorum before failing with UNAVAILABLE (overrides the profile)")
	fs.DurationVar(&cfg.SnapshotInterval, "snapshot-interval", cfg.SnapshotInterval, "how often to check whether to snapshot and compact the log")
	fs.Uint64Var(&cfg.SnapshotThreshold, "snapshot-threshold", cfg.SnapshotThreshold, "log entries since the last snapshot that trigger a new one")
	fs.Uint64Var(&cfg.TrailingLogs, "trailing-logs", cfg.TrailingLogs, "log entries kept after a snapshot so lagging sites catch up without one")
	fs.StringVar(&cfg.RaftLogLevel, "raft-log-level", cfg.RaftLogLevel, "Raft library log level: off, error, warn, info, debug (written into this site's log)")
	fs.DurationVar(&cfg.StabilizationTime, "stabilization-time", cfg.StabilizationTime, "how long a joining voter must be healthy before it is promoted (overrides the profile)")
	fs.DurationVar(&cfg.LastContactThreshold, "last-contact-threshold", cfg.LastContactThreshold, "a member that has not heard from the leader for longer is unhealthy (overrides the profile)")
	fs.DurationVar(&cfg.DeadSiteTimeout, "dead-site-timeout", cfg.DeadSiteTimeout, "remove a member the leader cannot reach for this long, if quorum allows (0: never)")
	fs.UintVar(&cfg.MinQuorum, "min-quorum", cfg.MinQuorum, "never remove dead voters below this many voters")
	fs.DurationVar(&cfg.MaxClockSkew, "max-clock-skew", cfg.MaxClockSkew, "a member's clock further than this from the leader's is reported (CLOCK_SKEW), and a leader this far ahead of most voters hands leadership over (0: no check; default from the profile: 500ms lan, 2s wan)")
	fs.DurationVar(&cfg.CheckpointInterval, "checkpoint-interval", cfg.CheckpointInterval, "how often the leader commits a state checkpoint at which every site digests its state and the digests are compared (0: never; default from the profile: 5m)")
	placement := fs.String("leader-placement", "auto", "auto: the leader moves itself to the voter where the observed writes commit fastest (with hysteresis and a dwell from the profile); manual: leadership moves only when an operator moves it (see innonet cluster placement)")
	fs.DurationVar(&cfg.PlacementDwell, "placement-dwell", cfg.PlacementDwell, "how long a leader leads before placement may move it (overrides the profile: 60s lan, 45s wan)")
	return func() error {
		switch *placement {
		case "auto":
		case "manual":
			cfg.PlacementManual = true
		default:
			return fmt.Errorf("--leader-placement %q: want auto or manual", *placement)
		}
		explicit := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { explicit[f.Name] = true })
		base := *cfg
		if err := cfg.UseProfile(*profile); err != nil {
			return err
		}
		// Flags given on the command line win over the profile.
		if explicit["heartbeat-timeout"] {
			cfg.HeartbeatTimeout = base.HeartbeatTimeout
		}
		if explicit["election-timeout"] {
			cfg.ElectionTimeout = base.ElectionTimeout
		}
		if explicit["leader-lease-timeout"] {
			cfg.LeaderLeaseTimeout = base.LeaderLeaseTimeout
		}
		if explicit["apply-timeout"] {
			cfg.ApplyTimeout = base.ApplyTimeout
		}
		if explicit["commit-timeout"] {
			cfg.CommitTimeout = base.CommitTimeout
		}
		if explicit["stabilization-time"] {
			cfg.StabilizationTime = base.StabilizationTime
		}
		if explicit["last-contact-threshold"] {
			cfg.LastContactThreshold = base.LastContactThreshold
		}
		if explicit["max-clock-skew"] {
			cfg.MaxClockSkew = base.MaxClockSkew
		}
		if explicit["checkpoint-interval"] {
			cfg.CheckpointInterval = base.CheckpointInterval
		}
		if explicit["placement-dwell"] {
			cfg.PlacementDwell = base.PlacementDwell
		}
		return nil
	}
}

func (c *serveCommand) Run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	var cfg node.Config
	cfg.Cluster = cluster.DefaultConfig()
	fs.StringVar(&cfg.Site, "site", "", "site code, e.g. CGO, BOS, CBG, MUC, TLV, BOHAI, YRD, PRD (required)")
	fs.StringVar(&cfg.DataDir, "data-dir", "", "directory for this site's Raft log, stable store and snapshots (required)")
	fs.StringVar(&cfg.Listen, "listen", "127.0.0.1:7101", "address serving gRPC and REST")
	fs.StringVar(&cfg.APIAdvertise, "api-advertise", "", "API address other sites forward to (default: the bound --listen address)")
	fs.StringVar(&cfg.Cluster.RaftAddr, "raft-addr", "127.0.0.1:7201", "address for Raft traffic between sites")
	fs.StringVar(&cfg.Cluster.AdvertiseAddr, "raft-advertise", "", "Raft address other sites dial (default: the bound --raft-addr)")
	fs.BoolVar(&cfg.Bootstrap, "bootstrap", false, "start a new cluster with this site as its first voter (ignored when the data dir has state)")
	fs.StringVar(&cfg.Join, "join", "", "API address (--listen) of any member to join through")
	fs.BoolVar(&cfg.NonVoter, "nonvoter", false, "join as a non-voting read replica (the divisions' sites)")
	tokenFile := fs.String("admin-token-file", "", "file holding the admin token (default: $INNONET_ADMIN_TOKEN); the bootstrapping site records it as the first admin, a joining site presents it")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn, error")
	logFormat := fs.String("log-format", "text", "log format: text or json (one object per line)")
	applyRaft := raftFlags(fs, &cfg.Cluster)
	tf := addTLSFlags(fs)
	lim := node.DefaultLimits()
	fs.Float64Var(&lim.TokenRate, "rate-limit", lim.TokenRate, "requests per second one token may make (beyond: RESOURCE_EXHAUSTED / HTTP 429)")
	fs.IntVar(&lim.TokenBurst, "rate-burst", lim.TokenBurst, "burst of requests one token may make above --rate-limit")
	fs.IntVar(&lim.AuthFailures, "auth-failures", lim.AuthFailures, "failed authentications with one token from one address within a minute before that token is blocked there; as many different tokens (or three times as many failures) block the address (for a minute, doubling on repeats)")
	fs.Float64Var(&lim.AuthGlobalRate, "auth-failures-global", lim.AuthGlobalRate, "failed authentications per second at this site across all addresses (in bursts of ten seconds' worth) before it takes only tokens it holds valid, for 30s")
	fs.Int64Var(&lim.MaxBodyBytes, "max-request-bytes", lim.MaxBodyBytes, "largest REST request body and gRPC request message")
	fs.Int64Var(&cfg.MaxAttachmentBytes, "max-attachment-bytes", node.DefaultMaxAttachmentBytes,
		"largest attachment this site takes in an upload, a limit of its own apart from --max-request-bytes (at most 1 GiB); the bytes are kept in <data-dir>/attachments")
	fs.DurationVar(&cfg.RequestIDRetention, "request-id-retention", node.DefaultRequestIDRetention,
		"how long the cluster remembers an applied request ID, so that a retry returns the first outcome (the leader forgets older ones; give every site the same)")
	fs.BoolVar(&cfg.MetricsPublic, "metrics-public", false, "serve /metrics to anyone (default: an ADMIN token or a site certificate is required)")
	fs.BoolVar(&cfg.Pprof, "pprof", false, "serve Go's runtime profiles (CPU, heap, goroutines) under /debug/pprof/ to an ADMIN token or a site certificate, as /metrics")
	fs.DurationVar(&cfg.MaxAuthStaleness, "max-auth-staleness", node.DefaultMaxAuthStaleness, "a site that has not heard from the leader for longer does not judge tokens by its own copy of the users: the leader does, or the request is refused (UNAVAILABLE); negative: no bound")
	fs.StringVar(&cfg.ConsoleURL, "console-url", "", "the console's address as people reach it (https://innonet.example.org), for the links of notifications; default: this site's --listen address")
	smtpAddr := fs.String("smtp-addr", "", "SMTP relay (host:port) the leader sends e-mail notifications through; none: no e-mail (the inbox still works)")
	smtpFrom := fs.String("smtp-from", "", "the From address of e-mail notifications (innonet@example.org)")
	smtpUser := fs.String("smtp-user", "", "user name for the SMTP relay (AUTH PLAIN, only over TLS)")
	smtpPasswordFile := fs.String("smtp-password-file", "", "file holding the SMTP password (or set INNONET_SMTP_PASSWORD)")
	smtpStartTLS := fs.Bool("smtp-starttls", true, "upgrade the SMTP connection with STARTTLS; false: plain SMTP, for a relay on the same host (port 25)")
	topology := fs.String("topology", node.FormatTopology(node.DefaultTopology),
		"the first-level sites this site registers in the site registry when it leads, besides every member: CODE=KIND:NAME entries (KIND hq, node or division) separated by ';', or none")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), `Usage: innonet serve --site CODE --data-dir DIR [flags]

Runs one site. The first site starts with --bootstrap; every other site
starts with --join pointing at any member's --listen address, as a voter or,
with --nonvoter, as a read replica. A joining voter serves as a non-voter
until it has been healthy for --stabilization-time. Restart a site with the
same flags and data dir to resume. On SIGTERM or Ctrl-C a leader hands
leadership to another voter before it exits.

The API port also serves /healthz (alive), /readyz (has a leader, is a
member, has caught up), /metrics (Prometheus; an ADMIN token or a site
certificate, unless --metrics-public) and the gRPC health service.

Every network path uses TLS: the API (gRPC and REST) with the site's
certificate, and traffic between sites with mutual TLS, where each site's
certificate (signed by the cluster CA) names its site code. Create the
certificates with 'innonet certs'. Certificates are reloaded on SIGHUP and
when the files change. --insecure runs plaintext, for development only.

Environment:
  INNONET_ADMIN_TOKEN   the admin token (unless --admin-token-file is given)

Examples:
  innonet certs --dir ./certs --sites CGO,BOS,YRD
  innonet serve --site CGO --data-dir ./cgo --tls-dir ./certs --listen 127.0.0.1:7101 --raft-addr 127.0.0.1:7201 --bootstrap
  innonet serve --site BOS --data-dir ./bos --tls-dir ./certs --listen 127.0.0.1:7102 --raft-addr 127.0.0.1:7202 --join 127.0.0.1:7101
  innonet serve --site YRD --data-dir ./yrd --tls-dir ./certs --listen 127.0.0.1:7107 --raft-addr 127.0.0.1:7207 --join 127.0.0.1:7101 --nonvoter --raft-profile wan
  innonet serve --site CGO --data-dir ./dev --insecure --bootstrap     # plaintext, development only

Flags:
`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if cfg.Site == "" || cfg.DataDir == "" {
		fs.Usage()
		return fmt.Errorf("--site and --data-dir are required")
	}
	if cfg.Bootstrap && cfg.Join != "" {
		return fmt.Errorf("--bootstrap and --join exclude each other")
	}
	if err := applyRaft(); err != nil {
		return err
	}
	sites, err := node.ParseTopology(*topology)
	if err != nil {
		return fmt.Errorf("--topology: %w", err)
	}
	cfg.Topology = sites
	if *smtpAddr != "" {
		if *smtpFrom == "" {
			return fmt.Errorf("--smtp-from is required with --smtp-addr")
		}
		password := os.Getenv("INNONET_SMTP_PASSWORD")
		if *smtpPasswordFile != "" {
			b, err := os.ReadFile(*smtpPasswordFile)
			if err != nil {
				return fmt.Errorf("--smtp-password-file: %w", err)
			}
			password = strings.TrimSpace(string(b))
		}
		cfg.Mailer = &notify.Mailer{Addr: *smtpAddr, From: *smtpFrom, Username: *smtpUser, Password: password, StartTLS: *smtpStartTLS}
	}
	log, err := newLoggerFormat(*logLevel, *logFormat)
	if err != nil {
		return err
	}
	cfg.Logger = log
	if cfg.AdminToken, err = adminToken(*tokenFile); err != nil {
		return err
	}
	if cfg.Join != "" && cfg.AdminToken == "" {
		return fmt.Errorf("joining needs the admin token: set INNONET_ADMIN_TOKEN or --admin-token-file")
	}
	if cfg.Bootstrap && cfg.AdminToken == "" {
		log.Warn("bootstrapping without an admin token: no one will be able to add users; set INNONET_ADMIN_TOKEN")
	}
	lim.MaxRecvMsgSize = int(lim.MaxBodyBytes)
	cfg.Limits = lim
	store, err := tf.load(cfg.Site, log)
	if err != nil {
		return err
	}
	if store != nil {
		cfg.TLS = store
		tf.watch(ctx, store, log)
	}
	if cfg.Cluster.Dial, err = tf.dialer(); err != nil {
		return err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("create data dir: %w", err)
	}
	n, err := node.New(cfg)
	if err != nil {
		return err
	}
	<-ctx.Done()
	log.Info("shutting down")
	return n.Close()
}
