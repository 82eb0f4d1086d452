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
// The API explains duplicates and division matches in English statements
// from fixed templates (node/dedup, node/matching); reasons.go maps each
// template to a catalogue key, keeping its variable parts, so they read in
// the user's language; a statement it does not know is shown as it came.
package console
