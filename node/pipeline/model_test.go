package pipeline

import (
	"fmt"
	"strings"
	"time"
)

// This file is a reference model of the pipeline for FuzzModel: a few maps
// and the rules of DESIGN.md and the table in transitions.go written out
// again in the plainest form. It calls nothing of the code under test; it
// borrows only the names of stages, roles, ops and error codes.

// mLead is what the model knows of a lead.
type mLead struct {
	ID, Site, Division string
	Stage              Stage
	Version            int64
	Published          bool
	ClaimMode          ClaimMode
	CloseReason        CloseReason
	// Subnode, Org and Deal: see model_registry_test.go. NoText is set
	// when the lead has no free-text organization.
	Subnode, Org, Deal string
	NoText             bool
}

// mInterest is what the model knows of a division's interest in a lead.
type mInterest struct {
	LeadID, Division, Rationale string
	Active                      bool
}

// mComment is what the model knows of a posted comment.
type mComment struct {
	LeadID     string
	Seq        int64
	Visibility Visibility
	Division   string
}

// mUser is what the model knows of a user.
type mUser struct {
	ID             string
	Role           Role
	Site, Division string
	Revoked        bool
}

// mToken is what the model knows of a token.
type mToken struct {
	ID, UserID string
	Revoked    bool
	Expires    time.Time // zero: never
}

func (t *mToken) active(now time.Time) bool {
	return !t.Revoked && (t.Expires.IsZero() || now.Before(t.Expires))
}

// mOp is one request as the model sees it. It is comparable: two requests
// with the same body compare equal, which is what a retry is. Variant picks
// the draft, patch, new user or new token from the tables below; Note
// picks the comment.
type mOp struct {
	Kind            Op
	Actor           string
	RequestID       string
	LeadID          string
	ExpectedVersion int64
	Decision        Decision
	Stage           Stage
	Note            int
	Variant         int
	UserID          string
	TokenID         string
	// Created is when a UUIDv7 request ID says it was created (zero for
	// other request IDs).
	Created time.Time
	// SetFormat and Retention are what the leader's set_format and
	// prune_requests carry.
	SetFormat int
	Retention time.Duration
	// ActorToken is the token the actor authenticated with. It is not
	// part of the request's body: a retry may come with another token.
	ActorToken string
	// The workflow's fields (workflow.go). Variant picks an express
	// interest's rationale from modelInterests.
	CloseReason CloseReason
	Division    string
	ClaimMode   ClaimMode
	Visibility  Visibility
	// OrgID is the organisation an update_org edits.
	OrgID string
	// AttVisibility is what an attachment request carries (the file is
	// Variant, from modelFiles).
	AttVisibility AttachmentVisibility
}

// body is op without what may differ between retries of one request.
func (op mOp) body() mOp {
	op.ActorToken = ""
	return op
}

// mResult is the model's answer to one request: ok with the lead, user
// and token it returns, or refused with an error code.
type mResult struct {
	OK         bool
	Code       Code
	Lead       *mLead
	User       *mUser
	Token      *mToken
	Replayed   bool
	Pruned     int
	PruneAgain bool
	Comment    *mComment
	// Mode is the default claim mode a set_default_claim_mode made.
	Mode       ClaimMode
	Org        *mOrgRef
	Site       *mSite
	Attachment *mAttachment
}

func (r mResult) String() string {
	if !r.OK {
		return "refused " + codeName(r.Code)
	}
	s := "ok"
	if r.Replayed {
		s += " (replayed)"
	}
	if r.Lead != nil {
		s += fmt.Sprintf(" lead %+v", *r.Lead)
	}
	if r.User != nil {
		s += fmt.Sprintf(" user %+v", *r.User)
	}
	if r.Token != nil {
		s += fmt.Sprintf(" token %+v", *r.Token)
	}
	if r.Org != nil {
		s += " org " + r.Org.ID
	}
	if r.Site != nil {
		s += fmt.Sprintf(" site %+v", *r.Site)
	}
	if r.Pruned != 0 || r.PruneAgain {
		s += fmt.Sprintf(" pruned %d (again %v)", r.Pruned, r.PruneAgain)
	}
	if r.Comment != nil {
		s += fmt.Sprintf(" comment %+v", *r.Comment)
	}
	if r.Mode != 0 {
		s += " default mode " + r.Mode.String()
	}
	if r.Attachment != nil {
		s += fmt.Sprintf(" attachment %+v", *r.Attachment)
	}
	return s
}

func codeName(c Code) string {
	names := []string{"INTERNAL", "INVALID", "NOT_FOUND", "UNAUTHENTICATED", "PERMISSION", "PRECONDITION", "CONFLICT", "UNREADABLE"}
	if c < 0 || int(c) >= len(names) {
		return fmt.Sprintf("code %d", int(c))
	}
	return names[c]
}

func refused(c Code) mResult { return mResult{Code: c} }

