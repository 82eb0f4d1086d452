package pipeline

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// A model run reads its operations from bytes, so that the fuzzer can
// search the space of request sequences. Each operation takes opBytes
// bytes,
//
//	b0  kind (b0 % numKinds), the origin site (b0 / numKinds % 3) and the
//	    token the actor shows (b0 / numKinds / 3 % 4: none, its newest,
//	    its oldest, another user's)
//	b1  actor: below natural a user by number (one past the last is an
//	    unknown user); from natural the user who would normally send it
//	b2  target: below 192 one of the three newest leads; above, any lead,
//	    one that does not exist, or (255) a malformed ID; a user for the
//	    user and token requests
//	b3  variant: draft, patch, decision, stage, new user or new token (low
//	    4 bits) and comment (high 4 bits); the token to revoke
//	b4  request ID (low nibble: fresh, reused, malformed, or a UUIDv7 of
//	    now, of a minute ago or of a day ahead) and expected version
//	    (high nibble: none, current or stale)
//
// For kLeader, b3 says what the leader does (low 3 bits): the site
// restarts from a snapshot, raises the log format, prunes requests (with
// the window the high nibble picks), or leadership moves to a site whose
// clock is an hour behind, an hour ahead, or right.
//
// For kFlow, b3's low 3 bits pick a command of the workflow (flowKinds)
// and b2 >> 2 its variant: the close reason and visibility, the stage to
// reopen to, the division to assign to, the interest, the claim mode, or
// the comment's visibility and division (b2's low bits still pick the
// lead, among the newest three). A review's b3 bit 3 asks for claim mode
// ASSIGNED, an advance's for a SHARED note.
//
// and a run stops after maxModelOps operations. The choices lean towards
// requests that move leads along, so that random input reaches claims
// and signed deals.
const (
	opBytes     = 5
	maxModelOps = 48
	natural     = 64
)

// mKind is an operation of a model run: a request, or something that
// happens to a site.
type mKind int

const (
	kSubmit mKind = iota
	kUpdate
	kReview
	kClaim
	kRelease
	kAdvance
	kWithdraw
	kRetry   // send the previous request again, as a client that timed out would
	kAddUser // an admin adds a user
	kRevoke  // an admin revokes a user
	kLeader  // the leader acts on its own, or another site leads (see b3 above)
	kCreateToken
	kRevokeToken
	kFlow // a command of the workflow (see b3 above)
	// kRegistry is a request of the site registry, the organisations or
	// the deal terms, which b3 chooses (see decodeRegistry).
	kRegistry
	kAttachment // add or remove an attachment (see decodeAttachment)
	// kFind translates a lead or changes the glossary (b3, low nibble:
	// 0-11 a translation, 12-13 a glossary entry set, 14-15 deleted, the
	// entry chosen by b2).
	kFind
	numKinds
)

// flowKinds are the commands of the workflow kFlow sends.
var flowKinds = [8]Op{OpClose, OpReopen, OpAssign, OpExpressInterest, OpWithdrawInterest, OpSetClaimMode,
	OpSetDefaultClaimMode, OpComment}

var kindOps = map[mKind]Op{kSubmit: OpSubmit, kUpdate: OpUpdate, kReview: OpReview, kClaim: OpClaim,
	kRelease: OpRelease, kAdvance: OpAdvance, kWithdraw: OpWithdraw, kAddUser: OpAddUser, kRevoke: OpRevoke,
	kCreateToken: OpCreateToken, kRevokeToken: OpRevokeToken, kAttachment: OpAddAttachment}

var origins = []string{"CGO", "BOS", "YRD"}

// noteChoice and decisionChoice map bits of b3 to a comment (one in eight
// blank, one in eight invalid) and to a decision (mostly approvals).
var (
	noteChoice     = [16]int{0, 0, 0, 0, 2, 2, 2, 2, 2, 2, 2, 2, 1, 1, 3, 3}
	decisionChoice = [8]Decision{Approve, Approve, Approve, Approve, Return, Return, Decline, DecisionUnspecified}
)

