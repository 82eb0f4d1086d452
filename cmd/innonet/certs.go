package main

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"time"

	"innonet/cluster/certs"
)

// certsCommand writes a cluster CA and per-site certificates.
type certsCommand struct{}

func (c *certsCommand) Run(_ context.Context, args []string) error {
	fs := flag.NewFlagSet("certs", flag.ContinueOnError)
	dir := fs.String("dir", "./certs", "directory to write into (reuses ca.crt/ca.key found there)")
	sites := fs.String("sites", "CGO,BOS,CBG,MUC,TLV,BOHAI,YRD,PRD", "comma-separated site codes to issue certificates for")
	hosts := fs.String("hosts", "", "comma-separated host names or IPs added to every site certificate (localhost, 127.0.0.1 and the site code are always in)")
	siteHosts := fs.String("site-hosts", "", "per-site host names or IPs, SITE=HOST[;HOST...][,SITE=...], e.g. BOS=bos.example.net;203.0.113.7")
	clients := fs.String("clients", "", "comma-separated names of API client certificates to issue (signed by a separate client CA, for serve --client-ca)")
	validity := fs.Duration("validity", 365*24*time.Hour, "how long the site and client certificates are valid")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), `Usage: innonet certs [--dir DIR] [--sites CODES] [flags]

Creates a cluster CA (ca.crt, ca.key) and, for every site, a certificate
and key (<site>.crt, <site>.key) signed by it. Each site certificate names
its site code (URI SAN spiffe://innonet/site/CODE), which is the identity
other sites check: a site holding BOS's key can only ever act as BOS. The
certificates serve both the client API and the mutual TLS between sites.

Run it again with the same --dir to add sites or renew certificates: an
existing CA is reused. Copy ca.crt and the site's own pair to each site
(never ca.key); sites reload changed files on their own or on SIGHUP.

For small deployments, demos and tests. In production, an existing PKI can
issue the same certificates: ServerAuth and ClientAuth usages and the URI
SAN above.

Examples:
  innonet certs --dir ./certs
  innonet certs --dir ./certs --sites CGO,BOS --hosts cgo.example.net,bos.example.net
  innonet certs --dir ./certs --sites MUC --site-hosts MUC=muc.example.net   # add a site later
  innonet certs --dir ./certs --sites CGO --clients reporting                 # client certificate

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
	opts := certs.Options{Sites: splitList(*sites), Hosts: splitList(*hosts), Clients: splitList(*clients),
		Validity: *validity, SiteHosts: map[string][]string{}}
	for _, pair := range splitList(*siteHosts) {
		site, list, ok := strings.Cut(pair, "=")
		if !ok {
			return fmt.Errorf("--site-hosts: %q is not SITE=HOST[;HOST...]", pair)
		}
		opts.SiteHosts[site] = append(opts.SiteHosts[site], strings.Split(list, ";")...)
	}
	written, err := certs.Generate(*dir, opts)
	if err != nil {
		return err
	}
	for _, f := range written {
		fmt.Println("wrote", f)
	}
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}
