package pgmeta_test

import (
	"context"
	"os"
	"testing"

	"github.com/ossd/ossd/internal/meta"
	"github.com/ossd/ossd/internal/meta/metatest"
	"github.com/ossd/ossd/internal/meta/pgmeta"
	"github.com/ossd/ossd/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// open opens a Store on url, closed when t ends.
func open(t testing.TB, url string, opts pgmeta.Options) *pgmeta.Store {
	t.Helper()
	s, err := pgmeta.OpenOptions(context.Background(), url, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts pgmeta.Options
	}{
		{"batched", pgmeta.Options{}},
		{"unbatched", pgmeta.Options{MaxBatch: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var last string // the database open(t, false) made last
			metatest.Run(t, func(t *testing.T, reopen bool) meta.Store {
				if !reopen {
					last = pgtest.URL(t)
				}
				return open(t, last, tc.opts)
			}, func(t *testing.T) meta.Store {
				return open(t, last, tc.opts)
			})
		})
	}
}
