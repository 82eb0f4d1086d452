package node

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"innonet/node/notify"
	"innonet/node/pipeline"
	innonetpb "innonet/proto/innonet/v1"
)

// This file wires notifications (package node/notify) to a site.
//
//   - The inbox is derived data, like the search index: every site follows
//     the history events it applies and keeps, per user, the last
//     maxInbox notifications that concern them (notify.Recipients), in
//     memory, rebuilt from the history at start. A user's read cursor is
//     replicated (OpMarkNotificationsRead).
//   - E-mail is sent by the leader only (dispatch): for each user with
//     e-mail on, what their inbox holds after their sink's replicated
//     cursor, one message per notification or a daily digest, each with
//     the notification's idempotency key as its Message-ID; then the
//     leader records the new cursor and the deliveries
//     (OpRecordDeliveries). A new leader resumes after the recorded
//     cursor: a notification may be sent twice (the old leader sent it
//     but could not record it), never with another key, and none is lost.

// consoleURL is where the links of notifications point: the configured
// address, else this site's own.
func (nt *notifier) consoleURL() string {
	if u := nt.n.cfg.ConsoleURL; u != "" {
		return u
	}
	if nt.n.cfg.TLS == nil {
		return "http://" + nt.n.Addr()
	}
	return "https://" + nt.n.Addr()
}

// maxInbox bounds each user's inbox.
const maxInbox = 300

// dispatchEvery is how often the leader looks for deliveries due, besides
// each applied entry.
const dispatchEvery = 2 * time.Second

type notifier struct {
	n   *Node
	log *slog.Logger

	mu      sync.Mutex
	inbox   map[string][]notify.Notification // user ID → oldest first
	slaSeen map[string]bool                  // lead/stage entry/state of the deadlines notified
	// slaHooks are the deadline warnings the leader has still to send to
	// webhooks (the dispatcher's alone, after checkSLA hands them over).
	slaHooks []slaHook
	cursor   uint64 // events through this index are in the inboxes
	changed  chan struct{}

	// chunk is how many events catchUp reads at most (catchUpChunk),
	// max how many notifications an inbox keeps (maxInbox).
	chunk, max int

	kick   chan struct{}
	rounds atomic.Uint64 // dispatch rounds done (for tests)
	// retry is when each sink may be tried again after a failure.
	retry    map[string]time.Time
	attempts map[string]int
}

func newNotifier(n *Node) *notifier {
	return &notifier{n: n, log: n.log.With("component", "notify"), chunk: catchUpChunk, max: maxInbox,
		inbox: map[string][]notify.Notification{}, slaSeen: map[string]bool{},
		changed: make(chan struct{}), kick: make(chan struct{}, 1), retry: map[string]time.Time{}, attempts: map[string]int{}}
}

// recipients are the users who may be notified, with their preferences.
func (nt *notifier) recipients() ([]notify.Recipient, error) {
	users, err := nt.n.state.Users()
	if err != nil {
		return nil, err
	}
	prefs, err := nt.n.state.AllNotificationPrefs()
	if err != nil {
		return nil, err
	}
	out := make([]notify.Recipient, 0, len(users))
	for _, u := range users {
		if u.Revoked != nil {
			continue
		}
		r := notify.Recipient{UserID: u.ID, Name: u.Name, Role: u.Role.String(), Site: u.Site, Division: u.Division}
		if p := prefs[u.ID]; p != nil {
			r.Prefs = notifyPrefs(p)
		}
		out = append(out, r)
	}
	return out, nil
}

// notifyPrefs converts the replicated preferences.
func notifyPrefs(p *pipeline.NotificationPrefs) notify.Prefs {
	out := notify.Prefs{Email: p.Email, Channels: notify.Channels{Email: p.EmailOn}, Digest: p.Digest,
		DigestHour: p.DigestHour, TimeZone: p.TimeZone, Lang: p.Lang}
	if p.Kinds != nil || p.KindsSet {
		out.Kinds = map[notify.Kind]bool{}
		for _, k := range notify.Kinds() {
			out.Kinds[k] = slices.Contains(p.Kinds, string(k))
		}
	}
	return out
}

