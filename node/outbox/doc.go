// Package outbox keeps one site's queued writes on disk: writes the site
// took while it could reach no leader, to be delivered, in the order they
// were taken, once it can.
//
// The outbox knows nothing of what a write means. An [Entry] holds what
// delivering it later needs (the API method, the request's bytes, its
// request ID, the credential to send it with, who wrote it) and what came
// of it: [Queued] until delivered, then [Applied] with the answer's bytes,
// or [Refused] with the refusal's message.
//
//	box, err := outbox.Open(filepath.Join(dataDir, "outbox.log")) // a damaged file: *CorruptError
//	defer box.Close()
//	e, err := box.Add(outbox.Entry{Author: "user-0007", RequestID: "r-1", Method: m, Request: b, Token: tok})
//	// … later, the delivery loop:
//	head, ok := box.Head()                       // the oldest entry still queued
//	_ = box.Attempt(head.Seq, "no leader")       // a transient failure: it stays the head
//	_ = box.Resolve(head.Seq, outbox.Applied, "", "", resp)
//	mine := box.List("user-0007")                // newest first
//
// # On disk
//
// The outbox is a journal: one file of records, each a length, a CRC-32C
// and a JSON body holding an entry's whole current state. Add and every
// change append a record and fsync the file before they return, so a write
// the site has answered "queued" survives a crash or a power cut; Open
// replays the records, the last record of an entry winning. Open rewrites
// the journal (to a temporary file, fsynced, renamed over the old one)
// when it holds many superseded records, dropping entries resolved longer
// ago than [Retention].
//
// A record cut short at the end of the file (a crash while appending,
// before the write was answered) is dropped. Any other damage — a bad
// checksum, a record that does not parse — makes Open fail with a
// *CorruptError naming the file and the offset; nothing is guessed, and no
// input makes the package panic. A bbolt file was the other choice: bbolt
// maps its file into memory, where a damaged page faults the process
// rather than returning an error (see cluster/store.go for what guarding
// against that takes).
//
// # Idempotency
//
// An entry is known by its author and request ID. Adding one that is
// already there returns the stored entry (a client that retries a queued
// write is told it is queued, once); the same key with a different method
// or request is refused with [ErrConflict], as Apply refuses a request ID
// reused for a different request.
//
// # What it does not do
//
// It does not deliver: the site's delivery loop (node/queued.go) reads
// the head, sends it with its request ID and records the outcome. It does
// not authenticate or authorize: the leader does both when the write is
// delivered. The file holds each queued write's bearer credential until the
// entry is resolved (then it is cleared), so it is created readable by its
// owner only, like the rest of the data directory.
//
// An Outbox is safe for concurrent use.
package outbox
