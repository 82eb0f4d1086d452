package node

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	"innonet/cluster"
	"innonet/node/pipeline"
	innonetpb "innonet/proto/innonet/v1"
)

// freeAddr reserves a loopback port and frees it, so that a site can be
// started twice on the same Raft address (its configuration names it).
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

// soloConfig is the Config of a site outside any test cluster, with the
// test timings.
func soloConfig(t *testing.T, site, dataDir, raftAddr string) Config {
	t.Helper()
	cc := cluster.DefaultConfig()
	if err := cc.UseProfile("test"); err != nil {
		t.Fatal(err)
	}
	cc.RaftAddr = raftAddr
	cc.RaftLogLevel = "off"
	return Config{Site: site, DataDir: dataDir, Listen: "127.0.0.1:0", Cluster: cc, Limits: testLimits(),
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))}
}

// emptyDir fails t unless dir holds nothing.
func emptyDir(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Errorf("got %d entries in %s (first %s), want none: a refused restore must create nothing", len(entries), dir, entries[0].Name())
	}
}

// apiView is what the API shows of the whole pipeline to an admin: every
// lead and its history, and every user.
type apiView struct {
	leads   []*innonetpb.Lead
	history map[string][]*innonetpb.HistoryEvent
	users   []*innonetpb.User
}

func viewOf(t *testing.T, c testClients) apiView {
	t.Helper()
	v := apiView{history: map[string][]*innonetpb.HistoryEvent{}}
	resp, err := c.leads.ListLeads(c.ctx(t), &innonetpb.ListLeadsRequest{PageSize: 500})
	if err != nil {
		t.Fatalf("list leads: %v", err)
	}
	v.leads = resp.Leads
	for _, l := range v.leads {
		h, err := c.leads.GetLeadHistory(c.ctx(t), &innonetpb.GetLeadHistoryRequest{Id: l.Id})
		if err != nil {
			t.Fatalf("history of %s: %v", l.Id, err)
		}
		v.history[l.Id] = h.Events
	}
	us, err := c.users.ListUsers(c.ctx(t), &innonetpb.ListUsersRequest{})
	if err != nil {
		t.Fatalf("list users: %v", err)
	}
	v.users = us.Users
	return v
}

func (v apiView) diff(w apiView) error {
	if len(v.leads) != len(w.leads) || len(v.users) != len(w.users) {
		return fmt.Errorf("got %d leads and %d users, want %d and %d", len(v.leads), len(v.users), len(w.leads), len(w.users))
	}
	for i := range v.leads {
		if !proto.Equal(v.leads[i], w.leads[i]) {
			return fmt.Errorf("lead %d: got %v, want %v", i, v.leads[i], w.leads[i])
		}
		id := v.leads[i].Id
		if len(v.history[id]) != len(w.history[id]) {
			return fmt.Errorf("lead %s: got %d history events, want %d", id, len(v.history[id]), len(w.history[id]))
		}
		for j := range v.history[id] {
			if !proto.Equal(v.history[id][j], w.history[id][j]) {
				return fmt.Errorf("lead %s event %d: got %v, want %v", id, j, v.history[id][j], w.history[id][j])
			}
		}
	}
	for i := range v.users {
		if !proto.Equal(v.users[i], w.users[i]) {
			return fmt.Errorf("user %d: got %v, want %v", i, v.users[i], w.users[i])
		}
	}
	return nil
}

