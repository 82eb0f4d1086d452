package guard

import (
	"context"
	"log/slog"
	"net"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"
)

// quiet discards the mirror of the security log.
var quiet = slog.New(slog.DiscardHandler)

// testSite stands in for the site a guard guards: clients are told apart
// by their connection's address, and valid holds the valid tokens.
type testSite struct{ valid map[string]string } // token → user

func (testSite) ClientAddr(ctx context.Context) string   { return connAddr(ctx) }
func (testSite) Forwarded(context.Context) (bool, error) { return false, nil }
func (testSite) PeerSite(context.Context) string         { return "" }
func (testSite) HasUsers() bool                          { return true }
func (s testSite) TokenUser(token string) (string, bool) { u, ok := s.valid[token]; return u, ok }

// authenticate is the site's judgement of a token, which the guard only
// sees in the status code.
func (s testSite) authenticate(ctx context.Context) error {
	tok, err := Bearer(ctx)
	if err != nil {
		return err
	}
	if _, ok := s.valid[tok]; !ok {
		return status.Error(codes.Unauthenticated, "invalid token")
	}
	return nil
}

// serveGuarded serves the gRPC health service behind g on 127.0.0.1,
// with the site's authentication after the guard, as a site chains it.
func serveGuarded(t *testing.T, g *Guard, site testSite) *grpc.ClientConn {
	t.Helper()
	auth := func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if err := site.authenticate(ctx); err != nil {
			return nil, err
		}
		return handler(ctx, req)
	}
	srv := grpc.NewServer(append(g.ServerOptions(), grpc.ChainUnaryInterceptor(g.Unary, auth))...)
	healthpb.RegisterHealthServer(srv, health.NewServer())
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(lis) }() // ends when the test stops the server
	t.Cleanup(srv.Stop)
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
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

func withBearer(t *testing.T, token string) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token)
}

// TestUnaryUndecodable: a request that does not parse is refused with
// INVALID_ARGUMENT (gRPC would answer INTERNAL), and one refused before
// it is checked (a blocked token) leaves no entry behind in the table of
// parse errors.
func TestUnaryUndecodable(t *testing.T) {
	site := testSite{valid: map[string]string{"inn_good": "u-1"}}
	lim := testLimits()
	lim.AuthFailures = 1
	g, err := New(Config{Logger: quiet, Limits: lim}, site)
	if err != nil {
		t.Fatal(err)
	}
	conn := serveGuarded(t, g, site)
	check := func(ctx context.Context, wire rawBytes) error {
		return conn.Invoke(ctx, healthpb.Health_Check_FullMethodName, &wire, new(rawBytes), grpc.ForceCodecV2(rawBytesCodec{}))
	}
	for _, tt := range []struct {
		name string
		wire rawBytes
	}{
		{"invalid UTF-8", rawBytes{0x0a, 4, 'b', 'a', 'd', 0xff}}, // service
		{"broken wire format", rawBytes{0x0a, 100, 'x'}},          // a length past the end
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := check(withBearer(t, "inn_good"), tt.wire)
			if status.Code(err) != codes.InvalidArgument {
				t.Fatalf("got %v, want INVALID_ARGUMENT", err)
			}
		})
	}
	t.Run("refused before the check", func(t *testing.T) {
		_, err := healthpb.NewHealthClient(conn).Check(withBearer(t, "inn_wrong"), &healthpb.HealthCheckRequest{})
		if status.Code(err) != codes.Unauthenticated {
			t.Fatalf("got %v, want UNAUTHENTICATED", err)
		}
		err = check(withBearer(t, "inn_wrong"), rawBytes{0x0a, 100, 'x'})
		if status.Code(err) != codes.ResourceExhausted {
			t.Fatalf("got %v, want RESOURCE_EXHAUSTED", err)
		}
		left := 0
		g.undecodable.Range(func(_, _ any) bool { left++; return true })
		if left != 0 {
			t.Errorf("got %d parse errors left in the table, want 0", left)
		}
	})
}

// TestCheckMetadata: metadata that is not valid UTF-8 is refused; Go's
// gRPC client cannot send it, so the check is driven directly.
func TestCheckMetadata(t *testing.T) {
	for _, tt := range []struct {
		md   metadata.MD
		want codes.Code
	}{
		{metadata.Pairs("authorization", "Bearer inn_x", "x-note", "Grüße"), codes.OK},
		{metadata.Pairs("x-note", "bad \xff"), codes.InvalidArgument},
		{metadata.Pairs("x-trace-bin", "\xff\xfe"), codes.OK},
	} {
		err := checkMetadata(metadata.NewIncomingContext(context.Background(), tt.md))
		if status.Code(err) != tt.want {
			t.Errorf("%v: got %v, want %s", tt.md, err, tt.want)
		}
	}
}

// TestCheckMetadataArriving: a gRPC request's metadata is checked as it
// arrives, on the copy gRPC makes for the stats handler, and the
// interceptor's check gives that verdict without reading the metadata
// again (the context below carries none).
func TestCheckMetadataArriving(t *testing.T) {
	h := statsHandler{}
	for _, tt := range []struct {
		md   metadata.MD
		want codes.Code
	}{
		{metadata.Pairs("x-note", "Grüße"), codes.OK},
		{metadata.Pairs("x-note", "bad \xff"), codes.InvalidArgument},
		{metadata.Pairs("x-trace-bin", "\xff"), codes.OK},
	} {
		ctx := h.TagRPC(context.Background(), &stats.RPCTagInfo{FullMethodName: "/m"})
		h.HandleRPC(ctx, &stats.InHeader{FullMethod: "/m", Header: tt.md})
		if err := checkMetadata(ctx); status.Code(err) != tt.want {
			t.Errorf("%v: got %v, want %s", tt.md, err, tt.want)
		}
	}
}

func TestBearer(t *testing.T) {
	for _, tt := range []struct {
		header, want string
		ok           bool
	}{
		{"Bearer inn_abc", "inn_abc", true},
		{"bearer  inn_abc ", "inn_abc", true},
		{"", "", false},
		{"Basic YWRtaW4=", "", false},
		{"Bearer ", "", false},
		{"Bearer inn_é", "", false}, // not a token, and could not be forwarded
	} {
		got, err := Bearer(metadata.NewIncomingContext(context.Background(), metadata.Pairs("authorization", tt.header)))
		if got != tt.want || (err == nil) != tt.ok || err != nil && status.Code(err) != codes.Unauthenticated {
			t.Errorf("Bearer(%q) = %q, %v; want %q, ok %v", tt.header, got, err, tt.want, tt.ok)
		}
	}
}
