package pipeline

// Log formats: what a binary can read in the log. Every command records
// (as its "v") the oldest format that understands it, and the cluster
// records (in the state, replicated) the newest format every site runs,
// so that a rolling upgrade never puts an entry in the log that some site
// would read differently. The sequence mirrors etcd's cluster version:
//
//  1. Each site advertises [FormatVersion], the newest format it reads.
//  2. The leader proposes a command only if its [Command.Format] is at
//     most the cluster's format ([State.Format]); otherwise the caller is
//     told which site runs an older version.
//  3. Once every member advertises a newer format, the leader proposes
//     [OpSetFormat], which raises the cluster's format. Formats only go
//     up: a site running an older binary cannot rejoin after that.
//
// A site that meets an entry of a newer format than its own, or one that
// does not decode or breaks this version's rules, must stop applying: the
// entry is answered with a [CodeUnreadable] error and the caller of Apply
// (the Raft adapter) halts the state machine. Skipping it would leave the
// site silently different from the others.
//
// Formats:
//
//	1  everything up to the first versioned release (the "v":1 commands)
//	2  set_format; the cluster's format in the state. Command times never
//	   run backwards (clock.go). Request records keep the IDs and
//	   versions of the first outcome instead of copies, are forgotten
//	   after a retention window by prune_requests, and a UUIDv7 request
//	   ID from before the window is refused (requests.go).
//	   The workflow (workflow.go): close, reopen, express_interest,
//	   withdraw_interest, assign, set_claim_mode, set_default_claim_mode,
//	   comment, a review's claimMode and an advance's visibility; events
//	   carry their visibility and changed fields (changes.go). The site
//	   registry: register_sites, add_site, node staff of sub-nodes, and
//	   users and leads only of registered sites (sites.go); organisations
//	   (create_org, update_org) and leads linked to them
//	   (organizations.go); deal terms (set_deal, deal.go).
//	   add_attachment and remove_attachment (attachments.go). Translations
//	   of leads (translate) and HQ's glossary (set_glossary_term,
//	   delete_glossary_term). Sign-in for people: invite_user,
//	   accept_invitation, sign_in, extend_session; session tokens,
//	   users' password hashes and the invitations table (accounts.go).
//	   A lead's website. Merging duplicates (merge, the MERGED stage,
//	   merge.go) and the divisions' focus profiles
//	   (set_division_profile, profiles.go). Yearly targets (set_targets,
//	   targets.go). Stage limits and calendar tables (set_sla,
//	   set_calendar_year, sla.go). Notifications: preferences, read
//	   cursors, webhooks and deliveries (notifications.go).
const (
	Format1 = 1
	Format2 = 2
	// FormatVersion is the newest log format this binary reads.
	FormatVersion = Format2
)

// Format returns the oldest log format that understands c: the format of
// its operation and of every field it sets.
func (c Command) Format() int {
	f := Format1
	switch c.Op {
	case OpSetFormat, OpPruneRequests, OpAddAttachment, OpRemoveAttachment,
		OpTranslate, OpSetGlossaryTerm, OpDeleteGlossaryTerm:
		f = max(f, Format2)
	case OpAddSite, OpRegisterSites, OpCreateOrg, OpUpdateOrg, OpSetDeal:
		f = max(f, Format2)
	case OpInviteUser, OpAcceptInvitation, OpSignIn, OpExtendSession, OpMerge, OpSetDivisionProfile, OpSetTargets, OpSetSLA, OpSetCalendarYear,
		OpSetNotificationPrefs, OpMarkNotificationsRead, OpCreateWebhook, OpDeleteWebhook, OpRecordDeliveries:
		f = max(f, Format2)
	}
	if c.SetFormat != 0 || c.Retention != 0 || c.Attachment != nil || c.Translation != nil || c.Glossary != nil ||
		c.Invitation != nil || c.Credentials != nil || c.Into != "" || c.Profile != nil || c.Year != 0 || c.Targets != nil || c.SLA != nil || c.Calendar != nil ||
		c.Prefs != nil || c.Through != 0 || c.Webhook != nil || c.WebhookID != "" || c.Deliveries != nil {
		f = max(f, Format2)
	}
	// The workflow (workflow.go) and the registry, organisations and deal
	// terms (sites.go, organizations.go, deal.go).
	if c.workflow() || c.Site != nil || c.Sites != nil || c.Org != nil || c.OrgID != "" || c.OrgPatch != nil || c.Deal != nil ||
		c.Draft != nil && (c.Draft.OrganizationID != "" || c.Draft.Website != "") ||
		c.Patch != nil && (c.Patch.OrganizationID != nil || c.Patch.Website != nil) ||
		c.NewUser != nil && ValidSubnodeCode(c.NewUser.Site) {
		f = max(f, Format2)
	}
	return f
}

// formatCounter is where the state keeps the cluster's log format, in the
// counters table (so snapshots of format 1 read as format 1).
const formatCounter = "format"

// Format returns the cluster's log format: the newest format every site
// ran when it was last raised. A state that never recorded one is at
// format 1.
func (s *State) Format() int { return formatOf(s.read()) }

func formatOf(txn *tx) int {
	c := counterIn(txn, formatCounter)
	if c == nil {
		return Format1
	}
	return int(c.Value)
}

// setFormat raises the cluster's log format. It needs no actor: the
// leader proposes it once every member advertises the format. Raising to
// the current format or below changes nothing and succeeds, so retries
// and a second leader's proposal are harmless.
func (a *applier) setFormat() (Result, *Error) {
	c := counterIn(a.txn, formatCounter)
	cur := int64(Format1)
	if c != nil {
		cur = c.Value
	}
	if int64(a.cmd.SetFormat) <= cur {
		return Result{Replayed: true}, nil
	}
	if cur < Format2 {
		// What format 2 changes in the state it changes from here on,
		// on every site at the same entry.
		if err := a.compactRequests(); err != nil {
			return Result{}, err
		}
	}
	a.format = a.cmd.SetFormat
	return Result{}, a.insert(tableCounters, &counter{Name: formatCounter, Value: int64(a.cmd.SetFormat)})
}

// clusterFormat reads the cluster's log format inside the transaction.
func (a *applier) clusterFormat() (int, *Error) {
	c := counterIn(a.txn, formatCounter)
	if c == nil {
		return Format1, nil
	}
	return int(c.Value), nil
}

// unreadable turns a rule a committed entry breaks into the error that
// stops the state machine: the leader checked the same rules before it
// proposed the entry, so a site that finds it broken reads the entry
// differently (an older version, a damaged disk) and must not go on.
func unreadable(index uint64, err *Error) *Error {
	return errorf(CodeUnreadable, "log entry %d cannot be applied by this version of innonet (log format %d): %s", index, FormatVersion, err.Msg)
}

// IsUnreadable reports whether an Apply result says the entry could not
// be understood (see [CodeUnreadable]).
func IsUnreadable(res any) bool {
	e, ok := res.(*Error)
	return ok && e.Code == CodeUnreadable
}

func checkFormat(v int) *Error {
	if v < Format2 || v > FormatVersion {
		return invalid("set_format", "must be a log format from %d to %d, got %d", Format2, FormatVersion, v)
	}
	return nil
}

// formatError says a command needs a newer cluster format than the one
// recorded.
func formatError(need, have int) *Error {
	return errorf(CodePrecondition, "this needs log format %d, but the cluster runs format %d: some site still runs an older version of innonet; upgrade every site first", need, have)
}
