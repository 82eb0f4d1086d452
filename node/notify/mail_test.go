package notify

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"log"
	"math/big"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// mailbox is an in-process SMTP server on 127.0.0.1 that keeps what it
// receives.
type mailbox struct {
	addr string
	// refuse, if set, is the recipient the server rejects with 550.
	refuse string
	mu     sync.Mutex
	got    []received
}

type received struct {
	from, to, user string
	tls            bool
	data           []byte
}

func (mb *mailbox) messages() []received {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	return append([]received(nil), mb.got...)
}

type session struct {
	mb   *mailbox
	conn *smtp.Conn
	user string
	cur  received
}

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != "hq-mailer" || pass != "s3cret-过桥" {
			return smtp.ErrAuthFailed
		}
		s.user = user
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error { s.cur.from = from; return nil }

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if to == s.mb.refuse {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such mailbox"}
	}
	s.cur.to = to
	return nil
}

func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.cur.data, s.cur.user = b, s.user
	_, s.cur.tls = s.conn.TLSConnectionState()
	s.mb.mu.Lock()
	s.mb.got = append(s.mb.got, s.cur)
	s.mb.mu.Unlock()
	return nil
}

func (s *session) Reset()        { s.cur = received{} }
func (s *session) Logout() error { return nil }

// serveMail starts a server; with cert, it offers STARTTLS (or, with
// implicit, speaks TLS from the start).
func serveMail(t *testing.T, cert *tls.Certificate, implicit bool) *mailbox {
	t.Helper()
	mb := &mailbox{}
	s := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{mb: mb, conn: c}, nil
	}))
	s.Domain = "mx.test"
	s.ErrorLog = log.New(io.Discard, "", 0) // clients that hang up on purpose
	s.ReadTimeout, s.WriteTimeout = 10*time.Second, 10*time.Second
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if cert != nil {
		s.TLSConfig = &tls.Config{Certificates: []tls.Certificate{*cert}}
		if implicit {
			l = tls.NewListener(l, s.TLSConfig)
		}
	}
	mb.addr = l.Addr().String()
	go func() { _ = s.Serve(l) }()
	t.Cleanup(func() { _ = s.Close() })
	return mb
}

