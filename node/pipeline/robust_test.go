package pipeline

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"
)

// garbage are log entries no proposer would write.
func garbage() []struct {
	name string
	data []byte
	want error
} {
	rnd := make([]byte, 512)
	r := rand.NewChaCha8([32]byte{1, 2, 3})
	_, _ = r.Read(rnd) // ChaCha8 never fails
	valid := `"op":"withdraw","requestId":"g1","actor":"user-0003","leadId":"BOS-0001"`
	return []struct {
		name string
		data []byte
		want error
	}{
		{"nil", nil, ErrUnreadable},
		{"empty", []byte(""), ErrUnreadable},
		{"open brace", []byte("{"), ErrUnreadable},
		{"null", []byte("null"), ErrUnreadable},
		{"array", []byte(`[1,2,3]`), ErrUnreadable},
		{"string", []byte(`"submit"`), ErrUnreadable},
		{"random bytes", rnd, ErrUnreadable},
		{"no version", []byte(`{` + valid + `}`), ErrUnreadable},
		{"version 2", []byte(`{"v":2,` + valid + `}`), ErrUnreadable},
		{"version -1", []byte(`{"v":-1,` + valid + `}`), ErrUnreadable},
		{"unknown op", []byte(`{"v":1,"op":"delete_everything","requestId":"g1","actor":"user-0001"}`), ErrUnreadable},
		{"huge version", []byte(`{"v":1e400,` + valid + `}`), ErrUnreadable},
		{"version beyond int64", []byte(`{"v":99999999999999999999,` + valid + `}`), ErrUnreadable},
		{"time beyond int64", []byte(`{"v":1,"time":9223372036854775808,` + valid + `}`), ErrUnreadable},
		{"fractional time", []byte(`{"v":1,"time":1.5,` + valid + `}`), ErrUnreadable},
		{"stage beyond range", []byte(`{"v":1,"op":"advance","requestId":"g1","actor":"user-0006","leadId":"BOS-0001","stage":9223372036854775807}`), ErrUnreadable},
		{"decision beyond range", []byte(`{"v":1,"op":"review","requestId":"g1","actor":"user-0002","leadId":"BOS-0001","decision":-9223372036854775808}`), ErrUnreadable},
		{"trl beyond range", []byte(`{"v":1,"op":"update","requestId":"g1","actor":"user-0003","leadId":"BOS-0001","patch":{"trl":4294967306}}`), ErrUnreadable},
		{"draft of wrong type", []byte(`{"v":1,"op":"submit","requestId":"g1","actor":"user-0003","draft":"lead"}`), ErrUnreadable},
		{"huge title", []byte(`{"v":1,"op":"submit","requestId":"g1","actor":"user-0003","draft":{"title":"` + strings.Repeat("A", 1<<20) + `"}}`), ErrUnreadable},
		{"trailing garbage", []byte(`{"v":1,` + valid + `}}`), ErrUnreadable},
		{"unknown actor", []byte(`{"v":1,"op":"withdraw","requestId":"g1","actor":"user-0999","leadId":"BOS-0001"}`), ErrUnauthenticated},
		{"no actor", []byte(`{"v":1,"op":"withdraw","requestId":"g1","leadId":"BOS-0001"}`), ErrUnauthenticated},
	}
}

func TestApplyGarbage(t *testing.T) {
	for _, tt := range garbage() {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.leadIn(Claimed)
			var res any
			assertUnchanged(t, f.st, func() { res = f.applyRaw(tt.data) })
			wantError(t, res, tt.want)
			if got := f.st.AppliedIndex(); got != f.index {
				t.Errorf("AppliedIndex = %d, want %d", got, f.index)
			}
		})
	}
}

