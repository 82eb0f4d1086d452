package node

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	"innonet/node/pipeline"
	innonetpb "innonet/proto/innonet/v1"
)

// backupGRPC streams a backup through c and returns the concatenated
// chunks and how many chunks there were.
func backupGRPC(ctx context.Context, c testClients) ([]byte, int, error) {
	stream, err := c.clusters.Backup(ctx, &innonetpb.BackupRequest{})
	if err != nil {
		return nil, 0, err
	}
	var buf bytes.Buffer
	chunks := 0
	for {
		chunk, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return buf.Bytes(), chunks, nil
		}
		if err != nil {
			return nil, chunks, err
		}
		if len(chunk.Data) > backupChunk {
			return nil, chunks, fmt.Errorf("chunk %d holds %d bytes, more than %d", chunks, len(chunk.Data), backupChunk)
		}
		buf.Write(chunk.Data)
		chunks++
	}
}

// rawGet sends GET path to site n, with a bearer token unless token is
// empty, and returns the status, body and headers.
func rawGet(t testing.TB, n *Node, path, token string) (int, []byte, http.Header) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, "http://"+n.Addr()+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := (&http.Client{Timeout: 15 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("GET %s on %s: %v", path, n.Site(), err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s on %s: read body: %v", path, n.Site(), err)
	}
	return resp.StatusCode, body, resp.Header
}

// restoreBackup verifies a backup and loads it into a fresh pipeline, as
// a restore would.
func restoreBackup(t testing.TB, backup []byte) *pipeline.State {
	t.Helper()
	snap, _, err := VerifyBackup(backup, BackupOptions{})
	if err != nil {
		t.Fatalf("verify %d bytes of backup: %v", len(backup), err)
	}
	st := pipeline.New()
	if err := st.Restore(bytes.NewReader(snap)); err != nil {
		t.Fatalf("restore %d bytes of backup into an empty pipeline: %v", len(backup), err)
	}
	return st
}

// checkCoherent fails t unless every lead in st has a history that ends
// at the lead's version, numbered 1, 2, 3...: what a torn backup (leads
// from one moment, events from another) would break.
func checkCoherent(t testing.TB, st *pipeline.State) {
	t.Helper()
	leads, _, err := st.Leads(pipeline.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range leads {
		h, err := st.History(l.ID)
		if err != nil {
			t.Fatalf("history of %s: %v", l.ID, err)
		}
		if len(h) == 0 {
			t.Fatalf("lead %s v%d: got no history", l.ID, l.Version)
		}
		if last := h[len(h)-1].Version; last != l.Version {
			t.Fatalf("lead %s v%d: got %d history events ending at v%d, want the last at v%d", l.ID, l.Version, len(h), last, l.Version)
		}
		for i, e := range h {
			if e.Seq != int64(i+1) {
				t.Fatalf("lead %s: event %d has seq %d, want %d", l.ID, i, e.Seq, i+1)
			}
		}
	}
}

// backupEnv is a cluster with a user of each kind and leads in several
// stages, each with a history of more than one event.
type backupEnv struct {
	tc              *testCluster
	staff, hq, div  string
	leader          *Node
	follower, repl  *Node
	staffC, hqC     testClients
	divC            testClients
	leadsBeforeLoad int
}

func newBackupEnv(t *testing.T) *backupEnv {
	t.Helper()
	tc := newTestCluster(t, testVoters, testNonVoters)
	e := &backupEnv{tc: tc}
	e.staff = tc.addUser("Alice", innonetpb.Role_NODE_STAFF, "BOS", "")
	e.hq = tc.addUser("Hal", innonetpb.Role_HQ_REVIEWER, "", "")
	e.div = tc.addUser("Yu", innonetpb.Role_DIVISION, "", "YRD")
	e.leader, e.follower, e.repl = tc.leaderNode(), tc.follower(false), tc.follower(true)
	e.staffC, e.hqC, e.divC = tc.clients(e.leader, e.staff), tc.clients(e.leader, e.hq), tc.clients(e.leader, e.div)
	var ids []string
	for i := range 4 {
		l, err := e.staffC.leads.SubmitLead(e.staffC.ctx(t), sampleLead(fmt.Sprintf("Backed-up lead %d", i)))
		if err != nil {
			t.Fatalf("submit: %v", err)
		}
		ids = append(ids, l.Id)
	}
	review := func(id string, d innonetpb.Decision, comment string) {
		t.Helper()
		if _, err := e.hqC.leads.ReviewLead(e.hqC.ctx(t), &innonetpb.ReviewLeadRequest{Id: id, RequestId: rid(), Decision: d, Comment: comment}); err != nil {
			t.Fatalf("review %s %s: %v", id, d, err)
		}
	}
	review(ids[0], innonetpb.Decision_RETURN, "Which licence?")
	if _, err := e.staffC.leads.UpdateLead(e.staffC.ctx(t), &innonetpb.UpdateLeadRequest{Id: ids[0], RequestId: rid(),
		Summary: proto.String("Exclusive licence, EU and China."), Comment: "Licence terms"}); err != nil {
		t.Fatalf("update %s: %v", ids[0], err)
	}
	review(ids[0], innonetpb.Decision_APPROVE, "")
	if _, err := e.divC.leads.ClaimLead(e.divC.ctx(t), &innonetpb.ClaimLeadRequest{Id: ids[0], RequestId: rid()}); err != nil {
		t.Fatalf("claim %s: %v", ids[0], err)
	}
	review(ids[1], innonetpb.Decision_APPROVE, "")
	review(ids[2], innonetpb.Decision_DECLINE, "Out of scope.")
	e.leadsBeforeLoad = len(ids)
	return e
}

// caughtUp waits until site n has applied everything the leader has.
func (e *backupEnv) caughtUp(t *testing.T, n *Node) {
	t.Helper()
	eventually(t, 10*time.Second, n.Site()+" caught up with the leader", func() error {
		if got, want := n.Cluster().Stats().AppliedIndex, e.leader.Cluster().Stats().AppliedIndex; got < want {
			return fmt.Errorf("applied %d, leader %d", got, want)
		}
		return nil
	})
}

func TestBackup(t *testing.T) {
	e := newBackupEnv(t)
	t.Run("follower and non-voter", e.testFromFollowers)
	t.Run("admin only", e.testAdminOnly)
	t.Run("consistent while writes go on", e.testUnderWrites)
}

// testFromFollowers takes a backup over gRPC and REST from a follower and
// a read replica and restores each into an empty pipeline.
func (e *backupEnv) testFromFollowers(t *testing.T) {
	want, err := stateDump(e.leader.State())
	if err != nil {
		t.Fatal(err)
	}
	users, err := e.leader.State().Users()
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []*Node{e.follower, e.repl} {
		t.Run(n.Site(), func(t *testing.T) {
			e.caughtUp(t, n)
			admin := e.tc.clients(n, testAdminToken)
			viaGRPC, chunks, err := backupGRPC(admin.ctx(t), admin)
			if err != nil {
				t.Fatalf("Backup over gRPC from %s: %v", n.Site(), err)
			}
			code, viaREST, hdr := rawGet(t, n, "/v1/backup", testAdminToken)
			if code != http.StatusOK {
				t.Fatalf("GET /v1/backup from %s: got status %d %q, want 200", n.Site(), code, viaREST)
			}
			if !bytes.Equal(viaGRPC, viaREST) {
				t.Errorf("got %d bytes over REST and %d over gRPC (%d chunks), want the same file", len(viaREST), len(viaGRPC), chunks)
			}
			if got := hdr.Get("X-Innonet-Read-Site"); got != n.Site() {
				t.Errorf("got X-Innonet-Read-Site %q, want %s (a backup is answered by the site asked)", got, n.Site())
			}
			info, err := CheckBackup(viaREST, BackupOptions{})
			if err != nil {
				t.Fatalf("CheckBackup: %v", err)
			}
			leads, nUsers, applied := info.Leads, info.Users, info.Applied
			if leads != e.leadsBeforeLoad || nUsers != len(users) || applied != n.State().AppliedIndex() {
				t.Errorf("CheckBackup: got %d leads, %d users, applied index %d; want %d, %d, %d",
					leads, nUsers, applied, e.leadsBeforeLoad, len(users), n.State().AppliedIndex())
			}
			if got := hdr.Get("X-Innonet-Applied-Index"); got != strconv.FormatUint(applied, 10) {
				t.Errorf("got X-Innonet-Applied-Index %q, want %d", got, applied)
			}
			got, err := stateDump(restoreBackup(t, viaGRPC))
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("restored backup from %s differs from the leader's state:\ngot  %.3000s\nwant %.3000s", n.Site(), got, want)
			}
		})
	}
}

func (e *backupEnv) testAdminOnly(t *testing.T) {
	for _, n := range []*Node{e.follower, e.repl} {
		t.Run(n.Site(), func(t *testing.T) {
			for _, tt := range []struct {
				name     string
				token    string
				wantGRPC codes.Code
				wantHTTP int
			}{
				{"no token", "", codes.Unauthenticated, http.StatusUnauthorized},
				{"unknown token", NewToken(), codes.Unauthenticated, http.StatusUnauthorized},
				{"node staff", e.staff, codes.PermissionDenied, http.StatusForbidden},
				{"HQ reviewer", e.hq, codes.PermissionDenied, http.StatusForbidden},
				{"division", e.div, codes.PermissionDenied, http.StatusForbidden},
			} {
				t.Run(tt.name, func(t *testing.T) {
					c := e.tc.clients(n, tt.token)
					ctx := c.ctx(t)
					if tt.token == "" {
						ctx = context.Background()
					}
					data, _, err := backupGRPC(ctx, c)
					checkStatus(t, err, tt.wantGRPC)
					if len(data) > 0 {
						t.Errorf("got %d bytes of backup before the refusal, want none", len(data))
					}
					code, body, _ := rawGet(t, n, "/v1/backup", tt.token)
					if code != tt.wantHTTP {
						t.Errorf("GET /v1/backup: got status %d, want %d", code, tt.wantHTTP)
					}
					if bytes.Contains(body, []byte("innonet-pipeline")) || bytes.Contains(body, []byte("tokenHash")) {
						t.Errorf("GET /v1/backup refused with %d but the body holds backup data: %.200q", code, body)
					}
				})
			}
		})
	}
}

// testUnderWrites takes backups from the follower and the read replica
// while a writer keeps submitting and reviewing leads through the leader:
// every backup must restore, and restore to a state in which each lead's
// history matches the lead.
func (e *backupEnv) testUnderWrites(t *testing.T) {
	var (
		written atomic.Int64
		stop    = make(chan struct{})
		done    = make(chan error, 1)
		wg      sync.WaitGroup
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				done <- nil
				return
			default:
			}
			ctx, cancel := context.WithTimeout(withToken(context.Background(), e.staff), 10*time.Second)
			l, err := e.staffC.leads.SubmitLead(ctx, sampleLead(fmt.Sprintf("Lead written during a backup %d", i)))
			cancel()
			if err != nil {
				done <- fmt.Errorf("submit: %w", err)
				return
			}
			if i%2 == 0 {
				ctx, cancel := context.WithTimeout(withToken(context.Background(), e.hq), 10*time.Second)
				_, err = e.hqC.leads.ReviewLead(ctx, &innonetpb.ReviewLeadRequest{Id: l.Id, RequestId: rid(),
					Decision: innonetpb.Decision_RETURN, Comment: strings.Repeat("More detail, please. ", 20)})
				cancel()
				if err != nil {
					done <- fmt.Errorf("review %s: %w", l.Id, err)
					return
				}
			}
			written.Add(1)
		}
	}()
	stopWriter := sync.OnceValue(func() error {
		close(stop)
		wg.Wait()
		return <-done
	})
	defer func() { _ = stopWriter() }() // the test checks its result below, or has failed

	const rounds = 8
	lastApplied := map[string]uint64{}
	lastLeads := map[string]int{}
	maxChunks, firstLeads, lastLeadsAll := 0, -1, 0
	for i := range rounds {
		// Let the writer move on between backups, so every backup is taken
		// at a different point of a log that is growing.
		floor := written.Load() + 5
		eventually(t, 20*time.Second, "the writer to make progress", func() error {
			if written.Load() < floor {
				return fmt.Errorf("%d writes, want %d", written.Load(), floor)
			}
			return nil
		})
		n := e.follower
		if i%2 == 1 {
			n = e.repl
		}
		var data []byte
		how := "gRPC"
		if i%4 >= 2 {
			admin := e.tc.clients(n, testAdminToken)
			var chunks int
			var err error
			data, chunks, err = backupGRPC(admin.ctx(t), admin)
			if err != nil {
				t.Fatalf("round %d: Backup from %s: %v", i, n.Site(), err)
			}
			maxChunks = max(maxChunks, chunks)
		} else {
			how = "REST"
			code, body, _ := rawGet(t, n, "/v1/backup", testAdminToken)
			if code != http.StatusOK {
				t.Fatalf("round %d: GET /v1/backup from %s: got %d %q", i, n.Site(), code, body)
			}
			data = body
		}
		info, err := CheckBackup(data, BackupOptions{})
		leads, applied := info.Leads, info.Applied
		if err != nil {
			t.Fatalf("round %d: backup over %s from %s (%d bytes) does not restore: %v", i, how, n.Site(), len(data), err)
		}
		checkCoherent(t, restoreBackup(t, data))
		if applied < lastApplied[n.Site()] || leads < lastLeads[n.Site()] {
			t.Errorf("round %d: backup from %s at index %d with %d leads follows one at index %d with %d leads",
				i, n.Site(), applied, leads, lastApplied[n.Site()], lastLeads[n.Site()])
		}
		lastApplied[n.Site()], lastLeads[n.Site()] = applied, leads
		if firstLeads < 0 {
			firstLeads = leads
		}
		lastLeadsAll = leads
		t.Logf("round %d: %s backup from %s: %d bytes, %d leads, applied index %d", i, how, n.Site(), len(data), leads, applied)
	}
	if err := stopWriter(); err != nil {
		t.Fatalf("writer: %v", err)
	}
	if lastLeadsAll <= firstLeads {
		t.Errorf("got %d leads in the last backup and %d in the first, want the writes to show", lastLeadsAll, firstLeads)
	}
	if maxChunks < 2 {
		t.Errorf("got at most %d chunk per gRPC backup, want a backup large enough to span several %d-byte chunks", maxChunks, backupChunk)
	}
}
