package cluster

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"
)

// Leader placement: where should the leader sit? A write costs the round
// trip from the site that takes it to the leader, then the leader's round
// trip to the voter that completes its quorum. For each eligible voter V
// the expected cost of a write of the observed mix is
//
//	cost(V) = Σ_o w_o · (RTT(o,V) + quorumRTT(V)) / Σ_o w_o
//
// where w_o is the (decayed) share of writes that came from site o and
// quorumRTT(V) is the round trip from V to the (q-1)-th nearest other
// voter (q the voter quorum). decidePlacement is a pure function of what
// the leader knows; the leader's loop (placer.go) feeds it.

// PlacementPrefs are the operators' wishes, replicated in the log:
// Manual stops automatic moves; Pin leads at one voter whenever it is
// eligible; Prefer gives the listed voters a bonus (the first the most);
// Exclude never leads at the listed sites.
type PlacementPrefs struct {
	Manual  bool     `json:"manual,omitempty"`
	Pin     string   `json:"pin,omitempty"`
	Prefer  []string `json:"prefer,omitempty"`
	Exclude []string `json:"exclude,omitempty"`
	// By and Time say who set them and when (the proposer's clock).
	By   string `json:"by,omitempty"`
	Time int64  `json:"time,omitempty"`
}

// preferBonus is the cost reduction of the first preferred voter; each
// further one gets a little less, so the list orders them.
const preferBonus = 0.10

// placementInput is what one decision needs.
type placementInput struct {
	Current string
	// Voters are the voters; Ineligible says why some may not lead
	// (unhealthy, behind, skewed, alarmed).
	Voters     []string
	Ineligible map[string]string
	// RTT[a][b] is a's estimate of its round trip to b.
	RTT map[string]map[string]time.Duration
	// Mix is the decayed count of writes per origin site; Sites are all
	// members, for the uniform mix used before any write is seen.
	Mix   map[string]float64
	Sites []string
	Prefs PlacementPrefs
	// Manual is this site's --leader-placement manual.
	Manual bool
	// SinceChange is how long the current leader has led.
	SinceChange time.Duration
	Dwell       time.Duration
	MinWrites   float64
	// A move must gain at least Margin (relative) and MinGain per write.
	Margin  float64
	MinGain time.Duration
}

// PlacementDecision is the outcome of one evaluation.
type PlacementDecision struct {
	// Move is the voter to hand leadership to; empty: stay.
	Move string
	// Reason says why it moves or why not, for operators.
	Reason string
	// Estimates is the expected cost per write at each voter that could
	// lead; Unavailable says why the others cannot.
	Estimates   map[string]time.Duration
	Unavailable map[string]string
	// Uniform: no write was seen, so every site counted the same.
	Uniform bool
}

func (in placementInput) rtt(a, b string) (time.Duration, bool) {
	if a == b {
		return 0, true
	}
	x, okx := in.RTT[a][b]
	y, oky := in.RTT[b][a]
	switch {
	case okx && oky:
		return (x + y) / 2, true
	case okx:
		return x, true
	case oky:
		return y, true
	}
	return 0, false
}

// quorumRTT is V's round trip to the (q-1)-th nearest other voter.
func (in placementInput) quorumRTT(v string) (time.Duration, error) {
	need := len(in.Voters)/2 + 1 - 1
	if need == 0 {
		return 0, nil
	}
	var known []time.Duration
	for _, o := range in.Voters {
		if o == v {
			continue
		}
		if d, ok := in.rtt(v, o); ok {
			known = append(known, d)
		}
	}
	if len(known) < need {
		return 0, fmt.Errorf("round trips to only %d other voters known, a quorum needs %d", len(known), need)
	}
	slices.Sort(known)
	return known[need-1], nil
}

