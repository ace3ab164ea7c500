package accesslog

import (
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/ossd/ossd/internal/vfs"
)

// FS is the part of a filesystem the journal uses (see vfs.FS for the
// contract). The default is the OS filesystem; tests substitute one that
// loses what was not synced or fails on demand. It is vfs.FS itself, so
// one fault-injecting filesystem (internal/faultfs) serves the journal and
// the blob store.
type FS = vfs.FS

// File is an open file of an FS (vfs.File). OSFS's Sync is fdatasync.
type File = vfs.File

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
