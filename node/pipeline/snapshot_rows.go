package pipeline

import (
	"encoding/json"
	"fmt"
	"slices"

	"google.golang.org/protobuf/encoding/protowire"
)

// The row messages of snapshot format 4 (see snapshot_wire.go). A field
// number, once used, keeps its meaning: a new field takes a new number,
// and a removed one is never reused. TestSnapshotV4EveryTableAndField fails
// when a field of these types has no number here.
//
//	Lead             1 id, 2 site, 3 submittedBy, 4 division, 5 stage,
//	                 6 version, 7 created, 8 updated, 9 stageTime,
//	                 10 stageComment, 11 published, 12 claimMode,
//	                 13 closeReason, 14 stageVisibility, 15 subnode,
//	                 16 deal (Deal), 17 translations (repeated
//	                 TranslationEntry, by tag), 18 mergedInto,
//	                 19 mergedFrom (repeated); the draft: 20 title,
//	                 21 summary, 22 organization, 23 country, 24 sector,
//	                 25 trl, 26 dealType, 27 tags (repeated), 28 contacts
//	                 (repeated Contact), 29 language, 30 organizationId,
//	                 31 website
//	Contact          1 name, 2 email, 3 phone
//	Deal             1 partnerId, 2 amount, 3 currency, 4 jobs,
//	                 5 signingDate, 6 landingDate, 7 nextStep,
//	                 8 division, 9 updated, 10 updatedBy
//	TranslationEntry 1 tag, 2 translation (Translation)
//	Translation      1 title, 2 summary, 3 status, 4 source,
//	                 5 translatedBy, 6 translatedByName, 7 translated,
//	                 8 verifiedBy, 9 verifiedByName, 10 verified
//	Event            1 key, 2 leadId, 3 seq, 4 action, 5 userId,
//	                 6 userName, 7 role, 8 userSite, 9 originSite,
//	                 10 from, 11 to, 12 comment, 13 time, 14 version,
//	                 15 logIndex, 16 requestId, 17 visibility,
//	                 18 visibleTo, 19 changes (repeated Change),
//	                 20 attachment (AttachmentRef)
//	Change           1 field, 2 old, 3 new, 4 private
//	AttachmentRef    1 key, 2 sha256, 3 name, 4 size, 5 visibility,
//	                 6 division
//	request          1 key, 2 fingerprint, 3 lead (Lead), 4 user,
//	                 5 token, 6 time, 7 leadId, 8 leadVersion, 9 userId,
//	                 10 userRevoked, 11 tokenId, 12 tokenRevoked,
//	                 13 interestKey, 14 commentKey, 15 setting,
//	                 16 orgId, 17 siteCode, 18 attachmentKey,
//	                 19 attachmentRemoved, 20 invitationId,
//	                 21 profileDivision, 22 targetsYear, 23 calendarKey,
//	                 24 prefs, 25 webhook; the copies 4, 5, 15, 24 and 25
//	                 (rare: records of format 1 and a few answers) are
//	                 their JSON, as in the earlier formats
//	counter          1 name, 2 value

