package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The heap allocations of a site are read from its /metrics
// (go_memstats_mallocs_total, the Go runtime's count of heap objects
// allocated), before a run and after it, as the CPU time is: a
// benchmark of real processes counts what each one allocated for the
// requests, the leader's apart from the followers'.

// mallocs returns how many heap objects each site has allocated so far,
// by site code.
func (c *innonetCluster) mallocs(ctx context.Context) (map[string]float64, error) {
	out := map[string]float64{}
	for _, s := range c.sites {
		n, err := siteMallocs(ctx, s.api, c.admin)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.code, err)
		}
		out[s.code] = n
	}
	return out, nil
}

// siteMallocs reads go_memstats_mallocs_total from the site at addr.
func siteMallocs(ctx context.Context, addr, token string) (float64, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/metrics", nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("read /metrics: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("read /metrics: %s", res.Status)
	}
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "go_memstats_mallocs_total "); ok {
			return strconv.ParseFloat(strings.TrimSpace(v), 64)
		}
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("read /metrics: %w", err)
	}
	return 0, fmt.Errorf("/metrics has no go_memstats_mallocs_total")
}

// allocsPerRequest is what the sites allocated between before and
// after, per request: the leader's, and all three's; zero (left out of
// the JSON, which cannot hold NaN) when no request succeeded.
func allocsPerRequest(before, after map[string]float64, leader string, requests int) (lead, all float64) {
	if before == nil || after == nil || requests == 0 {
		return 0, 0
	}
	for code, n := range after {
		all += n - before[code]
	}
	return (after[leader] - before[leader]) / float64(requests), all / float64(requests)
}
