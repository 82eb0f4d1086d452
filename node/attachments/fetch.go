package attachments

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Wanted is a file the state names, which every site must hold.
type Wanted struct {
	SHA256 string
	Size   int64
	// Origins are the sites that received the bytes from a client.
	Origins []string
}

// Source is what a Fetcher needs of its site. Its methods are called
// from the fetcher's goroutines, concurrently.
type Source interface {
	// Wanted lists the files the site's state names.
	Wanted() []Wanted
	// Peers lists the sites to fetch a file from, in the order to try
	// them: the leader first, then the origins, then the others; never
	// the site itself.
	Peers(origins []string) []string
	// Fetch opens the bytes of file sha at site peer. It returns an
	// error that matches ErrNotFound if the peer does not hold them.
	Fetch(ctx context.Context, peer, sha string) (io.ReadCloser, error)
}

// Config tunes a Fetcher; zero fields take the defaults.
type Config struct {
	// Interval is how often the fetcher looks for missing files without
	// a kick (default 30s).
	Interval time.Duration
	// RetryMin and RetryMax bound the backoff between the attempts at a
	// file no peer could give (defaults 1s and 5m).
	RetryMin, RetryMax time.Duration
	// Parallel is how many files are fetched at once (default 2).
	Parallel int
	// FetchTimeout bounds one attempt at one peer (default 10m: 20 MiB
	// over a slow WAN link).
	FetchTimeout time.Duration
	// ScrubInterval is how often every stored file is checked against
	// its SHA-256 (default 24h; negative: never). The first scrub runs
	// one Interval after start-up.
	ScrubInterval time.Duration
	// GCGrace is how long a stored file must have been named by no
	// attachment, as this fetcher saw it, and how old it must be, before
	// it is deleted (default 1h; negative: never delete). An upload
	// stores its bytes before its entry commits, and a site that starts
	// catches up with the log only after its first passes.
	GCGrace time.Duration
	// MaxBytes bounds a fetched file (default 1 GiB, the log's bound).
	MaxBytes int64
	Logger   *slog.Logger
	// Metrics, if set, registers innonet_attachments_*.
	Metrics prometheus.Registerer
}

