package node

import (
	"context"
	"errors"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"innonet/node/pipeline"
	innonetpb "innonet/proto/innonet/v1"
)

// The glossary over the API: GET /v1/glossary (any user), PUT and DELETE
// /v1/glossary/{term} (HQ reviewers; Apply decides).

func (s *leadService) ListGlossary(ctx context.Context, r *innonetpb.ListGlossaryRequest) (*innonetpb.ListGlossaryResponse, error) {
	if err := refuseUnknownFields(r); err != nil {
		return nil, err
	}
	if _, err := s.n.authenticate(ctx); err != nil {
		return nil, err
	}
	terms, err := s.n.state.Glossary()
	if err != nil {
		return nil, toStatus(err)
	}
	out := &innonetpb.ListGlossaryResponse{Terms: make([]*innonetpb.GlossaryTerm, 0, len(terms))}
	for _, t := range terms {
		out.Terms = append(out.Terms, glossaryTermToPB(t))
	}
	return out, nil
}

func (s *leadService) SetGlossaryTerm(ctx context.Context, r *innonetpb.SetGlossaryTermRequest) (*innonetpb.GlossaryTerm, error) {
	if err := refuseUnknownFields(r); err != nil {
		return nil, err
	}
	u, err := s.n.authenticate(ctx)
	if err != nil {
		return nil, err
	}
	names := map[string]string{}
	for tag, name := range r.Names {
		lang, err := checkLanguage("names", tag)
		if err != nil || lang == "" {
			return nil, status.Errorf(codes.InvalidArgument, "names: %q is not a BCP 47 language tag (e.g. zh, en, de, he, zh-Hant)", clip(tag))
		}
		if _, dup := names[lang]; dup {
			return nil, status.Errorf(codes.InvalidArgument, "names: %s is given twice (language tags do not depend on case)", lang)
		}
		names[lang] = name
	}
	res, err := s.n.propose(ctx, pipeline.Command{Op: pipeline.OpSetGlossaryTerm, RequestID: r.RequestId, Actor: u.ID,
		Glossary: &pipeline.GlossaryInput{Term: r.Term, Names: names}})
	if err != nil {
		return nil, err
	}
	return s.termAnswer(res, r.Term)
}

func (s *leadService) DeleteGlossaryTerm(ctx context.Context, r *innonetpb.DeleteGlossaryTermRequest) (*innonetpb.GlossaryTerm, error) {
	if err := refuseUnknownFields(r); err != nil {
		return nil, err
	}
	u, err := s.n.authenticate(ctx)
	if err != nil {
		return nil, err
	}
	res, err := s.n.propose(ctx, pipeline.Command{Op: pipeline.OpDeleteGlossaryTerm, RequestID: r.RequestId, Actor: u.ID,
		Glossary: &pipeline.GlossaryInput{Term: r.Term}})
	if err != nil {
		return nil, err
	}
	return s.termAnswer(res, r.Term)
}

// termAnswer is the term as a glossary write left it; a retry, which
// Apply answers without it, gets the term as it stands.
func (s *leadService) termAnswer(res pipeline.Result, term string) (*innonetpb.GlossaryTerm, error) {
	if res.Term != nil {
		return glossaryTermToPB(res.Term), nil
	}
	t, err := s.n.state.GlossaryTerm(term)
	var pe *pipeline.Error
	if errors.As(err, &pe) && pe.Code == pipeline.CodeNotFound {
		return &innonetpb.GlossaryTerm{Term: term}, nil // deleted
	}
	if err != nil {
		return nil, toStatus(err)
	}
	return glossaryTermToPB(t), nil
}

// glossaryByTerm reads the glossary once, for a page of leads.
func (s *leadService) glossaryByTerm() (map[string]*pipeline.GlossaryTerm, error) {
	terms, err := s.n.state.Glossary()
	if err != nil {
		return nil, toStatus(err)
	}
	out := make(map[string]*pipeline.GlossaryTerm, len(terms))
	for _, t := range terms {
		out[t.Term] = t
	}
	return out, nil
}

func glossaryTermToPB(t *pipeline.GlossaryTerm) *innonetpb.GlossaryTerm {
	return &innonetpb.GlossaryTerm{Term: t.Term, Names: t.Names, BuiltIn: t.BuiltIn,
		UpdatedBy: t.UpdatedBy, UpdatedByName: t.UpdatedByName, UpdateTime: ts(t.Updated)}
}
