package pipeline

import (
	"fmt"
	"sort"
	"sync"
	"sync/atomic"

	memdb "github.com/hashicorp/go-memdb"
)

// Table names in the memdb schema.
const (
	tableLeads    = "leads"
	tableEvents   = "events"
	tableUsers    = "users"
	tableTokens   = "tokens"
	tableRequests = "requests"
	tableCounters = "counters"
	// The workflow's tables (workflow.go), filled from log format 2.
	tableInterests = "interests"
	tableComments  = "comments"
	tableSettings  = "settings"
	// The site registry and the organisations (sites.go,
	// organizations.go), from log format 2.
	tableSites = "sites"
	tableOrgs  = "orgs"
	// tableAttachments holds what the state knows of attachments (see
	// attachments.go).
	tableAttachments = "attachments"
	// tableInvitations holds the invitation codes' hashes (accounts.go).
	tableInvitations = "invitations"
)

func schema() *memdb.DBSchema {
	id := func(field string) *memdb.IndexSchema {
		return &memdb.IndexSchema{Name: "id", Unique: true, Indexer: &memdb.StringFieldIndex{Field: field}}
	}
	return &memdb.DBSchema{Tables: map[string]*memdb.TableSchema{
		// The leads, with their order indexes, the events, the request
		// records, and the keyed tables (the counters, users, tokens,
		// sites, settings, calendars and attachments) are kept in side
		// trees (sideindex.go, keyed.go), not in memdb.
		tableGlossary: {Name: tableGlossary, Indexes: map[string]*memdb.IndexSchema{"id": id("Term")}},
		tableProfiles: {Name: tableProfiles, Indexes: map[string]*memdb.IndexSchema{"id": id("Division")}},
		tableTargets:  {Name: tableTargets, Indexes: map[string]*memdb.IndexSchema{"id": id("Key")}},
		tablePrefs:    {Name: tablePrefs, Indexes: map[string]*memdb.IndexSchema{"id": id("UserID")}},
		tableWebhooks: {Name: tableWebhooks, Indexes: map[string]*memdb.IndexSchema{"id": id("ID")}},
		tableSinks:    {Name: tableSinks, Indexes: map[string]*memdb.IndexSchema{"id": id("ID")}},

		tableInterests: {Name: tableInterests, Indexes: map[string]*memdb.IndexSchema{"id": id("Key")}},
		tableComments:  {Name: tableComments, Indexes: map[string]*memdb.IndexSchema{"id": id("Key")}},
		tableOrgs: {Name: tableOrgs, Indexes: map[string]*memdb.IndexSchema{
			"id":   id("ID"),
			"seq":  {Name: "seq", Unique: true, Indexer: &memdb.IntFieldIndex{Field: "Seq"}},
			"name": {Name: "name", AllowMissing: true, Indexer: orgNameIndex{}},
		}},
		tableInvitations: {Name: tableInvitations, Indexes: map[string]*memdb.IndexSchema{
			"id":   id("ID"),
			"hash": {Name: "hash", Unique: true, Indexer: &memdb.StringFieldIndex{Field: "Hash"}},
			"user": {Name: "user", Indexer: &memdb.StringFieldIndex{Field: "UserID"}},
		}},
	}}
}

// counter is the last number handed out in a sequence (per-site lead IDs,
// user IDs, token IDs).
type counter struct {
	Name  string `json:"name"`
	Value int64  `json:"value"`
}

// State is the pipeline. Apply, Snapshot and Restore are called from one
// goroutine (the Raft FSM contract); reads may run concurrently with them.
type State struct {
	db atomic.Pointer[memdb.MemDB]
	// reader is a read transaction of what db last committed, with the
	// side trees committed with it, shared by every read (see read).
	reader  atomic.Pointer[tx]
	applied atomic.Uint64
	// seq is odd while Apply or Restore changes the state and applied
	// index, so that a View reads both as of one entry (a seqlock).
	seq atomic.Uint64
	// search holds the folded text of each lead for free-text filters,
	// by lead ID (see search.go): derived, never snapshotted.
	search sync.Map
	// slaMemo is the SLA setting as last read (see State.SLA): derived.
	slaMemo atomic.Pointer[slaRead]
	// failAfter, set by tests only, may fail a command after it made its
	// writes, to show that a failed command leaves nothing behind.
	failAfter func(txn *tx, index uint64) *Error
}