// event is a history event as the rules read it: its comment only when
// everyone who may see the lead may read it.
func (nt *notifier) event(e *pipeline.Event, l *pipeline.Lead) notify.Event {
	out := notify.Event{Index: e.LogIndex, Time: e.Time, LeadID: l.ID, LeadTitle: l.Title, Site: l.Site, Subnode: l.Subnode,
		Division: l.Division, Action: e.Action, From: e.From.String(), To: e.To.String(), ActorID: e.UserID,
		ActorName: e.UserName, ActorRole: e.Role.String(), ActorHome: e.UserSite, SubmittedBy: l.SubmittedBy}
	for _, c := range e.Changes {
		if c.Field == "division" {
			// Released: the division that held it.
			out.Division = c.New
			if c.New == "" {
				out.Division = c.Old
			}
		}
	}
	switch e.Action {
	case "EXPRESS_INTEREST", "WITHDRAW_INTEREST":
		out.Division = e.UserSite
	case "MERGE":
		out.Related = l.MergedInto
	case "MERGE_IN":
		// The lead merged in: the last of mergedFrom as the event left it.
		for _, c := range e.Changes {
			if c.Field == "mergedFrom" {
				parts := strings.Split(c.New, ", ")
				out.Related = parts[len(parts)-1]
			}
		}
	case "APPROVE", "RELEASE", "REOPEN":
		if e.To != pipeline.Approved {
			break
		}
		// The divisions it fits best: the first, and any close to it.
		if scores, err := nt.n.matches.scores(l); err == nil && len(scores) > 0 && scores[0].Score > 0 {
			for _, s := range scores {
				if s.Score >= 0.8*scores[0].Score {
					out.MatchDivisions = append(out.MatchDivisions, s.Division)
				}
			}
		}
	}
	if vis, _ := e.Audience(); vis == pipeline.Shared || vis == pipeline.VisibilityUnspecified {
		out.Comment = e.Comment
	}
	return out
}

// forUser is x with the event's comment if its user may read it (a
// returned lead's question is HQ's and the node's).
func forUser(x notify.Notification, u *pipeline.User, e *pipeline.Event, l *pipeline.Lead) notify.Notification {
	vis, div := e.Audience()
	if u != nil && u.CanRead(l, vis, div) {
		x.Event.Comment = e.Comment
	} else {
		x.Event.Comment = ""
	}
	return x
}