// modelDrafts are the drafts a submit may carry, judged by hand.
var modelDrafts = []struct {
	draft func() *Draft
	valid bool
	org   string // the organisation it links to
}{
	{validDraft, true, ""},
	{func() *Draft {
		d := validDraft()
		d.Title, d.Country, d.Language = "Quantensensor für Diagnostik", "DE", "de"
		return d
	}, true, ""},
	{func() *Draft { d := validDraft(); d.Title = ""; return d }, false, ""},
	{func() *Draft { d := validDraft(); d.Organization, d.OrganizationID = "", "org-0001"; return d }, true, "org-0001"},
}

// modelPatches are the edits an update may carry, judged by hand.
var modelPatches = []struct {
	patch func() *Patch
	valid bool
	org   *string // the organisation link it sets
}{
	{func() *Patch { return &Patch{Title: new("Revised title")} }, true, nil},
	{func() *Patch { return &Patch{Tags: []string{"revised"}, TRL: new(6)} }, true, nil},
	{func() *Patch { return &Patch{} }, false, nil}, // changes nothing
	{func() *Patch { return &Patch{Country: new("XX")} }, false, nil},
	{func() *Patch { return &Patch{OrganizationID: new("org-0003")} }, true, new("org-0003")},
	{func() *Patch { return &Patch{OrganizationID: new("")} }, true, new("")},
}

// modelNotes are the comments a request may carry. blank ones do not count
// as a reason; invalid ones carry a control character.
var modelNotes = []struct {
	text         string
	blank, valid bool
}{
	{"", true, true},
	{"   ", true, true},
	{"needs the clinical data", false, true},
	{"bell \x07", false, false},
}

// modelNewUsers are the users an add_user may describe, judged by hand.
var modelNewUsers = []struct {
	role           Role
	site, division string
	valid          bool
}{
	{NodeStaff, "BOS", "", true},
	{NodeStaff, "CBG", "", true},
	{NodeStaff, "MUC", "", true},
	{NodeStaff, "TLV", "", true},
	{DivisionRole, "", "BOHAI", true},
	{DivisionRole, "", "YRD", true},
	{HQReviewer, "", "", true},
	{NodeStaff, "bos", "", false},
	{HQReviewer, "", "PRD", false},
	{NodeStaff, "MUC-TUM", "", true},
	{NodeStaff, "MUCH", "", true},
	{NodeStaff, "CGO", "", true},
	{NodeStaff, "MUC-TUM-LAB", "", true},
}

// modelNewTokens are the tokens a create_token may describe, judged by
// hand. A token made for a few seconds expires a few entries later: the
// proposers' clock moves a second per entry.
var modelNewTokens = []struct {
	ttl         time.Duration
	description string
	valid       bool
}{
	{0, "", true},
	{0, "CI runner at BOS", true},
	{3 * time.Second, "short-lived", true},
	{0, "two\nlines", false},
	{-time.Second, "", false},
	{6 * 365 * 24 * time.Hour, "", false},
}

// modelRetentions are the windows a prune may carry, judged by hand.
var modelRetentions = []struct {
	d     time.Duration
	valid bool
}{
	{30 * time.Second, true},
	{5 * time.Second, true},
	{12 * time.Second, true},
	{0, false},
	{11 * 365 * 24 * time.Hour, false},
}

// modelInterests are what an express_interest may say, judged by hand.
var modelInterests = []struct {
	rationale, enterprise string
	valid                 bool
}{
	{"fits the Suzhou biomedicine cluster", "Suzhou Bio", true},
	{"Shenzhen has the cold chain", "", true},
	{"  ", "Tianjin Port", false},
	{"why not", "two\nlines", false},
}

// refModel is the reference pipeline.
type refModel struct {
	leads   map[string]*mLead
	leadIDs []string // in the order they were created
	users   map[string]*mUser
	userIDs []string
	siteSeq map[string]int // last lead number handed out per site
	userSeq int
	tokens  map[string]*mToken
	// tokenIDs are in the order the tokens were created.
	tokenIDs []string
	// done holds the first successful answer per actor and request ID
	// ("user-0003/r1"), until a prune forgets it.
	done map[string]mDone
	// format is the cluster's log format. From format 2: last is the
	// latest time applied, which no command's time goes before; horizon
	// is the time before which requests are forgotten, by a window of
	// retention.
	format    int
	last      time.Time
	horizon   time.Time
	retention time.Duration
	// times are the times of each lead's history events.
	times map[string][]time.Time
	// The workflow: interests by lead and division ("BOS-0001/YRD"),
	// the number of comments posted per lead, the default claim mode.
	interests   map[string]*mInterest
	comments    map[string]int64
	defaultMode ClaimMode
	// reg is the registry, the organisations and the deal terms
	// (model_registry_test.go).
	reg *registryModel
	// atts are the attachments, removed ones too, by key.
	atts map[string]*mAtt
	// The original text (title and summary) and language of each lead,
	// its translations by canonical language, and HQ's glossary entries
	// (term → the variant that set them).
	text     map[string]string
	language map[string]string
	trans    map[string]map[string]mTrans
	glossary map[string]int
	// noEvent is set by a request that succeeded without changing the
	// lead (a translation as it stood already).
	noEvent bool
}

