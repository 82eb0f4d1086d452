// Package lexicon maps technology vocabulary in English, German, Chinese
// and Hebrew to language-neutral concept IDs, so that two texts about the
// same technology in different languages can be compared without machine
// translation.
//
// The built-in table (terms.go) is generic technology and business
// vocabulary of the kind found in any technology-transfer pipeline
// (hydrogen, battery, membrane, antibody, lidar, …); it is not derived from
// any particular set of leads. Each row is one concept with its terms per
// language; a term may be a phrase.
//
// Matching rules differ per script because the languages build words
// differently:
//
//   - English: whole tokens after light plural stemming; phrases match as
//     token sequences, longest first ("fuel cell" before "cell").
//   - German: a term of five or more letters matches inside a token, so
//     "Wasserstoffspeicher" yields hydrogen and storage; shorter terms
//     must equal a token.
//   - Chinese: substring of the text, as Chinese is written without spaces.
//   - Hebrew: substring of the text, which tolerates the attached prefixes
//     (ה, ב, ל, ו, …) and construct forms.
//
// English terms are tried on every text, because German, Chinese and
// Hebrew leads carry English words and acronyms (Micro-LED, SiC, AI).
//
// Typical use:
//
//	lx := lexicon.Default()
//	for _, m := range lx.Find("Feststoff-Wasserstoffspeicher") {
//		fmt.Println(m.Concept, m.Term) // hydrogen wasserstoff, storage speicher, solid feststoff
//	}
//
// A Lexicon is immutable after construction and safe for concurrent use.
// The package does not translate, segment Chinese beyond its own terms, or
// guess concepts for words it does not know.
package lexicon
