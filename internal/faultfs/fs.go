// Package faultfs is storage for tests that fails on demand: an in-memory
// filesystem (vfs.FS and blob.FS) whose writes, syncs, renames, creates and
// removes fail when told to, whose disk fills up, and which can be cloned as
// a power cut would leave it; and a meta.Store wrapper whose commits fail.
//
// It lives in a normal package, not a _test file, so that the tests of
// several packages (server, blob, accesslog) can share it. Nothing in
// production imports it.
//
// # Crash model
//
// A file's data survives a crash as of its last File.Sync; a directory's
// entries (creations, renames, removals) as of the last SyncDir of that
// directory. CrashClone keeps exactly that; CrashCloneKeeping may also keep
// any subset of the namespace changes made since, as a real filesystem may
// have written some of them on its own. Directories themselves are made
// durable at once by MkdirAll: the stores create theirs before any crash
// that matters.
//
// # Faults
//
// Inject adds a Fault: an operation kind, an optional path substring, and
// which matching operation fails (the Nth from now, or each). A failing
// WriteAt writes half of its bytes first (a short write, as a dying disk
// may do); other failing operations have no effect. SetFree sets how many
// more bytes the files may hold: a write past it writes what fits and
// fails with ENOSPC, as on a full disk. Errors are *fs.PathError wrapping
// a syscall.Errno (EIO by default), as the OS returns them.
package faultfs

import (
	"errors"
	"io"
	iofs "io/fs"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/ossd/ossd/internal/vfs"
)

// Op is a kind of filesystem operation a Fault can fail: the mutating
// ones, and opening for reading.
type Op string

// The operations a Fault can target.
const (
	OpCreate   Op = "create" // Create and CreateNew
	OpWrite    Op = "write"  // File.WriteAt
	OpSync     Op = "sync"   // File.Sync
	OpSyncDir  Op = "syncdir"
	OpRename   Op = "rename"
	OpRemove   Op = "remove"
	OpTruncate Op = "truncate"
	// OpOpenRead fails OpenRead (a reader finding a blob removed under it:
	// Err syscall.ENOENT).
	OpOpenRead Op = "openread"
)

// Fault makes matching operations fail.
type Fault struct {
	Op Op
	// Path, if not empty, must be a substring of the operation's path
	// (for a rename, the new name).
	Path string
	// Nth, if positive, fails only the Nth matching operation counted
	// from Inject; 0 fails each one until Clear.
	Nth int
	// Err is the errno returned, wrapped in *fs.PathError; nil means EIO.
	Err error
}

type rule struct {
	Fault
	seen int
}

// FS is an in-memory filesystem with injectable faults and crash clones.
// It implements vfs.FS and blob.FS and is safe for concurrent use.
type FS struct {
	g *Group // nil, or the group whose Crash this FS takes part in

	mu      sync.Mutex
	files   map[string]*node // the namespace now
	durable map[string]*node // the namespace as of each directory's last SyncDir
	pending []dirOp          // namespace changes since, in order
	dirs    map[string]bool

	rules []*rule
	hits  int   // operations failed by rules or by the space limit
	used  int64 // bytes held by the files of the namespace
	limit int64 // bytes the files may hold; < 0: no limit
	open  int   // open File handles
	hook  func(op Op, path string)
	now   func() time.Time
}

type dirOp struct {
	kind      string // create, rename, remove
	name, new string
	node      *node
}

type node struct {
	data   []byte
	synced []byte // never shares data's array
	mod    time.Time
	// What changed since the last Sync, so that Sync copies only that (the
	// journal syncs a segment of a megabyte after each small write):
	// bytes from minLen on may all differ, and below it the dirty spans.
	minLen int64
	dirty  [][2]int64
}

