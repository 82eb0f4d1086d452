package pipeline

import (
	"regexp"
	"sort"
	"strings"
	"time"
)

// A user holds any number of bearer tokens. The state keeps of each only
// its SHA-256 hash, indexed so that authenticating a request is one
// lookup, and its metadata. A token stops working when it is revoked (by
// itself or with its user) or when its expiry passes. Expiry is a time in
// the state, fixed by Apply from the creating command's time; whether it
// has passed is for each site to judge by its own clock when it checks a
// token, as Apply never reads the clock.

// Limits on tokens.
const (
	// MaxTokenTTL bounds how long a token may work: long-lived secrets
	// should be rotated, and a typo of a few zeros should not make one
	// eternal.
	MaxTokenTTL         = 5 * 365 * 24 * time.Hour
	MaxTokenDescription = 200
	tokenHashLen        = 64 // hex SHA-256
)

// tokenIDPattern is the form of the token IDs Apply assigns: tok-0001,
// tok-0002... from one counter for all users, in the order tokens are
// created.
var tokenIDPattern = regexp.MustCompile(`^tok-[0-9]{4,9}$`)

// Token is one bearer token of a user: its hash and metadata. Values held
// by the state are never modified in place.
type Token struct {
	ID     string `json:"id"`
	UserID string `json:"userId"`
	// Hash is the hex SHA-256 of the token. It is never shown.
	Hash        string     `json:"hash"`
	Created     time.Time  `json:"created"`
	CreatedBy   string     `json:"createdBy,omitempty"`
	Expires     *time.Time `json:"expires,omitempty"`
	Description string     `json:"description,omitempty"`
	Revoked     *time.Time `json:"revoked,omitempty"`
	RevokedBy   string     `json:"revokedBy,omitempty"`
	// Kind is TokenSession for a token of sign_in, whose SessionTTL is
	// how far extend_session moves its expiry (accounts.go).
	Kind       TokenKind     `json:"kind,omitempty"`
	SessionTTL time.Duration `json:"sessionTtl,omitempty"`
}

// Expired reports whether the token's expiry has passed at now.
func (t *Token) Expired(now time.Time) bool {
	return t.Expires != nil && !now.Before(*t.Expires)
}

// Active reports whether the token authenticates at now.
func (t *Token) Active(now time.Time) bool { return t.Revoked == nil && !t.Expired(now) }

// NewToken describes a token to add to an existing user. The proposer
// generates the token and puts only its hash in the command.
type NewToken struct {
	Hash string `json:"hash"`
	// TTL is how long the token works; zero: it never expires.
	TTL         time.Duration `json:"ttl,omitempty"`
	Description string        `json:"description,omitempty"`
}

func (t *NewToken) validate() *Error {
	if err := checkTokenHash(t.Hash); err != nil {
		return err
	}
	if err := checkTTL("ttl", t.TTL); err != nil {
		return err
	}
	return checkLine("description", t.Description, 0, MaxTokenDescription)
}

// ValidUserID reports whether id has the form user-NNNN.
func ValidUserID(id string) bool { return userIDPattern.MatchString(id) }

// ValidTokenID reports whether id has the form tok-NNNN.
func ValidTokenID(id string) bool { return tokenIDPattern.MatchString(id) }

func checkUserID(field, id string) *Error {
	if !ValidUserID(id) {
		return invalid(field, "%q is not a user ID of the form user-NNNN", truncate(id, 40))
	}
	return nil
}

func checkTokenID(id string) *Error {
	if !ValidTokenID(id) {
		return invalid("token_id", "%q is not a token ID of the form tok-NNNN", truncate(id, 40))
	}
	return nil
}

func checkTokenHash(h string) *Error { return checkHexHash("token", h) }

// checkHexHash checks a hex SHA-256 in field. Lower-case hex, as the
// proposer writes it: any other byte would not survive the log as it is
// (JSON replaces invalid UTF-8), and an upper-case hash would never match.
func checkHexHash(field, h string) *Error {
	if len(h) != tokenHashLen || strings.Trim(h, "0123456789abcdef") != "" {
		return invalid(field, "hash must be %d lower-case hex characters", tokenHashLen)
	}
	return nil
}

func checkTTL(field string, d time.Duration) *Error {
	switch {
	case d < 0:
		return invalid(field, "must not be negative (zero: the token does not expire)")
	case d > MaxTokenTTL:
		return invalid(field, "must be at most %s (5 years), got %s", MaxTokenTTL, d)
	}
	return nil
}

// TokenByHash returns the token with the given SHA-256 hash (hex) and its
// user, whatever their state: the caller decides whether a revoked or
// expired token may pass. An unknown hash is an error with
// CodeUnauthenticated.
func (s *State) TokenByHash(hash string) (*User, *Token, error) {
	txn := s.read()
	found := tokenByHash(txn, hash)
	if found == nil {
		return nil, nil, errorf(CodeUnauthenticated, "unknown token")
	}
	t := *found
	owner := userIn(txn, t.UserID)
	if owner == nil {
		return nil, nil, errorf(CodeInternal, "token %s belongs to unknown user %s", t.ID, t.UserID)
	}
	u := *owner
	return &u, &t, nil
}

// UserByTokenHash returns the user whose token has the given SHA-256 hash
// (hex), or an error with CodeUnauthenticated when the token is unknown or
// it or its user is revoked. It does not judge expiry, which needs a
// clock: authenticate with [State.TokenByHash] and [Token.Active].
func (s *State) UserByTokenHash(hash string) (*User, error) {
	u, t, err := s.TokenByHash(hash)
	if err != nil {
		return nil, err
	}
	if t.Revoked != nil || u.Revoked != nil {
		return nil, errorf(CodeUnauthenticated, "unknown or revoked token")
	}
	return u, nil
}

// Tokens returns the tokens of a user in the order they were created.
func (s *State) Tokens(userID string) ([]Token, error) {
	txn := s.read()
	if userIn(txn, userID) == nil {
		return nil, errorf(CodeNotFound, "user %s not found", truncate(userID, 40))
	}
	out := tokensOfUser(txn, userID)
	sortTokens(out)
	return out, nil
}

// sortTokens orders tokens by ID as numbers (tok-9999 before tok-10000).
func sortTokens(ts []Token) {
	sort.Slice(ts, func(i, j int) bool { return lessID(ts[i].ID, ts[j].ID) })
}
