package console

import (
	"context"
	"net/http"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	innonetpb "innonet/proto/innonet/v1"
)

// Queued writes (issue 17): the console's forms opt in to being queued
// on a site that cannot reach a leader. The site answers such a write at
// once with the header x-innonet-queued; the console then says the form
// was saved here and will be sent, and /queued lists the user's queued
// writes and what became of them.

// Metadata of queued writes (the site's, node/queued.go).
const (
	mdAllowQueued = "x-innonet-allow-queued"
	mdQueued      = "x-innonet-queued"
)

// queuedMark records whether a call made with its context was queued.
type queuedMark struct{ md metadata.MD }

type queuedKey struct{}

// allowQueued opts the calls made with ctx in to being queued, and
// returns the mark that says whether one was.
func allowQueued(ctx context.Context) (context.Context, *queuedMark) {
	m := &queuedMark{}
	ctx = metadata.AppendToOutgoingContext(ctx, mdAllowQueued, "true")
	return context.WithValue(ctx, queuedKey{}, m), m
}

// queued returns the request ID of the call that was queued, or "".
func (m *queuedMark) queued() string {
	if v := m.md.Get(mdQueued); len(v) > 0 {
		return v[0]
	}
	return ""
}

// queuedConn is the console's connection to the API: it reads the
// response header of calls whose context carries a queuedMark.
type queuedConn struct{ grpc.ClientConnInterface }

func (c queuedConn) Invoke(ctx context.Context, method string, args, reply any, opts ...grpc.CallOption) error {
	if m, ok := ctx.Value(queuedKey{}).(*queuedMark); ok {
		opts = append(opts, grpc.Header(&m.md))
	}
	return c.ClientConnInterface.Invoke(ctx, method, args, reply, opts...)
}

// queuedForms are the lead page's forms that may be queued.
var queuedForms = map[string]bool{"review": true, "claim": true, "release": true, "advance": true, "withdraw": true,
	"interest": true, "withdraw-interest": true, "comment": true, "reply": true, "edit": true}

// queuedFlash is the notice after a form was queued.
func queuedFlash(t *tr) *flash {
	return &flash{Kind: "queued", Msg: t.T("done.queued")}
}

// queuedRow is one queued write as /queued shows it.
type queuedRow struct {
	W      *innonetpb.QueuedWrite
	Action string // the catalogue key of the method
	Queued time.Time
}

type queuedData struct {
	Rows    []queuedRow
	Pending int32
	Site    string
}

// queuedPage lists the user's queued writes on this site.
func (s *Server) queuedPage(w http.ResponseWriter, r *http.Request, v *view, ctx context.Context) {
	if p := checkQuery(r); p != "" {
		s.errorPage(w, r, v, http.StatusBadRequest, errParam(v.T, p))
		return
	}
	res, err := s.outbox.ListQueuedWrites(ctx, &innonetpb.ListQueuedWritesRequest{})
	if err != nil {
		s.errorPage(w, r, v, httpStatus(err), s.apiFlash(v.T, err))
		return
	}
	d := &queuedData{Pending: res.Pending, Site: res.Site}
	for _, q := range res.Writes {
		m := q.Method[strings.LastIndex(q.Method, "/")+1:]
		d.Rows = append(d.Rows, queuedRow{W: q, Action: "queued.method." + m, Queued: q.GetQueueTime().AsTime()})
	}
	v.Title, v.Data = v.T.T("queued.title"), d
	s.render(w, v, "queued")
}
