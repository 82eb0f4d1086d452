package node

import (
	"context"

	"innonet/node/pipeline"
	innonetpb "innonet/proto/innonet/v1"
)

// UpdateDealTerms records deal terms on a claimed lead. Who may (the
// claiming division) and when (CLAIMED, NEGOTIATING, SIGNED) is the
// pipeline's rule (deal.go); who sees them is the view's (views.go).
func (s *leadService) UpdateDealTerms(ctx context.Context, r *innonetpb.UpdateDealTermsRequest) (*innonetpb.Lead, error) {
	return s.write(ctx, pipeline.Command{Op: pipeline.OpSetDeal, RequestID: r.RequestId, LeadID: r.Id,
		ExpectedVersion: r.ExpectedVersion, Deal: dealPatchFromPB(r)})
}
