package pipeline

import (
	"fmt"
	"time"
)

// Result is what a successful command returns.
type Result struct {
	Lead  *Lead
	User  *User
	Token *Token // the token created or revoked
	Org   *Organization
	Site  *Site
	// Term is the glossary term a glossary command stored or deleted (as
	// it stands after it); nil on a replay.
	Term *GlossaryTerm
	// Replayed is set when the command repeated an already applied request
	// ID; the result is the first attempt's and nothing changed.
	Replayed bool
	// Index is the log index of the entry that gave this result.
	Index uint64
	// Pruned is how many requests OpPruneRequests forgot, and PruneAgain
	// whether more are due than one command forgets.
	Pruned     int
	PruneAgain bool
	// The workflow's (workflow.go): the interest an expression or a
	// withdrawal of interest left, the comment posted, the setting made.
	Interest *Interest
	Comment  *Comment
	Setting  *Setting
	// Attachment is the attachment added or removed.
	Attachment *Attachment
	// Invitation is the invitation made or used (accounts.go).
	Invitation *Invitation
	// Profile is the division profile stored (profiles.go), as it stands
	// now on a replay.
	Profile *DivisionProfile
	// Targets are the year's targets stored (targets.go), as they stand
	// now on a replay.
	Targets *Targets
	// Calendar is the calendar table stored (sla.go).
	Calendar *CalendarTable
	// Prefs are the caller's notification preferences, and Webhook the
	// webhook created or deleted (notifications.go).
	Prefs   *NotificationPrefs
	Webhook *Webhook
}

// Apply applies one encoded command carried by the log entry at index and
// returns a [Result] or an [*Error]. It never panics: an entry that cannot
// be decoded, or a command that breaks a rule, is answered with an error
// and leaves the state as it was.
func (s *State) Apply(index uint64, data []byte) any {
	txn := s.write()
	res, ok := s.applyIn(txn, index, data)
	if ok {
		s.publish(txn, index)
	} else {
		txn.Abort()
		s.publish(nil, index)
	}
	return res
}

// Entry is one log entry for [State.ApplyBatch].
type Entry struct {
	Index uint64
	Data  []byte
}

// ApplyBatch applies entries in order and returns their results, the
// same as [State.Apply] would one entry at a time: each entry sees the
// changes of those before it, and one that fails changes nothing. The
// entries share one write transaction, so a run of commands copies the
// index trees' upper nodes once rather than once per command; a reader
// sees the state before the run or after it. When an entry fails, the
// transaction is dropped and the entries since the last commit are
// applied again one by one (the same commands on the same state give the
// same results), the failing one last.
//
// An entry that cannot be decoded ([IsUnreadable]) ends the batch: the
// results returned are those of the entries up to it, and no later entry
// was applied.
func (s *State) ApplyBatch(entries []Entry) []any {
	out := make([]any, 0, len(entries))
	txn := s.write()
	from := 0 // the first entry the open transaction holds
	for i, e := range entries {
		res, ok := s.applyIn(txn, e.Index, e.Data)
		if ok {
			out = append(out, res)
			continue
		}
		txn.Abort()
		out = out[:from]
		for _, r := range entries[from : i+1] {
			res := s.Apply(r.Index, r.Data)
			out = append(out, res)
			if IsUnreadable(res) {
				return out
			}
		}
		from = i + 1
		txn = s.write()
	}
	if from < len(entries) {
		s.publish(txn, entries[len(entries)-1].Index)
	} else {
		txn.Abort()
	}
	return out
}

// publish commits txn (when not nil) and moves the applied index to
// index, together as a [View] sees them.
func (s *State) publish(txn *tx, index uint64) {
	s.seq.Add(1) // odd while the state and its applied index move (see View)
	if txn != nil {
		txn.Commit()
		s.committed(txn)
	}
	if index > s.applied.Load() {
		s.applied.Store(index)
	}
	s.seq.Add(1)
}

// applyIn applies one encoded command inside txn. ok reports success:
// when it is false, res is the [*Error] and txn may hold part of the
// command's writes, so the caller must abort it.
func (s *State) applyIn(txn *tx, index uint64, data []byte) (res any, ok bool) {
	defer func() {
		if r := recover(); r != nil {
			res, ok = errorf(CodeInternal, "command at log index %d failed: %v", index, r), false
		}
	}()
	cmd, derr := DecodeCommand(data)
	if derr != nil {
		return derr, false
	}
	a := applier{txn: txn, cmd: cmd, index: index, now: time.Unix(0, cmd.Time).UTC()}
	out, err := a.run()
	if err == nil && s.failAfter != nil {
		err = s.failAfter(txn, index)
	}
	if err != nil {
		return err, false
	}
	out.Index = index
	return out.detached(), true
}

