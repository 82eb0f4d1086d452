package pipeline

import (
	"errors"
	"fmt"
	"strings"

	"github.com/tidwall/btree"
)

// keyedItem is a row of a keyed table in its tree: its key and the row.
type keyedItem struct {
	key string
	row any
}

func lessKeyedItem(a, b keyedItem) bool { return a.key < b.key }

// The keyed tables: small tables that nearly every request reads or
// writes (a counter, the caller's token, the actor, its site, a setting,
// the calendars of the stage deadlines, the attachments of a lead
// answered), kept in a tree each by their key. keyedTables names them in
// the order of these constants. The tokens and the attachments are also
// kept in other orders (alsoKeys), a tree each: the tokens by hash
// (unique, as memdb's index was: the hash of a new token is checked
// unused first) and by user, the attachments by SHA-256.
const (
	keyedCounters    = iota // by name
	keyedUsers              // by ID
	keyedTokens             // by ID; by hash, by user
	keyedSites              // by code
	keyedSettings           // by name
	keyedCalendars          // by key (calendar/year)
	keyedAttachments        // by key (lead/sha/scope); by SHA-256
	numKeyed
)

var keyedTables = [numKeyed]string{tableCounters, tableUsers, tableTokens, tableSites, tableSettings,
	tableCalendars, tableAttachments}

// The other orders of the keyed tables, in sideIndexes.also.
const (
	tokensByHash     = 0
	tokensByUser     = 1
	attachmentsBySHA = 0
	maxAlso          = 2
	alsoKeySeparator = "\x00" // which no key holds
)

// numAlso is how many other orders the keyed table k has.
func numAlso(k int) int {
	switch k {
	case keyedTokens:
		return 2
	case keyedAttachments:
		return 1
	}
	return 0
}

// alsoKeys returns row's keys in the other orders of the keyed table k:
// a non-unique order's key ends with the row's own key, as memdb's did.
func alsoKeys(k int, row any) (keys [maxAlso]string) {
	switch k {
	case keyedTokens:
		t := row.(*Token)
		keys[tokensByHash], keys[tokensByUser] = t.Hash, t.UserID+alsoKeySeparator+t.ID
	case keyedAttachments:
		a := row.(*Attachment)
		keys[attachmentsBySHA] = a.SHA256 + alsoKeySeparator + a.Key
	}
	return keys
}

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
		key, ok = keyOf(obj, func(c *counter) string { return c.Name })
	case keyedUsers:
		key, ok = keyOf(obj, func(u *User) string { return u.ID })
	case keyedTokens:
		key, ok = keyOf(obj, func(t *Token) string { return t.ID })
		if t, _ := obj.(*Token); key != "" && (t.Hash == "" || t.UserID == "") {
			return keyedItem{}, errors.New("a token without its hash or user")
		}
	case keyedSites:
		key, ok = keyOf(obj, func(s *Site) string { return s.Code })
	case keyedSettings:
		key, ok = keyOf(obj, func(s *Setting) string { return s.Name })
	case keyedCalendars:
		key, ok = keyOf(obj, func(c *CalendarTable) string { return c.Key })
	case keyedAttachments:
		key, ok = keyOf(obj, func(a *Attachment) string { return a.Key })
		if a, _ := obj.(*Attachment); key != "" && a.SHA256 == "" {
			return keyedItem{}, errors.New("an attachment without its SHA-256")
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

// keyOf returns the key of obj if it is a *T (the empty key for a nil
// one), and whether it is.
func keyOf[T any](obj any, key func(*T) string) (string, bool) {
	r, ok := obj.(*T)
	if !ok || r == nil {
		return "", ok
	}
	return key(r), true
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
// its key if there is one, and to the table's other orders.
func (o *sideIndexes) setKeyed(k int, it keyedItem) {
	old, replaced := o.keyed[k].Set(it)
	n := numAlso(k)
	if n == 0 {
		return
	}
	if replaced {
		keys := alsoKeys(k, old.row)
		for i := range n {
			o.also[k][i].Delete(keyedItem{key: keys[i]})
		}
	}
	keys := alsoKeys(k, it.row)
	for i := range n {
		o.also[k][i].Set(keyedItem{key: keys[i], row: it.row})
	}
}

// keyedRows returns the rows of the keyed table k whose key begins with
// prefix, in key order.
func keyedRows[T any](txn *tx, k int, prefix string) []T {
	return rowsFrom[T](sideIn(txn).keyed[k], prefix)
}

// alsoRows returns the rows of the keyed table k whose key in its other
// order i begins with prefix, in that order.
func alsoRows[T any](txn *tx, k, i int, prefix string) []T {
	return rowsFrom[T](sideIn(txn).also[k][i], prefix)
}

// rowsFrom returns the rows of tree whose key begins with prefix.
func rowsFrom[T any](tree *btree.BTreeG[keyedItem], prefix string) []T {
	var out []T
	it := tree.Iter()
	for ok := it.Seek(keyedItem{key: prefix}); ok && strings.HasPrefix(it.Item().key, prefix); ok = it.Next() {
		out = append(out, it.Item().row.(T))
	}
	it.Release()
	return out
}

// counterIn returns the counter of that name as txn sees it, or nil.
func counterIn(txn *tx, name string) *counter { return keyedIn[*counter](txn, keyedCounters, name) }

// userIn returns the user of that ID as txn sees it, or nil.
func userIn(txn *tx, id string) *User { return keyedIn[*User](txn, keyedUsers, id) }

// tokenIn returns the token of that ID as txn sees it, or nil.
func tokenIn(txn *tx, id string) *Token { return keyedIn[*Token](txn, keyedTokens, id) }

// tokenByHash returns the token whose hash that is, or nil.
func tokenByHash(txn *tx, hash string) *Token {
	it, _ := sideIn(txn).also[keyedTokens][tokensByHash].Get(keyedItem{key: hash})
	t, _ := it.row.(*Token)
	return t
}

// tokensOfUser returns the tokens of that user, by ID as strings order
// them.
func tokensOfUser(txn *tx, userID string) []Token {
	ts := alsoRows[*Token](txn, keyedTokens, tokensByUser, userID+alsoKeySeparator)
	out := make([]Token, len(ts))
	for i, t := range ts {
		out[i] = *t
	}
	return out
}
