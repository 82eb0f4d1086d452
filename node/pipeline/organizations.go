package pipeline

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Organisations are entities, not strings (from log format 2): the
// foreign organisation behind a lead (a startup, a university, an
// institute, a company, an investor) and the local Chinese enterprise a
// division brings into a deal. Each has an ID (org-0001, from one
// counter), its names in every script it goes by, and is found again by
// any of them: two organisations of one country may not share a name
// (compared without case, punctuation or extra spaces), so the same
// startup is not entered three times under three spellings.
//
// Who writes them: node staff add and edit foreign organisations; a
// division adds and edits its own local enterprises; HQ reviewers and
// admins add and edit every kind. Everyone signed in may read them.

// OrgKind is what kind of organisation it is. The numbers match the wire
// enum.
type OrgKind int

const (
	OrgKindUnspecified OrgKind = iota
	Startup
	University
	Institute
	Company
	Investor
	// LocalEnterprise is a Chinese enterprise a division works with.
	LocalEnterprise
)

var orgKindNames = [...]string{"KIND_UNSPECIFIED", "STARTUP", "UNIVERSITY", "INSTITUTE", "COMPANY", "INVESTOR", "LOCAL_ENTERPRISE"}

func (k OrgKind) String() string { return enumName(orgKindNames[:], int(k)) }

// Foreign reports whether k is a kind of foreign organisation.
func (k OrgKind) Foreign() bool { return k >= Startup && k <= Investor }

// Organization is a foreign organisation or a local enterprise.
type Organization struct {
	ID string `json:"id"`
	// Seq is the number in the ID; it orders the organisations.
	Seq  int64   `json:"seq"`
	Kind OrgKind `json:"kind"`
	// Name is the name in the organisation's own script (for a local
	// enterprise, the Chinese name).
	Name string `json:"name"`
	// NameEN is the English name, where the name is in another script.
	NameEN string `json:"nameEn,omitempty"`
	// OtherNames are other names and spellings, in any script.
	OtherNames []string `json:"otherNames,omitempty"`
	Country    string   `json:"country"`
	Website    string   `json:"website,omitempty"`
	City       string   `json:"city,omitempty"`
	// Division and LookingFor are set for local enterprises only: the
	// division that works with the enterprise, and what it looks for.
	Division   string    `json:"division,omitempty"`
	LookingFor string    `json:"lookingFor,omitempty"`
	Version    int64     `json:"version"`
	Created    time.Time `json:"created"`
	CreatedBy  string    `json:"createdBy"`
	Updated    time.Time `json:"updated"`
	UpdatedBy  string    `json:"updatedBy"`
}

func (o *Organization) clone() *Organization {
	c := *o
	c.OtherNames = append([]string(nil), o.OtherNames...)
	return &c
}

// OrgSpec is a new organisation, as a command carries it.
type OrgSpec struct {
	Kind       OrgKind  `json:"kind"`
	Name       string   `json:"name"`
	NameEN     string   `json:"nameEn,omitempty"`
	OtherNames []string `json:"otherNames,omitempty"`
	Country    string   `json:"country,omitempty"`
	Website    string   `json:"website,omitempty"`
	City       string   `json:"city,omitempty"`
	Division   string   `json:"division,omitempty"`
	LookingFor string   `json:"lookingFor,omitempty"`
}

// OrgPatch is an edit of an organisation: nil fields and an empty list
// stay as they are; an empty string clears an optional field.
type OrgPatch struct {
	Kind       *OrgKind `json:"kind,omitempty"`
	Name       *string  `json:"name,omitempty"`
	NameEN     *string  `json:"nameEn,omitempty"`
	OtherNames []string `json:"otherNames,omitempty"`
	Country    *string  `json:"country,omitempty"`
	Website    *string  `json:"website,omitempty"`
	City       *string  `json:"city,omitempty"`
	Division   *string  `json:"division,omitempty"`
	LookingFor *string  `json:"lookingFor,omitempty"`
}

