package node

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"google.golang.org/grpc/codes"

	"innonet/node/pipeline"
	innonetpb "innonet/proto/innonet/v1"
)

// TestRequestIDRetention runs a cluster whose sites remember request IDs
// for two seconds: at log format 1 nothing is forgotten (the last release
// cannot), at format 2 the leader prunes, every site forgets the same
// requests, and a retry of a forgotten UUIDv7 request is refused with a
// message that says why.
func TestRequestIDRetention(t *testing.T) {
	const retention = 2 * time.Second
	tc := newTestCluster(t, []string{"CGO", "BOS", "CBG"}, nil, func(c *Config) { c.RequestIDRetention = retention })
	staff := tc.clients(tc.node("BOS"), tc.addUser("Beth", innonetpb.Role_NODE_STAFF, "BOS", ""))
	submit := func(id string) (*innonetpb.Lead, error) {
		req := sampleLead("Retention " + id)
		req.RequestId = id
		return staff.leads.SubmitLead(staff.ctx(t), req)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	old := uuid.Must(uuid.NewV7()).String()
	if _, err := submit(old); err != nil {
		t.Fatal(err)
	}
	// At format 1 the leader proposes no prune, whatever the records' age.
	leader := tc.leaderNode()
	before := leader.State().AppliedIndex()
	leader.prune(ctx, retention)
	if got := leader.State().AppliedIndex(); got != before {
		t.Fatalf("a prune at format 1 moved the log from %d to %d", before, got)
	}

	if _, err := leader.propose(ctx, pipeline.Command{Op: pipeline.OpSetFormat, SetFormat: pipeline.Format2}); err != nil {
		t.Fatalf("raise the log format: %v", err)
	}
	id := uuid.Must(uuid.NewV7()).String()
	first, err := submit(id)
	if err != nil {
		t.Fatal(err)
	}
	if again, err := submit(id); err != nil || again.Id != first.Id || again.Version != first.Version {
		t.Fatalf("retry within the window = %v, %v; want %s v%d", again, err, first.Id, first.Version)
	}
	sec, nsec := uuid.MustParse(id).Time().UnixTime()
	at := time.Unix(sec, nsec)
	tc.waitFor("every site to forget the request", func() bool {
		for _, s := range tc.sites {
			if h, _ := s.node.State().PruneHorizon(); !h.After(at) {
				return false
			}
		}
		return true
	})
	for _, rid := range []string{id, old} {
		_, err := submit(rid)
		checkStatus(t, err, codes.FailedPrecondition, "request ID "+rid+" was created at", "before the 2s retention window",
			"the first attempt's outcome is no longer known")
	}
	fresh, err := submit(uuid.Must(uuid.NewV7()).String())
	if err != nil || fresh.Id == first.Id {
		t.Fatalf("a new request ID after the window = %v, %v; want a new lead", fresh, err)
	}
	// Every site holds the same state (the leader may prune meanwhile:
	// compare copies at the same index).
	eventually(t, 20*time.Second, "every site to hold the same state", func() error {
		var ref []byte
		for name, n := range map[string]*Node{"CGO": tc.node("CGO"), "BOS": tc.node("BOS"), "CBG": tc.node("CBG")} {
			var buf bytes.Buffer
			if _, err := n.State().Snapshot().WriteTo(&buf); err != nil {
				return err
			}
			if ref == nil {
				ref = buf.Bytes()
			} else if !bytes.Equal(buf.Bytes(), ref) {
				return fmt.Errorf("%s differs:\n%.300s\n%.300s", name, buf.Bytes(), ref)
			}
		}
		return nil
	})
}
