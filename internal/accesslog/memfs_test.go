package accesslog

import (
	"errors"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
)

// memFS is an in-memory FS that models what survives a crash: a file's data
// only as of its last Sync; a directory's entries as of its last SyncDir,
// plus any subset (chosen by the caller of CrashClone) of the creations,
// renames and removals done since, applied in order. It can also crash at
// the n-th mutating operation (that operation and every later one fail
// without effect) and inject errors, e.g. ENOSPC.
type memFS struct {
	mu      sync.Mutex
	files   map[string]*memNode // the namespace now
	durable map[string]*memNode // the namespace as of the last SyncDir of each directory
	pending []dirOp             // namespace changes since, in order
	dirs    map[string]bool

	ops     int // mutating operations so far
	crashAt int // if > 0: the crashAt-th mutating operation and all later fail
	crashed bool
	// inject, if set, is consulted before each mutating operation; an error
	// fails it. A failing WriteAt first writes half its bytes (a short
	// write, as on a full disk).
	inject func(op, path string) error
	// onSync, if set, is called (without the lock) before a file Sync;
	// afterSync after a successful one: what it writes is not synced.
	onSync, afterSync func(path string)
	// dropOnFailedSync models Linux after a failed fsync: the dirty pages
	// it could not write are dropped, so the file reads (and a later Sync
	// persists) what was last synced, not what was written since.
	dropOnFailedSync bool
}

type dirOp struct {
	kind      string // create, rename, remove
	name, new string
	node      *memNode
}

type memNode struct {
	data   []byte
	synced []byte
}

var errCrash = errors.New("memfs: crashed")

func newMemFS() *memFS {
	return &memFS{files: map[string]*memNode{}, durable: map[string]*memNode{}, dirs: map[string]bool{}}
}

// op accounts for one mutating operation and says whether it may proceed.
func (fs *memFS) op(name, path string) error {
	if fs.crashed {
		return errCrash
	}
	fs.ops++
	if fs.crashAt > 0 && fs.ops >= fs.crashAt {
		fs.crashed = true
		return errCrash
	}
	if fs.inject != nil {
		return fs.inject(name, path)
	}
	return nil
}

// CrashClone returns the filesystem a restart after a crash now would see,
// with none of the un-synced namespace changes.
func (fs *memFS) CrashClone() *memFS {
	return fs.CrashCloneKeeping(func(int) bool { return false }, false)
}

// CrashCloneKeeping is CrashClone where the i-th un-synced namespace change
// survives when keep(i) says so, and, with zeroFill, a file that grew since
// its last Sync keeps its new size but reads zeros past the synced part (a
// size update that reached the disk before the data).
func (fs *memFS) CrashCloneKeeping(keep func(i int) bool, zeroFill bool) *memFS {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	c := newMemFS()
	for d := range fs.dirs {
		c.dirs[d] = true
	}
	names := maps.Clone(fs.durable)
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
		if zeroFill && len(n.data) > len(data) {
			data = append(data, make([]byte, len(n.data)-len(data))...)
		}
		nn := &memNode{data: data, synced: slices.Clone(data)}
		c.files[p], c.durable[p] = nn, nn
	}
	return c
}

// KillClone returns the filesystem a restart after the process was killed
// would see: everything written, synced or not (the kernel still has it).
func (fs *memFS) KillClone() *memFS {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	c := newMemFS()
	for d := range fs.dirs {
		c.dirs[d] = true
	}
	for p, n := range fs.files {
		nn := &memNode{data: slices.Clone(n.data), synced: slices.Clone(n.data)}
		c.files[p], c.durable[p] = nn, nn
	}
	return c
}

// pendingOps is the number of un-synced namespace changes.
func (fs *memFS) pendingOps() int {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return len(fs.pending)
}

func (fs *memFS) Create(name string) (File, error) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if err := fs.op("create", name); err != nil {
		return nil, err
	}
	if !fs.dirs[filepath.Dir(name)] {
		return nil, os.ErrNotExist
	}
	n := fs.files[name]
	if n == nil {
		n = &memNode{}
		fs.files[name] = n
		fs.pending = append(fs.pending, dirOp{kind: "create", name: name, node: n})
	}
	n.data = nil // O_TRUNC: the same inode, its synced content unchanged until Sync
	return &memFile{fs: fs, node: n, path: name}, nil
}

