package node

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	"google.golang.org/grpc/test/bufconn"

	"innonet/cluster"
	"innonet/node/attachments"
	"innonet/node/guard"
	"innonet/node/notify"
	"innonet/node/outbox"
	"innonet/node/pipeline"
	"innonet/node/reports"
	"innonet/node/search"
	innonetpb "innonet/proto/innonet/v1"
)

// Config configures one site.
type Config struct {
	// Site is the site code (BOS, CGO, BOHAI...): the Raft server ID.
	Site string
	// DataDir holds this site's Raft log, stable store and snapshots.
	DataDir string
	// Listen is the address that serves gRPC and REST.
	Listen string
	// APIAdvertise is the API address other sites forward to; it defaults
	// to the bound Listen address.
	APIAdvertise string
	// Bootstrap starts a new cluster with this site as its first voter.
	Bootstrap bool
	// Join is the API address of any member; the site asks to be added.
	Join string
	// NonVoter joins as a read replica instead of a voter.
	NonVoter bool
	// AdminToken is the first admin's token on the bootstrapping site and
	// the credential a joining site presents.
	AdminToken string
	// TLS secures the client API and, as mutual TLS bound to site codes,
	// the traffic between sites (Raft and forwarding). Nil means
	// plaintext everywhere.
	TLS TLS
	// Limits bound what one client may ask of the site (message sizes,
	// timeouts, throttling, rate limits); zero fields take the defaults.
	Limits Limits
	// RequestIDRetention is how long the cluster remembers an applied
	// request ID, so that a retry returns the first outcome; zero means
	// DefaultRequestIDRetention. The leader enforces it (from log format
	// 2); give every site the same.
	RequestIDRetention time.Duration
	// MetricsPublic serves GET /metrics to anyone. Without it /metrics
	// needs an ADMIN token or a connection with a site certificate.
	MetricsPublic bool
	// Pprof serves Go's runtime profiles under /debug/pprof/ to whoever
	// may read /metrics (an ADMIN token or a site certificate).
	Pprof bool
	// MaxAuthStaleness is how long a site that is not the leader may go
	// without hearing from the leader and still judge tokens by its own
	// copy of the users (default DefaultMaxAuthStaleness; negative: no
	// bound). Beyond it, what the site would answer itself goes to the
	// leader, so a revoked token cannot outlive the revocation on a
	// lagging site; with no leader in reach it is refused (UNAVAILABLE).
	MaxAuthStaleness time.Duration
	// Cluster holds the Raft settings; its ID, APIAddr and DataDir are set
	// from the fields above, and its LogFormat from the pipeline's.
	Cluster cluster.Config
	Logger  *slog.Logger
	// AdvertiseFormat, for tests, makes the site report an older log
	// format than it reads (0: pipeline.FormatVersion), as an older binary
	// would.
	AdvertiseFormat int
	// Clock, for tests, replaces time.Now as the site's clock: what it
	// stamps into the commands it proposes and reports to the leader.
	Clock func() time.Time
	// Topology is the first-level sites this site registers in the
	// replicated site registry when it leads (with every member of the
	// cluster; see sites.go): nil means DefaultTopology, an empty list
	// the members only.
	Topology []pipeline.SiteSpec
	// MaxAttachmentBytes bounds one attachment this site takes in an
	// upload (default DefaultMaxAttachmentBytes, 20 MiB; at most
	// pipeline.MaxAttachmentSize, 1 GiB).
	MaxAttachmentBytes int64
	// AttachmentFetchWait is how long a download of an attachment whose
	// bytes this site does not hold yet waits for them to be fetched from
	// a peer before it is answered UNAVAILABLE (503, Retry-After);
	// default DefaultAttachmentFetchWait.
	AttachmentFetchWait time.Duration
	// AttachmentFetch tunes the background fetcher of attachment bytes
	// (its logger and metrics are the site's).
	AttachmentFetch attachments.Config
	// SearchInMemory keeps the search index in memory, built from the
	// state on every start, instead of in <data-dir>/search. For tests.
	SearchInMemory bool
	// Mailer sends the e-mail notifications while this site leads (nil:
	// none are sent); ConsoleURL is the console's address their links
	// name (notifications.go).
	Mailer     *notify.Mailer
	ConsoleURL string
}

