package calendar

import "time"

// Working time is counted in whole working days of the calendar of whoever
// must act, in that calendar's zone. The day on which the clock starts never
// counts, however early it starts: a lead submitted in Munich on Friday at
// 17:00 (or on Saturday, or on Monday at 08:00) has Monday (Tuesday) as its
// first working day. A working day has elapsed when it has ended, at the
// midnight that begins the next day.
//
// So for a start instant s and n ≥ 1 working days:
//
//	due := c.AddWorkdays(s, n) // the end of the n-th working day after s's day
//	overdue := !now.Before(due) // == c.WorkdaysBetween(s, now) >= n
//	lastDay := !now.Before(c.AddWorkdays(s, n-1)) // the n-th day has begun
//
// and both functions agree exactly: WorkdaysBetween(s, t) >= n if and only
// if t is not before AddWorkdays(s, n).

// DateOf returns the civil date of t in the calendar's zone.
func (c Calendar) DateOf(t time.Time) Date { return DateOf(t.In(c.loc)) }

// Start returns the instant at which d begins in the calendar's zone: its
// local midnight, which under the current rules of these five zones exists
// on every day and only once (their clocks change at 01:00 UTC or at 02:00
// local time).
func (c Calendar) Start(d Date) time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, c.loc)
}

// WorkdaysBetween returns the number of working days that lie wholly after
// from's day and have ended by to: the working days d with
// DateOf(from) < d and c.Start(d+1) <= to. It is 0 if to is not after from.
func (c Calendar) WorkdaysBetween(from, to time.Time) int {
	if !to.After(from) {
		return 0
	}
	end := c.DateOf(to) // the days before it have ended by to
	n := 0
	var yd *yearData
	for d := c.DateOf(from).AddDays(1); d.Before(end); d = d.AddDays(1) {
		if yd == nil || d.Month == time.January && d.Day == 1 {
			yd = c.set.year(c.def, d.Year)
		}
		if yd.workday(c.def, d) {
			n++
		}
	}
	return n
}

// AddWorkdays returns the instant at which the n-th working day after
// start's day ends: the Start of the following day. It is the first instant
// t with WorkdaysBetween(start, t) >= n. For n <= 0 it returns start.
func (c Calendar) AddWorkdays(start time.Time, n int) time.Time {
	if n <= 0 {
		return start
	}
	d := c.DateOf(start)
	var yd *yearData
	for n > 0 {
		d = d.AddDays(1)
		if yd == nil || d.Month == time.January && d.Day == 1 {
			yd = c.set.year(c.def, d.Year)
		}
		if yd.workday(c.def, d) {
			n--
		}
	}
	return c.Start(d.AddDays(1))
}