// mTrans is what the model knows of a translation.
type mTrans struct {
	Title, Summary string
	Status         TranslationStatus
	By, VerifiedBy string
	Source         string // the lead's text it was written or confirmed against
}

// modelTranslations are the translations a translate may carry, judged by
// hand; lang is the canonical tag.
var modelTranslations = []struct {
	in    TranslationInput
	lang  string
	valid bool
}{
	{TranslationInput{Lang: "zh", Title: "隔膜", Status: TranslationDraft}, "zh", true},
	{TranslationInput{Lang: "zh", Title: "隔膜", Status: TranslationVerified}, "zh", true},
	{TranslationInput{Lang: "ZH", Title: "陶瓷隔膜", Summary: "陶瓷。", Status: TranslationDraft}, "zh", true},
	{TranslationInput{Lang: "de", Title: "Separator", Status: TranslationDraft}, "de", true},
	{TranslationInput{Lang: "EN", Summary: "A separator.", Status: TranslationVerified}, "en", true},
	{TranslationInput{Lang: "he", Title: "מפריד", Status: TranslationVerified}, "he", true},
	{TranslationInput{Lang: "zh-hant", Title: "隔膜", Status: TranslationDraft}, "zh-Hant", true},
	{TranslationInput{Lang: "", Title: "x", Status: TranslationDraft}, "", false},
	{TranslationInput{Lang: "zh", Title: " ", Status: TranslationDraft}, "zh", false},
	{TranslationInput{Lang: "zh", Title: "隔膜"}, "zh", false},
	{TranslationInput{Lang: "zh", Title: "陶瓷隔膜", Summary: "陶瓷。", Status: TranslationVerified}, "zh", true},
}

// modelGlossary are the glossary entries a set or delete may carry,
// judged by hand.
var modelGlossary = []struct {
	in    GlossaryInput
	valid bool // for a set; a delete needs only a valid term
}{
	{GlossaryInput{Term: "hydrogen", Names: map[string]string{"zh": "氢能", "en": "hydrogen"}}, true},
	{GlossaryInput{Term: "sector.it_ai", Names: map[string]string{"zh": "新一代信息技术"}}, true},
	{GlossaryInput{Term: "hydrogen", Names: map[string]string{"de": "Wasserstoff"}}, true},
	{GlossaryInput{Term: "Hydrogen", Names: map[string]string{"en": "hydrogen"}}, false},
	{GlossaryInput{Term: "hydrogen"}, false},
}

type mDone struct {
	op  mOp
	res mResult
	// at is when the record's retention starts (zero at format 1): the
	// later of the time it was applied and the time its UUIDv7 says.
	at time.Time
}

func newRefModel() *refModel {
	return &refModel{leads: map[string]*mLead{}, users: map[string]*mUser{},
		siteSeq: map[string]int{}, tokens: map[string]*mToken{}, done: map[string]mDone{},
		format: 1, times: map[string][]time.Time{}, interests: map[string]*mInterest{}, comments: map[string]int64{},
		defaultMode: ClaimOpen, reg: newRegistryModel(), atts: map[string]*mAtt{},
		text: map[string]string{}, language: map[string]string{},
		trans: map[string]map[string]mTrans{}, glossary: map[string]int{}}
}

// recordAt is when the retention of a request applied at now starts.
func recordAt(now time.Time, op mOp) time.Time {
	if op.Created.After(now) {
		return op.Created
	}
	return now
}

// addUser records a new user, with its first token, and returns copies of
// both.
func (m *refModel) addUser(u mUser) (*mUser, *mToken) {
	m.userSeq++
	u.ID = fmt.Sprintf("user-%04d", m.userSeq)
	m.users[u.ID] = &u
	m.userIDs = append(m.userIDs, u.ID)
	c := u
	return &c, m.addToken(u.ID, time.Time{})
}

func (m *refModel) addToken(user string, expires time.Time) *mToken {
	t := &mToken{ID: fmt.Sprintf("tok-%04d", len(m.tokenIDs)+1), UserID: user, Expires: expires}
	m.tokens[t.ID] = t
	m.tokenIDs = append(m.tokenIDs, t.ID)
	c := *t
	return &c
}

// tokensOf returns the IDs of the tokens of user, oldest first.
func (m *refModel) tokensOf(user string) []string {
	var out []string
	for _, id := range m.tokenIDs {
		if m.tokens[id].UserID == user {
			out = append(out, id)
		}
	}
	return out
}

// apply answers op, sent at now, and changes the model as the pipeline
// should.
func (m *refModel) apply(op mOp, now time.Time) mResult {
	if !m.valid(op) {
		// The proposer refuses it; in the log, it stops the state machine.
		return refused(CodeUnreadable)
	}
	if m.format < 2 && op.workflow() {
		// A site of format 1 could not read it.
		return refused(CodePrecondition)
	}
	if m.format < 2 && registryFormat2(op) {
		return refused(CodePrecondition) // no site of format 1 reads it
	}
	if (op.Kind == OpAddAttachment || op.Kind == OpRemoveAttachment) && m.format < 2 {
		return refused(CodePrecondition) // a command of log format 2
	}
	if modelFormat2Ops[op.Kind] && m.format < 2 {
		return refused(CodePrecondition) // every site must read it first
	}
	if m.format >= 2 && m.last.After(now) {
		now = m.last // time does not run backwards
	}
	var r mResult
	switch op.Kind {
	case OpSetFormat:
		r = m.setFormat(now)
	case OpPruneRequests:
		r = m.prune(op.Retention, now)
	case OpRegisterSites:
		r = m.registerSites(op, now)
	default:
		r = m.request(op, now)
	}
	if r.OK && !r.Replayed && m.format >= 2 {
		m.last = now
	}
	return r
}

