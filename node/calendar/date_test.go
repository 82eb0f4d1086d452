package calendar

import (
	"encoding/json"
	"testing"
	"time"
)

func TestDate(t *testing.T) {
	if got, want := D(2026, 12, 32), (Date{2027, time.January, 1}); got != want {
		t.Errorf("D(2026, 12, 32) = %v, want %v", got, want)
	}
	if got, want := D(2026, 3, 1).AddDays(-1), (Date{2026, time.February, 28}); got != want {
		t.Errorf("2026-03-01 - 1 day = %v, want %v", got, want)
	}
	if got, want := D(2026, 9, 12).Weekday(), time.Saturday; got != want {
		t.Errorf("2026-09-12 is a %v, want %v", got, want)
	}
	if !(Date{2028, time.February, 29}).Valid() || (Date{2026, time.February, 29}).Valid() || (Date{}).Valid() {
		t.Error("Valid: 2028-02-29 is a date, 2026-02-29 and the zero Date are not")
	}
	if D(2026, 12, 31).Compare(D(2027, 1, 1)) != -1 || !D(2027, 1, 1).After(D(2026, 12, 31)) || D(2026, 5, 1).Compare(D(2026, 5, 1)) != 0 {
		t.Error("Compare orders by year, month, day")
	}
	if got, want := D(2027, 1, 1).days()-D(2026, 1, 1).days(), 365; got != want {
		t.Errorf("days in 2026 = %d, want %d", got, want)
	}
}

func TestDateText(t *testing.T) {
	d, err := ParseDate("2026-02-14")
	if err != nil || d != (Date{2026, time.February, 14}) {
		t.Fatalf("ParseDate(2026-02-14) = %v, %v", d, err)
	}
	for _, bad := range []string{"", "2026-2-14", "2026-02-30", "14.02.2026"} {
		if _, err := ParseDate(bad); err == nil {
			t.Errorf("ParseDate(%q) succeeded, want an error", bad)
		}
	}
	b, err := json.Marshal(Holiday{Date: d, Name: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"date":"2026-02-14","name":"x"}`; got != want {
		t.Errorf("JSON = %s, want %s", got, want)
	}
	var h Holiday
	if err := json.Unmarshal(b, &h); err != nil || h.Date != d {
		t.Errorf("JSON round trip = %v, %v", h, err)
	}
}
