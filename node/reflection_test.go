package node

import (
	"context"
	"errors"
	"io"
	"slices"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	rpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"

	innonetpb "innonet/proto/innonet/v1"
)

// TestReflection lists the API through server reflection, as grpcurl
// does, for a signed-in caller only.
func TestReflection(t *testing.T) {
	tc := newTestCluster(t, []string{"CGO"}, nil)
	n := tc.node("CGO")
	staff := tc.addUser("Beth Boston", innonetpb.Role_NODE_STAFF, "BOS", "")
	list := func(ctx context.Context) ([]string, error) {
		st, err := rpb.NewServerReflectionClient(tc.conn(n)).ServerReflectionInfo(ctx)
		if err != nil {
			return nil, err
		}
		// A stream the server has already ended answers Send with
		// io.EOF; its status is what Recv then returns.
		if err := st.Send(&rpb.ServerReflectionRequest{MessageRequest: &rpb.ServerReflectionRequest_ListServices{}}); err != nil && !errors.Is(err, io.EOF) {
			return nil, err
		}
		resp, err := st.Recv()
		if err != nil {
			return nil, err
		}
		var names []string
		for _, s := range resp.GetListServicesResponse().GetService() {
			names = append(names, s.Name)
		}
		return names, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := list(ctx); status.Code(err) != codes.Unauthenticated {
		t.Errorf("reflection without a token: %v, want UNAUTHENTICATED", err)
	}
	names, err := list(withToken(ctx, staff))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"innonet.v1.LeadService", "innonet.v1.NotificationService", "grpc.health.v1.Health"} {
		if !slices.Contains(names, want) {
			t.Errorf("reflection lists %v, not %s", names, want)
		}
	}
}
