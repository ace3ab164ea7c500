package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"

	"github.com/ossd/ossd/internal/auth"
	"github.com/ossd/ossd/ossdtest"
)

// Benchmarks of the hot paths through HTTP: a real ossd on a temp dir,
// raw signed requests (so the figures are the server's, not an SDK's),
// run in parallel with b.RunParallel. Allocations include the client's.
//
//	go test ./e2e -run XXX -bench . -benchmem

// logged turns access logging on for the benchmark bucket (into another
// bucket), to compare the cost of logging with the same run without it.
var logged bool

// loggedAlways is logged with ossd --log-sync always: each record is
// fdatasynced before its response completes.
var loggedAlways bool

// unmetered turns the server's metrics off, to compare what they cost.
var unmetered bool

func benchServer(b *testing.B) (*ossdtest.Server, string, *http.Client) {
	o := ossdtest.Options{NoMetrics: unmetered}
	if loggedAlways {
		o.LogSync = ossdtest.LogSyncAlways
	}
	srv := ossdtest.StartWith(b, o)
	c := v2Client(srv, modes[0])
	bucket := "bench"
	for _, n := range []string{bucket, "bench-logs"} {
		if _, err := c.PutBucket(context.Background(), &oss.PutBucketRequest{Bucket: oss.Ptr(n)}); err != nil {
			b.Fatal(err)
		}
	}
	if logged || loggedAlways {
		_, err := c.PutBucketLogging(context.Background(), &oss.PutBucketLoggingRequest{Bucket: oss.Ptr(bucket),
			BucketLoggingStatus: &oss.BucketLoggingStatus{LoggingEnabled: &oss.LoggingEnabled{TargetBucket: oss.Ptr("bench-logs")}}})
		if err != nil {
			b.Fatal(err)
		}
	}
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	return srv, bucket, hc
}

func benchPut(b *testing.B, size int) {
	srv, bucket, hc := benchServer(b)
	data := bytes.Repeat([]byte("x"), size)
	var n atomic.Int64
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	b.SetParallelism(parallelism) // concurrent clients per core: what group commit is for
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			key := fmt.Sprintf("k%d", n.Add(1))
			req, _ := http.NewRequest(http.MethodPut, srv.Endpoint+"/"+bucket+"/"+key, bytes.NewReader(data))
			auth.SignV1(req, bucket, key, srv.AccessKeyID, srv.AccessKeySecret, time.Now())
			resp, err := hc.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Fatalf("status %d", resp.StatusCode)
			}
		}
	})
}

func benchGet(b *testing.B, size int) {
	srv, bucket, hc := benchServer(b)
	c := v2Client(srv, modes[0])
	data := bytes.Repeat([]byte("x"), size)
	const keys = 64
	for i := 0; i < keys; i++ {
		if _, err := c.PutObject(context.Background(), &oss.PutObjectRequest{Bucket: oss.Ptr(bucket), Key: oss.Ptr(fmt.Sprint("g", i)), Body: bytes.NewReader(data)}); err != nil {
			b.Fatal(err)
		}
	}
	var n atomic.Int64
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	b.SetParallelism(parallelism) // concurrent clients per core: what group commit is for
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			key := fmt.Sprint("g", n.Add(1)%keys)
			req, _ := http.NewRequest(http.MethodGet, srv.Endpoint+"/"+bucket+"/"+key, nil)
			auth.SignV1(req, bucket, key, srv.AccessKeyID, srv.AccessKeySecret, time.Now())
			resp, err := hc.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			got, _ := io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || got != int64(size) {
				b.Fatalf("status %d, %d bytes", resp.StatusCode, got)
			}
		}
	})
}

func BenchmarkPut4KiB(b *testing.B)  { benchPut(b, 4<<10) }
func BenchmarkGet4KiB(b *testing.B)  { benchGet(b, 4<<10) }
func BenchmarkPut1MiB(b *testing.B)  { benchPut(b, 1<<20) }
func BenchmarkGet1MiB(b *testing.B)  { benchGet(b, 1<<20) }
func BenchmarkPut64MiB(b *testing.B) { benchPut(b, 64<<20) }
func BenchmarkGet64MiB(b *testing.B) { benchGet(b, 64<<20) }

// withSetting runs a benchmark with *setting true, to compare with the
// same benchmark without (benchstat), e.g. logging on against off:
//
//	go test ./e2e -run XXX -bench '4KiB' -count 6 | benchstat -col /logged -
//
// and the server's metrics off against on (the default):
//
//	go test ./e2e -run XXX -bench 'Get4KiB$|Get4KiBNoMetrics' -count 6
func withSetting(setting *bool, f func(*testing.B, int), size int) func(*testing.B) {
	return func(b *testing.B) {
		*setting = true
		defer func() { *setting = false }()
		f(b, size)
	}
}

func BenchmarkPut4KiBLogged(b *testing.B)       { withSetting(&logged, benchPut, 4<<10)(b) }
func BenchmarkGet4KiBLogged(b *testing.B)       { withSetting(&logged, benchGet, 4<<10)(b) }
func BenchmarkPut4KiBLoggedAlways(b *testing.B) { withSetting(&loggedAlways, benchPut, 4<<10)(b) }
func BenchmarkGet4KiBLoggedAlways(b *testing.B) { withSetting(&loggedAlways, benchGet, 4<<10)(b) }
func BenchmarkPut4KiBNoMetrics(b *testing.B)    { withSetting(&unmetered, benchPut, 4<<10)(b) }
func BenchmarkGet4KiBNoMetrics(b *testing.B)    { withSetting(&unmetered, benchGet, 4<<10)(b) }

// parallelism is goroutines per GOMAXPROCS in the benchmarks (8: 16
// clients on 2 cores); OSSD_BENCH_PARALLELISM overrides it.
var parallelism = func() int {
	if n, err := strconv.Atoi(os.Getenv("OSSD_BENCH_PARALLELISM")); err == nil && n > 0 {
		return n
	}
	return 8
}()
