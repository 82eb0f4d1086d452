// Package calendar counts working days on the calendar of whoever must act
// on a lead, for stage deadlines such as "HQ reviews within 5 working days".
//
// HQ in Zhengzhou and the divisions work on China's calendar; each overseas
// node works on its own:
//
//	code   who                zone               weekend    holidays from
//	CN     HQ, divisions      Asia/Shanghai      Sat, Sun   year tables (State Council)
//	US     Boston             America/New_York   Sat, Sun   rickar/cal/v2 us: federal holidays
//	GB     Cambridge          Europe/London      Sat, Sun   rickar/cal/v2 gb: England and Wales
//	DE-BY  Munich             Europe/Berlin      Sat, Sun   rickar/cal/v2 de: Bavaria, plus 15 Aug
//	IL     Tel Aviv           Asia/Jerusalem     Fri, Sat   year tables (Hebrew calendar)
//
// The package is deterministic: it never reads the clock, the caller passes
// every date and instant, and it keeps no process-wide mutable state. The
// time zones come from the embedded tzdata (time/tzdata), so it works in a
// FROM scratch container.
//
// # Usage
//
//	set, err := calendar.New(hqTables) // HQ's replicated tables; nil for the built-in ones
//	hq, err := set.Calendar(calendar.CN)
//	due := hq.AddWorkdays(submitted, 5)
//	switch {
//	case !now.Before(due):
//		// over: five working days have elapsed
//	case !now.Before(hq.AddWorkdays(submitted, 4)):
//		// near: the last working day has begun
//	}
//	if !hq.ConfirmedBetween(submitted, due) {
//		// warn: the deadline rests on a Chinese year HQ has not yet entered
//	}
//
// # Days
//
// A [Date] is a civil date with no zone. [Calendar.Day] says what a date is:
// a working day, a weekend day, a holiday (with its name) or, in China, a
// make-up working day (调休上班: a Saturday or Sunday that is worked).
// A holiday wins over everything; a weekend day is worked only when a table
// lists it as a make-up day.
//
// # Working time
//
// Working time is counted in whole working days in the calendar's own zone,
// never in hours. The day on which the clock starts never counts, whatever
// its hour and whether or not it is a working day; the first day that can
// count is the next one. A working day has elapsed when it ends, at the
// local midnight that begins the following day.
//
//   - [Calendar.WorkdaysBetween](from, to) is the number of working days d
//     with d after from's date and d's end not after to; 0 if to is not
//     after from.
//   - [Calendar.AddWorkdays](start, n) is the end of the n-th working day
//     after start's date: the first instant at which WorkdaysBetween(start,
//     t) reaches n. So a lead submitted in Munich on Friday at 17:00 with
//     five working days is due at 00:00 on the Saturday a week later
//     (Europe/Berlin), the end of the following Friday.
//
// The two agree exactly: WorkdaysBetween(s, t) >= n if and only if t is not
// before AddWorkdays(s, n). Daylight-saving changes do not matter, since
// only local dates and local midnights are used; a day is a working day or
// it is not (eves of Israeli holidays, which may be half days, count as
// working days).
//
// # Data and how sure it is
//
// A [YearTable] lists one calendar year's holidays and make-up working
// days, and replaces everything else known about that year. [New] takes
// HQ's tables (validated by [YearTable.Validate]); a table for a calendar
// and year replaces the built-in data for it. [Calendar.Confirmed] tells
// whether a year's data is authoritative, so the UI can warn where it is
// not.
//
//   - CN 2026: built-in table of the State Council's schedule
//     (国务院办公厅关于2026年部分节假日安排的通知), official. The test
//     TestChina2026WorkingDays checks that it yields 248 working days, the
//     261 weekdays less the 13 statutory days.
//   - CN 2027: built-in table of the 13 statutory days only (元旦 1 Jan;
//     春节 除夕 to 初三, 5–8 Feb; 清明 5 Apr; 劳动节 1–2 May; 端午 9 Jun;
//     中秋 15 Sep; 国庆 1–3 Oct), not official: the substitute days, bridging
//     days and make-up working days are set by the State Council in late
//     2026, and HQ must enter them. The lunar and solar-term dates are
//     checked against computed new moons and the Sun's longitude.
//   - CN, any other year: no lunar data at all; only the fixed-date
//     statutory days (1 Jan, 1–2 May, 1–3 Oct) and weekends. Not confirmed.
//   - IL 2026 and 2027: built-in tables, official. The days offices close:
//     Rosh Hashanah (two days), Yom Kippur, Sukkot (first day), Shemini
//     Atzeret / Simchat Torah, Pesach (first and seventh days), Shavuot and
//     Independence Day (5 Iyar, moved to Thursday from a Friday or
//     Saturday and to Tuesday from a Monday). Eves and the intermediate
//     days of the festivals are working days. The tables are checked
//     against the Hebrew-calendar arithmetic in hebrew.go, which is itself
//     checked against a second formulation and against published dates.
//   - IL, any other year: the same days computed by hebrew.go; not
//     confirmed until HQ enters a table.
//   - US, GB, DE-BY: statutory rules from github.com/rickar/cal/v2 for any
//     year, confirmed. The observed day is the day off: in the US a
//     holiday on a Saturday is kept on the Friday before and one on a
//     Sunday on the Monday after (so New Year's Day 2028 is kept on Friday
//     31 December 2027); in England and Wales a bank holiday on a weekend
//     moves to the next weekday that is not already a bank holiday;
//     Germany has no substitute days. US is the eleven federal holidays
//     (not the day after Thanksgiving). DE-BY is Bavaria's statewide list
//     (Epiphany, Corpus Christi and All Saints among them) plus the
//     Assumption, 15 August, kept in Munich. A one-off day (a coronation,
//     a jubilee) that the library does not know is entered as a table.
//
// # What it does not do
//
// It does not count hours or business hours, half days, personal or company
// leave, or regional holidays other than Munich's; it does not compute the
// Chinese lunar calendar for years without a table; and it does not decide
// which calendar applies to a stage, which is the caller's business.
package calendar
