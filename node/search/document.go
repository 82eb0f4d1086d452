package search

import (
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/blevesearch/bleve/v2/analysis"
	bdoc "github.com/blevesearch/bleve/v2/document"
	"github.com/blevesearch/bleve/v2/mapping"
	index "github.com/blevesearch/bleve_index_api"

	"innonet/node/pipeline"
)

// A text is one piece of a lead the index holds, and where: the group
// (analyzer) and field it is indexed in, and what the caller sees as its
// source (the field of the lead, and the language of a translation).
type text struct {
	group, field string
	// Field and Lang name the text in a highlight: title, summary, tags
	// or organization, and the translation's language ("" for the
	// original).
	Field, Lang string
	Text        string
}

// indexField is the bleve field the text is indexed in.
func (t text) indexField() string {
	if t.group == "" {
		return t.field
	}
	return t.group + "." + t.field
}

// Tags and names are indexed as one text each, joined by a separator no
// analyzer keeps, so that a phrase does not run from one into the next
// and a highlight can show them as they are.
const listSep = " · "

// texts lists what the index holds of l (with org, the organisation it is
// linked to, if any), in a fixed order.
func texts(l *pipeline.Lead, org *pipeline.Organization) []text {
	g := groupOf(l.Language)
	out := []text{
		{group: g, field: "title", Field: "title", Text: l.Title},
		{group: g, field: "summary", Field: "summary", Text: l.Summary},
		{group: g, field: "tags", Field: "tags", Text: strings.Join(l.Tags, listSep)},
		{group: g, field: "org", Field: "organization", Text: l.Organization},
	}
	for _, lang := range slices.Sorted(maps.Keys(l.Translations)) {
		tr := l.Translations[lang]
		tg := groupOf(lang)
		out = append(out,
			text{group: tg, field: "title", Field: "title", Lang: lang, Text: tr.Title},
			text{group: tg, field: "summary", Field: "summary", Lang: lang, Text: tr.Summary})
	}
	names := []string{l.Organization}
	if org != nil {
		names = append(names, org.Name, org.NameEN)
		names = append(names, org.OtherNames...)
	}
	out = append(out, text{field: namesField, Field: "organization", Lang: "*", Text: joinNonEmpty(names)})
	return out
}

// textsNow is texts of l with the organisation it links to as the state
// holds it now (what a page of hits is highlighted from).
func (x *Index) textsNow(l *pipeline.Lead) []text {
	var org *pipeline.Organization
	if l.OrganizationID != "" {
		org, _ = x.src.Organization(l.OrganizationID)
	}
	return texts(l, org)
}

// A schema is how each field of a document is indexed, read once from
// an index's mapping: documents are built directly from it, where
// bleve's Batch.Index would walk a map of the lead by reflection for
// every lead (about 80 allocations a lead, a sixth of indexing one).
type schema struct {
	fields map[string]fieldSpec // by field name ("en.title", "names", "stage")
}

type fieldSpec struct {
	typ      string // "text" (keywords too) or "boolean"
	opts     index.FieldIndexingOptions
	analyzer analysis.Analyzer
}

// schemaOf reads the fields of m, a mapping newMapping made.
func schemaOf(m *mapping.IndexMappingImpl) (*schema, error) {
	s := &schema{fields: map[string]fieldSpec{}}
	var walk func(prefix string, dm *mapping.DocumentMapping) error
	walk = func(prefix string, dm *mapping.DocumentMapping) error {
		for name, sub := range dm.Properties {
			path := name
			if prefix != "" {
				path = prefix + "." + name
			}
			for _, fm := range sub.Fields {
				spec := fieldSpec{typ: fm.Type, opts: fm.Options()}
				if fm.Type == "text" {
					if spec.analyzer = m.AnalyzerNamed(fm.Analyzer); spec.analyzer == nil {
						return fmt.Errorf("search: field %s: no analyzer %q", path, fm.Analyzer)
					}
				}
				s.fields[path] = spec
			}
			if err := walk(path, sub); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk("", m.DefaultMapping); err != nil {
		return nil, err
	}
	return s, nil
}

// document is what the index stores of l: its texts by field (two texts
// of one field, an original and a translation in the same group, are
// joined) and the filter fields.
func (s *schema) document(l *pipeline.Lead, ts []text) (*bdoc.Document, error) {
	d := bdoc.NewDocument(l.ID)
	add := func(field, value string) error {
		spec, ok := s.fields[field]
		if !ok || spec.typ != "text" {
			return fmt.Errorf("search: no text field %s in the mapping", field)
		}
		d.AddField(bdoc.NewTextFieldCustom(field, nil, []byte(value), spec.opts, spec.analyzer))
		return nil
	}
	for _, kw := range [...][2]string{
		{fieldID, l.ID}, {fieldSite, l.Site}, {fieldSubnode, l.Subnode}, {fieldStage, l.Stage.String()},
		{fieldSector, l.Sector.String()}, {fieldTRL, strconv.Itoa(l.TRL)},
	} {
		if err := add(kw[0], kw[1]); err != nil {
			return nil, err
		}
	}
	spec, ok := s.fields[fieldPublished]
	if !ok || spec.typ != "boolean" {
		return nil, fmt.Errorf("search: no boolean field %s in the mapping", fieldPublished)
	}
	d.AddField(bdoc.NewBooleanFieldWithIndexingOptions(fieldPublished, nil, l.Published, spec.opts))
	for field, parts := range fieldTexts(ts) {
		value := parts[0].Text
		for _, t := range parts[1:] {
			value += "\n" + t.Text
		}
		if err := add(field, value); err != nil {
			return nil, err
		}
	}
	d.SetIndexed()
	return d, nil
}

// fieldTexts is the text of each indexed field as document joins them, for
// cutting highlights out of (bleve's offsets are into these).
func fieldTexts(ts []text) map[string][]text {
	out := map[string][]text{}
	for _, t := range ts {
		if t.Text != "" {
			out[t.indexField()] = append(out[t.indexField()], t)
		}
	}
	return out
}

// fingerprint identifies what the index holds of a lead: a lead whose
// fingerprint has not changed need not be written again.
func fingerprint(l *pipeline.Lead, ts []text) uint64 {
	h := fnv.New64a()
	for _, s := range []string{l.ID, l.Site, l.Subnode, l.Stage.String(), l.Sector.String(), string(rune('0' + l.TRL))} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	if l.Published {
		h.Write([]byte{1})
	}
	for _, t := range ts {
		h.Write([]byte(t.indexField()))
		h.Write([]byte{0})
		h.Write([]byte(t.Text))
		h.Write([]byte{0})
	}
	return h.Sum64()
}

func joinNonEmpty(parts []string) string {
	var keep []string
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			keep = append(keep, p)
		}
	}
	return strings.Join(keep, listSep)
}
