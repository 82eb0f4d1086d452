package robustness

import (
	"fmt"
	"hash/fnv"

	"github.com/anishathalye/porcupine"
)

// leadState is the model's state of one lead: what the pipeline's rules
// depend on, and the version every applied change increases.
type leadState struct {
	Stage    Stage
	Division string
	Version  int64
}

// initialLead is every lead right after its submission. Operations on a
// lead can only start once its ID is known, so after it exists.
var initialLead = leadState{Stage: Submitted, Version: 1}

// leadInput is an operation on one lead, as the model sees it.
type leadInput struct {
	Kind     Kind
	Actor    Actor
	Decision string
	Target   Stage
	// Consistency of a read; only LINEARIZABLE reads are checked.
	Consistency string
}

// leadOutput is what the operation returned.
type leadOutput struct {
	// Unknown: the outcome is not known; the write may have happened.
	Unknown bool
	// Code is the gRPC code name of a definite failure, "" on success.
	Code string
	// The lead the operation returned (on success).
	State leadState
}

// Codes the model predicts. A definite failure with any other code
// (NotFound, InvalidArgument, Unauthenticated...) is taken as "changed
// nothing" without further check.
const (
	codePrecondition = "FailedPrecondition"
	codeAborted      = "Aborted"
	codePermission   = "PermissionDenied"
)

var modelCodes = map[string]bool{codePrecondition: true, codeAborted: true, codePermission: true}

// apply runs in on s by the pipeline's rules (node/pipeline/transitions.go):
// the actor's right first (PermissionDenied), then the stage
// (FailedPrecondition, or Aborted for a claim another division won). It
// returns the next state, or the error code with s unchanged.
func (s leadState) apply(in leadInput) (leadState, string) {
	next := s
	next.Version++
	switch in.Kind {
	case KindUpdate:
		switch s.Stage {
		case Submitted:
			return next, ""
		case Returned:
			next.Stage = Submitted
			return next, ""
		}
		return s, codePrecondition
	case KindReview:
		if s.Stage != Submitted {
			return s, codePrecondition
		}
		switch in.Decision {
		case "APPROVE":
			next.Stage = Approved
		case "RETURN":
			next.Stage = Returned
		case "DECLINE":
			next.Stage = Declined
		default:
			return s, "InvalidArgument"
		}
		return next, ""
	case KindClaim:
		switch s.Stage {
		case Approved:
			next.Stage, next.Division = Claimed, in.Actor.Division
			return next, ""
		case Claimed, Negotiating, Signed, Landed:
			if s.Division == in.Actor.Division {
				return s, codePrecondition
			}
			return s, codeAborted
		}
		return s, codePrecondition
	case KindRelease:
		if in.Actor.Role == RoleDivision && s.Division != in.Actor.Division {
			return s, codePermission
		}
		if s.Stage != Claimed {
			return s, codePrecondition
		}
		next.Stage, next.Division = Approved, ""
		return next, ""
	case KindAdvance:
		if s.Division != in.Actor.Division {
			return s, codePermission
		}
		from := map[Stage]Stage{Negotiating: Claimed, Signed: Negotiating, Landed: Signed}[in.Target]
		if from == "" || s.Stage != from {
			return s, codePrecondition
		}
		next.Stage = in.Target
		return next, ""
	case KindWithdraw:
		switch s.Stage {
		case Submitted, Returned, Approved:
			next.Stage = Withdrawn
			return next, ""
		}
		return s, codePrecondition
	}
	return s, "Unimplemented"
}

// leadModel is the sequential specification of one lead's claim/stage
// operations and linearizable reads, for porcupine. Histories are checked
// per lead (each lead is an independent object).
var leadModel = porcupine.Model{
	Init: func() any { return initialLead },
	Step: func(state, input, output any) (bool, any) {
		s, in, out := state.(leadState), input.(leadInput), output.(leadOutput)
		if in.Kind.IsRead() {
			// Reads change nothing; a LINEARIZABLE one must see the
			// state at some point between its call and its return.
			return out.State == s, s
		}
		next, code := s.apply(in)
		switch {
		case out.Unknown:
			// It may have happened now; that it never happened is covered
			// by linearizing it last (its return is the end of time).
			return true, next
		case out.Code != "":
			if !modelCodes[out.Code] {
				return true, s
			}
			return code == out.Code, s
		}
		return code == "" && next == out.State, next
	},
	Hash: func(state any) uint64 {
		s := state.(leadState)
		h := fnv.New64a()
		fmt.Fprintf(h, "%s|%s|%d", s.Stage, s.Division, s.Version)
		return h.Sum64()
	},
	DescribeOperation: func(input, output any) string {
		in, out := input.(leadInput), output.(leadOutput)
		var who string
		switch in.Actor.Role {
		case RoleDivision:
			who = in.Actor.Division
		case RoleStaff:
			who = in.Actor.Site
		default:
			who = string(in.Actor.Role)
		}
		what := string(in.Kind)
		switch in.Kind {
		case KindReview:
			what += " " + in.Decision
		case KindAdvance:
			what += " " + string(in.Target)
		case KindGet, KindList:
			what += " " + in.Consistency
		}
		var res string
		switch {
		case out.Unknown:
			res = "?"
		case out.Code != "":
			res = out.Code
		default:
			res = describeLead(out.State)
		}
		return fmt.Sprintf("%s %s -> %s", who, what, res)
	},
	DescribeState: func(state any) string { return describeLead(state.(leadState)) },
}

func describeLead(s leadState) string {
	if s.Division != "" {
		return fmt.Sprintf("%s/%s v%d", s.Stage, s.Division, s.Version)
	}
	return fmt.Sprintf("%s v%d", s.Stage, s.Version)
}
