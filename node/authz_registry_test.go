package node

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"innonet/node/pipeline"
	innonetpb "innonet/proto/innonet/v1"
)

// registryAuthzRows are the rows of the authorization matrix for the site
// registry, the organisations and the deal terms.
func registryAuthzRows() []authzRow {
	const (
		lead    = "/innonet.v1.LeadService/"
		cluster = "/innonet.v1.ClusterService/"
	)
	setDeal := func(ctx context.Context, c testClients, tg authzTarget) (any, error) {
		return c.leads.UpdateDealTerms(ctx, &innonetpb.UpdateDealTermsRequest{Id: tg.lead, RequestId: rid(),
			Amount: proto.String("42000000"), Currency: proto.String("CNY")})
	}
	createOrg := func(kind innonetpb.Organization_Kind) func(context.Context, testClients, authzTarget) (any, error) {
		return func(ctx context.Context, c testClients, _ authzTarget) (any, error) {
			r := &innonetpb.CreateOrganizationRequest{RequestId: rid(), Kind: kind, Name: "Matrix " + uniqueCode(), Country: "US"}
			if kind == innonetpb.Organization_LOCAL_ENTERPRISE {
				r.Country, r.Division = "", "YRD"
			}
			return c.leads.CreateOrganization(ctx, r)
		}
	}
	updateOrg := func(ctx context.Context, c testClients, tg authzTarget) (any, error) {
		return c.leads.UpdateOrganization(ctx, &innonetpb.UpdateOrganizationRequest{Id: tg.org, RequestId: rid(), City: proto.String("Edited")})
	}
	freshOrg := func(kind innonetpb.Organization_Kind) func(*testing.T, *authzEnv, int) authzTarget {
		return func(t *testing.T, e *authzEnv, _ int) authzTarget {
			resp, err := createOrg(kind)(e.ctx(t, actAdmin), e.as(actAdmin), authzTarget{})
			if err != nil {
				t.Fatalf("create organization: %v", err)
			}
			return authzTarget{org: resp.(*innonetpb.Organization).Id}
		}
	}
	sharedOrg := func(t *testing.T, e *authzEnv, act int) authzTarget {
		return freshOrg(innonetpb.Organization_STARTUP)(t, e, act)
	}
	return []authzRow{
		{method: cluster + "ListSites", want: cells{UA, UA, OK, OK, OK, OK, OK, OK},
			call: func(ctx context.Context, c testClients, _ authzTarget) (any, error) {
				return c.clusters.ListSites(ctx, &innonetpb.ListSitesRequest{})
			},
			verify: func(t *testing.T, _ *authzEnv, _ int, resp any) {
				if n := len(resp.(*innonetpb.ListSitesResponse).Sites); n != len(DefaultTopology) {
					t.Errorf("got %d first-level sites, want the %d of the default topology", n, len(DefaultTopology))
				}
			}},
		{method: cluster + "CreateSite", want: cells{UA, UA, OK, PD, PD, PD, PD, PD},
			setup: func(*testing.T, *authzEnv, int) authzTarget { return authzTarget{code: "MUC-" + uniqueCode()} },
			call: func(ctx context.Context, c testClients, tg authzTarget) (any, error) {
				return c.clusters.CreateSite(ctx, &innonetpb.CreateSiteRequest{RequestId: rid(), Code: tg.code, Parent: "MUC",
					Name: "Matrix institute", Kind: innonetpb.Site_INSTITUTE})
			}},
		{method: lead + "UpdateDealTerms", when: "claimed", setup: freshLead(innonetpb.Stage_CLAIMED), call: setDeal,
			want: cells{UA, UA, PD, PD, PD, PD, OK, PD}},
		{method: lead + "UpdateDealTerms", when: "approved", setup: freshLead(innonetpb.Stage_APPROVED), call: setDeal,
			want: cells{UA, UA, PD, PD, PD, PD, PD, PD}},
		{method: lead + "CreateOrganization", when: "a startup", call: createOrg(innonetpb.Organization_STARTUP),
			want: cells{UA, UA, OK, OK, OK, OK, PD, PD}},
		{method: lead + "CreateOrganization", when: "a local enterprise of YRD", call: createOrg(innonetpb.Organization_LOCAL_ENTERPRISE),
			want: cells{UA, UA, OK, OK, PD, PD, OK, PD}},
		{method: lead + "GetOrganization", setup: sharedOrg, want: cells{UA, UA, OK, OK, OK, OK, OK, OK},
			call: func(ctx context.Context, c testClients, tg authzTarget) (any, error) {
				return c.leads.GetOrganization(ctx, &innonetpb.GetOrganizationRequest{Id: tg.org})
			}},
		{method: lead + "ListOrganizations", want: cells{UA, UA, OK, OK, OK, OK, OK, OK},
			call: func(ctx context.Context, c testClients, _ authzTarget) (any, error) {
				return c.leads.ListOrganizations(ctx, &innonetpb.ListOrganizationsRequest{})
			}},
		{method: lead + "UpdateOrganization", when: "a startup", setup: freshOrg(innonetpb.Organization_STARTUP), call: updateOrg,
			want: cells{UA, UA, OK, OK, OK, OK, PD, PD}},
		{method: lead + "UpdateOrganization", when: "a local enterprise of YRD", setup: freshOrg(innonetpb.Organization_LOCAL_ENTERPRISE), call: updateOrg,
			want: cells{UA, UA, OK, OK, PD, PD, OK, PD}},
	}
}

var codeSeq atomic.Int64

// uniqueCode returns a fresh part of a sub-node code or a name: a letter
// and base-36 digits, upper case.
func uniqueCode() string {
	return "X" + strings.ToUpper(strconv.FormatInt(codeSeq.Add(1)+36*36, 36))
}

// waitForSites waits until the leader runs the newest log format and has
// registered every site of its topology (by default the eight of
// DESIGN.md) and every member, so that sub-nodes can be registered and
// typos are refused, and every running site has applied as much.
func (tc *testCluster) waitForSites() {
	tc.t.Helper()
	eventually(tc.t, 20*time.Second, "the cluster at the newest log format with its sites registered", func() error {
		n := tc.leaderNode()
		if f := n.State().Format(); f != pipeline.FormatVersion {
			return fmt.Errorf("log format %d", f)
		}
		if missing := n.unregisteredSites(); len(missing) > 0 {
			return fmt.Errorf("%d sites not registered yet", len(missing))
		}
		// And every running site has applied it.
		for _, id := range tc.order {
			if s := tc.node(id); s != nil && s.State().AppliedIndex() < n.State().AppliedIndex() {
				return fmt.Errorf("%s applied %d of %d", id, s.State().AppliedIndex(), n.State().AppliedIndex())
			}
		}
		return nil
	})
}
