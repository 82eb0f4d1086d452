package node

import (
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"innonet/cluster"
	"innonet/node/pipeline"
	innonetpb "innonet/proto/innonet/v1"
)

// This file translates between the wire types and the pipeline's own; the
// enum numbers are the same on both sides, and the pipeline validates
// ranges.

func ts(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

func leadToPB(l *pipeline.Lead) *innonetpb.Lead {
	if l == nil {
		return nil
	}
	out := &innonetpb.Lead{
		Id: l.ID, Title: l.Title, Summary: l.Summary, Organization: l.Organization,
		Country: l.Country, Sector: innonetpb.Sector(l.Sector), Trl: int32(l.TRL),
		DealType: innonetpb.DealType(l.DealType), Tags: l.Tags, Language: l.Language,
		Site: l.Site, SubmittedBy: l.SubmittedBy, Division: l.Division,
		Stage: innonetpb.Stage(l.Stage), Version: l.Version,
		CreateTime: ts(l.Created), UpdateTime: ts(l.Updated), StageTime: ts(l.StageTime),
		StageComment: l.StageComment,
	}
	for _, c := range l.Contacts {
		out.Contacts = append(out.Contacts, &innonetpb.Contact{Name: c.Name, Email: c.Email, Phone: c.Phone})
	}
	// The deal terms go out in full here; the view (views.go) withholds
	// them from callers who may not see them.
	out.Subnode, out.OrganizationId, out.Website = l.Subnode, l.OrganizationID, l.Website
	out.MergedInto, out.MergedFrom = l.MergedInto, l.MergedFrom
	out.DealTerms, out.HasDealTerms = dealToPB(l.Deal), l.Deal != nil
	out.Translations = translationsToPB(l)
	return out
}

func contactsFromPB(cs []*innonetpb.Contact) []pipeline.Contact {
	var out []pipeline.Contact
	for _, c := range cs {
		out = append(out, pipeline.Contact{Name: c.GetName(), Email: c.GetEmail(), Phone: c.GetPhone()})
	}
	return out
}

func draftFromPB(r *innonetpb.SubmitLeadRequest) *pipeline.Draft {
	return &pipeline.Draft{
		Title: r.Title, Summary: r.Summary, Organization: r.Organization, Country: r.Country,
		Sector: pipeline.Sector(r.Sector), TRL: int(r.Trl), DealType: pipeline.DealType(r.DealType),
		Tags: r.Tags, Contacts: contactsFromPB(r.Contacts), Language: r.Language,
		OrganizationID: r.OrganizationId, Website: webAddress(r.Website),
	}
}

// webAddress gives a bare domain (hydrosolid.de) the https:// a web
// address needs; anything else is left for validation to judge.
func webAddress(s string) string {
	if s == "" || strings.Contains(s, "://") || strings.ContainsAny(s, " \t/") || !strings.Contains(s, ".") {
		return s
	}
	return "https://" + s
}

func patchFromPB(r *innonetpb.UpdateLeadRequest) *pipeline.Patch {
	p := &pipeline.Patch{
		Title: r.Title, Summary: r.Summary, Organization: r.Organization, Country: r.Country,
		Language: r.Language, Tags: r.Tags, Contacts: contactsFromPB(r.Contacts),
		OrganizationID: r.OrganizationId,
	}
	if r.Website != nil {
		w := webAddress(*r.Website)
		p.Website = &w
	}
	if r.Sector != nil {
		s := pipeline.Sector(*r.Sector)
		p.Sector = &s
	}
	if r.Trl != nil {
		t := int(*r.Trl)
		p.TRL = &t
	}
	if r.DealType != nil {
		d := pipeline.DealType(*r.DealType)
		p.DealType = &d
	}
	return p
}

// eventToPB is a history event without its changes: who may read which
// of them is eventPB's to decide (api_workflow.go).
func eventToPB(e pipeline.Event) *innonetpb.HistoryEvent {
	return &innonetpb.HistoryEvent{
		LeadId: e.LeadID, Seq: e.Seq, Action: e.Action, UserId: e.UserID, UserName: e.UserName,
		Role: innonetpb.Role(e.Role), UserSite: e.UserSite, OriginSite: e.OriginSite,
		FromStage: innonetpb.Stage(e.From), ToStage: innonetpb.Stage(e.To), Comment: e.Comment,
		Time: ts(e.Time), Version: e.Version, LogIndex: e.LogIndex, RequestId: e.RequestID,
	}
}

func userToPB(u *pipeline.User) *innonetpb.User {
	if u == nil {
		return nil
	}
	out := &innonetpb.User{
		Id: u.ID, Name: u.Name, Role: innonetpb.Role(u.Role), Site: u.Site, Division: u.Division,
		CreateTime: ts(u.Created), CreatedBy: u.CreatedBy, RevokedBy: u.RevokedBy,
	}
	if u.Revoked != nil {
		out.RevokeTime = ts(*u.Revoked)
	}
	if u.PasswordSet != nil {
		out.PasswordSetTime = ts(*u.PasswordSet)
	}
	return out
}

// tokenToPB returns a token's metadata, never its hash, with its state as
// of now.
func tokenToPB(t *pipeline.Token, now time.Time) *innonetpb.Token {
	if t == nil {
		return nil
	}
	out := &innonetpb.Token{
		Id: t.ID, UserId: t.UserID, CreateTime: ts(t.Created), CreatedBy: t.CreatedBy,
		Description: t.Description, RevokedBy: t.RevokedBy, State: innonetpb.TokenState_ACTIVE,
		Kind: innonetpb.TokenKind_API,
	}
	if t.Session() {
		out.Kind = innonetpb.TokenKind_SESSION
	}
	if t.Expires != nil {
		out.ExpireTime = ts(*t.Expires)
	}
	switch {
	case t.Revoked != nil:
		out.RevokeTime = ts(*t.Revoked)
		out.State = innonetpb.TokenState_REVOKED
	case t.Expired(now):
		out.State = innonetpb.TokenState_EXPIRED
	}
	return out
}

// ttlFromPB converts a token's time to live; nil is zero (no expiry). The
// pipeline checks the range and names the field.
func ttlFromPB(field string, d *durationpb.Duration) (time.Duration, error) {
	if d == nil {
		return 0, nil
	}
	if err := d.CheckValid(); err != nil {
		return 0, status.Errorf(codes.InvalidArgument, "%s: not a valid duration (want e.g. \"720h\")", field)
	}
	return d.AsDuration(), nil
}

func clusterToPB(st cluster.Status, h cluster.Health) *innonetpb.Cluster {
	out := &innonetpb.Cluster{
		Leader: st.Leader, Site: st.ID, State: st.State, Term: st.Term,
		CommitIndex: st.CommitIndex, AppliedIndex: st.AppliedIndex, LastLogIndex: st.LastLogIndex,
		LastContact: durationpb.New(st.LastContact), Member: st.Member,
		HealthKnown: h.Known, Healthy: h.Healthy, FailureTolerance: int32(h.FailureTolerance),
		Alarms: alarmsToPB(st.Alarms), LastLeader: st.LastLeader,
	}
	if st.NoLeader != nil {
		out.NoLeader, out.CutOff = st.NoLeader.Error(), st.NoLeader.CutOff
	}
	for _, m := range st.Members {
		pm := &innonetpb.Member{
			Site: m.ID, RaftAddress: m.RaftAddr, ApiAddress: m.APIAddr, Voter: m.Voter, Leader: m.Leader,
			WantsVote: m.WantsVote,
		}
		if mh, ok := h.Members[m.ID]; ok {
			pm.Healthy, pm.Status = mh.Healthy, mh.Status
			pm.LastContact = durationpb.New(mh.Stats.LastContact)
			pm.LastTerm, pm.LastIndex = mh.Stats.LastTerm, mh.Stats.LastIndex
			if !mh.StableSince.IsZero() {
				pm.StableSince = ts(mh.StableSince)
			}
			pm.Alarms, pm.LogFormat = alarmsToPB(mh.Alarms), int32(mh.Stats.Format)
			pm.CheckpointIndex, pm.CheckpointDigest = mh.Stats.CheckpointIndex, mh.Stats.CheckpointDigest
			if !mh.Stats.Time.IsZero() {
				pm.ClockOffset = durationpb.New(mh.ClockOffset)
			}
		} else if m.ID == st.ID {
			pm.Alarms = alarmsToPB(st.Alarms)
		}
		out.Members = append(out.Members, pm)
	}
	return out
}

func alarmsToPB(as []cluster.Alarm) []*innonetpb.Alarm {
	var out []*innonetpb.Alarm
	for _, a := range as {
		out = append(out, &innonetpb.Alarm{Kind: a.Kind, Detail: a.Detail, Since: ts(a.Since)})
	}
	return out
}

func deniedToPB(d cluster.DeniedCert) *innonetpb.DeniedCertificate {
	out := &innonetpb.DeniedCertificate{Serial: d.Serial, Comment: d.Comment, AddedBy: d.By}
	if d.Time != 0 {
		out.AddTime = ts(time.Unix(0, d.Time))
	}
	return out
}
