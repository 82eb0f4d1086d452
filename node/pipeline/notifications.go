package pipeline

import (
	"fmt"
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Notifications. What concerns whom is derived from the history outside
// Apply (package node/notify); the state keeps what must survive a
// leader change and be the same on every site:
//
//   - each user's preferences (OpSetNotificationPrefs, by the user):
//     which kinds, e-mail and its address, immediate or a daily digest at
//     a local hour, the language;
//   - how far each user has read the inbox (OpMarkNotificationsRead);
//   - the webhooks an admin registered (OpCreateWebhook, OpDeleteWebhook),
//     with their secrets, which every leader signs with;
//   - how far each sink (a webhook, a user's e-mail) has been delivered,
//     with the last deliveries (OpRecordDeliveries, proposed by the leader
//     that sent them): a new leader resumes after the recorded index, so a
//     notification is sent at least once, and more than once only with the
//     same idempotency key (its log index).

const (
	tablePrefs    = "prefs"
	tableWebhooks = "webhooks"
	tableSinks    = "sinks"
)

// Limits of the notification settings.
const (
	MaxNotificationKinds = 30
	MaxWebhooks          = 50
	MaxWebhookURL        = 500
	MaxDeliveryLog       = 100
	MaxDeliveriesPerCmd  = 200
)

var (
	kindPattern     = regexp.MustCompile(`^[A-Z][A-Z_]{1,39}$`)
	timeZonePattern = regexp.MustCompile(`^[A-Za-z]+(/[A-Za-z0-9_+-]+){0,2}$|^UTC$`)
	webhookFormats  = []string{"generic", "wecom", "dingtalk", "slack", "teams"}
	webhookIDPat    = regexp.MustCompile(`^wh-[0-9]{4,9}$`)
)

// NotificationPrefs are a user's choices.
type NotificationPrefs struct {
	UserID string `json:"userId"`
	// Kinds are the kinds the user wants: with KindsSet exactly these
	// (none: nothing), else the defaults of the role when empty.
	Kinds    []string `json:"kinds,omitempty"`
	KindsSet bool     `json:"kindsSet,omitempty"`
	// Email, when EmailOn, gets what the inbox gets.
	Email   string `json:"email,omitempty"`
	EmailOn bool   `json:"emailOn,omitempty"`
	// Digest sends one e-mail a day at DigestHour in TimeZone instead of
	// one per notification.
	Digest     bool   `json:"digest,omitempty"`
	DigestHour int    `json:"digestHour,omitempty"`
	TimeZone   string `json:"timeZone,omitempty"`
	// Lang is zh or en (empty: the console's language).
	Lang string `json:"lang,omitempty"`
	// ReadThrough is the log index through which the user has read the
	// inbox (OpMarkNotificationsRead).
	ReadThrough uint64    `json:"readThrough,omitempty"`
	Updated     time.Time `json:"updated"`
}

func (p *NotificationPrefs) validate() *Error {
	if len(p.Kinds) > MaxNotificationKinds {
		return invalid("kinds", "at most %d kinds, got %d", MaxNotificationKinds, len(p.Kinds))
	}
	for i, k := range p.Kinds {
		if !kindPattern.MatchString(k) {
			return invalid(fmt.Sprintf("kinds[%d]", i), "%q is not a notification kind such as RETURNED or PUBLISHED", truncate(k, 40))
		}
	}
	if p.Email != "" {
		if len(p.Email) > 254 {
			return invalid("email", "must be at most 254 characters")
		}
		if a, err := mail.ParseAddress(p.Email); err != nil || a.Address != p.Email || a.Name != "" {
			return invalid("email", "%q is not an e-mail address such as anna@example.org", truncate(p.Email, 60))
		}
	}
	if p.EmailOn && p.Email == "" {
		return invalid("email", "is required to send notifications by e-mail")
	}
	if p.DigestHour < 0 || p.DigestHour > 23 {
		return invalid("digest_hour", "must be an hour from 0 to 23, got %d", p.DigestHour)
	}
	if p.TimeZone != "" && (len(p.TimeZone) > 64 || !timeZonePattern.MatchString(p.TimeZone)) {
		return invalid("time_zone", "%q is not a time zone name such as Europe/Berlin", truncate(p.TimeZone, 40))
	}
	if p.Digest && p.TimeZone == "" {
		return invalid("time_zone", "is required for a daily digest (the hour is local)")
	}
	if p.Lang != "" && p.Lang != "zh" && p.Lang != "en" {
		return invalid("lang", "must be zh or en, got %q", truncate(p.Lang, 10))
	}
	return nil
}

func prefsOf(txn *tx, user string) (*NotificationPrefs, *Error) {
	raw, err := txn.First(tablePrefs, "id", user)
	if err != nil {
		return nil, errorf(CodeInternal, "read preferences: %v", err)
	}
	if raw == nil {
		return nil, nil
	}
	p := *raw.(*NotificationPrefs)
	p.Kinds = slices.Clone(p.Kinds)
	return &p, nil
}

// setNotificationPrefs applies OpSetNotificationPrefs: the caller's own.
func (a *applier) setNotificationPrefs() (Result, *Error) {
	cur, err := prefsOf(a.txn, a.actor.ID)
	if err != nil {
		return Result{}, err
	}
	p := *a.cmd.Prefs
	p.UserID, p.Kinds, p.Updated = a.actor.ID, slices.Clone(p.Kinds), a.now
	if cur != nil {
		p.ReadThrough = cur.ReadThrough
	}
	if err := a.insert(tablePrefs, &p); err != nil {
		return Result{}, err
	}
	return Result{Prefs: &p}, nil
}

// markRead applies OpMarkNotificationsRead: the caller's read cursor
// moves forward only.
func (a *applier) markRead() (Result, *Error) {
	cur, err := prefsOf(a.txn, a.actor.ID)
	if err != nil {
		return Result{}, err
	}
	p := NotificationPrefs{UserID: a.actor.ID, Updated: a.now}
	if cur != nil {
		p = *cur
	}
	if a.cmd.Through > p.ReadThrough {
		p.ReadThrough = a.cmd.Through
	}
	if err := a.insert(tablePrefs, &p); err != nil {
		return Result{}, err
	}
	return Result{Prefs: &p}, nil
}

// NotificationPrefs returns a user's preferences, or nil if the user set
// none.
func (s *State) NotificationPrefs(user string) (*NotificationPrefs, error) {
	p, err := prefsOf(s.read(), user)
	if err != nil {
		return nil, err
	}
	return p, nil
}

// AllNotificationPrefs returns every user's preferences, by user ID.
func (s *State) AllNotificationPrefs() (map[string]*NotificationPrefs, error) {
	it, err := s.read().Get(tablePrefs, "id")
	if err != nil {
		return nil, fmt.Errorf("read preferences: %w", err)
	}
	out := map[string]*NotificationPrefs{}
	for raw := it.Next(); raw != nil; raw = it.Next() {
		p := *raw.(*NotificationPrefs)
		out[p.UserID] = &p
	}
	return out, nil
}

// Webhook is an endpoint an admin registered.
type Webhook struct {
	ID        string    `json:"id"`
	URL       string    `json:"url"`
	Format    string    `json:"format"`
	Kinds     []string  `json:"kinds,omitempty"`
	Secret    string    `json:"secret,omitempty"`
	Lang      string    `json:"lang,omitempty"`
	Created   time.Time `json:"created"`
	CreatedBy string    `json:"createdBy"`
	// After is the log index the webhook starts after: what applied
	// before it was registered is not sent.
	After uint64 `json:"after"`
}

// NewWebhook is what OpCreateWebhook carries.
type NewWebhook struct {
	URL    string   `json:"url"`
	Format string   `json:"format"`
	Kinds  []string `json:"kinds,omitempty"`
	Secret string   `json:"secret,omitempty"`
	Lang   string   `json:"lang,omitempty"`
}

func (w *NewWebhook) validate() *Error {
	if err := checkLine("url", w.URL, 1, MaxWebhookURL); err != nil {
		return err
	}
	if !strings.HasPrefix(w.URL, "https://") && !strings.HasPrefix(w.URL, "http://127.0.0.1") && !strings.HasPrefix(w.URL, "http://localhost") {
		return invalid("url", "%q must start with https:// (http:// only for 127.0.0.1 or localhost)", truncate(w.URL, 60))
	}
	if !slices.Contains(webhookFormats, w.Format) {
		return invalid("format", "must be one of %s, got %q", strings.Join(webhookFormats, ", "), truncate(w.Format, 20))
	}
	if (w.Format == "generic" || w.Format == "dingtalk") && len(w.Secret) < 16 {
		return invalid("secret", "must be at least 16 characters for a %s webhook (deliveries are signed with it)", w.Format)
	}
	if err := checkLine("secret", w.Secret, 0, 200); err != nil {
		return err
	}
	for i, k := range w.Kinds {
		if !kindPattern.MatchString(k) {
			return invalid(fmt.Sprintf("kinds[%d]", i), "%q is not a notification kind such as RETURNED or PUBLISHED", truncate(k, 40))
		}
	}
	if len(w.Kinds) > MaxNotificationKinds {
		return invalid("kinds", "at most %d kinds", MaxNotificationKinds)
	}
	if w.Lang != "" && w.Lang != "zh" && w.Lang != "en" {
		return invalid("lang", "must be zh or en, got %q", truncate(w.Lang, 10))
	}
	return nil
}

func (a *applier) createWebhook() (Result, *Error) {
	if a.actor.Role != Admin {
		return Result{}, errorf(CodePermission, "only ADMIN may register webhooks; caller is %s", a.actor.Role)
	}
	it, err := a.txn.Get(tableWebhooks, "id")
	if err != nil {
		return Result{}, errorf(CodeInternal, "read webhooks: %v", err)
	}
	n := 0
	for raw := it.Next(); raw != nil; raw = it.Next() {
		n++
	}
	if n >= MaxWebhooks {
		return Result{}, errorf(CodePrecondition, "there are %d webhooks already, the most there may be; delete one first", n)
	}
	seq, e := a.next("webhook")
	if e != nil {
		return Result{}, e
	}
	w := a.cmd.Webhook
	wh := &Webhook{ID: fmt.Sprintf("wh-%04d", seq), URL: w.URL, Format: w.Format, Kinds: slices.Clone(w.Kinds),
		Secret: w.Secret, Lang: w.Lang, Created: a.now, CreatedBy: a.actor.ID, After: a.index}
	if err := a.insert(tableWebhooks, wh); err != nil {
		return Result{}, err
	}
	c := *wh
	return Result{Webhook: &c}, nil
}

func (a *applier) deleteWebhook() (Result, *Error) {
	if a.actor.Role != Admin {
		return Result{}, errorf(CodePermission, "only ADMIN may delete webhooks; caller is %s", a.actor.Role)
	}
	raw, err := a.txn.First(tableWebhooks, "id", a.cmd.WebhookID)
	if err != nil {
		return Result{}, errorf(CodeInternal, "read webhook: %v", err)
	}
	if raw == nil {
		return Result{}, errorf(CodeNotFound, "webhook %s not found", truncate(a.cmd.WebhookID, 20))
	}
	w := *raw.(*Webhook)
	if err := a.txn.Delete(tableWebhooks, raw); err != nil {
		return Result{}, errorf(CodeInternal, "delete webhook: %v", err)
	}
	return Result{Webhook: &w}, nil
}

// Webhooks returns the registered webhooks in ID order.
func (s *State) Webhooks() ([]Webhook, error) {
	it, err := s.read().Get(tableWebhooks, "id")
	if err != nil {
		return nil, fmt.Errorf("read webhooks: %w", err)
	}
	var out []Webhook
	for raw := it.Next(); raw != nil; raw = it.Next() {
		w := *raw.(*Webhook)
		w.Kinds = slices.Clone(w.Kinds)
		out = append(out, w)
	}
	return out, nil
}

// Delivery is one attempt to deliver to a sink.
type Delivery struct {
	Index    uint64    `json:"index"` // the event's log index
	Key      string    `json:"key"`   // the idempotency key sent
	Kind     string    `json:"kind,omitempty"`
	Status   int       `json:"status,omitempty"` // HTTP status, 0 for none
	Error    string    `json:"error,omitempty"`
	Attempts int       `json:"attempts"`
	Done     bool      `json:"done"` // delivered, or given up on
	Time     time.Time `json:"time"`
	Site     string    `json:"site"` // the site that sent it
}

// Sink is how far one destination has been delivered.
type Sink struct {
	ID      string     `json:"id"` // webhook ID, or "email:" + user ID
	Through uint64     `json:"through"`
	Log     []Delivery `json:"log,omitempty"` // the last deliveries, newest last
}

// DeliveryRecord is what OpRecordDeliveries carries for one sink.
type DeliveryRecord struct {
	Sink       string     `json:"sink"`
	Through    uint64     `json:"through"`
	Deliveries []Delivery `json:"deliveries,omitempty"`
}

var sinkPattern = regexp.MustCompile(`^(wh-[0-9]{4,9}|email:user-[0-9]{4,9}|digest:user-[0-9]{4,9})$`)

func checkDeliveries(rs []DeliveryRecord) *Error {
	if len(rs) == 0 {
		return invalid("deliveries", "are required")
	}
	n := 0
	for i, r := range rs {
		if !sinkPattern.MatchString(r.Sink) {
			return invalid(fmt.Sprintf("deliveries[%d].sink", i), "%q is not a webhook or a user's e-mail", truncate(r.Sink, 40))
		}
		n += len(r.Deliveries)
		for j, d := range r.Deliveries {
			if len(d.Error) > 500 || len(d.Key) > 100 || len(d.Kind) > 40 || d.Attempts < 0 || d.Attempts > 10000 || d.Status < 0 || d.Status > 999 {
				return invalid(fmt.Sprintf("deliveries[%d].deliveries[%d]", i, j), "is out of bounds")
			}
		}
	}
	if n > MaxDeliveriesPerCmd {
		return invalid("deliveries", "at most %d in one command", MaxDeliveriesPerCmd)
	}
	return nil
}

// recordDeliveries applies OpRecordDeliveries, which only the leader
// proposes on its own (no actor): each sink's cursor moves forward only,
// and its log keeps the last MaxDeliveryLog deliveries.
func (a *applier) recordDeliveries() (Result, *Error) {
	for _, r := range a.cmd.Deliveries {
		cur := &Sink{ID: r.Sink}
		raw, err := a.txn.First(tableSinks, "id", r.Sink)
		if err != nil {
			return Result{}, errorf(CodeInternal, "read sink: %v", err)
		}
		if raw != nil {
			c := *raw.(*Sink)
			c.Log = slices.Clone(c.Log)
			cur = &c
		}
		cur.Through = max(cur.Through, r.Through)
		for _, d := range r.Deliveries {
			d.Time = a.now
			cur.Log = append(cur.Log, d)
		}
		if len(cur.Log) > MaxDeliveryLog {
			cur.Log = slices.Clone(cur.Log[len(cur.Log)-MaxDeliveryLog:])
		}
		if err := a.insert(tableSinks, cur); err != nil {
			return Result{}, err
		}
	}
	return Result{}, nil
}

// Sink returns how far a sink has been delivered (nil: never).
func (s *State) Sink(id string) (*Sink, error) {
	raw, err := s.read().First(tableSinks, "id", id)
	if err != nil || raw == nil {
		return nil, err
	}
	c := *raw.(*Sink)
	c.Log = slices.Clone(c.Log)
	return &c, nil
}
