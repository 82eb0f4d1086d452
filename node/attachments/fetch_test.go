package attachments

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// value reads a counter or gauge.
func value(t *testing.T, c prometheus.Metric) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	switch {
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	}
	t.Fatalf("%v is neither a counter nor a gauge", c.Desc())
	return 0
}

// peerSet is a Source whose peers are stores in the same process, some
// of which may lie about their bytes.
type peerSet struct {
	mu     sync.Mutex
	wanted []Wanted
	order  []string
	stores map[string]*Store
	liars  map[string][]byte // peers that send these bytes instead
	asked  []string
}

func (p *peerSet) Wanted() []Wanted {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Wanted(nil), p.wanted...)
}

func (p *peerSet) Peers([]string) []string { return p.order }

func (p *peerSet) Fetch(_ context.Context, peer, sha string) (io.ReadCloser, error) {
	p.mu.Lock()
	p.asked = append(p.asked, peer)
	lie, lies := p.liars[peer]
	s := p.stores[peer]
	p.mu.Unlock()
	if lies {
		return io.NopCloser(bytes.NewReader(lie)), nil
	}
	if s == nil {
		return nil, errors.New("connection refused")
	}
	f, err := s.Open(sha)
	if err != nil {
		return nil, err
	}
	return f, nil
}

func (p *peerSet) want(ws ...Wanted) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.wanted = ws
}

