package calendar

import (
	"errors"
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	base := func() YearTable {
		return YearTable{
			Calendar: CN, Year: 2027, Official: true,
			Holidays: []Holiday{{D(2027, 1, 1), cnNewYear}, {D(2027, 2, 8), cnSpring}},
			Workdays: []Date{D(2027, 2, 20)}, // a Saturday
		}
	}
	if err := base().Validate(); err != nil {
		t.Fatalf("valid table: %v", err)
	}
	for _, c := range []struct {
		name   string
		change func(*YearTable)
		want   string // the whole message of the one error
	}{
		{"unknown calendar", func(t *YearTable) { t.Calendar = "cn" },
			`calendar "cn": is not one of CN, US, GB, DE-BY, IL`},
		{"year out of range", func(t *YearTable) { t.Year = 1999; t.Holidays = nil; t.Workdays = nil },
			`year 1999: must be between 2000 and 2100`},
		{"holiday in another year", func(t *YearTable) { t.Holidays[1].Date = D(2028, 2, 8) },
			`holidays[1].date 2028-02-08: is not in the table's year 2027`},
		{"holiday without a date", func(t *YearTable) { t.Holidays[1].Date = Date{} },
			`holidays[1].date: is missing`},
		{"impossible date", func(t *YearTable) { t.Holidays[1].Date = Date{2027, 2, 30} },
			`holidays[1].date 2027-02-30: is not a real date`},
		{"holiday twice", func(t *YearTable) { t.Holidays[1].Date = D(2027, 1, 1) },
			`holidays[1].date 2027-01-01: is already listed as holidays[0]`},
		{"holiday without a name", func(t *YearTable) { t.Holidays[0].Name = "  " },
			`holidays[0].name: is missing`},
		{"name too long", func(t *YearTable) { t.Holidays[0].Name = strings.Repeat("春", 101) },
			`holidays[0].name "` + strings.Repeat("春", 20) + `…": is longer than 100 characters`},
		{"name with a newline", func(t *YearTable) { t.Holidays[0].Name = "a\nb" },
			`holidays[0].name "a\nb": contains a control character`},
		{"both holiday and workday", func(t *YearTable) { t.Holidays = append(t.Holidays, Holiday{D(2027, 2, 20), "x"}) },
			`workdays[0] 2027-02-20: is also listed as a holiday (holidays[2]); a day cannot be both`},
		{"make-up day on a weekday", func(t *YearTable) { t.Workdays[0] = D(2027, 2, 19) },
			`workdays[0] 2027-02-19: is a Friday, a working day anyway; a make-up working day must be one of the calendar's weekend days (Saturday and Sunday)`},
		{"make-up day twice", func(t *YearTable) { t.Workdays = append(t.Workdays, D(2027, 2, 20)) },
			`workdays[1] 2027-02-20: is already listed as workdays[0]`},
		{"Israeli make-up day on a Sunday", func(t *YearTable) { t.Calendar = IL; t.Workdays[0] = D(2027, 2, 21) },
			`workdays[0] 2027-02-21: is a Sunday, a working day anyway; a make-up working day must be one of the calendar's weekend days (Friday and Saturday)`},
		{"too many entries", func(t *YearTable) {
			for d := D(2027, 3, 1); len(t.Holidays) < 60; d = d.AddDays(1) {
				t.Holidays = append(t.Holidays, Holiday{d, "x"})
			}
		}, `holidays: 60 holidays and 1 make-up working days are 61 entries, more than the 60 allowed`},
	} {
		t.Run(c.name, func(t *testing.T) {
			table := base()
			c.change(&table)
			err := table.Validate()
			if err == nil {
				t.Fatalf("no error, want %q", c.want)
			}
			if got := err.Error(); got != c.want {
				t.Errorf("error\n got %s\nwant %s", got, c.want)
			}
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Errorf("error %v is not a *FieldError", err)
			}
		})
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	table := YearTable{Calendar: US, Year: 2026, Holidays: []Holiday{{D(2025, 1, 1), ""}}}
	err := table.Validate()
	if got, want := strings.Count(err.Error(), "\n")+1, 2; got != want {
		t.Errorf("%d problems reported, want %d: %v", got, want, err)
	}
}
