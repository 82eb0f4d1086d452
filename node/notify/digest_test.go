package notify

import (
	"testing"
	"time"
)

func TestNextDigest(t *testing.T) {
	ny, berlin, sh := zone(t, "America/New_York"), zone(t, "Europe/Berlin"), zone(t, "Asia/Shanghai")
	at := func(loc *time.Location, y int, m time.Month, d, h, min int) time.Time {
		return time.Date(y, m, d, h, min, 0, 0, loc)
	}
	utc := func(s string) time.Time {
		t.Helper()
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	cases := []struct {
		name string
		tz   string
		hour int
		now  time.Time
		want time.Time
	}{
		{"later today", "Asia/Shanghai", 8, at(sh, 2026, 3, 2, 7, 59), utc("2026-03-02T00:00:00Z")},
		{"at the hour: tomorrow", "Asia/Shanghai", 8, at(sh, 2026, 3, 2, 8, 0), utc("2026-03-03T00:00:00Z")},
		{"UTC by default", "", 6, utc("2026-03-02T07:00:00Z"), utc("2026-03-03T06:00:00Z")},
		{"unknown zone is UTC", "Nowhere/Else", 6, utc("2026-03-02T05:00:00Z"), utc("2026-03-02T06:00:00Z")},
		{"midnight", "Europe/Berlin", 0, at(berlin, 2026, 12, 31, 23, 0), utc("2026-12-31T23:00:00Z")},
		// Spring forward: New York jumps from 02:00 EST to 03:00 EDT on 8 March 2026.
		{"spring: the day before, EST", "America/New_York", 8, at(ny, 2026, 3, 7, 9, 0), utc("2026-03-08T12:00:00Z")},
		{"spring: after, EDT", "America/New_York", 8, at(ny, 2026, 3, 8, 9, 0), utc("2026-03-09T12:00:00Z")},
		{"spring: the missing hour is the jump", "America/New_York", 2, at(ny, 2026, 3, 8, 1, 0), utc("2026-03-08T07:00:00Z")},
		{"spring: then the next day's 02:00", "America/New_York", 2, utc("2026-03-08T07:00:00Z"), utc("2026-03-09T06:00:00Z")},
		// Fall back: 02:00 EDT becomes 01:00 EST on 1 November 2026; 01:00 happens twice.
		{"fall: the first 01:00", "America/New_York", 1, at(ny, 2026, 10, 31, 12, 0), utc("2026-11-01T05:00:00Z")},
		{"fall: not the second 01:00", "America/New_York", 1, utc("2026-11-01T05:00:00Z"), utc("2026-11-02T06:00:00Z")},
		{"fall: between the two", "America/New_York", 1, utc("2026-11-01T05:30:00Z"), utc("2026-11-02T06:00:00Z")},
		{"fall: an hour after, EST", "America/New_York", 9, utc("2026-11-01T05:00:00Z"), utc("2026-11-01T14:00:00Z")},
		// Berlin goes forward at 02:00 on 29 March 2026.
		{"berlin spring", "Europe/Berlin", 2, at(berlin, 2026, 3, 28, 23, 0), utc("2026-03-29T01:00:00Z")},
		{"berlin after", "Europe/Berlin", 7, at(berlin, 2026, 3, 29, 7, 30), utc("2026-03-30T05:00:00Z")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := NextDigest(Prefs{TimeZone: c.tz, DigestHour: c.hour}, c.now)
			if !got.Equal(c.want) {
				t.Errorf("got %v (%v), want %v", got.UTC(), got, c.want)
			}
		})
	}
}

// TestNextDigestDaily walks a year in several zones: one digest a local
// day, every day, each at the hour or, in a gap, just after it.
func TestNextDigestDaily(t *testing.T) {
	for _, tz := range []string{"America/New_York", "Europe/London", "Asia/Jerusalem", "Australia/Lord_Howe", "America/Santiago", "Asia/Beirut", "Asia/Shanghai"} {
		for _, hour := range []int{0, 1, 2, 3, 8, 23} {
			loc := zone(t, tz)
			p := Prefs{TimeZone: tz, DigestHour: hour}
			now := time.Date(2026, 1, 1, 12, 0, 0, 0, loc)
			prev := NextDigest(p, now)
			for range 366 {
				next := NextDigest(p, prev)
				a, b := prev.In(loc), next.In(loc)
				if b.YearDay()-a.YearDay() != 1 && (a.YearDay() < 365 || b.YearDay() != 1) {
					t.Fatalf("%s %02d:00: %v then %v", tz, hour, a, b)
				}
				if b.Hour() != hour || b.Minute() != 0 || b.Second() != 0 {
					// Only at a jump over the hour.
					before := b.Add(-time.Second)
					_, off0 := before.Zone()
					_, off1 := b.Zone()
					if off0 == off1 || before.Hour() >= hour && before.Day() == b.Day() {
						t.Fatalf("%s %02d:00: digest at %v", tz, hour, b)
					}
				}
				prev = next
			}
		}
	}
}
