package pipeline

import (
	"fmt"
	"sort"
	"time"
)

// Comment is one entry of a lead's thread. Comments posted with
// OpComment are kept in their own table (they do not change the lead, so
// they are not history events); [State.Thread] adds the comments of the
// lead's history events, so that a review's question and the site's
// answer, and a division's notes, read as one conversation.
type Comment struct {
	Key    string `json:"key"` // LeadID + "/" + zero-padded Seq
	LeadID string `json:"leadId"`
	// Seq numbers the posted comments of a lead: 1, 2, 3...
	Seq        int64      `json:"seq"`
	Body       string     `json:"body"`
	Visibility Visibility `json:"visibility"`
	// Division is the division of a DIVISION comment.
	Division   string    `json:"division,omitempty"`
	UserID     string    `json:"userId"`
	UserName   string    `json:"userName"`
	Role       Role      `json:"role"`
	UserSite   string    `json:"userSite"`
	OriginSite string    `json:"originSite,omitempty"`
	Time       time.Time `json:"time"`
	LogIndex   uint64    `json:"logIndex"`
	RequestID  string    `json:"requestId,omitempty"`
	// Action and EventVersion are set only in [State.Thread]'s answer,
	// for the comment of a history event: its action and the lead's
	// version after it.
	Action       string `json:"action,omitempty"`
	EventVersion int64  `json:"eventVersion,omitempty"`
}

// postComment adds a comment to a lead's thread. Whoever may see the lead
// may comment SHARED; HQ and the lead's site HQ_AND_SITE; a division and
// HQ DIVISION (HQ for the division it names, or the one holding the
// lead). Admins run the network and do not comment.
func (a *applier) postComment() (Result, *Error) {
	l, err := getLead(a.txn, a.cmd.LeadID)
	if err != nil {
		return Result{}, err
	}
	u, vis := a.actor, a.cmd.Visibility
	switch {
	case u.Role == Admin:
		return Result{}, errorf(CodePermission, "ADMIN users run the network and do not comment on leads")
	case !u.CanSee(l):
		return Result{}, errorf(CodePermission, "%s %s may not see lead %s", u.Role, u.Home(), l.ID)
	case vis == HQAndSite && u.Role == DivisionRole:
		return Result{}, errorf(CodePermission, "HQ_AND_SITE comments are between HQ and the submitting site %s; a division comments SHARED or DIVISION", l.Site)
	case vis == DivisionOnly && u.Role == NodeStaff:
		return Result{}, errorf(CodePermission, "DIVISION comments are between a division and HQ; node staff comment SHARED or HQ_AND_SITE")
	}
	div := ""
	if vis == DivisionOnly {
		switch div = a.cmd.Division; {
		case u.Role == DivisionRole && div != "" && div != u.Division:
			return Result{}, errorf(CodePermission, "a division writes DIVISION comments for itself (%s), not for %s", u.Division, div)
		case u.Role == DivisionRole:
			div = u.Division
		case div == "" && l.Division == "":
			return Result{}, errorf(CodePrecondition, "lead %s is held by no division: name the division the DIVISION comment is for", l.ID)
		case div == "":
			div = l.Division
		}
	}
	it, gerr := a.txn.Get(tableComments, "id_prefix", l.ID+"/")
	if gerr != nil {
		return Result{}, errorf(CodeInternal, "read comments of %s: %v", l.ID, gerr)
	}
	seq := int64(1)
	for raw := it.Next(); raw != nil; raw = it.Next() {
		seq++
	}
	c := &Comment{
		Key: fmt.Sprintf("%s/%010d", l.ID, seq), LeadID: l.ID, Seq: seq, Body: a.cmd.Comment,
		Visibility: vis, Division: div, UserID: u.ID, UserName: u.Name, Role: u.Role, UserSite: u.Home(),
		OriginSite: a.cmd.Origin, Time: a.now, LogIndex: a.index, RequestID: a.cmd.RequestID,
	}
	if err := a.insert(tableComments, c); err != nil {
		return Result{}, err
	}
	return Result{Comment: c}, nil
}

func (a *applier) comment(key string) (*Comment, *Error) {
	raw, err := a.txn.First(tableComments, "id", key)
	if err != nil {
		return nil, errorf(CodeInternal, "read comment: %v", err)
	}
	if raw == nil {
		return nil, errorf(CodeInternal, "a request record names comment %s, which does not exist", key)
	}
	return raw.(*Comment), nil
}

// Thread returns lead id's thread: its posted comments and the comments
// of its history events, in the order they were applied. The caller
// filters it by who may read what ([User.CanRead]).
func (s *State) Thread(id string) ([]Comment, error) {
	txn := s.read()
	if _, err := getLead(txn, id); err != nil {
		return nil, err
	}
	var out []Comment
	it, err := txn.Get(tableComments, "id_prefix", id+"/")
	if err != nil {
		return nil, fmt.Errorf("read comments of %s: %w", id, err)
	}
	for raw := it.Next(); raw != nil; raw = it.Next() {
		out = append(out, *raw.(*Comment))
	}
	events, err := rowsOf(txn, tableEvents, id+"/")
	if err != nil {
		return nil, fmt.Errorf("read history of %s: %w", id, err)
	}
	for raw := events.Next(); raw != nil; raw = events.Next() {
		e := raw.(*Event)
		if e.Comment == "" {
			continue
		}
		vis, div := e.Audience()
		out = append(out, Comment{
			LeadID: id, Body: e.Comment, Visibility: vis, Division: div, UserID: e.UserID,
			UserName: e.UserName, Role: e.Role, UserSite: e.UserSite, OriginSite: e.OriginSite,
			Time: e.Time, LogIndex: e.LogIndex, RequestID: e.RequestID, Action: e.Action, EventVersion: e.Version,
		})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].LogIndex < out[j].LogIndex })
	return out, nil
}
