package node

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/reflection"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"innonet/node/console"
	"innonet/node/guard"
	innonetpb "innonet/proto/innonet/v1"
)

// streamWorkers is how many goroutines serve this site's gRPC requests
// (grpc.NumStreamWorkers): as many as the callers a busy site has at once.
const streamWorkers = 128

// serve starts gRPC and REST on the one listener: gRPC connections go to
// grpc-go's own server (split.go), everything else to net/http, where
// HTTP/2 requests with a gRPC content type still reach the gRPC server
// and the rest goes to the gateway,
// which calls this site's own gRPC API (so forwarding and authentication
// apply to REST exactly as to gRPC).
func (n *Node) serve() error {
	// The guard (package guard) comes before forwarding, so it acts on
	// the site that took the request from the client, and checks the
	// claim of a forwarded request itself before exempting it.
	g := n.guard
	lim := g.Limits()
	n.grpc = grpc.NewServer(append(g.ServerOptions(),
		// TLS is taken care of before the connection is split (split.go).
		grpc.Creds(tlsDone{}),
		// Other sites ping their connections here (peerKeepalive).
		grpc.KeepaliveEnforcementPolicy(peerKeepaliveEnforcement),
		// Requests run on long-lived goroutines whose stacks have grown
		// already, rather than each on a new one that grows its stack
		// again (a stream beyond them gets a goroutine of its own).
		grpc.NumStreamWorkers(streamWorkers),
		// The view (views.go) is last: it applies where the answer is made.
		grpc.ChainUnaryInterceptor(recoverInterceptor(n), n.metrics.unary, g.Unary, n.forwardInterceptor, n.viewInterceptor),
		grpc.ChainStreamInterceptor(recoverStreamInterceptor(n), n.metrics.stream, g.Stream, n.reflectionAuth),
	)...)
	n.health = health.NewServer()
	n.health.SetServingStatus("", healthpb.HealthCheckResponse_NOT_SERVING)
	healthpb.RegisterHealthServer(n.grpc, n.health)
	innonetpb.RegisterLeadServiceServer(n.grpc, &leadService{n: n})
	innonetpb.RegisterUserServiceServer(n.grpc, &userService{n: n})
	innonetpb.RegisterClusterServiceServer(n.grpc, &clusterService{n: n})
	innonetpb.RegisterDivisionServiceServer(n.grpc, &divisionService{n: n})
	innonetpb.RegisterReportServiceServer(n.grpc, &reportService{n: n})
	innonetpb.RegisterNotificationServiceServer(n.grpc, &notificationService{n: n})
	innonetpb.RegisterOutboxServiceServer(n.grpc, &outboxService{n: n})
	// Server reflection, for grpcurl and the like: signed-in callers only
	// (reflectionAuth).
	reflection.Register(n.grpc)

	// The gateway calls this site's gRPC server in memory, so REST needs
	// no loopback port and no TLS to itself, and a REST request is told
	// apart from a gRPC one (see clientAddr).
	n.gwLis = bufconn.Listen(1 << 20)
	go func() {
		if err := n.grpc.Serve(n.gwLis); err != nil && err != grpc.ErrServerStopped {
			n.log.Error("gateway connection stopped", "err", err)
		}
	}()
	conn, err := grpc.NewClient("passthrough:///"+gatewayNetwork,
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return n.gwLis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(lim.MaxSendMsgSize)))
	if err != nil {
		return err
	}
	n.gwConn = conn
	register := func(mux *runtime.ServeMux) error {
		for _, register := range []func(context.Context, *runtime.ServeMux, *grpc.ClientConn) error{
			innonetpb.RegisterLeadServiceHandler,
			innonetpb.RegisterUserServiceHandler,
			innonetpb.RegisterClusterServiceHandler,
			innonetpb.RegisterDivisionServiceHandler,
			innonetpb.RegisterReportServiceHandler,
			innonetpb.RegisterNotificationServiceHandler,
			innonetpb.RegisterOutboxServiceHandler,
		} {
			if err := register(context.Background(), mux, conn); err != nil {
				return err
			}
		}
		return nil
	}
	routes, err := guard.NewRoutes(register)
	if err != nil {
		return err
	}
	gw := runtime.NewServeMux(
		runtime.WithIncomingHeaderMatcher(headerMatcher),
		runtime.WithOutgoingHeaderMatcher(outgoingHeaderMatcher),
		runtime.WithMarshalerOption(runtime.MIMEWildcard, bodyMarshaler(&runtime.JSONPb{
			MarshalOptions:   protojson.MarshalOptions{EmitUnpopulated: true},
			UnmarshalOptions: protojson.UnmarshalOptions{DiscardUnknown: false},
		})),
		runtime.WithRoutingErrorHandler(routes.HandleRoutingError),
		// Unknown or malformed query parameters are refused (restquery.go).
		runtime.SetQueryParameterParser(strictQuery{}),
		runtime.WithMiddlewares(refuseQueryOnBody()),
		// A queued write answers 202 Accepted with a QueuedWrite.
		runtime.WithForwardResponseOption(queuedStatus),
		runtime.WithForwardResponseRewriter(n.queuedRewrite),
	)
	if err := register(gw); err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	mux.HandleFunc("GET /readyz", n.readyz)
	mux.Handle("GET /metrics", g.Authenticating("metrics require role ADMIN", n.metricsHTTP(n.metrics.handler())))
	mux.Handle("GET /v1/backup", g.Authenticating("backup requires role ADMIN", http.HandlerFunc(n.backupHTTP)))
	if n.cfg.Pprof {
		mux.Handle("/debug/pprof/", g.Authenticating("profiles require role ADMIN", n.metricsHTTP(pprofHandler())))
	}
	// The same paths with another method: 405, where the gateway, which
	// takes every other path, would answer 404.
	for _, path := range []string{"/healthz", "/readyz", "/metrics", "/v1/backup"} {
		mux.Handle(path, guard.MethodNotAllowed(http.MethodGet, http.MethodHead))
	}
	n.attachmentRoutes(mux, gw)
	// The REST API is under /v1/; every other path is the web console,
	// which calls this site's gRPC API as the gateway does.
	cons, err := n.newConsole(conn)
	if err != nil {
		return err
	}
	// Reports and lead lists as files (export.go), in front of the gateway.
	mux.Handle("/v1/", n.sse(n.exports(gw)))
	mux.Handle("/", cons)

	rest := g.HTTP(mux)
	// Uploads stream their bodies past the guard's whole-body read, with
	// a limit of their own (see attachmentRoutes).
	front := http.NewServeMux()
	front.Handle("POST /v1/leads/{id}/attachments", g.Upload(n.cfg.MaxAttachmentBytes+multipartSlack,
		g.Authenticating("uploading an attachment requires a role that may add to the lead", http.HandlerFunc(n.uploadHTTP))))
	// The console's forms that carry files, likewise.
	consoleFiles := g.Upload(consoleSubmitFiles*(n.cfg.MaxAttachmentBytes+multipartSlack), cons)
	front.Handle(console.UploadPath, consoleFiles)
	front.Handle(console.SubmitPath, consoleFiles)
	front.Handle("/", rest)

	var protocols http.Protocols
	protocols.SetHTTP1(true)
	if n.cfg.TLS != nil {
		protocols.SetHTTP2(true)
	} else {
		protocols.SetUnencryptedHTTP2(true)
	}
	n.http = &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.ProtoMajor == 2 && strings.HasPrefix(r.Header.Get("Content-Type"), "application/grpc") {
				n.grpc.ServeHTTP(w, r)
				return
			}
			front.ServeHTTP(w, r)
		}),
		Protocols:         &protocols,
		ReadHeaderTimeout: lim.ReadHeaderTimeout,
		MaxHeaderBytes:    lim.MaxHeaderBytes,
		// Failed TLS handshakes (scanners, plaintext clients) are routine on
		// an internet-facing port.
		ErrorLog:    slog.NewLogLogger(n.log.Handler(), slog.LevelDebug),
		IdleTimeout: lim.IdleTimeout,
	}
	var tlsCfg *tls.Config
	if n.cfg.TLS != nil {
		tlsCfg = n.cfg.TLS.APIServerConfig()
		// A copy for net/http, which offers HTTP/2 on connections whose
		// ALPN chose it (and writes to its copy when it starts serving,
		// while the splitter reads the other).
		n.http.TLSConfig = tlsCfg.Clone()
	}
	n.split = newSplitter(n.lis, tlsCfg, lim.ReadHeaderTimeout, n.log)
	go n.split.serve()
	go func() {
		if err := n.grpc.Serve(n.split.grpc); err != nil && err != grpc.ErrServerStopped && !errors.Is(err, net.ErrClosed) {
			n.log.Error("gRPC server stopped", "err", err)
		}
	}()
	go func() {
		if err := n.http.Serve(n.split.http); err != nil && err != http.ErrServerClosed && !errors.Is(err, net.ErrClosed) {
			n.log.Error("API server stopped", "err", err)
		}
	}()
	return nil
}

