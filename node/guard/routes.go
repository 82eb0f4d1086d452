package guard

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Routes answers a REST request with a method its path does not take
// with 405 and an Allow header, where the gateway would answer 501
// (UNIMPLEMENTED). The gateway's router does not say which methods a path
// takes, so Routes keeps a second gateway ServeMux with the same routes,
// whose handlers only note that they matched, and asks it.
type Routes struct {
	probe *runtime.ServeMux
}

// routeMethods are the methods a gateway route may have.
var routeMethods = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

type matchedKey struct{}

// NewRoutes returns the routes that register adds to a ServeMux: the
// same registration as the serving gateway's (no handler is called).
func NewRoutes(register func(*runtime.ServeMux) error) (*Routes, error) {
	probe := runtime.NewServeMux(
		runtime.WithMiddlewares(func(runtime.HandlerFunc) runtime.HandlerFunc {
			return func(_ http.ResponseWriter, r *http.Request, _ map[string]string) {
				if m, ok := r.Context().Value(matchedKey{}).(*bool); ok {
					*m = true
				}
			}
		}),
		runtime.WithRoutingErrorHandler(func(context.Context, *runtime.ServeMux, runtime.Marshaler, http.ResponseWriter, *http.Request, int) {}),
	)
	if err := register(probe); err != nil {
		return nil, fmt.Errorf("register routes: %w", err)
	}
	return &Routes{probe: probe}, nil
}

// Allowed lists the methods r's path takes.
func (rt *Routes) Allowed(r *http.Request) []string {
	var out []string
	for _, m := range routeMethods {
		matched := false
		pr := r.Clone(context.WithValue(r.Context(), matchedKey{}, &matched))
		pr.Method, pr.Body, pr.ContentLength, pr.Header = m, http.NoBody, 0, http.Header{}
		rt.probe.ServeHTTP(discardWriter{}, pr)
		if matched {
			out = append(out, m)
		}
	}
	return out
}

// HandleRoutingError is the serving gateway's routing error handler
// (runtime.WithRoutingErrorHandler): 405 with Allow, and other routing
// errors as the gateway answers them.
func (rt *Routes) HandleRoutingError(ctx context.Context, mux *runtime.ServeMux, m runtime.Marshaler, w http.ResponseWriter, r *http.Request, code int) {
	if code != http.StatusMethodNotAllowed {
		runtime.DefaultRoutingErrorHandler(ctx, mux, m, w, r, code)
		return
	}
	allowed := rt.Allowed(r)
	w.Header().Set("Allow", strings.Join(allowed, ", "))
	runtime.HTTPError(ctx, mux, m, w, r, &runtime.HTTPStatusError{HTTPStatus: http.StatusMethodNotAllowed,
		Err: methodNotAllowed(r, allowed)})
}

// MethodNotAllowed answers every request with 405 and an Allow header
// naming allowed: for a path served outside the gateway, registered on
// the path alone beside its method patterns ("GET /healthz").
func MethodNotAllowed(allowed ...string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		WriteError(w, http.StatusMethodNotAllowed, status.Convert(methodNotAllowed(r, allowed)), 0)
	})
}

func methodNotAllowed(r *http.Request, allowed []string) error {
	return status.Errorf(codes.Unimplemented, "method %s not allowed on %s: use %s",
		clip(r.Method), clip(r.URL.Path), strings.Join(allowed, " or "))
}

type discardWriter struct{}

func (discardWriter) Header() http.Header         { return http.Header{} }
func (discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (discardWriter) WriteHeader(int)             {}
