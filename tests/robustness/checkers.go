package robustness

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/anishathalye/porcupine"
	"google.golang.org/grpc/codes"
)

// Checker names, in report order.
const (
	CheckLinearizable = "linearizable" // porcupine, per lead: claim/stage writes and LINEARIZABLE reads
	CheckSubmits      = "submits"      // every acked submit present once on every site; no duplicates
	CheckClaims       = "claims"       // no lead claimed by two divisions; history agrees with the state
	CheckIDs          = "ids"          // per-site lead IDs unique and gap-free
	CheckConvergence  = "convergence"  // every site holds the same state (digest) at the same index
	CheckWrites       = "writes"       // acked writes applied exactly once, failed ones never
	CheckReads        = "reads"        // every read saw a state that is in the final history
	CheckMonotonic    = "monotonic"    // reads from one process of a site never go back in time
)

// Checkers lists the checker names in report order.
var Checkers = []string{CheckLinearizable, CheckSubmits, CheckClaims, CheckIDs, CheckConvergence, CheckWrites, CheckReads, CheckMonotonic}

// Anomaly is one violation found by a checker.
type Anomaly struct {
	Checker string
	Detail  string
}

// CheckOptions configures [Check].
type CheckOptions struct {
	// Sites the final state must hold a copy from.
	Sites []string
	// VisualizeDir receives porcupine's HTML visualization of every lead
	// whose history is not linearizable ("" writes none).
	VisualizeDir string
	// LinearizableTimeout bounds porcupine's search per lead (0: none).
	LinearizableTimeout time.Duration
	// LeaderReadsLinearizable also checks LEADER reads for
	// linearizability. They are not linearizable by contract (answered
	// from the leader's applied state without a ReadIndex round, so a
	// deposed leader may answer for a while); this is for exploring how
	// stale they get, not for pass/fail runs.
	LeaderReadsLinearizable bool
}

// CheckResult is what the checkers found.
type CheckResult struct {
	Anomalies []Anomaly
	// Leads and operations the linearizability checker looked at.
	LinearizableLeads, LinearizableOps int
	// Leads whose linearizability check timed out (neither ok nor illegal).
	Inconclusive []string
	// Visualizations written for non-linearizable leads.
	Visualizations []string
}

// Count returns the number of anomalies found by checker.
func (r *CheckResult) Count(checker string) int {
	n := 0
	for _, a := range r.Anomalies {
		if a.Checker == checker {
			n++
		}
	}
	return n
}

// Check runs every checker on the history and the final state.
func Check(ops []Op, final *Final, opts CheckOptions) *CheckResult {
	r := &CheckResult{}
	add := func(checker string, details []string) {
		for _, d := range details {
			r.Anomalies = append(r.Anomalies, Anomaly{Checker: checker, Detail: d})
		}
	}
	add(CheckLinearizable, checkLinearizable(ops, opts, r))
	add(CheckSubmits, checkSubmits(ops, final))
	add(CheckClaims, checkClaims(final))
	add(CheckIDs, checkIDs(final))
	add(CheckConvergence, checkConvergence(final, opts.Sites))
	add(CheckWrites, checkWrites(ops, final))
	add(CheckReads, checkReads(ops, final))
	add(CheckMonotonic, checkMonotonic(ops))
	return r
}

