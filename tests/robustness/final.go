package robustness

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	innonetpb "innonet/proto/innonet/v1"
)

// Collect reads every site's copy of the pipeline with STALE reads (so
// each site answers from its own state). It first waits, up to
// waitTimeout, until every site reports the same applied index; then it
// reads every site's leads, their histories and the users, checking that
// each copy stays at that index (and starting over, a few times at most,
// if one moved). Reading is paced by the sites' per-token rate limit, so
// it takes longer the more leads there are; ctx bounds it.
func Collect(ctx context.Context, conns *Conns, token string, sites []string, waitTimeout time.Duration) *Final {
	var f *Final
	for round := 0; round < 3; round++ {
		_ = Poll(ctx, waitTimeout, 500*time.Millisecond, func(ctx context.Context) error {
			return sameIndex(ctx, conns, token, sites)
		})
		f = &Final{Sites: make([]SiteState, len(sites))}
		var wg sync.WaitGroup
		for i, site := range sites {
			wg.Add(1)
			go func() {
				defer wg.Done()
				f.Sites[i] = collectSite(ctx, conns, token, site)
			}()
		}
		wg.Wait()
		if sameIndex(ctx, conns, token, sites) == nil && f.Sites[0].AppliedIndex == appliedIndex(ctx, conns, token, sites[0]) {
			break
		}
	}
	// The checkers report whatever still differs.
	return f
}

// appliedIndex returns the index of the last command site applied (0 if
// it cannot tell).
func appliedIndex(ctx context.Context, conns *Conns, token, site string) uint64 {
	res, err := throttled(ctx, token, func(ctx context.Context) (*innonetpb.ListLeadsResponse, error) {
		return conns.Leads(site).ListLeads(ctx, &innonetpb.ListLeadsRequest{PageSize: 1, Consistency: innonetpb.Consistency_STALE})
	})
	if err != nil {
		return 0
	}
	return res.GetRead().GetAppliedIndex()
}

// sameIndex returns nil if every site has applied the same commands.
func sameIndex(ctx context.Context, conns *Conns, token string, sites []string) error {
	first := appliedIndex(ctx, conns, token, sites[0])
	if first == 0 {
		return fmt.Errorf("%s does not answer", sites[0])
	}
	for _, site := range sites[1:] {
		if got := appliedIndex(ctx, conns, token, site); got != first {
			return fmt.Errorf("%s at applied index %d, %s at %d", site, got, sites[0], first)
		}
	}
	return nil
}

// collectSite reads one site's leads, their histories and the users, and
// digests them.
func collectSite(ctx context.Context, conns *Conns, token, site string) SiteState {
	s := SiteState{Site: site, History: map[string][]Event{}}
	fail := func(err error) SiteState {
		s.Err = err.Error()
		return s
	}
	h := sha256.New()
	digest := func(m proto.Message) error {
		b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%d:", len(b))
		h.Write(b)
		return nil
	}
	var index uint64
	at := func(read *innonetpb.ReadInfo, what string) error {
		if read == nil {
			return fmt.Errorf("%s: no read info", what)
		}
		if read.Site != site {
			return fmt.Errorf("%s answered by %s, not %s", what, read.Site, site)
		}
		if index == 0 {
			index = read.AppliedIndex
		}
		if read.AppliedIndex != index {
			return fmt.Errorf("state moved from index %d to %d while reading %s", index, read.AppliedIndex, what)
		}
		return nil
	}

	var leads []*innonetpb.Lead
	for page := ""; ; {
		res, err := throttled(ctx, token, func(ctx context.Context) (*innonetpb.ListLeadsResponse, error) {
			return conns.Leads(site).ListLeads(ctx, &innonetpb.ListLeadsRequest{PageSize: 500, PageToken: page, Consistency: innonetpb.Consistency_STALE})
		})
		if err != nil {
			return fail(fmt.Errorf("list leads: %w", err))
		}
		if err := at(res.Read, "list"); err != nil {
			return fail(err)
		}
		leads = append(leads, res.Leads...)
		if page = res.NextPageToken; page == "" {
			break
		}
	}
	for _, l := range leads {
		s.Leads = append(s.Leads, leadView(l))
		if err := digest(l); err != nil {
			return fail(err)
		}
		res, err := throttled(ctx, token, func(ctx context.Context) (*innonetpb.GetLeadHistoryResponse, error) {
			return conns.Leads(site).GetLeadHistory(ctx, &innonetpb.GetLeadHistoryRequest{Id: l.Id, Consistency: innonetpb.Consistency_STALE})
		})
		if err != nil {
			return fail(fmt.Errorf("history of %s: %w", l.Id, err))
		}
		if err := at(res.Read, "history of "+l.Id); err != nil {
			return fail(err)
		}
		for _, e := range res.Events {
			if err := digest(e); err != nil {
				return fail(err)
			}
			s.History[l.Id] = append(s.History[l.Id], Event{LeadID: e.LeadId, Seq: e.Seq, Action: e.Action, UserSite: e.UserSite,
				From: stageOf(e.FromStage), To: stageOf(e.ToStage), Version: e.Version, LogIndex: e.LogIndex, RequestID: e.RequestId})
		}
	}
	users, err := throttled(ctx, token, func(ctx context.Context) (*innonetpb.ListUsersResponse, error) {
		return conns.Users(site).ListUsers(ctx, &innonetpb.ListUsersRequest{Consistency: innonetpb.Consistency_STALE})
	})
	if err != nil {
		return fail(fmt.Errorf("list users: %w", err))
	}
	if err := at(users.Read, "users"); err != nil {
		return fail(err)
	}
	for _, u := range users.Users {
		if err := digest(u); err != nil {
			return fail(err)
		}
	}
	s.AppliedIndex = index
	s.Digest = hex.EncodeToString(h.Sum(nil))
	return s
}

func stageOf(s innonetpb.Stage) Stage {
	if s == innonetpb.Stage_STAGE_UNSPECIFIED {
		return ""
	}
	return Stage(s.String())
}

// throttled calls f with token, waiting and calling again while the site
// rate-limits the token (ResourceExhausted): the final read makes a
// request per lead.
func throttled[T any](ctx context.Context, token string, f func(ctx context.Context) (T, error)) (T, error) {
	for {
		cctx, cancel := withToken(ctx, token)
		res, err := f(cctx)
		cancel()
		if status.Code(err) != codes.ResourceExhausted {
			return res, err
		}
		select {
		case <-ctx.Done():
			return res, err
		case <-time.After(50 * time.Millisecond):
		}
	}
}
