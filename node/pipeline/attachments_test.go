package pipeline

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// testSHA is the SHA-256 of a made-up file n.
func testSHA(n int) string {
	sum := sha256.Sum256([]byte(fmt.Sprintf("file %d", n)))
	return hex.EncodeToString(sum[:])
}

func addCmd(lead string, n int, vis AttachmentVisibility) Command {
	return Command{Op: OpAddAttachment, LeadID: lead, Comment: "the deck", Attachment: &NewAttachment{
		SHA256: testSHA(n), Name: fmt.Sprintf("deck-%d.pdf", n), ContentType: "application/pdf", Size: int64(1000 + n), Visibility: vis}}
}

func removeCmd(lead string, n int, vis AttachmentVisibility) Command {
	return Command{Op: OpRemoveAttachment, LeadID: lead, Attachment: &NewAttachment{SHA256: testSHA(n), Visibility: vis}}
}

// TestAttachmentAddRules tries to add a SHARED and a DIVISION attachment
// to a lead in every stage as every user: the table at the top of
// attachments.go. Every lead is BOS's; a claimed one is held by YRD.
func TestAttachmentAddRules(t *testing.T) {
	held := map[Stage]bool{Claimed: true, Negotiating: true, Signed: true, Landed: true}
	expect := func(actor string, from Stage, vis AttachmentVisibility) outcome {
		switch {
		case actor == "yrd" && held[from]:
		case (actor == "bos" || actor == "hq") && vis == AttachmentShared:
		default:
			return denied
		}
		if from == Withdrawn {
			return wrongStage
		}
		return moves(from)
	}
	for _, vis := range []AttachmentVisibility{AttachmentShared, AttachmentDivision} {
		for _, from := range allStages {
			for _, actor := range actorNames {
				want := expect(actor, from, vis)
				t.Run(fmt.Sprintf("%s/from=%s/by=%s", vis, from, actor), func(t *testing.T) {
					f := newFixture(t)
					f.raise()
					id := f.leadIn(from)
					before, events := f.lead(id), f.history(id)
					cmd := addCmd(id, 1, vis)
					if want.err != nil {
						var res any
						assertUnchanged(t, f.st, func() { res = f.apply(actor, cmd) })
						msgs := []string{}
						if want.err == ErrPrecondition {
							msgs = append(msgs, "stage "+from.String())
						}
						wantError(t, res, want.err, msgs...)
						return
					}
					res := f.ok(actor, cmd)
					wantLead := before.clone()
					wantLead.Version, wantLead.Updated = before.Version+1, clock(f.index)
					if !reflect.DeepEqual(res.Lead, wantLead) {
						t.Errorf("result lead = %+v\nwant %+v", res.Lead, wantLead)
					}
					if got := f.lead(id); !reflect.DeepEqual(got, wantLead) {
						t.Errorf("stored lead = %+v\nwant %+v", got, wantLead)
					}
					u, _ := f.st.User(f.user(actor))
					division := ""
					if vis == AttachmentDivision {
						division = "YRD"
					}
					wantAtt := &Attachment{Key: attachmentKey(id, testSHA(1), vis, division), LeadID: id, SHA256: testSHA(1),
						Name: "deck-1.pdf", ContentType: "application/pdf", Size: 1001, Visibility: vis, Division: division,
						AddedBy: u.ID, AddedByName: u.Name, AddedFor: u.Home(), Comment: "the deck", Added: clock(f.index),
						Version: wantLead.Version, LogIndex: f.index, RequestID: fmt.Sprintf("req-%d", f.reqs)}
					if !reflect.DeepEqual(res.Attachment, wantAtt) {
						t.Errorf("attachment = %+v\nwant %+v", res.Attachment, wantAtt)
					}
					h := f.history(id)
					if len(h) != len(events)+1 {
						t.Fatalf("history has %d events, want %d", len(h), len(events)+1)
					}
					e := h[len(h)-1]
					if e.Action != ActionAddAttachment || e.From != from || e.To != from || e.Version != wantLead.Version ||
						e.Comment != "the deck" || !reflect.DeepEqual(e.Attachment, wantAtt.ref()) {
						t.Errorf("last event = %+v (attachment %+v), want %s in %s at v%d naming %+v", e, e.Attachment, ActionAddAttachment, from, wantLead.Version, wantAtt.ref())
					}
				})
			}
		}
	}
}

