package notify

import (
	"bytes"
	"cmp"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"strings"
	"time"
	"unicode/utf8"
)

// Errors of [Mailer.Send]; the others wrap the server's reply (a
// *textproto.Error) or the network's.
var (
	// ErrInsecureAuth: a username is set but the connection would not be
	// encrypted, so the password would cross the network in clear.
	ErrInsecureAuth = errors.New("refusing to send smtp credentials without tls")
	// ErrNoStartTLS: StartTLS is set and the server does not offer it.
	ErrNoStartTLS = errors.New("smtp server does not offer starttls")
)

// Mailer sends e-mail through one SMTP server (a relay such as the
// company's, or a provider's submission port). It is a value to
// configure; Send may be called from many goroutines.
type Mailer struct {
	// Addr is the server's host:port: 587 with StartTLS, 465 with TLS
	// and StartTLS off (TLS from the first byte), 25 for a local relay.
	Addr string
	// From is the sender, with an optional name: innonet <noreply@example.cn>.
	From string
	// Username and Password log in with AUTH PLAIN, only ever over TLS.
	Username string
	Password string
	// StartTLS upgrades the connection before anything else is said,
	// and fails if the server cannot.
	StartTLS bool
	// TLS configures TLS (nil: the system's roots, the host of Addr); set
	// without StartTLS, the connection is TLS from the start.
	TLS *tls.Config
	// Timeout bounds a whole Send, with ctx (0: 30 seconds).
	Timeout time.Duration
}

// Send sends msg to the address to, as a multipart/alternative message
// (text and HTML) whose Message-ID is derived from key: the same key,
// the same Message-ID, so that a resend after a crash is recognisably
// the same message.
func (m *Mailer) Send(ctx context.Context, to string, msg Message, key string) error {
	from, err := mail.ParseAddress(m.From)
	if err != nil {
		return fmt.Errorf("mailer from %q: %w", m.From, err)
	}
	rcpt, err := mail.ParseAddress(to)
	if err != nil {
		return fmt.Errorf("recipient %q: %w", to, err)
	}
	if key == "" {
		return errors.New("send mail: the message key is required")
	}
	host, _, err := net.SplitHostPort(m.Addr)
	if err != nil {
		return fmt.Errorf("mailer addr %q: %w", m.Addr, err)
	}
	implicitTLS := !m.StartTLS && m.TLS != nil
	if m.Username != "" && !m.StartTLS && !implicitTLS {
		return ErrInsecureAuth
	}
	body, err := compose(from, rcpt, msg, key, time.Now())
	if err != nil {
		return err
	}

	ctx, cancel := context.WithTimeout(ctx, cmp.Or(m.Timeout, 30*time.Second))
	defer cancel()
	err = m.send(ctx, host, implicitTLS, from.Address, rcpt.Address, body)
	if err != nil && ctx.Err() != nil {
		// The connection was cut short: say why.
		return fmt.Errorf("send mail to %s via %s: %w", rcpt.Address, m.Addr, context.Cause(ctx))
	}
	if err != nil {
		return fmt.Errorf("send mail to %s via %s: %w", rcpt.Address, m.Addr, err)
	}
	return nil
}

