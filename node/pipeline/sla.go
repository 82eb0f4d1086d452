package pipeline

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"innonet/node/calendar"
)

// Stage SLAs: how many working days a lead may stay in a stage before
// whoever must act is late, counted on that party's calendar (package
// node/calendar; the node computes deadlines outside Apply). HQ sets the
// limits (OpSetSLA, kept as a setting) and the year tables of the
// calendars that have them (OpSetCalendarYear: China's official schedule
// with its make-up working days, Israel's holidays, or a one-off day
// elsewhere), which replace the binary's built-in table of that year.

// SettingSLA names the SLA setting.
const SettingSLA = "sla"

// SLAStages are the stages a limit may be set for, and who acts in each.
var SLAStages = []Stage{Submitted, Returned, Approved, Claimed, Negotiating, Signed}

// MaxSLADays bounds a limit.
const MaxSLADays = 365

// SLA is the limits in working days, by stage name, and how many working
// days before its deadline a lead counts as near it.
type SLA struct {
	Limits map[string]int `json:"limits"`
	Near   int            `json:"near"`
	// Version counts HQ's changes (0: the defaults); set by Apply.
	Version int64 `json:"version,omitempty"`
}

// DefaultSLA applies until HQ sets its own: review within 5 working days,
// the node answers a question within 10, a division claims within 10,
// negotiation starts within 20, a deal is signed within 60 and lands
// within 120.
func DefaultSLA() SLA {
	return SLA{Limits: map[string]int{"SUBMITTED": 5, "RETURNED": 10, "APPROVED": 10, "CLAIMED": 20,
		"NEGOTIATING": 60, "SIGNED": 120}, Near: 1}
}

func (s *SLA) validate() *Error {
	valid := make([]string, len(SLAStages))
	for i, st := range SLAStages {
		valid[i] = st.String()
	}
	for _, k := range slices.Sorted(maps.Keys(s.Limits)) {
		if !slices.Contains(valid, k) {
			return invalid("limits", "%q is not a stage with a limit; valid stages: %s", truncate(k, 20), strings.Join(valid, ", "))
		}
		if v := s.Limits[k]; v < 1 || v > MaxSLADays {
			return invalid("limits."+k, "must be from 1 to %d working days, got %d", MaxSLADays, v)
		}
	}
	if s.Near < 0 || s.Near > 30 {
		return invalid("near", "must be from 0 to 30 working days, got %d", s.Near)
	}
	return nil
}

func (a *applier) setSLA() (Result, *Error) {
	if a.actor.Role != HQReviewer {
		return Result{}, errorf(CodePermission, "only HQ_REVIEWER may set the stage limits; caller is %s", a.actor.Role)
	}
	cur := DefaultSLA()
	if set := settingIn(a.txn, SettingSLA); set != nil {
		_ = json.Unmarshal([]byte(set.Value), &cur)
	}
	if v := a.cmd.ExpectedVersion; v != 0 && v != cur.Version {
		return Result{}, errorf(CodeConflict, "the stage limits are at version %d, not the expected %d; read them again", cur.Version, v)
	}
	next := *a.cmd.SLA
	next.Version = cur.Version + 1
	b, err := json.Marshal(next)
	if err != nil {
		return Result{}, errorf(CodeInternal, "encode the limits: %v", err)
	}
	s := &Setting{Name: SettingSLA, Value: string(b), Time: a.now, UserID: a.actor.ID, UserName: a.actor.Name}
	if err := a.insert(tableSettings, s); err != nil {
		return Result{}, err
	}
	return Result{Setting: s}, nil
}

