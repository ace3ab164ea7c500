package blob_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/ossd/ossd/internal/blob"
	"github.com/ossd/ossd/internal/faultfs"
	"github.com/ossd/ossd/internal/vfs"
)

func readBlob(t *testing.T, s *blob.Store, id string) []byte {
	t.Helper()
	f, err := s.Open(id)
	if err != nil {
		t.Fatalf("open %s: %v", id, err)
	}
	defer f.Close()
	size, err := f.Size()
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, size)
	if _, err := f.ReadAt(b, 0); err != nil && err != io.EOF {
		t.Fatal(err)
	}
	return b
}

// TestStoreOnFS: the blob store behaves the same on the OS and on faultfs
// (write, commit, append over leftovers, abort, sweep), and on the OS it
// hands out *os.File readers so that responses keep going out by sendfile.
func TestStoreOnFS(t *testing.T) {
	tests := []struct {
		name string
		fs   blob.FS
	}{
		{"os", vfs.OS{}},
		{"faultfs", faultfs.New()},
	}
	data := bytes.Repeat([]byte("0123456789abcdef"), 10<<10)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "blobs")
			s, err := blob.OpenFS(tc.fs, dir)
			if err != nil {
				t.Fatal(err)
			}
			w, err := s.Create()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := io.Copy(w, bytes.NewReader(data)); err != nil { // ReadFrom
				t.Fatal(err)
			}
			if err := w.Commit(); err != nil {
				t.Fatal(err)
			}
			if got := readBlob(t, s, w.ID); !bytes.Equal(got, data) {
				t.Fatalf("read back %d bytes, want %d", len(got), len(data))
			}
			f, _ := s.Open(w.ID)
			if _, ok := f.(vfs.OSFile); ok != (tc.name == "os") {
				t.Errorf("Open gave %T: an OS store must give vfs.OSFile (sendfile needs its *os.File)", f)
			}
			f.Close()

			ab, err := s.Create()
			if err != nil {
				t.Fatal(err)
			}
			ab.Write([]byte("x"))
			ab.Abort()
			if _, err := s.Open(ab.ID); !errors.Is(err, syscall.ENOENT) {
				t.Errorf("aborted blob: open = %v, want ENOENT", err)
			}

			orphan, _ := s.Create()
			orphan.Write([]byte("orphan"))
			orphan.Commit()
			n, err := s.Sweep(context.Background(), time.Now().Add(time.Minute), func(id string) bool { return id == w.ID })
			if err != nil || n != 1 {
				t.Fatalf("Sweep = %d, %v; want 1 removed", n, err)
			}
			if got := readBlob(t, s, w.ID); len(got) != len(data) {
				t.Errorf("Sweep removed a referenced blob")
			}
		})
	}
}

// TestCommitDurability: a committed blob survives a crash whole; a failed
// commit reports the error and leaves no file behind.
func TestCommitDurability(t *testing.T) {
	fsys := faultfs.New()
	s, err := blob.OpenFS(fsys, "/data/blobs")
	if err != nil {
		t.Fatal(err)
	}
	w, _ := s.Create()
	w.Write([]byte("durable"))
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	fsys.Inject(faultfs.Fault{Op: faultfs.OpSync, Err: syscall.ENOSPC})
	bad, _ := s.Create()
	bad.Write([]byte("lost"))
	if err := bad.Commit(); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Commit with a failing fsync = %v, want ENOSPC", err)
	}
	if _, err := s.Open(bad.ID); !errors.Is(err, syscall.ENOENT) {
		t.Errorf("failed commit left its file: %v", err)
	}
	c := fsys.CrashClone()
	cs, err := blob.OpenFS(c, "/data/blobs")
	if err != nil {
		t.Fatal(err)
	}
	if got := readBlob(t, cs, w.ID); string(got) != "durable" {
		t.Errorf("after a crash the committed blob holds %q", got)
	}
	if n := fsys.OpenFiles(); n != 0 {
		t.Errorf("%d files left open", n)
	}
}
