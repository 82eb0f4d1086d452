package notify

import (
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"time"
)

// Recipient is a user who may be notified, with their preferences.
type Recipient struct {
	UserID   string
	Name     string
	Role     string // RoleAdmin, RoleHQReviewer, RoleDivision or RoleNodeStaff
	Site     string // node staff: the site or sub-node they work for
	Division string // division users: their division
	Prefs    Prefs
}

// Prefs is what a user chose to be told and how.
type Prefs struct {
	// Kinds turns kinds on or off. A kind it does not name, and every
	// kind when it is nil, follows the defaults for the user's role (see
	// the package doc and [DefaultKinds]).
	Kinds map[Kind]bool `json:"kinds,omitempty"`
	// Email is the address e-mail goes to.
	Email    string   `json:"email,omitempty"`
	Channels Channels `json:"channels"`
	// Digest sends one e-mail a day, at DigestHour in TimeZone, instead
	// of one per notification. The inbox is never delayed.
	Digest     bool `json:"digest,omitempty"`
	DigestHour int  `json:"digestHour,omitempty"` // 0-23, local
	// TimeZone is an IANA zone name (Europe/Berlin); "" is UTC.
	TimeZone string `json:"timeZone,omitempty"`
	// Lang is zh or en; "" is by role (see [Recipient.Lang]).
	Lang string `json:"lang,omitempty"`
}

// Channels are the ways a notification is delivered besides the inbox,
// which is always on.
type Channels struct {
	Email bool `json:"email,omitempty"`
}

// Validate reports the first thing wrong with the preferences, naming
// the field.
func (p Prefs) Validate() error {
	for _, k := range sortedKinds(p.Kinds) {
		if !k.Valid() {
			return fmt.Errorf("kinds: unknown kind %q; valid kinds: %s", k, kindList())
		}
	}
	if p.Email != "" {
		a, err := mail.ParseAddress(p.Email)
		if err != nil {
			return fmt.Errorf("email: %q is not an e-mail address: %w", p.Email, err)
		}
		if a.Name != "" || a.Address != p.Email {
			return fmt.Errorf("email: must be a bare address such as name@example.org, got %q", p.Email)
		}
	}
	if p.Channels.Email && p.Email == "" {
		return errors.New("email: is required when channels.email is on")
	}
	if p.DigestHour < 0 || p.DigestHour > 23 {
		return fmt.Errorf("digestHour: must be from 0 to 23, got %d", p.DigestHour)
	}
	if p.Digest && !p.Channels.Email {
		return errors.New("digest: needs channels.email on (the digest is an e-mail)")
	}
	if p.TimeZone != "" {
		if _, err := time.LoadLocation(p.TimeZone); err != nil || p.TimeZone == "Local" {
			return fmt.Errorf("timeZone: %q is not an IANA time zone such as Asia/Shanghai", p.TimeZone)
		}
	}
	switch p.Lang {
	case "", "zh", "en":
	default:
		return fmt.Errorf("lang: must be zh or en, got %q", p.Lang)
	}
	return nil
}

// defaults is the kinds each role is told of unless it chooses
// otherwise; the package doc shows it as a table, and a test checks the
// two agree.
var defaults = map[string][]Kind{
	RoleAdmin:      {},
	RoleHQReviewer: {Submitted, Answered, Interest, Claimed, StageChanged, Merged, Comment, SLA},
	RoleDivision:   {PublishedMatch, Assigned, Claimed, StageChanged, Merged, Comment, SLA},
	RoleNodeStaff:  {Returned, Claimed, StageChanged, Declined, Merged, Comment, SLA},
}

// DefaultKinds returns the kinds role is told of by default.
func DefaultKinds(role string) []Kind { return slices.Clone(defaults[role]) }

// Wants reports whether the recipient is told of kind k.
func (r Recipient) Wants(k Kind) bool {
	if on, ok := r.Prefs.Kinds[k]; ok {
		return on
	}
	return slices.Contains(defaults[r.Role], k)
}

// Lang is the language the recipient reads: their choice, else English
// for the overseas nodes' staff and Chinese for everyone else.
func (r Recipient) Lang() string {
	switch {
	case r.Prefs.Lang != "":
		return r.Prefs.Lang
	case r.Role == RoleNodeStaff:
		return "en"
	}
	return "zh"
}

func sortedKinds(m map[Kind]bool) []Kind {
	out := make([]Kind, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func kindList() string {
	s := make([]string, len(kinds))
	for i, k := range kinds {
		s[i] = string(k)
	}
	return strings.Join(s, ", ")
}
