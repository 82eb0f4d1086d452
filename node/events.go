package node

import (
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"innonet/node/pipeline"
	innonetpb "innonet/proto/innonet/v1"
)

// The event stream (LeadService.WatchEvents): the leads' history events,
// in log order, from the answering site's own copy. A stream reads the
// events after its cursor from one view of the state, sends them, and
// waits for the state to apply more (applied, below, wakes it); every
// eventsProgress with nothing to send it says how far the site has
// applied, so a client can tell a quiet network from a cut-off site.

// eventsProgress is how often a quiet stream reports progress.
const eventsProgress = 10 * time.Second

// appliedSignal wakes the streams waiting for the state to move.
type appliedSignal struct {
	mu sync.Mutex
	ch chan struct{}
}

func newAppliedSignal() *appliedSignal { return &appliedSignal{ch: make(chan struct{})} }

// wait returns a channel closed at the next applied entry.
func (a *appliedSignal) wait() <-chan struct{} {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.ch
}

// applied wakes the waiting streams.
func (a *appliedSignal) applied() {
	a.mu.Lock()
	close(a.ch)
	a.ch = make(chan struct{})
	a.mu.Unlock()
}

// eventFilter is what a stream keeps.
type eventFilter struct {
	actions  map[string]bool
	lead     string
	site     string
	division string
}

func (f *eventFilter) keep(e *pipeline.Event, l *pipeline.Lead) bool {
	switch {
	case f.actions != nil && !f.actions[e.Action]:
	case f.lead != "" && e.LeadID != f.lead:
	case f.site != "" && l.Site != f.site && l.Subnode != f.site && !strings.HasPrefix(l.Subnode, f.site+"-"):
	case f.division != "" && l.Division != f.division:
	default:
		return true
	}
	return false
}

func (s *leadService) WatchEvents(r *innonetpb.WatchEventsRequest, stream innonetpb.LeadService_WatchEventsServer) error {
	ctx := stream.Context()
	u, err := s.n.authenticate(ctx)
	if err != nil {
		return err
	}
	f := &eventFilter{lead: r.LeadId, site: strings.ToUpper(strings.TrimSpace(r.Site)),
		division: strings.ToUpper(strings.TrimSpace(r.Division))}
	if len(r.Actions) > 0 {
		f.actions = map[string]bool{}
		for _, a := range r.Actions {
			f.actions[strings.ToUpper(a)] = true
		}
	}
	if r.LeadId != "" && !pipeline.ValidLeadID(r.LeadId) {
		return status.Errorf(codes.InvalidArgument, "lead_id: %q is not a lead ID of the form SITE-NNNN", clip(r.LeadId))
	}
	if f.division != "" && !pipeline.ValidDivision(f.division) {
		return status.Errorf(codes.InvalidArgument, "division: must be one of the divisions BOHAI, YRD or PRD, got %q", clip(r.Division))
	}
	switch {
	case f.site == "":
	case pipeline.ValidSubnodeCode(f.site):
		if err := s.n.checkSubnodeFilter("site", f.site); err != nil {
			return err
		}
	case !pipeline.ValidSiteCode(f.site):
		return status.Errorf(codes.InvalidArgument, "site: %q is not a site code such as BOS or MUC-TUM", clip(r.Site))
	default:
		if err := s.n.checkSiteFilter("site", f.site); err != nil {
			return err
		}
	}
	follow := r.Follow == nil || *r.Follow
	cursor := r.AfterIndex
	v := &viewer{n: s.n, ctx: ctx, names: map[string]string{}, orgs: map[string]string{}}
	progress := time.NewTicker(eventsProgress)
	defer progress.Stop()
	for {
		wake := s.n.applied.wait()
		view := s.n.state.View()
		var batch []*innonetpb.WatchEventsResponse
		var serr error
		err := view.EventsAfter(cursor, func(e *pipeline.Event) bool {
			l, lerr := view.Lead(e.LeadID)
			if lerr != nil {
				serr = lerr
				return false
			}
			if u.CanSee(l) && f.keep(e, l) {
				ev := eventPB(u, l, attachmentEventFor(u, *e))
				batch = append(batch, &innonetpb.WatchEventsResponse{Event: ev, Site: l.Site, Division: l.Division})
			}
			return true
		})
		if err == nil {
			err = serr
		}
		if err != nil {
			return status.Errorf(codes.Internal, "read events: %v", err)
		}
		applied := view.Applied()
		for i, m := range batch {
			// Everything of the entries before this one's is sent; this
			// entry's is once its last event is.
			m.Cursor = m.Event.LogIndex - 1
			if i == len(batch)-1 || batch[i+1].Event.LogIndex != m.Event.LogIndex {
				m.Cursor = m.Event.LogIndex
			}
			if i == len(batch)-1 {
				m.Cursor = max(m.Cursor, applied)
			}
			v.walk(m.ProtoReflect())
			if err := stream.Send(m); err != nil {
				return err
			}
		}
		cursor = max(cursor, applied)
		if !follow {
			return stream.Send(s.progress(cursor))
		}
		if len(batch) == 0 {
			// Nothing new: wait for an entry, or report progress.
			select {
			case <-ctx.Done():
				return status.FromContextError(ctx.Err()).Err()
			case <-wake:
			case <-progress.C:
				if err := stream.Send(s.progress(cursor)); err != nil {
					return err
				}
			}
		}
	}
}

// progress is a stream's progress message.
func (s *leadService) progress(cursor uint64) *innonetpb.WatchEventsResponse {
	contact := s.n.cluster.LastContact()
	leader, _ := s.n.cluster.LastKnownLeader()
	behind := !s.n.cluster.IsLeader() && (leader == "" || contact > s.n.cfg.Cluster.ElectionTimeout)
	return &innonetpb.WatchEventsResponse{Cursor: cursor, AppliedIndex: s.n.state.AppliedIndex(),
		LastContact: durationpb.New(contact), Behind: behind}
}
