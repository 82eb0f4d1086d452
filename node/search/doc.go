// Package search is a site's full-text index of the leads: ranked,
// per-language, cross-language search over what the site's state holds.
//
// The index is derived data. It is never part of the replicated state:
// the pipeline does not know it exists, every site builds its own from
// its own copy of the state, and it can be thrown away and rebuilt at any
// time. A site opens it beside its Raft data, tells it which leads an
// applied entry changed ([Index.Applied]) or that any lead may have
// changed, the state restored or an organisation renamed
// ([Index.Reread]), and runs [Index.Run] in the background; Run reads the
// changed leads from the state and writes them in batches, so following
// the log never slows Apply (the hooks only note an ID). A lead whose
// indexed text has not changed is not written again: the index keeps a
// fingerprint of each document beside it.
//
//	x, err := search.Open(search.Config{Dir: filepath.Join(dataDir, "search")}, state)
//	go x.Run(ctx)
//	// in the FSM, after Apply: x.Applied(index, lead.ID)
//	res, err := x.Search(ctx, search.Query{Text: "hydrogen storage", TRLMin: 6, Size: 10})
//
// # What is indexed
//
// For each lead: its title, summary and tags in the analyzer of the
// lead's language; every translation in the analyzer of its language; the
// organisation as written and, where the lead is linked to one, the
// organisation's name, English name and other names; and keyword fields
// for filters (site, sub-node, stage, sector, TRL, published). Languages:
// English (Porter stemming, possessives, stop words), German (light
// stemming, umlaut folding), Chinese, Japanese and Korean (CJK bigrams:
// a word of one character is looked for as the first of a pair),
// Hebrew (Unicode words, lower case, and each word also without the
// one-letter prefixes ה ו ב ל מ ש כ, up to two, where the rest is a word
// of node/lexicon or four letters or more), and any other language with
// the Unicode tokenizer and lower-casing. Names are indexed with a neutral analyzer (Unicode
// words, lower case, CJK bigrams) whatever the lead's language.
//
// # How a query is run
//
// The query text is matched against every language's fields, each with
// its own analyzer, so a German word is stemmed as German and a Chinese
// one cut into bigrams. It is then expanded across languages: every
// glossary term (the replicated glossary, built-in and HQ's) whose name
// in some language appears in the query, and every concept of
// innonet/node/lexicon (the technology vocabulary dedup and matching
// use) it finds in the query, adds its names in the other languages as
// further, less weighted alternatives ("氢能" also asks for "hydrogen"
// and "Wasserstoff"); a concept weighs as one alternative per language,
// however many names it has there. Titles and tags weigh more than
// summaries. Filters narrow the index's answer; the caller still checks
// each hit against the current state and the caller's visibility, since
// the index may lag the state by a batch.
//
// The site's index keeps term frequencies, not positions: where the
// words of a query are in a hit's text ([Index.Highlights]) is found for
// one page of hits at a time, in a small in-memory index of just those
// leads as the state holds them now, searched with the same query.
//
// # What it does not do
//
// It does not decide who may see a lead (the caller does, with the same
// check a list uses), does not translate, and does not detect duplicates.
// The index reflects the state as of [Index.Indexed], an applied index
// the state has reached; a search does not wait for it ([Index.WaitFor]
// does).
package search
