package wan

import (
	"strings"
	"testing"
	"time"
)

func TestDefaultMatrixIsComplete(t *testing.T) {
	m := DefaultMatrix()
	sites := Sites()
	for _, a := range sites {
		for _, b := range sites {
			if a == b {
				continue
			}
			if m.RTT(a, b) <= 0 || m.RTT(a, b) != m.RTT(b, a) {
				t.Errorf("RTT %s-%s = %v, %s-%s = %v: want the same, > 0", a, b, m.RTT(a, b), b, a, m.RTT(b, a))
			}
		}
	}
	if got := m.RTT("YRD", "MUC"); got != 190*time.Millisecond {
		t.Errorf("YRD-MUC = %v, want 190ms (CGO-MUC + 10)", got)
	}
	if got := m.RTT("PRD", "BOHAI"); got != 30*time.Millisecond {
		t.Errorf("PRD-BOHAI = %v, want 30ms", got)
	}
}

func TestFloors(t *testing.T) {
	m := DefaultMatrix()
	for leader, want := range map[string]struct {
		quorum time.Duration
		via    string
	}{
		"CGO": {200 * time.Millisecond, "CBG"}, // 180 MUC, 200 CBG/TLV: the 2nd is 200
		"MUC": {55 * time.Millisecond, "TLV"},  // 20 CBG, 55 TLV
		"BOS": {95 * time.Millisecond, "MUC"},  // 75 CBG, 95 MUC
	} {
		q, via := m.QuorumRTT(leader, Voters)
		if q != want.quorum || (leader != "CGO" && via != want.via) {
			t.Errorf("QuorumRTT(%s) = %v via %s, want %v via %s", leader, q, via, want.quorum, want.via)
		}
	}
	// MUC leading: submits 150+75+55+110, review 235, claim at YRD 245.
	if got := m.FloorSum(Mix("YRD"), "MUC", Voters); got != 870*time.Millisecond {
		t.Errorf("floor sum with MUC leading = %v, want 870ms", got)
	}
	best, sum := m.BestPlacement(Mix("YRD"), Voters)
	if best != "MUC" || sum != 870*time.Millisecond {
		t.Errorf("best placement = %s (%v), want MUC (870ms)", best, sum)
	}
	if got := m.Floor("CGO", "CGO", Voters); got != 200*time.Millisecond {
		t.Errorf("review at CGO with CGO leading: floor %v, want its quorum RTT 200ms", got)
	}
}

func TestParseMatrix(t *testing.T) {
	m, err := ParseMatrix("CGO-BOS=100, CBG-MUC=5")
	if err != nil {
		t.Fatal(err)
	}
	if m.RTT("BOS", "CGO") != 100*time.Millisecond || m.RTT("MUC", "CBG") != 5*time.Millisecond || m.RTT("CGO", "MUC") != 180*time.Millisecond {
		t.Errorf("overrides not applied: %v %v %v", m.RTT("BOS", "CGO"), m.RTT("MUC", "CBG"), m.RTT("CGO", "MUC"))
	}
	for in, want := range map[string]string{
		"CGO-XYZ=1": `unknown site "XYZ"`, "CGO=1": "want SITE-SITE=MS", "CGO-BOS=fast": "not a whole number",
		"CGO-CGO=3": "no round trip to itself",
	} {
		if _, err := ParseMatrix(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseMatrix(%q) = %v, want an error with %q", in, err, want)
		}
	}
}

func TestPercentile(t *testing.T) {
	var ds []time.Duration
	for i := 10; i >= 1; i-- {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	if p := Percentile(ds, 50); p != 5*time.Millisecond {
		t.Errorf("p50 = %v, want 5ms", p)
	}
	if p := Percentile(ds, 90); p != 9*time.Millisecond {
		t.Errorf("p90 = %v, want 9ms", p)
	}
	if p := Percentile(nil, 50); p != 0 {
		t.Errorf("p50 of nothing = %v", p)
	}
}
