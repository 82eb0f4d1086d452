package pipeline

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Sign-in for people. An admin invites a user (new or existing) and hands
// the person a one-time code; with it the person sets a password
// (accept_invitation), and with the user's name and that password signs
// in (sign_in), which issues a session token: an ordinary token of kind
// session whose expiry extend_session slides forward. Signing out is
// revoking the session token (revoke_token).
//
// Like tokens, the state never holds a secret: an invitation is kept as
// the SHA-256 of its code, and a password as its argon2id hash in PHC
// form, computed by the API layer of the site that handles the request
// (the leader) and carried in the command. Apply never sees a password
// and never hashes; it compares the hashes the command carries with
// those it holds. Invitations and sessions are of log format 2.

// Limits and defaults of invitations and sessions.
const (
	// MaxInvitationTTL bounds how long an invitation code works: it
	// travels in mail or chat, where it should not linger.
	MaxInvitationTTL = 30 * 24 * time.Hour
	// DefaultInvitationTTL is how long a code works unless the admin
	// says otherwise.
	DefaultInvitationTTL = 72 * time.Hour
	// DefaultSessionTTL is how long a session token works after sign-in
	// and after each extension.
	DefaultSessionTTL = 12 * time.Hour
	// MaxSessionLifetime caps a session however often it is extended:
	// after it the person signs in again.
	MaxSessionLifetime = 7 * 24 * time.Hour
	// maxPHC bounds a password hash in PHC form.
	maxPHC = 200
)

// TokenKind says how a token came to be.
type TokenKind string

const (
	// TokenAPI is a bearer token for programs (CreateUser, CreateToken);
	// tokens from before kinds existed read as API tokens.
	TokenAPI TokenKind = ""
	// TokenSession is a token of a person signed in with a password.
	TokenSession TokenKind = "session"
)

// Session reports whether the token is a session token.
func (t *Token) Session() bool { return t.Kind == TokenSession }

// Invitation is a one-time code with which a person sets a user's
// password. Values held by the state are never modified in place.
type Invitation struct {
	ID     string `json:"id"` // inv-0001, inv-0002...
	UserID string `json:"userId"`
	// Hash is the hex SHA-256 of the code. It is never shown.
	Hash      string    `json:"hash"`
	Created   time.Time `json:"created"`
	CreatedBy string    `json:"createdBy,omitempty"`
	Expires   time.Time `json:"expires"`
	// Used is when the code set the password; Superseded when a newer
	// invitation of the same user replaced it unused.
	Used       *time.Time `json:"used,omitempty"`
	Superseded *time.Time `json:"superseded,omitempty"`
}

// Usable reports whether the invitation may still set a password at now.
func (i *Invitation) Usable(now time.Time) bool {
	return i.Used == nil && i.Superseded == nil && now.Before(i.Expires)
}

// NewInvitation is the invitation invite_user makes; the proposer
// generates the code and puts only its hash in the command.
type NewInvitation struct {
	Hash string        `json:"hash"`
	TTL  time.Duration `json:"ttl"`
}

// Credentials are the hashes accept_invitation and sign_in carry.
type Credentials struct {
	// Invitation is the hex SHA-256 of the invitation code
	// (accept_invitation).
	Invitation string `json:"invitation,omitempty"`
	// Password is an argon2id hash in PHC form: the new password's
	// (accept_invitation), or the one the proposer verified the password
	// against (sign_in), which must still be the user's when the command
	// applies.
	Password string `json:"password"`
}

// MsgInvitationUnusable refuses an unknown, used, superseded or expired
// invitation code, in words for the person who clicked the link.
const MsgInvitationUnusable = "this invitation link has expired or was already used; ask your administrator for a new one"

// MsgWrongPassword refuses a sign-in, whatever was wrong: the name, the
// password, or that the user has none or was revoked.
const MsgWrongPassword = "wrong name or password"

