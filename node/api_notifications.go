package node

import (
	"context"
	"slices"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"innonet/node/pipeline"
	innonetpb "innonet/proto/innonet/v1"
)

// notificationService is the inbox, the preferences and the webhooks
// (notifications.go).
type notificationService struct {
	innonetpb.UnimplementedNotificationServiceServer
	n *Node
}

func prefsPB(p *pipeline.NotificationPrefs, defaults []string) *innonetpb.NotificationPreferences {
	out := &innonetpb.NotificationPreferences{DefaultKinds: defaults, Kinds: []string{}}
	if p == nil {
		return out
	}
	out.Kinds, out.CustomKinds = append(out.Kinds, p.Kinds...), p.KindsSet
	out.Email, out.EmailOn, out.Digest, out.DigestHour = p.Email, p.EmailOn, p.Digest, int32(p.DigestHour)
	out.TimeZone, out.Lang, out.ReadThrough = p.TimeZone, p.Lang, p.ReadThrough
	return out
}

// Page sizes of the inbox.
const (
	defaultInboxPage = 50
	maxInboxPage     = 200
)

func (s *notificationService) ListNotifications(ctx context.Context, r *innonetpb.ListNotificationsRequest) (*innonetpb.ListNotificationsResponse, error) {
	u, err := s.n.authenticate(ctx)
	if err != nil {
		return nil, err
	}
	size := int(r.PageSize)
	switch {
	case size < 0 || size > maxInboxPage:
		return nil, status.Errorf(codes.InvalidArgument, "page_size: must be from 1 to %d, got %d", maxInboxPage, size)
	case size == 0:
		size = defaultInboxPage
	}
	// Read your writes: give the inbox a moment to take in what the
	// state holds.
	wctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	_ = s.n.notifier.waitFor(wctx, s.n.state.AppliedIndex())
	cancel()
	p, err := s.n.state.NotificationPrefs(u.ID)
	if err != nil {
		return nil, toStatus(err)
	}
	var readThrough uint64
	lang, zone := "zh", ""
	if u.Role == pipeline.NodeStaff {
		lang = "en"
	}
	if p != nil {
		readThrough, zone = p.ReadThrough, p.TimeZone
		if p.Lang != "" {
			lang = p.Lang
		}
	}
	switch r.Lang {
	case "":
	case "zh", "en":
		lang = r.Lang
	default:
		return nil, status.Errorf(codes.InvalidArgument, "lang: must be zh or en, got %q", clip(r.Lang))
	}
	loc := readerZone(u.Role.String(), u.Site, zone)
	box := s.n.notifier.box(u.ID)
	out := &innonetpb.ListNotificationsResponse{Notifications: []*innonetpb.Notification{}}
	for i := len(box) - 1; i >= 0; i-- {
		x := box[i]
		if x.Event.Index > readThrough {
			out.Unread++
		}
		if r.BeforeIndex != 0 && x.Event.Index >= r.BeforeIndex || r.UnreadOnly && x.Event.Index <= readThrough {
			continue
		}
		if len(out.Notifications) == size {
			if out.NextBefore == 0 {
				out.NextBefore = out.Notifications[size-1].Index
			}
			continue
		}
		out.Notifications = append(out.Notifications, s.n.notifier.notificationPB(x, lang, readThrough, loc))
	}
	return out, nil
}

func (s *notificationService) GetNotificationPreferences(ctx context.Context, _ *innonetpb.GetNotificationPreferencesRequest) (*innonetpb.NotificationPreferences, error) {
	u, err := s.n.authenticate(ctx)
	if err != nil {
		return nil, err
	}
	p, err := s.n.state.NotificationPrefs(u.ID)
	if err != nil {
		return nil, toStatus(err)
	}
	return prefsPB(p, defaultKinds(u.Role)), nil
}

func (s *notificationService) UpdateNotificationPreferences(ctx context.Context, r *innonetpb.UpdateNotificationPreferencesRequest) (*innonetpb.NotificationPreferences, error) {
	u, err := s.n.authenticate(ctx)
	if err != nil {
		return nil, err
	}
	if r.TimeZone != "" {
		// Apply checks the name's form only: which zones exist is the
		// site's time zone database, not the replicated state.
		if _, err := time.LoadLocation(r.TimeZone); err != nil || r.TimeZone == "Local" {
			return nil, status.Errorf(codes.InvalidArgument, "time_zone: %q is not a time zone name such as Europe/Berlin or Asia/Shanghai", clip(r.TimeZone))
		}
	}
	for i, k := range r.Kinds {
		if !slices.Contains(allKinds(), k) {
			return nil, status.Errorf(codes.InvalidArgument, "kinds[%d]: %q is not a notification kind; valid kinds: %v", i, clip(k), allKinds())
		}
	}
	p := &pipeline.NotificationPrefs{Kinds: r.Kinds, KindsSet: r.CustomKinds, Email: r.Email, EmailOn: r.EmailOn, Digest: r.Digest,
		DigestHour: int(r.DigestHour), TimeZone: r.TimeZone, Lang: r.Lang}
	res, err := s.n.propose(ctx, pipeline.Command{Op: pipeline.OpSetNotificationPrefs, RequestID: r.RequestId, Actor: u.ID, Prefs: p})
	if err != nil {
		return nil, err
	}
	return prefsPB(res.Prefs, defaultKinds(u.Role)), nil
}