// request answers a client's request.
func (m *refModel) request(op mOp, now time.Time) mResult {
	u := m.users[op.Actor]
	if u == nil || u.Revoked {
		return refused(CodeUnauthenticated)
	}
	if op.ActorToken != "" {
		if t := m.tokens[op.ActorToken]; t == nil || t.UserID != u.ID || !t.active(now) {
			return refused(CodeUnauthenticated)
		}
	}
	key := op.Actor + "/" + op.RequestID
	if d, ok := m.done[key]; ok {
		if d.op != op.body() {
			return refused(CodeInvalid)
		}
		r := d.res
		r.Replayed = true
		return r
	}
	if m.format >= 2 && !op.Created.IsZero() {
		switch {
		case op.Created.After(now.Add(24 * time.Hour)):
			return refused(CodeInvalid) // the client's clock is far ahead
		case op.Created.Before(m.horizon):
			return refused(CodePrecondition) // perhaps applied, and forgotten
		}
	}
	m.noEvent = false
	r := m.do(u, op, now)
	if r.OK {
		d := mDone{op: op.body(), res: r}
		if m.format >= 2 {
			d.at = recordAt(now, op)
		}
		m.done[key] = d
		if r.Lead != nil && !m.noEvent && int64(len(m.times[r.Lead.ID])) < r.Lead.Version {
			// A deal edit, or a translation, that changes nothing adds no
			// event.
			m.times[r.Lead.ID] = append(m.times[r.Lead.ID], now)
		}
	}
	return r
}

// setFormat raises the cluster to format 2; the requests remembered so far
// are kept for a window from now.
func (m *refModel) setFormat(now time.Time) mResult {
	if m.format >= 2 {
		return mResult{OK: true, Replayed: true}
	}
	m.format = 2
	for key, d := range m.done {
		d.at = recordAt(now, d.op)
		m.done[key] = d
	}
	return mResult{OK: true}
}

// prune forgets the requests from before the window.
func (m *refModel) prune(retention time.Duration, now time.Time) mResult {
	if m.format < 2 {
		return refused(CodePrecondition)
	}
	horizon := now.Add(-retention)
	n := 0
	for key, d := range m.done {
		if d.at.Before(horizon) {
			delete(m.done, key)
			n++
		}
	}
	moved := horizon.After(m.horizon)
	if moved {
		m.horizon, m.retention = horizon, retention
	}
	if n == 0 && !moved {
		return mResult{OK: true, Replayed: true}
	}
	return mResult{OK: true, Pruned: n}
}

// valid judges the request's fields alone.
func (m *refModel) valid(op mOp) bool {
	switch op.Kind {
	case OpSetFormat:
		return op.SetFormat == 2
	case OpPruneRequests:
		return modelRetention(op.Retention)
	case OpRegisterSites:
		return true
	}
	if !oracleRequestID(op.RequestID) || op.ActorToken != "" && !oracleTokenID(op.ActorToken) {
		return false
	}
	note := modelNotes[op.Note]
	noteVisibility := op.Visibility == 0 || op.Visibility == Shared || op.Visibility == DivisionOnly
	division := op.Division == "BOHAI" || op.Division == "YRD" || op.Division == "PRD"
	switch op.Kind {
	case OpClose:
		return oracleLeadID(op.LeadID) && op.CloseReason >= 1 && op.CloseReason <= 6 && note.valid &&
			(op.CloseReason != OtherReason || !note.blank) && noteVisibility
	case OpReopen:
		return oracleLeadID(op.LeadID) && (op.Stage == Submitted || op.Stage == Approved) && note.valid && !note.blank
	case OpAssign:
		return oracleLeadID(op.LeadID) && division && note.valid
	case OpExpressInterest:
		return oracleLeadID(op.LeadID) && modelInterests[op.Variant].valid
	case OpWithdrawInterest:
		return oracleLeadID(op.LeadID)
	case OpSetClaimMode:
		return oracleLeadID(op.LeadID) && (op.ClaimMode == ClaimOpen || op.ClaimMode == ClaimAssigned)
	case OpSetDefaultClaimMode:
		return op.ClaimMode == ClaimOpen || op.ClaimMode == ClaimAssigned
	case OpComment:
		return oracleLeadID(op.LeadID) && note.valid && !note.blank && op.Visibility >= Shared && op.Visibility <= DivisionOnly &&
			(op.Division == "" || op.Visibility == DivisionOnly && division)
	case OpSubmit:
		return modelDrafts[op.Variant].valid && note.valid
	case OpUpdate:
		return oracleLeadID(op.LeadID) && modelPatches[op.Variant].valid && note.valid
	case OpReview:
		switch op.Decision {
		case Approve:
			return oracleLeadID(op.LeadID) && note.valid && op.ClaimMode >= 0 && op.ClaimMode <= ClaimAssigned
		case Return, Decline:
			return oracleLeadID(op.LeadID) && note.valid && !note.blank && op.ClaimMode == 0
		}
		return false
	case OpClaim, OpRelease, OpWithdraw:
		return oracleLeadID(op.LeadID) && note.valid
	case OpAdvance:
		ok := op.Stage == Negotiating || op.Stage == Signed || op.Stage == Landed
		return ok && oracleLeadID(op.LeadID) && note.valid && noteVisibility
	case OpRevoke:
		return oracleUserID(op.UserID)
	case OpAddUser:
		return modelNewUsers[op.Variant].valid
	case OpCreateToken:
		return oracleUserID(op.UserID) && modelNewTokens[op.Variant].valid
	case OpRevokeToken:
		return oracleUserID(op.UserID) && oracleTokenID(op.TokenID)
	case OpAddSite, OpCreateOrg, OpUpdateOrg, OpSetDeal:
		return validRegistryOp(op)
	case OpAddAttachment, OpRemoveAttachment:
		return m.validAttachment(op)
	case OpTranslate:
		return oracleLeadID(op.LeadID) && modelTranslations[op.Variant].valid && modelNotes[op.Note].text == ""
	case OpSetGlossaryTerm:
		return modelGlossary[op.Variant].valid
	case OpDeleteGlossaryTerm:
		return modelGlossary[op.Variant].in.Term == strings.ToLower(modelGlossary[op.Variant].in.Term)
	}
	return false
}

