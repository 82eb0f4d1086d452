package outbox

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
)

// Status is where a queued write stands.
type Status string

// The statuses of an entry.
const (
	// Queued: taken, not yet delivered to a leader.
	Queued Status = "queued"
	// Applied: a leader applied it (or answered a retry of it as
	// applied); Entry.Response holds the answer.
	Applied Status = "applied"
	// Refused: a leader refused it; Entry.Outcome holds why.
	Refused Status = "refused"
)

// Entry is one queued write.
type Entry struct {
	// Seq orders the entries: Add assigns it, one more than the last.
	Seq uint64 `json:"seq"`
	// Author is the user who made the write, RequestID its request ID;
	// together they name the entry.
	Author    string `json:"author"`
	RequestID string `json:"requestId"`
	// Method is the API method (a gRPC full method name), Request the
	// request's bytes.
	Method  string `json:"method"`
	Request []byte `json:"request"`
	// Token is the credential to deliver it with; cleared once resolved.
	Token string `json:"token,omitempty"`
	// LeadID names the lead the write is about, if any, for lists.
	LeadID string `json:"leadId,omitempty"`
	// QueuedAt is when the site took it (set by Add if zero).
	QueuedAt time.Time `json:"queuedAt"`
	Status   Status    `json:"status"`
	// Attempts counts deliveries tried; LastError is the last transient
	// failure, LastAttempt when it was.
	Attempts    int       `json:"attempts,omitempty"`
	LastError   string    `json:"lastError,omitempty"`
	LastAttempt time.Time `json:"lastAttempt,omitzero"`
	// Outcome is the refusal's message and Code its kind (a gRPC code
	// name) (Refused); Response the answer's bytes (Applied); ResolvedAt
	// when either came.
	Outcome    string    `json:"outcome,omitempty"`
	Code       string    `json:"code,omitempty"`
	Response   []byte    `json:"response,omitempty"`
	ResolvedAt time.Time `json:"resolvedAt,omitzero"`
}

// Errors of the outbox.
var (
	// ErrConflict: the author's request ID names another write already
	// in the outbox.
	ErrConflict = errors.New("request ID already used for a different queued write")
	// ErrFull: MaxQueued entries are waiting already.
	ErrFull = errors.New("outbox full")
	// ErrNotFound: no entry has that sequence number.
	ErrNotFound = errors.New("no such queued write")
	// ErrClosed: the outbox was closed.
	ErrClosed = errors.New("outbox closed")
)

// MaxQueued bounds the entries waiting at once, so a site cut off for
// long cannot fill its disk with queued writes.
const MaxQueued = 10000

// Retention is how long a resolved entry stays listed: it is dropped
// when the journal is rewritten after that.
const Retention = 30 * 24 * time.Hour

// Outbox is one site's queued writes, kept in a journal file.
type Outbox struct {
	mu      sync.Mutex
	j       *journal // nil once closed
	entries map[uint64]*Entry
	byKey   map[string]uint64
	last    uint64
	queued  int
}

func key(author, requestID string) string { return author + "/" + requestID }

// Open opens the journal at path, creating it if missing, and replays it.
// A damaged journal is a *CorruptError.
func Open(path string) (*Outbox, error) {
	j, recs, err := openJournal(path)
	// recs holds each entry's last record; j.records counts them all.
	if err != nil {
		return nil, err
	}
	o := &Outbox{j: j, entries: map[uint64]*Entry{}, byKey: map[string]uint64{}}
	for _, e := range recs {
		o.entries[e.Seq] = e
		o.byKey[key(e.Author, e.RequestID)] = e.Seq
		o.last = max(o.last, e.Seq)
	}
	now := time.Now()
	for seq, e := range o.entries {
		if e.Status != Queued && !e.ResolvedAt.IsZero() && now.Sub(e.ResolvedAt) > Retention {
			delete(o.entries, seq)
			delete(o.byKey, key(e.Author, e.RequestID))
		}
	}
	o.countQueued()
	if o.j.records > 64 && o.j.records > 2*len(o.entries) {
		if err := o.j.rewrite(o.sorted()); err != nil {
			_ = o.j.close()
			return nil, err
		}
	}
	return o, nil
}

func (o *Outbox) countQueued() {
	o.queued = 0
	for _, e := range o.entries {
		if e.Status == Queued {
			o.queued++
		}
	}
}

// sorted returns the entries in Seq order.
func (o *Outbox) sorted() []*Entry {
	out := make([]*Entry, 0, len(o.entries))
	for _, e := range o.entries {
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b *Entry) int { return cmpSeq(a.Seq, b.Seq) })
	return out
}

