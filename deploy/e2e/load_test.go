//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// load is a stream of lead submissions, as node staff would send them: each
// write has its own request ID; a failed attempt is retried with the same
// request ID at the next site until one answers 200. It stops by itself
// after max writes or when its context ends.
type load struct {
	api     *api
	token   string
	name    string // request IDs and titles are "<name>-0001"...
	targets []string
	pace    time.Duration // pause after each acknowledged write, per worker
	max     int

	stopOnce sync.Once
	stopped  chan struct{}
	done     sync.WaitGroup

	mu       sync.Mutex
	next     int
	acked    []ackedWrite
	retries  int            // attempts after the first, over all writes
	retried  int            // writes that needed at least one retry
	reasons  map[string]int // why attempts failed
	failures []string       // answers a retry cannot fix: the test fails
	slowest  time.Duration  // longest time from first attempt to 200
}

// ackedWrite is a write the API answered with 200.
type ackedWrite struct {
	RequestID, Title, LeadID string
	At                       time.Time
}

// startLoad starts workers writers over the targets (API addresses).
func startLoad(ctx context.Context, a *api, token, name string, targets []string, workers, max int, pace time.Duration) *load {
	l := &load{api: a, token: token, name: name, targets: targets, pace: pace, max: max,
		stopped: make(chan struct{}), reasons: map[string]int{}}
	for w := range workers {
		l.done.Add(1)
		go func() {
			defer l.done.Done()
			l.worker(ctx, w)
		}()
	}
	return l
}

func (l *load) worker(ctx context.Context, w int) {
	for {
		l.mu.Lock()
		i := l.next
		l.next++
		l.mu.Unlock()
		if i >= l.max {
			return
		}
		l.write(ctx, i, w)
		select {
		case <-ctx.Done():
			return
		case <-l.stopped:
			return
		case <-time.After(l.pace):
		}
	}
}

// write submits lead i until it is acknowledged, refused for good, or ctx
// ends. Attempt k goes to targets[i+k], so a dead site costs one attempt.
func (l *load) write(ctx context.Context, i, w int) {
	id := fmt.Sprintf("%s-%04d", l.name, i)
	body := map[string]any{
		"requestId": id, "title": "e2e " + id, "summary": "Written by the deploy/e2e load generator.",
		"organization": "e2e", "country": "US", "sector": "IT_AI", "trl": 5, "dealType": "INVESTMENT",
	}
	start := time.Now()
	wait := 50 * time.Millisecond
	for k := 0; ; k++ {
		if k > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
			wait = min(2*wait, time.Second)
		}
		target := l.targets[(i+w+k)%len(l.targets)]
		actx, cancel := context.WithTimeout(ctx, 5*time.Second)
		var got lead
		err := l.api.do(actx, http.MethodPost, target, "/v1/leads", l.token, body, &got)
		cancel()
		if err != nil && ctx.Err() != nil {
			return // the load was cut short: this write is not acknowledged
		}
		l.mu.Lock()
		switch st := statusOf(err); {
		case err == nil:
			l.acked = append(l.acked, ackedWrite{RequestID: id, Title: "e2e " + id, LeadID: got.ID, At: time.Now()})
			l.retries += k
			if k > 0 {
				l.retried++
			}
			l.slowest = max(l.slowest, time.Since(start))
			l.mu.Unlock()
			return
		case st == 0 || st == http.StatusServiceUnavailable || st == http.StatusGatewayTimeout || st == http.StatusBadGateway:
			l.reasons[reason(err)]++
			l.mu.Unlock()
		default:
			l.failures = append(l.failures, fmt.Sprintf("%s at %s: %v", id, target, err))
			l.mu.Unlock()
			return
		}
	}
}

// reason shortens an error to a histogram key.
func reason(err error) string {
	if st := statusOf(err); st != 0 {
		return fmt.Sprintf("HTTP %d", st)
	}
	msg := err.Error()
	for _, r := range []string{"connection refused", "no route to host", "i/o timeout", "connection reset", "deadline exceeded", "EOF"} {
		if strings.Contains(msg, r) {
			return r
		}
	}
	return msg
}

// count is the number of acknowledged writes so far.
func (l *load) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.acked)
}

// waitAcked polls until n writes are acknowledged.
func (l *load) waitAcked(ctx context.Context, t *testing.T, n int, timeout time.Duration, what string) {
	t.Helper()
	eventually(ctx, t, timeout, what, func() error {
		if got := l.count(); got < n {
			return fmt.Errorf("%d of %d writes acknowledged", got, n)
		}
		return nil
	})
}

// loadStats is what a load did.
type loadStats struct {
	Acked    []ackedWrite
	Retries  int
	Retried  int
	Reasons  map[string]int
	Failures []string
	Slowest  time.Duration
	// LongestGap is the longest time between two acknowledgements: how long
	// writers saw no progress.
	LongestGap time.Duration
}

// stop lets every worker finish the write it is on and returns the stats.
func (l *load) stop() loadStats {
	l.stopOnce.Do(func() { close(l.stopped) })
	l.done.Wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	s := loadStats{Acked: append([]ackedWrite(nil), l.acked...), Retries: l.retries, Retried: l.retried,
		Reasons: map[string]int{}, Failures: append([]string(nil), l.failures...), Slowest: l.slowest}
	for k, v := range l.reasons {
		s.Reasons[k] = v
	}
	sort.Slice(s.Acked, func(i, j int) bool { return s.Acked[i].At.Before(s.Acked[j].At) })
	for i := 1; i < len(s.Acked); i++ {
		s.LongestGap = max(s.LongestGap, s.Acked[i].At.Sub(s.Acked[i-1].At))
	}
	return s
}

func (s loadStats) String() string {
	return fmt.Sprintf("%d writes acknowledged, %d needed a retry (%d retried attempts: %v), slowest write %s, longest pause between acknowledgements %s",
		len(s.Acked), s.Retried, s.Retries, s.Reasons, s.Slowest.Round(time.Millisecond), s.LongestGap.Round(time.Millisecond))
}
