package node

import (
	"context"
	"testing"

	innonetpb "innonet/proto/innonet/v1"
)

// notificationAuthzRows are the authorization matrix's rows of the inbox,
// the preferences and the webhooks.
func notificationAuthzRows() []authzRow {
	const svc = "/innonet.v1.NotificationService/"
	nc := func(c testClients) innonetpb.NotificationServiceClient { return c.notifications }
	// A webhook the admin registered, to a port nothing listens on.
	hook := format2(func(t *testing.T, e *authzEnv, _ int) authzTarget {
		w, err := nc(e.as(actAdmin)).CreateWebhook(e.ctx(t, actAdmin), &innonetpb.CreateWebhookRequest{RequestId: rid(),
			Url: "http://127.0.0.1:9/hook", Format: "slack", Kinds: []string{"SUBMITTED"}})
		if err != nil {
			t.Fatalf("create webhook: %v", err)
		}
		return authzTarget{code: w.Id, lead: e.submitted}
	})
	// Columns: no token, revoked, admin, HQ, own site, other site, holder division, rival division.
	return []authzRow{
		{method: svc + "ListNotifications", call: func(ctx context.Context, c testClients, _ authzTarget) (any, error) {
			return nc(c).ListNotifications(ctx, &innonetpb.ListNotificationsRequest{})
		}, want: cells{UA, UA, OK, OK, OK, OK, OK, OK}},
		{method: svc + "MarkNotificationsRead", setup: format2(nil), call: func(ctx context.Context, c testClients, _ authzTarget) (any, error) {
			return nc(c).MarkNotificationsRead(ctx, &innonetpb.MarkNotificationsReadRequest{RequestId: rid()})
		}, want: cells{UA, UA, OK, OK, OK, OK, OK, OK}},
		{method: svc + "GetNotificationPreferences", call: func(ctx context.Context, c testClients, _ authzTarget) (any, error) {
			return nc(c).GetNotificationPreferences(ctx, &innonetpb.GetNotificationPreferencesRequest{})
		}, want: cells{UA, UA, OK, OK, OK, OK, OK, OK}},
		{method: svc + "UpdateNotificationPreferences", setup: format2(nil), call: func(ctx context.Context, c testClients, _ authzTarget) (any, error) {
			return nc(c).UpdateNotificationPreferences(ctx, &innonetpb.UpdateNotificationPreferencesRequest{RequestId: rid(), Lang: "en"})
		}, want: cells{UA, UA, OK, OK, OK, OK, OK, OK}},
		{method: svc + "CreateWebhook", setup: format2(nil), call: func(ctx context.Context, c testClients, _ authzTarget) (any, error) {
			return nc(c).CreateWebhook(ctx, &innonetpb.CreateWebhookRequest{RequestId: rid(), Url: "http://127.0.0.1:9/hook", Format: "wecom"})
		}, want: cells{UA, UA, OK, PD, PD, PD, PD, PD}},
		{method: svc + "ListWebhooks", call: func(ctx context.Context, c testClients, _ authzTarget) (any, error) {
			return nc(c).ListWebhooks(ctx, &innonetpb.ListWebhooksRequest{})
		}, want: cells{UA, UA, OK, PD, PD, PD, PD, PD}},
		{method: svc + "DeleteWebhook", setup: hook, call: func(ctx context.Context, c testClients, tg authzTarget) (any, error) {
			return nc(c).DeleteWebhook(ctx, &innonetpb.DeleteWebhookRequest{Id: tg.code, RequestId: rid()})
		}, want: cells{UA, UA, OK, PD, PD, PD, PD, PD}},
		{method: svc + "ListWebhookDeliveries", setup: hook, call: func(ctx context.Context, c testClients, tg authzTarget) (any, error) {
			return nc(c).ListWebhookDeliveries(ctx, &innonetpb.ListWebhookDeliveriesRequest{Id: tg.code})
		}, want: cells{UA, UA, OK, PD, PD, PD, PD, PD}},
		{method: svc + "RedeliverWebhook", setup: hook, call: func(ctx context.Context, c testClients, tg authzTarget) (any, error) {
			h, err := c.leads.GetLeadHistory(ctx, &innonetpb.GetLeadHistoryRequest{Id: tg.lead})
			if err != nil {
				// Callers who may not read the lead: ask for any index.
				return nc(c).RedeliverWebhook(ctx, &innonetpb.RedeliverWebhookRequest{Id: tg.code, Index: 1})
			}
			return nc(c).RedeliverWebhook(ctx, &innonetpb.RedeliverWebhookRequest{Id: tg.code, Index: h.Events[0].LogIndex})
		}, want: cells{UA, UA, OK, PD, PD, PD, PD, PD}},
	}
}
