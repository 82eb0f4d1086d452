package node

import (
	"context"
	"net/http"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"innonet/node/notify"
	"innonet/node/pipeline"
)

// Webhook deliveries, by the leader (see notifications.go): for each
// webhook, every event after its sink's replicated cursor (and after the
// webhook was registered) of a kind it hears of, in log order, one at a
// time; a failed one is tried again with notify.Backoff for up to a day,
// then given up (recorded as done with its error) so that the webhook
// moves on. Each delivery carries the notification's key
// (X-Innonet-Delivery), so that a receiver can drop a second copy.

// maxWebhookAttempts is how many times a delivery is tried (about a day
// with notify.Backoff).
const maxWebhookAttempts = 20

// webhookClient sends deliveries; short timeouts, no redirects followed.
var webhookClient = &http.Client{Timeout: 15 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func notifyWebhook(w pipeline.Webhook) notify.Webhook {
	out := notify.Webhook{ID: w.ID, URL: w.URL, Secret: w.Secret, Format: w.Format}
	if len(w.Kinds) > 0 {
		out.Kinds = map[notify.Kind]bool{}
		for _, k := range w.Kinds {
			out.Kinds[notify.Kind(k)] = true
		}
	}
	return out
}

// sendWebhooks delivers what is due to every webhook and records it.
func (nt *notifier) sendWebhooks(ctx context.Context) {
	hooks, err := nt.n.state.Webhooks()
	if err != nil || len(hooks) == 0 {
		return
	}
	now := time.Now()
	var records []pipeline.DeliveryRecord
	records = append(records, nt.sendSLAHooks(ctx, hooks)...)
	for _, w := range hooks {
		if next, ok := nt.retry[w.ID]; ok && now.Before(next) {
			continue
		}
		sink, err := nt.n.state.Sink(w.ID)
		if err != nil {
			continue
		}
		through := w.After
		if sink != nil {
			through = max(through, sink.Through)
		}
		rec := pipeline.DeliveryRecord{Sink: w.ID, Through: through}
		view := nt.n.state.View()
		sent := 0
		_ = view.EventsAfter(through, func(e *pipeline.Event) bool {
			if sent >= 50 || ctx.Err() != nil {
				return false // the rest at the next round
			}
			l, err := view.Lead(e.LeadID)
			if err != nil {
				return false
			}
			nw := notifyWebhook(w)
			x, ok := nw.Notification(nt.event(e, l))
			if !ok {
				rec.Through = e.LogIndex // of no kind it hears of: passed
				return true
			}
			lang := w.Lang
			if lang == "" {
				lang = "en"
			}
			d, delivered := nt.deliver(ctx, nw, x, lang)
			rec.Deliveries = append(rec.Deliveries, d)
			if !delivered && !d.Done {
				return false
			}
			rec.Through = e.LogIndex
			sent++
			return true
		})
		if rec.Through > through || len(rec.Deliveries) > 0 {
			records = append(records, rec)
		}
	}
	nt.record(ctx, records)
}

// slaHook is a deadline warning for a webhook ("": not yet given to any).
type slaHook struct {
	ev   notify.Event
	hook string
}

// sendSLAHooks sends the deadline warnings checkSLA found to the webhooks
// that hear of SLA. They are not in the history, so no cursor follows
// them: each is tried until it is delivered or given up on, by the site
// that found it while leading; another leader finds it again and sends it
// under the same key (innonet-<stage entry index>-SLA).
func (nt *notifier) sendSLAHooks(ctx context.Context, hooks []pipeline.Webhook) []pipeline.DeliveryRecord {
	nt.mu.Lock()
	pending := nt.slaHooks
	nt.slaHooks = nil
	nt.mu.Unlock()
	// A warning not yet given to a webhook goes to each that hears of it.
	var todo []slaHook
	for _, p := range pending {
		if p.hook != "" {
			todo = append(todo, p)
			continue
		}
		for _, w := range hooks {
			todo = append(todo, slaHook{ev: p.ev, hook: w.ID})
		}
	}
	byID := map[string]pipeline.Webhook{}
	for _, w := range hooks {
		byID[w.ID] = w
	}
	var records []pipeline.DeliveryRecord
	var keep []slaHook
	for _, p := range todo {
		w, ok := byID[p.hook]
		if !ok {
			continue // deleted since
		}
		nw := notifyWebhook(w)
		x, ok := nw.Notification(p.ev)
		if !ok {
			continue
		}
		if next, ok := nt.retry[w.ID]; ok && time.Now().Before(next) {
			keep = append(keep, p)
			continue
		}
		lang := w.Lang
		if lang == "" {
			lang = "en"
		}
		d, delivered := nt.deliver(ctx, nw, x, lang)
		records = append(records, pipeline.DeliveryRecord{Sink: w.ID, Deliveries: []pipeline.Delivery{d}})
		if !delivered && !d.Done {
			keep = append(keep, p)
		}
	}
	if len(keep) > 0 {
		nt.mu.Lock()
		nt.slaHooks = append(keep, nt.slaHooks...)
		nt.mu.Unlock()
	}
	return records
}

// deliver sends one notification to a webhook. It reports whether it was
// delivered; a delivery that failed for the last time is done (given
// up), the others wait for their backoff.
func (nt *notifier) deliver(ctx context.Context, w notify.Webhook, x notify.Notification, lang string) (pipeline.Delivery, bool) {
	nt.attempts[w.ID]++
	attempt := nt.attempts[w.ID]
	d := pipeline.Delivery{Index: x.Event.Index, Key: x.Key(), Kind: string(x.Kind), Attempts: attempt, Site: nt.n.cfg.Site}
	body, header, url, err := notify.Payload(w, x, lang, nt.consoleURL(), time.Now())
	if err == nil {
		header.Set("X-Innonet-Delivery", x.Key())
		var code int
		dctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		code, err = notify.Deliver(dctx, webhookClient, url, body, header)
		cancel()
		d.Status = code
	}
	if err == nil {
		d.Done = true
		delete(nt.retry, w.ID)
		nt.attempts[w.ID] = 0
		return d, true
	}
	d.Error = clip500(err.Error())
	if attempt >= maxWebhookAttempts {
		d.Done = true // given up: the webhook moves on
		delete(nt.retry, w.ID)
		nt.attempts[w.ID] = 0
		nt.log.Warn("webhook delivery given up", "webhook", w.ID, "key", x.Key(), "attempts", attempt, "err", err)
		return d, false
	}
	nt.retry[w.ID] = time.Now().Add(notify.Backoff(attempt))
	nt.log.Warn("webhook delivery failed; retrying later", "webhook", w.ID, "key", x.Key(), "attempt", attempt, "err", err)
	return d, false
}

// redeliver sends one event's delivery to a webhook again, now, and
// records it (its cursor stays).
func (nt *notifier) redeliver(ctx context.Context, w pipeline.Webhook, index uint64) (pipeline.Delivery, error) {
	view := nt.n.state.View()
	var d pipeline.Delivery
	found := false
	var derr error
	err := view.EventsAfter(index-1, func(e *pipeline.Event) bool {
		if e.LogIndex != index {
			return false
		}
		l, err := view.Lead(e.LeadID)
		if err != nil {
			derr = err
			return false
		}
		nw := notifyWebhook(w)
		x, ok := nw.Notification(nt.event(e, l))
		if !ok {
			return true
		}
		found = true
		d = pipeline.Delivery{Index: index, Key: x.Key(), Kind: string(x.Kind), Attempts: 1, Site: nt.n.cfg.Site}
		lang := w.Lang
		if lang == "" {
			lang = "en"
		}
		body, header, url, err := notify.Payload(nw, x, lang, nt.consoleURL(), time.Now())
		if err == nil {
			header.Set("X-Innonet-Delivery", x.Key())
			dctx, cancel := context.WithTimeout(ctx, 20*time.Second)
			d.Status, err = notify.Deliver(dctx, webhookClient, url, body, header)
			cancel()
		}
		if err != nil {
			d.Error = clip500(err.Error())
		}
		d.Done = true
		return false
	})
	if err == nil {
		err = derr
	}
	if err != nil {
		return d, status.Errorf(codes.Internal, "read the event: %v", err)
	}
	if !found {
		return d, status.Errorf(codes.NotFound, "index: no event of a kind webhook %s hears of at log index %d", w.ID, index)
	}
	nt.record(ctx, []pipeline.DeliveryRecord{{Sink: w.ID, Deliveries: []pipeline.Delivery{d}}})
	return d, nil
}