// fixtureUsers are the users newFixture creates, as the model knows them.
var fixtureUsers = []struct {
	name string
	user mUser
}{
	{"admin", mUser{Role: Admin}},
	{"hq", mUser{Role: HQReviewer}},
	{"bos", mUser{Role: NodeStaff, Site: "BOS"}},
	{"cbg", mUser{Role: NodeStaff, Site: "CBG"}},
	{"bohai", mUser{Role: DivisionRole, Division: "BOHAI"}},
	{"yrd", mUser{Role: DivisionRole, Division: "YRD"}},
	{"prd", mUser{Role: DivisionRole, Division: "PRD"}},
}

// modelRun drives the real pipeline, through Apply as Raft calls it, and
// the reference model with the same operations.
type modelRun struct {
	tb    testing.TB
	st    *State
	m     *refModel
	index uint64
	base  []byte        // snapshot after the fixture's setup
	log   [][]byte      // every entry applied since, in order
	last  *mOp          // the previous request, for kRetry
	lines []string      // transcript
	fresh int           // fresh request IDs handed out
	skew  time.Duration // how far the leading site's clock is off
	bug   plantedIn     // nil outside TestModelCatchesPlantedBugs
}

// plantedIn is where TestModelCatchesPlantedBugs plants a bug that is not
// in the rules table: in what reaches the log, or in a restored snapshot.
type plantedIn struct {
	tamper  func(Command) Command
	corrupt func([]byte) []byte
}

func newModelRun(tb testing.TB, bug plantedIn) *modelRun {
	tb.Helper()
	f := newFixture(tb)
	r := &modelRun{tb: tb, st: f.st, m: newRefModel(), index: f.index, bug: bug}
	for i, u := range fixtureUsers {
		mu, mt := r.m.addUser(u.user)
		if mu.ID != f.ids[u.name] {
			tb.Fatalf("the fixture made %s %s, the model %s", u.name, f.ids[u.name], mu.ID)
		}
		if i > 0 {
			// The admin added it, with a request ID no run uses.
			op := mOp{Kind: OpAddUser, Actor: f.ids["admin"], RequestID: fmt.Sprintf("req-%d", i)}
			r.m.done[op.Actor+"/"+op.RequestID] = mDone{op: op, res: mResult{OK: true, User: mu, Token: mt}}
		}
	}
	if err := r.compareState(); err != nil {
		tb.Fatalf("the fixture's state differs from the model's: %v", err)
	}
	r.base = snapshotBytes(tb, r.st)
	return r
}

// run applies the operations data encodes and returns the first
// disagreement between the pipeline and the model.
func (r *modelRun) run(data []byte) error {
	for n := 0; len(data) >= opBytes && n < maxModelOps; n++ {
		b := data[:opBytes]
		data = data[opBytes:]
		kind := mKind(int(b[0]) % int(numKinds))
		origin := origins[int(b[0])/int(numKinds)%len(origins)]
		var err error
		switch kind {
		case kLeader:
			err = r.leader(b[3])
		case kRetry:
			if r.last == nil {
				continue
			}
			op := r.last.body()
			op.ActorToken = r.actorToken(op.Actor, b[0])
			err = r.send(op, origin)
		case kRegistry:
			op := r.decodeRegistry(b)
			if op.Kind == OpRegisterSites {
				err = r.send(op, "")
				break
			}
			r.last = &op
			err = r.send(op, origin)
		default:
			op := r.decode(kind, b)
			r.last = &op
			err = r.send(op, origin)
		}
		if err != nil {
			return fmt.Errorf("%w\ntranscript:\n%s", err, strings.Join(r.lines, "\n"))
		}
	}
	return nil
}