// linearizableOps turns the history into porcupine operations per lead:
// every write on a lead (an unknown one returning at the end of time, so
// it may or may not have happened) and every successful LINEARIZABLE
// read. STALE and LEADER reads are not linearizable by contract (a LEADER
// read is answered from the leader's applied state without a ReadIndex
// round, so it may be stale around a leadership change).
func linearizableOps(ops []Op, leaderReads bool) map[string][]porcupine.Operation {
	var end int64
	for _, op := range ops {
		end = max(end, op.Return)
	}
	end++
	out := map[string][]porcupine.Operation{}
	read := func(op Op, l LeadView) {
		out[l.ID] = append(out[l.ID], porcupine.Operation{
			ClientId: op.Client, Call: op.Call, Return: op.Return,
			Input:    leadInput{Kind: op.Kind, Actor: op.Actor, Consistency: op.Consistency},
			Output:   leadOutput{State: leadState{Stage: l.Stage, Division: l.Division, Version: l.Version}},
			Metadata: op.ReadSite,
		})
	}
	for _, op := range ops {
		switch {
		case op.Kind.IsLeadWrite() && op.LeadID != "":
			in := leadInput{Kind: op.Kind, Actor: op.Actor, Decision: op.Decision, Target: op.Target}
			var o leadOutput
			ret := op.Return
			switch op.Outcome {
			case OK:
				if op.Lead == nil {
					continue
				}
				o.State = leadState{Stage: op.Lead.Stage, Division: op.Lead.Division, Version: op.Lead.Version}
			case Failed:
				o.Code = op.Code
			default:
				o.Unknown, ret = true, end
			}
			out[op.LeadID] = append(out[op.LeadID], porcupine.Operation{
				ClientId: op.Client, Call: op.Call, Return: ret, Input: in, Output: o,
				Metadata: op.Site + " " + op.RequestID,
			})
		case op.Outcome != OK || op.Consistency != "LINEARIZABLE" && (!leaderReads || op.Consistency != "LEADER"):
		case op.Kind == KindGet && op.Lead != nil:
			read(op, *op.Lead)
		case op.Kind == KindList:
			for _, l := range op.Leads {
				read(op, l)
			}
		}
	}
	return out
}

