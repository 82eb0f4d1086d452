package notify

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// people is a small network: HQ, four node staff (MUC's, MUC-TUM's and
// a lab under it, and Boston's), and the divisions' users. prd1 also
// wants every publication; adm wants new leads; bos1 turned comments off.
var people = []Recipient{
	{UserID: "tum1", Role: RoleNodeStaff, Site: "MUC-TUM"},
	{UserID: "hq1", Role: RoleHQReviewer},
	{UserID: "hq2", Role: RoleHQReviewer},
	{UserID: "adm", Role: RoleAdmin, Prefs: Prefs{Kinds: map[Kind]bool{Submitted: true}}},
	{UserID: "muc1", Role: RoleNodeStaff, Site: "MUC"},
	{UserID: "lab1", Role: RoleNodeStaff, Site: "MUC-TUM-LAB"},
	{UserID: "bos1", Role: RoleNodeStaff, Site: "BOS", Prefs: Prefs{Kinds: map[Kind]bool{Comment: false}}},
	{UserID: "bohai1", Role: RoleDivision, Division: "BOHAI"},
	{UserID: "bohai2", Role: RoleDivision, Division: "BOHAI"},
	{UserID: "yrd1", Role: RoleDivision, Division: "YRD"},
	{UserID: "prd1", Role: RoleDivision, Division: "PRD", Prefs: Prefs{Kinds: map[Kind]bool{Published: true}}},
}

func lead(action, from, to string, actor Recipient) Event {
	return Event{Index: 42, Time: time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC), LeadID: "L-0042",
		LeadTitle: "Solid-state battery separator", Site: "MUC", Subnode: "MUC-TUM", Action: action,
		From: from, To: to, ActorID: actor.UserID, ActorName: actor.UserID, ActorRole: actor.Role,
		SubmittedBy: "tum1", Division: actor.Division}
}

func who(id string) Recipient {
	for _, p := range people {
		if p.UserID == id {
			return p
		}
	}
	panic("no user " + id)
}

func summary(ns []Notification) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = n.UserID + "=" + string(n.Kind)
	}
	return strings.Join(s, " ")
}

