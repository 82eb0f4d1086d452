package cluster

import "errors"

// Errors returned by Cluster. Raft's own errors are mapped to these at the
// boundary so callers need not import raft.
var (
	// ErrNotLeader: this site is not the leader; forward to Leader().
	ErrNotLeader = errors.New("not the leader")
	// ErrNoLeader: no leader is known (election under way or no quorum).
	ErrNoLeader = errors.New("no leader")
	// ErrUnknownOutcome: leadership was lost after the command was sent to
	// the log; it may or may not be applied. Retrying with the same client
	// request ID is safe.
	ErrUnknownOutcome = errors.New("leadership lost while committing; outcome unknown")
	// ErrTimeout: the command was not committed in time.
	ErrTimeout = errors.New("timed out waiting for commit")
	// ErrShutdown: the site is shutting down.
	ErrShutdown = errors.New("raft is shut down")
	// ErrNotMember: this site is not in the Raft configuration (not yet
	// joined, or removed). A removed site must rejoin (serve --join) before
	// it serves again.
	ErrNotMember = errors.New("this site is not a member of the cluster")
	// ErrUnknownMember: the named site is not in the configuration.
	ErrUnknownMember = errors.New("no such member")
	// ErrRefused: the membership change is not allowed as asked (it would
	// remove the last voter, or hand leadership to a non-voter...); the
	// wrapping error says why.
	ErrRefused = errors.New("membership change refused")
	// ErrInvalidPlacement: leader placement preferences that cannot be
	// followed (an unknown site, a pin on a non-voter, a site both pinned
	// and excluded); the wrapping error names the field.
	ErrInvalidPlacement = errors.New("invalid leader placement")
)
