package node

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	innonetpb "innonet/proto/innonet/v1"
)

var (
	consoleBenchLeads = flag.Int("console.leads", 10000, "leads on the site in BenchmarkConsolePages")
	// -cpuprofile would profile the loading too, which takes most of the
	// run.
	consoleBenchProfile = flag.String("console.cpuprofile", "", "write a CPU profile of BenchmarkConsolePages's timed pages (not the loading) to `file`")
)

// BenchmarkConsolePages measures the console's pages on a site that holds
// -console.leads leads in a realistic spread of stages. Each iteration is
// one GET over loopback with a kept-alive connection, so its latency is
// the server's time plus a loopback round trip; p50-ms and p99-ms are of
// those latencies. The leads are loaded once, through the gRPC API,
// before the first page is timed. Run it with
//
//	go test -run '^$' -bench 'BenchmarkConsolePages' -benchtime 300x -timeout 30m -v ./node/ -console.leads 10000
func BenchmarkConsolePages(b *testing.B) {
	f := newConsoleFixture(b, *consoleBenchLeads)
	pages := []struct {
		name, path string
		as         string // token
		want       func(i int) string
	}{
		{"inbox", "/", f.hq, f.first(f.hq, &innonetpb.ListLeadsRequest{Stage: []innonetpb.Stage{innonetpb.Stage_SUBMITTED}, OrderBy: "stageTime"})},
		{"board", "/leads?view=board", f.hq, f.first(f.hq, &innonetpb.ListLeadsRequest{Stage: []innonetpb.Stage{innonetpb.Stage_NEGOTIATING}, OrderBy: "-stageTime"})},
		{"division-home", "/", f.div, f.first(f.div, &innonetpb.ListLeadsRequest{Stage: []innonetpb.Stage{innonetpb.Stage_APPROVED}, OrderBy: "-stageTime"})},
		{"pipeline-table", "/leads", f.hq, f.first(f.hq, &innonetpb.ListLeadsRequest{OrderBy: "-updateTime"})},
		{"lead", "", f.hq, func(i int) string { return f.shown[i%len(f.shown)] }},
	}
	if *consoleBenchProfile != "" {
		out, err := os.Create(*consoleBenchProfile)
		if err != nil {
			b.Fatal(err)
		}
		if err := pprof.StartCPUProfile(out); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() {
			pprof.StopCPUProfile()
			out.Close()
		})
	}
	for _, p := range pages {
		b.Run(p.name, func(b *testing.B) {
			br := newBenchBrowser(b, f.n, p.as)
			path := func(i int) string {
				if p.path == "" {
					return "/leads/" + p.want(i)
				}
				return p.path
			}
			br.get(path(0), p.want(0)) // warm-up: connection, caches
			latencies := make([]time.Duration, b.N)
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				latencies[i] = br.get(path(i), p.want(i))
			}
			b.StopTimer()
			slices.Sort(latencies)
			b.ReportMetric(float64(latencies[len(latencies)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(latencies[len(latencies)*99/100].Microseconds())/1000, "p99-ms")
			b.ReportMetric(float64(latencies[len(latencies)-1].Microseconds())/1000, "max-ms")
			b.ReportMetric(float64(br.bytes/int64(b.N+1)), "page-bytes")
		})
	}
}

// consoleFixture is a one-site cluster loaded with leads, and the tokens
// of the users who look at it.
type consoleFixture struct {
	tc      *testCluster
	n       *Node
	hq, div string
	// shown are leads of every stage for the lead page, most with a
	// history of several steps.
	shown []string
}

// newConsoleFixture submits total leads from node staff at several sites,
// 32 at a time, and moves each along as its index says: 30% stay
// submitted, 10% are returned, 5% declined, 55% approved; of all leads
// 30% are then claimed by a division, of which a third go on to
// negotiating, a fifth to signed and an eighth are closed (lost).
func newConsoleFixture(b *testing.B, total int) *consoleFixture {
	b.Helper()
	began := time.Now()
	// The test profile checkpoints every 2 s, and every checkpoint hashes
	// the whole state: with 10,000 leads that is work enough to show in
	// the pages' times. Sites check every 5 minutes (profiles lan and
	// wan), as this site does here.
	tc := newTestCluster(b, []string{"CGO"}, nil, func(c *Config) { c.Cluster.CheckpointInterval = 5 * time.Minute })
	n := tc.node("CGO")
	f := &consoleFixture{tc: tc, n: n}
	var staff []testClients
	for _, s := range []string{"MUC", "BOS", "CBG", "TLV"} {
		staff = append(staff, tc.clients(n, tc.addUser("Staff "+s, innonetpb.Role_NODE_STAFF, s, "")))
	}
	f.hq = tc.addUser("Reviewer", innonetpb.Role_HQ_REVIEWER, "", "")
	hq := tc.clients(n, f.hq)
	var divs []testClients
	for _, d := range []string{"YRD", "BOHAI", "PRD"} {
		tok := tc.addUser("Division "+d, innonetpb.Role_DIVISION, "", d)
		if d == "YRD" {
			f.div = tok
		}
		divs = append(divs, tc.clients(n, tok))
	}

	var (
		next     atomic.Int64
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
	)
	shownEvery := max(total/50, 1)
	for range 32 {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= total {
					return
				}
				id, err := loadLead(i, staff[i%len(staff)], hq, divs[i%len(divs)])
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = fmt.Errorf("lead %d: %w", i, err)
				}
				if err == nil && i%shownEvery == 0 {
					f.shown = append(f.shown, id)
				}
				mu.Unlock()
				if err != nil {
					return
				}
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		b.Fatal(firstErr)
	}
	b.Logf("loaded %d leads in %s", total, time.Since(began).Round(time.Millisecond))
	// Compact the log now, so that no snapshot is taken while pages are
	// timed.
	if err := n.Cluster().Snapshot(); err != nil {
		b.Fatal(err)
	}
	return f
}

