// Package guard keeps hostile clients from wearing an innonet site down.
// It is the site's edge: the first code a request meets, before it is
// authenticated, forwarded to the leader or answered, so it acts on the
// site that took the request from the client, with the client's own
// address, before the request costs a round trip to the leader.
//
// What it does:
//
//   - Bounds what one client may send: gRPC message sizes, REST body
//     size, how long headers and bodies may take (Limits).
//   - Refuses what does not parse before it reaches a handler: a gRPC
//     message that does not decode (invalid UTF-8 in a string, broken
//     wire format), metadata or any part of a REST request (path, query,
//     headers, body) that is not valid UTF-8, an enum number its type does
//     not define — INVALID_ARGUMENT, HTTP 400.
//   - Counts failed authentications per token at an address, per address
//     and for the whole site, and refuses blocked callers with
//     RESOURCE_EXHAUSTED (HTTP 429) and a Retry-After (see lockout).
//   - Limits how fast one token may call (a token bucket per token).
//   - Writes the site's security log (<data-dir>/security.log, JSON lines)
//     and counts its events in innonet_security_events_total{kind}.
//   - Answers a REST method a path does not take with 405 and Allow
//     (Routes, MethodNotAllowed).
//
// What it does not do: it does not authenticate or authorize. It reads a
// bearer token only to tell callers apart, and learns that a token failed
// from the status code the site's handler returns (UNAUTHENTICATED,
// PERMISSION_DENIED); the site judges tokens and roles. It does not check
// a request's fields (the pipeline does, before a command reaches the
// log), terminate TLS or verify certificates (the site says which
// connection carries a site certificate), or share anything between
// sites: every table is one site's, in memory, bounded, and empty again
// after a restart. A request another site forwarded (a claim the site
// verifies) is not guarded or logged again, and a connection with a site
// certificate is not throttled.
//
// A site builds one Guard and puts it in front of everything it serves:
//
//	g, err := guard.New(guard.Config{Site: "BOS", DataDir: dir, Logger: log,
//		Limits: limits, Metrics: registry}, site)
//	srv := grpc.NewServer(append(g.ServerOptions(),
//		grpc.ChainUnaryInterceptor(recovery, metrics, g.Unary, forwarding),
//		grpc.ChainStreamInterceptor(recovery, metrics, g.Stream))...)
//	mux.Handle("GET /v1/backup", g.Authenticating("backup requires role ADMIN", backup))
//	server := &http.Server{Handler: g.HTTP(mux), ReadHeaderTimeout: g.Limits().ReadHeaderTimeout}
//
// site implements Site: the few things the guard must ask of the site
// (the client's address, whether a request was forwarded by a site,
// whether a token is valid, for the lock-down and the log).
package guard