func TestRecipients(t *testing.T) {
	claimed := func(e Event) Event { e.Division = "BOHAI"; return e }
	cases := []struct {
		name string
		e    Event
		want string
	}{
		{"submit tells HQ", lead(ActionSubmit, "", "SUBMITTED", who("tum1")),
			"adm=SUBMITTED hq1=SUBMITTED hq2=SUBMITTED"},
		{"update tells nobody", lead(ActionUpdate, "SUBMITTED", "SUBMITTED", who("tum1")), ""},
		{"return tells the sub-node and the sites above it", lead(ActionReturn, "SUBMITTED", "RETURNED", who("hq1")),
			"muc1=RETURNED tum1=RETURNED"},
		{"resubmit tells HQ, not the admin by default", lead(ActionResubmit, "RETURNED", "SUBMITTED", who("tum1")),
			"hq1=ANSWERED hq2=ANSWERED"},
		{"approve publishes, matches first", func() Event {
			e := lead(ActionApprove, "SUBMITTED", "APPROVED", who("hq1"))
			e.MatchDivisions = []string{"BOHAI"}
			return e
		}(), "bohai1=PUBLISHED_MATCH bohai2=PUBLISHED_MATCH muc1=STAGE_CHANGED prd1=PUBLISHED tum1=STAGE_CHANGED"},
		{"decline tells the node", lead(ActionDecline, "SUBMITTED", "DECLINED", who("hq2")),
			"muc1=DECLINED tum1=DECLINED"},
		{"claim tells the node, HQ and colleagues", lead(ActionClaim, "APPROVED", "CLAIMED", who("bohai1")),
			"bohai2=CLAIMED hq1=CLAIMED hq2=CLAIMED muc1=CLAIMED tum1=CLAIMED"},
		{"assign tells the division", claimed(lead(ActionAssign, "APPROVED", "CLAIMED", who("hq1"))),
			"bohai1=ASSIGNED bohai2=ASSIGNED hq2=CLAIMED muc1=CLAIMED tum1=CLAIMED"},
		{"negotiating is not news for HQ", lead(ActionAdvance, "CLAIMED", "NEGOTIATING", who("bohai2")),
			"bohai1=STAGE_CHANGED muc1=STAGE_CHANGED tum1=STAGE_CHANGED"},
		{"signing is", lead(ActionAdvance, "NEGOTIATING", "SIGNED", who("bohai2")),
			"bohai1=STAGE_CHANGED hq1=STAGE_CHANGED hq2=STAGE_CHANGED muc1=STAGE_CHANGED tum1=STAGE_CHANGED"},
		{"landing too", lead(ActionAdvance, "SIGNED", "LANDED", who("bohai1")),
			"bohai2=STAGE_CHANGED hq1=STAGE_CHANGED hq2=STAGE_CHANGED muc1=STAGE_CHANGED tum1=STAGE_CHANGED"},
		{"close", lead(ActionClose, "NEGOTIATING", "LOST", who("bohai1")),
			"bohai2=STAGE_CHANGED hq1=STAGE_CHANGED hq2=STAGE_CHANGED muc1=STAGE_CHANGED tum1=STAGE_CHANGED"},
		// Released, the lead is published again: to the divisions that
		// asked for every publication (prd1).
		{"release", lead(ActionRelease, "CLAIMED", "APPROVED", who("bohai1")),
			"bohai2=STAGE_CHANGED hq1=STAGE_CHANGED hq2=STAGE_CHANGED muc1=STAGE_CHANGED prd1=PUBLISHED tum1=STAGE_CHANGED"},
		{"withdraw by the node", lead(ActionWithdraw, "SUBMITTED", "WITHDRAWN", who("tum1")),
			"hq1=STAGE_CHANGED hq2=STAGE_CHANGED muc1=STAGE_CHANGED"},
		{"reopen", claimed(lead(ActionReopen, "LOST", "NEGOTIATING", who("hq1"))),
			"bohai1=STAGE_CHANGED bohai2=STAGE_CHANGED hq2=STAGE_CHANGED muc1=STAGE_CHANGED tum1=STAGE_CHANGED"},
		{"interest tells HQ", lead(ActionExpressInterest, "APPROVED", "APPROVED", who("yrd1")),
			"hq1=INTEREST hq2=INTEREST"},
		{"and its withdrawal", lead(ActionWithdrawInterest, "APPROVED", "APPROVED", who("yrd1")),
			"hq1=INTEREST hq2=INTEREST"},
		{"comment to its audience", func() Event {
			e := lead(ActionComment, "NEGOTIATING", "NEGOTIATING", who("bohai1"))
			e.Audience = []string{PartyHQ, "BOHAI", "MUC-TUM"}
			return e
		}(), "bohai2=COMMENT hq1=COMMENT hq2=COMMENT muc1=COMMENT tum1=COMMENT"},
		{"comment off in prefs", func() Event {
			e := lead(ActionComment, "SUBMITTED", "SUBMITTED", who("hq1"))
			e.Site, e.Subnode, e.Audience = "BOS", "", []string{PartyHQ, "BOS"}
			return e
		}(), "hq2=COMMENT"},
		{"merge", lead(ActionMerge, "SUBMITTED", "MERGED", who("hq1")), "hq2=MERGED muc1=MERGED tum1=MERGED"},
		{"merge in", claimed(lead(ActionMergeIn, "CLAIMED", "CLAIMED", who("hq1"))),
			"bohai1=MERGED bohai2=MERGED hq2=MERGED muc1=MERGED tum1=MERGED"},
		{"attachment tells nobody", lead(ActionAddAttachment, "SUBMITTED", "SUBMITTED", who("tum1")), ""},
		{"SLA: HQ must review", sla("HQ", "SUBMITTED"), "hq1=SLA hq2=SLA"},
		{"SLA: the node must answer", sla("MUC", "RETURNED"), "muc1=SLA tum1=SLA"},
		{"SLA: a division must move", sla("BOHAI", "CLAIMED"), "bohai1=SLA bohai2=SLA"},
		{"SLA: the divisions must claim", sla("DIVISIONS", "APPROVED"), "bohai1=SLA bohai2=SLA prd1=SLA yrd1=SLA"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := summary(Recipients(c.e, people)); got != c.want {
				t.Errorf("got  %s\nwant %s", got, c.want)
			}
		})
	}
}

func sla(mustAct, stage string) Event {
	e := lead(ActionSLA, stage, stage, Recipient{})
	e.SLA = &SLAWarning{MustAct: mustAct, Due: time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC), State: SLANear}
	return e
}

func TestRecipientsSubmitterElsewhere(t *testing.T) {
	// The submitter moved to Boston: still told of their lead.
	users := []Recipient{{UserID: "tum1", Role: RoleNodeStaff, Site: "BOS"}, {UserID: "bos2", Role: RoleNodeStaff, Site: "BOS"}}
	if got := summary(Recipients(lead(ActionReturn, "SUBMITTED", "RETURNED", who("hq1")), users)); got != "tum1=RETURNED" {
		t.Errorf("got %q", got)
	}
}

