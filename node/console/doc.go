// Package console is the web console every site serves at / on its API
// port: server-rendered pages (html/template) in Chinese and English, with
// small embedded CSS and JavaScript, for HQ reviewers, node staff,
// divisions and admins.
//
// The console holds no state of its own and never reads the replicated
// state directly: every page and every action is a call to the site's own
// gRPC API (the same connection the REST gateway uses), with the signed-in
// user's session token, so authorization, validation and forwarding are
// exactly those of gRPC and REST.
//
// Sessions are ordinary innonet tokens of kind SESSION (SignIn), kept in
// an HttpOnly, Secure, SameSite=Strict cookie; any site accepts them and
// SignOut revokes them everywhere. Every form carries a CSRF token derived
// from the session, and every page a strict Content-Security-Policy.
//
// Every action works as a plain form post; app.js only improves pages
// (confirmations, file-size checks, the organisation picker, and the
// duplicate warning of the submit and edit forms, which posts the draft
// as one types to CheckPath and shows the HTML fragment it answers; without
// it, the page after a submit or an edit names the duplicates its answer
// named). A merge is confirmed on a page of its own that shows both leads.
//
// /reports is each role's dashboard: progress against the year's targets
// (HQ: the network, every node and every division; a node or a division:
// its own scope), the funnel of a period grouped as the reader picks, and
// the leads over or near their stage limits with who must act. Its bars
// are SVG drawn on the server with their numbers beside them as text, so
// they read without JavaScript. Every lead shows its stage limit (on
// time, due soon, overdue; the deadline in the reader's zone, HQ and the
// divisions reading China's) on its page, in lead rows and on board cards.
// HQ edits the year's targets, the stage limits and China's and Israel's
// calendar years under /settings; anyone may read them.
//
// Files: the REST API serves reports and lead lists as CSV and XLSX, but
// only to a bearer token, and the console's session is a cookie that /v1
// does not read. So /export/{funnel,targets,leads,monthly} makes the same
// files here (export.go) from the gRPC answers, headed in the reader's
// language.
//
// Notifications: every page's header has a bell with the reader's unread
// count (one ListNotifications call, made while the page reads its own
// data), linking to /inbox. The inbox lists the notifications as the API
// renders them in the reader's notification language, newest first, each
// linked to the lead's page here (not the absolute link the API gives,
// which names one site). Opening /inbox or a lead marks nothing read;
// "mark all read" marks read through the newest notification the page
// knew of, so one that arrived since stays unread. /settings/notifications
// (everyone) chooses the kinds (or the role's defaults), e-mail, a daily
// digest at an hour in a time zone, and the language; admins manage
// webhooks under /settings/webhooks (notifications.go, webhooks.go), with
// each one's delivery log, "send again", and deletion confirmed on a page
// of its own.
//
// Every page read from the site's copy says whose copy it is and, past
// a few seconds, how far behind the leader's it is, as the site itself
// says in the read's headers (fresh.go; node/copy.go). An API refusal
// shows a headline of its kind above the precise reason, which
// refusals.go puts in the reader's language for the refusals a person
// meets here (a stage, a required comment, who may do what, a value
// out of range); one it does not know keeps the API's English.
//
// Queued writes (queued.go): the lead page's daily forms and the submit
// form ask to be queued when the site cannot reach a leader; the notice
// then says the form was saved on this site and will be sent when the
// connection returns, the header links to /queued with the count still
// waiting, and /queued lists the user's queued writes with what became of
// them (applied, or refused with the leader's reason).
//
// The API explains duplicates and division matches in English statements
// from fixed templates (node/dedup, node/matching); reasons.go maps each
// template to a catalogue key, keeping its variable parts, so they read in
// the user's language; a statement it does not know is shown as it came.
package console
