package service_test

import (
	"path/filepath"
	"testing"

	"github.com/ossd/ossd/internal/blob"
	"github.com/ossd/ossd/internal/meta"
	"github.com/ossd/ossd/internal/meta/boltmeta"
)

// testStores opens a real bbolt store and blob directory in a temporary
// directory, closed when tb ends.
func testStores(tb testing.TB) (meta.Store, *blob.Store) { return testStoresIn(tb, tb.TempDir()) }

// testStoresIn is testStores in dir: the blobs are in dir/blobs.
func testStoresIn(tb testing.TB, dir string) (meta.Store, *blob.Store) {
	tb.Helper()
	m, err := boltmeta.Open(filepath.Join(dir, "meta.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { m.Close() })
	bs, err := blob.Open(filepath.Join(dir, "blobs"))
	if err != nil {
		tb.Fatal(err)
	}
	return m, bs
}
