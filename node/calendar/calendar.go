package calendar

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	// The zones must resolve in a FROM scratch container, which has no
	// /usr/share/zoneinfo.
	_ "time/tzdata"
)

// ErrUnknownCalendar is returned for a calendar code that is not one of
// [Codes].
var ErrUnknownCalendar = errors.New("unknown calendar")

// A Set holds every calendar, with the built-in tables overridden by HQ's.
// It is immutable once made and safe for concurrent use; it caches each
// calendar year it has worked out.
type Set struct {
	locs   map[string]*time.Location
	tables map[yearKey]YearTable

	mu    sync.Mutex
	years map[yearKey]*yearData
}

type yearKey struct {
	code string
	year int
}

// yearData is one calendar year, worked out from a table or from rules.
type yearData struct {
	holidays  map[Date]string
	workdays  map[Date]bool
	official  bool // data from an official table, or from certain rules
	fromTable bool
}

// New returns the calendars with tables in place of the built-in data for
// their calendar and year. Each table must pass [YearTable.Validate], and
// no two may be for the same calendar and year. New keeps copies: later
// changes to tables do not reach the Set.
func New(tables []YearTable) (*Set, error) {
	s := &Set{
		locs:   make(map[string]*time.Location, len(definitions)),
		tables: make(map[yearKey]YearTable),
		years:  make(map[yearKey]*yearData),
	}
	for code, def := range definitions {
		loc, err := time.LoadLocation(def.zone)
		if err != nil {
			return nil, fmt.Errorf("calendar %s: load time zone %s: %w", code, def.zone, err)
		}
		s.locs[code] = loc
	}
	for _, t := range builtinTables() {
		s.tables[yearKey{t.Calendar, t.Year}] = t.clone()
	}
	given := make(map[yearKey]int, len(tables))
	for i, t := range tables {
		if err := t.Validate(); err != nil {
			return nil, fmt.Errorf("table %d (%s %d): %w", i, t.Calendar, t.Year, err)
		}
		k := yearKey{t.Calendar, t.Year}
		if j, dup := given[k]; dup {
			return nil, fmt.Errorf("table %d (%s %d): table %d is already for that calendar and year", i, t.Calendar, t.Year, j)
		}
		given[k] = i
		s.tables[k] = t.clone()
	}
	return s, nil
}

// Calendar returns the calendar with the given code.
func (s *Set) Calendar(code string) (Calendar, error) {
	def, ok := definitions[code]
	if !ok {
		return Calendar{}, fmt.Errorf("calendar %q: %w", code, ErrUnknownCalendar)
	}
	return Calendar{set: s, def: def, loc: s.locs[code]}, nil
}

// year returns the worked-out data of a calendar year, from the cache.
func (s *Set) year(def *definition, y int) *yearData {
	k := yearKey{def.code, y}
	s.mu.Lock()
	defer s.mu.Unlock()
	if yd, ok := s.years[k]; ok {
		return yd
	}
	var yd *yearData
	if t, ok := s.tables[k]; ok {
		yd = newYearData(t.Holidays, t.Workdays)
		yd.official, yd.fromTable = t.Official, true
	} else {
		yd = newYearData(def.rules(y))
		yd.official = def.confirmed
	}
	s.years[k] = yd
	return yd
}

// newYearData indexes holidays and make-up days. Two holidays on one date
// (rules can give that) become one, their names joined.
func newYearData(holidays []Holiday, workdays []Date) *yearData {
	yd := &yearData{holidays: make(map[Date]string, len(holidays)), workdays: make(map[Date]bool, len(workdays))}
	for _, h := range holidays {
		if prev, ok := yd.holidays[h.Date]; ok && prev != h.Name {
			yd.holidays[h.Date] = prev + " / " + h.Name
			continue
		}
		yd.holidays[h.Date] = h.Name
	}
	for _, d := range workdays {
		yd.workdays[d] = true
	}
	return yd
}

// A Calendar is the working week and holidays of one place, in its time
// zone. Get one from [Set.Calendar]; the zero Calendar is not usable.
type Calendar struct {
	set *Set
	def *definition
	loc *time.Location
}

// Code returns the calendar's code, one of [Codes].
func (c Calendar) Code() string { return c.def.code }

// Location returns the time zone in which the calendar's days begin and end.
func (c Calendar) Location() *time.Location { return c.loc }

