package pipeline

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"
)

// Attachments are documents of a lead: pitch decks, NDAs, term sheets.
// The state holds what the log carries of each, never its bytes: the
// SHA-256, name, content type and size, who added it for whom, and the
// site that received the bytes. Each site keeps the bytes in a store of
// its own, content-addressed by the SHA-256, and fetches from its peers
// what the state names and its store lacks (package node/attachments):
// derived data, which Apply never touches, so neither the log nor the
// snapshots grow by the files.
//
//	who                                  adds                      removes
//	node staff of the lead's site        SHARED                    what staff of the site added
//	HQ reviewers                         SHARED                    any attachment
//	the division holding the lead        SHARED or DIVISION        what the division added
//
// A SHARED attachment is seen by everyone who may see the lead; a
// DIVISION one by the division that added it and HQ (reviewers and
// admins) only. Attachments may be added in every stage but WITHDRAWN.
// The same bytes added to the same lead with the same visibility again
// (by anyone) are the attachment that is there: the command succeeds and
// changes nothing. Adding or removing an attachment is an event in the
// lead's history and moves its version, like any other change.

// AttachmentVisibility says who sees an attachment. The numbers match the
// wire enum (Attachment.Visibility).
type AttachmentVisibility int

const (
	AttachmentVisibilityUnspecified AttachmentVisibility = iota
	// AttachmentShared is seen by everyone who may see the lead.
	AttachmentShared
	// AttachmentDivision is seen by the division that added it and HQ.
	AttachmentDivision
)

var attachmentVisibilityNames = [...]string{"VISIBILITY_UNSPECIFIED", "SHARED", "DIVISION"}

func (v AttachmentVisibility) String() string { return enumName(attachmentVisibilityNames[:], int(v)) }

// Limits on attachments.
const (
	// MaxAttachmentName bounds a file name, in characters.
	MaxAttachmentName = 255
	// MaxContentType bounds a media type such as application/pdf.
	MaxContentType = 127
	// MaxAttachmentSize is the largest size the log accepts. Each site
	// refuses larger uploads than its own limit (serve
	// --max-attachment-bytes, 20 MiB by default), which may not exceed
	// this one.
	MaxAttachmentSize = 1 << 30
	// MaxAttachmentsPerLead bounds the attachments a lead holds at once.
	MaxAttachmentsPerLead = 100
)

// Actions of attachment events in a lead's history.
const (
	ActionAddAttachment    = "ADD_ATTACHMENT"
	ActionRemoveAttachment = "REMOVE_ATTACHMENT"
)

