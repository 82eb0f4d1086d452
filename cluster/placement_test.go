package cluster

import (
	"strings"
	"testing"
	"time"
)

// wanRTT is issue 17's matrix (ms): the overseas voters, CGO, and a
// division 25 ms from CGO and that plus 10 from the others.
func wanRTT() map[string]map[string]time.Duration {
	ms := map[[2]string]int{
		{"CGO", "BOS"}: 230, {"CGO", "CBG"}: 200, {"CGO", "MUC"}: 180, {"CGO", "TLV"}: 200,
		{"BOS", "CBG"}: 75, {"BOS", "MUC"}: 95, {"BOS", "TLV"}: 140, {"CBG", "MUC"}: 20,
		{"CBG", "TLV"}: 70, {"MUC", "TLV"}: 55,
		{"BOHAI", "CGO"}: 25, {"BOHAI", "BOS"}: 240, {"BOHAI", "CBG"}: 210, {"BOHAI", "MUC"}: 190, {"BOHAI", "TLV"}: 210,
	}
	out := map[string]map[string]time.Duration{}
	for p, v := range ms {
		for _, ab := range [][2]string{{p[0], p[1]}, {p[1], p[0]}} {
			if out[ab[0]] == nil {
				out[ab[0]] = map[string]time.Duration{}
			}
			out[ab[0]][ab[1]] = time.Duration(v) * time.Millisecond
		}
	}
	return out
}

// sixWrites is the mix of the six kinds of write: four node
// submits, an HQ review, a division claim.
func sixWrites() map[string]float64 {
	return map[string]float64{"BOS": 10, "CBG": 10, "MUC": 10, "TLV": 10, "CGO": 10, "BOHAI": 10}
}

func baseInput(current string) placementInput {
	return placementInput{
		Current: current, Voters: []string{"BOS", "CBG", "CGO", "MUC", "TLV"}, Ineligible: map[string]string{},
		RTT: wanRTT(), Mix: sixWrites(), Sites: []string{"BOHAI", "BOS", "CBG", "CGO", "MUC", "TLV"},
		SinceChange: time.Minute, Dwell: 45 * time.Second, MinWrites: 20, Margin: 0.15, MinGain: 10 * time.Millisecond,
	}
}

func TestDecidePlacement(t *testing.T) {
	tests := []struct {
		name    string
		current string
		change  func(*placementInput)
		move    string
		reason  string // a part of the reason
	}{
		{name: "CGO bootstrap moves to MUC", current: "CGO", move: "MUC", reason: "moving to MUC"},
		{name: "the best stays", current: "MUC", reason: "MUC is the best placement"},
		{name: "dwell holds a new leader", current: "CGO", change: func(in *placementInput) { in.SinceChange = 20 * time.Second },
			reason: "led only 20s of the 45s dwell"},
		{name: "hysteresis: CBG is within 15 % of MUC", current: "CBG", reason: "MUC better by 13 %"},
		{name: "absolute margin", current: "CBG", change: func(in *placementInput) { in.Margin, in.MinGain = 0.05, 50*time.Millisecond },
			reason: "a move needs 5 % and 50ms"},
		{name: "manual never moves", current: "CGO", change: func(in *placementInput) { in.Manual = true }, reason: "manual placement"},
		{name: "replicated manual never moves", current: "CGO", change: func(in *placementInput) { in.Prefs.Manual = true }, reason: "manual placement"},
		{name: "excluded best is skipped", current: "CGO", change: func(in *placementInput) { in.Prefs.Exclude = []string{"MUC"} }, move: "CBG"},
		{name: "excluded leader leaves without margin", current: "CBG", change: func(in *placementInput) { in.Prefs.Exclude = []string{"CBG"} },
			move: "MUC", reason: "CBG is excluded"},
		{name: "pin moves to a worse site", current: "MUC", change: func(in *placementInput) { in.Prefs.Pin = "BOS" }, move: "BOS", reason: "pinned to BOS"},
		{name: "pin on the leader stays", current: "BOS", change: func(in *placementInput) { in.Prefs.Pin = "BOS" }, reason: "pinned to BOS"},
		{name: "pin on an unhealthy voter places automatically", current: "CGO",
			change: func(in *placementInput) { in.Prefs.Pin = "BOS"; in.Ineligible["BOS"] = "unhealthy" }, move: "MUC", reason: "cannot lead now (unhealthy)"},
		{name: "prefer carries a voter over the margin", current: "CBG", change: func(in *placementInput) { in.Prefs.Prefer = []string{"MUC"} }, move: "MUC"},
		{name: "missing RTT makes a voter ineligible", current: "CGO",
			change: func(in *placementInput) { delete(in.RTT["MUC"], "BOHAI"); delete(in.RTT["BOHAI"], "MUC") }, move: "CBG"},
		{name: "behind voter never chosen", current: "CGO", change: func(in *placementInput) { in.Ineligible["MUC"] = "behind" }, move: "CBG"},
		{name: "skewed voter never chosen", current: "CGO",
			change: func(in *placementInput) {
				in.Ineligible["MUC"] = "alarm CLOCK_SKEW"
				in.Ineligible["CBG"] = "alarm CORRUPT"
			}, move: "TLV"},
		{name: "too few writes", current: "CGO", change: func(in *placementInput) { in.Mix = map[string]float64{"MUC": 3, "CBG": 2} },
			reason: "only 5 writes seen"},
		{name: "no writes: a uniform mix", current: "CGO", change: func(in *placementInput) { in.Mix = nil }, move: "MUC"},
		{name: "writes from TLV alone", current: "MUC", change: func(in *placementInput) { in.Mix = map[string]float64{"TLV": 100} },
			move: "TLV"},
		{name: "no RTT at all", current: "CGO", change: func(in *placementInput) { in.RTT = nil }, reason: "no voter can be judged"},
		{name: "leader's own row missing", current: "CGO",
			change: func(in *placementInput) {
				in.Mix = map[string]float64{"BOS": 10, "MUC": 10, "TLV": 10}
				delete(in.RTT, "CGO")
				for _, r := range in.RTT {
					delete(r, "CGO")
				}
			},
			reason: "no estimate for the leader CGO yet (round trips to only 0 other voters known"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := baseInput(tt.current)
			if tt.change != nil {
				tt.change(&in)
			}
			d := decidePlacement(in)
			if d.Move != tt.move {
				t.Errorf("move %q, want %q (reason: %s)", d.Move, tt.move, d.Reason)
			}
			if !strings.Contains(d.Reason, tt.reason) {
				t.Errorf("reason %q, want it to contain %q", d.Reason, tt.reason)
			}
		})
	}
}

