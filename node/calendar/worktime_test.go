package calendar

import (
	"math/rand/v2"
	"testing"
	"time"
)

func at(t *testing.T, c Calendar, s string) time.Time {
	t.Helper()
	v, err := time.ParseInLocation("2006-01-02 15:04", s, c.Location())
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func utc(s string) time.Time {
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return v
}

// Each due instant is worked out by hand in the comment beside it.
func TestAddWorkdays(t *testing.T) {
	s := newSet(t)
	for _, c := range []struct {
		name  string
		code  string
		start string // local time in the calendar's zone
		n     int
		due   time.Time
	}{
		{"Munich: Friday evening, five days: the next Friday", DEBY, "2026-01-09 17:00", 5,
			utc("2026-01-16T23:00:00Z")}, // Sat 17 Jan 00:00 CET
		{"Munich: the start day never counts, however early", DEBY, "2026-01-12 08:00", 5,
			utc("2026-01-19T23:00:00Z")}, // Tue 13 .. Mon 19; Tue 20 00:00 CET
		{"Munich: a Saturday start counts from Monday", DEBY, "2026-01-10 11:00", 1,
			utc("2026-01-12T23:00:00Z")},
		{"Munich: Epiphany", DEBY, "2026-01-05 09:00", 1,
			utc("2026-01-07T23:00:00Z")}, // Tue 6 Jan off; Wed 7; Thu 8 00:00 CET
		{"Munich: Easter and the change to summer time", DEBY, "2026-03-27 17:00", 5,
			utc("2026-04-07T22:00:00Z")}, // Mar 30, 31, Apr 1, 2; Good Friday, weekend, Easter Monday; Tue 7 → Wed 8 00:00 CEST
		{"Cambridge: Christmas, the substitute Boxing Day and the new year", GB, "2026-12-24 12:00", 3,
			utc("2027-01-01T00:00:00Z")}, // 25 off, 26–27 weekend, 28 substitute; 29, 30, 31
		{"Cambridge: one more day skips New Year's Day", GB, "2026-12-24 12:00", 4,
			utc("2027-01-05T00:00:00Z")}, // Fri 1 Jan off, weekend, Mon 4
		{"Boston: the end of summer time", US, "2026-10-30 10:00", 5,
			utc("2026-11-07T05:00:00Z")}, // Nov 2–6; Sat 7 00:00 EST
		{"Boston: Veterans Day", US, "2026-10-30 10:00", 8,
			utc("2026-11-13T05:00:00Z")}, // Nov 9, 10, (11 off), 12
		{"Boston: observed Christmas and New Year across the year end", US, "2027-12-23 09:00", 5,
			utc("2028-01-04T05:00:00Z")}, // 24 off; 27, 28, 29, 30; 31 off (New Year's Day 2028 observed); Mon 3 Jan
		{"Zhengzhou: Spring Festival, worked Saturday first", CN, "2026-02-13 18:00", 5,
			utc("2026-02-27T16:00:00Z")}, // Sat 14 (make-up); 15–23 off; 24, 25, 26, 27 → Sat 28 00:00 CST
		{"Zhengzhou: and the Saturday after", CN, "2026-02-13 18:00", 6,
			utc("2026-02-28T16:00:00Z")}, // Sat 28 (make-up) → Sun 1 Mar 00:00
		{"Zhengzhou: the Sunday before National Day is worked", CN, "2026-09-18 10:00", 3,
			utc("2026-09-22T16:00:00Z")}, // Sat 19 off; Sun 20, Mon 21, Tue 22
		{"Zhengzhou: after National Day", CN, "2026-09-30 10:00", 3,
			utc("2026-10-10T16:00:00Z")}, // Oct 1–7 off; Thu 8, Fri 9, Sat 10 (make-up)
		{"Zhengzhou: across the year end", CN, "2026-12-30 15:00", 3,
			utc("2027-01-05T16:00:00Z")}, // Thu 31; Fri 1 Jan off; weekend; Mon 4, Tue 5
		{"Zhengzhou: late at night UTC is the next morning", CN, "2026-12-31 07:30", 1,
			utc("2027-01-04T16:00:00Z")}, // Thu 31 is the start day; Fri 1 Jan off; Mon 4
		{"Tel Aviv: Thursday, then Friday and Saturday off, Sunday worked", IL, "2026-06-04 16:00", 1,
			utc("2026-06-07T21:00:00Z")}, // Sun 7 → Mon 8 00:00 IDT
		{"Tel Aviv: Rosh Hashanah", IL, "2026-09-10 11:00", 3,
			utc("2026-09-16T21:00:00Z")}, // Fri 11 off, Sat 12 and Sun 13 Rosh Hashanah; Mon 14, Tue 15, Wed 16
		{"Tel Aviv: the end of summer time", IL, "2026-10-22 09:00", 2,
			utc("2026-10-26T22:00:00Z")}, // Fri, Sat off; Sun 25 (clocks back at 02:00), Mon 26 → Tue 27 00:00 IST
		{"no working days asked for", DEBY, "2026-01-09 17:00", 0,
			utc("2026-01-09T16:00:00Z")},
	} {
		t.Run(c.name, func(t *testing.T) {
			cal := calendarOf(t, s, c.code)
			start := at(t, cal, c.start)
			due := cal.AddWorkdays(start, c.n)
			if !due.Equal(c.due) {
				t.Errorf("AddWorkdays(%v, %d) = %v (%v), want %v", start, c.n, due.UTC(), due, c.due)
			}
			if got := cal.WorkdaysBetween(start, due); got != c.n {
				t.Errorf("WorkdaysBetween(start, due) = %d, want %d", got, c.n)
			}
			if c.n > 0 {
				if got := cal.WorkdaysBetween(start, due.Add(-time.Nanosecond)); got != c.n-1 {
					t.Errorf("WorkdaysBetween(start, due-1ns) = %d, want %d", got, c.n-1)
				}
			}
		})
	}
}

func TestWorkdaysBetween(t *testing.T) {
	s := newSet(t)
	de := calendarOf(t, s, DEBY)
	fri := at(t, de, "2026-01-09 17:00")
	for _, c := range []struct {
		to   string
		want int
	}{
		{"2026-01-08 10:00", 0}, // before the start
		{"2026-01-09 23:59", 0},
		{"2026-01-12 23:59", 0}, // Monday has not ended
		{"2026-01-13 00:00", 1}, // it has
		{"2026-01-17 00:00", 5},
		{"2026-01-19 12:00", 5}, // a weekend adds nothing
		// Mon 12 Jan to Tue 7 Apr: 86 days, 12 weeks and two, so 62 weekdays,
		// less Good Friday and Easter Monday.
		{"2026-04-08 00:00", 60},
	} {
		if got := de.WorkdaysBetween(fri, at(t, de, c.to)); got != c.want {
			t.Errorf("WorkdaysBetween(Fri 9 Jan 17:00, %s) = %d, want %d", c.to, got, c.want)
		}
	}
}

// TestAddWorkdaysAgrees checks, for many random starts on every calendar,
// that AddWorkdays is the first instant at which WorkdaysBetween reaches n,
// and that both agree with counting the days by their end instants.
func TestAddWorkdaysAgrees(t *testing.T) {
	s := newSet(t)
	r := rand.New(rand.NewPCG(2026, 1))
	lo, hi := utc("2025-11-01T00:00:00Z").Unix(), utc("2028-03-01T00:00:00Z").Unix()
	for i := range 3000 {
		cal := calendarOf(t, s, Codes()[i%len(Codes())])
		start := time.Unix(lo+r.Int64N(hi-lo), r.Int64N(1e9))
		n := r.IntN(30)
		due := cal.AddWorkdays(start, n)

		if got := cal.WorkdaysBetween(start, due); got != n {
			t.Fatalf("%s start %v n %d: WorkdaysBetween(start, due %v) = %d", cal.Code(), start, n, due, got)
		}
		if n == 0 {
			continue
		}
		if got := cal.WorkdaysBetween(start, due.Add(-time.Nanosecond)); got != n-1 {
			t.Fatalf("%s start %v n %d: WorkdaysBetween(start, due-1ns) = %d", cal.Code(), start, n, got)
		}
		local := due.In(cal.Location())
		if h, m, sec := local.Clock(); h != 0 || m != 0 || sec != 0 || local.Nanosecond() != 0 {
			t.Fatalf("%s due %v is not a local midnight", cal.Code(), local)
		}
		if last := cal.DateOf(due).AddDays(-1); !cal.Workday(last) {
			t.Fatalf("%s due %v ends %v, not a working day", cal.Code(), local, last)
		}
		// A reference count: the working days after start's day whose end
		// (the next day's Start, an instant) is not after probe.
		probe := start.Add(time.Duration(r.Int64N(int64(60 * 24 * time.Hour))))
		want := 0
		for d := cal.DateOf(start).AddDays(1); !cal.Start(d.AddDays(1)).After(probe); d = d.AddDays(1) {
			if cal.Workday(d) {
				want++
			}
		}
		if got := cal.WorkdaysBetween(start, probe); got != want {
			t.Fatalf("%s WorkdaysBetween(%v, %v) = %d, counting gives %d", cal.Code(), start, probe, got, want)
		}
		if reached := want >= n; reached == probe.Before(due) {
			t.Fatalf("%s start %v n %d due %v: at %v %d days have elapsed", cal.Code(), start, n, due, probe, want)
		}
	}
}
