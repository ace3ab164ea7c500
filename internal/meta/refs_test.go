package meta_test

import (
	"context"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/ossd/ossd/internal/meta"
	"github.com/ossd/ossd/internal/meta/boltmeta"
)

// TestScanBlobRefs: every blob a stored version (its extents) or part
// names is reported, through the catalogue's own encoding (records are
// written with PutVersion and PutPart), and nothing else; a record that
// cannot be decoded fails the scan rather than being skipped (the sweep
// would delete what it names).
func TestScanBlobRefs(t *testing.T) {
	s, err := boltmeta.Open(filepath.Join(t.TempDir(), "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	tests := []struct {
		name  string
		write func(tx meta.Tx) error
		want  []string // blob ids, sorted, once each; nil with fails
		fails bool
	}{
		{"empty store", func(meta.Tx) error { return nil }, []string{}, false},
		{"versions and parts", func(tx meta.Tx) error {
			if err := meta.PutBucket(tx, &meta.Bucket{Name: "b"}); err != nil {
				return err
			}
			for _, v := range []*meta.Version{
				{Key: "one-extent", Seq: 1, Size: 3, Extents: []meta.Extent{{Blob: "b1", Size: 3}}},
				{Key: "appended", Seq: 2, Size: 9, Extents: []meta.Extent{{Blob: "b2", Size: 4}, {Blob: "b3", Size: 5}}},
				{Key: "inline", Seq: 3, Size: 5, Inline: []byte("hello")},
				{Key: "one-extent", Seq: 4, DeleteMarker: true},
				{Key: "shared", Seq: 5, Size: 3, Extents: []meta.Extent{{Blob: "b1", Size: 3}}},
			} {
				if err := meta.PutVersion(tx, "b", v); err != nil {
					return err
				}
			}
			for n, id := range []string{"p1", "p2"} {
				if err := meta.PutPart(tx, "upload", &meta.Part{Number: n + 1, Size: 1, Blob: id}); err != nil {
					return err
				}
			}
			return nil
		}, []string{"b1", "b2", "b3", "p1", "p2"}, false},
		{"an undecodable version", func(tx meta.Tx) error {
			return tx.Put(meta.SpaceObjects, []byte("b\x00broken\x00\x00"), []byte(`{"ext":[{"b":`))
		}, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := s.Update(context.Background(), tc.write); err != nil {
				t.Fatal(err)
			}
			seen := map[string]bool{}
			err := s.View(context.Background(), func(tx meta.Tx) error {
				return meta.ScanBlobRefs(tx, func(id string) { seen[id] = true })
			})
			if tc.fails {
				if err == nil {
					t.Fatalf("scan succeeded over an undecodable record (saw %v)", seen)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := make([]string, 0, len(seen))
			for id := range seen {
				got = append(got, id)
			}
			slices.Sort(got)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("refs = %v, want %v", got, tc.want)
			}
		})
	}
}