// FuzzApply feeds Apply arbitrary entries on top of a state holding a lead
// in each of several stages, of log format 1 and of format 2. Apply must
// answer with a Result or an *Error, never panic (which Apply would report
// as CodeInternal); it must answer the same and leave the same state on
// every site; it must change nothing when it refuses; and an entry it
// accepted, applied again, must be a replay that answers the same and
// changes nothing. Whatever DecodeCommand accepts must encode back to the
// same command.
func FuzzApply(f *testing.F) {
	seed := newFixture(f)
	for i, c := range []struct {
		actor string
		cmd   Command
	}{
		{"bos", Command{Op: OpSubmit, Draft: validDraft()}},
		{"bos", Command{Op: OpUpdate, LeadID: "BOS-0001", Patch: &Patch{Title: new("t"), Tags: []string{"a"}}}},
		{"hq", Command{Op: OpReview, LeadID: "BOS-0001", Decision: Return, Comment: "why"}},
		{"yrd", Command{Op: OpClaim, LeadID: "BOS-0002", ExpectedVersion: 2}},
		{"yrd", Command{Op: OpAdvance, LeadID: "BOS-0003", Stage: Negotiating}},
		{"hq", Command{Op: OpRelease, LeadID: "BOS-0003"}},
		{"bos", Command{Op: OpWithdraw, LeadID: "BOS-0002"}},
		{"admin", Command{Op: OpAddUser, NewUser: testUser("Max", NodeStaff, "MUC", "")}},
		{"admin", Command{Op: OpRevoke, UserID: "user-0003"}},
		{"bos", Command{Op: OpCreateToken, UserID: "user-0003", NewToken: &NewToken{Hash: testUser("spare", NodeStaff, "BOS", "").TokenHash, TTL: time.Hour}}},
		{"admin", Command{Op: OpRevokeToken, UserID: "user-0003", TokenID: "tok-0003"}},
		{"bos", Command{Op: OpWithdraw, LeadID: "BOS-0001", ActorToken: "tok-0001"}},
		{"", Command{Op: OpBootstrap, NewUser: testUser("Ada Admin", Admin, "", "")}},
		// The workflow's (of format 2).
		{"yrd", Command{Op: OpClose, LeadID: "BOS-0003", CloseReason: TermsNotAgreed, Comment: "price"}},
		{"hq", Command{Op: OpReopen, LeadID: "BOS-0003", Stage: Approved, Comment: "again"}},
		{"hq", Command{Op: OpAssign, LeadID: "BOS-0002", Division: "PRD"}},
		{"hq", Command{Op: OpSetClaimMode, LeadID: "BOS-0002", ClaimMode: ClaimAssigned}},
		{"hq", Command{Op: OpSetDefaultClaimMode, ClaimMode: ClaimAssigned}},
		{"prd", Command{Op: OpExpressInterest, LeadID: "BOS-0002", Interest: &InterestDraft{Rationale: "why", Enterprise: "Shenzhen Co"}}},
		{"prd", Command{Op: OpWithdrawInterest, LeadID: "BOS-0002"}},
		{"yrd", Command{Op: OpComment, LeadID: "BOS-0003", Comment: "42M", Visibility: DivisionOnly}},
		{"hq", Command{Op: OpComment, LeadID: "BOS-0001", Comment: "why?", Visibility: HQAndSite}},
		{"yrd", Command{Op: OpAdvance, LeadID: "BOS-0003", Stage: Negotiating, Visibility: Shared}},
		{"bos", addCmd("BOS-0001", 3, AttachmentShared)},
		{"bos", addCmd("BOS-0001", 1, AttachmentShared)},
		{"yrd", addCmd("BOS-0003", 1, AttachmentDivision)},
		{"hq", removeCmd("BOS-0001", 1, AttachmentVisibilityUnspecified)},
		{"yrd", removeCmd("BOS-0003", 2, AttachmentDivision)},
		{"bos", Command{Op: OpTranslate, LeadID: "BOS-0001", Translation: &TranslationInput{Lang: "zh", Title: "隔膜", Status: TranslationDraft}}},
		{"hq", Command{Op: OpTranslate, LeadID: "BOS-0002", Translation: &TranslationInput{Lang: "de", Summary: "Separator", Status: TranslationVerified}}},
		{"hq", Command{Op: OpSetGlossaryTerm, Glossary: &GlossaryInput{Term: "hydrogen", Names: map[string]string{"zh": "氢能", "en": "hydrogen"}}}},
		{"hq", Command{Op: OpDeleteGlossaryTerm, Glossary: &GlossaryInput{Term: "sector.it_ai"}}},
		// Sign-in for people (accounts.go).
		{"admin", Command{Op: OpInviteUser, NewUser: &NewUser{Name: "Ivy", Role: NodeStaff, Site: "BOS"}, Invitation: &NewInvitation{Hash: hashOf("c"), TTL: time.Hour}}},
		{"admin", Command{Op: OpInviteUser, UserID: "user-0003", Invitation: &NewInvitation{Hash: hashOf("c2"), TTL: time.Hour}}},
		{"bos", Command{Op: OpAcceptInvitation, Credentials: &Credentials{Invitation: hashOf("c2"), Password: phc(1)}}},
		{"bos", Command{Op: OpSignIn, Credentials: &Credentials{Password: phc(1)}, NewToken: &NewToken{Hash: hashOf("s"), TTL: time.Hour}}},
		{"bos", Command{Op: OpExtendSession, TokenID: "tok-0008"}},
	} {
		if c.cmd.Op != OpBootstrap {
			// Request IDs of their own: the fixture's would make these
			// replays of the base state's requests.
			c.cmd.RequestID = fmt.Sprintf("seed-%d", i)
		}
		f.Add(seed.encode(c.actor, c.cmd))
	}
	for _, g := range garbage() {
		if len(g.data) < 4096 {
			f.Add(g.data)
		}
	}
	for _, c := range []Command{
		{Op: OpSetFormat, SetFormat: Format2},
		{Op: OpPruneRequests, Retention: time.Minute},
	} {
		c.Time = clock(seed.index + 1).UnixNano()
		data, err := c.Encode()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	// The registry, organisations and deal terms (sites.go,
	// organizations.go, deal.go), against the base with a registry below.
	orgDraft := validDraft()
	orgDraft.Organization, orgDraft.OrganizationID = "", "org-0001"
	tum := harbor()
	for i, c := range []struct {
		actor string
		cmd   Command
	}{
		{"admin", Command{Op: OpAddSite, Site: &SiteSpec{Code: "MUC-TUM", Parent: "MUC", Name: "TUM", Kind: SiteUniversity}}},
		{"admin", Command{Op: OpAddUser, NewUser: testUser("Tim", NodeStaff, "MUC-TUM", "")}},
		{"admin", Command{Op: OpAddUser, NewUser: testUser("Typo", NodeStaff, "MUCH", "")}},
		{"bos", Command{Op: OpCreateOrg, Org: &tum}},
		{"yrd", Command{Op: OpUpdateOrg, OrgID: "org-0002", OrgPatch: &OrgPatch{City: new("Luoyang")}}},
		{"bos", Command{Op: OpSubmit, Draft: orgDraft}},
		{"bos", Command{Op: OpUpdate, LeadID: "BOS-0001", Patch: &Patch{OrganizationID: new("")}}},
		{"yrd", Command{Op: OpSetDeal, LeadID: "BOS-0005", Deal: &DealPatch{Amount: new("5"), Currency: new("USD"), PartnerID: new("org-0002")}}},
	} {
		c.cmd.RequestID = fmt.Sprintf("seed-reg-%d", i)
		f.Add(seed.encode(c.actor, c.cmd))
	}
	f.Add(seed.encode("", Command{Op: OpRegisterSites, Sites: defaultSites}))
	f.Add(seed.encode("bos", Command{Op: OpSubmit, RequestID: uuidV7(clock(seed.index), 1), Draft: validDraft()}))
	f.Add(seed.encode("yrd", Command{Op: OpClaim, RequestID: "seed-late", LeadID: "BOS-0002",
		Time: clock(seed.index).Add(-time.Hour).UnixNano()}))
	// Every entry meets a cluster of format 1 and one of format 2 that
	// has forgotten requests before a horizon.
	base := newFixture(f)
	for _, s := range []Stage{Submitted, Approved, Claimed, Landed} {
		base.leadIn(s)
	}
	snaps := [][]byte{snapshotBytes(f, base.st)}
	base.raise()
	base.leadIn(Approved)
	base.ok("bos", addCmd("BOS-0001", 1, AttachmentShared))
	base.ok("yrd", addCmd("BOS-0003", 2, AttachmentDivision))
	wantResult(f, base.prune(time.Minute, clock(base.index+1).Add(time.Minute+time.Second)))
	snaps = append(snaps, snapshotBytes(f, base.st))
	// And one of format 2 with a registry, organisations and deal terms.
	reg := newRegistryFixture(f)
	reg.org("bos", harbor())
	reg.org("yrd", yutong())
	for _, s := range []Stage{Submitted, Approved, Claimed, Landed} {
		reg.leadIn(s)
	}
	reg.ok("yrd", Command{Op: OpSetDeal, LeadID: "BOS-0003", Deal: &DealPatch{Jobs: new(12)}})
	snaps = append(snaps, snapshotBytes(f, reg.st))
	restore := func(t *testing.T, snap []byte) *State {
		st := New()
		if err := st.Restore(bytes.NewReader(snap)); err != nil {
			t.Fatal(err)
		}
		return st
	}
	index := max(base.index, reg.index) + 1
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, snap := range snaps {
			fuzzApplyOn(t, restore(t, snap), restore(t, snap), index, data)
		}
		checkDecodeRoundTrip(t, data)
	})
}

