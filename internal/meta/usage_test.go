package meta_test

import (
	"context"
	"encoding/binary"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ossd/ossd/internal/meta"
	"github.com/ossd/ossd/internal/meta/boltmeta"
)

func usageOf(t *testing.T, s meta.Store) map[string]meta.Usage {
	t.Helper()
	got := map[string]meta.Usage{}
	if err := s.View(context.Background(), func(tx meta.Tx) error {
		return meta.ScanUsage(tx, func(b string, u meta.Usage) bool { got[b] = u; return true })
	}); err != nil {
		t.Fatal(err)
	}
	return got
}

func update(t *testing.T, s meta.Store, fn func(tx meta.Tx) error) {
	t.Helper()
	if err := s.Update(context.Background(), fn); err != nil {
		t.Fatal(err)
	}
}

// TestUsage: the per-bucket usage records follow every PutVersion and
// DeleteVersion (new versions, rewrites of a version, delete markers,
// deletions), empty buckets read as zero, and InitUsage computes the
// records for a store written without them.
func TestUsage(t *testing.T) {
	s := openInitialized(t)
	update(t, s, func(tx meta.Tx) error {
		for _, b := range []string{"a", "b", "c"} {
			if err := meta.PutBucket(tx, &meta.Bucket{Name: b}); err != nil {
				return err
			}
		}
		return nil
	})
	steps := []struct {
		name string
		fn   func(tx meta.Tx) error
		want map[string]meta.Usage
	}{
		{"two objects in a, one in b", func(tx meta.Tx) error {
			meta.PutVersion(tx, "a", &meta.Version{Key: "x", Seq: 1, Size: 10})
			meta.PutVersion(tx, "a", &meta.Version{Key: "y", Seq: 2, Size: 5, Inline: []byte("hello")})
			return meta.PutVersion(tx, "b", &meta.Version{Key: "x", Seq: 3, Size: 7})
		}, map[string]meta.Usage{"a": {2, 15}, "b": {1, 7}, "c": {}}},
		{"a version rewritten (ACL, tags) counts once", func(tx meta.Tx) error {
			return meta.PutVersion(tx, "a", &meta.Version{Key: "x", Seq: 1, Size: 10, ACL: "private"})
		}, map[string]meta.Usage{"a": {2, 15}, "b": {1, 7}, "c": {}}},
		{"a delete marker counts nothing", func(tx meta.Tx) error {
			return meta.PutVersion(tx, "a", &meta.Version{Key: "x", Seq: 4, DeleteMarker: true})
		}, map[string]meta.Usage{"a": {2, 15}, "b": {1, 7}, "c": {}}},
		{"deletions", func(tx meta.Tx) error {
			meta.DeleteVersion(tx, "a", "x", 4)
			meta.DeleteVersion(tx, "a", "x", 1)
			return meta.DeleteVersion(tx, "b", "x", 3)
		}, map[string]meta.Usage{"a": {1, 5}, "b": {}, "c": {}}},
		{"deleting what is absent changes nothing", func(tx meta.Tx) error {
			return meta.DeleteVersion(tx, "a", "nope", 9)
		}, map[string]meta.Usage{"a": {1, 5}, "b": {}, "c": {}}},
	}
	for _, st := range steps {
		update(t, s, st.fn)
		if got := usageOf(t, s); !equal(got, st.want) {
			t.Fatalf("after %s: usage %v, want %v", st.name, got, st.want)
		}
	}

	// A data directory from before usage records: no marker, no records.
	update(t, s, func(tx meta.Tx) error {
		meta.DeleteSystem(tx, "usage-v1")
		return tx.Delete(meta.SpaceSystem, []byte("usage/a"))
	})
	update(t, s, func(tx meta.Tx) error {
		return meta.PutVersion(tx, "c", &meta.Version{Key: "z", Seq: 5, Size: 3})
	})
	if err := meta.InitUsage(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	if got, want := usageOf(t, s), map[string]meta.Usage{"a": {1, 5}, "b": {}, "c": {1, 3}}; !equal(got, want) {
		t.Fatalf("after InitUsage: %v, want %v", got, want)
	}
}

func equal(a, b map[string]meta.Usage) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestUsageRecordsOfSeveralProcesses: a bucket's usage is the sum of the
// records of every process that wrote to it (nodes sharing a store; past
// runs of this one), and InitUsage folds them into one without changing it.
func TestUsageRecordsOfSeveralProcesses(t *testing.T) {
	s := openInitialized(t)
	update(t, s, func(tx meta.Tx) error {
		meta.PutBucket(tx, &meta.Bucket{Name: "a"})
		meta.PutBucket(tx, &meta.Bucket{Name: "b"})
		meta.PutVersion(tx, "a", &meta.Version{Key: "x", Seq: 1, Size: 10})
		// What two other processes wrote: one added to a, one removed from it.
		tx.Put(meta.SpaceSystem, []byte("usage/a\x00other1"), usageRecord(3, 30))
		tx.Put(meta.SpaceSystem, []byte("usage/a\x00other2"), usageRecord(-1, -5))
		return tx.Put(meta.SpaceSystem, []byte("usage/b\x00other1"), usageRecord(0, 0))
	})
	want := map[string]meta.Usage{"a": {3, 35}, "b": {}}
	if got := usageOf(t, s); !equal(got, want) {
		t.Fatalf("usage %v, want %v", got, want)
	}
	if err := meta.InitUsage(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	if got := usageOf(t, s); !equal(got, want) {
		t.Fatalf("after InitUsage folded the records: usage %v, want %v", got, want)
	}
	n := 0
	if err := s.View(context.Background(), func(tx meta.Tx) error {
		return tx.Ascend(meta.SpaceSystem, []byte("usage/"), func(k, _ []byte) bool {
			if strings.HasPrefix(string(k), "usage/") {
				n++
			}
			return strings.HasPrefix(string(k), "usage/")
		})
	}); err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Fatalf("%d usage records after InitUsage, want 2 (one per bucket)", n)
	}
}

// openInitialized opens a new store, closed with t, and runs InitUsage.
func openInitialized(t *testing.T) meta.Store {
	t.Helper()
	s, err := boltmeta.Open(filepath.Join(t.TempDir(), "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := meta.InitUsage(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	return s
}

func usageRecord(objects, bytes int64) []byte {
	return binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(nil, uint64(objects)), uint64(bytes))
}
