package pipeline

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// Every applied write leaves a record under its actor and request ID, so
// that a retry is answered with the first outcome and changes nothing.
//
// At log format 1 a record holds copies of the lead, user and token the
// first attempt returned, and is kept for ever: the state grows by a copy
// of a lead with every write.
//
// From format 2 a record holds only what a retry needs to give the same
// answer: the IDs and versions of what the first attempt returned (a
// lead's ID and version, a user's and a token's ID and whether they were
// revoked then), the request's fingerprint and its time. A retry rebuilds
// the answer from the state ([leadAt]). Records are forgotten once they
// are older than a retention window: the leader proposes
// [OpPruneRequests] with the window, and Apply deletes the records from
// before the command's time minus the window, oldest first, by an index
// on their time, and keeps that horizon in the state.
//
// A forgotten request cannot be told from a new one by its record. A
// request ID that carries its creation time can: a UUIDv7 (RFC 9562),
// which the CLI generates. Such an ID created before the horizon is
// refused ("the first attempt's outcome is no longer known"). Its record
// is kept until the horizon passes both the request's time and the ID's,
// so that a retry of a forgotten request is always recognised, and an ID
// created more than [MaxRequestIDAhead] after the command's time is
// refused (a client clock that far ahead would keep its records for
// ever). Other request IDs are remembered for the window as well, but a
// retry after it is taken for a new request.

// request remembers an applied write. Most records name at most a lead
// (a lead's writes are most of the log and each leaves one), so what the
// others name is behind a pointer: a record of a lead's write is a fifth
// of the size, which is most of the state's memory for requests.
type request struct {
	Key         string // actor + "/" + request ID
	Fingerprint string
	// Set in records of format 2. Time (Unix nanoseconds) is when the
	// record's retention starts: the command's time, or the request ID's
	// own creation time if that is later.
	Time        int64
	LeadID      string
	LeadVersion int64
	// more is what a record names besides a lead; nil when nothing.
	more *requestMore
}

// requestMore is what a request record names besides a lead.
type requestMore struct {
	// Lead, User and Token are copies of what the first attempt returned,
	// in records of format 1.
	Lead  *Lead
	User  *User
	Token *Token
	// The rest is set in records of format 2.
	UserID       string
	UserRevoked  bool
	TokenID      string
	TokenRevoked bool
	// The workflow's (workflow.go): the interest (answered as it is now,
	// as a lead's content is), the comment, a copy of the setting made.
	InterestKey string
	CommentKey  string
	Setting     *Setting
	// OrgID and SiteCode name the organisation and the site a first
	// attempt returned (organizations.go, sites.go).
	OrgID    string
	SiteCode string
	// AttachmentKey is the attachment an attachment command answered,
	// and AttachmentRemoved whether it was removed then.
	AttachmentKey     string
	AttachmentRemoved bool
	// InvitationID names the invitation a first attempt made or used
	// (accounts.go).
	InvitationID string
	// ProfileDivision names the division whose profile a first attempt
	// stored (profiles.go).
	ProfileDivision string
	// TargetsYear names the year whose targets a first attempt stored.
	TargetsYear int
	// CalendarKey names the calendar table a first attempt stored.
	CalendarKey string
	// Prefs and Webhook are copies of what a first attempt answered.
	Prefs   *NotificationPrefs
	Webhook *Webhook
}

// extra returns what r names besides a lead, a copy to read (the zero
// value when it names nothing more).
func (r *request) extra() requestMore {
	if r.more == nil {
		return requestMore{}
	}
	return *r.more
}

// setExtra keeps m as what r names besides a lead (nothing when m is
// the zero value).
func (r *request) setExtra(m requestMore) {
	if m == (requestMore{}) {
		r.more = nil
		return
	}
	r.more = &m
}

