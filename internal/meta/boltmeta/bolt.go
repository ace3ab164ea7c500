// Package boltmeta is the embedded meta.Store: one bbolt file.
//
// bbolt was chosen over Pebble because its transactions are serializable
// (read-modify-write rules such as append positions and version chains need
// no extra locking) and a commit is durable when it returns. Concurrent
// writers share one commit (group fsync): see Update.
package boltmeta

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/ossd/ossd/internal/meta"
)

// Store is a meta.Store on a bbolt file.
type Store struct {
	db *bolt.DB

	mu      sync.Mutex
	pending []*call // Updates waiting for the next commit
	closed  bool
	wake    chan struct{}
	exited  chan struct{}
	commits atomic.Int64 // transactions committed by Update (for benchmarks)
}

// call is one Update waiting for its commit.
type call struct {
	fn  func(*bolt.Tx) error
	err chan error
}

// Open opens or creates the database at path.
func Open(path string) (*Store, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout:        5 * time.Second, // another ossd holds the lock
		FreelistType:   bolt.FreelistMapType,
		NoFreelistSync: true,
	})
	if err != nil {
		return nil, fmt.Errorf("open metadata %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, s := range meta.Spaces {
			if _, err := tx.CreateBucketIfNotExists([]byte(s)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("init metadata %s: %w", path, err)
	}
	s := &Store{db: db, wake: make(chan struct{}, 1), exited: make(chan struct{})}
	go s.commitLoop()
	return s, nil
}

// View implements meta.Store.
func (s *Store) View(ctx context.Context, fn func(meta.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.View(func(tx *bolt.Tx) error { return fn(boltTx{tx}) })
}

// Update implements meta.Store. Calls are queued and committed by one
// goroutine: each commit takes every call queued while the previous commit
// was being written and synced, so under load a commit (two fdatasyncs in
// bbolt) serves as many writers as arrived during one commit, and an idle
// store commits at once. bbolt's own Batch was used before: it closes a
// batch on a timer rather than when the writer lock frees, so batches queued
// up behind the running commit with a few calls each (1.7 PUTs per commit
// with 8 writers). A call whose fn fails is taken out and run alone, so that
// its error is its own (the meta.Store contract allows the rerun).
func (s *Store) Update(ctx context.Context, fn func(meta.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c := &call{fn: func(tx *bolt.Tx) error { return fn(boltTx{tx}) }, err: make(chan error, 1)}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return bolt.ErrDatabaseNotOpen
	}
	s.pending = append(s.pending, c)
	select { // under mu: Close closes wake under mu
	case s.wake <- struct{}{}:
	default:
	}
	s.mu.Unlock()
	return <-c.err
}

func (s *Store) commitLoop() {
	defer close(s.exited)
	for range s.wake {
		for {
			s.mu.Lock()
			calls := s.pending
			s.pending = nil
			s.mu.Unlock()
			if len(calls) == 0 {
				break
			}
			s.commit(calls)
		}
	}
}

// commit runs calls in one transaction and answers each of them.
func (s *Store) commit(calls []*call) {
	for len(calls) > 0 {
		failed := -1
		s.commits.Add(1)
		err := s.db.Update(func(tx *bolt.Tx) error {
			for i, c := range calls {
				if err := safely(c.fn, tx); err != nil {
					failed = i
					return err
				}
			}
			return nil
		})
		if failed < 0 {
			for _, c := range calls {
				c.err <- err
			}
			return
		}
		// Everything rolled back; the failed call gets a transaction of
		// its own, the others are retried together.
		c := calls[failed]
		calls = append(calls[:failed:failed], calls[failed+1:]...)
		s.commits.Add(1)
		c.err <- s.db.Update(func(tx *bolt.Tx) error { return safely(c.fn, tx) })
	}
}

// safely turns a panic in fn into an error, so that one bad request cannot
// take the commit goroutine (and every writer waiting on it) down.
func safely(fn func(*bolt.Tx) error, tx *bolt.Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("metadata update panicked: %v", p)
		}
	}()
	return fn(tx)
}

// Close implements meta.Store: it waits for queued Updates to commit.
func (s *Store) Close() error {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.wake)
	}
	s.mu.Unlock()
	<-s.exited
	return s.db.Close()
}

type boltTx struct{ tx *bolt.Tx }

func (t boltTx) bucket(space string) (*bolt.Bucket, error) {
	b := t.tx.Bucket([]byte(space))
	if b == nil {
		return nil, meta.ErrUnknownSpace
	}
	return b, nil
}

func (t boltTx) Get(space string, key []byte) ([]byte, error) {
	b, err := t.bucket(space)
	if err != nil {
		return nil, err
	}
	return b.Get(key), nil
}

func (t boltTx) Put(space string, key, value []byte) error {
	b, err := t.bucket(space)
	if err != nil {
		return err
	}
	// bbolt keeps key and value, not copies, until the commit; the
	// meta.Tx contract lets the caller reuse them once Put returns
	// (metatest's ArgumentsReusable).
	return b.Put(bytes.Clone(key), bytes.Clone(value))
}

func (t boltTx) Delete(space string, key []byte) error {
	b, err := t.bucket(space)
	if err != nil {
		return err
	}
	return b.Delete(key)
}

func (t boltTx) Ascend(space string, start []byte, fn func(k, v []byte) bool) error {
	b, err := t.bucket(space)
	if err != nil {
		return err
	}
	c := b.Cursor()
	for k, v := c.Seek(start); k != nil; k, v = c.Next() {
		if !fn(k, v) {
			break
		}
	}
	return nil
}