// TestAttachmentRemoveRules has every user try to remove each of four
// attachments of a lead YRD holds: one BOS staff added, one HQ added, one
// YRD keeps to itself and one YRD shared.
func TestAttachmentRemoveRules(t *testing.T) {
	const (
		bosShared = iota + 1
		hqShared
		yrdOnly
		yrdShared
	)
	notFound := outcome{err: ErrNotFound}
	want := map[string][4]outcome{
		"admin": {denied, denied, denied, denied},
		"hq":    {moves(Claimed), moves(Claimed), moves(Claimed), moves(Claimed)},
		"bos":   {moves(Claimed), denied, notFound, denied},
		"cbg":   {denied, denied, denied, denied}, // may not see the lead
		"bohai": {denied, denied, notFound, denied},
		"yrd":   {denied, denied, moves(Claimed), moves(Claimed)},
		"prd":   {denied, denied, notFound, denied},
	}
	for _, actor := range actorNames {
		for i, o := range want[actor] {
			n := i + 1
			t.Run(fmt.Sprintf("%d/by=%s", n, actor), func(t *testing.T) {
				f := newFixture(t)
				f.raise()
				id := f.submit("bos")
				f.ok("bos", addCmd(id, bosShared, AttachmentShared))
				f.ok("hq", addCmd(id, hqShared, AttachmentShared))
				f.ok("hq", Command{Op: OpReview, LeadID: id, Decision: Approve})
				f.ok("yrd", Command{Op: OpClaim, LeadID: id})
				f.ok("yrd", addCmd(id, yrdOnly, AttachmentDivision))
				f.ok("yrd", addCmd(id, yrdShared, AttachmentShared))
				vis := AttachmentVisibilityUnspecified
				if n%2 == 0 {
					vis = AttachmentShared // naming it changes nothing
				}
				if n == yrdOnly {
					vis = AttachmentDivision
				}
				cmd := removeCmd(id, n, vis)
				if o.err != nil {
					var res any
					assertUnchanged(t, f.st, func() { res = f.apply(actor, cmd) })
					wantError(t, res, o.err)
					return
				}
				before := f.lead(id)
				res := f.ok(actor, cmd)
				if res.Lead.Version != before.Version+1 || res.Attachment.Live() || res.Attachment.RemovedBy != f.user(actor) ||
					res.Attachment.RemovedVersion != res.Lead.Version || res.Attachment.SHA256 != testSHA(n) {
					t.Errorf("removed: lead v%d, attachment %+v; want v%d and the attachment removed by %s", res.Lead.Version, res.Attachment, before.Version+1, actor)
				}
				h := f.history(id)
				if e := h[len(h)-1]; e.Action != ActionRemoveAttachment || e.Attachment == nil || e.Attachment.SHA256 != testSHA(n) {
					t.Errorf("last event = %+v, want %s of %s", e, ActionRemoveAttachment, testSHA(n))
				}
				if files := f.st.StoredFiles(); len(files) != 3 || hasString(shas(files), testSHA(n)) {
					t.Errorf("stored files after the removal: %v, want the three others", shas(files))
				}
			})
		}
	}
}

func attachmentsOfLead(t *testing.T, st *State, id string) []Attachment {
	t.Helper()
	atts, err := st.Attachments(id)
	if err != nil {
		t.Fatalf("Attachments(%s): %v", id, err)
	}
	return atts
}

func shas(files []StoredFile) []string {
	var out []string
	for _, f := range files {
		out = append(out, f.SHA256)
	}
	return out
}

