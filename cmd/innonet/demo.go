package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"innonet/cluster"
	"innonet/cluster/certs"
	"innonet/node"
	"innonet/node/pipeline"
	pb "innonet/proto/innonet/v1"
)

// demoSite is one site of the default network (../shared/DESIGN.md).
type demoSite struct {
	code, name string
	voter      bool
}

// demoTopology is the demo's network as the site registry records it.
func demoTopology() []pipeline.SiteSpec {
	out := make([]pipeline.SiteSpec, len(demoSites))
	for i, s := range demoSites {
		kind := pipeline.SiteNode
		switch {
		case i == 0:
			kind = pipeline.SiteHQ
		case pipeline.ValidDivision(s.code):
			kind = pipeline.SiteDivision
		}
		out[i] = pipeline.SiteSpec{Code: s.code, Name: s.name, Kind: kind}
	}
	return out
}

// demoSites is the default topology; site i serves its API on base+1+i and
// Raft on base+101+i (7101.. and 7201.. by default).
var demoSites = []demoSite{
	{"CGO", "Zhengzhou home park (HQ)", true},
	{"BOS", "Boston", true},
	{"CBG", "Cambridge, UK", true},
	{"MUC", "Munich", true},
	{"TLV", "Tel Aviv", true},
	{"BOHAI", "Bohai Rim division", false},
	{"YRD", "Yangtze River Delta division", false},
	{"PRD", "Pearl River Delta division", false},
}

// demoCommand runs the whole default network in one process.
type demoCommand struct{}

// demoUser is a sample user whose token and password the demo keeps in
// tokens.json.
type demoUser struct {
	Name     string `json:"name"`
	Role     string `json:"role"`
	Site     string `json:"site,omitempty"`
	Division string `json:"division,omitempty"`
	Token    string `json:"token"`
	// Password signs the user in to the web console (set by an
	// invitation the demo accepts itself).
	Password string `json:"password,omitempty"`
}