// Node is one running site.
type Node struct {
	cfg      Config
	log      *slog.Logger
	state    *pipeline.State
	cluster  *cluster.Cluster
	grpc     *grpc.Server
	http     *http.Server
	lis      net.Listener
	split    *splitter // lis, into gRPC and HTTP connections
	peers    *peerConns
	gwConn   *grpc.ClientConn
	gwLis    *bufconn.Listener
	metrics  *siteMetrics
	guard    *guard.Guard
	health   *health.Server
	files    *attachments.Store
	fetcher  *attachments.Fetcher
	search   *search.Index
	dupes    *duplicates
	matches  *matches
	reports  *reports.Engine
	slas     *slas
	applied  *appliedSignal
	copy     *copyClock
	notifier *notifier
	outbox   *outbox.Outbox
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	closeMu  sync.Once

	// proposing counts the commands this site is proposing now; a
	// submit checks its lead for duplicates while it commits only when
	// no other is (api_leads.go).
	proposing atomic.Int64
}

// New starts a site: it binds the API listener, opens or creates the Raft
// state, starts serving, and in the background joins the cluster (with
// cfg.Join) or records the first admin (with cfg.Bootstrap).
func New(cfg Config) (*Node, error) {
	if !pipeline.ValidSiteCode(cfg.Site) {
		return nil, fmt.Errorf("site code %q: want 2 to 8 capital letters (e.g. BOS)", cfg.Site)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	switch {
	case cfg.RequestIDRetention == 0:
		cfg.RequestIDRetention = DefaultRequestIDRetention
	case cfg.RequestIDRetention < time.Second || cfg.RequestIDRetention > pipeline.MaxRetention:
		return nil, fmt.Errorf("request ID retention %s: want from 1s to %s", cfg.RequestIDRetention, pipeline.MaxRetention)
	}
	if cfg.MaxAuthStaleness == 0 {
		cfg.MaxAuthStaleness = DefaultMaxAuthStaleness
	}
	if err := checkTopology(cfg.Topology); err != nil {
		return nil, err
	}
	lis, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}
	if cfg.APIAdvertise == "" {
		cfg.APIAdvertise = dialable(lis.Addr())
	}
	cc := cfg.Cluster
	cc.ID, cc.APIAddr, cc.DataDir, cc.Bootstrap = cfg.Site, cfg.APIAdvertise, cfg.DataDir, cfg.Bootstrap
	if cc.Logger == nil {
		cc.Logger = cfg.Logger
	}
	if cfg.TLS != nil {
		cc.PeerTLS = cfg.TLS
	}
	// A joining site accepts Raft traffic only from the voters the
	// cluster names when it asks to join.
	cc.PinVoters = cfg.Join != ""
	cc.LogFormat = pipeline.FormatVersion
	if cfg.AdvertiseFormat != 0 {
		cc.LogFormat = cfg.AdvertiseFormat
	}
	if cfg.Clock != nil {
		cc.Clock = cfg.Clock
	}
	cfg.Cluster = cc
	n := &Node{cfg: cfg, log: cfg.Logger.With("site", cfg.Site), state: pipeline.New(), lis: lis, peers: newPeerConns(cfg.TLS, cc.Dial)}
	if cc.FetchStats == nil {
		cc.FetchStats = n.fetchStats
	}
	if cc.Ping == nil {
		cc.Ping = n.ping
	}
	if err := n.openAttachments(); err != nil {
		lis.Close()
		return nil, fmt.Errorf("start site %s: %w", cfg.Site, err)
	}
	if err := n.openSearch(); err != nil {
		lis.Close()
		return nil, fmt.Errorf("start site %s: %w", cfg.Site, err)
	}
	if err := n.openOutbox(); err != nil {
		_ = n.search.Close()
		lis.Close()
		return nil, fmt.Errorf("start site %s: %w", cfg.Site, err)
	}
	n.dupes = newDuplicates(n.state, n.log.With("component", "duplicates"))
	n.matches = newMatches(n.state.DivisionProfiles)
	n.reports = reports.New(n.state)
	n.slas = newSLAs(n.state)
	n.applied = newAppliedSignal()
	n.copy = newCopyClock(time.Now())
	n.notifier = newNotifier(n)
	n.cluster, err = cluster.New(cc, notifyingFSM{fsm{n.state}, n})
	if err != nil {
		_ = n.search.Close()
		_ = n.outbox.Close()
		lis.Close()
		return nil, fmt.Errorf("start site %s: %w", cfg.Site, err)
	}
	n.metrics = newSiteMetrics(n)
	if err := n.fetcher.Register(n.metrics.reg); err != nil {
		n.cluster.Close()
		lis.Close()
		return nil, err
	}
	if n.guard, err = n.newGuard(); err != nil {
		n.cluster.Close()
		lis.Close()
		return nil, err
	}
	if err := n.serve(); err != nil {
		n.cluster.Close()
		lis.Close()
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	n.cancel = cancel
	if cfg.Bootstrap && cfg.AdminToken != "" {
		n.background(func() { n.bootstrapAdmin(ctx) })
	}
	if cfg.Join != "" {
		n.background(func() { n.joinLoop(ctx) })
	}
	n.background(func() { n.watchReadiness(ctx) })
	n.background(func() { n.watchContact(ctx) })
	n.background(func() { n.raiseFormat(ctx) })
	n.background(func() { n.pruneLoop(ctx) })
	n.background(func() { n.registerSites(ctx) })
	n.background(func() { n.fetcher.Run(ctx) })
	n.background(func() { n.search.Run(ctx) })
	n.background(func() { n.dupes.run(ctx) })
	n.background(func() { n.matches.warm(ctx, n.state) })
	n.background(func() { n.notifier.follow(ctx) })
	n.background(func() { n.notifier.watchSLA(ctx) })
	// The first report reads every lead's history; read it now, not when
	// someone waits for it.
	n.background(func() { _, _ = n.reports.Funnel(reports.FunnelQuery{}) })
	n.background(func() { n.notifier.dispatch(ctx) })
	n.background(func() { n.deliverQueued(ctx) })
	n.matches.changed()
	n.log.Info("site serving", "api", lis.Addr().String(), "raft", n.cluster.RaftAddr())
	return n, nil
}

func (n *Node) background(f func()) {
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		f()
	}()
}