// modelFormat2Ops are the requests only a cluster of log format 2 takes.
var modelFormat2Ops = map[Op]bool{OpTranslate: true, OpSetGlossaryTerm: true, OpDeleteGlossaryTerm: true}

func (m *refModel) do(u *mUser, op mOp, now time.Time) mResult {
	switch op.Kind {
	case OpSubmit:
		if u.Role != NodeStaff {
			return refused(CodePermission)
		}
		site, subnode, code := m.submitSite(u)
		if code != nil {
			return refused(*code)
		}
		org := modelDrafts[op.Variant].org
		if org != "" {
			if code := m.linkable(org); code != nil {
				return refused(*code)
			}
		}
		m.siteSeq[site]++
		l := &mLead{ID: fmt.Sprintf("%s-%04d", site, m.siteSeq[site]), Site: site, Stage: Submitted, Version: 1,
			Subnode: subnode, Org: org, NoText: org != ""}
		m.leads[l.ID] = l
		d := modelDrafts[op.Variant].draft()
		m.text[l.ID], m.language[l.ID] = d.Title+"\x00"+d.Summary, d.Language
		m.leadIDs = append(m.leadIDs, l.ID)
		c := *l
		return mResult{OK: true, Lead: &c}
	case OpAddUser:
		if u.Role != Admin {
			return refused(CodePermission)
		}
		nu := modelNewUsers[op.Variant]
		if nu.role == NodeStaff {
			if code := m.staffSiteCode(nu.site); code != nil {
				return refused(*code)
			}
		}
		nuser, tok := m.addUser(mUser{Role: nu.role, Site: nu.site, Division: nu.division})
		return mResult{OK: true, User: nuser, Token: tok}
	case OpCreateToken, OpRevokeToken:
		return m.tokenOp(u, op, now)
	case OpComment:
		return m.comment(u, op)
	case OpSetDefaultClaimMode:
		if u.Role != HQReviewer {
			return refused(CodePermission)
		}
		m.defaultMode = op.ClaimMode
		return mResult{OK: true, Mode: op.ClaimMode}
	case OpAddSite, OpCreateOrg, OpUpdateOrg, OpSetDeal:
		return m.registryOp(u, op)
	case OpAddAttachment, OpRemoveAttachment:
		return m.attach(u, op)
	case OpSetGlossaryTerm, OpDeleteGlossaryTerm:
		return m.glossaryOp(u, op)
	case OpRevoke:
		switch target := m.users[op.UserID]; {
		case u.Role != Admin:
			return refused(CodePermission)
		case op.UserID == u.ID:
			return refused(CodePrecondition)
		case target == nil:
			return refused(CodeNotFound)
		default:
			if !target.Revoked {
				target.Revoked = true
				for _, id := range m.tokensOf(target.ID) {
					m.tokens[id].Revoked = true
				}
			}
			c := *target
			return mResult{OK: true, User: &c}
		}
	}
	l := m.leads[op.LeadID]
	if l == nil {
		return refused(CodeNotFound)
	}
	if !mayTouch(u, op.Kind, l) {
		return refused(CodePermission)
	}
	if op.ExpectedVersion != 0 && op.ExpectedVersion != l.Version {
		return refused(CodeConflict)
	}
	if op.Kind == OpTranslate {
		return m.translate(u, op, l)
	}
	if p := modelPatches[op.Variant].org; op.Kind == OpUpdate && p != nil && (l.Stage == Submitted || l.Stage == Returned) {
		// Linking checks the organisation; unlinking needs the lead's
		// free-text organization.
		if *p != "" {
			if code := m.linkable(*p); code != nil {
				return refused(*code)
			}
		} else if l.NoText {
			return refused(CodeInvalid)
		}
	}
	next, code := m.move(u, op, *l)
	if code != nil {
		return refused(*code)
	}
	if op.Kind == OpRelease {
		delete(m.reg.deals, l.ID) // the terms belong to the claim
	}
	next.Version++
	*l = next
	if op.Kind == OpUpdate {
		p := modelPatches[op.Variant].patch()
		title, summary, _ := strings.Cut(m.text[l.ID], "\x00")
		if p.Title != nil {
			title = *p.Title
		}
		if p.Summary != nil {
			summary = *p.Summary
		}
		m.text[l.ID] = title + "\x00" + summary
	}
	c := next
	return mResult{OK: true, Lead: &c}
}