// fuzzApplyOn applies data at index to st and its twin and checks what
// FuzzApply promises.
func fuzzApplyOn(t *testing.T, st, twin *State, index uint64, data []byte) {
	t.Helper()
	before, body := readView(t, st), snapshotBody(t, st)
	res := st.Apply(index, data)
	if got := twin.Apply(index, data); !reflect.DeepEqual(got, res) {
		t.Fatalf("Apply(%q) answered two sites differently:\n%s\n%s", data, asJSON(got), asJSON(res))
	}
	if got, want := snapshotBytes(t, twin), snapshotBytes(t, st); !bytes.Equal(got, want) {
		t.Fatalf("Apply(%q) left two sites in different states:\n%s\n%s", data, got, want)
	}
	if got := st.AppliedIndex(); got != index {
		t.Fatalf("Apply(%q): AppliedIndex = %d, want %d", data, got, index)
	}
	switch res := res.(type) {
	case Result:
		if res.Lead != nil && !res.Replayed {
			if got := *mustLead(t, st, res.Lead.ID); !reflect.DeepEqual(got, *res.Lead) {
				t.Fatalf("Apply(%q) returned lead %+v, state holds %+v", data, *res.Lead, got)
			}
		}
		after, body := readView(t, st), snapshotBody(t, st)
		again := st.Apply(index+1, data)
		if r, ok := again.(Result); !ok || !r.Replayed {
			t.Fatalf("Apply(%q) accepted, then again = %v, want a replay", data, again)
		} else if !reflect.DeepEqual(r.Lead, res.Lead) || !reflect.DeepEqual(r.User, res.User) || !reflect.DeepEqual(r.Token, res.Token) ||
			!reflect.DeepEqual(r.Attachment, res.Attachment) {
			t.Fatalf("Apply(%q) answered %s, its replay %s", data, asJSON(res), asJSON(r))
		}
		if got := readView(t, st); !reflect.DeepEqual(got, after) || !bytes.Equal(snapshotBody(t, st), body) {
			t.Fatalf("Apply(%q) applied twice changed the state twice", data)
		}
	case *Error:
		if res.Code == CodeInternal {
			t.Fatalf("Apply(%q) = internal error %q", data, res.Msg)
		}
		if res.Msg == "" {
			t.Fatalf("Apply(%q) = error with no message", data)
		}
		if after := readView(t, st); !reflect.DeepEqual(after, before) || !bytes.Equal(snapshotBody(t, st), body) {
			t.Fatalf("Apply(%q) = %q but changed the state", data, res.Msg)
		}
	default:
		t.Fatalf("Apply(%q) = %#v, want a Result or an *Error", data, res)
	}
}

