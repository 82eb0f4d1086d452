package pipeline

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"innonet/node/calendar"
)

// Op names a kind of command.
type Op string

const (
	OpSubmit    Op = "submit"
	OpUpdate    Op = "update"
	OpReview    Op = "review"
	OpClaim     Op = "claim"
	OpRelease   Op = "release"
	OpAdvance   Op = "advance"
	OpWithdraw  Op = "withdraw"
	OpAddUser   Op = "add_user"
	OpBootstrap Op = "bootstrap_admin"
	OpRevoke    Op = "revoke_user"
	// OpCreateToken gives an existing user one more token.
	OpCreateToken Op = "create_token"
	// OpRevokeToken revokes one token of a user.
	OpRevokeToken Op = "revoke_token"
	// OpSetFormat raises the cluster's log format (see format.go).
	OpSetFormat Op = "set_format"
	// OpPruneRequests forgets the requests applied before the retention
	// window (see requests.go).
	OpPruneRequests Op = "prune_requests"

	// The workflow (workflow.go), from log format 2.
	OpClose               Op = "close"
	OpReopen              Op = "reopen"
	OpExpressInterest     Op = "express_interest"
	OpWithdrawInterest    Op = "withdraw_interest"
	OpAssign              Op = "assign"
	OpSetClaimMode        Op = "set_claim_mode"
	OpSetDefaultClaimMode Op = "set_default_claim_mode"
	OpComment             Op = "comment"
	// OpAddSite registers a sub-node (see sites.go).
	OpAddSite Op = "add_site"
	// OpRegisterSites registers first-level sites; the leader proposes it.
	OpRegisterSites Op = "register_sites"
	// OpCreateOrg and OpUpdateOrg add and edit an organisation (see
	// organizations.go).
	OpCreateOrg Op = "create_org"
	OpUpdateOrg Op = "update_org"
	// OpSetDeal records deal terms on a claimed lead (see deal.go).
	OpSetDeal Op = "set_deal"
	// OpAddAttachment adds a document to a lead, OpRemoveAttachment
	// removes one (see attachments.go).
	OpAddAttachment    Op = "add_attachment"
	OpRemoveAttachment Op = "remove_attachment"
	// OpTranslate records a lead's translation into one language
	// (translations.go).
	OpTranslate Op = "translate"
	// OpSetGlossaryTerm and OpDeleteGlossaryTerm change HQ's glossary
	// (glossary.go).
	OpSetGlossaryTerm    Op = "set_glossary_term"
	OpDeleteGlossaryTerm Op = "delete_glossary_term"
	// Sign-in for people (accounts.go): OpInviteUser makes an invitation
	// (and a new user, or picks an existing one), OpAcceptInvitation sets
	// a password with it, OpSignIn issues a session token and
	// OpExtendSession slides one. Signing out is OpRevokeToken.
	OpInviteUser       Op = "invite_user"
	OpAcceptInvitation Op = "accept_invitation"
	OpSignIn           Op = "sign_in"
	OpExtendSession    Op = "extend_session"
	// OpMerge merges a duplicate lead into another (merge.go).
	OpMerge Op = "merge"
	// OpSetDivisionProfile stores a division's focus profile
	// (profiles.go).
	OpSetDivisionProfile Op = "set_division_profile"
	// OpSetTargets stores a year's targets (targets.go).
	OpSetTargets Op = "set_targets"
	// OpSetSLA sets the stage limits, OpSetCalendarYear a calendar's year
	// table (sla.go).
	OpSetSLA          Op = "set_sla"
	OpSetCalendarYear Op = "set_calendar_year"
	// Notifications (notifications.go): a user's preferences and read
	// cursor, webhooks, and the leader's record of deliveries.
	OpSetNotificationPrefs  Op = "set_notification_prefs"
	OpMarkNotificationsRead Op = "mark_notifications_read"
	OpCreateWebhook         Op = "create_webhook"
	OpDeleteWebhook         Op = "delete_webhook"
	OpRecordDeliveries      Op = "record_deliveries"
)