// Limits on organisations.
const (
	MaxOrgName    = 200
	MaxOtherNames = 20
	MaxWebsite    = 300
	MaxCity       = 100
	MaxLookingFor = 2000
	localCountry  = "CN"
	orgIDSequence = "org"
)

var orgIDPattern = regexp.MustCompile(`^org-[0-9]{4,9}$`)

// ValidOrgID reports whether id has the form org-NNNN.
func ValidOrgID(id string) bool { return orgIDPattern.MatchString(id) }

func checkOrgID(field, id string) *Error {
	if !ValidOrgID(id) {
		return invalid(field, "%q is not an organization ID of the form org-NNNN", truncate(id, 40))
	}
	return nil
}

func checkOrgKind(k OrgKind) *Error {
	if k <= OrgKindUnspecified || k > LocalEnterprise {
		return invalid("kind", "must be one of STARTUP, UNIVERSITY, INSTITUTE, COMPANY, INVESTOR, LOCAL_ENTERPRISE")
	}
	return nil
}

func checkWebsite(w string) *Error {
	if w == "" {
		return nil
	}
	if err := checkLine("website", w, 0, MaxWebsite); err != nil {
		return err
	}
	rest, ok := strings.CutPrefix(w, "https://")
	if !ok {
		rest, ok = strings.CutPrefix(w, "http://")
	}
	if !ok || rest == "" || strings.ContainsAny(w, " \t") || strings.HasPrefix(rest, "/") {
		return invalid("website", "%q is not a web address starting with https:// or http://", truncate(w, 60))
	}
	return nil
}

func checkOtherNames(names []string) *Error {
	if len(names) > MaxOtherNames {
		return invalid("other_names", "at most %d names, got %d", MaxOtherNames, len(names))
	}
	for _, n := range names {
		if err := checkLine("other_names", n, 1, MaxOrgName); err != nil {
			return err
		}
	}
	return nil
}

// validateFields checks each field of a spec on its own.
func (s *OrgSpec) validateFields() *Error {
	if err := checkOrgKind(s.Kind); err != nil {
		return err
	}
	if err := checkLine("name", s.Name, 1, MaxOrgName); err != nil {
		return err
	}
	if err := checkLine("name_en", s.NameEN, 0, MaxOrgName); err != nil {
		return err
	}
	if err := checkOtherNames(s.OtherNames); err != nil {
		return err
	}
	if s.Country != "" {
		if err := checkCountry(s.Country); err != nil {
			return err
		}
	}
	if err := checkWebsite(s.Website); err != nil {
		return err
	}
	if err := checkLine("city", s.City, 0, MaxCity); err != nil {
		return err
	}
	if s.Division != "" && !ValidDivision(s.Division) {
		return invalid("division", "must be BOHAI, YRD or PRD, got %q", truncate(s.Division, 20))
	}
	return checkText("looking_for", s.LookingFor, 0, MaxLookingFor)
}

// validateWhole checks what the fields must be together: a foreign
// organisation names its country and no division; a local enterprise is
// in China and names the division that works with it.
func (s *OrgSpec) validateWhole() *Error {
	if s.Kind == LocalEnterprise {
		switch {
		case s.Division == "":
			return invalid("division", "a LOCAL_ENTERPRISE names the division that works with it: BOHAI, YRD or PRD")
		case s.Country != "" && s.Country != localCountry:
			return invalid("country", "a LOCAL_ENTERPRISE is in China (CN), got %s", s.Country)
		}
		return nil
	}
	switch {
	case s.Country == "":
		return invalid("country", "is required for a foreign organization (ISO 3166-1 alpha-2, e.g. US, DE)")
	case s.Division != "":
		return invalid("division", "only a LOCAL_ENTERPRISE names a division; this is a %s", s.Kind)
	case s.LookingFor != "":
		return invalid("looking_for", "only a LOCAL_ENTERPRISE says what it looks for; this is a %s", s.Kind)
	}
	return nil
}

func (s *OrgSpec) validate() *Error {
	if err := s.validateFields(); err != nil {
		return err
	}
	return s.validateWhole()
}

