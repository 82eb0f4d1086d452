package pipeline

import (
	"bytes"
	"testing"

	"innonet/node/calendar"
)

func TestSLASettingAndCalendars(t *testing.T) {
	f := newFlowFixture(t)
	if sla, set := f.st.SLA(); set != nil || sla.Limits["SUBMITTED"] != 5 {
		t.Fatalf("defaults: %v %v", sla, set)
	}
	f.ok("hq", Command{Op: OpSetSLA, SLA: &SLA{Limits: map[string]int{"SUBMITTED": 3, "CLAIMED": 15}, Near: 2}})
	if sla, set := f.st.SLA(); set == nil || sla.Limits["SUBMITTED"] != 3 || sla.Near != 2 || set.UserID != f.user("hq") || sla.Version != 1 {
		t.Fatalf("HQ's limits: %v %v", sla, set)
	}
	assertUnchanged(t, f.st, func() {
		wantError(t, f.apply("hq", Command{Op: OpSetSLA, SLA: &SLA{Limits: map[string]int{"SUBMITTED": 4}}, ExpectedVersion: 5}), ErrConflict, "version 1")
	})
	for _, tc := range []struct {
		name, actor string
		cmd         Command
		sentinel    error
		msgs        []string
	}{
		{"node staff", "bos", Command{Op: OpSetSLA, SLA: &SLA{Limits: map[string]int{"SUBMITTED": 3}}}, ErrPermission, []string{"HQ_REVIEWER"}},
		{"no limits", "hq", Command{Op: OpSetSLA}, ErrInvalid, []string{"limits"}},
		{"a final stage", "hq", Command{Op: OpSetSLA, SLA: &SLA{Limits: map[string]int{"LANDED": 3}}}, ErrInvalid, []string{"LANDED", "SUBMITTED, RETURNED"}},
		{"a year long", "hq", Command{Op: OpSetSLA, SLA: &SLA{Limits: map[string]int{"SUBMITTED": 366}}}, ErrInvalid, []string{"limits.SUBMITTED", "365"}},
		{"a division edits a calendar", "yrd", Command{Op: OpSetCalendarYear, Calendar: &calendar.YearTable{Calendar: "CN", Year: 2027}}, ErrPermission, nil},
		{"no calendar", "hq", Command{Op: OpSetCalendarYear}, ErrInvalid, []string{"calendar"}},
		{"an unknown calendar", "hq", Command{Op: OpSetCalendarYear, Calendar: &calendar.YearTable{Calendar: "FR", Year: 2027}}, ErrInvalid, []string{"FR"}},
		{"a make-up day on a weekday", "hq", Command{Op: OpSetCalendarYear, Calendar: &calendar.YearTable{Calendar: "CN", Year: 2027,
			Workdays: []calendar.Date{calendar.D(2027, 2, 3)}}}, ErrInvalid, []string{"2027-02-03"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assertUnchanged(t, f.st, func() { wantError(t, f.apply(tc.actor, tc.cmd), tc.sentinel, tc.msgs...) })
		})
	}
	table := &calendar.YearTable{Calendar: "CN", Year: 2027, Official: true,
		Holidays: []calendar.Holiday{{Date: calendar.D(2027, 2, 8), Name: "春节"}}, Workdays: []calendar.Date{calendar.D(2027, 2, 6)}}
	res := f.ok("hq", Command{Op: OpSetCalendarYear, Calendar: table})
	if res.Calendar == nil || res.Calendar.Version != 1 || res.Calendar.Key != "CN/2027" {
		t.Fatalf("stored: %+v", res.Calendar)
	}
	wantError(t, f.apply("hq", Command{Op: OpSetCalendarYear, Calendar: table, ExpectedVersion: 5}), ErrConflict, "version 1")
	ts, key, err := f.st.CalendarTables()
	if err != nil || len(ts) != 1 || key != "CN/2027:1;" || !ts[0].Official {
		t.Fatalf("tables: %v %q %v", ts, key, err)
	}
	f.ok("hq", Command{Op: OpSetTargets, Year: 2027, Targets: []TargetRow{{Scope: ScopeNetwork, Pushed: 10}}})
	st := New()
	if err := st.Restore(bytes.NewReader(snapshotBytes(t, f.st))); err != nil {
		t.Fatal(err)
	}
	if tb := st.CalendarTable("CN", 2027); tb == nil || tb.Workdays[0] != calendar.D(2027, 2, 6) {
		t.Errorf("restored calendar: %v", tb)
	}
	if tg, err := st.Targets(2027); err != nil || tg == nil || tg.Rows[0].Pushed != 10 {
		t.Errorf("restored targets: %v %v", tg, err)
	}
}

func TestTargetsRefused(t *testing.T) {
	f := newFlowFixture(t)
	for _, tc := range []struct {
		name, actor string
		year        int
		rows        []TargetRow
		sentinel    error
		msgs        []string
	}{
		{"a division", "yrd", 2026, nil, ErrPermission, []string{"HQ_REVIEWER"}},
		{"year 1999", "hq", 1999, nil, ErrInvalid, []string{"year"}},
		{"a bad scope", "hq", 2026, []TargetRow{{Scope: "PLANET"}}, ErrInvalid, []string{"targets[0].scope", "NETWORK, SITE"}},
		{"a sub-node as a site", "hq", 2026, []TargetRow{{Scope: ScopeSite, Code: "MUC-TUM"}}, ErrInvalid, []string{"targets[0].code"}},
		{"twice", "hq", 2026, []TargetRow{{Scope: ScopeSite, Code: "BOS"}, {Scope: ScopeSite, Code: "BOS"}}, ErrInvalid, []string{"targets[1].code", "two rows"}},
		{"negative", "hq", 2026, []TargetRow{{Scope: ScopeNetwork, Pushed: -1}}, ErrInvalid, []string{"targets[0].pushed"}},
		{"investment without a currency", "hq", 2026, []TargetRow{{Scope: ScopeNetwork, Investment: "100"}}, ErrInvalid, []string{"targets[0].currency"}},
		{"a bad amount", "hq", 2026, []TargetRow{{Scope: ScopeNetwork, Investment: "1e9", Currency: "CNY"}}, ErrInvalid, []string{"targets[0].investment"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assertUnchanged(t, f.st, func() {
				wantError(t, f.apply(tc.actor, Command{Op: OpSetTargets, Year: tc.year, Targets: tc.rows}), tc.sentinel, tc.msgs...)
			})
		})
	}
}
