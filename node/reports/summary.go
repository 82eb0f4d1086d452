package reports

import (
	"time"

	"innonet/node/pipeline"
)

// Step is a stage of the funnel a lead can reach.
type Step int

// The funnel: the pipeline's stages in the order a lead passes them, then
// the ways out.
const (
	Pushed Step = iota // SUBMITTED: a node pushed it
	Approved
	Claimed
	Negotiating
	Signed
	Landed
	Declined
	Withdrawn
	Lost
	numSteps
)

// Steps lists every step in order.
var Steps = []Step{Pushed, Approved, Claimed, Negotiating, Signed, Landed, Declined, Withdrawn, Lost}

var stepNames = [...]string{"pushed", "approved", "claimed", "negotiating", "signed", "landed", "declined", "withdrawn", "lost"}

func (s Step) String() string { return stepNames[s] }

// chain is the main line of the funnel: reaching a step means having
// reached every step before it.
var chain = []Step{Pushed, Approved, Claimed, Negotiating, Signed, Landed}

var stepOf = map[pipeline.Stage]Step{
	pipeline.Submitted: Pushed, pipeline.Approved: Approved, pipeline.Claimed: Claimed,
	pipeline.Negotiating: Negotiating, pipeline.Signed: Signed, pipeline.Landed: Landed,
	pipeline.Declined: Declined, pipeline.Withdrawn: Withdrawn, pipeline.Lost: Lost,
}

// summary is what the reports read of one lead: when it first reached
// each step, and which division held it then.
type summary struct {
	id       string
	version  int64
	site     string
	subnode  string
	sector   string
	country  string
	dealType string
	merged   bool
	reached  [numSteps]time.Time // zero: not reached
	division [numSteps]string
	// The deal terms as they stand (signed deals count their investment
	// and jobs).
	amount, currency string
	jobs             int
}

// summarize reads a lead's history. A step counts from the first event
// that entered it (a resubmitted lead was pushed once; a reopened one
// approved once); reaching a step of the main line means having reached
// the steps before it (a lead assigned, or recorded before the workflow
// had events for every stage), at the same time at the latest.
func summarize(l *pipeline.Lead, history []*pipeline.Event) *summary {
	s := &summary{id: l.ID, version: l.Version, site: l.Site, subnode: l.Subnode, sector: l.Sector.String(),
		country: l.Country, dealType: l.DealType.String(), merged: l.Stage == pipeline.Merged}
	if l.Deal != nil {
		s.amount, s.currency, s.jobs = l.Deal.Amount, l.Deal.Currency, l.Deal.Jobs
	}
	division := ""
	for _, e := range history {
		changed := false
		for _, c := range e.Changes {
			if c.Field == "division" {
				division, changed = c.New, true
			}
		}
		if !changed {
			switch e.Action {
			case "CLAIM":
				division = e.UserSite
			case "RELEASE", "REOPEN":
				division = ""
			}
		}
		if e.From == e.To && e.Action != "SUBMIT" {
			continue
		}
		st, ok := stepOf[e.To]
		if !ok || !s.reached[st].IsZero() {
			continue
		}
		s.reached[st], s.division[st] = e.Time, division
	}
	for i := len(chain) - 2; i >= 0; i-- {
		cur, next := chain[i], chain[i+1]
		if t := s.reached[next]; !t.IsZero() && (s.reached[cur].IsZero() || t.Before(s.reached[cur])) {
			s.reached[cur] = t
			if s.division[cur] == "" {
				s.division[cur] = s.division[next]
			}
		}
	}
	return s
}
