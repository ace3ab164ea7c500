package pgmeta_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/ossd/ossd/internal/meta"
	"github.com/ossd/ossd/internal/meta/pgmeta"
	"github.com/ossd/ossd/internal/pgtest"
)

// readForPut is the reading half of a PutObject's metadata transaction, as
// service.commitObject runs it: the bucket, then the key's versions; it
// returns the new version's seq.
func readForPut(tx meta.Tx, bucket, key string) (uint64, error) {
	if b, err := meta.GetBucket(tx, bucket); err != nil || b == nil {
		return 0, fmt.Errorf("bucket %s: %v %v", bucket, b, err)
	}
	vers, err := meta.Versions(tx, bucket, key)
	if err != nil {
		return 0, err
	}
	var latest uint64
	if len(vers) > 0 {
		latest = vers[0].Seq
	}
	return meta.NewVersionSeq(latest), nil
}

// writeForPut is its writing half (PutVersion also updates the bucket's
// usage record).
func writeForPut(tx meta.Tx, bucket, key string, seq uint64) error {
	return meta.PutVersion(tx, bucket, &meta.Version{Key: key, Seq: seq, VersionID: fmt.Sprint(seq), Size: 1})
}

// setup makes two buckets whose keys lie far apart in the store (thousands
// of other keys between them, so that no B-tree page holds both: PostgreSQL
// tracks serializable reads by page, and neighbouring keys would conflict
// for that reason alone).
func setup(t *testing.T, s meta.Store) {
	t.Helper()
	err := s.Update(context.Background(), func(tx meta.Tx) error {
		for _, name := range []string{"a-bucket", "z-bucket"} {
			if err := meta.PutBucket(tx, &meta.Bucket{Name: name, Versioning: "Enabled"}); err != nil {
				return err
			}
		}
		for i := range 3000 {
			if err := tx.Put(meta.SpaceObjects, fmt.Appendf(nil, "m-filler\x00%06d", i), make([]byte, 100)); err != nil {
				return err
			}
			// and between a-bucket's keys b-key and y-key
			if err := tx.Put(meta.SpaceObjects, fmt.Appendf(nil, "a-bucket\x00m-filler%06d\x00", i), make([]byte, 100)); err != nil {
				return err
			}
			if err := tx.Put(meta.SpaceSystem, fmt.Appendf(nil, "usage/m-filler%06d", i), make([]byte, 100)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestPutsOnTwoNodesDontConflict: node A's PutObject transaction reads,
// node B's PutObject of another key commits, then A's writes and commits.
// They share no record, so A must commit at the first attempt. With the
// global sequence counter every PutObject bumped (meta.NextSeq, now gone),
// B's commit made A's fail (40001) and run again: every two concurrent
// writes on two nodes conflicted; with one usage record per bucket, every
// two in one bucket did.
func TestPutsOnTwoNodesDontConflict(t *testing.T) {
	for _, tc := range []struct {
		name          string
		bucketA, keyA string
		bucketB, keyB string
	}{
		{"two buckets", "a-bucket", "key-on-a", "z-bucket", "key-on-b"},
		{"one bucket", "a-bucket", "b-key", "a-bucket", "y-key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url := pgtest.URL(t)
			ctx := context.Background()
			a := open(t, url, pgmeta.Options{})
			b := open(t, url, pgmeta.Options{})
			setup(t, a)
			put := func(s *pgmeta.Store, bucket, key string, between func()) error {
				return s.Update(ctx, func(tx meta.Tx) error {
					seq, err := readForPut(tx, bucket, key)
					if err != nil {
						return err
					}
					between()
					return writeForPut(tx, bucket, key, seq)
				})
			}
			// Each node has written once before: what a node's first
			// write creates is not what this test is about.
			for _, s := range []*pgmeta.Store{a, b} {
				if err := put(s, tc.bucketA, "warm-up", func() {}); err != nil {
					t.Fatal(err)
				}
			}
			conflicts := a.Stats().Conflicts
			read, committed := make(chan struct{}), make(chan struct{})
			var runs atomic.Int32
			done := make(chan error, 1)
			go func() {
				done <- put(a, tc.bucketA, tc.keyA, func() {
					if runs.Add(1) == 1 {
						close(read)
						<-committed
					}
				})
			}()
			<-read
			if err := put(b, tc.bucketB, tc.keyB, func() {}); err != nil {
				t.Fatal(err)
			}
			close(committed)
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			if n, c := runs.Load(), a.Stats().Conflicts-conflicts; n != 1 || c != 0 {
				t.Fatalf("node A's PutObject ran %d times (%d serialization failures): it conflicted with node B's PutObject of another key", n, c)
			}
		})
	}
}

// TestVersionsOrderedAcrossNodes: PUTs of one key from two nodes at once
// (versioning on) leave versions in the order they committed: seqs strictly
// decreasing from the newest, and no version id twice.
func TestVersionsOrderedAcrossNodes(t *testing.T) {
	url := pgtest.URL(t)
	ctx := context.Background()
	a := open(t, url, pgmeta.Options{})
	b := open(t, url, pgmeta.Options{})
	setup(t, a)
	const writers, each = 3, 20
	var wg sync.WaitGroup
	for _, s := range []*pgmeta.Store{a, b} {
		for range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var last uint64
				for range each {
					var seq uint64
					err := s.Update(ctx, func(tx meta.Tx) (err error) {
						if seq, err = readForPut(tx, "a-bucket", "shared"); err != nil {
							return err
						}
						return writeForPut(tx, "a-bucket", "shared", seq)
					})
					if err != nil {
						t.Error(err)
						return
					}
					// This writer's previous PUT returned before this one
					// started: its version must be the older.
					if seq <= last {
						t.Errorf("a PUT after one with seq %d got seq %d", last, seq)
					}
					last = seq
				}
			}()
		}
	}
	wg.Wait()
	var vers []*meta.Version
	if err := b.View(ctx, func(tx meta.Tx) (err error) {
		vers, err = meta.Versions(tx, "a-bucket", "shared")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if len(vers) != 2*writers*each {
		t.Fatalf("%d versions, want %d", len(vers), 2*writers*each)
	}
	ids := map[string]bool{}
	for i, v := range vers {
		if ids[v.VersionID] {
			t.Fatalf("version id %s twice", v.VersionID)
		}
		ids[v.VersionID] = true
		if i > 0 && v.Seq >= vers[i-1].Seq {
			t.Fatalf("versions out of order: %d after %d", v.Seq, vers[i-1].Seq)
		}
	}
}