// translate records a translation: any who see the lead but admins; a
// VERIFIED one by HQ, or by another than its translator for its text.
func (m *refModel) translate(u *mUser, op mOp, l *mLead) mResult {
	tv := modelTranslations[op.Variant]
	if m.language[l.ID] == tv.lang {
		return refused(CodePrecondition) // not a translation
	}
	old, had := m.trans[l.ID][tv.lang]
	same := had && old.Title == tv.in.Title && old.Summary == tv.in.Summary
	if tv.in.Status == TranslationVerified && u.Role != HQReviewer && (!same || old.By == u.ID) {
		return refused(CodePermission)
	}
	if same && old.Status == tv.in.Status && old.Source == m.text[l.ID] {
		m.noEvent = true
		c := *l
		return mResult{OK: true, Lead: &c}
	}
	t := old
	if !same {
		t = mTrans{Title: tv.in.Title, Summary: tv.in.Summary, By: u.ID}
	}
	t.Status, t.Source, t.VerifiedBy = tv.in.Status, m.text[l.ID], ""
	if t.Status == TranslationVerified {
		t.VerifiedBy = u.ID
	}
	if m.trans[l.ID] == nil {
		m.trans[l.ID] = map[string]mTrans{}
	}
	m.trans[l.ID][tv.lang] = t
	l.Version++
	c := *l
	return mResult{OK: true, Lead: &c}
}

// glossaryOp sets or deletes HQ's entry for a term.
func (m *refModel) glossaryOp(u *mUser, op mOp) mResult {
	if u.Role != HQReviewer {
		return refused(CodePermission)
	}
	term := modelGlossary[op.Variant].in.Term
	if op.Kind == OpSetGlossaryTerm {
		m.glossary[term] = op.Variant
		return mResult{OK: true}
	}
	if _, ok := m.glossary[term]; !ok {
		return refused(CodeNotFound)
	}
	delete(m.glossary, term)
	return mResult{OK: true}
}

// modelRetention: a window of at least a second and at most ten years.
func modelRetention(d time.Duration) bool {
	return d >= time.Second && d <= 10*365*24*time.Hour
}

// tokenOp creates or revokes a token: admins for anyone, users for
// themselves.
func (m *refModel) tokenOp(u *mUser, op mOp, now time.Time) mResult {
	if u.Role != Admin && u.ID != op.UserID {
		return refused(CodePermission)
	}
	subject := m.users[op.UserID]
	if subject == nil {
		return refused(CodeNotFound)
	}
	sc := *subject
	if op.Kind == OpCreateToken {
		if subject.Revoked {
			return refused(CodePrecondition)
		}
		var expires time.Time
		if ttl := modelNewTokens[op.Variant].ttl; ttl > 0 {
			expires = now.Add(ttl)
		}
		return mResult{OK: true, User: &sc, Token: m.addToken(subject.ID, expires)}
	}
	t := m.tokens[op.TokenID]
	if t == nil || t.UserID != subject.ID {
		return refused(CodeNotFound)
	}
	if !t.Revoked && subject.ID == u.ID && u.Role == Admin {
		// An admin keeps at least one working token.
		others := 0
		for _, id := range m.tokensOf(u.ID) {
			if id != t.ID && m.tokens[id].active(now) {
				others++
			}
		}
		if others == 0 {
			return refused(CodePrecondition)
		}
	}
	t.Revoked = true
	tc := *t
	return mResult{OK: true, User: &sc, Token: &tc}
}

// mayTouch is who may try op on l at all, whatever its stage.
func mayTouch(u *mUser, op Op, l *mLead) bool {
	ownSite := staffOf(u, l)
	holder := u.Role == DivisionRole && u.Division == l.Division
	switch op {
	case OpUpdate, OpWithdraw:
		return ownSite
	case OpReview:
		return u.Role == HQReviewer
	case OpClaim:
		return u.Role == DivisionRole
	case OpRelease:
		return u.Role == HQReviewer || holder
	case OpAdvance:
		return holder
	case OpClose:
		return u.Role == HQReviewer || holder
	case OpReopen, OpAssign, OpSetClaimMode:
		return u.Role == HQReviewer
	case OpExpressInterest, OpWithdrawInterest:
		return u.Role == DivisionRole
	case OpTranslate:
		switch u.Role {
		case HQReviewer:
			return true
		case NodeStaff:
			return u.Site == l.Site
		case DivisionRole:
			return l.Published
		}
	}
	return false
}

