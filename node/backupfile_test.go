package node

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"innonet/node/pipeline"
)

// backupOf returns a backup file of a pipeline with an admin, a member of
// node staff and a lead, and the snapshot inside it.
func backupOf(t *testing.T) (backup, snapshot []byte) {
	t.Helper()
	st := pipeline.New()
	for i, c := range []pipeline.Command{
		{Op: pipeline.OpBootstrap, NewUser: &pipeline.NewUser{Name: "admin", Role: pipeline.Admin, TokenHash: HashToken("inn_a")}},
		{Op: pipeline.OpAddUser, RequestID: "add-beth", Actor: "user-0001",
			NewUser: &pipeline.NewUser{Name: "Beth", Role: pipeline.NodeStaff, Site: "BOS", TokenHash: HashToken("inn_b")}},
		{Op: pipeline.OpSubmit, RequestID: "lead-1", Actor: "user-0002", Draft: &pipeline.Draft{
			Title: "Solid-state separator", Summary: "A ceramic separator.", Organization: "Lab", Country: "US",
			Sector: pipeline.NewEnergyVehicles, TRL: 5, DealType: pipeline.Investment}},
	} {
		c.Time = time.Date(2026, 11, 30, 9, 0, i, 0, time.UTC).UnixNano()
		data, err := c.Encode()
		if err != nil {
			t.Fatal(err)
		}
		if res, ok := st.Apply(uint64(i+1), data).(pipeline.Result); !ok {
			t.Fatalf("command %d refused", i)
		} else if res.Replayed {
			t.Fatalf("command %d replayed", i)
		}
	}
	var file, snap bytes.Buffer
	if _, err := writeBackup(&file, st.Snapshot()); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Snapshot().WriteTo(&snap); err != nil {
		t.Fatal(err)
	}
	return file.Bytes(), snap.Bytes()
}

func TestBackupChecksum(t *testing.T) {
	backup, snapshot := backupOf(t)
	if !bytes.HasPrefix(backup, snapshot) {
		t.Fatalf("the backup does not start with the snapshot")
	}
	closing := string(backup[len(snapshot):])
	if !strings.HasPrefix(closing, `{"backup":"innonet-backup/1","sha256":"`) || !strings.HasSuffix(closing, "\"}\n") {
		t.Fatalf("the backup closes with %q", closing)
	}
	info, err := CheckBackup(backup, BackupOptions{})
	if err != nil {
		t.Fatalf("CheckBackup: %v", err)
	}
	if info.Leads != 1 || info.Users != 2 || info.Applied != 3 || len(info.SHA256) != 64 || !strings.Contains(closing, info.SHA256) {
		t.Errorf("CheckBackup = %+v, want 1 lead, 2 users, index 3 and the file's SHA-256", info)
	}
	if got, _, err := VerifyBackup(backup, BackupOptions{}); err != nil || !bytes.Equal(got, snapshot) {
		t.Errorf("VerifyBackup = %d bytes, %v; want the %d bytes of the snapshot", len(got), err, len(snapshot))
	}

	for _, tt := range []struct {
		name     string
		old, new string
	}{
		{"a lead's title edited", `"title":"Solid-state separator"`, `"title":"Solid-state separator (sold)"`},
		{"node staff made ADMIN", `"name":"Beth","role":4`, `"name":"Beth","role":1`},
		{"the checksum changed", `"sha256":"`, `"sha256":"0`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			edited := bytes.Replace(backup, []byte(tt.old), []byte(tt.new), 1)
			if bytes.Equal(edited, backup) {
				t.Fatalf("%q is not in the backup", tt.old)
			}
			_, err := CheckBackup(edited, BackupOptions{AllowNoChecksum: true})
			if !errors.Is(err, ErrBackupChecksum) {
				t.Fatalf("CheckBackup of an edited backup = %v, want %v", err, ErrBackupChecksum)
			}
			if !strings.Contains(err.Error(), "changed or damaged after it was written") {
				t.Errorf("error %q does not say what happened", err)
			}
		})
	}

	t.Run("written before backups had a checksum", func(t *testing.T) {
		_, err := CheckBackup(snapshot, BackupOptions{})
		if !errors.Is(err, ErrBackupNoChecksum) || !strings.Contains(err.Error(), "before backups had one") {
			t.Fatalf("CheckBackup of a backup without a checksum = %v, want %v", err, ErrBackupNoChecksum)
		}
		info, err := CheckBackup(snapshot, BackupOptions{AllowNoChecksum: true})
		if err != nil || info.SHA256 != "" || info.Leads != 1 {
			t.Errorf("CheckBackup allowing no checksum = %+v, %v; want the backup, unverified", info, err)
		}
		// Without a checksum only the snapshot's own checks remain: a cut
		// file is still refused.
		if _, err := CheckBackup(snapshot[:len(snapshot)-5], BackupOptions{AllowNoChecksum: true}); err == nil {
			t.Errorf("a cut backup without a checksum was accepted")
		}
	})
	t.Run("cut in the closing line", func(t *testing.T) {
		if _, err := CheckBackup(backup[:len(backup)-10], BackupOptions{AllowNoChecksum: true}); err == nil || errors.Is(err, ErrBackupNoChecksum) {
			t.Errorf("CheckBackup of a backup cut in its closing line = %v, want it refused as cut", err)
		}
	})
}

// TestBackupVerifierInPieces feeds a backup in pieces of every size from
// 1 byte: the verifier must agree with a whole check.
func TestBackupVerifierInPieces(t *testing.T) {
	backup, _ := backupOf(t)
	edited := bytes.Replace(backup, []byte(`"role":4`), []byte(`"role":1`), 1)
	for _, size := range []int{1, 2, 3, 7, 64, 1000, len(backup)} {
		for _, tt := range []struct {
			data []byte
			ok   bool
		}{{backup, true}, {edited, false}} {
			v := NewBackupVerifier()
			for p := tt.data; len(p) > 0; {
				k := min(size, len(p))
				_, _ = v.Write(p[:k]) // a hash never fails
				p = p[k:]
			}
			if _, err := v.Verify(); (err == nil) != tt.ok {
				t.Errorf("pieces of %d bytes: Verify = %v, want ok %v", size, err, tt.ok)
			}
		}
	}
}
