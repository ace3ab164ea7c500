package e2e

import (
	"bytes"
	"context"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
)

// TestKill9AccessLog: with logging on, concurrent writes and reads run
// against an ossd subprocess that is killed with SIGKILL at random moments
// and restarted. After `ossd logs flush`, the delivered lines hold every
// acknowledged request exactly once (none lost, none twice).
// OSSD_CRASH_CYCLES sets the number of cycles (default 3).
// Both durability modes run (logSyncModes).
func TestKill9AccessLog(t *testing.T) {
	if testing.Short() {
		t.Skip("subprocess crash test")
	}
	for _, mode := range logSyncModes {
		t.Run("log-sync="+mode, func(t *testing.T) { kill9AccessLog(t, mode) })
	}
}

func kill9AccessLog(t *testing.T, logSync string) {
	cycles := 3
	if s := os.Getenv("OSSD_CRASH_CYCLES"); s != "" {
		cycles, _ = strconv.Atoi(s)
	}
	dir := t.TempDir()
	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	acked := map[string]string{} // request id → operation
	var mu sync.Mutex
	const src, dst = "logged", "logs"
	for cycle := 0; cycle < cycles; cycle++ {
		p := startProc(t, dir, "--log-delivery-interval", "1s", "--log-sync", logSync)
		c := p.client()
		ctx := context.Background()
		if cycle == 0 {
			for _, b := range []string{src, dst} {
				if _, err := c.PutBucket(ctx, &oss.PutBucketRequest{Bucket: oss.Ptr(b)}); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := c.PutBucketLogging(ctx, &oss.PutBucketLoggingRequest{Bucket: oss.Ptr(src),
				BucketLoggingStatus: &oss.BucketLoggingStatus{LoggingEnabled: &oss.LoggingEnabled{TargetBucket: oss.Ptr(dst), TargetPrefix: oss.Ptr("a/")}}}); err != nil {
				t.Fatal(err)
			}
		}
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for w := 0; w < 8; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					key := fmt.Sprintf("c%d-w%d-%d", cycle, w, i)
					var rid, op string
					var err error
					switch i % 3 {
					case 0:
						var r *oss.PutObjectResult
						r, err = c.PutObject(ctx, &oss.PutObjectRequest{Bucket: oss.Ptr(src), Key: oss.Ptr(key), Body: bytes.NewReader(bytes.Repeat([]byte("x"), 1+i%5000))})
						if err == nil {
							rid, op = r.Headers.Get("x-oss-request-id"), "PutObject"
						}
					case 1:
						var r *oss.HeadObjectResult
						r, err = c.HeadObject(ctx, &oss.HeadObjectRequest{Bucket: oss.Ptr(src), Key: oss.Ptr(fmt.Sprintf("c%d-w%d-%d", cycle, w, i-1))})
						if err == nil {
							rid, op = r.Headers.Get("x-oss-request-id"), "HeadObject"
						}
					default:
						var r *oss.GetObjectResult
						r, err = c.GetObject(ctx, &oss.GetObjectRequest{Bucket: oss.Ptr(src), Key: oss.Ptr(fmt.Sprintf("c%d-w%d-%d", cycle, w, i-2))})
						if err == nil {
							_, err = readAllErr(r)
							rid, op = r.Headers.Get("x-oss-request-id"), "GetObject"
						}
					}
					if err == nil {
						mu.Lock()
						acked[rid] = op
						mu.Unlock()
					}
				}
			}(w)
		}
		time.Sleep(time.Duration(300+rng.Intn(1200)) * time.Millisecond)
		p.kill()
		close(stop)
		wg.Wait()
	}
	p := startProc(t, dir, "--log-delivery-interval", "1s", "--log-sync", logSync)
	defer p.kill()
	out, err := exec.Command(ossdBinary(t), "logs", "flush", "--addr", strings.TrimPrefix(p.endpoint, "http://"), "--data", dir).CombinedOutput()
	if err != nil {
		t.Fatalf("ossd logs flush: %v\n%s", err, out)
	}
	seen := map[string]int{}
	for _, l := range readLogLines(t, p.client(), dst, "a/", src) {
		seen[l.RequestID]++
	}
	lost, twice := 0, 0
	for rid, op := range acked {
		if seen[rid] == 0 {
			lost++
			if lost <= 5 {
				t.Errorf("acknowledged %s %s has no log line", op, rid)
			}
		}
	}
	for rid, n := range seen {
		if n > 1 {
			twice++
			if twice <= 5 {
				t.Errorf("request %s logged %d times", rid, n)
			}
		}
	}
	t.Logf("%d cycles: %d acknowledged requests, %d lines delivered, %d lost, %d duplicated", cycles, len(acked), len(seen), lost, twice)
}

func readAllErr(r *oss.GetObjectResult) (int64, error) {
	defer r.Body.Close()
	var buf bytes.Buffer
	return buf.ReadFrom(r.Body)
}
