// Package service holds the rules of every OSS operation: what is checked,
// in what order, and how blob writes and metadata commits are sequenced so
// that an acknowledged write is durable and a half-done one is invisible.
// It speaks domain types; the HTTP layer turns requests into calls here
// and results into responses.
package service

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/ossd/ossd/internal/blob"
	"github.com/ossd/ossd/internal/meta"
	"github.com/ossd/ossd/internal/metrics"
	"github.com/ossd/ossd/internal/oss"
)

// Account is a principal that owns buckets.
type Account struct {
	ID          string
	DisplayName string
}

// Principal is who a request acts as. A zero Principal is anonymous.
type Principal struct {
	Account
	AccessKeyID string
	// Internal marks ossd's own writes (log delivery); they bypass ACLs.
	Internal bool
}

// Anonymous reports whether p carries no identity.
func (p Principal) Anonymous() bool { return p.ID == "" && !p.Internal }

// Config configures a Service.
type Config struct {
	Region string
	// InlineMax is the largest object kept inside the metadata store
	// rather than in a blob file: it saves a file create and two fsyncs
	// per small write.
	InlineMax int64
	Now       func() time.Time
	Logger    *slog.Logger
	// BucketDeleted is called after a bucket is deleted (logging rules
	// and caches drop it).
	BucketDeleted func(name string)
	// UnblockNewBuckets creates buckets with Block Public Access off, as
	// OSS did before 13 Oct 2025, for code written before then (ossd's
	// --block-public-access=false). The default is OSS's current one: on.
	UnblockNewBuckets bool
	// Metrics receives what the service counts: lifecycle actions
	// (Metrics.LifecycleAction). Nil counts nothing.
	Metrics *metrics.Metrics
	// NodeID is this node's id (--node-id): it names the holder of the
	// lifecycle run lease on a shared store, and lets a restarted node
	// take its own lease back at once. Empty: the lease names only this
	// Service's random instance id.
	NodeID string
	// LifecycleLease is how long a lifecycle run's lease lasts unless
	// renewed; zero means DefaultLifecycleLease. Expiries are read on Now,
	// so the nodes' clocks must agree within a small part of it.
	LifecycleLease time.Duration
}

// Service implements the operations over a metadata store and a blob store.
type Service struct {
	cfg   Config
	meta  meta.Store
	blobs *blob.Store
	log   *slog.Logger

	// shared: other nodes commit to meta (meta.IsShared), so nothing read
	// from it may be cached across requests, and blob writes register
	// intents for the sweep.
	shared      bool
	appendLocks keyLocks
	buckets     bucketCache
	accountBPA  accountBlocks
	policies    policyCache
	// lifecycleMu keeps lifecycle runs (scheduled, resumed, on demand)
	// from overlapping: they share one saved progress record. Across
	// nodes the run lease does (lifecycle_lease.go).
	lifecycleMu sync.Mutex
	// instance tells this Service's lifecycle lease from another
	// process's with the same node id.
	instance string
}

// New returns a Service. It does not own meta or blobs.
func New(cfg Config, m meta.Store, b *blob.Store) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.InlineMax == 0 {
		cfg.InlineMax = 64 << 10
	}
	return &Service{cfg: cfg, meta: m, blobs: b, log: cfg.Logger, shared: meta.IsShared(m), instance: rand.Text()}
}

// Metrics is where the service's counters go (nil: nowhere; every method
// of a nil *metrics.Metrics does nothing). Lifecycle code counts each
// action with s.Metrics().LifecycleAction(metrics.LifecycleExpire).
func (s *Service) Metrics() *metrics.Metrics { return s.cfg.Metrics }

