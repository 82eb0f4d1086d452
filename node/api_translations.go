package node

import (
	"context"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"innonet/node/pipeline"
	innonetpb "innonet/proto/innonet/v1"
)

// Translations over the API: PUT /v1/leads/{id}/translations/{lang}
// records one, and every read of a lead takes lang (GetLead, ListLeads)
// to carry the translation into that language beside the original (see
// pipeline/translations.go for who may write and verify).

func (s *leadService) TranslateLead(ctx context.Context, r *innonetpb.TranslateLeadRequest) (*innonetpb.Lead, error) {
	if err := refuseUnknownFields(r); err != nil {
		return nil, err
	}
	u, err := s.n.authenticate(ctx)
	if err != nil {
		return nil, err
	}
	if !pipeline.ValidLeadID(r.Id) {
		return nil, status.Errorf(codes.InvalidArgument, "id: %q is not a lead ID of the form SITE-NNNN", clip(r.Id))
	}
	lang, err := checkLanguage("lang", r.Lang)
	if err != nil {
		return nil, err
	}
	if lang == "" {
		return nil, status.Error(codes.InvalidArgument, "lang: is required: the BCP 47 tag of the translation's language (e.g. zh, en, de, he)")
	}
	res, err := s.n.propose(ctx, pipeline.Command{Op: pipeline.OpTranslate, RequestID: r.RequestId, Actor: u.ID,
		LeadID: r.Id, ExpectedVersion: r.ExpectedVersion, Translation: &pipeline.TranslationInput{
			Lang: lang, Title: r.Title, Summary: r.Summary, Status: pipeline.TranslationStatus(r.Status)}})
	if err != nil {
		return nil, err
	}
	out := leadPB(u, res.Lead)
	s.n.decorateLeads(u, out)
	return s.localize(out, res.Lead, lang, nil), nil
}

// langRequest is a read that takes a language.
type langRequest interface {
	proto.Message
	GetLang() string
}

// readLanguage checks the language a read asks for, and refuses fields
// the request does not know.
func readLanguage(r langRequest) (string, error) {
	if err := refuseUnknownFields(r); err != nil {
		return "", err
	}
	return checkLanguage("lang", r.GetLang())
}

// checkLanguage checks a BCP 47 tag and writes it in canonical case; ""
// stays "".
func checkLanguage(field, tag string) (string, error) {
	tag = strings.TrimSpace(tag)
	if tag == "" {
		return "", nil
	}
	if err := (pipeline.Command{Op: pipeline.OpTranslate, RequestID: "r", LeadID: "BOS-0001",
		Translation: &pipeline.TranslationInput{Lang: tag, Title: "t", Status: pipeline.TranslationDraft}}).Validate(); err != nil {
		return "", status.Errorf(codes.InvalidArgument, "%s: %q is not a BCP 47 language tag (e.g. zh, en, de, he, zh-Hant)", field, clip(tag))
	}
	return pipeline.CanonicalLanguage(tag), nil
}

// localize adds to out, the wire form of l, what a read in lang shows:
// the translation into lang, if there is one, and the glossary's names
// of the sector and deal type. glossary may be nil (it is then read).
func (s *leadService) localize(out *innonetpb.Lead, l *pipeline.Lead, lang string, glossary map[string]*pipeline.GlossaryTerm) *innonetpb.Lead {
	if lang == "" || out == nil {
		return out
	}
	if tag, t, ok := l.TranslationFor(lang); ok {
		out.Translation = translationToPB(tag, t, l, true)
	}
	term := func(name string) *pipeline.GlossaryTerm {
		if glossary != nil {
			return glossary[name]
		}
		t, err := s.n.state.GlossaryTerm(name)
		if err != nil {
			return nil
		}
		return t
	}
	if t := term(pipeline.SectorTerm(l.Sector)); t != nil {
		out.SectorLabel = t.Name(lang)
	}
	if t := term(pipeline.DealTypeTerm(l.DealType)); t != nil {
		out.DealTypeLabel = t.Name(lang)
	}
	return out
}

// translationsToPB lists a lead's translations without their text.
func translationsToPB(l *pipeline.Lead) []*innonetpb.LeadTranslation {
	var out []*innonetpb.LeadTranslation
	for _, tag := range l.TranslationLangs() {
		out = append(out, translationToPB(tag, l.Translations[tag], l, false))
	}
	return out
}

func translationToPB(tag string, t pipeline.Translation, l *pipeline.Lead, text bool) *innonetpb.LeadTranslation {
	out := &innonetpb.LeadTranslation{
		Lang: tag, Fields: t.Fields(), Status: innonetpb.TranslationStatus(t.Status),
		TranslatedBy: t.TranslatedBy, TranslatedByName: t.TranslatedByName, TranslateTime: ts(t.Translated),
		VerifiedBy: t.VerifiedBy, VerifiedByName: t.VerifiedByName, VerifyTime: ts(t.Verified),
		Outdated: t.Outdated(l),
	}
	if text {
		out.Title, out.Summary = t.Title, t.Summary
	}
	return out
}
