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
	newestToken  = 1
	oldestToken  = 2
	anotherToken = 3

	// Tokens to create (b3 of create_token), as in modelNewTokens.
	tokenPlain      = 0
	tokenShortLived = 2
	tokenBadTTL     = 4

	// Request IDs of clients that make UUIDv7s (b4).
	v7Now    = 12
	v7Old    = 13
	v7Future = 1<<4 | 13

	// Attachment requests: the file (b3, as in modelFiles) and its
	// visibility, and (b4) add or remove.
	fileDeck, fileOther, fileDeckCopy, fileBad = 0, 1, 2, 3
	visShared, visDivision                     = 1 << 2, 2 << 2
	addFresh                                   = freshID
	addAtCurrent                               = 10<<4 | freshID
	removeFresh                                = 1<<4 | freshID
	removeAtStale                              = 13<<4 | freshID

	// What the leader does (b3 of kLeader).
	leaderRestart = 0
	leaderRaise   = 4
	leaderPrune   = 5 // | the window's index in modelRetentions << 4
	leaderBehind  = 6
	leaderAhead   = 1<<4 | 6
	leaderRight   = 7

	// Registry requests (b3 of kRegistry): the request | the variant << 4.
	regAddSite    = 0
	regCreateOrg  = 1
	regUpdateOrg  = 2
	regSetDeal    = 3
	regTopology   = 4 // the leader registers first-level sites
	orgDraft      = 3 // the draft that links org-0001
	linkOrgPatch  = 4 // the patch that links org-0003
	unlinkPatch   = 5
	subnodeUser   = 9 // modelNewUsers: node staff of MUC-TUM
	mucUser       = 2
	typoUser      = 10
	hqSiteUser    = 11
	labUser       = 12
	stagedVersion = 13<<4 | freshID // a stale expected version
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