// Command is one change to the pipeline, as proposed to the log. The
// proposer fills Actor from the authenticated token (never from the
// request body), Origin with the site whose API took the request, and Time
// with its clock; Apply uses only what the command carries.
type Command struct {
	V               int      `json:"v"`
	Op              Op       `json:"op"`
	RequestID       string   `json:"requestId,omitempty"`
	Actor           string   `json:"actor,omitempty"`
	Origin          string   `json:"origin,omitempty"`
	Time            int64    `json:"time"` // Unix nanoseconds, stamped by the proposer
	LeadID          string   `json:"leadId,omitempty"`
	ExpectedVersion int64    `json:"expectedVersion,omitempty"`
	Draft           *Draft   `json:"draft,omitempty"`
	Patch           *Patch   `json:"patch,omitempty"`
	Decision        Decision `json:"decision,omitempty"`
	Stage           Stage    `json:"stage,omitempty"`
	Comment         string   `json:"comment,omitempty"`
	NewUser         *NewUser `json:"newUser,omitempty"`
	// UserID is the user a user-management command (revoke, create or
	// revoke a token) acts on.
	UserID string `json:"userId,omitempty"`
	// TokenID is the token OpRevokeToken revokes.
	TokenID  string    `json:"tokenId,omitempty"`
	NewToken *NewToken `json:"newToken,omitempty"`
	// ActorToken, when set, is the ID of the token the actor authenticated
	// with. Apply refuses the command if that token was revoked or had
	// expired by the command's time, which closes the gap between the
	// proposer's check and the entry's turn in the log.
	ActorToken string `json:"actorToken,omitempty"`
	// SetFormat is the log format OpSetFormat raises the cluster to.
	SetFormat int `json:"setFormat,omitempty"`
	// Retention is how long OpPruneRequests keeps requests: it forgets
	// those applied more than Retention before the command's time.
	Retention time.Duration `json:"retention,omitempty"`

	// The workflow's fields (workflow.go), all of log format 2.
	// CloseReason is why OpClose closes the lead.
	CloseReason CloseReason `json:"closeReason,omitempty"`
	// Division is the division OpAssign gives the lead to, or the one a
	// DIVISION comment of HQ is for.
	Division string `json:"division,omitempty"`
	// ClaimMode is what OpSetClaimMode, OpSetDefaultClaimMode or an
	// approving OpReview sets.
	ClaimMode ClaimMode `json:"claimMode,omitempty"`
	// Visibility is who may read the comment: of OpComment (required),
	// of OpAdvance and OpClose (a division's note: DIVISION unless set).
	Visibility Visibility `json:"visibility,omitempty"`
	// Interest is what OpExpressInterest says.
	Interest *InterestDraft `json:"interest,omitempty"`
	// Site is the sub-node OpAddSite registers; Sites the first-level
	// sites OpRegisterSites registers.
	Site  *SiteSpec  `json:"site,omitempty"`
	Sites []SiteSpec `json:"sites,omitempty"`
	// Org is the organisation OpCreateOrg adds; OrgID and OrgPatch the one
	// OpUpdateOrg edits and how.
	Org      *OrgSpec  `json:"org,omitempty"`
	OrgID    string    `json:"orgId,omitempty"`
	OrgPatch *OrgPatch `json:"orgPatch,omitempty"`
	// Deal is the edit OpSetDeal makes to a lead's deal terms.
	Deal *DealPatch `json:"deal,omitempty"`
	// Attachment is the document OpAddAttachment adds or
	// OpRemoveAttachment removes.
	Attachment *NewAttachment `json:"attachment,omitempty"`
	// Translation is what OpTranslate records.
	Translation *TranslationInput `json:"translation,omitempty"`
	// Glossary is the term the glossary commands change.
	Glossary *GlossaryInput `json:"glossary,omitempty"`
	// Invitation is what OpInviteUser makes; Credentials what
	// OpAcceptInvitation and OpSignIn carry (accounts.go).
	Invitation  *NewInvitation `json:"invitation,omitempty"`
	Credentials *Credentials   `json:"credentials,omitempty"`
	// Into is the lead OpMerge merges LeadID into.
	Into string `json:"into,omitempty"`
	// Profile is the focus profile OpSetDivisionProfile stores for
	// Division.
	Profile *ProfileInput `json:"profile,omitempty"`
	// Year and Targets are what OpSetTargets stores.
	Year    int         `json:"year,omitempty"`
	Targets []TargetRow `json:"targets,omitempty"`
	// SLA is what OpSetSLA sets; Calendar the table OpSetCalendarYear
	// stores.
	SLA      *SLA                `json:"sla,omitempty"`
	Calendar *calendar.YearTable `json:"calendar,omitempty"`
	// The notifications' fields (notifications.go).
	Prefs      *NotificationPrefs `json:"prefs,omitempty"`
	Through    uint64             `json:"through,omitempty"`
	Webhook    *NewWebhook        `json:"webhook,omitempty"`
	WebhookID  string             `json:"webhookId,omitempty"`
	Deliveries []DeliveryRecord   `json:"deliveries,omitempty"`
}

