package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/google/uuid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	pb "innonet/proto/innonet/v1"
)

// defaultAddr is the API address of the first site of `innonet demo`.
const defaultAddr = "127.0.0.1:7101"

// clientFlags are the connection flags of every client command.
type clientFlags struct {
	addr      string
	token     string
	tokenFile string
	json      bool
	timeout   time.Duration
	tls       clientTLS
}

// addClientFlags registers --addr, --token, --token-file, --json and
// --timeout; timeout is the default time each request may take.
func addClientFlags(f *cmdFlags, timeout time.Duration) *clientFlags {
	c := &clientFlags{}
	f.StringVar(&c.addr, "addr", envOr("INNONET_ADDR", defaultAddr), "API address (gRPC) of any site, host:port (default $INNONET_ADDR when set)")
	f.StringVar(&c.token, "token", "", "bearer token (default $INNONET_TOKEN); prefer the variable or --token-file, since other users can see flags in ps")
	f.StringVar(&c.tokenFile, "token-file", "", "file holding the bearer token")
	f.BoolVar(&c.json, "json", false, "print JSON (the REST API's: lowerCamelCase names, enums by name) instead of tables")
	f.DurationVar(&c.timeout, "timeout", timeout, "how long each request may take")
	c.tls.register(f)
	f.check(func() error {
		if c.token != "" && c.tokenFile != "" {
			return fmt.Errorf("--token and --token-file exclude each other")
		}
		if c.timeout <= 0 {
			return fmt.Errorf("--timeout must be positive")
		}
		return nil
	})
	return c
}

// bearer returns the token from --token, --token-file or INNONET_TOKEN.
func (c *clientFlags) bearer() (string, error) {
	tok := c.token
	if c.tokenFile != "" {
		b, err := os.ReadFile(c.tokenFile)
		if err != nil {
			return "", fmt.Errorf("read token: %w", err)
		}
		tok = string(b)
	}
	if tok == "" {
		tok = os.Getenv("INNONET_TOKEN")
	}
	tok = strings.TrimSpace(tok)
	if tok == "" {
		return "", fmt.Errorf("no token: set INNONET_TOKEN or pass --token-file FILE")
	}
	return tok, nil
}

// connect opens a client for the site at --addr; the caller closes it.
func (c *clientFlags) connect() (*client, error) {
	tok, err := c.bearer()
	if err != nil {
		return nil, err
	}
	conn, err := dial(c.addr, &c.tls)
	if err != nil {
		return nil, err
	}
	return &client{conn: conn, token: tok, timeout: c.timeout, addr: c.addr,
		leads: pb.NewLeadServiceClient(conn), users: pb.NewUserServiceClient(conn), cluster: pb.NewClusterServiceClient(conn)}, nil
}

// dial opens a gRPC connection to a site. It is the one place that chooses
// the transport: TLS unless --insecure (or an http:// address) asks for
// plaintext.
func dial(addr string, t *clientTLS, opts ...grpc.DialOption) (*grpc.ClientConn, error) {
	target := strings.TrimSuffix(addr, "/")
	plain := t.insecure || strings.HasPrefix(target, "http://")
	target = strings.TrimPrefix(strings.TrimPrefix(target, "http://"), "https://")
	creds := insecure.NewCredentials()
	if !plain {
		cfg, err := t.config()
		if err != nil {
			return nil, err
		}
		creds = credentials.NewTLS(cfg)
	}
	conn, err := grpc.NewClient(target, append([]grpc.DialOption{grpc.WithTransportCredentials(creds),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(64 << 20))}, opts...)...) // a page of leads at their largest
	if err != nil {
		return nil, fmt.Errorf("--addr %s: %w", addr, err)
	}
	return conn, nil
}

// client is a connection to one site, authenticated as one user.
type client struct {
	conn    *grpc.ClientConn
	token   string
	timeout time.Duration
	addr    string
	leads   pb.LeadServiceClient
	users   pb.UserServiceClient
	cluster pb.ClusterServiceClient
}

func (c *client) Close() error { return c.conn.Close() }

// call makes one request: f gets a context with the bearer token and the
// request timeout. A gRPC error comes back as an *apiError.
func (c *client) call(ctx context.Context, f func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(c.authorize(ctx), c.timeout)
	defer cancel()
	return asAPIError(f(ctx))
}

