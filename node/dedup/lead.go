package dedup

// Lead is the part of a lead that duplicate detection reads. It mirrors
// the submitted fields; the caller converts from its own types.
type Lead struct {
	ID           string
	Title        string
	Summary      string
	Organization string
	Country      string // ISO 3166-1 alpha-2
	Sector       string
	TRL          int // 1–9; 0 when unknown
	DealType     string
	Tags         []string
	Contacts     []Contact
	Website      string
	Language     string // BCP 47: en, de, he, zh
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
