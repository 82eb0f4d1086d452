package guard

import "github.com/hashicorp/golang-lru/simplelru"

// table is a map bounded in size that forgets the least recently used
// key first. It is not safe for concurrent use.
type table[V any] struct{ lru *simplelru.LRU }

func newTable[V any](size int) table[V] {
	l, err := simplelru.NewLRU(max(size, 1), nil)
	if err != nil {
		panic(err) // only for a size below 1
	}
	return table[V]{lru: l}
}

// get returns the value of key, adding the one create returns if none.
func (t table[V]) get(key string, create func() V) V {
	if v, ok := t.lru.Get(key); ok {
		return v.(V)
	}
	v := create()
	t.lru.Add(key, v)
	return v
}

// lookup returns the value of key, if any.
func (t table[V]) lookup(key string) (V, bool) {
	v, ok := t.lru.Get(key)
	if !ok {
		var zero V
		return zero, false
	}
	return v.(V), true
}
