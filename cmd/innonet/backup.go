package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"google.golang.org/grpc/metadata"

	"innonet/node"
	pb "innonet/proto/innonet/v1"
)

// backupCommand is `innonet backup`: a consistent snapshot of the
// pipeline, streamed from a site into a file.
type backupCommand struct{ streams }

func (c *backupCommand) Run(ctx context.Context, args []string) error {
	f := newFlags(c.streams, "backup", `Usage: innonet backup --out FILE [flags]

Downloads a consistent snapshot of the pipeline (users, leads, history) as
the asked site holds it, closed by the SHA-256 of its content, which
restore checks. The file is written as FILE.tmp, synced to disk and
renamed to FILE only when complete and its checksum matches, so FILE is
never a partial or damaged backup. --out - writes to stdout. Prints the
size, the checksum and the site that answered (on stderr, or as JSON with
--json). Admins only.

Ask the leader for the newest state, or a non-voting replica to keep the
load off the voters. Keep the file as safely as the tokens: it holds the
users' token hashes.

Examples:
  INNONET_TOKEN=$(cat innonet-demo/admin.token) innonet backup --out innonet-$(date +%F).bak
  innonet backup --addr 127.0.0.1:7107 --out - | gzip > innonet.bak.gz
`)
	cf := addClientFlags(f, 10*time.Minute)
	out := f.String("out", "", "the backup `FILE` (required); - for stdout")
	f.check(func() error {
		if *out == "" {
			return fmt.Errorf("--out is required")
		}
		return nil
	})
	if _, err := f.parse(args, 0, 0); err != nil {
		return err
	}
	cl, err := cf.connect()
	if err != nil {
		return err
	}
	defer cl.Close()

	var b backupInfo
	if *out == "-" {
		b, err = streamBackup(ctx, cl, c.out())
	} else {
		b, err = backupToFile(ctx, cl, *out)
	}
	if err != nil {
		return err
	}
	if b.Site == "" {
		b.Site = answeringSite(ctx, cl)
	}
	if cf.json && *out != "-" {
		b.File = *out
		j, _ := json.MarshalIndent(b, "", "  ")
		_, err := fmt.Fprintf(c.out(), "%s\n", j)
		return err
	}
	name := *out
	if name == "-" {
		name = "stdout"
	}
	fmt.Fprintf(c.errOut(), "innonet: wrote a backup of %d bytes", b.Bytes)
	if b.AppliedIndex != 0 {
		fmt.Fprintf(c.errOut(), " (up to log index %d)", b.AppliedIndex)
	}
	fmt.Fprintf(c.errOut(), " from %s to %s\n", b.Site, name)
	if b.SHA256 == "" {
		fmt.Fprintln(c.errOut(), "innonet: warning: the site sent a backup without a SHA-256 (it runs an older innonet): restore refuses it without --allow-no-checksum")
	} else {
		fmt.Fprintf(c.errOut(), "innonet: SHA-256 %s\n", b.SHA256)
	}
	return nil
}

// backupInfo describes a backup taken; it is the JSON that --json prints.
type backupInfo struct {
	File         string `json:"file"`
	Bytes        int64  `json:"bytes"`
	Site         string `json:"site"`
	AppliedIndex uint64 `json:"appliedIndex,omitempty"`
	// SHA256 is the checksum the backup closes with, verified as it was
	// received (empty from a site that sends none).
	SHA256 string `json:"sha256,omitempty"`
}

// answeringSite asks the site the client talks to for its name, for a
// server that does not say which site streamed the backup.
func answeringSite(ctx context.Context, cl *client) string {
	var c *pb.Cluster
	err := cl.call(ctx, func(ctx context.Context) (err error) {
		c, err = cl.cluster.GetCluster(ctx, &pb.GetClusterRequest{Consistency: pb.Consistency_STALE})
		return err
	})
	if err != nil || c.Site == "" {
		return "the site at " + cl.addr
	}
	return c.Site
}

// backupToFile writes the backup to name.tmp, syncs it and renames it to
// name, so name is only ever a complete backup.
func backupToFile(ctx context.Context, cl *client, name string) (b backupInfo, err error) {
	tmp := name + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return b, fmt.Errorf("create backup file: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			_ = os.Remove(tmp) // best effort: the error being returned matters more
		}
	}()
	if b, err = streamBackup(ctx, cl, f); err != nil {
		return b, err
	}
	if err = f.Sync(); err != nil {
		return b, fmt.Errorf("sync backup file: %w", err)
	}
	if err = f.Close(); err != nil {
		return b, fmt.Errorf("close backup file: %w", err)
	}
	if err = os.Rename(tmp, name); err != nil {
		return b, fmt.Errorf("rename backup file: %w", err)
	}
	// Make the rename itself durable.
	if d, derr := os.Open(filepath.Dir(name)); derr == nil {
		// Best effort: the file is complete and synced whatever this says.
		_ = d.Sync()
		d.Close()
	}
	return b, nil
}

// streamBackup copies the Backup stream to w and verifies its checksum.
// The answering site and its applied index come from the
// x-innonet-read-site and x-innonet-applied-index headers (or trailers)
// when the server sends them.
func streamBackup(ctx context.Context, cl *client, w io.Writer) (backupInfo, error) {
	var b backupInfo
	v := node.NewBackupVerifier()
	w = io.MultiWriter(w, v)
	ctx, cancel := context.WithTimeout(cl.authorize(ctx), cl.timeout)
	defer cancel()
	stream, err := cl.cluster.Backup(ctx, &pb.BackupRequest{})
	if err != nil {
		return b, asAPIError(err)
	}
	for {
		chunk, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return b, asAPIError(err)
		}
		n, err := w.Write(chunk.Data)
		b.Bytes += int64(n)
		if err != nil {
			return b, fmt.Errorf("write backup: %w", err)
		}
	}
	if b.Bytes == 0 {
		return b, fmt.Errorf("the site sent an empty backup")
	}
	sum, err := v.Verify()
	switch {
	case errors.Is(err, node.ErrBackupNoChecksum):
		// A site of an older version: b.SHA256 stays empty.
	case err != nil:
		return b, fmt.Errorf("the site sent a backup that fails its check: %w", err)
	}
	b.SHA256 = sum
	header, _ := stream.Header()
	md := metadata.Join(header, stream.Trailer())
	b.Site = first(md, mdReadSite)
	b.AppliedIndex, _ = strconv.ParseUint(first(md, mdAppliedIndex), 10, 64)
	return b, nil
}
