package boltmeta_test

import (
	"path/filepath"
	"testing"

	"github.com/ossd/ossd/internal/meta"
	"github.com/ossd/ossd/internal/meta/boltmeta"
	"github.com/ossd/ossd/internal/meta/metatest"
)

func TestConformance(t *testing.T) {
	metatest.Run(t, func(t *testing.T, reopen bool) meta.Store {
		path := filepath.Join(t.TempDir(), "meta.db")
		if reopen {
			path = last
		}
		last = path
		s, err := boltmeta.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// last is the path of the store opened most recently, for reopen.
var last string
