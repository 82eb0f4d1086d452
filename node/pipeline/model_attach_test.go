package pipeline

import (
	"fmt"
	"reflect"
)

// The reference model's attachments: the table at the top of
// attachments.go written out again, for FuzzModel. It borrows only names
// from the code under test (visibilities, roles, ops, error codes).

// mAttachment is what a request's answer says of an attachment.
type mAttachment struct {
	Key     string
	Removed bool
}

// mAtt is what the model keeps of an attachment.
type mAtt struct {
	mAttachment
	Lead, SHA  string
	Visibility AttachmentVisibility
	Division   string // of a DIVISION one
	AddedFor   string // the site, division or HQ of who added it
}

// modelFiles are the files an attachment request may name, judged by
// hand: the third is the first's bytes under another name, the last is
// not a file at all.
var modelFiles = []struct {
	sha, name string
	size      int64
	valid     bool
}{
	{testSHA(1), "deck.pdf", 1000, true},
	{testSHA(2), "Präsentation 路演.pdf", 2000, true},
	{testSHA(1), "deck (copy).pdf", 1000, true},
	{"not-a-hash", "../deck.pdf", 5, false},
}

// home is the site, division or HQ a model user acts for.
func (u *mUser) home() string {
	switch u.Role {
	case NodeStaff:
		return u.Site
	case DivisionRole:
		return u.Division
	}
	return "HQ"
}

// canSee is who may read a lead: HQ and admins all, staff their site's,
// divisions the published ones.
func (u *mUser) canSee(l *mLead) bool {
	switch u.Role {
	case Admin, HQReviewer:
		return true
	case NodeStaff:
		return u.Site == l.Site
	case DivisionRole:
		return l.Published
	}
	return false
}

// sees is who may see an attachment of a lead they may see.
func (u *mUser) sees(a *mAtt) bool {
	if a.Visibility == AttachmentShared {
		return true
	}
	return u.Role == Admin || u.Role == HQReviewer || u.Role == DivisionRole && u.Division == a.Division
}

func (m *refModel) validAttachment(op mOp) bool {
	note, file := modelNotes[op.Note], modelFiles[op.Variant]
	if !oracleLeadID(op.LeadID) || !note.valid {
		return false
	}
	shaValid := oracleTokenHash(file.sha) // 64 lower-case hex digits, as a token hash
	if op.Kind == OpAddAttachment {
		return file.valid && shaValid && (op.AttVisibility == AttachmentShared || op.AttVisibility == AttachmentDivision)
	}
	return shaValid && op.AttVisibility <= AttachmentDivision
}

// attach adds or removes an attachment.
func (m *refModel) attach(u *mUser, op mOp) mResult {
	l := m.leads[op.LeadID]
	if l == nil {
		return refused(CodeNotFound)
	}
	file := modelFiles[op.Variant]
	stale := op.ExpectedVersion != 0 && op.ExpectedVersion != l.Version
	if op.Kind == OpRemoveAttachment {
		return m.detach(u, op, l, file.sha, stale)
	}
	allowed := u.Role == NodeStaff && u.Site == l.Site && op.AttVisibility == AttachmentShared ||
		u.Role == HQReviewer && op.AttVisibility == AttachmentShared ||
		u.Role == DivisionRole && l.Division == u.Division
	switch {
	case !allowed:
		return refused(CodePermission)
	case stale:
		return refused(CodeConflict)
	case l.Stage == Withdrawn:
		return refused(CodePrecondition)
	}
	scope, division := "*", ""
	if op.AttVisibility == AttachmentDivision {
		scope, division = u.Division, u.Division
	}
	key := l.ID + "/" + file.sha + "/" + scope
	if a := m.atts[key]; a != nil && !a.Removed {
		c := a.mAttachment
		return mResult{OK: true, Attachment: &c} // the same bytes again: nothing changes
	}
	a := &mAtt{mAttachment: mAttachment{Key: key}, Lead: l.ID, SHA: file.sha, Visibility: op.AttVisibility,
		Division: division, AddedFor: u.home()}
	m.atts[key] = a
	l.Version++
	lc, ac := *l, a.mAttachment
	return mResult{OK: true, Lead: &lc, Attachment: &ac}
}

