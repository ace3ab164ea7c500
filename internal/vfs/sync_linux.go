//go:build linux

package vfs

import (
	"os"

	"golang.org/x/sys/unix"
)

// DataSync is fdatasync(2): the data and the size become durable, the
// timestamps need not. On blocks already allocated and written it needs no
// filesystem-journal commit, which is most of what fsync costs.
func DataSync(f *os.File) error {
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

// StartWriteback asks the kernel to start writing [off, off+n) of f out to
// the disk without waiting for it (sync_file_range SYNC_FILE_RANGE_WRITE).
// It is advice only: it makes nothing durable, so errors are ignored.
func StartWriteback(f *os.File, off, n int64) {
	if rc, err := f.SyscallConn(); err == nil {
		rc.Control(func(fd uintptr) { unix.SyncFileRange(int(fd), off, n, unix.SYNC_FILE_RANGE_WRITE) })
	}
}