// dialable turns a bound address into one a peer can dial: an unspecified
// IP (":7101", "0.0.0.0:7101") becomes loopback.
func dialable(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok || !tcp.IP.IsUnspecified() {
		return a.String()
	}
	return net.JoinHostPort("127.0.0.1", fmt.Sprint(tcp.Port))
}

// now is the site's clock.
func (n *Node) now() time.Time {
	if n.cfg.Clock != nil {
		return n.cfg.Clock()
	}
	return time.Now()
}

// Addr is the API address the site serves on.
func (n *Node) Addr() string { return dialable(n.lis.Addr()) }

// Site is the site code.
func (n *Node) Site() string { return n.cfg.Site }

// Cluster is the site's Raft member.
func (n *Node) Cluster() *cluster.Cluster { return n.cluster }

// State is the site's copy of the pipeline.
func (n *Node) State() *pipeline.State { return n.state }

// Close stops serving and stops the Raft member, handing leadership to
// another voter first if this site leads (what SIGTERM does). It does not
// leave the cluster: a site closed and started again with the same data
// directory resumes where it was.
func (n *Node) Close() error { return n.shutdown(true) }

// Halt stops the site without handing over leadership, as a crash would
// look to the others. For fault drills and tests.
func (n *Node) Halt() error { return n.shutdown(false) }

func (n *Node) shutdown(handover bool) error {
	var err error
	n.closeMu.Do(func() {
		if handover {
			// Hand over while still serving, so requests forwarded here
			// during the handover are answered or redirected.
			n.cluster.HandOver()
		}
		n.cancel()
		n.health.Shutdown()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if n.split != nil {
			n.split.close()
		}
		if serr := n.http.Shutdown(ctx); serr != nil {
			n.http.Close()
		}
		n.grpc.Stop()
		if n.gwConn != nil {
			n.gwConn.Close()
		}
		n.peers.close()
		n.wg.Wait()
		err = n.cluster.Halt()
		if serr := n.search.Close(); serr != nil && err == nil {
			err = serr
		}
		if serr := n.outbox.Close(); serr != nil && err == nil {
			err = serr
		}
	})
	return err
}

