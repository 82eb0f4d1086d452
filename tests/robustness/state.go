package robustness

// Event is one entry of a lead's history (the audit trail) as the
// checkers need it.
type Event struct {
	LeadID    string
	Seq       int64
	Action    string // SUBMIT, UPDATE, RESUBMIT, APPROVE, RETURN, DECLINE, CLAIM, RELEASE, ADVANCE, WITHDRAW
	UserSite  string // the site or division of the user (HQ for reviewers)
	From, To  Stage
	Version   int64
	LogIndex  uint64
	RequestID string
}

// SiteState is one site's copy of the pipeline after the run, read with
// STALE consistency once every site reported the same applied index.
type SiteState struct {
	Site         string
	AppliedIndex uint64
	// Leads in ID order.
	Leads []LeadView
	// History of every lead, by lead ID, in order.
	History map[string][]Event
	// Digest of the full listing (every field of every lead and event,
	// and the users), for the convergence check.
	Digest string
	// Err is set when the site's state could not be read.
	Err string
}

// Final is every site's state after the run.
type Final struct {
	Sites []SiteState
}

// lead returns the lead with id in s.
func (s *SiteState) lead(id string) (LeadView, bool) {
	for _, l := range s.Leads {
		if l.ID == id {
			return l, true
		}
	}
	return LeadView{}, false
}

// reference is the first site whose state could be read, used by the
// checkers that need one copy (all copies are compared by the
// convergence check).
func (f *Final) reference() *SiteState {
	for i := range f.Sites {
		if f.Sites[i].Err == "" {
			return &f.Sites[i]
		}
	}
	return nil
}
