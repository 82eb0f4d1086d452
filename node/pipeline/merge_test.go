package pipeline

import (
	"slices"
	"testing"
)

func TestMerge(t *testing.T) {
	f := newFlowFixture(t)
	dup, keep := f.leadIn(Submitted), f.leadIn(Approved)
	res := f.ok("hq", Command{Op: OpMerge, LeadID: dup, Into: keep, Comment: "same startup as " + keep})
	if l := res.Lead; l.ID != dup || l.Stage != Merged || l.MergedInto != keep || l.StageComment != "same startup as "+keep {
		t.Fatalf("merged lead: %+v", l)
	}
	if !Merged.Final() || !Merged.Valid() {
		t.Error("MERGED must be a valid, final stage")
	}
	k := f.lead(keep)
	if !slices.Equal(k.MergedFrom, []string{dup}) || k.Stage != Approved || k.Version != 3 {
		t.Errorf("survivor: merged from %v, stage %s, version %d", k.MergedFrom, k.Stage, k.Version)
	}
	// Both histories say so.
	h := f.history(dup)
	if e := h[len(h)-1]; e.Action != "MERGE" || e.From != Submitted || e.To != Merged || !hasChange(e.Changes, "mergedInto", "", keep) {
		t.Errorf("the duplicate's last event: %+v", e)
	}
	h = f.history(keep)
	if e := h[len(h)-1]; e.Action != "MERGE_IN" || e.From != Approved || e.To != Approved || !hasChange(e.Changes, "mergedFrom", "", dup) {
		t.Errorf("the survivor's last event: %+v", e)
	}
	// A MERGED lead counts as MERGED only.
	if c := f.st.Counts(); c[Merged] != 1 || c[Submitted] != 0 || c[Approved] != 1 {
		t.Errorf("counts: %v", c)
	}
	// A second duplicate joins the list; a retry answers as the first time.
	dup2 := f.leadIn(Declined)
	cmd := Command{Op: OpMerge, LeadID: dup2, Into: keep, RequestID: "merge-2"}
	first := f.ok("hq", cmd)
	again := f.ok("hq", cmd)
	if !again.Replayed || again.Lead.Stage != Merged || again.Lead.MergedInto != keep || again.Lead.Version != first.Lead.Version {
		t.Errorf("replayed merge: %+v", again.Lead)
	}
	if k := f.lead(keep); !slices.Equal(k.MergedFrom, []string{dup, dup2}) {
		t.Errorf("survivor merged from %v", k.MergedFrom)
	}
}

func TestMergeRefused(t *testing.T) {
	f := newFlowFixture(t)
	keep := f.leadIn(Submitted)
	merged := f.leadIn(Submitted)
	f.ok("hq", Command{Op: OpMerge, LeadID: merged, Into: keep})
	for _, tc := range []struct {
		name, actor string
		cmd         func() Command
		sentinel    error
		msgs        []string
	}{
		{"node staff", "bos", func() Command { return Command{Op: OpMerge, LeadID: f.leadIn(Submitted), Into: keep} }, ErrPermission, []string{"HQ_REVIEWER"}},
		{"a division", "yrd", func() Command { return Command{Op: OpMerge, LeadID: f.leadIn(Approved), Into: keep} }, ErrPermission, nil},
		{"into itself", "hq", func() Command { return Command{Op: OpMerge, LeadID: keep, Into: keep} }, ErrInvalid, []string{"into", "itself"}},
		{"no into", "hq", func() Command { return Command{Op: OpMerge, LeadID: keep} }, ErrInvalid, []string{"into", "required"}},
		{"into not an ID", "hq", func() Command { return Command{Op: OpMerge, LeadID: keep, Into: "BOS-x"} }, ErrInvalid, []string{"into", "SITE-NNNN"}},
		{"into unknown", "hq", func() Command { return Command{Op: OpMerge, LeadID: f.leadIn(Submitted), Into: "BOS-9999"} }, ErrInvalid, []string{"into", "BOS-9999"}},
		{"into a merged lead", "hq", func() Command { return Command{Op: OpMerge, LeadID: f.leadIn(Submitted), Into: merged} }, ErrPrecondition, []string{merged, keep}},
		{"merged again", "hq", func() Command { return Command{Op: OpMerge, LeadID: merged, Into: f.leadIn(Submitted)} }, ErrPrecondition, []string{"already merged"}},
		{"a claimed lead", "hq", func() Command { return Command{Op: OpMerge, LeadID: f.leadIn(Claimed), Into: keep} }, ErrPrecondition, []string{"CLAIMED", "YRD"}},
		{"a landed lead", "hq", func() Command { return Command{Op: OpMerge, LeadID: f.leadIn(Landed), Into: keep} }, ErrPrecondition, []string{"LANDED"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := tc.cmd()
			assertUnchanged(t, f.st, func() { wantError(t, f.apply(tc.actor, cmd), tc.sentinel, tc.msgs...) })
		})
	}
}

func TestMergeNeedsFormat2(t *testing.T) {
	if (Command{Op: OpMerge}).Format() != Format2 || (Command{Op: OpSetDivisionProfile}).Format() != Format2 {
		t.Error("merge and set_division_profile must be of log format 2")
	}
	if (Command{Op: OpSubmit, Draft: &Draft{Website: "https://a.example"}}).Format() != Format2 {
		t.Error("a lead's website must be of log format 2")
	}
}
