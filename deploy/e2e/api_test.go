//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"
)

// api is a plain REST client, the kind a site's users would write: HTTPS,
// trusting the network's CA and checking that each site's certificate
// names the address it dials.
type api struct {
	http   *http.Client
	scheme string
}

// newAPI returns a client that trusts the CA certificates in caPEM; with
// none it speaks plaintext HTTP (to check that the sites refuse it).
func newAPI(caPEM []byte) (*api, error) {
	tr := &http.Transport{
		// A stopped or cut-off container does not answer ARP: fail fast
		// and let the caller try another site.
		DialContext:         (&net.Dialer{Timeout: time.Second}).DialContext,
		TLSHandshakeTimeout: 5 * time.Second,
		MaxIdleConnsPerHost: 8,
		IdleConnTimeout:     30 * time.Second,
	}
	if caPEM == nil {
		return &api{http: &http.Client{Transport: tr}, scheme: "http"}, nil
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		return nil, errors.New("the CA file holds no PEM certificate")
	}
	// HTTP/1.1, one request per connection at a time, as before TLS: a
	// request that times out against a dead site takes its connection
	// with it instead of stalling others multiplexed on it.
	tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: roots}
	return &api{http: &http.Client{Transport: tr}, scheme: "https"}, nil
}

// httpError is an answer other than 200.
type httpError struct {
	Status  int
	Message string
}

func (e *httpError) Error() string { return fmt.Sprintf("HTTP %d: %s", e.Status, e.Message) }

// statusOf returns the HTTP status of an error from api.do, or 0 when the
// request got no answer.
func statusOf(err error) int {
	var he *httpError
	if errors.As(err, &he) {
		return he.Status
	}
	return 0
}

// do sends one request to the site at addr and decodes a 200 answer into
// out. in is sent as JSON when not nil.
func (a *api) do(ctx context.Context, method, addr, path, token string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.scheme+"://"+addr+path, body)
	if err != nil {
		return err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("read answer to %s %s: %w", method, path, err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct{ Message string }
		if json.Unmarshal(b, &e) != nil || e.Message == "" {
			e.Message = string(bytes.TrimSpace(b))
		}
		return &httpError{Status: resp.StatusCode, Message: e.Message}
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("decode answer to %s %s: %w", method, path, err)
		}
	}
	return nil
}

// get is do for a GET with a deadline of its own.
func (a *api) get(ctx context.Context, addr, path, token string, out any) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return a.do(ctx, http.MethodGet, addr, path, token, nil, out)
}

// lead is the part of a lead the tests look at.
type lead struct {
	ID       string `json:"id"`
	Title    string `json:"title"`
	Site     string `json:"site"`
	Division string `json:"division"`
	Stage    string `json:"stage"`
}

// historyEvent is the part of a history entry the tests look at.
type historyEvent struct {
	Action     string `json:"action"`
	UserSite   string `json:"userSite"`
	OriginSite string `json:"originSite"`
	ToStage    string `json:"toStage"`
}

// clusterView is GET /v1/cluster: the group as the answering site sees it.
type clusterView struct {
	Site        string `json:"site"`
	State       string `json:"state"`
	Leader      string `json:"leader"`
	Term        uint64 `json:"term,string"`
	CommitIndex uint64 `json:"commitIndex,string"`
	Members     []struct {
		Site  string `json:"site"`
		Voter bool   `json:"voter"`
	} `json:"members"`
}

// view asks one site for its own view of the group.
func (a *api) view(ctx context.Context, addr, token string) (clusterView, error) {
	var v clusterView
	err := a.get(ctx, addr, "/v1/cluster?consistency=STALE", token, &v)
	return v, err
}

// leads lists every lead the token may see from the site's own copy
// (consistency STALE), all pages.
func (a *api) leads(ctx context.Context, addr, token string) ([]lead, error) {
	var all []lead
	page := ""
	for {
		var resp struct {
			Leads         []lead `json:"leads"`
			NextPageToken string `json:"nextPageToken"`
		}
		path := "/v1/leads?consistency=STALE&pageSize=500&pageToken=" + url.QueryEscape(page)
		if err := a.get(ctx, addr, path, token, &resp); err != nil {
			return nil, err
		}
		all = append(all, resp.Leads...)
		if resp.NextPageToken == "" {
			return all, nil
		}
		page = resp.NextPageToken
	}
}

// ready reports whether the site answers 200 on /readyz.
func (a *api) ready(ctx context.Context, addr string) bool {
	return a.get(ctx, addr, "/readyz", "", nil) == nil
}
