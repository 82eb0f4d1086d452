package calendar

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

func newSet(t *testing.T, tables ...YearTable) *Set {
	t.Helper()
	s, err := New(tables)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

func calendarOf(t *testing.T, s *Set, code string) Calendar {
	t.Helper()
	c, err := s.Calendar(code)
	if err != nil {
		t.Fatalf("Calendar(%s): %v", code, err)
	}
	return c
}

func TestDays(t *testing.T) {
	s := newSet(t)
	for _, c := range []struct {
		code string
		date Date
		kind Kind
		name string // "" for a working day, or a prefix of the name
	}{
		// China: the week of Spring Festival 2026 and its two make-up Saturdays.
		{CN, D(2026, 2, 13), KindWorking, ""},
		{CN, D(2026, 2, 14), KindMakeup, MakeupName}, // Saturday, worked
		{CN, D(2026, 2, 15), KindHoliday, cnSpring},  // Sunday, 腊月廿八
		{CN, D(2026, 2, 16), KindHoliday, cnSpring},  // 除夕
		{CN, D(2026, 2, 17), KindHoliday, cnSpring},  // 正月初一
		{CN, D(2026, 2, 20), KindHoliday, cnSpring},  // Friday, a bridging day
		{CN, D(2026, 2, 23), KindHoliday, cnSpring},  // Monday, 正月初七
		{CN, D(2026, 2, 24), KindWorking, ""},
		{CN, D(2026, 2, 28), KindMakeup, MakeupName},
		{CN, D(2026, 3, 1), KindWeekend, "Sunday"},
		// National Day 2026: make-up on Sunday 20 September and Saturday 10 October.
		{CN, D(2026, 9, 19), KindWeekend, "Saturday"},
		{CN, D(2026, 9, 20), KindMakeup, MakeupName},
		{CN, D(2026, 9, 25), KindHoliday, cnAutumn},
		{CN, D(2026, 9, 30), KindWorking, ""},
		{CN, D(2026, 10, 1), KindHoliday, cnNational},
		{CN, D(2026, 10, 7), KindHoliday, cnNational}, // Wednesday
		{CN, D(2026, 10, 8), KindWorking, ""},
		{CN, D(2026, 10, 10), KindMakeup, MakeupName},
		{CN, D(2026, 10, 11), KindWeekend, "Sunday"},
		{CN, D(2026, 1, 4), KindMakeup, MakeupName},
		// China without a table: only the fixed-date statutory days.
		{CN, D(2028, 10, 2), KindHoliday, cnNational},
		{CN, D(2028, 1, 26), KindWorking, ""}, // 除夕 2028, unknown without a table
		// Israel: Sunday is worked, Friday and Saturday are not.
		{IL, D(2026, 6, 5), KindWeekend, "Friday"},
		{IL, D(2026, 6, 6), KindWeekend, "Saturday"},
		{IL, D(2026, 6, 7), KindWorking, ""},
		{IL, D(2026, 9, 11), KindWeekend, "Friday"}, // erev Rosh Hashanah
		{IL, D(2026, 9, 12), KindHoliday, ilRoshHashanah},
		{IL, D(2026, 9, 13), KindHoliday, ilRoshHashanah2}, // a Sunday
		{IL, D(2026, 9, 20), KindWorking, ""},              // erev Yom Kippur counts as worked
		{IL, D(2026, 9, 21), KindHoliday, ilYomKippur},
		{IL, D(2026, 9, 28), KindWorking, ""}, // chol hamoed Sukkot
		{IL, D(2026, 4, 22), KindHoliday, ilIndependence},
		{IL, D(2028, 5, 2), KindHoliday, ilIndependence}, // computed: 5 Iyar a Monday, kept Tuesday
		// Bavaria against England and the US.
		{DEBY, D(2026, 1, 6), KindHoliday, "Heilige Drei Könige"},
		{GB, D(2026, 1, 6), KindWorking, ""},
		{DEBY, D(2026, 6, 4), KindHoliday, "Fronleichnam"}, // Corpus Christi
		{GB, D(2026, 6, 4), KindWorking, ""},
		{DEBY, D(2026, 8, 15), KindHoliday, "Mariä Himmelfahrt"}, // a Saturday
		{DEBY, D(2028, 8, 15), KindHoliday, "Mariä Himmelfahrt"}, // a Tuesday
		{US, D(2028, 8, 15), KindWorking, ""},
		{DEBY, D(2027, 11, 1), KindHoliday, "Allerheiligen"}, // a Monday
		{DEBY, D(2026, 11, 18), KindWorking, ""},             // Buß- und Bettag: Saxony only
		{DEBY, D(2026, 10, 31), KindWeekend, "Saturday"},     // Reformationstag: not in Bavaria
		{DEBY, D(2027, 10, 3), KindHoliday, "Tag der Deutschen Einheit"},
		{DEBY, D(2027, 10, 4), KindWorking, ""}, // no substitute days in Germany
		{GB, D(2026, 4, 3), KindHoliday, "Good Friday"},
		{GB, D(2026, 4, 6), KindHoliday, "Easter Monday"},
		{US, D(2026, 4, 6), KindWorking, ""},
		{GB, D(2026, 12, 26), KindWeekend, "Saturday"},
		{GB, D(2026, 12, 28), KindHoliday, "Boxing Day (observed)"}, // substitute Monday
		{GB, D(2027, 12, 27), KindHoliday, "Christmas Day (observed)"},
		{GB, D(2027, 12, 28), KindHoliday, "Boxing Day (observed)"},
		{US, D(2026, 7, 3), KindHoliday, "Independence Day (observed)"}, // 4 July a Saturday
		{US, D(2027, 7, 5), KindHoliday, "Independence Day (observed)"}, // 4 July a Sunday
		{US, D(2027, 12, 24), KindHoliday, "Christmas Day (observed)"},
		{US, D(2027, 12, 31), KindHoliday, "New Year's Day (observed)"}, // New Year's Day 2028 is a Saturday
		{GB, D(2027, 12, 31), KindWorking, ""},
		{US, D(2026, 11, 11), KindHoliday, "Veterans Day"},
		{US, D(2026, 11, 27), KindWorking, ""}, // the day after Thanksgiving is not federal
	} {
		cal := calendarOf(t, s, c.code)
		day := cal.Day(c.date)
		if day.Kind != c.kind || day.Name != c.name {
			t.Errorf("%s %v (%v) = %v %q, want %v %q", c.code, c.date, c.date.Weekday(), day.Kind, day.Name, c.kind, c.name)
		}
		if got, want := cal.Workday(c.date), c.kind == KindWorking || c.kind == KindMakeup; got != want {
			t.Errorf("%s Workday(%v) = %v, want %v", c.code, c.date, got, want)
		}
	}
}

func TestConfirmed(t *testing.T) {
	s := newSet(t)
	for _, c := range []struct {
		code string
		year int
		want bool
	}{
		{CN, 2026, true},  // the State Council's schedule
		{CN, 2027, false}, // statutory days only, to be confirmed
		{CN, 2028, false}, // no table
		{IL, 2026, true},
		{IL, 2027, true},
		{IL, 2028, false}, // computed, no table
		{US, 2030, true},
		{GB, 2030, true},
		{DEBY, 2030, true},
	} {
		cal := calendarOf(t, s, c.code)
		if got := cal.Confirmed(c.year); got != c.want {
			t.Errorf("%s Confirmed(%d) = %v, want %v", c.code, c.year, got, c.want)
		}
		if got := cal.Day(D(c.year, 3, 3)).Confirmed; got != c.want {
			t.Errorf("%s Day(%d-03-03).Confirmed = %v, want %v", c.code, c.year, got, c.want)
		}
	}
	cn := calendarOf(t, s, CN)
	dec := at(t, cn, "2026-12-24 10:00")
	// Five working days end on Thursday 31 December, due at midnight.
	if due := cn.AddWorkdays(dec, 5); !cn.ConfirmedBetween(dec, due) {
		t.Errorf("CN 24 December 2026 to %v is not confirmed", due)
	}
	if due := cn.AddWorkdays(dec, 6); cn.ConfirmedBetween(dec, due) {
		t.Errorf("CN 24 December 2026 to %v, into 2027, is confirmed", due)
	}
}

func TestOverride(t *testing.T) {
	// HQ enters the 2027 schedule (an illustration, not the real one): the
	// table replaces the built-in statutory list and is confirmed.
	hq := YearTable{
		Calendar: CN, Year: 2027, Official: true,
		Holidays: []Holiday{{D(2027, 1, 1), cnNewYear}, {D(2027, 2, 9), cnSpring}},
		Workdays: []Date{D(2027, 2, 20)},
	}
	s := newSet(t, hq)
	hq.Holidays[0].Name = "changed after New"
	cn := calendarOf(t, s, CN)
	if !cn.Confirmed(2027) {
		t.Error("CN 2027 with HQ's official table is not confirmed")
	}
	for _, c := range []struct {
		date Date
		kind Kind
	}{
		{D(2027, 2, 5), KindWorking}, // a built-in holiday, gone
		{D(2027, 2, 9), KindHoliday},
		{D(2027, 2, 20), KindMakeup},
		{D(2026, 2, 14), KindMakeup}, // 2026 keeps its built-in table
	} {
		if got := cn.Day(c.date).Kind; got != c.kind {
			t.Errorf("CN %v = %v, want %v", c.date, got, c.kind)
		}
	}
	if got := cn.Day(D(2027, 1, 1)).Name; got != cnNewYear {
		t.Errorf("CN 2027-01-01 = %q: the Set shares the caller's table", got)
	}

	// A table for a rule-based calendar replaces its rules for that year.
	gb := calendarOf(t, newSet(t, YearTable{Calendar: GB, Year: 2026, Holidays: []Holiday{{D(2026, 6, 1), "One-off bank holiday"}}}), GB)
	if gb.Workday(D(2026, 6, 1)) || !gb.Workday(D(2026, 12, 28)) || gb.Confirmed(2026) {
		t.Error("a GB table does not replace the GB rules for its year")
	}
	if gb.Workday(D(2027, 12, 27)) {
		t.Error("a GB 2026 table changed 2027")
	}
	// A new Set does not see another's tables.
	if got := calendarOf(t, newSet(t), CN).Day(D(2027, 2, 5)).Kind; got != KindHoliday {
		t.Errorf("CN 2027-02-05 in a fresh Set = %v, want holiday", got)
	}
}

func TestNewRejects(t *testing.T) {
	valid := YearTable{Calendar: IL, Year: 2030, Holidays: []Holiday{{D(2030, 4, 18), ilPesach}}}
	if _, err := New([]YearTable{valid, valid}); err == nil || !strings.Contains(err.Error(), "already for that calendar and year") {
		t.Errorf("New with two IL 2030 tables: %v", err)
	}
	bad := valid
	bad.Holidays = []Holiday{{D(2031, 4, 18), ilPesach}}
	_, err := New([]YearTable{bad})
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Field != "holidays[0].date" {
		t.Errorf("New with a date outside the year: %v", err)
	}
	if _, err := newSet(t).Calendar("FR"); !errors.Is(err, ErrUnknownCalendar) {
		t.Errorf("Calendar(FR): %v, want ErrUnknownCalendar", err)
	}
}

func TestTablesFromRulesValidate(t *testing.T) {
	s := newSet(t)
	for _, code := range Codes() {
		cal := calendarOf(t, s, code)
		for year := 2024; year <= 2032; year++ {
			table := cal.Table(year)
			if err := table.Validate(); err != nil {
				t.Errorf("%s Table(%d) does not validate: %v", code, year, err)
			}
			if table.Official != cal.Confirmed(year) {
				t.Errorf("%s Table(%d).Official = %v, Confirmed = %v", code, year, table.Official, cal.Confirmed(year))
			}
			// Passing it back changes no day.
			back := calendarOf(t, newSet(t, table), code)
			for d := D(year, 1, 1); d.Year == year; d = d.AddDays(1) {
				if cal.Day(d) != back.Day(d) {
					t.Fatalf("%s %v: %v from the built-in data, %v from its Table", code, d, cal.Day(d), back.Day(d))
				}
			}
		}
	}
}

func TestZones(t *testing.T) {
	s := newSet(t)
	want := map[string]string{CN: "Asia/Shanghai", US: "America/New_York", GB: "Europe/London", DEBY: "Europe/Berlin", IL: "Asia/Jerusalem"}
	for _, code := range Codes() {
		if got := calendarOf(t, s, code).Location().String(); got != want[code] {
			t.Errorf("%s zone %s, want %s", code, got, want[code])
		}
	}
	// 23:30 UTC on 31 December is already New Year's Day in Zhengzhou.
	cn := calendarOf(t, s, CN)
	if got := cn.DateOf(time.Date(2026, 12, 31, 23, 30, 0, 0, time.UTC)); got != D(2027, 1, 1) {
		t.Errorf("CN DateOf(2026-12-31T23:30Z) = %v", got)
	}
}

// TestConcurrentUse is for the race detector: one Set, its year cache
// filled from many goroutines.
func TestConcurrentUse(t *testing.T) {
	s := newSet(t)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			cal, _ := s.Calendar(Codes()[i%len(Codes())])
			start := time.Date(2024+i, 12, 20, 9, 0, 0, 0, cal.Location())
			if due := cal.AddWorkdays(start, 10); cal.WorkdaysBetween(start, due) != 10 {
				t.Errorf("%s: AddWorkdays and WorkdaysBetween disagree", cal.Code())
			}
		})
	}
	wg.Wait()
}