// requestJSON is a request record as snapshots of the JSON formats hold
// it: every field at the top level.
type requestJSON struct {
	Key               string             `json:"key"`
	Fingerprint       string             `json:"fingerprint"`
	Lead              *Lead              `json:"lead,omitempty"`
	User              *User              `json:"user,omitempty"`
	Token             *Token             `json:"token,omitempty"`
	Time              int64              `json:"time,omitempty"`
	LeadID            string             `json:"leadId,omitempty"`
	LeadVersion       int64              `json:"leadVersion,omitempty"`
	UserID            string             `json:"userId,omitempty"`
	UserRevoked       bool               `json:"userRevoked,omitempty"`
	TokenID           string             `json:"tokenId,omitempty"`
	TokenRevoked      bool               `json:"tokenRevoked,omitempty"`
	InterestKey       string             `json:"interestKey,omitempty"`
	CommentKey        string             `json:"commentKey,omitempty"`
	Setting           *Setting           `json:"setting,omitempty"`
	OrgID             string             `json:"orgId,omitempty"`
	SiteCode          string             `json:"siteCode,omitempty"`
	AttachmentKey     string             `json:"attachmentKey,omitempty"`
	AttachmentRemoved bool               `json:"attachmentRemoved,omitempty"`
	InvitationID      string             `json:"invitationId,omitempty"`
	ProfileDivision   string             `json:"profileDivision,omitempty"`
	TargetsYear       int                `json:"targetsYear,omitempty"`
	CalendarKey       string             `json:"calendarKey,omitempty"`
	Prefs             *NotificationPrefs `json:"prefs,omitempty"`
	Webhook           *Webhook           `json:"webhook,omitempty"`
}

// MarshalJSON writes r as a requestJSON.
func (r *request) MarshalJSON() ([]byte, error) {
	m := r.extra()
	return json.Marshal(requestJSON{
		Key: r.Key, Fingerprint: r.Fingerprint, Lead: m.Lead, User: m.User, Token: m.Token,
		Time: r.Time, LeadID: r.LeadID, LeadVersion: r.LeadVersion,
		UserID: m.UserID, UserRevoked: m.UserRevoked, TokenID: m.TokenID, TokenRevoked: m.TokenRevoked,
		InterestKey: m.InterestKey, CommentKey: m.CommentKey, Setting: m.Setting,
		OrgID: m.OrgID, SiteCode: m.SiteCode, AttachmentKey: m.AttachmentKey, AttachmentRemoved: m.AttachmentRemoved,
		InvitationID: m.InvitationID, ProfileDivision: m.ProfileDivision, TargetsYear: m.TargetsYear,
		CalendarKey: m.CalendarKey, Prefs: m.Prefs, Webhook: m.Webhook,
	})
}

// UnmarshalJSON reads a requestJSON into r.
func (r *request) UnmarshalJSON(b []byte) error {
	var j requestJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*r = request{Key: j.Key, Fingerprint: j.Fingerprint, Time: j.Time, LeadID: j.LeadID, LeadVersion: j.LeadVersion}
	r.setExtra(requestMore{
		Lead: j.Lead, User: j.User, Token: j.Token,
		UserID: j.UserID, UserRevoked: j.UserRevoked, TokenID: j.TokenID, TokenRevoked: j.TokenRevoked,
		InterestKey: j.InterestKey, CommentKey: j.CommentKey, Setting: j.Setting,
		OrgID: j.OrgID, SiteCode: j.SiteCode, AttachmentKey: j.AttachmentKey, AttachmentRemoved: j.AttachmentRemoved,
		InvitationID: j.InvitationID, ProfileDivision: j.ProfileDivision, TargetsYear: j.TargetsYear,
		CalendarKey: j.CalendarKey, Prefs: j.Prefs, Webhook: j.Webhook,
	})
	return nil
}

// Limits on request retention.
const (
	// MaxRequestIDAhead is how far after the command's time a UUIDv7
	// request ID may say it was created.
	MaxRequestIDAhead = 24 * time.Hour
	// MaxRetention bounds OpPruneRequests' window.
	MaxRetention = 10 * 365 * 24 * time.Hour
)

