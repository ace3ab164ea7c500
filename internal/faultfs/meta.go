package faultfs

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"syscall"

	"github.com/ossd/ossd/internal/meta"
)

// Group is the storage of one server (its FSes and its metadata store), so
// that a crash can be taken at one instant of all of it. Every mutating
// operation of its members holds the group's read lock; Crash holds the
// write lock. A crash snapshot taken piecemeal would not be a state a power
// cut can leave: a metadata commit made between the copy of the blob files
// and the copy of the metadata would reference a blob the copy lacks.
type Group struct{ mu sync.RWMutex }

// NewFS returns an empty FS that takes part in g's crashes.
func (g *Group) NewFS() *FS {
	fs := New()
	fs.g = g
	return fs
}

// WrapMeta wraps m; its commits take part in g's crashes.
func (g *Group) WrapMeta(m meta.Store) *Meta { return &Meta{inner: m, g: g} }

// Crash runs fn while no FS operation or metadata commit of the group is in
// progress, and holds new ones off until fn returns: what fn copies (each
// FS's CrashClone, the metadata file) is what a power cut at that instant
// would leave. fn must not use the group's members except through
// CrashClone and Paths (their operations would wait for fn: a deadlock).
// Crash must not be called from inside a metadata transaction.
func (g *Group) Crash(fn func()) {
	g.mu.Lock()
	defer g.mu.Unlock()
	fn()
}

// CommitMode says what a failed commit did.
type CommitMode int

const (
	// RolledBack: the commit failed and nothing of it is applied (the
	// engine could not write its pages).
	RolledBack CommitMode = iota
	// Applied: the commit is applied and durable, yet Update returns an
	// error. bbolt does this when the write of its meta page succeeds and
	// the fdatasync after it fails: the transaction is rolled back in
	// memory, but the page is in the file and the next transaction sees
	// the commit. The caller cannot tell which of the two happened.
	Applied
)

// MetaFault makes metadata commits fail.
type MetaFault struct {
	// Nth, if positive, fails only the Nth Update counted from Inject; 0
	// fails each one until Clear.
	Nth  int
	Mode CommitMode
	// Err is the error Update returns (wrapped); nil means EIO.
	Err error
}

type metaRule struct {
	MetaFault
	seen int
}

// Meta is a meta.Store whose commits fail on demand. Views pass through.
type Meta struct {
	inner meta.Store
	g     *Group

	mu    sync.Mutex
	rules []*metaRule
	hits  int
	hook  func()
}

// NewMeta wraps m outside any group.
func NewMeta(m meta.Store) *Meta { return &Meta{inner: m} }

// Inject adds a fault.
func (m *Meta) Inject(f MetaFault) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.rules = append(m.rules, &metaRule{MetaFault: f})
}

// Clear removes every fault.
func (m *Meta) Clear() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.rules = nil
}

// Hits is the number of commits failed so far.
func (m *Meta) Hits() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.hits
}

// SetHook sets a function called before each Update, outside every lock,
// so that it may call Group.Crash.
func (m *Meta) SetHook(h func()) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.hook = h
}

// View implements meta.Store.
func (m *Meta) View(ctx context.Context, fn func(meta.Tx) error) error {
	return m.inner.View(ctx, fn)
}

// errInjected marks an injected commit failure in the error chain.
var errInjected = errors.New("faultfs: injected commit failure")

// Update implements meta.Store. Whether this call fails is decided once,
// before the engine runs fn (which it may run more than once).
func (m *Meta) Update(ctx context.Context, fn func(meta.Tx) error) error {
	m.mu.Lock()
	hook := m.hook
	var hit *metaRule
	for _, r := range m.rules {
		r.seen++
		if hit == nil && (r.Nth == 0 || r.seen == r.Nth) {
			hit = r
		}
	}
	m.mu.Unlock()
	if hook != nil {
		hook()
	}
	if m.g != nil {
		m.g.mu.RLock()
		defer m.g.mu.RUnlock()
	}
	if hit == nil {
		return m.inner.Update(ctx, fn)
	}
	errno := hit.Err
	if errno == nil {
		errno = syscall.EIO
	}
	injected := fmt.Errorf("commit: %w (%w)", errno, errInjected)
	fnErr := false // fn refused: the commit would not have happened anyway
	var err error
	switch hit.Mode {
	case Applied:
		if err = m.inner.Update(ctx, fn); err != nil {
			fnErr = true
		} else {
			err = injected
		}
	default:
		err = m.inner.Update(ctx, func(tx meta.Tx) error {
			if err := fn(tx); err != nil {
				return err
			}
			return injected
		})
		fnErr = !errors.Is(err, errInjected)
	}
	if !fnErr {
		m.mu.Lock()
		m.hits++
		m.mu.Unlock()
	}
	return err
}

// Shared forwards meta.Shared: a wrapped shared store stays shared.
func (m *Meta) Shared() bool { return meta.IsShared(m.inner) }

// Close implements meta.Store.
func (m *Meta) Close() error { return m.inner.Close() }