func newFetcher(t *testing.T, src Source, cfg Config) (*Fetcher, *Store, *prometheus.Registry) {
	t.Helper()
	st := openStore(t)
	reg := prometheus.NewRegistry()
	cfg.Metrics, cfg.Logger = reg, slog.New(slog.DiscardHandler)
	f, err := NewFetcher(st, src, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return f, st, reg
}

func putFile(t *testing.T, s *Store, data []byte) Wanted {
	t.Helper()
	st, err := s.Put(bytes.NewReader(data), 1<<20, Want{})
	if err != nil {
		t.Fatal(err)
	}
	return Wanted{SHA256: st.SHA256, Size: st.Size}
}

// TestFetcherFetchesFromPeers: a missing file comes from the first peer
// in order that has it; a peer that sends other bytes is skipped.
func TestFetcherFetchesFromPeers(t *testing.T) {
	holder := openStore(t)
	deck := putFile(t, holder, []byte("the deck"))
	src := &peerSet{order: []string{"CGO", "TLV", "BOS"}, stores: map[string]*Store{"BOS": holder},
		liars: map[string][]byte{"TLV": []byte("the dock")}}
	src.want(deck)
	f, st, reg := newFetcher(t, src, Config{})
	if left := f.Pass(context.Background()); left != 0 {
		t.Fatalf("Pass left %d missing", left)
	}
	if got := readAll(t, st, deck.SHA256); string(got) != "the deck" {
		t.Errorf("fetched %q", got)
	}
	if fmt.Sprint(src.asked) != "[CGO TLV BOS]" {
		t.Errorf("asked %v, want CGO (unreachable), TLV (lies), then BOS", src.asked)
	}
	for result, want := range map[string]float64{resultOK: 1, resultCorrupt: 1, resultError: 1} {
		if got := value(t, f.fetches.WithLabelValues(result)); got != want {
			t.Errorf("fetches{result=%s} = %v, want %v", result, got, want)
		}
	}
	if got := value(t, f.missing); got != 0 {
		t.Errorf("missing = %v, want 0", got)
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, mf := range families {
		names[mf.GetName()] = true
	}
	for _, name := range []string{"innonet_attachments_wanted", "innonet_attachments_missing", "innonet_attachments_fetched_bytes_total", "innonet_attachments_fetches_total"} {
		if !names[name] {
			t.Errorf("metric %s not registered", name)
		}
	}
}

// TestFetcherBacksOff: a file no peer has is tried again only after a
// growing wait; Get tries at once and succeeds once a peer has it.
func TestFetcherBacksOff(t *testing.T) {
	holder := openStore(t)
	src := &peerSet{order: []string{"BOS"}, stores: map[string]*Store{"BOS": openStore(t)}}
	deck := putFile(t, holder, []byte("the deck"))
	src.want(deck)
	f, _, _ := newFetcher(t, src, Config{RetryMin: time.Hour, RetryMax: 4 * time.Hour})
	now := time.Now()
	f.now = func() time.Time { return now }
	if left := f.Pass(context.Background()); left != 1 {
		t.Fatalf("Pass left %d missing, want 1", left)
	}
	st := f.Status(deck.SHA256)
	if st.Stored || st.Attempts != 1 || st.Next.Before(now.Add(time.Hour)) || !errors.Is(st.Err, ErrNotFound) {
		t.Errorf("after a failed pass: %+v, want one attempt, the next in an hour or more", st)
	}
	f.Pass(context.Background())
	if got := len(src.asked); got != 1 {
		t.Errorf("a pass within the backoff asked %d times, want 1", got)
	}
	now = now.Add(2 * time.Hour)
	f.Pass(context.Background())
	if st := f.Status(deck.SHA256); st.Attempts != 2 || st.Next.Before(now.Add(2*time.Hour)) {
		t.Errorf("after the second failure: %+v, want the wait doubled", st)
	}
	src.mu.Lock()
	src.stores["BOS"] = holder
	src.mu.Unlock()
	if err := f.Get(context.Background(), deck); err != nil {
		t.Fatalf("Get: %v", err)
	}
	if st := f.Status(deck.SHA256); !st.Stored || st.Attempts != 0 {
		t.Errorf("after Get: %+v, want stored and the backoff forgotten", st)
	}
}

// TestFetcherScrubs: a file damaged on disk is found by the scrub and
// fetched again.
func TestFetcherScrubs(t *testing.T) {
	holder := openStore(t)
	deck := putFile(t, holder, []byte("the deck"))
	src := &peerSet{order: []string{"BOS"}, stores: map[string]*Store{"BOS": holder}}
	src.want(deck)
	f, st, _ := newFetcher(t, src, Config{})
	f.Pass(context.Background())
	info, _ := os.Stat(st.Path(deck.SHA256))
	if err := os.WriteFile(st.Path(deck.SHA256), []byte("the dock"), 0o600); err != nil {
		t.Fatal(err)
	}
	_ = os.Chtimes(st.Path(deck.SHA256), info.ModTime(), info.ModTime())
	if bad := f.Scrub(context.Background()); bad != 1 {
		t.Fatalf("Scrub found %d damaged, want 1", bad)
	}
	if got := value(t, f.damaged); got != 1 {
		t.Errorf("damaged = %v, want 1", got)
	}
	f.Pass(context.Background())
	if got := readAll(t, st, deck.SHA256); string(got) != "the deck" {
		t.Errorf("after the scrub and a pass: %q", got)
	}
}

// TestFetcherCollects: a stored file no attachment names is deleted once
// it has been unnamed, and old, for the grace period.
func TestFetcherCollects(t *testing.T) {
	src := &peerSet{}
	f, st, _ := newFetcher(t, src, Config{GCGrace: time.Hour})
	old := putFile(t, st, []byte("removed deck"))
	kept := putFile(t, st, []byte("kept deck"))
	src.want(kept)
	past := time.Now().Add(-2 * time.Hour)
	for _, w := range []Wanted{old, kept} {
		_ = os.Chtimes(st.Path(w.SHA256), past, past)
	}
	now := time.Now()
	f.now = func() time.Time { return now }
	f.Pass(context.Background()) // first seen unnamed now: not yet
	if !st.Has(old.SHA256) {
		t.Fatal("deleted at first sight")
	}
	now = now.Add(61 * time.Minute)
	f.Pass(context.Background())
	if st.Has(old.SHA256) || !st.Has(kept.SHA256) {
		t.Errorf("after the grace: old stored %v, kept stored %v; want false, true", st.Has(old.SHA256), st.Has(kept.SHA256))
	}
}

// TestFetcherGetWaitsForFetchUnderWay: concurrent Gets of one file make
// one fetch.
func TestFetcherGetWaitsForFetchUnderWay(t *testing.T) {
	holder := openStore(t)
	deck := putFile(t, holder, bytes.Repeat([]byte("deck "), 100000))
	src := &peerSet{order: []string{"BOS"}, stores: map[string]*Store{"BOS": holder}}
	f, _, _ := newFetcher(t, src, Config{})
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- f.Get(context.Background(), deck)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("Get: %v", err)
		}
	}
	if n := len(src.asked); n < 1 || n > 8 {
		t.Errorf("asked %d times", n)
	}
	if got := value(t, f.fetches.WithLabelValues(resultOK)); got != float64(len(src.asked)) {
		t.Errorf("ok fetches %v, asked %d", got, len(src.asked))
	}
}
