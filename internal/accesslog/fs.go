package accesslog

import (
	"io"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// FS is the part of a filesystem the journal uses. The default is the OS
// filesystem; tests substitute one that loses what was not synced.
//
// Names are full paths. Implementations must be safe for concurrent use.
// Durability follows POSIX: written data is durable once File.Sync returns
// nil; a created, renamed or removed name is durable once SyncDir of its
// directory returns nil.
type FS interface {
	// Create creates name, truncating it if it exists, open for reading and
	// writing.
	Create(name string) (File, error)
	// Open opens an existing file for reading and writing.
	Open(name string) (File, error)
	// Rename atomically replaces newname with oldname.
	Rename(oldname, newname string) error
	// Remove removes name.
	Remove(name string) error
	// List returns the names (not paths) of the entries of dir.
	List(dir string) ([]string, error)
	// MkdirAll creates dir and its parents.
	MkdirAll(dir string) error
	// SyncDir makes the entries of dir durable.
	SyncDir(dir string) error
}

// File is an open file of an FS. It is used by one goroutine at a time,
// except that ReadAt may run concurrently with WriteAt on other offsets.
type File interface {
	io.ReaderAt
	io.WriterAt
	io.Closer
	// Size returns the current size of the file.
	Size() (int64, error)
	// Truncate changes the size of the file.
	Truncate(size int64) error
	// Sync makes the file's data, and its size, durable. It need not
	// make other metadata (mtime) durable: OSFS uses fdatasync.
	Sync() error
}

// OSFS is the operating system's filesystem.
type OSFS struct{}

type osFile struct{ *os.File }

func (f osFile) Size() (int64, error) {
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

// Sync is fdatasync: it makes the data and the size durable but not the
// modification time. The journal overwrites zeros that are already on disk
// (see journal.write), so fdatasync needs no filesystem-journal commit
// and costs about a third less than fsync per group commit.
func (f osFile) Sync() error {
	for {
		err := unix.Fdatasync(int(f.Fd()))
		if err != unix.EINTR {
			if err != nil {
				return &os.PathError{Op: "fdatasync", Path: f.Name(), Err: err}
			}
			return nil
		}
	}
}

func (OSFS) Create(name string) (File, error) {
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, err
	}
	return osFile{f}, nil
}

func (OSFS) Open(name string) (File, error) {
	f, err := os.OpenFile(name, os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	return osFile{f}, nil
}

func (OSFS) Rename(oldname, newname string) error { return os.Rename(oldname, newname) }
func (OSFS) Remove(name string) error             { return os.Remove(name) }
func (OSFS) MkdirAll(dir string) error            { return os.MkdirAll(dir, 0o755) }

func (OSFS) List(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(ents))
	for i, e := range ents {
		names[i] = e.Name()
	}
	return names, nil
}

func (OSFS) SyncDir(dir string) error {
	d, err := os.Open(filepath.Clean(dir))
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