func (m *refModel) detach(u *mUser, op mOp, l *mLead, sha string, stale bool) mResult {
	if !u.canSee(l) {
		return refused(CodePermission)
	}
	var seen, removable []*mAtt
	for _, a := range m.atts {
		if a.Lead != l.ID || a.SHA != sha || a.Removed || !u.sees(a) ||
			op.AttVisibility != AttachmentVisibilityUnspecified && a.Visibility != op.AttVisibility {
			continue
		}
		seen = append(seen, a)
		if u.Role == HQReviewer || (u.Role == NodeStaff || u.Role == DivisionRole) && a.AddedFor == u.home() {
			removable = append(removable, a)
		}
	}
	switch {
	case len(seen) == 0:
		return refused(CodeNotFound)
	case len(removable) == 0:
		return refused(CodePermission)
	case len(removable) > 1:
		return refused(CodePrecondition) // say which visibility
	case stale:
		return refused(CodeConflict)
	}
	a := removable[0]
	a.Removed = true
	l.Version++
	lc, ac := *l, a.mAttachment
	return mResult{OK: true, Lead: &lc, Attachment: &ac}
}

// decodeAttachment fills an attachment request from b3 and b4: an add
// when b4's high nibble (which also picks the expected version) is even,
// a removal when it is odd; the file (b3's low 2 bits) and the visibility
// (the next 2: unset, SHARED, DIVISION, SHARED).
func decodeAttachment(op *mOp, b3, b4 byte) {
	if b4>>4%2 == 1 {
		op.Kind = OpRemoveAttachment
	}
	op.Variant = int(b3&3) % len(modelFiles)
	op.AttVisibility = []AttachmentVisibility{0, AttachmentShared, AttachmentDivision, AttachmentShared}[b3>>2&3]
}

// attachmentSender is who would normally send an attachment request on
// l: the holding division, HQ or the lead's site.
func attachmentSender(l *mLead, b byte) func(u *mUser) bool {
	switch {
	case l.Division != "" && b%2 == 1:
		return func(u *mUser) bool { return u.Role == DivisionRole && u.Division == l.Division }
	case b%3 == 0:
		return func(u *mUser) bool { return u.Role == HQReviewer }
	}
	return func(u *mUser) bool { return u.Role == NodeStaff && u.Site == l.Site }
}

// attachmentCommand is what a proposer writes for an attachment request.
func attachmentCommand(op mOp) *NewAttachment {
	file := modelFiles[op.Variant]
	if op.Kind == OpRemoveAttachment {
		return &NewAttachment{SHA256: file.sha, Visibility: op.AttVisibility}
	}
	return &NewAttachment{SHA256: file.sha, Name: file.name, ContentType: "application/pdf", Size: file.size, Visibility: op.AttVisibility}
}

func asAttachment(a *Attachment) *mAttachment {
	if a == nil {
		return nil
	}
	return &mAttachment{Key: a.Key, Removed: !a.Live()}
}

// compareAttachments compares every attachment of every lead, and the
// files the sites must hold, with the model.
func (r *modelRun) compareAttachments(leads []*Lead) error {
	got, want := map[string]mAtt{}, map[string]mAtt{}
	files := map[string]bool{}
	for _, l := range leads {
		atts, err := r.st.Attachments(l.ID)
		if err != nil {
			return err
		}
		for _, a := range atts {
			got[a.Key] = mAtt{mAttachment: *asAttachment(&a), Lead: a.LeadID, SHA: a.SHA256, Visibility: a.Visibility,
				Division: a.Division, AddedFor: a.AddedFor}
		}
	}
	for key, a := range r.m.atts {
		want[key] = *a
		if !a.Removed {
			files[a.SHA] = true
		}
	}
	if !reflect.DeepEqual(got, want) {
		return fmt.Errorf("attachments differ:\ngot  %+v\nwant %+v", got, want)
	}
	stored := map[string]bool{}
	for _, f := range r.st.StoredFiles() {
		stored[f.SHA256] = true
	}
	if !reflect.DeepEqual(stored, files) {
		return fmt.Errorf("files to hold differ:\ngot  %v\nwant %v", stored, files)
	}
	return nil
}
