// Package cluster runs one site's member of the Raft group: log and stable
// store in raft-boltdb (bbolt), snapshots in files, TCP transport, bootstrap,
// join and membership, and the facts a site needs to forward a request to
// the leader. It knows nothing of the deal-flow domain: the caller supplies
// any raft.FSM.
//
// Usage:
//
//	cfg := cluster.DefaultConfig()     // LAN timings; cfg.UseProfile("wan") for WAN
//	cfg.ID, cfg.RaftAddr, cfg.APIAddr, cfg.DataDir = "BOS", "127.0.0.1:7201", "127.0.0.1:7101", dir
//	cfg.Bootstrap = true               // first site only; ignored once state exists
//	c, err := cluster.New(cfg, myFSM)
//	defer c.Close()
//	res, err := c.Apply(ctx, cmd)      // on the leader; cluster.ErrNotLeader elsewhere
//	id, api := c.Leader()              // where to forward when not leader
//
// Every member also records its API address (where it serves gRPC) in the
// replicated log, so any site can find the leader's API address and forward
// writes there. These records travel in log entries of their own kind,
// interleaved with the caller's commands; the caller's FSM never sees them.
//
// What this package does not do: authenticate peers (the transport is plain
// TCP until mutual TLS arrives), forward requests (the API layer does, over
// gRPC, using Leader), or decide read consistency beyond reporting state.
package cluster