// authorize adds the bearer token to ctx's outgoing metadata.
func (c *client) authorize(ctx context.Context) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+c.token)
}

// write makes a write request, retrying it up to retries times while the
// answer is UNAVAILABLE (no leader, lost quorum, leadership moving). The
// retries reuse the request, and so its request ID, which the server
// answers at most once. requestID (empty for requests without one) is
// named in the messages on stderr.
func (c *client) write(ctx context.Context, std streams, retries int, requestID string, f func(ctx context.Context) error) error {
	wait := 200 * time.Millisecond
	idNote := ""
	if requestID != "" {
		idNote = " with request ID " + requestID
	}
	for attempt := 0; ; attempt++ {
		err := c.call(ctx, f)
		if err == nil {
			if attempt > 0 {
				fmt.Fprintf(std.errOut(), "innonet: succeeded after %d %s%s\n", attempt, plural(attempt, "retry", "retries"), idNote)
			}
			return nil
		}
		code := status.Code(err)
		if code != codes.Unavailable || attempt >= retries || ctx.Err() != nil {
			if attempt > 0 {
				fmt.Fprintf(std.errOut(), "innonet: gave up after %d %s\n", attempt, plural(attempt, "retry", "retries"))
			}
			if requestID != "" && (code == codes.Unavailable || code == codes.DeadlineExceeded) {
				fmt.Fprintf(std.errOut(), "innonet: the write may or may not have been applied; retry it safely with --request-id %s\n", requestID)
			}
			return err
		}
		fmt.Fprintf(std.errOut(), "innonet: retry %d of %d in %s%s, after %v\n", attempt+1, retries, wait, idNote, err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, 3*time.Second)
	}
}

// apiError is an error answer from the API, printed as "CODE: message"
// (e.g. "PERMISSION_DENIED: requires role ..."). status.Code sees through
// it.
type apiError struct{ st *status.Status }

func (e *apiError) Error() string              { return codeName(e.st.Code()) + ": " + e.st.Message() }
func (e *apiError) GRPCStatus() *status.Status { return e.st }

// asAPIError turns a gRPC error into an *apiError; other errors and nil
// pass through.
func asAPIError(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := err.(*apiError); ok {
		return err
	}
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	return &apiError{st}
}

// codeName spells a gRPC code as the API's documentation does:
// PermissionDenied is PERMISSION_DENIED.
func codeName(c codes.Code) string {
	var b strings.Builder
	for i, r := range c.String() {
		if i > 0 && r >= 'A' && r <= 'Z' {
			b.WriteByte('_')
		}
		b.WriteRune(r)
	}
	return strings.ToUpper(b.String())
}

// writeFlags are the flags of a write that carries a request ID.
type writeFlags struct {
	requestID string
	retries   int
}

func addWriteFlags(f *cmdFlags) *writeFlags {
	w := &writeFlags{}
	f.StringVar(&w.requestID, "request-id", "", "idempotency key (default: a new UUIDv7); running a write again with the same ID returns the first result and changes nothing, within the cluster's retention window (7 days by default)")
	addRetriesFlag(f, &w.retries, 5)
	return w
}

// addRetriesFlag registers --retries with default def.
func addRetriesFlag(f *cmdFlags, p *int, def int) {
	f.IntVar(p, "retries", def, "how often to retry after UNAVAILABLE (no leader or no quorum), backing off up to 3s")
	f.check(func() error {
		if *p < 0 {
			return fmt.Errorf("--retries must not be negative")
		}
		return nil
	})
}

// id returns --request-id, or else a fresh random ID, the same on every
// call.
func (w *writeFlags) id() string {
	if w.requestID == "" {
		w.requestID = newRequestID()
	}
	return w.requestID
}

// newRequestID returns a new request ID: a UUIDv7, which carries the time
// it was made, so that the cluster can tell a retry from after its
// retention window (when it no longer knows the first outcome) and
// refuse it rather than apply it again.
func newRequestID() string {
	return uuid.Must(uuid.NewV7()).String() // NewV7 fails only if crypto/rand does, which it does not
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
