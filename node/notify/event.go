package notify

import (
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Actions the node records and the rules know. Any other action (UPDATE,
// ADD_ATTACHMENT, ...) concerns nobody.
const (
	ActionSubmit           = "SUBMIT"
	ActionUpdate           = "UPDATE"
	ActionResubmit         = "RESUBMIT"
	ActionApprove          = "APPROVE"
	ActionReturn           = "RETURN"
	ActionDecline          = "DECLINE"
	ActionClaim            = "CLAIM"
	ActionRelease          = "RELEASE"
	ActionAdvance          = "ADVANCE"
	ActionWithdraw         = "WITHDRAW"
	ActionClose            = "CLOSE"
	ActionReopen           = "REOPEN"
	ActionAssign           = "ASSIGN"
	ActionExpressInterest  = "EXPRESS_INTEREST"
	ActionWithdrawInterest = "WITHDRAW_INTEREST"
	ActionComment          = "COMMENT"
	ActionMerge            = "MERGE"
	ActionMergeIn          = "MERGE_IN"
	ActionAddAttachment    = "ADD_ATTACHMENT"
	// ActionSLA marks a synthetic event the node makes when a lead's
	// deadline comes near or passes; its [Event.SLA] says which.
	ActionSLA = "SLA"
)

// Roles, as the node names them.
const (
	RoleAdmin      = "ADMIN"
	RoleHQReviewer = "HQ_REVIEWER"
	RoleDivision   = "DIVISION"
	RoleNodeStaff  = "NODE_STAFF"
)

// Parties that are not a site or a division, in [Event.Audience] and
// [SLAWarning.MustAct].
const (
	PartyHQ        = "HQ"        // HQ reviewers and admins
	PartyDivisions = "DIVISIONS" // every division's users
)

// Event is one entry of a lead's history, as the node applied it, or a
// synthetic SLA event. It carries everything the rules and the messages
// need, so that neither reads the state.
type Event struct {
	// Index is the Raft log index that applied the event: with the kind
	// (and the user), the idempotency key of every notification of it.
	// A synthetic SLA event takes the index of the entry that set the
	// stage whose deadline it warns of.
	Index     uint64    `json:"index"`
	Time      time.Time `json:"time"`
	LeadID    string    `json:"leadId"`
	LeadTitle string    `json:"leadTitle"`
	// Site is the lead's first-level site (MUC), Subnode its sub-node
	// (MUC-TUM) if it came from one.
	Site    string `json:"site"`
	Subnode string `json:"subnode,omitempty"`
	// Division is the division the lead is claimed by or assigned to, or
	// the one acting (EXPRESS_INTEREST).
	Division string `json:"division,omitempty"`
	Action   string `json:"action"`
	// From and To are the stages before and after (SUBMITTED, APPROVED,
	// RETURNED, DECLINED, CLAIMED, NEGOTIATING, SIGNED, LANDED,
	// WITHDRAWN, LOST, MERGED); equal when the event does not move the
	// lead.
	From string `json:"from,omitempty"`
	To   string `json:"to,omitempty"`
	// The actor, never told of their own action. ActorHome is the site
	// or division they act for (HQ for HQ).
	ActorID   string `json:"actorId"`
	ActorName string `json:"actorName"`
	ActorRole string `json:"actorRole"`
	ActorHome string `json:"actorHome,omitempty"`
	// Comment is the event's comment as every recipient may read it: the
	// caller has already dropped what they may not ("" then).
	Comment string `json:"comment,omitempty"`
	// SubmittedBy is the user who submitted the lead: told with its
	// node's staff wherever they now work.
	SubmittedBy string `json:"submittedBy,omitempty"`
	// Related is the other lead of a MERGE (the one this lead was
	// merged into) or of a MERGE_IN (the one merged into this lead).
	Related string `json:"related,omitempty"`
	// MatchDivisions are the divisions whose focus profile an approved
	// lead matches well: their users get PUBLISHED_MATCH.
	MatchDivisions []string `json:"matchDivisions,omitempty"`
	// Audience is who may read a COMMENT, as parties: [PartyHQ],
	// [PartyDivisions], a division code, or a site or sub-node code
	// (its staff and those of the sites above it). The caller derives it
	// from the event's visibility.
	Audience []string `json:"audience,omitempty"`
	// SLA is set on a synthetic SLA event.
	SLA *SLAWarning `json:"sla,omitempty"`
}

// SLAWarning is a deadline that is near or has passed.
type SLAWarning struct {
	// MustAct is who must act: [PartyHQ], [PartyDivisions], a division
	// code or the lead's site code.
	MustAct string    `json:"mustAct"`
	Due     time.Time `json:"due"`
	State   string    `json:"state"` // SLANear or SLAOver
}

// SLA states.
const (
	SLANear = "NEAR"
	SLAOver = "OVER"
)

// Kind is what a notification is about. Users choose kinds; webhooks may
// filter by them.
type Kind string

// The kinds, in the order the settings page lists them.
const (
	Submitted      Kind = "SUBMITTED"       // a new lead to review (HQ)
	Returned       Kind = "RETURNED"        // HQ returned a lead with a question (its node)
	Answered       Kind = "ANSWERED"        // a returned lead was resubmitted (HQ)
	Published      Kind = "PUBLISHED"       // HQ approved a lead (divisions)
	PublishedMatch Kind = "PUBLISHED_MATCH" // ... that matches the division's focus
	Interest       Kind = "INTEREST"        // a division expressed or withdrew interest (HQ)
	Assigned       Kind = "ASSIGNED"        // HQ assigned a lead to the division
	Claimed        Kind = "CLAIMED"         // a division claimed a lead (its node, HQ)
	StageChanged   Kind = "STAGE_CHANGED"   // a lead moved on (advance, release, close, ...)
	Declined       Kind = "DECLINED"        // HQ declined a lead (its node)
	Merged         Kind = "MERGED"          // HQ merged a lead into another
	Comment        Kind = "COMMENT"         // a comment the recipient may read
	SLA            Kind = "SLA"             // a deadline near or passed, to who must act
)

// kinds is every kind, in order.
var kinds = []Kind{Submitted, Returned, Answered, Published, PublishedMatch, Interest, Assigned,
	Claimed, StageChanged, Declined, Merged, Comment, SLA}

// Kinds returns every kind, in the order the settings page lists them.
func Kinds() []Kind { return append([]Kind(nil), kinds...) }

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool {
	for _, v := range kinds {
		if k == v {
			return true
		}
	}
	return false
}

// Notification is one recipient's notice of one event.
type Notification struct {
	UserID string // "" for a webhook's
	Kind   Kind
	Event  Event
}

// Key is the notification's idempotency key: innonet-<index>-<kind> for
// a webhook's (the same for every webhook, as a receiver sees one event
// once), with -<user> appended for a user's. A resend carries the same
// key, so an inbox insert, an e-mail's Message-ID and a webhook delivery
// can all be deduplicated.
func (n Notification) Key() string {
	k := fmt.Sprintf("innonet-%d-%s", n.Event.Index, n.Kind)
	if n.UserID != "" {
		k += "-" + n.UserID
	}
	return k
}

// DigestKey is the idempotency key of a user's digest of a day.
func DigestKey(userID string, day time.Time) string {
	return "innonet-digest-" + day.Format("20060102") + "-" + userID
}

// Link is the console page of the lead.
func Link(consoleURL, leadID string) string {
	return strings.TrimRight(consoleURL, "/") + "/leads/" + url.PathEscape(leadID)
}