func (s *notificationService) MarkNotificationsRead(ctx context.Context, r *innonetpb.MarkNotificationsReadRequest) (*innonetpb.NotificationPreferences, error) {
	u, err := s.n.authenticate(ctx)
	if err != nil {
		return nil, err
	}
	through := r.ThroughIndex
	if through == 0 {
		through = s.n.state.AppliedIndex()
	}
	res, err := s.n.propose(ctx, pipeline.Command{Op: pipeline.OpMarkNotificationsRead, RequestID: r.RequestId, Actor: u.ID, Through: through})
	if err != nil {
		return nil, err
	}
	return prefsPB(res.Prefs, defaultKinds(u.Role)), nil
}

func (s *notificationService) webhookPB(w pipeline.Webhook) *innonetpb.Webhook {
	out := &innonetpb.Webhook{Id: w.ID, Url: w.URL, Format: w.Format, Kinds: append([]string{}, w.Kinds...), Lang: w.Lang,
		CreateTime: ts(w.Created), DeliveredThrough: w.After}
	if sink, err := s.n.state.Sink(w.ID); err == nil && sink != nil {
		out.DeliveredThrough = max(out.DeliveredThrough, sink.Through)
	}
	return out
}

func (s *notificationService) CreateWebhook(ctx context.Context, r *innonetpb.CreateWebhookRequest) (*innonetpb.Webhook, error) {
	u, err := s.n.authenticate(ctx)
	if err != nil {
		return nil, err
	}
	for i, k := range r.Kinds {
		if !slices.Contains(allKinds(), k) {
			return nil, status.Errorf(codes.InvalidArgument, "kinds[%d]: %q is not a notification kind; valid kinds: %v", i, clip(k), allKinds())
		}
	}
	res, err := s.n.propose(ctx, pipeline.Command{Op: pipeline.OpCreateWebhook, RequestID: r.RequestId, Actor: u.ID,
		Webhook: &pipeline.NewWebhook{URL: r.Url, Format: r.Format, Kinds: r.Kinds, Secret: r.Secret, Lang: r.Lang}})
	if err != nil {
		return nil, err
	}
	s.n.kickDispatcher()
	return s.webhookPB(*res.Webhook), nil
}

func (s *notificationService) ListWebhooks(ctx context.Context, _ *innonetpb.ListWebhooksRequest) (*innonetpb.ListWebhooksResponse, error) {
	if _, err := s.n.require(ctx, pipeline.Admin); err != nil {
		return nil, err
	}
	ws, err := s.n.state.Webhooks()
	if err != nil {
		return nil, toStatus(err)
	}
	out := &innonetpb.ListWebhooksResponse{Webhooks: []*innonetpb.Webhook{}}
	for _, w := range ws {
		out.Webhooks = append(out.Webhooks, s.webhookPB(w))
	}
	return out, nil
}

func (s *notificationService) DeleteWebhook(ctx context.Context, r *innonetpb.DeleteWebhookRequest) (*innonetpb.Webhook, error) {
	u, err := s.n.authenticate(ctx)
	if err != nil {
		return nil, err
	}
	res, err := s.n.propose(ctx, pipeline.Command{Op: pipeline.OpDeleteWebhook, RequestID: r.RequestId, Actor: u.ID, WebhookID: r.Id})
	if err != nil {
		return nil, err
	}
	return s.webhookPB(*res.Webhook), nil
}

func deliveryPB(d pipeline.Delivery) *innonetpb.WebhookDelivery {
	return &innonetpb.WebhookDelivery{Index: d.Index, Key: d.Key, Kind: d.Kind, Status: int32(d.Status), Error: d.Error,
		Attempts: int32(d.Attempts), Done: d.Done, Time: ts(d.Time), Site: d.Site}
}

func (s *notificationService) webhook(ctx context.Context, id string) (*pipeline.Webhook, error) {
	if _, err := s.n.require(ctx, pipeline.Admin); err != nil {
		return nil, err
	}
	ws, err := s.n.state.Webhooks()
	if err != nil {
		return nil, toStatus(err)
	}
	for _, w := range ws {
		if w.ID == id {
			return &w, nil
		}
	}
	return nil, status.Errorf(codes.NotFound, "webhook %s not found", clip(id))
}

func (s *notificationService) RedeliverWebhook(ctx context.Context, r *innonetpb.RedeliverWebhookRequest) (*innonetpb.WebhookDelivery, error) {
	w, err := s.webhook(ctx, r.Id)
	if err != nil {
		return nil, err
	}
	d, err := s.n.notifier.redeliver(ctx, *w, r.Index)
	if err != nil {
		return nil, err
	}
	return deliveryPB(d), nil
}

func (s *notificationService) ListWebhookDeliveries(ctx context.Context, r *innonetpb.ListWebhookDeliveriesRequest) (*innonetpb.ListWebhookDeliveriesResponse, error) {
	w, err := s.webhook(ctx, r.Id)
	if err != nil {
		return nil, err
	}
	out := &innonetpb.ListWebhookDeliveriesResponse{Deliveries: []*innonetpb.WebhookDelivery{}, DeliveredThrough: w.After}
	sink, err := s.n.state.Sink(w.ID)
	if err != nil {
		return nil, toStatus(err)
	}
	if sink != nil {
		out.DeliveredThrough = max(out.DeliveredThrough, sink.Through)
		for i := len(sink.Log) - 1; i >= 0; i-- {
			out.Deliveries = append(out.Deliveries, deliveryPB(sink.Log[i]))
		}
	}
	return out, nil
}
