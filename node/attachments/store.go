package attachments

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Errors of a Store. Match them with errors.Is.
var (
	// ErrNotFound: the store does not hold the file.
	ErrNotFound = errors.New("file not stored here")
	// ErrTooLarge: the bytes exceed the limit; nothing was stored.
	ErrTooLarge = errors.New("file too large")
	// ErrMismatch: the bytes are not those the caller expected (size or
	// SHA-256); nothing was stored.
	ErrMismatch = errors.New("file does not match")
	// ErrEmpty: there were no bytes at all.
	ErrEmpty = errors.New("file is empty")
	// ErrCorrupt: a stored file no longer matches its SHA-256; it was
	// moved aside.
	ErrCorrupt = errors.New("stored file is damaged")
)

// Store is a directory of files named by their SHA-256. It is safe for
// concurrent use.
type Store struct {
	dir string
	mu  sync.Mutex
	// verified remembers the files found whole since the process started,
	// by the size and modification time they had then: a file changed
	// since is checked again.
	verified map[string]stamp
	// corrupt counts stored files found damaged.
	corrupt int64
}

type stamp struct {
	size int64
	mod  time.Time
}

// Open opens (creating it if needed) the store in dir, and removes what
// an interrupted write left in dir/tmp.
func Open(dir string) (*Store, error) {
	for _, d := range []string{"sha256", "tmp", "corrupt"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			return nil, fmt.Errorf("open attachment store: %w", err)
		}
	}
	tmp, err := os.ReadDir(filepath.Join(dir, "tmp"))
	if err != nil {
		return nil, fmt.Errorf("open attachment store: %w", err)
	}
	for _, e := range tmp {
		_ = os.Remove(filepath.Join(dir, "tmp", e.Name()))
	}
	return &Store{dir: dir, verified: map[string]stamp{}}, nil
}

// Dir is the store's directory.
func (s *Store) Dir() string { return s.dir }

// Path is where the file sha is (or would be) stored.
func (s *Store) Path(sha string) string { return filepath.Join(s.dir, "sha256", sha[:2], sha) }

