package wan

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// CPUProfiles fetches every running site's CPU profile over d (sites
// started with --pprof) and saves them in dir as <site>.cpu, for go tool
// pprof; it returns when all are saved, with the first error.
func (h *Harness) CPUProfiles(ctx context.Context, dir string, d time.Duration) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tr := &http.Transport{}
	scheme := "http"
	if h.CAFile != "" {
		pem, err := os.ReadFile(h.CAFile)
		if err != nil {
			return err
		}
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(pem)
		tr.TLSClientConfig, scheme = &tls.Config{RootCAs: pool}, "https"
	}
	client := &http.Client{Transport: tr, Timeout: d + 30*time.Second}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	for _, s := range h.C.Sites {
		if !s.Running() {
			continue
		}
		wg.Go(func() {
			err := func() error {
				url := fmt.Sprintf("%s://%s/debug/pprof/profile?seconds=%d", scheme, s.API, int(d.Seconds()))
				req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
				if err != nil {
					return err
				}
				req.Header.Set("Authorization", "Bearer "+h.Admin.Token)
				resp, err := client.Do(req)
				if err != nil {
					return err
				}
				defer resp.Body.Close()
				b, err := io.ReadAll(resp.Body)
				if err != nil {
					return err
				}
				if resp.StatusCode != http.StatusOK {
					return fmt.Errorf("%s: status %d: %.200s", s.Code, resp.StatusCode, b)
				}
				return os.WriteFile(filepath.Join(dir, s.Code+".cpu"), b, 0o644)
			}()
			if err != nil {
				mu.Lock()
				if first == nil {
					first = fmt.Errorf("CPU profile of %s: %w", s.Code, err)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return first
}
