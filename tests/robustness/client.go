package robustness

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	innonetpb "innonet/proto/innonet/v1"
)

// RequestTimeout bounds every client request.
const RequestTimeout = 5 * time.Second

// Conns holds one gRPC connection per site, dialed directly (clients are
// not behind the proxies: a site cut off from the others still answers
// its clients, as it would in the field).
type Conns struct {
	bySite map[string]*grpc.ClientConn
}

// Dial connects to every site's API, over TLS verified against caFile
// (or in plaintext when caFile is empty).
func Dial(sites []*Site, caFile string) (*Conns, error) {
	creds := insecure.NewCredentials()
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s holds no certificate", caFile)
		}
		creds = credentials.NewTLS(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12})
	}
	// Sites restart within seconds: reconnect quickly.
	params := grpc.ConnectParams{Backoff: backoff.DefaultConfig, MinConnectTimeout: 2 * time.Second}
	params.Backoff.BaseDelay, params.Backoff.MaxDelay = 50*time.Millisecond, time.Second
	c := &Conns{bySite: map[string]*grpc.ClientConn{}}
	for _, s := range sites {
		cc, err := grpc.NewClient("passthrough:///"+s.API, grpc.WithTransportCredentials(creds), grpc.WithConnectParams(params))
		if err != nil {
			c.Close()
			return nil, err
		}
		c.bySite[s.Code] = cc
	}
	return c, nil
}

// Leads returns a LeadService client of site.
func (c *Conns) Leads(site string) innonetpb.LeadServiceClient {
	return innonetpb.NewLeadServiceClient(c.bySite[site])
}

// Users returns a UserService client of site.
func (c *Conns) Users(site string) innonetpb.UserServiceClient {
	return innonetpb.NewUserServiceClient(c.bySite[site])
}

// Cluster returns a ClusterService client of site.
func (c *Conns) Cluster(site string) innonetpb.ClusterServiceClient {
	return innonetpb.NewClusterServiceClient(c.bySite[site])
}

// Health returns the gRPC health client of site.
func (c *Conns) Health(site string) healthpb.HealthClient {
	return healthpb.NewHealthClient(c.bySite[site])
}

// Close closes every connection.
func (c *Conns) Close() {
	for _, cc := range c.bySite {
		cc.Close()
	}
}

// withToken returns a request context carrying token, bounded by
// RequestTimeout.
func withToken(ctx context.Context, token string) (context.Context, context.CancelFunc) {
	ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token)
	return context.WithTimeout(ctx, RequestTimeout)
}

// classify says what an error means for a write: nothing happened
// (Failed), or it may have (Unknown). Only answers that come from the
// state machine or from checks before a command is proposed are definite;
// anything that may have been cut short after proposing is not.
func classify(err error) (Outcome, string) {
	if err == nil {
		return OK, codes.OK.String()
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return Unknown, codes.DeadlineExceeded.String()
	}
	code := status.Code(err).String()
	if definiteCodes[code] {
		return Failed, code
	}
	return Unknown, code
}
