package notify

import (
	"sort"
	"time"
	_ "time/tzdata" // zones in a FROM scratch container too
)

// NextDigest is when the next digest is due after now: the next time the
// wall clock in p.TimeZone (UTC if "" or unknown) reads p.DigestHour:00.
//
// Daylight-saving changes neither skip nor repeat a day's digest: on the
// day the clocks go forward over the hour, it is due at the instant they
// jump (02:00 in a zone that jumps from 02:00 to 03:00 is due at 03:00
// summer time); on the day they go back over it, at its first occurrence.
// A digest sent at the instant NextDigest gave is followed by the next
// day's, never by the same day's repeated hour.
func NextDigest(p Prefs, now time.Time) time.Time {
	loc := time.UTC
	if p.TimeZone != "" {
		if l, err := time.LoadLocation(p.TimeZone); err == nil {
			loc = l
		}
	}
	hour := min(max(p.DigestHour, 0), 23)
	y, m, d := now.In(loc).Date()
	for i := -1; ; i++ {
		if t := firstAtOrAfter(loc, y, m, d+i, hour); t.After(now) {
			return t
		}
	}
}

// firstAtOrAfter is the first instant whose wall clock in loc reads
// y-m-d hour:00 or later. Wall clocks only go back by an hour or less,
// and never across a whole hour, so whether the clock has reached the
// hour is monotonic in time and a binary search finds the instant.
func firstAtOrAfter(loc *time.Location, y int, m time.Month, d, hour int) time.Time {
	wall := time.Date(y, m, d, hour, 0, 0, 0, time.UTC)
	// Every zone's offset is within ±15 hours of UTC.
	lo := wall.Add(-15 * time.Hour)
	const window = 30 * 60 * 60
	s := sort.Search(window, func(sec int) bool {
		t := lo.Add(time.Duration(sec) * time.Second).In(loc)
		local := time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), 0, time.UTC)
		return !local.Before(wall)
	})
	return lo.Add(time.Duration(s) * time.Second)
}