func decidePlacement(in placementInput) PlacementDecision {
	d := PlacementDecision{Estimates: map[string]time.Duration{}, Unavailable: map[string]string{}}
	mix := map[string]float64{}
	var total float64
	for o, w := range in.Mix {
		if w > 0 {
			mix[o] = w
			total += w
		}
	}
	if total == 0 {
		d.Uniform = true
		for _, s := range in.Sites {
			mix[s] = 1
		}
		total = float64(len(in.Sites))
	}
	// An origin no candidate has a round trip to (a site that left) says
	// nothing about placement.
	for o := range mix {
		seen := false
		for _, v := range in.Voters {
			if _, ok := in.rtt(o, v); ok {
				seen = true
				break
			}
		}
		if !seen {
			total -= mix[o]
			delete(mix, o)
		}
	}
	excluded := map[string]bool{}
	for _, s := range in.Prefs.Exclude {
		excluded[s] = true
	}
	for _, v := range in.Voters {
		if why, bad := in.Ineligible[v]; bad && v != in.Current {
			d.Unavailable[v] = why
			continue
		}
		if excluded[v] && v != in.Current {
			d.Unavailable[v] = "excluded by the operators"
			continue
		}
		q, err := in.quorumRTT(v)
		if err != nil {
			d.Unavailable[v] = err.Error()
			continue
		}
		if total <= 0 {
			d.Unavailable[v] = "no write origin with a known round trip"
			continue
		}
		var sum float64
		var missing []string
		for o, w := range mix {
			r, ok := in.rtt(o, v)
			if !ok {
				missing = append(missing, o)
				continue
			}
			sum += w * float64(r+q)
		}
		if len(missing) > 0 {
			sort.Strings(missing)
			d.Unavailable[v] = "no round trip measured from " + strings.Join(missing, ", ")
			continue
		}
		d.Estimates[v] = time.Duration(sum / total)
	}
	cur, curOK := d.Estimates[in.Current]
	// score is the cost compared, with the preferred voters' bonus.
	score := func(v string) float64 {
		s := float64(d.Estimates[v])
		if i := slices.Index(in.Prefs.Prefer, v); i >= 0 {
			s *= 1 - preferBonus/float64(i+1)
		}
		return s
	}
	best := ""
	for v := range d.Estimates {
		if v == in.Current && excluded[v] {
			continue
		}
		if best == "" || score(v) < score(best) || score(v) == score(best) && v < best {
			best = v
		}
	}
	switch {
	case in.Manual || in.Prefs.Manual:
		d.Reason = "manual placement: leadership moves only when an operator moves it"
		return d
	case best == "":
		d.Reason = "no voter can be judged: " + describe(d.Unavailable)
		return d
	}
	dwell := func(why string) PlacementDecision {
		d.Reason = fmt.Sprintf("%s, but %s has led only %s of the %s dwell", why, in.Current, in.SinceChange.Round(time.Second), in.Dwell)
		return d
	}
	if pin := in.Prefs.Pin; pin != "" {
		if pin == in.Current {
			d.Reason = "pinned to " + pin
			return d
		}
		if _, ok := d.Estimates[pin]; ok {
			if in.SinceChange < in.Dwell {
				return dwell("pinned to " + pin)
			}
			d.Move, d.Reason = pin, "pinned to "+pin
			return d
		}
		why := d.Unavailable[pin]
		if why == "" {
			why = "not a voter"
		}
		d.Reason = fmt.Sprintf("pinned to %s, which cannot lead now (%s): placed automatically meanwhile; ", pin, why)
	}
	reason := func(s string) PlacementDecision { d.Reason += s; return d }
	if excluded[in.Current] {
		if in.SinceChange < in.Dwell {
			return dwell(in.Current + " is excluded")
		}
		d.Move = best
		return reason(fmt.Sprintf("%s is excluded: moving to %s (%s per write)", in.Current, best, ms(d.Estimates[best])))
	}
	if !curOK {
		// Without an estimate for the current leader (its row is not
		// measured yet) no gain can be shown.
		return reason(fmt.Sprintf("no estimate for the leader %s yet (%s)", in.Current, d.Unavailable[in.Current]))
	}
	if best == in.Current {
		return reason(fmt.Sprintf("%s is the best placement (%s per write)", in.Current, ms(cur)))
	}
	gain := cur - d.Estimates[best]
	rel := float64(gain) / float64(cur)
	if cur == 0 {
		rel = 0
	}
	switch {
	case gain < in.MinGain || rel < in.Margin:
		if score(best) < float64(cur)*(1-in.Margin) && gain >= in.MinGain {
			break // a preferred voter's bonus carries it over the margin
		}
		return reason(fmt.Sprintf("%s better by %.0f %% (%s per write; a move needs %.0f %% and %s)",
			best, math.Max(rel*100, 0), ms(gain), in.Margin*100, ms(in.MinGain)))
	}
	if !d.Uniform && total < in.MinWrites {
		return reason(fmt.Sprintf("%s better by %.0f %%, but only %.0f writes seen (%g needed)", best, rel*100, total, in.MinWrites))
	}
	if in.SinceChange < in.Dwell {
		d.Reason += fmt.Sprintf("%s better by %.0f %% (%s → %s per write), but %s has led only %s of the %s dwell",
			best, rel*100, ms(cur), ms(d.Estimates[best]), in.Current, in.SinceChange.Round(time.Second), in.Dwell)
		return d
	}
	d.Move = best
	return reason(fmt.Sprintf("moving to %s: %s → %s per write (−%.0f %%)", best, ms(cur), ms(d.Estimates[best]), rel*100))
}

func ms(d time.Duration) string { return d.Round(100 * time.Microsecond).String() }

func describe(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+": "+m[k])
	}
	return strings.Join(parts, "; ")
}
