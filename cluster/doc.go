// Package cluster runs one site's member of the Raft group: log and stable
// store in raft-boltdb (bbolt), snapshots in files, a transport over TCP or
// mutual TLS, bootstrap, join and membership, health checks, and the facts
// a site needs to forward a request to the leader. It knows nothing of the
// deal-flow domain: the caller supplies any raft.FSM.
//
// Usage:
//
//	cfg := cluster.DefaultConfig()     // LAN timings; cfg.UseProfile("wan") for WAN
//	cfg.ID, cfg.RaftAddr, cfg.APIAddr, cfg.DataDir = "BOS", "127.0.0.1:7201", "127.0.0.1:7101", dir
//	cfg.Bootstrap = true               // first site only; ignored once state exists
//	c, err := cluster.New(cfg, myFSM)  // a damaged raft.db is a *StoreError
//	defer c.Close()
//	res, err := c.Apply(ctx, cmd)      // on the leader; cluster.ErrNotLeader elsewhere
//	id, api := c.Leader()              // where to forward when not leader
//
// Every member also records its API address (where it serves gRPC) in the
// replicated log, so any site can find the leader's API address and forward
// writes there. These records, the certificate deny-list and state
// checkpoints travel in log entries of their own kind, interleaved with the
// caller's commands; the caller's FSM never sees them. Raft hands over
// what committed together at once; a caller's FSM that is also a
// [BatchApplier] gets each run of its commands in one call (fsm.go).
//
// Replication (pipeline.go) keeps up to 64 AppendEntries in flight per
// follower on a connection of its own, freeing a slot when the answer is
// read, so a follower's refusal cannot park the sender as it can with
// hashicorp/raft's own pipeline (hashicorp/raft#612); Config.NoPipeline
// sends one at a time instead.
//
// The trust boundary on the Raft port (transport.go, peers.go): every
// message must claim the site its connection's certificate names, and come
// from a voter of this site's configuration; certificates on the deny-list
// (deny.go) are refused.
//
// Integrity (checksum.go, store.go, checkpoint.go, alarm.go): command
// entries carry a CRC-32C; raft.db is checked before Raft opens it; an entry
// that fails its checksum or that the caller's FSM cannot understand (it
// answers with an error wrapping ErrUnreadable) raises the CORRUPT alarm and
// stops the state machine; the leader's checkpoints compare digests of every
// site's state. A failing log write raises NOSPACE until a write succeeds.
// The leader's health checks also compare clocks (clock.go) and collect the
// log format each member's binary reads (format.go).
//
// Reads (read.go): LinearizableRead is Raft's ReadIndex with a leadership
// confirmation of this package's own, a round to the voters only, sent
// after the read began and shared by the reads waiting for it
// (hashicorp/raft's VerifyLeader counts read replicas). Reach (reach.go)
// says whether this site hears from a leader, and if not since when and
// which leader it knew last; past Config.LeaderWait the site is cut off.
// Package faultnet cuts links between test sites as a WAN link fails.
//
// Leader placement (rtt.go, placement.go, placer.go): every site probes
// every other member with Config.Ping each ProbeInterval and reports the
// median of its recent round trips in its Stats; the leader's health
// rounds collect the rows into a matrix. The API layer counts each write
// it commits by origin (NoteWrite, decayed with PlacementHalfLife).
// Every PlacementInterval the leader estimates, for each healthy voter
// that is not behind, skewed or alarmed, the commit latency of that mix
// (round trip from each origin plus the voter's quorum round trip) and
// hands leadership to the best one when it gains PlacementMargin and
// PlacementMinGain per write, once it has led PlacementDwell. Operators
// pin, prefer or exclude sites (SetPlacement, replicated in member
// records that binaries without placement apply as no-ops, and kept in
// snapshots); Config.PlacementManual never moves it. Placement reports
// the matrix, the estimates and why the leader moved or stays.
//
// What this package does not do: forward requests (the API layer does, over
// gRPC, using Leader), decide read consistency beyond LinearizableRead and
// reporting state, or know what the caller's commands mean.
package cluster
