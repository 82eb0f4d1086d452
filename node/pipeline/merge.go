package pipeline

// Merging duplicates. When two sites push the same organisation and
// technology, HQ merges one lead (the duplicate) into the other (the
// survivor):
//
//	from                                     to      by
//	SUBMITTED,RETURNED,APPROVED,DECLINED,    MERGED  HQ, into a lead that is not MERGED itself
//	WITHDRAWN,LOST
//
// The duplicate becomes final (MERGED) and points at the survivor
// (mergedInto); the survivor lists it (mergedFrom) and its history says so
// with HQ's comment (MERGE_IN). Both histories stay readable, and since a
// MERGED lead counts in no other stage, counts do not double. A lead a
// division works (CLAIMED, NEGOTIATING, SIGNED, LANDED) is not merged away:
// the division releases or closes it first, or HQ merges the other lead
// into it. The comment is HQ's and the submitting site's, like a review's.

// MaxMergeComment bounds the comment of a merge.
const MaxMergeComment = MaxComment

func (c Command) validateMerge() *Error {
	if err := checkLeadID(c.LeadID); err != nil {
		return err
	}
	if c.Into == "" {
		return invalid("into", "is required: the ID of the lead this one duplicates, which stays")
	}
	if !ValidLeadID(c.Into) {
		return invalid("into", "%q is not a lead ID of the form SITE-NNNN", truncate(c.Into, 40))
	}
	if c.Into == c.LeadID {
		return invalid("into", "a lead cannot be merged into itself (%s)", c.LeadID)
	}
	return checkComment("comment", c.Comment, false)
}

func init() {
	rules[OpMerge] = rule{allowed: role(HQReviewer, "merge leads"), apply: (*applier).merge}
}

// merge moves l, the duplicate, to MERGED and records it on the survivor.
func (a *applier) merge(l *Lead) (string, *Error) {
	switch l.Stage {
	case Submitted, Returned, Approved, Declined, Withdrawn, Lost:
	case Merged:
		return "", errorf(CodePrecondition, "lead %s was already merged into %s", l.ID, l.MergedInto)
	default:
		return "", errorf(CodePrecondition, "lead %s is in stage %s, worked by %s: a lead a division works is not merged away; merge the other lead into %s instead, or release or close it first", l.ID, l.Stage, l.Division, l.ID)
	}
	into, err := getLead(a.txn, a.cmd.Into)
	if err != nil {
		if err.Code == CodeNotFound {
			return "", invalid("into", "lead %s does not exist", a.cmd.Into)
		}
		return "", err
	}
	if into.Stage == Merged {
		return "", errorf(CodePrecondition, "lead %s was itself merged into %s: merge into %s", into.ID, into.MergedInto, into.MergedInto)
	}
	l.Stage, l.MergedInto, l.StageComment = Merged, into.ID, a.cmd.Comment
	next := into.clone()
	next.MergedFrom = append(next.MergedFrom, l.ID)
	next.Version, next.Updated = into.Version+1, a.now
	if err := a.save(next, "MERGE_IN", into.Stage); err != nil {
		return "", err
	}
	return "MERGE", nil
}
