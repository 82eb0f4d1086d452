package pipeline

import (
	"bytes"
	"reflect"
	"testing"
)

func leadIDs(leads []*Lead) []string {
	var ids []string
	for _, l := range leads {
		ids = append(ids, l.ID)
	}
	return ids
}

func TestLeadsFilter(t *testing.T) {
	f := busyFixture(t)
	yrd, err := f.st.User(f.user("yrd"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		filter   Filter
		want     []string
		wantMore bool
	}{
		{"all", Filter{}, []string{"BOS-0001", "BOS-0002", "BOS-0003", "CBG-0001", "CBG-0002", "CBG-0003"}, false},
		{"site", Filter{Site: "CBG"}, []string{"CBG-0001", "CBG-0002", "CBG-0003"}, false},
		{"division", Filter{Division: "YRD"}, []string{"BOS-0001", "BOS-0003"}, false},
		{"no such division", Filter{Division: "BOHAI"}, nil, false},
		{"stage", Filter{Stage: Declined}, []string{"CBG-0002"}, false},
		{"site and stage", Filter{Site: "BOS", Stage: Landed}, []string{"BOS-0003"}, false},
		{"visible to a division", Filter{Visible: yrd.CanSee}, []string{"BOS-0001", "BOS-0003"}, false},
		{"first page", Filter{Limit: 4}, []string{"BOS-0001", "BOS-0002", "BOS-0003", "CBG-0001"}, true},
		{"next page", Filter{After: "CBG-0001", Limit: 4}, []string{"CBG-0002", "CBG-0003"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, more, err := f.st.Leads(tt.filter)
			if err != nil {
				t.Fatal(err)
			}
			if ids := leadIDs(got); !reflect.DeepEqual(ids, tt.want) || more != tt.wantMore {
				t.Errorf("Leads = %v, more %v; want %v, more %v", ids, more, tt.want, tt.wantMore)
			}
		})
	}
}

// jumpCounter sets the named sequence: reaching BOS-10000 by submitting
// would take ten thousand commands.
func jumpCounter(t *testing.T, st *State, name string, value int64) {
	t.Helper()
	txn := st.write()
	if err := insertRow(txn, tableCounters, &counter{Name: name, Value: value}); err != nil {
		t.Fatal(err)
	}
	st.publish(txn, st.AppliedIndex())
}

// TestLeadIDsPastFourDigits checks numbering, ordering and history once
// one lead's ID is a prefix of another's (BOS-1000, BOS-10000).
func TestLeadIDsPastFourDigits(t *testing.T) {
	f := newFixture(t)
	f.submit("bos")
	jumpCounter(t, f.st, "lead/BOS", 999)
	f.submit("bos")
	jumpCounter(t, f.st, "lead/BOS", 9998)
	f.submit("bos")
	if id := f.submit("bos"); id != "BOS-10000" {
		t.Fatalf("lead after BOS-9999 = %s, want BOS-10000", id)
	}
	f.ok("bos", Command{Op: OpWithdraw, LeadID: "BOS-10000"})

	all, _, err := f.st.Leads(Filter{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"BOS-0001", "BOS-1000", "BOS-9999", "BOS-10000"}
	if got := leadIDs(all); !reflect.DeepEqual(got, want) {
		t.Errorf("Leads = %v, want %v", got, want)
	}
	page, _, err := f.st.Leads(Filter{After: "BOS-9999"})
	if err != nil {
		t.Fatal(err)
	}
	if got := leadIDs(page); !reflect.DeepEqual(got, want[3:]) {
		t.Errorf("Leads after BOS-9999 = %v, want %v", got, want[3:])
	}
	for id, n := range map[string]int{"BOS-1000": 1, "BOS-10000": 2} {
		if h := f.history(id); len(h) != n {
			t.Errorf("history of %s has %d events, want %d: %+v", id, len(h), n, h)
		}
	}
}

// TestResultIsACopy changes what Apply returned, as an API layer redacting
// contacts for a division might, and expects the state not to follow.
func TestResultIsACopy(t *testing.T) {
	f := newFixture(t)
	id := f.leadIn(Approved)
	res := f.ok("yrd", Command{Op: OpClaim, RequestID: "c1", LeadID: id})
	replay := f.ok("yrd", Command{Op: OpClaim, RequestID: "c1", LeadID: id})
	user := f.ok("admin", Command{Op: OpAddUser, NewUser: testUser("Max", NodeStaff, "MUC", "")})
	v, snap := readView(t, f.st), snapshotBody(t, f.st)

	res.Lead.Title, res.Lead.Contacts[0].Email = "changed", "changed@example.com"
	replay.Lead.Tags[0] = "changed"
	user.User.Name = "changed"

	if got := readView(t, f.st); !reflect.DeepEqual(got, v) {
		t.Errorf("changing a Result changed the state:\ngot  %+v\nwant %+v", got, v)
	}
	if got := snapshotBody(t, f.st); !bytes.Equal(got, snap) {
		t.Errorf("changing a Result changed the snapshot")
	}
}
