package notify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Webhook formats.
const (
	FormatGeneric  = "generic"  // signed JSON, for the network's own systems
	FormatWeCom    = "wecom"    // WeCom (企业微信) group robot
	FormatDingTalk = "dingtalk" // DingTalk (钉钉) group robot, signed if Secret is set
	FormatSlack    = "slack"    // Slack incoming webhook
	FormatTeams    = "teams"    // Microsoft Teams workflow webhook (Adaptive Card)
)

// MinSecret is the shortest secret a generic or DingTalk webhook takes.
const MinSecret = 16

// Webhook is an endpoint told of events as they happen.
type Webhook struct {
	ID  string
	URL string
	// Secret signs generic deliveries (required) and DingTalk ones
	// (DingTalk's "加签" secret, SEC...; required).
	Secret string
	// Format is one of the Format constants; "" is generic.
	Format string
	// Kinds the webhook hears of; nil or empty for every kind.
	Kinds map[Kind]bool
}

// Validate reports the first thing wrong with the webhook, naming the
// field.
func (w Webhook) Validate() error {
	if strings.TrimSpace(w.ID) == "" {
		return errors.New("id: is required")
	}
	u, err := url.Parse(w.URL)
	if err != nil {
		return fmt.Errorf("url: %w", err)
	}
	switch {
	case u.Scheme == "https" && u.Host != "":
	case u.Scheme == "http" && (u.Hostname() == "127.0.0.1" || u.Hostname() == "localhost" || u.Hostname() == "::1"):
		// A receiver on this machine, for tests.
	default:
		return fmt.Errorf("url: must be an https URL (http only to 127.0.0.1 or localhost), got %q", redact(w.URL))
	}
	switch w.format() {
	case FormatGeneric, FormatDingTalk:
		if len(w.Secret) < MinSecret {
			return fmt.Errorf("secret: a %s webhook needs a secret of at least %d characters, got %d",
				w.format(), MinSecret, len(w.Secret))
		}
	case FormatWeCom, FormatSlack, FormatTeams:
	default:
		return fmt.Errorf("format: must be one of generic, wecom, dingtalk, slack, teams; got %q", w.Format)
	}
	for _, k := range sortedKinds(w.Kinds) {
		if !k.Valid() {
			return fmt.Errorf("kinds: unknown kind %q; valid kinds: %s", k, kindList())
		}
	}
	return nil
}

func (w Webhook) format() string {
	if w.Format == "" {
		return FormatGeneric
	}
	return w.Format
}

// Wants reports whether the webhook hears of kind k.
func (w Webhook) Wants(k Kind) bool { return len(w.Kinds) == 0 || w.Kinds[k] }

// Notification is the webhook's notification of e; false if it does not
// hear of e's kind (see [EventKind]).
func (w Webhook) Notification(e Event) (Notification, bool) {
	k, ok := EventKind(e)
	if !ok || !w.Wants(k) {
		return Notification{}, false
	}
	return Notification{Kind: k, Event: e}, true
}

// Headers of a generic delivery.
const (
	SignatureHeader = "X-Innonet-Signature"
	DeliveryHeader  = "X-Innonet-Delivery"
	KindHeader      = "X-Innonet-Kind"
)

// Generic is the body of a generic delivery.
type Generic struct {
	// ID is the idempotency key, innonet-<index>-<kind>, also sent as
	// X-Innonet-Delivery: a receiver that has seen it may drop the
	// delivery.
	ID      string    `json:"id"`
	Kind    Kind      `json:"kind"`
	Created time.Time `json:"created"` // when this delivery was made
	Link    string    `json:"link"`
	Subject string    `json:"subject"`
	Text    string    `json:"text"`
	Event   Event     `json:"event"`
}

// Payload is what to post to the webhook for n: the body, its headers
// and the URL (a DingTalk URL with its signature added). The text is in
// lang; now stamps the signature. The comment goes out as n carries it:
// the caller drops what the webhook's readers may not see.
func Payload(w Webhook, n Notification, lang, consoleURL string, now time.Time) (body []byte, header http.Header, url string, err error) {
	if err := w.Validate(); err != nil {
		return nil, nil, "", fmt.Errorf("webhook %s: %w", w.ID, err)
	}
	n.UserID = "" // one key per event and kind, whoever else hears of it
	lang = Lang(lang)
	m := Render(n, lang, consoleURL)
	key := n.Key()
	header = http.Header{"Content-Type": {"application/json; charset=utf-8"}, "User-Agent": {"innonet-webhook/1"}}
	url = w.URL
	var v any
	switch w.format() {
	case FormatGeneric:
		v = Generic{ID: key, Kind: n.Kind, Created: now.UTC(), Link: m.Link, Subject: m.Subject,
			Text: headline(n, lang), Event: n.Event}
	case FormatWeCom:
		v = map[string]any{"msgtype": "markdown", "markdown": map[string]string{"content": markdown(n, lang, m)}}
	case FormatDingTalk:
		v = map[string]any{"msgtype": "markdown", "markdown": map[string]string{"title": m.Subject, "text": markdown(n, lang, m)}}
		if url, err = dingTalkURL(w.URL, w.Secret, now); err != nil {
			return nil, nil, "", fmt.Errorf("webhook %s: %w", w.ID, err)
		}
	case FormatSlack:
		v = slack(n, lang, m)
	case FormatTeams:
		v = teams(n, lang, m)
	}
	if body, err = json.Marshal(v); err != nil {
		return nil, nil, "", fmt.Errorf("webhook %s: encode: %w", w.ID, err)
	}
	if w.format() == FormatGeneric {
		header.Set(SignatureHeader, Sign(w.Secret, body, now))
		header.Set(DeliveryHeader, key)
		header.Set(KindHeader, string(n.Kind))
	}
	return body, header, url, nil
}