// follow keeps the inboxes up to date until ctx ends.
func (nt *notifier) follow(ctx context.Context) {
	for {
		wake := nt.n.applied.wait()
		for ctx.Err() == nil {
			done, err := nt.catchUp()
			if err != nil {
				nt.log.Error("inbox: read the events", "err", err)
			}
			if done || err != nil {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-wake:
		}
		select {
		case nt.kick <- struct{}{}:
		default:
		}
	}
}

// catchUpChunk is the most events catchUp adds in one call (it goes on
// to the end of their log entry): a site that restored a large state
// reads its whole history, a chunk at a time, and may stop between two.
const catchUpChunk = 4096

// catchUp adds the events applied since the last call to the inboxes, up
// to about catchUpChunk of them; done says it reached the end.
func (nt *notifier) catchUp() (done bool, err error) {
	users, err := nt.recipients()
	if err != nil {
		return false, err
	}
	all, err := nt.n.state.Users()
	if err != nil {
		return false, err
	}
	byID := make(map[string]*pipeline.User, len(all))
	for i := range all {
		byID[all[i].ID] = &all[i]
	}
	view := nt.n.state.View()
	nt.mu.Lock()
	cursor := nt.cursor
	nt.mu.Unlock()
	var (
		added []notify.Notification
		serr  error
		read  int
		last  uint64 // the log index of the last event read
		more  bool
	)
	err = view.EventsAfter(cursor, func(e *pipeline.Event) bool {
		if read >= nt.chunk && e.LogIndex != last {
			more = true
			return false
		}
		read, last = read+1, e.LogIndex
		l, lerr := view.Lead(e.LeadID)
		if lerr != nil {
			serr = lerr
			return false
		}
		for _, x := range notify.Recipients(nt.event(e, l), users) {
			added = append(added, forUser(x, byID[x.UserID], e, l))
		}
		return true
	})
	if err == nil {
		err = serr
	}
	if err != nil {
		return false, err
	}
	upto := view.Applied()
	if more {
		upto = last
	}
	nt.mu.Lock()
	nt.addLocked(added)
	if upto > nt.cursor {
		nt.cursor = upto
		close(nt.changed)
		nt.changed = make(chan struct{})
	}
	nt.mu.Unlock()
	return !more, nil
}

// addLocked appends notifications to their users' inboxes, each inbox
// trimmed to its newest nt.max once: trimming at every notification
// copied a full inbox each time, which made reading a long history
// quadratic. nt.mu must be held.
func (nt *notifier) addLocked(added []notify.Notification) {
	grown := map[string]bool{}
	for _, x := range added {
		nt.inbox[x.UserID] = append(nt.inbox[x.UserID], x)
		grown[x.UserID] = true
	}
	for id := range grown {
		if box := nt.inbox[id]; len(box) > nt.max {
			nt.inbox[id] = slices.Clone(box[len(box)-nt.max:])
		}
	}
}

// slaEvery is how often the deadlines are looked at for the inbox.
const slaEvery = time.Minute

// watchSLA puts a notification in the inbox of whoever must act when a
// lead's deadline comes near or passes, once per state of each stage the
// lead entered, until ctx ends. The notification takes the applied index
// of when it was seen (the inbox stays in index order, unread until read,
// and e-mail sends it like the others); webhooks follow the history only.
func (nt *notifier) watchSLA(ctx context.Context) {
	t := time.NewTicker(slaEvery)
	defer t.Stop()
	for {
		nt.checkSLA(time.Now())
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (nt *notifier) checkSLA(now time.Time) {
	users, err := nt.recipients()
	if err != nil {
		return
	}
	view := nt.n.slas.view()
	// One read of the state, whose leads and events are read in place,
	// not copied: at a million leads a copy of every lead in an SLA
	// stage, every tick, would cost gigabytes of garbage.
	state := nt.n.state.View()
	index := state.Applied()
	var (
		added      []notify.Notification
		seen       []string
		hookEvents []notify.Event
		h          []*pipeline.Event
	)
	_ = state.EachLead(func(l *pipeline.Lead) bool {
		if !slices.Contains(pipeline.SLAStages, l.Stage) {
			return true
		}
		st := view.status(l, now)
		if st == nil || st.State == innonetpb.SlaStatus_ON_TIME {
			return true
		}
		var err error
		if h, err = state.History(l.ID, h); err != nil || len(h) == 0 {
			return true
		}
		slaState := notify.SLANear
		if st.State == innonetpb.SlaStatus_OVER {
			slaState = notify.SLAOver
		}
		key := fmt.Sprintf("%s/%d/%s", l.ID, h[len(h)-1].LogIndex, slaState)
		nt.mu.Lock()
		done := nt.slaSeen[key]
		nt.mu.Unlock()
		if done {
			return true
		}
		seen = append(seen, key)
		ev := notify.Event{Index: index, Time: now, LeadID: l.ID, LeadTitle: l.Title, Site: l.Site,
			Subnode: l.Subnode, Division: l.Division, Action: notify.ActionSLA, From: l.Stage.String(), To: l.Stage.String(),
			SubmittedBy: l.SubmittedBy, SLA: &notify.SLAWarning{MustAct: st.MustAct, Due: st.DueTime.AsTime(), State: slaState}}
		added = append(added, notify.Recipients(ev, users)...)
		// The webhooks' key names the stage entry, not this index, so
		// that another leader's warning of it has the same key.
		hev := ev
		hev.Index = h[len(h)-1].LogIndex
		hookEvents = append(hookEvents, hev)
		return true
	})
	nt.mu.Lock()
	defer nt.mu.Unlock()
	for _, k := range seen {
		nt.slaSeen[k] = true
	}
	if nt.n.cluster.IsLeader() {
		for _, ev := range hookEvents {
			nt.slaHooks = append(nt.slaHooks, slaHook{ev: ev})
		}
	}
	nt.addLocked(added)
}

// waitFor waits until the inboxes reflect the entry at index.
func (nt *notifier) waitFor(ctx context.Context, index uint64) error {
	for {
		nt.mu.Lock()
		cursor, ch := nt.cursor, nt.changed
		nt.mu.Unlock()
		if cursor >= index {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ch:
		}
	}
}

// box returns a copy of the user's inbox, oldest first.
func (nt *notifier) box(user string) []notify.Notification {
	nt.mu.Lock()
	defer nt.mu.Unlock()
	return slices.Clone(nt.inbox[user])
}

// dispatch sends what is due while this site leads, until ctx ends.
func (nt *notifier) dispatch(ctx context.Context) {
	t := time.NewTicker(dispatchEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-nt.kick:
		}
		if !nt.n.cluster.IsLeader() {
			continue
		}
		nt.sendWebhooks(ctx)
		if nt.n.cfg.Mailer != nil {
			nt.sendMail(ctx)
		}
		nt.rounds.Add(1)
	}
}

// sendMail sends each user's e-mail due and records it.
func (nt *notifier) sendMail(ctx context.Context) {
	users, err := nt.recipients()
	if err != nil {
		return
	}
	now := time.Now()
	var records []pipeline.DeliveryRecord
	for _, u := range users {
		if !u.Prefs.Channels.Email || u.Prefs.Email == "" {
			continue
		}
		sinkID := "email:" + u.UserID
		if next, ok := nt.retry[sinkID]; ok && now.Before(next) {
			continue
		}
		p, err := nt.n.state.NotificationPrefs(u.UserID)
		if err != nil || p == nil {
			continue
		}
		sink, err := nt.n.state.Sink(sinkID)
		if err != nil {
			continue
		}
		var through uint64
		var last time.Time
		if sink != nil {
			through = sink.Through
			if len(sink.Log) > 0 {
				last = sink.Log[len(sink.Log)-1].Time
			}
		}
		// What came after the user turned e-mail on (the preferences'
		// time), and after the last sent.
		var due []notify.Notification
		for _, x := range nt.box(u.UserID) {
			if x.Event.Index > through && !x.Event.Time.Before(p.Updated) {
				due = append(due, x)
			}
		}
		if len(due) == 0 {
			continue
		}
		rec := pipeline.DeliveryRecord{Sink: sinkID}
		loc := readerZone(u.Role, u.Site, u.Prefs.TimeZone)
		if u.Prefs.Digest {
			since := last
			if since.IsZero() {
				since = p.Updated
			}
			if now.Before(notify.NextDigest(u.Prefs, since)) {
				continue
			}
			day := now
			key := notify.DigestKey(u.UserID, day)
			for i := range due {
				due[i] = inZone(due[i], loc)
			}
			msg := notify.RenderDigest(due, u.Lang(), nt.consoleURL(), day.In(loc))
			if !nt.send(ctx, sinkID, u.Prefs.Email, msg, key, due[len(due)-1].Event.Index, "DIGEST", &rec) {
				continue
			}
		} else {
			for _, x := range due {
				msg := notify.Render(inZone(x, loc), u.Lang(), nt.consoleURL())
				if !nt.send(ctx, sinkID, u.Prefs.Email, msg, x.Key(), x.Event.Index, string(x.Kind), &rec) {
					break
				}
			}
		}
		if len(rec.Deliveries) > 0 {
			records = append(records, rec)
		}
	}
	nt.record(ctx, records)
}

// send sends one message of a sink, noting the outcome in rec; on
// success it moves rec's cursor to index.
func (nt *notifier) send(ctx context.Context, sink, to string, msg notify.Message, key string, index uint64, kind string, rec *pipeline.DeliveryRecord) bool {
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	err := nt.n.cfg.Mailer.Send(sctx, to, msg, key)
	cancel()
	nt.attempts[sink]++
	d := pipeline.Delivery{Index: index, Key: key, Kind: kind, Attempts: nt.attempts[sink], Site: nt.n.cfg.Site}
	if err != nil {
		d.Error = clip500(err.Error())
		rec.Deliveries = append(rec.Deliveries, d)
		nt.retry[sink] = time.Now().Add(min(time.Duration(nt.attempts[sink])*10*time.Second, 10*time.Minute))
		nt.log.Warn("e-mail not sent; retrying later", "sink", sink, "key", key, "err", err)
		return false
	}
	d.Done = true
	rec.Deliveries = append(rec.Deliveries, d)
	rec.Through = index
	delete(nt.retry, sink)
	nt.attempts[sink] = 0
	return true
}

// record proposes the deliveries made.
func (nt *notifier) record(ctx context.Context, records []pipeline.DeliveryRecord) {
	for len(records) > 0 {
		batch := records
		if len(batch) > 20 {
			batch = batch[:20]
		}
		records = records[len(batch):]
		// Bound the deliveries one command carries.
		for i := range batch {
			if n := len(batch[i].Deliveries); n > pipeline.MaxDeliveriesPerCmd/20 {
				batch[i].Deliveries = batch[i].Deliveries[n-pipeline.MaxDeliveriesPerCmd/20:]
			}
		}
		pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		_, err := nt.n.propose(pctx, pipeline.Command{Op: pipeline.OpRecordDeliveries, Deliveries: batch})
		cancel()
		if err != nil {
			nt.log.Warn("deliveries not recorded; they may be sent again (same keys)", "err", err)
		}
	}
}

func clip500(s string) string {
	if len(s) > 500 {
		return s[:500]
	}
	return s
}

// siteZones are the time zones of the overseas nodes; HQ, the divisions
// and any other site read China's time.
var siteZones = map[string]string{"BOS": "America/New_York", "CBG": "Europe/London", "MUC": "Europe/Berlin", "TLV": "Asia/Jerusalem"}

// readerZone is the time zone a user reads times in: their choice, else
// their node's, else China's.
func readerZone(role, site, chosen string) *time.Location {
	name := chosen
	if name == "" {
		name = defaultReportZone
		if z, ok := siteZones[pipeline.FirstLevelSite(site)]; ok && role == pipeline.NodeStaff.String() {
			name = z
		}
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return time.UTC
	}
	return loc
}

// inZone is x with its times in loc, which the messages show.
func inZone(x notify.Notification, loc *time.Location) notify.Notification {
	x.Event.Time = x.Event.Time.In(loc)
	if x.Event.SLA != nil {
		w := *x.Event.SLA
		w.Due = w.Due.In(loc)
		x.Event.SLA = &w
	}
	return x
}

// notificationPB is a notification as its user reads it.
func (nt *notifier) notificationPB(x notify.Notification, lang string, readThrough uint64, loc *time.Location) *innonetpb.Notification {
	m := notify.Render(inZone(x, loc), lang, nt.consoleURL())
	return &innonetpb.Notification{Index: x.Event.Index, Kind: string(x.Kind), LeadId: x.Event.LeadID, Subject: m.Subject,
		Text: m.Text, Link: m.Link, Time: ts(x.Event.Time), Read: x.Event.Index <= readThrough}
}

// defaultKinds are the kinds a role hears of unless it chooses.
func defaultKinds(r pipeline.Role) []string {
	var out []string
	for _, k := range notify.DefaultKinds(r.String()) {
		out = append(out, string(k))
	}
	return out
}

// allKinds are every kind's name.
func allKinds() []string {
	var out []string
	for _, k := range notify.Kinds() {
		out = append(out, string(k))
	}
	return out
}

// kickDispatcher has the dispatcher look at once.
func (n *Node) kickDispatcher() {
	select {
	case n.notifier.kick <- struct{}{}:
	default:
	}
}
