package console

import (
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	innonetpb "innonet/proto/innonet/v1"
)

func TestDeadlineWords(t *testing.T) {
	c, err := loadCatalogue()
	if err != nil {
		t.Fatal(err)
	}
	due := time.Date(2026, 12, 12, 0, 0, 0, 0, chinaZone)
	st := &innonetpb.SlaStatus{State: innonetpb.SlaStatus_NEAR, DueTime: timestamppb.New(due), MustAct: "YRD",
		Calendar: "CN", LimitDays: 5, ElapsedDays: 4, Unconfirmed: true}
	cases := []struct {
		lang string
		loc  *time.Location
		want deadline
	}{
		{"en", chinaZone, deadline{Label: "Due soon", Due: "by the end of 11 Dec 2026", Who: "Yangtze River Delta must act", Days: "4 of 5 working days"}},
		{"zh", chinaZone, deadline{Label: "即将到期", Due: "2026年12月11日 下班前", Who: "待长三角事业部处理"}},
		// Read in Munich, the end of a day in Zhengzhou is a time.
		{"en", mustZone("Europe/Berlin"), deadline{Due: "by 11 Dec 2026 17:00 CET"}},
	}
	for _, tc := range cases {
		got := deadlineOf(c.printer(tc.lang), st, tc.loc)
		for _, f := range []struct{ name, got, want string }{{"label", got.Label, tc.want.Label}, {"due", got.Due, tc.want.Due},
			{"who", got.Who, tc.want.Who}, {"days", got.Days, tc.want.Days}} {
			if f.want != "" && f.got != f.want {
				t.Errorf("%s %s: %s is %q, want %q", tc.lang, tc.loc, f.name, f.got, f.want)
			}
		}
		if got.Note == "" {
			t.Errorf("%s: no note for an unconfirmed calendar", tc.lang)
		}
	}
	if d := deadlineOf(c.printer("en"), nil, chinaZone); d != nil {
		t.Errorf("a lead without a limit has a deadline: %+v", d)
	}
	if got := mustAct(c.printer("en"), "DIVISIONS"); got != "The divisions" {
		t.Errorf("mustAct(DIVISIONS) = %q", got)
	}
}

// TestReportWords checks the keys the reports build at run time.
func TestReportWords(t *testing.T) {
	c, err := loadCatalogue()
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, s := range append(append([]string(nil), mainSteps...), offSteps...) {
		keys = append(keys, "step."+s)
	}
	for _, d := range funnelDims {
		keys = append(keys, "dim."+d)
	}
	for _, s := range innonetpb.SlaStatus_State_name {
		keys = append(keys, "slastate."+s)
	}
	for _, s := range slaStages {
		keys = append(keys, "slastage."+s, "stage."+s)
	}
	for _, s := range targetScopes {
		keys = append(keys, "scope."+s)
	}
	for _, cal := range calendars {
		keys = append(keys, "calendar."+cal)
	}
	for d := time.Sunday; d <= time.Saturday; d++ {
		keys = append(keys, "weekday."+d.String())
	}
	for _, f := range []string{"pushed", "approved", "signed", "landed", "investment", "currency", "jobs", "code", "scope"} {
		keys = append(keys, "targets."+f)
	}
	keys = append(keys, "actor.HQ", "actor.DIVISIONS", "calsource.BUILT_IN", "calsource.HQ",
		"export.link.funnel", "export.link.targets", "export.link.late", "report.from", "report.to")
	for _, k := range keys {
		if !c.has(k) {
			t.Errorf("no words for %s", k)
		}
	}
}