// Weekend reports whether wd is a day of the calendar's weekend: Saturday
// and Sunday, or in Israel Friday and Saturday.
func (c Calendar) Weekend(wd time.Weekday) bool { return c.def.weekend[wd] }

// A Kind is what sort of day a day is.
type Kind int

const (
	// KindWorking is a day of the working week that is not a holiday.
	KindWorking Kind = iota
	// KindWeekend is a weekend day that is not worked.
	KindWeekend
	// KindHoliday is a holiday, whether it falls on the working week or the
	// weekend.
	KindHoliday
	// KindMakeup is a weekend day that is worked (China's 调休上班).
	KindMakeup
)

func (k Kind) String() string {
	switch k {
	case KindWorking:
		return "working day"
	case KindWeekend:
		return "weekend"
	case KindHoliday:
		return "holiday"
	case KindMakeup:
		return "make-up working day"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// MakeupName is the [Day.Name] of a make-up working day.
const MakeupName = "调休上班 make-up working day"

// A Day is what a calendar says of one date.
type Day struct {
	Date Date
	Kind Kind
	// Name is the holiday's name, the weekday's for a weekend, MakeupName for
	// a make-up working day, and empty for an ordinary working day.
	Name string
	// Confirmed is false when the date's year has no official data (see
	// [Calendar.Confirmed]).
	Confirmed bool
}

// Workday reports whether the day is worked.
func (d Day) Workday() bool { return d.Kind == KindWorking || d.Kind == KindMakeup }

// Day returns what the calendar says of d.
func (c Calendar) Day(d Date) Day {
	yd := c.set.year(c.def, d.Year)
	day := Day{Date: d, Confirmed: yd.official}
	weekend := c.def.weekend[d.Weekday()]
	if name, ok := yd.holidays[d]; ok {
		day.Kind, day.Name = KindHoliday, name
	} else if weekend && yd.workdays[d] {
		day.Kind, day.Name = KindMakeup, MakeupName
	} else if weekend {
		day.Kind, day.Name = KindWeekend, d.Weekday().String()
	}
	return day
}

// Workday reports whether d is a working day.
func (c Calendar) Workday(d Date) bool {
	return c.set.year(c.def, d.Year).workday(c.def, d)
}

func (yd *yearData) workday(def *definition, d Date) bool {
	if _, off := yd.holidays[d]; off {
		return false
	}
	return !def.weekend[d.Weekday()] || yd.workdays[d]
}

// Confirmed reports whether the calendar's data for year is authoritative:
// an official table (built in or HQ's), or for US, GB and DE-BY without a
// table their statutory rules. It is false for a table HQ has not marked
// official and for a CN or IL year without a table, worked out from rules
// (for CN only the fixed-date statutory days; see the package doc).
func (c Calendar) Confirmed(year int) bool { return c.set.year(c.def, year).official }

// ConfirmedBetween reports whether every year that holds a day
// [Calendar.WorkdaysBetween](from, to) looks at (the days after from's date
// and before to's) is [Calendar.Confirmed]: whether the count, or a deadline
// to from [Calendar.AddWorkdays], rests only on authoritative data.
func (c Calendar) ConfirmedBetween(from, to time.Time) bool {
	first, last := c.DateOf(from).AddDays(1), c.DateOf(to).AddDays(-1)
	for y := first.Year; y <= last.Year; y++ {
		if !c.Confirmed(y) {
			return false
		}
	}
	return true
}

// Table returns the calendar's data for year as a table: the one in force
// if there is one, otherwise the one the rules give, with Official set as
// [Calendar.Confirmed] reports. HQ can edit it and pass it back to [New].
func (c Calendar) Table(year int) YearTable {
	k := yearKey{c.def.code, year}
	if t, ok := c.set.tables[k]; ok {
		return t.clone()
	}
	yd := c.set.year(c.def, year)
	t := YearTable{Calendar: c.def.code, Year: year, Official: yd.official}
	for _, d := range slices.SortedFunc(maps.Keys(yd.holidays), Date.Compare) {
		t.Holidays = append(t.Holidays, Holiday{Date: d, Name: yd.holidays[d]})
	}
	t.Workdays = slices.SortedFunc(maps.Keys(yd.workdays), Date.Compare)
	return t
}

// String returns the calendar's code and zone.
func (c Calendar) String() string {
	return strings.Join([]string{c.def.code, c.def.zone}, " ")
}