func TestRestore(t *testing.T) {
	// The source: a one-site cluster with three BOS leads in different
	// stages, each with some history.
	src := newTestCluster(t, []string{"CGO"}, nil)
	staff := src.addUser("Alice", innonetpb.Role_NODE_STAFF, "BOS", "")
	hq := src.addUser("Hal", innonetpb.Role_HQ_REVIEWER, "", "")
	srcNode := src.leaderNode()
	sc, hc := src.clients(srcNode, staff), src.clients(srcNode, hq)
	var last *innonetpb.SubmitLeadRequest
	for i := range 3 {
		last = sampleLead(fmt.Sprintf("Lead before the backup %d", i))
		if _, err := sc.leads.SubmitLead(sc.ctx(t), last); err != nil {
			t.Fatalf("submit: %v", err)
		}
	}
	for id, d := range map[string]innonetpb.Decision{"BOS-0001": innonetpb.Decision_RETURN, "BOS-0002": innonetpb.Decision_APPROVE} {
		if _, err := hc.leads.ReviewLead(hc.ctx(t), &innonetpb.ReviewLeadRequest{Id: id, RequestId: rid(), Decision: d, Comment: "Reviewed."}); err != nil {
			t.Fatalf("review %s: %v", id, err)
		}
	}
	admin := src.clients(srcNode, testAdminToken)
	backup, _, err := backupGRPC(admin.ctx(t), admin)
	if err != nil {
		t.Fatalf("backup: %v", err)
	}
	wantDump, err := stateDump(srcNode.State())
	if err != nil {
		t.Fatal(err)
	}
	wantView := viewOf(t, admin)
	srcApplied := srcNode.State().AppliedIndex()
	// The source is gone: whatever the new site holds came from the file.
	src.stop("CGO")

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	t.Run("refuses a damaged backup", func(t *testing.T) {
		noEnd := backup[:bytes.LastIndexByte(backup[:len(backup)-1], '\n')+1]
		// A record in the middle cut short: its line ends half-way.
		mid := len(backup) / 2
		lineStart := bytes.LastIndexByte(backup[:mid], '\n') + 1
		lineEnd := mid + bytes.IndexByte(backup[mid:], '\n')
		damaged := append(bytes.Clone(backup[:(lineStart+lineEnd)/2]), backup[lineEnd:]...)
		for name, data := range map[string][]byte{
			"cut in half":           backup[:len(backup)/2],
			"without its checksum":  noEnd,
			"a record cut short":    damaged,
			"empty":                 nil,
			"not a backup":          []byte("{\"hello\":\"world\"}\n"),
			"followed by garbage":   append(bytes.Clone(backup), []byte("{\"table\":\"users\"}\n")...),
			"two backups in a row":  append(bytes.Clone(backup), backup...),
			"a lead's title edited": bytes.Replace(backup, []byte(`"title":"`), []byte(`"title":"Edited: `), 1),
		} {
			t.Run(name, func(t *testing.T) {
				dir := t.TempDir()
				err := Restore(ctx, soloConfig(t, "CGO", dir, freeAddr(t)), data, BackupOptions{})
				if err == nil {
					t.Fatalf("Restore of a backup %s: got no error, want a refusal", name)
				}
				emptyDir(t, dir)
			})
		}
	})

	cfg := soloConfig(t, "CGO", t.TempDir(), freeAddr(t))
	if err := Restore(ctx, cfg, backup, BackupOptions{}); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	raftDB := filepath.Join(cfg.DataDir, "raft", "raft.db")

	t.Run("refuses a data dir with Raft state", func(t *testing.T) {
		before, err := os.ReadFile(raftDB)
		if err != nil {
			t.Fatal(err)
		}
		err = Restore(ctx, cfg, backup, BackupOptions{})
		if err == nil {
			t.Fatal("second Restore into the same data dir: got no error, want a refusal")
		}
		after, err := os.ReadFile(raftDB)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(before, after) {
			t.Error("the refused Restore changed raft.db")
		}
	})

	n, err := New(cfg)
	if err != nil {
		t.Fatalf("start the restored site: %v", err)
	}
	t.Cleanup(func() { n.Halt() })
	eventually(t, 20*time.Second, "the restored site to lead", func() error {
		if !n.Cluster().IsLeader() {
			return fmt.Errorf("state %s", n.Cluster().Stats().State)
		}
		return nil
	})
	tc := &testCluster{t: t, sites: map[string]*testSite{}}

	t.Run("same state", func(t *testing.T) {
		got, err := stateDump(n.State())
		if err != nil {
			t.Fatal(err)
		}
		if got != wantDump {
			t.Errorf("restored state differs from the source:\ngot  %.3000s\nwant %.3000s", got, wantDump)
		}
		st, err := n.Cluster().Status()
		if err != nil {
			t.Fatal(err)
		}
		if len(st.Members) != 1 || st.Members[0].ID != "CGO" || !st.Members[0].Voter {
			t.Errorf("got members %+v, want CGO alone as a voter", st.Members)
		}
	})
	t.Run("same API answers with the old admin token", func(t *testing.T) {
		if err := viewOf(t, tc.clients(n, testAdminToken)).diff(wantView); err != nil {
			t.Error(err)
		}
	})
	t.Run("request IDs and lead numbers carry on", func(t *testing.T) {
		c := tc.clients(n, staff)
		// The backup holds the request IDs: a retry of the source's last
		// submit is answered with its first result, not a new lead.
		again, err := c.leads.SubmitLead(c.ctx(t), last)
		if err != nil {
			t.Fatalf("retry of the last submit before the backup: %v", err)
		}
		if again.Id != "BOS-0003" || again.Version != 1 {
			t.Errorf("retry of the last submit: got %s v%d, want BOS-0003 v1", again.Id, again.Version)
		}
		l, err := c.leads.SubmitLead(c.ctx(t), sampleLead("First lead after the restore"))
		if err != nil {
			t.Fatalf("submit after the restore: %v", err)
		}
		if l.Id != "BOS-0004" {
			t.Errorf("got %s, want BOS-0004 (numbering continues from the backup)", l.Id)
		}
		h, err := c.leads.GetLeadHistory(c.ctx(t), &innonetpb.GetLeadHistoryRequest{Id: l.Id})
		if err != nil {
			t.Fatal(err)
		}
		// Raft counts an entry applied just after the state machine answers
		// it, so read the site's own applied index.
		if len(h.Events) != 1 || h.Events[0].LogIndex == 0 || h.Events[0].LogIndex > n.State().AppliedIndex() {
			t.Errorf("got history %v, want one event at a log index of the new cluster (at most %d)", h.Events, n.State().AppliedIndex())
		}
	})
	t.Run("read info reports the new cluster's log index", func(t *testing.T) {
		c := tc.clients(n, staff)
		resp, err := c.leads.ListLeads(c.ctx(t), &innonetpb.ListLeadsRequest{Consistency: innonetpb.Consistency_STALE})
		if err != nil {
			t.Fatal(err)
		}
		st := n.Cluster().Stats()
		t.Logf("read info applied index %d; raft applied %d, commit %d, last %d; source applied %d",
			resp.Read.AppliedIndex, st.AppliedIndex, st.CommitIndex, st.LastIndex, srcApplied)
		if resp.Read.AppliedIndex > st.CommitIndex {
			t.Errorf("got read info applied index %d, beyond the site's commit index %d (the index of the source cluster's log, not this one's)",
				resp.Read.AppliedIndex, st.CommitIndex)
		}
	})
}

