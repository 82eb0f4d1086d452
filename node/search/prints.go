package search

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"maps"

	"github.com/blevesearch/bleve/v2"
)

// The fingerprints of the documents (see fingerprint) are kept in the
// index's internal store, written in the same batch as the documents, so
// that after a crash they never claim a document the index lost. They are
// kept in shards of many leads each, not a key per lead: scorch writes
// every internal key into each snapshot it persists, and with a key per
// lead every batch cost as much as the whole index (a 100,000-lead index
// took a quarter of an hour to build, most of it inserting the same keys
// into bbolt again and again).
const printShards = 256

// prints are the fingerprints of the documents the index holds, by shard
// and lead ID. Only Run's goroutine reads or changes them.
type prints [printShards]map[string]uint64

func shardOf(id string) int {
	h := fnv.New32a()
	h.Write([]byte(id))
	return int(h.Sum32() % printShards)
}

func shardKey(shard int) []byte { return fmt.Appendf(nil, "%s%02x", keyPrint, shard) }

// loadPrints reads the fingerprints an index holds.
func loadPrints(idx bleve.Index) (*prints, error) {
	p := new(prints)
	for s := range p {
		raw, err := idx.GetInternal(shardKey(s))
		if err != nil {
			return nil, fmt.Errorf("read search index fingerprints: %w", err)
		}
		if p[s], err = decodeShard(raw); err != nil {
			return nil, fmt.Errorf("read search index fingerprints: shard %d: %w", s, err)
		}
	}
	return p, nil
}

func (p *prints) len() int {
	n := 0
	for _, m := range p {
		n += len(m)
	}
	return n
}

// A shard is stored as its entries one after another: the ID's length
// (uvarint), the ID, and the fingerprint (8 bytes, big-endian).
func encodeShard(m map[string]uint64) []byte {
	var out []byte
	for id, fp := range m {
		out = binary.AppendUvarint(out, uint64(len(id)))
		out = append(out, id...)
		out = binary.BigEndian.AppendUint64(out, fp)
	}
	return out
}

func decodeShard(raw []byte) (map[string]uint64, error) {
	m := map[string]uint64{}
	for len(raw) > 0 {
		n, k := binary.Uvarint(raw)
		if k <= 0 || uint64(len(raw)-k) < n+8 {
			return nil, fmt.Errorf("truncated entry")
		}
		raw = raw[k:]
		m[string(raw[:n])] = binary.BigEndian.Uint64(raw[n:])
		raw = raw[n+8:]
	}
	return m, nil
}

// printChanges are the fingerprints a batch changes: the shards it
// touches, as they will be once it is written.
type printChanges map[int]map[string]uint64

func (c printChanges) get(p *prints, id string) (uint64, bool) {
	s := shardOf(id)
	m, ok := c[s]
	if !ok {
		m = p[s]
	}
	fp, ok := m[id]
	return fp, ok
}

func (c printChanges) shard(p *prints, id string) map[string]uint64 {
	s := shardOf(id)
	m, ok := c[s]
	if !ok {
		m = maps.Clone(p[s])
		if m == nil {
			m = map[string]uint64{}
		}
		c[s] = m
	}
	return m
}

func (c printChanges) set(p *prints, id string, fp uint64) { c.shard(p, id)[id] = fp }

func (c printChanges) remove(p *prints, id string) { delete(c.shard(p, id), id) }

// write adds the changed shards to b.
func (c printChanges) write(b *bleve.Batch) {
	for s, m := range c {
		if len(m) == 0 {
			b.DeleteInternal(shardKey(s))
		} else {
			b.SetInternal(shardKey(s), encodeShard(m))
		}
	}
}

// commit makes the changes p's, once the batch holding them is written.
func (c printChanges) commit(p *prints) {
	for s, m := range c {
		p[s] = m
	}
	clear(c)
}
