package accesslog

import (
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

// OSFS is the operating system's filesystem (vfs.OS) with files whose
// Sync is fdatasync.
type OSFS struct{ vfs.OS }

// dataSyncFile is a vfs.OSFile whose Sync is vfs.DataSync (fdatasync on
// Linux, a full sync elsewhere): it makes the data and the size durable but
// not the modification time. The journal
// overwrites zeros that are already on disk (see journal.write), so
// fdatasync needs no filesystem-journal commit and costs about a third
// less than fsync per group commit.
type dataSyncFile struct{ vfs.OSFile }

func (f dataSyncFile) Sync() error { return vfs.DataSync(f.File) }

// Create implements FS.
func (fs OSFS) Create(name string) (File, error) { return dataSync(fs.OS.Create(name)) }

// Open implements FS.
func (fs OSFS) Open(name string) (File, error) { return dataSync(fs.OS.Open(name)) }

func dataSync(f File, err error) (File, error) {
	if err != nil {
		return nil, err
	}
	return dataSyncFile{f.(vfs.OSFile)}, nil
}