func (e *wireEncoder) lead(l *Lead) {
	e.str(1, l.ID)
	e.str(2, l.Site)
	e.str(3, l.SubmittedBy)
	e.str(4, l.Division)
	e.int(5, int64(l.Stage))
	e.int(6, l.Version)
	e.time(7, l.Created)
	e.time(8, l.Updated)
	e.time(9, l.StageTime)
	e.str(10, l.StageComment)
	e.bool(11, l.Published)
	e.int(12, int64(l.ClaimMode))
	e.int(13, int64(l.CloseReason))
	e.int(14, int64(l.StageVisibility))
	e.str(15, l.Subnode)
	if d := l.Deal; d != nil {
		p := e.begin(16)
		e.str(1, d.PartnerID)
		e.str(2, d.Amount)
		e.str(3, d.Currency)
		e.int(4, int64(d.Jobs))
		e.str(5, d.SigningDate)
		e.str(6, d.LandingDate)
		e.str(7, d.NextStep)
		e.str(8, d.Division)
		e.time(9, d.Updated)
		e.str(10, d.UpdatedBy)
		e.end(p)
	}
	if len(l.Translations) > 0 {
		tags := make([]string, 0, len(l.Translations))
		for tag := range l.Translations {
			tags = append(tags, tag)
		}
		slices.Sort(tags) // the same state, the same bytes
		for _, tag := range tags {
			tr := l.Translations[tag]
			p := e.begin(17)
			e.strAlways(1, tag)
			q := e.begin(2)
			e.str(1, tr.Title)
			e.str(2, tr.Summary)
			e.int(3, int64(tr.Status))
			e.str(4, tr.Source)
			e.str(5, tr.TranslatedBy)
			e.str(6, tr.TranslatedByName)
			e.time(7, tr.Translated)
			e.str(8, tr.VerifiedBy)
			e.str(9, tr.VerifiedByName)
			e.time(10, tr.Verified)
			e.end(q)
			e.end(p)
		}
	}
	e.str(18, l.MergedInto)
	for _, id := range l.MergedFrom {
		e.strAlways(19, id)
	}
	d := &l.Draft
	e.str(20, d.Title)
	e.str(21, d.Summary)
	e.str(22, d.Organization)
	e.str(23, d.Country)
	e.int(24, int64(d.Sector))
	e.int(25, int64(d.TRL))
	e.int(26, int64(d.DealType))
	for _, t := range d.Tags {
		e.strAlways(27, t)
	}
	for _, c := range d.Contacts {
		p := e.begin(28)
		e.str(1, c.Name)
		e.str(2, c.Email)
		e.str(3, c.Phone)
		e.end(p)
	}
	e.str(29, d.Language)
	e.str(30, d.OrganizationID)
	e.str(31, d.Website)
}

// rowDecoder decodes the rows of one restore, sharing repeated strings.
type rowDecoder struct{ strs internTable }

func (rd *rowDecoder) lead(b []byte) (*Lead, error) {
	l := &Lead{}
	in := &rd.strs
	it := newWireFields("lead", b)
	for it.next() {
		switch it.num {
		case 1:
			l.ID = it.str()
		case 2:
			l.Site = it.interned(in)
		case 3:
			l.SubmittedBy = it.interned(in)
		case 4:
			l.Division = it.interned(in)
		case 5:
			l.Stage = Stage(it.int())
		case 6:
			l.Version = it.int()
		case 7:
			l.Created = it.time()
		case 8:
			l.Updated = it.time()
		case 9:
			l.StageTime = it.time()
		case 10:
			l.StageComment = it.str()
		case 11:
			l.Published = it.bool()
		case 12:
			l.ClaimMode = ClaimMode(it.int())
		case 13:
			l.CloseReason = CloseReason(it.int())
		case 14:
			l.StageVisibility = Visibility(it.int())
		case 15:
			l.Subnode = it.interned(in)
		case 16:
			d, err := rd.deal(it.bytes())
			if err != nil {
				return nil, err
			}
			l.Deal = d
		case 17:
			tag, tr, err := rd.translation(it.bytes())
			if err != nil {
				return nil, err
			}
			if l.Translations == nil {
				l.Translations = map[string]Translation{}
			}
			l.Translations[tag] = tr
		case 18:
			l.MergedInto = it.str()
		case 19:
			l.MergedFrom = append(l.MergedFrom, it.str())
		case 20:
			l.Title = it.str()
		case 21:
			l.Summary = it.str()
		case 22:
			l.Organization = it.str()
		case 23:
			l.Country = it.interned(in)
		case 24:
			l.Sector = Sector(it.int())
		case 25:
			l.TRL = int(it.int())
		case 26:
			l.DealType = DealType(it.int())
		case 27:
			l.Tags = append(l.Tags, it.interned(in))
		case 28:
			c, err := rd.contact(it.bytes())
			if err != nil {
				return nil, err
			}
			l.Contacts = append(l.Contacts, c)
		case 29:
			l.Language = it.interned(in)
		case 30:
			l.OrganizationID = it.interned(in)
		case 31:
			l.Website = it.str()
		default:
			it.unknown()
		}
	}
	return l, it.err
}

