// Package dedup finds leads that describe the same organisation and the
// same technology as a lead already known, across the languages the nodes
// write in (en, de, he, zh).
//
// An [Index] holds the existing leads; [Index.Check] scores one candidate
// against them and returns possible duplicates, most confident first, each
// with the reasons a person can verify:
//
//	ix := dedup.New(dedup.DefaultConfig())
//	for _, l := range existing {
//		if err := ix.Put(l); err != nil { ... }
//	}
//	for _, c := range ix.Check(candidate) {
//		fmt.Println(c.ID, c.Confidence, c.Duplicate, c.Reasons)
//	}
//
// The index follows the leads as they change: [Index.Put] adds a lead or
// replaces the one with the same ID (an edit), [Index.Remove] drops one
// (merged into another, or withdrawn), and [Index.Add] adds a lead whose
// ID must be new. Check never returns the lead it was given (by ID), a
// removed lead, or an old version of an edited one.
//
// An Index is safe for concurrent use. Checks run in parallel with each
// other; a change takes a write lock only after the lead's text has been
// read, waits for the checks in progress, and is seen in full by every
// check that starts after it returns.
//
// # How a pair is scored
//
// A duplicate is the same organisation with the same technology, so the
// score has two parts and needs both (score.go):
//
//   - Organisation evidence o in [0,1], the noisy-or of independent signals:
//     a shared organisation e-mail or web domain (free mail such as
//     gmail.com is ignored), the same domain name under another ending
//     (a subsidiary on .com, the parent on .de), the organisation name
//     equal after normalisation (normalize.go), the name equal to the
//     other's domain name, the same contact e-mail, the same contact person.
//   - Technology similarity s in [0,1]: a cosine of IDF-weighted features
//     of title, tags (both counted twice) and summary (features.go). The
//     features are concepts of the lexicon package (hydrogen, Wasserstoff,
//     氢 and מימן are one feature), Latin words and brand names, numbers,
//     and for two leads in the same language also Chinese character bigrams
//     and Hebrew words. Leads in different languages are compared only on
//     the features both can carry. The words of a lead's own organisation
//     name and domain are left out: a firm names itself in every lead it
//     writes, and that is organisation evidence, not technology.
//
// The confidence is o^(1-w) · r^w, where r is s mapped linearly from
// [Config.SimLow, Config.SimHigh] to [0,1] and w is [Config.TextWeight]
// (0.6): the technology has to carry more of the weight than the
// organisation, so a shared domain without a shared technology (a firm's
// second product) stays low, and so does an identical generic title from
// an unrelated organisation. With no organisation evidence the confidence
// is capped well below the threshold: such a pair is shown as a possible
// duplicate for a person to judge, never flagged.
//
// Metadata is mild evidence, because submitters disagree on it for the
// same deal: a different deal type or sector multiplies the confidence
// by [Config.DealTypeFactor] or [Config.SectorFactor] (0.9 each), and
// every TRL step beyond the ±1 that duplicates show by
// [Config.TRLGapFactor] (0.85). All of them appear in the reasons.
//
// A lead about a firm's further product usually says so ("Besides its
// tactile gripper, …", "Als zweites Produkt …", "除了…", "בנוסף ל…";
// other.go). The phrase naming the other product is left out of the text
// features, and when only one of two leads with organisation evidence
// says so, the confidence is multiplied by [Config.OtherProductFactor]
// (0.7).
//
// # Speed
//
// Check scores only a block of leads that share a blocking key with the
// candidate: a domain, a domain name, an e-mail address, a contact person,
// a normalised organisation name or word, or one of its rarest text
// features. Keys held by more than [Config.MaxPosting] leads
// ([Config.MaxTextPosting] for text features) are skipped,
// so the cost of a check does not grow with the size of the index. A
// block may still hold hundreds of leads (a text of common words). Most
// of them are never scored in full: an upper bound of the similarity,
// from the features the two share, which the index finds by number, and
// the candidate's weights, worked out once per check, shows that they
// cannot reach [Config.MinConfidence] (bound.go). The answers are the
// same as with every lead of the block scored.
//
// A replaced or removed lead is taken out of the key counts (and so the
// document frequencies) at once; its entries in the posting lists are
// skipped by checks until the dead entries are as many as the live ones,
// when the lists are rewritten without them. That rewrite holds the write
// lock for a time that grows with the index (about 40 ms for 60,000
// slots), once per that many changes.
//
// At 100,000 synthetic leads a check takes about 0.5 ms and a Put about
// 0.6 ms, most of it reading the lead's text; building the index takes
// about 30 s on one core (bench_test.go).
//
// The package keeps no global mutable state and does no I/O. It does not
// merge leads, decide for a person, or translate text.
package dedup
