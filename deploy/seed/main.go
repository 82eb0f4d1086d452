// Command innonet-seed loads sample users and leads into a running innonet
// network over its REST API, so that a network started with Docker Compose
// (deploy/docker-compose.yml, profile "sample") has something to look at.
//
//	INNONET_ADMIN_TOKEN=inn_... innonet-seed --addr 10.231.72.101:7100 --ca ca.crt > tokens.json
//
// It speaks HTTPS and verifies the site's certificate against --ca (or
// $INNONET_CA; the cluster CA that `innonet certs` wrote), or plaintext to
// sites started with --insecure (--insecure, $INNONET_INSECURE=1, or an
// http:// address).
//
// It waits until the site answers /readyz, creates one user per role and
// site (the same people as `innonet demo`), submits a few leads and moves
// some of them along, and prints the users with their tokens as JSON on
// stdout. Running it again changes nothing: it finds the sample users and
// prints them without their tokens, which only the run that created them
// shows. Every write carries a UUIDv7 request ID, the same on each retry.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintf(os.Stderr, "innonet-seed: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("innonet-seed", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:7101", "API address (host:port or URL) of any site")
	tokenFile := fs.String("admin-token-file", "", "file holding the admin token (default: $INNONET_ADMIN_TOKEN)")
	timeout := fs.Duration("timeout", 2*time.Minute, "give up when the network has not taken the sample data by then")
	ca := fs.String("ca", os.Getenv("INNONET_CA"), "CA certificate that signed the sites' certificates (default $INNONET_CA; without it the system's roots)")
	insecure := fs.Bool("insecure", os.Getenv("INNONET_INSECURE") == "1", "plaintext, for sites started with --insecure (default $INNONET_INSECURE=1)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	admin := strings.TrimSpace(os.Getenv("INNONET_ADMIN_TOKEN"))
	if *tokenFile != "" {
		b, err := os.ReadFile(*tokenFile)
		if err != nil {
			return fmt.Errorf("read admin token: %w", err)
		}
		admin = strings.TrimSpace(string(b))
	}
	if admin == "" {
		return errors.New("no admin token: set INNONET_ADMIN_TOKEN or --admin-token-file")
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()

	c, err := newClient(*addr, *ca, *insecure)
	if err != nil {
		return err
	}
	if err := c.waitReady(ctx); err != nil {
		return err
	}
	done, err := loaded(ctx, c, admin)
	if err != nil {
		return err
	}
	users := sampleUsers
	if done {
		fmt.Fprintln(os.Stderr, "innonet-seed: the sample data is already there; its tokens were printed by the run that created it")
	} else {
		if users, err = createUsers(ctx, c, admin); err != nil {
			return err
		}
		if err := submitLeads(ctx, c, users); err != nil {
			return err
		}
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(users)
}
