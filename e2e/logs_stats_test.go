package e2e

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
)

// TestLogsStatsCLI runs the built ossd binary with logging on, sends
// concurrent traffic, delivers the logs with `ossd logs flush`, and reads
// them back with `ossd logs stats` and `ossd logs report` as commands:
// every figure is the traffic sent.
func TestLogsStatsCLI(t *testing.T) {
	data := t.TempDir()
	p := startProc(t, data)
	defer p.kill()
	c := p.client()
	ctx := context.Background()
	for _, b := range []string{"app", "logs"} {
		if _, err := c.PutBucket(ctx, &oss.PutBucketRequest{Bucket: oss.Ptr(b)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.PutBucketLogging(ctx, &oss.PutBucketLoggingRequest{Bucket: oss.Ptr("app"),
		BucketLoggingStatus: &oss.BucketLoggingStatus{LoggingEnabled: &oss.LoggingEnabled{TargetBucket: oss.Ptr("logs"), TargetPrefix: oss.Ptr("access/")}}}); err != nil {
		t.Fatal(err)
	}
	const workers, perWorker = 4, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < perWorker; i++ {
				key := fmt.Sprintf("w%d/%d", w, i)
				if _, err := c.PutObject(ctx, &oss.PutObjectRequest{Bucket: oss.Ptr("app"), Key: oss.Ptr(key), Body: strings.NewReader("0123456789")}); err != nil {
					errs <- err
					return
				}
				r, err := c.GetObject(ctx, &oss.GetObjectRequest{Bucket: oss.Ptr("app"), Key: oss.Ptr(key)})
				if err != nil {
					errs <- err
					return
				}
				r.Body.Close()
				if _, err := c.GetObject(ctx, &oss.GetObjectRequest{Bucket: oss.Ptr("app"), Key: oss.Ptr(key + "-missing")}); err == nil {
					errs <- fmt.Errorf("%s-missing exists", key)
					return
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ { // anonymous reads of a private bucket
		resp, err := http.Get(p.endpoint + "/app/w0/0")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}

	addr := strings.TrimPrefix(p.endpoint, "http://")
	ossd := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(ossdBinary(t), append([]string{"logs"}, args...)...)
		cmd.Env = append(os.Environ(), "OSS_ACCESS_KEY_ID="+crashKeyID, "OSS_ACCESS_KEY_SECRET="+crashSecret)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("ossd logs %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	ossd("flush", "--addr", addr)
	out := ossd("stats", "--addr", addr, "--bucket", "logs", "--prefix", "access/", "--format", "csv")
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{} // section/name → requests,errors
	for _, r := range rows[1:] {
		got[r[0]+"/"+r[1]] = r[2] + "," + r[3]
	}
	n := workers * perWorker
	for k, want := range map[string]string{
		"operation/PutObject":       fmt.Sprintf("%d,0", n),
		"operation/GetObject":       fmt.Sprintf("%d,%d", 2*n+5, n+5),
		"status/404":                fmt.Sprintf("%d,%d", n, n),
		"status/403":                "5,5",
		"error_code/NoSuchKey":      fmt.Sprintf("%d,%d", n, n),
		"error_code/AccessDenied":   "5,5",
		"top_key/app/w0/0":          strconv.Itoa(2+5) + ",",
		"top_requester/(anonymous)": "5,",
	} {
		if got[k] != want {
			t.Errorf("%s: %q, want %q\n%s", k, got[k], want, out)
		}
	}
	report := filepath.Join(t.TempDir(), "report.html")
	if msg := ossd("report", "--addr", addr, "--bucket", "logs", "--prefix", "access/", "--out", report); !strings.Contains(msg, "wrote "+report) {
		t.Errorf("report said %q", msg)
	}
	page, err := os.ReadFile(report)
	if err != nil || !strings.Contains(string(page), fmt.Sprintf(`"name":"NoSuchKey","requests":%d`, n)) {
		t.Errorf("report.html (%v) lacks the NoSuchKey figure", err)
	}
}
