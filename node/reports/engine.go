package reports

import (
	"sync"

	"innonet/node/pipeline"
)

// Engine answers reports from a site's state. It keeps each lead's
// summary by the lead's version, so that a report reads the history of
// the leads changed since the last one only. Safe for concurrent use.
type Engine struct {
	state *pipeline.State

	mu    sync.Mutex
	cache map[string]*summary
}

// New returns an Engine over state.
func New(state *pipeline.State) *Engine {
	return &Engine{state: state, cache: map[string]*summary{}}
}

// summaries returns the summary of every lead visible keeps (all if nil),
// as of one applied index, which it returns too.
func (e *Engine) summaries(visible func(*pipeline.Lead) bool) ([]*summary, uint64, error) {
	return e.summariesOf(e.state.View(), visible)
}

func (e *Engine) summariesOf(v *pipeline.View, visible func(*pipeline.Lead) bool) ([]*summary, uint64, error) {
	out := make([]*summary, 0, len(e.cache))
	seen := 0
	e.mu.Lock()
	defer e.mu.Unlock()
	var herr error
	var buf []*pipeline.Event
	err := v.EachLead(func(l *pipeline.Lead) bool {
		seen++
		if visible != nil && !visible(l) {
			return true
		}
		s := e.cache[l.ID]
		if s == nil || s.version != l.Version {
			var err error
			if buf, err = v.History(l.ID, buf); err != nil {
				herr = err
				return false
			}
			s = summarize(l, buf)
			e.cache[l.ID] = s
		}
		out = append(out, s)
		return true
	})
	if err == nil {
		err = herr
	}
	if err != nil {
		return nil, 0, err
	}
	if len(e.cache) > 2*seen+1000 {
		// Leads are never deleted, but a restore may bring another state.
		clear(e.cache)
	}
	return out, v.Applied(), nil
}
