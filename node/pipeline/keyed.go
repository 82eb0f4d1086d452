package pipeline

import (
	"errors"
	"fmt"
	"strings"
)

// keyedItem is a row of a keyed table in its tree: its key and the row.
type keyedItem struct {
	key string
	row any
}

func lessKeyedItem(a, b keyedItem) bool { return a.key < b.key }

// The keyed tables: small tables of one key, which nearly every request
// reads or writes (a counter, the caller's token, the actor, its site, a
// setting), kept in a tree each by that key. keyedTables names them in
// the order of these constants. The tokens have two more trees, by hash
// (unique, as memdb's index was: the hash of a new token is checked
// unused first) and by user.
const (
	keyedCounters = iota // by name
	keyedUsers           // by ID
	keyedTokens          // by ID; and by hash, and by user
	keyedSites           // by code
	keyedSettings        // by name
	numKeyed
)

var keyedTables = [numKeyed]string{tableCounters, tableUsers, tableTokens, tableSites, tableSettings}

// keyedOf returns the keyed table's constant, or -1 for another table.
func keyedOf(table string) int {
	for k, t := range keyedTables {
		if t == table {
			return k
		}
	}
	return -1
}

// keyedRowOf checks that obj is a row of the keyed table k and has its
// key, and returns the row's item.
func keyedRowOf(k int, obj any) (keyedItem, error) {
	var key string
	ok := false
	switch k {
	case keyedCounters:
		var c *counter
		if c, ok = obj.(*counter); ok && c != nil {
			key = c.Name
		}
	case keyedUsers:
		var u *User
		if u, ok = obj.(*User); ok && u != nil {
			key = u.ID
		}
	case keyedTokens:
		var t *Token
		if t, ok = obj.(*Token); ok && t != nil {
			key = t.ID
			if key != "" && (t.Hash == "" || t.UserID == "") {
				return keyedItem{}, errors.New("a token without its hash or user")
			}
		}
	case keyedSites:
		var s *Site
		if s, ok = obj.(*Site); ok && s != nil {
			key = s.Code
		}
	case keyedSettings:
		var s *Setting
		if s, ok = obj.(*Setting); ok && s != nil {
			key = s.Name
		}
	}
	if !ok {
		return keyedItem{}, fmt.Errorf("%T is not a row of %s", obj, keyedTables[k])
	}
	if key == "" {
		return keyedItem{}, errNoKey
	}
	return keyedItem{key: key, row: obj}, nil
}

// keyedIn returns the row of the keyed table k with that key as txn sees
// it, or the zero T (nil) if there is none.
func keyedIn[T any](txn *tx, k int, key string) T {
	it, _ := sideIn(txn).keyed[k].Get(keyedItem{key: key})
	row, _ := it.row.(T)
	return row
}

// anyKeyed reports whether the keyed table k has a row.
func anyKeyed(txn *tx, k int) bool { return sideIn(txn).keyed[k].Len() > 0 }

// setKeyed writes it, a row of the keyed table k, in place of the row of
// its key if there is one; a token also by hash and by user.
func (o *sideIndexes) setKeyed(k int, it keyedItem) {
	old, replaced := o.keyed[k].Set(it)
	if k != keyedTokens {
		return
	}
	if replaced {
		was := old.row.(*Token)
		o.tokenHashes.Delete(keyedItem{key: was.Hash})
		o.tokenUsers.Delete(keyedItem{key: tokenUserKey(was.UserID, was.ID)})
	}
	t := it.row.(*Token)
	o.tokenHashes.Set(keyedItem{key: t.Hash, row: t})
	o.tokenUsers.Set(keyedItem{key: tokenUserKey(t.UserID, t.ID), row: t})
}

// tokenUserKey is a token's key in the tree by user: the user's ID, a
// NUL (which no ID holds), the token's ID.
func tokenUserKey(userID, id string) string { return userID + "\x00" + id }

// counterIn returns the counter of that name as txn sees it, or nil.
func counterIn(txn *tx, name string) *counter { return keyedIn[*counter](txn, keyedCounters, name) }

// userIn returns the user of that ID as txn sees it, or nil.
func userIn(txn *tx, id string) *User { return keyedIn[*User](txn, keyedUsers, id) }

// tokenIn returns the token of that ID as txn sees it, or nil.
func tokenIn(txn *tx, id string) *Token { return keyedIn[*Token](txn, keyedTokens, id) }

// tokenByHash returns the token whose hash that is, or nil.
func tokenByHash(txn *tx, hash string) *Token {
	it, _ := sideIn(txn).tokenHashes.Get(keyedItem{key: hash})
	t, _ := it.row.(*Token)
	return t
}

// tokensOfUser returns the tokens of that user, by ID as strings order
// them.
func tokensOfUser(txn *tx, userID string) []Token {
	prefix := tokenUserKey(userID, "")
	var out []Token
	it := sideIn(txn).tokenUsers.Iter()
	for ok := it.Seek(keyedItem{key: prefix}); ok && strings.HasPrefix(it.Item().key, prefix); ok = it.Next() {
		out = append(out, *it.Item().row.(*Token))
	}
	it.Release()
	return out
}
