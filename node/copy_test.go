package node

import (
	"testing"
	"time"
)

// TestCopyClock: how far behind a follower's copy is, from its contact
// with the leader and how late the newest change reached it.
func TestCopyClock(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	const lostAfter = time.Second
	s := time.Second
	for _, c := range []struct {
		name string
		// run plays the site's history; it returns the contact and the
		// time of the question.
		run  func(c *copyClock) (time.Duration, time.Time)
		want time.Duration
	}{
		{"in touch, changes on time", func(c *copyClock) (time.Duration, time.Time) {
			c.apply(at(10*s), at(10*s+20*time.Millisecond))
			return 30 * time.Millisecond, at(11 * s)
		}, 30 * time.Millisecond},
		{"a slow link: the newest change came 4 s late", func(c *copyClock) (time.Duration, time.Time) {
			c.apply(at(10*s), at(14*s))
			return 50 * time.Millisecond, at(20 * s)
		}, 4 * s},
		{"a slow link, a quiet hour later: contact alone", func(c *copyClock) (time.Duration, time.Time) {
			c.apply(at(10*s), at(14*s))
			return 50 * time.Millisecond, at(time.Hour)
		}, 50 * time.Millisecond},
		{"cut off", func(c *copyClock) (time.Duration, time.Time) {
			c.apply(at(10*s), at(10*s))
			c.contact(50*time.Millisecond, lostAfter, at(20*s))
			c.contact(2*s, lostAfter, at(22*s))
			return 6 * s, at(26 * s)
		}, 6 * s},
		{"back in touch: what was made during the cut came late because of the cut", func(c *copyClock) (time.Duration, time.Time) {
			c.contact(2*s, lostAfter, at(22*s))
			c.apply(at(23*s), at(30*s))
			c.contact(10*time.Millisecond, lostAfter, at(30*s))
			return 20 * time.Millisecond, at(31 * s)
		}, 20 * time.Millisecond},
		{"back in touch over a slow link: what was made since counts", func(c *copyClock) (time.Duration, time.Time) {
			c.contact(2*s, lostAfter, at(22*s))
			c.contact(10*time.Millisecond, lostAfter, at(30*s))
			c.apply(at(31*s), at(35*s))
			return 20 * time.Millisecond, at(36 * s)
		}, 4 * s},
		{"back in touch, before the watcher has seen it", func(c *copyClock) (time.Duration, time.Time) {
			c.contact(2*s, lostAfter, at(22*s))
			c.apply(at(23*s), at(30*s))
			return 20 * time.Millisecond, at(30 * s)
		}, 20 * time.Millisecond},
		{"replayed at start", func(c *copyClock) (time.Duration, time.Time) {
			c.apply(at(-time.Hour), at(time.Second))
			return 0, at(2 * s)
		}, 0},
		{"a clock behind the leader's", func(c *copyClock) (time.Duration, time.Time) {
			c.apply(at(10*s), at(9*s))
			return 0, at(10 * s)
		}, 0},
		{"an entry without an append time", func(c *copyClock) (time.Duration, time.Time) {
			c.apply(time.Time{}, at(9*s))
			return 10 * time.Millisecond, at(10 * s)
		}, 10 * time.Millisecond},
	} {
		t.Run(c.name, func(t *testing.T) {
			clock := newCopyClock(t0)
			contact, now := c.run(clock)
			if got := clock.behind(contact, now); got != c.want {
				t.Errorf("behind: got %s, want %s", got, c.want)
			}
		})
	}
}