func (c Config) withDefaults() Config {
	set := func(p *time.Duration, d time.Duration) {
		if *p == 0 {
			*p = d
		}
	}
	set(&c.Interval, 30*time.Second)
	set(&c.RetryMin, time.Second)
	set(&c.RetryMax, 5*time.Minute)
	set(&c.FetchTimeout, 10*time.Minute)
	set(&c.ScrubInterval, 24*time.Hour)
	set(&c.GCGrace, time.Hour)
	if c.Parallel <= 0 {
		c.Parallel = 2
	}
	if c.MaxBytes <= 0 {
		c.MaxBytes = 1 << 30
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Fetcher makes a Store hold the files its Source names (see the package
// documentation). It is safe for concurrent use.
type Fetcher struct {
	store *Store
	src   Source
	cfg   Config
	log   *slog.Logger
	kick  chan struct{}
	now   func() time.Time

	// base is the context fetches run in: Run's, so that they end with
	// it; running counts them, for Run to wait for; once stopped, no
	// fetch starts.
	base    context.Context
	running sync.WaitGroup
	stopped bool

	mu       sync.Mutex
	retry    map[string]*backoff      // files no peer could give, until they can
	inflight map[string]chan struct{} // closed when the fetch ends
	lastErr  map[string]error
	// unwanted is since when each stored file has been named by no
	// attachment, in this process.
	unwanted map[string]time.Time

	wanted, missing prometheus.Gauge
	storedBytes     prometheus.Gauge
	fetches         *prometheus.CounterVec
	fetchedBytes    prometheus.Counter
	damaged         prometheus.Counter
	removed         prometheus.Counter
}

type backoff struct {
	attempts int
	next     time.Time
}

// Fetch results, the label of innonet_attachments_fetches_total.
const (
	resultOK       = "ok"
	resultNotFound = "not_found" // the peer does not hold it
	resultCorrupt  = "corrupt"   // the peer's bytes did not match
	resultError    = "error"     // unreachable, refused, cut off
)

// NewFetcher returns the fetcher of store, which fetches from src.
func NewFetcher(store *Store, src Source, cfg Config) (*Fetcher, error) {
	cfg = cfg.withDefaults()
	f := &Fetcher{store: store, src: src, cfg: cfg, log: cfg.Logger, kick: make(chan struct{}, 1), now: time.Now,
		base:  context.Background(),
		retry: map[string]*backoff{}, inflight: map[string]chan struct{}{}, lastErr: map[string]error{},
		unwanted: map[string]time.Time{},
		wanted: prometheus.NewGauge(prometheus.GaugeOpts{Name: "innonet_attachments_wanted",
			Help: "Files the attachments in this site's state name."}),
		missing: prometheus.NewGauge(prometheus.GaugeOpts{Name: "innonet_attachments_missing",
			Help: "Files the state names that this site does not hold yet (it fetches them from its peers)."}),
		storedBytes: prometheus.NewGauge(prometheus.GaugeOpts{Name: "innonet_attachments_stored_bytes",
			Help: "Bytes of the attachment files this site holds."}),
		fetches: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "innonet_attachments_fetches_total",
			Help: "Attempts to fetch an attachment file from a peer, by result: ok, not_found (the peer lacks it), corrupt (its bytes did not match the SHA-256), error."},
			[]string{"result"}),
		fetchedBytes: prometheus.NewCounter(prometheus.CounterOpts{Name: "innonet_attachments_fetched_bytes_total",
			Help: "Bytes of attachment files fetched from peers and stored."}),
		damaged: prometheus.NewCounter(prometheus.CounterOpts{Name: "innonet_attachments_damaged_total",
			Help: "Stored attachment files found damaged (their bytes no longer match their SHA-256) and moved aside, to be fetched again."}),
		removed: prometheus.NewCounter(prometheus.CounterOpts{Name: "innonet_attachments_removed_total",
			Help: "Stored files deleted because no attachment names them any more."}),
	}
	for _, r := range []string{resultOK, resultNotFound, resultCorrupt, resultError} {
		f.fetches.WithLabelValues(r) // every result shows, at 0, from the start
	}
	if cfg.Metrics != nil {
		if err := f.Register(cfg.Metrics); err != nil {
			return nil, err
		}
	}
	return f, nil
}

// Register registers the fetcher's metrics (innonet_attachments_*) with
// reg, for a fetcher made before its site's registry.
func (f *Fetcher) Register(reg prometheus.Registerer) error {
	for _, c := range []prometheus.Collector{f.wanted, f.missing, f.storedBytes, f.fetches, f.fetchedBytes, f.damaged, f.removed} {
		if err := reg.Register(c); err != nil {
			return fmt.Errorf("register attachment metrics: %w", err)
		}
	}
	return nil
}

// Kick makes the fetcher look for missing files now (it never blocks).
func (f *Fetcher) Kick() {
	select {
	case f.kick <- struct{}{}:
	default:
	}
}

// Run fetches missing files until ctx ends: at once, on every Kick, and
// every Interval; it scrubs the store every ScrubInterval. Fetches under
// way (also those Get started) end with ctx, and Run returns once they
// have.
func (f *Fetcher) Run(ctx context.Context) {
	f.mu.Lock()
	f.base = ctx
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.stopped = true
		f.mu.Unlock()
		f.running.Wait()
	}()
	t := time.NewTicker(f.cfg.Interval)
	defer t.Stop()
	var scrub <-chan time.Time
	if f.cfg.ScrubInterval > 0 {
		first := time.NewTimer(f.cfg.Interval)
		defer first.Stop()
		scrub = first.C
	}
	var scrubTicker *time.Ticker
	defer func() {
		if scrubTicker != nil {
			scrubTicker.Stop()
		}
	}()
	retry := time.NewTimer(time.Hour)
	defer retry.Stop()
	for {
		f.Pass(ctx)
		// Wake for the first file whose backoff ends before the tick.
		if next, ok := f.nextRetry(); ok {
			retry.Reset(max(next.Sub(f.now()), time.Millisecond))
		}
		select {
		case <-ctx.Done():
			return
		case <-f.kick:
		case <-t.C:
		case <-retry.C:
		case <-scrub:
			f.Scrub(ctx)
			if scrubTicker == nil {
				scrubTicker = time.NewTicker(f.cfg.ScrubInterval)
				scrub = scrubTicker.C
			}
		}
	}
}