// decode turns the bytes of one request into an mOp, choosing actors,
// leads and users among those the model knows.
func (r *modelRun) decode(kind mKind, b []byte) mOp {
	m := r.m
	op := mOp{Kind: kindOps[kind], Note: noteChoice[b[3]>>4]}
	if kind == kFlow {
		op.Kind = flowKinds[b[3]&7]
	}
	switch low := b[4] & 15; {
	case low < 2:
		op.RequestID = fmt.Sprintf("r%d", low)
	case low < 12:
		r.fresh++
		op.RequestID = fmt.Sprintf("f-%d", r.fresh)
	case low < 14:
		// A client that makes UUIDv7 request IDs, with its clock right,
		// or an ID it made a minute ago (or, its clock a day ahead).
		r.fresh++
		op.Created = clock(r.index + 1)
		switch {
		case low == 13 && b[4]>>4%2 == 1:
			op.Created = op.Created.Add(25 * time.Hour)
		case low == 13:
			op.Created = op.Created.Add(-time.Minute)
		}
		op.RequestID = uuidV7(op.Created, uint64(r.fresh))
	case low == 14:
		op.RequestID = ""
	default:
		op.RequestID = "bad id"
	}
	switch kind {
	case kAddUser:
		op.Variant = int(b[2]) % len(modelNewUsers)
	case kRevoke, kCreateToken, kRevokeToken:
		switch i := int(b[2]) % (len(m.userIDs) + 2); {
		case i < len(m.userIDs):
			op.UserID = m.userIDs[i]
		case i == len(m.userIDs):
			op.UserID = "user-0999"
		default:
			op.UserID = "nobody"
		}
		switch kind {
		case kCreateToken:
			op.Variant, op.Note = int(b[3]&15)%len(modelNewTokens), 0
		case kRevokeToken:
			op.TokenID, op.Note = r.pickToken(op.UserID, b[3]), 0
		}
	case kSubmit:
		op.Variant = int(b[3]&15) % len(modelDrafts)
	case kFind:
		// Translations take no comment; one in sixteen carries one.
		op.Note = 0
		if b[3]>>4 == 15 {
			op.Note = 2
		}
	}
	if kind == kFind && b[3]&15 >= 12 {
		op.Kind, op.Variant, op.Note = OpSetGlossaryTerm, int(b[2])%len(modelGlossary), 0
		if b[3]&15 >= 14 {
			op.Kind = OpDeleteGlossaryTerm
		}
		op.Actor = r.actor(op, b[1])
		op.ActorToken = r.actorToken(op.Actor, b[0])
		return op
	}
	switch kind {
	case kAddUser, kRevoke, kCreateToken, kRevokeToken, kSubmit:
	default:
		switch n, i := len(m.leadIDs), int(b[2])%(len(m.leadIDs)+1); {
		case b[2] == 255:
			op.LeadID = "bos-1"
		case b[2] < 192 && n > 0:
			op.LeadID = m.leadIDs[n-1-int(b[2])%min(n, 3)]
		case i < n:
			op.LeadID = m.leadIDs[i]
		default:
			op.LeadID = "TLV-0999"
		}
		cur := int64(1)
		if l := m.leads[op.LeadID]; l != nil {
			cur = l.Version
		}
		switch high := b[4] >> 4; {
		case high >= 13 && cur > 1:
			op.ExpectedVersion = cur - 1
		case high >= 13:
			op.ExpectedVersion = cur + 1
		case high >= 10:
			op.ExpectedVersion = cur
		}
	}
	switch kind {
	case kAttachment:
		decodeAttachment(&op, b[3], b[4])
	case kUpdate:
		op.Variant = int(b[3]&15) % len(modelPatches)
	case kFind:
		op.Kind, op.Variant = OpTranslate, int(b[3]&15)%len(modelTranslations)
	case kReview:
		op.Decision = decisionChoice[b[3]&7]
	case kAdvance:
		op.Stage = []Stage{Claimed, Negotiating, Signed, Landed}[b[3]&3]
		if l := m.leads[op.LeadID]; l != nil && b[3]&4 != 0 {
			// The stage that follows, when there is one.
			op.Stage = map[Stage]Stage{Claimed: Negotiating, Negotiating: Signed, Signed: Landed}[l.Stage]
		}
		if b[3]&8 != 0 {
			op.Visibility = Shared
		}
	case kFlow:
		decodeFlow(&op, int(b[2]>>2))
	}
	if kind == kReview && b[3]&8 != 0 {
		op.ClaimMode = ClaimAssigned
	}
	op.Actor = r.actor(op, b[1])
	op.ActorToken = r.actorToken(op.Actor, b[0])
	return op
}