// prunePerCommand bounds the work of one OpPruneRequests; the leader
// proposes another while [Result.PruneAgain] says more are due. (A
// variable for tests.)
var prunePerCommand = 10000

// Where the state keeps the prune horizon (Unix nanoseconds) and the
// window it was computed with, in the counters table.
const (
	horizonCounter   = "requests/horizon"
	retentionCounter = "requests/retention"
)

func checkRetention(d time.Duration) *Error {
	if d < time.Second || d > MaxRetention {
		return invalid("retention", "must be from 1s to %s (10 years), got %s", MaxRetention, d)
	}
	return nil
}

// remember records the applied request key with its first outcome.
func (a *applier) remember(key, fingerprint string, res Result) *Error {
	r := &request{Key: key, Fingerprint: fingerprint}
	if a.format < Format2 {
		r.setExtra(requestMore{Lead: res.Lead, User: res.User, Token: res.Token})
		return a.insert(tableRequests, r)
	}
	r.Time = recordTime(a.now, a.cmd.RequestID)
	r.keep(res)
	return a.insert(tableRequests, r)
}

// keep sets the IDs and versions of what res returned.
func (r *request) keep(res Result) {
	if l := res.Lead; l != nil {
		r.LeadID, r.LeadVersion = l.ID, l.Version
	}
	var m requestMore
	if u := res.User; u != nil {
		m.UserID, m.UserRevoked = u.ID, u.Revoked != nil
	}
	if t := res.Token; t != nil {
		m.TokenID, m.TokenRevoked = t.ID, t.Revoked != nil
	}
	if i := res.Interest; i != nil {
		m.InterestKey = i.Key
	}
	if c := res.Comment; c != nil {
		m.CommentKey = c.Key
	}
	m.Setting = res.Setting
	if o := res.Org; o != nil {
		m.OrgID = o.ID
	}
	if s := res.Site; s != nil {
		m.SiteCode = s.Code
	}
	if a := res.Attachment; a != nil {
		m.AttachmentKey, m.AttachmentRemoved = a.Key, !a.Live()
	}
	if i := res.Invitation; i != nil {
		m.InvitationID = i.ID
	}
	if p := res.Profile; p != nil {
		m.ProfileDivision = p.Division
	}
	if t := res.Targets; t != nil {
		m.TargetsYear = t.Year
	}
	if c := res.Calendar; c != nil {
		m.CalendarKey = c.Key
	}
	m.Prefs, m.Webhook = res.Prefs, res.Webhook
	r.setExtra(m)
}

// recordTime is when the retention of a request applied at now starts.
func recordTime(now time.Time, requestID string) int64 {
	t := now
	if created, ok := requestIDTime(requestID); ok && created.After(t) {
		t = created
	}
	return t.UnixNano()
}

