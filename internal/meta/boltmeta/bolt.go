// Package boltmeta is the embedded meta.Store: one bbolt file.
//
// bbolt was chosen over Pebble because its transactions are serializable
// (read-modify-write rules such as append positions and version chains need
// no extra locking), its Batch call coalesces concurrent writers into one
// commit (group fsync), and a commit is durable when it returns.
package boltmeta

import (
	"context"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/ossd/ossd/internal/meta"
)

// Store is a meta.Store on a bbolt file.
type Store struct{ db *bolt.DB }

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
	db.MaxBatchDelay = 200 * time.Microsecond
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
	return &Store{db: db}, nil
}

// View implements meta.Store.
func (s *Store) View(ctx context.Context, fn func(meta.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.View(func(tx *bolt.Tx) error { return fn(boltTx{tx}) })
}

// Update implements meta.Store. Concurrent calls are batched by bbolt into
// one commit; bbolt reruns fn alone when a batched fn fails, which the
// meta.Store contract allows.
func (s *Store) Update(ctx context.Context, fn func(meta.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.Batch(func(tx *bolt.Tx) error { return fn(boltTx{tx}) })
}

// Close implements meta.Store.
func (s *Store) Close() error { return s.db.Close() }

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
	return b.Put(key, value)
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