func (p *OrgPatch) empty() bool {
	return p.Kind == nil && p.Name == nil && p.NameEN == nil && len(p.OtherNames) == 0 && p.Country == nil &&
		p.Website == nil && p.City == nil && p.Division == nil && p.LookingFor == nil
}

func (p *OrgPatch) validate() *Error {
	if p.empty() {
		return invalid("organization", "no field to change")
	}
	// Check the fields present as a spec would be checked, with a valid
	// stand-in for those left out.
	s := OrgSpec{Kind: Startup, Name: "-"}
	if p.Kind != nil {
		s.Kind = *p.Kind
	}
	if p.Name != nil {
		s.Name = *p.Name
	}
	s.OtherNames = p.OtherNames
	for _, f := range []struct {
		dst *string
		src *string
	}{{&s.NameEN, p.NameEN}, {&s.Country, p.Country}, {&s.Website, p.Website}, {&s.City, p.City},
		{&s.Division, p.Division}, {&s.LookingFor, p.LookingFor}} {
		if f.src != nil {
			*f.dst = *f.src
		}
	}
	return s.validateFields()
}

// spec is the organisation's content as a spec, for checking an edit.
func (o *Organization) spec() OrgSpec {
	return OrgSpec{Kind: o.Kind, Name: o.Name, NameEN: o.NameEN, OtherNames: o.OtherNames, Country: o.Country,
		Website: o.Website, City: o.City, Division: o.Division, LookingFor: o.LookingFor}
}

// apply returns s with the patch's fields changed.
func (p *OrgPatch) apply(s OrgSpec) OrgSpec {
	if p.Kind != nil {
		s.Kind = *p.Kind
	}
	if p.Name != nil {
		s.Name = *p.Name
	}
	if len(p.OtherNames) > 0 {
		s.OtherNames = append([]string(nil), p.OtherNames...)
	}
	for _, f := range []struct {
		dst *string
		src *string
	}{{&s.NameEN, p.NameEN}, {&s.Country, p.Country}, {&s.Website, p.Website}, {&s.City, p.City},
		{&s.Division, p.Division}, {&s.LookingFor, p.LookingFor}} {
		if f.src != nil {
			*f.dst = *f.src
		}
	}
	return s
}

// mayWriteOrg says whether u may create or edit an organisation of kind k
// (and division d): node staff foreign organisations, a division its own
// local enterprises, HQ and admins every kind.
func mayWriteOrg(u *User, k OrgKind, d string) *Error {
	switch u.Role {
	case Admin, HQReviewer:
		return nil
	case NodeStaff:
		if k.Foreign() {
			return nil
		}
		return errorf(CodePermission, "node staff add and edit foreign organizations; a LOCAL_ENTERPRISE is added by its division or HQ")
	case DivisionRole:
		if k == LocalEnterprise && d == u.Division {
			return nil
		}
		if k == LocalEnterprise {
			return errorf(CodePermission, "division %s adds and edits its own local enterprises, not those of %s", u.Division, d)
		}
		return errorf(CodePermission, "a division adds and edits its local enterprises; a %s is added by node staff or HQ", k)
	}
	return errorf(CodePermission, "%s may not add or edit organizations", u.Role)
}

// normalizedName is how names are compared for duplicates: lower case,
// letters and digits of any script, single spaces.
func normalizedName(s string) string {
	var b strings.Builder
	space := false
	for _, r := range strings.ToLower(s) {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r):
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(r)
		default:
			space = true
		}
	}
	return b.String()
}

// nameKeys are the keys an organisation is found by: its country and each
// of its names, normalized.
func nameKeys(country string, names ...string) []string {
	seen := map[string]bool{}
	var out []string
	for _, n := range names {
		if k := normalizedName(n); k != "" {
			key := country + "|" + k
			if !seen[key] {
				seen[key] = true
				out = append(out, key)
			}
		}
	}
	return out
}

func (o *Organization) names() []string {
	return append([]string{o.Name, o.NameEN}, o.OtherNames...)
}

// orgNameIndex indexes organisations by nameKeys.
type orgNameIndex struct{}