// decodeFlow fills the fields of a workflow command from its variant v.
func decodeFlow(op *mOp, v int) {
	switch op.Kind {
	case OpClose:
		op.CloseReason = CloseReason(v % 7)
		op.Visibility = []Visibility{0, 0, Shared, HQAndSite}[v/7%4]
	case OpReopen:
		op.Stage = []Stage{Submitted, Approved, Approved, Claimed}[v%4]
	case OpAssign:
		op.Division = []string{"BOHAI", "YRD", "PRD", "YRD", "MUC"}[v%5]
	case OpExpressInterest:
		op.Variant = v % len(modelInterests)
	case OpSetClaimMode, OpSetDefaultClaimMode:
		op.ClaimMode = []ClaimMode{ClaimOpen, ClaimAssigned, ClaimAssigned, 0}[v%4]
		if op.Kind == OpSetDefaultClaimMode {
			op.LeadID, op.ExpectedVersion = "", 0
		}
	case OpComment:
		op.Visibility = []Visibility{Shared, HQAndSite, DivisionOnly, DivisionOnly, 0}[v%5]
		op.Division = []string{"", "", "BOHAI", "YRD", "PRD", "MUC"}[v/5%6]
	}
}

// pickToken chooses the token a revoke_token names: one of user's, one
// of somebody else's, one that does not exist, or (255) a malformed ID.
func (r *modelRun) pickToken(user string, b byte) string {
	own := r.m.tokensOf(user)
	switch i := int(b) % (len(own) + 2); {
	case b == 255:
		return "tok-1"
	case i < len(own):
		return own[i]
	case i == len(own) && len(r.m.tokenIDs) > 0:
		return r.m.tokenIDs[0]
	default:
		return "tok-0999"
	}
}

// actorToken chooses the token the actor authenticated with, which the
// proposer puts in the command: none, its newest or oldest token, or
// another user's.
func (r *modelRun) actorToken(actor string, b0 byte) string {
	own := r.m.tokensOf(actor)
	// Four choices (none, newest, oldest, another user's) keep every
	// kind, origin and token in one byte.
	switch int(b0) / int(numKinds) / len(origins) % 4 {
	case 1:
		if len(own) > 0 {
			return own[len(own)-1]
		}
	case 2:
		if len(own) > 0 {
			return own[0]
		}
	case 3:
		for _, id := range r.m.tokenIDs {
			if r.m.tokens[id].UserID != actor {
				return id
			}
		}
	}
	return ""
}

// actor picks the user who sends op: by number below natural, else the
// one who would normally send it, so random input moves leads along.
func (r *modelRun) actor(op mOp, b byte) string {
	m := r.m
	if b < natural {
		if i := int(b) % (len(m.userIDs) + 1); i < len(m.userIDs) {
			return m.userIDs[i]
		}
		return "user-0999"
	}
	l := m.leads[op.LeadID]
	if l == nil {
		l = &mLead{}
	}
	var fits func(u *mUser) bool
	switch op.Kind {
	case OpSubmit:
		fits = func(u *mUser) bool { return u.Role == NodeStaff }
	case OpUpdate, OpWithdraw:
		fits = func(u *mUser) bool { return u.Role == NodeStaff && u.Site == l.Site }
	case OpReview, OpSetGlossaryTerm, OpDeleteGlossaryTerm:
		fits = func(u *mUser) bool { return u.Role == HQReviewer }
	case OpTranslate:
		fits = func(u *mUser) bool {
			return u.Role == HQReviewer || u.Role == NodeStaff && u.Site == l.Site || u.Role == DivisionRole && l.Published
		}
	case OpClaim:
		fits = func(u *mUser) bool { return u.Role == DivisionRole }
	case OpAddSite, OpCreateOrg, OpUpdateOrg, OpSetDeal:
		fits = registryActor(op, l, b)
	case OpCreateToken, OpRevokeToken:
		if b%2 == 1 {
			fits = func(u *mUser) bool { return u.ID == op.UserID }
		} else {
			fits = func(u *mUser) bool { return u.Role == Admin }
		}
	case OpReopen, OpAssign, OpSetClaimMode, OpSetDefaultClaimMode:
		fits = func(u *mUser) bool { return u.Role == HQReviewer }
	case OpExpressInterest, OpWithdrawInterest:
		fits = func(u *mUser) bool { return u.Role == DivisionRole }
	case OpComment:
		fits = func(u *mUser) bool { return u.Role != Admin && mSees(u, l) }
	case OpAddAttachment, OpRemoveAttachment:
		fits = attachmentSender(l, b)
	case OpRelease, OpAdvance, OpClose:
		if l.Division == "" || op.Kind != OpAdvance && b%2 == 0 {
			fits = func(u *mUser) bool { return u.Role == HQReviewer }
		} else {
			fits = func(u *mUser) bool { return u.Role == DivisionRole && u.Division == l.Division }
		}
	default:
		fits = func(u *mUser) bool { return u.Role == Admin }
	}
	var cands []string
	for _, id := range m.userIDs {
		if u := m.users[id]; fits(u) && !u.Revoked {
			cands = append(cands, id)
		}
	}
	if len(cands) == 0 {
		return m.userIDs[0]
	}
	return cands[int(b)%len(cands)]
}

