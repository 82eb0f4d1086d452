// Command innonet runs a site of the innonet deal-flow network, or the whole
// default network on one machine for a demo, and is the client for
// everyday work and operations against any site.
//
//	innonet serve --site BOS --data-dir DIR --listen ADDR --raft-addr ADDR [--bootstrap | --join ADDR] [--nonvoter]
//	innonet demo  [--dir ./innonet-demo]
//	innonet restore --backup FILE --site CGO --data-dir DIR --raft-addr ADDR
//	innonet recover --site CGO --data-dir DIR --members CGO=ADDR,BOS=ADDR
//	innonet lead|org|site|user|cluster|backup|attachment|glossary ...   (with INNONET_ADDR and INNONET_TOKEN)
//
// Run `innonet <command> --help` for each command's flags.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// command is one subcommand, in the manner of litestream's cmd: a small
// type with a Run method.
type command interface {
	Run(ctx context.Context, args []string) error
}

var commands = map[string]struct {
	cmd  command
	help string
}{
	"serve":   {&serveCommand{}, "run one site (a member of the Raft group serving gRPC and REST)"},
	"demo":    {&demoCommand{}, "run the default eight-site network on this machine with sample data"},
	"health":  {&healthCommand{}, "probe a site's /healthz or /readyz (for container health checks)"},
	"certs":   {&certsCommand{}, "create a cluster CA and a certificate per site (TLS)"},
	"restore": {&restoreCommand{}, "start a new cluster from a backup file (offline)"},
	"recover": {&recoverCommand{}, "rewrite a stopped site's membership after a permanent loss of quorum (offline)"},

	"lead":       {usageExit{&leadCommand{}}, "submit, list, show, review, claim, advance... leads"},
	"org":        {usageExit{&orgCommand{}}, "add, list, show and update organisations and local enterprises"},
	"site":       {usageExit{&siteCommand{}}, "list the site registry; register sub-nodes"},
	"user":       {usageExit{&userCommand{}}, "add, list and revoke users; create, list and revoke tokens; whoami"},
	"cluster":    {usageExit{&clusterCommand{}}, "cluster status and membership changes"},
	"backup":     {usageExit{&backupCommand{}}, "download a consistent snapshot of the pipeline"},
	"attachment": {usageExit{&attachmentCommand{}}, "upload, list, download and remove the documents of leads; export and verify them"},
	"glossary":   {usageExit{&glossaryCommand{}}, "the sector terms in Chinese, English, German and Hebrew"},
}

const usage = `innonet — the replicated deal-flow pipeline of an international innovation network.

Usage:
  innonet <command> [flags]

Server commands:
  serve     run one site (a member of the Raft group serving gRPC and REST)
  demo      run the default eight-site network on this machine with sample data
  health    probe a site's /healthz or /readyz (exit 0 when healthy)
  certs     create a cluster CA and a certificate per site (TLS between sites and for the API)
  restore   start a new cluster from a backup file (offline)
  recover   rewrite a stopped site's membership after a permanent loss of quorum (offline)

Client commands (talk to any site's API):
  lead        submit, list, find, show, edit, review, claim, assign, release, advance, close,
              reopen, withdraw and translate leads; interests, comments, history; deal terms
  org         add, list, show and update organisations (foreign) and local enterprises
  site        list the sites and their sub-nodes; register a sub-node (MUC-TUM under MUC)
  user        add, list and revoke users; create, list and revoke their tokens; whoami
  cluster     status; add, remove, promote and demote sites; transfer leadership
  backup      download a consistent snapshot of the pipeline to a file
  attachment  upload, list, get and remove the documents of leads; export and verify them
  glossary    list the sector terms in Chinese, English, German and Hebrew; HQ sets and deletes them

Client environment:
  INNONET_ADDR    API address of any site (default 127.0.0.1:7101); or --addr
  INNONET_TOKEN   your bearer token; or --token-file
  INNONET_CA      the CA that signed the sites' certificates; or --ca

Examples:
  innonet demo                                  # five voters and three read replicas on 127.0.0.1
  innonet certs --dir ./certs --sites CGO,BOS
  INNONET_ADMIN_TOKEN=inn_secret innonet serve --site CGO --data-dir /var/lib/innonet \
      --tls-dir ./certs --listen 127.0.0.1:7101 --raft-addr 127.0.0.1:7201 --bootstrap
  INNONET_ADMIN_TOKEN=inn_secret innonet serve --site BOS --data-dir /var/lib/innonet-bos \
      --tls-dir ./certs --listen 127.0.0.1:7102 --raft-addr 127.0.0.1:7202 --join 127.0.0.1:7101

  export INNONET_ADDR=127.0.0.1:7102 INNONET_CA=./certs/ca.crt INNONET_TOKEN=<your token>
  innonet lead list --stage submitted
  innonet lead review BOS-0003 --decision approve
  innonet cluster status
  innonet backup --out innonet.bak

Client commands exit 1 on an error from the API (printed as CODE: message)
and 2 on a mistake on the command line.

Run 'innonet <command> --help' for the flags of a command.
`

func main() {
	if len(os.Args) < 2 || os.Args[1] == "-h" || os.Args[1] == "--help" || os.Args[1] == "help" {
		fmt.Print(usage)
		return
	}
	c, ok := commands[os.Args[1]]
	if !ok {
		fmt.Fprintf(os.Stderr, "innonet: unknown command %q\n\n%s", os.Args[1], usage)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := c.cmd.Run(ctx, os.Args[2:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintf(os.Stderr, "innonet %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}

// newLogger returns a text logger to stderr at the named level.
func newLogger(level string) (*slog.Logger, error) { return newLoggerFormat(level, "text") }

// newLoggerFormat returns a text or JSON logger to stderr at the named level.
func newLoggerFormat(level, format string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.ToUpper(level))); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: l}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(os.Stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(os.Stderr, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", format)
}

// adminToken reads the admin token from a file, or else INNONET_ADMIN_TOKEN.
func adminToken(file string) (string, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("read admin token: %w", err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	return strings.TrimSpace(os.Getenv("INNONET_ADMIN_TOKEN")), nil
}