// detached returns r with copies of the lead and user, so a caller that
// changes them cannot change the state.
func (r Result) detached() Result {
	if r.Lead != nil {
		r.Lead = r.Lead.clone()
	}
	if r.User != nil {
		u := *r.User
		r.User = &u
	}
	if r.Token != nil {
		t := *r.Token
		r.Token = &t
	}
	if r.Interest != nil {
		r.Interest = r.Interest.clone()
	}
	if r.Comment != nil {
		c := *r.Comment
		r.Comment = &c
	}
	if r.Setting != nil {
		s := *r.Setting
		r.Setting = &s
	}
	if r.Org != nil {
		r.Org = r.Org.clone()
	}
	if r.Site != nil {
		s := *r.Site
		r.Site = &s
	}
	if r.Attachment != nil {
		r.Attachment = r.Attachment.clone()
	}
	if r.Term != nil {
		r.Term = r.Term.clone()
	}
	if r.Invitation != nil {
		i := *r.Invitation
		r.Invitation = &i
	}
	return r
}

// applier applies one command inside one write transaction.
type applier struct {
	txn   *tx
	cmd   Command
	index uint64
	// now is the command's time as Apply gives it (see clock.go).
	now   time.Time
	actor *User
	// format is the cluster's log format, as of the command.
	format int
	// changes are what the command changed beside the lead, for its
	// event (changes.go); outInterest the interest it left.
	changes     []Change
	outInterest *Interest
}

func (a *applier) run() (Result, *Error) {
	c := a.cmd
	if err := c.validate(); err != nil {
		return Result{}, unreadable(a.index, err)
	}
	have, err := a.clusterFormat()
	if err != nil {
		return Result{}, err
	}
	if need := c.Format(); need > have && c.Op != OpSetFormat {
		return Result{}, formatError(need, have)
	}
	a.format = have
	if have >= Format2 {
		if err := a.followClock(); err != nil {
			return Result{}, err
		}
	}
	res, err := a.dispatch()
	if err != nil {
		return Result{}, err
	}
	if !res.Replayed && a.format >= Format2 {
		if err := a.advanceClock(); err != nil {
			return Result{}, err
		}
	}
	return res, nil
}

func (a *applier) dispatch() (Result, *Error) {
	c := a.cmd
	switch c.Op {
	case OpSetFormat:
		return a.setFormat()
	case OpPruneRequests:
		return a.pruneRequests()
	case OpBootstrap:
		return a.bootstrap()
	case OpRegisterSites:
		return a.registerSites()
	case OpRecordDeliveries:
		return a.recordDeliveries()
	}
	actor, err := a.user(c.Actor)
	if err != nil {
		return Result{}, err
	}
	if actor.Revoked != nil {
		return Result{}, errorf(CodeUnauthenticated, "user %s has been revoked", actor.ID)
	}
	a.actor = actor
	if err := a.checkActorToken(); err != nil {
		return Result{}, err
	}
	key := actor.ID + "/" + c.RequestID
	fp := c.fingerprint()
	if prev, err := a.request(key); err != nil {
		return Result{}, err
	} else if prev != nil {
		if prev.Fingerprint != fp {
			return Result{}, invalid("request_id", "%q was already used for a different request", c.RequestID)
		}
		return a.replay(prev)
	}
	if err := a.checkRequestAge(); err != nil {
		return Result{}, err
	}
	var res Result
	switch c.Op {
	case OpSubmit:
		res, err = a.submit()
	case OpAddUser:
		res, err = a.addUser()
	case OpRevoke:
		res, err = a.revokeUser()
	case OpCreateToken:
		res, err = a.createToken()
	case OpRevokeToken:
		res, err = a.revokeToken()
	case OpComment:
		res, err = a.postComment()
	case OpSetDefaultClaimMode:
		res, err = a.setDefaultClaimMode()
	case OpAddSite:
		res, err = a.addSite()
	case OpCreateOrg:
		res, err = a.createOrg()
	case OpUpdateOrg:
		res, err = a.updateOrg()
	case OpSetDeal:
		res, err = a.setDeal()
	case OpAddAttachment:
		res, err = a.addAttachment()
	case OpRemoveAttachment:
		res, err = a.removeAttachment()
	case OpTranslate:
		res, err = a.translate()
	case OpSetGlossaryTerm:
		res, err = a.setGlossaryTerm()
	case OpDeleteGlossaryTerm:
		res, err = a.deleteGlossaryTerm()
	case OpInviteUser:
		res, err = a.inviteUser()
	case OpAcceptInvitation:
		res, err = a.acceptInvitation()
	case OpSignIn:
		res, err = a.signIn()
	case OpExtendSession:
		res, err = a.extendSession()
	case OpSetDivisionProfile:
		res, err = a.setDivisionProfile()
	case OpSetTargets:
		res, err = a.setTargets()
	case OpSetSLA:
		res, err = a.setSLA()
	case OpSetCalendarYear:
		res, err = a.setCalendarYear()
	case OpSetNotificationPrefs:
		res, err = a.setNotificationPrefs()
	case OpMarkNotificationsRead:
		res, err = a.markRead()
	case OpCreateWebhook:
		res, err = a.createWebhook()
	case OpDeleteWebhook:
		res, err = a.deleteWebhook()
	default:
		res, err = a.transition()
	}
	if err != nil {
		return Result{}, err
	}
	if err := a.remember(key, fp, res); err != nil {
		return Result{}, err
	}
	return res, nil
}

