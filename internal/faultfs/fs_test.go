package faultfs

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/ossd/ossd/internal/meta"
	"github.com/ossd/ossd/internal/meta/boltmeta"
	"github.com/ossd/ossd/internal/vfs"
)

func read(t *testing.T, fsys *FS, name string) ([]byte, error) {
	t.Helper()
	f, err := fsys.OpenRead(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	size, _ := f.Size()
	b := make([]byte, size)
	if _, err := f.ReadAt(b, 0); err != nil && err != io.EOF {
		return nil, err
	}
	return b, nil
}

func write(t *testing.T, fsys *FS, name, data string, sync bool) {
	t.Helper()
	f, err := fsys.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte(data), 0); err != nil {
		t.Fatal(err)
	}
	if sync {
		if err := f.Sync(); err != nil {
			t.Fatal(err)
		}
	}
	f.Close()
}

// TestCrashClone: a clone keeps synced data under synced names only, as a
// power cut does; the stores' durability arguments rest on this model.
func TestCrashClone(t *testing.T) {
	fsys := New()
	fsys.MkdirAll("/d")
	write(t, fsys, "/d/durable", "abc", true)
	fsys.SyncDir("/d")
	write(t, fsys, "/d/nodirsync", "xyz", true) // data synced, name not
	f, _ := fsys.Open("/d/durable")
	f.WriteAt([]byte("ZZZZ"), 1) // not synced
	f.Close()
	fsys.Remove("/d/durable") // not dir-synced: comes back
	c := fsys.CrashClone()
	tests := []struct {
		name string
		want string // "" means absent
	}{
		{"/d/durable", "abc"},
		{"/d/nodirsync", ""},
	}
	for _, tc := range tests {
		got, err := read(t, c, tc.name)
		if tc.want == "" {
			if !errors.Is(err, syscall.ENOENT) {
				t.Errorf("%s: got %q, %v; want absent", tc.name, got, err)
			}
			continue
		}
		if err != nil || string(got) != tc.want {
			t.Errorf("%s: got %q, %v; want %q", tc.name, got, err, tc.want)
		}
	}
	// Keeping every pending change applies them in order: the removal
	// wins, the unsynced name appears with its synced data.
	all := fsys.CrashCloneKeeping(func(int) bool { return true })
	if _, err := read(t, all, "/d/durable"); !errors.Is(err, syscall.ENOENT) {
		t.Errorf("kept removal: /d/durable still there (%v)", err)
	}
	if got, err := read(t, all, "/d/nodirsync"); err != nil || string(got) != "xyz" {
		t.Errorf("kept creation: got %q, %v", got, err)
	}
}

// TestFaults: each fault fails the operations it names, with the errno
// asked for, and only those; a full disk makes writes short with ENOSPC.
func TestFaults(t *testing.T) {
	tests := []struct {
		name  string
		fault Fault
		free  int64
		op    func(fsys *FS) error
		errno syscall.Errno
	}{
		{"write each", Fault{Op: OpWrite}, -1, func(fsys *FS) error {
			f, _ := fsys.Create("/d/a")
			_, err := f.WriteAt([]byte("hello"), 0)
			return err
		}, syscall.EIO},
		{"second write", Fault{Op: OpWrite, Nth: 2, Err: syscall.ENOSPC}, -1, func(fsys *FS) error {
			f, _ := fsys.Create("/d/a")
			if _, err := f.WriteAt([]byte("hello"), 0); err != nil {
				return errors.New("first write failed")
			}
			_, err := f.WriteAt([]byte("hello"), 5)
			return err
		}, syscall.ENOSPC},
		{"sync on a path", Fault{Op: OpSync, Path: "/d/a"}, -1, func(fsys *FS) error {
			f, _ := fsys.Create("/d/a")
			return f.Sync()
		}, syscall.EIO},
		{"rename", Fault{Op: OpRename}, -1, func(fsys *FS) error {
			write(t, fsys, "/d/a", "x", false)
			return fsys.Rename("/d/a", "/d/b")
		}, syscall.EIO},
		{"create", Fault{Op: OpCreate}, -1, func(fsys *FS) error {
			_, err := fsys.CreateNew("/d/a")
			return err
		}, syscall.EIO},
		{"remove", Fault{Op: OpRemove}, -1, func(fsys *FS) error {
			write(t, fsys, "/d/a", "x", false)
			return fsys.Remove("/d/a")
		}, syscall.EIO},
		{"syncdir", Fault{Op: OpSyncDir}, -1, func(fsys *FS) error { return fsys.SyncDir("/d") }, syscall.EIO},
		{"disk full", Fault{}, 3, func(fsys *FS) error {
			f, _ := fsys.Create("/d/a")
			n, err := f.WriteAt([]byte("hello"), 0)
			if err != nil && n != 3 {
				return errors.New("short write did not write what fits")
			}
			return err
		}, syscall.ENOSPC},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fsys := New()
			fsys.MkdirAll("/d")
			if tc.fault.Op != "" {
				fsys.Inject(tc.fault)
			}
			fsys.SetFree(tc.free)
			err := tc.op(fsys)
			if !errors.Is(err, tc.errno) {
				t.Fatalf("got %v, want %v", err, tc.errno)
			}
			if fsys.Hits() != 1 {
				t.Errorf("Hits = %d, want 1", fsys.Hits())
			}
			fsys.Clear()
			if err := tc.op(fsys); err != nil {
				t.Errorf("after Clear: %v", err)
			}
		})
	}
	// Removing files frees space.
	fsys := New()
	fsys.MkdirAll("/d")
	write(t, fsys, "/d/a", "12345", false)
	fsys.SetFree(0)
	f, _ := fsys.Create("/d/b")
	if _, err := f.WriteAt([]byte("x"), 0); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("full disk: %v", err)
	}
	fsys.Remove("/d/a")
	if _, err := f.WriteAt([]byte("x"), 0); err != nil {
		t.Fatalf("after freeing space: %v", err)
	}
}

