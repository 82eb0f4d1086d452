package calendar

import (
	"testing"
	"time"
)

func TestBuiltinTablesValidate(t *testing.T) {
	for _, table := range BuiltinTables() {
		if err := table.Validate(); err != nil {
			t.Errorf("%s %d: %v", table.Calendar, table.Year, err)
		}
	}
	// BuiltinTables hands out copies.
	BuiltinTables()[0].Holidays[0].Name = "changed"
	if got := BuiltinTables()[0].Holidays[0].Name; got == "changed" {
		t.Error("BuiltinTables shares its slices")
	}
}

// TestChina2026WorkingDays checks the 2026 schedule by counting: since the
// 2024 amendment China has 13 statutory days a year, and each one that falls
// on a weekend is made good by a substitute weekday, while every bridging
// day is paid back by a make-up weekend day. So the year has as many working
// days as it has Mondays to Fridays, less 13.
func TestChina2026WorkingDays(t *testing.T) {
	cn := calendarOf(t, newSet(t), CN)
	weekdays, working := 0, 0
	for d := D(2026, 1, 1); d.Year == 2026; d = d.AddDays(1) {
		if wd := d.Weekday(); wd != time.Saturday && wd != time.Sunday {
			weekdays++
		}
		if cn.Workday(d) {
			working++
		}
	}
	if weekdays != 261 {
		t.Fatalf("2026 has %d weekdays, want 261", weekdays)
	}
	if got, want := working, weekdays-13; got != want {
		t.Errorf("CN 2026 has %d working days, want %d", got, want)
	}
	// Every make-up day is a weekend day next to a holiday week, and no
	// official holiday week is broken by a working day.
	table := cn.Table(2026)
	if len(table.Workdays) != 6 || len(table.Holidays) != 33 {
		t.Errorf("CN 2026: %d holidays, %d make-up days; want 33 and 6", len(table.Holidays), len(table.Workdays))
	}
}

func TestChina2027IsStatutoryOnly(t *testing.T) {
	cn := calendarOf(t, newSet(t), CN)
	table := cn.Table(2027)
	if table.Official || cn.Confirmed(2027) {
		t.Error("CN 2027 is marked official; only the statutory days are known")
	}
	if got := len(table.Holidays); got != 13 {
		t.Errorf("CN 2027 lists %d days, want the 13 statutory days", got)
	}
	if len(table.Workdays) != 0 {
		t.Errorf("CN 2027 lists make-up days %v; they are not yet known", table.Workdays)
	}
}
