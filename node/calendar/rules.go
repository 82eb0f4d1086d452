package calendar

import (
	"strings"
	"time"

	"github.com/rickar/cal/v2"
	"github.com/rickar/cal/v2/de"
	"github.com/rickar/cal/v2/gb"
	"github.com/rickar/cal/v2/us"
)

// The calendar codes.
const (
	CN   = "CN"    // China: HQ in Zhengzhou and the divisions
	US   = "US"    // United States federal holidays: the Boston node
	GB   = "GB"    // England and Wales bank holidays: the Cambridge node
	DEBY = "DE-BY" // Germany with Bavaria's (Munich's) holidays: the Munich node
	IL   = "IL"    // Israel: the Tel Aviv node
)

// A definition is what is fixed about a calendar: its zone, its weekend and
// the rules that give its holidays for a year that has no table.
type definition struct {
	code    string
	zone    string
	weekend [7]bool // by time.Weekday
	// rules returns the holidays of a year without a table, with any make-up
	// working days; confirmed says whether they are certain (statutory
	// rules fixed in advance) or a fallback HQ must confirm.
	rules     func(year int) (holidays []Holiday, workdays []Date)
	confirmed bool
}

func (d *definition) weekendNames() string {
	var names []string
	for i := 1; i <= 7; i++ { // from Monday
		if wd := time.Weekday(i % 7); d.weekend[wd] {
			names = append(names, wd.String())
		}
	}
	return strings.Join(names, " and ")
}

var (
	satSun = [7]bool{time.Saturday: true, time.Sunday: true}
	friSat = [7]bool{time.Friday: true, time.Saturday: true}
)

// definitions is read-only after package initialisation.
var definitions = map[string]*definition{
	CN:   {code: CN, zone: "Asia/Shanghai", weekend: satSun, rules: chinaFixedRules},
	US:   {code: US, zone: "America/New_York", weekend: satSun, rules: libraryRules(us.Holidays), confirmed: true},
	GB:   {code: GB, zone: "Europe/London", weekend: satSun, rules: libraryRules(gb.Holidays), confirmed: true},
	DEBY: {code: DEBY, zone: "Europe/Berlin", weekend: satSun, rules: libraryRules(bavaria), confirmed: true},
	IL:   {code: IL, zone: "Asia/Jerusalem", weekend: friSat, rules: israelRules},
}

// Codes returns the calendar codes in a fixed order: HQ's first, then the
// nodes'.
func Codes() []string { return []string{CN, US, GB, DEBY, IL} }

// bavaria is Bavaria's statewide list plus the Assumption (15 August), a
// public holiday in Bavarian municipalities with a mainly Catholic
// population, Munich among them. The Augsburg Peace Festival (8 August,
// Augsburg only) is not included.
var bavaria = append(append([]*cal.Holiday(nil), de.HolidaysBY...), de.MariaHimmelfahrt)

// libraryRules gives a year's holidays from rickar/cal: the observed dates,
// so a holiday moved off a weekend (US: Saturday to Friday, Sunday to
// Monday; GB: to the next free weekday) is the day that is off. A holiday
// of the next or previous year can be observed in this one (US New Year's
// Day 2028, a Saturday, is observed on Friday 31 December 2027), so the
// neighbouring years are computed too.
func libraryRules(list []*cal.Holiday) func(year int) ([]Holiday, []Date) {
	return func(year int) ([]Holiday, []Date) {
		var out []Holiday
		for y := year - 1; y <= year+1; y++ {
			for _, h := range list {
				actual, observed := h.Calc(y)
				if observed.IsZero() || observed.Year() != year {
					continue
				}
				name := h.Name
				if DateOf(actual) != DateOf(observed) {
					name += " (observed)"
				}
				out = append(out, Holiday{Date: DateOf(observed), Name: name})
			}
		}
		return out, nil
	}
}

// chinaFixedRules gives the statutory holidays of China that fall on fixed
// Gregorian dates (全国年节及纪念日放假办法, as amended in 2024). The lunar
// holidays, Qingming, the substitute days and the make-up working days are
// set each year by the State Council and come only from a [YearTable].
func chinaFixedRules(year int) ([]Holiday, []Date) {
	return []Holiday{
		{D(year, time.January, 1), cnNewYear},
		{D(year, time.May, 1), cnLabour},
		{D(year, time.May, 2), cnLabour},
		{D(year, time.October, 1), cnNational},
		{D(year, time.October, 2), cnNational},
		{D(year, time.October, 3), cnNational},
	}, nil
}

// Names of China's holidays.
const (
	cnNewYear  = "元旦 New Year's Day"
	cnSpring   = "春节 Spring Festival"
	cnQingming = "清明节 Qingming Festival"
	cnLabour   = "劳动节 Labour Day"
	cnDragon   = "端午节 Dragon Boat Festival"
	cnAutumn   = "中秋节 Mid-Autumn Festival"
	cnNational = "国庆节 National Day"
)