// selfSigned makes a certificate for 127.0.0.1 and a pool that trusts it.
func selfSigned(t *testing.T) (*tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "mx.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

func testMessage() Message {
	e := Event{Index: 77, LeadID: "L-0077", LeadTitle: "氢燃料电池双极板 <镀层> 与一个很长很长很长很长很长很长很长的标题",
		Action: ActionReturn, ActorName: "王芳", ActorHome: "HQ", Time: time.Now(),
		Comment: "请说明专利状态。\n.\n.一行以点开头的文字\n" + strings.Repeat("长行", 80)}
	return Render(Notification{UserID: "tum1", Kind: Returned, Event: e}, "zh", "https://console.example")
}

func TestSendStartTLSAuth(t *testing.T) {
	cert, pool := selfSigned(t)
	mb := serveMail(t, cert, false)
	m := &Mailer{Addr: mb.addr, From: "创新网络 <noreply@innonet.example>", Username: "hq-mailer", Password: "s3cret-过桥",
		StartTLS: true, TLS: &tls.Config{RootCAs: pool}, Timeout: 10 * time.Second}
	msg := testMessage()
	if err := m.Send(t.Context(), "anna@tum.example", msg, "innonet-77-RETURNED-tum1"); err != nil {
		t.Fatal(err)
	}
	got := mb.messages()
	if len(got) != 1 {
		t.Fatalf("server got %d messages", len(got))
	}
	r := got[0]
	if r.from != "noreply@innonet.example" || r.to != "anna@tum.example" || r.user != "hq-mailer" || !r.tls {
		t.Errorf("envelope from=%s to=%s user=%s tls=%v", r.from, r.to, r.user, r.tls)
	}
	checkDecodes(t, r.data, msg, "<innonet-77-RETURNED-tum1@innonet.example>", "创新网络")
}

func TestSendImplicitTLS(t *testing.T) {
	cert, pool := selfSigned(t)
	mb := serveMail(t, cert, true)
	m := &Mailer{Addr: mb.addr, From: "noreply@innonet.example", Username: "hq-mailer", Password: "s3cret-过桥",
		TLS: &tls.Config{RootCAs: pool}}
	msg := testMessage()
	if err := m.Send(t.Context(), "anna@tum.example", msg, "k1"); err != nil {
		t.Fatal(err)
	}
	got := mb.messages()
	if len(got) != 1 || !got[0].tls || got[0].user != "hq-mailer" {
		t.Fatalf("got %d messages", len(got))
	}
	checkDecodes(t, got[0].data, msg, "<k1@innonet.example>", "")
}

// checkDecodes parses the message as a mail reader would and compares it
// with what was sent.
func checkDecodes(t *testing.T, data []byte, msg Message, messageID, fromName string) {
	t.Helper()
	for _, line := range strings.Split(string(data), "\n") {
		if !strings.HasSuffix(line, "\r") && line != "" {
			t.Fatalf("bare LF in %q", line)
		}
		if len(line) > 78 && !strings.HasPrefix(line, "Content-Type: multipart/alternative") {
			t.Errorf("line of %d bytes: %q", len(line), line)
		}
	}
	pm, err := mail.ReadMessage(strings.NewReader(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	var dec mime.WordDecoder
	raw := pm.Header.Get("Subject")
	subject, err := dec.DecodeHeader(raw)
	if err != nil || subject != msg.Subject {
		t.Errorf("subject %q (%v), want %q", subject, err, msg.Subject)
	}
	if !strings.HasPrefix(raw, "=?utf-8?b?") {
		t.Errorf("subject not RFC 2047 encoded: %q", raw)
	}
	if got := pm.Header.Get("Message-Id"); got != messageID {
		t.Errorf("Message-ID %q, want %q", got, messageID)
	}
	if _, err := pm.Header.Date(); err != nil {
		t.Errorf("Date: %v", err)
	}
	from, err := pm.Header.AddressList("From")
	if err != nil || len(from) != 1 || from[0].Address != "noreply@innonet.example" || from[0].Name != fromName {
		t.Errorf("From %v (%v)", from, err)
	}
	mt, params, err := mime.ParseMediaType(pm.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("Content-Type %q (%v)", mt, err)
	}
	mr := multipart.NewReader(pm.Body, params["boundary"])
	want := map[string]string{"text/plain": msg.Text, "text/html": msg.HTML}
	for range 2 {
		p, err := mr.NextPart() // decodes quoted-printable
		if err != nil {
			t.Fatal(err)
		}
		ct, cp, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		if cp["charset"] != "utf-8" {
			t.Errorf("%s charset %q", ct, cp["charset"])
		}
		body, err := io.ReadAll(p)
		if err != nil {
			t.Fatal(err)
		}
		// The wire has CRLF line ends; the message LF.
		if got := strings.ReplaceAll(string(body), "\r\n", "\n"); got != want[ct] {
			t.Errorf("%s body:\n%s\nwant:\n%s", ct, got, want[ct])
		}
		delete(want, ct)
	}
	if len(want) != 0 {
		t.Errorf("parts missing: %v", want)
	}
}

func TestSendRefused(t *testing.T) {
	cert, pool := selfSigned(t)
	mb := serveMail(t, cert, false)
	mb.refuse = "gone@tum.example"
	tlsCfg := &tls.Config{RootCAs: pool}
	plain := serveMail(t, nil, false)

	cases := []struct {
		name string
		m    Mailer
		to   string
		is   error
		code int
		text string
	}{
		{"recipient refused", Mailer{Addr: mb.addr, From: "noreply@innonet.example", StartTLS: true, TLS: tlsCfg},
			"gone@tum.example", nil, 550, "rcpt to gone@tum.example"},
		{"wrong password", Mailer{Addr: mb.addr, From: "noreply@innonet.example", Username: "hq-mailer", Password: "guess",
			StartTLS: true, TLS: tlsCfg}, "anna@tum.example", nil, 535, "auth as hq-mailer"},
		{"credentials without TLS", Mailer{Addr: plain.addr, From: "noreply@innonet.example", Username: "hq-mailer",
			Password: "s3cret-过桥"}, "anna@tum.example", ErrInsecureAuth, 0, "without tls"},
		{"no STARTTLS offered", Mailer{Addr: plain.addr, From: "noreply@innonet.example", StartTLS: true},
			"anna@tum.example", ErrNoStartTLS, 0, "via " + plain.addr},
		{"untrusted certificate", Mailer{Addr: mb.addr, From: "noreply@innonet.example", StartTLS: true},
			"anna@tum.example", nil, 0, "starttls: tls: failed to verify certificate"},
		{"bad recipient", Mailer{Addr: mb.addr, From: "noreply@innonet.example"}, "not an address", nil, 0, "recipient"},
		{"no server", Mailer{Addr: "127.0.0.1:1", From: "noreply@innonet.example"}, "anna@tum.example", nil, 0,
			"connection refused"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.m.Send(t.Context(), c.to, testMessage(), "k")
			if err == nil {
				t.Fatal("sent")
			}
			if c.is != nil && !errors.Is(err, c.is) {
				t.Errorf("got %v, want %v", err, c.is)
			}
			var te *textproto.Error
			if c.code != 0 && (!errors.As(err, &te) || te.Code != c.code) {
				t.Errorf("got %v, want code %d", err, c.code)
			}
			if !strings.Contains(err.Error(), c.text) {
				t.Errorf("got %q, want it to say %q", err, c.text)
			}
		})
	}
	if n := len(mb.messages()) + len(plain.messages()); n != 0 {
		t.Errorf("servers got %d messages", n)
	}
}

func TestSendBoundedByContext(t *testing.T) {
	// A server that accepts and never greets.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	for _, c := range []struct {
		name    string
		timeout time.Duration
		ctx     func() (context.Context, context.CancelFunc)
	}{
		{"ctx", time.Minute, func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(t.Context(), 200*time.Millisecond)
		}},
		{"Timeout", 200 * time.Millisecond, func() (context.Context, context.CancelFunc) {
			return context.WithCancel(t.Context())
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := c.ctx()
			defer cancel()
			m := &Mailer{Addr: l.Addr().String(), From: "noreply@innonet.example", Timeout: c.timeout}
			start := time.Now()
			err := m.Send(ctx, "anna@tum.example", testMessage(), "k")
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("got %v, want a deadline error", err)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}

func TestMessageID(t *testing.T) {
	if got := MessageID("innonet-1-COMMENT-u 1<x>", "a@b.example"); got != "<innonet-1-COMMENT-u-1-x-@b.example>" {
		t.Errorf("got %s", got)
	}
}