// New returns an empty pipeline.
func New() *State {
	s := &State{}
	s.setDB(newDB(), newSideIndexes(nil))
	return s
}

func newDB() *memdb.MemDB {
	db, err := memdb.NewMemDB(schema())
	if err != nil {
		panic(fmt.Sprintf("pipeline: invalid memdb schema: %v", err)) // a programming error, caught by every test
	}
	return db
}

// AppliedIndex is the log index of the last command applied.
func (s *State) AppliedIndex() uint64 { return s.applied.Load() }

// read returns a read transaction of the committed state. It is one
// transaction, made when the state was committed, shared by every read
// until the next commit: a go-memdb read transaction changes nothing in
// itself as it is read (each lookup starts its own walk of the immutable
// trees), and making one for each read was two allocations, and a read
// of several tables several of them.
func (s *State) read() *tx { return s.reader.Load() }

// setDB makes db, with the side trees side, the state (New, Restore).
func (s *State) setDB(db *memdb.MemDB, side *sideIndexes) {
	s.db.Store(db)
	s.reader.Store(&tx{Txn: db.Txn(false), side: side})
}

// write starts a write transaction of the committed state. Only the
// goroutine that applies (Apply, ApplyBatch, Restore) writes.
func (s *State) write() *tx {
	return &tx{Txn: s.db.Load().Txn(true), side: s.read().side}
}

// committed publishes what t, just committed, wrote to the reads that
// follow.
func (s *State) committed(t *tx) {
	s.reader.Store(&tx{Txn: s.db.Load().Txn(false), side: t.side})
}

// Lead returns the lead with the given ID.
func (s *State) Lead(id string) (*Lead, error) {
	l, err := getLead(s.read(), id)
	if err != nil {
		return nil, err
	}
	return l.clone(), nil
}

func getLead(txn *tx, id string) (*Lead, *Error) {
	l, err := leadByID(txn, id)
	if err != nil {
		return nil, errorf(CodeInternal, "read lead %s: %v", id, err)
	}
	if l == nil {
		return nil, errorf(CodeNotFound, "lead %s not found", truncate(id, 40))
	}
	return l, nil
}

// History returns the lead's events in the order they were applied.
func (s *State) History(id string) ([]Event, error) {
	txn := s.read()
	if _, err := getLead(txn, id); err != nil {
		return nil, err
	}
	it, err := rowsOf(txn, tableEvents, id+"/")
	if err != nil {
		return nil, fmt.Errorf("read history of %s: %w", id, err)
	}
	var out []Event
	for raw := it.Next(); raw != nil; raw = it.Next() {
		e := *raw.(*Event)
		e.Changes = append([]Change(nil), e.Changes...)
		out = append(out, e)
	}
	return out, nil
}

// User returns the user with the given ID.
func (s *State) User(id string) (*User, error) {
	raw := userIn(s.read(), id)
	if raw == nil {
		return nil, errorf(CodeNotFound, "user %s not found", truncate(id, 40))
	}
	u := *raw
	return &u, nil
}

// Users returns every user in ID order.
func (s *State) Users() ([]User, error) {
	it, err := rowsOf(s.read(), tableUsers, "")
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	var out []User
	for raw := it.Next(); raw != nil; raw = it.Next() {
		out = append(out, *raw.(*User))
	}
	sort.Slice(out, func(i, j int) bool { return lessID(out[i].ID, out[j].ID) })
	return out, nil
}

// Counts returns the number of leads per stage.
func (s *State) Counts() map[Stage]int {
	out := map[Stage]int{}
	_ = eachLead(s.read(), func(l *Lead) bool { out[l.Stage]++; return true })
	return out
}

// StageSite is a key of CountsBySite.
type StageSite struct {
	Stage Stage
	Site  string
}

// CountsBySite returns the number of leads per stage and submitting site.
func (s *State) CountsBySite() map[StageSite]int {
	out := map[StageSite]int{}
	_ = eachLead(s.read(), func(l *Lead) bool { out[StageSite{l.Stage, l.Site}]++; return true })
	return out
}

// EachLead calls fn with every lead, in ID order, from one consistent
// read, until fn returns false. The leads are the state's own values,
// never changed in place (a new version is a new value): fn must not
// change them. For derived data that follows the state (the search
// index); not for answers, which take copies.
func (s *State) EachLead(fn func(*Lead) bool) error {
	if err := eachLead(s.read(), fn); err != nil {
		return fmt.Errorf("read leads: %w", err)
	}
	return nil
}