// leader does what b3 says the leader does (see kLeader).
func (r *modelRun) leader(b3 byte) error {
	switch b3 & 7 {
	case 4:
		return r.send(mOp{Kind: OpSetFormat, SetFormat: 2 + int(b3>>4)/15}, "")
	case 5:
		return r.send(mOp{Kind: OpPruneRequests, Retention: modelRetentions[int(b3>>4)%len(modelRetentions)].d}, "")
	case 6:
		r.skew = time.Hour
		if b3>>4%2 == 0 {
			r.skew = -time.Hour
		}
		r.lines = append(r.lines, fmt.Sprintf("     (a site whose clock is %s off leads)", r.skew))
		return nil
	case 7:
		r.skew = 0
		r.lines = append(r.lines, "     (a site whose clock is right leads)")
		return nil
	}
	return r.restart()
}

// command is the log entry a proposer would write for op.
func (op mOp) command() Command {
	c := Command{Op: op.Kind, RequestID: op.RequestID, Actor: op.Actor, LeadID: op.LeadID,
		ExpectedVersion: op.ExpectedVersion, Decision: op.Decision, Stage: op.Stage,
		Comment: modelNotes[op.Note].text, UserID: op.UserID, TokenID: op.TokenID, ActorToken: op.ActorToken,
		SetFormat: op.SetFormat, Retention: op.Retention,
		CloseReason: op.CloseReason, Division: op.Division, ClaimMode: op.ClaimMode, Visibility: op.Visibility}
	switch op.Kind {
	case OpSubmit:
		c.Draft = modelDrafts[op.Variant].draft()
	case OpUpdate:
		c.Patch = modelPatches[op.Variant].patch()
	case OpAddUser:
		nu := modelNewUsers[op.Variant]
		c.NewUser = &NewUser{Name: "New User", Role: nu.role, Site: nu.site, Division: nu.division}
	case OpCreateToken:
		nt := modelNewTokens[op.Variant]
		c.NewToken = &NewToken{TTL: nt.ttl, Description: nt.description}
	case OpExpressInterest:
		mi := modelInterests[op.Variant]
		c.Interest = &InterestDraft{Rationale: mi.rationale, Enterprise: mi.enterprise}
	case OpAddAttachment, OpRemoveAttachment:
		c.Attachment = attachmentCommand(op)
	case OpTranslate:
		in := modelTranslations[op.Variant].in
		c.Translation = &in
	case OpSetGlossaryTerm:
		g := modelGlossary[op.Variant].in
		c.Glossary = &GlossaryInput{Term: g.Term, Names: maps.Clone(g.Names)}
	case OpDeleteGlossaryTerm:
		c.Glossary = &GlossaryInput{Term: modelGlossary[op.Variant].in.Term}
	}
	registryCommand(op, &c)
	return c
}