// maxComment is how much of a comment a chat message shows, in runes;
// WeCom takes 4096 bytes of markdown in all.
const maxComment = 800

// markdown is the message as WeCom and DingTalk robots show it. Their
// markdown has no escapes, so the brackets and angle brackets of titles,
// names and comments become their full-width forms: no one can slip a
// link or a <font> tag into the group's chat.
func markdown(n Notification, lang string, m Message) string {
	var b strings.Builder
	fmt.Fprintf(&b, "**%s**\n\n%s\n", mdText(bare(m.Subject)), mdText(headline(n, lang)))
	if n.Kind == PublishedMatch {
		fmt.Fprintf(&b, "\n%s\n", msg(lang, "label.match"))
	}
	if c := strings.TrimSpace(n.Event.Comment); c != "" {
		label := msg(lang, "label.comment")
		if n.Kind == Returned {
			label = msg(lang, "label.question")
		}
		fmt.Fprintf(&b, "\n%s%s\n", label, strings.TrimSpace(msg(lang, "label.colon")))
		for _, line := range strings.Split(clip(c, maxComment), "\n") {
			fmt.Fprintf(&b, "> %s\n", mdText(line))
		}
	}
	fmt.Fprintf(&b, "\n[%s](%s)", msg(lang, "label.open"), m.Link)
	return b.String()
}

// bare is a subject without its [innonet] tag, which a chat needs not
// (the robot is named) and whose brackets markdown would take.
func bare(subject string) string { return strings.TrimPrefix(subject, "[innonet] ") }

var mdReplacer = strings.NewReplacer("[", "［", "]", "］", "<", "＜", ">", "＞", "\r", " ", "\n", " ")

func mdText(s string) string { return mdReplacer.Replace(s) }

// dingTalkURL adds DingTalk's signature: the millisecond timestamp and
// base64(HMAC-SHA256(secret, timestamp + "\n" + secret)).
func dingTalkURL(raw, secret string, now time.Time) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("url: %w", err)
	}
	ts := strconv.FormatInt(now.UnixMilli(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts + "\n" + secret))
	q := u.Query()
	q.Set("timestamp", ts)
	q.Set("sign", base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// slackText escapes the three characters Slack's mrkdwn gives meaning to
// (and with which a link <url|text> would be made).
var slackText = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace

func slack(n Notification, lang string, m Message) map[string]any {
	text := "*" + slackText(m.Subject) + "*\n" + slackText(headline(n, lang))
	if n.Kind == PublishedMatch {
		text += "\n" + slackText(msg(lang, "label.match"))
	}
	blocks := []any{section(text)}
	if c := strings.TrimSpace(n.Event.Comment); c != "" {
		blocks = append(blocks, section("> "+strings.ReplaceAll(slackText(clip(c, maxComment)), "\n", "\n> ")))
	}
	blocks = append(blocks, map[string]any{"type": "actions", "elements": []any{map[string]any{
		"type": "button", "text": map[string]string{"type": "plain_text", "text": msg(lang, "label.open")}, "url": m.Link,
	}}})
	return map[string]any{"text": m.Subject, "blocks": blocks}
}

func section(mrkdwn string) map[string]any {
	return map[string]any{"type": "section", "text": map[string]string{"type": "mrkdwn", "text": mrkdwn}}
}

// teams is a message with an Adaptive Card, as Teams' workflow webhooks
// (which replace the retired Office 365 connectors) take it.
func teams(n Notification, lang string, m Message) map[string]any {
	body := []any{
		map[string]any{"type": "TextBlock", "text": mdText(bare(m.Subject)), "weight": "Bolder", "size": "Medium", "wrap": true},
		map[string]any{"type": "TextBlock", "text": mdText(headline(n, lang)), "wrap": true},
	}
	if n.Kind == PublishedMatch {
		body = append(body, map[string]any{"type": "TextBlock", "text": msg(lang, "label.match"), "wrap": true})
	}
	if c := strings.TrimSpace(n.Event.Comment); c != "" {
		body = append(body, map[string]any{"type": "TextBlock", "text": mdReplacer.Replace(clip(c, maxComment)),
			"wrap": true, "isSubtle": true})
	}
	card := map[string]any{
		"$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
		"type":    "AdaptiveCard",
		"version": "1.4",
		"body":    body,
		"actions": []any{map[string]any{"type": "Action.OpenUrl", "title": msg(lang, "label.open"), "url": m.Link}},
	}
	return map[string]any{"type": "message", "attachments": []any{map[string]any{
		"contentType": "application/vnd.microsoft.card.adaptive", "content": card,
	}}}
}

// redact is a URL without its query and user info, which for robots
// hold the access token: safe for errors and logs.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable url)"
	}
	u.User, u.RawQuery, u.ForceQuery, u.Fragment = nil, "", false, ""
	return u.String()
}
