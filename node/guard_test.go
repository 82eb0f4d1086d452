package node

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"innonet/node/guard"
	innonetpb "innonet/proto/innonet/v1"
)

// testLimits are the limits of every test site. The package's tests run
// every client from one loopback address and poll with one token for
// seconds: the brute-force and per-token limits are lifted for them. The
// tests of those limits lower them again (withLimits).
func testLimits() Limits {
	l := DefaultLimits()
	l.AuthFailures, l.AuthGlobalRate = 1<<30, 1e9
	l.TokenRate, l.TokenBurst = 1e9, 1<<30
	return l
}

// withLimits changes the limits of a test site's configuration.
func withLimits(change func(*Limits)) func(*Config) {
	return func(c *Config) { change(&c.Limits) }
}

// attackerIP is a second loopback address, so a test can tell one client
// address from another (the sites themselves talk on 127.0.0.1).
const attackerIP = "127.0.0.2"

func localDialer(ip string) *net.Dialer {
	return &net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
}

// connFrom dials site n's gRPC API from the local address ip.
func (tc *testCluster) connFrom(n *Node, ip string) *grpc.ClientConn {
	tc.t.Helper()
	c, err := grpc.NewClient(n.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithContextDialer(func(ctx context.Context, addr string) (net.Conn, error) {
			return localDialer(ip).DialContext(ctx, "tcp", addr)
		}))
	if err != nil {
		tc.t.Fatal(err)
	}
	tc.t.Cleanup(func() { c.Close() })
	return c
}

// clientsFrom is clients for a connection from the local address ip.
func (tc *testCluster) clientsFrom(n *Node, ip, token string) testClients {
	tc.t.Helper()
	c := tc.connFrom(n, ip)
	return testClients{token: token, leads: innonetpb.NewLeadServiceClient(c),
		users: innonetpb.NewUserServiceClient(c), clusters: innonetpb.NewClusterServiceClient(c)}
}

// restFrom sends one REST request to site n from the local address ip,
// with more headers as name, value pairs, and returns the status, headers
// and body.
func restFrom(t *testing.T, n *Node, ip, method, path, token string, body io.Reader, headers ...string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+n.Addr()+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Add(headers[i], headers[i+1])
	}
	hc := &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{DialContext: localDialer(ip).DialContext}}
	defer hc.CloseIdleConnections()
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("%s %s from %s: %v", method, path, ip, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s from %s: read body: %v", method, path, ip, err)
	}
	return resp.StatusCode, resp.Header, raw
}

// securityLines reads site n's security log: the raw text and the records.
func securityLines(t *testing.T, n *Node) (string, []guard.Record) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(n.cfg.DataDir, guard.LogName))
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var recs []guard.Record
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		var r guard.Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("security log line %q: %v", sc.Text(), err)
		}
		recs = append(recs, r)
	}
	return string(raw), recs
}

// countKind counts the records of kind from client.
func countKind(recs []guard.Record, kind guard.Kind, client string) int {
	n := 0
	for _, r := range recs {
		if r.Kind == kind && (client == "" || r.Client == client) {
			n++
		}
	}
	return n
}

// checkNoSecrets fails t if the security log text holds any of secrets,
// their hashes or an Authorization header value.
func checkNoSecrets(t *testing.T, text string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if strings.Contains(text, s) || strings.Contains(text, HashToken(s)) {
			t.Errorf("security log holds token material %.12s...:\n%s", s, text)
		}
	}
	if strings.Contains(text, "Bearer") || strings.Contains(text, "inn_") {
		t.Errorf("security log holds an authorization header or a token:\n%s", text)
	}
}

func securityCount(t *testing.T, n *Node, kind guard.Kind) float64 {
	t.Helper()
	return scrapeMetrics(t, n).value(t, "innonet_security_events_total", "kind", string(kind))
}

func totalLeads(n *Node) int {
	total := 0
	for _, c := range n.State().CountsBySite() {
		total += c
	}
	return total
}