// wrote records that [off, end) changed.
func (n *node) wrote(off, end int64) {
	if k := len(n.dirty); k > 0 && n.dirty[k-1][1] == off {
		n.dirty[k-1][1] = end // sequential writes make one span
		return
	}
	n.dirty = append(n.dirty, [2]int64{off, end})
}

// resized records that the size became size.
func (n *node) resized(size int64) { n.minLen = min(n.minLen, size) }

// sync makes synced equal data.
func (n *node) sync() {
	keep := min(int64(len(n.synced)), n.minLen, int64(len(n.data)))
	n.synced = append(n.synced[:keep], n.data[keep:]...)
	for _, d := range n.dirty {
		if lo, hi := d[0], min(d[1], keep); lo < hi {
			copy(n.synced[lo:hi], n.data[lo:hi])
		}
	}
	n.dirty, n.minLen = n.dirty[:0], int64(len(n.data))
}

// New returns an empty FS with no faults and unlimited space.
func New() *FS {
	return &FS{files: map[string]*node{}, durable: map[string]*node{}, dirs: map[string]bool{}, limit: -1, now: time.Now}
}

// Inject adds a fault. Faults stay until Clear (a fault with Nth fires once).
func (fs *FS) Inject(f Fault) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.rules = append(fs.rules, &rule{Fault: f})
}

// Clear removes every fault and the space limit.
func (fs *FS) Clear() {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.rules = nil
	fs.limit = -1
}

// SetFree lets the files hold n more bytes than they hold now; beyond, writes
// fail with ENOSPC. Removing files frees space. n < 0 removes the limit.
func (fs *FS) SetFree(n int64) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if n < 0 {
		fs.limit = -1
		return
	}
	fs.limit = fs.used + n
}

// Hits is the number of operations that failed by injection so far
// (faults and the space limit), so a test can tell that a fault was
// reached.
func (fs *FS) Hits() int {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return fs.hits
}

// OpenFiles is the number of File handles not yet closed: a leak check.
func (fs *FS) OpenFiles() int {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return fs.open
}

// SetHook sets a function called before each mutating operation, outside
// every lock, so that it may call Group.Crash: a test crashes "just before
// the n-th write" this way.
func (fs *FS) SetHook(h func(op Op, path string)) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.hook = h
}

