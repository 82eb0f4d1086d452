package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/durationpb"

	pb "innonet/proto/innonet/v1"
)

// readFlags choose who answers a read: --consistency and --max-staleness.
type readFlags struct {
	consistency  pb.Consistency
	maxStaleness time.Duration
}

func addReadFlags(f *cmdFlags) *readFlags {
	r := &readFlags{}
	f.Var(enumFlag(&r.consistency, pb.Consistency_value), "consistency",
		"read consistency `MODE`: leader (the default: the leader answers), stale (the asked site's own copy, which may lag), linearizable (the leader, after confirming with a quorum that it still leads)")
	f.DurationVar(&r.maxStaleness, "max-staleness", 0, "with stale: the most the asked site may lag the leader, e.g. 5s; a site further behind forwards the read to the leader (implies --consistency stale)")
	f.check(func() error {
		switch {
		case r.maxStaleness < 0:
			return fmt.Errorf("--max-staleness must not be negative")
		case r.maxStaleness > 0 && r.consistency == pb.Consistency_CONSISTENCY_UNSPECIFIED:
			r.consistency = pb.Consistency_STALE
		case r.maxStaleness > 0 && r.consistency != pb.Consistency_STALE:
			return fmt.Errorf("--max-staleness goes with --consistency stale, not %s", enumArg(r.consistency))
		}
		return nil
	})
	return r
}

// staleness is --max-staleness for a request (nil when not given).
func (r *readFlags) staleness() *durationpb.Duration {
	if r.maxStaleness == 0 {
		return nil
	}
	return durationpb.New(r.maxStaleness)
}

// Response headers on every read; see ReadInfo in the proto.
const (
	mdReadSite        = "x-innonet-read-site"
	mdReadConsistency = "x-innonet-read-consistency"
	mdAppliedIndex    = "x-innonet-applied-index"
	mdLastContactMS   = "x-innonet-last-contact-ms"
	mdLeader          = "x-innonet-leader"
)

// readInfo returns the read's ReadInfo: the one in the response body if
// there is one, else the one in the response headers (nil if neither).
func readInfo(body *pb.ReadInfo, header metadata.MD) *pb.ReadInfo {
	if body != nil && body.Site != "" {
		return body
	}
	ri := &pb.ReadInfo{Site: first(header, mdReadSite), Leader: first(header, mdLeader)}
	if ri.Site == "" {
		return body
	}
	if c := strings.ToUpper(first(header, mdReadConsistency)); c != "" {
		if v, ok := pb.Consistency_value[c]; ok {
			ri.Consistency = pb.Consistency(v)
		} else if n, err := strconv.ParseInt(c, 10, 32); err == nil {
			ri.Consistency = pb.Consistency(n)
		}
	}
	ri.AppliedIndex, _ = strconv.ParseUint(first(header, mdAppliedIndex), 10, 64)
	if ms, err := strconv.ParseInt(first(header, mdLastContactMS), 10, 64); err == nil {
		ri.LastContact = durationpb.New(time.Duration(ms) * time.Millisecond)
	}
	return ri
}

// printReadInfo writes one line saying who answered a read and how current
// its copy was, for a table's reader (on stderr, so stdout stays the
// table). It prints nothing without read info.
func printReadInfo(w io.Writer, ri *pb.ReadInfo) {
	if ri == nil || ri.Site == "" {
		return
	}
	fmt.Fprintf(w, "read: answered by %s", ri.Site)
	if ri.Consistency != pb.Consistency_CONSISTENCY_UNSPECIFIED {
		fmt.Fprintf(w, " (%s)", ri.Consistency)
	}
	fmt.Fprintf(w, ", applied index %d", ri.AppliedIndex)
	if ri.Leader == "" {
		fmt.Fprint(w, ", no leader known")
	} else if ri.Leader != ri.Site {
		fmt.Fprintf(w, ", leader %s", ri.Leader)
	}
	if d := ri.GetLastContact().AsDuration(); d > 0 {
		fmt.Fprintf(w, ", last contact with the leader %s ago", roundDuration(d))
	}
	fmt.Fprintln(w)
}

// first returns the first value of key in md, or "".
func first(md metadata.MD, key string) string {
	if v := md.Get(key); len(v) > 0 {
		return v[0]
	}
	return ""
}
