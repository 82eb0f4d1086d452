package node

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"innonet/cluster"
	innonetpb "innonet/proto/innonet/v1"
)

// smallDisk mounts a tmpfs of the given size for the test (Linux, as
// root: CI runs as root) and unmounts it at the end.
func smallDisk(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+size); err != nil {
		if errors.Is(err, syscall.EPERM) {
			t.Skipf("mounting a tmpfs needs root (CI runs as root): %v", err)
		}
		t.Fatalf("mount a tmpfs: %v", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

// fillDisk writes a file until the disk is full and returns its path.
func fillDisk(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 64<<10)
	for {
		if _, err := f.Write(chunk); err != nil {
			if errors.Is(err, syscall.ENOSPC) {
				return path
			}
			t.Fatal(err)
		}
	}
}

// TestNoSpace: a read replica whose disk fills up reports NOSPACE (not
// ready, alarm on the leader's view, STALE reads answered by the leader
// instead of its falling-behind copy), loses nothing acknowledged, and
// recovers by itself once space is freed.
func TestNoSpace(t *testing.T) {
	disk := smallDisk(t, "24m")
	onDisk := func(c *Config) {
		if c.Site == "YRD" {
			c.DataDir = filepath.Join(disk, "yrd")
		}
	}
	tc := newTestCluster(t, []string{"CGO", "BOS", "CBG"}, []string{"YRD"}, onDisk)
	staff := tc.addUser("Bea", innonetpb.Role_NODE_STAFF, "BOS", "")
	yrd := tc.node("YRD")
	leader := tc.leaderNode()
	c := tc.clients(leader, staff)
	var acked []string
	submit := func(title string) {
		t.Helper()
		l, err := c.leads.SubmitLead(c.ctx(t), sampleLead(title))
		if err != nil {
			t.Fatalf("submit %s: %v", title, err)
		}
		acked = append(acked, l.Id)
	}
	submit("before the disk fills")
	filler := fillDisk(t, disk)
	// Writes go on at the voters; YRD cannot store them.
	big := strings.Repeat("payload ", 600)
	for i := 0; !yrd.Cluster().Corrupt() && !hasLocalAlarm(yrd, cluster.AlarmNoSpace); i++ {
		if i > 400 {
			t.Fatalf("YRD never reported NOSPACE after %d writes; alarms %v", i, yrd.Cluster().Alarms())
		}
		req := sampleLead(fmt.Sprintf("while full %d", i))
		req.Summary = big
		l, err := c.leads.SubmitLead(c.ctx(t), req)
		if err != nil {
			t.Fatalf("submit while YRD's disk is full: %v", err)
		}
		acked = append(acked, l.Id)
	}
	code, body := readyz(t, yrd)
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "NOSPACE") {
		t.Errorf("/readyz of the full site: %d %q, want 503 NOSPACE", code, body)
	}
	if site, err := staleReadSite(t, tc, yrd); err != nil || site != leader.Site() {
		t.Errorf("STALE read on the full site answered by %q (%v), want the leader %s", site, err, leader.Site())
	}
	eventually(t, 10*time.Second, "the leader shows YRD's NOSPACE", func() error {
		if !hasAlarm(memberAlarms(t, tc, "YRD"), cluster.AlarmNoSpace) {
			return fmt.Errorf("no NOSPACE alarm on YRD")
		}
		return nil
	})
	submit("still full")

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	eventually(t, 90*time.Second, "YRD recovers and catches up", func() error {
		if hasLocalAlarm(yrd, cluster.AlarmNoSpace) {
			return fmt.Errorf("still NOSPACE")
		}
		if got, want := yrd.State().AppliedIndex(), leader.State().AppliedIndex(); got < want {
			return fmt.Errorf("applied %d of %d", got, want)
		}
		return nil
	})
	if yrd.Cluster().Corrupt() {
		t.Fatalf("YRD raised CORRUPT: %v", yrd.Cluster().Alarms())
	}
	for _, id := range acked {
		if _, err := yrd.State().Lead(id); err != nil {
			t.Errorf("acknowledged lead %s missing on YRD after recovery: %v", id, err)
		}
	}
	if a, b := stateDigest(t, yrd), stateDigest(t, leader); a != b {
		t.Error("YRD's state differs from the leader's after recovery")
	}
	t.Logf("%d acknowledged writes, all on YRD after it recovered", len(acked))
}

func hasLocalAlarm(n *Node, kind string) bool {
	for _, a := range n.Cluster().Alarms() {
		if a.Kind == kind {
			return true
		}
	}
	return false
}
