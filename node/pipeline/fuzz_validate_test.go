package pipeline

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// validationCase is one field of one command filled with fuzz input, and
// the oracle's verdict on it.
type validationCase struct {
	name string
	cmd  Command
	// field is what a refusal's message must start with.
	field string
	// want is the oracle's verdict. When exact, Validate must agree both
	// ways; otherwise the oracle is only necessary and Validate may refuse
	// more (the country list is longer than any test should restate).
	want, exact bool
}

// fiveYears is the longest a token may work.
const fiveYears = 5 * 365 * 24 * time.Hour

// validationCases puts s, t and n into every field Validate checks, one
// field at a time, on an otherwise valid command.
func validationCases(s, t string, n int) []validationCase {
	const rid = "req-1"
	submit := func(change func(d *Draft)) Command {
		d := validDraft()
		change(d)
		return Command{Op: OpSubmit, RequestID: rid, Draft: d}
	}
	update := func(p *Patch) Command {
		return Command{Op: OpUpdate, RequestID: rid, LeadID: "BOS-0001", Patch: p}
	}
	addUser := func(nu *NewUser) Command { return Command{Op: OpAddUser, RequestID: rid, NewUser: nu} }
	tok := testUser("x", Admin, "", "").TokenHash
	attach := func(change func(na *NewAttachment)) Command {
		c := addCmd("BOS-0001", 1, AttachmentShared)
		c.RequestID = rid
		change(c.Attachment)
		return c
	}
	between := func(lo, hi int) bool { return lo <= n && n <= hi }
	return []validationCase{
		{"title", submit(func(d *Draft) { d.Title = s }), "title", oracleLine(s, 1, MaxTitle), true},
		{"summary", submit(func(d *Draft) { d.Summary = s }), "summary", oracleText(s, 1, MaxSummary), true},
		{"organization", submit(func(d *Draft) { d.Organization = s }), "organization", oracleLine(s, 1, MaxOrganization), true},
		{"country", submit(func(d *Draft) { d.Country = s }), "country", oraclePlausibleCountry(s), false},
		{"tags", submit(func(d *Draft) { d.Tags = []string{s, t} }), "tags",
			oracleLine(s, 1, MaxTag) && oracleLine(t, 1, MaxTag), true},
		{"contact", submit(func(d *Draft) { d.Contacts = []Contact{{Name: s, Email: t, Phone: s}} }), "contacts.",
			oracleLine(s, 1, MaxName) && oracleEmail(t) && oracleLine(s, 0, MaxPhone), true},
		{"language", submit(func(d *Draft) { d.Language = s }), "language", oracleLanguage(s), true},
		{"trl", submit(func(d *Draft) { d.TRL = n }), "trl", between(1, 9), true},
		{"sector", submit(func(d *Draft) { d.Sector = Sector(n) }), "sector", between(1, 8), true},
		{"deal type", submit(func(d *Draft) { d.DealType = DealType(n) }), "deal_type", between(1, 5), true},
		{"submit comment", Command{Op: OpSubmit, RequestID: rid, Draft: validDraft(), Comment: s}, "comment",
			oracleText(s, 0, MaxComment), true},
		{"patch title", update(&Patch{Title: &s}), "title", oracleLine(s, 1, MaxTitle), true},
		{"patch summary", update(&Patch{Summary: &s}), "summary", oracleText(s, 1, MaxSummary), true},
		{"patch country", update(&Patch{Country: &s}), "country", oraclePlausibleCountry(s), false},
		{"patch language", update(&Patch{Language: &s}), "language", oracleLanguage(s), true},
		{"patch trl", update(&Patch{TRL: &n}), "trl", between(1, 9), true},
		{"patch tags", update(&Patch{Tags: []string{t, s}}), "tags",
			oracleLine(s, 1, MaxTag) && oracleLine(t, 1, MaxTag), true},
		{"lead ID", Command{Op: OpWithdraw, RequestID: rid, LeadID: s}, "id", oracleLeadID(s), true},
		{"request ID", Command{Op: OpClaim, RequestID: s, LeadID: "BOS-0001"}, "request_id", oracleRequestID(s), true},
		{"claim comment", Command{Op: OpClaim, RequestID: rid, LeadID: "BOS-0001", Comment: s}, "comment",
			oracleText(s, 0, MaxComment), true},
		{"return reason", Command{Op: OpReview, RequestID: rid, LeadID: "BOS-0001", Decision: Return, Comment: s}, "comment",
			oracleText(s, 1, MaxComment), true},
		{"decision", Command{Op: OpReview, RequestID: rid, LeadID: "BOS-0001", Decision: Decision(n), Comment: "why"}, "decision",
			between(1, 3), true},
		{"advance stage", Command{Op: OpAdvance, RequestID: rid, LeadID: "BOS-0001", Stage: Stage(n)}, "stage",
			between(int(Negotiating), int(Landed)), true},
		{"advance note", Command{Op: OpAdvance, RequestID: rid, LeadID: "BOS-0001", Stage: Signed, Comment: s}, "note",
			oracleText(s, 0, MaxComment), true},
		{"user name", addUser(&NewUser{Name: s, Role: HQReviewer, TokenHash: tok}), "name", oracleLine(s, 1, MaxName), true},
		{"staff site", addUser(&NewUser{Name: "Max", Role: NodeStaff, Site: s, TokenHash: tok}), "site", oracleSiteCode(s) || oracleSubnodeCode(s), true},
		{"division", addUser(&NewUser{Name: "Max", Role: DivisionRole, Division: s, TokenHash: tok}), "division", oracleDivision(s), true},
		{"role", addUser(&NewUser{Name: "Max", Role: Role(n), TokenHash: tok}), "", n == int(Admin) || n == int(HQReviewer), true},
		{"revoke user ID", Command{Op: OpRevoke, RequestID: rid, UserID: s}, "id", oracleUserID(s), true},
		{"token owner", Command{Op: OpCreateToken, RequestID: rid, UserID: s, NewToken: &NewToken{Hash: tok}}, "user_id",
			oracleUserID(s), true},
		{"token description", Command{Op: OpCreateToken, RequestID: rid, UserID: "user-0001",
			NewToken: &NewToken{Hash: tok, Description: s}}, "description", oracleLine(s, 0, 200), true},
		{"token TTL", Command{Op: OpCreateToken, RequestID: rid, UserID: "user-0001",
			NewToken: &NewToken{Hash: tok, TTL: time.Duration(n)}}, "ttl", n >= 0 && n <= int(fiveYears), true},
		{"first token TTL", addUser(&NewUser{Name: "Max", Role: HQReviewer, TokenHash: tok, TokenTTL: time.Duration(n)}),
			"token_ttl", n >= 0 && n <= int(fiveYears), true},
		{"token hash", Command{Op: OpCreateToken, RequestID: rid, UserID: "user-0001", NewToken: &NewToken{Hash: s}}, "token",
			oracleTokenHash(s), true},
		{"token ID", Command{Op: OpRevokeToken, RequestID: rid, UserID: "user-0001", TokenID: s}, "token_id",
			oracleTokenID(s), true},
		{"actor token", Command{Op: OpClaim, RequestID: rid, LeadID: "BOS-0001", ActorToken: s}, "actor_token",
			s == "" || oracleTokenID(s), true},
		{"attachment sha256", attach(func(na *NewAttachment) { na.SHA256 = s }), "sha256", oracleTokenHash(s), true},
		{"attachment name", attach(func(na *NewAttachment) { na.Name = s }), "name",
			oracleLine(s, 1, MaxAttachmentName) && !strings.ContainsAny(s, `/\`) && s != "." && s != "..", true},
		{"attachment type", attach(func(na *NewAttachment) { na.ContentType = s }), "content_type", oracleMediaType(s), true},
		{"attachment size", attach(func(na *NewAttachment) { na.Size = int64(n) }), "size", between(1, MaxAttachmentSize), true},
		{"attachment visibility", attach(func(na *NewAttachment) { na.Visibility = AttachmentVisibility(n) }), "visibility",
			between(1, 2), true},
		{"removed attachment", Command{Op: OpRemoveAttachment, RequestID: rid, LeadID: "BOS-0001",
			Attachment: &NewAttachment{SHA256: s, Visibility: AttachmentVisibility(n % 4)}}, "",
			oracleTokenHash(s) && n%4 >= 0 && n%4 <= 2, true},
		{"op", Command{Op: Op(s), RequestID: rid, LeadID: "BOS-0001"}, "",
			s == string(OpClaim) || s == string(OpRelease) || s == string(OpWithdraw) || s == string(OpWithdrawInterest), true},

		// Sign-in for people (accounts.go).
		// Neither a user ID nor a new user: the name is what is missing.
		{"invited user", Command{Op: OpInviteUser, RequestID: rid, UserID: s, Invitation: &NewInvitation{Hash: tok, TTL: time.Hour}},
			map[bool]string{true: "name", false: "user_id"}[s == ""], oracleUserID(s), true},
		{"invited name", Command{Op: OpInviteUser, RequestID: rid, NewUser: &NewUser{Name: s, Role: HQReviewer},
			Invitation: &NewInvitation{Hash: tok, TTL: time.Hour}}, "name", oracleLine(s, 1, MaxName), true},
		{"invitation code", Command{Op: OpInviteUser, RequestID: rid, UserID: "user-0001", Invitation: &NewInvitation{Hash: s, TTL: time.Hour}},
			"code", oracleTokenHash(s), true},
		{"invitation TTL", Command{Op: OpInviteUser, RequestID: rid, UserID: "user-0001", Invitation: &NewInvitation{Hash: tok, TTL: time.Duration(n)}},
			"ttl", n > 0 && n <= int(MaxInvitationTTL), true},
		{"accepted code", Command{Op: OpAcceptInvitation, RequestID: rid, Credentials: &Credentials{Invitation: s, Password: phc(1)}},
			"code", oracleTokenHash(s), true},
		{"password hash", Command{Op: OpAcceptInvitation, RequestID: rid, Credentials: &Credentials{Invitation: tok, Password: s}},
			"password", strings.HasPrefix(s, "$argon2id$v=19$m="), false},
		{"session TTL", Command{Op: OpSignIn, RequestID: rid, Credentials: &Credentials{Password: phc(1)},
			NewToken: &NewToken{Hash: tok, TTL: time.Duration(n)}}, "ttl", n > 0 && n <= int(MaxSessionLifetime), true},
		{"extended token", Command{Op: OpExtendSession, RequestID: rid, TokenID: s}, "token_id", oracleTokenID(s), true},

		// The workflow's fields.
		{"close reason", Command{Op: OpClose, RequestID: rid, LeadID: "BOS-0001", CloseReason: CloseReason(n), Comment: "why"}, "reason",
			between(1, 6), true},
		{"close comment for OTHER", Command{Op: OpClose, RequestID: rid, LeadID: "BOS-0001", CloseReason: OtherReason, Comment: s}, "comment",
			oracleText(s, 1, MaxComment), true},
		{"close visibility", Command{Op: OpClose, RequestID: rid, LeadID: "BOS-0001", CloseReason: Duplicate, Visibility: Visibility(n)},
			"visibility", n == 0 || n == 1 || n == 3, true},
		{"reopen stage", Command{Op: OpReopen, RequestID: rid, LeadID: "BOS-0001", Stage: Stage(n), Comment: "why"}, "stage",
			n == int(Submitted) || n == int(Approved), true},
		{"reopen comment", Command{Op: OpReopen, RequestID: rid, LeadID: "BOS-0001", Stage: Approved, Comment: s}, "comment",
			oracleText(s, 1, MaxComment), true},
		{"rationale", Command{Op: OpExpressInterest, RequestID: rid, LeadID: "BOS-0001", Interest: &InterestDraft{Rationale: s}},
			"rationale", oracleText(s, 1, MaxRationale), true},
		{"enterprise", Command{Op: OpExpressInterest, RequestID: rid, LeadID: "BOS-0001", Interest: &InterestDraft{Rationale: "why", Enterprise: s}},
			"enterprise", oracleLine(s, 0, MaxEnterprise), true},
		{"assign division", Command{Op: OpAssign, RequestID: rid, LeadID: "BOS-0001", Division: s}, "division", oracleDivision(s), true},
		{"claim mode", Command{Op: OpSetClaimMode, RequestID: rid, LeadID: "BOS-0001", ClaimMode: ClaimMode(n)}, "claim_mode",
			between(1, 2), true},
		{"default claim mode", Command{Op: OpSetDefaultClaimMode, RequestID: rid, ClaimMode: ClaimMode(n)}, "claim_mode",
			between(1, 2), true},
		{"approval's claim mode", Command{Op: OpReview, RequestID: rid, LeadID: "BOS-0001", Decision: Approve, ClaimMode: ClaimMode(n)},
			"claim_mode", between(0, 2), true},
		{"comment body", Command{Op: OpComment, RequestID: rid, LeadID: "BOS-0001", Comment: s, Visibility: Shared}, "body",
			oracleText(s, 1, MaxComment), true},
		{"comment visibility", Command{Op: OpComment, RequestID: rid, LeadID: "BOS-0001", Comment: "hi", Visibility: Visibility(n)},
			"visibility", between(1, 3), true},
		{"comment division", Command{Op: OpComment, RequestID: rid, LeadID: "BOS-0001", Comment: "hi", Visibility: DivisionOnly, Division: s},
			"division", s == "" || oracleDivision(s), true},
		{"advance visibility", Command{Op: OpAdvance, RequestID: rid, LeadID: "BOS-0001", Stage: Signed, Visibility: Visibility(n)},
			"visibility", n == 0 || n == 1 || n == 3, true},
	}
}

// FuzzValidate feeds arbitrary strings and numbers into every field that
// validation checks. Validate must never panic; what it accepts must
// satisfy the oracle (valid UTF-8, within its limits, no control
// characters in one-line fields, IDs of the documented forms) and survive
// the trip through the log unchanged; what it refuses must be refused as
// CodeInvalid with a short, readable message naming the field.
func FuzzValidate(f *testing.F) {
	for _, seed := range []struct {
		s, t string
		n    int
	}{
		{"BOS-0001", "dana@example.edu", 5},
		{"固态电池陶瓷隔膜", "", 0},
		{"\u200fחיישן קוונטי", "he", 9},
		{"two\nlines", "a\tb", 10},
		{"line\u2028separator", "x@y", -1},
		{"  ", "r 1", 1 << 31},
		{"user-0001", "zh-Hans", 3},
		{"BOHAI", "YRD", 4},
		{"US", "UK", 6},
		{"bad \xff\xfe byte", "\x00", 8},
		{strings.Repeat("长", MaxTitle+1), strings.Repeat("x", MaxTag+1), 2},
		{"claim", "req-1:a/b+c=d@e~f.g_h", 7},
		{"Mu\u0308nchen\r\n", "de-DE-1996", 1},
		{"\u0085NEL", "e@x\u00a0", 255},
		{"tok-0001", "tok-12345678901", int(fiveYears)},
		{strings.Repeat("a", 64), "", int(fiveYears) + 1},
		{"MUC-TUM", "", 4},
		{"MUC-TUM-LAB", "", 8},
		{"org-0001", "", MaxJobs + 1},
		{"0042000000.50", "", 0},
		{"2027-02-29", "", -1},
		{"2028-02-29", "", 120},
	} {
		f.Add(seed.s, seed.t, seed.n)
	}
	f.Fuzz(func(t *testing.T, s, u string, n int) {
		for _, tc := range append(validationCases(s, u, n), registryValidationCases(s, n)...) {
			checkValidation(t, tc)
		}
		for _, c := range []struct {
			name      string
			got, want bool
		}{
			{"ValidLeadID", ValidLeadID(s), oracleLeadID(s)},
			{"ValidSiteCode", ValidSiteCode(s), oracleSiteCode(s)},
			{"ValidDivision", ValidDivision(s), oracleDivision(s)},
			{"ValidSubnodeCode", ValidSubnodeCode(s), oracleSubnodeCode(s)},
			{"ValidOrgID", ValidOrgID(s), oracleOrgID(s)},
		} {
			if c.got != c.want {
				t.Errorf("%s(%q) = %v, want %v", c.name, s, c.got, c.want)
			}
		}
		if ValidCountry(s) && !oraclePlausibleCountry(s) {
			t.Errorf("ValidCountry(%q) = true, want false", s)
		}
	})
}

func checkValidation(t *testing.T, tc validationCase) {
	t.Helper()
	err := tc.cmd.Validate()
	accepted := err == nil
	if accepted && !tc.want || tc.exact && !accepted && tc.want {
		t.Errorf("%s: Validate(%+v) accepted = %v (%v), want %v", tc.name, tc.cmd, accepted, err, tc.want)
	}
	if !accepted {
		var e *Error
		switch {
		case !errors.As(err, &e) || e.Code != CodeInvalid:
			t.Errorf("%s: Validate = %#v, want an *Error with CodeInvalid", tc.name, err)
		case !strings.HasPrefix(e.Msg, tc.field):
			t.Errorf("%s: error %q, want it to start with %q", tc.name, e.Msg, tc.field)
		case !utf8.ValidString(e.Msg) || len(e.Msg) > 1024:
			// The message quotes the input back: it must stay readable
			// whatever the input was.
			t.Errorf("%s: error of %d bytes, valid UTF-8 %v: %q", tc.name, len(e.Msg), utf8.ValidString(e.Msg), e.Msg)
		}
		return
	}
	// What is accepted must reach every site as it was sent.
	data, err := tc.cmd.Encode()
	if err != nil {
		t.Fatalf("%s: Encode: %v", tc.name, err)
	}
	got, err := DecodeCommand(data)
	if err != nil {
		t.Fatalf("%s: DecodeCommand(%s): %v", tc.name, data, err)
	}
	want := tc.cmd
	want.V = tc.cmd.Format()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s: through the log got %+v, want %+v", tc.name, got, want)
	}
	if err := got.Validate(); err != nil {
		t.Errorf("%s: Validate after the log = %v, want nil", tc.name, err)
	}
}

// TestTokenHashValidation is the regression test for a hash FuzzValidate
// found: 63 hex digits and the byte 0x9f passed Validate (which counted
// bytes only), then became U+FFFD in the log, so that every site refused
// what the proposer had accepted.
func TestTokenHashValidation(t *testing.T) {
	hex := strings.Repeat("0123456789abcdef", 4)
	tests := []struct {
		name, hash string
		valid      bool
	}{
		{"lower-case hex", hex, true},
		{"invalid UTF-8", hex[:63] + "\x9f", false},
		{"upper-case hex", strings.ToUpper(hex), false},
		{"not hex", hex[:63] + "g", false},
		{"short", hex[:63], false},
		{"long", hex + "0", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, c := range []Command{
				{Op: OpCreateToken, RequestID: "r1", UserID: "user-0001", NewToken: &NewToken{Hash: tt.hash}},
				{Op: OpAddUser, RequestID: "r1", NewUser: &NewUser{Name: "Max", Role: HQReviewer, TokenHash: tt.hash}},
			} {
				if err := c.Validate(); (err == nil) != tt.valid {
					t.Errorf("%s: Validate = %v, want valid %v", c.Op, err, tt.valid)
				}
			}
		})
	}
}