// bootstrapAdmin records the first admin once this site leads. It is
// idempotent, so the bootstrapping site may run it on every start.
func (n *Node) bootstrapAdmin(ctx context.Context) {
	cmd := pipeline.Command{Op: pipeline.OpBootstrap, NewUser: &pipeline.NewUser{
		Name: "admin", Role: pipeline.Admin, TokenHash: HashToken(n.cfg.AdminToken)}}
	retry(ctx, func() error {
		if _, err := n.cluster.WaitForLeader(ctx); err != nil {
			return err
		}
		if !n.cluster.IsLeader() {
			return nil // another site leads: the admin was recorded when this site bootstrapped
		}
		_, err := n.propose(ctx, cmd)
		if isCode(err, codes.FailedPrecondition) {
			n.log.Warn("admin token not recorded: the cluster already has users (the first admin is created only once)")
			return nil
		}
		return err
	})
}

// joinLoop asks the cluster to add this site until it succeeds. Joining is
// idempotent, so a restarted site asks again (and so publishes a changed
// address).
func (n *Node) joinLoop(ctx context.Context) {
	req := &innonetpb.JoinClusterRequest{Site: n.cfg.Site, RaftAddress: n.cluster.RaftAddr(),
		ApiAddress: n.cfg.APIAdvertise, Voter: !n.cfg.NonVoter, LogFormat: int32(n.cfg.Cluster.LogFormat)}
	start := time.Now()
	retry(ctx, func() error {
		conn, err := n.peers.conn("", n.cfg.Join)
		if err != nil {
			return err
		}
		cctx, cancel := context.WithTimeout(withToken(ctx, n.cfg.AdminToken), 30*time.Second)
		defer cancel()
		client := innonetpb.NewClusterServiceClient(conn)
		// Until this site holds a configuration of its own, its Raft
		// transport accepts only the voters the cluster names (a read
		// replica's certificate must not be able to feed it a forged
		// state): learn them before asking to be added, so the leader's
		// first messages are not refused, and again from the answer.
		if cl, err := client.GetCluster(cctx, &innonetpb.GetClusterRequest{}); err == nil {
			n.trustVoters(cl)
		}
		cl, err := client.JoinCluster(cctx, req)
		if err == nil {
			n.trustVoters(cl)
		}
		if err != nil {
			// The first seconds of a new cluster are spent electing a leader.
			level := slog.LevelDebug
			if time.Since(start) > 5*time.Second {
				level = slog.LevelWarn
			}
			n.log.Log(ctx, level, "join failed; retrying", "via", n.cfg.Join, "err", err)
			return err
		}
		n.log.Info("joined the cluster", "via", n.cfg.Join, "voter", req.Voter)
		return nil
	})
	n.refreshTrust(ctx)
}

// refreshTrust learns the cluster's voters again every few seconds until
// this site's own configuration names it: the voters named at join may
// have changed since (a voter promoted, then leading) before this site
// heard from the leader, and a leader the site does not know of would be
// refused for good.
func (n *Node) refreshTrust(ctx context.Context) {
	every := time.NewTicker(2 * time.Second)
	defer every.Stop()
	for n.cluster.Outsider() {
		select {
		case <-ctx.Done():
			return
		case <-every.C:
		}
		conn, err := n.peers.conn("", n.cfg.Join)
		if err != nil {
			continue
		}
		cctx, cancel := context.WithTimeout(withToken(ctx, n.cfg.AdminToken), 10*time.Second)
		if cl, err := innonetpb.NewClusterServiceClient(conn).GetCluster(cctx, &innonetpb.GetClusterRequest{}); err == nil && n.cluster.Outsider() {
			n.trustVoters(cl)
		}
		cancel()
	}
}

// trustVoters tells the Raft transport which voters a cluster answer names.
func (n *Node) trustVoters(cl *innonetpb.Cluster) {
	var voters []string
	for _, m := range cl.GetMembers() {
		if m.GetVoter() {
			voters = append(voters, m.GetSite())
		}
	}
	n.cluster.TrustVoters(voters)
}

// retry runs f until it returns nil or ctx ends, backing off up to 5s.
func retry(ctx context.Context, f func() error) {
	wait := 100 * time.Millisecond
	for ctx.Err() == nil {
		if f() == nil {
			return
		}
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
		wait = min(2*wait, 5*time.Second)
	}
}