// loadLead submits lead i and moves it to the stage its index picks.
func loadLead(i int, staff, hq, div testClients) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	req := sampleLead(fmt.Sprintf("Lead %d: %s", i, benchTitles[i%len(benchTitles)]))
	req.Summary = strings.Repeat("A technology with a partner abroad, ready for a pilot in China. ", 1+i%6)
	req.Sector = innonetpb.Sector(1 + i%8)
	req.Country = []string{"DE", "US", "GB", "IL", "SG", "FR", "JP"}[i%7]
	req.Trl = int32(1 + i%9)
	req.DealType = innonetpb.DealType(1 + i%5)
	l, err := staff.leads.SubmitLead(withToken(ctx, staff.token), req)
	if err != nil {
		return "", fmt.Errorf("submit: %w", err)
	}
	id := l.Id
	hctx, dctx := withToken(ctx, hq.token), withToken(ctx, div.token)
	review := func(d innonetpb.Decision) error {
		_, err := hq.leads.ReviewLead(hctx, &innonetpb.ReviewLeadRequest{Id: id, RequestId: rid(), Decision: d, Comment: "Reviewed."})
		return err
	}
	advance := func(st innonetpb.Stage) error {
		_, err := div.leads.AdvanceLead(dctx, &innonetpb.AdvanceLeadRequest{Id: id, RequestId: rid(), Stage: st, Note: "On to " + st.String()})
		return err
	}
	switch k := i % 100; {
	case k < 30: // submitted
		return id, nil
	case k < 40:
		return id, review(innonetpb.Decision_RETURN)
	case k < 45:
		return id, review(innonetpb.Decision_DECLINE)
	case k < 70: // approved
		return id, review(innonetpb.Decision_APPROVE)
	default:
		if err := review(innonetpb.Decision_APPROVE); err != nil {
			return "", fmt.Errorf("approve: %w", err)
		}
		if _, err := div.leads.ClaimLead(dctx, &innonetpb.ClaimLeadRequest{Id: id, RequestId: rid()}); err != nil {
			return "", fmt.Errorf("claim: %w", err)
		}
		if k < 80 { // claimed
			return id, nil
		}
		if err := advance(innonetpb.Stage_NEGOTIATING); err != nil {
			return "", fmt.Errorf("advance: %w", err)
		}
		switch {
		case k < 90: // negotiating
			return id, nil
		case k < 96:
			return id, advance(innonetpb.Stage_SIGNED)
		default:
			_, err := div.leads.CloseLead(dctx, &innonetpb.CloseLeadRequest{Id: id, RequestId: rid(),
				Reason: innonetpb.CloseLeadRequest_PARTNER_WITHDREW, Comment: "The partner chose another region."})
			return id, err
		}
	}
}

var benchTitles = []string{"Solid-state battery separator", "Low-dose CT reconstruction", "Green hydrogen electrolyser",
	"Biodegradable packaging film", "Edge AI inspection camera", "mRNA delivery platform", "Desalination membrane"}

// first returns, for a page check, the ID of the first lead the API
// lists for req, read once as the user of token: the page that shows
// that list must show it.
func (f *consoleFixture) first(token string, req *innonetpb.ListLeadsRequest) func(int) string {
	c := f.tc.clients(f.n, token)
	req.PageSize = 1
	res, err := c.leads.ListLeads(c.ctx(f.tc.t), req)
	if err != nil {
		f.tc.t.Fatalf("list %v: %v", req, err)
	}
	if len(res.Leads) == 0 {
		f.tc.t.Fatalf("list %v: no leads", req)
	}
	id := res.Leads[0].Id
	return func(int) string { return id }
}

// benchBrowser is a console client with its own cookies, as a browser
// keeps them, and one kept-alive connection.
type benchBrowser struct {
	b     *testing.B
	base  string
	c     *http.Client
	bytes int64
}

func newBenchBrowser(b *testing.B, n *Node, token string) *benchBrowser {
	b.Helper()
	jar, _ := cookiejar.New(nil)
	base := "http://" + n.Addr()
	u, _ := url.Parse(base)
	jar.SetCookies(u, []*http.Cookie{{Name: "innonet_session", Value: token, Path: "/"}})
	tr := &http.Transport{MaxIdleConnsPerHost: 1}
	b.Cleanup(tr.CloseIdleConnections)
	return &benchBrowser{b: b, base: base, c: &http.Client{Jar: jar, Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// get fetches a page, fails the benchmark unless it is a 200 that
// mentions want, and returns the time to its last byte.
func (br *benchBrowser) get(path, want string) time.Duration {
	br.b.Helper()
	t0 := time.Now()
	resp, err := br.c.Get(br.base + path)
	if err != nil {
		br.b.Fatalf("GET %s: %v", path, err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	took := time.Since(t0)
	if err != nil {
		br.b.Fatalf("GET %s: read: %v", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		br.b.Fatalf("GET %s: got %d, want 200:\n%.2000s", path, resp.StatusCode, body)
	}
	if !strings.Contains(string(body), want) {
		br.b.Fatalf("GET %s: page does not mention %s:\n%.2000s", path, want, body)
	}
	br.bytes += int64(len(body))
	return took
}
