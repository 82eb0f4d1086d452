package pipeline

import (
	"maps"
	"slices"
	"time"
)

// Stage is where a lead stands. The numbers match the wire enum.
type Stage int

const (
	StageUnspecified Stage = iota
	Submitted
	Approved
	Returned
	Declined
	Claimed
	Negotiating
	Signed
	Landed
	Withdrawn
	// Lost is a claimed deal that fell through (see workflow.go); HQ may
	// reopen it.
	Lost
	// Merged is a duplicate HQ merged into another lead (merge.go); final.
	Merged
)

var stageNames = [...]string{"STAGE_UNSPECIFIED", "SUBMITTED", "APPROVED", "RETURNED", "DECLINED",
	"CLAIMED", "NEGOTIATING", "SIGNED", "LANDED", "WITHDRAWN", "LOST", "MERGED"}

func (s Stage) String() string { return enumName(stageNames[:], int(s)) }

// Valid reports whether s is a real stage.
func (s Stage) Valid() bool { return s > StageUnspecified && s <= Merged }

// Final reports whether no transition leaves s but HQ's reopening
// (DECLINED and LOST, see workflow.go).
func (s Stage) Final() bool {
	return s == Declined || s == Landed || s == Withdrawn || s == Lost || s == Merged
}

// Sector is one of the fixed technology sectors.
type Sector int

const (
	SectorUnspecified Sector = iota
	LifeSciencesHealth
	AdvancedManufacturing
	ElectronicsSemiconductors
	NewMaterials
	NewEnergyVehicles
	EnvironmentWater
	ITAI
	OtherSector
)

var sectorNames = [...]string{"SECTOR_UNSPECIFIED", "LIFE_SCIENCES_HEALTH", "ADVANCED_MANUFACTURING",
	"ELECTRONICS_SEMICONDUCTORS", "NEW_MATERIALS", "NEW_ENERGY_VEHICLES", "ENVIRONMENT_WATER", "IT_AI", "OTHER"}

func (s Sector) String() string { return enumName(sectorNames[:], int(s)) }

// DealType is the kind of cooperation sought.
type DealType int

const (
	DealTypeUnspecified DealType = iota
	Investment
	TechnologyLicensing
	JointVenture
	RnDCollaboration
	Relocation
)

var dealTypeNames = [...]string{"DEAL_TYPE_UNSPECIFIED", "INVESTMENT", "TECHNOLOGY_LICENSING",
	"JOINT_VENTURE", "RND_COLLABORATION", "RELOCATION"}

func (d DealType) String() string { return enumName(dealTypeNames[:], int(d)) }

// Role decides what a user may do.
type Role int

const (
	RoleUnspecified Role = iota
	Admin
	HQReviewer
	DivisionRole
	NodeStaff
)

var roleNames = [...]string{"ROLE_UNSPECIFIED", "ADMIN", "HQ_REVIEWER", "DIVISION", "NODE_STAFF"}

func (r Role) String() string { return enumName(roleNames[:], int(r)) }

// Decision is the outcome of an HQ review.
type Decision int

const (
	DecisionUnspecified Decision = iota
	Approve
	Return
	Decline
)

var decisionNames = [...]string{"DECISION_UNSPECIFIED", "APPROVE", "RETURN", "DECLINE"}

func (d Decision) String() string { return enumName(decisionNames[:], int(d)) }

func enumName(names []string, v int) string {
	if v < 0 || v >= len(names) {
		return "UNKNOWN"
	}
	return names[v]
}

// Divisions are the three regional divisions of HQ that claim leads.
var Divisions = []string{"BOHAI", "YRD", "PRD"}

// HQSite is the site code recorded for HQ reviewers and admins, who are
// not bound to an overseas site.
const HQSite = "HQ"

// Contact is a person at the lead's organization.
type Contact struct {
	Name  string `json:"name"`
	Email string `json:"email,omitempty"`
	Phone string `json:"phone,omitempty"`
}

