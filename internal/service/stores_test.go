package service_test

import (
	"path/filepath"
	"testing"

	"github.com/ossd/ossd/internal/blob"
	"github.com/ossd/ossd/internal/meta"
	"github.com/ossd/ossd/internal/meta/boltmeta"
)

// testStores opens a real bbolt store and blob directory in a temporary
// directory, closed when t ends.
func testStores(t *testing.T) (meta.Store, *blob.Store) {
	t.Helper()
	dir := t.TempDir()
	m, err := boltmeta.Open(filepath.Join(dir, "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	bs, err := blob.Open(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	return m, bs
}
