package node

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"

	"innonet/node/pipeline"
)

// A backup file is a snapshot of the pipeline (newline-delimited JSON)
// followed by one line that closes it with the SHA-256 of every byte
// before that line:
//
//	{"format":"innonet-pipeline/2","applied":1234}
//	...
//	{"end":true,"rows":5678}
//	{"backup":"innonet-backup/1","sha256":"9f86d0…"}
//
// A restore refuses a file whose content does not hash to its SHA-256:
// damage on a disk or in a transfer, or an edit (a lead's title, a user's
// role) by someone who did not also fix the checksum. The checksum is no
// signature: whoever can write the file can write a matching one, so keep
// backups where only operators can write them.
//
// Backups written before innonet closed them with a checksum end at the
// snapshot's end marker; they are refused unless the caller accepts an
// unverified backup explicitly.

// backupFormat names the closing line's format.
const backupFormat = "innonet-backup/1"

// backupTrailer is the closing line of a backup file.
type backupTrailer struct {
	Backup string `json:"backup"`
	SHA256 string `json:"sha256"`
}

// Errors of CheckBackup, for errors.Is.
var (
	// ErrBackupNoChecksum: the file ends without a checksum (written by an
	// innonet before backups had one).
	ErrBackupNoChecksum = errors.New("the backup carries no SHA-256 of its content")
	// ErrBackupChecksum: the content does not hash to the file's checksum.
	ErrBackupChecksum = errors.New("the backup's content does not match its SHA-256")
)

// BackupOptions say what CheckBackup and Restore accept.
type BackupOptions struct {
	// AllowNoChecksum accepts a backup without a checksum, as written
	// before backups had one. Its content cannot be verified.
	AllowNoChecksum bool
}

// BackupInfo is what CheckBackup reports of a backup.
type BackupInfo struct {
	Leads, Users int
	// Applied is the log index the backup reflects.
	Applied uint64
	// SHA256 is the verified checksum (hex), empty for an accepted backup
	// without one.
	SHA256 string
}

// writeBackup writes a backup file of sn to w. Backups stay JSON, for
// operators' tools, where Raft's snapshots are binary (format 4); Restore
// reads both.
func writeBackup(w io.Writer, sn *pipeline.Snapshot) (int64, error) {
	h := sha256.New()
	n, err := sn.WriteJSON(io.MultiWriter(w, h))
	if err != nil {
		return n, err
	}
	line, _ := json.Marshal(backupTrailer{Backup: backupFormat, SHA256: hex.EncodeToString(h.Sum(nil))})
	m, err := w.Write(append(line, '\n'))
	return n + int64(m), err
}

// BackupVerifier checks a backup file as it is written to it, in pieces
// of any size, without holding more of it than its current line: the CLI
// checks a download as it streams to disk.
type BackupVerifier struct {
	h hash.Hash
	// last is the last line seen, not yet hashed: the closing line, if
	// the file ends there. cur is the line being read.
	last, cur []byte
	n         int64
}

// NewBackupVerifier returns a verifier for one backup file.
func NewBackupVerifier() *BackupVerifier { return &BackupVerifier{h: sha256.New()} }

func (v *BackupVerifier) Write(p []byte) (int, error) {
	n := len(p)
	v.n += int64(n)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			v.cur = append(v.cur, p...)
			break
		}
		v.cur = append(v.cur, p[:i+1]...)
		p = p[i+1:]
		v.h.Write(v.last)
		v.last, v.cur = v.cur, v.last[:0]
	}
	return n, nil
}

// Verify reports whether what was written is a backup whose content
// matches its checksum, and returns the checksum. A backup without one is
// ErrBackupNoChecksum.
func (v *BackupVerifier) Verify() (string, error) {
	if len(v.cur) > 0 {
		return "", fmt.Errorf("the backup does not end with a complete line (cut off after %d bytes?)", v.n)
	}
	var t backupTrailer
	dec := json.NewDecoder(bytes.NewReader(v.last))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&t); err != nil || t.Backup == "" {
		return "", fmt.Errorf("%w: it was written by a version of innonet before backups had one, or its last line was cut off or removed", ErrBackupNoChecksum)
	}
	if t.Backup != backupFormat {
		return "", fmt.Errorf("the backup's closing line is of format %q; this version of innonet reads %q", t.Backup, backupFormat)
	}
	if got := hex.EncodeToString(v.h.Sum(nil)); got != t.SHA256 {
		return "", fmt.Errorf("%w (the file says %.16s…, its content hashes to %.16s…): it was changed or damaged after it was written; restore another backup",
			ErrBackupChecksum, t.SHA256, got)
	}
	return t.SHA256, nil
}

// VerifyBackup checks a whole backup file and returns the snapshot it
// holds (without its closing line) and its checksum; with
// opts.AllowNoChecksum a backup without one is returned whole, with an
// empty checksum.
func VerifyBackup(backup []byte, opts BackupOptions) (snapshot []byte, sum string, err error) {
	v := NewBackupVerifier()
	_, _ = v.Write(backup) // a hash never fails
	sum, err = v.Verify()
	switch {
	case errors.Is(err, ErrBackupNoChecksum) && opts.AllowNoChecksum:
		return backup, "", nil
	case err != nil:
		return nil, "", err
	}
	return backup[:len(backup)-len(v.last)], sum, nil
}