// Paths lists the files present now, sorted.
func (fs *FS) Paths() []string {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	var out []string
	for p := range fs.files {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

// begin runs the hook and takes the group's read lock for one mutating
// operation; the returned func releases it.
func (fs *FS) begin(op Op, path string) func() {
	fs.mu.Lock()
	h := fs.hook
	fs.mu.Unlock()
	if h != nil {
		h(op, path)
	}
	if fs.g == nil {
		return func() {}
	}
	fs.g.mu.RLock()
	return fs.g.mu.RUnlock
}

// fault reports the injected error for op on path, if any. fs.mu is held.
func (fs *FS) fault(op Op, path string) error {
	for _, r := range fs.rules {
		if r.Op != op || (r.Path != "" && !strings.Contains(path, r.Path)) {
			continue
		}
		r.seen++
		if r.Nth > 0 && r.seen != r.Nth {
			continue
		}
		fs.hits++
		errno := r.Err
		if errno == nil {
			errno = syscall.EIO
		}
		return &iofs.PathError{Op: string(op), Path: path, Err: errno}
	}
	return nil
}

// grow accounts for a file growing by n bytes and returns how many of them
// fit in the space left. fs.mu is held.
func (fs *FS) grow(n int64) int64 {
	if n <= 0 {
		fs.used += n
		return n
	}
	if fs.limit >= 0 && fs.used+n > fs.limit {
		n = max(fs.limit-fs.used, 0)
	}
	fs.used += n
	return n
}

func (fs *FS) create(name string, excl bool) (vfs.File, error) {
	defer fs.begin(OpCreate, name)()
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if err := fs.fault(OpCreate, name); err != nil {
		return nil, err
	}
	if !fs.dirs[filepath.Dir(name)] {
		return nil, &iofs.PathError{Op: "open", Path: name, Err: syscall.ENOENT}
	}
	n := fs.files[name]
	if n != nil && excl {
		return nil, &iofs.PathError{Op: "open", Path: name, Err: syscall.EEXIST}
	}
	if n == nil {
		n = &node{}
		fs.files[name] = n
		fs.pending = append(fs.pending, dirOp{kind: "create", name: name, node: n})
	}
	fs.used -= int64(len(n.data))
	n.data = nil // O_TRUNC: the same inode; its synced content stays until Sync
	n.resized(0)
	n.mod = fs.now()
	fs.open++
	return &file{fs: fs, node: n, path: name}, nil
}

// Create implements vfs.FS.
func (fs *FS) Create(name string) (vfs.File, error) { return fs.create(name, false) }

// CreateNew implements blob.FS.
func (fs *FS) CreateNew(name string) (vfs.File, error) { return fs.create(name, true) }

// Open implements vfs.FS.
func (fs *FS) Open(name string) (vfs.File, error) { return fs.openFile(name, false) }

// OpenRead implements blob.FS.
func (fs *FS) OpenRead(name string) (vfs.File, error) { return fs.openFile(name, true) }

func (fs *FS) openFile(name string, ro bool) (vfs.File, error) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if ro {
		if err := fs.fault(OpOpenRead, name); err != nil {
			return nil, err
		}
	}
	n := fs.files[name]
	if n == nil {
		return nil, &iofs.PathError{Op: "open", Path: name, Err: syscall.ENOENT}
	}
	fs.open++
	return &file{fs: fs, node: n, path: name, ro: ro}, nil
}

// Stat implements blob.FS.
func (fs *FS) Stat(name string) (iofs.FileInfo, error) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if n := fs.files[name]; n != nil {
		return info{name: filepath.Base(name), size: int64(len(n.data)), mod: n.mod}, nil
	}
	if fs.dirs[filepath.Clean(name)] {
		return info{name: filepath.Base(name), dir: true}, nil
	}
	return nil, &iofs.PathError{Op: "stat", Path: name, Err: syscall.ENOENT}
}

// Rename implements vfs.FS.
func (fs *FS) Rename(oldname, newname string) error {
	defer fs.begin(OpRename, newname)()
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if err := fs.fault(OpRename, newname); err != nil {
		return err
	}
	n := fs.files[oldname]
	if n == nil {
		return &iofs.PathError{Op: "rename", Path: oldname, Err: syscall.ENOENT}
	}
	if old := fs.files[newname]; old != nil && old != n {
		fs.used -= int64(len(old.data))
	}
	fs.files[newname] = n
	delete(fs.files, oldname)
	fs.pending = append(fs.pending, dirOp{kind: "rename", name: oldname, new: newname})
	return nil
}

// Remove implements vfs.FS.
func (fs *FS) Remove(name string) error {
	defer fs.begin(OpRemove, name)()
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if err := fs.fault(OpRemove, name); err != nil {
		return err
	}
	n := fs.files[name]
	if n == nil {
		return &iofs.PathError{Op: "remove", Path: name, Err: syscall.ENOENT}
	}
	fs.used -= int64(len(n.data))
	delete(fs.files, name)
	fs.pending = append(fs.pending, dirOp{kind: "remove", name: name})
	return nil
}

// List implements vfs.FS.
func (fs *FS) List(dir string) ([]string, error) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	dir = filepath.Clean(dir)
	if !fs.dirs[dir] {
		return nil, &iofs.PathError{Op: "open", Path: dir, Err: syscall.ENOENT}
	}
	var names []string
	for p := range fs.files {
		if filepath.Dir(p) == dir {
			names = append(names, filepath.Base(p))
		}
	}
	for d := range fs.dirs {
		if d != dir && filepath.Dir(d) == dir {
			names = append(names, filepath.Base(d))
		}
	}
	slices.Sort(names)
	return names, nil
}

