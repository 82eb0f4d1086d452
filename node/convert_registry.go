package node

import (
	"innonet/node/pipeline"
	innonetpb "innonet/proto/innonet/v1"
)

// This file translates the registry, organisations and deal terms between
// the wire and the pipeline (as convert.go does for leads and users).

func siteToPB(s *pipeline.Site) *innonetpb.Site {
	return &innonetpb.Site{
		Code: s.Code, Parent: s.Parent, Name: s.Name, Kind: innonetpb.Site_Kind(s.Kind), Level: int32(s.Level()),
		Registered: true, CreateTime: ts(s.Created), CreatedBy: s.CreatedBy,
	}
}

func orgToPB(o *pipeline.Organization) *innonetpb.Organization {
	if o == nil {
		return nil
	}
	return &innonetpb.Organization{
		Id: o.ID, Kind: innonetpb.Organization_Kind(o.Kind), Name: o.Name, NameEn: o.NameEN, OtherNames: o.OtherNames,
		Country: o.Country, Website: o.Website, City: o.City, Division: o.Division, LookingFor: o.LookingFor,
		Version: o.Version, CreateTime: ts(o.Created), CreatedBy: o.CreatedBy, UpdateTime: ts(o.Updated), UpdatedBy: o.UpdatedBy,
	}
}

func orgSpecFromPB(r *innonetpb.CreateOrganizationRequest) *pipeline.OrgSpec {
	return &pipeline.OrgSpec{
		Kind: pipeline.OrgKind(r.Kind), Name: r.Name, NameEN: r.NameEn, OtherNames: r.OtherNames, Country: r.Country,
		Website: r.Website, City: r.City, Division: r.Division, LookingFor: r.LookingFor,
	}
}

func orgPatchFromPB(r *innonetpb.UpdateOrganizationRequest) *pipeline.OrgPatch {
	p := &pipeline.OrgPatch{
		Name: r.Name, NameEN: r.NameEn, OtherNames: r.OtherNames, Country: r.Country, Website: r.Website,
		City: r.City, Division: r.Division, LookingFor: r.LookingFor,
	}
	if r.Kind != nil {
		k := pipeline.OrgKind(*r.Kind)
		p.Kind = &k
	}
	return p
}

func dealToPB(d *pipeline.Deal) *innonetpb.DealTerms {
	if d == nil {
		return nil
	}
	return &innonetpb.DealTerms{
		PartnerId: d.PartnerID, Amount: d.Amount, Currency: d.Currency, Jobs: int32(d.Jobs),
		ExpectedSigningDate: d.SigningDate, ExpectedLandingDate: d.LandingDate, NextStep: d.NextStep,
		Division: d.Division, UpdateTime: ts(d.Updated), UpdatedBy: d.UpdatedBy,
	}
}

func dealPatchFromPB(r *innonetpb.UpdateDealTermsRequest) *pipeline.DealPatch {
	p := &pipeline.DealPatch{
		PartnerID: r.PartnerId, Amount: r.Amount, Currency: r.Currency,
		SigningDate: r.ExpectedSigningDate, LandingDate: r.ExpectedLandingDate, NextStep: r.NextStep,
	}
	if r.Jobs != nil {
		j := int(*r.Jobs)
		p.Jobs = &j
	}
	return p
}
