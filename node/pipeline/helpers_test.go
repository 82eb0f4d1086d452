package pipeline

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

// epoch is the proposers' clock in these tests. It is far from the real
// clock, so a time Apply took from the clock instead of the command shows.
var epoch = time.Date(2021, time.March, 14, 9, 26, 53, 0, time.UTC)

// clock is the time the fixture stamps into the entry at a log index.
func clock(index uint64) time.Time { return epoch.Add(time.Duration(index) * time.Second) }

// actorNames are the fixture's users, by the names test tables use.
var actorNames = []string{"admin", "hq", "bos", "cbg", "bohai", "yrd", "prd"}

// divisionOf is the division each division user acts for.
var divisionOf = map[string]string{"bohai": "BOHAI", "yrd": "YRD", "prd": "PRD"}

// fixture is a State with one user per role, all created by applying real
// commands to consecutive log indexes.
type fixture struct {
	tb    testing.TB
	st    *State
	index uint64            // index of the last entry applied
	ids   map[string]string // actor name → user ID
	reqs  int
}

func newFixture(tb testing.TB) *fixture {
	tb.Helper()
	f := &fixture{tb: tb, st: New(), ids: map[string]string{}}
	f.ids["admin"] = f.ok("", Command{Op: OpBootstrap, NewUser: testUser("Ada Admin", Admin, "", "")}).User.ID
	for _, u := range []struct {
		name string
		nu   *NewUser
	}{
		{"hq", testUser("Hui Reviewer", HQReviewer, "", "")},
		{"bos", testUser("Beth Boston", NodeStaff, "BOS", "")},
		{"cbg", testUser("Colin Cambridge", NodeStaff, "CBG", "")},
		{"bohai", testUser("Bo Hai", DivisionRole, "", "BOHAI")},
		{"yrd", testUser("Yang Delta", DivisionRole, "", "YRD")},
		{"prd", testUser("Pearl Delta", DivisionRole, "", "PRD")},
	} {
		f.ids[u.name] = f.ok("admin", Command{Op: OpAddUser, NewUser: u.nu}).User.ID
	}
	return f
}

func testUser(name string, r Role, site, division string) *NewUser {
	sum := sha256.Sum256([]byte("token of " + name))
	return &NewUser{Name: name, Role: r, Site: site, Division: division, TokenHash: hex.EncodeToString(sum[:])}
}

// validDraft returns a new draft that passes validation.
func validDraft() *Draft {
	return &Draft{
		Title: "Solid-state battery separator", Summary: "A ceramic separator.\nPilot line running.",
		Organization: "MIT Lincoln Lab", Country: "US", Sector: NewEnergyVehicles, TRL: 5,
		DealType: TechnologyLicensing, Tags: []string{"battery", "ceramics"},
		Contacts: []Contact{{Name: "Dana Lee", Email: "dana@example.edu", Phone: "+1 617 555 0100"}},
		Language: "en",
	}
}

// user returns the ID of the named fixture user, or name itself when no
// such user exists (to send commands from unknown actors).
func (f *fixture) user(name string) string {
	if id, ok := f.ids[name]; ok {
		return id
	}
	return name
}

// encode fills what a proposer fills (actor, a fresh request ID unless the
// command has one, the time of the next entry unless set) and encodes c.
func (f *fixture) encode(actor string, c Command) []byte {
	f.tb.Helper()
	c.Actor = f.user(actor)
	if c.RequestID == "" && c.Op != OpBootstrap {
		f.reqs++
		c.RequestID = fmt.Sprintf("req-%d", f.reqs)
	}
	if c.Time == 0 {
		c.Time = clock(f.index + 1).UnixNano()
	}
	data, err := c.Encode()
	if err != nil {
		f.tb.Fatalf("encode %s: %v", c.Op, err)
	}
	return data
}

// applyRaw applies data as the next log entry.
func (f *fixture) applyRaw(data []byte) any {
	f.index++
	return f.st.Apply(f.index, data)
}

// apply does what the leader does with a request: it validates c, and
// proposes it only if it is valid (a refused command never reaches the
// log, so Apply would answer it as unreadable).
func (f *fixture) apply(actor string, c Command) any {
	f.tb.Helper()
	data := f.encode(actor, c)
	if dc, err := DecodeCommand(data); err == nil {
		if err := dc.Validate(); err != nil {
			return err
		}
	}
	return f.applyRaw(data)
}

// ok applies c and fails the test unless it succeeds.
func (f *fixture) ok(actor string, c Command) Result {
	f.tb.Helper()
	return wantResult(f.tb, f.apply(actor, c))
}

// submit has BOS (or the given staff) submit a valid draft.
func (f *fixture) submit(actor string) string {
	f.tb.Helper()
	return f.ok(actor, Command{Op: OpSubmit, Draft: validDraft()}).Lead.ID
}

