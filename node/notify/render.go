package notify

import (
	"bytes"
	"cmp"
	"fmt"
	"html/template"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Message is a notification rendered for a reader: an e-mail's subject,
// plain-text and HTML bodies, and the console page it points to.
type Message struct {
	Subject string
	Text    string
	HTML    string
	Link    string
}

// maxSubjectTitle is how much of a lead's title a subject shows, in
// runes; the body shows it all.
const maxSubjectTitle = 60

// Render renders n in lang (zh or en; see [Lang]) with a link to the
// lead in the console at consoleURL.
func Render(n Notification, lang string, consoleURL string) Message {
	lang = Lang(lang)
	e := n.Event
	link := Link(consoleURL, e.LeadID)
	it := item(n, lang, link)
	subject := "[innonet] " + fmt.Sprintf(msg(lang, subjectKey(n)), e.LeadID, clip(oneLine(e.LeadTitle), maxSubjectTitle))

	var text strings.Builder
	text.WriteString(it.Headline + "\n")
	if it.Note != "" {
		text.WriteString(it.Note + "\n")
	}
	colon := msg(lang, "label.colon")
	if it.Comment != "" {
		fmt.Fprintf(&text, "\n%s%s\n%s\n", it.CommentLabel, strings.TrimSpace(colon), indent(it.Comment))
	}
	text.WriteString("\n")
	if it.Time != "" {
		fmt.Fprintf(&text, "%s%s%s\n", msg(lang, "label.time"), colon, it.Time)
	}
	fmt.Fprintf(&text, "%s%s%s\n\n-- \n%s\n", msg(lang, "label.open"), colon, link, msg(lang, "label.footer"))

	page := messagePage{Lang: lang, Title: subject, Items: []messageItem{it},
		Open: msg(lang, "label.open"), Footer: msg(lang, "label.footer")}
	return Message{Subject: oneLine(subject), Text: text.String(), HTML: execute(page), Link: link}
}

// RenderDigest renders a day's notifications of one reader as one
// message, in log order.
func RenderDigest(ns []Notification, lang, consoleURL string, day time.Time) Message {
	lang = Lang(lang)
	ns = slices.Clone(ns)
	slices.SortStableFunc(ns, func(a, b Notification) int { return cmp.Compare(a.Event.Index, b.Event.Index) })
	date := day.Format("2006-01-02")
	subject := "[innonet] " + fmt.Sprintf(msg(lang, "digest.subject"), date, len(ns))
	page := messagePage{Lang: lang, Title: subject, Intro: msg(lang, "digest.intro"),
		Open: msg(lang, "label.open"), Footer: msg(lang, "label.footer"), Digest: true}
	var text strings.Builder
	text.WriteString(page.Intro + "\n")
	for _, n := range ns {
		link := Link(consoleURL, n.Event.LeadID)
		it := item(n, lang, link)
		page.Items = append(page.Items, it)
		fmt.Fprintf(&text, "\n* %s\n", it.Headline)
		if it.Note != "" {
			fmt.Fprintf(&text, "  %s\n", it.Note)
		}
		if it.Comment != "" {
			fmt.Fprintf(&text, "  %s%s%s\n", it.CommentLabel, msg(lang, "label.colon"), clip(oneLine(it.Comment), 200))
		}
		fmt.Fprintf(&text, "  %s\n", link)
	}
	fmt.Fprintf(&text, "\n-- \n%s\n", page.Footer)
	return Message{Subject: oneLine(subject), Text: text.String(), HTML: execute(page), Link: trimSlash(consoleURL) + "/"}
}

// messageItem is one notification as the templates show it.
type messageItem struct {
	Headline     string
	Note         string
	CommentLabel string
	Comment      string
	Time         string
	Link         string
}

type messagePage struct {
	Lang   string
	Title  string
	Intro  string
	Items  []messageItem
	Open   string
	Footer string
	Digest bool
}

func item(n Notification, lang, link string) messageItem {
	e := n.Event
	it := messageItem{Headline: headline(n, lang), Comment: strings.TrimSpace(e.Comment), Link: link,
		CommentLabel: msg(lang, "label.comment")}
	if n.Kind == Returned {
		it.CommentLabel = msg(lang, "label.question")
	}
	if n.Kind == PublishedMatch {
		it.Note = msg(lang, "label.match")
	}
	if !e.Time.IsZero() {
		it.Time = e.Time.Format("2006-01-02 15:04 MST")
	}
	return it
}

func headline(n Notification, lang string) string {
	e := n.Event
	title := oneLine(e.LeadTitle)
	if e.SLA != nil {
		// Due is shown in its own zone: the calendar of who must act.
		return fmt.Sprintf(msg(lang, "sla."+slaState(e.SLA)), party(lang, e.SLA.MustAct), e.LeadID, title,
			e.SLA.Due.Format("2006-01-02 15:04 MST"), stage(lang, cmp.Or(e.To, e.From)))
	}
	key := "action." + e.Action
	if !has(lang, key) {
		key = "action.OTHER"
	}
	related := e.Related
	if related == "" {
		related = msg(lang, "party.another")
	}
	return fmt.Sprintf(msg(lang, key), actor(lang, e), e.LeadID, title, stage(lang, e.From), stage(lang, e.To),
		party(lang, e.Division), e.Action, related)
}

func subjectKey(n Notification) string {
	if n.Event.SLA != nil {
		return "subject.SLA." + slaState(n.Event.SLA)
	}
	if !has("en", "subject."+string(n.Kind)) {
		return "subject.STAGE_CHANGED"
	}
	return "subject." + string(n.Kind)
}

func slaState(w *SLAWarning) string {
	if w.State == SLAOver {
		return SLAOver
	}
	return SLANear
}

// actor is who acted, with the site or division they act for.
func actor(lang string, e Event) string {
	name := oneLine(cmp.Or(e.ActorName, e.ActorID))
	if name == "" {
		return msg(lang, "party.system")
	}
	if e.ActorHome == "" {
		return name
	}
	return name + " (" + party(lang, e.ActorHome) + ")"
}

func party(lang, p string) string {
	if p == PartyHQ || p == PartyDivisions {
		return msg(lang, "party."+p)
	}
	return oneLine(p)
}

func stage(lang, s string) string {
	if k := "stage." + s; has(lang, k) {
		return msg(lang, k)
	}
	return s
}

// htmlPage is parsed once; executing it is safe from many goroutines.
// html/template escapes every field for its context, the link included.
var htmlPage = template.Must(template.New("message").Parse(`<!DOCTYPE html>
<html lang="{{.Lang}}">
<head><meta charset="utf-8"><title>{{.Title}}</title></head>
<body style="font-family: sans-serif; line-height: 1.5; color: #222">
{{- if .Intro}}
<p>{{.Intro}}</p>
{{- end}}
{{- if .Digest}}
<ul>
{{- range .Items}}
<li><p><a href="{{.Link}}">{{.Headline}}</a></p>
{{- if .Note}}<p>{{.Note}}</p>{{end}}
{{- if .Comment}}<blockquote style="white-space: pre-wrap; color: #555">{{.Comment}}</blockquote>{{end}}</li>
{{- end}}
</ul>
{{- else}}
{{- range .Items}}
<p>{{.Headline}}</p>
{{- if .Note}}
<p>{{.Note}}</p>
{{- end}}
{{- if .Comment}}
<p><strong>{{.CommentLabel}}</strong></p>
<blockquote style="white-space: pre-wrap; color: #555">{{.Comment}}</blockquote>
{{- end}}
{{- if .Time}}
<p style="color: #777">{{.Time}}</p>
{{- end}}
<p><a href="{{.Link}}">{{$.Open}}</a></p>
{{- end}}
{{- end}}
<hr>
<p style="color: #777; font-size: small">{{.Footer}}</p>
</body>
</html>
`))

func execute(p messagePage) string {
	var b bytes.Buffer
	if err := htmlPage.Execute(&b, p); err != nil {
		// The template and its data are ours: a failure is a bug.
		panic(fmt.Sprintf("notify: render html: %v", err))
	}
	return b.String()
}

// oneLine folds control characters (a newline in a title) to spaces, so
// that a subject stays one header line.
func oneLine(s string) string {
	if !strings.ContainsFunc(s, unicode.IsControl) {
		return s
	}
	return strings.Join(strings.FieldsFunc(s, unicode.IsControl), " ")
}

func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\n", "\n  ")
}

func trimSlash(u string) string { return strings.TrimRight(u, "/") }
