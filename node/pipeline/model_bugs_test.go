package pipeline

import (
	"bytes"
	"encoding/json"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// plantedBugs are mistakes the pipeline could plausibly make. Each is
// planted without touching the production code: by swapping a rule of the
// transition table for the length of a test, by changing what reaches the
// log, or by damaging the snapshot a site restarts from.
var plantedBugs = []struct {
	name string
	op   Op
	rule func(rule) rule // replaces rules[op] when set
	bug  plantedIn
}{
	{name: "staff withdraw a claimed lead", op: OpWithdraw, rule: func(r rule) rule {
		return wrapApply(r, func(a *applier, l *Lead) bool {
			if l.Stage != Claimed {
				return false
			}
			l.Stage, l.Division = Withdrawn, ""
			return true
		})
	}},
	{name: "a lost claim takes the lead", op: OpClaim, rule: func(r rule) rule {
		return wrapApply(r, func(a *applier, l *Lead) bool {
			if l.Stage != Claimed || l.Division == a.actor.Division {
				return false
			}
			l.Division = a.actor.Division
			return true
		})
	}},
	{name: "advance skips negotiation", op: OpAdvance, rule: func(r rule) rule {
		return wrapApply(r, func(a *applier, l *Lead) bool {
			if a.cmd.Stage != Signed || l.Stage != Claimed {
				return false
			}
			l.Stage = Signed
			return true
		})
	}},
	{name: "a returned lead is published", op: OpReview, rule: func(r rule) rule {
		apply := r.apply
		r.apply = func(a *applier, l *Lead) (string, *Error) {
			action, err := apply(a, l)
			if err == nil && l.Stage == Returned {
				l.Published = true
			}
			return action, err
		}
		return r
	}},
	{name: "any division releases a claim", op: OpRelease, rule: func(r rule) rule {
		r.allowed = func(u *User, _ *Lead) *Error {
			if u.Role == HQReviewer || u.Role == DivisionRole {
				return nil
			}
			return errorf(CodePermission, "only divisions and HQ may release")
		}
		return r
	}},
	{name: "staff of any site edit a lead", op: OpUpdate, rule: func(r rule) rule {
		r.allowed = role(NodeStaff, "edit leads")
		return r
	}},
	{name: "the expected version is ignored", bug: plantedIn{tamper: func(c Command) Command {
		c.ExpectedVersion = 0
		return c
	}}},
	{name: "a retry is applied again", bug: plantedIn{tamper: func(c Command) Command {
		if oracleRequestID(c.RequestID) {
			// Each attempt looks like a new request.
			c.RequestID += "-" + strconv.FormatInt(c.Time, 36)
		}
		return c
	}}},
	{name: "the token the actor showed is not checked", bug: plantedIn{tamper: func(c Command) Command {
		c.ActorToken = ""
		return c
	}}},
	{name: "a draft translation is logged as verified", bug: plantedIn{tamper: func(c Command) Command {
		if c.Translation != nil && c.Translation.Status == TranslationDraft {
			t := *c.Translation
			t.Status = TranslationVerified
			c.Translation = &t
		}
		return c
	}}},
	{name: "a glossary entry is logged for another term", bug: plantedIn{tamper: func(c Command) Command {
		if c.Op == OpSetGlossaryTerm && c.Glossary != nil && c.Glossary.Term == "hydrogen" {
			g := *c.Glossary
			g.Term = "hydrogen-power"
			c.Glossary = &g
		}
		return c
	}}},
	{name: "a restored site forgets its translations", bug: plantedIn{corrupt: dropTranslations}},
	{name: "a restored site forgets its lead numbers", bug: plantedIn{corrupt: forgetLeadCounters}},
	{name: "a prune forgets requests inside the window", bug: plantedIn{tamper: func(c Command) Command {
		if c.Op == OpPruneRequests && c.Retention >= 2*time.Second {
			c.Retention /= 2
		}
		return c
	}}},
	{name: "a restored site forgets the latest time", bug: plantedIn{corrupt: dropCounters(`"clock"`)}},
	{name: "a claim takes a lead HQ assigns", op: OpClaim, rule: func(r rule) rule {
		return wrapApply(r, func(a *applier, l *Lead) bool {
			if l.Stage != Approved || l.ClaimMode != ClaimAssigned {
				return false
			}
			l.Stage, l.Division = Claimed, a.actor.Division
			return true
		})
	}},
	{name: "an assignment overrides a claim", op: OpAssign, rule: func(r rule) rule {
		return wrapApply(r, func(a *applier, l *Lead) bool {
			if l.Stage != Claimed || l.Division == a.cmd.Division {
				return false
			}
			l.Division = a.cmd.Division
			return true
		})
	}},
	{name: "a reopened lead keeps its division", op: OpReopen, rule: func(r rule) rule {
		apply := r.apply
		r.apply = func(a *applier, l *Lead) (string, *Error) {
			div := l.Division
			action, err := apply(a, l)
			if err == nil {
				l.Division = div
			}
			return action, err
		}
		return r
	}},
	{name: "a rival division closes the lead", op: OpClose, rule: func(r rule) rule {
		r.allowed = func(u *User, _ *Lead) *Error {
			if u.Role == HQReviewer || u.Role == DivisionRole {
				return nil
			}
			return errorf(CodePermission, "only divisions and HQ may close")
		}
		return r
	}},
	{name: "a withdrawal without an interest succeeds", op: OpWithdrawInterest, rule: func(r rule) rule {
		return wrapApply(r, func(a *applier, l *Lead) bool { return l.Stage == Approved })
	}},
	{name: "the default claim mode is ignored", bug: plantedIn{tamper: func(c Command) Command {
		if c.Op == OpSetDefaultClaimMode {
			c.ClaimMode = ClaimOpen
		}
		return c
	}}},
	{name: "a restored site forgets the default claim mode", bug: plantedIn{corrupt: dropRows(tableSettings)}},
	{name: "a restored site forgets the prune horizon", bug: plantedIn{corrupt: dropCounters(`"requests/`)}},
	// The registry, organisations and deal terms (model_registry_test.go).
	{name: "a release keeps the deal terms", op: OpRelease, rule: func(r rule) rule {
		apply := r.apply
		r.apply = func(a *applier, l *Lead) (string, *Error) {
			deal := l.Deal
			action, err := apply(a, l)
			l.Deal = deal
			return action, err
		}
		return r
	}},
	{name: "staff of a sub-node act for every lead of its site", op: OpUpdate, rule: func(r rule) rule {
		r.allowed = func(u *User, l *Lead) *Error {
			if u.Role == NodeStaff && FirstLevelSite(u.Site) == l.Site {
				return nil
			}
			return errorf(CodePermission, "not staff of %s", l.Site)
		}
		return r
	}},
	{name: "a restored site forgets the organizations", bug: plantedIn{corrupt: dropTable(tableOrgs)}},
	{name: "a division's attachment is shared", bug: plantedIn{tamper: func(c Command) Command {
		if c.Op == OpAddAttachment && c.Attachment != nil && c.Attachment.Visibility == AttachmentDivision {
			a := *c.Attachment
			a.Visibility = AttachmentShared
			c.Attachment = &a
		}
		return c
	}}},
	{name: "a restored site forgets the attachments", bug: plantedIn{corrupt: dropTable(tableAttachments)}},
}

// dropTable returns a corruption that drops every row of a table.
func dropTable(table string) func([]byte) []byte {
	return func(snap []byte) []byte {
		var out [][]byte
		dropped := int64(0)
		for _, line := range bytes.Split(bytes.TrimSuffix(snap, []byte("\n")), []byte("\n")) {
			var rec record
			if err := json.Unmarshal(line, &rec); err != nil {
				panic(err)
			}
			switch {
			case rec.Table == table:
				dropped++
				continue
			case rec.End:
				rec.Rows -= dropped
				line, _ = json.Marshal(rec)
			}
			out = append(out, line)
		}
		return append(bytes.Join(out, []byte("\n")), '\n')
	}
}

// wrapApply returns r with apply replaced where bad says it did something
// else.
func wrapApply(r rule, bad func(a *applier, l *Lead) bool) rule {
	apply := r.apply
	r.apply = func(a *applier, l *Lead) (string, *Error) {
		if bad(a, l) {
			return "PLANTED", nil
		}
		return apply(a, l)
	}
	return r
}

// dropTranslations removes every lead's translations from a snapshot.
func dropTranslations(snap []byte) []byte {
	var out [][]byte
	for _, line := range bytes.Split(bytes.TrimSuffix(snap, []byte("\n")), []byte("\n")) {
		var rec record
		if err := json.Unmarshal(line, &rec); err != nil {
			panic(err)
		}
		if rec.Table == tableLeads {
			var l Lead
			if err := json.Unmarshal(rec.Value, &l); err != nil {
				panic(err)
			}
			l.Translations = nil
			rec.Value, _ = json.Marshal(&l)
			line, _ = json.Marshal(rec)
		}
		out = append(out, line)
	}
	return append(bytes.Join(out, []byte("\n")), '\n')
}

// forgetLeadCounters drops the per-site lead counters from a snapshot and
// fixes its row count, so that it still restores.
func forgetLeadCounters(snap []byte) []byte { return dropCounters(`"lead/`)(snap) }

// dropCounters returns a corruption that drops the counters whose row
// holds name.
func dropCounters(name string) func([]byte) []byte {
	return func(snap []byte) []byte { return dropCounterRows(snap, name) }
}

// dropRows returns a corruption that drops every row of table.
func dropRows(table string) func([]byte) []byte {
	return func(snap []byte) []byte {
		var out [][]byte
		dropped := int64(0)
		for _, line := range bytes.Split(bytes.TrimSuffix(snap, []byte("\n")), []byte("\n")) {
			var rec record
			if err := json.Unmarshal(line, &rec); err != nil {
				panic(err)
			}
			switch {
			case rec.Table == table:
				dropped++
				continue
			case rec.End:
				rec.Rows -= dropped
				line, _ = json.Marshal(rec)
			}
			out = append(out, line)
		}
		return append(bytes.Join(out, []byte("\n")), '\n')
	}
}

func dropCounterRows(snap []byte, name string) []byte {
	var out [][]byte
	dropped := int64(0)
	for _, line := range bytes.Split(bytes.TrimSuffix(snap, []byte("\n")), []byte("\n")) {
		var rec record
		if err := json.Unmarshal(line, &rec); err != nil {
			panic(err)
		}
		switch {
		case rec.Table == tableCounters && bytes.Contains(rec.Value, []byte(name)):
			dropped++
			continue
		case rec.End:
			rec.Rows -= dropped
			line, _ = json.Marshal(rec)
		}
		out = append(out, line)
	}
	return append(bytes.Join(out, []byte("\n")), '\n')
}

// plantedBugInputs are the inputs TestModelCatchesPlantedBugs tries: the
// seeds of FuzzModel, then random ones.
func plantedBugInputs() (names []string, inputs [][]byte) {
	seeds := modelSeeds()
	for _, name := range slices.Sorted(maps.Keys(seeds)) {
		names, inputs = append(names, "seed "+name), append(inputs, seeds[name])
	}
	rnd := rand.New(rand.NewChaCha8([32]byte{'m', 'o', 'd', 'e', 'l'}))
	for i := range 64 {
		b := make([]byte, maxModelOps*opBytes)
		for j := range b {
			b[j] = byte(rnd.Uint32())
		}
		names, inputs = append(names, "random "+strconv.Itoa(i)), append(inputs, b)
	}
	return names, inputs
}

// TestModelCatchesPlantedBugs checks that FuzzModel's model is sharp
// enough to matter: with each planted bug, some of a fixed set of inputs
// must show a difference between the pipeline and the model; without one,
// none may.
func TestModelCatchesPlantedBugs(t *testing.T) {
	names, inputs := plantedBugInputs()
	t.Run("no bug", func(t *testing.T) {
		for i, data := range inputs {
			if err := newModelRun(t, plantedIn{}).run(data); err != nil {
				t.Fatalf("%s: %v", names[i], err)
			}
		}
	})
	for _, tt := range plantedBugs {
		t.Run(tt.name, func(t *testing.T) {
			if tt.rule != nil {
				orig := rules[tt.op]
				rules[tt.op] = tt.rule(orig)
				t.Cleanup(func() { rules[tt.op] = orig })
			}
			for i, data := range inputs {
				err := newModelRun(t, tt.bug).run(data)
				if err == nil {
					continue
				}
				if !strings.Contains(err.Error(), "model mismatch") {
					t.Fatalf("%s: got %v, want a model mismatch", names[i], err)
				}
				first, _, _ := strings.Cut(err.Error(), "\ntranscript:")
				t.Logf("caught by %s: %s", names[i], first)
				return
			}
			t.Errorf("the model did not catch the bug in %d inputs", len(inputs))
		})
	}
}