// leadIn returns a lead submitted by BOS and moved to stage by the real
// commands; a lead that was claimed is held by YRD.
func (f *fixture) leadIn(stage Stage) string {
	f.tb.Helper()
	id := f.submit("bos")
	review := func(d Decision) {
		f.ok("hq", Command{Op: OpReview, LeadID: id, Decision: d, Comment: "reviewed"})
	}
	switch stage {
	case Submitted:
	case Returned:
		review(Return)
	case Declined:
		review(Decline)
	case Withdrawn:
		f.ok("bos", Command{Op: OpWithdraw, LeadID: id, Comment: "partner went elsewhere"})
	case Approved, Claimed, Negotiating, Signed, Landed:
		review(Approve)
		if stage == Approved {
			break
		}
		f.ok("yrd", Command{Op: OpClaim, LeadID: id})
		for _, s := range []Stage{Negotiating, Signed, Landed} {
			if s > stage {
				break
			}
			f.ok("yrd", Command{Op: OpAdvance, LeadID: id, Stage: s})
		}
	default:
		f.tb.Fatalf("leadIn: no way to reach stage %s", stage)
	}
	if got := f.lead(id).Stage; got != stage {
		f.tb.Fatalf("leadIn(%s): lead is in stage %s", stage, got)
	}
	return id
}

func (f *fixture) lead(id string) *Lead {
	f.tb.Helper()
	l, err := f.st.Lead(id)
	if err != nil {
		f.tb.Fatalf("Lead(%s): %v", id, err)
	}
	return l
}

func (f *fixture) history(id string) []Event {
	f.tb.Helper()
	h, err := f.st.History(id)
	if err != nil {
		f.tb.Fatalf("History(%s): %v", id, err)
	}
	return h
}

// wantResult fails the test unless res is a Result.
func wantResult(tb testing.TB, res any) Result {
	tb.Helper()
	r, ok := res.(Result)
	if !ok {
		tb.Fatalf("Apply = %#v (%v), want a Result", res, res)
	}
	return r
}

// wantError fails the test unless res is an *Error matching sentinel
// whose message contains every one of msgs.
func wantError(tb testing.TB, res any, sentinel error, msgs ...string) *Error {
	tb.Helper()
	e, ok := res.(*Error)
	if !ok {
		tb.Fatalf("Apply = %#v, want an *Error matching %v", res, sentinel)
	}
	if !errors.Is(e, sentinel) {
		tb.Errorf("error = %q (code %d), want code %d", e.Msg, e.Code, sentinel.(*Error).Code)
	}
	for _, m := range msgs {
		if !strings.Contains(e.Msg, m) {
			tb.Errorf("error = %q, want it to contain %q", e.Msg, m)
		}
	}
	return e
}

// view is everything a reader can see of a State but its applied index.
type view struct {
	Leads   []Lead
	History map[string][]Event
	Users   []User
	Tokens  map[string][]Token // by user ID
	Counts  map[Stage]int
}

func readView(tb testing.TB, st *State) view {
	tb.Helper()
	leads, more, err := st.Leads(Filter{})
	if err != nil || more {
		tb.Fatalf("Leads = more %v, %v", more, err)
	}
	v := view{History: map[string][]Event{}, Counts: st.Counts()}
	for _, l := range leads {
		v.Leads = append(v.Leads, *l)
		if v.History[l.ID], err = st.History(l.ID); err != nil {
			tb.Fatalf("History(%s): %v", l.ID, err)
		}
	}
	if v.Users, err = st.Users(); err != nil {
		tb.Fatalf("Users: %v", err)
	}
	v.Tokens = map[string][]Token{}
	for _, u := range v.Users {
		if v.Tokens[u.ID], err = st.Tokens(u.ID); err != nil {
			tb.Fatalf("Tokens(%s): %v", u.ID, err)
		}
	}
	return v
}

func snapshotBytes(tb testing.TB, st *State) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if _, err := st.Snapshot().WriteTo(&buf); err != nil {
		tb.Fatalf("snapshot: %v", err)
	}
	return buf.Bytes()
}

// snapshotJSON is the snapshot in the JSON format (of format 2 or 3),
// for tests that read or edit its rows.
func snapshotJSON(tb testing.TB, st *State) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if _, err := st.Snapshot().WriteJSON(&buf); err != nil {
		tb.Fatalf("snapshot: %v", err)
	}
	return buf.Bytes()
}

// snapshotBody is the snapshot without its header line, which holds the
// applied index: every entry advances it, refused ones too.
func snapshotBody(tb testing.TB, st *State) []byte {
	tb.Helper()
	b := snapshotBytes(tb, st)
	_, body, ok := bytes.Cut(b, []byte("\n"))
	if !ok {
		tb.Fatalf("snapshot has no header line: %q", b)
	}
	return body
}

// assertUnchanged runs fn, which must be refused, and fails the test if it
// changed anything a reader or a snapshot would see.
func assertUnchanged(tb testing.TB, st *State, fn func()) {
	tb.Helper()
	v, body := readView(tb, st), snapshotBody(tb, st)
	fn()
	if got := readView(tb, st); !reflect.DeepEqual(got, v) {
		tb.Errorf("a refused command changed the state:\ngot  %+v\nwant %+v", got, v)
	}
	if got := snapshotBody(tb, st); !bytes.Equal(got, body) {
		tb.Errorf("a refused command changed the snapshot:\ngot  %s\nwant %s", got, body)
	}
}