// Pass fetches, once, every missing file whose backoff has passed, and
// deletes stored files no attachment names after GCGrace. It returns how
// many files are still missing.
func (f *Fetcher) Pass(ctx context.Context) int {
	wanted := f.src.Wanted()
	stored, err := f.store.List()
	if err != nil {
		f.log.Warn("list stored attachment files", "err", err)
		return len(wanted)
	}
	have := map[string]Info{}
	var bytes int64
	for _, s := range stored {
		have[s.SHA256] = s
		bytes += s.Size
	}
	want := map[string]bool{}
	var missing []Wanted
	for _, w := range wanted {
		want[w.SHA256] = true
		if _, ok := have[w.SHA256]; !ok {
			missing = append(missing, w)
		}
	}
	f.wanted.Set(float64(len(wanted)))
	f.missing.Set(float64(len(missing)))
	f.storedBytes.Set(float64(bytes))
	f.forget(want)
	now := f.now()
	f.collect(have, want, now)
	sem := make(chan struct{}, f.cfg.Parallel)
	var wg sync.WaitGroup
	for _, w := range missing {
		if ctx.Err() != nil || !f.due(w.SHA256, now) {
			continue
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			_ = f.wait(ctx, w, f.start(w))
		}()
	}
	wg.Wait()
	left := 0
	for _, w := range missing {
		if !f.store.Has(w.SHA256) {
			left++
		}
	}
	f.missing.Set(float64(left))
	return left
}

// collect deletes the stored files that have been named by no attachment
// for GCGrace.
func (f *Fetcher) collect(have map[string]Info, want map[string]bool, now time.Time) {
	if f.cfg.GCGrace < 0 {
		return
	}
	f.mu.Lock()
	var due []Info
	for sha := range f.unwanted {
		if _, stored := have[sha]; want[sha] || !stored {
			delete(f.unwanted, sha)
		}
	}
	for sha, s := range have {
		if want[sha] {
			continue
		}
		since, ok := f.unwanted[sha]
		if !ok {
			f.unwanted[sha] = now
			continue
		}
		if now.Sub(since) > f.cfg.GCGrace && now.Sub(s.ModTime) > f.cfg.GCGrace {
			due = append(due, s)
			delete(f.unwanted, sha)
		}
	}
	f.mu.Unlock()
	for _, s := range due {
		if err := f.store.Remove(s.SHA256); err == nil {
			f.removed.Inc()
			f.log.Info("deleted an attachment file no attachment names any more", "sha256", s.SHA256, "bytes", s.Size)
		}
	}
}

// forget drops the backoff of files no longer wanted.
func (f *Fetcher) forget(want map[string]bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for sha := range f.retry {
		if !want[sha] {
			delete(f.retry, sha)
			delete(f.lastErr, sha)
		}
	}
}

// nextRetry is when the first backoff ends.
func (f *Fetcher) nextRetry() (time.Time, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var next time.Time
	for _, b := range f.retry {
		if next.IsZero() || b.next.Before(next) {
			next = b.next
		}
	}
	return next, !next.IsZero()
}

func (f *Fetcher) due(sha string, now time.Time) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	b := f.retry[sha]
	return b == nil || !now.Before(b.next)
}

// Get makes the store hold file w now, whatever its backoff: it fetches
// it unless it is stored, or waits for a fetch of it under way. It
// returns nil once the store holds it, or ctx's error when ctx ends
// first, in which case the fetch goes on.
func (f *Fetcher) Get(ctx context.Context, w Wanted) error {
	if f.store.Has(w.SHA256) {
		return nil
	}
	return f.wait(ctx, w, f.start(w))
}

// start starts fetching w, unless a fetch of it is under way, and returns
// the channel closed when that fetch ends.
func (f *Fetcher) start(w Wanted) <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	if done, ok := f.inflight[w.SHA256]; ok {
		return done
	}
	done := make(chan struct{})
	if f.stopped {
		f.lastErr[w.SHA256] = errors.New("the site is shutting down")
		close(done)
		return done
	}
	f.inflight[w.SHA256] = done
	ctx := f.base
	f.running.Add(1)
	go func() {
		defer f.running.Done()
		err := f.fromPeers(ctx, w)
		f.finish(ctx, w, err)
		close(done)
	}()
	return done
}

// wait waits for the fetch of w that done belongs to.
func (f *Fetcher) wait(ctx context.Context, w Wanted, done <-chan struct{}) error {
	select {
	case <-done:
	case <-ctx.Done():
		return ctx.Err()
	}
	if f.store.Has(w.SHA256) {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.lastErr[w.SHA256]; err != nil {
		return err
	}
	return ErrNotFound
}

// finish records how the fetch of w ended: on failure it backs off.
func (f *Fetcher) finish(ctx context.Context, w Wanted, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.inflight, w.SHA256)
	if err == nil {
		delete(f.retry, w.SHA256)
		delete(f.lastErr, w.SHA256)
		return
	}
	f.lastErr[w.SHA256] = err
	if ctx.Err() != nil {
		return // shutting down
	}
	b := f.retry[w.SHA256]
	if b == nil {
		b = &backoff{}
		f.retry[w.SHA256] = b
	}
	b.attempts++
	wait := f.cfg.RetryMin << min(b.attempts-1, 30)
	if wait > f.cfg.RetryMax || wait <= 0 {
		wait = f.cfg.RetryMax
	}
	// Spread the sites' retries apart: up to a fifth more.
	wait += time.Duration(rand.Int64N(int64(wait)/5 + 1))
	b.next = f.now().Add(wait)
	f.log.Warn("attachment file not fetched; retrying later", "sha256", w.SHA256, "attempts", b.attempts, "retry_in", wait.Round(time.Millisecond), "err", err)
}