// asJSON shows an Apply answer with what its pointers point to.
func asJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%#v", v)
	}
	return fmt.Sprintf("%T %s", v, b)
}

func mustLead(t *testing.T, st *State, id string) *Lead {
	t.Helper()
	l, err := st.Lead(id)
	if err != nil {
		t.Fatalf("Lead(%s): %v", id, err)
	}
	return l
}

// checkDecodeRoundTrip checks that a command DecodeCommand accepts encodes
// back to the same command, with the same request fingerprint.
func checkDecodeRoundTrip(t *testing.T, data []byte) {
	t.Helper()
	c, err := DecodeCommand(data)
	if err != nil {
		if !errors.Is(err, ErrUnreadable) {
			t.Fatalf("DecodeCommand(%q) = %v, want CodeUnreadable", data, err)
		}
		return
	}
	enc, err := c.Encode()
	if err != nil {
		t.Fatalf("DecodeCommand(%q) gave %+v, which does not encode: %v", data, c, err)
	}
	again, err := DecodeCommand(enc)
	if err != nil {
		t.Fatalf("DecodeCommand(Encode(%+v)) = %v", c, err)
	}
	if !reflect.DeepEqual(again, c) || again.fingerprint() != c.fingerprint() {
		t.Fatalf("command %q decodes to %+v, which round-trips to %+v", data, c, again)
	}
}