// gatewayNetwork names the in-memory connection of the REST gateway.
const gatewayNetwork = "bufconn"

// headerMatcher passes HTTP headers to gRPC metadata as the gateway does by
// default, except innonet's own site-to-site keys (x-innonet-*), which a
// REST caller must not be able to set.
func headerMatcher(key string) (string, bool) {
	if strings.HasPrefix(strings.ToLower(key), strings.ToLower(runtime.MetadataHeaderPrefix)+"x-innonet-") {
		return "", false
	}
	if strings.EqualFold(key, queuedHeader) {
		return mdAllowQueued, true
	}
	return runtime.DefaultHeaderMatcher(key)
}

// queuedHeader is the HTTP header a REST caller sends to accept a queued
// answer (gRPC metadata x-innonet-allow-queued).
const queuedHeader = "X-Innonet-Allow-Queued"

// queuedOf returns the request ID of a write that was queued.
func queuedOf(ctx context.Context) string {
	if md, ok := runtime.ServerMetadataFromContext(ctx); ok {
		if v := md.HeaderMD.Get(mdQueued); len(v) > 0 {
			return v[0]
		}
	}
	return ""
}

// queuedStatus answers a queued write 202 Accepted.
func queuedStatus(ctx context.Context, w http.ResponseWriter, _ proto.Message) error {
	if queuedOf(ctx) != "" {
		w.WriteHeader(http.StatusAccepted)
	}
	return nil
}

