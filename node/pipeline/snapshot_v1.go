package pipeline

import (
	"encoding/json"
	"fmt"
	"sort"
)

// snapshotFormatV1 is the format of snapshots written before users could
// hold several tokens: each user row carried its one token's hash. Sites
// still hold such snapshots, and backups made with them must restore.
const snapshotFormatV1 = "innonet-pipeline/1"

// v1User is a user row of a v1 snapshot.
type v1User struct {
	User
	TokenHash string `json:"tokenHash"`
}

// v1Upgrade turns the rows of a v1 snapshot into the current tables. It
// gives every user's token the row the log would have given it: in v1 a
// token was created only with its user, so the Nth user (in ID order)
// created the Nth token, which is therefore tok-N. A site that restores a
// v1 snapshot and a site that replays the same log from the start hold
// the same tokens.
type v1Upgrade struct {
	users []v1User
}

func (up *v1Upgrade) decodeRow(rec record) (any, error) {
	switch rec.Table {
	case tableTokens:
		return nil, fmt.Errorf("restore: unknown table %q", rec.Table)
	case tableUsers:
		var u v1User
		if err := json.Unmarshal(rec.Value, &u); err != nil {
			return nil, fmt.Errorf("restore %s: %w", rec.Table, err)
		}
		up.users = append(up.users, u)
		return &u.User, nil
	}
	return decodeRow(rec)
}

// finish adds the tokens of the users decoded and their counter.
func (up *v1Upgrade) finish(txn *tx) error {
	sort.Slice(up.users, func(i, j int) bool { return lessID(up.users[i].ID, up.users[j].ID) })
	n := 0
	for _, u := range up.users {
		if u.TokenHash == "" {
			return fmt.Errorf("restore: user %s of a %s snapshot has no token hash", u.ID, snapshotFormatV1)
		}
		n++
		t := &Token{ID: fmt.Sprintf("tok-%04d", n), UserID: u.ID, Hash: u.TokenHash,
			Created: u.Created, CreatedBy: u.CreatedBy, RevokedBy: u.RevokedBy}
		if u.Revoked != nil {
			at := *u.Revoked
			t.Revoked = &at
		}
		if err := insertRow(txn, tableTokens, t); err != nil {
			return fmt.Errorf("restore: token of %s: %w", u.ID, err)
		}
	}
	if n == 0 {
		return nil
	}
	if err := insertRow(txn, tableCounters, &counter{Name: "token", Value: int64(n)}); err != nil {
		return fmt.Errorf("restore: token counter: %w", err)
	}
	return nil
}