// TestGuardBruteForce: failed authentications from one address through a
// follower block that address at the follower (gRPC, REST and the backup
// stream alike), not other addresses, and not the follower itself at the
// leader; the security log has each failure without token material.
func TestGuardBruteForce(t *testing.T) {
	const failures = 4
	tc := newTestCluster(t, []string{"CGO"}, []string{"YRD"}, withLimits(func(l *Limits) {
		l.AuthFailures, l.AuthWindow, l.AuthCooldown, l.AuthMaxCooldown = failures, time.Minute, time.Minute, 4*time.Minute
	}))
	leader, follower := tc.node("CGO"), tc.node("YRD")
	admin := tc.clients(leader, testAdminToken)
	created, err := admin.users.CreateUser(admin.ctx(t), &innonetpb.CreateUserRequest{
		RequestId: rid(), Name: "Emily Carter", Role: innonetpb.Role_NODE_STAFF, Site: "BOS"})
	if err != nil {
		t.Fatal(err)
	}
	staff, staffID := created.Token, created.User.Id
	tc.waitFor("the user on YRD", func() bool { _, err := follower.State().UserByTokenHash(HashToken(staff)); return err == nil })

	// Half the guesses over gRPC, half over REST with a made-up client
	// address, which counts for nothing.
	var guesses []string
	for i := 0; i < failures; i++ {
		guess := NewToken()
		guesses = append(guesses, guess)
		if i%2 == 0 {
			c := tc.clientsFrom(follower, attackerIP, guess)
			_, err := c.leads.SubmitLead(c.ctx(t), sampleLead("Guess"))
			checkStatus(t, err, codes.Unauthenticated)
			continue
		}
		spoofed := []string{"203.0.113.9", "\xff"}[i/2%2]
		body := strings.NewReader(`{"requestId":"` + rid() + `","title":"T","summary":"S","organization":"O","country":"US","sector":"IT_AI","trl":4,"dealType":"INVESTMENT"}`)
		if code, _, raw := restFrom(t, follower, attackerIP, "POST", "/v1/leads", guess, body, "X-Forwarded-For", spoofed); code != http.StatusUnauthorized {
			t.Fatalf("REST guess: got %d %s, want 401", code, raw)
		}
	}

	t.Run("the address is blocked, even with a valid token", func(t *testing.T) {
		c := tc.clientsFrom(follower, attackerIP, staff)
		var header metadata.MD
		_, err := c.leads.SubmitLead(c.ctx(t), sampleLead("Blocked"), grpc.Header(&header))
		checkStatus(t, err, codes.ResourceExhausted, "too many failed authentications from "+attackerIP, "retry after")
		if got := header.Get("retry-after"); len(got) != 1 || got[0] == "0" {
			t.Errorf("got retry-after metadata %v, want a number of seconds", got)
		}
		_, _, err = backupGRPC(c.ctx(t), c)
		checkStatus(t, err, codes.ResourceExhausted, "too many failed authentications")
	})
	t.Run("REST from the address gets 429", func(t *testing.T) {
		for _, path := range []string{"/v1/leads", "/v1/backup"} {
			code, hdr, body := restFrom(t, follower, attackerIP, "GET", path, staff, nil)
			if code != http.StatusTooManyRequests || hdr.Get("Retry-After") == "" || !strings.Contains(string(body), "too many failed authentications") {
				t.Errorf("GET %s: got %d, Retry-After %q, %s; want 429 with Retry-After", path, code, hdr.Get("Retry-After"), body)
			}
		}
	})
	t.Run("another address is not blocked", func(t *testing.T) {
		c := tc.clients(follower, staff)
		if _, err := c.leads.SubmitLead(c.ctx(t), sampleLead("From another address")); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("the leader blocks neither the follower nor the client", func(t *testing.T) {
		// The failures came to the leader forwarded by YRD: YRD counted
		// them, with the client's address.
		c := tc.clientsFrom(leader, attackerIP, staff)
		if _, err := c.leads.SubmitLead(c.ctx(t), sampleLead("Straight to the leader")); err != nil {
			t.Fatal(err)
		}
		if text, _ := securityLines(t, leader); strings.Contains(text, attackerIP) {
			t.Errorf("the leader logged the forwarded failures too:\n%s", text)
		}
	})
	t.Run("a denial is logged with the user", func(t *testing.T) {
		c := tc.clients(follower, staff)
		_, err := c.users.ListUsers(c.ctx(t), &innonetpb.ListUsersRequest{})
		checkStatus(t, err, codes.PermissionDenied)
	})
	t.Run("nothing changed but the allowed writes", func(t *testing.T) {
		tc.waitFor("YRD caught up", func() bool { return totalLeads(follower) == 2 })
		if got := totalLeads(leader); got != 2 {
			t.Errorf("got %d leads, want the 2 submitted by allowed requests", got)
		}
	})
	t.Run("security log", func(t *testing.T) {
		text, recs := securityLines(t, follower)
		checkNoSecrets(t, text, append(guesses, staff, testAdminToken)...)
		if got := countKind(recs, guard.Unauthenticated, attackerIP); got != failures {
			t.Errorf("got %d unauthenticated events from %s, want %d:\n%s", got, attackerIP, failures, text)
		}
		// The block itself, the two gRPC and the two REST requests refused.
		if got := countKind(recs, guard.Throttled, attackerIP); got != 5 {
			t.Errorf("got %d throttled events from %s, want 5:\n%s", got, attackerIP, text)
		}
		var denied *guard.Record
		for i, r := range recs {
			if r.Kind == guard.Unauthenticated && (r.Site != "YRD" || r.Method != innonetpb.LeadService_SubmitLead_FullMethodName ||
				r.Code != "Unauthenticated" || r.Reason == "" || r.Time.IsZero() || r.Client != attackerIP) {
				t.Errorf("got record %+v, want site, method, code, reason and time", r)
			}
			if r.Kind == guard.PermissionDenied {
				denied = &recs[i]
			}
		}
		if denied == nil || denied.User != staffID || denied.Client != "127.0.0.1" || !strings.Contains(denied.Reason, "ADMIN") {
			t.Errorf("got denial record %+v, want user %s from 127.0.0.1 needing ADMIN", denied, staffID)
		}
		fi, err := os.Stat(filepath.Join(follower.cfg.DataDir, guard.LogName))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("got security log mode %v, want 0600", fi.Mode().Perm())
		}
	})
	t.Run("metrics", func(t *testing.T) {
		for kind, want := range map[guard.Kind]float64{guard.Unauthenticated: failures, guard.Throttled: 5, guard.PermissionDenied: 1, guard.RateLimited: 0} {
			if got := securityCount(t, follower, kind); got != want {
				t.Errorf("got innonet_security_events_total{kind=%q} %v, want %v", kind, got, want)
			}
		}
	})
}

// TestGuardRateLimit: one token over its rate gets RESOURCE_EXHAUSTED on
// gRPC and 429 on REST, another token does not, and the refused writes
// change nothing.
func TestGuardRateLimit(t *testing.T) {
	const burst = 3
	// Scrapes with the admin token would spend its burst: serve the
	// metrics to anyone.
	tc := newTestCluster(t, []string{"CGO"}, nil, withLimits(func(l *Limits) { l.TokenRate, l.TokenBurst = 0.001, burst }),
		func(c *Config) { c.MetricsPublic = true })
	n := tc.node("CGO")
	admin := tc.clients(n, testAdminToken)
	var tokens, ids []string
	for _, name := range []string{"Emily Carter", "Sofia Rossi"} {
		created, err := admin.users.CreateUser(admin.ctx(t), &innonetpb.CreateUserRequest{
			RequestId: rid(), Name: name, Role: innonetpb.Role_NODE_STAFF, Site: "BOS"})
		if err != nil {
			t.Fatal(err)
		}
		tokens, ids = append(tokens, created.Token), append(ids, created.User.Id)
	}

	t.Run("gRPC", func(t *testing.T) {
		c := tc.clients(n, tokens[0])
		for i := 0; i < burst; i++ {
			if _, err := c.leads.SubmitLead(c.ctx(t), sampleLead("Within the burst")); err != nil {
				t.Fatalf("request %d: %v", i+1, err)
			}
		}
		var header metadata.MD
		_, err := c.leads.SubmitLead(c.ctx(t), sampleLead("Over the limit"), grpc.Header(&header))
		checkStatus(t, err, codes.ResourceExhausted, "too many requests with this token", "retry after")
		if len(header.Get("retry-after")) != 1 {
			t.Errorf("got header %v, want retry-after", header)
		}
	})
	t.Run("REST", func(t *testing.T) {
		body := func() io.Reader {
			return strings.NewReader(`{"requestId":"` + rid() + `","title":"T","summary":"S","organization":"O","country":"US","sector":"IT_AI","trl":4,"dealType":"INVESTMENT"}`)
		}
		for i := 0; i < burst; i++ {
			if code, _, raw := restFrom(t, n, "127.0.0.1", "POST", "/v1/leads", tokens[1], body()); code != http.StatusOK {
				t.Fatalf("request %d: got %d %s, want 200", i+1, code, raw)
			}
		}
		code, hdr, raw := restFrom(t, n, "127.0.0.1", "POST", "/v1/leads", tokens[1], body())
		var st struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		}
		if err := json.Unmarshal(raw, &st); err != nil {
			t.Fatalf("got body %q: %v", raw, err)
		}
		if code != http.StatusTooManyRequests || st.Code != int(codes.ResourceExhausted) || !strings.Contains(st.Message, "too many requests") || hdr.Get("Retry-After") == "" {
			t.Errorf("got %d %s, Retry-After %q; want 429, code 8 and Retry-After", code, raw, hdr.Get("Retry-After"))
		}
	})
	t.Run("another token still works", func(t *testing.T) {
		if _, err := admin.users.WhoAmI(admin.ctx(t), &innonetpb.WhoAmIRequest{}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("refused writes changed nothing", func(t *testing.T) {
		if got := totalLeads(n); got != 2*burst {
			t.Errorf("got %d leads, want %d", got, 2*burst)
		}
	})
	t.Run("security log and metric", func(t *testing.T) {
		text, recs := securityLines(t, n)
		checkNoSecrets(t, text, append(tokens, testAdminToken)...)
		users := map[string]bool{}
		for _, r := range recs {
			if r.Kind == guard.RateLimited {
				users[r.User] = true
			}
		}
		if len(users) != 2 || !users[ids[0]] || !users[ids[1]] {
			t.Errorf("got rate_limited events for users %v, want %v:\n%s", users, ids, text)
		}
		if got := securityCount(t, n, guard.RateLimited); got != 2 {
			t.Errorf("got %v rate_limited events, want 2", got)
		}
	})
}

// TestGuardForgedForward: a client that claims to forward for a site
// (here with an origin that contradicts the forwarder, which is refused
// even without TLS) is refused, logged and blocked under its own address,
// not the client address it names.
func TestGuardForgedForward(t *testing.T) {
	const failures = 3
	tc := newTestCluster(t, []string{"CGO"}, nil, withLimits(func(l *Limits) { l.AuthFailures, l.AuthCooldown = failures, time.Minute }))
	n := tc.node("CGO")
	const victim = "198.51.100.77"
	c := tc.clientsFrom(n, attackerIP, testAdminToken)
	for i := 0; i < failures; i++ {
		ctx := metadata.AppendToOutgoingContext(c.ctx(t), mdForwardedBy, "BOS", mdOrigin, "MUC", mdClientAddr, victim)
		_, err := c.users.WhoAmI(ctx, &innonetpb.WhoAmIRequest{})
		checkStatus(t, err, codes.PermissionDenied, "on behalf of another site")
	}
	_, err := c.users.WhoAmI(c.ctx(t), &innonetpb.WhoAmIRequest{})
	checkStatus(t, err, codes.ResourceExhausted, "too many failed authentications from "+attackerIP)
	text, recs := securityLines(t, n)
	if got := countKind(recs, guard.ForgedForward, attackerIP); got != failures || strings.Contains(text, victim) {
		t.Errorf("got %d forged_forward events from %s, want %d, and none naming %s:\n%s", got, attackerIP, failures, victim, text)
	}
}

// TestGuardLockoutNAT: one person behind an office's NAT address who
// keeps failing with a mistyped token blocks that token from that
// address, not the address: a colleague there keeps working, the person
// too once the token is typed right, and the mistyped token from
// elsewhere is only refused, not blocked.
func TestGuardLockoutNAT(t *testing.T) {
	const failures = 4
	tc := newTestCluster(t, []string{"CGO"}, nil, withLimits(func(l *Limits) { l.AuthFailures = failures }))
	n := tc.node("CGO")
	emily := tc.addUser("Emily Carter", innonetpb.Role_NODE_STAFF, "BOS", "")
	sofia := tc.addUser("Sofia Rossi", innonetpb.Role_NODE_STAFF, "MUC", "")
	typo := emily[:len(emily)-1] + "x"
	if typo == emily {
		typo = emily[:len(emily)-1] + "y"
	}
	whoami := func(ip, token string) error {
		c := tc.clientsFrom(n, ip, token)
		_, err := c.users.WhoAmI(c.ctx(t), &innonetpb.WhoAmIRequest{})
		return err
	}
	const office = attackerIP
	for i := 0; i < failures; i++ {
		checkStatus(t, whoami(office, typo), codes.Unauthenticated)
	}

	t.Run("the mistyped token is blocked at the address", func(t *testing.T) {
		checkStatus(t, whoami(office, typo), codes.ResourceExhausted, "too many failed authentications from "+office+" with this token", "retry after")
		code, hdr, body := restFrom(t, n, office, "GET", "/v1/me", typo, nil)
		if code != http.StatusTooManyRequests || hdr.Get("Retry-After") == "" {
			t.Errorf("REST: got %d, Retry-After %q, %s; want 429 with Retry-After", code, hdr.Get("Retry-After"), body)
		}
	})
	t.Run("a colleague at the address keeps working", func(t *testing.T) {
		if err := whoami(office, sofia); err != nil {
			t.Fatalf("gRPC: %v", err)
		}
		if code, _, body := restFrom(t, n, office, "GET", "/v1/me", sofia, nil); code != http.StatusOK {
			t.Errorf("REST: got %d %s, want 200", code, body)
		}
	})
	t.Run("the token typed right works", func(t *testing.T) {
		if err := whoami(office, emily); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("another wrong token from the address is only refused", func(t *testing.T) {
		checkStatus(t, whoami(office, NewToken()), codes.Unauthenticated)
	})
	t.Run("the mistyped token from elsewhere is only refused", func(t *testing.T) {
		checkStatus(t, whoami("127.0.0.3", typo), codes.Unauthenticated)
	})
	t.Run("security log", func(t *testing.T) {
		text, recs := securityLines(t, n)
		checkNoSecrets(t, text, emily, typo, sofia, testAdminToken)
		blocks := 0
		for _, r := range recs {
			if r.Kind == guard.Throttled && strings.Contains(r.Reason, "with one token") {
				blocks++
			}
		}
		if blocks != 1 {
			t.Errorf("got %d token blocks, want 1:\n%s", blocks, text)
		}
	})
}

// TestGuardLockoutRotatingAddresses: guesses spread over 30 addresses,
// each under the limit of one address, meet the site's ceiling on failed
// authentications per second: past it the site refuses every token it
// does not hold valid, from any address, while valid tokens keep working.
func TestGuardLockoutRotatingAddresses(t *testing.T) {
	const (
		addrs   = 30
		perAddr = 9
		limit   = 10
		rate    = 1.0 // failures per second, in bursts of 10
	)
	tc := newTestCluster(t, []string{"CGO"}, nil, withLimits(func(l *Limits) {
		l.AuthFailures, l.AuthGlobalRate, l.AuthGlobalCooldown = limit, rate, time.Minute
	}))
	n := tc.node("CGO")
	staff := tc.addUser("Emily Carter", innonetpb.Role_NODE_STAFF, "BOS", "")

	start := time.Now()
	judged, refused := 0, 0
	for i := 0; i < addrs; i++ {
		c := tc.clientsFrom(n, fmt.Sprintf("127.0.0.%d", 10+i), "")
		for j := 0; j < perAddr; j++ {
			ctx, cancel := context.WithTimeout(withToken(context.Background(), NewToken()), 15*time.Second)
			_, err := c.users.WhoAmI(ctx, &innonetpb.WhoAmIRequest{})
			cancel()
			switch status.Code(err) {
			case codes.Unauthenticated:
				judged++
			case codes.ResourceExhausted:
				refused++
				checkStatus(t, err, codes.ResourceExhausted, "too many failed authentications at this site", "retry after")
			default:
				t.Fatalf("guess %d from address %d: got %v, want UNAUTHENTICATED or RESOURCE_EXHAUSTED", j, i, err)
			}
		}
	}
	// The burst, the failure that ends it, and what the bucket gained
	// meanwhile.
	most := int(10*rate) + 1 + int(rate*time.Since(start).Seconds()+1)
	if judged > most || judged+refused != addrs*perAddr {
		t.Errorf("got %d of %d guesses judged and %d refused, want at most %d judged", judged, addrs*perAddr, refused, most)
	}
	t.Logf("%d of %d guesses from %d addresses judged, %d refused", judged, addrs*perAddr, addrs, refused)

	t.Run("valid tokens keep working, from any address", func(t *testing.T) {
		for _, ip := range []string{"127.0.0.10", "127.0.0.60"} {
			c := tc.clientsFrom(n, ip, staff)
			if _, err := c.users.WhoAmI(c.ctx(t), &innonetpb.WhoAmIRequest{}); err != nil {
				t.Errorf("gRPC from %s: %v", ip, err)
			}
			if code, _, body := restFrom(t, n, ip, "GET", "/v1/me", staff, nil); code != http.StatusOK {
				t.Errorf("REST from %s: got %d %s, want 200", ip, code, body)
			}
		}
	})
	t.Run("a guess from a fresh address is refused", func(t *testing.T) {
		c := tc.clientsFrom(n, "127.0.0.61", NewToken())
		_, err := c.users.WhoAmI(c.ctx(t), &innonetpb.WhoAmIRequest{})
		checkStatus(t, err, codes.ResourceExhausted, "too many failed authentications at this site")
		code, hdr, body := restFrom(t, n, "127.0.0.62", "GET", "/v1/me", NewToken(), nil)
		if code != http.StatusTooManyRequests || hdr.Get("Retry-After") == "" {
			t.Errorf("REST: got %d, Retry-After %q, %s; want 429 with Retry-After", code, hdr.Get("Retry-After"), body)
		}
	})
	t.Run("security log", func(t *testing.T) {
		text, recs := securityLines(t, n)
		checkNoSecrets(t, text, staff, testAdminToken)
		lockdowns := 0
		for _, r := range recs {
			if r.Kind == guard.Throttled && strings.Contains(r.Reason, "across all addresses") {
				lockdowns++
			}
		}
		if lockdowns != 1 {
			t.Errorf("got %d lock-downs logged, want 1:\n%.2000s", lockdowns, text)
		}
	})
}
