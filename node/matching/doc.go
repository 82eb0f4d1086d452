// Package matching ranks the divisions (BOHAI, YRD, PRD, …) that should
// claim a lead, from their focus profiles, with reasons a person can check.
//
//	profiles, err := matching.Parse(divisionsJSON)
//	m := matching.New(profiles)
//	for _, s := range m.Rank(lead) {
//		fmt.Println(s.Division, s.Score, s.Reasons)
//	}
//
// # Scoring
//
// Texts are compared as concepts of the lexicon package, so German and
// Hebrew leads meet profiles written in English and Chinese. A lead's
// concepts come from its title and tags (counted twice) and its summary
// (once). A division's score is the sum of:
//
//   - keywords: for each lead concept among the concepts of the division's
//     keywords, its weight times its count. A keyword the lexicon does not
//     know (an acronym such as EDA) is matched literally.
//   - enterprises: the same sum over the needs (en and zh) of the one
//     local enterprise whose needs the lead meets best, named in the
//     reasons; a person can ask that enterprise.
//   - sector: SectorWeight × (n − r)/n when the lead's sector is the
//     division's r-th of n ranked sectors (r from 0), else nothing.
//   - TRL and deal type, tie-breakers only: TRLBonus when the TRL lies in
//     the division's range (half of it below the preferred minimum), and
//     DealBonus when the deal type is one the division prefers.
//
// A concept's weight is 1/k when k of the divisions name it in their
// keywords or needs, so a concept every division wants (sensors, AI)
// counts little, and one only a single division wants counts fully.
//
// Ranking is deterministic: ties are broken by the order of the profiles.
// The package does not learn from claims or read anything but the
// profiles it is given.
package matching
