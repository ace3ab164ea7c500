package boltmeta_test

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"sync/atomic"
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
	}, nil) // one bbolt file belongs to one process: no second node
}

// last is the path of the store opened most recently, for reopen.
var last string

// BenchmarkUpdateParallel is the metadata side of a small PUT: concurrent
// Updates of a 4 KiB value, each durable when it returns. updates/commit
// shows the group commit at work.
func BenchmarkUpdateParallel(b *testing.B) {
	for _, par := range []int{1, 4, 32} {
		b.Run(fmt.Sprintf("writers=%d", par*runtime.GOMAXPROCS(0)), func(b *testing.B) {
			s, err := boltmeta.Open(filepath.Join(b.TempDir(), "meta.db"))
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			ctx := context.Background()
			val := bytes.Repeat([]byte("v"), 4<<10)
			var n atomic.Int64
			commits0 := boltmeta.Commits(s)
			b.SetParallelism(par)
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					key := []byte(fmt.Sprint("k", n.Add(1)))
					if err := s.Update(ctx, func(tx meta.Tx) error { return tx.Put(meta.SpaceObjects, key, val) }); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.StopTimer()
			if c := boltmeta.Commits(s) - commits0; c > 0 {
				b.ReportMetric(float64(b.N)/float64(c), "updates/commit")
			}
		})
	}
}
