package guard

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// ErrBodyTooLarge is the error an Upload's body returns once more than
// its limit has arrived (the guard has recorded the request as
// oversized); the handler answers 413.
var ErrBodyTooLarge = errors.New("request body too large")

// Upload guards a handler that takes a large body as a stream (an
// attachment upload) instead of through HTTP, which reads every body
// whole, bounds it to MaxBodyBytes and requires it to be UTF-8. It does
// everything else HTTP does (blocked clients, a head that is not UTF-8),
// and bounds the body deliberately, by its own limit:
//
//   - a body declared longer than max (Content-Length) is 413 at once;
//     one that turns out longer makes its reads fail with
//     ErrBodyTooLarge once max bytes have arrived, for the handler to
//     answer 413; both are recorded as oversized;
//   - the body must keep arriving: a read may wait at most
//     BodyReadTimeout, however long the whole upload takes (a 20 MiB file
//     over a slow link takes minutes; a client that stops sending is cut
//     off);
//   - the answer must be written within WriteTimeout of the end of the
//     body.
//
// The body is a file: it is not checked for UTF-8.
func (g *Guard) Upload(max int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		// Moved on when the body ends, or stops.
		_ = rc.SetWriteDeadline(time.Now().Add(g.lim.WriteTimeout))
		addr, method, ok := g.admitHTTP(w, r)
		if !ok {
			return
		}
		tooLarge := func() {
			g.record(Record{Kind: Oversized, Method: method, Client: addr,
				Code: codes.ResourceExhausted.String(), Reason: fmt.Sprintf("upload over %d bytes", max)})
		}
		if r.ContentLength > max {
			tooLarge()
			WriteError(w, http.StatusRequestEntityTooLarge,
				status.Newf(codes.ResourceExhausted, "upload too large: the limit is %d bytes", max), 0)
			return
		}
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = &uploadBody{body: r.Body, rc: rc, max: max, stall: g.lim.BodyReadTimeout,
				write: g.lim.WriteTimeout, tooLarge: tooLarge}
		}
		next.ServeHTTP(retryAfterWriter{w}, r)
	})
}

// uploadBody bounds an upload's body by size and by stalls.
type uploadBody struct {
	body     io.ReadCloser
	rc       *http.ResponseController
	max, n   int64
	stall    time.Duration
	write    time.Duration
	tooLarge func()
	over     bool
}

func (b *uploadBody) Read(p []byte) (int, error) {
	if b.over {
		return 0, ErrBodyTooLarge
	}
	// One byte more than the limit tells a body at the limit from one
	// over it.
	if rest := b.max + 1 - b.n; int64(len(p)) > rest {
		p = p[:rest]
	}
	_ = b.rc.SetReadDeadline(time.Now().Add(b.stall))
	k, err := b.body.Read(p)
	b.n += int64(k)
	if b.n > b.max {
		b.over = true
		b.tooLarge()
		b.ended()
		return k - int(b.n-b.max), ErrBodyTooLarge
	}
	if err != nil {
		b.ended()
	}
	if errors.Is(err, http.ErrBodyReadAfterClose) {
		return k, io.EOF
	}
	return k, err
}

// ended gives the handler WriteTimeout from now to answer.
func (b *uploadBody) ended() {
	_ = b.rc.SetReadDeadline(time.Time{})
	_ = b.rc.SetWriteDeadline(time.Now().Add(b.write))
}

func (b *uploadBody) Close() error { return b.body.Close() }
