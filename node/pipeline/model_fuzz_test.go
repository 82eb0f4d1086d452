package pipeline

import (
	"fmt"
	"testing"
)

// seedOp is one operation of a hand-written seed; see the layout above
// opBytes. Actors number the fixture's users: 0 admin, 1 hq, 2 bos, 3 cbg,
// 4 bohai, 5 yrd, 6 prd, 7 the first user added; natural+i picks the
// usual sender. Targets below 192 count back from the newest lead. The
// token the actor shows is chosen as the layout says; origin and token
// share b0 and only origin 0 leaves room for showing another's token.
type seedOp struct {
	kind                      mKind
	actor, target, variant    byte
	requestAndVersion, origin byte
	token                     byte
}

// Bytes for b3 (variant and comment) and b4 (request ID and version).
const (
	noteNone    = 0 << 4
	noteReason  = 4 << 4
	noteBlank   = 12 << 4
	noteInvalid = 14 << 4

	approve     = 0 | noteReason
	returnIt    = 4 | noteReason
	returnBlank = 4 | noteBlank
	decline     = 6 | noteReason
	noDecision  = 7

	toNegotiating = 1
	toSigned      = 2
	toLanded      = 3
	toClaimed     = 0 // not a stage a lead is advanced to
	toNext        = 4

	freshID   = 5
	reusedID  = 0
	emptyID   = 14
	badID     = 15
	atCurrent = 10<<4 | freshID
	atStale   = 13<<4 | freshID

	// The token the actor shows (seedOp.token).
	newestToken  = 3
	oldestToken  = 5
	anotherToken = 6

	// Tokens to create (b3 of create_token), as in modelNewTokens.
	tokenPlain      = 0
	tokenShortLived = 2
	tokenBadTTL     = 4

	// Request IDs of clients that make UUIDv7s (b4).
	v7Now    = 12
	v7Old    = 13
	v7Future = 1<<4 | 13

	// What the leader does (b3 of kLeader).
	leaderRestart = 0
	leaderRaise   = 4
	leaderPrune   = 5 // | the window's index in modelRetentions << 4
	leaderBehind  = 6
	leaderAhead   = 1<<4 | 6
	leaderRight   = 7

	// What kFind does (b3), as in modelTranslations and modelGlossary.
	trDraft           = 0
	trVerify          = 1
	trRewrite         = 2
	trRewriteVerified = 10
	trEnglish         = 4
	trHebrew          = 5
	glossarySet       = 12
	glossaryDelete    = 14
)

// missingLead is a target byte that names a lead that does not exist
// while n leads do.
func missingLead(n int) byte {
	for b := 192; ; b++ {
		if b%(n+1) == n {
			return byte(b)
		}
	}
}

func encodeOps(ops ...seedOp) []byte {
	var out []byte
	for _, o := range ops {
		b0 := int(o.kind) + int(numKinds)*(int(o.origin)+len(origins)*int(o.token))
		if b0 > 255 {
			panic(fmt.Sprintf("seed op %+v does not fit in a byte", o))
		}
		out = append(out, byte(b0), o.actor, o.target, o.variant, o.requestAndVersion)
	}
	return out
}