// send applies op to the model and, as the next log entry, to the state,
// and compares the answers and then the whole state.
func (r *modelRun) send(op mOp, origin string) error {
	r.index++
	now := clock(r.index).Add(r.skew)
	want := r.m.apply(op, now)
	c := op.command()
	c.Origin, c.Time = origin, now.UnixNano()
	// The proposer makes a new token on every attempt.
	sum := sha256.Sum256([]byte("token " + strconv.FormatUint(r.index, 10)))
	switch {
	case c.NewUser != nil:
		c.NewUser.TokenHash = hex.EncodeToString(sum[:])
	case c.NewToken != nil:
		c.NewToken.Hash = hex.EncodeToString(sum[:])
	}
	if r.bug.tamper != nil {
		c = r.bug.tamper(c)
	}
	data, err := c.Encode()
	if err != nil {
		r.tb.Fatalf("encode %s: %v", op, err)
	}
	r.log = append(r.log, data)
	r.lines = append(r.lines, fmt.Sprintf("%3d  %s  =>  %s", r.index, op, want))
	got, err := asResult(r.st.Apply(r.index, data))
	if err != nil {
		return fmt.Errorf("entry %d (%s): %w", r.index, op, err)
	}
	if !reflect.DeepEqual(got, want) {
		return fmt.Errorf("model mismatch at entry %d (%s):\ngot  %s\nwant %s", r.index, op, got, want)
	}
	if err := r.compareState(); err != nil {
		return fmt.Errorf("model mismatch after entry %d (%s): %w", r.index, op, err)
	}
	return nil
}

// asResult is an Apply answer as the model would give it.
func asResult(res any) (mResult, error) {
	switch res := res.(type) {
	case Result:
		out := mResult{OK: true, Replayed: res.Replayed, Pruned: res.Pruned, PruneAgain: res.PruneAgain}
		if l := res.Lead; l != nil {
			out.Lead = asLead(l)
		}
		if c := res.Comment; c != nil {
			out.Comment = &mComment{LeadID: c.LeadID, Seq: c.Seq, Visibility: c.Visibility, Division: c.Division}
		}
		if s := res.Setting; s != nil {
			out.Mode = ClaimMode(enumValue(claimModeNames[:], s.Value))
		}
		if o := res.Org; o != nil {
			out.Org = &mOrgRef{o.ID}
		}
		if s := res.Site; s != nil {
			out.Site = &mSite{s.Code, s.Parent, s.Kind}
		}
		if u := res.User; u != nil {
			out.User = &mUser{ID: u.ID, Role: u.Role, Site: u.Site, Division: u.Division, Revoked: u.Revoked != nil}
		}
		if t := res.Token; t != nil {
			out.Token = asToken(t)
		}
		out.Attachment = asAttachment(res.Attachment)
		return out, nil
	case *Error:
		if res.Code == CodeInternal || res.Msg == "" {
			return mResult{}, fmt.Errorf("Apply = %s %q, want a clear refusal", codeName(res.Code), res.Msg)
		}
		return refused(res.Code), nil
	}
	return mResult{}, fmt.Errorf("Apply = %#v, want a Result or an *Error", res)
}

func asLead(l *Lead) *mLead {
	return &mLead{ID: l.ID, Site: l.Site, Division: l.Division, Stage: l.Stage, Version: l.Version, Published: l.Published,
		ClaimMode: l.ClaimMode, CloseReason: l.CloseReason,
		Subnode: l.Subnode, Org: l.OrganizationID, Deal: dealString(l.Deal), NoText: l.Organization == ""}
}

func asToken(t *Token) *mToken {
	out := &mToken{ID: t.ID, UserID: t.UserID, Revoked: t.Revoked != nil}
	if t.Expires != nil {
		out.Expires = *t.Expires
	}
	return out
}

