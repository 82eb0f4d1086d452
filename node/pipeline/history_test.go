package pipeline

import (
	"fmt"
	"reflect"
	"testing"
	"time"
)

// TestHistory walks a lead through its life and checks every event the
// history records, field by field.
func TestHistory(t *testing.T) {
	home := map[string]string{"bos": "BOS", "hq": HQSite, "bohai": "BOHAI", "yrd": "YRD"}
	const id = "BOS-0001"
	steps := []struct {
		actor  string
		origin string
		cmd    Command
		action string
		from   Stage
		to     Stage
		// at is the proposer's clock; Apply must record it as is, even
		// when it runs behind the previous entry's.
		at time.Time
	}{
		{"bos", "BOS", Command{Op: OpSubmit, Draft: validDraft()}, "SUBMIT", StageUnspecified, Submitted,
			epoch},
		{"bos", "BOS", Command{Op: OpUpdate, Patch: &Patch{Title: new("Better title")}, Comment: "typo"}, "UPDATE", Submitted, Submitted,
			epoch.Add(time.Hour)},
		{"hq", "CGO", Command{Op: OpReview, Decision: Return, Comment: "need TRL evidence"}, "RETURN", Submitted, Returned,
			epoch.Add(26 * time.Hour)},
		{"bos", "BOS", Command{Op: OpUpdate, Patch: &Patch{TRL: new(6)}, Comment: "test report attached"}, "RESUBMIT", Returned, Submitted,
			epoch.Add(50 * time.Hour)},
		{"hq", "CBG", Command{Op: OpReview, Decision: Approve}, "APPROVE", Submitted, Approved,
			epoch.Add(51 * time.Hour)},
		{"bohai", "CGO", Command{Op: OpClaim, Comment: "fits Tianjin"}, "CLAIM", Approved, Claimed,
			epoch.Add(52 * time.Hour)},
		{"hq", "CGO", Command{Op: OpRelease, Comment: "reassigned"}, "RELEASE", Claimed, Approved,
			epoch.Add(53 * time.Hour)},
		{"yrd", "CGO", Command{Op: OpClaim}, "CLAIM", Approved, Claimed,
			epoch.Add(54 * time.Hour)},
		{"yrd", "MUC", Command{Op: OpAdvance, Stage: Negotiating, Comment: "term sheet"}, "ADVANCE", Claimed, Negotiating,
			epoch.Add(100 * time.Hour)},
		{"yrd", "CGO", Command{Op: OpAdvance, Stage: Signed}, "ADVANCE", Negotiating, Signed,
			epoch.Add(99*time.Hour + 123456789*time.Nanosecond)},
		{"yrd", "CGO", Command{Op: OpAdvance, Stage: Landed, Comment: "plant open"}, "ADVANCE", Signed, Landed,
			epoch.Add(900 * time.Hour)},
	}

	f := newFixture(t)
	var want []Event
	for i, s := range steps {
		cmd := s.cmd
		cmd.Origin, cmd.Time, cmd.RequestID = s.origin, s.at.UnixNano(), fmt.Sprintf("step-%d", i)
		if cmd.Op != OpSubmit {
			cmd.LeadID = id
		}
		f.ok(s.actor, cmd)
		// Neither a refused command nor a replay adds an event.
		wantError(t, f.apply("cbg", Command{Op: OpWithdraw, LeadID: id}), ErrPermission)
		if !f.ok(s.actor, cmd).Replayed {
			t.Fatalf("step %d: retry not replayed", i)
		}

		u, err := f.st.User(f.user(s.actor))
		if err != nil {
			t.Fatal(err)
		}
		v := int64(i + 1)
		want = append(want, Event{
			Key: fmt.Sprintf("%s/%010d", id, v), LeadID: id, Seq: v, Action: s.action,
			UserID: u.ID, UserName: u.Name, Role: u.Role, UserSite: home[s.actor], OriginSite: s.origin,
			From: s.from, To: s.to, Comment: cmd.Comment, Time: s.at,
			Version: v, LogIndex: f.index - 2, RequestID: cmd.RequestID,
		})
		got := f.history(id)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("after step %d (%s) history =\n%+v\nwant\n%+v", i, s.action, got, want)
		}
	}
	if l := f.lead(id); l.Version != int64(len(steps)) || !l.Updated.Equal(steps[len(steps)-1].at) {
		t.Errorf("lead is at v%d updated %v, want v%d updated %v", l.Version, l.Updated, len(steps), steps[len(steps)-1].at)
	}
}

// TestHistoryPerLead checks that events of one lead never show up in
// another's history, even where one ID is a prefix of another's.
func TestHistoryPerLead(t *testing.T) {
	f := newFixture(t)
	a := f.leadIn(Approved) // BOS-0001: submit, approve
	b := f.leadIn(Withdrawn)
	c := f.submit("cbg")
	for _, tt := range []struct {
		id   string
		want []string
	}{
		{a, []string{"SUBMIT", "APPROVE"}},
		{b, []string{"SUBMIT", "WITHDRAW"}},
		{c, []string{"SUBMIT"}},
	} {
		var got []string
		for _, e := range f.history(tt.id) {
			if e.LeadID != tt.id {
				t.Errorf("history of %s holds an event of %s", tt.id, e.LeadID)
			}
			got = append(got, e.Action)
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("history of %s = %v, want %v", tt.id, got, tt.want)
		}
	}
	if _, err := f.st.History("BOS-0009"); err == nil {
		t.Errorf("History of a missing lead = nil error, want not found")
	} else if e, ok := err.(*Error); !ok || e.Code != CodeNotFound {
		t.Errorf("History of a missing lead = %v, want CodeNotFound", err)
	}
}