// MkdirAll implements vfs.FS. Directories are durable at once.
func (fs *FS) MkdirAll(dir string) error {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for d := filepath.Clean(dir); !fs.dirs[d]; d = filepath.Dir(d) {
		fs.dirs[d] = true
		if d == filepath.Dir(d) {
			break
		}
	}
	return nil
}

// SyncDir implements vfs.FS.
func (fs *FS) SyncDir(dir string) error {
	defer fs.begin(OpSyncDir, dir)()
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if err := fs.fault(OpSyncDir, dir); err != nil {
		return err
	}
	dir = filepath.Clean(dir)
	if !fs.dirs[dir] {
		return &iofs.PathError{Op: "open", Path: dir, Err: syscall.ENOENT}
	}
	for p := range fs.durable {
		if filepath.Dir(p) == dir {
			delete(fs.durable, p)
		}
	}
	for p, n := range fs.files {
		if filepath.Dir(p) == dir {
			fs.durable[p] = n
		}
	}
	fs.pending = slices.DeleteFunc(fs.pending, func(op dirOp) bool {
		return filepath.Dir(op.name) == dir || (op.new != "" && filepath.Dir(op.new) == dir)
	})
	return nil
}

// CrashClone returns the filesystem a restart after a power cut now would
// see: synced data under synced names, and none of the namespace changes
// made since their directory's last SyncDir. The clone has no faults.
func (fs *FS) CrashClone() *FS {
	return fs.CrashCloneKeeping(func(int) bool { return false })
}

// CrashCloneKeeping is CrashClone where the i-th namespace change made
// since the last SyncDir of its directory survives when keep(i) says so
// (a filesystem may write any of them before it is asked to); they apply
// in order. A kept creation of a file never synced leaves it empty.
func (fs *FS) CrashCloneKeeping(keep func(i int) bool) *FS {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	c := New()
	c.now = fs.now
	for d := range fs.dirs {
		c.dirs[d] = true
	}
	names := make(map[string]*node, len(fs.durable))
	for p, n := range fs.durable {
		names[p] = n
	}
	for i, op := range fs.pending {
		if !keep(i) {
			continue
		}
		switch op.kind {
		case "create":
			names[op.name] = op.node
		case "rename":
			if n := names[op.name]; n != nil {
				names[op.new] = n
				delete(names, op.name)
			}
		case "remove":
			delete(names, op.name)
		}
	}
	for p, n := range names {
		data := slices.Clone(n.synced)
		nn := &node{data: data, synced: slices.Clone(data), mod: n.mod, minLen: int64(len(data))}
		c.files[p], c.durable[p] = nn, nn
		c.used += int64(len(data))
	}
	return c
}

// Relocate moves every file and directory under from to the same place
// under to, so that a crash clone can be served from another data
// directory (the original may still be running on its own). It is meant
// for clones, which have no pending namespace changes; those of another FS
// are forgotten (a later clone sees the namespace as of the last SyncDirs).
func (fs *FS) Relocate(from, to string) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	from, to = filepath.Clean(from), filepath.Clean(to)
	move := func(p string) string {
		if p == from {
			return to
		}
		if rest, ok := strings.CutPrefix(p, from+string(filepath.Separator)); ok {
			return filepath.Join(to, rest)
		}
		return p
	}
	files, durable, dirs := map[string]*node{}, map[string]*node{}, map[string]bool{}
	for p, n := range fs.files {
		files[move(p)] = n
	}
	for p, n := range fs.durable {
		durable[move(p)] = n
	}
	for d := range fs.dirs {
		dirs[move(d)] = true
	}
	for d := filepath.Dir(to); !dirs[d]; d = filepath.Dir(d) {
		dirs[d] = true
		if d == filepath.Dir(d) {
			break
		}
	}
	fs.files, fs.durable, fs.dirs, fs.pending = files, durable, dirs, nil
}

