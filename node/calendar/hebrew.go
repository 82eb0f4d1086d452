package calendar

import "time"

// The Hebrew calendar, as arithmetic: the molad (mean conjunction) of
// Tishrei and the four postponements (dehiyyot) fix Rosh Hashanah, and every
// holiday used here is a fixed number of days from it. The formulation is
// that of Reingold and Dershowitz, Calendrical Calculations (3rd ed., ch. 8);
// hebrew_test.go checks it against a second, molad-by-parts formulation and
// against known dates.

// hebrewEpoch is the fixed day (R.D., day 1 = 0001-01-01 proleptic
// Gregorian) of 1 Tishrei AM 1.
const hebrewEpoch = -1373427

// rdUnixEpoch is the R.D. number of 1970-01-01.
const rdUnixEpoch = 719163

func floorDiv(a, b int) int {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func floorMod(a, b int) int { return a - b*floorDiv(a, b) }

func hebrewLeapYear(y int) bool { return floorMod(7*y+1, 19) < 7 }

// hebrewElapsedDays is the number of days from the epoch to the molad of
// Tishrei of year y, postponed when the molad falls on a Sunday, Wednesday
// or Friday (lo ADU Rosh).
func hebrewElapsedDays(y int) int {
	months := floorDiv(235*y-234, 19)
	parts := 12084 + 13753*months
	days := 29*months + floorDiv(parts, 25920)
	if floorMod(3*(days+1), 7) < 3 {
		days++
	}
	return days
}

// hebrewYearLengthCorrection applies the remaining postponements, which keep
// every year 353–355 or 383–385 days long.
func hebrewYearLengthCorrection(y int) int {
	ny0, ny1, ny2 := hebrewElapsedDays(y-1), hebrewElapsedDays(y), hebrewElapsedDays(y+1)
	switch {
	case ny2-ny1 == 356:
		return 2
	case ny1-ny0 == 382:
		return 1
	}
	return 0
}

// roshHashanah returns the Gregorian date of 1 Tishrei of Hebrew year y.
func roshHashanah(y int) Date {
	rd := hebrewEpoch + hebrewElapsedDays(y) + hebrewYearLengthCorrection(y)
	return D(1970, time.January, 1+rd-rdUnixEpoch)
}

// Names of Israel's holidays.
const (
	ilRoshHashanah  = "Rosh Hashanah"
	ilRoshHashanah2 = "Rosh Hashanah (second day)"
	ilYomKippur     = "Yom Kippur"
	ilSukkot        = "Sukkot (first day)"
	ilSheminiAtzert = "Shemini Atzeret / Simchat Torah"
	ilPesach        = "Pesach (first day)"
	ilPesach7       = "Pesach (seventh day)"
	ilIndependence  = "Yom HaAtzmaut (Independence Day)"
	ilShavuot       = "Shavuot"
)

// israelRules gives the days in Gregorian year year on which Israeli offices
// close: the Torah festivals that are rest days under the Hours of Work and
// Rest Law, and Independence Day. Eves (erev chag) are working days, and so
// are the intermediate days of Sukkot and Pesach (chol hamoed).
//
// The spring festivals belong to Hebrew year year+3760, the autumn ones to
// year+3761. From 1 Tishrei the months back to Nisan have fixed lengths
// (Nisan 30, Iyar 29, Sivan 30, Tammuz 29, Av 30, Elul 29), so 15 Nisan is
// always 163 days before the next Rosh Hashanah.
func israelRules(year int) ([]Holiday, []Date) {
	rh := roshHashanah(year + 3761)
	pesach := rh.AddDays(-163) // 15 Nisan
	return []Holiday{
		{pesach, ilPesach},
		{pesach.AddDays(6), ilPesach7},            // 21 Nisan
		{independenceDay(pesach), ilIndependence}, // 5 Iyar, moved
		{pesach.AddDays(50), ilShavuot},           // 6 Sivan
		{rh, ilRoshHashanah},
		{rh.AddDays(1), ilRoshHashanah2},
		{rh.AddDays(9), ilYomKippur},      // 10 Tishrei
		{rh.AddDays(14), ilSukkot},        // 15 Tishrei
		{rh.AddDays(21), ilSheminiAtzert}, // 22 Tishrei
	}, nil
}

// independenceDay returns the day Independence Day is kept, given 15 Nisan.
// It is 5 Iyar, 20 days later, except that it never touches the Sabbath:
// on a Friday or Saturday it moves back to the Thursday before, and on a
// Monday (which would put Memorial Day's eve on Saturday night) forward to
// the Tuesday. 5 Iyar falls only on a Monday, Wednesday, Friday or Saturday.
func independenceDay(pesach Date) Date {
	d := pesach.AddDays(20)
	switch d.Weekday() {
	case time.Friday:
		return d.AddDays(-1)
	case time.Saturday:
		return d.AddDays(-2)
	case time.Monday:
		return d.AddDays(1)
	}
	return d
}
