package attachments

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func shaOf(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func openStore(t *testing.T) *Store {
	t.Helper()
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func readAll(t *testing.T, s *Store, sha string) []byte {
	t.Helper()
	f, err := s.Open(sha)
	if err != nil {
		t.Fatalf("Open(%s): %v", sha, err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// dirFiles lists the names of the files under dir, recursively.
func dirFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	_ = filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, d.Name())
		}
		return nil
	})
	return out
}

func TestStorePutOpen(t *testing.T) {
	s := openStore(t)
	data := []byte("%PDF-1.7 a pitch deck")
	st, err := s.Put(bytes.NewReader(data), 1<<20, Want{SHA256: shaOf(data), Size: int64(len(data))})
	if err != nil {
		t.Fatal(err)
	}
	if st.SHA256 != shaOf(data) || st.Size != int64(len(data)) || st.Existed {
		t.Errorf("Put = %+v", st)
	}
	if got := readAll(t, s, st.SHA256); !bytes.Equal(got, data) {
		t.Errorf("read back %q", got)
	}
	if want := filepath.Join(s.Dir(), "sha256", st.SHA256[:2], st.SHA256); s.Path(st.SHA256) != want {
		t.Errorf("Path = %s, want %s", s.Path(st.SHA256), want)
	}
	again, err := s.Put(bytes.NewReader(data), 1<<20, Want{})
	if err != nil || !again.Existed {
		t.Errorf("the same bytes again: %+v, %v; want Existed", again, err)
	}
	if files := dirFiles(t, filepath.Join(s.Dir(), "tmp")); len(files) != 0 {
		t.Errorf("temporary files left: %v", files)
	}
	list, err := s.List()
	if err != nil || len(list) != 1 || list[0].SHA256 != st.SHA256 || list[0].Size != st.Size {
		t.Errorf("List = %+v, %v", list, err)
	}
	if _, err := s.Open(strings.Repeat("0", 64)); !errors.Is(err, ErrNotFound) {
		t.Errorf("Open of a file not stored: %v, want ErrNotFound", err)
	}
	if _, err := s.Open("../../etc/passwd"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Open of a path: %v, want ErrNotFound", err)
	}
}

// TestStorePutRefuses: what is over the limit, empty or not what the
// caller expects is never stored, and leaves nothing behind.
func TestStorePutRefuses(t *testing.T) {
	data := bytes.Repeat([]byte("x"), 1000)
	for _, tt := range []struct {
		name string
		max  int64
		want Want
		data []byte
		err  error
	}{
		{"one byte over the limit", 999, Want{}, data, ErrTooLarge},
		{"empty", 10, Want{}, nil, ErrEmpty},
		{"another SHA-256", 1 << 20, Want{SHA256: shaOf([]byte("other"))}, data, ErrMismatch},
		{"another size", 1 << 20, Want{Size: 999}, data, ErrMismatch},
		{"not a SHA-256", 1 << 20, Want{SHA256: "abc"}, data, ErrMismatch},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := openStore(t)
			if _, err := s.Put(bytes.NewReader(tt.data), tt.max, tt.want); !errors.Is(err, tt.err) {
				t.Fatalf("Put = %v, want %v", err, tt.err)
			}
			if files := dirFiles(t, s.Dir()); len(files) != 0 {
				t.Errorf("files left after a refused Put: %v", files)
			}
		})
	}
	s := openStore(t)
	if _, err := s.Put(bytes.NewReader(data), 1000, Want{}); err != nil {
		t.Errorf("exactly at the limit: %v", err)
	}
}

// TestStoreDetectsDamage: a stored file whose bytes changed is found out
// before it is served, and moved aside.
func TestStoreDetectsDamage(t *testing.T) {
	s := openStore(t)
	data := []byte("term sheet: 42M")
	st, err := s.Put(bytes.NewReader(data), 1<<20, Want{})
	if err != nil {
		t.Fatal(err)
	}
	readAll(t, s, st.SHA256) // verified and remembered
	bad := []byte("term sheet: 24M")
	if err := os.WriteFile(s.Path(st.SHA256), bad, 0o600); err != nil {
		t.Fatal(err)
	}
	// A changed modification time makes Open check it again.
	later := time.Now().Add(time.Second)
	if err := os.Chtimes(s.Path(st.SHA256), later, later); err != nil {
		t.Fatal(err)
	}
	_, err = s.Open(st.SHA256)
	if !errors.Is(err, ErrCorrupt) || !errors.Is(err, ErrNotFound) {
		t.Fatalf("Open of a damaged file = %v, want ErrCorrupt", err)
	}
	if s.Has(st.SHA256) || s.Corrupt() != 1 {
		t.Errorf("after the damage: Has %v, Corrupt %d; want false, 1", s.Has(st.SHA256), s.Corrupt())
	}
	if aside := dirFiles(t, filepath.Join(s.Dir(), "corrupt")); len(aside) != 1 || !strings.HasPrefix(aside[0], st.SHA256+".") {
		t.Errorf("moved aside: %v", aside)
	}
	// Damage that keeps size and time is found by Verify (the scrub).
	st, _ = s.Put(bytes.NewReader(data), 1<<20, Want{})
	info, _ := os.Stat(s.Path(st.SHA256))
	if err := os.WriteFile(s.Path(st.SHA256), bad, 0o600); err != nil {
		t.Fatal(err)
	}
	_ = os.Chtimes(s.Path(st.SHA256), info.ModTime(), info.ModTime())
	if err := s.Verify(st.SHA256); !errors.Is(err, ErrCorrupt) {
		t.Errorf("Verify of a damaged file = %v, want ErrCorrupt", err)
	}
}

func TestStoreOpenCleansTmp(t *testing.T) {
	dir := t.TempDir()
	if _, err := Open(dir); err != nil {
		t.Fatal(err)
	}
	left := filepath.Join(dir, "tmp", "put-123")
	if err := os.WriteFile(left, []byte("half a file"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(left); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("what an interrupted write left: %v, want it removed", err)
	}
}

// TestStoreDamageRightAfterPut: bytes changed on disk the moment a Put
// has renamed the file into place, while the Put is still finishing, are
// not vouched for by the Put: the next Open checks them and finds them
// damaged. (The Put's record of what it verified is taken from the bytes
// it hashed, not from the path once others can change it.)
func TestStoreDamageRightAfterPut(t *testing.T) {
	for i := range 20 {
		s := openStore(t)
		data := bytes.Repeat([]byte{byte(i), 'x', 'y'}, 64<<10)
		sha := shaOf(data)
		bad := append([]byte(nil), data...)
		bad[100] ^= 0xff
		done := make(chan error, 1)
		go func() {
			// Wait for the file to appear, then damage it at once.
			deadline := time.Now().Add(10 * time.Second)
			for !s.Has(sha) {
				if time.Now().After(deadline) {
					done <- errors.New("the file never appeared")
					return
				}
			}
			if err := os.WriteFile(s.Path(sha), bad, 0o600); err != nil {
				done <- err
				return
			}
			later := time.Now().Add(time.Second)
			done <- os.Chtimes(s.Path(sha), later, later)
		}()
		if _, err := s.Put(bytes.NewReader(data), 1<<30, Want{SHA256: sha}); err != nil {
			t.Fatal(err)
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		f, err := s.Open(sha)
		if err == nil {
			f.Close()
			t.Fatalf("round %d: a file damaged while its Put finished was opened as whole", i)
		}
		if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("round %d: Open: %v, want ErrCorrupt", i, err)
		}
	}
}
