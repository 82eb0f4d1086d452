package node

import (
	"context"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"innonet/node/pipeline"
	innonetpb "innonet/proto/innonet/v1"
)

// The view is the last step of every answer, on the site that produced
// it: it fills in what an answer shows beside an ID and withholds what
// the caller may not see, wherever in the answer a lead, a history event
// or a user appears, so that no RPC (of today or to come) can forget it:
//
//   - every user ID a lead, event, user, token, interest or denied
//     certificate names gets the user's display name beside it
//     (submittedByName, createdByName, userName...);
//   - a lead linked to an organisation shows the organisation's current
//     name as its organization, and its deal terms the partner's name;
//   - deal terms are shown to HQ, admins and the claiming division only
//     ([pipeline.User.CanSeeDeal]); everyone else sees hasDealTerms;
//   - the values of deal terms a history event changed are shown to HQ,
//     admins and the division that changed them
//     ([pipeline.User.CanSeeDealEvent]); everyone else sees the field
//     names and changesWithheld.
//
// A caller the view cannot authenticate sees nothing withheld.

// viewInterceptor applies the view to the answer of the handler.
func (n *Node) viewInterceptor(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	resp, err := handler(ctx, req)
	if err != nil || resp == nil {
		return resp, err
	}
	if m, ok := resp.(proto.Message); ok {
		v := &viewer{n: n, ctx: ctx}
		v.walk(m.ProtoReflect())
	}
	return resp, nil
}

// viewer applies the view for one caller, authenticated when first needed.
type viewer struct {
	n      *Node
	ctx    context.Context
	caller *pipeline.User
	authed bool
	names  map[string]string // user ID → name; nil until one is looked up
	orgs   map[string]string // org ID → name; nil until one is looked up
}

var (
	leadDesc     = (&innonetpb.Lead{}).ProtoReflect().Descriptor()
	eventDesc    = (&innonetpb.HistoryEvent{}).ProtoReflect().Descriptor()
	userDesc     = (&innonetpb.User{}).ProtoReflect().Descriptor()
	orgDesc      = (&innonetpb.Organization{}).ProtoReflect().Descriptor()
	siteDesc     = (&innonetpb.Site{}).ProtoReflect().Descriptor()
	tokenDesc    = (&innonetpb.Token{}).ProtoReflect().Descriptor()
	interestDesc = (&innonetpb.Interest{}).ProtoReflect().Descriptor()
	deniedDesc   = (&innonetpb.DeniedCertificate{}).ProtoReflect().Descriptor()
)

// walk applies the view to m and every message within it.
func (v *viewer) walk(m protoreflect.Message) {
	if !m.IsValid() {
		return // a nil message
	}
	switch m.Descriptor() {
	case leadDesc:
		v.lead(m.Interface().(*innonetpb.Lead))
	case eventDesc:
		v.event(m.Interface().(*innonetpb.HistoryEvent))
	case userDesc:
		u := m.Interface().(*innonetpb.User)
		u.CreatedByName, u.RevokedByName = v.name(u.CreatedBy), v.name(u.RevokedBy)
	case orgDesc:
		o := m.Interface().(*innonetpb.Organization)
		o.CreatedByName, o.UpdatedByName = v.name(o.CreatedBy), v.name(o.UpdatedBy)
	case siteDesc:
		s := m.Interface().(*innonetpb.Site)
		s.CreatedByName = v.name(s.CreatedBy)
	case tokenDesc:
		t := m.Interface().(*innonetpb.Token)
		t.UserName, t.CreatedByName, t.RevokedByName = v.name(t.UserId), v.name(t.CreatedBy), v.name(t.RevokedBy)
	case interestDesc:
		i := m.Interface().(*innonetpb.Interest)
		i.WithdrawnByName = v.name(i.WithdrawnBy)
	case deniedDesc:
		d := m.Interface().(*innonetpb.DeniedCertificate)
		d.AddedByName = v.name(d.AddedBy)
	}
	m.Range(func(fd protoreflect.FieldDescriptor, val protoreflect.Value) bool {
		switch {
		case fd.Message() == nil || fd.IsMap():
		case fd.IsList():
			for i, l := 0, val.List(); i < l.Len(); i++ {
				v.walk(l.Get(i).Message())
			}
		default:
			v.walk(val.Message())
		}
		return true
	})
}

func (v *viewer) user() *pipeline.User {
	if !v.authed {
		v.authed = true
		if u, err := v.n.authenticate(v.ctx); err == nil {
			v.caller = u
		}
	}
	return v.caller
}

// name returns the display name of a user ID ("" for none or unknown).
func (v *viewer) name(id string) string {
	if id == "" {
		return ""
	}
	if n, ok := v.names[id]; ok {
		return n
	}
	n := ""
	if u, err := v.n.state.User(id); err == nil {
		n = u.Name
	}
	if v.names == nil {
		v.names = map[string]string{}
	}
	v.names[id] = n
	return n
}

// orgName returns the current name of an organisation ("" if unknown).
func (v *viewer) orgName(id string) string {
	if id == "" {
		return ""
	}
	if n, ok := v.orgs[id]; ok {
		return n
	}
	n := ""
	if o, err := v.n.state.Organization(id); err == nil {
		n = o.Name
	}
	if v.orgs == nil {
		v.orgs = map[string]string{}
	}
	v.orgs[id] = n
	return n
}

func (v *viewer) lead(l *innonetpb.Lead) {
	l.SubmittedByName = v.name(l.SubmittedBy)
	if name := v.orgName(l.OrganizationId); name != "" {
		l.Organization = name
	}
	d := l.DealTerms
	if d == nil {
		return
	}
	u := v.user()
	pl := &pipeline.Lead{Division: l.Division, Deal: &pipeline.Deal{Division: d.Division}}
	if u == nil || !u.CanSeeDeal(pl) {
		l.DealTerms = nil
		return
	}
	d.PartnerName, d.UpdatedByName = v.orgName(d.PartnerId), v.name(d.UpdatedBy)
}

func (v *viewer) event(e *innonetpb.HistoryEvent) {
	withheld := false
	for _, c := range e.Changes {
		if pipeline.IsDealField(c.Field) {
			withheld = true
			break
		}
	}
	if !withheld {
		return
	}
	u := v.user()
	pe := &pipeline.Event{Role: pipeline.Role(e.Role), UserSite: e.UserSite}
	if u != nil && u.CanSeeDealEvent(pe) {
		return
	}
	for _, c := range e.Changes {
		if pipeline.IsDealField(c.Field) {
			c.Old, c.New = "", ""
		}
	}
	e.ChangesWithheld = true
}
