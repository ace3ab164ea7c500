//go:build !linux

package vfs

import "os"

// DataSync makes f's data durable. Without fdatasync(2) it is a full Sync
// (on macOS, Go's Sync is F_FULLFSYNC).
func DataSync(f *os.File) error { return f.Sync() }

// StartWriteback is a no-op where the kernel offers no way to start
// writeback of a range without waiting; Commit's fsync writes everything.
func StartWriteback(f *os.File, off, n int64) {}