var (
	sha256Pattern      = regexp.MustCompile(`^[0-9a-f]{64}$`)
	contentTypePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$`)
)

// ValidSHA256 reports whether s is a SHA-256 as the state writes it: 64
// lower-case hex digits.
func ValidSHA256(s string) bool { return sha256Pattern.MatchString(s) }

// NewAttachment is what add_attachment carries: the file's SHA-256, name,
// media type and size, as the receiving site computed them from the
// bytes, and who may see it. remove_attachment carries the SHA-256 only,
// and a visibility when the lead holds the bytes twice (SHARED and
// DIVISION).
type NewAttachment struct {
	SHA256      string               `json:"sha256"`
	Name        string               `json:"name,omitempty"`
	ContentType string               `json:"contentType,omitempty"`
	Size        int64                `json:"size,omitempty"`
	Visibility  AttachmentVisibility `json:"visibility,omitempty"`
}

// Attachment is one document of a lead, as the state holds it. Values
// held by the state are never modified in place.
type Attachment struct {
	// Key is LeadID/SHA256/scope, scope "*" for a SHARED attachment and
	// the division for a DIVISION one: the bytes may be attached to a
	// lead once per visibility.
	Key         string               `json:"key"`
	LeadID      string               `json:"leadId"`
	SHA256      string               `json:"sha256"`
	Name        string               `json:"name"`
	ContentType string               `json:"contentType"`
	Size        int64                `json:"size"`
	Visibility  AttachmentVisibility `json:"visibility"`
	// Division is the division a DIVISION attachment belongs to.
	Division string `json:"division,omitempty"`
	// AddedBy and AddedByName are the user who added it; AddedFor is
	// the site, division or HQ that user acts for, whose members may
	// remove it.
	AddedBy     string `json:"addedBy"`
	AddedByName string `json:"addedByName"`
	AddedFor    string `json:"addedFor"`
	// Origin is the site that received the bytes, which holds them
	// first.
	Origin    string    `json:"origin,omitempty"`
	Comment   string    `json:"comment,omitempty"`
	Added     time.Time `json:"added"`
	Version   int64     `json:"version"` // the lead version its addition made
	LogIndex  uint64    `json:"logIndex"`
	RequestID string    `json:"requestId,omitempty"`
	// Removed is when it was removed (nil while attached), by whom, and
	// the lead version the removal made.
	Removed        *time.Time `json:"removed,omitempty"`
	RemovedBy      string     `json:"removedBy,omitempty"`
	RemovedVersion int64      `json:"removedVersion,omitempty"`
}

// AttachmentRef is what a history event records of the attachment it
// added or removed.
type AttachmentRef struct {
	Key        string               `json:"key"`
	SHA256     string               `json:"sha256"`
	Name       string               `json:"name"`
	Size       int64                `json:"size"`
	Visibility AttachmentVisibility `json:"visibility"`
	Division   string               `json:"division,omitempty"`
}

func (a *Attachment) ref() *AttachmentRef {
	return &AttachmentRef{Key: a.Key, SHA256: a.SHA256, Name: a.Name, Size: a.Size, Visibility: a.Visibility, Division: a.Division}
}

func (a *Attachment) clone() *Attachment {
	c := *a
	return &c
}

// VisibleTo reports whether u may see the attachment of lead l: whoever
// may see the lead sees a SHARED one; a DIVISION one only its division
// and HQ.
func (a *Attachment) VisibleTo(u *User, l *Lead) bool {
	if !u.CanSee(l) {
		return false
	}
	if a.Visibility == AttachmentShared {
		return true
	}
	return VisibleDivisionOnly(u, a.Division)
}

// VisibleDivisionOnly reports whether u sees what is visible to division
// and HQ only.
func VisibleDivisionOnly(u *User, division string) bool {
	switch u.Role {
	case Admin, HQReviewer:
		return true
	case DivisionRole:
		return u.Division == division
	}
	return false
}

// Live reports whether the attachment is still attached.
func (a *Attachment) Live() bool { return a.Removed == nil }

// attachmentKey is the key of the attachment of sha on lead, of
// visibility vis added by a user of division (for DIVISION ones).
func attachmentKey(lead, sha string, vis AttachmentVisibility, division string) string {
	scope := "*"
	if vis == AttachmentDivision {
		scope = division
	}
	return lead + "/" + sha + "/" + scope
}

func (na *NewAttachment) validateAdd() *Error {
	if err := checkSHA256(na.SHA256); err != nil {
		return err
	}
	if err := checkFileName(na.Name); err != nil {
		return err
	}
	if err := checkContentType(na.ContentType); err != nil {
		return err
	}
	if na.Size < 1 || na.Size > MaxAttachmentSize {
		return invalid("size", "must be from 1 byte to %d bytes (1 GiB), got %d", int64(MaxAttachmentSize), na.Size)
	}
	if na.Visibility != AttachmentShared && na.Visibility != AttachmentDivision {
		return invalid("visibility", "must be SHARED or DIVISION")
	}
	return nil
}

func (na *NewAttachment) validateRemove() *Error {
	if err := checkSHA256(na.SHA256); err != nil {
		return err
	}
	if na.Name != "" || na.ContentType != "" || na.Size != 0 {
		return invalid("attachment", "a removal names the attachment by its sha256 (and visibility) only")
	}
	if na.Visibility != AttachmentVisibilityUnspecified && na.Visibility != AttachmentShared && na.Visibility != AttachmentDivision {
		return invalid("visibility", "must be SHARED or DIVISION, or unset")
	}
	return nil
}

func checkSHA256(s string) *Error {
	if !ValidSHA256(s) {
		return invalid("sha256", "%q is not a SHA-256: want 64 lower-case hex digits", truncate(s, 70))
	}
	return nil
}

func checkFileName(name string) *Error {
	if err := checkLine("name", name, 1, MaxAttachmentName); err != nil {
		return err
	}
	if strings.ContainsAny(name, `/\`) || name == "." || name == ".." {
		return invalid("name", "must be a file name such as deck.pdf, not a path")
	}
	return nil
}

func checkContentType(ct string) *Error {
	if len(ct) > MaxContentType || !contentTypePattern.MatchString(ct) {
		return invalid("content_type", "%q is not a media type such as application/pdf (lower case, without parameters)", truncate(ct, 60))
	}
	return nil
}

// CanAddAttachment says whether u may add an attachment of visibility vis
// to lead l in its current stage: the rule Apply applies, for the API to
// refuse an upload before it takes the bytes.
func CanAddAttachment(u *User, l *Lead, vis AttachmentVisibility) *Error {
	if err := mayAddAttachment(u, l, vis); err != nil {
		return err
	}
	return attachableStage(l)
}

// mayAddAttachment is who may add an attachment of visibility vis to l.
func mayAddAttachment(u *User, l *Lead, vis AttachmentVisibility) *Error {
	switch u.Role {
	case NodeStaff:
		if u.Site != l.Site {
			return errorf(CodePermission, "lead %s belongs to site %s; staff of %s may not add attachments to it", l.ID, l.Site, u.Site)
		}
	case HQReviewer:
	case DivisionRole:
		if l.Division != u.Division {
			return errorf(CodePermission, "lead %s is not claimed by %s; a division adds attachments to the leads it holds", l.ID, u.Division)
		}
	default:
		return errorf(CodePermission, "only node staff of the lead's site, HQ reviewers and the claiming division may add attachments; caller is %s", u.Role)
	}
	if vis == AttachmentDivision && u.Role != DivisionRole {
		return errorf(CodePermission, "only the division holding lead %s adds DIVISION attachments; %s adds SHARED ones", l.ID, u.Role)
	}
	return nil
}

// attachableStage is in which stages attachments may be added.
func attachableStage(l *Lead) *Error {
	if l.Stage == Withdrawn {
		return errorf(CodePrecondition, "lead %s is in stage %s; nothing can be added to a withdrawn lead", l.ID, l.Stage)
	}
	return nil
}

// mayRemoveAttachment says whether u may remove attachment a: HQ
// reviewers any, others what their site or division added.
func mayRemoveAttachment(u *User, a *Attachment) bool {
	switch u.Role {
	case HQReviewer:
		return true
	case NodeStaff, DivisionRole:
		return a.AddedFor == u.Home()
	}
	return false
}

// addAttachment applies add_attachment.
func (a *applier) addAttachment() (Result, *Error) {
	na := a.cmd.Attachment
	cur, err := getLead(a.txn, a.cmd.LeadID)
	if err != nil {
		return Result{}, err
	}
	// Checked in the order of every transition: rights, version, stage.
	if err := mayAddAttachment(a.actor, cur, na.Visibility); err != nil {
		return Result{}, err
	}
	if v := a.cmd.ExpectedVersion; v != 0 && v != cur.Version {
		return Result{}, errorf(CodeConflict, "lead %s is at version %d, not the expected %d; read it again", cur.ID, cur.Version, v)
	}
	if err := attachableStage(cur); err != nil {
		return Result{}, err
	}
	division := ""
	if na.Visibility == AttachmentDivision {
		division = a.actor.Division
	}
	key := attachmentKey(cur.ID, na.SHA256, na.Visibility, division)
	old := a.attachment(key)
	if old != nil && old.Live() {
		// The same bytes are attached already: nothing changes.
		return Result{Attachment: old}, nil
	}
	live := liveAttachments(a.txn, cur.ID)
	if len(live) >= MaxAttachmentsPerLead {
		return Result{}, errorf(CodePrecondition, "lead %s holds %d attachments, the most a lead may hold; remove one first", cur.ID, len(live))
	}
	next := cur.clone()
	next.Version, next.Updated = cur.Version+1, a.now
	att := &Attachment{
		Key: key, LeadID: cur.ID, SHA256: na.SHA256, Name: na.Name, ContentType: na.ContentType, Size: na.Size,
		Visibility: na.Visibility, Division: division,
		AddedBy: a.actor.ID, AddedByName: a.actor.Name, AddedFor: a.actor.Home(), Origin: a.cmd.Origin,
		Comment: a.cmd.Comment, Added: a.now, Version: next.Version, LogIndex: a.index, RequestID: a.cmd.RequestID,
	}
	if err := a.insert(tableAttachments, att); err != nil {
		return Result{}, err
	}
	if err := a.saveAttachmentEvent(next, ActionAddAttachment, att); err != nil {
		return Result{}, err
	}
	return Result{Lead: next, Attachment: att}, nil
}

// removeAttachment applies remove_attachment: it removes the attachment
// of the command's SHA-256 the actor may see and remove.
func (a *applier) removeAttachment() (Result, *Error) {
	na := a.cmd.Attachment
	cur, err := getLead(a.txn, a.cmd.LeadID)
	if err != nil {
		return Result{}, err
	}
	if !a.actor.CanSee(cur) {
		return Result{}, errorf(CodePermission, "%s %s may not see lead %s", a.actor.Role, a.actor.Home(), cur.ID)
	}
	all := attachmentsOf(a.txn, cur.ID)
	var seen, removable []*Attachment
	for _, att := range all {
		if att.SHA256 != na.SHA256 || !att.Live() || !att.VisibleTo(a.actor, cur) ||
			na.Visibility != AttachmentVisibilityUnspecified && att.Visibility != na.Visibility {
			continue
		}
		seen = append(seen, att)
		if mayRemoveAttachment(a.actor, att) {
			removable = append(removable, att)
		}
	}
	switch {
	case len(seen) == 0:
		return Result{}, errorf(CodeNotFound, "lead %s has no attachment %s that you may see", cur.ID, na.SHA256)
	case len(removable) == 0:
		who := seen[0].AddedFor + " and HQ reviewers"
		if seen[0].AddedFor == HQSite {
			who = "HQ reviewers"
		}
		return Result{}, errorf(CodePermission, "attachment %s of lead %s was added for %s; only %s may remove it", na.SHA256, cur.ID, seen[0].AddedFor, who)
	case len(removable) > 1:
		return Result{}, errorf(CodePrecondition, "lead %s holds attachment %s twice, SHARED and DIVISION; say which visibility to remove", cur.ID, na.SHA256)
	}
	if v := a.cmd.ExpectedVersion; v != 0 && v != cur.Version {
		return Result{}, errorf(CodeConflict, "lead %s is at version %d, not the expected %d; read it again", cur.ID, cur.Version, v)
	}
	next := cur.clone()
	next.Version, next.Updated = cur.Version+1, a.now
	att := removable[0].clone()
	now := a.now
	att.Removed, att.RemovedBy, att.RemovedVersion = &now, a.actor.ID, next.Version
	if err := a.insert(tableAttachments, att); err != nil {
		return Result{}, err
	}
	if err := a.saveAttachmentEvent(next, ActionRemoveAttachment, att); err != nil {
		return Result{}, err
	}
	return Result{Lead: next, Attachment: att}, nil
}

// saveAttachmentEvent stores l and its history event, which names the
// attachment.
func (a *applier) saveAttachmentEvent(l *Lead, action string, att *Attachment) *Error {
	if err := a.save(l, action, l.Stage); err != nil {
		return err
	}
	key := fmt.Sprintf("%s/%010d", l.ID, l.Version)
	raw, err := rowByKey(a.txn, tableEvents, key)
	if err != nil || raw == nil {
		return errorf(CodeInternal, "read event %s: %v", key, err)
	}
	e := *raw.(*Event)
	e.Attachment = att.ref()
	return a.insert(tableEvents, &e)
}

func (a *applier) attachment(key string) *Attachment {
	return keyedIn[*Attachment](a.txn, keyedAttachments, key)
}

// attachmentAsAnswered returns the attachment a request record names, as
// its first attempt answered it: as it is now, but removed or not as it
// was then (the removal taken from the history event at version).
func (a *applier) attachmentAsAnswered(key string, removed bool, version int64) (*Attachment, *Error) {
	att := a.attachment(key)
	if att == nil {
		return nil, errorf(CodeInternal, "a request record names attachment %s, which does not exist", key)
	}
	c := att.clone()
	switch {
	case !removed:
		c.Removed, c.RemovedBy, c.RemovedVersion = nil, "", 0
	case c.Removed == nil:
		// Removed then, attached again since.
		raw, gerr := rowByKey(a.txn, tableEvents, fmt.Sprintf("%s/%010d", att.LeadID, version))
		if gerr != nil || raw == nil {
			return nil, errorf(CodeInternal, "read the removal of attachment %s: %v", key, gerr)
		}
		e := raw.(*Event)
		t := e.Time
		c.Removed, c.RemovedBy, c.RemovedVersion = &t, e.UserID, e.Version
	}
	return c, nil
}

// attachmentsOf returns every attachment record of a lead, removed ones
// too, in the order they were added.
func attachmentsOf(txn *tx, lead string) []*Attachment {
	out := keyedRows[*Attachment](txn, keyedAttachments, lead+"/")
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out
}

func liveAttachments(txn *tx, lead string) []*Attachment {
	all := attachmentsOf(txn, lead)
	live := all[:0]
	for _, a := range all {
		if a.Live() {
			live = append(live, a)
		}
	}
	return live
}

// Attachments returns the attachments of a lead, removed ones too, in the
// order they were added. The caller filters what its user may see
// ([Attachment.VisibleTo]).
func (s *State) Attachments(lead string) ([]Attachment, error) {
	txn := s.read()
	if _, err := getLead(txn, lead); err != nil {
		return nil, err
	}
	all := attachmentsOf(txn, lead)
	out := make([]Attachment, len(all))
	for i, a := range all {
		out[i] = *a
	}
	return out, nil
}

// StoredFile is a file the sites must hold: the SHA-256 of bytes that at
// least one attachment still names, their size, and the sites that
// received them (first, the one that received them first).
type StoredFile struct {
	SHA256  string
	Size    int64
	Origins []string
}

// StoredFiles returns every file some attachment still names, ordered by
// SHA-256: what each site's store must hold.
func (s *State) StoredFiles() []StoredFile {
	var out []StoredFile
	for _, a := range alsoRows[*Attachment](s.read(), keyedAttachments, attachmentsBySHA, "") {
		if !a.Live() {
			continue
		}
		if n := len(out); n == 0 || out[n-1].SHA256 != a.SHA256 {
			out = append(out, StoredFile{SHA256: a.SHA256, Size: a.Size})
		}
		f := &out[len(out)-1]
		if a.Origin != "" && !hasString(f.Origins, a.Origin) {
			f.Origins = append(f.Origins, a.Origin)
		}
	}
	return out
}

// FileNamed reports whether some attachment still names the bytes sha,
// and their size.
func (s *State) FileNamed(sha string) (int64, bool) {
	for _, a := range alsoRows[*Attachment](s.read(), keyedAttachments, attachmentsBySHA, sha+alsoKeySeparator) {
		if a.Live() {
			return a.Size, true
		}
	}
	return 0, false
}

func hasString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