// replay answers a retry of the request r recorded.
func (a *applier) replay(rec *request) (Result, *Error) {
	r := rec.extra()
	if r.Lead != nil || r.User != nil || r.Token != nil {
		return Result{Lead: r.Lead, User: r.User, Token: r.Token, Replayed: true}, nil
	}
	res := Result{Replayed: true}
	var err *Error
	if rec.LeadID != "" {
		if res.Lead, err = leadAt(a.txn, rec.LeadID, rec.LeadVersion); err != nil {
			return Result{}, err
		}
	}
	if r.UserID != "" {
		if res.User, err = a.userAsAnswered(r.UserID, r.UserRevoked); err != nil {
			return Result{}, err
		}
	}
	if r.TokenID != "" {
		if res.Token, err = a.tokenAsAnswered(r.TokenID, r.TokenRevoked); err != nil {
			return Result{}, err
		}
	}
	if r.InterestKey != "" {
		raw, gerr := a.txn.First(tableInterests, "id", r.InterestKey)
		if gerr != nil || raw == nil {
			return Result{}, errorf(CodeInternal, "a request record names interest %s, which cannot be read (%v)", r.InterestKey, gerr)
		}
		res.Interest = raw.(*Interest)
	}
	if r.CommentKey != "" {
		if res.Comment, err = a.comment(r.CommentKey); err != nil {
			return Result{}, err
		}
	}
	res.Setting = r.Setting
	if r.OrgID != "" {
		// As for a lead's content: the organisation as it is now.
		if res.Org, err = getOrg(a.txn, r.OrgID); err != nil {
			return Result{}, errorf(CodeInternal, "a request record names organization %s: %s", r.OrgID, err.Msg)
		}
	}
	if r.SiteCode != "" {
		s := siteOf(a.txn, r.SiteCode)
		if s == nil {
			return Result{}, errorf(CodeInternal, "a request record names site %s, which is not registered", r.SiteCode)
		}
		res.Site = s
	}
	if r.AttachmentKey != "" {
		if res.Attachment, err = a.attachmentAsAnswered(r.AttachmentKey, r.AttachmentRemoved, rec.LeadVersion); err != nil {
			return Result{}, err
		}
	}
	if r.ProfileDivision != "" {
		// As for an organisation: the profile as it is now.
		p, err := profileOf(a.txn.First, r.ProfileDivision)
		if err != nil || p == nil {
			return Result{}, errorf(CodeInternal, "a request record names the profile of %s, which cannot be read (%v)", r.ProfileDivision, err)
		}
		res.Profile = p.clone()
	}
	res.Prefs, res.Webhook = r.Prefs, r.Webhook
	if r.CalendarKey != "" {
		cur := keyedIn[*CalendarTable](a.txn, keyedCalendars, r.CalendarKey)
		if cur == nil {
			return Result{}, errorf(CodeInternal, "a request record names the calendar %s, which is not in the state", r.CalendarKey)
		}
		c := *cur
		res.Calendar = &c
	}
	if r.TargetsYear != 0 {
		t, err := targetsOf(a.txn, r.TargetsYear)
		if err != nil || t == nil {
			return Result{}, errorf(CodeInternal, "a request record names the targets of %d, which cannot be read (%v)", r.TargetsYear, err)
		}
		res.Targets = t
	}
	if r.InvitationID != "" {
		// As it is now: used, superseded or still open.
		if res.Invitation, err = invitationByID(a.txn, r.InvitationID); err != nil {
			return Result{}, err
		}
	}
	return res, nil
}

// leadAt returns lead id as it was at version. The state holds the lead
// as it is now and its history: every field but the content node staff
// edit (the draft) follows from the events up to that version. The draft
// is the current one, so a lead edited since shows the edit.
func leadAt(txn *tx, id string, version int64) (*Lead, *Error) {
	cur, err := getLead(txn, id)
	if err != nil {
		return nil, err
	}
	if cur.Version == version {
		return cur, nil
	}
	if version < 1 || version > cur.Version {
		return nil, errorf(CodeInternal, "a request record names version %d of lead %s, which is at version %d", version, id, cur.Version)
	}
	it, gerr := rowsOf(txn, tableEvents, id+"/")
	if gerr != nil {
		return nil, errorf(CodeInternal, "read history of %s: %v", id, gerr)
	}
	l := cur.clone()
	l.Division, l.Published, l.StageComment = "", false, ""
	l.ClaimMode, l.CloseReason, l.StageVisibility = ClaimModeUnspecified, CloseReasonUnspecified, VisibilityUnspecified
	l.MergedInto, l.MergedFrom = "", nil
	for raw := it.Next(); raw != nil; raw = it.Next() {
		e := raw.(*Event)
		if e.Version > version {
			break
		}
		// A new lead has no stage comment; an edit in SUBMITTED, and
		// what does not move the lead, keep the one it has.
		if setsStageComment(e.Action) {
			l.StageComment = e.Comment
		}
		switch e.Action {
		case "CLAIM":
			l.Division = e.UserSite
		case "RELEASE":
			l.Division = ""
		case Approve.String():
			l.Published = true
		}
		replayWorkflow(l, e)
		if e.From != e.To {
			l.StageTime = e.Time
		}
		l.Stage, l.Updated, l.Version = e.To, e.Time, e.Version
	}
	if l.Version != version {
		return nil, errorf(CodeInternal, "the history of lead %s has no version %d", id, version)
	}
	return l, nil
}