// workflow reports whether op needs log format 2.
func (op mOp) workflow() bool {
	switch op.Kind {
	case OpClose, OpReopen, OpAssign, OpExpressInterest, OpWithdrawInterest, OpSetClaimMode, OpSetDefaultClaimMode, OpComment:
		return true
	}
	return op.ClaimMode != 0 || op.Visibility != 0 || op.CloseReason != 0 || op.Division != ""
}

// mSees is who may see a lead at all.
func mSees(u *mUser, l *mLead) bool {
	switch u.Role {
	case Admin, HQReviewer:
		return true
	case NodeStaff:
		return u.Site == l.Site
	case DivisionRole:
		return l.Published
	}
	return false
}

// comment posts a comment: whoever sees the lead SHARED, HQ and its site
// HQ_AND_SITE, a division (for itself) and HQ (for the division it names
// or the holder) DIVISION; admins never.
func (m *refModel) comment(u *mUser, op mOp) mResult {
	l := m.leads[op.LeadID]
	switch {
	case l == nil:
		return refused(CodeNotFound)
	case u.Role == Admin || !mSees(u, l):
		return refused(CodePermission)
	case op.Visibility == HQAndSite && u.Role == DivisionRole, op.Visibility == DivisionOnly && u.Role == NodeStaff:
		return refused(CodePermission)
	}
	div := ""
	if op.Visibility == DivisionOnly {
		div = op.Division
		switch {
		case u.Role == DivisionRole && div != "" && div != u.Division:
			return refused(CodePermission)
		case u.Role == DivisionRole:
			div = u.Division
		case div == "" && l.Division == "":
			return refused(CodePrecondition)
		case div == "":
			div = l.Division
		}
	}
	m.comments[l.ID]++
	return mResult{OK: true, Comment: &mComment{LeadID: l.ID, Seq: m.comments[l.ID], Visibility: op.Visibility, Division: div}}
}

// move is what op does to l in its stage, or the code it is refused with.
func (m *refModel) move(u *mUser, op mOp, l mLead) (mLead, *Code) {
	wrongStage, lostRace := CodePrecondition, CodeConflict
	from := func(stages ...Stage) bool {
		for _, s := range stages {
			if l.Stage == s {
				return true
			}
		}
		return false
	}
	switch op.Kind {
	case OpUpdate:
		if !from(Submitted, Returned) {
			return l, &wrongStage
		}
		l.Stage = Submitted
		if p := modelPatches[op.Variant].org; p != nil {
			l.Org = *p
		}
	case OpReview:
		if !from(Submitted) {
			return l, &wrongStage
		}
		l.Stage = map[Decision]Stage{Approve: Approved, Return: Returned, Decline: Declined}[op.Decision]
		if op.Decision == Approve {
			l.Published = true
			if m.format >= 2 {
				l.ClaimMode = m.approvedMode(op.ClaimMode, l.ClaimMode)
			}
		}
	case OpClaim:
		held := from(Claimed, Negotiating, Signed, Landed)
		switch {
		case held && l.Division == u.Division:
			return l, &wrongStage
		case held:
			return l, &lostRace
		case !from(Approved), l.ClaimMode == ClaimAssigned:
			return l, &wrongStage
		}
		l.Stage, l.Division = Claimed, u.Division
	case OpAssign:
		held := from(Claimed, Negotiating, Signed, Landed)
		switch {
		case held && l.Division == op.Division:
			return l, &wrongStage
		case held:
			return l, &lostRace
		case !from(Approved):
			return l, &wrongStage
		}
		l.Stage, l.Division = Claimed, op.Division
	case OpClose:
		if !from(Claimed, Negotiating, Signed) {
			return l, &wrongStage
		}
		l.Stage, l.CloseReason = Lost, op.CloseReason
	case OpReopen:
		if !from(Declined, Lost) {
			return l, &wrongStage
		}
		l.Stage, l.Division, l.CloseReason = op.Stage, "", 0
		if op.Stage == Approved {
			l.Published, l.ClaimMode = true, m.approvedMode(0, l.ClaimMode)
		}
	case OpSetClaimMode:
		if !from(Submitted, Returned, Approved) {
			return l, &wrongStage
		}
		l.ClaimMode = op.ClaimMode
	case OpExpressInterest, OpWithdrawInterest:
		if !from(Approved) {
			return l, &wrongStage
		}
		key := l.ID + "/" + u.Division
		cur := m.interests[key]
		if op.Kind == OpWithdrawInterest {
			if cur == nil || !cur.Active {
				return l, &wrongStage // nothing to withdraw
			}
			cur.Active = false
			break
		}
		m.interests[key] = &mInterest{LeadID: l.ID, Division: u.Division, Rationale: modelInterests[op.Variant].rationale, Active: true}
	case OpRelease:
		if !from(Claimed) {
			return l, &wrongStage
		}
		l.Stage, l.Division, l.Deal = Approved, "", ""
	case OpAdvance:
		prev := map[Stage]Stage{Negotiating: Claimed, Signed: Negotiating, Landed: Signed}[op.Stage]
		if !from(prev) {
			return l, &wrongStage
		}
		l.Stage = op.Stage
	case OpWithdraw:
		if !from(Submitted, Returned, Approved) {
			return l, &wrongStage
		}
		l.Stage = Withdrawn
	}
	return l, nil
}

