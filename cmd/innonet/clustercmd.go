package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"innonet/node/pipeline"
	pb "innonet/proto/innonet/v1"
)

// clusterCommand is `innonet cluster`: the Raft group of sites.
type clusterCommand struct{ streams }

func (c *clusterCommand) Run(ctx context.Context, args []string) error {
	return clusterGroup.run(ctx, c.streams, args)
}

var clusterGroup = group{
	name: "cluster",
	summary: `Reports and changes the Raft group of sites. Status is for any user;
membership changes are for admins.`,
	subs: []subcommand{
		{"status", "show the members, the leader, the Raft indexes and the members' health", clusterStatus},
		{"add", "add a site, as a voter or a non-voting read replica (admin)", clusterAdd},
		{"remove", "remove a site from the group (admin)", clusterRemove},
		{"promote", "make a non-voting site a voter at once (admin)", clusterPromote},
		{"demote", "make a voting site a non-voter (admin)", clusterDemote},
		{"transfer-leadership", "hand leadership to another voter (admin)", clusterTransfer},
		{"placement", "show or set leader placement: the RTT matrix, estimates, pin/prefer/exclude (setting: admin)", clusterPlacement},
		{"deny-cert", "add a certificate serial to the cluster's deny-list (admin)", clusterDenyCert},
		{"denied-certs", "list the certificate deny-list (admin)", clusterDeniedCerts},
	},
	examples: `  export INNONET_ADDR=127.0.0.1:7101 INNONET_TOKEN=$(cat innonet-demo/admin.token)
  innonet cluster status
  innonet cluster add MUC --raft-addr 10.0.4.2:7201 --api-addr 10.0.4.2:7101
  innonet cluster add PRD --raft-addr 10.0.8.2:7201 --api-addr 10.0.8.2:7101 --nonvoter
  innonet cluster demote TLV
  innonet cluster transfer-leadership BOS
  innonet cluster placement --prefer MUC,CBG --exclude CGO
  innonet cluster remove TLV
  innonet cluster deny-cert 3a:f0:91:... --comment "BOS laptop stolen"
`,
}

func clusterStatus(ctx context.Context, std streams, args []string) error {
	f := newFlags(std, "cluster status", `Usage: innonet cluster status [--stale] [flags]

Shows the members of the Raft group (voter, leader, health, last contact
with the leader, last log index), then the leader, term, commit and
applied index, whether the group is healthy and how many voters may fail
without losing quorum. The leader answers, since only it knows the
members' health; when no leader answers, the asked site's own view is
shown instead, with a warning.

Examples:
  innonet cluster status
  INNONET_ADDR=127.0.0.1:7107 innonet cluster status --stale
  innonet cluster status --json | jq '.members[] | select(.healthy | not) | .site'
`)
	cf := addClientFlags(f, defaultTimeout)
	stale := f.Bool("stale", false, "show the asked site's own view without asking the leader")
	if _, err := f.parse(args, 0, 0); err != nil {
		return err
	}
	c, err := cf.connect()
	if err != nil {
		return err
	}
	defer c.Close()
	get := func(cons pb.Consistency) (cl *pb.Cluster, err error) {
		err = c.call(ctx, func(ctx context.Context) (err error) {
			cl, err = c.cluster.GetCluster(ctx, &pb.GetClusterRequest{Consistency: cons})
			return err
		})
		return cl, err
	}
	var cl *pb.Cluster
	if !*stale {
		cl, err = get(pb.Consistency_LEADER)
	}
	if *stale || status.Code(err) == codes.Unavailable {
		leaderErr := err
		if cl, err = get(pb.Consistency_STALE); err != nil {
			return err
		}
		if leaderErr != nil {
			fmt.Fprintf(std.errOut(), "innonet: warning: no leader answered (%v); showing %s's own view, which may be out of date\n", leaderErr, cl.Site)
		}
	}
	if err != nil {
		return err
	}
	if cf.json {
		return printJSON(std.out(), cl)
	}
	return printCluster(std.out(), cl)
}

