package console

import (
	"fmt"
	"net/http"
	"regexp"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// apiFlash turns an API refusal into a message in the user's language:
// a headline for the kind of refusal and, below it, the API's own
// precise words (which name the field, the stage or the valid values).
func (s *Server) apiFlash(t *tr, err error) *flash {
	st := status.Convert(err)
	msg := st.Message()
	key := "api." + st.Code().String()
	for _, r := range refusals {
		if m := r.re.FindStringSubmatch(msg); m != nil {
			return &flash{Kind: "error", Msg: r.words(t, m), Detail: msg}
		}
	}
	if m := claimLost.FindStringSubmatch(msg); m != nil {
		return &flash{Kind: "error", Msg: t.T("api.claimlost", t.Enum("division", m[1])), Detail: msg}
	}
	if m := fieldError.FindStringSubmatch(msg); m != nil && st.Code() == codes.InvalidArgument {
		return &flash{Kind: "error", Msg: t.T("api.field", t.Enum("field", m[1])), Detail: msg}
	}
	if !t.c.has(key) {
		key = "api.Unknown"
	}
	return &flash{Kind: "error", Msg: t.T(key), Detail: msg}
}

// refusals are the API's refusals that get words of their own, beyond
// the headline of their kind: the merge's (node/pipeline merge.go) and a
// profile saved over a newer one.
var refusals = []reasonRule{
	{re: regexp.MustCompile(`a lead cannot be merged into itself \((\S+)\)`), key: "api.merge.self"},
	{re: regexp.MustCompile(`lead (\S+) was already merged into (\S+)`), key: "api.merge.already"},
	{re: regexp.MustCompile(`lead (\S+) was itself merged into (\S+):`), key: "api.merge.intomerged"},
	{re: regexp.MustCompile(`lead (\S+) is in stage (\w+), worked by (\w*): a lead a division works is not merged away`),
		key: "api.merge.worked", enums: map[int]string{2: "stage", 3: "division"}},
	{re: regexp.MustCompile(`^into: lead (\S+) does not exist`), key: "api.merge.unknown"},
	{re: regexp.MustCompile(`^into: is required`), key: "api.merge.nointo"},
	{re: regexp.MustCompile(`^into: "(.*)" is not a lead ID`), key: "api.merge.badid"},
	{re: regexp.MustCompile(`the profile of (\w+) is at version (\d+), not the expected`),
		key: "api.profile.conflict", enums: map[int]string{1: "division"}},
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