// approvedMode is the claim mode of a lead as it is approved: the one the
// request names, else the lead's own, else the default.
func (m *refModel) approvedMode(asked, own ClaimMode) ClaimMode {
	switch {
	case asked != 0:
		return asked
	case own != 0:
		return own
	}
	return m.defaultMode
}

// String renders op for a transcript.
func (op mOp) String() string {
	var b strings.Builder
	switch op.Kind {
	case OpSetFormat:
		return fmt.Sprintf("set_format %d (leader)", op.SetFormat)
	case OpPruneRequests:
		return fmt.Sprintf("prune_requests older than %s (leader)", op.Retention)
	case OpRegisterSites:
		return fmt.Sprintf("register_sites topology#%d (leader)", op.Variant)
	}
	fmt.Fprintf(&b, "%s by %s rid=%q", op.Kind, op.Actor, op.RequestID)
	if !op.Created.IsZero() {
		fmt.Fprintf(&b, " (UUIDv7 of %s)", op.Created.Format("15:04:05"))
	}
	switch op.Kind {
	case OpSubmit:
		fmt.Fprintf(&b, " draft#%d", op.Variant)
	case OpUpdate:
		fmt.Fprintf(&b, " %s patch#%d", op.LeadID, op.Variant)
	case OpReview:
		fmt.Fprintf(&b, " %s %s", op.LeadID, op.Decision)
	case OpAdvance:
		fmt.Fprintf(&b, " %s to %s", op.LeadID, op.Stage)
	case OpClose:
		fmt.Fprintf(&b, " %s for %s", op.LeadID, op.CloseReason)
	case OpReopen:
		fmt.Fprintf(&b, " %s to %s", op.LeadID, op.Stage)
	case OpAssign:
		fmt.Fprintf(&b, " %s to %q", op.LeadID, op.Division)
	case OpExpressInterest:
		fmt.Fprintf(&b, " %s interest#%d", op.LeadID, op.Variant)
	case OpSetClaimMode:
		fmt.Fprintf(&b, " %s %s", op.LeadID, op.ClaimMode)
	case OpSetDefaultClaimMode:
		fmt.Fprintf(&b, " %s", op.ClaimMode)
	case OpComment:
		fmt.Fprintf(&b, " %s %s %q", op.LeadID, op.Visibility, op.Division)
	case OpAddUser:
		fmt.Fprintf(&b, " newuser#%d", op.Variant)
	case OpRevoke:
		fmt.Fprintf(&b, " %s", op.UserID)
	case OpCreateToken:
		fmt.Fprintf(&b, " for %s newtoken#%d", op.UserID, op.Variant)
	case OpRevokeToken:
		fmt.Fprintf(&b, " %s of %s", op.TokenID, op.UserID)
	case OpAddSite:
		fmt.Fprintf(&b, " site#%d", op.Variant)
	case OpCreateOrg:
		fmt.Fprintf(&b, " org#%d", op.Variant)
	case OpUpdateOrg:
		fmt.Fprintf(&b, " %s orgpatch#%d", op.OrgID, op.Variant)
	case OpSetDeal:
		fmt.Fprintf(&b, " %s deal#%d", op.LeadID, op.Variant)
	case OpAddAttachment, OpRemoveAttachment:
		fmt.Fprintf(&b, " %s file#%d %s", op.LeadID, op.Variant, op.Visibility)
	case OpTranslate:
		fmt.Fprintf(&b, " %s translation#%d", op.LeadID, op.Variant)
	case OpSetGlossaryTerm, OpDeleteGlossaryTerm:
		fmt.Fprintf(&b, " glossary#%d", op.Variant)
	default:
		fmt.Fprintf(&b, " %s", op.LeadID)
	}
	if op.ExpectedVersion != 0 {
		fmt.Fprintf(&b, " at v%d", op.ExpectedVersion)
	}
	if op.Kind == OpReview && op.ClaimMode != 0 || op.Kind == OpAdvance && op.Visibility != 0 || op.Kind == OpClose && op.Visibility != 0 {
		fmt.Fprintf(&b, " (%s%s)", enumText(claimModeNames[:], int(op.ClaimMode)), enumText(visibilityNames[:], int(op.Visibility)))
	}
	fmt.Fprintf(&b, " note#%d", op.Note)
	if op.ActorToken != "" {
		fmt.Fprintf(&b, " with %s", op.ActorToken)
	}
	return b.String()
}