// TestRestoreRepeatedly restores a backup into fresh data dirs over and
// over: a restore into an empty dir must succeed every time, and a restore
// that fails must leave the dir without Raft state (or the retry is
// refused and a start would find an empty cluster).
func TestRestoreRepeatedly(t *testing.T) {
	const rounds = 15
	var buf bytes.Buffer
	if _, err := writeBackup(&buf, pipeline.New().Snapshot()); err != nil {
		t.Fatal(err)
	}
	failed := 0
	for i := range rounds {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		cfg := soloConfig(t, "CGO", t.TempDir(), freeAddr(t))
		err := Restore(ctx, cfg, buf.Bytes(), BackupOptions{})
		cancel()
		if err == nil {
			continue
		}
		failed++
		t.Errorf("restore %d into an empty data dir: %v", i, err)
		if _, serr := os.Stat(filepath.Join(cfg.DataDir, "raft", "raft.db")); serr == nil {
			t.Errorf("restore %d failed but left Raft state in %s: a second Restore there is refused", i, cfg.DataDir)
		}
	}
	t.Logf("%d of %d restores failed", failed, rounds)
}

func TestRecover(t *testing.T) {
	tests := []struct {
		name     string
		survivor func(tc *testCluster) string
	}{
		{"survivor was the leader", func(tc *testCluster) string { return tc.leaderNode().Site() }},
		{"survivor was a follower", func(tc *testCluster) string { return tc.follower(false).Site() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tc := newTestCluster(t, testVoters, nil)
			staff := tc.addUser("Alice", innonetpb.Role_NODE_STAFF, "BOS", "")
			leader := tc.leaderNode()
			survivor := tt.survivor(tc)
			c := tc.clients(leader, staff)
			var acked []*innonetpb.Lead
			for i := range 5 {
				l, err := c.leads.SubmitLead(c.ctx(t), sampleLead(fmt.Sprintf("Acknowledged lead %d", i)))
				if err != nil {
					t.Fatalf("submit: %v", err)
				}
				acked = append(acked, l)
			}
			// A write is acknowledged once a quorum holds it, which may
			// not include a given follower: recovery keeps what the
			// survivors hold, so let the surviving follower catch up.
			eventually(t, 10*time.Second, survivor+" holding every acknowledged write", func() error {
				if got, want := tc.node(survivor).Cluster().Stats().LastIndex, leader.Cluster().Stats().LastIndex; got < want {
					return fmt.Errorf("last index %d, leader %d", got, want)
				}
				return nil
			})
			for _, id := range tc.order {
				if id != survivor {
					tc.stop(id)
				}
			}

			sc := tc.clients(tc.node(survivor), staff)
			lost := sampleLead("Written without a quorum")
			ctx, cancel := context.WithTimeout(withToken(context.Background(), staff), 10*time.Second)
			_, err := sc.leads.SubmitLead(ctx, lost)
			cancel()
			checkStatus(t, err, codes.Unavailable)

			cfg := tc.sites[survivor].cfg
			tc.stop(survivor)
			self := cluster.Member{ID: survivor, RaftAddr: cfg.Cluster.RaftAddr, Voter: true}

			t.Run("refuses members without this site", func(t *testing.T) {
				others := []cluster.Member{{ID: "ZRH", RaftAddr: freeAddr(t), Voter: true}}
				if err := Recover(cfg, others); err == nil {
					t.Fatal("got no error, want a refusal")
				}
			})
			t.Run("refuses a data dir without state", func(t *testing.T) {
				empty := cfg
				empty.DataDir = t.TempDir()
				if err := Recover(empty, []cluster.Member{self}); err == nil {
					t.Fatal("got no error, want a refusal")
				}
				emptyDir(t, empty.DataDir)
			})

			if err := Recover(cfg, []cluster.Member{self}); err != nil {
				t.Fatalf("Recover: %v", err)
			}
			tc.restart(survivor)
			n := tc.node(survivor)
			eventually(t, 20*time.Second, survivor+" to elect itself", func() error {
				if !n.Cluster().IsLeader() {
					return fmt.Errorf("state %s", n.Cluster().Stats().State)
				}
				return nil
			})
			st, err := n.Cluster().Status()
			if err != nil {
				t.Fatal(err)
			}
			if len(st.Members) != 1 || st.Members[0].ID != survivor || !st.Members[0].Voter {
				t.Errorf("got members %+v, want %s alone as a voter", st.Members, survivor)
			}

			hq := tc.addUser("Hal", innonetpb.Role_HQ_REVIEWER, "", "") // a write through the new group
			hc := tc.clients(n, hq)
			for _, want := range acked {
				got, err := hc.leads.GetLead(hc.ctx(t), &innonetpb.GetLeadRequest{Id: want.Id})
				if err != nil {
					t.Fatalf("acknowledged lead %s after recovery: %v", want.Id, err)
				}
				if !proto.Equal(got, want) {
					t.Errorf("lead %s after recovery: got %v, want %v", want.Id, got, want)
				}
			}

			// The write that got UNAVAILABLE may or may not have reached
			// the survivor's log; a retry with its request ID settles it
			// exactly once.
			sc = tc.clients(n, staff)
			retried, err := sc.leads.SubmitLead(sc.ctx(t), lost)
			if err != nil {
				t.Fatalf("retry of the write refused without a quorum: %v", err)
			}
			next, err := sc.leads.SubmitLead(sc.ctx(t), sampleLead("Written after recovery"))
			if err != nil {
				t.Fatalf("new write after recovery: %v", err)
			}
			if retried.Id != "BOS-0006" || next.Id != "BOS-0007" {
				t.Errorf("got %s for the retried write and %s for the new one, want BOS-0006 and BOS-0007", retried.Id, next.Id)
			}
			list, err := hc.leads.ListLeads(hc.ctx(t), &innonetpb.ListLeadsRequest{})
			if err != nil {
				t.Fatal(err)
			}
			if len(list.Leads) != len(acked)+2 {
				t.Errorf("got %d leads, want %d (the acknowledged, the retried, the new)", len(list.Leads), len(acked)+2)
			}
		})
	}
}