// validSHA reports whether sha is 64 lower-case hex digits, the only
// names the store takes (so that no name can leave its directory).
func validSHA(sha string) bool {
	if len(sha) != 64 {
		return false
	}
	for i := 0; i < len(sha); i++ {
		if c := sha[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// Want is what a caller of Put expects the bytes to be; zero fields
// expect nothing.
type Want struct {
	SHA256 string
	Size   int64
}

// Stored describes a stored file.
type Stored struct {
	SHA256 string
	Size   int64
	// Existed is set when the store held the file already.
	Existed bool
}

// Put stores the bytes r yields, at most max of them: it hashes them as
// it writes them to a temporary file, fsyncs it, and renames it into
// place only if the bytes are within max and match want. On any error
// nothing is stored.
func (s *Store) Put(r io.Reader, max int64, want Want) (Stored, error) {
	if want.SHA256 != "" && !validSHA(want.SHA256) {
		return Stored{}, fmt.Errorf("%w: %q is not a SHA-256", ErrMismatch, want.SHA256)
	}
	tmp, err := os.CreateTemp(filepath.Join(s.dir, "tmp"), "put-*")
	if err != nil {
		return Stored{}, fmt.Errorf("store file: %w", err)
	}
	keep := false
	defer func() {
		if !keep {
			tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), io.LimitReader(r, max+1))
	switch {
	case err != nil:
		return Stored{}, fmt.Errorf("store file: %w", err)
	case n > max:
		return Stored{}, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, max)
	case n == 0:
		return Stored{}, ErrEmpty
	case want.Size != 0 && n != want.Size:
		return Stored{}, fmt.Errorf("%w: %d bytes, not the %d expected", ErrMismatch, n, want.Size)
	}
	sha := hex.EncodeToString(h.Sum(nil))
	if want.SHA256 != "" && sha != want.SHA256 {
		return Stored{}, fmt.Errorf("%w: the bytes' SHA-256 is %s, not the %s expected", ErrMismatch, sha, want.SHA256)
	}
	if err := tmp.Sync(); err != nil {
		return Stored{}, fmt.Errorf("store file: %w", err)
	}
	// The stamp is taken from the bytes just hashed, not from the path
	// after the rename: once renamed the file can be read and changed by
	// others before this goroutine looks at it again, and a stamp taken
	// then could vouch for bytes that were never hashed.
	written, err := tmp.Stat()
	if err != nil {
		return Stored{}, fmt.Errorf("store file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return Stored{}, fmt.Errorf("store file: %w", err)
	}
	out := Stored{SHA256: sha, Size: n}
	s.mu.Lock()
	defer s.mu.Unlock()
	final := s.Path(sha)
	if st, err := os.Stat(final); err == nil && st.Size() == n && s.checkLocked(sha, st) == nil {
		// Stored again: young again, for the collection of files no
		// attachment names.
		now := time.Now()
		if os.Chtimes(final, now, now) == nil {
			if st, err := os.Stat(final); err == nil {
				s.verified[sha] = stamp{st.Size(), st.ModTime()}
			}
		}
		out.Existed = true
		return out, nil // the temporary file is removed by the deferred cleanup
	}
	dir := filepath.Dir(final)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return Stored{}, fmt.Errorf("store file: %w", err)
	}
	if err := os.Rename(tmp.Name(), final); err != nil {
		return Stored{}, fmt.Errorf("store file: %w", err)
	}
	keep = true
	if err := syncDir(dir); err != nil {
		return Stored{}, fmt.Errorf("store file: %w", err)
	}
	s.verified[sha] = stamp{written.Size(), written.ModTime()}
	return out, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// File is a stored file opened for reading; the caller closes it.
type File struct {
	*os.File
	SHA256  string
	Size    int64
	ModTime time.Time
}

// Open opens the stored file sha, checked against its SHA-256 unless it
// was found whole since it last changed. A damaged file is moved to
// dir/corrupt and Open returns ErrCorrupt (as a file that is not there:
// errors.Is(err, ErrNotFound) holds too).
func (s *Store) Open(sha string) (*File, error) {
	if !validSHA(sha) {
		return nil, ErrNotFound
	}
	f, err := os.Open(s.Path(sha))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("open stored file: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("open stored file: %w", err)
	}
	s.mu.Lock()
	ok := s.verified[sha] == stamp{st.Size(), st.ModTime()}
	s.mu.Unlock()
	if !ok {
		if err := s.Verify(sha); err != nil {
			f.Close()
			return nil, err
		}
	}
	return &File{File: f, SHA256: sha, Size: st.Size(), ModTime: st.ModTime()}, nil
}

// Has reports whether the store holds the file sha (not known damaged).
func (s *Store) Has(sha string) bool {
	if !validSHA(sha) {
		return false
	}
	_, err := os.Stat(s.Path(sha))
	return err == nil
}

// Verify reads the stored file sha whole and checks it against its
// SHA-256. A damaged file is moved to dir/corrupt (kept for a
// post-mortem) and Verify returns ErrCorrupt.
func (s *Store) Verify(sha string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, err := os.Stat(s.Path(sha))
	if errors.Is(err, fs.ErrNotExist) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("verify stored file: %w", err)
	}
	return s.checkLocked(sha, st)
}

// checkLocked hashes the stored file sha, whose Stat is st.
func (s *Store) checkLocked(sha string, st fs.FileInfo) error {
	path := s.Path(sha)
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("verify stored file: %w", err)
	}
	h := sha256.New()
	_, err = io.Copy(h, f)
	f.Close()
	if err != nil {
		return fmt.Errorf("verify stored file: %w", err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != sha {
		delete(s.verified, sha)
		s.corrupt++
		aside := filepath.Join(s.dir, "corrupt", sha+"."+time.Now().UTC().Format("20060102T150405.000000000"))
		if err := os.Rename(path, aside); err != nil {
			_ = os.Remove(path)
		}
		return fmt.Errorf("%w: %s holds bytes whose SHA-256 is %s", corruptError{}, sha, got)
	}
	s.verified[sha] = stamp{st.Size(), st.ModTime()}
	return nil
}

// corruptError is ErrCorrupt, and also ErrNotFound: the file is gone.
type corruptError struct{}

func (corruptError) Error() string { return ErrCorrupt.Error() }
func (corruptError) Is(target error) bool {
	return target == ErrCorrupt || target == ErrNotFound
}

// Corrupt is how many stored files were found damaged since the store was
// opened.
func (s *Store) Corrupt() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.corrupt
}

// Remove deletes the stored file sha, if there is one.
func (s *Store) Remove(sha string) error {
	if !validSHA(sha) {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.verified, sha)
	if err := os.Remove(s.Path(sha)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove stored file: %w", err)
	}
	return nil
}

// Info describes a stored file.
type Info struct {
	SHA256  string
	Size    int64
	ModTime time.Time
}

// List returns every stored file.
func (s *Store) List() ([]Info, error) {
	var out []Info
	root := filepath.Join(s.dir, "sha256")
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !validSHA(d.Name()) || !strings.HasPrefix(d.Name(), filepath.Base(filepath.Dir(path))) {
			return nil
		}
		st, err := d.Info()
		if err != nil {
			return nil // removed meanwhile
		}
		out = append(out, Info{SHA256: d.Name(), Size: st.Size(), ModTime: st.ModTime()})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list stored files: %w", err)
	}
	return out, nil
}