func cmpSeq(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Add queues e and returns it as stored, with its Seq, once it is on
// disk. An entry with the same author and request ID is returned as it
// is (with existing true) if it is the same write, else ErrConflict.
func (o *Outbox) Add(e Entry) (stored Entry, existing bool, err error) {
	if e.Author == "" || e.RequestID == "" || e.Method == "" {
		return Entry{}, false, errors.New("outbox: an entry needs an author, a request ID and a method")
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.j == nil {
		return Entry{}, false, ErrClosed
	}
	if seq, ok := o.byKey[key(e.Author, e.RequestID)]; ok {
		prev := o.entries[seq]
		if prev.Method != e.Method || !bytes.Equal(prev.Request, e.Request) {
			return Entry{}, false, ErrConflict
		}
		return clone(prev), true, nil
	}
	if o.queued >= MaxQueued {
		return Entry{}, false, ErrFull
	}
	e.Seq = o.last + 1
	e.Status = Queued
	if e.QueuedAt.IsZero() {
		e.QueuedAt = time.Now()
	}
	e.Attempts, e.LastError, e.Code, e.Outcome, e.Response = 0, "", "", "", nil
	if err := o.j.append(&e); err != nil {
		return Entry{}, false, err
	}
	o.last = e.Seq
	o.entries[e.Seq] = &e
	o.byKey[key(e.Author, e.RequestID)] = e.Seq
	o.queued++
	return clone(&e), false, nil
}

// Head returns the oldest entry still queued.
func (o *Outbox) Head() (Entry, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var head *Entry
	for _, e := range o.entries {
		if e.Status == Queued && (head == nil || e.Seq < head.Seq) {
			head = e
		}
	}
	if head == nil {
		return Entry{}, false
	}
	return clone(head), true
}

// Attempt records a delivery of entry seq that failed transiently (no
// leader, the leader unavailable): it stays queued, and the head.
func (o *Outbox) Attempt(seq uint64, cause string) error {
	return o.change(seq, func(e *Entry) error {
		if e.Status != Queued {
			return fmt.Errorf("queued write %d is %s already", seq, e.Status)
		}
		e.Attempts++
		e.LastError = cause
		e.LastAttempt = time.Now()
		return nil
	})
}

// Resolve records the final outcome of entry seq: Applied with the
// answer's bytes, or Refused with the refusal's kind and message. The
// entry's credential is forgotten.
func (o *Outbox) Resolve(seq uint64, s Status, code, outcome string, response []byte) error {
	if s != Applied && s != Refused {
		return fmt.Errorf("outbox: resolve to %q: want %q or %q", s, Applied, Refused)
	}
	return o.change(seq, func(e *Entry) error {
		if e.Status != Queued {
			return fmt.Errorf("queued write %d is %s already", seq, e.Status)
		}
		e.Attempts++
		e.LastAttempt = time.Now()
		e.Status, e.Code, e.Outcome, e.Response = s, code, outcome, response
		e.ResolvedAt = e.LastAttempt
		e.Token = ""
		return nil
	})
}

// change applies f to a copy of entry seq, writes the copy and then
// keeps it.
func (o *Outbox) change(seq uint64, f func(*Entry) error) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.j == nil {
		return ErrClosed
	}
	cur, ok := o.entries[seq]
	if !ok {
		return fmt.Errorf("%w: %d", ErrNotFound, seq)
	}
	next := clone(cur)
	if err := f(&next); err != nil {
		return err
	}
	if err := o.j.append(&next); err != nil {
		return err
	}
	if cur.Status == Queued && next.Status != Queued {
		o.queued--
	}
	o.entries[seq] = &next
	return nil
}

// Get returns the author's entry with that request ID.
func (o *Outbox) Get(author, requestID string) (Entry, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	seq, ok := o.byKey[key(author, requestID)]
	if !ok {
		return Entry{}, false
	}
	return clone(o.entries[seq]), true
}

// List returns the author's entries, or everyone's with author "",
// newest first.
func (o *Outbox) List(author string) []Entry {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []Entry
	for _, e := range o.entries {
		if author == "" || e.Author == author {
			out = append(out, clone(e))
		}
	}
	slices.SortFunc(out, func(a, b Entry) int { return cmpSeq(b.Seq, a.Seq) })
	return out
}

// PendingOf counts the author's entries still queued.
func (o *Outbox) PendingOf(author string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := 0
	for _, e := range o.entries {
		if e.Status == Queued && e.Author == author {
			n++
		}
	}
	return n
}

// Pending counts the entries still queued.
func (o *Outbox) Pending() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.queued
}

// Close closes the journal. Later calls fail with ErrClosed.
func (o *Outbox) Close() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.j == nil {
		return nil
	}
	err := o.j.close()
	o.j = nil
	return err
}

// clone copies an entry, its byte slices included, so callers cannot
// change what the outbox holds.
func clone(e *Entry) Entry {
	c := *e
	c.Request = bytes.Clone(e.Request)
	c.Response = bytes.Clone(e.Response)
	return c
}
