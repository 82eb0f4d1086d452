package node

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"innonet/node/matching"
	"innonet/node/pipeline"
)

// This file scores leads against the divisions' focus profiles (package
// node/matching), outside Apply: a site builds its matcher from the
// profiles its state holds, again whenever one changes, and caches each
// lead's scores by the lead's version and the profiles'. The API is in
// api_divisions.go and api_duplicates.go.

type matches struct {
	profiles func() ([]*pipeline.DivisionProfile, error)

	kick chan struct{} // profiles changed: warm the cache

	mu       sync.Mutex
	versions string // the profiles' versions the matcher was built from
	m        *matching.Matcher
	cache    map[string]cachedScores
}

type cachedScores struct {
	version  int64
	profiles string
	scores   []matching.Score
}

// maxMatchCache bounds the scores kept; beyond it the cache starts over.
const maxMatchCache = 200_000

func newMatches(profiles func() ([]*pipeline.DivisionProfile, error)) *matches {
	return &matches{profiles: profiles, cache: map[string]cachedScores{}, kick: make(chan struct{}, 1)}
}

// changed notes that the profiles may have changed (an entry stored one,
// or the state was restored).
func (m *matches) changed() {
	select {
	case m.kick <- struct{}{}:
	default:
	}
}

// warm scores the APPROVED leads whenever the profiles change, until ctx
// ends, so that a division's list does not wait for them: after a change
// every score is stale, and scoring 20,000 leads takes a second or two.
func (m *matches) warm(ctx context.Context, state *pipeline.State) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-m.kick:
		}
		leads, _, err := state.Leads(pipeline.Filter{Stage: pipeline.Approved})
		if err == nil {
			_, _ = m.forDivision(ctx, leads, "")
		}
	}
}

// matcher returns the matcher of the profiles as the state holds them
// now, and their versions.
func (m *matches) matcher() (*matching.Matcher, string, error) {
	// Under the lock: a caller with an older read of the profiles must
	// not rebuild the matcher back to them.
	m.mu.Lock()
	defer m.mu.Unlock()
	ps, err := m.profiles()
	if err != nil {
		return nil, "", err
	}
	var key strings.Builder
	for _, p := range ps {
		fmt.Fprintf(&key, "%s:%d;", p.Division, p.Version)
	}
	if m.m == nil || m.versions != key.String() {
		profiles := make([]matching.Profile, 0, len(ps))
		for _, p := range ps {
			profiles = append(profiles, matchingProfile(p))
		}
		m.m, m.versions = matching.New(profiles), key.String()
		clear(m.cache)
	}
	return m.m, m.versions, nil
}

// leadMatch is a lead's score for one division, and the division's rank
// among all for the lead (1: it fits this division best).
type leadMatch struct {
	lead  *pipeline.Lead
	score matching.Score
	rank  int
}

// forDivision scores leads for div, best first (ties: the most recently
// moved first, then by ID). Cached scores are read under one lock; the
// others are computed and cached.
func (m *matches) forDivision(ctx context.Context, leads []*pipeline.Lead, div string) ([]leadMatch, error) {
	mt, versions, err := m.matcher()
	if err != nil {
		return nil, err
	}
	out := make([]leadMatch, 0, len(leads))
	var missing []*pipeline.Lead
	pick := func(l *pipeline.Lead, scores []matching.Score) {
		for r, sc := range scores {
			if sc.Division == div {
				out = append(out, leadMatch{lead: l, score: sc, rank: r + 1})
				return
			}
		}
	}
	m.mu.Lock()
	for _, l := range leads {
		if c, ok := m.cache[l.ID]; ok && c.version == l.Version && c.profiles == versions {
			pick(l, c.scores)
		} else {
			missing = append(missing, l)
		}
	}
	m.mu.Unlock()
	for i, l := range missing {
		if i%256 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		s := mt.Rank(matchingLead(l))
		m.store(l, versions, s)
		pick(l, s)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := &out[i], &out[j]
		if a.score.Score != b.score.Score {
			return a.score.Score > b.score.Score
		}
		if !a.lead.StageTime.Equal(b.lead.StageTime) {
			return a.lead.StageTime.After(b.lead.StageTime)
		}
		return a.lead.ID < b.lead.ID
	})
	return out, nil
}

// scores ranks every division with a profile for l, best first.
func (m *matches) scores(l *pipeline.Lead) ([]matching.Score, error) {
	mt, versions, err := m.matcher()
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	c, ok := m.cache[l.ID]
	m.mu.Unlock()
	if ok && c.version == l.Version && c.profiles == versions {
		return c.scores, nil
	}
	s := mt.Rank(matchingLead(l))
	m.store(l, versions, s)
	return s, nil
}

// store caches l's scores, unless the profiles changed meanwhile.
func (m *matches) store(l *pipeline.Lead, versions string, s []matching.Score) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.cache) >= maxMatchCache {
		clear(m.cache)
	}
	if m.versions == versions {
		m.cache[l.ID] = cachedScores{version: l.Version, profiles: versions, scores: s}
	}
}

func matchingLead(l *pipeline.Lead) matching.Lead {
	out := matching.Lead{Title: l.Title, Summary: l.Summary, Tags: l.Tags, Sector: l.Sector.String(),
		TRL: l.TRL, DealType: l.DealType.String()}
	// Translations carry the same content in other words: the profile's
	// keywords may be in any of the languages.
	for _, lang := range slices.Sorted(func(yield func(string) bool) {
		for k := range l.Translations {
			if !yield(k) {
				return
			}
		}
	}) {
		t := l.Translations[lang]
		out.Summary += "\n" + t.Title + "\n" + t.Summary
	}
	return out
}

func matchingProfile(p *pipeline.DivisionProfile) matching.Profile {
	out := matching.Profile{Code: p.Division, Keywords: matching.Keywords{EN: p.Keywords},
		TRL: matching.TRLRange{Min: p.TRLMin, Max: p.TRLMax, PreferredMin: p.TRLPreferred}}
	for _, s := range p.Sectors {
		out.Sectors = append(out.Sectors, s.String())
	}
	for _, d := range p.DealTypes {
		out.PreferredDealTypes = append(out.PreferredDealTypes, d.String())
	}
	for _, e := range p.Enterprises {
		out.Enterprises = append(out.Enterprises, matching.Enterprise{NameZH: e.Name, NameEN: e.NameEn,
			City: e.City, NeedsZH: e.Needs, NeedsEN: e.NeedsEn})
	}
	return out
}
