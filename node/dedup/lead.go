package dedup

// Lead is the part of a lead that duplicate detection reads. It mirrors
// the submitted fields; the caller converts from its own types.
type Lead struct {
	ID string
	// The fields a check compares of every candidate come first (with
	// ID), to be read from one place in memory (bound.go).
	Language     string // BCP 47: en, de, he, zh
	Sector       string
	DealType     string
	TRL          int // 1–9; 0 when unknown
	Title        string
	Summary      string
	Organization string
	Country      string // ISO 3166-1 alpha-2
	Tags         []string
	Contacts     []Contact
	Website      string
}

// Contact is a person at the lead's organisation.
type Contact struct {
	Name  string
	Email string
}

// Candidate is an existing lead that may duplicate the lead checked.
type Candidate struct {
	ID string
	// Confidence that the two leads are one deal-flow item, in [0,1].
	Confidence float64
	// Duplicate reports Confidence >= Config.Threshold.
	Duplicate bool
	// Reasons are short statements a person can check against the two
	// leads, strongest first.
	Reasons []string
}
