package accesslog

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// discardSink reads each object fully (as a store would) and counts.
type discardSink struct{ objects, bytes atomic.Int64 }

func (s *discardSink) PutLogObject(ctx context.Context, bucket, key string, body io.Reader, size int64) error {
	n, err := io.Copy(io.Discard, body)
	s.objects.Add(1)
	s.bytes.Add(n)
	return err
}

// BenchmarkAppendParallel measures Append on the real filesystem in both
// durability modes — always: group commit, each batch one write and one
// fsync; 1s: one write per record in the caller, a sync a second — at
// several levels of concurrency: goroutines = parallelism × GOMAXPROCS.
func BenchmarkAppendParallel(b *testing.B) {
	for _, mode := range []struct {
		name string
		sync time.Duration
	}{{"always", 0}, {"1s", time.Second}} {
		for _, par := range []int{1, 8, 64} {
			b.Run(fmt.Sprintf("mode=%s/goroutines=%d", mode.name, par*runtime.GOMAXPROCS(0)), func(b *testing.B) {
				benchAppend(b, mode.sync, par)
			})
		}
	}
}

func benchAppend(b *testing.B, syncInterval time.Duration, par int) {
	{
		{
			l, err := Open(Config{Dir: b.TempDir(), Sink: &discardSink{}, Clock: NewFakeClock(at(10, 0, 0)), SyncInterval: syncInterval})
			if err != nil {
				b.Fatal(err)
			}
			defer l.Close()
			b.SetParallelism(par)
			b.ReportAllocs()
			syncs0 := l.j.batches.Load()
			b.RunParallel(func(pb *testing.PB) {
				r := rec("5FF16B65F05BC932307A3C3C", "examplebucket", "logbucket", "log/", at(10, 0, 0))
				for pb.Next() {
					if err := l.Append(context.Background(), r); err != nil {
						b.Error(err)
						return
					}
				}
			})
			if n := l.j.batches.Load() - syncs0; n > 0 {
				b.ReportMetric(float64(b.N)/float64(n), "records/fsync")
			}
		}
	}
}

// BenchmarkDeliver measures delivering n records already in the journal
// (10 source buckets, two hours, so 20 streams × hour groups) into an
// in-memory sink with one Flush. Setup (appending) is not timed.
func BenchmarkDeliver(b *testing.B) {
	for _, n := range []int{1_000_000} {
		b.Run(fmt.Sprintf("records=%d", n), func(b *testing.B) {
			var objects, bytes int64
			for range b.N {
				b.StopTimer()
				sink := &discardSink{}
				l, err := Open(Config{Dir: b.TempDir(), Sink: sink, Clock: NewFakeClock(at(12, 0, 0))})
				if err != nil {
					b.Fatal(err)
				}
				fill(b, l, n)
				b.StartTimer()
				start := time.Now()
				if err := l.Flush(context.Background()); err != nil {
					b.Fatal(err)
				}
				el := time.Since(start)
				b.StopTimer()
				objects, bytes = sink.objects.Load(), sink.bytes.Load()
				if st := l.Status(); st[0].Pending != 0 {
					b.Fatalf("%d records left", st[0].Pending)
				}
				b.ReportMetric(float64(n)/el.Seconds(), "records/s")
				l.Close()
			}
			b.ReportMetric(float64(objects), "objects")
			b.ReportMetric(float64(bytes)/float64(n), "B/line")
		})
	}
}

// fill appends n records from 256 goroutines.
func fill(b *testing.B, l *Log, n int) {
	const G = 256
	var wg sync.WaitGroup
	for g := range G {
		wg.Go(func() {
			r := rec("5FF16B65F05BC932307A3C3C", fmt.Sprintf("bucket-%d", g%10), "logbucket", "log/", at(10, 0, 0))
			r.UserAgent = "aliyun-sdk-go/v2.1.0 (Linux/5.15; amd64) Go/1.26"
			r.Referer = "http://www.aliyun.com/product/oss"
			for i := g; i < n; i += G {
				r.Time = at(10, 0, 0).Add(time.Duration(i) * 7200 * time.Second / time.Duration(n))
				r.Key = fmt.Sprintf("photos/2026/11/%08d.jpg", i)
				if err := l.Append(context.Background(), r); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// BenchmarkTwoFlushes asks whether a logged write's two device flushes — the
// metadata commit's and the journal record's, in the always mode — would
// cost less run at the same time than one after the other (issue #13 asked
// for that overlap). Each op writes 4 KiB into a preallocated file (as bbolt
// commits do) and a 300-byte record into another file's zero-filled tail
// (as the journal does, so that its sync flushes data, not the file's
// size), each followed by fsync: "one" is the first file alone,
// "sequential" both in turn, "parallel" both in two goroutines. On the
// reference machine's virtio disk the two overlap only in part (figures in
// docs/benchmarks.md).
func BenchmarkTwoFlushes(b *testing.B) {
	dir := b.TempDir()
	const preSize = 16 << 20
	prealloc := func(name string) *os.File {
		f, err := os.OpenFile(filepath.Join(dir, name), os.O_CREATE|os.O_RDWR, 0o644)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := f.WriteAt(make([]byte, preSize), 0); err != nil {
			b.Fatal(err)
		}
		if err := f.Sync(); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { f.Close() })
		return f
	}
	meta, journal := prealloc("meta"), prealloc("journal")
	page, rec := make([]byte, 4096), make([]byte, 300)
	var metaOff, journalOff int64
	commit := func() error {
		if _, err := meta.WriteAt(page, metaOff%preSize); err != nil {
			return err
		}
		metaOff += int64(len(page))
		return meta.Sync()
	}
	record := func() error {
		if _, err := journal.WriteAt(rec, journalOff%preSize); err != nil {
			return err
		}
		journalOff += int64(len(rec))
		return journal.Sync()
	}
	run := func(b *testing.B, op func() error) {
		for i := 0; i < b.N; i++ {
			if err := op(); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("one", func(b *testing.B) { run(b, commit) })
	b.Run("sequential", func(b *testing.B) {
		run(b, func() error {
			if err := commit(); err != nil {
				return err
			}
			return record()
		})
	})
	b.Run("parallel", func(b *testing.B) {
		run(b, func() error {
			errc := make(chan error, 1)
			go func() { errc <- record() }()
			err := commit()
			return errors.Join(err, <-errc)
		})
	})
}