// TestAttachmentSameBytes: the same bytes again are the attachment that
// is there, whoever sends them; with the other visibility they are a
// second attachment; removed, they may be attached again.
func TestAttachmentSameBytes(t *testing.T) {
	f := newFixture(t)
	f.raise()
	id := f.leadIn(Claimed)
	first := f.ok("bos", addCmd(id, 1, AttachmentShared))
	v := f.lead(id).Version
	again := addCmd(id, 1, AttachmentShared)
	again.Attachment.Name = "renamed.pdf"
	// Nothing changes but the record of the request.
	view, atts := readView(t, f.st), attachmentsOfLead(t, f.st, id)
	dup := f.ok("hq", again)
	if !reflect.DeepEqual(readView(t, f.st), view) || !reflect.DeepEqual(attachmentsOfLead(t, f.st, id), atts) {
		t.Errorf("the same bytes again changed the lead, its history or its attachments")
	}
	if dup.Lead != nil || !reflect.DeepEqual(dup.Attachment, first.Attachment) {
		t.Errorf("the same bytes again: lead %v, attachment %+v; want no lead and the first attachment %+v", dup.Lead, dup.Attachment, first.Attachment)
	}
	// A retry of the duplicate answers the same.
	retry := again
	retry.RequestID = fmt.Sprintf("req-%d", f.reqs)
	if got := f.ok("hq", retry); !got.Replayed || !reflect.DeepEqual(got.Attachment, first.Attachment) || got.Lead != nil {
		t.Errorf("retry of the duplicate: %+v, want a replay of the first attachment", got)
	}
	private := f.ok("yrd", addCmd(id, 1, AttachmentDivision))
	if private.Attachment.Key == first.Attachment.Key || private.Lead.Version != v+1 {
		t.Errorf("the bytes kept to YRD: key %s at v%d, want a second attachment at v%d", private.Attachment.Key, private.Lead.Version, v+1)
	}
	// HQ sees both, and must say which to remove.
	wantError(t, f.apply("hq", removeCmd(id, 1, AttachmentVisibilityUnspecified)), ErrPrecondition, "SHARED and DIVISION")
	f.ok("hq", removeCmd(id, 1, AttachmentShared))
	readded := f.ok("bos", addCmd(id, 1, AttachmentShared))
	if !readded.Attachment.Live() || readded.Attachment.Version != readded.Lead.Version || readded.Attachment.Key != first.Attachment.Key {
		t.Errorf("attached again: %+v, want the same key attached at the new version", readded.Attachment)
	}
	atts, err := f.st.Attachments(id)
	if err != nil {
		t.Fatal(err)
	}
	if len(atts) != 2 || !atts[0].Live() || !atts[1].Live() {
		t.Errorf("attachments: %+v, want two live ones", atts)
	}
	if files := f.st.StoredFiles(); len(files) != 1 || files[0].SHA256 != testSHA(1) || files[0].Size != 1001 {
		t.Errorf("stored files: %+v, want one file of 1001 bytes", files)
	}
}

// TestAttachmentReplay: a retried add or remove answers as the first
// attempt did, also after the attachment changed since.
func TestAttachmentReplay(t *testing.T) {
	f := newFixture(t)
	f.raise()
	id := f.leadIn(Submitted)
	add := addCmd(id, 1, AttachmentShared)
	add.RequestID = "add-1"
	first := f.ok("bos", add)
	rm := removeCmd(id, 1, AttachmentVisibilityUnspecified)
	rm.RequestID = "rm-1"
	removed := f.ok("bos", rm)
	f.ok("bos", addCmd(id, 1, AttachmentShared)) // attached again
	if got := f.ok("bos", add); !got.Replayed || !got.Attachment.Live() || got.Lead.Version != first.Lead.Version {
		t.Errorf("retried add: %+v, want the live attachment at v%d", got, first.Lead.Version)
	}
	got := f.ok("bos", rm)
	if !got.Replayed || got.Attachment.Live() || !got.Attachment.Removed.Equal(*removed.Attachment.Removed) ||
		got.Attachment.RemovedVersion != removed.Attachment.RemovedVersion || got.Lead.Version != removed.Lead.Version {
		t.Errorf("retried remove: %+v, want the removal as answered: %+v", got.Attachment, removed.Attachment)
	}
	other := add
	other.Attachment = &NewAttachment{SHA256: testSHA(2), Name: "x.pdf", ContentType: "application/pdf", Size: 5, Visibility: AttachmentShared}
	wantError(t, f.apply("bos", other), ErrInvalid, "request_id")
}