// SLA returns the limits in force and the setting that chose them (nil
// while HQ never set any: DefaultSLA). The limits' map is shared with
// other callers: it must not be changed.
func (s *State) SLA() (SLA, *Setting) {
	set := settingIn(s.read(), SettingSLA)
	var c *Setting
	read := slaRead{}
	if set != nil {
		cp := *set
		c, read.value, read.set = &cp, set.Value, true
	}
	// Every answer that shows a lead's deadline asks: the setting's value
	// is parsed once, not for each of them.
	if m := s.slaMemo.Load(); m != nil && m.set == read.set && m.value == read.value {
		return m.sla, m.setting(c)
	}
	read.sla, read.parsed = DefaultSLA(), false
	if set != nil {
		var out SLA
		if json.Unmarshal([]byte(set.Value), &out) == nil {
			read.sla, read.parsed = out, true
		}
	}
	s.slaMemo.Store(&read)
	return read.sla, read.setting(c)
}

// slaRead is what one value of the SLA setting reads as (see State.SLA).
type slaRead struct {
	value  string
	set    bool // there is a setting (value may still be "")
	parsed bool // its value parsed: sla is the setting's, not the default
	sla    SLA
}

// setting is the setting to return beside the limits: none when they are
// the defaults.
func (r *slaRead) setting(c *Setting) *Setting {
	if !r.parsed {
		return nil
	}
	return c
}

const tableCalendars = "calendars"

// CalendarTable is HQ's table of one calendar's year.
type CalendarTable struct {
	Key string `json:"key"` // CODE/YEAR
	calendar.YearTable
	Version       int64     `json:"version"`
	UpdatedBy     string    `json:"updatedBy"`
	UpdatedByName string    `json:"updatedByName"`
	Updated       time.Time `json:"updated"`
}

func calendarKey(code string, year int) string { return code + "/" + strconv.Itoa(year) }

func checkCalendarTable(t *calendar.YearTable) *Error {
	if t == nil {
		return invalid("calendar", "is required")
	}
	if err := t.Validate(); err != nil {
		return &Error{Code: CodeInvalid, Msg: strings.ReplaceAll(err.Error(), "\n", "; ")}
	}
	return nil
}

func (a *applier) setCalendarYear() (Result, *Error) {
	if a.actor.Role != HQReviewer {
		return Result{}, errorf(CodePermission, "only HQ_REVIEWER may edit the calendars; caller is %s", a.actor.Role)
	}
	in := *a.cmd.Calendar
	key := calendarKey(in.Calendar, in.Year)
	var version int64
	if cur := keyedIn[*CalendarTable](a.txn, keyedCalendars, key); cur != nil {
		version = cur.Version
	}
	if v := a.cmd.ExpectedVersion; v != 0 && v != version {
		return Result{}, errorf(CodeConflict, "the calendar %s is at version %d, not the expected %d; read it again", key, version, v)
	}
	in.Holidays = slices.Clone(in.Holidays)
	in.Workdays = slices.Clone(in.Workdays)
	t := &CalendarTable{Key: key, YearTable: in, Version: version + 1, UpdatedBy: a.actor.ID,
		UpdatedByName: a.actor.Name, Updated: a.now}
	if err := a.insert(tableCalendars, t); err != nil {
		return Result{}, err
	}
	c := *t
	return Result{Calendar: &c}, nil
}

// CalendarTables returns HQ's calendar tables, by key, and a string that
// changes whenever one does.
func (s *State) CalendarTables() ([]CalendarTable, string, error) {
	return calendarTables(s.read())
}

func calendarTables(txn *tx) ([]CalendarTable, string, error) {
	it, err := rowsOf(txn, tableCalendars, "")
	if err != nil {
		return nil, "", fmt.Errorf("read calendars: %w", err)
	}
	var out []CalendarTable
	var key strings.Builder
	for raw := it.Next(); raw != nil; raw = it.Next() {
		t := *raw.(*CalendarTable)
		out = append(out, t)
		fmt.Fprintf(&key, "%s:%d;", t.Key, t.Version)
	}
	return out, key.String(), nil
}

// CalendarTable returns HQ's table of code's year, or nil.
func (s *State) CalendarTable(code string, year int) *CalendarTable {
	cur := keyedIn[*CalendarTable](s.read(), keyedCalendars, calendarKey(code, year))
	if cur == nil {
		return nil
	}
	t := *cur
	return &t
}