// flowSeed is a seed op of the workflow: sub picks the command from
// flowKinds, variant its fields (see decodeFlow), back the lead among
// the newest (0: the newest) while n leads exist; note and b4 as for the
// other kinds.
func flowSeed(sub Op, actor byte, variant, back, n int, note, requestAndVersion byte) seedOp {
	i := 0
	for i < len(flowKinds) && flowKinds[i] != sub {
		i++
	}
	target := byte(4 * variant)
	for b := 4 * variant; b < 4*variant+4 && n > 0; b++ {
		if b%min(n, 3) == back {
			target = byte(b)
			break
		}
	}
	return seedOp{kind: kFlow, actor: actor, target: target, variant: byte(i) | note, requestAndVersion: requestAndVersion}
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
		"workflow: close and reopen": encodeOps(
			seedOp{kSubmit, 2, 0, 0, freshID, 0, 0},
			seedOp{kReview, 1, 0, approve, freshID, 0, 0},
			seedOp{kClaim, 5, 0, 0, freshID, 0, 0},
			flowSeed(OpClose, 5, int(Duplicate), 0, 1, noteNone, freshID), // format 1: refused
			seedOp{kLeader, 0, 0, leaderRaise, 0, 0, 0},
			seedOp{kAdvance, 5, 0, toNegotiating, freshID, 0, 0},
			flowSeed(OpClose, 6, int(Duplicate), 0, 1, noteNone, freshID),
			flowSeed(OpClose, 5, int(OtherReason), 0, 1, noteBlank, freshID),
			flowSeed(OpClose, 5, int(PartnerWithdrew)+7*3, 0, 1, noteNone, freshID), // HQ_AND_SITE
			flowSeed(OpClose, 5, int(TermsNotAgreed), 0, 1, noteReason, atCurrent),
			seedOp{kRetry, 0, 0, 0, 0, 1, 0},
			seedOp{kAdvance, 5, 0, toSigned, freshID, 0, 0},
			seedOp{kClaim, 6, 0, 0, freshID, 0, 0},
			flowSeed(OpReopen, 5, 1, 0, 1, noteReason, freshID),
			flowSeed(OpReopen, 1, 1, 0, 1, noteBlank, freshID),
			flowSeed(OpReopen, 1, 3, 0, 1, noteReason, freshID),
			flowSeed(OpReopen, 1, 1, 0, 1, noteReason, freshID),
			seedOp{kClaim, 6, 0, 0, freshID, 0, 0},
			flowSeed(OpClose, 1, int(ProjectStopped)+7*2, 0, 1, noteReason, freshID),
			flowSeed(OpReopen, 1, 0, 0, 1, noteReason, freshID),
			seedOp{kClaim, 6, 0, 0, freshID, 0, 0},
			seedOp{kReview, 1, 0, approve, freshID, 0, 0},
			seedOp{kLeader, 0, 0, leaderRestart, 0, 0, 0},
			seedOp{kClaim, 4, 0, 0, freshID, 0, 0},
			seedOp{kAdvance, 4, 0, toNegotiating | 8, freshID, 0, 0},
			seedOp{kAdvance, 4, 0, toSigned, freshID, 0, 0},
			flowSeed(OpClose, 4, int(WentToAnotherRegion), 0, 1, noteReason, freshID),
			seedOp{kRetry, 0, 0, 0, 0, 0, 0},
			seedOp{kSubmit, 2, 0, 0, freshID, 0, 0},
			seedOp{kReview, 1, 0, decline, freshID, 0, 0},
			flowSeed(OpReopen, 1, 1, 0, 2, noteReason, freshID),
			seedOp{kWithdraw, 2, 0, 0, freshID, 0, 0},
			flowSeed(OpReopen, 1, 0, 0, 2, noteReason, freshID),
		),
		"workflow: assigned leads and interests": encodeOps(
			seedOp{kLeader, 0, 0, leaderRaise, 0, 0, 0},
			flowSeed(OpSetDefaultClaimMode, 5, 1, 0, 0, noteNone, freshID),
			flowSeed(OpSetDefaultClaimMode, 1, 1, 0, 0, noteNone, freshID),
			seedOp{kSubmit, 2, 0, 0, freshID, 0, 0},
			seedOp{kReview, 1, 0, approve, freshID, 0, 0},
			seedOp{kClaim, 5, 0, 0, freshID, 0, 0},
			flowSeed(OpExpressInterest, 5, 0, 0, 1, noteNone, freshID),
			flowSeed(OpExpressInterest, 6, 1, 0, 1, noteNone, freshID),
			flowSeed(OpExpressInterest, 4, 2, 0, 1, noteNone, freshID),
			flowSeed(OpExpressInterest, 1, 0, 0, 1, noteNone, freshID),
			flowSeed(OpExpressInterest, 5, 1, 0, 1, noteNone, atCurrent),
			seedOp{kRetry, 0, 0, 0, 0, 0, 0},
			flowSeed(OpWithdrawInterest, 6, 0, 0, 1, noteNone, freshID),
			flowSeed(OpWithdrawInterest, 6, 0, 0, 1, noteNone, freshID),
			flowSeed(OpWithdrawInterest, 4, 0, 0, 1, noteNone, freshID),
			flowSeed(OpAssign, 5, 2, 0, 1, noteNone, freshID),
			flowSeed(OpAssign, 1, 4, 0, 1, noteNone, freshID),
			flowSeed(OpAssign, 1, 2, 0, 1, noteReason, atCurrent),
			flowSeed(OpAssign, 1, 0, 0, 1, noteNone, freshID),
			flowSeed(OpAssign, 1, 2, 0, 1, noteNone, freshID),
			seedOp{kClaim, 5, 0, 0, freshID, 0, 0},
			flowSeed(OpExpressInterest, 4, 0, 0, 1, noteNone, freshID),
			flowSeed(OpSetClaimMode, 1, 0, 0, 1, noteNone, freshID),
			seedOp{kRelease, 1, 0, 0, freshID, 0, 0},
			seedOp{kClaim, 4, 0, 0, freshID, 0, 0},
			flowSeed(OpSetClaimMode, 1, 0, 0, 1, noteNone, freshID),
			seedOp{kLeader, 0, 0, leaderRestart, 0, 0, 0},
			seedOp{kClaim, 4, 0, 0, freshID, 0, 0},
			flowSeed(OpWithdrawInterest, 5, 0, 0, 1, noteNone, freshID),
			seedOp{kSubmit, 3, 0, 0, freshID, 0, 0},
			flowSeed(OpSetClaimMode, 1, 1, 0, 2, noteNone, freshID),
			seedOp{kReview, 1, 0, approve, freshID, 0, 0},
			seedOp{kClaim, 6, 0, 0, freshID, 0, 0},
			flowSeed(OpSetDefaultClaimMode, 1, 0, 0, 0, noteNone, freshID),
			seedOp{kSubmit, 3, 0, 0, freshID, 0, 0},
			seedOp{kReview, 1, 0, approve | 8, freshID, 0, 0},
			seedOp{kClaim, 6, 0, 0, freshID, 0, 0},
			seedOp{kReview, 1, 0, returnIt | 8, freshID, 0, 0},
		),
		"workflow: comments": encodeOps(
			seedOp{kSubmit, 2, 0, 0, freshID, 0, 0},
			flowSeed(OpComment, 2, 0, 0, 1, noteReason, freshID), // format 1: refused
			seedOp{kLeader, 0, 0, leaderRaise, 0, 0, 0},
			flowSeed(OpComment, 2, 0, 0, 1, noteReason, freshID),
			flowSeed(OpComment, 2, 1, 0, 1, noteReason, freshID),
			flowSeed(OpComment, 2, 2, 0, 1, noteReason, freshID),
			flowSeed(OpComment, 1, 1, 0, 1, noteReason, freshID),
			flowSeed(OpComment, 1, 2, 0, 1, noteReason, freshID),
			flowSeed(OpComment, 1, 2+5*2, 0, 1, noteReason, freshID),
			flowSeed(OpComment, 5, 0, 0, 1, noteReason, freshID),
			seedOp{kReview, 1, 0, approve, freshID, 0, 0},
			flowSeed(OpComment, 6, 0, 0, 1, noteReason, freshID),
			flowSeed(OpComment, 6, 1, 0, 1, noteReason, freshID),
			flowSeed(OpComment, 6, 2, 0, 1, noteReason, freshID),
			flowSeed(OpComment, 6, 2+5*3, 0, 1, noteReason, freshID),
			flowSeed(OpComment, 0, 0, 0, 1, noteReason, freshID),
			flowSeed(OpComment, 3, 0, 0, 1, noteReason, freshID),
			flowSeed(OpComment, 2, 0+5*3, 0, 1, noteReason, freshID),
			flowSeed(OpComment, 2, 0, 0, 1, noteBlank, freshID),
			flowSeed(OpComment, 2, 4, 0, 1, noteReason, freshID),
			flowSeed(OpComment, 1, 2+5*5, 0, 1, noteReason, freshID),
			seedOp{kClaim, 5, 0, 0, freshID, 0, 0},
			flowSeed(OpComment, 1, 2, 0, 1, noteReason, reusedID),
			seedOp{kRetry, 0, 0, 0, 0, 0, 0},
			flowSeed(OpComment, 1, 2, 0, 1, noteReason, reusedID),
			flowSeed(OpComment, 5, 2, 0, 1, noteReason, atCurrent),
			seedOp{kFlow, 1, missingLead(1), 7 | noteReason, freshID, 0, 0}, // a comment on a lead that does not exist
		),
		"sites and sub-nodes": encodeOps(
			seedOp{kAddUser, 0, subnodeUser, 0, freshID, 0, 0}, // format 1: refused
			seedOp{kLeader, 0, 0, leaderRaise, 0, 0, 0},
			seedOp{kAddUser, 0, typoUser, 0, freshID, 0, 0}, // no registry yet: taken
			seedOp{kRegistry, 0, 0, regTopology | 1<<4, 0, 0, 0},
			seedOp{kRegistry, 0, 0, regTopology, 0, 0, 0},
			seedOp{kRegistry, 0, 0, regTopology, 0, 0, 0},
			seedOp{kRegistry, 0, 0, regAddSite, freshID, 0, 0},
			seedOp{kRegistry, 0, 0, regAddSite | 1<<4, freshID, 0, 0},
			seedOp{kRegistry, 0, 0, regAddSite, freshID, 0, 0},
			seedOp{kRegistry, 0, 0, regAddSite | 3<<4, freshID, 0, 0},
			seedOp{kRegistry, 1, 0, regAddSite | 2<<4, freshID, 0, 0},
			seedOp{kRegistry, 0, 0, regAddSite | 4<<4, freshID, 0, 0},
			seedOp{kAddUser, 0, subnodeUser, 0, freshID, 0, 0}, // user 8
			seedOp{kAddUser, 0, mucUser, 0, freshID, 0, 0},     // user 9
			seedOp{kAddUser, 0, typoUser, 0, freshID, 0, 0},
			seedOp{kAddUser, 0, hqSiteUser, 0, freshID, 0, 0},
			seedOp{kAddUser, 0, labUser, 0, freshID, 0, 0}, // user 10
			seedOp{kSubmit, 8, 0, 0, freshID, 0, 0},
			seedOp{kSubmit, 7, 0, 0, freshID, 0, 0}, // MUCH staff: not registered
			seedOp{kSubmit, 10, 0, 0, freshID, 0, 0},
			seedOp{kUpdate, 8, 0, 0, freshID, 0, 0}, // MUC-TUM staff on the lab's lead
			seedOp{kUpdate, 10, 1, 0, freshID, 0, 0},
			seedOp{kUpdate, 9, 1, 1, freshID, 0, 0},
			seedOp{kWithdraw, 3, 0, 0, freshID, 0, 0},
			seedOp{kLeader, 0, 0, leaderRestart, 0, 0, 0},
			seedOp{kWithdraw, 9, 0, 0, freshID, 0, 0},
			seedOp{kSubmit, 9, 0, 0, freshID, 0, 0},
		),
		"organizations and deal terms": encodeOps(
			seedOp{kRegistry, 2, 0, regCreateOrg, freshID, 0, 0}, // format 1: refused
			seedOp{kLeader, 0, 0, leaderRaise, 0, 0, 0},
			seedOp{kRegistry, 2, 0, regCreateOrg, freshID, 0, 0},
			seedOp{kRegistry, 5, 0, regCreateOrg | 1<<4, freshID, 0, 0},
			seedOp{kRegistry, 3, 0, regCreateOrg | 2<<4, freshID, 0, 0},
			seedOp{kRegistry, 2, 0, regCreateOrg | 1<<4, freshID, 0, 0},
			seedOp{kRegistry, 4, 0, regCreateOrg | 5<<4, freshID, 0, 0},
			seedOp{kRegistry, 1, 0, regCreateOrg | 3<<4, freshID, 0, 0},
			seedOp{kRegistry, 1, 0, regCreateOrg | 3<<4, reusedID, 0, 0},
			seedOp{kRetry, 0, 0, 0, 0, 0, 0},
			seedOp{kSubmit, 2, 0, orgDraft, freshID, 0, 0},
			seedOp{kUpdate, 2, 0, unlinkPatch, freshID, 0, 0},
			seedOp{kUpdate, 2, 0, linkOrgPatch, freshID, 0, 0},
			seedOp{kSubmit, 2, 0, 0, freshID, 0, 0},
			seedOp{kUpdate, 2, 0, unlinkPatch, freshID, 0, 0},
			seedOp{kReview, 1, 1, approve, freshID, 0, 0},
			seedOp{kClaim, 5, 1, 0, freshID, 0, 0},
			seedOp{kRegistry, 5, 1, regSetDeal, freshID, 0, 0},
			seedOp{kRegistry, 5, 1, regSetDeal | 1<<4, freshID, 0, 0},
			seedOp{kRegistry, 5, 1, regSetDeal | 4<<4, freshID, 0, 0},
			seedOp{kRegistry, 5, 1, regSetDeal | 3<<4, freshID, 0, 0},
			seedOp{kRegistry, 5, 1, regSetDeal | 8<<4, freshID, 0, 0},
			seedOp{kRegistry, 4, 1, regSetDeal, freshID, 0, 0},
			seedOp{kRegistry, 5, 1, regSetDeal | 1<<4, reusedID, 0, 0},
			seedOp{kRetry, 0, 0, 0, 0, 0, 0},
			seedOp{kRegistry, 5, 1, regSetDeal | 2<<4, stagedVersion, 0, 0},
			seedOp{kRegistry, 5, 1, regSetDeal | 6<<4, freshID, 0, 0},
			seedOp{kRelease, 1, 1, 0, freshID, 0, 0},
			seedOp{kLeader, 0, 0, leaderRestart, 0, 0, 0},
			seedOp{kClaim, 4, 1, 0, freshID, 0, 0},
			seedOp{kRegistry, 4, 1, regSetDeal | 2<<4, freshID, 0, 0},
			seedOp{kAdvance, 4, 1, toNegotiating, freshID, 0, 0},
			seedOp{kRegistry, 4, 1, regSetDeal, freshID, 0, 0},
			seedOp{kRegistry, 5, 1, regUpdateOrg, freshID, 0, 0},
			seedOp{kRegistry, 2, 1, regUpdateOrg, freshID, 0, 0},
			seedOp{kRegistry, 1, 0, regUpdateOrg | 2<<4, freshID, 0, 0},
			seedOp{kRegistry, 1, 0, regUpdateOrg | 1<<4, freshID, 0, 0},
			seedOp{kRegistry, 1, 1, regUpdateOrg | 3<<4, freshID, 0, 0},
			seedOp{kRegistry, 1, 2, regUpdateOrg | 4<<4, stagedVersion, 0, 0},
			seedOp{kRegistry, 5, 1, regUpdateOrg | 4<<4, freshID, 0, 0},
		),
		"attachments": encodeOps(
			seedOp{kSubmit, 2, 0, 0, freshID, 1, 0},
			seedOp{kAttachment, 2, 0, fileDeck | visShared, addFresh, 1, 0}, // format 1: refused
			seedOp{kLeader, 0, 0, leaderRaise, 0, 0, 0},
			seedOp{kAttachment, 2, 0, fileDeck | visShared, addFresh, 1, 0},
			seedOp{kAttachment, 1, 0, fileDeckCopy | visShared, addFresh, 0, 0}, // the same bytes
			seedOp{kAttachment, 2, 0, fileOther | visDivision, addFresh, 1, 0},
			seedOp{kAttachment, 3, 0, fileOther | visShared, addFresh, 0, 0},
			seedOp{kAttachment, 2, 0, fileBad | visShared, addFresh, 1, 0},
			seedOp{kReview, 1, 0, approve, freshID, 0, 0},
			seedOp{kClaim, 5, 0, 0, freshID, 2, 0},
			seedOp{kAttachment, 5, 0, fileOther | visDivision, addAtCurrent, 2, 0},
			seedOp{kAttachment, 5, 0, fileDeck | visDivision, addFresh, 2, 0},
			seedOp{kAttachment, 6, 0, fileOther, removeFresh, 0, 0},
			seedOp{kAttachment, 1, 0, fileDeck, removeFresh, 0, 0},
			seedOp{kAttachment, 1, 0, fileDeck | visShared, removeAtStale, 0, 0},
			seedOp{kAttachment, 1, 0, fileDeck | visShared, removeFresh, 0, 0},
			seedOp{kRetry, 0, 0, 0, 0, 0, 0},
			seedOp{kLeader, 0, 0, leaderRestart, 0, 0, 0},
			seedOp{kAttachment, 2, 0, fileDeck | visDivision, removeFresh, 1, 0},
			seedOp{kAttachment, 5, 0, fileOther, removeFresh, 2, 0},
			seedOp{kAttachment, 2, 0, fileDeck | visShared, addFresh, 1, 0}, // attached again
			seedOp{kSubmit, 2, 0, 0, freshID, 1, 0},
			seedOp{kWithdraw, 2, 0, 0, freshID, 1, 0},
			seedOp{kAttachment, 2, 0, fileDeck | visShared, addFresh, 1, 0}, // withdrawn
			seedOp{kAttachment, 2, 1, fileDeck | visShared, removeFresh, 1, 0},
			seedOp{kAttachment, nat, 1, fileOther | visShared, addFresh, 0, 0},
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
