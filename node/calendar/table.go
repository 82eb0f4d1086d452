package calendar

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits on a [YearTable], checked by [YearTable.Validate].
const (
	// MinYear and MaxYear bound the years a table may describe.
	MinYear = 2000
	MaxYear = 2100
	// MaxEntries bounds the holidays and make-up working days of one table
	// together. China's busiest year has about 30.
	MaxEntries = 60
	// MaxNameLen bounds a holiday's name, in characters (not bytes).
	MaxNameLen = 100
)

// A Holiday is a day on which a calendar's offices are closed.
type Holiday struct {
	Date Date   `json:"date"`
	Name string `json:"name"`
}

// A YearTable is the complete list of exceptions to a calendar's working
// week for one year: the days off that would otherwise be working days
// (public holidays, and in China the bridging days of a holiday week), and
// the days that would otherwise be off but are worked (China's make-up
// working days, 调休上班, always a Saturday or Sunday).
//
// A table replaces everything else known about that calendar and year: it
// must list every holiday, not only the changes. Holidays that fall on a
// weekend may be listed (for their names) but need not be.
//
// Official says the table follows a published, authoritative schedule. A
// table with Official false is a best guess (the statutory days only) that
// HQ must confirm; [Calendar.Confirmed] reports it so the UI can warn.
type YearTable struct {
	Calendar string    `json:"calendar"`
	Year     int       `json:"year"`
	Official bool      `json:"official"`
	Holidays []Holiday `json:"holidays"`
	Workdays []Date    `json:"workdays,omitempty"`
}

// A FieldError is one problem with one field of a [YearTable]. Field names
// the field as in JSON (holidays[3].date), Value is what it held.
type FieldError struct {
	Field   string
	Value   string
	Problem string
}

func (e *FieldError) Error() string {
	if e.Value == "" {
		return fmt.Sprintf("%s: %s", e.Field, e.Problem)
	}
	return fmt.Sprintf("%s %s: %s", e.Field, e.Value, e.Problem)
}

// Validate checks t and returns nil or every problem found, each a
// [*FieldError], joined with errors.Join.
func (t YearTable) Validate() error {
	var errs []error
	bad := func(field, value, format string, args ...any) {
		errs = append(errs, &FieldError{Field: field, Value: value, Problem: fmt.Sprintf(format, args...)})
	}

	def, known := definitions[t.Calendar]
	if !known {
		bad("calendar", strconv.Quote(t.Calendar), "is not one of %s", strings.Join(Codes(), ", "))
	}
	if t.Year < MinYear || t.Year > MaxYear {
		bad("year", strconv.Itoa(t.Year), "must be between %d and %d", MinYear, MaxYear)
	}
	if n := len(t.Holidays) + len(t.Workdays); n > MaxEntries {
		bad("holidays", "", "%d holidays and %d make-up working days are %d entries, more than the %d allowed",
			len(t.Holidays), len(t.Workdays), n, MaxEntries)
		return errors.Join(errs...)
	}

	checkDate := func(field string, d Date) bool {
		switch {
		case d.IsZero():
			bad(field, "", "is missing")
		case !d.Valid():
			bad(field, d.String(), "is not a real date")
		case d.Year != t.Year:
			bad(field, d.String(), "is not in the table's year %d", t.Year)
		default:
			return true
		}
		return false
	}

	holidays := make(map[Date]int, len(t.Holidays))
	for i, h := range t.Holidays {
		field := fmt.Sprintf("holidays[%d]", i)
		if checkDate(field+".date", h.Date) {
			if j, dup := holidays[h.Date]; dup {
				bad(field+".date", h.Date.String(), "is already listed as holidays[%d]", j)
			} else {
				holidays[h.Date] = i
			}
		}
		switch name := strings.TrimSpace(h.Name); {
		case name == "":
			bad(field+".name", "", "is missing")
		case !utf8.ValidString(h.Name):
			bad(field+".name", "", "is not valid UTF-8 text")
		case utf8.RuneCountInString(h.Name) > MaxNameLen:
			bad(field+".name", strconv.Quote(truncate(h.Name, 20)+"…"), "is longer than %d characters", MaxNameLen)
		case strings.ContainsFunc(h.Name, unicode.IsControl):
			bad(field+".name", strconv.Quote(h.Name), "contains a control character")
		}
	}

	workdays := make(map[Date]int, len(t.Workdays))
	for i, d := range t.Workdays {
		field := fmt.Sprintf("workdays[%d]", i)
		if !checkDate(field, d) {
			continue
		}
		if j, dup := workdays[d]; dup {
			bad(field, d.String(), "is already listed as workdays[%d]", j)
			continue
		}
		workdays[d] = i
		if j, both := holidays[d]; both {
			bad(field, d.String(), "is also listed as a holiday (holidays[%d]); a day cannot be both", j)
		}
		if known && !def.weekend[d.Weekday()] {
			bad(field, d.String(), "is a %s, a working day anyway; a make-up working day must be one of the calendar's weekend days (%s)",
				d.Weekday(), def.weekendNames())
		}
	}
	return errors.Join(errs...)
}

// clone returns a deep copy of t with its lists sorted by date.
func (t YearTable) clone() YearTable {
	t.Holidays = slices.Clone(t.Holidays)
	t.Workdays = slices.Clone(t.Workdays)
	slices.SortStableFunc(t.Holidays, func(a, b Holiday) int { return a.Date.Compare(b.Date) })
	slices.SortFunc(t.Workdays, Date.Compare)
	return t
}

func truncate(s string, n int) string {
	for i := range s {
		if n == 0 {
			return s[:i]
		}
		n--
	}
	return s
}