func clusterAdd(ctx context.Context, std streams, args []string) error {
	f := newFlags(std, "cluster add", `Usage: innonet cluster add SITE --raft-addr HOST:PORT --api-addr HOST:PORT [--nonvoter] [flags]

Adds a site to the Raft group; what 'innonet serve --join' does. A site
that is to vote joins as a non-voter and gets its vote once it has been
healthy for the stabilization time; --nonvoter adds a read replica, as
the divisions' sites are. Adding a site again is harmless and updates its
addresses. Admins only. The cluster refuses a site that reads an older log
format than it runs; --log-format says which the site reads (by default,
this binary's: add a site that runs the same version as this command).

Examples:
  innonet cluster add MUC --raft-addr 10.0.4.2:7201 --api-addr 10.0.4.2:7101
  innonet cluster add PRD --raft-addr 10.0.8.2:7201 --api-addr 10.0.8.2:7101 --nonvoter
`)
	cf := addClientFlags(f, defaultTimeout)
	var retries int
	addRetriesFlag(f, &retries, 5)
	req := &pb.JoinClusterRequest{}
	f.StringVar(&req.RaftAddress, "raft-addr", "", "the site's Raft address, as other sites dial it (required)")
	f.StringVar(&req.ApiAddress, "api-addr", "", "the site's API address (gRPC and REST), as other sites dial it (required)")
	nonVoter := f.Bool("nonvoter", false, "add a non-voting read replica")
	format := f.Int("log-format", pipeline.FormatVersion, "the newest log format the site's innonet reads")
	f.check(func() error {
		if req.RaftAddress == "" || req.ApiAddress == "" {
			return fmt.Errorf("--raft-addr and --api-addr are required")
		}
		return nil
	})
	pos, err := f.parse(args, 1, 1)
	if err != nil {
		return err
	}
	req.Site, req.Voter, req.LogFormat = siteCode(pos[0]), !*nonVoter, int32(*format)
	return membership(ctx, std, cf, retries, func(ctx context.Context, c *client) (*pb.Cluster, error) {
		return c.cluster.JoinCluster(ctx, req)
	})
}

// siteChange is a membership change that names one site and takes no
// other input: remove, promote, demote.
// call is told whether an earlier attempt of this change was made (and
// answered UNAVAILABLE, so it may have been applied).
func siteChange(name, help string, call func(ctx context.Context, c *client, site string, retry bool) (*pb.Cluster, error)) func(context.Context, streams, []string) error {
	return func(ctx context.Context, std streams, args []string) error {
		f := newFlags(std, name, help)
		cf := addClientFlags(f, defaultTimeout)
		var retries int
		addRetriesFlag(f, &retries, 5)
		pos, err := f.parse(args, 1, 1)
		if err != nil {
			return err
		}
		site := siteCode(pos[0])
		attempts := 0
		return membership(ctx, std, cf, retries, func(ctx context.Context, c *client) (*pb.Cluster, error) {
			attempts++
			return call(ctx, c, site, attempts > 1)
		})
	}
}

var clusterRemove = siteChange("cluster remove", `Usage: innonet cluster remove SITE [flags]

Removes a site from the Raft group; removing the leader hands leadership
to another voter first. Take care to keep enough voters for a quorum.
Admins only.

Examples:
  innonet cluster remove TLV
`, removeMember)

// removeMember removes site. On a retry a site that is no longer a member
// counts as removed: the attempt answered UNAVAILABLE (its answer lost in
// a leader change) may have removed it, and the retry finds nothing to
// remove.
func removeMember(ctx context.Context, c *client, site string, retry bool) (*pb.Cluster, error) {
	cl, err := c.cluster.RemoveMember(ctx, &pb.RemoveMemberRequest{Site: site})
	if retry && status.Code(err) == codes.NotFound {
		return c.cluster.GetCluster(ctx, &pb.GetClusterRequest{})
	}
	return cl, err
}

var clusterPromote = siteChange("cluster promote", `Usage: innonet cluster promote SITE [flags]

Makes a non-voting site a voter at once, without waiting for the
stabilization time. Admins only.

Examples:
  innonet cluster promote YRD
`, func(ctx context.Context, c *client, site string, _ bool) (*pb.Cluster, error) {
	return c.cluster.PromoteMember(ctx, &pb.PromoteMemberRequest{Site: site})
})

var clusterDemote = siteChange("cluster demote", `Usage: innonet cluster demote SITE [flags]

Makes a voting site a non-voter: a read replica that keeps a full copy
but no longer counts for the quorum. Admins only.

Examples:
  innonet cluster demote TLV
`, func(ctx context.Context, c *client, site string, _ bool) (*pb.Cluster, error) {
	return c.cluster.DemoteMember(ctx, &pb.DemoteMemberRequest{Site: site})
})