// compareState compares every lead, its history, every user and every
// token with the model, and checks that each site's lead IDs run from 0001
// without gaps.
func (r *modelRun) compareState() error {
	leads, _, err := r.st.Leads(Filter{})
	if err != nil {
		return err
	}
	got, want := map[string]mLead{}, map[string]mLead{}
	perSite := map[string][]int{}
	for _, l := range leads {
		got[l.ID] = *asLead(l)
		n, err := strconv.Atoi(strings.TrimPrefix(l.ID, l.Site+"-"))
		if err != nil || l.ID != fmt.Sprintf("%s-%04d", l.Site, n) {
			return fmt.Errorf("lead ID %q is not %s-NNNN", l.ID, l.Site)
		}
		perSite[l.Site] = append(perSite[l.Site], n)
	}
	for id, l := range r.m.leads {
		want[id] = *l
	}
	if !reflect.DeepEqual(got, want) {
		return fmt.Errorf("leads differ:\ngot  %+v\nwant %+v", got, want)
	}
	for site, ns := range perSite {
		slices.Sort(ns)
		for i, n := range ns {
			if n != i+1 {
				return fmt.Errorf("lead numbers of %s are %v, want 1 to %d without gaps", site, ns, len(ns))
			}
		}
	}
	for _, l := range leads {
		h, err := r.st.History(l.ID)
		if err != nil {
			return err
		}
		if int64(len(h)) != l.Version || h[0].Action != "SUBMIT" || h[len(h)-1].To != l.Stage {
			return fmt.Errorf("history of %s at v%d in %s has %d events: %+v", l.ID, l.Version, l.Stage, len(h), h)
		}
		for i, e := range h {
			if e.Seq != int64(i+1) || i > 0 && e.From != h[i-1].To {
				return fmt.Errorf("history of %s breaks at event %d: %+v", l.ID, i+1, h)
			}
			if want := r.m.times[l.ID]; i >= len(want) || !e.Time.Equal(want[i]) {
				return fmt.Errorf("history of %s: event %d at %v, want the times %v", l.ID, i+1, e.Time, want)
			}
		}
	}
	if err := r.compareWorkflow(leads); err != nil {
		return err
	}
	if err := r.compareAttachments(leads); err != nil {
		return err
	}
	gotR, wantR := map[string]time.Time{}, map[string]time.Time{}
	for _, rec := range records(r.st) {
		gotR[rec.Key] = time.Time{}
		if rec.Time != 0 {
			gotR[rec.Key] = time.Unix(0, rec.Time).UTC()
		}
	}
	for key, d := range r.m.done {
		wantR[key] = d.at
	}
	if !reflect.DeepEqual(gotR, wantR) {
		return fmt.Errorf("remembered requests differ:\ngot  %v\nwant %v", gotR, wantR)
	}
	if err := r.compareTranslations(leads); err != nil {
		return err
	}
	users, err := r.st.Users()
	if err != nil {
		return err
	}
	gotU, wantU := map[string]mUser{}, map[string]mUser{}
	gotT, wantT := map[string]mToken{}, map[string]mToken{}
	for _, u := range users {
		gotU[u.ID] = mUser{ID: u.ID, Role: u.Role, Site: u.Site, Division: u.Division, Revoked: u.Revoked != nil}
		tokens, err := r.st.Tokens(u.ID)
		if err != nil {
			return err
		}
		for i := range tokens {
			gotT[tokens[i].ID] = *asToken(&tokens[i])
		}
	}
	for id, u := range r.m.users {
		wantU[id] = *u
	}
	for id, t := range r.m.tokens {
		wantT[id] = *t
	}
	if !reflect.DeepEqual(gotU, wantU) {
		return fmt.Errorf("users differ:\ngot  %+v\nwant %+v", gotU, wantU)
	}
	if !reflect.DeepEqual(gotT, wantT) {
		return fmt.Errorf("tokens differ:\ngot  %+v\nwant %+v", gotT, wantT)
	}
	return r.compareRegistry()
}

// compareWorkflow compares the interests, the posted comments and the
// default claim mode with the model.
func (r *modelRun) compareWorkflow(leads []*Lead) error {
	gotI, gotC := map[string]mInterest{}, map[string]int64{}
	for _, l := range leads {
		list, err := r.st.Interests(l.ID)
		if err != nil {
			return err
		}
		for _, i := range list {
			gotI[i.Key] = mInterest{LeadID: i.LeadID, Division: i.Division, Rationale: i.Rationale, Active: i.Withdrawn == nil}
		}
		th, err := r.st.Thread(l.ID)
		if err != nil {
			return err
		}
		for _, c := range th {
			if c.Action == "" {
				gotC[l.ID]++
			}
		}
	}
	wantI, wantC := map[string]mInterest{}, map[string]int64{}
	for k, i := range r.m.interests {
		wantI[k] = *i
	}
	for id, n := range r.m.comments {
		wantC[id] = n
	}
	if !reflect.DeepEqual(gotI, wantI) {
		return fmt.Errorf("interests differ:\ngot  %+v\nwant %+v", gotI, wantI)
	}
	if !reflect.DeepEqual(gotC, wantC) {
		return fmt.Errorf("comments per lead differ:\ngot  %v\nwant %v", gotC, wantC)
	}
	if got, _ := r.st.DefaultClaimMode(); got != r.m.defaultMode {
		return fmt.Errorf("default claim mode %s, want %s", got, r.m.defaultMode)
	}
	return nil
}

