package main

import (
	"fmt"
	"strings"

	pb "innonet/proto/innonet/v1"
)

// draftFlags are a lead's own fields, as `lead submit` and `lead edit`
// take them.
type draftFlags struct {
	title, summary, organization, country, language string
	organizationID                                  string
	sector                                          pb.Sector
	trl                                             int
	dealType                                        pb.DealType
	tags                                            listValue
	contacts                                        contactList
}

func addDraftFlags(f *cmdFlags) *draftFlags {
	d := &draftFlags{}
	f.StringVar(&d.title, "title", "", "title (any language)")
	f.StringVar(&d.summary, "summary", "", "summary: the technology and what the partner seeks")
	f.StringVar(&d.organization, "organization", "", "the company, university or lab")
	f.StringVar(&d.country, "country", "", "the organization's country, ISO 3166-1 alpha-2 (US, GB, DE, IL...)")
	f.Var(enumFlag(&d.sector, pb.Sector_value), "sector", "`SECTOR`: "+enumChoices(pb.Sector_value))
	f.IntVar(&d.trl, "trl", 0, "technology readiness level, 1 to 9")
	f.Var(enumFlag(&d.dealType, pb.DealType_value), "deal-type", "`TYPE` of deal sought: "+enumChoices(pb.DealType_value))
	f.Var(&d.tags, "tag", "a `TAG`; repeat the flag or separate tags with commas (--tag mRNA,vaccine)")
	f.Var(&d.contacts, "contact", "a `CONTACT` person, written \"Name <email> phone\" (email and phone optional); repeat the flag for several")
	f.StringVar(&d.language, "language", "", "BCP 47 tag of the language the text is written in (en, de, zh, he...)")
	f.StringVar(&d.organizationID, "organization-id", "", "the organisation behind the lead, `ID` org-NNNN (innonet org list); then --organization may be left out. With lead edit, \"\" removes the link")
	return d
}

// submit sets the fields of r whose flags were given.
func (d *draftFlags) submit(f *cmdFlags, r *pb.SubmitLeadRequest) {
	set := f.isSet
	if set("title") {
		r.Title = d.title
	}
	if set("summary") {
		r.Summary = d.summary
	}
	if set("organization") {
		r.Organization = d.organization
	}
	if set("country") {
		r.Country = d.country
	}
	if set("sector") {
		r.Sector = d.sector
	}
	if set("trl") {
		r.Trl = int32(d.trl)
	}
	if set("deal-type") {
		r.DealType = d.dealType
	}
	if set("tag") {
		r.Tags = d.tags
	}
	if set("contact") {
		r.Contacts = d.contacts
	}
	if set("language") {
		r.Language = d.language
	}
	if set("organization-id") {
		r.OrganizationId = strings.ToLower(d.organizationID)
	}
}

// patch sets the fields of r whose flags were given and reports how many
// it set.
func (d *draftFlags) patch(f *cmdFlags, r *pb.UpdateLeadRequest) int {
	n := 0
	set := func(name string) bool {
		if f.isSet(name) {
			n++
			return true
		}
		return false
	}
	if set("title") {
		r.Title = &d.title
	}
	if set("summary") {
		r.Summary = &d.summary
	}
	if set("organization") {
		r.Organization = &d.organization
	}
	if set("country") {
		r.Country = &d.country
	}
	if set("sector") {
		r.Sector = &d.sector
	}
	if set("trl") {
		trl := int32(d.trl)
		r.Trl = &trl
	}
	if set("deal-type") {
		r.DealType = &d.dealType
	}
	if set("tag") {
		r.Tags = d.tags
	}
	if set("contact") {
		r.Contacts = d.contacts
	}
	if set("language") {
		r.Language = &d.language
	}
	if set("organization-id") {
		id := strings.ToLower(d.organizationID)
		r.OrganizationId = &id
	}
	return n
}

// listValue is a repeatable flag whose values may also be comma-separated.
type listValue []string

func (l *listValue) String() string {
	if l == nil {
		return ""
	}
	return strings.Join(*l, ",")
}

func (l *listValue) Set(s string) error {
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			*l = append(*l, v)
		}
	}
	return nil
}

// contactList is a repeatable flag of contacts, "Name <email> phone".
type contactList []*pb.Contact

func (c *contactList) String() string {
	if c == nil {
		return ""
	}
	parts := make([]string, len(*c))
	for i, x := range *c {
		parts[i] = contactText(x)
	}
	return strings.Join(parts, "; ")
}

func (c *contactList) Set(s string) error {
	x, err := parseContact(s)
	if err != nil {
		return err
	}
	*c = append(*c, x)
	return nil
}

// parseContact reads "Name <email> phone"; the email (in angle brackets)
// and the phone are optional: "Dr. Ana Ruiz <ana@longwood.example> +1 617 555 0100".
func parseContact(s string) (*pb.Contact, error) {
	s = strings.TrimSpace(s)
	open := strings.IndexByte(s, '<')
	if open < 0 {
		if s == "" {
			return nil, fmt.Errorf("empty contact: want \"Name <email> phone\"")
		}
		return &pb.Contact{Name: s}, nil
	}
	end := strings.IndexByte(s[open:], '>')
	if end < 0 {
		return nil, fmt.Errorf("contact %q: missing '>' after the email", s)
	}
	c := &pb.Contact{
		Name:  strings.TrimSpace(s[:open]),
		Email: strings.TrimSpace(s[open+1 : open+end]),
		Phone: strings.TrimSpace(s[open+end+1:]),
	}
	if c.Name == "" {
		return nil, fmt.Errorf("contact %q: want a name before the email", s)
	}
	return c, nil
}

// contactText prints a contact as parseContact reads it.
func contactText(c *pb.Contact) string {
	s := c.GetName()
	if c.GetEmail() != "" {
		s += " <" + c.GetEmail() + ">"
	}
	if c.GetPhone() != "" {
		s += " " + c.GetPhone()
	}
	return s
}
