package pipeline

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	submit := func(change func(d *Draft)) Command {
		d := validDraft()
		change(d)
		return Command{Op: OpSubmit, RequestID: "r1", Draft: d}
	}
	withdraw := func(id string) Command { return Command{Op: OpWithdraw, RequestID: "r1", LeadID: id} }
	tests := []struct {
		name  string
		cmd   Command
		field string
		// viaLog is false for input the log cannot carry: JSON turns
		// invalid UTF-8 into U+FFFD, so only Validate sees it.
		viaLog bool
	}{
		{"empty title", submit(func(d *Draft) { d.Title = "" }), "title", true},
		{"blank title", submit(func(d *Draft) { d.Title = " \t " }), "title", true},
		{"title with newline", submit(func(d *Draft) { d.Title = "two\nlines" }), "title", true},
		{"title with tab", submit(func(d *Draft) { d.Title = "two\tcolumns" }), "title", true},
		{"title with CR", submit(func(d *Draft) { d.Title = "two\rlines" }), "title", true},
		{"title with NEL", submit(func(d *Draft) { d.Title = "two\u0085lines" }), "title", true},
		{"title too long", submit(func(d *Draft) { d.Title = strings.Repeat("长", MaxTitle+1) }), "title", true},
		{"title invalid UTF-8", submit(func(d *Draft) { d.Title = "bad \xff\xfe byte" }), "title", false},
		{"summary invalid UTF-8", submit(func(d *Draft) { d.Summary = "\xc3\x28" }), "summary", false},
		{"summary with escape", submit(func(d *Draft) { d.Summary = "ring \x07 bell" }), "summary", true},
		{"no organization", submit(func(d *Draft) { d.Organization = "" }), "organization", true},
		{"country XX", submit(func(d *Draft) { d.Country = "XX" }), "country", true},
		{"country lower case", submit(func(d *Draft) { d.Country = "us" }), "country", true},
		{"country alpha-3", submit(func(d *Draft) { d.Country = "USA" }), "country", true},
		{"no country", submit(func(d *Draft) { d.Country = "" }), "country", true},
		{"TRL 0", submit(func(d *Draft) { d.TRL = 0 }), "trl", true},
		{"TRL 10", submit(func(d *Draft) { d.TRL = 10 }), "trl", true},
		{"sector 0", submit(func(d *Draft) { d.Sector = 0 }), "sector", true},
		{"sector 99", submit(func(d *Draft) { d.Sector = 99 }), "sector", true},
		{"deal type 0", submit(func(d *Draft) { d.DealType = 0 }), "deal_type", true},
		{"deal type -1", submit(func(d *Draft) { d.DealType = -1 }), "deal_type", true},
		{"too many tags", submit(func(d *Draft) { d.Tags = make([]string, MaxTags+1); fill(d.Tags, "t") }), "tags", true},
		{"tag too long", submit(func(d *Draft) { d.Tags = []string{strings.Repeat("x", MaxTag+1)} }), "tags", true},
		{"empty tag", submit(func(d *Draft) { d.Tags = []string{"ok", ""} }), "tags", true},
		{"email without @", submit(func(d *Draft) { d.Contacts[0].Email = "dana.example.edu" }), "contacts.email", true},
		{"email with space", submit(func(d *Draft) { d.Contacts[0].Email = "dana lee@example.edu" }), "contacts.email", true},
		{"contact without name", submit(func(d *Draft) { d.Contacts[0].Name = "" }), "contacts.name", true},
		{"language", submit(func(d *Draft) { d.Language = "english!" }), "language", true},
		{"no draft", Command{Op: OpSubmit, RequestID: "r1"}, "lead", true},
		{"lead ID lower case", withdraw("bos-1"), "id", true},
		{"lead ID too short", withdraw("BOS-1"), "id", true},
		{"lead ID path", withdraw("../etc"), "id", true},
		{"no lead ID", withdraw(""), "id", true},
		{"no request ID", Command{Op: OpWithdraw, LeadID: "BOS-0001"}, "request_id", true},
		{"request ID too long", Command{Op: OpWithdraw, LeadID: "BOS-0001", RequestID: strings.Repeat("r", MaxRequestID+1)}, "request_id", true},
		{"request ID with space", Command{Op: OpWithdraw, LeadID: "BOS-0001", RequestID: "r 1"}, "request_id", true},
		{"comment too long", Command{Op: OpClaim, RequestID: "r1", LeadID: "BOS-0001", Comment: strings.Repeat("é", MaxComment+1)}, "comment", true},
		{"no patch", Command{Op: OpUpdate, RequestID: "r1", LeadID: "BOS-0001"}, "lead", true},
		{"patch country", Command{Op: OpUpdate, RequestID: "r1", LeadID: "BOS-0001", Patch: &Patch{Country: new("uk")}}, "country", true},
		{"patch TRL", Command{Op: OpUpdate, RequestID: "r1", LeadID: "BOS-0001", Patch: &Patch{TRL: new(0)}}, "trl", true},
		{"no decision", Command{Op: OpReview, RequestID: "r1", LeadID: "BOS-0001"}, "decision", true},
		{"advance to CLAIMED", Command{Op: OpAdvance, RequestID: "r1", LeadID: "BOS-0001", Stage: Claimed}, "stage", true},
		{"advance note", Command{Op: OpAdvance, RequestID: "r1", LeadID: "BOS-0001", Stage: Signed, Comment: "a\x00b"}, "note", true},
		{"no op", Command{RequestID: "r1"}, "op", true},
		{"user without token", Command{Op: OpAddUser, RequestID: "r1", NewUser: &NewUser{Name: "X", Role: HQReviewer}}, "token", true},
		{"staff without site", Command{Op: OpAddUser, RequestID: "r1", NewUser: testUser("X", NodeStaff, "", "")}, "site", true},
		{"division unknown", Command{Op: OpAddUser, RequestID: "r1", NewUser: testUser("X", DivisionRole, "", "NORTH")}, "division", true},
		{"reviewer with site", Command{Op: OpAddUser, RequestID: "r1", NewUser: testUser("X", HQReviewer, "BOS", "")}, "site", true},
		{"no role", Command{Op: OpAddUser, RequestID: "r1", NewUser: testUser("X", RoleUnspecified, "", "")}, "role", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantInvalid(t, tt.cmd.Validate(), tt.field)
			if !tt.viaLog {
				return
			}
			f := newFixture(t)
			f.leadIn(Claimed)
			cmd := tt.cmd
			cmd.Actor = f.user("bos")
			data, err := cmd.Encode()
			if err != nil {
				t.Fatal(err)
			}
			var res any
			assertUnchanged(t, f.st, func() { res = f.applyRaw(data) })
			// The proposer refuses such a command; one that is in the log
			// anyway is read differently here than where it was proposed,
			// so Apply must stop rather than skip it.
			if e, ok := res.(*Error); !ok || e.Code != CodeUnreadable {
				t.Errorf("Apply = %#v, want a CodeUnreadable *Error", res)
			} else if !strings.Contains(e.Msg, ": "+tt.field+": ") {
				t.Errorf("Apply = %q, want it to name the field %q", e.Msg, tt.field)
			}
		})
	}
}