// queuedRewrite puts a QueuedWrite in place of a queued write's empty
// response.
func (n *Node) queuedRewrite(ctx context.Context, resp proto.Message) (any, error) {
	if rid := queuedOf(ctx); rid != "" {
		method, _ := runtime.RPCMethod(ctx)
		return n.queuedBody(rid, method), nil
	}
	return resp, nil
}

// outgoingHeaderMatcher passes innonet's read headers (x-innonet-*) to
// REST callers under their own names, and other gRPC response metadata
// with the gateway's Grpc-Metadata- prefix.
func outgoingHeaderMatcher(key string) (string, bool) {
	if strings.HasPrefix(key, "x-innonet-") {
		return key, true
	}
	return runtime.MetadataHeaderPrefix + key, true
}

// reflectionAuth lets only authenticated callers read the API's
// description through server reflection.
func (n *Node) reflectionAuth(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	if strings.HasPrefix(info.FullMethod, "/grpc.reflection.") {
		if _, err := n.authenticate(ss.Context()); err != nil {
			return err
		}
	}
	return handler(srv, ss)
}

// recoverStreamInterceptor is recoverInterceptor for streaming methods.
func recoverStreamInterceptor(n *Node) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) (err error) {
		defer func() {
			if r := recover(); r != nil {
				n.log.Error("panic in handler", "method", info.FullMethod, "panic", r)
				err = status.Error(codes.Internal, "internal error")
			}
		}()
		return handler(srv, ss)
	}
}

// recoverInterceptor turns a panic in a handler into INTERNAL, so no input
// can take the site down.
func recoverInterceptor(n *Node) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
		defer func() {
			if r := recover(); r != nil {
				n.log.Error("panic in handler", "method", info.FullMethod, "panic", r)
				err = status.Error(codes.Internal, "internal error")
			}
		}()
		return handler(ctx, req)
	}
}

func withToken(ctx context.Context, token string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token)
}

func isCode(err error, c codes.Code) bool {
	s, ok := status.FromError(err)
	return ok && s.Code() == c
}
