// Package pipeline is innonet's deterministic state machine: the deal-flow
// pipeline of leads, their history and the users allowed to move them.
//
// Every change is a [Command] carried by one entry of the replicated log.
// [State.Apply] applies an encoded command and returns a [Result] or an
// [*Error]; every site applies the same commands in the same order and so
// holds the same state. Apply never reads the clock, randomness or the
// network: the proposer stamps the time into the command, and IDs
// (BOS-0001, user-0001) are assigned from counters in the state itself.
// Apply never panics on any input, and a command it refuses changes
// nothing. A command that breaks a rule of the state (a lost claim, a
// wrong stage) is answered with an [*Error] of its kind; an entry this
// version cannot fully understand (it does not decode, is of a newer log
// format, or breaks a rule the proposer checks first) is answered with
// [CodeUnreadable], and the caller must stop applying rather than skip it
// (format.go). [State.ApplyBatch] applies a run of entries in one write
// transaction with the same answers and the same state as Apply entry by
// entry (apply.go).
// A command that repeats an applied request (same actor, same request ID)
// is answered with the first outcome and changes nothing; from log format
// 2 requests are remembered for a retention window (requests.go), and
// command times never run backwards (clock.go).
//
// Around the stages, from log format 2, lies the workflow (workflow.go):
// closing a lost deal and reopening, claim modes and HQ's assignment,
// divisions' expressions of interest (interests.go), a lead's thread of
// comments with their visibility (thread.go), and the fields every event
// changed (changes.go). Besides leads and users the state holds, from
// log format 2 too, the site registry with its sub-nodes (sites.go), the
// organisations behind leads and the local enterprises of deals
// (organizations.go), the deal terms of claimed leads (deal.go) and the
// attachments of leads, by their SHA-256 (attachments.go; the bytes are
// kept outside the state).
//
// The package knows nothing of Raft or protobuf. The node package adapts
// State to raft.FSM and translates its types to the wire.
//
// Typical use:
//
//	st := pipeline.New()
//	cmd := pipeline.Command{Op: pipeline.OpSubmit, RequestID: "r1", Actor: "user-0002",
//		Time: now.UnixNano(), Draft: &pipeline.Draft{...}}
//	data, _ := cmd.Encode()
//	res := st.Apply(logIndex, data) // pipeline.Result or error
//
// Reads ([State.Lead], [State.List], [State.History], [State.Users]) run
// concurrently with Apply on an immutable view of the state: go-memdb,
// and copy-on-write B-trees beside it, committed with it, for the leads
// and the order indexes lists read, the events, the request records, and
// the small tables nearly every request reads: the counters, users,
// tokens, sites, settings, calendars and attachments (sideindex.go,
// keyed.go).
package pipeline