// PendingOps is the number of namespace changes not yet made durable.
func (fs *FS) PendingOps() int {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return len(fs.pending)
}

type file struct {
	fs     *FS
	node   *node
	path   string
	ro     bool
	closed bool
}

var errClosed = errors.New("faultfs: file already closed")

func (f *file) ReadAt(p []byte, off int64) (int, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if f.closed {
		return 0, &iofs.PathError{Op: "read", Path: f.path, Err: errClosed}
	}
	if off >= int64(len(f.node.data)) {
		return 0, io.EOF
	}
	n := copy(p, f.node.data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (f *file) WriteAt(p []byte, off int64) (int, error) {
	defer f.fs.begin(OpWrite, f.path)()
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if f.closed || f.ro {
		return 0, &iofs.PathError{Op: "write", Path: f.path, Err: syscall.EBADF}
	}
	q := p
	err := f.fs.fault(OpWrite, f.path)
	if err != nil {
		q = p[:len(p)/2]
	}
	if end := off + int64(len(q)); end > int64(len(f.node.data)) {
		fit := f.fs.grow(end - int64(len(f.node.data)))
		if want := end - int64(len(f.node.data)); fit < want {
			q = q[:max(int64(len(q))-(want-fit), 0)]
			if err == nil {
				f.fs.hits++
				err = &iofs.PathError{Op: "write", Path: f.path, Err: syscall.ENOSPC}
			}
		}
		if end := off + int64(len(q)); end > int64(len(f.node.data)) {
			f.node.data = append(f.node.data, make([]byte, end-int64(len(f.node.data)))...)
		}
	}
	copy(f.node.data[off:], q)
	f.node.wrote(off, off+int64(len(q)))
	f.node.mod = f.fs.now()
	if err != nil {
		return len(q), err
	}
	return len(p), nil
}

func (f *file) Size() (int64, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	return int64(len(f.node.data)), nil
}

func (f *file) Truncate(size int64) error {
	defer f.fs.begin(OpTruncate, f.path)()
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if f.closed || f.ro {
		return &iofs.PathError{Op: "truncate", Path: f.path, Err: syscall.EBADF}
	}
	if err := f.fs.fault(OpTruncate, f.path); err != nil {
		return err
	}
	cur := int64(len(f.node.data))
	if size <= cur {
		f.fs.grow(size - cur)
		f.node.data = f.node.data[:size:size]
		f.node.resized(size)
	} else {
		if fit := f.fs.grow(size - cur); fit < size-cur {
			f.fs.used -= fit // nothing is allocated after all
			f.fs.hits++
			return &iofs.PathError{Op: "truncate", Path: f.path, Err: syscall.ENOSPC}
		}
		f.node.data = append(f.node.data, make([]byte, size-cur)...)
	}
	f.node.mod = f.fs.now()
	return nil
}

func (f *file) Sync() error {
	defer f.fs.begin(OpSync, f.path)()
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if f.closed {
		return &iofs.PathError{Op: "sync", Path: f.path, Err: syscall.EBADF}
	}
	if err := f.fs.fault(OpSync, f.path); err != nil {
		return err
	}
	f.node.sync()
	return nil
}

func (f *file) Close() error {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if f.closed {
		return &iofs.PathError{Op: "close", Path: f.path, Err: errClosed}
	}
	f.closed = true
	f.fs.open--
	return nil
}

type info struct {
	name string
	size int64
	mod  time.Time
	dir  bool
}

func (i info) Name() string { return i.name }
func (i info) Size() int64  { return i.size }
func (i info) Mode() iofs.FileMode {
	if i.dir {
		return iofs.ModeDir | 0o755
	}
	return 0o644
}
func (i info) ModTime() time.Time { return i.mod }
func (i info) IsDir() bool        { return i.dir }
func (i info) Sys() any           { return nil }
