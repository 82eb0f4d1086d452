package pipeline

import "fmt"

// This file applies the token commands, and the token side of adding and
// revoking users.

// checkActorToken refuses a command whose actor authenticated with a
// token that was revoked, or had expired, by the command's time: a
// revocation applied before the command wins, whatever the proposer saw.
func (a *applier) checkActorToken() *Error {
	id := a.cmd.ActorToken
	if id == "" {
		return nil
	}
	t := tokenIn(a.txn, id)
	switch {
	case t == nil || t.UserID != a.actor.ID:
		return errorf(CodeUnauthenticated, "token %s is not a token of %s", id, a.actor.ID)
	case t.Revoked != nil:
		return errorf(CodeUnauthenticated, "token %s has been revoked", id)
	case t.Expired(a.now):
		return errorf(CodeUnauthenticated, "token %s has expired", id)
	}
	return nil
}

// tokensOf returns the tokens of a user, in the order they were created.
func (a *applier) tokensOf(userID string) []Token {
	out := tokensOfUser(a.txn, userID)
	sortTokens(out)
	return out
}

func (a *applier) checkHashUnused(hash string) *Error {
	if tokenByHash(a.txn, hash) != nil {
		return invalid("token", "is already in use")
	}
	return nil
}

// issueToken stores a new token of user userID. Its expiry is the
// command's time plus the TTL, so every site computes the same.
func (a *applier) issueToken(userID string, nt NewToken) (*Token, *Error) {
	if err := a.checkHashUnused(nt.Hash); err != nil {
		return nil, err
	}
	n, err := a.next("token")
	if err != nil {
		return nil, err
	}
	t := &Token{ID: fmt.Sprintf("tok-%04d", n), UserID: userID, Hash: nt.Hash, Created: a.now,
		Description: nt.Description}
	if a.actor != nil {
		t.CreatedBy = a.actor.ID
	}
	if nt.TTL > 0 {
		exp := a.now.Add(nt.TTL)
		t.Expires = &exp
	}
	return t, a.insert(tableTokens, t)
}

// ownerOrAdmin checks that the actor may manage the tokens of user id:
// admins those of anyone, others their own. It runs before the user is
// looked up, so that a refusal does not tell whether the user exists.
func (a *applier) ownerOrAdmin(verb, id string) *Error {
	if a.actor.Role == Admin || a.actor.ID == id {
		return nil
	}
	return errorf(CodePermission, "only ADMIN may %s the tokens of other users; caller %s is %s", verb, a.actor.ID, a.actor.Role)
}

// subject returns the user a token command acts on.
func (a *applier) subject() (*User, *Error) {
	u := userIn(a.txn, a.cmd.UserID)
	if u == nil {
		return nil, errorf(CodeNotFound, "user %s not found", a.cmd.UserID)
	}
	return u, nil
}

func (a *applier) createToken() (Result, *Error) {
	if err := a.ownerOrAdmin("create", a.cmd.UserID); err != nil {
		return Result{}, err
	}
	u, err := a.subject()
	if err != nil {
		return Result{}, err
	}
	if u.Revoked != nil {
		return Result{}, errorf(CodePrecondition, "user %s has been revoked; add a new user instead", u.ID)
	}
	t, err := a.issueToken(u.ID, *a.cmd.NewToken)
	if err != nil {
		return Result{}, err
	}
	return Result{User: u, Token: t}, nil
}

// revokeToken revokes one token. Revoking a revoked token changes nothing
// and succeeds, as revoking a revoked user does, so retries are harmless.
func (a *applier) revokeToken() (Result, *Error) {
	if err := a.ownerOrAdmin("revoke", a.cmd.UserID); err != nil {
		return Result{}, err
	}
	u, err := a.subject()
	if err != nil {
		return Result{}, err
	}
	cur := tokenIn(a.txn, a.cmd.TokenID)
	if cur == nil || cur.UserID != u.ID {
		return Result{}, errorf(CodeNotFound, "user %s has no token %s", u.ID, a.cmd.TokenID)
	}
	if cur.Revoked != nil {
		return Result{User: u, Token: cur}, nil
	}
	// Signing out is always allowed: a session is never an admin's way
	// back in (its API tokens are).
	if u.ID == a.actor.ID && u.Role == Admin && !cur.Session() {
		if err := a.keepOneActive(cur); err != nil {
			return Result{}, err
		}
	}
	t := *cur
	now := a.now
	t.Revoked, t.RevokedBy = &now, a.actor.ID
	if err := a.insert(tableTokens, &t); err != nil {
		return Result{}, err
	}
	return Result{User: u, Token: &t}, nil
}

// keepOneActive refuses to revoke an admin's last active token, as an
// admin may not revoke itself: it would lock itself out, and perhaps the
// cluster's last admin with it.
func (a *applier) keepOneActive(revoking *Token) *Error {
	for _, t := range a.tokensOf(revoking.UserID) {
		if t.ID != revoking.ID && !t.Session() && t.Active(a.now) {
			return nil
		}
	}
	return errorf(CodePrecondition, "%s is your last active API token: an admin cannot revoke it; create a new token first", revoking.ID)
}

// revokeTokensOf revokes every token of a user not yet revoked, as of the
// command's time and by its actor.
func (a *applier) revokeTokensOf(userID string) *Error {
	ts := a.tokensOf(userID)
	for i := range ts {
		if ts[i].Revoked != nil {
			continue
		}
		now := a.now
		ts[i].Revoked, ts[i].RevokedBy = &now, a.actor.ID
		if err := a.insert(tableTokens, &ts[i]); err != nil {
			return err
		}
	}
	return nil
}
