// Package notify decides who hears of a lead's event, renders what they
// read in Chinese or English, and delivers it by e-mail or webhook.
//
// It is a library of pure functions and small value types: it keeps no
// state, reads no clock it is not given (bar an e-mail's Date header),
// and knows nothing of Raft, gRPC or the node's protobuf types. The node
// converts each applied event into an [Event], its users into
// [Recipient]s, and keeps the inbox, the outbox and the delivery log
// itself; Raft's log index is the idempotency key throughout.
//
// # Usage
//
//	for _, n := range notify.Recipients(ev, users) {
//		inbox.Put(n.Key(), n) // always
//		r := byID[n.UserID]
//		if !r.Prefs.Channels.Email {
//			continue
//		}
//		if r.Prefs.Digest {
//			digests.Add(r.UserID, n, notify.NextDigest(r.Prefs, now))
//			continue
//		}
//		msg := notify.Render(n, r.Lang(), consoleURL)
//		err := mailer.Send(ctx, r.Prefs.Email, msg, n.Key())
//	}
//	for _, w := range hooks {
//		n, ok := w.Notification(ev)
//		if !ok {
//			continue
//		}
//		body, header, url, err := notify.Payload(w, n, "zh", consoleURL, now)
//		status, err := notify.Deliver(ctx, client, url, body, header)
//		// on error: retry after notify.Jitter(n.Key(), attempt) until
//		// attempt passes notify.Retries
//	}
//
// # Who is told
//
// [Recipients] applies these rules; "staff" is the node staff of the
// lead's site or sub-node (and of the sites above it: MUC's staff hear of
// MUC-TUM's leads) and the user who submitted it; "HQ" is the HQ
// reviewers and admins; "division" the users of the lead's division.
//
//	action                    who                                     kind
//	SUBMIT                    HQ                                      SUBMITTED
//	RESUBMIT                  HQ                                      ANSWERED
//	APPROVE                   divisions in MatchDivisions             PUBLISHED_MATCH
//	                          other divisions                         PUBLISHED
//	                          staff                                   STAGE_CHANGED
//	RETURN                    staff (with HQ's question)              RETURNED
//	DECLINE                   staff                                   DECLINED
//	CLAIM                     staff, HQ, division                     CLAIMED
//	ASSIGN                    division                                ASSIGNED
//	                          staff, HQ                               CLAIMED
//	ADVANCE                   staff, division; HQ to SIGNED, LANDED   STAGE_CHANGED
//	RELEASE, WITHDRAW,        staff, HQ, division                     STAGE_CHANGED
//	CLOSE, REOPEN
//	RELEASE, REOPEN to        divisions in MatchDivisions             PUBLISHED_MATCH
//	APPROVED (after the above) other divisions                        PUBLISHED
//	EXPRESS_INTEREST,         HQ                                      INTEREST
//	WITHDRAW_INTEREST
//	COMMENT                   Event.Audience                          COMMENT
//	MERGE, MERGE_IN           staff, division, HQ                     MERGED
//	SLA (Event.SLA set)       SLAWarning.MustAct                      SLA
//	UPDATE, ADD_ATTACHMENT    nobody
//
// The actor never hears of their own action. A user concerned twice
// gets the first kind of the list.
//
// # Default kinds
//
// What each role hears of unless its [Prefs.Kinds] says otherwise (a
// kind the map does not name keeps its default):
//
//	kind              ADMIN  HQ_REVIEWER  DIVISION  NODE_STAFF
//	SUBMITTED         -      yes          -         -
//	RETURNED          -      -            -         yes
//	ANSWERED          -      yes          -         -
//	PUBLISHED         -      -            -         -
//	PUBLISHED_MATCH   -      -            yes       -
//	INTEREST          -      yes          -         -
//	ASSIGNED          -      -            yes       -
//	CLAIMED           -      yes          yes       yes
//	STAGE_CHANGED     -      yes          yes       yes
//	DECLINED          -      -            -         yes
//	MERGED            -      yes          yes       yes
//	COMMENT           -      yes          yes       yes
//	SLA               -      yes          yes       yes
//
// Admins run the network rather than its deals, so they hear of nothing
// unless they ask. Divisions hear of the leads that match their focus;
// every publication is one opt-in away (PUBLISHED), for those without a
// focus profile or with a wide one.
//
// # Messages
//
// [Render] and [RenderDigest] take their text from a message catalogue
// with one table per language (catalog.go); the HTML comes from one
// html/template, parsed once, which escapes titles and comments. Every
// message links to consoleURL + "/leads/" + the lead's ID.
//
// # E-mail
//
// [Mailer.Send] speaks SMTP with net/smtp: STARTTLS when asked (or TLS
// from the start), AUTH PLAIN only over TLS, a multipart/alternative
// message in UTF-8 (quoted-printable bodies, an RFC 2047 subject) whose
// Message-ID is derived from the idempotency key, so that a resend after
// a crash is recognisably the same message.
//
// # Webhooks
//
// [Payload] shapes a notification for a generic JSON receiver, a WeCom
// or DingTalk group robot, Slack or Teams (an Adaptive Card). Generic
// deliveries are signed as Stripe and GitHub sign theirs:
//
//	X-Innonet-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">
//	X-Innonet-Delivery:  innonet-<index>-<kind>
//
// and a receiver checks them with [Verify]. [Deliver] posts a payload;
// [Backoff] and [Jitter] space the retries over a day.
//
// # What it does not do
//
// It does not decide who may read a comment (the caller filters
// Event.Comment and sets Event.Audience), store anything, queue or retry
// by itself, or read the node's state.
package notify