// TestMetaFaults: a RolledBack failure leaves nothing; an Applied one
// leaves the commit in place though Update failed, as bbolt can.
func TestMetaFaults(t *testing.T) {
	for _, mode := range []CommitMode{RolledBack, Applied} {
		bm, err := boltmeta.Open(filepath.Join(t.TempDir(), "meta.db"))
		if err != nil {
			t.Fatal(err)
		}
		m := NewMeta(bm)
		ctx := context.Background()
		m.Inject(MetaFault{Nth: 1, Mode: mode, Err: syscall.ENOSPC})
		put := func(tx meta.Tx) error { return tx.Put(meta.SpaceSystem, []byte("k"), []byte("v")) }
		if err := m.Update(ctx, put); !errors.Is(err, syscall.ENOSPC) {
			t.Fatalf("mode %d: Update = %v, want ENOSPC", mode, err)
		}
		var got []byte
		m.View(ctx, func(tx meta.Tx) error {
			v, err := tx.Get(meta.SpaceSystem, []byte("k"))
			got = bytes.Clone(v)
			return err
		})
		if want := mode == Applied; (got != nil) != want {
			t.Errorf("mode %d: committed = %v, want %v", mode, got != nil, want)
		}
		if err := m.Update(ctx, put); err != nil {
			t.Errorf("mode %d: second Update (Nth was 1): %v", mode, err)
		}
		m.Close()
	}
}

var _ vfs.File = (*file)(nil)

// TestSyncKeepsExactly: after random writes, truncations and syncs, a
// crash clone holds exactly the bytes as of the last Sync. Sync copies
// only what changed, so this pins that bookkeeping against a full copy.
func TestSyncKeepsExactly(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	fsys := New()
	fsys.MkdirAll("/d")
	f, _ := fsys.Create("/d/f")
	fsys.SyncDir("/d")
	var want []byte // the file's content as of its last Sync
	var cur []byte
	for i := 0; i < 2000; i++ {
		switch r.IntN(6) {
		case 0, 1, 2:
			off := r.Int64N(int64(len(cur)) + 100)
			p := make([]byte, r.IntN(300))
			for j := range p {
				p[j] = byte(r.Uint32())
			}
			f.WriteAt(p, off)
			if end := off + int64(len(p)); end > int64(len(cur)) {
				cur = append(cur, make([]byte, end-int64(len(cur)))...)
			}
			copy(cur[off:], p)
		case 3:
			size := r.Int64N(int64(len(cur)) + 50)
			f.Truncate(size)
			if size < int64(len(cur)) {
				cur = cur[:size:size]
			} else {
				cur = append(cur, make([]byte, size-int64(len(cur)))...)
			}
		case 4:
			f.Sync()
			want = bytes.Clone(cur)
		case 5:
			got, err := read(t, fsys.CrashClone(), "/d/f")
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("step %d: clone holds %d bytes, want the %d synced (%v)", i, len(got), len(want), err)
			}
		}
	}
}