var (
	invitationIDPattern = regexp.MustCompile(`^inv-[0-9]{4,9}$`)
	// phcPattern is the form of the hashes the API layer writes.
	phcPattern = regexp.MustCompile(`^\$argon2id\$v=19\$m=[0-9]{1,7},t=[0-9]{1,3},p=[0-9]{1,3}\$[A-Za-z0-9+/]{16,64}\$[A-Za-z0-9+/]{16,128}$`)
)

// ValidInvitationID reports whether id has the form inv-NNNN.
func ValidInvitationID(id string) bool { return invitationIDPattern.MatchString(id) }

func checkPHC(field, h string) *Error {
	if len(h) > maxPHC || !phcPattern.MatchString(h) {
		return invalid(field, "must be an argon2id hash in PHC form ($argon2id$v=19$m=...,t=...,p=...$salt$hash)")
	}
	return nil
}

func (c Command) validateAccounts() *Error {
	switch c.Op {
	case OpInviteUser:
		switch {
		case c.NewUser != nil && c.UserID != "":
			return invalid("user_id", "give either a new user (name, role, site, division) or user_id, not both")
		case c.NewUser != nil:
			if c.NewUser.TokenHash != "" || c.NewUser.TokenTTL != 0 {
				return invalid("token", "an invited user gets no token: it signs in with its password")
			}
			if err := c.NewUser.validateFields(); err != nil {
				return err
			}
		case c.UserID != "":
			if err := checkUserID("user_id", c.UserID); err != nil {
				return err
			}
		default:
			return invalid("name", "is required (or user_id, to invite an existing user again)")
		}
		if c.Invitation == nil {
			return invalid("invitation", "is required")
		}
		if err := checkHexHash("code", c.Invitation.Hash); err != nil {
			return err
		}
		if c.Invitation.TTL <= 0 || c.Invitation.TTL > MaxInvitationTTL {
			return invalid("ttl", "must be more than zero and at most %s (30 days), got %s", MaxInvitationTTL, c.Invitation.TTL)
		}
	case OpAcceptInvitation:
		if c.Credentials == nil {
			return invalid("credentials", "are required")
		}
		if err := checkHexHash("code", c.Credentials.Invitation); err != nil {
			return err
		}
		return checkPHC("password", c.Credentials.Password)
	case OpSignIn:
		if c.Credentials == nil {
			return invalid("credentials", "are required")
		}
		if c.Credentials.Invitation != "" {
			return invalid("code", "a sign-in carries no invitation")
		}
		if err := checkPHC("password", c.Credentials.Password); err != nil {
			return err
		}
		if c.NewToken == nil {
			return invalid("token", "is required")
		}
		if err := checkHexHash("token", c.NewToken.Hash); err != nil {
			return err
		}
		if c.NewToken.TTL <= 0 || c.NewToken.TTL > MaxSessionLifetime {
			return invalid("ttl", "a session must last more than zero and at most %s (7 days), got %s", MaxSessionLifetime, c.NewToken.TTL)
		}
		return checkLine("description", c.NewToken.Description, 0, MaxTokenDescription)
	case OpExtendSession:
		return checkTokenID(c.TokenID)
	}
	return nil
}

// InvitationByHash returns the invitation whose code has the given
// SHA-256 hash (hex), whatever its state, or an error with
// CodeUnauthenticated when there is none.
func (s *State) InvitationByHash(hash string) (*Invitation, error) {
	raw, err := s.read().First(tableInvitations, "hash", hash)
	if err != nil {
		return nil, fmt.Errorf("read invitations: %w", err)
	}
	if raw == nil {
		return nil, errorf(CodeUnauthenticated, MsgInvitationUnusable)
	}
	inv := *raw.(*Invitation)
	return &inv, nil
}

// UsersByName returns the users called name (compared without regard to
// case or surrounding space), in the order they were added.
func (s *State) UsersByName(name string) ([]User, error) {
	users, err := s.Users()
	if err != nil {
		return nil, err
	}
	var out []User
	for _, u := range users {
		if sameName(u.Name, name) {
			out = append(out, u)
		}
	}
	return out, nil
}