// Draft is the content of a new lead.
type Draft struct {
	Title        string    `json:"title"`
	Summary      string    `json:"summary"`
	Organization string    `json:"organization"`
	Country      string    `json:"country"`
	Sector       Sector    `json:"sector"`
	TRL          int       `json:"trl"`
	DealType     DealType  `json:"dealType"`
	Tags         []string  `json:"tags,omitempty"`
	Contacts     []Contact `json:"contacts,omitempty"`
	Language     string    `json:"language,omitempty"`
	// OrganizationID links the lead to its organisation (org-0001); then
	// Organization, the free text of older leads, may be empty, and the
	// organisation's name is shown.
	OrganizationID string `json:"organizationId,omitempty"`
	// Website is the lead's web address (log format 2).
	Website string `json:"website,omitempty"`
}

func (d Draft) clone() Draft {
	d.Tags = append([]string(nil), d.Tags...)
	d.Contacts = append([]Contact(nil), d.Contacts...)
	return d
}

// Patch is an edit of a lead: nil fields and empty lists stay as they are.
type Patch struct {
	Title        *string   `json:"title,omitempty"`
	Summary      *string   `json:"summary,omitempty"`
	Organization *string   `json:"organization,omitempty"`
	Country      *string   `json:"country,omitempty"`
	Sector       *Sector   `json:"sector,omitempty"`
	TRL          *int      `json:"trl,omitempty"`
	DealType     *DealType `json:"dealType,omitempty"`
	Tags         []string  `json:"tags,omitempty"`
	Contacts     []Contact `json:"contacts,omitempty"`
	Language     *string   `json:"language,omitempty"`
	// OrganizationID links the lead to an organisation; "" removes the
	// link (the lead must then have a free-text organization).
	OrganizationID *string `json:"organizationId,omitempty"`
	// Website sets the web address; "" removes it.
	Website *string `json:"website,omitempty"`
}

// NewUser describes a user to add, with its first token. The proposer
// generates the token and puts only its hash in the command.
type NewUser struct {
	Name      string `json:"name"`
	Role      Role   `json:"role"`
	Site      string `json:"site,omitempty"`
	Division  string `json:"division,omitempty"`
	TokenHash string `json:"tokenHash"`
	// TokenTTL is how long the first token works; zero: it never expires.
	TokenTTL time.Duration `json:"tokenTtl,omitempty"`
}

// Encode returns the command as stored in the log, marked with the oldest
// log format that understands it (so a site of that format reads it, and
// an older one knows it cannot).
func (c Command) Encode() ([]byte, error) {
	c.V = c.Format()
	b, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("encode %s command: %w", c.Op, err)
	}
	return b, nil
}

// DecodeCommand parses a log entry written by [Command.Encode]. Anything
// this version cannot fully understand (a newer format, a field it does
// not know, broken JSON) is a [CodeUnreadable] error: decoding leniently
// would drop what a newer proposer meant.
func DecodeCommand(data []byte) (Command, error) {
	var c Command
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return Command{}, errorf(CodeUnreadable, "undecodable command: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Command{}, errorf(CodeUnreadable, "undecodable command: data after the command")
	}
	switch {
	case c.V < Format1:
		return Command{}, errorf(CodeUnreadable, "command without a valid log format (v=%d)", c.V)
	case c.V > FormatVersion:
		return Command{}, errorf(CodeUnreadable, "command of log format %d; this version of innonet reads formats up to %d: upgrade this site", c.V, FormatVersion)
	case c.Format() != c.V:
		// Encode marks every command with exactly the format it needs.
		return Command{}, errorf(CodeUnreadable, "command marked log format %d, but what it holds is of format %d", c.V, c.Format())
	}
	return c, nil
}

