package node

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"

	"innonet/node/guard"
	innonetpb "innonet/proto/innonet/v1"
)

// wideChar takes four bytes in UTF-8 and twelve as a JSON escape.
const (
	wideChar     = "𝔸"
	wideCharJSON = `\ud835\udd38`
)

// largestLead is a valid lead with every field at its limit, in
// characters of four bytes.
func largestLead() *innonetpb.SubmitLeadRequest {
	w := func(n int) string { return strings.Repeat(wideChar, n) }
	r := sampleLead(w(200))
	r.Summary, r.Organization = w(5000), w(200)
	for i := 0; i < 20; i++ {
		r.Tags = append(r.Tags, w(49)+fmt.Sprint(i%10))
	}
	for i := 0; i < 10; i++ {
		r.Contacts = append(r.Contacts, &innonetpb.Contact{Name: w(200),
			Email: strings.Repeat("x", 240) + "@example.org", Phone: strings.Repeat("1", 50)})
	}
	return r
}

// TestLimitMessageSize: the largest valid lead passes over gRPC and as
// fully escaped JSON; anything much larger is refused at the door, with
// RESOURCE_EXHAUSTED or 413, logged and counted, and changes nothing.
func TestLimitMessageSize(t *testing.T) {
	tc := newTestCluster(t, []string{"CGO"}, nil)
	n := tc.node("CGO")
	staff := tc.addUser("Emily Carter", innonetpb.Role_NODE_STAFF, "BOS", "")
	c := tc.clients(n, staff)

	t.Run("the largest valid lead passes", func(t *testing.T) {
		big := largestLead()
		if _, err := c.leads.SubmitLead(c.ctx(t), big); err != nil {
			t.Fatalf("gRPC: %v", err)
		}
		raw, err := json.Marshal(map[string]any{"requestId": rid(), "title": big.Title, "summary": big.Summary,
			"organization": big.Organization, "country": "US", "sector": "IT_AI", "trl": 4, "dealType": "INVESTMENT",
			"tags": big.Tags, "contacts": big.Contacts})
		if err != nil {
			t.Fatal(err)
		}
		body := strings.ReplaceAll(string(raw), wideChar, wideCharJSON)
		if code, _, resp := restFrom(t, n, "127.0.0.1", "POST", "/v1/leads", staff, strings.NewReader(body)); code != http.StatusOK {
			t.Fatalf("REST (%d bytes): got %d %.300s, want 200", len(body), code, resp)
		}
	})

	huge := strings.Repeat("x", 2<<20)
	t.Run("oversized gRPC message", func(t *testing.T) {
		req := sampleLead("Huge")
		req.Summary = huge
		_, err := c.leads.SubmitLead(c.ctx(t), req)
		checkStatus(t, err, codes.ResourceExhausted, "larger than max")
	})
	body := `{"requestId":"` + rid() + `","title":"T","summary":"` + huge + `","organization":"O","country":"US","sector":"IT_AI","trl":4,"dealType":"INVESTMENT"}`
	for _, tt := range []struct {
		name string
		body io.Reader
	}{
		{"oversized REST body with a length", strings.NewReader(body)},
		{"oversized REST body, chunked", io.MultiReader(strings.NewReader(body))}, // no length known
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, _, raw := restFrom(t, n, "127.0.0.1", "POST", "/v1/leads", staff, tt.body)
			var st struct {
				Code    int    `json:"code"`
				Message string `json:"message"`
			}
			if err := json.Unmarshal(raw, &st); err != nil {
				t.Fatalf("got %d with body %.200q: %v", code, raw, err)
			}
			if code != http.StatusRequestEntityTooLarge || st.Code != int(codes.ResourceExhausted) || !strings.Contains(st.Message, "too large") {
				t.Errorf("got %d %s, want 413 with code 8 and a message", code, raw)
			}
		})
	}
	t.Run("refused requests changed nothing, and were logged", func(t *testing.T) {
		if got := totalLeads(n); got != 2 {
			t.Errorf("got %d leads, want the 2 largest valid ones", got)
		}
		text, recs := securityLines(t, n)
		checkNoSecrets(t, text, staff, testAdminToken)
		if strings.Contains(text, "xxxxxxxx") {
			t.Error("the security log holds request content")
		}
		methods := map[string]bool{}
		for _, r := range recs {
			if r.Kind == guard.Oversized {
				methods[r.Method] = true
			}
		}
		if !methods[innonetpb.LeadService_SubmitLead_FullMethodName] || !methods["POST /v1/leads"] {
			t.Errorf("got oversized events for %v, want the gRPC method and POST /v1/leads:\n%s", methods, text)
		}
		if got := securityCount(t, n, guard.Oversized); got != 3 {
			t.Errorf("got %v oversized events, want 3", got)
		}
	})
}