// BucketUsage returns the number and bytes of the object versions of every
// bucket (delete markers not counted; zero for an empty bucket), from the
// records the metadata store keeps up to date on each write: it reads one
// record per bucket, never the versions.
func (s *Service) BucketUsage(ctx context.Context) (map[string]meta.Usage, error) {
	out := map[string]meta.Usage{}
	err := s.meta.View(ctx, func(tx meta.Tx) error {
		clear(out)
		return meta.ScanUsage(tx, func(b string, u meta.Usage) bool { out[b] = u; return true })
	})
	return out, internalErr("bucket usage", err)
}

// Ready reports whether the service can take writes now: a metadata
// transaction commits, and a blob file can be created and written (it is
// removed at once). It is the storage half of /-/ossd/ready.
func (s *Service) Ready(ctx context.Context) error {
	stamp := binary.BigEndian.AppendUint64(nil, uint64(s.cfg.Now().UnixNano()))
	if err := s.meta.Update(ctx, func(tx meta.Tx) error { return meta.PutSystem(tx, "ready-probe", stamp) }); err != nil {
		return fmt.Errorf("metadata store: %w", err)
	}
	w, err := s.blobs.Create()
	if err != nil {
		return fmt.Errorf("blob store: %w", err)
	}
	defer w.Abort()
	if _, err := w.Write([]byte{0}); err != nil {
		return fmt.Errorf("blob store: write: %w", err)
	}
	return nil
}

// Region is the region buckets are created in.
func (s *Service) Region() string { return s.cfg.Region }

func (s *Service) now() time.Time { return s.cfg.Now().UTC() }

// sweepSlack moves the sweep's cutoff back: file times come from a clock
// that lags time.Now by up to a kernel tick, or are cut to whole seconds
// (ext3, 2 s on FAT), so a blob written just after before can look older.
// Sweeping it would delete an upload in flight, or one committed after the
// sweep's metadata snapshot; a leftover spared by the slack goes at the
// next start.
const sweepSlack = 2 * time.Second

// Sweep removes blob files that no metadata references; run it at start,
// with before no later than the moment the server starts taking writes.
//
// On one node (the store is not meta.Shared) only this process writes
// blobs, and every file it writes after start is newer than before, so a
// file older than before that no record references is a leftover of a
// write a crash interrupted. On a shared store other nodes write to the
// same directory at any time and before proves nothing: see sweepShared,
// which ignores it.
func (s *Service) Sweep(ctx context.Context, before time.Time) (int, error) {
	if s.shared {
		return s.sweepShared(ctx)
	}
	before = before.Add(-sweepSlack)
	refs := map[string]bool{}
	err := s.meta.View(ctx, func(tx meta.Tx) error {
		return meta.ScanBlobRefs(tx, func(id string) { refs[id] = true })
	})
	if err != nil {
		return 0, fmt.Errorf("sweep: scan metadata: %w", err)
	}
	return s.blobs.Sweep(ctx, before, func(id string) bool { return refs[id] })
}

// keyLocks queues one node's appends to one key. Only an optimisation: the
// append rule is decided by the commit's transaction (see AppendObject),
// which holds across nodes; the lock keeps this node from writing a body
// that a concurrent append here is bound to make lose.
type keyLocks struct {
	mu sync.Mutex
	m  map[string]*keyLock
}

type keyLock struct {
	sync.Mutex
	refs int
}

func (k *keyLocks) lock(key string) func() {
	k.mu.Lock()
	if k.m == nil {
		k.m = map[string]*keyLock{}
	}
	l := k.m[key]
	if l == nil {
		l = &keyLock{}
		k.m[key] = l
	}
	l.refs++
	k.mu.Unlock()
	l.Lock()
	return func() {
		l.Unlock()
		k.mu.Lock()
		if l.refs--; l.refs == 0 {
			delete(k.m, key)
		}
		k.mu.Unlock()
	}
}

// internalErr wraps an unexpected failure; the HTTP layer answers
// InternalError and logs the cause with the request id.
func internalErr(op string, err error) error {
	if err == nil {
		return nil
	}
	var oe *oss.Error
	if errors.As(err, &oe) {
		return err
	}
	return fmt.Errorf("%s: %w", op, err)
}
