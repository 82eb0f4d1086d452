package node

import (
	"path/filepath"

	"innonet/node/pipeline"
	"innonet/node/search"
)

// This file wires a site's search index (package node/search) to its
// state: the index lives in <data-dir>/search, follows the entries the
// state machine applies, and is compared with the whole state after a
// restore. The API is in api_search.go.

// openSearch opens the site's search index. It runs before the state
// machine starts, which tells the index what it applies.
func (n *Node) openSearch() error {
	dir := filepath.Join(n.cfg.DataDir, "search")
	if n.cfg.SearchInMemory {
		dir = ""
	}
	x, err := search.Open(search.Config{Dir: dir, Logger: n.log.With("component", "search")}, n.state)
	if err != nil {
		return err
	}
	n.search = x
	return nil
}

// searchApplied tells the index what the entry at index changed: a lead,
// or (an organisation renamed or given other names) possibly every lead
// linked to it. It only notes the change: Apply is not slowed by the
// index.
func (n *Node) searchApplied(index uint64, r pipeline.Result, ok bool) {
	switch {
	case !ok || r.Replayed:
		n.search.Applied(index)
	case r.Org != nil && r.Org.Version > 1:
		n.search.Reread(index) // a new organisation has no leads yet
	case r.Lead != nil:
		n.search.Applied(index, r.Lead.ID)
	default:
		n.search.Applied(index)
	}
}

// Search is the site's search index.
func (n *Node) Search() *search.Index { return n.search }
