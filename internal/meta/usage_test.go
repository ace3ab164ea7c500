package meta_test

import (
	"context"
	"path/filepath"
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
	s, err := boltmeta.Open(filepath.Join(t.TempDir(), "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := meta.InitUsage(context.Background(), s); err != nil {
		t.Fatal(err)
	}
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
