// Package blob keeps object bytes on local disk. Files are named by
// internal random ids, never by user keys, so no object name can reach a
// path outside the data directory.
//
// A blob is written once: after Commit nothing writes to it again (an
// append writes a new blob), so bytes a commit made visible never change
// while other nodes read them from a shared directory.
//
// A blob becomes part of an object only when the metadata commit that
// references it succeeds; until then it is invisible. Writers therefore
// write to the final name directly and make it durable (fsync the file,
// fsync its directory) before the metadata commit. Files that no commit
// references — an upload killed midway, or a blob whose object was
// replaced just before a crash — are removed by Sweep at start.
//
// All file I/O goes through FS (vfs.OS in production), so tests can inject
// I/O errors, a full disk and crashes (internal/faultfs). On vfs.OS the
// writer and readers use the *os.File itself, so the kernel's fast paths
// (splice into the file, sendfile out of it) stay as they are.
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
	"sync"
	"time"

	"github.com/ossd/ossd/internal/vfs"
)

// FS is the filesystem blob files live on: vfs.FS plus what blob writes,
// reads and sweeps need. vfs.OS implements it.
type FS interface {
	vfs.FS
	// CreateNew creates name for writing and fails if it exists, so a
	// repeated id can never truncate a committed blob.
	CreateNew(name string) (vfs.File, error)
	// OpenRead opens an existing file for reading only.
	OpenRead(name string) (vfs.File, error)
	// Stat returns name's information; Sweep reads its modification time.
	Stat(name string) (fs.FileInfo, error)
}

// Store is a directory of blob files, fanned out into 256 subdirectories.
type Store struct {
	dir string
	fs  FS
}

// Open prepares dir on the OS filesystem.
func Open(dir string) (*Store, error) { return OpenFS(vfs.OS{}, dir) }

// OpenFS prepares dir on fsys (creating the fan-out directories once, so a
// new blob needs no directory creation and only its own directory fsync).
func OpenFS(fsys FS, dir string) (*Store, error) {
	for i := 0; i < 256; i++ {
		if err := fsys.MkdirAll(filepath.Join(dir, fmt.Sprintf("%02x", i))); err != nil {
			return nil, fmt.Errorf("blob dir: %w", err)
		}
	}
	s := &Store{dir: dir, fs: fsys}
	if err := s.syncDir(dir); err != nil {
		return nil, err
	}
	return s, nil
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
	ID string
	s  *Store
	f  vfs.File
	// osf is f's *os.File on vfs.OS: writes go through it sequentially
	// (and ReadFrom can splice); other filesystems get WriteAt at off.
	osf  *os.File
	off  int64
	path string
	n    int64
	// kicked is the offset up to which writeback has been started (see
	// startWriteback).
	kicked int64
}

// writebackStep is how much written data a Writer lets accumulate in the
// page cache before asking the kernel to start writing it out. Without it
// nothing of a large upload reaches the disk until Commit's fsync (the
// dirty-page thresholds are a share of RAM, gigabytes here), so the disk
// idles while the body streams in and then the request waits for the whole
// object to be written. Started early, most of it is on disk by the time
// Commit syncs, and the fsync is short.
const writebackStep = 8 << 20

// startWriteback asks the kernel to start writing out what was written
// since the last call once writebackStep bytes have accumulated; it does
// not wait for the writes (SYNC_FILE_RANGE_WRITE), and durability still
// comes from Commit's fsync alone.
func (w *Writer) startWriteback() {
	if w.osf == nil || w.off-w.kicked < writebackStep {
		return
	}
	vfs.StartWriteback(w.osf, w.kicked, w.off-w.kicked)
	w.kicked = w.off
}

func (s *Store) newWriter(id, path string, f vfs.File, off int64) *Writer {
	w := &Writer{ID: id, s: s, f: f, path: path, off: off}
	if of, ok := f.(vfs.OSFile); ok {
		w.osf = of.File
	}
	return w
}

// Create starts a new blob.
func (s *Store) Create() (*Writer, error) { return s.CreateID(NewID()) }

// CreateID starts a new blob named id (from NewID), for a writer that
// must record the id before the file exists. It fails if the file exists.
func (s *Store) CreateID(id string) (*Writer, error) {
	p, err := s.path(id)
	if err != nil {
		return nil, err
	}
	f, err := s.fs.CreateNew(p)
	if err != nil {
		return nil, fmt.Errorf("create blob: %w", err)
	}
	return s.newWriter(id, p, f, 0), nil
}

