package console

import (
	"strconv"
	"time"

	"google.golang.org/grpc/metadata"

	innonetpb "innonet/proto/innonet/v1"
)

// Every page read from this site's copy says whose copy it is and, when
// that copy is behind the leader's, by how much: "Munich's copy, 40 s
// behind Zhengzhou HQ". The site itself says how far behind it is, in the
// read's x-innonet-behind-ms header (see node/copy.go: the time since it
// last heard from the leader, or how late changes reach it while it
// does). An older site sends no such header; its last contact with the
// leader stands in.

// The read headers that say how far behind the leader the answering
// site's copy is, in milliseconds, and which leader it last heard from
// when it knows of none now.
const (
	mdBehindMS   = "x-innonet-behind-ms"
	mdLastLeader = "x-innonet-last-leader"
)

// lagWarn is how far behind the leader a copy may be before the page
// says so: less is what any copy lags by between two heartbeats.
const lagWarn = 3 * time.Second

// freshness is which site answered a page and how far behind the
// leader's its copy was.
type freshness struct {
	Site   string
	Leader string // empty: the site knew of no leader
	// LastLeader is the leader the site last heard from, when it knew of
	// none (it lost touch).
	LastLeader string
	Behind     time.Duration
}

// freshOf describes the answer to a read from its read info and its
// header metadata (nil where none was asked for).
func freshOf(ri *innonetpb.ReadInfo, md metadata.MD) *freshness {
	if ri == nil {
		return nil
	}
	f := &freshness{Site: ri.Site, Leader: ri.Leader}
	if f.Site == f.Leader {
		return f
	}
	if v := md.Get(mdLastLeader); len(v) > 0 && f.Leader == "" {
		f.LastLeader = v[0]
	}
	if v := md.Get(mdBehindMS); len(v) > 0 {
		if ms, err := strconv.ParseInt(v[0], 10, 64); err == nil && ms >= 0 {
			f.Behind = time.Duration(ms) * time.Millisecond
			return f
		}
	}
	f.Behind = ri.LastContact.AsDuration()
	return f
}

// Lagging reports whether the page must say that its copy is behind.
func (f *freshness) Lagging() bool {
	return f.Site != f.Leader && (f.Leader == "" || f.Behind >= lagWarn)
}

// Banner is the freshness line in the reader's language.
func (f *freshness) Banner(t *tr) string {
	switch {
	case f == nil:
		return ""
	case f.Leader == "" && f.Behind < lagWarn:
		return t.T("fresh.noleader", t.Enum("site", f.Site))
	case f.Leader == "" && f.LastLeader != "":
		return t.T("fresh.lost", t.Enum("site", f.Site), t.Span(f.Behind), t.Enum("site", f.LastLeader))
	case f.Leader == "":
		return t.T("fresh.noleader.behind", t.Enum("site", f.Site), t.Span(f.Behind))
	case f.Lagging():
		return t.T("fresh.behind", t.Enum("site", f.Site), t.Span(f.Behind), t.Enum("site", f.Leader))
	}
	return t.T("fresh.current", t.Enum("site", f.Site))
}
