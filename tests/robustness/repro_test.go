//go:build robustness

package robustness

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	innonetpb "innonet/proto/innonet/v1"
)

// TestReproLaggingSiteBlocksAddress: a site that has not yet applied a
// new user answers that user's valid token with Unauthenticated, counts
// it as a failed sign-in of the client's address, and after ten blocks
// the address, so that every user behind it (here the admin) is refused.
func TestReproLaggingSiteBlocksAddress(t *testing.T) {
	needRepro(t)
	c, conns, admin, adminToken := smallCluster(t, "--raft-profile", "lan", "--stabilization-time", "1s")
	ctx := context.Background()
	// MUC falls behind: every link to and from it is cut.
	for _, o := range []string{"CGO", "BOS"} {
		if err := c.Net.Cut("MUC", o, Refuse); err != nil {
			t.Fatal(err)
		}
		if err := c.Net.Cut(o, "MUC", Refuse); err != nil {
			t.Fatal(err)
		}
	}
	// A new user is created (the majority commits it); MUC has not seen it.
	users, err := admin.CreateUsers(ctx, "CGO", []string{"MUC"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	stale := func(token string) error {
		cctx, cancel := withToken(ctx, token)
		defer cancel()
		_, err := conns.Leads("MUC").ListLeads(cctx, &innonetpb.ListLeadsRequest{Consistency: innonetpb.Consistency_STALE})
		return err
	}
	for i := 0; i < 10; i++ {
		err := stale(users.Staff["MUC"])
		t.Logf("new user's valid token at lagging MUC, try %d: %v", i+1, status.Code(err))
	}
	err = stale(adminToken)
	t.Logf("admin's token at MUC afterwards: %v", err)
	if status.Code(err) == codes.ResourceExhausted {
		t.Errorf("the admin is refused at MUC because another user's valid token was not yet replicated there: %v", err)
	}
}

var reproFlag = flag.Bool("repro", true, "run the reproductions of the innonet bugs this suite found (TestRepro*; regression tests now that they are fixed); -repro=false skips them")

// needRepro skips a reproduction with -repro=false.
func needRepro(t *testing.T) {
	t.Helper()
	if !*reproFlag {
		t.Skip("reproduction skipped (-repro=false)")
	}
}

// smallCluster starts CGO, BOS and MUC (voters) with the serve flags args.
func smallCluster(t *testing.T, args ...string) (*Cluster, *Conns, *Admin, string) {
	t.Helper()
	dir, err := os.MkdirTemp("", "innonet-repro-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("work dir kept: %s", dir)
			return
		}
		os.RemoveAll(dir)
	})
	bin := *binFlag
	if bin == "" {
		bin = buildBinary(t, dir)
	}
	certDir := filepath.Join(dir, "certs")
	if out, err := exec.Command(bin, "certs", "--dir", certDir, "--sites", "CGO,BOS,MUC").CombinedOutput(); err != nil {
		t.Fatalf("certs: %v\n%s", err, out)
	}
	tok := make([]byte, 32)
	_, _ = rand.Read(tok)
	adminToken := "inn_" + hex.EncodeToString(tok)
	c, err := NewCluster(dir, ProcessConfig{Bin: bin, CertDir: certDir, AdminToken: adminToken, Args: args},
		[]string{"CGO", "BOS", "MUC"}, nil, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Stop)
	conns, err := Dial(c.Sites, filepath.Join(certDir, "ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(conns.Close)
	admin := &Admin{C: c, Conns: conns, Token: adminToken}
	ctx := context.Background()
	if err := c.Start(c.Site("CGO"), true, nil); err != nil {
		t.Fatal(err)
	}
	if err := Poll(ctx, time.Minute, 100*time.Millisecond, func(ctx context.Context) error { return admin.Ready(ctx, "CGO") }); err != nil {
		t.Fatal(err)
	}
	for _, s := range c.Sites[1:] {
		if err := c.Start(s, false, c.Site("CGO")); err != nil {
			t.Fatal(err)
		}
	}
	if err := Poll(ctx, time.Minute, 250*time.Millisecond, admin.Healthy); err != nil {
		t.Fatal(err)
	}
	return c, conns, admin, adminToken
}

// TestReproRejoinedSiteGoesBack: a follower is killed while writes flow,
// so that the leader's replication to it fails and backs off (up to 10 s
// between attempts) and the leader compacts its log past the follower's
// position. The follower is wiped, removed and rejoined at the same
// address, after the writes stopped; it installs the leader's latest
// snapshot and the entries after it. Then the replication goroutine of
// its previous incarnation (hashicorp/raft stops it only after its
// backoff) wakes up, finds its old position compacted away and sends the
// latest snapshot again, to the new incarnation at the same address. The
// follower installs it although it has applied past it: its state goes
// back to the snapshot's index, and since the leader's commit index does
// not move again (no writes), it never applies the entries after the
// snapshot: it stays not ready and serves STALE reads from the older
// state until the next write commits.
func TestReproRejoinedSiteGoesBack(t *testing.T) {
	needRepro(t)
	c, conns, admin, adminToken := smallCluster(t, "--raft-profile", "test", "--stabilization-time", "1s",
		"--snapshot-interval", "1s", "--snapshot-threshold", "50", "--trailing-logs", "20", "--raft-log-level", "info")
	ctx := context.Background()
	users, err := admin.CreateUsers(ctx, "CGO", []string{"BOS"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// state reports a site's own Raft applied and commit indexes.
	state := func(site string) (applied, commit uint64, err error) {
		cctx, cancel := withToken(ctx, adminToken)
		defer cancel()
		cl, err := conns.Cluster(site).GetCluster(cctx, &innonetpb.GetClusterRequest{Consistency: innonetpb.Consistency_STALE})
		if err != nil {
			return 0, 0, err
		}
		return cl.AppliedIndex, cl.CommitIndex, nil
	}
	for cycle := 1; cycle <= 4; cycle++ {
		leader, err := admin.Leader(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var victim *Site
		for _, s := range c.Sites {
			if s.Code != leader {
				victim = s
			}
		}
		if err := c.Kill(victim); err != nil {
			t.Fatal(err)
		}
		// Six seconds of writes while the victim is down.
		for i, end := 0, time.Now().Add(6*time.Second); time.Now().Before(end); i++ {
			cctx, cancel := withToken(ctx, users.Staff["BOS"])
			_, _ = conns.Leads(leader).SubmitLead(cctx, &innonetpb.SubmitLeadRequest{
				RequestId: fmt.Sprintf("repro-%d-%d", cycle, i), Title: "t", Summary: "s", Organization: "o",
				Country: "US", Sector: innonetpb.Sector_IT_AI, Trl: 3, DealType: innonetpb.DealType_INVESTMENT})
			cancel()
			time.Sleep(10 * time.Millisecond)
		}
		if err := c.Wipe(victim); err != nil {
			t.Fatal(err)
		}
		if err := Rejoin(ctx, c, admin, victim, time.Minute); err != nil {
			t.Fatal(err)
		}
		// No more writes: watch the victim for 15 s.
		var high uint64
		wentBack := ""
		for end := time.Now().Add(15 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
			applied, _, err := state(victim.Code)
			if err != nil {
				continue
			}
			if applied < high && wentBack == "" {
				wentBack = fmt.Sprintf("%s's applied index went back from %d to %d", victim.Code, high, applied)
				t.Log(wentBack)
			}
			high = max(high, applied)
		}
		applied, commit, err := state(victim.Code)
		t.Logf("cycle %d: %s rejoined; 15 s later: applied %d, commit %d (%v)", cycle, victim.Code, applied, commit, err)
		if wentBack != "" || applied < commit {
			t.Fatalf("cycle %d: %s; it stays at applied index %d of commit index %d with no writes (logs: %s; leader %s: %s)",
				cycle, wentBack, applied, commit, victim.LogPath, leader, c.Site(leader).LogPath)
		}
		if err := Poll(ctx, time.Minute, 250*time.Millisecond, admin.Healthy); err != nil {
			t.Fatal(err)
		}
	}
}
