// Package vfs is the filesystem seam of ossd's storage: the access-log
// journal and the blob store do their file I/O through FS, so that tests can
// substitute a filesystem that fails on demand or loses what was not synced
// (internal/faultfs). Production uses OS.
//
// It is a leaf package: it imports only the standard library, so every
// storage package can depend on it without cycles.
package vfs

import (
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// FS is the part of a filesystem that ossd's storage uses.
//
// Names are full paths. Implementations must be safe for concurrent use.
// Durability follows POSIX: written data is durable once File.Sync returns
// nil; a created, renamed or removed name is durable once SyncDir of its
// directory returns nil. Errors are returned as the OS returns them
// (wrapping syscall.Errno where there is one), so callers can tell a full
// disk (ENOSPC) from other failures.
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
	// make other metadata (mtime) durable.
	Sync() error
}

// OS is the operating system's filesystem. Its files are OSFile values, so
// callers that need the *os.File itself (sendfile, splice) can reach it.
// Besides FS it has the methods the blob store needs (see blob.FS).
type OS struct{}

// OSFile is a File of OS. Sync is fsync.
type OSFile struct{ *os.File }

// Size implements File.
func (f OSFile) Size() (int64, error) {
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

// Create implements FS.
func (OS) Create(name string) (File, error) {
	return openOS(name, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
}

// CreateNew creates name for writing; it fails if name exists.
func (OS) CreateNew(name string) (File, error) {
	return openOS(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
}

// Open implements FS.
func (OS) Open(name string) (File, error) { return openOS(name, os.O_RDWR, 0) }

// OpenRead opens name for reading only.
func (OS) OpenRead(name string) (File, error) { return openOS(name, os.O_RDONLY, 0) }

func openOS(name string, flag int, perm os.FileMode) (File, error) {
	f, err := os.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return OSFile{f}, nil
}

// Stat returns name's file information.
func (OS) Stat(name string) (fs.FileInfo, error) { return os.Stat(name) }

// Rename implements FS.
func (OS) Rename(oldname, newname string) error { return os.Rename(oldname, newname) }

// Remove implements FS.
func (OS) Remove(name string) error { return os.Remove(name) }

// MkdirAll implements FS.
func (OS) MkdirAll(dir string) error { return os.MkdirAll(dir, 0o755) }

// List implements FS.
func (OS) List(dir string) ([]string, error) {
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

// SyncDir implements FS: it fsyncs the directory.
func (OS) SyncDir(dir string) error {
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