// userAsAnswered returns user id as a first attempt returned it: as it is
// now, but not revoked if it was not then (a revocation is the only
// change a user sees, and it is for good).
func (a *applier) userAsAnswered(id string, revoked bool) (*User, *Error) {
	u, err := a.user(id)
	if err != nil {
		return nil, errorf(CodeInternal, "a request record names user %s: %s", id, err.Msg)
	}
	c := *u
	if !revoked {
		c.Revoked, c.RevokedBy = nil, ""
	}
	return &c, nil
}

// tokenAsAnswered is userAsAnswered for tokens.
func (a *applier) tokenAsAnswered(id string, revoked bool) (*Token, *Error) {
	t := tokenIn(a.txn, id)
	if t == nil {
		return nil, errorf(CodeInternal, "a request record names token %s, which does not exist", id)
	}
	c := *t
	if !revoked {
		c.Revoked, c.RevokedBy = nil, ""
	}
	return &c, nil
}

// checkRequestAge refuses, from format 2, a new request whose UUIDv7 ID
// was created before the prune horizon (its first attempt may have been
// applied and forgotten) or too far after the command's time.
func (a *applier) checkRequestAge() *Error {
	if a.format < Format2 {
		return nil
	}
	id := a.cmd.RequestID
	created, ok := requestIDTime(id)
	if !ok {
		return nil
	}
	if created.After(a.now.Add(MaxRequestIDAhead)) {
		return invalid("request_id", "%s says it was created at %s, more than %s after the leader's clock (%s): check the client's clock",
			id, created.Format(time.RFC3339), MaxRequestIDAhead, a.now.Format(time.RFC3339))
	}
	horizon, retention, err := a.horizon()
	if err != nil {
		return err
	}
	if created.Before(horizon) {
		return errorf(CodePrecondition, "request ID %s was created at %s, before the %s retention window; the first attempt's outcome is no longer known: check whether it took effect and use a new request ID",
			id, created.Format(time.RFC3339), windowName(retention))
	}
	return nil
}

// windowName names a retention window: "7-day", or "90m0s".
func windowName(d time.Duration) string {
	const day = 24 * time.Hour
	if d >= day && d%day == 0 {
		return strconv.FormatInt(int64(d/day), 10) + "-day"
	}
	return d.String()
}

// horizon returns the prune horizon and the window it was computed with;
// the zero time when nothing was pruned yet.
func (a *applier) horizon() (time.Time, time.Duration, *Error) {
	h, err := a.counter(horizonCounter)
	if err != nil {
		return time.Time{}, 0, err
	}
	if h == 0 {
		return time.Time{}, 0, nil
	}
	r, err := a.counter(retentionCounter)
	if err != nil {
		return time.Time{}, 0, err
	}
	return time.Unix(0, h).UTC(), time.Duration(r), nil
}

// counter reads a counter; zero when it was never set.
func (a *applier) counter(name string) (int64, *Error) {
	c := counterIn(a.txn, name)
	if c == nil {
		return 0, nil
	}
	return c.Value, nil
}

