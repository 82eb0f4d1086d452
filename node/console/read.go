package console

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	innonetpb "innonet/proto/innonet/v1"
)

// Reads are answered from this site's own copy (STALE), so the console
// keeps working on a site cut off from the leader, and every page says
// how current that copy is.
const stale = innonetpb.Consistency_STALE

// fallBack reports whether a read asked of the leader, right after the
// user's own write, should be asked of this site's copy instead: the
// leader cannot be reached. From then on the page reads this site's copy.
func fallBack(v *view, err error) bool {
	if err == nil || v.Read == stale || status.Code(err) != codes.Unavailable {
		return false
	}
	v.Read = stale
	return true
}

// newRID is a request ID for a form: posting the form twice (a double
// click, a retry after a timeout) does the action once.
func newRID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return "web-" + hex.EncodeToString(b)
}

// row is one lead in a list or on a board.
//
// Its words are made here rather than by the template: a board or a
// long list draws hundreds of them, and a template's calls go through
// reflection.
type row struct {
	L       *innonetpb.Lead
	Title   string // in the lead's language
	Trans   string // in the reader's, if translated
	Age     time.Duration
	Overdue bool
	// Deadline is the lead's stage limit; nil in a final stage.
	Deadline *deadline
	// In the reader's language.
	Stage, Sector, Division, AgeText, StageSince, Updated string
}

// overdue is how long a lead may wait for review before the inbox
// highlights it, where the API gives no stage limit (an older site).
const overdue = 5 * 24 * time.Hour

func (s *Server) rows(v *view, leads []*innonetpb.Lead) []row {
	t, loc := v.T, s.userLoc(v.User)
	now := s.cfg.Now()
	out := make([]row, 0, len(leads))
	for _, l := range leads {
		r := row{L: l, Title: l.Title, Age: now.Sub(l.StageTime.AsTime()),
			Stage: t.Enum("stage", l.Stage.String()), Sector: t.Enum("sector", l.Sector.String()),
			StageSince: t.Time(l.StageTime.AsTime(), s.cfg.Location), Updated: t.Time(l.UpdateTime.AsTime(), s.cfg.Location)}
		if l.Division != "" {
			r.Division = t.Enum("division", l.Division)
		}
		r.AgeText = t.Age(r.Age)
		if tr := l.Translation; tr != nil && tr.Title != "" && tr.Title != l.Title {
			r.Trans = tr.Title
		}
		r.Deadline = deadlineOf(t, l.Sla, loc)
		if r.Deadline != nil {
			r.Overdue = l.Sla.State == innonetpb.SlaStatus_OVER
		} else {
			r.Overdue = l.Stage == innonetpb.Stage_SUBMITTED && r.Age > overdue
		}
		out = append(out, r)
	}
	return out
}

// list is a page of leads from ListLeads.
type list struct {
	Rows  []row
	Next  string
	Fresh *freshness
}

func (s *Server) listLeads(ctx context.Context, v *view, req *innonetpb.ListLeadsRequest) (*list, error) {
	req.Consistency, req.Lang = v.Read, v.Lang
	var md metadata.MD
	res, err := s.leads.ListLeads(ctx, req, grpc.Header(&md))
	if fallBack(v, err) {
		req.Consistency = stale
		res, err = s.leads.ListLeads(ctx, req, grpc.Header(&md))
	}
	if err != nil {
		return nil, err
	}
	return &list{Rows: s.rows(v, res.Leads), Next: res.NextPageToken, Fresh: freshOf(res.Read, md)}, nil
}
