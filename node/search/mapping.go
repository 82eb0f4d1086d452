package search

import (
	"strings"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/standard"
	"github.com/blevesearch/bleve/v2/analysis/lang/cjk"
	"github.com/blevesearch/bleve/v2/analysis/lang/de"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/mapping"
	index "github.com/blevesearch/bleve_index_api"
)

// mappingVersion names the shape of the index: a stored index of another
// version is thrown away and rebuilt (see Open).
const mappingVersion = "5"

// A group is the set of fields one analyzer reads: the texts of one
// language (English, German, Chinese/Japanese/Korean, Hebrew, and every
// other language together).
type group struct {
	name     string
	analyzer string
}

var groups = []group{
	{"en", en.AnalyzerName},
	{"de", de.AnalyzerName},
	{"zh", cjk.AnalyzerName},
	{"he", hebrewAnalyzer},
	{"xx", standard.Name},
}

// groupOf is the group that reads text of a language (a BCP 47 tag).
func groupOf(lang string) string {
	primary, _, _ := strings.Cut(strings.ToLower(lang), "-")
	switch primary {
	case "en", "de":
		return primary
	case "zh", "ja", "ko":
		return "zh"
	case "he", "iw":
		return "he"
	}
	return "xx"
}

// The text fields of each group, and their weight in a query: titles and
// tags say what a lead is about, summaries add detail.
var textFields = []struct {
	name  string
	boost float64
}{{"title", 3}, {"tags", 2.5}, {"summary", 1}, {"org", 1.5}}

// namesField holds every name of the organisation with a neutral analyzer
// (Unicode words, lower case, CJK bigrams), whatever the lead's language.
const namesField = "names"

// Keyword and number fields, for filters and for the hit's identity.
const (
	fieldID        = "id"
	fieldSite      = "site"
	fieldSubnode   = "subnode"
	fieldStage     = "stage"
	fieldSector    = "sector"
	fieldTRL       = "trl"
	fieldPublished = "published"
)

// newMapping is the mapping of a site's index (positions false) or of the
// small index Search builds of a page's hits to find where they match
// (positions true). A site's index keeps no term positions: they were
// most of what its segments and their merges wrote, and only the
// highlights of a page of hits read them (see Index.locations).
func newMapping(positions bool) *mapping.IndexMappingImpl {
	text := func(analyzer string) *mapping.FieldMapping {
		f := bleve.NewTextFieldMapping()
		f.Analyzer = analyzer
		f.Store = false
		f.IncludeTermVectors = positions
		f.DocValues = false // nothing sorts or facets by a text
		// Every query names its fields: a composite field of all the
		// texts would only double the work of indexing them.
		f.IncludeInAll = false
		return f
	}
	kw := func() *mapping.FieldMapping {
		f := bleve.NewKeywordFieldMapping()
		f.Store, f.IncludeInAll, f.DocValues = false, false, false
		return f
	}
	doc := bleve.NewDocumentStaticMapping()
	for _, g := range groups {
		sub := bleve.NewDocumentStaticMapping()
		for _, f := range textFields {
			sub.AddFieldMappingsAt(f.name, text(g.analyzer))
		}
		doc.AddSubDocumentMapping(g.name, sub)
	}
	doc.AddFieldMappingsAt(namesField, text(cjk.AnalyzerName))
	// The readiness level too is a keyword ("1" to "9"): a range of it
	// is a handful of terms, where a number field writes 16 terms of its
	// prefixes for every lead.
	for _, name := range []string{fieldID, fieldSite, fieldSubnode, fieldStage, fieldSector, fieldTRL} {
		doc.AddFieldMappingsAt(name, kw())
	}
	pub := bleve.NewBooleanFieldMapping()
	pub.Store, pub.IncludeInAll = false, false
	doc.AddFieldMappingsAt(fieldPublished, pub)

	m := bleve.NewIndexMapping()
	m.DefaultMapping = doc
	m.DefaultAnalyzer = standard.Name
	m.DefaultField = namesField
	m.ScoringModel = index.BM25Scoring
	m.StoreDynamic, m.IndexDynamic, m.DocValuesDynamic = false, false, false
	return m
}