// TestPlacementEstimates checks the cost formula on the matrix:
// at MUC (quorum via TLV, 55 ms) the six writes cost (95+20+0+55+180+190
// + 6·55)/6 = 145 ms; at CGO (quorum via CBG or TLV, 200 ms) 339 ms.
func TestPlacementEstimates(t *testing.T) {
	d := decidePlacement(baseInput("CGO"))
	want := map[string]time.Duration{"MUC": 145 * time.Millisecond, "CGO": 2035 * time.Millisecond / 6, "CBG": 995 * time.Millisecond / 6}
	for v, w := range want {
		if got := d.Estimates[v]; got != w {
			t.Errorf("estimate at %s: %s, want %s", v, got, w)
		}
	}
}

func TestRTTEstimatorResistsOutliers(t *testing.T) {
	e := newRTTEstimator()
	now := time.Now()
	for i := range 8 {
		e.add("MUC", time.Duration(50+i%3)*time.Millisecond, now)
	}
	e.add("MUC", 3*time.Second, now) // one stalled answer
	if got := e.row(now.Add(-time.Second))["MUC"]; got < 50*time.Millisecond || got > 52*time.Millisecond {
		t.Errorf("estimate after one outlier %s, want 50-52ms", got)
	}
	// A lasting change wins once it fills most of the window.
	for range 5 {
		e.add("MUC", 200*time.Millisecond, now)
	}
	if got := e.row(now.Add(-time.Second))["MUC"]; got != 200*time.Millisecond {
		t.Errorf("estimate after a lasting change %s, want 200ms", got)
	}
	// A peer not heard from recently is dropped from the row.
	if got, ok := e.row(now.Add(time.Second))["MUC"]; ok {
		t.Errorf("stale peer still reported: %s", got)
	}
	e.keep(map[string]bool{"BOS": true})
	if len(e.row(time.Time{})) != 0 {
		t.Error("a member that left is still reported")
	}
}

func TestWriteMixDecays(t *testing.T) {
	m := &writeMix{halfLife: time.Minute, w: map[string]float64{}}
	t0 := time.Now()
	for range 8 {
		m.note("BOS", t0)
	}
	m.note("MUC", t0.Add(time.Minute))
	got := m.snapshot(t0.Add(2 * time.Minute))
	if b := got["BOS"]; b < 1.99 || b > 2.01 {
		t.Errorf("BOS after two half-lives %.3f, want 2", b)
	}
	if w := got["MUC"]; w < 0.49 || w > 0.51 {
		t.Errorf("MUC after one half-life %.3f, want 0.5", w)
	}
}

func TestCheckPrefs(t *testing.T) {
	voters := map[string]bool{"CGO": true, "MUC": true}
	members := map[string]bool{"CGO": true, "MUC": true, "YRD": true}
	tests := []struct {
		p    PlacementPrefs
		want string
	}{
		{PlacementPrefs{Pin: "MUC", Prefer: []string{"CGO"}, Exclude: []string{"YRD"}}, ""},
		{PlacementPrefs{Pin: "XYZ"}, `pin: "XYZ" is not a member of the cluster (members: ["CGO","MUC","YRD"])`},
		{PlacementPrefs{Pin: "YRD"}, `pin: YRD is not a voter, so it cannot lead (voters: ["CGO","MUC"])`},
		{PlacementPrefs{Pin: "MUC", Exclude: []string{"MUC"}}, "pin: MUC is also in exclude"},
		{PlacementPrefs{Prefer: []string{"MUC"}, Exclude: []string{"MUC"}}, "prefer: MUC is also in exclude"},
		{PlacementPrefs{Exclude: []string{"MUC", "CGO"}}, "exclude: names every voter"},
		{PlacementPrefs{Exclude: []string{"BOS"}}, `exclude: "BOS" is not a member`},
	}
	for _, tt := range tests {
		err := checkPrefs(tt.p, voters, members)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%+v: %v, want no error", tt.p, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%+v: %v, want %q", tt.p, err, tt.want)
		}
	}
}
