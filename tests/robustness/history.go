package robustness

import (
	"sort"
	"sync"
	"time"
)

// Stage is a lead's stage as the API names it.
type Stage string

// The stages of the pipeline (see node/pipeline/transitions.go).
const (
	Submitted   Stage = "SUBMITTED"
	Approved    Stage = "APPROVED"
	Returned    Stage = "RETURNED"
	Declined    Stage = "DECLINED"
	Claimed     Stage = "CLAIMED"
	Negotiating Stage = "NEGOTIATING"
	Signed      Stage = "SIGNED"
	Landed      Stage = "LANDED"
	Withdrawn   Stage = "WITHDRAWN"
)

// Kind is the kind of a recorded operation.
type Kind string

// Operation kinds. Writes on an existing lead are the ones the
// linearizability model knows; reads are GetLead and ListLeads.
const (
	KindSubmit   Kind = "submit"
	KindUpdate   Kind = "update"
	KindReview   Kind = "review"
	KindClaim    Kind = "claim"
	KindRelease  Kind = "release"
	KindAdvance  Kind = "advance"
	KindWithdraw Kind = "withdraw"
	KindGet      Kind = "get"
	KindList     Kind = "list"
)

// Kinds lists every kind in report order.
var Kinds = []Kind{KindSubmit, KindUpdate, KindReview, KindClaim, KindRelease, KindAdvance, KindWithdraw, KindGet, KindList}

// IsLeadWrite reports whether k changes an existing lead.
func (k Kind) IsLeadWrite() bool {
	switch k {
	case KindUpdate, KindReview, KindClaim, KindRelease, KindAdvance, KindWithdraw:
		return true
	}
	return false
}

// IsRead reports whether k is a read.
func (k Kind) IsRead() bool { return k == KindGet || k == KindList }

// Outcome is what a client learned from an operation.
type Outcome int

const (
	// OK: the operation took effect (or, for a read, answered).
	OK Outcome = iota
	// Failed: a definite failure; the operation had no effect.
	Failed
	// Unknown: a timeout, an unavailable site, a broken connection, or a
	// definite failure after an indeterminate attempt: the write may or may
	// not have taken effect, at any time after it was invoked.
	Unknown
)

func (o Outcome) String() string {
	switch o {
	case OK:
		return "ok"
	case Failed:
		return "fail"
	}
	return "unknown"
}

// Role is the kind of user a client acts as.
type Role string

// The roles the workload uses.
const (
	RoleHQ       Role = "HQ"
	RoleStaff    Role = "STAFF"
	RoleDivision Role = "DIVISION"
	RoleAdmin    Role = "ADMIN"
)

// Actor is who performs an operation.
type Actor struct {
	Role Role
	// Site of node staff (BOS...), division of a division user (YRD...).
	Site     string
	Division string
}

// LeadView is the part of a lead the checkers look at.
type LeadView struct {
	ID       string
	Title    string
	Stage    Stage
	Division string
	Version  int64
}

// Op is one recorded client operation: every attempt of a write (retries
// reuse the request ID) folded into one call/return interval.
type Op struct {
	Client    int
	Kind      Kind
	Site      string // the site the first attempt was sent to
	Actor     Actor
	LeadID    string
	RequestID string
	Title     string // submit: the unique title that identifies its content
	Decision  string // review: APPROVE, RETURN or DECLINE
	Target    Stage  // advance: the stage asked for
	// Consistency of a read: STALE, LEADER or LINEARIZABLE.
	Consistency string
	// Call and Return are monotonic nanoseconds since the history began.
	Call, Return int64
	Attempts     int
	Outcome      Outcome
	// Code is the gRPC code name of the last attempt's error ("OK" if none).
	Code string
	Err  string
	// Lead is the lead a write or GetLead returned; Leads what ListLeads did.
	Lead     *LeadView
	Leads    []LeadView
	ReadSite string // the site that answered a read
	// AppliedIndex is the answering site's applied index a read reports.
	AppliedIndex uint64
	// Incarnation counts the starts of the site a read was sent to, when
	// it was the same at the read's call and return (else -1): reads from
	// one process of a site must never go back in time.
	Incarnation int
}

// History records operations concurrently.
type History struct {
	start time.Time
	mu    sync.Mutex
	ops   []*Op
}

// NewHistory starts a history at the current monotonic time.
func NewHistory() *History { return &History{start: time.Now()} }

// Now returns the monotonic time since the history began.
func (h *History) Now() int64 { return int64(time.Since(h.start)) }

// Add records a finished operation.
func (h *History) Add(op *Op) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.ops = append(h.ops, op)
}

// Ops returns a copy of the recorded operations ordered by call time.
func (h *History) Ops() []Op {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]Op, len(h.ops))
	for i, op := range h.ops {
		out[i] = *op
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Call < out[j].Call })
	return out
}
