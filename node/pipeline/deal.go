package pipeline

import (
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Deal terms (from log format 2): on a claimed lead (CLAIMED, NEGOTIATING
// or SIGNED) the claiming division records the partner enterprise (an
// organisation of kind LOCAL_ENTERPRISE), the investment amount and its
// currency (ISO 4217; the amount a decimal string, never a float), the
// jobs expected, the expected signing and landing dates (calendar dates)
// and the next step. An edit sets the fields it carries and leaves the
// others; an empty value clears a field. Each edit that changes something
// is a DEAL event in the lead's history, listing every changed field with
// its old and new value; an edit that changes nothing changes nothing and
// succeeds.
//
// The terms belong to the claim: releasing the lead drops them (their
// DEAL events stay in the history). They are the claiming division's and
// HQ's: readers see them only where [User.CanSeeDeal] allows, and the
// values in DEAL events only where [User.CanSeeDealEvent] does.

// Deal is the deal terms of a claimed lead.
type Deal struct {
	PartnerID string `json:"partnerId,omitempty"`
	// Amount is a non-negative decimal number in Currency, with at most as
	// many decimals as the currency has minor units.
	Amount   string `json:"amount,omitempty"`
	Currency string `json:"currency,omitempty"`
	Jobs     int    `json:"jobs,omitempty"`
	// SigningDate and LandingDate are calendar dates, YYYY-MM-DD.
	SigningDate string `json:"signingDate,omitempty"`
	LandingDate string `json:"landingDate,omitempty"`
	NextStep    string `json:"nextStep,omitempty"`
	// Division is the division that recorded the terms.
	Division  string    `json:"division"`
	Updated   time.Time `json:"updated"`
	UpdatedBy string    `json:"updatedBy"`
}

// DealPatch is an edit of the deal terms: nil fields stay; an empty value
// (zero jobs) clears a field.
type DealPatch struct {
	PartnerID   *string `json:"partnerId,omitempty"`
	Amount      *string `json:"amount,omitempty"`
	Currency    *string `json:"currency,omitempty"`
	Jobs        *int    `json:"jobs,omitempty"`
	SigningDate *string `json:"signingDate,omitempty"`
	LandingDate *string `json:"landingDate,omitempty"`
	NextStep    *string `json:"nextStep,omitempty"`
}

// Limits on deal terms.
const (
	MaxJobs     = 10_000_000
	MaxNextStep = 2000
	// MaxAmountDigits bounds the integer digits of an amount (up to a
	// trillion trillion: any investment).
	MaxAmountDigits = 18
)

// The fields of the deal terms as history events name them.
const (
	FieldDealPartner     = "dealTerms.partnerId"
	FieldDealAmount      = "dealTerms.amount"
	FieldDealCurrency    = "dealTerms.currency"
	FieldDealJobs        = "dealTerms.jobs"
	FieldDealSigningDate = "dealTerms.expectedSigningDate"
	FieldDealLandingDate = "dealTerms.expectedLandingDate"
	FieldDealNextStep    = "dealTerms.nextStep"
	// dealFieldPrefix marks the changes only those who may see the terms
	// see.
	dealFieldPrefix = "dealTerms."
)

var amountPattern = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?$`)

func (p *DealPatch) empty() bool {
	return p.PartnerID == nil && p.Amount == nil && p.Currency == nil && p.Jobs == nil &&
		p.SigningDate == nil && p.LandingDate == nil && p.NextStep == nil
}

func (p *DealPatch) validate() *Error {
	if p.empty() {
		return invalid("deal", "no field to change")
	}
	if p.PartnerID != nil && *p.PartnerID != "" {
		if err := checkOrgID("partner_id", *p.PartnerID); err != nil {
			return err
		}
	}
	if p.Amount != nil && *p.Amount != "" {
		if err := checkAmount(*p.Amount); err != nil {
			return err
		}
	}
	if p.Currency != nil && *p.Currency != "" {
		if _, ok := currencyMinorUnits[*p.Currency]; !ok {
			return invalid("currency", "%q is not an ISO 4217 currency code (e.g. CNY, USD, EUR, GBP, ILS)", truncate(*p.Currency, 10))
		}
	}
	if p.Jobs != nil && (*p.Jobs < 0 || *p.Jobs > MaxJobs) {
		return invalid("jobs", "must be from 0 to %d, got %d", MaxJobs, *p.Jobs)
	}
	if p.SigningDate != nil {
		if err := checkDate("expected_signing_date", *p.SigningDate); err != nil {
			return err
		}
	}
	if p.LandingDate != nil {
		if err := checkDate("expected_landing_date", *p.LandingDate); err != nil {
			return err
		}
	}
	if p.NextStep != nil {
		return checkText("next_step", *p.NextStep, 0, MaxNextStep)
	}
	return nil
}

func checkAmount(s string) *Error {
	intPart, _, _ := strings.Cut(s, ".")
	if len(s) > MaxAmountDigits+20 || !amountPattern.MatchString(s) || len(strings.TrimLeft(intPart, "0")) > MaxAmountDigits {
		return invalid("amount", "%q is not an amount: a decimal number such as 42000000 or 1250000.50 (no sign, separators or exponent; at most %d digits before the point)", truncate(s, 30), MaxAmountDigits)
	}
	return nil
}

// canonicalAmount drops leading zeros of the integer part: 007.50 → 7.50.
func canonicalAmount(s string) string {
	intPart, frac, hasFrac := strings.Cut(s, ".")
	intPart = strings.TrimLeft(intPart, "0")
	if intPart == "" {
		intPart = "0"
	}
	if hasFrac {
		return intPart + "." + frac
	}
	return intPart
}

func checkDate(field, s string) *Error {
	if s == "" {
		return nil
	}
	d, err := time.Parse(time.DateOnly, s)
	if err != nil || d.Format(time.DateOnly) != s {
		return invalid(field, "%q is not a date of the form YYYY-MM-DD (e.g. 2027-03-31)", truncate(s, 20))
	}
	if y := d.Year(); y < 1990 || y > 2100 {
		return invalid(field, "%s is out of range (years 1990 to 2100)", s)
	}
	return nil
}

// CanSeeDeal reports whether u may read the deal terms of l: HQ, admins,
// and the division that holds the lead.
func (u *User) CanSeeDeal(l *Lead) bool {
	switch u.Role {
	case Admin, HQReviewer:
		return true
	case DivisionRole:
		return l.Division == u.Division && (l.Deal == nil || l.Deal.Division == u.Division)
	}
	return false
}

// CanSeeDealEvent reports whether u may read the values of the deal terms
// a history event changed: HQ, admins, and the division that made the
// change.
func (u *User) CanSeeDealEvent(e *Event) bool {
	switch u.Role {
	case Admin, HQReviewer:
		return true
	case DivisionRole:
		return e.Role == DivisionRole && e.UserSite == u.Division
	}
	return false
}

// IsDealField reports whether a changed field is one of the deal terms.
func IsDealField(field string) bool { return strings.HasPrefix(field, dealFieldPrefix) }

// setDeal applies a deal edit to a claimed lead: the rules of
// transitions.go (the holder only, in CLAIMED, NEGOTIATING or SIGNED), the
// checks that need the state, and the list of what changed.
func (a *applier) setDeal() (Result, *Error) {
	cur, err := getLead(a.txn, a.cmd.LeadID)
	if err != nil {
		return Result{}, err
	}
	u := a.actor
	switch {
	case u.Role != DivisionRole:
		return Result{}, errorf(CodePermission, "only the claiming division records deal terms; caller is %s", u.Role)
	case cur.Division != u.Division:
		return Result{}, errorf(CodePermission, "lead %s is not claimed by %s; only the claiming division records its deal terms", cur.ID, u.Division)
	}
	if v := a.cmd.ExpectedVersion; v != 0 && v != cur.Version {
		return Result{}, errorf(CodeConflict, "lead %s is at version %d, not the expected %d; read it again", cur.ID, cur.Version, v)
	}
	switch cur.Stage {
	case Claimed, Negotiating, Signed:
	default:
		return Result{}, stageError(cur, "given deal terms", Claimed, Negotiating, Signed)
	}
	old := Deal{}
	if cur.Deal != nil && cur.Deal.Division == u.Division {
		old = *cur.Deal
	}
	next := old
	p := a.cmd.Deal
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = *src
		}
	}
	set(&next.PartnerID, p.PartnerID)
	set(&next.Amount, p.Amount)
	set(&next.Currency, p.Currency)
	set(&next.SigningDate, p.SigningDate)
	set(&next.LandingDate, p.LandingDate)
	set(&next.NextStep, p.NextStep)
	if p.Jobs != nil {
		next.Jobs = *p.Jobs
	}
	if next.Amount != "" {
		next.Amount = canonicalAmount(next.Amount)
	}
	if err := a.checkDeal(&next); err != nil {
		return Result{}, err
	}
	changes := dealChanges(&old, &next)
	if len(changes) == 0 {
		return Result{Lead: cur}, nil
	}
	l := cur.clone()
	next.Division, next.Updated, next.UpdatedBy = u.Division, a.now, u.ID
	if next.empty() {
		l.Deal = nil
	} else {
		l.Deal = &next
	}
	l.Version, l.Updated = cur.Version+1, a.now
	a.changes = changes
	if err := a.save(l, "DEAL", cur.Stage); err != nil {
		return Result{}, err
	}
	return Result{Lead: l}, nil
}

// checkDeal checks the terms as a whole, against the state.
func (a *applier) checkDeal(d *Deal) *Error {
	if d.Amount != "" && d.Currency == "" {
		return invalid("currency", "is required with an amount (ISO 4217, e.g. CNY, USD, EUR)")
	}
	if d.Amount != "" {
		_, frac, _ := strings.Cut(d.Amount, ".")
		if units := currencyMinorUnits[d.Currency]; len(frac) > units {
			return invalid("amount", "%s has %d decimals; %s has %d", d.Amount, len(frac), d.Currency, units)
		}
	}
	if d.PartnerID != "" {
		o, err := getOrg(a.txn, d.PartnerID)
		if err != nil {
			if err.Code == CodeNotFound {
				return invalid("partner_id", "%s is not a known organization (POST /v1/organizations adds the enterprise)", d.PartnerID)
			}
			return err
		}
		if o.Kind != LocalEnterprise {
			return invalid("partner_id", "%s (%s) is a %s; the partner enterprise must be a LOCAL_ENTERPRISE", o.ID, o.Name, o.Kind)
		}
	}
	return nil
}

func (d *Deal) empty() bool {
	return d.PartnerID == "" && d.Amount == "" && d.Currency == "" && d.Jobs == 0 &&
		d.SigningDate == "" && d.LandingDate == "" && d.NextStep == ""
}

// dealChanges lists the fields that differ between old and next.
func dealChanges(old, next *Deal) []Change {
	var out []Change
	add := func(field, o, n string) {
		if o != n {
			out = append(out, Change{Field: field, Old: o, New: n})
		}
	}
	jobs := func(n int) string {
		if n == 0 {
			return ""
		}
		return strconv.Itoa(n)
	}
	add(FieldDealPartner, old.PartnerID, next.PartnerID)
	add(FieldDealAmount, old.Amount, next.Amount)
	add(FieldDealCurrency, old.Currency, next.Currency)
	add(FieldDealJobs, jobs(old.Jobs), jobs(next.Jobs))
	add(FieldDealSigningDate, old.SigningDate, next.SigningDate)
	add(FieldDealLandingDate, old.LandingDate, next.LandingDate)
	add(FieldDealNextStep, old.NextStep, next.NextStep)
	return out
}

// currencyMinorUnits are the active ISO 4217 currencies and their minor
// units (decimals).
var currencyMinorUnits = func() map[string]int {
	m := map[string]int{}
	for units, list := range []string{
		0: `BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF`,
		2: `AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN BWP BYN BZD
CAD CDF CHE CHF CHW CNY COP COU CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD
GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD LSL MAD MDL MGA MKD
MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD
RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD
USN UYU UZS VED VES WST XCD XCG YER ZAR ZMW ZWG`,
		3: `BHD IQD JOD KWD LYD OMR TND`,
		4: `CLF UYW`,
	} {
		for _, c := range strings.Fields(list) {
			m[c] = units
		}
	}
	return m
}()

// ValidCurrency reports whether c is an active ISO 4217 currency code.
func ValidCurrency(c string) bool {
	_, ok := currencyMinorUnits[c]
	return ok
}