func (orgNameIndex) FromObject(obj any) (bool, [][]byte, error) {
	o, ok := obj.(*Organization)
	if !ok {
		return false, nil, fmt.Errorf("not an organization: %T", obj)
	}
	keys := nameKeys(o.Country, o.names()...)
	out := make([][]byte, len(keys))
	for i, k := range keys {
		out[i] = []byte(k + "\x00")
	}
	return len(out) > 0, out, nil
}

func (orgNameIndex) FromArgs(args ...any) ([]byte, error) {
	if len(args) != 1 {
		return nil, fmt.Errorf("want one name key")
	}
	k, ok := args[0].(string)
	if !ok {
		return nil, fmt.Errorf("name key: want a string, got %T", args[0])
	}
	return []byte(k + "\x00"), nil
}

func getOrg(txn *tx, id string) (*Organization, *Error) {
	raw, err := txn.First(tableOrgs, "id", id)
	if err != nil {
		return nil, errorf(CodeInternal, "read organization %s: %v", id, err)
	}
	if raw == nil {
		return nil, errorf(CodeNotFound, "organization %s not found", truncate(id, 40))
	}
	return raw.(*Organization), nil
}

// checkNamesFree refuses names another organisation of the country holds.
func (a *applier) checkNamesFree(s OrgSpec, self string) *Error {
	country := s.Country
	for _, n := range append([]string{s.Name, s.NameEN}, s.OtherNames...) {
		for _, key := range nameKeys(country, n) {
			raw, err := a.txn.First(tableOrgs, "name", key)
			if err != nil {
				return errorf(CodeInternal, "read organizations by name: %v", err)
			}
			if raw == nil {
				continue
			}
			if o := raw.(*Organization); o.ID != self {
				return errorf(CodeConflict, "%q is already a name of %s (%s, %s, %s): link to it instead of adding it again",
					truncate(n, 60), o.ID, o.Name, o.Kind, o.Country)
			}
		}
	}
	return nil
}

func (s OrgSpec) normalized() OrgSpec {
	if s.Kind == LocalEnterprise {
		s.Country = localCountry
	}
	s.OtherNames = append([]string(nil), s.OtherNames...)
	return s
}

func (a *applier) createOrg() (Result, *Error) {
	s := a.cmd.Org.normalized()
	if err := mayWriteOrg(a.actor, s.Kind, s.Division); err != nil {
		return Result{}, err
	}
	if err := a.checkNamesFree(s, ""); err != nil {
		return Result{}, err
	}
	n, err := a.next(orgIDSequence)
	if err != nil {
		return Result{}, err
	}
	o := &Organization{ID: fmt.Sprintf("org-%04d", n), Seq: n, Version: 1,
		Created: a.now, CreatedBy: a.actor.ID, Updated: a.now, UpdatedBy: a.actor.ID}
	o.setSpec(s)
	if err := a.insert(tableOrgs, o); err != nil {
		return Result{}, err
	}
	return Result{Org: o}, nil
}

func (o *Organization) setSpec(s OrgSpec) {
	o.Kind, o.Name, o.NameEN, o.OtherNames, o.Country = s.Kind, s.Name, s.NameEN, s.OtherNames, s.Country
	o.Website, o.City, o.Division, o.LookingFor = s.Website, s.City, s.Division, s.LookingFor
}

func (a *applier) updateOrg() (Result, *Error) {
	cur, err := getOrg(a.txn, a.cmd.OrgID)
	if err != nil {
		return Result{}, err
	}
	if err := mayWriteOrg(a.actor, cur.Kind, cur.Division); err != nil {
		return Result{}, err
	}
	if v := a.cmd.ExpectedVersion; v != 0 && v != cur.Version {
		return Result{}, errorf(CodeConflict, "organization %s is at version %d, not the expected %d; read it again", cur.ID, cur.Version, v)
	}
	s := a.cmd.OrgPatch.apply(cur.spec())
	if (cur.Kind == LocalEnterprise) != (s.Kind == LocalEnterprise) && a.cmd.OrgPatch.Country == nil {
		// The country a local enterprise implies goes with its kind.
		s.Country = map[bool]string{true: localCountry}[s.Kind == LocalEnterprise]
	}
	if err := mayWriteOrg(a.actor, s.Kind, s.Division); err != nil {
		return Result{}, err
	}
	if err := s.validateWhole(); err != nil {
		return Result{}, err
	}
	s = s.normalized()
	if err := a.checkNamesFree(s, cur.ID); err != nil {
		return Result{}, err
	}
	next := cur.clone()
	next.setSpec(s)
	next.Version, next.Updated, next.UpdatedBy = cur.Version+1, a.now, a.actor.ID
	if err := a.insert(tableOrgs, next); err != nil {
		return Result{}, err
	}
	return Result{Org: next}, nil
}

