package calendar

import (
	"slices"
	"testing"
	"time"
)

// moladRoshHashanah is a second formulation of the Hebrew calendar, the
// older one of Dershowitz and Reingold (1990): the molad of Tishrei counted
// in hours and parts (1080 to the hour) and the four postponements applied
// one by one (molad zaken, GaTaRaD, BeTU'TeKaPoT, lo ADU Rosh), where
// hebrew.go uses the year-length correction of the 3rd edition.
func moladRoshHashanah(y int) Date {
	leap := func(y int) bool { return (7*y+1)%19 < 7 }
	months := 235*((y-1)/19) + 12*((y-1)%19) + (7*((y-1)%19)+1)/19
	parts := 204 + 793*(months%1080)
	hours := 5 + 12*months + 793*(months/1080) + parts/1080
	day := 1 + 29*months + hours/24
	p := 1080*(hours%24) + parts%1080
	if p >= 19440 || // molad zaken: the molad at or after noon
		(day%7 == 2 && p >= 9924 && !leap(y)) || // GaTaRaD
		(day%7 == 1 && p >= 16789 && leap(y-1)) { // BeTU'TeKaPoT
		day++
	}
	if day%7 == 0 || day%7 == 3 || day%7 == 5 { // lo ADU Rosh
		day++
	}
	// The paper's absolute date of 1 Tishrei: day of month + elapsed days +
	// its epoch constant.
	const epoch = -1373429
	return D(1970, time.January, 1+(1+day+epoch)-rdUnixEpoch)
}

func TestHebrewCalendarTwoWays(t *testing.T) {
	for y := 5700; y <= 5900; y++ { // 1939 to 2140
		rh := roshHashanah(y)
		if got := moladRoshHashanah(y); got != rh {
			t.Fatalf("Rosh Hashanah %d: %v by year-length correction, %v by parts", y, rh, got)
		}
		switch rh.Weekday() {
		case time.Sunday, time.Wednesday, time.Friday:
			t.Errorf("Rosh Hashanah %d on %v, a %v (lo ADU Rosh)", y, rh, rh.Weekday())
		}
		length := roshHashanah(y+1).days() - rh.days()
		want := []int{353, 354, 355}
		if hebrewLeapYear(y) {
			want = []int{383, 384, 385}
		}
		if !slices.Contains(want, length) {
			t.Errorf("year %d (leap %v) is %d days long", y, hebrewLeapYear(y), length)
		}
		pesach := roshHashanah(y + 1).AddDays(-163)
		switch pesach.Weekday() {
		case time.Monday, time.Wednesday, time.Friday:
			t.Errorf("Pesach %d on %v, a %v (lo BaDU Pesach)", y, pesach, pesach.Weekday())
		}
		switch wd := independenceDay(pesach).Weekday(); wd {
		case time.Tuesday, time.Wednesday, time.Thursday:
		default:
			t.Errorf("Independence Day %d on a %v", y, wd)
		}
	}
}

// TestIsraelKnownDates checks israelRules against dates as published in
// Israeli and Jewish calendars, remembered independently of the algorithm.
func TestIsraelKnownDates(t *testing.T) {
	known := []struct {
		date Date
		name string
	}{
		{D(2022, 4, 16), ilPesach},
		{D(2022, 5, 5), ilIndependence}, // 5 Iyar a Friday: Thursday
		{D(2022, 9, 26), ilRoshHashanah},
		{D(2023, 4, 26), ilIndependence}, // a Wednesday: kept
		{D(2023, 9, 16), ilRoshHashanah},
		{D(2023, 10, 7), ilSheminiAtzert},
		{D(2024, 4, 23), ilPesach},
		{D(2024, 5, 14), ilIndependence}, // 5 Iyar a Monday: Tuesday
		{D(2024, 10, 3), ilRoshHashanah},
		{D(2024, 10, 12), ilYomKippur},
		{D(2025, 4, 13), ilPesach},
		{D(2025, 5, 1), ilIndependence}, // 5 Iyar a Saturday: Thursday
		{D(2025, 9, 23), ilRoshHashanah},
		{D(2025, 10, 2), ilYomKippur},
		{D(2026, 4, 2), ilPesach},
		{D(2026, 4, 8), ilPesach7},
		{D(2026, 4, 22), ilIndependence},
		{D(2026, 5, 22), ilShavuot},
		{D(2026, 9, 12), ilRoshHashanah}, // 5787 begins at sunset on 11 September
		{D(2026, 9, 13), ilRoshHashanah2},
		{D(2026, 9, 21), ilYomKippur},
		{D(2026, 9, 26), ilSukkot},
		{D(2026, 10, 3), ilSheminiAtzert},
		{D(2027, 4, 22), ilPesach},
		{D(2027, 10, 2), ilRoshHashanah},
		{D(2027, 10, 11), ilYomKippur},
	}
	for _, k := range known {
		holidays, _ := israelRules(k.date.Year)
		if !slices.Contains(holidays, Holiday{k.date, k.name}) {
			t.Errorf("israelRules(%d) has no %s on %v: %v", k.date.Year, k.name, k.date, holidays)
		}
	}
}

func TestIsraelSeedTablesMatchRules(t *testing.T) {
	for _, table := range builtinTables() {
		if table.Calendar != IL {
			continue
		}
		want, _ := israelRules(table.Year)
		if !slices.Equal(table.Holidays, want) {
			t.Errorf("IL %d table\n got %v\nwant %v (israelRules)", table.Year, table.Holidays, want)
		}
		if len(table.Workdays) != 0 {
			t.Errorf("IL %d table has make-up working days %v", table.Year, table.Workdays)
		}
	}
}