func TestAttachmentNeedsFormat2(t *testing.T) {
	f := newFixture(t)
	id := f.leadIn(Submitted)
	var res any
	assertUnchanged(t, f.st, func() { res = f.apply("bos", addCmd(id, 1, AttachmentShared)) })
	wantError(t, res, ErrPrecondition, "log format 2")
}

func TestAttachmentErrors(t *testing.T) {
	f := newFixture(t)
	f.raise()
	id := f.leadIn(Submitted)
	for _, tt := range []struct {
		name  string
		actor string
		cmd   Command
		want  error
		msg   string
	}{
		{"unknown lead", "bos", addCmd("BOS-0099", 1, AttachmentShared), ErrNotFound, "BOS-0099"},
		{"stale version", "bos", func() Command { c := addCmd(id, 1, AttachmentShared); c.ExpectedVersion = 7; return c }(), ErrConflict, "version 1"},
		{"other site", "cbg", addCmd(id, 1, AttachmentShared), ErrPermission, "belongs to site BOS"},
		{"staff keeping it to a division", "bos", addCmd(id, 1, AttachmentDivision), ErrPermission, "adds SHARED ones"},
		{"division not holding it", "yrd", addCmd(id, 1, AttachmentShared), ErrPermission, "not claimed by YRD"},
		{"admin", "admin", addCmd(id, 1, AttachmentShared), ErrPermission, "caller is ADMIN"},
		{"remove what is not there", "bos", removeCmd(id, 3, AttachmentVisibilityUnspecified), ErrNotFound, "no attachment"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var res any
			assertUnchanged(t, f.st, func() { res = f.apply(tt.actor, tt.cmd) })
			wantError(t, res, tt.want, tt.msg)
		})
	}
	f.ok("hq", addCmd(id, 2, AttachmentShared))
	wantError(t, f.apply("bos", removeCmd(id, 2, AttachmentVisibilityUnspecified)), ErrPermission, "added for HQ", "only HQ reviewers")
}

func TestAttachmentLimitPerLead(t *testing.T) {
	f := newFixture(t)
	f.raise()
	id := f.leadIn(Submitted)
	for n := range MaxAttachmentsPerLead {
		f.ok("bos", addCmd(id, n, AttachmentShared))
	}
	var res any
	assertUnchanged(t, f.st, func() { res = f.apply("bos", addCmd(id, MaxAttachmentsPerLead, AttachmentShared)) })
	wantError(t, res, ErrPrecondition, fmt.Sprintf("holds %d attachments", MaxAttachmentsPerLead))
	f.ok("bos", removeCmd(id, 0, AttachmentVisibilityUnspecified))
	f.ok("bos", addCmd(id, MaxAttachmentsPerLead, AttachmentShared))
}