func checkLinearizable(ops []Op, opts CheckOptions, r *CheckResult) []string {
	perLead := linearizableOps(ops, opts.LeaderReadsLinearizable)
	ids := make([]string, 0, len(perLead))
	for id := range perLead {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var bad []string
	for _, id := range ids {
		h := perLead[id]
		r.LinearizableLeads++
		r.LinearizableOps += len(h)
		res, info := porcupine.CheckOperationsVerbose(leadModel, h, opts.LinearizableTimeout)
		switch res {
		case porcupine.Ok:
			continue
		case porcupine.Unknown:
			r.Inconclusive = append(r.Inconclusive, id)
			continue
		}
		detail := fmt.Sprintf("lead %s: history of %d operations is not linearizable", id, len(h))
		if opts.VisualizeDir != "" {
			path := filepath.Join(opts.VisualizeDir, "linearizability-"+id+".html")
			if err := os.MkdirAll(opts.VisualizeDir, 0o755); err == nil {
				if err := porcupine.VisualizePath(leadModel, info, path); err == nil {
					r.Visualizations = append(r.Visualizations, path)
					detail += " (visualization: " + path + ")"
				}
			}
		}
		bad = append(bad, detail)
	}
	return bad
}

// checkSubmits: every acknowledged submit is present exactly once on every
// site, under the ID it was acknowledged with and with its content; a
// failed submit is nowhere; no submit (whatever its outcome) is present
// twice.
func checkSubmits(ops []Op, f *Final) []string {
	var bad []string
	for _, s := range f.Sites {
		if s.Err != "" {
			continue
		}
		byTitle := map[string][]string{}
		for _, l := range s.Leads {
			byTitle[l.Title] = append(byTitle[l.Title], l.ID)
		}
		for _, op := range ops {
			if op.Kind != KindSubmit || op.Title == "" {
				continue
			}
			found := byTitle[op.Title]
			switch op.Outcome {
			case OK:
				if op.Lead == nil {
					bad = append(bad, fmt.Sprintf("acked submit %s returned no lead", op.RequestID))
					continue
				}
				l, ok := s.lead(op.Lead.ID)
				switch {
				case !ok:
					bad = append(bad, fmt.Sprintf("acked submit %s (lead %s) is missing on %s", op.RequestID, op.Lead.ID, s.Site))
				case l.Title != op.Title:
					bad = append(bad, fmt.Sprintf("acked submit %s: lead %s on %s holds %q, not %q", op.RequestID, op.Lead.ID, s.Site, l.Title, op.Title))
				}
				if len(found) > 1 {
					bad = append(bad, fmt.Sprintf("acked submit %s is present %d times on %s: %v", op.RequestID, len(found), s.Site, found))
				}
			case Failed:
				if len(found) > 0 {
					bad = append(bad, fmt.Sprintf("failed submit %s (%s) is present on %s: %v", op.RequestID, op.Code, s.Site, found))
				}
			default:
				if len(found) > 1 {
					bad = append(bad, fmt.Sprintf("submit %s (outcome unknown) is present %d times on %s: %v", op.RequestID, len(found), s.Site, found))
				}
			}
		}
	}
	return bad
}

// replay walks a lead's history and returns the state after each
// version, checking that claims and releases alternate.
func replay(events []Event) (states map[int64]leadState, problems []string) {
	states = map[int64]leadState{}
	var s leadState
	for i, e := range events {
		if i == 0 && e.Action != "SUBMIT" {
			problems = append(problems, fmt.Sprintf("lead %s: history starts with %s, not SUBMIT", e.LeadID, e.Action))
		}
		switch e.Action {
		case "CLAIM":
			if s.Division != "" {
				problems = append(problems, fmt.Sprintf("lead %s claimed by %s at version %d (log index %d) while %s held it", e.LeadID, e.UserSite, e.Version, e.LogIndex, s.Division))
			}
			s.Division = e.UserSite
		case "RELEASE":
			s.Division = ""
		}
		if e.Version != s.Version+1 {
			problems = append(problems, fmt.Sprintf("lead %s: history event %d has version %d after version %d", e.LeadID, e.Seq, e.Version, s.Version))
		}
		s.Stage, s.Version = e.To, e.Version
		states[e.Version] = s
	}
	return states, problems
}

// checkClaims: in every site's copy, no lead was claimed by a division
// while another held it, and each lead's state is what its history says.
func checkClaims(f *Final) []string {
	var bad []string
	for _, s := range f.Sites {
		if s.Err != "" {
			continue
		}
		for _, l := range s.Leads {
			events := s.History[l.ID]
			states, problems := replay(events)
			for _, p := range problems {
				bad = append(bad, s.Site+": "+p)
			}
			if len(events) == 0 {
				bad = append(bad, fmt.Sprintf("%s: lead %s has no history", s.Site, l.ID))
				continue
			}
			last := states[events[len(events)-1].Version]
			if got := (leadState{Stage: l.Stage, Division: l.Division, Version: l.Version}); got != last {
				bad = append(bad, fmt.Sprintf("%s: lead %s is %s but its history ends at %s", s.Site, l.ID, describeLead(got), describeLead(last)))
			}
		}
	}
	return bad
}

// checkIDs: on every site, the lead IDs of each submitting site are
// unique and numbered 1..N without holes.
func checkIDs(f *Final) []string {
	var bad []string
	for _, s := range f.Sites {
		if s.Err != "" {
			continue
		}
		nums := map[string][]int{}
		for _, l := range s.Leads {
			site, num, ok := strings.Cut(l.ID, "-")
			n, err := strconv.Atoi(num)
			if !ok || err != nil {
				bad = append(bad, fmt.Sprintf("%s: lead ID %q is not SITE-NNNN", s.Site, l.ID))
				continue
			}
			nums[site] = append(nums[site], n)
		}
		prefixes := make([]string, 0, len(nums))
		for p := range nums {
			prefixes = append(prefixes, p)
		}
		sort.Strings(prefixes)
		for _, p := range prefixes {
			ns := nums[p]
			sort.Ints(ns)
			want := 1
			for i, n := range ns {
				if i > 0 && n == ns[i-1] {
					bad = append(bad, fmt.Sprintf("%s: lead ID %s-%04d appears twice", s.Site, p, n))
					continue
				}
				if n != want {
					bad = append(bad, fmt.Sprintf("%s: %s lead IDs have a gap: %s-%04d follows %s-%04d", s.Site, p, p, n, p, want-1))
				}
				want = n + 1
			}
		}
	}
	return bad
}

// checkConvergence: every expected site's state was read, at the same
// applied index, with the same digest.
func checkConvergence(f *Final, sites []string) []string {
	var bad []string
	got := map[string]*SiteState{}
	for i := range f.Sites {
		got[f.Sites[i].Site] = &f.Sites[i]
	}
	for _, site := range sites {
		if _, ok := got[site]; !ok {
			bad = append(bad, fmt.Sprintf("no final state from %s", site))
		}
	}
	ref := f.reference()
	for _, s := range f.Sites {
		switch {
		case s.Err != "":
			bad = append(bad, fmt.Sprintf("%s: final state unreadable: %s", s.Site, s.Err))
		case s.AppliedIndex != ref.AppliedIndex:
			bad = append(bad, fmt.Sprintf("%s is at applied index %d, %s at %d", s.Site, s.AppliedIndex, ref.Site, ref.AppliedIndex))
		case s.Digest != ref.Digest:
			bad = append(bad, fmt.Sprintf("%s digest %.12s differs from %s digest %.12s at applied index %d", s.Site, s.Digest, ref.Site, ref.Digest, s.AppliedIndex))
		}
	}
	return bad
}

// checkWrites: against the final history, every acknowledged write was
// applied exactly once (with the version and stage it answered), a failed
// one never, one of unknown outcome at most once; no request ID was
// applied twice.
func checkWrites(ops []Op, f *Final) []string {
	ref := f.reference()
	if ref == nil {
		return nil
	}
	var bad []string
	byRequest := map[string][]Event{}
	for _, events := range ref.History {
		for _, e := range events {
			if e.RequestID != "" {
				byRequest[e.RequestID] = append(byRequest[e.RequestID], e)
			}
		}
	}
	for _, op := range ops {
		if op.RequestID == "" || !op.Kind.IsLeadWrite() && op.Kind != KindSubmit {
			continue
		}
		events := byRequest[op.RequestID]
		switch op.Outcome {
		case OK:
			if len(events) != 1 {
				bad = append(bad, fmt.Sprintf("acked %s %s on %s (request %s) applied %d times", op.Kind, op.LeadID, op.Site, op.RequestID, len(events)))
				continue
			}
			e := events[0]
			if op.Lead != nil && (e.LeadID != op.Lead.ID || e.Version != op.Lead.Version || e.To != op.Lead.Stage) {
				bad = append(bad, fmt.Sprintf("acked %s (request %s) answered %s v%d %s, the history holds %s v%d %s",
					op.Kind, op.RequestID, op.Lead.ID, op.Lead.Version, op.Lead.Stage, e.LeadID, e.Version, e.To))
			}
		case Failed:
			if len(events) != 0 {
				bad = append(bad, fmt.Sprintf("failed %s %s (request %s, %s) was applied at version %d", op.Kind, op.LeadID, op.RequestID, op.Code, events[0].Version))
			}
		default:
			switch {
			case len(events) > 1:
				bad = append(bad, fmt.Sprintf("%s %s (request %s, outcome unknown) applied %d times", op.Kind, op.LeadID, op.RequestID, len(events)))
			case len(events) == 1 && op.Attempts > 1 && definiteCodes[op.Code]:
				// The last attempt was refused although an earlier one
				// was applied: a retry must return the first outcome.
				bad = append(bad, fmt.Sprintf("%s %s (request %s): retry answered %s, but the request was applied at version %d (log index %d)",
					op.Kind, op.LeadID, op.RequestID, op.Code, events[0].Version, events[0].LogIndex))
			}
		}
	}
	return bad
}

// definiteCodes are the answers that say a write had no effect.
var definiteCodes = map[string]bool{}

func init() {
	for _, c := range []codes.Code{codes.FailedPrecondition, codes.Aborted, codes.PermissionDenied, codes.NotFound,
		codes.InvalidArgument, codes.Unauthenticated, codes.AlreadyExists, codes.OutOfRange, codes.Unimplemented} {
		definiteCodes[c.String()] = true
	}
}

// checkReads: every lead a successful read returned, at any consistency,
// is a state of that lead in the final history (a read never sees a write
// that is later lost, nor a state that never was).
func checkReads(ops []Op, f *Final) []string {
	ref := f.reference()
	if ref == nil {
		return nil
	}
	states := map[string]map[int64]leadState{}
	for id, events := range ref.History {
		states[id], _ = replay(events)
	}
	var bad []string
	check := func(op Op, l LeadView) {
		st, ok := states[l.ID]
		if !ok {
			bad = append(bad, fmt.Sprintf("%s read (%s at %s) saw lead %s, which the final state lacks", op.Consistency, op.Kind, op.ReadSite, l.ID))
			return
		}
		want, ok := st[l.Version]
		got := leadState{Stage: l.Stage, Division: l.Division, Version: l.Version}
		switch {
		case !ok:
			bad = append(bad, fmt.Sprintf("%s read (%s at %s) saw lead %s at version %d, which the final history lacks", op.Consistency, op.Kind, op.ReadSite, l.ID, l.Version))
		case got != want:
			bad = append(bad, fmt.Sprintf("%s read (%s at %s) saw lead %s as %s, the history has %s", op.Consistency, op.Kind, op.ReadSite, l.ID, describeLead(got), describeLead(want)))
		}
	}
	for _, op := range ops {
		if !op.Kind.IsRead() || op.Outcome != OK {
			continue
		}
		if op.Lead != nil {
			check(op, *op.Lead)
		}
		for _, l := range op.Leads {
			check(op, l)
		}
	}
	return bad
}

// checkMonotonic: the reads one process of a site answered itself never
// go back in time: a read that began after another one returned reports
// an applied index at least as high. (Across a restart they may: a
// restarted site serves its snapshot until it has replayed its log.)
func checkMonotonic(ops []Op) []string {
	type key struct {
		site        string
		incarnation int
	}
	groups := map[key][]Op{}
	for _, op := range ops {
		if op.Kind.IsRead() && op.Outcome == OK && op.Incarnation >= 0 && op.ReadSite == op.Site && op.AppliedIndex > 0 {
			k := key{op.Site, op.Incarnation}
			groups[k] = append(groups[k], op)
		}
	}
	keys := make([]key, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		return keys[i].site < keys[j].site || keys[i].site == keys[j].site && keys[i].incarnation < keys[j].incarnation
	})
	var bad []string
	for _, k := range keys {
		reads := groups[k]
		byReturn := append([]Op(nil), reads...)
		sort.Slice(byReturn, func(i, j int) bool { return byReturn[i].Return < byReturn[j].Return })
		sort.Slice(reads, func(i, j int) bool { return reads[i].Call < reads[j].Call })
		// Sweep: the highest index reported by a read that returned
		// before the current one was called.
		var high Op
		j := 0
		for _, r := range reads {
			for ; j < len(byReturn) && byReturn[j].Return < r.Call; j++ {
				if byReturn[j].AppliedIndex > high.AppliedIndex {
					high = byReturn[j]
				}
			}
			if r.AppliedIndex < high.AppliedIndex {
				bad = append(bad, fmt.Sprintf("%s (process %d): a %s read at %.3fs reported applied index %d after a %s read that returned at %.3fs reported %d",
					k.site, k.incarnation, r.Consistency, float64(r.Call)/1e9, r.AppliedIndex, high.Consistency, float64(high.Return)/1e9, high.AppliedIndex))
				break // one report per process is enough
			}
		}
	}
	return bad
}
