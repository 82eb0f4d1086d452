package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// profileCell takes a CPU profile of every innonet site while a run of
// cell name goes on (started with the run, for seconds, so it may cover
// idle time after a short run), through each site's /debug/pprof (the
// sites run with --pprof). The returned wait blocks until every profile
// is written to dir as ROUND-CELL-SITE.pprof; a profile that fails is
// reported with logf and costs the run nothing.
func (b *bench) profileCell(ctx context.Context, round int, name string) (wait func()) {
	if b.cfg.profileDir == "" {
		return func() {}
	}
	secs := int(b.cfg.profileFor / time.Second)
	var wg sync.WaitGroup
	for _, s := range b.innonet.sites {
		path := filepath.Join(b.cfg.profileDir, fmt.Sprintf("%d-%s-%s.pprof", round+1, name, strings.ToLower(s.code)))
		wg.Go(func() {
			if err := fetchProfile(ctx, "http://"+s.api+fmt.Sprintf("/debug/pprof/profile?seconds=%d", secs), b.innonet.admin, path); err != nil {
				b.logf("CPU profile of %s during %s: %v", s.code, name, err)
			}
		})
	}
	return wg.Wait
}

func fetchProfile(ctx context.Context, url, token, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("%s: %s", resp.Status, strings.TrimSpace(string(msg)))
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
