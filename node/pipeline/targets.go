package pipeline

import (
	"fmt"
	"strconv"
	"time"
)

// Yearly targets. HQ stores, per year, what each first-level node, each
// sub-node, each division and the network as a whole should reach: leads
// pushed, approved, signed and landed, and the investment and jobs of the
// deals signed (from their deal terms). OpSetTargets replaces a year's
// targets whole; reports (node/reports) compare them with what the
// history shows.

const tableTargets = "targets"

// Target scopes.
const (
	ScopeNetwork  = "NETWORK"
	ScopeSite     = "SITE"
	ScopeSubnode  = "SUBNODE"
	ScopeDivision = "DIVISION"
)

// Limits of the targets.
const (
	MinTargetYear = 2000
	MaxTargetYear = 2100
	MaxTargetRows = 200
	MaxTarget     = 1_000_000
)

// TargetRow is one scope's numbers for a year.
type TargetRow struct {
	// Scope is NETWORK, SITE, SUBNODE or DIVISION; Code names the site,
	// sub-node or division ("" for NETWORK).
	Scope    string `json:"scope"`
	Code     string `json:"code,omitempty"`
	Pushed   int    `json:"pushed,omitempty"`
	Approved int    `json:"approved,omitempty"`
	Signed   int    `json:"signed,omitempty"`
	Landed   int    `json:"landed,omitempty"`
	// Investment is the amount of the deals signed, a decimal number in
	// Currency; Jobs the jobs they bring.
	Investment string `json:"investment,omitempty"`
	Currency   string `json:"currency,omitempty"`
	Jobs       int    `json:"jobs,omitempty"`
}

// Targets are a year's stored targets.
type Targets struct {
	Key           string      `json:"key"` // the year, as text (the table's key)
	Year          int         `json:"year"`
	Rows          []TargetRow `json:"rows"`
	Version       int64       `json:"version"`
	UpdatedBy     string      `json:"updatedBy"`
	UpdatedByName string      `json:"updatedByName"`
	Updated       time.Time   `json:"updated"`
}

func (t *Targets) clone() *Targets {
	c := *t
	c.Rows = append([]TargetRow(nil), t.Rows...)
	return &c
}

func checkTargets(year int, rows []TargetRow) *Error {
	if year < MinTargetYear || year > MaxTargetYear {
		return invalid("year", "must be a year from %d to %d, got %d", MinTargetYear, MaxTargetYear, year)
	}
	if len(rows) > MaxTargetRows {
		return invalid("targets", "at most %d rows, got %d", MaxTargetRows, len(rows))
	}
	seen := map[string]bool{}
	for i, r := range rows {
		f := fmt.Sprintf("targets[%d].", i)
		switch r.Scope {
		case ScopeNetwork:
			if r.Code != "" {
				return invalid(f+"code", "a NETWORK target names no code, got %q", truncate(r.Code, 20))
			}
		case ScopeSite:
			if !ValidSiteCode(r.Code) || ValidSubnodeCode(r.Code) {
				return invalid(f+"code", "%q is not a site code such as BOS or MUC", truncate(r.Code, 20))
			}
		case ScopeSubnode:
			if !ValidSubnodeCode(r.Code) {
				return invalid(f+"code", "%q is not a sub-node code such as MUC-TUM", truncate(r.Code, 20))
			}
		case ScopeDivision:
			if !ValidDivision(r.Code) {
				return invalid(f+"code", "must be one of the divisions BOHAI, YRD or PRD, got %q", truncate(r.Code, 20))
			}
		default:
			return invalid(f+"scope", "must be NETWORK, SITE, SUBNODE or DIVISION, got %q", truncate(r.Scope, 20))
		}
		key := r.Scope + "/" + r.Code
		if seen[key] {
			return invalid(f+"code", "%s %s has two rows; give each scope one", r.Scope, r.Code)
		}
		seen[key] = true
		for _, n := range []struct {
			field string
			v     int
		}{{"pushed", r.Pushed}, {"approved", r.Approved}, {"signed", r.Signed}, {"landed", r.Landed}, {"jobs", r.Jobs}} {
			if n.v < 0 || n.v > MaxTarget {
				return invalid(f+n.field, "must be from 0 to %d, got %d", MaxTarget, n.v)
			}
		}
		if r.Investment != "" {
			if err := checkAmount(r.Investment); err != nil {
				return invalid(f+"investment", "%s", err.Msg[len("amount: "):])
			}
			if r.Currency == "" {
				return invalid(f+"currency", "is required with an investment target (e.g. CNY)")
			}
		}
		if r.Currency != "" {
			if _, ok := currencyMinorUnits[r.Currency]; !ok {
				return invalid(f+"currency", "%q is not an ISO 4217 currency code (e.g. CNY, USD, EUR, GBP, ILS)", truncate(r.Currency, 10))
			}
		}
	}
	return nil
}

// setTargets applies OpSetTargets.
func (a *applier) setTargets() (Result, *Error) {
	if a.actor.Role != HQReviewer {
		return Result{}, errorf(CodePermission, "only HQ_REVIEWER may set targets; caller is %s", a.actor.Role)
	}
	year := a.cmd.Year
	cur, err := targetsOf(a.txn, year)
	if err != nil {
		return Result{}, errorf(CodeInternal, "read targets: %v", err)
	}
	var version int64
	if cur != nil {
		version = cur.Version
	}
	if v := a.cmd.ExpectedVersion; v != 0 && v != version {
		return Result{}, errorf(CodeConflict, "the targets of %d are at version %d, not the expected %d; read them again", year, version, v)
	}
	rows := append([]TargetRow(nil), a.cmd.Targets...)
	for i := range rows {
		if rows[i].Investment != "" {
			rows[i].Investment = canonicalAmount(rows[i].Investment)
		}
	}
	t := &Targets{Key: strconv.Itoa(year), Year: year, Rows: rows, Version: version + 1,
		UpdatedBy: a.actor.ID, UpdatedByName: a.actor.Name, Updated: a.now}
	if err := a.insert(tableTargets, t); err != nil {
		return Result{}, err
	}
	return Result{Targets: t.clone()}, nil
}

func targetsOf(txn *tx, year int) (*Targets, error) {
	raw, err := txn.First(tableTargets, "id", strconv.Itoa(year))
	if err != nil || raw == nil {
		return nil, err
	}
	return raw.(*Targets).clone(), nil
}

// Targets returns the stored targets of year, or nil if it has none.
func (s *State) Targets(year int) (*Targets, error) {
	t, err := targetsOf(s.read(), year)
	if err != nil {
		return nil, fmt.Errorf("read targets of %d: %w", year, err)
	}
	return t, nil
}