func (a *applier) user(id string) (*User, *Error) {
	u := userIn(a.txn, id)
	if u == nil {
		return nil, errorf(CodeUnauthenticated, "user %q does not exist", truncate(id, 40))
	}
	return u, nil
}

func (a *applier) request(key string) (*request, *Error) {
	raw, err := rowByKey(a.txn, tableRequests, key)
	if err != nil {
		return nil, errorf(CodeInternal, "read request: %v", err)
	}
	if raw == nil {
		return nil, nil
	}
	return raw.(*request), nil
}

func (a *applier) insert(table string, obj any) *Error {
	if err := insertRow(a.txn, table, obj); err != nil {
		return errorf(CodeInternal, "write %s: %v", table, err)
	}
	return nil
}

// next returns the next number of the named sequence.
func (a *applier) next(name string) (int64, *Error) {
	c := counterIn(a.txn, name)
	n := int64(1)
	if c != nil {
		n = c.Value + 1
	}
	return n, a.insert(tableCounters, &counter{Name: name, Value: n})
}

func (a *applier) submit() (Result, *Error) {
	if a.actor.Role != NodeStaff {
		return Result{}, errorf(CodePermission, "only NODE_STAFF may submit leads; caller is %s", a.actor.Role)
	}
	site, subnode, err := a.submitter()
	if err != nil {
		return Result{}, err
	}
	if id := a.cmd.Draft.OrganizationID; id != "" {
		if err := a.linkedOrg(id); err != nil {
			return Result{}, err
		}
	}
	n, err := a.next("lead/" + site)
	if err != nil {
		return Result{}, err
	}
	l := &Lead{
		ID: fmt.Sprintf("%s-%04d", site, n), Site: site, Draft: a.cmd.Draft.clone(),
		SubmittedBy: a.actor.ID, Stage: Submitted, Version: 1,
		Created: a.now, Updated: a.now, StageTime: a.now, Subnode: subnode,
	}
	if err := a.save(l, "SUBMIT", StageUnspecified); err != nil {
		return Result{}, err
	}
	return Result{Lead: l}, nil
}

// save stores l and appends its history event.
func (a *applier) save(l *Lead, action string, from Stage) *Error {
	e := &Event{
		Key: fmt.Sprintf("%s/%010d", l.ID, l.Version), LeadID: l.ID, Seq: l.Version, Action: action,
		UserID: a.actor.ID, UserName: a.actor.Name, Role: a.actor.Role, UserSite: a.actor.Home(),
		OriginSite: a.cmd.Origin, From: from, To: l.Stage, Comment: a.cmd.Comment,
		Time: a.now, Version: l.Version, LogIndex: a.index, RequestID: a.cmd.RequestID,
		Changes: a.changes,
	}
	if a.format >= Format2 {
		// Before l replaces the stored lead, which annotate compares it with.
		if err := a.annotate(e, l); err != nil {
			return err
		}
	}
	if err := a.insert(tableLeads, l); err != nil {
		return err
	}
	return a.insert(tableEvents, e)
}