func (m *Mailer) send(ctx context.Context, host string, implicitTLS bool, from, to string, body []byte) error {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", m.Addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	// A cancelled ctx unblocks whatever the exchange is waiting for. The
	// deadline is a backstop, a little later so that Send reports ctx's
	// error rather than an i/o timeout.
	defer context.AfterFunc(ctx, func() { conn.Close() })()
	if dl, ok := ctx.Deadline(); ok {
		if err := conn.SetDeadline(dl.Add(time.Second)); err != nil {
			return err
		}
	}

	cfg := m.tlsConfig(host)
	if implicitTLS {
		tc := tls.Client(conn, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			return fmt.Errorf("tls: %w", err)
		}
		conn = tc
	}
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		return err
	}
	defer func() { _ = c.Close() }() // after Quit, it only reports the closed connection
	if err := c.Hello(helloName(from)); err != nil {
		return fmt.Errorf("ehlo: %w", err)
	}
	if m.StartTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return ErrNoStartTLS
		}
		if err := c.StartTLS(cfg); err != nil {
			return fmt.Errorf("starttls: %w", err)
		}
	}
	if m.Username != "" {
		// PlainAuth refuses, too, to send the password in clear.
		if err := c.Auth(smtp.PlainAuth("", m.Username, m.Password, host)); err != nil {
			return fmt.Errorf("auth as %s: %w", m.Username, err)
		}
	}
	if err := c.Mail(from); err != nil {
		return fmt.Errorf("mail from %s: %w", from, err)
	}
	if err := c.Rcpt(to); err != nil {
		return fmt.Errorf("rcpt to %s: %w", to, err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("data: %w", err)
	}
	if _, err := w.Write(body); err != nil {
		return fmt.Errorf("data: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("data: %w", err)
	}
	if err := c.Quit(); err != nil {
		return fmt.Errorf("quit: %w", err)
	}
	return nil
}

func (m *Mailer) tlsConfig(host string) *tls.Config {
	var cfg *tls.Config
	if m.TLS != nil {
		cfg = m.TLS.Clone()
	} else {
		cfg = &tls.Config{}
	}
	if cfg.ServerName == "" {
		cfg.ServerName = host
	}
	if cfg.MinVersion == 0 {
		cfg.MinVersion = tls.VersionTLS12
	}
	return cfg
}

// compose writes the message: headers, then the text and HTML parts,
// quoted-printable in UTF-8, with CRLF line ends throughout.
func compose(from, to *mail.Address, msg Message, key string, now time.Time) ([]byte, error) {
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	header := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	header("From", encodeAddress(from))
	header("To", encodeAddress(to))
	header("Subject", encodeSubject(msg.Subject))
	header("Date", now.Format(time.RFC1123Z))
	header("Message-ID", MessageID(key, from.Address))
	header("MIME-Version", "1.0")
	// Vacation responders and Outlook's auto-replies leave it alone.
	header("Auto-Submitted", "auto-generated")
	header("X-Auto-Response-Suppress", "All")
	header("Content-Type", `multipart/alternative; boundary="`+mw.Boundary()+`"`)
	b.WriteString("\r\n")
	for _, part := range []struct{ typ, body string }{{"text/plain", msg.Text}, {"text/html", msg.HTML}} {
		pw, err := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {part.typ + "; charset=utf-8"},
			"Content-Transfer-Encoding": {"quoted-printable"},
		})
		if err != nil {
			return nil, fmt.Errorf("compose mail: %w", err)
		}
		qp := quotedprintable.NewWriter(pw)
		if _, err := qp.Write([]byte(part.body)); err != nil {
			return nil, fmt.Errorf("compose mail: %w", err)
		}
		if err := qp.Close(); err != nil {
			return nil, fmt.Errorf("compose mail: %w", err)
		}
	}
	if err := mw.Close(); err != nil {
		return nil, fmt.Errorf("compose mail: %w", err)
	}
	return b.Bytes(), nil
}

// encodeSubject encodes a subject that is not short plain ASCII as
// RFC 2047 words (base64: shorter than Q for Chinese), each on its own
// folded line, so that no line passes 78 characters.
func encodeSubject(s string) string {
	s = oneLine(s)
	if len(s) <= 60 && isPrintableASCII(s) {
		return s
	}
	return encodeWords(s)
}

// encodeAddress is an address header's value; a name that is not plain
// ASCII is encoded and the address folded onto its own line.
func encodeAddress(a *mail.Address) string {
	if a.Name == "" || isPrintableASCII(a.Name) && len(a.Name) <= 40 {
		return a.String()
	}
	return encodeWords(a.Name) + "\r\n <" + a.Address + ">"
}

// encodeWords encodes s as base64 encoded-words of at most 36 bytes of
// UTF-8 each (60 characters encoded), never splitting a character.
func encodeWords(s string) string {
	const maxBytes = 36
	var words []string
	for len(s) > 0 {
		n := 0
		for n < len(s) {
			_, size := utf8.DecodeRuneInString(s[n:])
			if n > 0 && n+size > maxBytes {
				break
			}
			n += size
		}
		words = append(words, "=?utf-8?b?"+base64.StdEncoding.EncodeToString([]byte(s[:n]))+"?=")
		s = s[n:]
	}
	return strings.Join(words, "\r\n ")
}

func isPrintableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

// MessageID is the Message-ID of the e-mail with idempotency key key
// sent from address from: <key@from's domain>, with any character a
// Message-ID may not hold replaced by "-".
func MessageID(key, from string) string {
	domain := "innonet.invalid"
	if i := strings.LastIndexByte(from, '@'); i >= 0 && i+1 < len(from) {
		domain = from[i+1:]
	}
	return "<" + atom(key) + "@" + atom(domain) + ">"
}

func atom(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', strings.ContainsRune("!#$%&'*+-/=?^_`{|}~.", r):
			return r
		}
		return '-'
	}, s)
}

// helloName is the name the client greets with: the sender's domain,
// which relays accept more readily than "localhost".
func helloName(from string) string {
	if i := strings.LastIndexByte(from, '@'); i >= 0 && i+1 < len(from) {
		return from[i+1:]
	}
	return "localhost"
}
