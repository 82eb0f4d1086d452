// Package node is one innonet site: it wires the Raft member (package
// cluster), the replicated pipeline (package pipeline) and the API, served
// over gRPC and REST (grpc-gateway) on one port, beside the web console.
//
// Requests:
//
//   - Writes are proposed to the Raft log by the leader. A follower or
//     read replica forwards a write to the leader over gRPC, with the
//     caller's token, and relays the answer; callers never need to know who
//     leads. Through a leader change the request is held and sent again
//     with its request ID, for up to the leader wait (twice the election
//     timeout); with no leader in reach the caller gets UNAVAILABLE (HTTP
//     503) within that wait, naming the cause (forward.go).
//   - Leader placement (placement.go): the leader counts every write it
//     commits for a caller by its origin site (cluster.NoteWrite); every
//     site probes every other with a gRPC health check over the pooled
//     site-to-site connection (cluster.Config.Ping) and reports its
//     round trips in GetSiteStats. GET /v1/cluster shows the matrix, the
//     estimate per voter and why the leader moved or stays;
//     SetLeaderPlacement (PUT /v1/cluster/placement, admins) replaces the
//     replicated pin/prefer/exclude and mode; serve --leader-placement
//     manual stops this site, when it leads, from moving by itself.
//   - A caller may accept a queued answer instead (metadata or HTTP
//     header x-innonet-allow-queued: true; the console's lead forms and
//     submit form do) for the daily writes on leads: submit, edit, review,
//     claim, release, advance, withdraw, interest and comments. While this
//     site knows no leader, while it holds queued writes of the caller's
//     still to be sent (so the caller's writes keep their order), or when
//     the attempts above end UNAVAILABLE,
//     such a write is kept in the site's outbox (package outbox, in the
//     data directory, fsynced) and answered at once: over gRPC with the
//     method's empty response and the header x-innonet-queued naming its
//     request ID, over REST with 202 Accepted and a QueuedWrite. Sending
//     the same write again is answered as it stands (queued, or its
//     outcome). A write without a request ID is never queued. The site
//     sends queued writes in the order taken, one at a time, with their
//     request IDs, through its own API as soon as a leader is reachable;
//     a transient failure keeps the write at the head, a refusal is final
//     and the next follows. ListQueuedWrites (GET /v1/queued) lists the
//     caller's, with the leader's answer or refusal (queued.go).
//     Credentials: a site cut off for longer than MaxAuthStaleness judges
//     no token for an answer, but takes a write to queue on its own copy
//     of the users (the token must be known there, not revoked or
//     expired), because the leader authenticates and authorizes the
//     write again when it is delivered; the outbox keeps the token until
//     then. ListQueuedWrites is answered on that copy likewise.
//   - Reads are answered by the leader (forwarded likewise) unless the
//     request asks for consistency=STALE, which answers from this site's
//     own copy.
//   - The caller is identified by a bearer token (authorization metadata or
//     HTTP header), looked up by its SHA-256 hash in the replicated users.
//     The caller's site or division comes from the token's user, never from
//     the request. A site that does not know a token, or that has not
//     heard from the leader for longer than Config.MaxAuthStaleness, lets
//     the leader judge it.
//   - Every request first meets the site's guard (package guard): size and
//     time limits, requests that do not parse, failed-authentication
//     lockout, per-token rate limits and the security log.
//   - Who may see a lead is decided here (User.CanSee), and within it who
//     may read each note of its stage comment, history and thread
//     (User.CanRead, api_workflow.go); who may change it, in Apply.
//   - Attachments are uploaded to and downloaded from the site the
//     client talks to: it stores the bytes (package attachments) and
//     commits only their SHA-256 and metadata, itself if it leads or else
//     through the leader with the site-only RegisterAttachment; every site
//     fetches from its peers the files its state names and its store
//     lacks (attachments*.go, api_attachments.go).
//   - Every path outside /v1/ is the web console (package console),
//     which calls this site's gRPC API over the gateway's in-memory
//     connection with the signed-in user's session token
//     (console_site.go, console_accounts.go).
//
// Protobuf types stay in this package's API layer (api_*.go, convert.go);
// the pipeline works on its own types.
package node
