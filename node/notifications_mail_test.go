package node

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"mime"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"innonet/node/notify"
	innonetpb "innonet/proto/innonet/v1"
)

// mailbox is a real SMTP server on 127.0.0.1 (go-smtp) that keeps what
// it receives.
type mailbox struct {
	mu   sync.Mutex
	msgs []*mail.Message
	addr string
}

type mailSession struct {
	mb *mailbox
}

func (s *mailSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *mailSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s *mailSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m, err := mail.ReadMessage(bytes.NewReader(b))
	if err != nil {
		return err
	}
	s.mb.mu.Lock()
	s.mb.msgs = append(s.mb.msgs, m)
	s.mb.mu.Unlock()
	return nil
}
func (s *mailSession) Reset()        {}
func (s *mailSession) Logout() error { return nil }

func serveMailbox(t *testing.T) *mailbox {
	t.Helper()
	mb := &mailbox{}
	s := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &mailSession{mb: mb}, nil }))
	s.Domain = "mx.test"
	s.ErrorLog = log.New(io.Discard, "", 0)
	s.ReadTimeout, s.WriteTimeout = 10*time.Second, 10*time.Second
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mb.addr = l.Addr().String()
	go func() { _ = s.Serve(l) }()
	t.Cleanup(func() { _ = s.Close() })
	return mb
}

func (mb *mailbox) subjects() []string {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	var out []string
	dec := new(mime.WordDecoder)
	for _, m := range mb.msgs {
		s, err := dec.DecodeHeader(m.Header.Get("Subject"))
		if err != nil {
			s = m.Header.Get("Subject")
		}
		out = append(out, s+" <"+m.Header.Get("Message-Id")+">")
	}
	return out
}

// TestEmailNotifications has the leader e-mail a node's staff, in their
// language, when HQ returns their lead, once per notification.
func TestEmailNotifications(t *testing.T) {
	mb := serveMailbox(t)
	tc := newTestCluster(t, []string{"CGO"}, nil, func(c *Config) {
		c.Mailer = &notify.Mailer{Addr: mb.addr, From: "innonet <noreply@innonet.test>"}
		c.ConsoleURL = "https://console.innonet.test"
	})
	n := tc.node("CGO")
	waitFormat2(tc, n)
	bos := tc.clients(n, tc.addUser("Beth Boston", innonetpb.Role_NODE_STAFF, "BOS", ""))
	hq := tc.clients(n, tc.addUser("Hui Reviewer", innonetpb.Role_HQ_REVIEWER, "", ""))
	nc := innonetpb.NewNotificationServiceClient(tc.conn(n))
	if _, err := nc.UpdateNotificationPreferences(bos.ctx(t), &innonetpb.UpdateNotificationPreferencesRequest{RequestId: rid(),
		Email: "beth@bos.example", EmailOn: true, Lang: "zh"}); err != nil {
		t.Fatal(err)
	}
	l, err := bos.leads.SubmitLead(bos.ctx(t), sampleLead("A lead HQ asks about"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := hq.leads.ReviewLead(hq.ctx(t), &innonetpb.ReviewLeadRequest{Id: l.Id, RequestId: rid(),
		Decision: innonetpb.Decision_RETURN, Comment: "Which TRL, exactly?"}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "the e-mail", func() error {
		if got := mb.subjects(); len(got) != 1 {
			return fmt.Errorf("got %v", got)
		}
		return nil
	})
	got := mb.subjects()[0]
	if !strings.Contains(got, l.Id) || !containsHan(got) || !strings.Contains(got, "innonet-") {
		t.Errorf("the e-mail: %q", got)
	}
	// Recorded: the next round sends nothing more.
	eventually(t, 10*time.Second, "the delivery recorded", func() error {
		s, err := n.State().Sink("email:" + mustWhoAmI(t, bos).Id)
		if err != nil || s == nil || s.Through == 0 {
			return fmt.Errorf("sink %v %v", s, err)
		}
		return nil
	})
	// Rounds of the dispatcher after the recording send nothing more.
	r0 := n.notifier.rounds.Load()
	eventually(t, 20*time.Second, "two more dispatch rounds", func() error {
		n.kickDispatcher()
		if r := n.notifier.rounds.Load(); r < r0+2 {
			return fmt.Errorf("%d rounds", r-r0)
		}
		return nil
	})
	if got := mb.subjects(); len(got) != 1 {
		t.Errorf("sent again: %v", got)
	}
}

func mustWhoAmI(t *testing.T, c testClients) *innonetpb.User {
	t.Helper()
	ctx, cancel := context.WithTimeout(withToken(context.Background(), c.token), 5*time.Second)
	defer cancel()
	u, err := c.users.WhoAmI(ctx, &innonetpb.WhoAmIRequest{})
	if err != nil {
		t.Fatal(err)
	}
	return u
}
