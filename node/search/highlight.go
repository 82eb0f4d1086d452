package search

import (
	"slices"
	"strings"
	"unicode/utf8"

	"innonet/node/pipeline"
)

// Highlight is a piece of a lead's text that matched, as plain text with
// the matched words marked by position: the caller escapes the text
// however it shows it, and never receives markup from a lead.
type Highlight struct {
	// Field is title, summary, tags or organization; Lang the language of
	// the translation it comes from ("" for the lead's own text, "*" for
	// the organisation's names).
	Field, Lang string
	Text        string
	Marks       []Span
}

// Span is a range of a highlight's text in Unicode code points, Start
// inclusive, End exclusive.
type Span struct{ Start, End int }

// fragmentRunes is the longest highlight; context is how much text comes
// before the first match in a cut one.
const (
	fragmentRunes  = 200
	fragmentBefore = 60
	maxHighlights  = 4
)

// fieldOrder orders highlights: what a lead is about first.
var fieldOrder = map[string]int{"title": 0, "tags": 1, "organization": 2, "summary": 3}

// Highlights cuts the highlights of h out of l, the lead as the state
// holds it now. A lead changed since it was indexed may show fewer marks
// (offsets that no longer fall on its text are dropped), never wrong
// text.
func (x *Index) Highlights(h Hit, l *pipeline.Lead) []Highlight {
	byField := fieldTexts(x.textsNow(l))
	var out []Highlight
	for field, locs := range h.locations {
		// document joins the texts of one field with "\n": find each
		// location's text.
		start := 0
		for _, t := range byField[field] {
			end := start + len(t.Text)
			var marks [][2]int
			for _, loc := range locs {
				if loc[0] >= start && loc[1] <= end && loc[0] < loc[1] {
					marks = append(marks, [2]int{loc[0] - start, loc[1] - start})
				}
			}
			if hl, ok := fragment(t, marks); ok {
				out = append(out, hl)
			}
			start = end + 1
		}
	}
	slices.SortStableFunc(out, func(a, b Highlight) int {
		if d := fieldOrder[a.Field] - fieldOrder[b.Field]; d != 0 {
			return d
		}
		return strings.Compare(a.Lang, b.Lang)
	})
	if len(out) > maxHighlights {
		out = out[:maxHighlights]
	}
	return out
}

// fragment cuts the part of t around its first mark (byte offsets) and
// gives the marks in code points of the fragment.
func fragment(t text, marks [][2]int) (Highlight, bool) {
	s := t.Text
	var keep [][2]int
	for _, m := range marks {
		if m[1] <= len(s) && utf8.RuneStart(s[m[0]]) && (m[1] == len(s) || utf8.RuneStart(s[m[1]])) {
			keep = append(keep, m)
		}
	}
	if len(keep) == 0 {
		return Highlight{}, false
	}
	slices.SortFunc(keep, func(a, b [2]int) int { return a[0] - b[0] })
	// Cut at most fragmentRunes runes, starting a little before the first
	// mark.
	from, to := 0, len(s)
	if utf8.RuneCountInString(s) > fragmentRunes {
		from = keep[0][0]
		for i := 0; i < fragmentBefore && from > 0; i++ {
			_, n := utf8.DecodeLastRuneInString(s[:from])
			from -= n
		}
		to = from
		for i := 0; i < fragmentRunes && to < len(s); i++ {
			_, n := utf8.DecodeRuneInString(s[to:])
			to += n
		}
	}
	prefix, suffix := "", ""
	if from > 0 {
		prefix = "…"
	}
	if to < len(s) {
		suffix = "…"
	}
	base := utf8.RuneCountInString(prefix)
	hl := Highlight{Field: t.Field, Lang: t.Lang, Text: prefix + s[from:to] + suffix}
	for _, m := range keep {
		if m[0] < from || m[1] > to {
			continue
		}
		sp := Span{Start: base + utf8.RuneCountInString(s[from:m[0]]), End: base + utf8.RuneCountInString(s[from:m[1]])}
		// CJK bigrams overlap: merge touching marks.
		if n := len(hl.Marks); n > 0 && sp.Start <= hl.Marks[n-1].End {
			hl.Marks[n-1].End = max(hl.Marks[n-1].End, sp.End)
			continue
		}
		hl.Marks = append(hl.Marks, sp)
	}
	return hl, len(hl.Marks) > 0
}