// TestLimitSlowClients: a client that dribbles its headers or its body is
// cut off after the time limit, and one with huge headers is refused,
// while others are served.
func TestLimitSlowClients(t *testing.T) {
	const limit = 300 * time.Millisecond
	tc := newTestCluster(t, []string{"CGO"}, nil, withLimits(func(l *Limits) { l.ReadHeaderTimeout, l.BodyReadTimeout, l.MaxHeaderBytes = limit, limit, 8<<10 }))
	n := tc.node("CGO")
	staff := tc.addUser("Emily Carter", innonetpb.Role_NODE_STAFF, "BOS", "")

	// dribble opens a connection, sends head and then one piece of tail
	// every 50ms until the server closes the connection, and returns what
	// the server sent and how long it kept the connection.
	dribble := func(t *testing.T, head, tail string) (string, time.Duration) {
		t.Helper()
		conn, err := net.DialTimeout("tcp", n.Addr(), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		start := time.Now()
		if _, err := io.WriteString(conn, head); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		defer close(done)
		go func() {
			tick := time.NewTicker(50 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-done:
					return
				case <-tick.C:
					if _, err := io.WriteString(conn, tail); err != nil {
						return
					}
				}
			}
		}()
		// A server without the limit would keep reading: give up well
		// after it.
		conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		got, err := io.ReadAll(conn)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("the server still held the connection after %s, having answered %q", time.Since(start), got)
		}
		return string(got), time.Since(start)
	}

	t.Run("slow-loris headers", func(t *testing.T) {
		got, held := dribble(t, "GET /healthz HTTP/1.1\r\nHost: x\r\n", "X-Slow: a\r\n")
		if got != "" || held > 5*time.Second {
			t.Errorf("got answer %q after %s, want the connection closed silently after about %s", got, held, limit)
		}
	})
	t.Run("slow body", func(t *testing.T) {
		got, held := dribble(t, "POST /v1/leads HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAuthorization: Bearer "+staff+
			"\r\nContent-Length: 1000\r\n\r\n{", " ")
		resp, err := http.ReadResponse(bufio.NewReader(strings.NewReader(got)), nil)
		if err != nil {
			t.Fatalf("got %q after %s: %v", got, held, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestTimeout || held > 5*time.Second {
			t.Errorf("got %d after %s, want 408 after about %s", resp.StatusCode, held, limit)
		}
	})
	t.Run("huge headers", func(t *testing.T) {
		req, err := http.NewRequest("GET", "http://"+n.Addr()+"/v1/leads", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Padding", strings.Repeat("p", 64<<10))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
			t.Errorf("got %d, want 431", resp.StatusCode)
		}
	})
	t.Run("others are served", func(t *testing.T) {
		if code, _, _ := rawGet(t, n, "/v1/me", staff); code != http.StatusOK {
			t.Errorf("got %d, want 200", code)
		}
	})
	t.Run("logged without the token", func(t *testing.T) {
		text, recs := securityLines(t, n)
		checkNoSecrets(t, text, staff)
		if countKind(recs, guard.SlowClient, "127.0.0.1") != 1 {
			t.Errorf("got no single slow_client event:\n%s", text)
		}
		if got := totalLeads(n); got != 0 {
			t.Errorf("got %d leads, want none", got)
		}
	})
}

// rawBytes is a request as raw protobuf wire bytes, for what Go's
// protobuf refuses to marshal (invalid UTF-8).
type rawBytes []byte

type rawBytesCodec struct{}

func (rawBytesCodec) Marshal(v any) (mem.BufferSlice, error) {
	return mem.BufferSlice{mem.SliceBuffer(*v.(*rawBytes))}, nil
}

func (rawBytesCodec) Unmarshal(data mem.BufferSlice, v any) error {
	*v.(*rawBytes) = data.Materialize()
	return nil
}

func (rawBytesCodec) Name() string { return "proto" }

// TestLimitValidation: requests with enum numbers their type does not
// define, page sizes and tokens out of bounds, malformed IDs or bytes that
// do not parse get INVALID_ARGUMENT (HTTP 400) and change nothing.
func TestLimitValidation(t *testing.T) {
	tc := newTestCluster(t, []string{"CGO"}, nil)
	n := tc.node("CGO")
	staff := tc.addUser("Emily Carter", innonetpb.Role_NODE_STAFF, "BOS", "")
	hq := tc.addUser("Li Wei", innonetpb.Role_HQ_REVIEWER, "", "")
	admin, bos, rev := tc.clients(n, testAdminToken), tc.clients(n, staff), tc.clients(n, hq)
	lead, err := bos.leads.SubmitLead(bos.ctx(t), sampleLead("Valid"))
	if err != nil {
		t.Fatal(err)
	}
	withSector := func(s innonetpb.Sector) *innonetpb.Sector { return &s }
	tests := []struct {
		name string
		call func(t *testing.T) error
		want []string
	}{
		{"sector 99", func(t *testing.T) error {
			r := sampleLead("Enum")
			r.Sector = 99
			_, err := bos.leads.SubmitLead(bos.ctx(t), r)
			return err
		}, []string{"sector", "99"}},
		{"deal type 42", func(t *testing.T) error {
			r := sampleLead("Enum")
			r.DealType = 42
			_, err := bos.leads.SubmitLead(bos.ctx(t), r)
			return err
		}, []string{"deal_type", "42"}},
		{"update to sector 99", func(t *testing.T) error {
			_, err := bos.leads.UpdateLead(bos.ctx(t), &innonetpb.UpdateLeadRequest{Id: lead.Id, RequestId: rid(), Sector: withSector(99)})
			return err
		}, []string{"sector", "99"}},
		{"decision 99", func(t *testing.T) error {
			_, err := rev.leads.ReviewLead(rev.ctx(t), &innonetpb.ReviewLeadRequest{Id: lead.Id, RequestId: rid(), Decision: 99})
			return err
		}, []string{"decision", "99"}},
		{"advance to stage 42", func(t *testing.T) error {
			_, err := rev.leads.AdvanceLead(rev.ctx(t), &innonetpb.AdvanceLeadRequest{Id: lead.Id, RequestId: rid(), Stage: 42})
			return err
		}, []string{"stage", "42"}},
		{"list stage 42", func(t *testing.T) error {
			_, err := rev.leads.ListLeads(rev.ctx(t), &innonetpb.ListLeadsRequest{Stage: []innonetpb.Stage{42}})
			return err
		}, []string{"stage", "42"}},
		{"consistency 7", func(t *testing.T) error {
			_, err := rev.leads.GetLead(rev.ctx(t), &innonetpb.GetLeadRequest{Id: lead.Id, Consistency: 7})
			return err
		}, []string{"consistency", "7"}},
		{"role 99", func(t *testing.T) error {
			_, err := admin.users.CreateUser(admin.ctx(t), &innonetpb.CreateUserRequest{RequestId: rid(), Name: "Eve", Role: 99})
			return err
		}, []string{"role", "99"}},
		{"page size negative", func(t *testing.T) error {
			_, err := rev.leads.ListLeads(rev.ctx(t), &innonetpb.ListLeadsRequest{PageSize: -1})
			return err
		}, []string{"page_size"}},
		{"page size over the cap", func(t *testing.T) error {
			_, err := rev.leads.ListLeads(rev.ctx(t), &innonetpb.ListLeadsRequest{PageSize: maxPageSize + 1})
			return err
		}, []string{"page_size", "500"}},
		{"forged page token", func(t *testing.T) error {
			_, err := rev.leads.ListLeads(rev.ctx(t), &innonetpb.ListLeadsRequest{PageToken: "../../etc"})
			return err
		}, []string{"page_token"}},
		{"malformed lead ID", func(t *testing.T) error {
			_, err := rev.leads.GetLead(rev.ctx(t), &innonetpb.GetLeadRequest{Id: "BOS-1/../x"})
			return err
		}, []string{"id"}},
		{"invalid UTF-8 on the wire", func(t *testing.T) error {
			wire := append(rawBytes{0x12, 4, 'b', 'a', 'd', 0xff}, 0x1a, 1, 'S') // title, summary
			return tc.conn(n).Invoke(bos.ctx(t), innonetpb.LeadService_SubmitLead_FullMethodName,
				&wire, new(rawBytes), grpc.ForceCodecV2(rawBytesCodec{}))
		}, []string{"does not parse", "UTF-8"}},
		{"broken wire format", func(t *testing.T) error {
			wire := rawBytes{0x12, 100, 'x'} // a length past the end
			return tc.conn(n).Invoke(bos.ctx(t), innonetpb.LeadService_SubmitLead_FullMethodName,
				&wire, new(rawBytes), grpc.ForceCodecV2(rawBytesCodec{}))
		}, []string{"does not parse"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkStatus(t, tt.call(t), codes.InvalidArgument, tt.want...) })
	}

	rest := []struct {
		name, method, path, body string
	}{
		{"sector 99", "POST", "/v1/leads", `{"requestId":"r-rest-1","title":"T","summary":"S","organization":"O","country":"US","sector":99,"trl":4,"dealType":"INVESTMENT"}`},
		{"unknown sector name", "POST", "/v1/leads", `{"requestId":"r-rest-2","title":"T","summary":"S","organization":"O","country":"US","sector":"SPACE","trl":4,"dealType":"INVESTMENT"}`},
		{"stage 42 in the query", "GET", "/v1/leads?stage=42", ""},
		{"consistency 7 in the query", "GET", "/v1/leads/" + lead.Id + "?consistency=7", ""},
		{"page size over the cap", "GET", "/v1/leads?pageSize=100000", ""},
		{"malformed lead ID in the path", "GET", "/v1/leads/bos-1", ""},
		{"decision 99", "POST", "/v1/leads/" + lead.Id + ":review", `{"requestId":"r-rest-3","decision":99}`},
	}
	for _, tt := range rest {
		t.Run("REST "+tt.name, func(t *testing.T) {
			var body io.Reader
			if tt.body != "" {
				body = strings.NewReader(tt.body)
			}
			if code, _, raw := restFrom(t, n, "127.0.0.1", tt.method, tt.path, hq, body); code != http.StatusBadRequest {
				t.Errorf("got %d %s, want 400", code, raw)
			}
		})
	}

	t.Run("nothing changed", func(t *testing.T) {
		got, err := admin.leads.GetLead(admin.ctx(t), &innonetpb.GetLeadRequest{Id: lead.Id})
		if err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(got, lead) || totalLeads(n) != 1 {
			t.Errorf("got lead %v and %d leads, want %v alone", got, totalLeads(n), lead)
		}
		if got := securityCount(t, n, guard.Malformed); got != 2 {
			t.Errorf("got %v malformed events, want 2", got)
		}
	})
}