func TestRecipientsDuplicateUsers(t *testing.T) {
	users := []Recipient{who("hq2"), who("hq1"), who("hq2")}
	if got := summary(Recipients(lead(ActionSubmit, "", "SUBMITTED", who("tum1")), users)); got != "hq1=SUBMITTED hq2=SUBMITTED" {
		t.Errorf("got %q", got)
	}
}

func TestEventKind(t *testing.T) {
	for _, c := range []struct {
		action string
		want   Kind
	}{{ActionApprove, Published}, {ActionClose, StageChanged}, {ActionMergeIn, Merged}, {ActionUpdate, ""}} {
		got, ok := EventKind(Event{Action: c.action})
		if got != c.want || ok != (c.want != "") {
			t.Errorf("EventKind(%s) = %q, %v; want %q", c.action, got, ok, c.want)
		}
	}
	if got, _ := EventKind(sla("HQ", "SUBMITTED")); got != SLA {
		t.Errorf("EventKind(SLA) = %q", got)
	}
}

// TestDefaultsTable checks that the table in doc.go says what the code
// does.
func TestDefaultsTable(t *testing.T) {
	src, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	roles := []string{RoleAdmin, RoleHQReviewer, RoleDivision, RoleNodeStaff}
	row := regexp.MustCompile(`(?m)^//\t([A-Z_]+)\s+(yes|-)\s+(yes|-)\s+(yes|-)\s+(yes|-)\s*$`)
	rows := row.FindAllStringSubmatch(string(src), -1)
	if len(rows) != len(kinds) {
		t.Fatalf("doc.go has %d rows of defaults, want one per kind (%d)", len(rows), len(kinds))
	}
	for _, r := range rows {
		k := Kind(r[1])
		if !k.Valid() {
			t.Errorf("doc.go: unknown kind %s", k)
		}
		for i, role := range roles {
			if got, want := slices.Contains(DefaultKinds(role), k), r[2+i] == "yes"; got != want {
				t.Errorf("%s for %s: code says %v, doc.go says %v", k, role, got, want)
			}
		}
	}
}

func TestPrefsValidate(t *testing.T) {
	cases := []struct {
		p    Prefs
		want string // "" for valid; else a substring naming the field
	}{
		{Prefs{}, ""},
		{Prefs{Email: "li@example.cn", Channels: Channels{Email: true}, Digest: true, DigestHour: 8,
			TimeZone: "Asia/Shanghai", Lang: "zh", Kinds: map[Kind]bool{Published: true}}, ""},
		{Prefs{Kinds: map[Kind]bool{"PUBLISH": true}}, "kinds: unknown kind \"PUBLISH\""},
		{Prefs{Email: "not an address"}, "email:"},
		{Prefs{Email: "Li <li@example.cn>"}, "email: must be a bare address"},
		{Prefs{Channels: Channels{Email: true}}, "email: is required"},
		{Prefs{DigestHour: 24}, "digestHour: must be from 0 to 23, got 24"},
		{Prefs{Digest: true}, "digest: needs channels.email"},
		{Prefs{TimeZone: "Mars/Olympus"}, "timeZone:"},
		{Prefs{TimeZone: "Local"}, "timeZone:"},
		{Prefs{Lang: "de"}, "lang: must be zh or en, got \"de\""},
	}
	for _, c := range cases {
		err := c.p.Validate()
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%+v: %v", c.p, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%+v: got %v, want an error containing %q", c.p, err, c.want)
		}
	}
}

func TestRecipientLang(t *testing.T) {
	for _, c := range []struct {
		r    Recipient
		want string
	}{
		{Recipient{Role: RoleNodeStaff}, "en"},
		{Recipient{Role: RoleDivision}, "zh"},
		{Recipient{Role: RoleNodeStaff, Prefs: Prefs{Lang: "zh"}}, "zh"},
	} {
		if got := c.r.Lang(); got != c.want {
			t.Errorf("%+v: got %s, want %s", c.r, got, c.want)
		}
	}
}

func TestKey(t *testing.T) {
	n := Notification{Kind: Claimed, Event: Event{Index: 7}}
	if got := n.Key(); got != "innonet-7-CLAIMED" {
		t.Errorf("webhook key %q", got)
	}
	n.UserID = "u1"
	if got := n.Key(); got != "innonet-7-CLAIMED-u1" {
		t.Errorf("user key %q", got)
	}
}