func (rd *rowDecoder) contact(b []byte) (Contact, error) {
	var c Contact
	it := newWireFields("contact", b)
	for it.next() {
		switch it.num {
		case 1:
			c.Name = it.str()
		case 2:
			c.Email = it.str()
		case 3:
			c.Phone = it.str()
		default:
			it.unknown()
		}
	}
	return c, it.err
}

func (rd *rowDecoder) deal(b []byte) (*Deal, error) {
	d := &Deal{}
	it := newWireFields("deal", b)
	for it.next() {
		switch it.num {
		case 1:
			d.PartnerID = it.str()
		case 2:
			d.Amount = it.str()
		case 3:
			d.Currency = it.interned(&rd.strs)
		case 4:
			d.Jobs = int(it.int())
		case 5:
			d.SigningDate = it.str()
		case 6:
			d.LandingDate = it.str()
		case 7:
			d.NextStep = it.str()
		case 8:
			d.Division = it.interned(&rd.strs)
		case 9:
			d.Updated = it.time()
		case 10:
			d.UpdatedBy = it.interned(&rd.strs)
		default:
			it.unknown()
		}
	}
	return d, it.err
}

func (rd *rowDecoder) translation(b []byte) (string, Translation, error) {
	var tag string
	var tr Translation
	it := newWireFields("translation", b)
	for it.next() {
		switch it.num {
		case 1:
			tag = it.interned(&rd.strs)
		case 2:
			f := newWireFields("translation", it.bytes())
			for f.next() {
				switch f.num {
				case 1:
					tr.Title = f.str()
				case 2:
					tr.Summary = f.str()
				case 3:
					tr.Status = TranslationStatus(f.int())
				case 4:
					tr.Source = f.interned(&rd.strs)
				case 5:
					tr.TranslatedBy = f.interned(&rd.strs)
				case 6:
					tr.TranslatedByName = f.interned(&rd.strs)
				case 7:
					tr.Translated = f.time()
				case 8:
					tr.VerifiedBy = f.interned(&rd.strs)
				case 9:
					tr.VerifiedByName = f.interned(&rd.strs)
				case 10:
					tr.Verified = f.time()
				default:
					f.unknown()
				}
			}
			if f.err != nil {
				return "", tr, f.err
			}
		default:
			it.unknown()
		}
	}
	return tag, tr, it.err
}

func (e *wireEncoder) event(ev *Event) {
	e.str(1, ev.Key)
	e.str(2, ev.LeadID)
	e.int(3, ev.Seq)
	e.str(4, ev.Action)
	e.str(5, ev.UserID)
	e.str(6, ev.UserName)
	e.int(7, int64(ev.Role))
	e.str(8, ev.UserSite)
	e.str(9, ev.OriginSite)
	e.int(10, int64(ev.From))
	e.int(11, int64(ev.To))
	e.str(12, ev.Comment)
	e.time(13, ev.Time)
	e.int(14, ev.Version)
	e.uint(15, ev.LogIndex)
	e.str(16, ev.RequestID)
	e.int(17, int64(ev.Visibility))
	e.str(18, ev.VisibleTo)
	for _, c := range ev.Changes {
		p := e.begin(19)
		e.str(1, c.Field)
		e.str(2, c.Old)
		e.str(3, c.New)
		e.bool(4, c.Private)
		e.end(p)
	}
	if a := ev.Attachment; a != nil {
		p := e.begin(20)
		e.str(1, a.Key)
		e.str(2, a.SHA256)
		e.str(3, a.Name)
		e.int(4, a.Size)
		e.int(5, int64(a.Visibility))
		e.str(6, a.Division)
		e.end(p)
	}
}