func (w *Writer) Write(p []byte) (int, error) {
	var n int
	var err error
	if w.osf != nil {
		n, err = w.osf.Write(p)
	} else {
		n, err = w.f.WriteAt(p, w.off)
	}
	w.off += int64(n)
	w.n += int64(n)
	w.startWriteback()
	return n, err
}

// ReadFrom is what io.Copy into a Writer uses: a source file is handed to
// os.File.ReadFrom (copy_file_range, no user-space copy); a request body is
// copied through pooled buffers, with writeback started as it goes.
func (w *Writer) ReadFrom(r io.Reader) (int64, error) {
	if w.osf != nil && spliceable(r) {
		n, err := w.osf.ReadFrom(r)
		w.off += n
		w.n += n
		return n, err
	}
	// The first 64 KiB go through a small buffer, so that a body that
	// stalls early (a slow or hostile client; thousands may be open)
	// holds 32 KiB, not 256.
	sp := smallBufs.Get().(*[]byte)
	n, err := io.CopyBuffer(writerOnly{w}, io.LimitReader(r, smallFirst), *sp)
	smallBufs.Put(sp)
	if err != nil || n < smallFirst {
		return n, err
	}
	bp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bp)
	m, err := io.CopyBuffer(writerOnly{w}, r, *bp)
	return n + m, err
}

// copyBufs are the buffers the rest of a body is copied with: 256 KiB, so
// that a large upload takes 8× fewer read and write calls than with
// io.Copy's 32 KiB.
var (
	smallBufs = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}
	copyBufs  = sync.Pool{New: func() any { b := make([]byte, 256<<10); return &b }}
)

const smallFirst = 64 << 10

// spliceable reports a source os.File.ReadFrom can move without copying
// through user space (copy_file_range from another file, as UploadPartCopy
// does); anything else is copied through a buffer so that writeback is
// started as it goes.
func spliceable(r io.Reader) bool {
	if lr, ok := r.(*io.LimitedReader); ok {
		r = lr.R
	}
	_, ok := r.(*os.File)
	return ok
}

// writerOnly hides ReadFrom so io.CopyBuffer uses Write.
type writerOnly struct{ io.Writer }

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
		w.s.fs.Remove(w.path)
		return fmt.Errorf("close blob: %w", err)
	}
	if err := w.s.syncDir(filepath.Dir(w.path)); err != nil {
		w.s.fs.Remove(w.path)
		return err
	}
	return nil
}

// Abort discards the blob.
func (w *Writer) Abort() {
	w.f.Close()
	w.s.fs.Remove(w.path)
}

// Open opens a blob for reading. On vfs.OS the file is a vfs.OSFile, whose
// *os.File readers should use directly so that responses go out by
// sendfile.
func (s *Store) Open(id string) (vfs.File, error) {
	p, err := s.path(id)
	if err != nil {
		return nil, err
	}
	return s.fs.OpenRead(p)
}

// Remove deletes blobs; missing files are not an error.
func (s *Store) Remove(ids ...string) {
	for _, id := range ids {
		if p, err := s.path(id); err == nil {
			s.fs.Remove(p)
		}
	}
}

// Sweep removes blobs older than before that referenced does not claim.
// It runs at start, so files being written now (newer than before) are
// left alone.
func (s *Store) Sweep(ctx context.Context, before time.Time, referenced func(id string) bool) (int, error) {
	removed := 0
	err := s.each(ctx, func(id, path string) {
		if referenced(id) {
			return
		}
		info, err := s.fs.Stat(path)
		if err != nil || info.IsDir() || !info.ModTime().Before(before) {
			return
		}
		if s.fs.Remove(path) == nil {
			removed++
		}
	})
	return removed, err
}

// IDs returns the id of every blob file in the directory, in no
// particular order.
func (s *Store) IDs(ctx context.Context) ([]string, error) {
	var ids []string
	err := s.each(ctx, func(id, _ string) { ids = append(ids, id) })
	return ids, err
}

// each calls fn with the id and path of every blob file.
func (s *Store) each(ctx context.Context, fn func(id, path string)) error {
	for i := 0; i < 256; i++ {
		sub := filepath.Join(s.dir, fmt.Sprintf("%02x", i))
		names, err := s.fs.List(sub)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			return err
		}
		for _, name := range names {
			if err := ctx.Err(); err != nil {
				return err
			}
			if validID(name) {
				fn(name, filepath.Join(sub, name))
			}
		}
	}
	return nil
}

func (s *Store) syncDir(dir string) error {
	if err := s.fs.SyncDir(dir); err != nil {
		return fmt.Errorf("fsync dir %s: %w", dir, err)
	}
	return nil
}
