package node

import (
	"context"
	"io"
	"testing"

	"google.golang.org/protobuf/proto"

	innonetpb "innonet/proto/innonet/v1"
)

// duplicateAuthzRows are the authorization matrix's rows of duplicates,
// merging, profiles and matches.
func duplicateAuthzRows() []authzRow {
	const (
		lead     = "/innonet.v1.LeadService/"
		division = "/innonet.v1.DivisionService/"
	)
	check := func(ctx context.Context, c testClients, _ authzTarget) (any, error) {
		return c.leads.CheckDuplicates(ctx, &innonetpb.CheckDuplicatesRequest{Title: "Authorization matrix lead", Organization: "Test Lab"})
	}
	similar := func(ctx context.Context, c testClients, tg authzTarget) (any, error) {
		return c.leads.GetSimilarLeads(ctx, &innonetpb.GetSimilarLeadsRequest{Id: tg.lead})
	}
	matches := func(ctx context.Context, c testClients, tg authzTarget) (any, error) {
		return c.leads.GetLeadMatches(ctx, &innonetpb.GetLeadMatchesRequest{Id: tg.lead})
	}
	merge := func(ctx context.Context, c testClients, tg authzTarget) (any, error) {
		return c.leads.MergeLead(ctx, &innonetpb.MergeLeadRequest{Id: tg.lead, Into: tg.into, RequestId: rid(), Comment: "same lab"})
	}
	twoLeads := format2(func(t *testing.T, e *authzEnv, _ int) authzTarget {
		return authzTarget{lead: e.lead(t, innonetpb.Stage_SUBMITTED), into: e.lead(t, innonetpb.Stage_SUBMITTED)}
	})
	listProfiles := func(ctx context.Context, c testClients, _ authzTarget) (any, error) {
		return c.divisions.ListDivisionProfiles(ctx, &innonetpb.ListDivisionProfilesRequest{})
	}
	getProfile := func(ctx context.Context, c testClients, _ authzTarget) (any, error) {
		return c.divisions.GetDivisionProfile(ctx, &innonetpb.GetDivisionProfileRequest{Division: "YRD"})
	}
	setProfile := func(ctx context.Context, c testClients, _ authzTarget) (any, error) {
		return c.divisions.UpdateDivisionProfile(ctx, &innonetpb.UpdateDivisionProfileRequest{Division: "YRD", RequestId: rid(),
			Sectors: []innonetpb.Sector{innonetpb.Sector_NEW_MATERIALS}, Keywords: []string{"battery", "电池"}, TrlMin: 4, TrlMax: 8})
	}
	listMatches := func(ctx context.Context, c testClients, _ authzTarget) (any, error) {
		return c.divisions.ListDivisionMatches(ctx, &innonetpb.ListDivisionMatchesRequest{Division: "YRD"})
	}
	watch := func(ctx context.Context, c testClients, _ authzTarget) (any, error) {
		stream, err := c.leads.WatchEvents(ctx, &innonetpb.WatchEventsRequest{Follow: proto.Bool(false)})
		if err != nil {
			return nil, err
		}
		var got []*innonetpb.WatchEventsResponse
		for {
			m, err := stream.Recv()
			if err == io.EOF {
				return got, nil
			}
			if err != nil {
				return nil, err
			}
			got = append(got, m)
		}
	}
	// The matrix's leads are Boston's: Cambridge sees only its own (an
	// earlier row's submit), the others see Boston's.
	watched := func(t *testing.T, _ *authzEnv, act int, resp any) {
		bos := 0
		for _, m := range resp.([]*innonetpb.WatchEventsResponse) {
			switch {
			case m.Event == nil:
			case m.Site == "BOS":
				bos++
			case act != actOther && act != actAdmin && act != actHQ:
				t.Errorf("%s sees an event of %s's lead %s", actNames[act], m.Site, m.Event.LeadId)
			}
		}
		if (bos == 0) != (act == actOther) {
			t.Errorf("%s got %d events of Boston's leads", actNames[act], bos)
		}
	}
	// Columns: no token, revoked, admin, HQ, own site, other site, holder division, rival division.
	return []authzRow{
		{method: lead + "WatchEvents", call: watch, want: cells{UA, UA, OK, OK, OK, OK, OK, OK}, verify: watched},
		{method: lead + "CheckDuplicates", call: check, want: cells{UA, UA, PD, OK, OK, OK, PD, PD}},
		{method: lead + "GetSimilarLeads", when: "SUBMITTED", setup: sharedSubmitted, call: similar, want: cells{UA, UA, OK, OK, OK, PD, PD, PD}},
		{method: lead + "GetLeadMatches", when: "SUBMITTED", setup: sharedSubmitted, call: matches, want: cells{UA, UA, OK, OK, OK, PD, PD, PD}},
		{method: lead + "GetLeadMatches", when: "CLAIMED", setup: sharedClaimed, call: matches, want: cells{UA, UA, OK, OK, OK, PD, OK, OK}},
		{method: lead + "MergeLead", when: "SUBMITTED into SUBMITTED", setup: twoLeads, call: merge, want: cells{UA, UA, PD, OK, PD, PD, PD, PD},
			verify: func(t *testing.T, _ *authzEnv, _ int, resp any) {
				if l := resp.(*innonetpb.Lead); l.Stage != innonetpb.Stage_MERGED || l.MergedInto == "" {
					t.Errorf("merged lead: stage %s, merged into %q", l.Stage, l.MergedInto)
				}
			}},
		{method: division + "ListDivisionProfiles", call: listProfiles, want: cells{UA, UA, OK, OK, OK, OK, OK, OK}},
		{method: division + "GetDivisionProfile", call: getProfile, want: cells{UA, UA, OK, OK, OK, OK, OK, OK}},
		{method: division + "UpdateDivisionProfile", when: "of YRD", setup: format2(nil), call: setProfile, want: cells{UA, UA, PD, OK, PD, PD, OK, PD}},
		{method: division + "ListDivisionMatches", when: "of YRD", call: listMatches, want: cells{UA, UA, OK, OK, PD, PD, OK, OK}},
	}
}