func sameName(a, b string) bool { return strings.EqualFold(strings.TrimSpace(a), strings.TrimSpace(b)) }

// inviteUser adds a user without a token, or picks an existing one, and
// gives it a new invitation, which supersedes its older unused ones.
func (a *applier) inviteUser() (Result, *Error) {
	if a.actor.Role != Admin {
		return Result{}, errorf(CodePermission, "only ADMIN may invite users; caller %s is %s", a.actor.ID, a.actor.Role)
	}
	if err := a.checkHashFree(a.cmd.Invitation.Hash); err != nil {
		return Result{}, err
	}
	var u *User
	if nu := a.cmd.NewUser; nu != nil {
		if nu.Role == NodeStaff {
			if err := a.checkStaffSite(nu.Site); err != nil {
				return Result{}, err
			}
		}
		if err := a.checkNameFree(nu.Name); err != nil {
			return Result{}, err
		}
		n, err := a.next("user")
		if err != nil {
			return Result{}, err
		}
		u = &User{ID: fmt.Sprintf("user-%04d", n), Name: nu.Name, Role: nu.Role, Site: nu.Site,
			Division: nu.Division, Created: a.now, CreatedBy: a.actor.ID}
		if err := a.insert(tableUsers, u); err != nil {
			return Result{}, err
		}
	} else {
		cur, err := a.subject()
		if err != nil {
			return Result{}, err
		}
		if cur.Revoked != nil {
			return Result{}, errorf(CodePrecondition, "user %s has been revoked; add a new user instead", cur.ID)
		}
		u = cur
		if err := a.supersedeInvitations(u.ID); err != nil {
			return Result{}, err
		}
	}
	n, err := a.next("invitation")
	if err != nil {
		return Result{}, err
	}
	inv := &Invitation{ID: fmt.Sprintf("inv-%04d", n), UserID: u.ID, Hash: a.cmd.Invitation.Hash,
		Created: a.now, CreatedBy: a.actor.ID, Expires: a.now.Add(a.cmd.Invitation.TTL)}
	if err := a.insert(tableInvitations, inv); err != nil {
		return Result{}, err
	}
	return Result{User: u, Invitation: inv}, nil
}

// checkNameFree refuses a new user whose name an active user already
// has: people sign in by name.
func (a *applier) checkNameFree(name string) *Error {
	it, err := rowsOf(a.txn, tableUsers, "")
	if err != nil {
		return errorf(CodeInternal, "read users: %v", err)
	}
	for raw := it.Next(); raw != nil; raw = it.Next() {
		if u := raw.(*User); u.Revoked == nil && sameName(u.Name, name) {
			return errorf(CodePrecondition, "name: user %s is already called %q, and people sign in by name; choose another name, or invite %s again with user_id", u.ID, u.Name, u.ID)
		}
	}
	return nil
}

// checkHashFree refuses an invitation whose code hash is already in use,
// as a code or as a token.
func (a *applier) checkHashFree(hash string) *Error {
	if err := a.checkHashUnused(hash); err != nil {
		return invalid("code", "is already in use")
	}
	raw, err := a.txn.First(tableInvitations, "hash", hash)
	if err != nil {
		return errorf(CodeInternal, "read invitations: %v", err)
	}
	if raw != nil {
		return invalid("code", "is already in use")
	}
	return nil
}

// supersedeInvitations marks the unused invitations of a user replaced.
func (a *applier) supersedeInvitations(userID string) *Error {
	it, err := a.txn.Get(tableInvitations, "user", userID)
	if err != nil {
		return errorf(CodeInternal, "read invitations: %v", err)
	}
	var old []Invitation
	for raw := it.Next(); raw != nil; raw = it.Next() {
		if inv := raw.(*Invitation); inv.Used == nil && inv.Superseded == nil {
			old = append(old, *inv)
		}
	}
	for i := range old {
		now := a.now
		old[i].Superseded = &now
		if err := a.insert(tableInvitations, &old[i]); err != nil {
			return err
		}
	}
	return nil
}