// pruneRequests forgets the requests whose time is before the command's
// time minus its retention, oldest first and at most prunePerCommand,
// and moves the horizon there. The horizon only moves forward: a longer
// window than the last cannot bring back what was forgotten. A prune
// that forgets nothing and moves nothing changes nothing and is answered
// as a replay, so a second leader's proposal is harmless.
func (a *applier) pruneRequests() (Result, *Error) {
	horizon := a.now.Add(-a.cmd.Retention)
	cur, _, err := a.horizon()
	if err != nil {
		return Result{}, err
	}
	side := sideIn(a.txn)
	var due []*request
	more := false
	it := side.requests.Iter()
	for ok := it.First(); ok; ok = it.Next() {
		r := it.Item().req
		if r.Time >= horizon.UnixNano() {
			break
		}
		if len(due) == prunePerCommand {
			more = true
			break
		}
		due = append(due, r)
	}
	for _, r := range due {
		if err := deleteRequest(a.txn, r); err != nil {
			return Result{}, errorf(CodeInternal, "forget request: %v", err)
		}
	}
	moved := horizon.After(cur)
	if moved {
		if err := a.insert(tableCounters, &counter{Name: horizonCounter, Value: horizon.UnixNano()}); err != nil {
			return Result{}, err
		}
		if err := a.insert(tableCounters, &counter{Name: retentionCounter, Value: int64(a.cmd.Retention)}); err != nil {
			return Result{}, err
		}
	}
	if len(due) == 0 && !moved {
		return Result{Replayed: true}, nil
	}
	return Result{Pruned: len(due), PruneAgain: more}, nil
}

// compactRequests turns the records of format 1 into records of format 2
// as the cluster moves to format 2. Their retention starts now: they are
// at least that old, but how much older the state does not know.
func (a *applier) compactRequests() *Error {
	it, err := rowsOf(a.txn, tableRequests, "")
	if err != nil {
		return errorf(CodeInternal, "read requests: %v", err)
	}
	var all []*request
	for raw := it.Next(); raw != nil; raw = it.Next() {
		all = append(all, raw.(*request))
	}
	for _, r := range all {
		_, rid, _ := strings.Cut(r.Key, "/")
		c := &request{Key: r.Key, Fingerprint: r.Fingerprint, Time: recordTime(a.now, rid)}
		old := r.extra()
		c.keep(Result{Lead: old.Lead, User: old.User, Token: old.Token})
		if err := a.insert(tableRequests, c); err != nil {
			return err
		}
	}
	return nil
}

// requestIDTime returns the creation time a UUIDv7 request ID carries
// (RFC 9562: the first 48 bits are Unix milliseconds), in the canonical
// 8-4-4-4-12 hex form, either case.
func requestIDTime(id string) (time.Time, bool) {
	if len(id) != 36 || id[8] != '-' || id[13] != '-' || id[18] != '-' || id[23] != '-' {
		return time.Time{}, false
	}
	for i := 0; i < len(id); i++ {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			continue
		}
		if !isHex(id[i]) {
			return time.Time{}, false
		}
	}
	if id[14] != '7' || strings.IndexByte("89abAB", id[19]) < 0 {
		return time.Time{}, false
	}
	ms, err := strconv.ParseInt(id[0:8]+id[9:13], 16, 64)
	if err != nil {
		return time.Time{}, false
	}
	return time.UnixMilli(ms).UTC(), true
}

func isHex(b byte) bool {
	return '0' <= b && b <= '9' || 'a' <= b && b <= 'f' || 'A' <= b && b <= 'F'
}

// OldestRequest returns the time of the oldest request record of format 2
// (see requests.go), for the leader to tell whether a prune is due.
func (s *State) OldestRequest() (time.Time, bool) {
	side := sideIn(s.read())
	oldest, ok := side.requests.Min()
	if !ok {
		return time.Time{}, false
	}
	return time.Unix(0, oldest.time).UTC(), true
}

// PruneHorizon returns the time before which requests were forgotten and
// the retention window it was computed with; the zero time if none were.
func (s *State) PruneHorizon() (time.Time, time.Duration) {
	a := applier{txn: s.read()}
	h, r, err := a.horizon()
	if err != nil {
		return time.Time{}, 0
	}
	return h, r
}