// TestValidateSubmitComment checks that a submit's comment, which goes
// into the history, obeys the limits every other comment does.
func TestValidateSubmitComment(t *testing.T) {
	for _, c := range []string{strings.Repeat("x", MaxComment+1), "bell \x07"} {
		cmd := Command{Op: OpSubmit, RequestID: "r1", Draft: validDraft(), Comment: c}
		wantInvalid(t, cmd.Validate(), "comment")
	}
}

func wantInvalid(t *testing.T, err error, field string) {
	t.Helper()
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("error = %v, want CodeInvalid", err)
	}
	if !strings.HasPrefix(err.Error(), field+": ") {
		t.Errorf("error = %q, want it to start with %q", err, field+": ")
	}
}

func fill(s []string, prefix string) {
	for i := range s {
		s[i] = prefix + strings.Repeat("x", i)
	}
}

// TestDraftInAnyLanguage submits drafts written in other scripts and
// checks they are stored byte for byte: no normalization, no trimming.
func TestDraftInAnyLanguage(t *testing.T) {
	tests := []struct {
		name  string
		draft Draft
	}{
		{"Chinese", Draft{
			Title: "固态电池陶瓷隔膜", Summary: "清华大学团队研发。\n中试线已运行，良率 92%。",
			Organization: "清华大学", Country: "CN", Sector: NewMaterials, TRL: 6, DealType: JointVenture,
			Tags: []string{"电池", "陶瓷"}, Contacts: []Contact{{Name: "王芳", Email: "wang@tsinghua.edu.cn"}},
			Language: "zh-Hans"}},
		{"Hebrew", Draft{
			Title: "\u200fחיישן קוונטי לאבחון רפואי", Summary: "פותח במכון ויצמן.\tניסוי קליני 2025.",
			Organization: "מכון ויצמן למדע", Country: "IL", Sector: LifeSciencesHealth, TRL: 4, DealType: RnDCollaboration,
			Tags: []string{"קוונטי"}, Contacts: []Contact{{Name: "נועה כהן", Phone: "+972 8 934 2111"}},
			Language: "he"}},
		{"German", Draft{
			// "Mu\u0308nchen" is decomposed: it must not be folded into "München".
			Title: "Größenverstellbare Brennstoffzelle", Summary: "Entwickelt in Mu\u0308nchen.\r\nPilotanlage läuft. ",
			Organization: "Fraunhofer-Institut für Solare Energiesysteme ISE", Country: "DE", Sector: AdvancedManufacturing,
			TRL: 7, DealType: Relocation, Tags: []string{"Wasserstoff", "Ökologie"},
			Contacts: []Contact{{Name: "Jörg Weiß", Email: "joerg.weiss@ise.fraunhofer.de"}}, Language: "de-DE"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			d := tt.draft
			res := f.ok("bos", Command{Op: OpSubmit, Draft: &d})
			got := f.lead(res.Lead.ID)
			for _, field := range []struct{ name, got, want string }{
				{"title", got.Title, tt.draft.Title},
				{"summary", got.Summary, tt.draft.Summary},
				{"organization", got.Organization, tt.draft.Organization},
				{"language", got.Language, tt.draft.Language},
			} {
				if !bytes.Equal([]byte(field.got), []byte(field.want)) {
					t.Errorf("%s = %q, want %q", field.name, field.got, field.want)
				}
			}
			if !reflect.DeepEqual(got.Tags, tt.draft.Tags) || !reflect.DeepEqual(got.Contacts, tt.draft.Contacts) {
				t.Errorf("tags, contacts = %q, %+v; want %q, %+v", got.Tags, got.Contacts, tt.draft.Tags, tt.draft.Contacts)
			}
		})
	}
}