// fromPeers tries each peer in turn.
func (f *Fetcher) fromPeers(ctx context.Context, w Wanted) error {
	peers := f.src.Peers(w.Origins)
	if len(peers) == 0 {
		return errors.New("no peer to fetch from")
	}
	var errs []error
	for _, p := range peers {
		err := f.fromPeer(ctx, p, w)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		errs = append(errs, fmt.Errorf("%s: %w", p, err))
	}
	return errors.Join(errs...)
}

func (f *Fetcher) fromPeer(ctx context.Context, peer string, w Wanted) error {
	ctx, cancel := context.WithTimeout(ctx, f.cfg.FetchTimeout)
	defer cancel()
	rc, err := f.src.Fetch(ctx, peer, w.SHA256)
	if err != nil {
		f.count(err)
		return err
	}
	defer rc.Close()
	max := f.cfg.MaxBytes
	if w.Size > 0 {
		max = w.Size
	}
	st, err := f.store.Put(rc, max, Want{SHA256: w.SHA256, Size: w.Size})
	if err != nil {
		f.count(err)
		if errors.Is(err, ErrMismatch) || errors.Is(err, ErrTooLarge) {
			f.log.Warn("a peer sent bytes that do not match the attachment; trying another", "peer", peer, "sha256", w.SHA256, "err", err)
		}
		return err
	}
	f.fetches.WithLabelValues(resultOK).Inc()
	if !st.Existed {
		f.fetchedBytes.Add(float64(st.Size))
	}
	f.log.Info("attachment file fetched", "peer", peer, "sha256", w.SHA256, "bytes", st.Size)
	return nil
}

func (f *Fetcher) count(err error) {
	switch {
	case errors.Is(err, ErrNotFound):
		f.fetches.WithLabelValues(resultNotFound).Inc()
	case errors.Is(err, ErrMismatch), errors.Is(err, ErrTooLarge), errors.Is(err, ErrEmpty):
		f.fetches.WithLabelValues(resultCorrupt).Inc()
	default:
		f.fetches.WithLabelValues(resultError).Inc()
	}
}

// Scrub checks every stored file against its SHA-256; damaged ones are
// moved aside and fetched again. It returns how many were damaged.
func (f *Fetcher) Scrub(ctx context.Context) int {
	stored, err := f.store.List()
	if err != nil {
		f.log.Warn("list stored attachment files", "err", err)
		return 0
	}
	bad := 0
	for _, s := range stored {
		if ctx.Err() != nil {
			break
		}
		if err := f.store.Verify(s.SHA256); errors.Is(err, ErrCorrupt) {
			bad++
			f.Damaged(s.SHA256, err)
		}
	}
	if bad > 0 {
		f.Kick()
	}
	return bad
}

// Damaged records that the stored file sha was found damaged (by Open or
// Verify, which moved it aside), so that it is fetched again.
func (f *Fetcher) Damaged(sha string, err error) {
	f.damaged.Inc()
	f.log.Error("a stored attachment file is damaged; moved aside, fetching it again", "sha256", sha, "err", err)
	f.mu.Lock()
	delete(f.retry, sha)
	f.mu.Unlock()
	f.Kick()
}

// Status is what the fetcher knows of a file.
type Status struct {
	Stored bool
	// Fetching is whether a fetch of the file is under way.
	Fetching bool
	Attempts int
	Next     time.Time
	Err      error
}

// Status reports what the fetcher knows of file sha.
func (f *Fetcher) Status(sha string) Status {
	st := Status{Stored: f.store.Has(sha)}
	f.mu.Lock()
	defer f.mu.Unlock()
	if b := f.retry[sha]; b != nil {
		st.Attempts, st.Next = b.attempts, b.next
	}
	_, st.Fetching = f.inflight[sha]
	st.Err = f.lastErr[sha]
	return st
}
