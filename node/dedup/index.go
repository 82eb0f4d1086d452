package dedup

import (
	"errors"
	"fmt"
	"math"
	"sort"
)

// Config tunes an Index. The values of DefaultConfig were chosen on one
// half of the labelled development set and checked on the other
// (quality_test.go).
type Config struct {
	// Threshold is the confidence from which a candidate is reported as
	// a duplicate.
	Threshold float64
	// MinConfidence is the lowest confidence Check returns at all.
	MinConfidence float64
	// MaxResults bounds the candidates Check returns.
	MaxResults int
	// MaxPosting skips blocking keys shared by more leads than this; such
	// keys (a common word) would make a check scan most of the index.
	MaxPosting int
	// MaxTextPosting is the same bound for text features used as keys.
	// Pairs found only through text stay below TextOnly, so these keys
	// serve suggestions and can be bounded tightly.
	MaxTextPosting int
	// SimLow and SimHigh map text similarity linearly to [0,1]: at or
	// below SimLow the texts count as unrelated, at or above SimHigh as
	// the same technology.
	SimLow, SimHigh float64
	// TextOnly caps the confidence of a pair without organisation
	// evidence.
	TextOnly float64
	// TextWeight is the exponent of the technology similarity in the
	// confidence; the organisation evidence gets 1-TextWeight.
	TextWeight float64
	// TRLGapFactor multiplies the confidence once for every step by
	// which the TRLs differ beyond one.
	TRLGapFactor float64
	// DealTypeFactor and SectorFactor multiply the confidence when the
	// two leads name different deal types or sectors.
	DealTypeFactor, SectorFactor float64
	// OtherProductFactor multiplies the confidence of a pair with
	// organisation evidence when one lead presents itself as another
	// product of the organisation and the other does not (other.go).
	OtherProductFactor float64
}

// DefaultConfig returns the configuration measured in the package tests.
func DefaultConfig() Config {
	return Config{
		Threshold:          0.6,
		MinConfidence:      0.2,
		MaxResults:         10,
		MaxPosting:         2000,
		MaxTextPosting:     100,
		SimLow:             0.05,
		SimHigh:            0.45,
		TextOnly:           0.4,
		TextWeight:         0.6,
		TRLGapFactor:       0.85,
		DealTypeFactor:     0.9,
		SectorFactor:       0.9,
		OtherProductFactor: 0.7,
	}
}

// Errors returned by Add.
var (
	ErrNoID        = errors.New("lead has no id")
	ErrDuplicateID = errors.New("lead id already indexed")
)

// Index holds existing leads for duplicate checks. Check may run
// concurrently with other calls to Check; Add must not run concurrently
// with anything.
type Index struct {
	cfg      Config
	leads    []*prepared
	ids      map[string]int
	postings map[string][]int32
	df       map[string]int
}

// New returns an empty Index.
func New(cfg Config) *Index {
	return &Index{cfg: cfg, ids: map[string]int{}, postings: map[string][]int32{}, df: map[string]int{}}
}

// Len returns the number of leads indexed.
func (ix *Index) Len() int { return len(ix.leads) }

// Add indexes an existing lead.
func (ix *Index) Add(l Lead) error {
	if l.ID == "" {
		return ErrNoID
	}
	if _, ok := ix.ids[l.ID]; ok {
		return fmt.Errorf("add %s: %w", l.ID, ErrDuplicateID)
	}
	p := prepare(l)
	n := int32(len(ix.leads))
	ix.ids[l.ID] = len(ix.leads)
	ix.leads = append(ix.leads, p)
	for _, k := range orgKeys(p) {
		ix.postings[k] = append(ix.postings[k], n)
	}
	for _, f := range p.feats {
		ix.df[f.key]++
		ix.postings[f.key] = append(ix.postings[f.key], n)
	}
	return nil
}

// orgKeys are the blocking keys of a lead's organisation evidence; every
// signal of orgEvidence has a key here, so a pair with organisation
// evidence always shares a block.
func orgKeys(p *prepared) []string {
	var ks []string
	for _, d := range p.domains {
		ks = append(ks, "D:"+d, "L:"+domainLabel(d), "O:"+domainLabel(d))
	}
	for _, e := range p.emails {
		ks = append(ks, "E:"+e)
	}
	for _, n := range p.names {
		ks = append(ks, "O:"+n.core, "F:"+n.first)
	}
	for _, n := range p.people {
		ks = append(ks, "P:"+n)
	}
	sort.Strings(ks)
	out := ks[:0]
	for i, k := range ks {
		if i == 0 || k != ks[i-1] {
			out = append(out, k)
		}
	}
	return out
}

// rareKeys is how many of a candidate's rarest text features are used as
// blocking keys besides its organisation keys.
const rareKeys = 8

// Check returns the indexed leads that may duplicate l, most confident
// first (ties by ID), at most Config.MaxResults of them. l itself need not
// be indexed; if it is, it is not compared with itself.
func (ix *Index) Check(l Lead) []Candidate {
	c := prepare(l)
	block := map[int32]struct{}{}
	collect := func(k string, limit int) {
		ps := ix.postings[k]
		if len(ps) > limit {
			return
		}
		for _, i := range ps {
			block[i] = struct{}{}
		}
	}
	for _, k := range orgKeys(c) {
		collect(k, ix.cfg.MaxPosting)
	}
	rare := make([]feature, 0, len(c.feats))
	for _, f := range c.feats {
		if d := ix.df[f.key]; d > 0 && d <= ix.cfg.MaxTextPosting {
			rare = append(rare, f)
		}
	}
	sort.Slice(rare, func(i, j int) bool {
		di, dj := ix.df[rare[i].key], ix.df[rare[j].key]
		if di != dj {
			return di < dj
		}
		return rare[i].key < rare[j].key
	})
	for i := 0; i < len(rare) && i < rareKeys; i++ {
		collect(rare[i].key, ix.cfg.MaxTextPosting)
	}

	n := float64(len(ix.leads) + 1)
	own := map[string]bool{}
	for _, f := range c.feats {
		own[f.key] = true
	}
	idf := func(k string) float64 {
		d := ix.df[k]
		if own[k] {
			d++
		}
		return math.Max(0, math.Log((n+1)/(float64(d)+1)))
	}
	var out []Candidate
	for i := range block {
		e := ix.leads[i]
		if e.lead.ID == l.ID {
			continue
		}
		if cand := ix.cfg.score(c, e, idf); cand.Confidence >= ix.cfg.MinConfidence {
			out = append(out, cand)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Confidence != out[j].Confidence {
			return out[i].Confidence > out[j].Confidence
		}
		return out[i].ID < out[j].ID
	})
	if ix.cfg.MaxResults > 0 && len(out) > ix.cfg.MaxResults {
		out = out[:ix.cfg.MaxResults]
	}
	return out
}
