package reports

import (
	"math/big"
	"strings"
	"time"

	"innonet/node/pipeline"
)

// Progress is one target row of a year against what the year's history
// shows.
type Progress struct {
	Target pipeline.TargetRow
	// Actual counts the leads of the scope that reached each step in the
	// year; Investment sums the amounts of the deals signed in the year in
	// the target's currency (OtherCurrencies counts those signed in
	// another, which are not converted), Jobs their jobs.
	Actual          [numSteps]int
	Investment      string
	OtherCurrencies int
	Jobs            int
	// Expected is the share of the year gone by as of the report (0 to
	// 1): a target on pace has reached that share.
	Expected float64
	// MonthsLeft is what remains of the year, in months; PerMonth the
	// pace needed for the rest of it to meet each target (0 once met).
	MonthsLeft float64
	PerMonth   [numSteps]float64
}

// TargetReport is a year's targets and progress.
type TargetReport struct {
	Year    int
	Targets *pipeline.Targets // nil: HQ set none
	Rows    []Progress
	// AsOf is "now" for the pace: the time of the latest command the
	// report reflects (see the package documentation), and Applied its
	// log index.
	AsOf    time.Time
	Applied uint64
}

// Targets compares year's targets with the history, in loc's calendar
// year (HQ's: Asia/Shanghai).
func (e *Engine) Targets(year int, loc *time.Location, visible func(*pipeline.Lead) bool) (*TargetReport, error) {
	if loc == nil {
		loc = time.UTC
	}
	v := e.state.View()
	t, err := v.Targets(year)
	if err != nil {
		return nil, err
	}
	sums, applied, err := e.summariesOf(v, visible)
	if err != nil {
		return nil, err
	}
	out := &TargetReport{Year: year, Targets: t, AsOf: v.Clock(), Applied: applied}
	if t == nil {
		return out, nil
	}
	from := time.Date(year, 1, 1, 0, 0, 0, 0, loc)
	to := from.AddDate(1, 0, 0)
	elapsed := 0.0
	switch asOf := out.AsOf; {
	case !asOf.After(from):
	case !asOf.Before(to):
		elapsed = 1
	default:
		elapsed = asOf.Sub(from).Seconds() / to.Sub(from).Seconds()
	}
	for _, row := range t.Rows {
		p := Progress{Target: row, Expected: elapsed, MonthsLeft: 12 * (1 - elapsed)}
		sum := new(big.Rat)
		for _, s := range sums {
			if s.merged {
				continue
			}
			for _, st := range Steps {
				at := s.reached[st]
				if at.IsZero() || at.Before(from) || !at.Before(to) || !inScope(s, row, st) {
					continue
				}
				p.Actual[st]++
				if st != Signed {
					continue
				}
				p.Jobs += s.jobs
				if s.amount == "" {
					continue
				}
				if s.currency != row.Currency {
					p.OtherCurrencies++
					continue
				}
				if a, ok := new(big.Rat).SetString(s.amount); ok {
					sum.Add(sum, a)
				}
			}
		}
		if row.Currency != "" {
			p.Investment = strings.TrimSuffix(strings.TrimRight(sum.FloatString(2), "0"), ".")
		}
		for st, target := range map[Step]int{Pushed: row.Pushed, Approved: row.Approved, Signed: row.Signed, Landed: row.Landed} {
			if left := target - p.Actual[st]; left > 0 && p.MonthsLeft > 0 {
				p.PerMonth[st] = float64(int(float64(left)/p.MonthsLeft*10+0.5)) / 10
			}
		}
		out.Rows = append(out.Rows, p)
	}
	return out, nil
}

// inScope reports whether a lead's step counts for a target row.
func inScope(s *summary, row pipeline.TargetRow, st Step) bool {
	switch row.Scope {
	case pipeline.ScopeNetwork:
		return true
	case pipeline.ScopeSite:
		return s.site == row.Code
	case pipeline.ScopeSubnode:
		return s.subnode == row.Code || strings.HasPrefix(s.subnode, row.Code+"-")
	case pipeline.ScopeDivision:
		// No division holds a lead before its claim: a division's pushed
		// and approved are the leads it came to claim.
		if st == Pushed || st == Approved {
			return s.division[Claimed] == row.Code
		}
		return s.division[st] == row.Code
	}
	return false
}