func (fs *memFS) Open(name string) (File, error) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	n := fs.files[name]
	if n == nil {
		return nil, &os.PathError{Op: "open", Path: name, Err: os.ErrNotExist}
	}
	return &memFile{fs: fs, node: n, path: name}, nil
}

func (fs *memFS) Rename(oldname, newname string) error {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if err := fs.op("rename", newname); err != nil {
		return err
	}
	n := fs.files[oldname]
	if n == nil {
		return os.ErrNotExist
	}
	fs.files[newname] = n
	delete(fs.files, oldname)
	fs.pending = append(fs.pending, dirOp{kind: "rename", name: oldname, new: newname})
	return nil
}

func (fs *memFS) Remove(name string) error {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if err := fs.op("remove", name); err != nil {
		return err
	}
	if fs.files[name] == nil {
		return os.ErrNotExist
	}
	delete(fs.files, name)
	fs.pending = append(fs.pending, dirOp{kind: "remove", name: name})
	return nil
}

func (fs *memFS) List(dir string) ([]string, error) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if !fs.dirs[filepath.Clean(dir)] {
		return nil, os.ErrNotExist
	}
	var names []string
	for p := range fs.files {
		if filepath.Dir(p) == filepath.Clean(dir) {
			names = append(names, filepath.Base(p))
		}
	}
	for d := range fs.dirs { // subdirectories too, as os.ReadDir
		if d != filepath.Clean(dir) && filepath.Dir(d) == filepath.Clean(dir) {
			names = append(names, filepath.Base(d))
		}
	}
	slices.Sort(names)
	return names, nil
}

// MkdirAll creates directories durably at once (the tests' directories
// exist before any crash that matters).
func (fs *memFS) MkdirAll(dir string) error {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.dirs[filepath.Clean(dir)] = true
	return nil
}

func (fs *memFS) SyncDir(dir string) error {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if err := fs.op("syncdir", dir); err != nil {
		return err
	}
	dir = filepath.Clean(dir)
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
		return filepath.Dir(op.name) == dir || filepath.Dir(op.new) == dir
	})
	return nil
}

// names lists the files now present, for assertions.
func (fs *memFS) names() []string {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	var out []string
	for p := range fs.files {
		out = append(out, filepath.Base(p))
	}
	slices.Sort(out)
	return out
}

// segments lists the journal segment files now present.
func (fs *memFS) segments() []string {
	var out []string
	for _, n := range fs.names() {
		if strings.HasSuffix(n, segSuffix) {
			out = append(out, n)
		}
	}
	return out
}

type memFile struct {
	fs   *memFS
	node *memNode
	path string
}

func (f *memFile) ReadAt(p []byte, off int64) (int, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if off >= int64(len(f.node.data)) {
		return 0, io.EOF
	}
	n := copy(p, f.node.data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (f *memFile) WriteAt(p []byte, off int64) (int, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	err := f.fs.op("write", f.path)
	if errors.Is(err, errCrash) {
		return 0, err
	}
	q := p
	if err != nil {
		q = p[:len(p)/2]
	}
	if end := off + int64(len(q)); end > int64(len(f.node.data)) {
		f.node.data = append(f.node.data, make([]byte, end-int64(len(f.node.data)))...)
	}
	copy(f.node.data[off:], q)
	if err != nil {
		return len(q), err
	}
	return len(p), nil
}

func (f *memFile) Size() (int64, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	return int64(len(f.node.data)), nil
}

func (f *memFile) Truncate(size int64) error {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.fs.op("truncate", f.path); err != nil {
		return err
	}
	if size <= int64(len(f.node.data)) {
		f.node.data = f.node.data[:size:size]
	} else {
		f.node.data = append(f.node.data, make([]byte, size-int64(len(f.node.data)))...)
	}
	return nil
}

func (f *memFile) Sync() error {
	if f.fs.onSync != nil {
		f.fs.onSync(f.path)
	}
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.fs.op("sync", f.path); err != nil {
		if f.fs.dropOnFailedSync && !errors.Is(err, errCrash) {
			f.node.data = slices.Clone(f.node.synced)
		}
		return err
	}
	f.node.synced = slices.Clone(f.node.data)
	if f.fs.afterSync != nil {
		f.fs.mu.Unlock()
		defer f.fs.mu.Lock() // for the deferred Unlock
		f.fs.afterSync(f.path)
	}
	return nil
}

func (f *memFile) Close() error { return nil }