// Lead is a technology project pushed home by an overseas site. Values held
// by the state are never modified in place; Apply stores a changed copy.
type Lead struct {
	ID   string `json:"id"`
	Site string `json:"site"`
	// Draft is the content node staff enter and edit.
	Draft
	SubmittedBy  string    `json:"submittedBy"`
	Division     string    `json:"division,omitempty"`
	Stage        Stage     `json:"stage"`
	Version      int64     `json:"version"`
	Created      time.Time `json:"created"`
	Updated      time.Time `json:"updated"`
	StageTime    time.Time `json:"stageTime"`
	StageComment string    `json:"stageComment,omitempty"`
	// Published is set once HQ approves the lead; divisions see only
	// published leads.
	Published bool `json:"published,omitempty"`
	// The workflow (workflow.go), from log format 2: how divisions get
	// the lead, why it was lost, and who may read StageComment (with
	// DIVISION, Division and HQ).
	ClaimMode       ClaimMode   `json:"claimMode,omitempty"`
	CloseReason     CloseReason `json:"closeReason,omitempty"`
	StageVisibility Visibility  `json:"stageVisibility,omitempty"`
	// Subnode is the registered sub-node (MUC-TUM) whose staff submitted
	// the lead; Site is then its first-level site (see sites.go).
	Subnode string `json:"subnode,omitempty"`
	// Deal is the claiming division's deal terms (see deal.go).
	Deal *Deal `json:"deal,omitempty"`
	// Translations of the title and summary, by canonical BCP 47 tag
	// (translations.go).
	Translations map[string]Translation `json:"translations,omitempty"`
	// MergedInto is the lead a MERGED lead was merged into; MergedFrom
	// the leads merged into this one, in the order HQ merged them
	// (merge.go).
	MergedInto string   `json:"mergedInto,omitempty"`
	MergedFrom []string `json:"mergedFrom,omitempty"`
}

func (l *Lead) clone() *Lead {
	c := *l
	c.Draft = l.Draft.clone()
	if l.Deal != nil {
		d := *l.Deal
		c.Deal = &d
	}
	c.Translations = maps.Clone(l.Translations)
	c.MergedFrom = slices.Clone(l.MergedFrom)
	return &c
}

// Event is one applied command in a lead's history: the audit trail.
type Event struct {
	Key        string    `json:"key"` // LeadID + "/" + zero-padded Seq: orders events in the index
	LeadID     string    `json:"leadId"`
	Seq        int64     `json:"seq"`
	Action     string    `json:"action"`
	UserID     string    `json:"userId"`
	UserName   string    `json:"userName"`
	Role       Role      `json:"role"`
	UserSite   string    `json:"userSite"`
	OriginSite string    `json:"originSite,omitempty"`
	From       Stage     `json:"from"`
	To         Stage     `json:"to"`
	Comment    string    `json:"comment,omitempty"`
	Time       time.Time `json:"time"`
	Version    int64     `json:"version"`
	LogIndex   uint64    `json:"logIndex"`
	RequestID  string    `json:"requestId,omitempty"`
	// From log format 2: who may read Comment and the private changes
	// (DIVISION: VisibleTo and HQ), and what the command changed
	// (changes.go). Events of format 1 carry neither; see [Event.Audience].
	Visibility Visibility `json:"visibility,omitempty"`
	VisibleTo  string     `json:"visibleTo,omitempty"`
	Changes    []Change   `json:"changes,omitempty"`
	// Attachment is the attachment an ADD_ATTACHMENT or
	// REMOVE_ATTACHMENT event added or removed.
	Attachment *AttachmentRef `json:"attachment,omitempty"`
}

// User is a person with a role. It authenticates with bearer tokens, kept
// in their own table (see [Token]).
type User struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Role      Role      `json:"role"`
	Site      string    `json:"site,omitempty"`
	Division  string    `json:"division,omitempty"`
	Created   time.Time `json:"created"`
	CreatedBy string    `json:"createdBy,omitempty"`
	// Revoked is when the user, and with it every token it holds, was
	// revoked (nil while valid).
	Revoked   *time.Time `json:"revoked,omitempty"`
	RevokedBy string     `json:"revokedBy,omitempty"`
	// PasswordHash is the user's password as an argon2id hash in PHC
	// form, set by accept_invitation ("" while it has none); it is never
	// shown. PasswordSet is when it was set.
	PasswordHash string     `json:"passwordHash,omitempty"`
	PasswordSet  *time.Time `json:"passwordSet,omitempty"`
}

// Home is the site or division the user acts for: the site for node staff,
// the division for divisions, HQ otherwise.
func (u *User) Home() string {
	switch u.Role {
	case NodeStaff:
		return u.Site
	case DivisionRole:
		return u.Division
	default:
		return HQSite
	}
}

// CanSee reports whether u may read lead l: HQ and admins see every lead,
// node staff the leads of their own site (and of its sub-nodes; staff of
// a sub-node those of the sub-node), divisions every lead HQ has
// published to them.
func (u *User) CanSee(l *Lead) bool {
	switch u.Role {
	case Admin, HQReviewer:
		return true
	case NodeStaff:
		return u.StaffOf(l)
	case DivisionRole:
		return l.Published
	}
	return false
}