func TestAttachmentValidation(t *testing.T) {
	add := func(change func(na *NewAttachment)) Command {
		c := addCmd("BOS-0001", 1, AttachmentShared)
		c.RequestID = "r1"
		change(c.Attachment)
		return c
	}
	rm := func(change func(na *NewAttachment)) Command {
		c := removeCmd("BOS-0001", 1, AttachmentVisibilityUnspecified)
		c.RequestID = "r1"
		change(c.Attachment)
		return c
	}
	for _, tt := range []struct {
		name  string
		cmd   Command
		field string // "" when valid
	}{
		{"valid", add(func(*NewAttachment) {}), ""},
		{"German and Chinese name", add(func(na *NewAttachment) { na.Name = "Präsentation 路演.pdf" }), ""},
		{"division", add(func(na *NewAttachment) { na.Visibility = AttachmentDivision }), ""},
		{"upper-case hash", add(func(na *NewAttachment) { na.SHA256 = strings.ToUpper(na.SHA256) }), "sha256"},
		{"short hash", add(func(na *NewAttachment) { na.SHA256 = na.SHA256[:63] }), "sha256"},
		{"no name", add(func(na *NewAttachment) { na.Name = " " }), "name"},
		{"a path", add(func(na *NewAttachment) { na.Name = "../etc/passwd" }), "name"},
		{"a Windows path", add(func(na *NewAttachment) { na.Name = `C:\deck.pdf` }), "name"},
		{"two lines", add(func(na *NewAttachment) { na.Name = "deck\n.pdf" }), "name"},
		{"long name", add(func(na *NewAttachment) { na.Name = strings.Repeat("n", MaxAttachmentName+1) }), "name"},
		{"no type", add(func(na *NewAttachment) { na.ContentType = "" }), "content_type"},
		{"type with parameters", add(func(na *NewAttachment) { na.ContentType = "text/plain; charset=utf-8" }), "content_type"},
		{"upper-case type", add(func(na *NewAttachment) { na.ContentType = "Application/PDF" }), "content_type"},
		{"empty file", add(func(na *NewAttachment) { na.Size = 0 }), "size"},
		{"too large", add(func(na *NewAttachment) { na.Size = MaxAttachmentSize + 1 }), "size"},
		{"no visibility", add(func(na *NewAttachment) { na.Visibility = 0 }), "visibility"},
		{"unknown visibility", add(func(na *NewAttachment) { na.Visibility = 3 }), "visibility"},
		{"no attachment", Command{Op: OpAddAttachment, RequestID: "r1", LeadID: "BOS-0001"}, "attachment"},
		{"bad lead", func() Command { c := add(func(*NewAttachment) {}); c.LeadID = "bos-1"; return c }(), "id"},
		{"bad comment", func() Command { c := add(func(*NewAttachment) {}); c.Comment = "bell \x07"; return c }(), "comment"},
		{"removal", rm(func(*NewAttachment) {}), ""},
		{"removal naming its visibility", rm(func(na *NewAttachment) { na.Visibility = AttachmentDivision }), ""},
		{"removal with a name", rm(func(na *NewAttachment) { na.Name = "deck.pdf" }), "attachment"},
		{"removal of a bad hash", rm(func(na *NewAttachment) { na.SHA256 = "x" }), "sha256"},
		{"removal of an unknown visibility", rm(func(na *NewAttachment) { na.Visibility = 9 }), "visibility"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cmd.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
				if got := tt.cmd.Format(); got != Format2 {
					t.Errorf("Format = %d, want %d", got, Format2)
				}
				return
			}
			wantInvalid(t, err, tt.field)
		})
	}
}

// TestAttachmentSnapshot: attachments and the events that name them
// survive a snapshot, which does not grow by the files' sizes.
func TestAttachmentSnapshot(t *testing.T) {
	f := newFixture(t)
	f.raise()
	id := f.leadIn(Claimed)
	f.ok("bos", addCmd(id, 1, AttachmentShared))
	f.ok("yrd", addCmd(id, 2, AttachmentDivision))
	f.ok("hq", removeCmd(id, 1, AttachmentVisibilityUnspecified))
	snap := snapshotBytes(t, f.st)
	g := New()
	if err := g.Restore(bytes.NewReader(snap)); err != nil {
		t.Fatal(err)
	}
	if got := snapshotBytes(t, g); !bytes.Equal(got, snap) {
		t.Errorf("a restored state snapshots differently")
	}
	want, _ := f.st.Attachments(id)
	got, err := g.Attachments(id)
	if err != nil || !reflect.DeepEqual(got, want) || len(got) != 2 {
		t.Errorf("attachments after restore: %+v (%v), want %+v", got, err, want)
	}
	if files := g.StoredFiles(); len(files) != 1 || files[0].SHA256 != testSHA(2) {
		t.Errorf("stored files after restore: %+v, want the DIVISION one", files)
	}
	h, _ := g.History(id)
	if e := h[len(h)-1]; e.Attachment == nil || e.Attachment.SHA256 != testSHA(1) {
		t.Errorf("the last event after restore: %+v", e)
	}
}