// modelSeeds are stories the fuzzer starts from: a lead's whole life, a
// claim race, retries, resubmission, restarts, revocations, tokens that
// expire or are revoked under their users, and every kind of request sent
// by the wrong user.
func modelSeeds() map[string][]byte {
	nat := byte(natural)
	return map[string][]byte{
		"lifecycle": encodeOps(
			seedOp{kSubmit, 2, 0, 0, freshID, 1, 0},
			seedOp{kReview, 1, 0, approve, freshID, 0, 0},
			seedOp{kClaim, 5, 0, 0, freshID, 2, 0},
			seedOp{kAdvance, 5, 0, toNegotiating, freshID, 2, 0},
			seedOp{kAdvance, 5, 0, toSigned, atCurrent, 2, 0},
			seedOp{kAdvance, 5, 0, toLanded | noteReason, freshID, 2, 0},
			seedOp{kWithdraw, 2, 0, 0, freshID, 1, 0},
			seedOp{kAdvance, 5, 0, toNext, freshID, 2, 0},
		),
		"claim race": encodeOps(
			seedOp{kSubmit, 3, 0, 1, freshID, 0, 0},
			seedOp{kReview, 1, 0, approve, freshID, 0, 0},
			seedOp{kClaim, 4, 0, 0, freshID, 0, 0},
			seedOp{kClaim, 5, 0, 0, freshID, 0, 0},
			seedOp{kClaim, 4, 0, 0, freshID, 0, 0},
			seedOp{kRelease, 5, 0, 0, freshID, 0, 0},
			seedOp{kAdvance, 6, 0, toNegotiating, freshID, 0, 0},
			seedOp{kRelease, 1, 0, noteReason, freshID, 0, 0},
			seedOp{kClaim, 5, 0, 0, atStale, 0, 0},
			seedOp{kClaim, 5, 0, 0, atCurrent, 0, 0},
			seedOp{kRelease, 1, 0, 0, freshID, 0, 0},
		),
		"retries": encodeOps(
			seedOp{kSubmit, 2, 0, 0, reusedID, 0, 0},
			seedOp{kRetry, 0, 0, 0, 0, 1, 0},
			seedOp{kSubmit, 2, 0, 1, reusedID, 0, 0},
			seedOp{kReview, 1, 0, approve, reusedID, 0, 0},
			seedOp{kClaim, 6, 0, 0, 1, 0, 0},
			seedOp{kAdvance, 6, 0, toNegotiating, 1, 0, 0}, // r1 again, for another request
			seedOp{kAdvance, 6, 0, toNegotiating, freshID, 0, 0},
			seedOp{kRetry, 0, 0, 0, 0, 2, 0},
			seedOp{kSubmit, 2, 0, 0, emptyID, 0, 0},
			seedOp{kSubmit, 2, 0, 0, badID, 0, 0},
		),
		"return and resubmit": encodeOps(
			seedOp{kSubmit, 2, 0, 0, freshID, 0, 0},
			seedOp{kReview, 1, 0, returnBlank, freshID, 0, 0},
			seedOp{kReview, 1, 0, returnIt, freshID, 0, 0},
			seedOp{kUpdate, 3, 0, 0, freshID, 0, 0},
			seedOp{kUpdate, 2, 0, 2, freshID, 0, 0},
			seedOp{kUpdate, 2, 0, 3, freshID, 0, 0},
			seedOp{kUpdate, 2, 0, 0 | noteReason, atStale, 0, 0},
			seedOp{kUpdate, 2, 0, 1 | noteReason, atCurrent, 0, 0},
			seedOp{kReview, 1, 0, decline, freshID, 0, 0},
			seedOp{kWithdraw, 2, 0, 0, freshID, 0, 0},
			seedOp{kSubmit, 2, 0, 2, freshID, 0, 0},
			seedOp{kWithdraw, 2, 0, noteInvalid, freshID, 0, 0},
		),
		"restart": encodeOps(
			seedOp{kSubmit, 2, 0, 0, freshID, 0, 0},
			seedOp{kSubmit, 3, 0, 0, freshID, 0, 0},
			seedOp{kLeader, 0, 0, 0, 0, 0, 0},
			seedOp{kSubmit, 2, 0, 0, freshID, 0, 0},
			seedOp{kAddUser, 0, 2, 0, freshID, 0, 0},
			seedOp{kLeader, 0, 0, 0, 0, 0, 0},
			seedOp{kSubmit, 7, 0, 0, freshID, 0, 0},
			seedOp{kRetry, 0, 0, 0, 0, 0, 0},
			seedOp{kReview, nat, 1, approve, freshID, 0, 0},
		),
		"revocations": encodeOps(
			seedOp{kSubmit, 2, 0, 0, freshID, 0, 0},
			seedOp{kRevoke, 1, 2, 0, freshID, 0, 0},
			seedOp{kRevoke, 0, 0, 0, freshID, 0, 0},
			seedOp{kRevoke, 0, 7, 0, freshID, 0, 0},
			seedOp{kRevoke, 0, 8, 0, freshID, 0, 0},
			seedOp{kRevoke, 0, 2, 0, reusedID, 0, 0},
			seedOp{kRetry, 0, 0, 0, 0, 0, 0},
			seedOp{kSubmit, 2, 0, 0, freshID, 0, 0},
			seedOp{kWithdraw, 2, 0, 0, freshID, 0, 0},
			seedOp{kAddUser, 0, 7, 0, freshID, 0, 0},
			seedOp{kAddUser, 1, 6, 0, freshID, 0, 0},
		),
		"wrong users": encodeOps(
			seedOp{kSubmit, 1, 0, 0, freshID, 0, 0},
			seedOp{kSubmit, 0, 0, 0, freshID, 0, 0},
			seedOp{kSubmit, 4, 0, 0, freshID, 0, 0},
			seedOp{kSubmit, 7, 0, 0, freshID, 0, 0},
			seedOp{kSubmit, 2, 0, 0, freshID, 0, 0},
			seedOp{kUpdate, 3, 0, 0, freshID, 0, 0},
			seedOp{kReview, 0, 0, approve, freshID, 0, 0},
			seedOp{kReview, 2, 0, approve, freshID, 0, 0},
			seedOp{kWithdraw, 3, 0, 0, freshID, 0, 0},
			seedOp{kReview, 1, missingLead(1), approve, freshID, 0, 0},
			seedOp{kReview, 1, 255, approve, freshID, 0, 0},
			seedOp{kReview, 1, 0, noDecision, freshID, 0, 0},
			seedOp{kReview, 1, 0, approve, freshID, 0, 0},
			seedOp{kClaim, 1, 0, 0, freshID, 0, 0},
			seedOp{kClaim, 2, 0, 0, freshID, 0, 0},
			seedOp{kClaim, 4, 0, 0, freshID, 0, 0},
			seedOp{kAdvance, 5, 0, toNegotiating, freshID, 0, 0},
			seedOp{kAdvance, 1, 0, toNegotiating, freshID, 0, 0},
			seedOp{kAdvance, 4, 0, toClaimed, freshID, 0, 0},
			seedOp{kAdvance, 4, 0, toSigned, freshID, 0, 0},
			seedOp{kRelease, 6, 0, 0, freshID, 0, 0},
			seedOp{kRelease, 2, 0, 0, freshID, 0, 0},
			seedOp{kWithdraw, 2, 0, 0, freshID, 0, 0},
		),
		"tokens": encodeOps(
			seedOp{kCreateToken, 0, 2, tokenPlain, freshID, 0, newestToken},
			seedOp{kCreateToken, 2, 2, tokenShortLived, freshID, 1, 0},
			seedOp{kSubmit, 2, 0, 0, freshID, 1, newestToken},
			seedOp{kSubmit, 2, 0, 0, freshID, 1, oldestToken},
			seedOp{kSubmit, 2, 0, 0, freshID, 0, anotherToken},
			seedOp{kCreateToken, 1, 2, tokenPlain, freshID, 0, 0},
			seedOp{kCreateToken, 2, 3, tokenPlain, freshID, 0, 0},
			seedOp{kCreateToken, 2, 2, tokenBadTTL, freshID, 0, 0},
			seedOp{kSubmit, 2, 0, 0, freshID, 1, newestToken}, // the short-lived token has expired
			seedOp{kRetry, 0, 0, 0, 0, 2, oldestToken},
			seedOp{kRevokeToken, 2, 2, 0, freshID, 0, newestToken},
			seedOp{kSubmit, 2, 0, 0, freshID, 0, oldestToken},
			seedOp{kRevokeToken, 3, 2, 1, freshID, 0, 0},
			seedOp{kRevokeToken, 2, 2, 5, freshID, 0, 0},
			seedOp{kRevokeToken, 0, 0, 0, freshID, 0, 0},
			seedOp{kCreateToken, 0, 0, tokenShortLived, freshID, 0, 0},
			seedOp{kRevokeToken, 0, 0, 0, freshID, 0, 0},
			seedOp{kRevokeToken, 0, 0, 1, freshID, 0, newestToken},
			seedOp{kRevokeToken, 0, 0, 1, freshID, 0, oldestToken},
			seedOp{kRevoke, 0, 2, 0, freshID, 0, 0},
			seedOp{kCreateToken, 0, 2, tokenPlain, freshID, 0, 0},
			seedOp{kRevokeToken, 0, 2, 2, freshID, 0, 0},
			seedOp{kRevokeToken, 0, 2, 255, freshID, 0, 0},
		),
		"upgrade, prune and retry": encodeOps(
			seedOp{kSubmit, 2, 0, 0, v7Now, 0, 0},
			seedOp{kSubmit, 2, 0, 0, reusedID, 0, 0},
			seedOp{kLeader, 0, 0, leaderRaise, 0, 0, 0},
			seedOp{kRetry, 0, 0, 0, 0, 0, 0},
			seedOp{kSubmit, 2, 0, 0, v7Now, 0, 0},
			seedOp{kReview, 1, 0, approve, v7Now, 0, 0},
			seedOp{kRetry, 0, 0, 0, 0, 0, 0},
			seedOp{kLeader, 0, 0, leaderPrune | 1<<4, 0, 0, 0}, // 5s: the upgrade's records are older
			seedOp{kSubmit, 2, 0, 0, v7Old, 0, 0},
			seedOp{kClaim, 5, 0, 0, freshID, 0, 0},
			seedOp{kLeader, 0, 0, leaderRestart, 0, 0, 0},
			seedOp{kSubmit, 2, 0, 0, v7Old, 0, 0},
			seedOp{kLeader, 0, 0, leaderPrune | 1<<4, 0, 0, 0},
			seedOp{kLeader, 0, 0, leaderPrune | 1<<4, 0, 0, 0},
			seedOp{kAdvance, 5, 0, toNegotiating, freshID, 0, 0},
			seedOp{kAdvance, 5, 0, toSigned, freshID, 0, 0},
			seedOp{kSubmit, 2, 0, 0, v7Now, 0, 0},
			seedOp{kLeader, 0, 0, leaderPrune | 1<<4, 0, 0, 0},
			seedOp{kLeader, 0, 0, leaderPrune | 1<<4, 0, 0, 0},
			seedOp{kLeader, 0, 0, leaderPrune | 1<<4, 0, 0, 0},
			seedOp{kLeader, 0, 0, leaderPrune | 1<<4, 0, 0, 0},
			seedOp{kLeader, 0, 0, leaderPrune | 1<<4, 0, 0, 0},
			seedOp{kLeader, 0, 0, leaderPrune | 1<<4, 0, 0, 0}, // the submit is forgotten
			seedOp{kRetry, 0, 0, 0, 0, 0, 0},                   // and its retry refused
			seedOp{kSubmit, 2, 0, 0, v7Future, 0, 0},
			seedOp{kLeader, 0, 0, leaderPrune | 3<<4, 0, 0, 0},
			seedOp{kLeader, 0, 0, leaderRaise, 0, 0, 0},
			seedOp{kLeader, 0, 0, leaderRaise | 15<<4, 0, 0, 0},
		),
		"leadership moves to clocks behind and ahead": encodeOps(
			seedOp{kSubmit, 2, 0, 0, freshID, 0, 0},
			seedOp{kLeader, 0, 0, leaderBehind, 0, 0, 0},
			seedOp{kReview, 1, 0, approve, freshID, 0, 0},
			seedOp{kLeader, 0, 0, leaderRaise, 0, 0, 0},
			seedOp{kClaim, 5, 0, 0, freshID, 0, 0},
			seedOp{kLeader, 0, 0, leaderRight, 0, 0, 0},
			seedOp{kCreateToken, 2, 2, tokenShortLived, freshID, 0, 0},
			seedOp{kLeader, 0, 0, leaderAhead, 0, 0, 0},
			seedOp{kAdvance, 5, 0, toNegotiating, freshID, 0, 0},
			seedOp{kLeader, 0, 0, leaderBehind, 0, 0, 0},
			seedOp{kCreateToken, 2, 2, tokenShortLived, freshID, 0, 0},
			seedOp{kSubmit, 2, 0, 0, freshID, 1, newestToken},
			seedOp{kLeader, 0, 0, leaderRestart, 0, 0, 0},
			seedOp{kAdvance, 5, 1, toSigned, freshID, 0, 0},
			seedOp{kLeader, 0, 0, leaderRight, 0, 0, 0},
			seedOp{kSubmit, 2, 0, 0, freshID, 1, newestToken},
		),
		"translations and glossary": encodeOps(
			seedOp{kSubmit, 2, 0, 0, freshID, 0, 0},
			seedOp{kFind, 2, 0, trDraft, freshID, 0, 0}, // before the cluster reads format 2
			seedOp{kLeader, 0, 0, leaderRaise, 0, 0, 0},
			seedOp{kFind, 2, 0, trDraft, freshID, 1, 0},
			seedOp{kFind, 2, 0, trVerify, freshID, 1, 0}, // its own translation
			seedOp{kFind, 2, 0, trDraft, freshID, 1, 0},  // as it stands: no change
			seedOp{kFind, 3, 0, trDraft, freshID, 0, 0},  // another site's lead
			seedOp{kFind, 5, 0, trDraft, freshID, 0, 0},  // not published yet
			seedOp{kFind, 1, 0, trVerify, atCurrent, 0, 0},
			seedOp{kRetry, 0, 0, 0, 0, 0, 0},
			seedOp{kFind, 2, 0, trEnglish, freshID, 0, 0}, // the lead is in English
			seedOp{kFind, 2, 0, trDraft | 15<<4, freshID, 0, 0},
			seedOp{kUpdate, 2, 0, 0, freshID, 0, 0}, // the translation is outdated
			seedOp{kFind, 1, 0, trVerify, atStale, 0, 0},
			seedOp{kFind, 1, 0, trVerify, freshID, 0, 0}, // HQ confirms it
			seedOp{kReview, 1, 0, approve, freshID, 0, 0},
			seedOp{kFind, 5, 0, trRewrite, freshID, 2, 0},
			seedOp{kFind, 6, 0, trRewriteVerified, freshID, 2, 0}, // another division verifies it
			seedOp{kFind, 4, 0, trHebrew, freshID, 2, 0},
			seedOp{kFind, 1, 0, glossarySet, freshID, 0, 0},
			seedOp{kFind, 1, 1, glossarySet, freshID, 0, 0},
			seedOp{kFind, 2, 0, glossarySet, freshID, 0, 0},
			seedOp{kFind, 1, 3, glossarySet, freshID, 0, 0},
			seedOp{kFind, 1, 0, glossaryDelete, freshID, 0, 0},
			seedOp{kFind, 1, 0, glossaryDelete, freshID, 0, 0},
			seedOp{kFind, 1, 1, glossaryDelete, reusedID, 0, 0},
			seedOp{kRetry, 0, 0, 0, 0, 0, 0},
			seedOp{kLeader, 0, 0, leaderRestart, 0, 0, 0},
			seedOp{kFind, 7, 0, trDraft, freshID, 0, 0},
		),
		"usual senders": encodeOps(
			seedOp{kSubmit, nat, 0, 0, freshID, 0, 0},
			seedOp{kSubmit, nat + 1, 0, 0, freshID, 0, 0},
			seedOp{kReview, nat, 0, approve, freshID, 0, 0},
			seedOp{kReview, nat, 1, approve, freshID, 0, 0},
			seedOp{kClaim, nat, 0, 0, freshID, 0, 0},
			seedOp{kClaim, nat + 1, 1, 0, freshID, 0, 0},
			seedOp{kClaim, nat + 2, 1, 0, freshID, 0, 0},
			seedOp{kAdvance, nat, 0, toNext, freshID, 0, 0},
			seedOp{kRelease, nat + 1, 1, 0, freshID, 0, 0},
			seedOp{kRelease, nat + 1, 0, 0, freshID, 0, 0},
			seedOp{kWithdraw, nat, 1, 0, freshID, 0, 0},
		),
	}
}

// FuzzModel applies sequences of requests (lead transitions by the right
// and the wrong users, retries, users and tokens added and revoked, site
// restarts) to the pipeline, entry by entry through Apply as Raft does,
// and to the reference model in model_test.go, and fails on the first
// difference: accepted or refused and with which code, the lead, user or
// token returned, the IDs handed out, and then every lead, its history,
// every user and every token. At the end another site applies the same
// log and must end in the same state.
func FuzzModel(f *testing.F) {
	for _, data := range modelSeeds() {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := newModelRun(t, plantedIn{})
		if err := r.run(data); err != nil {
			t.Fatal(err)
		}
		if err := r.replay(); err != nil {
			t.Fatal(err)
		}
	})
}