func (rd *rowDecoder) event(b []byte) (*Event, error) {
	ev := &Event{}
	in := &rd.strs
	var leadID []byte
	it := newWireFields("event", b)
	for it.next() {
		switch it.num {
		case 1:
			ev.Key = it.str()
		case 2:
			leadID = it.bytes()
		case 3:
			ev.Seq = it.int()
		case 4:
			ev.Action = it.interned(in)
		case 5:
			ev.UserID = it.interned(in)
		case 6:
			ev.UserName = it.interned(in)
		case 7:
			ev.Role = Role(it.int())
		case 8:
			ev.UserSite = it.interned(in)
		case 9:
			ev.OriginSite = it.interned(in)
		case 10:
			ev.From = Stage(it.int())
		case 11:
			ev.To = Stage(it.int())
		case 12:
			ev.Comment = it.str()
		case 13:
			ev.Time = it.time()
		case 14:
			ev.Version = it.int()
		case 15:
			ev.LogIndex = it.uint()
		case 16:
			ev.RequestID = it.str()
		case 17:
			ev.Visibility = Visibility(it.int())
		case 18:
			ev.VisibleTo = it.interned(in)
		case 19:
			c, err := rd.change(it.bytes())
			if err != nil {
				return nil, err
			}
			if ev.Changes == nil {
				// Sized to fit: a submission lists every field it set.
				ev.Changes = make([]Change, 0, 1+it.count(19))
			}
			ev.Changes = append(ev.Changes, c)
		case 20:
			a, err := rd.attachmentRef(it.bytes())
			if err != nil {
				return nil, err
			}
			ev.Attachment = a
		default:
			it.unknown()
		}
	}
	if it.err != nil {
		return nil, it.err
	}
	// The key starts with the lead's ID: share its bytes.
	if len(ev.Key) >= len(leadID) && ev.Key[:len(leadID)] == string(leadID) {
		ev.LeadID = ev.Key[:len(leadID)]
	} else {
		ev.LeadID = string(leadID)
	}
	return ev, nil
}

func (rd *rowDecoder) change(b []byte) (Change, error) {
	var c Change
	it := newWireFields("change", b)
	for it.next() {
		switch it.num {
		case 1:
			c.Field = it.interned(&rd.strs)
		case 2:
			c.Old = it.interned(&rd.strs)
		case 3:
			c.New = it.interned(&rd.strs)
		case 4:
			c.Private = it.bool()
		default:
			it.unknown()
		}
	}
	return c, it.err
}

func (rd *rowDecoder) attachmentRef(b []byte) (*AttachmentRef, error) {
	a := &AttachmentRef{}
	it := newWireFields("attachment", b)
	for it.next() {
		switch it.num {
		case 1:
			a.Key = it.str()
		case 2:
			a.SHA256 = it.str()
		case 3:
			a.Name = it.str()
		case 4:
			a.Size = it.int()
		case 5:
			a.Visibility = AttachmentVisibility(it.int())
		case 6:
			a.Division = it.interned(&rd.strs)
		default:
			it.unknown()
		}
	}
	return a, it.err
}