// transition applies a command that changes an existing lead.
func (a *applier) transition() (Result, *Error) {
	cur, err := getLead(a.txn, a.cmd.LeadID)
	if err != nil {
		return Result{}, err
	}
	r, ok := rules[a.cmd.Op]
	if !ok {
		return Result{}, errorf(CodeInvalid, "unknown command %q", a.cmd.Op)
	}
	if err := r.allowed(a.actor, cur); err != nil {
		return Result{}, err
	}
	if v := a.cmd.ExpectedVersion; v != 0 && v != cur.Version {
		return Result{}, errorf(CodeConflict, "lead %s is at version %d, not the expected %d; read it again", cur.ID, cur.Version, v)
	}
	next := cur.clone()
	action, err := r.apply(a, next)
	if err != nil {
		return Result{}, err
	}
	next.Version = cur.Version + 1
	next.Updated = a.now
	if next.Stage != cur.Stage {
		next.StageTime = a.now
	}
	if err := a.save(next, action, cur.Stage); err != nil {
		return Result{}, err
	}
	return Result{Lead: next, Interest: a.outInterest}, nil
}

func (a *applier) addUser() (Result, *Error) {
	if a.actor.Role != Admin {
		return Result{}, errorf(CodePermission, "only ADMIN may add users; caller is %s", a.actor.Role)
	}
	if nu := a.cmd.NewUser; nu.Role == NodeStaff {
		if err := a.checkStaffSite(nu.Site); err != nil {
			return Result{}, err
		}
	}
	return a.createUser()
}

// revokeUser revokes a user and every token it holds. Revoking a revoked
// user changes nothing and succeeds, so retries are harmless.
func (a *applier) revokeUser() (Result, *Error) {
	if a.actor.Role != Admin {
		return Result{}, errorf(CodePermission, "only ADMIN may revoke users; caller is %s", a.actor.Role)
	}
	if a.cmd.UserID == a.actor.ID {
		return Result{}, errorf(CodePrecondition, "an admin cannot revoke its own token; ask another admin")
	}
	raw := userIn(a.txn, a.cmd.UserID)
	if raw == nil {
		return Result{}, errorf(CodeNotFound, "user %s not found", a.cmd.UserID)
	}
	u := *raw
	if u.Revoked == nil {
		now := a.now
		u.Revoked, u.RevokedBy = &now, a.actor.ID
		if err := a.insert(tableUsers, &u); err != nil {
			return Result{}, err
		}
		if err := a.revokeTokensOf(u.ID); err != nil {
			return Result{}, err
		}
	}
	return Result{User: &u}, nil
}

func (a *applier) createUser() (Result, *Error) {
	nu := a.cmd.NewUser
	n, err := a.next("user")
	if err != nil {
		return Result{}, err
	}
	u := &User{
		ID: fmt.Sprintf("user-%04d", n), Name: nu.Name, Role: nu.Role, Site: nu.Site,
		Division: nu.Division, Created: a.now,
	}
	if a.actor != nil {
		u.CreatedBy = a.actor.ID
	}
	if err := a.insert(tableUsers, u); err != nil {
		return Result{}, err
	}
	t, err := a.issueToken(u.ID, NewToken{Hash: nu.TokenHash, TTL: nu.TokenTTL})
	if err != nil {
		return Result{}, err
	}
	return Result{User: u, Token: t}, nil
}

// bootstrap creates the first admin. It is idempotent: a site restarted
// with the same admin token proposes it again and gets the same admin.
func (a *applier) bootstrap() (Result, *Error) {
	if a.cmd.NewUser.Role != Admin {
		return Result{}, invalid("role", "the bootstrap user must be ADMIN")
	}
	if t := tokenByHash(a.txn, a.cmd.NewUser.TokenHash); t != nil {
		u, err := a.user(t.UserID)
		if err != nil {
			return Result{}, err
		}
		return Result{User: u, Token: t, Replayed: true}, nil
	}
	if anyKeyed(a.txn, keyedUsers) {
		return Result{}, errorf(CodePrecondition, "the cluster already has users; the first admin is created only once")
	}
	return a.createUser()
}
