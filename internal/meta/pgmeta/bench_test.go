package pgmeta_test

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/ossd/ossd/internal/meta"
	"github.com/ossd/ossd/internal/meta/pgmeta"
	"github.com/ossd/ossd/internal/pgtest"
)

// BenchmarkUpdate is the metadata side of a small PUT on PostgreSQL:
// Updates that read a key and write a 4 KiB value under another (as
// PutObject reads the latest version and writes a new one), each durable
// when it returns, from 1 to 64 concurrent writers, with the batching of
// concurrent Updates into one transaction on and off. updates/commit shows
// the batching at work, conflicts/op the serialization failures it costs.
//
//	go test ./internal/meta/pgmeta -run '^$' -bench Update -benchtime 2s
func BenchmarkUpdate(b *testing.B) {
	for _, mode := range []struct {
		name string
		opts pgmeta.Options
	}{{"batched", pgmeta.Options{}}, {"batched-2committers", pgmeta.Options{Committers: 2}}, {"unbatched", pgmeta.Options{MaxBatch: 1}}} {
		for _, writers := range []int{1, 8, 64} {
			b.Run(fmt.Sprintf("%s/writers=%d", mode.name, writers), func(b *testing.B) {
				s := open(b, pgtest.URL(b), mode.opts)
				ctx := context.Background()
				val := bytes.Repeat([]byte("v"), 4<<10)
				var n atomic.Int64
				b.ResetTimer()
				var wg sync.WaitGroup
				for range writers {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for i := n.Add(1); i <= int64(b.N); i = n.Add(1) {
							key := fmt.Appendf(nil, "k%09d", i)
							err := s.Update(ctx, func(tx meta.Tx) error {
								if _, err := tx.Get(meta.SpaceObjects, key); err != nil {
									return err
								}
								return tx.Put(meta.SpaceObjects, key, val)
							})
							if err != nil {
								b.Error(err)
								return
							}
						}
					}()
				}
				wg.Wait()
				b.StopTimer()
				st := s.Stats()
				if st.Commits > 0 {
					b.ReportMetric(float64(b.N)/float64(st.Commits), "updates/commit")
				}
				b.ReportMetric(float64(st.Conflicts)/float64(b.N), "conflicts/op")
			})
		}
	}
}
