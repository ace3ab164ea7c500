package pgmeta_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
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

// BenchmarkPutTwoNodes is PutObject's metadata transaction (seq_test.go's
// readForPut and writeForPut: bucket, versions, new version, usage) from
// two Stores on one database, as two nodes, 16 writers each, every key new,
// all in one bucket of 20 000. "hot-records" adds what the catalogue did before:
// a read-modify-write of one global counter and of one usage record per
// bucket in every write (meta.NextSeq, the single usage record), to show
// what they cost.
//
//	go test ./internal/meta/pgmeta -run '^$' -bench PutTwoNodes -benchtime 2000x
func BenchmarkPutTwoNodes(b *testing.B) {
	for _, hot := range []bool{false, true} {
		name := "per-key"
		if hot {
			name = "hot-records"
		}
		b.Run(name, func(b *testing.B) {
			url := pgtest.URL(b)
			ctx := context.Background()
			nodes := []*pgmeta.Store{open(b, url, pgmeta.Options{}), open(b, url, pgmeta.Options{})}
			// A bucket of 20 000 objects, and new keys spread over it (as
			// real names are): two nodes' PUTs then rarely touch one
			// B-tree page, and what conflicts is what they share.
			if err := nodes[0].Update(ctx, func(tx meta.Tx) error {
				if err := meta.PutBucket(tx, &meta.Bucket{Name: "bkt"}); err != nil {
					return err
				}
				for i := range 20000 {
					// Written raw (PutVersion reads twice per version).
					k := fmt.Sprintf("obj%016x", uint64(i)*0x9E3779B97F4A7C15)
					rec, err := json.Marshal(&meta.Version{Key: k, Seq: 1, VersionID: "null", Size: 1})
					if err != nil {
						return err
					}
					if err := tx.Put(meta.SpaceObjects, binary.BigEndian.AppendUint64(meta.ObjKeyPrefix("bkt", k), ^uint64(1)), rec); err != nil {
						return err
					}
				}
				return nil
			}); err != nil {
				b.Fatal(err)
			}
			var n atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			for w := range 32 {
				s := nodes[w%2]
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := n.Add(1); i <= int64(b.N); i = n.Add(1) {
						key := fmt.Sprintf("obj%016x", uint64(i)*0xBF58476D1CE4E5B9)
						err := s.Update(ctx, func(tx meta.Tx) error {
							seq, err := readForPut(tx, "bkt", key)
							if err != nil {
								return err
							}
							if hot {
								for _, k := range []string{"seq", "usage/bkt"} {
									v, err := tx.Get(meta.SpaceSystem, []byte(k))
									if err != nil {
										return err
									}
									if err := tx.Put(meta.SpaceSystem, []byte(k), append(v, 1)[:min(len(v)+1, 16)]); err != nil {
										return err
									}
								}
							}
							return writeForPut(tx, "bkt", key, seq)
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
			var conflicts, commits, exclusive int64
			for _, s := range nodes {
				conflicts += s.Stats().Conflicts
				commits += s.Stats().Commits
				exclusive += s.Stats().Exclusive
			}
			b.ReportMetric(float64(exclusive), "exclusive")
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "puts/s")
			b.ReportMetric(float64(conflicts)/float64(b.N), "conflicts/op")
			b.ReportMetric(float64(b.N)/float64(commits), "puts/commit")
		})
	}
}
