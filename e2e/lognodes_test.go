package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"

	"github.com/ossd/ossd/internal/pgtest"
)

// TestLogNodesKill9: two ossd processes on one PostgreSQL database, one
// blob directory and one journal directory (--log-dir), both logging
// requests to one bucket. Node A is killed with SIGKILL under load, its
// records undelivered (hourly delivery); node B takes A's journal over once
// A's lease (--log-lease 2s) has expired and delivers them; A restarts on
// its data directory (same node id) and delivers nothing twice. In the end
// every acknowledged request has exactly one line, in objects named with
// its node's id.
func TestLogNodesKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("subprocess crash test")
	}
	pg := pgtest.Start(t)
	url := pg.NewDatabase(t)
	shared := t.TempDir()
	dataA, dataB := t.TempDir(), t.TempDir()
	node := func(data, id string) *proc {
		return startProc(t, data, "--meta", url, "--blobs", filepath.Join(shared, "blobs"),
			"--log-dir", filepath.Join(shared, "journals"), "--node-id", id, "--log-lease", "2s")
	}
	const src, dst = "logged", "logs"
	a := node(dataA, "nodea")
	ctx := context.Background()
	ca := a.client()
	for _, b := range []string{src, dst} {
		if _, err := ca.PutBucket(ctx, &oss.PutBucketRequest{Bucket: oss.Ptr(b)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := ca.PutBucketLogging(ctx, &oss.PutBucketLoggingRequest{Bucket: oss.Ptr(src),
		BucketLoggingStatus: &oss.BucketLoggingStatus{LoggingEnabled: &oss.LoggingEnabled{TargetBucket: oss.Ptr(dst)}}}); err != nil {
		t.Fatal(err)
	}
	b := node(dataB, "nodeb")
	defer func() { b.kill() }()

	var mu sync.Mutex
	acked := map[string]string{} // request id → node
	load := func(p *proc, name string, n int, stop <-chan struct{}) {
		c := p.client()
		for i := 0; i < n; i++ {
			select {
			case <-stop:
				return
			default:
			}
			key := fmt.Sprintf("%s-%d", name, i)
			r, err := c.PutObject(ctx, &oss.PutObjectRequest{Bucket: oss.Ptr(src), Key: oss.Ptr(key), Body: bytes.NewReader([]byte(key))})
			if err == nil {
				mu.Lock()
				acked[r.Headers.Get("x-oss-request-id")] = name
				mu.Unlock()
			}
		}
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() { load(a, fmt.Sprintf("a%d", w), 1<<30, stop) })
		wg.Go(func() { load(b, fmt.Sprintf("b%d", w), 50, nil) })
	}
	time.Sleep(700 * time.Millisecond) // some load on A
	a.kill()
	killed := time.Now()
	close(stop)
	wg.Wait()

	// B delivers its own records on demand, A's once it has taken A's
	// journal over (about the lease after the kill).
	flush := func(p *proc, data string) {
		t.Helper()
		out, err := exec.Command(ossdBinary(t), "logs", "flush", "--addr", strings.TrimPrefix(p.endpoint, "http://"), "--data", data).CombinedOutput()
		if err != nil {
			t.Fatalf("ossd logs flush: %v\n%s", err, out)
		}
	}
	flush(b, dataB)
	seen := func() map[string]int {
		out := map[string]int{}
		for _, l := range readLogLines(t, b.client(), dst, "", src) {
			out[l.RequestID]++
		}
		return out
	}
	for deadline := time.Now().Add(60 * time.Second); ; {
		got := seen()
		missing := 0
		for rid := range acked {
			if got[rid] == 0 {
				missing++
			}
		}
		if missing == 0 {
			t.Logf("node A's records delivered by node B %v after the kill (--log-lease 2s)", time.Since(killed).Round(100*time.Millisecond))
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("node B did not deliver node A's records: %d of %d acknowledged requests have no line", missing, len(acked))
		}
		time.Sleep(200 * time.Millisecond)
	}

	// A comes back with its id; nothing it held is delivered again.
	a = node(dataA, "nodea")
	defer func() { a.kill() }()
	flush(a, dataA)
	got := seen()
	for rid, n := range got {
		if n != 1 {
			t.Errorf("request %s logged %d times", rid, n)
		}
	}
	for rid := range acked {
		if got[rid] != 1 {
			t.Errorf("acknowledged request %s (%s) logged %d times", rid, acked[rid], got[rid])
		}
	}
	lr, err := b.client().ListObjectsV2(ctx, &oss.ListObjectsV2Request{Bucket: oss.Ptr(dst)})
	if err != nil {
		t.Fatal(err)
	}
	nodes := map[string]int{}
	for _, o := range lr.Contents {
		k := *o.Key
		switch {
		case strings.Contains(k, "-NODEA"):
			nodes["nodea"]++
		case strings.Contains(k, "-NODEB"):
			nodes["nodeb"]++
		default:
			t.Errorf("log object %s carries no node id", k)
		}
	}
	if nodes["nodea"] == 0 || nodes["nodeb"] == 0 {
		t.Errorf("log objects per node %v, want both", nodes)
	}
	t.Logf("%d acknowledged requests, %d lines, objects per node %v", len(acked), len(got), nodes)
}
