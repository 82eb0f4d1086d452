package wan

import (
	"bytes"
	"fmt"
	"io"
	"sync"
	"text/tabwriter"
)

// Report collects the harness's text report, section by section; each
// section is also written to Out as soon as it is complete.
type Report struct {
	Out io.Writer

	mu  sync.Mutex
	buf bytes.Buffer
}

// Section adds a titled section; body writes its lines, and tables
// through the tabwriter it is given (flushed at the end).
func (r *Report) Section(title string, body func(w *tabwriter.Writer)) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "\n== %s\n", title)
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	body(tw)
	_ = tw.Flush()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.buf.Write(b.Bytes())
	if r.Out != nil {
		_, _ = r.Out.Write(b.Bytes())
	}
}

// Bytes is the whole report so far.
func (r *Report) Bytes() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return bytes.Clone(r.buf.Bytes())
}