func (c *demoCommand) Run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	dir := fs.String("dir", "./innonet-demo", "folder holding every site's data, the admin token and the sample tokens")
	base := fs.Int("base-port", 7100, "site i serves its API on base+1+i and Raft on base+101+i")
	profile := fs.String("raft-profile", "lan", "Raft timing profile: lan, wan or test")
	logLevel := fs.String("log-level", "warn", "log level: debug, info, warn, error")
	plain := fs.Bool("insecure", false, "run plaintext instead of TLS (development only)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), `Usage: innonet demo [flags]

Starts the default network on this machine: five voters (CGO, BOS, CBG, MUC,
TLV) and three read replicas (BOHAI, YRD, PRD), each a real site with its own
Raft log under --dir, on 127.0.0.1 ports 7101-7108 (API: gRPC and REST) and
7201-7208 (Raft). On the first run it creates a cluster CA and a
certificate per site under --dir/certs (TLS on the API, mutual TLS between
sites), sample users and leads; later runs resume from the data. Ctrl-C
stops every site cleanly.

Flags:
`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	log, err := newLogger(*logLevel)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*dir, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", *dir, err)
	}
	admin, err := demoAdminToken(filepath.Join(*dir, "admin.token"))
	if err != nil {
		return err
	}

	certDir := filepath.Join(*dir, "certs")
	stores, err := demoCerts(certDir, *plain, log)
	if err != nil {
		return err
	}
	var nodes []*node.Node
	defer func() {
		for i := len(nodes) - 1; i >= 0; i-- {
			nodes[i].Close()
		}
	}()
	for i, s := range demoSites {
		cc := cluster.DefaultConfig()
		if err := cc.UseProfile(*profile); err != nil {
			return err
		}
		cc.RaftAddr = fmt.Sprintf("127.0.0.1:%d", *base+101+i)
		cc.RaftLogLevel = "error"
		// Every site runs on this one machine: a joining voter need not
		// prove itself for long before it is promoted.
		cc.StabilizationTime = min(cc.StabilizationTime, 2*time.Second)
		cfg := node.Config{
			Site: s.code, DataDir: filepath.Join(*dir, strings.ToLower(s.code)),
			Listen:     fmt.Sprintf("127.0.0.1:%d", *base+1+i),
			AdminToken: admin, Cluster: cc, Logger: log,
			Bootstrap: i == 0, NonVoter: !s.voter, Topology: demoTopology(),
		}
		if i > 0 {
			cfg.Join = nodes[0].Addr()
		}
		if stores != nil {
			cfg.TLS = stores[i]
		}
		n, err := node.New(cfg)
		if err != nil {
			return fmt.Errorf("start %s (is another demo running?): %w", s.code, err)
		}
		nodes = append(nodes, n)
	}
	fmt.Printf("innonet demo: starting %d sites (data in %s)...\n", len(nodes), *dir)
	wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := waitForMembers(wctx, nodes, admin); err != nil {
		return err
	}
	ct := &clientTLS{insecure: *plain, ca: filepath.Join(certDir, certs.CACert)}
	tokensPath := filepath.Join(*dir, "tokens.json")
	users, err := seedDemo(wctx, nodes[0].Addr(), ct, admin, tokensPath)
	if err != nil {
		return err
	}
	if users, err = seedPasswords(wctx, nodes[0].Addr(), ct, admin, users, tokensPath); err != nil {
		return err
	}
	printDemo(nodes, users, *dir, ct)
	<-ctx.Done()
	fmt.Println("\ninnonet demo: stopping every site...")
	return nil
}

// demoCerts returns each demo site's certificates, creating the CA and the
// site certificates under dir on first run; nil with insecure.
func demoCerts(dir string, insecure bool, log *slog.Logger) ([]*certs.Store, error) {
	if insecure {
		log.Warn("!!! INSECURE: the demo runs without TLS (--insecure)")
		return nil, nil
	}
	var missing []string
	for _, s := range demoSites {
		if c, _ := certs.SiteFiles(dir, s.code); !fileExists(c) {
			missing = append(missing, s.code)
		}
	}
	if len(missing) > 0 {
		if _, err := certs.Generate(dir, certs.Options{Sites: missing}); err != nil {
			return nil, fmt.Errorf("create demo certificates: %w", err)
		}
	}
	stores := make([]*certs.Store, len(demoSites))
	for i, s := range demoSites {
		c, k := certs.SiteFiles(dir, s.code)
		st, err := certs.Load(certs.Files{Cert: c, Key: k, CA: filepath.Join(dir, certs.CACert)}, log)
		if err != nil {
			return nil, fmt.Errorf("demo certificates of %s: %w", s.code, err)
		}
		stores[i] = st
	}
	return stores, nil
}

func fileExists(name string) bool {
	_, err := os.Stat(name)
	return err == nil
}

// demoAdminToken reads the demo's admin token, creating it on first run.
func demoAdminToken(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		return strings.TrimSpace(string(b)), nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("read admin token: %w", err)
	}
	tok := node.NewToken()
	if err := os.WriteFile(path, []byte(tok+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("save admin token: %w", err)
	}
	return tok, nil
}

// waitForMembers polls until every site is in the leader's configuration,
// every voter has been promoted, and the first admin is known.
func waitForMembers(ctx context.Context, nodes []*node.Node, admin string) error {
	for {
		ok := false
		for _, n := range nodes {
			if !n.Cluster().IsLeader() {
				continue
			}
			st, err := n.Cluster().Status()
			_, uerr := n.State().UserByTokenHash(node.HashToken(admin))
			voters := 0
			for _, m := range st.Members {
				if m.Voter {
					voters++
				}
			}
			ok = err == nil && uerr == nil && len(st.Members) == len(nodes) && voters == demoVoters()
		}
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the sites did not form a cluster in time: %w", ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// demoVoters counts the voting sites of the demo network.
func demoVoters() int {
	n := 0
	for _, s := range demoSites {
		if s.voter {
			n++
		}
	}
	return n
}

type demoClient struct {
	conn    *grpc.ClientConn
	leads   pb.LeadServiceClient
	users   pb.UserServiceClient
	cluster pb.ClusterServiceClient
}

func (c demoClient) as(ctx context.Context, token string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token)
}

// retryUnavailable sends a seeding call again while the young network
// elects or changes its leader (UNAVAILABLE), for up to 30 s. Every write
// of the seeding carries its request ID, so a write that did commit
// before its answer was lost is not made twice.
func retryUnavailable(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	deadline := time.Now().Add(30 * time.Second)
	for wait := 100 * time.Millisecond; ; wait = min(2*wait, time.Second) {
		err := invoker(ctx, method, req, reply, cc, opts...)
		if status.Code(err) != codes.Unavailable || time.Now().Add(wait).After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
	}
}

// seedDemo creates the sample users and leads on first run and returns the
// users with their tokens (read back from tokensPath on later runs).
func seedDemo(ctx context.Context, addr string, ct *clientTLS, admin, tokensPath string) ([]demoUser, error) {
	if b, err := os.ReadFile(tokensPath); err == nil {
		var users []demoUser
		if err := json.Unmarshal(b, &users); err != nil {
			return nil, fmt.Errorf("read %s: %w", tokensPath, err)
		}
		return users, nil
	}
	conn, err := dial(addr, ct, grpc.WithUnaryInterceptor(retryUnavailable))
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	c := demoClient{conn: conn, leads: pb.NewLeadServiceClient(conn), users: pb.NewUserServiceClient(conn),
		cluster: pb.NewClusterServiceClient(conn)}
	// The sub-node and its staff need the site registry, which the leader
	// fills once every site runs this version (log format 2).
	if err := seedSites(ctx, c, admin); err != nil {
		return nil, err
	}
	users := []demoUser{{Name: "admin", Role: "ADMIN", Token: admin}}
	for i, u := range []demoUser{
		{Name: "Li Wei (HQ review)", Role: "HQ_REVIEWER"},
		{Name: "Emily Carter", Role: "NODE_STAFF", Site: "BOS"},
		{Name: "Oliver Hughes", Role: "NODE_STAFF", Site: "CBG"},
		{Name: "Lukas Bauer", Role: "NODE_STAFF", Site: "MUC"},
		{Name: "Noa Levi", Role: "NODE_STAFF", Site: "TLV"},
		{Name: "Zhang Min", Role: "DIVISION", Division: "BOHAI"},
		{Name: "Chen Jie", Role: "DIVISION", Division: "YRD"},
		{Name: "Huang Lei", Role: "DIVISION", Division: "PRD"},
		{Name: "Jonas Weber", Role: "NODE_STAFF", Site: "MUC-TUM"},
	} {
		resp, err := c.users.CreateUser(c.as(ctx, admin), &pb.CreateUserRequest{
			RequestId: fmt.Sprintf("demo-user-%d", i+1), Name: u.Name,
			Role: pb.Role(pb.Role_value[u.Role]), Site: u.Site, Division: u.Division})
		if err != nil {
			return nil, fmt.Errorf("create demo user %s: %w", u.Name, err)
		}
		u.Token = resp.Token
		users = append(users, u)
	}
	tok := func(name string) string {
		for _, u := range users {
			if u.Name == name {
				return u.Token
			}
		}
		return ""
	}
	if err := seedLeads(ctx, c, tok); err != nil {
		return nil, err
	}
	b, _ := json.MarshalIndent(users, "", "  ")
	if err := os.WriteFile(tokensPath, b, 0o600); err != nil {
		return nil, fmt.Errorf("save tokens: %w", err)
	}
	return users, nil
}

// seedPasswords gives every sample user without a password one, random,
// the way a person would get it: the admin invites the user again, and
// the invitation is accepted with the password. Demo folders of older
// versions get theirs on their next start.
func seedPasswords(ctx context.Context, addr string, ct *clientTLS, admin string, users []demoUser, tokensPath string) ([]demoUser, error) {
	if !slices.ContainsFunc(users, func(u demoUser) bool { return u.Password == "" }) {
		return users, nil
	}
	conn, err := dial(addr, ct)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	c := demoClient{conn: conn, users: pb.NewUserServiceClient(conn)}
	for i := range users {
		u := &users[i]
		if u.Password != "" {
			continue
		}
		me, err := c.users.WhoAmI(c.as(ctx, u.Token), &pb.WhoAmIRequest{})
		if err != nil {
			return nil, fmt.Errorf("demo user %s: %w", u.Name, err)
		}
		// A code is shown once: when the answer to the first attempt is
		// lost (a leader change) and the retry is answered as a replay,
		// it carries none, and a new invitation (a new request ID)
		// replaces the first.
		var inv *pb.InviteUserResponse
		for attempt := 0; inv.GetCode() == ""; attempt++ {
			if attempt == 3 {
				return nil, fmt.Errorf("invite demo user %s: no invitation code after %d attempts", me.Name, attempt)
			}
			if inv, err = c.users.InviteUser(c.as(ctx, admin), &pb.InviteUserRequest{RequestId: "demo-invite-" + node.NewToken()[4:20], UserId: me.Id}); err != nil {
				return nil, fmt.Errorf("invite demo user %s: %w", me.Name, err)
			}
		}
		password := "demo-" + node.NewToken()[4:20]
		if _, err := c.users.AcceptInvitation(ctx, &pb.AcceptInvitationRequest{RequestId: "demo-accept-" + inv.InvitationId, Code: inv.Code, Password: password}); err != nil {
			return nil, fmt.Errorf("set the password of demo user %s: %w", me.Name, err)
		}
		u.Name, u.Password = me.Name, password
	}
	b, _ := json.MarshalIndent(users, "", "  ")
	if err := os.WriteFile(tokensPath, b, 0o600); err != nil {
		return nil, fmt.Errorf("save tokens: %w", err)
	}
	return users, nil
}

func seedLeads(ctx context.Context, c demoClient, tok func(string) string) error {
	type sample struct {
		by  string
		req *pb.SubmitLeadRequest
	}
	samples := []sample{
		{"Emily Carter", &pb.SubmitLeadRequest{Title: "Calcineurin-free immunosuppressant for organ transplant",
			Summary:      "Phase II small molecule with lower nephrotoxicity than tacrolimus; seeking a licensing partner and a GMP site in China.",
			Organization: "Harbor Bio Therapeutics", Country: "US", Sector: pb.Sector_LIFE_SCIENCES_HEALTH, Trl: 6,
			DealType: pb.DealType_TECHNOLOGY_LICENSING, Tags: []string{"transplant", "small molecule"}, Language: "en",
			Contacts: []*pb.Contact{{Name: "Dr. Sarah Kim", Email: "s.kim@harborbio.example"}}}},
		{"Emily Carter", &pb.SubmitLeadRequest{Title: "Solid-state electrolyte for EV batteries",
			Summary: "MIT spin-out with a sulfide electrolyte at pilot scale.", Organization: "Voltline Materials",
			Country: "US", Sector: pb.Sector_NEW_ENERGY_VEHICLES, Trl: 4, DealType: pb.DealType_INVESTMENT, Language: "en"}},
		{"Oliver Hughes", &pb.SubmitLeadRequest{Title: "Bioengineering research centre",
			Summary:      "Joint research centre for synthetic biology with a Cambridge institute; 20 researchers in year one.",
			Organization: "Cambridge Synthetic Biology Institute", Country: "GB", Sector: pb.Sector_LIFE_SCIENCES_HEALTH, Trl: 3,
			DealType: pb.DealType_RND_COLLABORATION, Language: "en"}},
		{"Lukas Bauer", &pb.SubmitLeadRequest{Title: "Präzisionsgetriebe für Industrieroboter",
			Summary:      "Mittelständischer Hersteller von Cycloidgetrieben sucht ein Joint Venture für die Fertigung in China.",
			Organization: "Bavaria Präzisionsantriebe GmbH", Country: "DE", Sector: pb.Sector_ADVANCED_MANUFACTURING, Trl: 8,
			DealType: pb.DealType_JOINT_VENTURE, Language: "de"}},
		{"Noa Levi", &pb.SubmitLeadRequest{Title: "Future-chain lab: AI for supply chains",
			Summary:      "מעבדת שרשרת העתיד — AI planning for resilient supply chains; plans a lab and regional headquarters in the zone.",
			Organization: "Negev Future Chain Lab", Country: "IL", Sector: pb.Sector_IT_AI, Trl: 5,
			DealType: pb.DealType_RELOCATION, Language: "he"}},
		{"Noa Levi", &pb.SubmitLeadRequest{Title: "Low-energy desalination membranes",
			Summary: "Graphene-oxide membranes cutting desalination energy by 30%.", Organization: "AquaLayer Ltd",
			Country: "IL", Sector: pb.Sector_ENVIRONMENT_WATER, Trl: 6, DealType: pb.DealType_INVESTMENT, Language: "en"}},
	}
	ids := make([]string, len(samples))
	for i, s := range samples {
		s.req.RequestId = fmt.Sprintf("demo-lead-%d", i+1)
		l, err := c.leads.SubmitLead(c.as(ctx, tok(s.by)), s.req)
		if err != nil {
			return fmt.Errorf("submit sample lead: %w", err)
		}
		ids[i] = l.Id
	}
	hq := c.as(ctx, tok("Li Wei (HQ review)"))
	steps := []func() error{
		func() error {
			return review(c, hq, ids[0], pb.Decision_APPROVE, "Strong fit for the biomedicine cluster.")
		},
		func() error {
			return review(c, hq, ids[1], pb.Decision_RETURN, "Please add the pilot line capacity and the funding round.")
		},
		func() error { return review(c, hq, ids[2], pb.Decision_APPROVE, "") },
		func() error { return review(c, hq, ids[3], pb.Decision_APPROVE, "") },
		func() error { return review(c, hq, ids[4], pb.Decision_APPROVE, "") },
		func() error {
			_, err := c.leads.ClaimLead(c.as(ctx, tok("Chen Jie")), &pb.ClaimLeadRequest{Id: ids[3], RequestId: "demo-claim-1"})
			return err
		},
		func() error {
			_, err := c.leads.AdvanceLead(c.as(ctx, tok("Chen Jie")), &pb.AdvanceLeadRequest{Id: ids[3], RequestId: "demo-adv-1",
				Stage: pb.Stage_NEGOTIATING, Note: "Site visit in Suzhou agreed."})
			return err
		},
		func() error {
			_, err := c.leads.ClaimLead(c.as(ctx, tok("Zhang Min")), &pb.ClaimLeadRequest{Id: ids[2], RequestId: "demo-claim-2"})
			return err
		},
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return fmt.Errorf("seed sample pipeline: %w", err)
		}
	}
	if err := seedOrganizations(ctx, c, tok, ids[3]); err != nil {
		return err
	}
	return seedPlans(ctx, c, tok)
}

// seedPlans stores the divisions' focus profiles, each by its division,
// and this year's targets by HQ, so that matches and reports have
// something to show.
func seedPlans(ctx context.Context, c demoClient, tok func(string) string) error {
	divisions := pb.NewDivisionServiceClient(c.conn)
	for _, p := range []struct {
		by  string
		req *pb.UpdateDivisionProfileRequest
	}{
		{"Zhang Min", &pb.UpdateDivisionProfileRequest{Division: "BOHAI",
			Sectors:  []pb.Sector{pb.Sector_ADVANCED_MANUFACTURING, pb.Sector_NEW_MATERIALS, pb.Sector_ENVIRONMENT_WATER},
			Keywords: []string{"robot", "gearbox", "hydrogen", "desalination", "机器人", "减速器", "氢能", "海水淡化"}, TrlMin: 4, TrlMax: 9, TrlPreferred: 6,
			DealTypes: []pb.DealType{pb.DealType_JOINT_VENTURE, pb.DealType_TECHNOLOGY_LICENSING},
			Enterprises: []*pb.Enterprise{{Name: "津港重工装备集团", NameEn: "Jingang Heavy Equipment Group", City: "天津",
				Needs: "工业机器人精密减速器的国产化", NeedsEn: "precision gearboxes for industrial robots"}}}},
		{"Chen Jie", &pb.UpdateDivisionProfileRequest{Division: "YRD",
			Sectors:  []pb.Sector{pb.Sector_LIFE_SCIENCES_HEALTH, pb.Sector_ELECTRONICS_SEMICONDUCTORS, pb.Sector_IT_AI},
			Keywords: []string{"biomedicine", "small molecule", "chip", "AI", "生物医药", "芯片", "人工智能"}, TrlMin: 3, TrlMax: 8, TrlPreferred: 5,
			DealTypes: []pb.DealType{pb.DealType_TECHNOLOGY_LICENSING, pb.DealType_RND_COLLABORATION},
			Enterprises: []*pb.Enterprise{{Name: "苏州生物医药产业园", NameEn: "Suzhou BioBay", City: "苏州",
				Needs: "器官移植与免疫药物的许可合作", NeedsEn: "licensing of transplant and immunology drugs"}}}},
		{"Huang Lei", &pb.UpdateDivisionProfileRequest{Division: "PRD",
			Sectors:  []pb.Sector{pb.Sector_NEW_ENERGY_VEHICLES, pb.Sector_ELECTRONICS_SEMICONDUCTORS},
			Keywords: []string{"battery", "electrolyte", "consumer electronics", "电池", "电解质", "消费电子"}, TrlMin: 4, TrlMax: 9, TrlPreferred: 5,
			DealTypes: []pb.DealType{pb.DealType_INVESTMENT, pb.DealType_JOINT_VENTURE},
			Enterprises: []*pb.Enterprise{{Name: "深圳新能电池科技", NameEn: "Shenzhen Xinneng Battery", City: "深圳",
				Needs: "固态电池电解质的中试与量产", NeedsEn: "solid-state battery electrolytes from pilot to volume"}}}},
	} {
		p.req.RequestId = "demo-profile-" + p.req.Division
		if _, err := divisions.UpdateDivisionProfile(c.as(ctx, tok(p.by)), p.req); err != nil {
			return fmt.Errorf("seed the profile of %s: %w", p.req.Division, err)
		}
	}
	year := int32(time.Now().Year())
	_, err := pb.NewReportServiceClient(c.conn).UpdateTargets(c.as(ctx, tok("Li Wei (HQ review)")), &pb.UpdateTargetsRequest{
		Year: year, RequestId: fmt.Sprintf("demo-targets-%d", year), Rows: []*pb.TargetRow{
			{Scope: "NETWORK", Pushed: 120, Approved: 60, Signed: 12, Landed: 6, Investment: "500000000", Currency: "CNY", Jobs: 800},
			{Scope: "SITE", Code: "BOS", Pushed: 40, Approved: 20}, {Scope: "SITE", Code: "CBG", Pushed: 25, Approved: 12},
			{Scope: "SITE", Code: "MUC", Pushed: 30, Approved: 15}, {Scope: "SITE", Code: "TLV", Pushed: 25, Approved: 13},
			{Scope: "DIVISION", Code: "BOHAI", Signed: 4, Landed: 2}, {Scope: "DIVISION", Code: "YRD", Signed: 5, Landed: 2},
			{Scope: "DIVISION", Code: "PRD", Signed: 3, Landed: 2},
		}})
	if err != nil {
		return fmt.Errorf("seed this year's targets: %w", err)
	}
	return nil
}

// seedSites waits for the leader to register the demo's sites, then
// registers Munich's partner university as a sub-node.
func seedSites(ctx context.Context, c demoClient, admin string) error {
	for {
		resp, err := c.cluster.ListSites(c.as(ctx, admin), &pb.ListSitesRequest{})
		if err == nil && slices.ContainsFunc(resp.Sites, func(s *pb.Site) bool { return s.Code == "MUC" && s.Registered }) {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the site registry was not filled in time (does every site run this version?): %w", ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
	_, err := c.cluster.CreateSite(c.as(ctx, admin), &pb.CreateSiteRequest{RequestId: "demo-site-1", Code: "MUC-TUM",
		Parent: "MUC", Name: "Technische Universität München", Kind: pb.Site_UNIVERSITY})
	if err != nil {
		return fmt.Errorf("register the demo's sub-node: %w", err)
	}
	return nil
}

// seedOrganizations adds sample organisations and local enterprises, a
// lead of Munich's sub-node linked to its organisation, and deal terms on
// the lead YRD negotiates (claimed).
func seedOrganizations(ctx context.Context, c demoClient, tok func(string) string, claimed string) error {
	orgs := []struct {
		by  string
		req *pb.CreateOrganizationRequest
	}{
		{"Jonas Weber", &pb.CreateOrganizationRequest{Kind: pb.Organization_UNIVERSITY, Name: "Technische Universität München",
			NameEn: "Technical University of Munich", OtherNames: []string{"TUM", "慕尼黑工业大学"}, Country: "DE",
			Website: "https://www.tum.de", City: "München"}},
		{"Emily Carter", &pb.CreateOrganizationRequest{Kind: pb.Organization_STARTUP, Name: "Harbor Bio Therapeutics",
			OtherNames: []string{"哈伯生物"}, Country: "US", City: "Boston"}},
		{"Chen Jie", &pb.CreateOrganizationRequest{Kind: pb.Organization_LOCAL_ENTERPRISE, Name: "苏州精密传动有限公司",
			NameEn: "Suzhou Precision Drives Co.", City: "Suzhou", Division: "YRD",
			LookingFor: "Gearbox technology for industrial robots; a joint-venture partner."}},
		{"Zhang Min", &pb.CreateOrganizationRequest{Kind: pb.Organization_LOCAL_ENTERPRISE, Name: "天津生物医药集团",
			NameEn: "Tianjin Biomedicine Group", City: "Tianjin", Division: "BOHAI", LookingFor: "Licensed drug candidates."}},
	}
	ids := make([]string, len(orgs))
	for i, o := range orgs {
		o.req.RequestId = fmt.Sprintf("demo-org-%d", i+1)
		got, err := c.leads.CreateOrganization(c.as(ctx, tok(o.by)), o.req)
		if err != nil {
			return fmt.Errorf("create sample organization: %w", err)
		}
		ids[i] = got.Id
	}
	if _, err := c.leads.SubmitLead(c.as(ctx, tok("Jonas Weber")), &pb.SubmitLeadRequest{RequestId: "demo-lead-tum",
		Title: "Festkörperbatterie mit Sulfid-Elektrolyt", Summary: "Ausgründung der TUM: Pilotlinie für Festkörperzellen, sucht Partner für die Serienfertigung.",
		OrganizationId: ids[0], Country: "DE", Sector: pb.Sector_NEW_ENERGY_VEHICLES, Trl: 5, DealType: pb.DealType_JOINT_VENTURE,
		Language: "de"}); err != nil {
		return fmt.Errorf("submit the sub-node's sample lead: %w", err)
	}
	_, err := c.leads.UpdateDealTerms(c.as(ctx, tok("Chen Jie")), &pb.UpdateDealTermsRequest{RequestId: "demo-deal-1", Id: claimed,
		PartnerId: proto.String(ids[2]), Amount: proto.String("42000000"), Currency: proto.String("CNY"), Jobs: proto.Int32(120),
		ExpectedSigningDate: proto.String("2027-03-31"), ExpectedLandingDate: proto.String("2027-10-01"),
		NextStep: proto.String("Site visit in Suzhou with the partner's board.")})
	if err != nil {
		return fmt.Errorf("record sample deal terms: %w", err)
	}
	return nil
}

func review(c demoClient, ctx context.Context, id string, d pb.Decision, comment string) error {
	_, err := c.leads.ReviewLead(ctx, &pb.ReviewLeadRequest{Id: id, RequestId: "demo-review-" + id, Decision: d, Comment: comment})
	return err
}

func printDemo(nodes []*node.Node, users []demoUser, dir string, ct *clientTLS) {
	scheme, curl, env := "https", "curl --cacert "+ct.ca, "INNONET_CA="+ct.ca+" "
	if ct.insecure {
		scheme, curl, env = "http", "curl", "INNONET_INSECURE=1 "
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "\nSITE\tNAME\tRAFT ROLE\tAPI (gRPC + REST)\tRAFT\t")
	for i, n := range nodes {
		role := "voter"
		if !demoSites[i].voter {
			role = "non-voter"
		}
		if n.Cluster().IsLeader() {
			role += " (leader)"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s://%s\t%s\t\n", n.Site(), demoSites[i].name, role, scheme, n.Addr(), n.Cluster().RaftAddr())
	}
	w.Flush()
	fmt.Printf("\nSample tokens (kept in %s):\n", filepath.Join(dir, "tokens.json"))
	w = tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	for _, u := range users {
		bound := u.Site + u.Division
		fmt.Fprintf(w, "  %s\t%s\t%s\t%s\t\n", u.Role, bound, u.Name, u.Token)
	}
	w.Flush()
	fmt.Println("\nWeb console (any site):")
	for _, n := range nodes {
		fmt.Printf("  %s://%s/\n", scheme, n.Addr())
	}
	fmt.Println("\nSign in to the console (passwords kept in the same file):")
	w = tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	for _, u := range users {
		if u.Password != "" {
			fmt.Fprintf(w, "  sign in as %s / %s\t(%s)\t\n", u.Name, u.Password, strings.TrimSpace(u.Role+" "+u.Site+u.Division))
		}
	}
	w.Flush()
	fmt.Printf(`
Try it (any site answers; writes are forwarded to the leader):
  TOKEN=<an HQ_REVIEWER token above>
  %[1]s -s -H "Authorization: Bearer $TOKEN" %[2]s://%[3]s/v1/leads
  %[1]s -s -H "Authorization: Bearer $TOKEN" '%[2]s://%[4]s/v1/leads?stage=SUBMITTED&consistency=STALE'
  %[1]s -s -H "Authorization: Bearer $TOKEN" %[2]s://%[5]s/v1/cluster

Or with the CLI (in another terminal; 'go build -o innonet ./cmd/innonet' first):
  export %[6]sINNONET_ADDR=%[3]s INNONET_TOKEN=$TOKEN
  ./innonet lead list --consistency linearizable
  ./innonet cluster status
  INNONET_TOKEN=$(cat %[7]s) ./innonet backup --out demo.backup

Metrics (ADMIN token): %[1]s -s -H "Authorization: Bearer $(cat %[7]s)" %[2]s://%[5]s/metrics
Readiness: %[2]s://%[5]s/readyz

Press Ctrl-C to stop every site. Run 'innonet demo' again to resume.
`, curl, scheme, nodes[1].Addr(), nodes[6].Addr(), nodes[0].Addr(), env, filepath.Join(dir, "admin.token"))
}