// restart replaces the state with one restored from its snapshot, as a
// site does that restarts or falls behind.
func (r *modelRun) restart() error {
	write := snapshotBytes
	if r.bug.corrupt != nil {
		write = snapshotJSON // the planted bugs edit the rows of a JSON snapshot
	}
	snap := write(r.tb, r.st)
	if r.bug.corrupt != nil {
		snap = r.bug.corrupt(snap)
	}
	st := New()
	if err := st.Restore(bytes.NewReader(snap)); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if got := write(r.tb, st); !bytes.Equal(got, snap) {
		return fmt.Errorf("a restored state snapshots differently:\ngot  %s\nwant %s", got, snap)
	}
	r.st = st
	r.lines = append(r.lines, "     (restart from snapshot)")
	return nil
}

// replay applies the run's log to the state as it was after setup, as
// another site would, and checks that it ends in the same state.
func (r *modelRun) replay() error {
	st := New()
	if err := st.Restore(bytes.NewReader(r.base)); err != nil {
		return err
	}
	// It applies the log in runs of 1 to 7 entries, as raft hands over
	// what committed together (ApplyBatch), where the run applied it one
	// entry at a time.
	index := st.AppliedIndex()
	var entries []Entry
	for _, data := range r.log {
		index++
		entries = append(entries, Entry{Index: index, Data: data})
	}
	for size := 1; len(entries) > 0; size = size%7 + 1 {
		run := entries[:min(size, len(entries))]
		// A run stops after an entry it cannot read; the next starts
		// after that one.
		entries = entries[len(st.ApplyBatch(run)):]
	}
	if got, want := snapshotBytes(r.tb, st), snapshotBytes(r.tb, r.st); !bytes.Equal(got, want) {
		return fmt.Errorf("another site applying the same log ends elsewhere:\ngot  %s\nwant %s", got, want)
	}
	return nil
}

// compareTranslations compares every lead's translations and HQ's
// glossary entries with the model.
func (r *modelRun) compareTranslations(leads []*Lead) error {
	got, want := map[string]map[string]mTrans{}, map[string]map[string]mTrans{}
	for _, l := range leads {
		for lang, t := range l.Translations {
			if got[l.ID] == nil {
				got[l.ID] = map[string]mTrans{}
			}
			mt := mTrans{Title: t.Title, Summary: t.Summary, Status: t.Status, By: t.TranslatedBy, VerifiedBy: t.VerifiedBy}
			if t.Outdated(l) {
				mt.Source = "outdated"
			}
			got[l.ID][lang] = mt
		}
	}
	for id, ts := range r.m.trans {
		want[id] = map[string]mTrans{}
		for lang, t := range ts {
			if t.Source != r.m.text[id] {
				t.Source = "outdated"
			} else {
				t.Source = ""
			}
			want[id][lang] = t
		}
	}
	if !reflect.DeepEqual(got, want) {
		return fmt.Errorf("translations differ:\ngot  %+v\nwant %+v", got, want)
	}
	terms, err := r.st.Glossary()
	if err != nil {
		return err
	}
	gotG, wantG := map[string]map[string]string{}, map[string]map[string]string{}
	for _, t := range terms {
		if t.UpdatedBy != "" {
			gotG[t.Term] = t.Names
		}
	}
	for term, v := range r.m.glossary {
		wantG[term] = modelGlossary[v].in.Names
	}
	if !reflect.DeepEqual(gotG, wantG) {
		return fmt.Errorf("glossary entries differ:\ngot  %v\nwant %v", gotG, wantG)
	}
	return nil
}
