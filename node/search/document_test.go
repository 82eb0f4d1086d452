package search

import (
	"fmt"
	"maps"
	"slices"
	"testing"

	bdoc "github.com/blevesearch/bleve/v2/document"
	index "github.com/blevesearch/bleve_index_api"

	"innonet/node/pipeline"
)

// mappedDocument is the lead as a map for bleve's mapping to walk, the
// way documents were built before schema: the reference schema.document
// must agree with.
func mappedDocument(l *pipeline.Lead, ts []text) map[string]any {
	d := map[string]any{
		fieldID: l.ID, fieldSite: l.Site, fieldSubnode: l.Subnode, fieldStage: l.Stage.String(),
		fieldSector: l.Sector.String(), fieldTRL: fmt.Sprint(l.TRL), fieldPublished: l.Published,
	}
	for _, t := range ts {
		if t.Text == "" {
			continue
		}
		m := d
		if t.group != "" {
			sub, ok := d[t.group].(map[string]any)
			if !ok {
				sub = map[string]any{}
				d[t.group] = sub
			}
			m = sub
		}
		if prev, ok := m[t.field].(string); ok {
			m[t.field] = prev + "\n" + t.Text
		} else {
			m[t.field] = t.Text
		}
	}
	return d
}

// indexedFields is what the index would write of d's fields: each
// field's options and analyzed terms with their positions and offsets.
func indexedFields(d *bdoc.Document) map[string]string {
	out := map[string]string{}
	d.VisitFields(func(f index.Field) {
		if f.Name() == "_all" {
			return // composite of no field here (every field is left out of it)
		}
		f.Analyze()
		var terms []string
		for term, tf := range f.AnalyzedTokenFrequencies() {
			s := fmt.Sprintf("%q×%d", term, tf.Frequency())
			for _, loc := range tf.Locations {
				s += fmt.Sprintf(" %d:%d-%d", loc.Position, loc.Start, loc.End)
			}
			terms = append(terms, s)
		}
		slices.Sort(terms)
		out[f.Name()] = fmt.Sprintf("%v len=%d %q", f.Options(), f.AnalyzedLength(), terms)
	})
	return out
}

// A document built from the schema indexes exactly what bleve's mapping
// makes of the same lead: every field, its options, terms, positions and
// offsets; with positions (a page's index) and without (a site's).
func TestSchemaDocumentsAsTheMapping(t *testing.T) {
	leads := testLeads()
	tr := leads[0]
	tr.Translations = map[string]pipeline.Translation{
		"zh": {Title: "固态储氢罐", Summary: "金属氢化物"},
		"de": {Title: "Feststoff-Wasserstoffspeicher"},
	}
	tr.OrganizationID, tr.Subnode, tr.Published = "ORG-1", "BOS-MIT", true
	tr.Tags = append(tr.Tags, "Metallhydrid", "储氢")
	// A Japanese translation of a Chinese lead is joined to its text in
	// the same fields.
	leads[2].Translations = map[string]pipeline.Translation{"ja": {Title: "固体水素貯蔵", Summary: "金属水素化物タンク"}}
	org := &pipeline.Organization{Name: "氢能科技", NameEN: "Hydrogen Tech", OtherNames: []string{"H2Tech GmbH"}}
	empty := &pipeline.Lead{ID: "CBG-0001", Site: "CBG"}
	empty.Language = "fr"
	for _, positions := range []bool{false, true} {
		m := newMapping(positions)
		s, err := schemaOf(m)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range append(leads, empty) {
			o := org
			if l.OrganizationID == "" {
				o = nil
			}
			ts := texts(l, o)
			want := bdoc.NewDocument(l.ID)
			if err := m.MapDocument(want, mappedDocument(l, ts)); err != nil {
				t.Fatal(err)
			}
			got, err := s.document(l, ts)
			if err != nil {
				t.Fatalf("%s: %v", l.ID, err)
			}
			w, g := indexedFields(want), indexedFields(got)
			for _, f := range slices.Sorted(maps.Keys(w)) {
				if g[f] != w[f] {
					t.Errorf("positions %v, %s, field %s:\n got %s\nwant %s", positions, l.ID, f, g[f], w[f])
				}
			}
			for f := range g {
				if _, ok := w[f]; !ok {
					t.Errorf("positions %v, %s: field %s the mapping does not make", positions, l.ID, f)
				}
			}
		}
	}
}