// fingerprint identifies what a request asked for, leaving out what differs
// between retries of the same request (the proposer's clock and the site it
// came in through), so a retry matches and a different body does not.
func (c Command) fingerprint() string {
	// A retry may come with another token of the same user (the client
	// rotated in between).
	c.Time, c.Origin, c.V, c.ActorToken = 0, "", 0, ""
	// The token is generated anew on every attempt.
	if c.NewUser != nil {
		u := *c.NewUser
		u.TokenHash = ""
		c.NewUser = &u
	}
	if c.NewToken != nil {
		t := *c.NewToken
		t.Hash = ""
		c.NewToken = &t
	}
	// As are an invitation's code and a password's salt.
	if c.Invitation != nil {
		i := *c.Invitation
		i.Hash = ""
		c.Invitation = &i
	}
	if c.Credentials != nil {
		cr := *c.Credentials
		cr.Password = ""
		c.Credentials = &cr
	}
	b, _ := json.Marshal(c) // a decoded Command always re-encodes
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Validate checks every field of the command without looking at the state.
// Apply calls it; proposers call it first to refuse bad input before it
// reaches the log.
func (c Command) Validate() error {
	if err := c.validate(); err != nil {
		return err
	}
	return nil
}

func (c Command) validate() *Error {
	if c.Op != OpBootstrap && c.Op != OpSetFormat && c.Op != OpPruneRequests && c.Op != OpRegisterSites && c.Op != OpRecordDeliveries {
		if err := checkRequestID(c.RequestID); err != nil {
			return err
		}
	}
	if c.ActorToken != "" && !tokenIDPattern.MatchString(c.ActorToken) {
		return invalid("actor_token", "%q is not a token ID of the form tok-NNNN", truncate(c.ActorToken, 40))
	}
	switch c.Op {
	case OpSubmit:
		if c.Draft == nil {
			return invalid("lead", "is required")
		}
		if err := c.Draft.validate(); err != nil {
			return err
		}
		return checkComment("comment", c.Comment, false)
	case OpUpdate:
		if err := checkLeadID(c.LeadID); err != nil {
			return err
		}
		if c.Patch == nil || c.Patch.empty() {
			return invalid("lead", "no field to change")
		}
		if err := c.Patch.validate(); err != nil {
			return err
		}
		return checkComment("comment", c.Comment, false)
	case OpReview:
		if err := checkLeadID(c.LeadID); err != nil {
			return err
		}
		if err := c.checkReviewClaimMode(); err != nil {
			return err
		}
		switch c.Decision {
		case Approve:
			return checkComment("comment", c.Comment, false)
		case Return, Decline:
			if strings.TrimSpace(c.Comment) == "" {
				return invalid("comment", "is required when the decision is %s", c.Decision)
			}
			return checkComment("comment", c.Comment, false)
		default:
			return invalid("decision", "must be APPROVE, RETURN or DECLINE")
		}
	case OpClaim, OpRelease, OpWithdraw:
		if err := checkLeadID(c.LeadID); err != nil {
			return err
		}
		return checkComment("comment", c.Comment, false)
	case OpAdvance:
		if err := checkLeadID(c.LeadID); err != nil {
			return err
		}
		if c.Stage != Negotiating && c.Stage != Signed && c.Stage != Landed {
			return invalid("stage", "must be NEGOTIATING, SIGNED or LANDED")
		}
		if err := checkNoteVisibility(c.Visibility); err != nil {
			return err
		}
		return checkComment("note", c.Comment, false)
	case OpRevoke:
		if !userIDPattern.MatchString(c.UserID) {
			return invalid("id", "%q is not a user ID of the form user-NNNN", truncate(c.UserID, 40))
		}
		return nil
	case OpAddUser, OpBootstrap:
		if c.NewUser == nil {
			return invalid("user", "is required")
		}
		return c.NewUser.validate()
	case OpInviteUser, OpAcceptInvitation, OpSignIn, OpExtendSession:
		return c.validateAccounts()
	case OpCreateToken:
		if err := checkUserID("user_id", c.UserID); err != nil {
			return err
		}
		if c.NewToken == nil {
			return invalid("token", "is required")
		}
		return c.NewToken.validate()
	case OpRevokeToken:
		if err := checkUserID("user_id", c.UserID); err != nil {
			return err
		}
		return checkTokenID(c.TokenID)
	case OpSetFormat:
		return checkFormat(c.SetFormat)
	case OpPruneRequests:
		return checkRetention(c.Retention)
	case OpClose, OpReopen, OpExpressInterest, OpWithdrawInterest, OpAssign, OpSetClaimMode,
		OpSetDefaultClaimMode, OpComment:
		return c.validateWorkflow()
	case OpAddSite:
		if c.Site == nil {
			return invalid("site", "is required")
		}
		return c.Site.validateSubnode()
	case OpRegisterSites:
		return validateRegisterSites(c.Sites)
	case OpCreateOrg:
		if c.Org == nil {
			return invalid("organization", "is required")
		}
		return c.Org.validate()
	case OpUpdateOrg:
		if err := checkOrgID("id", c.OrgID); err != nil {
			return err
		}
		if c.OrgPatch == nil {
			return invalid("organization", "no field to change")
		}
		return c.OrgPatch.validate()
	case OpSetDeal:
		if err := checkLeadID(c.LeadID); err != nil {
			return err
		}
		if c.Deal == nil {
			return invalid("deal", "no field to change")
		}
		return c.Deal.validate()
	case OpAddAttachment, OpRemoveAttachment:
		if err := checkLeadID(c.LeadID); err != nil {
			return err
		}
		if c.Attachment == nil {
			return invalid("attachment", "is required")
		}
		if c.Op == OpAddAttachment {
			if err := c.Attachment.validateAdd(); err != nil {
				return err
			}
		} else if err := c.Attachment.validateRemove(); err != nil {
			return err
		}
		return checkComment("comment", c.Comment, false)
	case OpTranslate:
		if err := checkLeadID(c.LeadID); err != nil {
			return err
		}
		if c.Comment != "" {
			return invalid("comment", "a translation takes no comment: the history says what changed")
		}
		if c.Translation == nil {
			return invalid("translation", "is required")
		}
		return c.Translation.validate()
	case OpSetGlossaryTerm, OpDeleteGlossaryTerm:
		if c.Glossary == nil {
			return invalid("term", "is required")
		}
		return c.Glossary.validate(c.Op == OpSetGlossaryTerm)
	case OpMerge:
		return c.validateMerge()
	case OpSetTargets:
		return checkTargets(c.Year, c.Targets)
	case OpSetSLA:
		if c.SLA == nil {
			return invalid("limits", "are required")
		}
		return c.SLA.validate()
	case OpSetCalendarYear:
		return checkCalendarTable(c.Calendar)
	case OpSetNotificationPrefs:
		if c.Prefs == nil {
			return invalid("prefs", "are required")
		}
		return c.Prefs.validate()
	case OpMarkNotificationsRead:
		return nil
	case OpCreateWebhook:
		if c.Webhook == nil {
			return invalid("webhook", "is required")
		}
		return c.Webhook.validate()
	case OpDeleteWebhook:
		if !webhookIDPat.MatchString(c.WebhookID) {
			return invalid("id", "%q is not a webhook ID of the form wh-0001", truncate(c.WebhookID, 20))
		}
		return nil
	case OpRecordDeliveries:
		return checkDeliveries(c.Deliveries)
	case OpSetDivisionProfile:
		if err := checkDivision("division", c.Division); err != nil {
			return err
		}
		if c.Profile == nil {
			return invalid("profile", "is required")
		}
		return c.Profile.validate()
	case "":
		return invalid("op", "is required")
	default:
		return errorf(CodeInvalid, "unknown command %q", truncate(string(c.Op), 40))
	}
}

func (d *Draft) validate() *Error {
	if err := checkLine("title", d.Title, 1, MaxTitle); err != nil {
		return err
	}
	if err := checkText("summary", d.Summary, 1, MaxSummary); err != nil {
		return err
	}
	orgMin := 1
	if d.OrganizationID != "" {
		if err := checkOrgID("organization_id", d.OrganizationID); err != nil {
			return err
		}
		orgMin = 0
	}
	if err := checkLine("organization", d.Organization, orgMin, MaxOrganization); err != nil {
		return err
	}
	if err := checkCountry(d.Country); err != nil {
		return err
	}
	if err := checkSector(d.Sector); err != nil {
		return err
	}
	if err := checkTRL(d.TRL); err != nil {
		return err
	}
	if err := checkDealType(d.DealType); err != nil {
		return err
	}
	if err := checkTags(d.Tags); err != nil {
		return err
	}
	if err := checkContacts(d.Contacts); err != nil {
		return err
	}
	if err := checkWebsite(d.Website); err != nil {
		return err
	}
	return checkLanguage(d.Language)
}

func (p *Patch) validate() *Error {
	if p.Title != nil {
		if err := checkLine("title", *p.Title, 1, MaxTitle); err != nil {
			return err
		}
	}
	if p.Summary != nil {
		if err := checkText("summary", *p.Summary, 1, MaxSummary); err != nil {
			return err
		}
	}
	if p.Organization != nil {
		if err := checkLine("organization", *p.Organization, 1, MaxOrganization); err != nil {
			return err
		}
	}
	if p.Country != nil {
		if err := checkCountry(*p.Country); err != nil {
			return err
		}
	}
	if p.Sector != nil {
		if err := checkSector(*p.Sector); err != nil {
			return err
		}
	}
	if p.TRL != nil {
		if err := checkTRL(*p.TRL); err != nil {
			return err
		}
	}
	if p.DealType != nil {
		if err := checkDealType(*p.DealType); err != nil {
			return err
		}
	}
	if err := checkTags(p.Tags); err != nil {
		return err
	}
	if err := checkContacts(p.Contacts); err != nil {
		return err
	}
	if p.OrganizationID != nil && *p.OrganizationID != "" {
		if err := checkOrgID("organization_id", *p.OrganizationID); err != nil {
			return err
		}
	}
	if p.Website != nil {
		if err := checkWebsite(*p.Website); err != nil {
			return err
		}
	}
	if p.Language != nil {
		return checkLanguage(*p.Language)
	}
	return nil
}

func (p *Patch) empty() bool {
	return p.Title == nil && p.Summary == nil && p.Organization == nil && p.Country == nil &&
		p.Sector == nil && p.TRL == nil && p.DealType == nil && len(p.Tags) == 0 &&
		len(p.Contacts) == 0 && p.Language == nil && p.OrganizationID == nil && p.Website == nil
}

// apply returns l with the patch's fields changed.
func (p *Patch) apply(l *Lead) {
	if p.Title != nil {
		l.Title = *p.Title
	}
	if p.Summary != nil {
		l.Summary = *p.Summary
	}
	if p.Organization != nil {
		l.Organization = *p.Organization
	}
	if p.Country != nil {
		l.Country = *p.Country
	}
	if p.Sector != nil {
		l.Sector = *p.Sector
	}
	if p.TRL != nil {
		l.TRL = *p.TRL
	}
	if p.DealType != nil {
		l.DealType = *p.DealType
	}
	if len(p.Tags) > 0 {
		l.Tags = append([]string(nil), p.Tags...)
	}
	if len(p.Contacts) > 0 {
		l.Contacts = append([]Contact(nil), p.Contacts...)
	}
	if p.Language != nil {
		l.Language = *p.Language
	}
	if p.OrganizationID != nil {
		l.OrganizationID = *p.OrganizationID
	}
	if p.Website != nil {
		l.Website = *p.Website
	}
}

func (u *NewUser) validate() *Error {
	if err := checkLine("name", u.Name, 1, MaxName); err != nil {
		return err
	}
	if err := checkTokenHash(u.TokenHash); err != nil {
		return err
	}
	if err := checkTTL("token_ttl", u.TokenTTL); err != nil {
		return err
	}
	return u.validateFields()
}

// validateFields checks who the user is, leaving out its token.
func (u *NewUser) validateFields() *Error {
	if err := checkLine("name", u.Name, 1, MaxName); err != nil {
		return err
	}
	switch u.Role {
	case Admin, HQReviewer:
		if u.Site != "" || u.Division != "" {
			return invalid("site", "%s users are bound to no site or division", u.Role)
		}
	case NodeStaff:
		if !ValidSiteOrSubnode(u.Site) {
			return invalid("site", "NODE_STAFF users need a site code of 2 to 8 capital letters (e.g. BOS) or a sub-node code (e.g. MUC-TUM), got %q", truncate(u.Site, 30))
		}
		if u.Division != "" {
			return invalid("division", "NODE_STAFF users are bound to a site, not a division")
		}
	case DivisionRole:
		if !ValidDivision(u.Division) {
			return invalid("division", "DIVISION users need a division: BOHAI, YRD or PRD, got %q", truncate(u.Division, 20))
		}
		if u.Site != "" {
			return invalid("site", "DIVISION users are bound to a division, not a site")
		}
	default:
		return invalid("role", "must be ADMIN, HQ_REVIEWER, DIVISION or NODE_STAFF")
	}
	return nil
}