func (e *wireEncoder) request(rec *request) error {
	r := rec.extra()
	e.str(1, rec.Key)
	e.str(2, rec.Fingerprint)
	if r.Lead != nil {
		p := e.begin(3)
		e.lead(r.Lead)
		e.end(p)
	}
	if err := jsonField(e, 4, r.User); err != nil {
		return err
	}
	if err := jsonField(e, 5, r.Token); err != nil {
		return err
	}
	e.int(6, rec.Time)
	e.str(7, rec.LeadID)
	e.int(8, rec.LeadVersion)
	e.str(9, r.UserID)
	e.bool(10, r.UserRevoked)
	e.str(11, r.TokenID)
	e.bool(12, r.TokenRevoked)
	e.str(13, r.InterestKey)
	e.str(14, r.CommentKey)
	if err := jsonField(e, 15, r.Setting); err != nil {
		return err
	}
	e.str(16, r.OrgID)
	e.str(17, r.SiteCode)
	e.str(18, r.AttachmentKey)
	e.bool(19, r.AttachmentRemoved)
	e.str(20, r.InvitationID)
	e.str(21, r.ProfileDivision)
	e.int(22, int64(r.TargetsYear))
	e.str(23, r.CalendarKey)
	if err := jsonField(e, 24, r.Prefs); err != nil {
		return err
	}
	return jsonField(e, 25, r.Webhook)
}

// jsonField writes *v as its JSON unless v is nil.
func jsonField[T any](e *wireEncoder, num protowire.Number, v *T) error {
	if v == nil {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("field %d: %w", num, err)
	}
	e.tag(num, protowire.BytesType)
	e.b = protowire.AppendBytes(e.b, b)
	return nil
}

func (rd *rowDecoder) request(b []byte) (*request, error) {
	rec := &request{}
	var r requestMore
	in := &rd.strs
	it := newWireFields("request", b)
	for it.next() {
		var err error
		switch it.num {
		case 1:
			rec.Key = it.str()
		case 2:
			rec.Fingerprint = it.str()
		case 3:
			r.Lead, err = rd.lead(it.bytes())
		case 4:
			r.User = &User{}
			err = unmarshalField(it.bytes(), r.User)
		case 5:
			r.Token = &Token{}
			err = unmarshalField(it.bytes(), r.Token)
		case 6:
			rec.Time = it.int()
		case 7:
			rec.LeadID = it.str()
		case 8:
			rec.LeadVersion = it.int()
		case 9:
			r.UserID = it.interned(in)
		case 10:
			r.UserRevoked = it.bool()
		case 11:
			r.TokenID = it.str()
		case 12:
			r.TokenRevoked = it.bool()
		case 13:
			r.InterestKey = it.str()
		case 14:
			r.CommentKey = it.str()
		case 15:
			r.Setting = &Setting{}
			err = unmarshalField(it.bytes(), r.Setting)
		case 16:
			r.OrgID = it.str()
		case 17:
			r.SiteCode = it.interned(in)
		case 18:
			r.AttachmentKey = it.str()
		case 19:
			r.AttachmentRemoved = it.bool()
		case 20:
			r.InvitationID = it.str()
		case 21:
			r.ProfileDivision = it.interned(in)
		case 22:
			r.TargetsYear = int(it.int())
		case 23:
			r.CalendarKey = it.str()
		case 24:
			r.Prefs = &NotificationPrefs{}
			err = unmarshalField(it.bytes(), r.Prefs)
		case 25:
			r.Webhook = &Webhook{}
			err = unmarshalField(it.bytes(), r.Webhook)
		default:
			it.unknown()
		}
		if err != nil {
			return nil, fmt.Errorf("request field %d: %w", it.num, err)
		}
	}
	rec.setExtra(r)
	return rec, it.err
}

func unmarshalField(b []byte, v any) error {
	if b == nil {
		return nil // a wrong wire type, which the caller's iterator holds
	}
	return json.Unmarshal(b, v)
}

func (e *wireEncoder) counter(c *counter) {
	e.str(1, c.Name)
	e.int(2, c.Value)
}

func (rd *rowDecoder) counter(b []byte) (*counter, error) {
	c := &counter{}
	it := newWireFields("counter", b)
	for it.next() {
		switch it.num {
		case 1:
			c.Name = it.str()
		case 2:
			c.Value = it.int()
		default:
			it.unknown()
		}
	}
	return c, it.err
}
