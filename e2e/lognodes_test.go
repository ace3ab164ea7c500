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

// logNodes starts PostgreSQL with a new database and returns a function
// that starts ossd node id on data directory data, over that database, with
// a blob and a journal directory (--log-dir) shared by the nodes it starts,
// and journal leases of 2s.
func logNodes(t *testing.T) func(data, id string) *proc {
	pg := pgtest.Start(t)
	url := pg.NewDatabase(t)
	shared := t.TempDir()
	return func(data, id string) *proc {
		return startProc(t, data, "--meta", url, "--blobs", filepath.Join(shared, "blobs"),
			"--log-dir", filepath.Join(shared, "journals"), "--node-id", id, "--log-lease", "2s")
	}
}

// createLogged creates buckets src and dst through c, src logged into dst.
func createLogged(t *testing.T, c *oss.Client, src, dst string) {
	t.Helper()
	for _, b := range []string{src, dst} {
		if _, err := c.PutBucket(context.Background(), &oss.PutBucketRequest{Bucket: oss.Ptr(b)}); err != nil {
			t.Fatal(err)
		}
	}
	enableLogging(t, c, src, dst, "")
}

// ossdLogs runs `ossd logs cmd` against node p (data directory data) and
// returns its output.
func ossdLogs(t *testing.T, cmd string, p *proc, data string) string {
	t.Helper()
	out, err := exec.Command(ossdBinary(t), "logs", cmd, "--addr", strings.TrimPrefix(p.endpoint, "http://"), "--data", data).CombinedOutput()
	if err != nil {
		t.Fatalf("ossd logs %s: %v\n%s", cmd, err, out)
	}
	return string(out)
}

// lineCount reads the log lines of src in dst through c, by request id.
func lineCount(t *testing.T, c *oss.Client, dst, src string) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, l := range readLogLines(t, c, dst, "", src) {
		out[l.RequestID]++
	}
	return out
}

// waitLines waits (at most a minute) until every request of acked has a
// line of src in dst, read through c, and returns when it saw them all.
func waitLines(t *testing.T, c *oss.Client, dst, src string, acked map[string]string) time.Time {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		got := lineCount(t, c, dst, src)
		missing := 0
		for rid := range acked {
			if got[rid] == 0 {
				missing++
			}
		}
		if missing == 0 {
			return time.Now()
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d acknowledged requests have no line after a minute", missing, len(acked))
		}
	}
}

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
	node := logNodes(t)
	dataA, dataB := t.TempDir(), t.TempDir()
	const src, dst = "logged", "logs"
	a := node(dataA, "nodea")
	ctx := context.Background()
	createLogged(t, a.client(), src, dst)
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
	flush := func(p *proc, data string) { t.Helper(); ossdLogs(t, "flush", p, data) }
	flush(b, dataB)
	seen := func() map[string]int { return lineCount(t, b.client(), dst, src) }
	took := waitLines(t, b.client(), dst, src, acked)
	t.Logf("node A's records delivered by node B %v after the kill (--log-lease 2s)", took.Sub(killed).Round(100*time.Millisecond))

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

// TestLogNodesPause: node A is stopped (SIGSTOP) past its journal's lease,
// with records undelivered; node B takes A's journal over and delivers
// them. A, continued (SIGCONT), finds its lease taken, reclaims its journal
// without a restart (the requests to the logged bucket it refuses
// meanwhile are not acknowledged) and serves logged requests again. In the
// end every acknowledged request has exactly one line, and no refused one
// has any.
func TestLogNodesPause(t *testing.T) {
	sigStop, sigCont := pauseSignals(t)
	if testing.Short() {
		t.Skip("subprocess pause test")
	}
	node := logNodes(t)
	dataA, dataB := t.TempDir(), t.TempDir()
	const src, dst = "logged", "logs"
	a := node(dataA, "nodea")
	defer func() { a.kill() }()
	createLogged(t, a.client(), src, dst)
	b := node(dataB, "nodeb")
	defer func() { b.kill() }()
	ctx := context.Background()
	acked := map[string]string{} // request id → node
	put := func(p *proc, name, key string) error {
		r, err := p.client().PutObject(ctx, &oss.PutObjectRequest{Bucket: oss.Ptr(src), Key: oss.Ptr(key), Body: strings.NewReader(key)})
		if err == nil {
			acked[r.Headers.Get("x-oss-request-id")] = name
		}
		return err
	}
	for i := range 20 {
		if err := put(a, "nodea", fmt.Sprintf("a-%d", i)); err != nil {
			t.Fatal(err)
		}
	}

	// A pauses; B takes its journal over once its lease has expired.
	if err := a.cmd.Process.Signal(sigStop); err != nil {
		t.Fatal(err)
	}
	paused := time.Now()
	defer a.cmd.Process.Signal(sigCont) // so that kill ends it
	took := waitLines(t, b.client(), dst, src, acked)
	t.Logf("node B delivered paused node A's records %v after SIGSTOP (--log-lease 2s)", took.Sub(paused).Round(100*time.Millisecond))

	// A continues: it refuses logged requests until it has its journal
	// back, then serves them.
	if err := a.cmd.Process.Signal(sigCont); err != nil {
		t.Fatal(err)
	}
	woken, refused := time.Now(), 0
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		err := put(a, "nodea", fmt.Sprintf("back-%d", refused))
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("node A still refuses logged requests 60s after SIGCONT: %v", err)
		}
		refused++
	}
	t.Logf("node A refused %d logged requests, served them again %v after SIGCONT", refused, time.Since(woken).Round(100*time.Millisecond))
	for i := range 10 {
		if err := put(a, "nodea", fmt.Sprintf("after-%d", i)); err != nil {
			t.Fatal(err)
		}
		if err := put(b, "nodeb", fmt.Sprintf("b-%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if st := ossdLogs(t, "status", a, dataA); !strings.Contains(st, `"lease": "held"`) || !strings.Contains(st, `"leaseEpoch": 3`) {
		t.Errorf("ossd logs status of node A after it reclaimed its journal (taken at epoch 2, back at 3):\n%s", st)
	}
	ossdLogs(t, "flush", a, dataA)
	ossdLogs(t, "flush", b, dataB)
	got := lineCount(t, b.client(), dst, src)
	for rid, n := range got {
		if n != 1 || acked[rid] == "" {
			t.Errorf("request %s (acknowledged by %q) logged %d times", rid, acked[rid], n)
		}
	}
	for rid, name := range acked {
		if got[rid] != 1 {
			t.Errorf("acknowledged request %s (%s) logged %d times", rid, name, got[rid])
		}
	}
	t.Logf("%d acknowledged requests, %d lines", len(acked), len(got))
}
