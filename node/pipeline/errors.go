package pipeline

import "fmt"

// Code classifies an [Error]; the API layer maps each code to one gRPC
// status and HTTP status.
type Code int

const (
	CodeInternal        Code = iota
	CodeInvalid              // a field is missing or malformed
	CodeNotFound             // no such lead or user
	CodeUnauthenticated      // the actor is unknown
	CodePermission           // the actor's role, site or division may not do this
	CodePrecondition         // the lead's stage does not allow this
	CodeConflict             // a stale version or a lost claim race
	// CodeUnreadable marks a log entry this version cannot understand: it
	// does not decode, is of a newer log format, or breaks a rule the
	// proposer checked. The state machine must stop rather than skip it
	// (see format.go); the API layer never sees it as a caller's error.
	CodeUnreadable
)

// Error is the error every rejected command and every failed read returns.
// Its message is written for the caller and names the field or stage.
type Error struct {
	Code Code
	Msg  string
}

func (e *Error) Error() string { return e.Msg }

// Is lets errors.Is match an Error against the sentinels below by code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Msg == "" && t.Code == e.Code
}

// Sentinels for errors.Is; every Error matches the one with its Code.
var (
	ErrInternal        = &Error{Code: CodeInternal}
	ErrInvalid         = &Error{Code: CodeInvalid}
	ErrNotFound        = &Error{Code: CodeNotFound}
	ErrUnauthenticated = &Error{Code: CodeUnauthenticated}
	ErrPermission      = &Error{Code: CodePermission}
	ErrPrecondition    = &Error{Code: CodePrecondition}
	ErrConflict        = &Error{Code: CodeConflict}
	ErrUnreadable      = &Error{Code: CodeUnreadable}
)

func errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Msg: fmt.Sprintf(format, args...)}
}

// invalid names the field (in its wire spelling) that is wrong.
func invalid(field, format string, args ...any) *Error {
	return &Error{Code: CodeInvalid, Msg: field + ": " + fmt.Sprintf(format, args...)}
}