func clusterTransfer(ctx context.Context, std streams, args []string) error {
	f := newFlags(std, "cluster transfer-leadership", `Usage: innonet cluster transfer-leadership [SITE] [flags]

Hands leadership to the named voter or, with no site, to the most
up-to-date voter: before maintenance on the leader's host, or to move the
leader close to most voters. Not retried by default, since a retry
without a site would move leadership again. Admins only.

Examples:
  innonet cluster transfer-leadership BOS
  innonet cluster transfer-leadership
`)
	cf := addClientFlags(f, defaultTimeout)
	var retries int
	addRetriesFlag(f, &retries, 0)
	pos, err := f.parse(args, 0, 1)
	if err != nil {
		return err
	}
	req := &pb.TransferLeadershipRequest{}
	if len(pos) == 1 {
		req.Site = siteCode(pos[0])
	}
	return membership(ctx, std, cf, retries, func(ctx context.Context, c *client) (*pb.Cluster, error) {
		return c.cluster.TransferLeadership(ctx, req)
	})
}

func clusterDenyCert(ctx context.Context, std streams, args []string) error {
	f := newFlags(std, "cluster deny-cert", `Usage: innonet cluster deny-cert SERIAL [--comment TEXT] [flags]

Adds a certificate to the cluster's replicated deny-list: every site
refuses it on the Raft port and on site-to-site calls from then on, and
closes the connections made with it. For the key of a site that stays a
member (stolen laptop, leaked backup) until its new certificate is
issued; removing a site already refuses its certificate. SERIAL is the
certificate's serial number as 'openssl x509 -noout -serial -in FILE'
prints it (case and colons do not matter). Admins only.

Examples:
  innonet cluster deny-cert $(openssl x509 -noout -serial -in certs/BOS.crt | cut -d= -f2) --comment "BOS laptop stolen"
`)
	cf := addClientFlags(f, defaultTimeout)
	var retries int
	addRetriesFlag(f, &retries, 5)
	comment := f.String("comment", "", "why, for the record")
	pos, err := f.parse(args, 1, 1)
	if err != nil {
		return err
	}
	c, err := cf.connect()
	if err != nil {
		return err
	}
	defer c.Close()
	var d *pb.DeniedCertificate
	err = c.write(ctx, std, retries, "", func(ctx context.Context) (err error) {
		d, err = c.cluster.DenyCertificate(ctx, &pb.DenyCertificateRequest{Serial: pos[0], Comment: *comment})
		return err
	})
	if err != nil {
		return err
	}
	if cf.json {
		return printJSON(std.out(), d)
	}
	fmt.Fprintf(std.out(), "certificate %s denied on every site\n", d.Serial)
	return nil
}

func clusterDeniedCerts(ctx context.Context, std streams, args []string) error {
	f := newFlags(std, "cluster denied-certs", `Usage: innonet cluster denied-certs [flags]

Lists the certificates on the cluster's deny-list. Admins only.

Examples:
  innonet cluster denied-certs
`)
	cf := addClientFlags(f, defaultTimeout)
	if _, err := f.parse(args, 0, 0); err != nil {
		return err
	}
	c, err := cf.connect()
	if err != nil {
		return err
	}
	defer c.Close()
	var resp *pb.ListDeniedCertificatesResponse
	if err := c.call(ctx, func(ctx context.Context) (err error) {
		resp, err = c.cluster.ListDeniedCertificates(ctx, &pb.ListDeniedCertificatesRequest{})
		return err
	}); err != nil {
		return err
	}
	if cf.json {
		return printJSON(std.out(), resp)
	}
	t := newTable(std.out(), "SERIAL", "ADDED", "BY", "COMMENT")
	for _, d := range resp.Certificates {
		added := ""
		if d.AddTime != nil {
			added = d.AddTime.AsTime().UTC().Format(time.RFC3339)
		}
		t.row(d.Serial, added, userText(d.AddedByName, d.AddedBy), d.Comment)
	}
	return t.flush()
}

// siteCode normalizes a site code typed on the command line (bos).
func siteCode(s string) string { return strings.ToUpper(strings.TrimSpace(s)) }