// linkedOrg checks the organisation a lead links to: it must exist and be
// a foreign organisation.
func (a *applier) linkedOrg(id string) *Error {
	o, err := getOrg(a.txn, id)
	if err != nil {
		if err.Code == CodeNotFound {
			return invalid("organization_id", "%s is not a known organization (POST /v1/organizations adds it)", truncate(id, 40))
		}
		return err
	}
	if !o.Kind.Foreign() {
		return invalid("organization_id", "%s (%s) is a %s; a lead links to the foreign organization behind it", o.ID, o.Name, o.Kind)
	}
	return nil
}

// Organization returns one organisation.
func (s *State) Organization(id string) (*Organization, error) {
	o, err := getOrg(s.read(), id)
	if err != nil {
		return nil, err
	}
	return o.clone(), nil
}

// OrgFilter selects organisations in [State.Organizations]. Zero fields
// match everything.
type OrgFilter struct {
	Kind    OrgKind
	Country string
	// Query keeps the organisations one of whose names contains every
	// word of it, compared as normalizedName compares.
	Query string
	// After is the ID of the last organisation of the previous page.
	After string
	// Limit caps the page; zero means no cap.
	Limit int
}

// Organizations returns the organisations matching f in ID order, and
// whether more follow. It reads the organisations in order and stops at
// the end of the page.
func (s *State) Organizations(f OrgFilter) ([]*Organization, bool, error) {
	var after int64
	if f.After != "" {
		n, err := strconv.ParseInt(strings.TrimPrefix(f.After, "org-"), 10, 64)
		if !ValidOrgID(f.After) || err != nil {
			return nil, false, errorf(CodeInvalid, "page_token: not a token from a previous page")
		}
		after = n
	}
	it, err := s.read().LowerBound(tableOrgs, "seq", after+1)
	if err != nil {
		return nil, false, fmt.Errorf("list organizations: %w", err)
	}
	words := strings.Fields(normalizedName(f.Query))
	var out []*Organization
	for raw := it.Next(); raw != nil; raw = it.Next() {
		o := raw.(*Organization)
		if f.Kind != OrgKindUnspecified && o.Kind != f.Kind || f.Country != "" && o.Country != f.Country ||
			len(words) > 0 && !o.matches(words) {
			continue
		}
		if f.Limit > 0 && len(out) == f.Limit {
			return out, true, nil
		}
		out = append(out, o.clone())
	}
	return out, false, nil
}

// matches reports whether one of o's names holds every word.
func (o *Organization) matches(words []string) bool {
	for _, n := range o.names() {
		nn := normalizedName(n)
		all := nn != ""
		for _, w := range words {
			if !strings.Contains(nn, w) {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return false
}

// checkPatchOrg checks the organisation link an edit of l makes or
// removes: a new link must name a foreign organisation, and a lead
// without one keeps a free-text organization.
func (a *applier) checkPatchOrg(l *Lead) *Error {
	p := a.cmd.Patch
	if p.OrganizationID == nil {
		return nil
	}
	if id := *p.OrganizationID; id != "" {
		return a.linkedOrg(id)
	}
	org := l.Organization
	if p.Organization != nil {
		org = *p.Organization
	}
	if strings.TrimSpace(org) == "" {
		return invalid("organization", "is required when the lead links no organization (organization_id)")
	}
	return nil
}