// acceptInvitation sets the actor's password with its invitation and uses
// the invitation up, in one transaction. The user's sessions signed in
// with an older password are revoked: a reset must lock out whoever knew
// the old one.
func (a *applier) acceptInvitation() (Result, *Error) {
	raw, err := a.txn.First(tableInvitations, "hash", a.cmd.Credentials.Invitation)
	if err != nil {
		return Result{}, errorf(CodeInternal, "read invitations: %v", err)
	}
	if raw == nil {
		return Result{}, errorf(CodeUnauthenticated, MsgInvitationUnusable)
	}
	inv := *raw.(*Invitation)
	if inv.UserID != a.actor.ID || !inv.Usable(a.now) {
		return Result{}, errorf(CodeUnauthenticated, MsgInvitationUnusable)
	}
	now := a.now
	inv.Used = &now
	if err := a.insert(tableInvitations, &inv); err != nil {
		return Result{}, err
	}
	u := *a.actor
	u.PasswordHash, u.PasswordSet = a.cmd.Credentials.Password, &now
	if err := a.insert(tableUsers, &u); err != nil {
		return Result{}, err
	}
	ts := a.tokensOf(u.ID)
	for i := range ts {
		if ts[i].Session() && ts[i].Revoked == nil {
			ts[i].Revoked, ts[i].RevokedBy = &now, u.ID
			if err := a.insert(tableTokens, &ts[i]); err != nil {
				return Result{}, err
			}
		}
	}
	return Result{User: &u, Invitation: &inv}, nil
}

// signIn issues a session token to the actor, whose password the
// proposer verified against the hash the command carries: if the password
// changed since, the sign-in is refused as a wrong password would be.
func (a *applier) signIn() (Result, *Error) {
	if a.actor.PasswordHash == "" || a.actor.PasswordHash != a.cmd.Credentials.Password {
		return Result{}, errorf(CodeUnauthenticated, MsgWrongPassword)
	}
	nt := *a.cmd.NewToken
	if nt.Description == "" {
		nt.Description = "signed in"
	}
	issued, err := a.issueToken(a.actor.ID, nt)
	if err != nil {
		return Result{}, err
	}
	t := *issued
	t.Kind, t.SessionTTL = TokenSession, nt.TTL
	if err := a.insert(tableTokens, &t); err != nil {
		return Result{}, err
	}
	return Result{User: a.actor, Token: &t}, nil
}

// extendSession slides the expiry of the actor's session token to the
// command's time plus the session's TTL, never past MaxSessionLifetime
// after sign-in, and never backwards.
func (a *applier) extendSession() (Result, *Error) {
	cur := tokenIn(a.txn, a.cmd.TokenID)
	switch {
	case cur == nil || cur.UserID != a.actor.ID:
		return Result{}, errorf(CodeNotFound, "user %s has no token %s", a.actor.ID, a.cmd.TokenID)
	case !cur.Session():
		return Result{}, errorf(CodePrecondition, "token %s is an API token, not a session: API tokens do not slide", cur.ID)
	case !cur.Active(a.now):
		return Result{}, errorf(CodeUnauthenticated, "session %s has ended; sign in again", cur.ID)
	}
	t := *cur
	exp := a.now.Add(t.SessionTTL)
	if limit := t.Created.Add(MaxSessionLifetime); exp.After(limit) {
		exp = limit
	}
	if t.Expires == nil || exp.After(*t.Expires) {
		t.Expires = &exp
		if err := a.insert(tableTokens, &t); err != nil {
			return Result{}, err
		}
	}
	return Result{User: a.actor, Token: &t}, nil
}

// invitationByID returns the invitation a request record names.
func invitationByID(txn *tx, id string) (*Invitation, *Error) {
	raw, err := txn.First(tableInvitations, "id", id)
	if err != nil || raw == nil {
		return nil, errorf(CodeInternal, "a request record names invitation %s, which cannot be read (%v)", id, err)
	}
	return raw.(*Invitation), nil
}
