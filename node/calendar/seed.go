package calendar

import "time"

// The built-in tables. A table for the same calendar and year passed to
// [New] replaces one of these.
//
// CN 2026 is the State Council's schedule (国务院办公厅关于2026年部分节假日安排
// 的通知): the holiday weeks and the make-up working days. Its consistency is
// checked in seed_test.go: 2026 has 261 Mondays to Fridays and, as every year
// under the 2024 rules, 13 statutory days, so it must have 248 working days.
//
// CN 2027 is not yet published (the State Council announces a year's
// schedule in the November before). It holds only the statutory days
// themselves, with their lunar and solar-term dates computed (lunar_test.go
// checks them against new moons and the Sun's longitude), and no substitute
// days or make-up working days: Official is false, and HQ must replace it
// with the published schedule.
//
// IL 2026 and 2027 follow from the Hebrew calendar, which is fixed
// arithmetic; hebrew_test.go checks these lists against israelRules, a
// second formulation of the calendar and known dates.
func builtinTables() []YearTable {
	d := func(m time.Month, day int) Date { return Date{2026, m, day} }
	e := func(m time.Month, day int) Date { return Date{2027, m, day} }
	return []YearTable{
		{
			Calendar: CN, Year: 2026, Official: true,
			Holidays: []Holiday{
				// 元旦: 1–3 January, work on Sunday 4 January.
				{d(1, 1), cnNewYear}, {d(1, 2), cnNewYear}, {d(1, 3), cnNewYear},
				// 春节: 15–23 February (腊月廿八 to 正月初七), work on Saturdays 14 and 28 February.
				{d(2, 15), cnSpring}, {d(2, 16), cnSpring}, {d(2, 17), cnSpring},
				{d(2, 18), cnSpring}, {d(2, 19), cnSpring}, {d(2, 20), cnSpring},
				{d(2, 21), cnSpring}, {d(2, 22), cnSpring}, {d(2, 23), cnSpring},
				// 清明节: 4–6 April.
				{d(4, 4), cnQingming}, {d(4, 5), cnQingming}, {d(4, 6), cnQingming},
				// 劳动节: 1–5 May, work on Saturday 9 May.
				{d(5, 1), cnLabour}, {d(5, 2), cnLabour}, {d(5, 3), cnLabour},
				{d(5, 4), cnLabour}, {d(5, 5), cnLabour},
				// 端午节: 19–21 June.
				{d(6, 19), cnDragon}, {d(6, 20), cnDragon}, {d(6, 21), cnDragon},
				// 中秋节: 25–27 September.
				{d(9, 25), cnAutumn}, {d(9, 26), cnAutumn}, {d(9, 27), cnAutumn},
				// 国庆节: 1–7 October, work on Sunday 20 September and Saturday 10 October.
				{d(10, 1), cnNational}, {d(10, 2), cnNational}, {d(10, 3), cnNational},
				{d(10, 4), cnNational}, {d(10, 5), cnNational}, {d(10, 6), cnNational},
				{d(10, 7), cnNational},
			},
			Workdays: []Date{d(1, 4), d(2, 14), d(2, 28), d(5, 9), d(9, 20), d(10, 10)},
		},
		{
			// To be confirmed by HQ: statutory days only.
			Calendar: CN, Year: 2027, Official: false,
			Holidays: []Holiday{
				{e(1, 1), cnNewYear},
				// 除夕 and 正月初一 to 初三; 正月初一 is 6 February.
				{e(2, 5), cnSpring}, {e(2, 6), cnSpring}, {e(2, 7), cnSpring}, {e(2, 8), cnSpring},
				{e(4, 5), cnQingming}, // the solar term 清明 (Sun at 15°)
				{e(5, 1), cnLabour}, {e(5, 2), cnLabour},
				{e(6, 9), cnDragon},  // 五月初五
				{e(9, 15), cnAutumn}, // 八月十五
				{e(10, 1), cnNational}, {e(10, 2), cnNational}, {e(10, 3), cnNational},
			},
		},
		{
			Calendar: IL, Year: 2026, Official: true,
			Holidays: []Holiday{
				{d(4, 2), ilPesach},        // 15 Nisan 5786
				{d(4, 8), ilPesach7},       // 21 Nisan
				{d(4, 22), ilIndependence}, // 5 Iyar, a Wednesday
				{d(5, 22), ilShavuot},      // 6 Sivan
				{d(9, 12), ilRoshHashanah}, // 1 Tishrei 5787
				{d(9, 13), ilRoshHashanah2},
				{d(9, 21), ilYomKippur},
				{d(9, 26), ilSukkot},
				{d(10, 3), ilSheminiAtzert},
			},
		},
		{
			Calendar: IL, Year: 2027, Official: true,
			Holidays: []Holiday{
				{e(4, 22), ilPesach}, // 15 Nisan 5787 (a leap year)
				{e(4, 28), ilPesach7},
				{e(5, 12), ilIndependence}, // 5 Iyar, a Wednesday
				{e(6, 11), ilShavuot},
				{e(10, 2), ilRoshHashanah}, // 1 Tishrei 5788
				{e(10, 3), ilRoshHashanah2},
				{e(10, 11), ilYomKippur},
				{e(10, 16), ilSukkot},
				{e(10, 23), ilSheminiAtzert},
			},
		},
	}
}

// BuiltinTables returns a copy of the built-in tables, for HQ to start its
// own from.
func BuiltinTables() []YearTable {
	tables := builtinTables()
	for i := range tables {
		tables[i] = tables[i].clone()
	}
	return tables
}
