package node

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"innonet/node/pipeline"
	innonetpb "innonet/proto/innonet/v1"
)

// backupChunk is the size of each BackupChunk message.
const backupChunk = 64 << 10

// Backup streams a consistent snapshot of this site's copy of the
// pipeline, closed by its SHA-256 (see backupfile.go). The snapshot is an
// immutable view taken at one applied index, so writes going on meanwhile
// do not tear it.
func (s *clusterService) Backup(_ *innonetpb.BackupRequest, stream innonetpb.ClusterService_BackupServer) error {
	ctx := stream.Context()
	u, err := s.n.require(ctx, pipeline.Admin)
	if err != nil {
		return err
	}
	sn := s.n.state.Snapshot()
	if err := stream.SetHeader(metadata.Pairs(mdReadSite, s.n.cfg.Site, mdAppliedIndex, strconv.FormatUint(sn.Applied(), 10))); err != nil {
		return err
	}
	w := &chunkWriter{send: func(b []byte) error { return stream.Send(&innonetpb.BackupChunk{Data: b}) }}
	n, err := writeBackup(w, sn)
	if err == nil {
		err = w.flush()
	}
	if err != nil {
		return toStatus(fmt.Errorf("stream backup: %w", err))
	}
	s.n.log.Info("backup streamed", "by", u.ID, "bytes", n, "applied_index", sn.Applied())
	return nil
}

// chunkWriter turns a byte stream into messages of at most backupChunk
// bytes.
type chunkWriter struct {
	buf  []byte
	send func([]byte) error
}

func (w *chunkWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		k := min(backupChunk-len(w.buf), len(p))
		w.buf = append(w.buf, p[:k]...)
		p = p[k:]
		if len(w.buf) == backupChunk {
			if err := w.flush(); err != nil {
				return 0, err
			}
		}
	}
	return n, nil
}

func (w *chunkWriter) flush() error {
	if len(w.buf) == 0 {
		return nil
	}
	err := w.send(w.buf)
	w.buf = nil
	return err
}

// backupHTTP serves GET /v1/backup: the same file as the Backup RPC, as
// one download, for curl and other plain HTTP clients.
func (n *Node) backupHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := metadata.NewIncomingContext(r.Context(), metadata.Pairs("authorization", r.Header.Get("Authorization")))
	u, err := n.require(ctx, pipeline.Admin)
	if err != nil {
		st := status.Convert(err)
		http.Error(w, st.Message(), runtime.HTTPStatusFromCode(st.Code()))
		return
	}
	sn := n.state.Snapshot()
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", fmt.Sprintf("innonet-%s-%d.ndjson", n.cfg.Site, sn.Applied())))
	w.Header().Set("X-Innonet-Applied-Index", strconv.FormatUint(sn.Applied(), 10))
	w.Header().Set("X-Innonet-Read-Site", n.cfg.Site)
	written, err := writeBackup(w, sn)
	if err != nil {
		// The status line is gone; the missing closing line makes the
		// file fail to restore, so a cut download is never taken for a
		// backup.
		n.log.Warn("backup download cut", "err", err)
		return
	}
	n.log.Info("backup downloaded", "by", u.ID, "bytes", written, "applied_index", sn.Applied())
}
