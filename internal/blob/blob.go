// Package blob keeps object bytes on local disk. Files are named by
// internal random ids, never by user keys, so no object name can reach a
// path outside the data directory.
//
// A blob becomes part of an object only when the metadata commit that
// references it succeeds; until then it is invisible. Writers therefore
// write to the final name directly and make it durable (fsync the file,
// fsync its directory) before the metadata commit. Files that no commit
// references — an upload killed midway, or a blob whose object was
// replaced just before a crash — are removed by Sweep at start.
package blob

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// Store is a directory of blob files, fanned out into 256 subdirectories.
type Store struct{ dir string }

// Open prepares dir (creating the fan-out directories once, so a new blob
// needs no directory creation and only its own directory fsync).
func Open(dir string) (*Store, error) {
	for i := 0; i < 256; i++ {
		if err := os.MkdirAll(filepath.Join(dir, fmt.Sprintf("%02x", i)), 0o755); err != nil {
			return nil, fmt.Errorf("blob dir: %w", err)
		}
	}
	if err := syncDir(dir); err != nil {
		return nil, err
	}
	return &Store{dir: dir}, nil
}

// NewID returns a fresh blob id.
func NewID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on Linux
	}
	return hex.EncodeToString(b[:])
}

// validID guards every path built from an id: ids come from our own
// metadata, but a corrupt record must not turn into a path outside dir.
func validID(id string) bool {
	if len(id) != 32 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

func (s *Store) path(id string) (string, error) {
	if !validID(id) {
		return "", fmt.Errorf("blob: invalid id %q", id)
	}
	return filepath.Join(s.dir, id[:2], id), nil
}

// Writer writes one new blob. Commit makes it durable; Abort removes it.
type Writer struct {
	ID   string
	f    *os.File
	path string
	n    int64
}

// Create starts a new blob.
func (s *Store) Create() (*Writer, error) {
	id := NewID()
	p, _ := s.path(id)
	f, err := os.OpenFile(p, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, fmt.Errorf("create blob: %w", err)
	}
	return &Writer{ID: id, f: f, path: p}, nil
}

func (w *Writer) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	w.n += int64(n)
	return n, err
}

// ReadFrom lets io.Copy move socket bytes into the file without an extra
// user-space buffer where the kernel supports it (splice).
func (w *Writer) ReadFrom(r io.Reader) (int64, error) {
	n, err := w.f.ReadFrom(r)
	w.n += n
	return n, err
}

// Size is the number of bytes written so far.
func (w *Writer) Size() int64 { return w.n }

// Commit makes the blob durable: fsync the file, close it, fsync its
// directory so the name survives a crash. After Commit returns nil the
// bytes survive kill -9 and power loss; on error the blob is removed.
func (w *Writer) Commit() error {
	if err := w.f.Sync(); err != nil {
		w.Abort()
		return fmt.Errorf("fsync blob: %w", err)
	}
	if err := w.f.Close(); err != nil {
		os.Remove(w.path)
		return fmt.Errorf("close blob: %w", err)
	}
	if err := syncDir(filepath.Dir(w.path)); err != nil {
		os.Remove(w.path)
		return err
	}
	return nil
}

// Abort discards the blob.
func (w *Writer) Abort() {
	w.f.Close()
	os.Remove(w.path)
}

// Open opens a blob for reading.
func (s *Store) Open(id string) (*os.File, error) {
	p, err := s.path(id)
	if err != nil {
		return nil, err
	}
	return os.Open(p)
}

// Appender reopens an appendable object's blob at its committed length.
// Bytes past that length are leftovers of an append that never committed
// and are cut off first.
func (s *Store) Appender(id string, committed int64) (*Writer, error) {
	p, err := s.path(id)
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(p, os.O_WRONLY, 0)
	if err != nil {
		return nil, fmt.Errorf("open blob for append: %w", err)
	}
	if err := f.Truncate(committed); err != nil {
		f.Close()
		return nil, fmt.Errorf("truncate blob: %w", err)
	}
	if _, err := f.Seek(committed, io.SeekStart); err != nil {
		f.Close()
		return nil, err
	}
	return &Writer{ID: id, f: f, path: p}, nil
}

// CommitAppend fsyncs appended bytes; unlike Commit it never removes the
// file, which holds earlier committed bytes.
func (w *Writer) CommitAppend() error {
	err := w.f.Sync()
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("fsync appended blob: %w", err)
	}
	return nil
}

// Remove deletes blobs; missing files are not an error.
func (s *Store) Remove(ids ...string) {
	for _, id := range ids {
		if p, err := s.path(id); err == nil {
			os.Remove(p)
		}
	}
}

// Sweep removes blobs older than before that referenced does not claim.
// It runs at start, so files being written now (newer than before) are
// left alone.
func (s *Store) Sweep(ctx context.Context, before time.Time, referenced func(id string) bool) (int, error) {
	removed := 0
	err := filepath.WalkDir(s.dir, func(path string, d fs.DirEntry, err error) error {
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.IsDir() || !validID(d.Name()) || referenced(d.Name()) {
			return nil
		}
		info, err := d.Info()
		if err != nil || !info.ModTime().Before(before) {
			return nil
		}
		if os.Remove(path) == nil {
			removed++
		}
		return nil
	})
	return removed, err
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open dir for fsync: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("fsync dir %s: %w", dir, err)
	}
	return nil
}