// membership makes a membership change (retrying UNAVAILABLE; changes of
// the Raft configuration are idempotent) and prints the cluster it
// returns.
func membership(ctx context.Context, std streams, cf *clientFlags, retries int, do func(ctx context.Context, c *client) (*pb.Cluster, error)) error {
	c, err := cf.connect()
	if err != nil {
		return err
	}
	defer c.Close()
	var cl *pb.Cluster
	err = c.write(ctx, std, retries, "", func(ctx context.Context) (err error) {
		cl, err = do(ctx, c)
		return err
	})
	if err != nil {
		return err
	}
	if cl.Leader == "" {
		// Leadership is moving (a transfer, or the leader removed itself):
		// show the group once the new leader answers.
		cl = awaitLeader(ctx, c, cl)
	}
	if cf.json {
		return printJSON(std.out(), cl)
	}
	return printCluster(std.out(), cl)
}

// awaitLeader asks for the cluster until a leader answers, for at most the
// request timeout, and returns the last answer (cl when none came).
func awaitLeader(ctx context.Context, c *client, cl *pb.Cluster) *pb.Cluster {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	for wait := 50 * time.Millisecond; ; wait = min(2*wait, time.Second) {
		var next *pb.Cluster
		err := c.call(ctx, func(ctx context.Context) (err error) {
			next, err = c.cluster.GetCluster(ctx, &pb.GetClusterRequest{Consistency: pb.Consistency_LEADER})
			return err
		})
		if err == nil && next.Leader != "" {
			return next
		}
		select {
		case <-ctx.Done():
			return cl
		case <-time.After(wait):
		}
	}
}

// printCluster prints the members as a table and a summary below.
func printCluster(w io.Writer, cl *pb.Cluster) error {
	t := newTable(w, "SITE", "VOTER", "LEADER", "HEALTHY", "STATUS", "LAST CONTACT", "LAST INDEX", "ALARMS", "RAFT ADDRESS", "API ADDRESS")
	var details []string
	member := cl.Member
	for _, m := range cl.Members {
		member = member || m.Site == cl.Site
		voter := yesNo(m.Voter)
		if !m.Voter && m.WantsVote {
			voter = "pending"
		}
		healthy, contact, index := "?", "", ""
		if cl.HealthKnown {
			healthy, index = yesNo(m.Healthy), fmt.Sprint(m.LastIndex)
			if m.LastContact != nil && !m.Leader {
				contact = roundDuration(m.LastContact.AsDuration()).String()
			}
		}
		var kinds []string
		for _, a := range m.Alarms {
			kinds = append(kinds, a.Kind)
			details = append(details, fmt.Sprintf("%s %s: %s", m.Site, a.Kind, a.Detail))
		}
		t.row(m.Site, voter, yesNo(m.Leader), healthy, m.Status, contact, index, strings.Join(kinds, ","), m.RaftAddress, m.ApiAddress)
	}
	if err := t.flush(); err != nil {
		return err
	}
	leader := cl.Leader
	if leader == "" {
		leader = "none"
	}
	fmt.Fprintf(w, "\nleader %s, term %d, commit index %d, applied index %d, last log index %d\n",
		leader, cl.Term, cl.CommitIndex, cl.AppliedIndex, cl.LastLogIndex)
	fmt.Fprintf(w, "answered by %s (%s)", cl.Site, strings.ToLower(cl.State))
	if d := cl.GetLastContact().AsDuration(); d > 0 && cl.Leader != cl.Site {
		fmt.Fprintf(w, ", last contact with the leader %s ago", roundDuration(d))
	}
	fmt.Fprintln(w)
	if cl.NoLeader != "" {
		label := "no leader"
		if cl.CutOff {
			label = "CUT OFF"
		}
		fmt.Fprintf(w, "%s: %s\n", label, cl.NoLeader)
	}
	if cl.HealthKnown {
		health := "healthy"
		if !cl.Healthy {
			health = "NOT healthy"
		}
		fmt.Fprintf(w, "health: %s, failure tolerance %d (voters that may fail without losing quorum)\n", health, cl.FailureTolerance)
	} else {
		fmt.Fprintln(w, "health: unknown (only the leader's answer has it)")
	}
	fmt.Fprintf(w, "log format %d (the newest every site reads)\n", cl.LogFormat)
	for _, d := range details {
		fmt.Fprintf(w, "ALARM %s\n", d)
	}
	if !member {
		fmt.Fprintf(w, "warning: %s is not a member of the group (removed, or not joined yet)\n", cl.Site)
	}
	return nil
}
