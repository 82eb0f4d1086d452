package console

import (
	"fmt"
	"net/http"
	"regexp"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// apiFlash turns an API refusal into a message in the user's language:
// a headline for the kind of refusal (naming the field, where the API
// did) and, below it, the API's precise words (the stage, the lead, the
// valid values) in the user's language where refusals.go knows them, in
// the API's English where it does not.
func (s *Server) apiFlash(t *tr, err error) *flash {
	st := status.Convert(err)
	msg := st.Message()
	f := &flash{Kind: "error", Detail: msg}
	if m := claimLost.FindStringSubmatch(msg); m != nil {
		f.Msg, f.Detail = t.T("api.claimlost", t.Enum("division", m[1])), ""
		return f
	}
	switch st.Code() {
	case codes.InvalidArgument, codes.FailedPrecondition, codes.AlreadyExists, codes.OutOfRange:
		if m := fieldError.FindStringSubmatch(msg); m != nil {
			f.Field = m[1]
		}
	}
	switch key := "api." + st.Code().String(); {
	case f.Field != "":
		f.Msg = t.T("api.field", t.Field(f.Field))
	case t.c.has(key):
		f.Msg = t.T(key)
	default:
		f.Msg = t.T("api.Unknown")
	}
	f.Detail, _ = t.Refusal(msg)
	return f
}

var (
	claimLost  = regexp.MustCompile(`already claimed by ([A-Z]+)`)
	fieldError = regexp.MustCompile(`^([a-z_]+)(?:\[\d+\])?(?:\.[a-z_]+)?: `)
)

// httpStatus is the HTTP status of a page that shows an API refusal.
func httpStatus(err error) int {
	switch status.Code(err) {
	case codes.InvalidArgument, codes.OutOfRange:
		return http.StatusBadRequest
	case codes.Unauthenticated:
		return http.StatusUnauthorized
	case codes.PermissionDenied:
		return http.StatusForbidden
	case codes.NotFound:
		return http.StatusNotFound
	case codes.AlreadyExists, codes.Aborted, codes.FailedPrecondition:
		return http.StatusConflict
	case codes.ResourceExhausted:
		return http.StatusTooManyRequests
	case codes.Unavailable, codes.DeadlineExceeded:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

func errParam(t *tr, p string) *flash {
	return &flash{Kind: "error", Msg: t.T("error.param", p)}
}

func errValue(t *tr, p, got string) *flash {
	return &flash{Kind: "error", Msg: t.T("error.value", p, fmt.Sprintf("%.40q", got))}
}

// errNoAccounts answers sign-in actions on a site built without them.
var errNoAccounts = status.Error(codes.Unavailable, "sign-in is not available on this site")
